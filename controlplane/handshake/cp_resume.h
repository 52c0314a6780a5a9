/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the session-resumption cache — for each node id (a peer's static public key), the
 * resumption secret and ticket of the last session with it (cp_hs_session.resume), until they
 * expire or are used.
 *
 * Both ends of a session hold the same entry, so either may resume: the initiator takes the
 * entry of the node it dials (cp_resume_take, by node id; it is gone from the cache at once,
 * used or not), the responder finds it by the ticket the initiation names (cp_resume_find, no
 * trial decryption) and drops it once the initiation authenticated under it (cp_resume_forget).
 * A ticket therefore opens at most one session.
 *
 * Bounded: at most `capacity` node ids, one entry each (a new session replaces the node's
 * entry); when full, the entry stored longest ago gives way. Two sl_lru tables under keyed
 * hashes with random seeds (node id -> entry, ticket -> node id), so remote parties cannot aim
 * at one chain. Every entry is zeroed when it goes — taken, forgotten, replaced, evicted,
 * expired or destroyed — and a lookup hands out a copy the caller wipes
 * (cp_resume_ticket_wipe).
 *
 * Expiry: an entry is good until its not_after_ns (cp_hs_resumption): now + lifetime for the
 * secret of a full handshake, the expiry of the secret used for that of a resumed one (capped
 * at now + lifetime). Expired entries are wiped when a lookup meets them and by
 * cp_resume_expire(). Time is injected (the control thread's monotonic clock).
 *
 * Control thread only. Plain C, no DPDK runtime.
 */
#ifndef CP_RESUME_H
#define CP_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "cp_handshake.h"
#include "sl_limits.h"
#include "sl_wire.h"

struct cp_resume_config {
	uint32_t capacity;    /* node ids, 1..SL_LRU_MAX_CAPACITY; 0: SL_RESUME_CACHE_DEFAULT */
	uint64_t lifetime_ns; /* 0: SL_RESUME_LIFETIME_NS */
};

/* What a lookup hands out: a copy the caller wipes. */
struct cp_resume_ticket {
	uint8_t node_id[SL_KEY_LEN];
	uint8_t ticket[SL_RESUME_TICKET_LEN];
	uint8_t secret[SL_KEY_LEN];
	uint64_t not_after_ns;
};

struct cp_resume_stats {
	uint64_t stored;    /* cp_resume_put calls that stored an entry */
	uint64_t replaced;  /* entries replaced by a newer one of the same node */
	uint64_t evicted;   /* entries that gave way to another node's (cache full) */
	uint64_t expired;   /* entries wiped at their expiry */
	uint64_t taken;	    /* entries handed out by cp_resume_take */
	uint64_t found;	    /* tickets found by cp_resume_find */
	uint64_t missed;    /* lookups that found nothing usable (absent or expired) */
	uint64_t forgotten; /* entries dropped by cp_resume_forget */
};

struct cp_resume;

/* An empty cache. NULL with errno EINVAL (capacity out of range) or ENOMEM. */
struct cp_resume *cp_resume_create(const struct cp_resume_config *cfg);

/* Wipes every entry and frees everything. NULL is a no-op. */
void cp_resume_destroy(struct cp_resume *c);

/* Remember r (from a session with node_id that has just completed), replacing what the cache
 * held for node_id. 0, or -ETIME if r has already expired (nothing stored). */
int cp_resume_put(struct cp_resume *c, const uint8_t node_id[SL_KEY_LEN],
		  const struct cp_hs_resumption *r, uint64_t now_ns);

/* Initiator: take node_id's entry out of the cache into *out. 0; -ENOENT none; -ETIME it had
 * expired (and is wiped). *out is zero on failure. */
int cp_resume_take(struct cp_resume *c, const uint8_t node_id[SL_KEY_LEN], uint64_t now_ns,
		   struct cp_resume_ticket *out) __rte_warn_unused_result;

/* Responder: copy the entry a ticket names into *out; the entry stays until cp_resume_forget.
 * 0; -ENOENT unknown ticket; -ETIME expired (and wiped). *out is zero on failure. */
int cp_resume_find(struct cp_resume *c, const uint8_t ticket[SL_RESUME_TICKET_LEN], uint64_t now_ns,
		   struct cp_resume_ticket *out) __rte_warn_unused_result;

/* Drop node_id's entry, if any (its ticket has been used, or the node is no more). */
void cp_resume_forget(struct cp_resume *c, const uint8_t node_id[SL_KEY_LEN]);

/* Wipe every entry expired at now_ns; returns how many. O(entries): call it from a timer. */
uint32_t cp_resume_expire(struct cp_resume *c, uint64_t now_ns);

uint32_t cp_resume_count(const struct cp_resume *c);
const struct cp_resume_stats *cp_resume_stats(const struct cp_resume *c);

void cp_resume_ticket_wipe(struct cp_resume_ticket *t);

/* Tests only: hook(mem, len, arg) is called with the memory of every entry (of either table)
 * just after it was wiped and before the slot can be reused, so a test can check that nothing
 * of it is left. NULL removes the hook. */
void cp_resume_set_wipe_hook(struct cp_resume *c, void (*hook)(const void *, size_t, void *),
			     void *arg);

#endif /* CP_RESUME_H */
