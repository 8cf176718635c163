/*
 * A growable array of pointers, for the model's ordered collections (functions by name,
 * versions by number, aliases by name, ...). Ordering is the caller's business: vec_search
 * does a binary search with the caller's comparison, vec_insert and vec_remove keep the
 * rest in place. The elements are borrowed; vec_free releases only the array.
 */
#ifndef TETHER_AWS_EMULATOR_VEC_H
#define TETHER_AWS_EMULATOR_VEC_H

#include <stdbool.h>
#include <stddef.h>

struct vec {
	void **v;
	size_t n;
	size_t cap;
};

#define VEC_INIT           \
	{                  \
		NULL, 0, 0 \
	}

/* Compare a search key with an element: <0, 0, >0 like strcmp. */
typedef int (*vec_cmp_cb)(const void *key, const void *elem);

/*
 * Binary search in an array sorted by cmp. Returns true and the index of the match, or
 * false and the index where key would be inserted.
 */
bool vec_search(const struct vec *vec, const void *key, vec_cmp_cb cmp, size_t *at);
/* Insert p before index at (0..n), moving the rest up. */
void vec_insert(struct vec *vec, size_t at, void *p);
/* Append p. */
void vec_push(struct vec *vec, void *p);
/* Remove and return the element at index at. */
void *vec_remove(struct vec *vec, size_t at);
/* Release the array (not the elements) and empty the vector. */
void vec_free(struct vec *vec);

#endif
