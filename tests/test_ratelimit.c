/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: handshake rate limiter tests — exact allow/deny sequences on an injected clock,
 * refill capped at the burst, independent sources, a full table failing closed, and
 * reclamation of refilled buckets.
 */
#include <errno.h>
#include <stdio.h>

#include "cp_ratelimit.h"
#include "sl_test.h"

#define MS 1000000ull
#define S  1000000000ull

static struct cp_ratelimit *
make(uint32_t per_sec, uint32_t burst, uint32_t capacity)
{
	struct cp_ratelimit_conf conf = { .per_sec = per_sec,
					  .burst = burst,
					  .capacity = capacity };
	struct cp_ratelimit *rl = cp_ratelimit_create(&conf);

	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	return rl;
}

static struct cp_ratelimit_stats
stats(const struct cp_ratelimit *rl)
{
	struct cp_ratelimit_stats st;

	cp_ratelimit_get_stats(rl, &st);
	return st;
}

/* How many of n attempts from src at now are allowed. */
static unsigned int
allow_n(struct cp_ratelimit *rl, uint32_t src, uint64_t now, unsigned int n)
{
	unsigned int ok = 0;

	for (unsigned int i = 0; i < n; i++)
		ok += cp_ratelimit_allow(rl, src, now);
	return ok;
}

static void
test_defaults(void)
{
	struct cp_ratelimit_conf conf;

	cp_ratelimit_conf_init(&conf);
	CU_ASSERT_EQUAL(conf.per_sec, SL_RATELIMIT_PER_SEC);
	CU_ASSERT_EQUAL(conf.burst, SL_RATELIMIT_BURST);
	CU_ASSERT_EQUAL(conf.capacity, SL_RATELIMIT_TABLE_DEFAULT);
}

/* 20 tokens a second, 5 deep: a token every 50 ms exactly. */
static void
test_exact_sequence(void)
{
	struct cp_ratelimit *rl = cp_ratelimit_create(NULL);
	const uint32_t a = 0xc6120001; /* 198.18.0.1 */
	uint64_t t0 = 1000 * S;
	struct cp_ratelimit_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	for (int i = 0; i < 5; i++)
		CU_ASSERT_TRUE(cp_ratelimit_allow(rl, a, t0));
	CU_ASSERT_FALSE(cp_ratelimit_allow(rl, a, t0));
	CU_ASSERT_FALSE(cp_ratelimit_allow(rl, a, t0 + 50 * MS - 1000)); /* 49.999 ms */
	CU_ASSERT_FALSE(cp_ratelimit_allow(rl, a, t0 + 50 * MS - 1));
	CU_ASSERT_TRUE(cp_ratelimit_allow(rl, a, t0 + 50 * MS));
	CU_ASSERT_FALSE(cp_ratelimit_allow(rl, a, t0 + 50 * MS));
	CU_ASSERT_FALSE(cp_ratelimit_allow(rl, a, t0 + 99 * MS));
	CU_ASSERT_TRUE(cp_ratelimit_allow(rl, a, t0 + 100 * MS));
	/* 150 ms of rest earns exactly three tokens */
	CU_ASSERT_EQUAL(allow_n(rl, a, t0 + 250 * MS, 10), 3);
	/* denied attempts do not spend anything: the next token still comes at +50 ms */
	CU_ASSERT_EQUAL(allow_n(rl, a, t0 + 299 * MS, 10), 0);
	CU_ASSERT_TRUE(cp_ratelimit_allow(rl, a, t0 + 300 * MS));
	st = stats(rl);
	CU_ASSERT_EQUAL(st.allowed, 5 + 1 + 1 + 3 + 1);
	CU_ASSERT_EQUAL(st.denied, 1 + 2 + 1 + 1 + 7 + 10);
	CU_ASSERT_EQUAL(st.table_full, 0);
	CU_ASSERT_EQUAL(st.entries, 1);
	cp_ratelimit_destroy(rl);
}

