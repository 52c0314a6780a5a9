/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the newest handshake timestamp accepted from each identity.
 *
 * An initiation carries a timestamp that must be strictly greater than the last one accepted
 * from the same static key, so a recorded initiation can never be replayed to disturb a
 * session. Fixed capacity (an sl_lru table keyed by SipHash under a random seed, so remote
 * parties cannot aim at one chain); when the table is full the identity whose timestamp was
 * accepted least recently gives way. Only identities that completed the Diffie-Hellman part of
 * a handshake are recorded, so filling the table costs an attacker one X25519 key pair per
 * entry, and pushing out one identity's record costs `capacity` of them.
 *
 * Control thread only.
 */
#ifndef CP_HS_STAMPS_H
#define CP_HS_STAMPS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "sl_limits.h"

struct cp_hs_stamps;

/* Remembers up to capacity identities (1..SL_LRU_MAX_CAPACITY). NULL with errno EINVAL or
 * ENOMEM. */
struct cp_hs_stamps *cp_hs_stamps_create(uint32_t capacity);
void cp_hs_stamps_destroy(struct cp_hs_stamps *t);

/* Accept ts from pub if it is newer than anything accepted before, and remember it (pub
 * becomes the most recently updated identity). Returns true if fresh, false for a replay
 * (ts <= the stored one; nothing changes). now_ns is not needed any more (the table keeps the
 * order of updates itself); it stays for the handshake functions that pass it. */
bool cp_hs_stamps_fresh(struct cp_hs_stamps *t, const uint8_t pub[SL_KEY_LEN], uint64_t ts,
			uint64_t now_ns) __rte_warn_unused_result;

/* Entries held, and entries that gave way to others. */
uint32_t cp_hs_stamps_count(const struct cp_hs_stamps *t);
uint64_t cp_hs_stamps_evictions(const struct cp_hs_stamps *t);

#endif /* CP_HS_STAMPS_H */
