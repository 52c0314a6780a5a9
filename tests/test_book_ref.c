/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: the address book against a deliberately naive reference, under random
 * operations (adds from random sources, attempts, connections, bad marks, bans, time passing)
 * on a small book that is always full, bucketed and flat.
 *
 * The reference does not try to predict which entry a full book keeps — that is the bucketing,
 * tested in test_book.c. It follows what must hold whatever the book chose: an address appears
 * only when it is the one added or connected to, never while banned, never disappears on an
 * attempt or as time passes; every entry's history (attempts, successes, times, bad marks) is
 * exactly what the operations on it since it appeared say; a connection drops every other entry
 * with its identity; cp_book_knows() and cp_book_size() agree with what cp_book_lookup() shows;
 * and the book's insides agree with each other after every step.
 */
#include <errno.h>

#include "test_book.h"

#define N_ADDR	  200 /* the universe of addresses */
#define N_SHARED  50  /* addresses k and k + 100 (k < N_SHARED) are one node */
#define N_IDS	  100 /* addresses below 150 have an id: 1 + k % 100 */
#define N_SOURCES 10
#define N_BANS	  4096
#define N_STEPS	  10000

enum op { OP_ADD, OP_ATTEMPT, OP_GOOD, OP_BAD, OP_BAN, OP_TIME };

struct ref {
	bool present;
	uint32_t attempts, successes;
	uint64_t last_try, last_success, bad_until;
	uint8_t bad_count;
};

struct rban {
	struct cp_addr key;
	uint64_t until;
};

struct world {
	struct cp_book *b;
	struct cp_addr u[N_ADDR];
	struct ref r[N_ADDR];
	struct rban bans[N_BANS];
	unsigned int n_bans;
	uint64_t now, rng;
	unsigned int appeared, vanished;
};

static uint32_t
rnd(struct world *w, uint32_t n)
{
	return (uint32_t)(sl_test_mix64(&w->rng) % n);
}

static bool
has_id(const struct cp_addr *a)
{
	return (a->flags & CP_ADDR_F_HAS_ID) != 0;
}

static bool
ref_banned(const struct world *w, const struct cp_addr *a)
{
	for (unsigned int i = 0; i < w->n_bans; i++) {
		const struct rban *x = &w->bans[i];

		if (x->until <= w->now)
			continue;
		if (x->key.ip == a->ip && x->key.port == a->port)
			return true;
		if (has_id(&x->key) && has_id(a) && memcmp(x->key.id, a->id, SL_KEY_LEN) == 0)
			return true;
	}
	return false;
}

static bool
same_key(const struct cp_addr *x, const struct cp_addr *y)
{
	return x->ip == y->ip && x->port == y->port && x->flags == y->flags &&
	       memcmp(x->id, y->id, SL_KEY_LEN) == 0;
}

static void
ref_ban(struct world *w, const struct cp_addr *a, uint64_t until)
{
	struct cp_addr key = *a;

	key.last_seen = 0;
	if (!has_id(a))
		memset(key.id, 0, SL_KEY_LEN);
	for (unsigned int i = 0; i < w->n_bans; i++)
		if (same_key(&w->bans[i].key, &key)) {
			w->bans[i].until = RTE_MAX(w->bans[i].until, until);
			return;
		}
	CU_ASSERT_FATAL(w->n_bans < N_BANS);
	w->bans[w->n_bans++] = (struct rban){ .key = key, .until = until };
}

static void
world_init(struct world *w, bool bucketing, uint64_t seed)
{
	struct cp_book_config c;

	memset(w, 0, sizeof(*w));
	cp_book_config_defaults(&c);
	c.bucketing = bucketing;
	c.new_buckets = 8;
	c.tried_buckets = 4;
	c.bucket_size = 4;
	c.new_per_source_group = 2;
	c.tried_per_group = 2;
	c.max_bans = N_BANS;
	w->b = tbook(&c, seed);
	w->rng = seed;
	w->now = NOW;
	for (uint32_t k = 0; k < N_ADDR; k++)
		w->u[k] = taddr(IP(20 + k % 12, 1, 0, 1 + k / 12), 9, k < 150 ? 1 + k % N_IDS : 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->b);
}