static void
test_refill_capped_at_burst(void)
{
	struct cp_ratelimit *rl = make(20, 5, 16);

	CU_ASSERT_EQUAL(allow_n(rl, 1, 0, 10), 5);
	CU_ASSERT_EQUAL(allow_n(rl, 1, 3600 * S, 10), 5);   /* an hour idle: still 5 */
	CU_ASSERT_EQUAL(allow_n(rl, 1, UINT64_MAX, 10), 5); /* no overflow at the end of time */
	cp_ratelimit_destroy(rl);

	rl = make(20, 5, 16); /* 4 tokens left + 100 ms = 6 tokens' credit, capped at 5 */
	CU_ASSERT_TRUE(cp_ratelimit_allow(rl, 2, 0));
	CU_ASSERT_EQUAL(allow_n(rl, 2, 100 * MS, 10), 5);
	cp_ratelimit_destroy(rl);

	rl = make(1000000, 3, 4); /* a fast rate: a token per microsecond */
	CU_ASSERT_EQUAL(allow_n(rl, 9, 5 * S, 10), 3);
	CU_ASSERT_EQUAL(allow_n(rl, 9, 5 * S + 999, 10), 0);
	CU_ASSERT_EQUAL(allow_n(rl, 9, 5 * S + 2000, 10), 2);
	CU_ASSERT_EQUAL(allow_n(rl, 9, 6 * S, 10), 3);
	cp_ratelimit_destroy(rl);
}

/* A rate that does not divide a second: 3 a second is one token per 333,333,333.3 ns. The
 * integer credit loses nothing to rounding: the third token of a second comes at exactly
 * 1 s. */
static void
test_rate_not_dividing_a_second(void)
{
	struct cp_ratelimit *rl = make(3, 3, 4);

	CU_ASSERT_EQUAL(allow_n(rl, 7, 0, 5), 3);
	CU_ASSERT_FALSE(cp_ratelimit_allow(rl, 7, 333333333));
	CU_ASSERT_TRUE(cp_ratelimit_allow(rl, 7, 333333334));
	CU_ASSERT_FALSE(cp_ratelimit_allow(rl, 7, 333333334));
	CU_ASSERT_TRUE(cp_ratelimit_allow(rl, 7, 666666667));
	CU_ASSERT_FALSE(cp_ratelimit_allow(rl, 7, 999999999));
	CU_ASSERT_TRUE(cp_ratelimit_allow(rl, 7, 1000000000));
	CU_ASSERT_FALSE(cp_ratelimit_allow(rl, 7, 1000000000));
	cp_ratelimit_destroy(rl);

	rl = make(7, 1, 4); /* 142,857,142.86 ns a token: rounding never grants one early */
	CU_ASSERT_TRUE(cp_ratelimit_allow(rl, 7, 0));
	CU_ASSERT_FALSE(cp_ratelimit_allow(rl, 7, 142857142));
	CU_ASSERT_TRUE(cp_ratelimit_allow(rl, 7, 142857143));
	cp_ratelimit_destroy(rl);
	rl = make(7, 1, 4);
	CU_ASSERT_TRUE(cp_ratelimit_allow(rl, 8, 0));
	CU_ASSERT_EQUAL(cp_ratelimit_gc(rl, 142857142), 0);
	CU_ASSERT_EQUAL(cp_ratelimit_gc(rl, 142857143), 1);
	cp_ratelimit_destroy(rl);
}

