/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: anti-replay window tests — a table of edge cases (in order, duplicates, reordering,
 * the exact window edge, far jumps, the hard limit), window-filling sequences, and a long
 * randomized run against a deliberately naive reference that remembers every accepted
 * packet number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_replay.h"
#include "sl_test.h"

#define W	  ((uint64_t)SL_REPLAY_WINDOW)
#define LIM	  SL_REJECT_AFTER_MESSAGES
#define BIG	  (1ull << 40)
#define RING_SPAN ((uint64_t)SL_REPLAY_WORDS * SL_REPLAY_WORD_BITS) /* pns one ring apart */

enum rc_op {
	RC_RESET, /* fresh window */
	RC_ONE,	  /* one packet number */
	RC_UP,	  /* every pn from pn to end, ascending, same expectation */
	RC_DOWN,  /* every pn from pn down to end, descending */
};

struct replay_case {
	enum rc_op op;
	uint64_t pn, end;
	uint64_t limit;
	bool accept;
};

#define RESET                            \
	{                                \
		RC_RESET, 0, 0, 0, false \
	}
#define T(pn, ok)                          \
	{                                  \
		RC_ONE, (pn), 0, LIM, (ok) \
	}
#define TL(pn, lim, ok)                      \
	{                                    \
		RC_ONE, (pn), 0, (lim), (ok) \
	}
#define UP(from, to, ok)                       \
	{                                      \
		RC_UP, (from), (to), LIM, (ok) \
	}
#define DOWN(from, to, ok)                       \
	{                                        \
		RC_DOWN, (from), (to), LIM, (ok) \
	}

static const struct replay_case cases_table[] = {
	/* in order, duplicates, reordering inside the window */
	RESET,
	T(0, true),
	T(0, false),
	T(1, true),
	T(1, false),
	T(10, true),
	T(9, true),
	T(5, true),
	T(9, false),
	T(2, true),
	T(10, false),
	/* slide so that 10 sits exactly on the window edge */
	T(W + 10, true),
	T(10, false), /* at the edge, already seen */
	T(11, true),  /* inside, never seen */
	T(3, false),  /* beyond the edge, never seen */
	T(9, false),  /* one beyond the edge */
	T(W + 9, true),
	T(W + 9, false),
	T(63, true),
	T(W + 10, false),
	/* a jump of several windows: everything behind the new edge is gone */
	T(4 * W, true),
	T(3 * W, true),	     /* exactly the window behind */
	T(3 * W - 1, false), /* one beyond */
	T(3 * W, false),
	T(4 * W - 1, true),
	T(W + 11, false),
	T(4 * W + 64, true), /* slide by exactly one word */
	T(3 * W + 64, true), /* new edge, word just recycled */
	T(3 * W + 63, false),
	T(4 * W, false), /* seen before the slide, still remembered */
	T(4 * W - 1, false),
	/* a jump far beyond the ring: bounded clearing, nothing stale survives */
	T(BIG, true),
	T(BIG - W, true),
	T(BIG - W - 1, false),
	T(BIG - 1, true),
	T(4 * W + 64, false),
	T(BIG + 1, true),
	T(BIG, false),
	/* slide by exactly one ring: the slot of BIG+1 is reused for BIG+1+RING_SPAN */
	T(BIG + RING_SPAN + 5, true),
	T(BIG + RING_SPAN + 1, true), /* same slot and bit as BIG+1, must not look seen */
	T(BIG + RING_SPAN + 1, false),
	T(BIG + 1, false), /* now beyond the window */
	T(BIG + RING_SPAN + 5 - W, true),
	T(BIG + RING_SPAN + 4 - W, false),
	/* the hard limit */
	RESET,
	T(LIM, false),
	T(LIM - 1, true),
	T(LIM - 1, false),
	T(LIM, false),
	T(LIM - 2, true),
	T(LIM + 1, false),
	T(UINT64_MAX, false),
	T(LIM - 2, false),
	T(LIM - 3, true),
	T(LIM - 1 - W, true),
	T(LIM - 2 - W, false),
	T(0, false),
	/* a small limit, and a limit of zero that refuses everything */
	RESET,
	TL(99, 100, true),
	TL(100, 100, false),
	TL(98, 100, true),
	TL(99, 100, false),
	TL(0, 100, true),
	TL(0, 0, false),
	TL(1, 1, false),
	/* fill the window in order, then the packet exactly one window behind */
	RESET,
	UP(1, W, true),
	T(0, true),
	T(0, false),
	RESET,
	UP(2, W + 1, true),
	T(1, true),
	T(0, false),
	/* fill it backwards */
	RESET,
	DOWN(W, 0, true),
	UP(0, W, false),
	RESET,
	DOWN(W + 1, 1, true),
	T(0, false),
	RESET,
	DOWN(W, 1, true),
	T(W + 1, true),
	T(0, false),
	RESET,
	DOWN(W, 1, true),
	T(0, true),
	T(W + 1, true),
	T(1, false), /* seen, exactly one window behind */
	/* every word boundary across two full windows, with a duplicate per word */
	RESET,
	UP(0, 2 * W + 130, true),
	DOWN(2 * W + 130, W + 130, false),
	T(W + 129, false),
};