/* The address as an operation passes it: without its id half of the time if strip. */
static struct cp_addr
pass(struct world *w, uint32_t k, bool strip)
{
	struct cp_addr a = w->u[k];

	if (strip && rnd(w, 2) == 0) {
		a.flags = 0;
		memset(a.id, 0, SL_KEY_LEN);
	}
	return a;
}

static void
op_add(struct world *w, uint32_t k)
{
	struct cp_addr a = pass(w, k, true);
	uint32_t src = rnd(w, N_SOURCES + 1);
	bool banned = ref_banned(w, &a);
	int rc;

	a.last_seen = w->now - rnd(w, 3 * DAY);
	rc = cp_book_add(w->b, &a, src == N_SOURCES ? a.ip : IP(60 + src, 1, 0, 1), w->now);
	CU_ASSERT_EQUAL(rc == -EPERM, banned);
	CU_ASSERT(rc == 0 || rc == -EPERM || rc == -ENOSPC);
	if (rc == -ENOSPC)
		CU_ASSERT(!w->r[k].present);
}

static void
op_good(struct world *w, uint32_t k)
{
	struct cp_book_info info;
	bool banned = ref_banned(w, &w->u[k]);
	struct ref before = w->r[k];

	cp_book_good(w->b, &w->u[k], 1000000 * (1 + rnd(w, 100)), w->now);
	if (banned || cp_book_lookup(w->b, &w->u[k], &info) != 0)
		return;
	w->appeared += !before.present;
	w->r[k] = (struct ref){
		.present = true,
		.successes = (before.present ? before.successes : 0) + 1,
		.last_try = w->now,
		.last_success = w->now,
		.bad_until = before.present ? before.bad_until : 0,
		.bad_count = before.present ? before.bad_count : 0,
	};
	/* every other entry of this node is gone */
	for (uint32_t j = 0; j < N_ADDR && has_id(&w->u[k]); j++)
		if (j != k && cp_book_lookup(w->b, &w->u[j], &info) == 0)
			CU_ASSERT(!has_id(&info.addr) ||
				  memcmp(info.addr.id, w->u[k].id, SL_KEY_LEN) != 0);
}

static void
op_bad(struct world *w, uint32_t k)
{
	struct cp_addr a = pass(w, k, false);
	struct cp_book_info info;
	struct ref *r = &w->r[k];

	a.flags = 0; /* by address only: by id, which entry is marked is the book's choice */
	memset(a.id, 0, SL_KEY_LEN);
	if (!r->present) {
		cp_book_bad(w->b, &a, w->now);
		return;
	}
	CU_ASSERT_EQUAL_FATAL(cp_book_lookup(w->b, &a, &info), 0);
	cp_book_bad(w->b, &a, w->now);
	r->bad_count++;
	r->bad_until = w->now + CP_BOOK_BAD_S;
	if (r->bad_count >= CP_BOOK_BAD_TO_BAN)
		ref_ban(w, &info.addr, w->now + CP_BOOK_BAN_S);
}

static void
op_ban(struct world *w, uint32_t k)
{
	struct cp_addr a = pass(w, k, true);
	uint64_t until = w->now + 1 + rnd(w, 2 * DAY);

	cp_book_ban(w->b, &a, until);
	ref_ban(w, &a, until);
}

static void
step(struct world *w, enum op op, uint32_t k)
{
	switch (op) {
	case OP_ADD:
		op_add(w, k);
		break;
	case OP_ATTEMPT:
		cp_book_attempt(w->b, &w->u[k], w->now);
		if (w->r[k].present) {
			w->r[k].attempts++;
			w->r[k].last_try = w->now;
		}
		break;
	case OP_GOOD:
		op_good(w, k);
		break;
	case OP_BAD:
		op_bad(w, k);
		break;
	case OP_BAN:
		op_ban(w, k);
		break;
	case OP_TIME:
		w->now += rnd(w, 4) == 0 ? rnd(w, 2 * DAY) : rnd(w, 600);
		break;
	}
}

