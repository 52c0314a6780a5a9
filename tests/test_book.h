/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: helpers of the address book's tests (test_book.c, test_book_file.c): addresses,
 * small configurations, a fingerprint of a book's contents, and a check of its insides.
 */
#ifndef TEST_BOOK_H
#define TEST_BOOK_H

#include <string.h>

#include "cp_book_pvt.h"
#include "sl_test.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))
#define NOW	       1700000000ull /* a UNIX time (November 2023) */
#define HOUR	       3600ull
#define DAY	       86400ull

static const uint8_t test_key[SL_KEY_LEN] = { 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
					      12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
					      23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

/* An address seen at now; with an id derived from n when n != 0. */
static inline struct cp_addr
taddr(uint32_t ip, uint16_t port, uint32_t n)
{
	struct cp_addr a;

	memset(&a, 0, sizeof(a));
	a.ip = ip;
	a.port = port;
	a.last_seen = NOW;
	if (n != 0) {
		uint64_t s = n;

		for (int i = 0; i < SL_KEY_LEN; i += 8) {
			uint64_t x = sl_test_mix64(&s);

			memcpy(a.id + i, &x, 8);
		}
		a.flags = CP_ADDR_F_HAS_ID;
	}
	return a;
}

/* A routable address for number i: a different /16 for every i / per_group. */
static inline uint32_t
tip(uint32_t i, uint32_t per_group)
{
	uint32_t g = i / per_group, h = i % per_group;

	return IP(20 + g / 256, g % 256, h / 250, 1 + h % 250);
}

static inline struct cp_book *
tbook(const struct cp_book_config *cfg, uint64_t seed)
{
	struct cp_book_config def;

	if (cfg == NULL) {
		cp_book_config_defaults(&def);
		cfg = &def;
	}
	return cp_book_create(cfg, test_key, seed);
}

/* --- an order-independent fingerprint of everything cp_book_walk() shows --------------------- */

static inline uint64_t
tfold(uint64_t h, uint64_t x)
{
	uint64_t s = h ^ x;

	return sl_test_mix64(&s);
}

static inline void
tfp_one(void *arg, const struct cp_book_info *in)
{
	uint64_t *sum = arg, h = 0, id;

	for (int i = 0; i < SL_KEY_LEN; i += 8) {
		memcpy(&id, in->addr.id + i, 8);
		h = tfold(h, id);
	}
	h = tfold(h, (uint64_t)in->addr.ip << 16 | in->addr.port);
	h = tfold(h, in->addr.flags | (uint64_t)in->tried << 8 | (uint64_t)in->refs << 16 |
			     (uint64_t)in->bad_count << 24);
	h = tfold(h, in->addr.last_seen);
	h = tfold(h, in->src_ip | (uint64_t)in->attempts << 32);
	h = tfold(h, in->successes);
	h = tfold(h, in->last_try);
	h = tfold(h, in->last_success);
	h = tfold(h, in->bad_until);
	h = tfold(h, in->rtt_ns);
	*sum += h;
}

static inline uint64_t
tfingerprint(const struct cp_book *b)
{
	uint64_t sum = cp_book_size(b);

	cp_book_walk(b, tfp_one, &sum);
	return sum;
}

/* --- the insides agree with each other -------------------------------------------------------- */

static inline bool
ttable_ok(const struct bk_table *t)
{
	uint32_t used = 0;

	for (uint32_t s = 0; s < t->n_slots; s++) {
		if (t->slot[s] == BK_NONE)
			continue;
		used++;
		if (t->pos[s] >= t->n_occ || t->occ[t->pos[s]] != s)
			return false;
	}
	return used == t->n_occ;
}

static inline bool
tentry_ok(const struct cp_book *b, uint32_t i)
{
	const struct bk_entry *e = &b->e[b->all[i]];

	if (!e->live || e->all_pos != i || cp_bk_find(b, e->addr.ip, e->addr.port) != b->all[i])
		return false;
	if ((e->tried_slot != BK_NONE) == (e->refs > 0)) /* in exactly one table */
		return false;
	if (e->tried_slot != BK_NONE && b->tried_t.slot[e->tried_slot] != b->all[i])
		return false;
	for (unsigned int r = 0; r < e->refs; r++)
		if (b->new_t.slot[e->slot[r]] != b->all[i])
			return false;
	return true;
}

/* Every slot names a live entry that names the slot back; every live entry is found. */
static inline bool
tbook_ok(const struct cp_book *b)
{
	uint32_t refs = 0, tried = 0;

	if (!ttable_ok(&b->new_t) || !ttable_ok(&b->tried_t))
		return false;
	for (uint32_t i = 0; i < b->n_all; i++) {
		if (!tentry_ok(b, i))
			return false;
		refs += b->e[b->all[i]].refs;
		tried += b->e[b->all[i]].tried_slot != BK_NONE;
	}
	return refs == b->new_t.n_occ && tried == b->tried_t.n_occ;
}

#endif /* TEST_BOOK_H */
