/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: anti-replay sliding window for data packet numbers (RFC 6479 style).
 *
 * The window remembers which of the last SL_REPLAY_WINDOW packet numbers behind the highest
 * accepted one have been seen, in a ring of SL_REPLAY_WORDS 64-bit words. The ring has one
 * word more than the window needs, so advancing only ever clears whole words and never a
 * bit that is still inside the window.
 *
 * Acceptance rule, for a packet number pn and a hard limit:
 *   - pn >= limit                        rejected (the key is worn out)
 *   - pn above the highest accepted      accepted; the window slides forward
 *   - highest - pn > SL_REPLAY_WINDOW    rejected (too old to tell)
 *   - otherwise                          accepted once, rejected as a replay afterwards
 * Packet numbers start at 0.
 *
 * Threading: a window belongs to one keypair and is touched by its owner lcore only. No
 * locks, no atomics, no DPDK runtime.
 */
#ifndef DP_REPLAY_H
#define DP_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "sl_limits.h"

struct dp_replay {
	uint64_t top; /* highest packet number accepted (0 before the first packet) */
	uint64_t bitmap[SL_REPLAY_WORDS]; /* bit (pn % 64) of word (pn / 64) % SL_REPLAY_WORDS */
};

/* Empty window: every packet number below the limit is acceptable once. */
void dp_replay_init(struct dp_replay *r);

/* Would pn be accepted now? Changes nothing; use it before spending time on decryption. */
bool dp_replay_check(const struct dp_replay *r, uint64_t pn,
		     uint64_t limit) __rte_warn_unused_result;

/* Call only after the packet authenticated: accept pn and mark it seen (true), or reject it
 * (false) exactly when dp_replay_check() would. Work is bounded by SL_REPLAY_WORDS however
 * far ahead pn is. */
bool dp_replay_update(struct dp_replay *r, uint64_t pn, uint64_t limit) __rte_warn_unused_result;

#endif /* DP_REPLAY_H */
