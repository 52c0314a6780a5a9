/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the dataplane's side of the application interface (the contract: api/sl_api.h).
 *
 * The control thread (controlplane/cp_api.c) attaches applications: it makes each one's shared
 * memory, fills a struct dp_api_app and publishes it LIVE; it keeps the channel registry
 * (owner[]). Each lcore then serves every live application on its own lane:
 *   - takes the SEND and WANT descriptors the application posts for the sessions the lcore
 *     owns, checks each one (copied out first) and gives the message to the engine;
 *   - delivers the messages of channels the application owns into its rx arena (one copy, out
 *     of the engine's reassembly buffer) with a MSG descriptor, and holds them in the session,
 *     per channel, while the arena is full (the engine's window then stops the peer: nothing is
 *     lost), until the application gives room back (its lane then wakes the session);
 *   - tells it about its sessions in order with their messages: NODE_UP when a session opens
 *     (or when the application attaches, for sessions already open), NODE_DOWN when it ends,
 *     CREDIT when a channel may take more, EXPIRED and DATAGRAM_LOST from the engine;
 *   - wakes it (its eventfd) when it said it sleeps and something arrived.
 * To detach, the control thread marks the application GONE; each lcore then drops what it
 * holds for it, and after an RCU grace period (every lcore passed a quiescent point after
 * seeing GONE) the control thread unmaps the memory and frees the slot.
 *
 * Everything an application wrote is checked; every refusal is counted against it in its
 * lane's counters (DP_API_COUNTERS), which the control thread reads (telemetry, sluicectl).
 *
 * Threading: struct dp_api is written by the control thread (states, registry) and read by
 * the lcores; struct dp_api_lane and struct dp_api_sess belong to one lcore. Functions named
 * dp_api_* run on the owner lcore only, unless they say otherwise.
 */
#ifndef DP_API_H
#define DP_API_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "sl_api.h"
#include "sl_limits.h"

struct dp_lcore;
struct dp_session;
struct dp_msg;
struct dp_conn_event;
struct dp_api_lcore_stats;

#define DP_API_MAX_APPS	     64
#define DP_API_OWNER_NONE    0xff /* owner[]: nobody serves the channel */
#define DP_API_OWNER_SERVICE 0xfe /* owner[]: a built-in service does */
#define DP_API_RING_SLOTS    1024 /* descriptors per ring */
#define DP_API_BACKLOG	     512  /* notifications a lane keeps while the rx ring is full */
#define DP_API_BURST	     32

static_assert(DP_API_MAX_APPS < DP_API_OWNER_SERVICE, "owner ids");
static_assert(SL_API_MAX_CHAN == SL_MAX_CHANNELS, "one channel space");

enum dp_api_state {
	DP_API_FREE = 0, /* nobody */
	DP_API_LIVE,	 /* served by every lcore */
	DP_API_GONE,	 /* detaching: the lcores let go of it */
};

/* One attached application as the lcores see it (written by the control thread while FREE,
 * then read-only until GONE). */
struct dp_api_app {
	_Atomic uint32_t state; /* enum dp_api_state */
	uint32_t gen;		/* new for every attachment in this slot */
	uint8_t *shm;		/* the mapping */
	uint64_t shm_size;
	struct sl_api_shm_hdr layout; /* the appliance's own copy, never read back from shm */
	int eventfd;
} __rte_cache_aligned;

/* The application interface, shared by the lcores and the control thread (in dp_runtime). */
struct dp_api {
	unsigned int max_apps; /* 0: no application interface */
	uint32_t max_message;
	struct dp_api_app app[DP_API_MAX_APPS];
	_Atomic uint64_t used; /* a bit per slot that is not FREE: the lcores look at those */
	_Atomic uint8_t owner[SL_MAX_CHANNELS]; /* app index, DP_API_OWNER_NONE or _SERVICE */
};

/* What a lane counts for its application (the lcore writes, the control thread reads). */
#define DP_API_COUNTERS(X)                                                                  \
	X(msgs_sent, "messages the application sent, given to the engine")                  \
	X(bytes_sent, "bytes of those")                                                     \
	X(msgs_delivered, "messages delivered into its rx arena")                           \
	X(bytes_delivered, "bytes of those")                                                \
	X(notifications, "node up / down, credit, expiry and loss descriptors")             \
	X(send_failed, "messages for a session that had ended (told: SEND_FAILED)")         \
	X(held, "times a message waited in its session: the rx arena was full")             \
	X(wakeups, "eventfd writes to wake it")                                             \
	X(bad_descriptor, "descriptors of an unknown type or with bytes outside the arena") \
	X(bad_session, "descriptors naming no session this lcore could own")                \
	X(not_owner, "sends on a channel it does not serve")                                \
	X(over_credit, "sends beyond the credit it was granted")                            \
	X(protocol_errors, "impossible ring indices or rx_released: the lane stopped")

struct dp_api_counters {
#define DP_API_CNT_FIELD(name, what) uint64_t name;
	DP_API_COUNTERS(DP_API_CNT_FIELD)
#undef DP_API_CNT_FIELD
};

/* --- the lcore's side --------------------------------------------------------------------- */

/* Once per polling round: follow attachments and detachments, take what the applications
 * posted, flush notifications, wake sleepers. Returns work done. */
unsigned int dp_api_poll(struct dp_lcore *lc);

/* A session opened (tell every application) / is about to be freed (tell them, after its
 * last message; held messages are dropped and counted). node: the peer's static key. */
void dp_api_session_open(struct dp_lcore *lc, struct dp_session *s);
void dp_api_session_close(struct dp_lcore *lc, struct dp_session *s, uint16_t reason, bool by_peer,
			  uint32_t undelivered);

/* A message the engine delivered: true if an application serves its channel (it is then
 * delivered or held; the caller must not release it), false if not (the caller goes on as
 * before: built-in services, or dropped and counted). */
bool dp_api_deliver(struct dp_lcore *lc, struct dp_session *s, struct dp_msg *m);

/* An engine event of the session (EXPIRED, DATAGRAM_LOST) for an application's channel. */
void dp_api_engine_event(struct dp_lcore *lc, struct dp_session *s, const struct dp_conn_event *ev);

/* The session's turn: deliver what it holds, grant credit where the engine has room. */
void dp_api_session_run(struct dp_lcore *lc, struct dp_session *s);

/* Drop what session s holds for application i, which left. */
void dp_api_sess_forget(struct dp_lcore *lc, struct dp_session *s, unsigned int i);

/* At the end of a polling round that did work (0: none): post what waited, wake the
 * applications that sleep — at once when the round did nothing, else once a batch is there. */
void dp_api_round_end(struct dp_lcore *lc, unsigned int work);

/* The lcore stops (after its sessions were freed): let go of every application. */
void dp_api_lcore_fini(struct dp_lcore *lc);

/* --- for the control thread ------------------------------------------------------------- */
struct dp_runtime;
/* Did lcore l stop application i's lane (a protocol error)? */
bool dp_lcore_api_broken(const struct dp_runtime *rt, unsigned int l, unsigned int i);
/* Application i's counters, summed over the lcores. */
void dp_lcore_api_counters(const struct dp_runtime *rt, unsigned int i,
			   struct dp_api_counters *sum);
/* The lcores' own counts (dp_api_lcore_stats), summed. */
void dp_lcore_api_stats(const struct dp_runtime *rt, struct dp_api_lcore_stats *sum);
/* Zero them, for a new attachment in slot i (no lcore has a lane for it then). */
void dp_lcore_api_reset(struct dp_runtime *rt, unsigned int i);

/* Dropped messages the lcore counts (not any one application's fault). */
struct dp_api_lcore_stats {
	uint64_t no_owner[SL_MAX_CHANNELS]; /* per channel: nobody served it */
	uint64_t dropped_app_gone;	    /* held for an application that left */
	uint64_t dropped_closed;	    /* held when their session ended (arena full) */
	uint64_t no_memory;		    /* could not be held */
};

/* Messages of one channel the engine delivered, waiting for their application's rx arena, in
 * order. Each channel waits apart: an application that does not read holds up its own channels
 * only, never another application's. */
struct dp_api_held {
	struct dp_msg **m;
	uint32_t n, cap, first;
};

/* A session's state for applications (owner lcore; allocated when first needed). */
struct dp_api_sess {
	uint64_t granted[SL_MAX_CHANNELS];  /* credit: absolute bytes the owner may have sent */
	uint64_t accepted[SL_MAX_CHANNELS]; /* bytes it did send */
	uint32_t owner_gen[SL_MAX_CHANNELS];
	uint8_t owner[SL_MAX_CHANNELS]; /* the application (index + 1) the credit is for */
	uint16_t want;			/* channels whose owner waits for credit */
	uint16_t holding;		/* channels with held messages */
	uint64_t waiting; /* applications (a bit each) whose lane will wake it when there is room */
	struct dp_api_held held[SL_MAX_CHANNELS];
};

#endif /* DP_API_H */
