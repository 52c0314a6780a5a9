/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: a log-linear histogram of 64-bit values (latencies in nanoseconds, sizes...), with
 * percentiles.
 *
 * Values below 256 have a bucket each (exact); above, each power of two is cut into 128 buckets,
 * so a recorded value is known to within 1/128 (0.8 %) up to 2^34 (in nanoseconds: 17 s);
 * larger values land in the last bucket. count, min, max and sum are exact. A zeroed struct
 * sl_hist is empty; it is about 28 KiB and allocates nothing.
 *
 * Two histograms merge exactly (the merge of two is the histogram of both samples), so each
 * thread records into its own and a reader adds them up. Plain C, no DPDK runtime; nothing
 * here is thread-safe: a histogram has one writer, and is read once that writer is done or
 * through a copy (sluice's statistics snapshots).
 */
#ifndef SL_HIST_H
#define SL_HIST_H

#include <stdint.h>

#define SL_HIST_SUB_BITS 7  /* 2^7 buckets per power of two */
#define SL_HIST_MAX_BITS 34 /* values at or above 2^34 land in the last bucket */
#define SL_HIST_BUCKETS             \
	((2u << SL_HIST_SUB_BITS) + \
	 (SL_HIST_MAX_BITS - SL_HIST_SUB_BITS - 1) * (1u << SL_HIST_SUB_BITS))

struct sl_hist {
	uint64_t count, min, max, sum;
	uint64_t bucket[SL_HIST_BUCKETS];
};

/* Count one value. */
void sl_hist_record(struct sl_hist *h, uint64_t v);

/* dst += src. */
void sl_hist_merge(struct sl_hist *dst, const struct sl_hist *src);

/* The value at percentile pct (0..100, nearest rank: the smallest recorded value with at least
 * pct % of the samples at or below it), to within the bucket precision and never outside
 * [min, max]; 0 when empty. */
uint64_t sl_hist_percentile(const struct sl_hist *h, double pct);

#endif /* SL_HIST_H */
