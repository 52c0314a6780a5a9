/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: fixed-capacity hash table with LRU eviction (see sl_lru.h).
 *
 * Layout: a power-of-two array of chain heads, a pool of `capacity` caller entries, and beside
 * it an array of links, one per entry. An entry is on exactly one of: a hash chain (and then
 * also on the recency list, oldest to newest), the free list (through its chain link), or the
 * never-used tail [unused, capacity) — so creating a table touches only its chain heads, and
 * the pages of a large, mostly empty table are never made resident. Links are 32-bit pool
 * indices, NIL ending a list.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "sl_lru.h"

#define NIL	   UINT32_MAX
#define POOL_ALIGN 64

static_assert(SL_LRU_MAX_CAPACITY < NIL, "pool indices fit below NIL");
static_assert((uint64_t)SL_LRU_MAX_CAPACITY * SL_LRU_MAX_ENTRY_SIZE <= SIZE_MAX / 2,
	      "the pool's size fits in a size_t");

struct sl_lru_link {
	uint32_t chain;	       /* next in the hash chain, or in the free list */
	uint32_t older, newer; /* recency list */
	uint32_t tag;	       /* low 32 bits of the key's hash; its low bits pick the chain */
};

struct sl_lru {
	uint8_t *pool;
	struct sl_lru_link *link;
	uint32_t *heads;
	uint32_t mask; /* chain heads - 1 */
	uint32_t capacity, count;
	uint32_t entry_size, key_len;
	uint32_t free;	 /* removed entries */
	uint32_t unused; /* entries [unused, capacity) were never used */
	uint32_t oldest, newest;
	uint64_t (*hash)(const void *key, size_t len, const uint8_t seed[SL_LRU_SEED_LEN]);
	uint8_t seed[SL_LRU_SEED_LEN];
};

static bool
conf_valid(const struct sl_lru_conf *c)
{
	return c->capacity >= 1 && c->capacity <= SL_LRU_MAX_CAPACITY && c->entry_size >= 1 &&
	       c->entry_size <= SL_LRU_MAX_ENTRY_SIZE && c->key_len >= 1 &&
	       c->key_len <= c->entry_size && c->hash != NULL;
}

struct sl_lru *
sl_lru_create(const struct sl_lru_conf *conf)
{
	struct sl_lru *t;
	size_t pool_bytes;
	uint32_t heads = 1;

	if (conf == NULL || !conf_valid(conf)) {
		errno = EINVAL;
		return NULL;
	}
	while (heads < conf->capacity)
		heads <<= 1;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto nomem;
	t->capacity = conf->capacity;
	t->entry_size = conf->entry_size;
	t->key_len = conf->key_len;
	t->hash = conf->hash;
	memcpy(t->seed, conf->seed, sizeof(t->seed));
	t->mask = heads - 1;
	pool_bytes = RTE_ALIGN_CEIL((size_t)conf->capacity * conf->entry_size, POOL_ALIGN);
	t->pool = aligned_alloc(POOL_ALIGN, pool_bytes);
	t->link = calloc(conf->capacity, sizeof(*t->link));
	t->heads = malloc((size_t)heads * sizeof(*t->heads));
	if (t->pool == NULL || t->link == NULL || t->heads == NULL)
		goto nomem;
	memset(t->heads, 0xff, (size_t)heads * sizeof(*t->heads)); /* all NIL */
	t->free = t->oldest = t->newest = NIL;
	return t;
nomem:
	sl_lru_destroy(t);
	errno = ENOMEM;
	return NULL;
}

static inline uint8_t *
entry_at(const struct sl_lru *t, uint32_t i)
{
	return t->pool + (size_t)i * t->entry_size;
}

static inline void *
entry_or_null(const struct sl_lru *t, uint32_t i)
{
	return i == NIL ? NULL : entry_at(t, i);
}

static inline uint32_t
index_of(const struct sl_lru *t, const void *entry)
{
	return (uint32_t)((size_t)((const uint8_t *)entry - t->pool) / t->entry_size);
}

