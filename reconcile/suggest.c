#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "reconcile/suggest.h"

size_t
suggest_distance(const char *a, const char *b)
{
	/* Optimal string alignment: Levenshtein plus the swap of two neighbours, the most
	 * common typo ("retian"). Three rows: two back for the swap. */
	size_t rows[3][SUGGEST_WORD_MAX + 1];
	size_t la = strlen(a), lb = strlen(b), i, j, best, cost;
	size_t *prev2, *prev, *cur;

	if (la > SUGGEST_WORD_MAX || lb > SUGGEST_WORD_MAX)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		rows[0][j] = j;
	for (i = 1; i <= la; i++) {
		cur = rows[i % 3];
		prev = rows[(i - 1) % 3];
		prev2 = rows[(i + 1) % 3];
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			best = prev[j - 1] + cost;
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 &&
			    tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
	}
	return rows[la % 3][lb];
}

static size_t
allowed(size_t len)
{
	if (len <= 4)
		return 1;
	if (len <= 8)
		return 2;
	return 3;
}

const char *
suggest(const char *s, const char *const *words, size_t n)
{
	const char *best = NULL;
	size_t i, d, bestd = SIZE_MAX, len = strlen(s), wl;

	for (i = 0; i < n; i++) {
		wl = strlen(words[i]);
		/* Lengths that differ by more than the budget cannot be close. */
		if ((wl > len ? wl - len : len - wl) > allowed(wl))
			continue;
		d = suggest_distance(s, words[i]);
		if (d <= allowed(wl) && d < bestd && d < (wl > len ? wl : len)) {
			best = words[i];
			bestd = d;
		}
	}
	return best;
}
