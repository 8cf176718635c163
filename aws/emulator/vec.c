#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "aws/emulator/vec.h"
#include "common/xmalloc.h"

bool
vec_search(const struct vec *vec, const void *key, vec_cmp_cb cmp, size_t *at)
{
	size_t lo = 0, hi = vec->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = cmp(key, vec->v[mid]);
		if (c == 0) {
			*at = mid;
			return true;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*at = lo;
	return false;
}

void
vec_insert(struct vec *vec, size_t at, void *p)
{
	assert(at <= vec->n);
	if (vec->n == vec->cap) {
		vec->cap = vec->cap == 0 ? 8 : vec->cap * 2;
		vec->v = xreallocarray(vec->v, vec->cap, sizeof(*vec->v));
	}
	memmove(vec->v + at + 1, vec->v + at, (vec->n - at) * sizeof(*vec->v));
	vec->v[at] = p;
	vec->n++;
}

void
vec_push(struct vec *vec, void *p)
{
	vec_insert(vec, vec->n, p);
}

void *
vec_remove(struct vec *vec, size_t at)
{
	void *p;

	assert(at < vec->n);
	p = vec->v[at];
	memmove(vec->v + at, vec->v + at + 1, (vec->n - at - 1) * sizeof(*vec->v));
	vec->n--;
	return p;
}

void
vec_free(struct vec *vec)
{
	free(vec->v);
	vec->v = NULL;
	vec->n = 0;
	vec->cap = 0;
}
