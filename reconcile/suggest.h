/*
 * "Did you mean": the closest of a set of known words to a misspelt one, for unknown keys,
 * enum values and names. Close means a small edit distance (Levenshtein with swaps of neighbours,
 * case-insensitive), so "memroy" suggests "memory" and "Timeout" suggests "timeout", while "foo"
 * suggests nothing.
 */
#ifndef TETHER_RECONCILE_SUGGEST_H
#define TETHER_RECONCILE_SUGGEST_H

#include <stddef.h>

/* Longest word compared; longer ones never get a suggestion. */
#define SUGGEST_WORD_MAX 128

/*
 * The word in words[0..n) closest to s, or NULL when none is close enough: at most 1 edit
 * for words up to 4 characters, 2 up to 8, else 3. Ties go to the earlier word. Borrowed
 * from words.
 */
const char *suggest(const char *s, const char *const *words, size_t n);
/* The edit distance of a and b (insertions, deletions, substitutions and swaps of two
 * neighbours; case-insensitive), or SIZE_MAX past SUGGEST_WORD_MAX. */
size_t suggest_distance(const char *a, const char *b);

#endif
