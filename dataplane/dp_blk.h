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

#include <stddef.h>

#define DP_BLK_SIZE  2048 /* a 1440-byte payload with its header */
#define DP_BLK_CACHE 512

void *dp_blk_alloc(size_t size);
void dp_blk_free(void *p, size_t size);
/* Return the calling thread's cached blocks to malloc (thread exit, tests). */
void dp_blk_drain(void);

#endif /* DP_BLK_H */