/* Run one packet number through check and update; check must predict update and must not
 * change anything. Returns true if the decision was as expected. */
static bool
run_one(struct dp_replay *r, uint64_t pn, uint64_t limit, bool want)
{
	struct dp_replay before = *r;
	bool predicted = dp_replay_check(r, pn, limit);
	bool unchanged = memcmp(&before, r, sizeof(*r)) == 0;
	bool got = dp_replay_update(r, pn, limit);

	if (!unchanged || predicted != got || got != want) {
		fprintf(stderr, "  pn %llu limit %llu: want %d, check %d, update %d%s\n",
			(unsigned long long)pn, (unsigned long long)limit, want, predicted, got,
			unchanged ? "" : ", check changed the state");
		return false;
	}
	return true;
}

/* Runs a table entry; returns the number of wrong decisions. */
static unsigned int
run_case(struct dp_replay *r, const struct replay_case *c, unsigned int *decisions)
{
	unsigned int bad = 0;

	switch (c->op) {
	case RC_RESET:
		dp_replay_init(r);
		break;
	case RC_ONE:
		(*decisions)++;
		bad += !run_one(r, c->pn, c->limit, c->accept);
		break;
	case RC_UP:
		for (uint64_t pn = c->pn; pn <= c->end; pn++, (*decisions)++)
			bad += !run_one(r, pn, c->limit, c->accept);
		break;
	case RC_DOWN:
		for (uint64_t pn = c->pn + 1; pn-- > c->end; (*decisions)++)
			bad += !run_one(r, pn, c->limit, c->accept);
		break;
	}
	return bad;
}

static void
test_table(void)
{
	struct dp_replay r;
	unsigned int bad = 0, decisions = 0;

	dp_replay_init(&r);
	for (size_t i = 0; i < RTE_DIM(cases_table); i++) {
		unsigned int b = run_case(&r, &cases_table[i], &decisions);

		if (b != 0)
			fprintf(stderr, "  table entry %zu: %u wrong decisions\n", i, b);
		bad += b;
	}
	printf("\n  %zu table entries, %u decisions\n", RTE_DIM(cases_table), decisions);
	CU_ASSERT(RTE_DIM(cases_table) >= 40);
	CU_ASSERT_EQUAL(bad, 0);
}

static void
test_init_and_size(void)
{
	struct dp_replay r;

	memset(&r, 0xff, sizeof(r));
	dp_replay_init(&r);
	CU_ASSERT_EQUAL(r.top, 0);
	for (unsigned int i = 0; i < SL_REPLAY_WORDS; i++)
		CU_ASSERT_EQUAL(r.bitmap[i], 0);
	/* 33 words of bitmap, not rounded up to a power of two */
	CU_ASSERT_EQUAL(sizeof(r.bitmap), 33 * sizeof(uint64_t));
	CU_ASSERT(dp_replay_check(&r, 0, LIM));
	CU_ASSERT(dp_replay_check(&r, LIM - 1, LIM));
	CU_ASSERT(!dp_replay_check(&r, LIM, LIM));
}

/* --- naive reference: every accepted packet number in a set, plus the highest ----------- */

#define REF_SLOTS (1u << 22) /* > 2x the packets any run accepts */
#define REF_EMPTY UINT64_MAX /* never accepted: pn < limit <= UINT64_MAX */

struct ref_model {
	uint64_t *set;
	uint64_t max;
	bool any;
};

static size_t
ref_slot(uint64_t pn)
{
	return (size_t)((pn * 0x9e3779b97f4a7c15ull) >> (64 - 22));
}

/* Finds pn's slot, or the empty slot where it would go. */
static uint64_t *
ref_find(struct ref_model *m, uint64_t pn)
{
	size_t i = ref_slot(pn);

	while (m->set[i] != REF_EMPTY && m->set[i] != pn)
		i = (i + 1) & (REF_SLOTS - 1);
	return &m->set[i];
}

