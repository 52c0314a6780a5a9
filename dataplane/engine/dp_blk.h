/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: a per-thread cache of message blocks for the reliable engine.
 *
 * Every message an application sends or receives lives in one heap block (header and bytes).
 * Blocks come in two cached size classes, each a small per-thread stack of free blocks: small
 * messages (header and bytes up to DP_BLK_SMALL_SIZE) and those of a full packet (more than
 * DP_BLK_MID, up to DP_BLK_SIZE; too large for malloc's own per-thread cache). A connection
 * belongs to one thread, so the caches need no lock, and a busy lcore recycles the same few
 * blocks. Other sizes go straight to malloc. The caches hold at most DP_BLK_CACHE full blocks
 * (1 MiB) and DP_BLK_SMALL_CACHE small ones (2 MiB) per thread: 8,192 small blocks, as many
 * 64-byte messages as a channel's unsent limit (256 KiB) holds twice — an application that
 * posts its credit in one batch, then has it acknowledged in one, frees and allocates that
 * many at once (with 1,024, malloc and free took a fifth of the sending core at 64 bytes).
 * Cached blocks start on a cache line (DP_BLK_ALIGN); others have malloc's alignment.
 */
#ifndef DP_BLK_H
#define DP_BLK_H

#include <stdbool.h>
#include <stddef.h>

#define DP_BLK_SIZE	   2048 /* a 1440-byte payload with its header */
#define DP_BLK_CACHE	   512
#define DP_BLK_SMALL_SIZE  256 /* a message of up to ~100 bytes with its header */
#define DP_BLK_SMALL_CACHE 8192
#define DP_BLK_ALIGN	   64

/* The calling thread's stacks of free blocks (internal to dp_blk; exposed for the inline fast
 * paths below). */
extern __thread void *dp_blk_cache[DP_BLK_CACHE];
extern __thread unsigned int dp_blk_cached;
extern __thread void *dp_blk_small_cache[DP_BLK_SMALL_CACHE];
extern __thread unsigned int dp_blk_small_cached;

/* Sizes above DP_BLK_SMALL_SIZE up to this are malloc's own fast case and not cached here. */
#define DP_BLK_MID 1024

static inline bool
dp_blk_cacheable(size_t size)
{
	return size > DP_BLK_MID && size <= DP_BLK_SIZE;
}

static inline bool
dp_blk_small(size_t size)
{
	return size <= DP_BLK_SMALL_SIZE;
}

void *dp_blk_alloc_slow(size_t size);
void dp_blk_free_slow(void *p, size_t size);

/* A block for size bytes; size must be given again to dp_blk_free(). */
static inline void *
dp_blk_alloc(size_t size)
{
	if (dp_blk_small(size) && dp_blk_small_cached > 0)
		return dp_blk_small_cache[--dp_blk_small_cached];
	if (dp_blk_cacheable(size) && dp_blk_cached > 0)
		return dp_blk_cache[--dp_blk_cached];
	return dp_blk_alloc_slow(size);
}

static inline void
dp_blk_free(void *p, size_t size)
{
	if (p != NULL && dp_blk_small(size) && dp_blk_small_cached < DP_BLK_SMALL_CACHE)
		dp_blk_small_cache[dp_blk_small_cached++] = p;
	else if (p != NULL && dp_blk_cacheable(size) && dp_blk_cached < DP_BLK_CACHE)
		dp_blk_cache[dp_blk_cached++] = p;
	else
		dp_blk_free_slow(p, size);
}
/* Return the calling thread's cached blocks to malloc (thread exit, tests). */
void dp_blk_drain(void);

#endif /* DP_BLK_H */
