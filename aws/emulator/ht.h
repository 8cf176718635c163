/*
 * A hash table from strings to pointers (separate chaining, FNV-1a), so that the hot path
 * (GetFunction by name) is one hash and a short chain walk. Keys are borrowed from the
 * stored values and must outlive their entries; values are borrowed too.
 */
#ifndef TETHER_AWS_EMULATOR_HT_H
#define TETHER_AWS_EMULATOR_HT_H

#include <stddef.h>
#include <stdint.h>

struct ht_entry;

struct ht {
	struct ht_entry **buckets;
	size_t nbuckets; /* a power of two, or 0 before the first insert */
	size_t count;
};

#define HT_INIT            \
	{                  \
		NULL, 0, 0 \
	}

/* The value stored under key, or NULL. */
void *ht_get(const struct ht *ht, const char *key);
/* Store value under key, replacing (and returning) any previous value; NULL otherwise. */
void *ht_put(struct ht *ht, const char *key, void *value);
/* Remove key; returns the value it had, or NULL. */
void *ht_del(struct ht *ht, const char *key);
/* Drop every entry (the values are the caller's). */
void ht_clear(struct ht *ht);

#endif
