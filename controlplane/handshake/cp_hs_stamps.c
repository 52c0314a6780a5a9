/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: newest handshake timestamp per identity (see cp_hs_stamps.h).
 *
 * An sl_lru table keyed by the static public key; its recency order is "least recently
 * accepted first", so a full table gives up the identity heard from longest ago.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "cp_hs_stamps.h"
#include "sl_lru_keyed.h"

struct stamp_entry {
	uint8_t pub[SL_KEY_LEN]; /* the key */
	uint64_t ts;		 /* newest timestamp accepted from pub */
};

static_assert(offsetof(struct stamp_entry, pub) == 0, "the key comes first");

struct cp_hs_stamps {
	struct sl_lru *tab;
	uint64_t evictions;
};

struct cp_hs_stamps *
cp_hs_stamps_create(uint32_t capacity)
{
	struct cp_hs_stamps *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	t->tab = sl_lru_keyed_create(capacity, sizeof(struct stamp_entry), SL_KEY_LEN);
	if (t->tab == NULL) {
		free(t);
		return NULL; /* errno from the table: EINVAL for a capacity out of range */
	}
	return t;
}

void
cp_hs_stamps_destroy(struct cp_hs_stamps *t)
{
	if (t == NULL)
		return;
	sl_lru_destroy(t->tab);
	free(t);
}

bool
cp_hs_stamps_fresh(struct cp_hs_stamps *t, const uint8_t pub[SL_KEY_LEN], uint64_t ts,
		   uint64_t now_ns __rte_unused)
{
	struct stamp_entry *e = sl_lru_find(t->tab, pub);
	bool evicted;

	if (e != NULL && ts <= e->ts)
		return false;
	if (e == NULL) {
		e = sl_lru_insert(t->tab, pub, &evicted);
		t->evictions += evicted;
	}
	e->ts = ts;
	sl_lru_touch(t->tab, e);
	return true;
}

uint32_t
cp_hs_stamps_count(const struct cp_hs_stamps *t)
{
	return sl_lru_count(t->tab);
}

uint64_t
cp_hs_stamps_evictions(const struct cp_hs_stamps *t)
{
	return t->evictions;
}
