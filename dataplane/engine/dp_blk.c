/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: per-thread cache of message blocks (see dp_blk.h).
 */
#include <stdlib.h>

#include "dp_blk.h"

__thread void *dp_blk_cache[DP_BLK_CACHE];
__thread unsigned int dp_blk_cached;
__thread void *dp_blk_small_cache[DP_BLK_SMALL_CACHE];
__thread unsigned int dp_blk_small_cached;

/* Cached blocks are allocated at their class's full size, so any block of a class fits any
 * request of that class, and on a cache line (DP_BLK_ALIGN). */
void *
dp_blk_alloc_slow(size_t size)
{
	if (dp_blk_small(size))
		return aligned_alloc(DP_BLK_ALIGN, DP_BLK_SMALL_SIZE);
	if (dp_blk_cacheable(size))
		return aligned_alloc(DP_BLK_ALIGN, DP_BLK_SIZE);
	return malloc(size);
}

void
dp_blk_free_slow(void *p, size_t size)
{
	(void)size;
	free(p);
}

void
dp_blk_drain(void)
{
	while (dp_blk_cached > 0)
		free(dp_blk_cache[--dp_blk_cached]);
	while (dp_blk_small_cached > 0)
		free(dp_blk_small_cache[--dp_blk_small_cached]);
}
