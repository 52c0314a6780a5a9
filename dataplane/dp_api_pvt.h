/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the lcores' side of the application interface, internals shared by its two files
 * (see dp_api.h). Owner lcore only.
 *
 *   dp_api.c     lanes (following attachments), credit, NODE_UP, what applications post,
 *                the polling round
 *   dp_api_rx.c  towards the application: notifications and their backlog, messages into
 *                the rx arena, messages held while it is full, and waking the sessions that
 *                hold them when the application gives room back
 */
#ifndef DP_API_PVT_H
#define DP_API_PVT_H

#include "dp_lcore_pvt.h"

#include <rte_log.h>

extern int dp_api_logtype;
#define API_LOG(level, ...) rte_log(RTE_LOG_##level, dp_api_logtype, "api: " __VA_ARGS__)

/* One application on this lcore. */
struct dp_api_lane {
	unsigned int idx;
	uint32_t gen;
	struct sl_ring tx, rx;
	uint8_t *tx_arena, *rx_arena;
	uint64_t tx_size, rx_size;
	struct sl_api_shared_word *released, *sleeping;
	uint64_t rx_pos;      /* where the next message goes */
	uint64_t rx_released; /* the application's rx_released as last read */
	uint32_t announce;    /* sessions below this slot were told (NODE_UP) */
	bool announced;	      /* every session was */
	bool wake;	      /* something was posted that it was not woken for yet */
	bool room_wake;	      /* the tx ring was drained: wake it if it waits for room */
	uint64_t wake_since;  /* the end of the first round that left wake set (0: none) */
	bool broken;	      /* a protocol error: nothing more is read or written */
	uint32_t bl_head, bl_tail;
	/* sessions holding messages for it that found no room (their connection ids, each once:
	 * dp_api_sess.waiting), and the application's indices when the oldest of them did */
	uint32_t *waiters;
	uint32_t n_waiters, cap_waiters;
	uint32_t wait_tail;
	uint64_t wait_released;
	struct sl_api_desc backlog[DP_API_BACKLOG];
};

/* dp_api.c */
/* Application ln broke the protocol: its lane stops (the control thread detaches it). */
void dp_api_broken(struct dp_lcore *lc, struct dp_api_lane *ln, const char *what);
/* s's state for applications, allocated on first use (NULL: no memory). */
struct dp_api_sess *dp_api_sess_get(struct dp_session *s);

/* dp_api_rx.c */
/* Post a notification, in order behind whatever waits. False if the application is so far
 * behind that even the backlog is full (its lane then stops: it cannot be told the truth). */
bool dp_api_notify(struct dp_lcore *lc, struct dp_api_lane *ln, const struct sl_api_desc *d);
/* Move the backlog into the rx ring while it has room. */
void dp_api_backlog_flush(struct dp_lcore *lc, struct dp_api_lane *ln);
/* Deliver what s holds, channel by channel, as far as the rx arenas allow. */
void dp_api_deliver_held(struct dp_lcore *lc, struct dp_session *s);
/* Wake the sessions waiting for room in ln if the application gave some back (it released
 * rx arena or took rx ring slots since they found none). Returns how many. */
unsigned int dp_api_lane_room(struct dp_lcore *lc, struct dp_api_lane *ln);

#endif /* DP_API_PVT_H */
