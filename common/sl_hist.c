/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: log-linear histogram (see sl_hist.h).
 */
#include <assert.h>

#include <rte_common.h>

#include "sl_hist.h"

#define HIST_SUB    (1u << SL_HIST_SUB_BITS) /* buckets per power of two */
#define HIST_LINEAR (2u * HIST_SUB)	     /* values below this are exact */

static_assert(SL_HIST_BUCKETS == HIST_LINEAR + (SL_HIST_MAX_BITS - SL_HIST_SUB_BITS - 1) * HIST_SUB,
	      "one run of HIST_SUB buckets per power of two from HIST_LINEAR to 2^MAX_BITS");

static unsigned int
hist_index(uint64_t v)
{
	unsigned int k, s;

	if (v < HIST_LINEAR)
		return (unsigned int)v;
	k = 63u - (unsigned int)__builtin_clzll(v); /* >= SUB_BITS + 1 */
	if (k >= SL_HIST_MAX_BITS)
		return SL_HIST_BUCKETS - 1;
	s = k - SL_HIST_SUB_BITS;
	return HIST_LINEAR + (k - SL_HIST_SUB_BITS - 1) * HIST_SUB + (unsigned int)(v >> s) -
	       HIST_SUB;
}

/* The middle of bucket i's value range. */
static uint64_t
hist_value(unsigned int i)
{
	unsigned int j, s;
	uint64_t lo;

	if (i < HIST_LINEAR)
		return i;
	j = i - HIST_LINEAR;
	s = j / HIST_SUB + 1;
	lo = (uint64_t)(HIST_SUB + j % HIST_SUB) << s;
	return lo + ((1ull << s) - 1) / 2;
}

void
sl_hist_record(struct sl_hist *h, uint64_t v)
{
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
	h->bucket[hist_index(v)]++;
}

void
sl_hist_merge(struct sl_hist *dst, const struct sl_hist *src)
{
	if (src->count == 0)
		return;
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	for (unsigned int i = 0; i < SL_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
}

uint64_t
sl_hist_percentile(const struct sl_hist *h, double pct)
{
	double r = pct / 100.0 * (double)h->count;
	uint64_t rank = (uint64_t)r, seen = 0, v = h->max;

	if (h->count == 0)
		return 0;
	if ((double)rank < r - 1e-9)
		rank++; /* nearest rank: ceil, forgiving the rounding of pct / 100 */
	if (rank <= 1)
		return h->min;
	if (rank >= h->count)
		return h->max;
	for (unsigned int i = 0; i < SL_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			v = hist_value(i);
			break;
		}
	}
	v = RTE_MAX(v, h->min);
	return RTE_MIN(v, h->max);
}
