/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: per-thread cache of message blocks (see dp_blk.h).
 */
#include <stdbool.h>
#include <stdlib.h>

#include "dp_blk.h"

static __thread void *cache[DP_BLK_CACHE];
static __thread unsigned int cached;

/* Small blocks are malloc's own fast case (its per-thread cache); only the sizes between that
 * and DP_BLK_SIZE, a full packet's message, are recycled here. */
#define SMALL 1024

static inline bool
cacheable(size_t size)
{
	return size > SMALL && size <= DP_BLK_SIZE;
}

void *
dp_blk_alloc(size_t size)
{
	if (!cacheable(size))
		return malloc(size);
	if (cached > 0)
		return cache[--cached];
	return malloc(DP_BLK_SIZE);
}

void
dp_blk_free(void *p, size_t size)
{
	if (p == NULL)
		return;
	if (cacheable(size) && cached < DP_BLK_CACHE)
		cache[cached++] = p;
	else
		free(p);
}

void
dp_blk_drain(void)
{
	while (cached > 0)
		free(cache[--cached]);
}