void
sl_lru_destroy(struct sl_lru *t)
{
	if (t == NULL)
		return;
	if (t->pool != NULL && t->link != NULL)
		for (uint32_t i = t->newest; i != NIL; i = t->link[i].older)
			explicit_bzero(entry_at(t, i), t->entry_size);
	free(t->pool);
	free(t->link);
	free(t->heads);
	explicit_bzero(t, sizeof(*t));
	free(t);
}

/* --- recency list --------------------------------------------------------------------------- */

static void
recency_unlink(struct sl_lru *t, uint32_t i)
{
	struct sl_lru_link *l = &t->link[i];

	if (l->older != NIL)
		t->link[l->older].newer = l->newer;
	else
		t->oldest = l->newer;
	if (l->newer != NIL)
		t->link[l->newer].older = l->older;
	else
		t->newest = l->older;
}

static void
recency_push(struct sl_lru *t, uint32_t i)
{
	struct sl_lru_link *l = &t->link[i];

	l->older = t->newest;
	l->newer = NIL;
	if (t->newest != NIL)
		t->link[t->newest].newer = i;
	else
		t->oldest = i;
	t->newest = i;
}

/* --- table ---------------------------------------------------------------------------------- */

static inline uint32_t
tag_of(const struct sl_lru *t, const void *key)
{
	return (uint32_t)t->hash(key, t->key_len, t->seed);
}

void *
sl_lru_find(const struct sl_lru *t, const void *key)
{
	uint32_t tag = tag_of(t, key);
	uint32_t i = t->heads[tag & t->mask];

	for (; i != NIL; i = t->link[i].chain)
		if (t->link[i].tag == tag && memcmp(entry_at(t, i), key, t->key_len) == 0)
			return entry_at(t, i);
	return NULL;
}

void
sl_lru_remove(struct sl_lru *t, void *entry)
{
	uint32_t i = index_of(t, entry);
	uint32_t *link = &t->heads[t->link[i].tag & t->mask];

	while (*link != i)
		link = &t->link[*link].chain;
	*link = t->link[i].chain;
	recency_unlink(t, i);
	t->link[i].chain = t->free;
	t->free = i;
	t->count--;
	memset(entry, 0, t->entry_size);
}

/* An entry not in the table: a removed one, else one never used, else the oldest, evicted. */
static uint32_t
take(struct sl_lru *t, bool *evicted)
{
	uint32_t i;

	*evicted = t->count == t->capacity;
	if (*evicted)
		sl_lru_remove(t, entry_at(t, t->oldest));
	if (t->free == NIL)
		return t->unused++;
	i = t->free;
	t->free = t->link[i].chain;
	return i;
}

void *
sl_lru_insert(struct sl_lru *t, const void *key, bool *evicted)
{
	uint32_t i, *head;
	uint8_t *e;
	bool ev;

	i = take(t, &ev);
	if (evicted != NULL)
		*evicted = ev;
	e = entry_at(t, i);
	memset(e, 0, t->entry_size);
	memcpy(e, key, t->key_len);
	t->link[i].tag = tag_of(t, e);
	head = &t->heads[t->link[i].tag & t->mask];
	t->link[i].chain = *head;
	*head = i;
	recency_push(t, i);
	t->count++;
	return e;
}

void
sl_lru_touch(struct sl_lru *t, void *entry)
{
	uint32_t i = index_of(t, entry);

	if (t->newest != i) {
		recency_unlink(t, i);
		recency_push(t, i);
	}
}

void *
sl_lru_oldest(const struct sl_lru *t)
{
	return entry_or_null(t, t->oldest);
}

void *
sl_lru_newest(const struct sl_lru *t)
{
	return entry_or_null(t, t->newest);
}

void *
sl_lru_newer(const struct sl_lru *t, const void *entry)
{
	return entry_or_null(t, t->link[index_of(t, entry)].newer);
}

void *
sl_lru_older(const struct sl_lru *t, const void *entry)
{
	return entry_or_null(t, t->link[index_of(t, entry)].older);
}

uint32_t
sl_lru_count(const struct sl_lru *t)
{
	return t->count;
}

bool
sl_lru_full(const struct sl_lru *t)
{
	return t->count == t->capacity;
}

uint32_t
sl_lru_capacity(const struct sl_lru *t)
{
	return t->capacity;
}