static void
test_independent_sources(void)
{
	struct cp_ratelimit *rl = cp_ratelimit_create(NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	CU_ASSERT_EQUAL(allow_n(rl, 0x0a000001, 0, 10), 5);
	CU_ASSERT_EQUAL(allow_n(rl, 0x0a000002, 0, 10), 5);
	CU_ASSERT_EQUAL(allow_n(rl, 0x0a000001, 10 * MS, 10), 0);
	CU_ASSERT_EQUAL(allow_n(rl, 0x0a000003, 10 * MS, 3), 3);
	CU_ASSERT_EQUAL(allow_n(rl, 0x0a000003, 60 * MS, 10), 2 + 1);
	CU_ASSERT_EQUAL(allow_n(rl, 0x0a000002, 60 * MS, 10), 1);
	CU_ASSERT_EQUAL(allow_n(rl, 0x0a000001, 60 * MS, 10), 1);
	CU_ASSERT_EQUAL(allow_n(rl, 0, 60 * MS, 10), 5);	  /* 0.0.0.0 is a source too */
	CU_ASSERT_EQUAL(allow_n(rl, UINT32_MAX, 60 * MS, 10), 5); /* and 255.255.255.255 */
	CU_ASSERT_EQUAL(stats(rl).entries, 5);
	cp_ratelimit_destroy(rl);
}

/* A full table denies new sources until the least recently seen one has refilled. */
static void
test_table_full_fails_closed(void)
{
	struct cp_ratelimit *rl = make(20, 5, 4);
	struct cp_ratelimit_stats st;

	for (uint32_t src = 1; src <= 4; src++)
		CU_ASSERT_TRUE(cp_ratelimit_allow(rl, src, 0));
	CU_ASSERT_FALSE(cp_ratelimit_allow(rl, 5, 0));
	CU_ASSERT_FALSE(cp_ratelimit_allow(rl, 5, 49 * MS)); /* source 1 not refilled yet */
	st = stats(rl);
	CU_ASSERT_EQUAL(st.table_full, 2);
	CU_ASSERT_EQUAL(st.denied, 2);
	CU_ASSERT_EQUAL(st.entries, 4);
	/* known sources keep their buckets meanwhile */
	CU_ASSERT_EQUAL(allow_n(rl, 2, 49 * MS, 10), 4);
	/* at 50 ms source 1 is full again and gives its slot up; source 1 comes back fresh and
	 * takes the slot of source 3, the least recently seen full bucket */
	CU_ASSERT_TRUE(cp_ratelimit_allow(rl, 5, 50 * MS));
	CU_ASSERT_EQUAL(allow_n(rl, 1, 50 * MS, 10), 5);
	st = stats(rl);
	CU_ASSERT_EQUAL(st.reclaimed, 2);
	CU_ASSERT_EQUAL(st.table_full, 2);
	/* source 4 is the oldest and full: source 6 takes its slot. Then the oldest is source 2,
	 * left with 0.98 tokens at 49 ms, full only at 49 + 201 = 250 ms: until then every new
	 * source is denied */
	CU_ASSERT_TRUE(cp_ratelimit_allow(rl, 6, 50 * MS));
	CU_ASSERT_FALSE(cp_ratelimit_allow(rl, 7, 249 * MS));
	CU_ASSERT_FALSE(cp_ratelimit_allow(rl, 7, 250 * MS - 1));
	CU_ASSERT_TRUE(cp_ratelimit_allow(rl, 7, 250 * MS));
	st = stats(rl);
	CU_ASSERT_EQUAL(st.table_full, 4);
	CU_ASSERT_EQUAL(st.entries, 4);
	cp_ratelimit_destroy(rl);
}

static void
test_gc_frees_idle_entries(void)
{
	struct cp_ratelimit *rl = make(20, 5, 64);
	struct cp_ratelimit_stats st;

	for (uint32_t src = 100; src < 164; src++)
		CU_ASSERT_TRUE(cp_ratelimit_allow(rl, src, 0));
	CU_ASSERT_EQUAL(allow_n(rl, 100, 0, 4), 4); /* source 100 empty: needs 250 ms */
	CU_ASSERT_FALSE(cp_ratelimit_allow(rl, 999, 0));
	CU_ASSERT_EQUAL(cp_ratelimit_gc(rl, 50 * MS - 1), 0);
	CU_ASSERT_EQUAL(cp_ratelimit_gc(rl, 50 * MS), 63);
	st = stats(rl);
	CU_ASSERT_EQUAL(st.entries, 1);
	CU_ASSERT_EQUAL(st.reclaimed, 63);
	/* source 100 was kept: one token earned since 0, not a fresh bucket of five */
	CU_ASSERT_EQUAL(allow_n(rl, 100, 50 * MS + 1, 5), 1);
	/* left with 20 credit at 50 ms + 1 ns: full at exactly 300 ms */
	CU_ASSERT_EQUAL(cp_ratelimit_gc(rl, 300 * MS - 1), 0);
	CU_ASSERT_EQUAL(cp_ratelimit_gc(rl, 300 * MS), 1);
	CU_ASSERT_EQUAL(stats(rl).entries, 0);
	CU_ASSERT_EQUAL(cp_ratelimit_gc(rl, 400 * MS), 0);
	/* the freed slots are usable again */
	for (uint32_t src = 200; src < 264; src++)
		CU_ASSERT_TRUE(cp_ratelimit_allow(rl, src, 400 * MS));
	CU_ASSERT_EQUAL(stats(rl).entries, 64);
	cp_ratelimit_destroy(rl);
}

/* The default table, filled to capacity: long chains work, the next source is denied, gc
 * empties it, and it fills again. */
static void
test_default_capacity(void)
{
	struct cp_ratelimit *rl = cp_ratelimit_create(NULL);
	unsigned int ok = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
	for (uint32_t i = 0; i < SL_RATELIMIT_TABLE_DEFAULT; i++)
		ok += cp_ratelimit_allow(rl, 0xc6120000 + i * 7919, 0);
	CU_ASSERT_EQUAL(ok, SL_RATELIMIT_TABLE_DEFAULT);
	ok = 0;
	for (uint32_t i = 0; i < SL_RATELIMIT_TABLE_DEFAULT; i++)
		ok += cp_ratelimit_allow(rl, 0xc6120000 + i * 7919, 1);
	CU_ASSERT_EQUAL(ok, SL_RATELIMIT_TABLE_DEFAULT);
	CU_ASSERT_FALSE(cp_ratelimit_allow(rl, 1, 2));
	CU_ASSERT_EQUAL(stats(rl).table_full, 1);
	/* each has 3 tokens + 20 credit at 1 ns: full at exactly 100 ms */
	CU_ASSERT_EQUAL(cp_ratelimit_gc(rl, 100 * MS - 1), 0);
	CU_ASSERT_EQUAL(cp_ratelimit_gc(rl, 100 * MS), SL_RATELIMIT_TABLE_DEFAULT);
	CU_ASSERT_EQUAL(stats(rl).entries, 0);
	cp_ratelimit_destroy(rl);
}

static void
test_clock_steps_back(void)
{
	struct cp_ratelimit *rl = make(20, 5, 4);

	CU_ASSERT_EQUAL(allow_n(rl, 3, 10 * S, 10), 5);
	CU_ASSERT_EQUAL(allow_n(rl, 3, 5 * S, 10), 0);		  /* earlier: no credit */
	CU_ASSERT_EQUAL(allow_n(rl, 3, 10 * S + 49 * MS, 10), 0); /* measured from 10 s */
	CU_ASSERT_EQUAL(allow_n(rl, 3, 10 * S + 50 * MS, 10), 1);
	cp_ratelimit_destroy(rl);
}

static void
test_create_rejects_bad_conf(void)
{
	const struct cp_ratelimit_conf bad[] = {
		{ .per_sec = 0, .burst = 5, .capacity = 8 },
		{ .per_sec = 20, .burst = 0, .capacity = 8 },
		{ .per_sec = 20, .burst = 5, .capacity = 0 },
		{ .per_sec = CP_RATELIMIT_MAX_PER_SEC + 1, .burst = 5, .capacity = 8 },
		{ .per_sec = 20, .burst = CP_RATELIMIT_MAX_BURST + 1, .capacity = 8 },
		{ .per_sec = 20, .burst = 5, .capacity = CP_RATELIMIT_MAX_CAPACITY + 1 },
	};
	struct cp_ratelimit *rl;

	for (size_t i = 0; i < RTE_DIM(bad); i++) {
		errno = 0;
		CU_ASSERT_PTR_NULL(cp_ratelimit_create(&bad[i]));
		CU_ASSERT_EQUAL(errno, EINVAL);
	}
	/* the extremes are accepted */
	rl = make(CP_RATELIMIT_MAX_PER_SEC, CP_RATELIMIT_MAX_BURST, 1);
	CU_ASSERT_EQUAL(allow_n(rl, 1, 0, 10), 10);
	CU_ASSERT_EQUAL(allow_n(rl, 1, UINT64_MAX, 10), 10);
	cp_ratelimit_destroy(rl);
	cp_ratelimit_destroy(NULL);
}

static CU_TestInfo cases[] = {
	{ "defaults from sl_limits.h", test_defaults },
	{ "exact sequence: 5 at once, one per 50 ms", test_exact_sequence },
	{ "refill capped at the burst", test_refill_capped_at_burst },
	{ "rate that does not divide a second", test_rate_not_dividing_a_second },
	{ "sources are independent", test_independent_sources },
	{ "full table fails closed", test_table_full_fails_closed },
	{ "gc frees refilled entries", test_gc_frees_idle_entries },
	{ "default capacity filled and emptied", test_default_capacity },
	{ "clock stepping back earns nothing", test_clock_steps_back },
	{ "create rejects bad configuration", test_create_rejects_bad_conf },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("ratelimit", cases)
