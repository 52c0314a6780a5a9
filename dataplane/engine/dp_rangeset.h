/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: sets of byte ranges [lo, hi) within one message, kept sorted and merged.
 *
 * Two ranges live inline (the common case: data arrives and is acknowledged in order); more
 * go to the heap. Used for what the peer acknowledged or lost of an outgoing message and what
 * has arrived of an incoming one. Plain C, one thread.
 */
#ifndef DP_RANGESET_H
#define DP_RANGESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

struct dp_range {
	uint32_t lo, hi; /* [lo, hi) */
};

#define DP_RANGESET_INLINE 2

struct dp_rangeset {
	uint32_t n, cap;
	struct dp_range *v; /* inl, or heap when cap > DP_RANGESET_INLINE */
	struct dp_range inl[DP_RANGESET_INLINE];
};

static inline void
dp_rs_init(struct dp_rangeset *rs)
{
	rs->n = 0;
	rs->cap = DP_RANGESET_INLINE;
	rs->v = rs->inl;
}

void dp_rs_free_heap(struct dp_rangeset *rs);

static inline void
dp_rs_fini(struct dp_rangeset *rs)
{
	if (rs->v != rs->inl)
		dp_rs_free_heap(rs);
	dp_rs_init(rs);
}

int dp_rs_add_slow(struct dp_rangeset *rs, uint32_t lo, uint32_t hi) __rte_warn_unused_result;
bool dp_rs_covers_slow(const struct dp_rangeset *rs, uint32_t lo, uint32_t hi);

/* Add [lo, hi) (merging). 0, or -ENOMEM with the set unchanged. The common cases, a first
 * range or one that touches the only range (data arriving or acknowledged in order), are
 * handled inline. */
static inline __rte_warn_unused_result int
dp_rs_add(struct dp_rangeset *rs, uint32_t lo, uint32_t hi)
{
	if (rs->n == 0 && lo < hi) {
		rs->v[0].lo = lo;
		rs->v[0].hi = hi;
		rs->n = 1;
		return 0;
	}
	if (rs->n == 1 && lo <= rs->v[0].hi && hi >= rs->v[0].lo && lo < hi) {
		rs->v[0].lo = RTE_MIN(lo, rs->v[0].lo);
		rs->v[0].hi = RTE_MAX(hi, rs->v[0].hi);
		return 0;
	}
	return dp_rs_add_slow(rs, lo, hi);
}

/* Remove [lo, hi). 0, or -ENOMEM (only when a range has to be split and cannot grow). */
int dp_rs_remove(struct dp_rangeset *rs, uint32_t lo, uint32_t hi) __rte_warn_unused_result;

/* Is all of [lo, hi) in the set? */
static inline bool
dp_rs_covers(const struct dp_rangeset *rs, uint32_t lo, uint32_t hi)
{
	if (rs->n == 1 && lo < hi)
		return rs->v[0].lo <= lo && rs->v[0].hi >= hi;
	return dp_rs_covers_slow(rs, lo, hi);
}

/* The first part of [lo, hi) not in the set, in *gap; false if [lo, hi) is covered. */
bool dp_rs_first_gap(const struct dp_rangeset *rs, uint32_t lo, uint32_t hi, struct dp_range *gap);

static inline bool
dp_rs_empty(const struct dp_rangeset *rs)
{
	return rs->n == 0;
}

/* Bytes on the heap (for memory accounting). */
static inline size_t
dp_rs_heap(const struct dp_rangeset *rs)
{
	return rs->cap > DP_RANGESET_INLINE ? rs->cap * sizeof(struct dp_range) : 0;
}

#endif /* DP_RANGESET_H */
