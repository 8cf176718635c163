#include <stdlib.h>
#include <string.h>

#include "aws/emulator/ht.h"
#include "common/xmalloc.h"

struct ht_entry {
	const char *key;
	uint64_t hash;
	void *value;
	struct ht_entry *next;
};

static uint64_t
hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static struct ht_entry **
slot(const struct ht *ht, const char *key, uint64_t h)
{
	struct ht_entry **pp;

	pp = &ht->buckets[h & (ht->nbuckets - 1)];
	while (*pp != NULL && ((*pp)->hash != h || strcmp((*pp)->key, key) != 0))
		pp = &(*pp)->next;
	return pp;
}

void *
ht_get(const struct ht *ht, const char *key)
{
	struct ht_entry **pp;

	if (ht->nbuckets == 0)
		return NULL;
	pp = slot(ht, key, hash(key));
	return *pp != NULL ? (*pp)->value : NULL;
}

static void
grow(struct ht *ht)
{
	struct ht_entry **old = ht->buckets, *e, *next;
	size_t oldn = ht->nbuckets, i;

	ht->nbuckets = oldn == 0 ? 64 : oldn * 2;
	ht->buckets = xcalloc(ht->nbuckets, sizeof(*ht->buckets));
	for (i = 0; i < oldn; i++) {
		for (e = old[i]; e != NULL; e = next) {
			next = e->next;
			e->next = ht->buckets[e->hash & (ht->nbuckets - 1)];
			ht->buckets[e->hash & (ht->nbuckets - 1)] = e;
		}
	}
	free(old);
}

void *
ht_put(struct ht *ht, const char *key, void *value)
{
	struct ht_entry **pp, *e;
	uint64_t h = hash(key);
	void *old;

	if (ht->nbuckets == 0 || ht->count >= ht->nbuckets)
		grow(ht);
	pp = slot(ht, key, h);
	if (*pp != NULL) {
		old = (*pp)->value;
		(*pp)->key = key;
		(*pp)->value = value;
		return old;
	}
	e = xmalloc(sizeof(*e));
	e->key = key;
	e->hash = h;
	e->value = value;
	e->next = NULL;
	*pp = e;
	ht->count++;
	return NULL;
}

void *
ht_del(struct ht *ht, const char *key)
{
	struct ht_entry **pp, *e;
	void *value;

	if (ht->nbuckets == 0)
		return NULL;
	pp = slot(ht, key, hash(key));
	if (*pp == NULL)
		return NULL;
	e = *pp;
	*pp = e->next;
	value = e->value;
	free(e);
	ht->count--;
	return value;
}

void
ht_clear(struct ht *ht)
{
	struct ht_entry *e, *next;
	size_t i;

	for (i = 0; i < ht->nbuckets; i++) {
		for (e = ht->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(ht->buckets);
	ht->buckets = NULL;
	ht->nbuckets = 0;
	ht->count = 0;
}
