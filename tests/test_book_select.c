/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: choosing from the address book — the bias between new and tried for a
 * pick, the ranking inside a table (round-trip time, failed attempts, a recent try), callers
 * skipping addresses, and samples for ADDR answers (size, share of tried, nothing bad, stale
 * or repeated). Counts over many picks from a fixed seed, with wide margins; no timing.
 */
#include <errno.h>

#include "test_book.h"

/* --- picking ---------------------------------------------------------------------------------- */

/* About n_new addresses heard of (numbers from 0), n_tried connected to (from 100000). */
static struct cp_book *
mixed_book(unsigned int n_new, unsigned int n_tried, uint64_t rtt_ns)
{
	struct cp_book *b = tbook(NULL, 11);

	for (uint32_t i = 0; i < n_new; i++) {
		struct cp_addr a = taddr(tip(i, 1), 9, 0);

		cp_book_add(b, &a, IP(50, i % 200, 0, 1), NOW);
	}
	for (uint32_t i = 0; i < n_tried; i++) {
		struct cp_addr a = taddr(tip(100000 + i, 1), 9, 0);

		cp_book_good(b, &a, rtt_ns, NOW);
	}
	/* a few collide with another in their slot */
	CU_ASSERT(b->stats.entries_tried >= n_tried * 9 / 10);
	CU_ASSERT(b->stats.entries_new + b->stats.entries_tried >= (n_new + n_tried) * 9 / 10);
	return b;
}

/* Of n picks at now_s, how many came from tried. */
static unsigned int
picks_tried(struct cp_book *b, unsigned int bias, unsigned int n, uint64_t now_s)
{
	struct cp_book_info info;
	struct cp_addr out;
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++) {
		CU_ASSERT_EQUAL_FATAL(cp_book_pick(b, bias, NULL, NULL, now_s, &out), 0);
		CU_ASSERT_EQUAL_FATAL(cp_book_lookup(b, &out, &info), 0);
		k += info.tried;
	}
	return k;
}

static void
test_pick_bias(void)
{
	static const struct {
		unsigned int bias, tried_min, tried_max; /* of 2000 picks */
	} t[] = {
		{ 10, 1500, 2000 }, /* weights 20 * 10 : 10 * 90: 82 % tried */
		{ 50, 400, 900 },   /* 20 * 50 : 10 * 50: 33 % tried */
		{ 90, 0, 300 },	    /* 20 * 90 : 10 * 10: 5 % tried */
		{ 0, 2000, 2000 },  { 100, 0, 0 },
	};
	struct cp_book *b = mixed_book(400, 100, 0);

	for (unsigned int i = 0; i < RTE_DIM(t); i++) {
		unsigned int k = picks_tried(b, t[i].bias, 2000, NOW + HOUR);

		printf("\n  bias %u: %u of 2000 from tried", t[i].bias, k);
		CU_ASSERT(k >= t[i].tried_min && k <= t[i].tried_max);
	}
	CU_ASSERT_EQUAL(cp_book_stats(b)->picks, 2000 * RTE_DIM(t));
	cp_book_destroy(b);
	CU_ASSERT_EQUAL(cp_book_new_bias(0), 10);
	CU_ASSERT_EQUAL(cp_book_new_bias(3), 40);
	CU_ASSERT_EQUAL(cp_book_new_bias(8), 90);
	CU_ASSERT_EQUAL(cp_book_new_bias(1000), 90);
}

/* Two groups of addresses that differ in one respect: how often the first is picked. */
static unsigned int
first_half_share(struct cp_book *b, uint32_t from, unsigned int bias, uint64_t now_s)
{
	struct cp_addr out;
	unsigned int k = 0;

	for (unsigned int i = 0; i < 2000; i++) {
		CU_ASSERT_EQUAL_FATAL(cp_book_pick(b, bias, NULL, NULL, now_s, &out), 0);
		k += out.ip < tip(from + 100, 1);
	}
	return k;
}

static void
test_pick_rank(void)
{
	struct cp_book *b = tbook(NULL, 13);
	unsigned int k;

	/* tried: 100 at 10 ms, 100 at 1 s */
	for (uint32_t i = 0; i < 200; i++) {
		struct cp_addr a = taddr(tip(i, 1), 9, 0);

		cp_book_good(b, &a, i < 100 ? 10000000 : 1000000000, NOW);
	}
	k = first_half_share(b, 0, 0, NOW + HOUR);
	printf("\n  fast %u of 2000", k);
	CU_ASSERT(k >= 1500);
	cp_book_destroy(b);

	/* new: 100 fresh, 100 that failed 4 times two hours ago */
	b = tbook(NULL, 13);
	for (uint32_t i = 0; i < 200; i++) {
		struct cp_addr a = taddr(tip(i, 1), 9, 0);

		cp_book_add(b, &a, a.ip, NOW);
		for (int n = 0; n < 4 && i >= 100; n++)
			cp_book_attempt(b, &a, NOW - 2 * HOUR);
	}
	k = first_half_share(b, 0, 100, NOW);
	printf(", fresh %u of 2000", k);
	CU_ASSERT(k >= 1400);
	/* ... and 100 tried a minute ago among 100 fresh */
	for (uint32_t i = 100; i < 200; i++) {
		struct cp_addr a = taddr(tip(i, 1), 9, 0);

		cp_book_ban(b, &a, NOW + 1); /* out of the way */
		a = taddr(tip(i, 1), 10, 0);
		cp_book_add(b, &a, a.ip, NOW + 2);
		cp_book_attempt(b, &a, NOW + 2);
	}
	k = first_half_share(b, 0, 100, NOW + 60);
	printf(", untried %u of 2000", k);
	CU_ASSERT(k >= 1800);
	cp_book_destroy(b);
}