/* What the book shows against the reference, after op on address k. */
static void
check_entry(struct world *w, enum op op, uint32_t k, uint32_t j, bool *ids)
{
	struct cp_book_info info;
	struct ref *r = &w->r[j];
	bool in = cp_book_lookup(w->b, &w->u[j], &info) == 0;

	if (in && !r->present) { /* appeared: only the address added or connected to */
		CU_ASSERT(j == k && (op == OP_ADD || op == OP_GOOD));
		*r = (struct ref){ .present = true };
		w->appeared++;
	}
	if (!in && r->present) { /* vanished: never on an attempt or with time */
		CU_ASSERT(op != OP_ATTEMPT && op != OP_TIME);
		r->present = false;
		w->vanished++;
	}
	if (!in)
		return;
	CU_ASSERT(!ref_banned(w, &info.addr));
	CU_ASSERT_EQUAL(info.attempts, r->attempts);
	CU_ASSERT_EQUAL(info.successes, r->successes);
	CU_ASSERT_EQUAL(info.last_try, r->last_try);
	CU_ASSERT_EQUAL(info.last_success, r->last_success);
	CU_ASSERT_EQUAL(info.bad_until, r->bad_until);
	CU_ASSERT_EQUAL(info.bad_count, r->bad_count);
	CU_ASSERT(!info.tried || info.successes > 0);
	if (has_id(&info.addr)) {
		CU_ASSERT_EQUAL(memcmp(info.addr.id, w->u[j].id, SL_KEY_LEN), 0);
		ids[j < 150 ? j % N_IDS : 0] = true;
	}
}

static void
check(struct world *w, enum op op, uint32_t k)
{
	bool ids[N_IDS] = { false };
	unsigned int present = 0;

	CU_ASSERT_FATAL(tbook_ok(w->b));
	for (uint32_t j = 0; j < N_ADDR; j++) {
		check_entry(w, op, k, j, ids);
		present += w->r[j].present;
	}
	CU_ASSERT_EQUAL(cp_book_size(w->b), present);
	CU_ASSERT_EQUAL(cp_book_stats(w->b)->entries_new + cp_book_stats(w->b)->entries_tried,
			present);
	for (uint32_t i = 0; i < N_IDS; i++)
		CU_ASSERT_EQUAL(cp_book_knows(w->b, w->u[i].id), ids[i]);
}

static enum op
random_op(struct world *w)
{
	static const enum op mix[20] = {
		OP_ADD,	 OP_ADD,  OP_ADD, OP_ADD,     OP_ADD,	  OP_ADD,     OP_ADD,
		OP_ADD,	 OP_ADD,  OP_ADD, OP_ATTEMPT, OP_ATTEMPT, OP_ATTEMPT, OP_GOOD,
		OP_GOOD, OP_GOOD, OP_BAD, OP_TIME,    OP_TIME,	  OP_BAN,
	};

	return mix[rnd(w, 20)];
}

static void
run(bool bucketing, uint64_t seed)
{
	static struct world w;
	struct cp_addr out, sample[64];

	world_init(&w, bucketing, seed);
	for (unsigned int n = 0; n < N_STEPS; n++) {
		enum op op = random_op(&w);
		uint32_t k = rnd(&w, N_ADDR);

		if (op == OP_BAN && rnd(&w, 10) != 0) /* bans are rarer still */
			op = OP_ADD;
		step(&w, op, k);
		check(&w, op, k);
		if (n % 16 == 0) { /* picks and samples change nothing the reference sees */
			int rc = cp_book_pick(w.b, rnd(&w, 101), NULL, NULL, w.now, &out);

			CU_ASSERT(rc == 0 || rc == -ENOENT);
			CU_ASSERT(cp_book_sample(w.b, sample, RTE_DIM(sample), w.now) <=
				  cp_book_size(w.b));
		}
	}
	printf("\n  %s: %u appearances, %u disappearances, book of %u, %lu evicted, %lu "
	       "promoted, %lu demoted, %lu moved, %lu banned",
	       bucketing ? "bucketed" : "flat", w.appeared, w.vanished, cp_book_size(w.b),
	       (unsigned long)w.b->stats.evicted, (unsigned long)w.b->stats.promoted,
	       (unsigned long)w.b->stats.demoted, (unsigned long)w.b->stats.moved,
	       (unsigned long)w.b->stats.banned);
	CU_ASSERT(w.vanished > 100 && w.b->stats.evicted > 0 && w.b->stats.moved > 0);
	cp_book_destroy(w.b);
}

static void
test_reference_bucketed(void)
{
	run(true, 1);
	run(true, 2);
}

static void
test_reference_flat(void)
{
	run(false, 3);
}

static CU_TestInfo cases[] = {
	{ "reference_bucketed", test_reference_bucketed },
	{ "reference_flat", test_reference_flat },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("book_ref", cases)
