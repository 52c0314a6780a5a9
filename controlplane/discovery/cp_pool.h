/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: the connection pool's policy — which sessions a node keeps, by node
 * identity and direction, under its inbound and outbound caps.
 *
 * The pool does not dial or close anything: it is told about every session that opens
 * (cp_pool_opened) and closes (cp_pool_closed), answers whether an inbound session may stay
 * (cp_pool_admit: accept, refuse, or accept and evict a named peer), how many outbound
 * sessions are still wanted (cp_pool_outbound_wanted), whether a candidate's network group
 * already has an outbound peer (cp_pool_group_taken, for outbound diversity). The control
 * thread acts on the answers (and asks the address book, cp_book_new_bias, how much to favour
 * new addresses over tried ones).
 *
 * Rules:
 * - Outbound sessions count against max_outbound (the target), inbound ones against
 *   max_inbound. Unconditional peers count against neither and are never evicted; persistent
 *   peers count but are never evicted (they are redialled whatever the pool says).
 * - Inbound policy: open, or an allow-list of node ids (unconditional peers always pass).
 * - A full inbound side takes a newcomer only by evicting the worst inbound peer, and only if
 *   the newcomer is better: the victim is taken from the network group with the most
 *   evictable inbound peers, the youngest there (a long-lived peer has proved itself, and an
 *   attacker's fresh connections go first); a persistent newcomer (a configured peer) always
 *   takes its place, any other only if it makes the pool more diverse, i.e. its group holds
 *   fewer inbound peers than the victim's group minus one. Otherwise the newcomer is refused
 *   (CP_POOL_REFUSE_FULL), as is an outbound session beyond max_outbound.
 * - A node has one entry: a second session with a known node replaces nothing here (the
 *   session logic resolves duplicates by node id before the pool hears of the survivor).
 *
 * Plain C, no allocation after cp_pool_create(), injected time. Threading: one thread (the
 * control thread) owns a pool.
 */
#ifndef CP_POOL_H
#define CP_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_limits.h"

#define CP_POOL_F_OUTBOUND	0x01 /* we dialled it */
#define CP_POOL_F_PERSISTENT	0x02 /* always redialled; counts, never evicted */
#define CP_POOL_F_UNCONDITIONAL 0x04 /* exempt from the caps and the inbound policy */

#define CP_POOL_MAX_PEERS 4096 /* max_inbound + max_outbound + unconditional peers, at most */

struct cp_pool_config {
	uint32_t max_inbound;  /* inbound sessions kept (unconditional ones not counted) */
	uint32_t max_outbound; /* outbound sessions wanted and kept (idem) */
	uint32_t max_unconditional;
	uint32_t max_persistent; /* room for persistent peers beyond the caps */
	bool inbound_open;	 /* false: only allow[] (and unconditional peers) may connect in */
	uint32_t n_allow;
	const uint8_t (*allow)[SL_KEY_LEN]; /* by reference: must outlive the pool */
};

/* Defaults: 32 inbound, 8 outbound, 16 unconditional, 16 persistent, inbound open. The
 * pool holds at most the sum of the four; a session that would need more is refused. */
void cp_pool_config_defaults(struct cp_pool_config *cfg);

enum cp_pool_verdict {
	CP_POOL_ACCEPT,
	CP_POOL_EVICT,	       /* accept, and close the peer named in *victim first */
	CP_POOL_REFUSE_POLICY, /* inbound and not on the allow-list */
	CP_POOL_REFUSE_FULL,   /* the side is full and the newcomer would not improve it */
};

const char *cp_pool_verdict_name(enum cp_pool_verdict v);

#define CP_POOL_COUNTERS(X)                                                           \
	X(accepted_inbound, "inbound sessions the pool took")                         \
	X(accepted_outbound, "outbound sessions the pool took")                       \
	X(refused_policy, "inbound sessions refused: not on the allow-list")          \
	X(refused_full, "sessions refused: their side was full")                      \
	X(evicted, "inbound peers evicted for a newcomer from a rarer network group") \
	X(closed, "sessions the pool heard closing")

struct cp_pool_stats {
#define CP_POOL_FIELD(name, doc) uint64_t name;
	CP_POOL_COUNTERS(CP_POOL_FIELD)
#undef CP_POOL_FIELD
	uint32_t inbound, outbound, unconditional; /* sessions held now */
};

struct cp_pool;

/* NULL with errno EINVAL (caps summing over CP_POOL_MAX_PEERS, an allow-list without its
 * array) or ENOMEM. */
struct cp_pool *cp_pool_create(const struct cp_pool_config *cfg);
void cp_pool_destroy(struct cp_pool *p);

/* May a session with id (flags: CP_POOL_F_*; group: cp_addr_group of its address) stay?
 * For CP_POOL_EVICT, *victim is the id to close (its cp_pool_closed() follows when it has).
 * Counts refusals and evictions, records nothing else: cp_pool_opened() records the session
 * once it is kept. */
enum cp_pool_verdict cp_pool_admit(struct cp_pool *p, const uint8_t id[SL_KEY_LEN], uint32_t group,
				   unsigned int flags, uint8_t victim[SL_KEY_LEN]);

/* A session with id is kept: 0; -EEXIST it already has an entry (flags and group updated);
 * -ENOSPC no room (call cp_pool_admit first). */
int cp_pool_opened(struct cp_pool *p, const uint8_t id[SL_KEY_LEN], uint32_t group,
		   unsigned int flags, uint64_t now_s);

/* The session with id is gone: 0, or -ENOENT. */
int cp_pool_closed(struct cp_pool *p, const uint8_t id[SL_KEY_LEN]);

bool cp_pool_has(const struct cp_pool *p, const uint8_t id[SL_KEY_LEN]);

/* Outbound sessions still wanted to reach max_outbound. */
uint32_t cp_pool_outbound_wanted(const struct cp_pool *p);

/* Has an outbound (counted) peer from this network group? */
bool cp_pool_group_taken(const struct cp_pool *p, uint32_t group);

const struct cp_pool_stats *cp_pool_stats(const struct cp_pool *p);

#endif /* CP_POOL_H */