struct only {
	uint32_t ip;
	unsigned int calls;
};

static bool
all_but(void *arg, const struct cp_addr *a)
{
	struct only *o = arg;

	o->calls++;
	return a->ip != o->ip;
}

static bool
everything(void *arg, const struct cp_addr *a)
{
	(void)a;
	(*(unsigned int *)arg)++;
	return true;
}

static void
test_pick_skip(void)
{
	struct cp_book *b = tbook(NULL, 17);
	struct cp_addr out;
	struct only o = { .ip = tip(37, 1) };
	unsigned int calls = 0;

	CU_ASSERT_EQUAL(cp_book_pick(b, 50, NULL, NULL, NOW, &out), -ENOENT);
	CU_ASSERT_EQUAL(cp_book_pick(b, 101, NULL, NULL, NOW, &out), -EINVAL);
	for (uint32_t i = 0; i < 50; i++) {
		struct cp_addr a = taddr(tip(i, 1), 9, 0);

		if (i % 2)
			cp_book_good(b, &a, 0, NOW);
		else
			cp_book_add(b, &a, a.ip, NOW);
	}
	for (int i = 0; i < 20; i++) {
		CU_ASSERT_EQUAL(cp_book_pick(b, 50, all_but, &o, NOW, &out), 0);
		CU_ASSERT_EQUAL(out.ip, o.ip);
	}
	CU_ASSERT_EQUAL(cp_book_pick(b, 50, everything, &calls, NOW, &out), -ENOENT);
	CU_ASSERT(calls >= 50);
	CU_ASSERT_EQUAL(cp_book_stats(b)->picks_empty, 2);
	CU_ASSERT_EQUAL(cp_book_stats(b)->picks, 20);
	cp_book_destroy(b);
}

/* --- samples ---------------------------------------------------------------------------------- */

static void
test_sample(void)
{
	static struct cp_addr out[1000];
	struct cp_book *b = mixed_book(1000, 300, 0);
	struct cp_book_info info;
	unsigned int n, tried = 0;

	/* 20 stale ones (not seen for 10 days) and 50 bad tried ones never go out */
	for (uint32_t i = 0; i < 20; i++) {
		struct cp_addr a = taddr(tip(200000 + i, 1), 9, 0);

		a.last_seen = NOW - 10 * DAY;
		cp_book_add(b, &a, a.ip, NOW); /* kept unless its slot is taken */
	}
	for (uint32_t i = 0; i < 50; i++) {
		struct cp_addr a = taddr(tip(100000 + i, 1), 9, 0);

		cp_book_bad(b, &a, NOW);
	}
	n = cp_book_sample(b, out, RTE_DIM(out), NOW + 60);
	CU_ASSERT_EQUAL(n, CP_BOOK_SAMPLE_MAX); /* 23 % of 1220 is more */
	for (unsigned int i = 0; i < n; i++) {
		CU_ASSERT_EQUAL_FATAL(cp_book_lookup(b, &out[i], &info), 0);
		tried += info.tried;
		CU_ASSERT(info.bad_until <= NOW + 60);
		CU_ASSERT(info.addr.last_seen > NOW - 7 * DAY);
		for (unsigned int j = 0; j < i; j++)
			CU_ASSERT(out[j].ip != out[i].ip || out[j].port != out[i].port);
	}
	CU_ASSERT_EQUAL(tried, 175); /* 70 % of 250; over 200 good tried ones are left */
	CU_ASSERT_EQUAL(cp_book_sample(b, out, 10, NOW + 60), 10);
	cp_book_destroy(b);
	/* a small book gives what it has */
	b = mixed_book(5, 2, 0);
	CU_ASSERT_EQUAL(cp_book_sample(b, out, RTE_DIM(out), NOW + 60), 7);
	CU_ASSERT_EQUAL(cp_book_stats(b)->samples, 1);
	cp_book_destroy(b);
}

static CU_TestInfo cases[] = {
	{ "pick_bias", test_pick_bias },
	{ "pick_rank", test_pick_rank },
	{ "pick_skip", test_pick_skip },
	{ "sample", test_sample },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("book_select", cases)
