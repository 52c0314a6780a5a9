/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: a per-thread cache of message blocks for the reliable engine.
 *
 * Every message an application sends or receives lives in one heap block (header and bytes).
 * Blocks of more than 1 KiB and up to DP_BLK_SIZE (a full packet's message; too large for
 * malloc's own per-thread cache) come from a small per-thread stack of free blocks: a connection
 * belongs to one thread, so the cache needs no lock, and a busy lcore recycles the same few blocks.
 * Other sizes go straight to malloc. The cache holds at most DP_BLK_CACHE blocks (256 KiB) per
 * thread.
 */
#ifndef DP_BLK_H
#define DP_BLK_H

#include <stdbool.h>
#include <stddef.h>

#define DP_BLK_SIZE  2048 /* a 1440-byte payload with its header */
#define DP_BLK_CACHE 512

/* The calling thread's stack of free blocks (internal to dp_blk; exposed for the inline fast
 * paths below). */
extern __thread void *dp_blk_cache[DP_BLK_CACHE];
extern __thread unsigned int dp_blk_cached;

/* Small blocks are malloc's own fast case (its per-thread cache); only the sizes between that
 * and DP_BLK_SIZE, a full packet's message, are recycled here. */
#define DP_BLK_SMALL 1024

static inline bool
dp_blk_cacheable(size_t size)
{
	return size > DP_BLK_SMALL && size <= DP_BLK_SIZE;
}

void *dp_blk_alloc_slow(size_t size);
void dp_blk_free_slow(void *p, size_t size);

static inline void *
dp_blk_alloc(size_t size)
{
	if (dp_blk_cacheable(size) && dp_blk_cached > 0)
		return dp_blk_cache[--dp_blk_cached];
	return dp_blk_alloc_slow(size);
}

static inline void
dp_blk_free(void *p, size_t size)
{
	if (p != NULL && dp_blk_cacheable(size) && dp_blk_cached < DP_BLK_CACHE)
		dp_blk_cache[dp_blk_cached++] = p;
	else
		dp_blk_free_slow(p, size);
}
/* Return the calling thread's cached blocks to malloc (thread exit, tests). */
void dp_blk_drain(void);

#endif /* DP_BLK_H */
