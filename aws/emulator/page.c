#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/emulator/page.h"
#include "common/crypto.h"
#include "common/xmalloc.h"

char *
page_marker(const char *list, const char *key)
{
	char *plain, *out;

	plain = xasprintf("%s|%s", list, key);
	out = crypto_base64_encode(plain, strlen(plain));
	free(plain);
	return out;
}

int
page_start(struct req *r, const char *list, char **key)
{
	const char *marker = req_query(r, "Marker");
	unsigned char *plain = NULL;
	size_t n, llen = strlen(list);

	*key = NULL;
	if (marker == NULL)
		return 0;
	if (crypto_base64_decode(marker, strlen(marker), &plain, &n) != 0 || n <= llen + 1 ||
	    memcmp(plain, list, llen) != 0 || plain[llen] != '|' ||
	    memchr(plain, '\0', n) != NULL) {
		free(plain);
		req_error(r, 400, "InvalidParameterValueException", "Invalid marker: %s", marker);
		return -1;
	}
	*key = xstrndup((const char *)plain + llen + 1, n - llen - 1);
	free(plain);
	return 0;
}

size_t
page_size(struct req *r, int64_t max)
{
	const char *s = req_query(r, "MaxItems");
	long long v;
	char *end;

	if (s == NULL)
		return EMU_PAGE_MAX;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0) {
		req_violation(r, "maxItems", s, "Member must be an integer");
		return EMU_PAGE_MAX;
	}
	req_check_range(r, "maxItems", v, 1, max);
	if (v < 1)
		return 1;
	return v < EMU_PAGE_MAX ? (size_t)v : EMU_PAGE_MAX;
}