static bool
ref_accept(struct ref_model *m, uint64_t pn, uint64_t limit)
{
	uint64_t *slot;

	if (pn >= limit)
		return false;
	if (m->any && pn < m->max && m->max - pn > W)
		return false;
	slot = ref_find(m, pn);
	if (*slot == pn)
		return false;
	*slot = pn;
	if (!m->any || pn > m->max)
		m->max = pn;
	m->any = true;
	return true;
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t
sat_sub(uint64_t a, uint64_t b)
{
	return a < b ? 0 : a - b;
}

/* Next packet number to offer: mostly in order, with jumps, reordering, replays, packets
 * at and beyond the window edge, stale ones, and, once the limit is near, some around it. */
static uint64_t
pick_pn(uint64_t *rng, uint64_t top, uint64_t limit, const uint64_t recent[64])
{
	uint64_t r = sl_test_mix64(rng), roll = r % 100, x = r >> 8;

	if (roll < 38)
		return sat_add(top, 1);
	if (roll < 52)
		return sat_add(top, 1 + x % 256);
	if (roll < 57)
		return sat_add(top, x % (2 * W));
	if (roll < 58)
		return sat_add(top, x % (1ull << 32));
	if (roll < 76)
		return sat_sub(top, x % (W + 1));
	if (roll < 87)
		return recent[x % 64];
	if (roll < 93)
		return sat_sub(top, W - 1 + x % 3); /* edge - 1, edge, edge + 1 */
	if (roll < 98 || limit - top > (1ull << 16))
		return sat_sub(top, W + 1 + x % (1ull << 20));
	return sat_add(sat_sub(limit, 4), x % 8); /* only once the limit is near */
}

struct random_run {
	uint64_t seed, ops, limit, base;
	uint64_t accepted, rejected, mismatches, check_changed;
};

static void
random_run(struct random_run *run, uint64_t *set)
{
	struct ref_model m = { .set = set };
	uint64_t recent[64] = { 0 }, rng = run->seed;
	unsigned int ri = 0;
	struct dp_replay r, before;

	for (size_t i = 0; i < REF_SLOTS; i++)
		set[i] = REF_EMPTY;
	dp_replay_init(&r);
	for (uint64_t i = 0; i < run->ops; i++) {
		uint64_t pn = i == 0 ? run->base : pick_pn(&rng, m.max, run->limit, recent);
		bool want = ref_accept(&m, pn, run->limit), predicted, got;

		before = r;
		predicted = dp_replay_check(&r, pn, run->limit);
		run->check_changed += memcmp(&before, &r, sizeof(r)) != 0;
		got = dp_replay_update(&r, pn, run->limit);
		if (got != want || predicted != want) {
			if (run->mismatches++ < 10)
				fprintf(stderr, "  seed %llu op %llu pn %llu: want %d got %d/%d\n",
					(unsigned long long)run->seed, (unsigned long long)i,
					(unsigned long long)pn, want, predicted, got);
		}
		if (want) {
			run->accepted++;
			recent[ri++ % 64] = pn;
		} else {
			run->rejected++;
		}
	}
	printf("\n  seed %llu: %llu ops, %llu accepted, %llu rejected, top %llu\n",
	       (unsigned long long)run->seed, (unsigned long long)run->ops,
	       (unsigned long long)run->accepted, (unsigned long long)run->rejected,
	       (unsigned long long)m.max);
}

static void
test_random_vs_reference(void)
{
	struct random_run runs[] = {
		{ .seed = 1, .ops = 1000000, .limit = LIM, .base = 0 },
		{ .seed = 2, .ops = 200000, .limit = LIM, .base = LIM - (1ull << 24) },
		{ .seed = 3, .ops = 200000, .limit = 1u << 24, .base = 0 },
		{ .seed = 4,
		  .ops = 200000,
		  .limit = UINT64_MAX,
		  .base = UINT64_MAX - (1ull << 30) },
	};
	uint64_t *set = malloc(REF_SLOTS * sizeof(*set));

	CU_ASSERT_PTR_NOT_NULL_FATAL(set);
	for (size_t i = 0; i < RTE_DIM(runs); i++) {
		random_run(&runs[i], set);
		CU_ASSERT_EQUAL(runs[i].mismatches, 0);
		CU_ASSERT_EQUAL(runs[i].check_changed, 0);
		/* the mix exercised both outcomes in earnest */
		CU_ASSERT(runs[i].accepted > runs[i].ops / 10);
		CU_ASSERT(runs[i].rejected > runs[i].ops / 10);
	}
	free(set);
}

static CU_TestInfo cases[] = {
	{ "init: empty window of 33 words", test_init_and_size },
	{ "table: order, duplicates, window edge, jumps, limit", test_table },
	{ "random runs against a naive reference", test_random_vs_reference },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("replay", cases)
