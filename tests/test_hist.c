/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the log-linear histogram (sl_hist) — percentiles against a sorted-array reference
 * (nearest rank, within the bucket precision), merging equal to recording everything into one,
 * exact values below 256, the precision at both sides of every power of two, the last bucket.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "sl_hist.h"
#include "sl_test.h"

/* --- against a sorted array ------------------------------------------------------------------ */
static int
cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Nearest rank, naively: the same definition as the histogram's. */
static uint64_t
ref_percentile(const uint64_t *sorted, uint64_t n, double pct)
{
	double r = pct / 100.0 * (double)n;
	uint64_t rank = (uint64_t)r;

	if ((double)rank < r - 1e-9)
		rank++;
	return sorted[RTE_MAX(rank, 1ull) - 1];
}

#define HN 100000

static void
test_hist_reference(void)
{
	static const double pcts[] = { 0, 0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100 };
	static uint64_t v[HN];
	static struct sl_hist h, h1, h2;
	uint64_t rng = 3;
	unsigned int bad = 0;

	for (int round = 0; round < 4; round++) {
		memset(&h, 0, sizeof(h));
		memset(&h1, 0, sizeof(h1));
		memset(&h2, 0, sizeof(h2));
		for (unsigned int i = 0; i < HN; i++) {
			/* roughly log-uniform 1 us..8 s, some below 300 ns, a few past 2^34 */
			uint64_t octave = 1000ull << sl_test_mix64(&rng) % 23;
			uint64_t x = octave + sl_test_mix64(&rng) % octave;

			if (i % 97 == 0)
				x = sl_test_mix64(&rng) % 300;
			if (round == 3 && i % 1001 == 0)
				x = (1ull << 35) + sl_test_mix64(&rng) % 1000;
			v[i] = x;
			sl_hist_record(&h, x);
			sl_hist_record(i % 2 ? &h1 : &h2, x);
		}
		qsort(v, HN, sizeof(v[0]), cmp_u64);
		CU_ASSERT_EQUAL(h.count, HN);
		CU_ASSERT_EQUAL(h.min, v[0]);
		CU_ASSERT_EQUAL(h.max, v[HN - 1]);
		for (size_t k = 0; k < RTE_DIM(pcts); k++) {
			uint64_t got = sl_hist_percentile(&h, pcts[k]);
			uint64_t want = ref_percentile(v, HN, pcts[k]);
			uint64_t err = got > want ? got - want : want - got;

			/* within the bucket precision, except beyond the histogram's range */
			bad += err > want / 128 + 1 && want < (1ull << SL_HIST_MAX_BITS);
		}
		sl_hist_merge(&h1, &h2);
		CU_ASSERT_EQUAL(memcmp(&h1, &h, sizeof(h)), 0);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void
test_hist_edges(void)
{
	static struct sl_hist h;

	memset(&h, 0, sizeof(h));
	CU_ASSERT_EQUAL(sl_hist_percentile(&h, 50), 0);
	sl_hist_record(&h, 123456789);
	CU_ASSERT_EQUAL(sl_hist_percentile(&h, 0), 123456789);
	CU_ASSERT_EQUAL(sl_hist_percentile(&h, 50), 123456789);
	CU_ASSERT_EQUAL(sl_hist_percentile(&h, 100), 123456789);
	for (uint64_t x = 0; x < 256; x++) { /* exact below 256 */
		memset(&h, 0, sizeof(h));
		sl_hist_record(&h, x);
		sl_hist_record(&h, x);
		sl_hist_record(&h, 1000);
		CU_ASSERT_EQUAL(sl_hist_percentile(&h, 50), x);
	}
	memset(&h, 0, sizeof(h));
	sl_hist_record(&h, UINT64_MAX / 2);
	sl_hist_record(&h, 1);
	CU_ASSERT_EQUAL(sl_hist_percentile(&h, 100), UINT64_MAX / 2);
	CU_ASSERT_EQUAL(h.bucket[SL_HIST_BUCKETS - 1], 1);
}

/* --- precision ------------------------------------------------------------------------------ */

/* The median of {0, x, x, x, UINT64_MAX} is read from x's bucket: within 1/128 of x (exact
 * below 256) wherever x sits in its power of two, the edges included. */
static void
test_precision_at_powers_of_two(void)
{
	static struct sl_hist h;
	unsigned int bad = 0, n = 0;

	for (unsigned int k = 1; k < SL_HIST_MAX_BITS; k++) {
		const uint64_t p = 1ull << k;
		const uint64_t xs[] = { p - 1, p, p + 1, p + p / 3, 2 * p - 2 };

		for (size_t i = 0; i < RTE_DIM(xs); i++) {
			uint64_t x = xs[i], got, err;

			memset(&h, 0, sizeof(h));
			sl_hist_record(&h, 0); /* min and max far away: no clamping helps */
			for (int r = 0; r < 3; r++)
				sl_hist_record(&h, x);
			sl_hist_record(&h, UINT64_MAX);
			got = sl_hist_percentile(&h, 50);
			err = got > x ? got - x : x - got;
			bad += x < 256 ? err != 0 : err > x / 128;
			n++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(n, 5 * (SL_HIST_MAX_BITS - 1));
}

/* Merging adds everything up, and an empty side changes nothing. */
static void
test_merge(void)
{
	static struct sl_hist a, b, empty, both;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&empty, 0, sizeof(empty));
	memset(&both, 0, sizeof(both));
	for (uint64_t x = 1; x < 5000; x += 7) {
		sl_hist_record(x % 3 ? &a : &b, x * 1000);
		sl_hist_record(&both, x * 1000);
	}
	sl_hist_merge(&a, &empty);
	CU_ASSERT_EQUAL(a.count + b.count, both.count);
	sl_hist_merge(&empty, &b); /* into an empty one: min comes from b */
	CU_ASSERT_EQUAL(memcmp(&empty, &b, sizeof(b)), 0);
	sl_hist_merge(&a, &b);
	CU_ASSERT_EQUAL(memcmp(&a, &both, sizeof(both)), 0);
	CU_ASSERT_EQUAL(a.min, 1000);
	CU_ASSERT_EQUAL(a.sum, both.sum);
}

static CU_TestInfo cases[] = {
	{ "percentiles against a sorted array", test_hist_reference },
	{ "edges: empty, one value, exact below 256, the last bucket", test_hist_edges },
	{ "precision at both sides of every power of two", test_precision_at_powers_of_two },
	{ "merge", test_merge },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("hist", cases)
