/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the built-in services — echo, sink and source — run on a session's reliable engine.
 *
 *   echo    returns every message received on its channel, on the same channel, with the
 *           SL_SVC_ECHOED flag set (messages shorter than the header are returned unchanged).
 *   sink    verifies every message on its channel (magic, version, length, checksum, every
 *           payload byte, sequence) and counts messages, bytes, lost, duplicated and corrupt.
 *   source  sends `count` messages (0: unbounded) of a fixed or uniformly random size at `rate`
 *           messages/s (0: as fast as the engine takes them) on its channel to its peer; with
 *           expect_echo it verifies the returns and records their round trips.
 * The message format is in sl_wire.h ("service messages"), built and checked by dp_svc_msg.h;
 * the counters and totals are in dp_svc_stats.h.
 *
 * One struct dp_svc per session, embedded in it. Plain C, no DPDK runtime; the caller passes
 * the time (now_ns, the clock the engine gets). The owner lcore's loop, per session:
 *
 *   dp_svc_init(&s->svc, cfg, peer_index)                        when the session opens
 *   after dp_conn_input():
 *       while ((m = dp_conn_recv(conn)) != NULL)
 *               if (!dp_svc_on_message(&s->svc, conn, m, now))
 *                       dp_conn_msg_release(conn, m);
 *   while (dp_conn_poll_event(conn, &ev)) dp_svc_on_event(&s->svc, conn, &ev, now);
 *   if (dp_svc_next_wakeup(&s->svc) <= now) dp_svc_poll(&s->svc, conn, now);
 *   then dp_conn_output() as usual (the services only queue messages)
 *   when the session ends:
 *       dp_conn_undelivered(conn, &u); dp_svc_on_undelivered(&s->svc, &u);
 *       dp_svc_stats_add(&s->svc, i, &lcore_retired[i]) for each service i, then
 *       dp_svc_fini(&s->svc, conn) before dp_conn_destroy(conn)
 *
 * Which service takes a received message on channel c (the config is scanned in order):
 *   - a message with the ECHOED flag goes to this session's source on c if it expects echoes
 *     (an echo service never returns an echoed message: no ping-pong);
 *   - any other message goes to the first echo or sink on c;
 *   - a headerless message (shorter than SL_SVC_HDR_LEN) goes to the echo or sink on c, or,
 *     when there is none, to the source on c that expects echoes. (A channel that both echoes
 *     and receives echoes should therefore not carry headerless messages.)
 * Anything else is counted as unhandled and given back to the caller to release.
 *
 * Echo backpressure: when dp_conn_send() says -ENOBUFS the echo service keeps the delivered
 * message itself (dp_svc_on_message() returns true; it is released once its copy is queued)
 * and retries on DP_EV_WRITABLE. Holding delivered messages keeps the engine's receive credit,
 * so the sender slows down instead of anything being dropped; only beyond
 * DP_SVC_ECHO_MAX_HELD held messages is one dropped, and counted.
 *
 * Sizes: a source sends sizes in [min_size, max_size] (min_size 0 counts as 1; max_size is
 * clamped to the engine's max_message). Messages of SL_SVC_HDR_LEN (32) bytes or more carry a
 * header; shorter ones are headerless payload whose sequence number is implied, so the sink
 * still checks every byte, but a missing or repeated headerless message shows up as corrupt
 * rather than lost or duplicated, and it yields no round-trip sample.
 *
 * Sequence accounting assumes a reliable channel (in order, exactly once). On a datagram
 * channel a reordered message counts as duplicated and the gap before it as lost.
 *
 * Memory: struct dp_svc is small (see DP_SVC_IDLE_BYTES) and allocates nothing until a service
 * has work: a source at its first poll, an echo or sink at its first message; a histogram
 * (~28 KiB) only for a source that expects echoes.
 *
 * Threading: a dp_svc belongs to its session's owner lcore, like the connection; nothing here
 * is thread-safe. The configuration must outlive it and not change under it.
 */
#ifndef DP_SVC_H
#define DP_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "dp_conn.h"
#include "dp_svc_stats.h"
#include "sl_wire.h"

#define DP_SVC_ECHO_MAX_HELD 16384	   /* messages an echo service holds while blocked */
#define DP_SVC_POLL_BATCH    64		   /* messages a source queues per dp_svc_poll() */
#define DP_SVC_BURST_NS	     10000000ull   /* a rate-limited source may catch up 10 ms */
#define DP_SVC_MAX_RATE	     1000000000ull /* faster rates are treated as this */
#define DP_SVC_IDLE_BYTES    128	   /* upper bound of sizeof(struct dp_svc) */
#define DP_SVC_MAX	     16		   /* services an appliance runs */

enum dp_svc_type {
	DP_SVC_ECHO,   /* returns every message on its channel to its sender */
	DP_SVC_SINK,   /* counts and verifies messages (sequence, length, checksum) */
	DP_SVC_SOURCE, /* sends messages to a peer */
};

/* "echo", "sink", "source" (as the configuration names them); "?" for anything else. */
const char *dp_svc_type_name(enum dp_svc_type type);

struct dp_svc_def {
	enum dp_svc_type type;
	uint8_t channel;
	/* source only */
	uint8_t peer;        /* index of a configured peer */
	uint64_t count;      /* messages to send (0: until stopped) */
	uint32_t min_size, max_size; /* bytes; equal for a fixed size */
	uint64_t rate;       /* messages per second (0: as fast as the window allows) */
	bool expect_echo;    /* the peer echoes: verify the returns and measure round trips */
	uint32_t in_flight;  /* expect_echo: messages sent and not yet echoed, at most (0: any) */
};

/* The services of an appliance, and what they are checked against. */
struct dp_svc_config {
	unsigned int n;
	struct dp_svc_def svc[DP_SVC_MAX];
	/* from the engine's and the node's configuration */
	unsigned int n_channels; /* channels the engine has (dp_conn_config.n_channels) */
	uint32_t max_message;    /* the engine's largest message */
	unsigned int n_peers;    /* configured peers: a source's peer is an index below this */
};


/* --- per-session state ------------------------------------------------------------------ */
struct dp_svc_inst;

/* Embedded in every session. Fields are private: use the functions. */
struct dp_svc {
	const struct dp_svc_config *cfg;
	struct dp_svc_inst **inst;	/* per configured service; NULL until one has work */
	uint64_t unhandled;		/* messages no service took (or no memory for its state) */
	uint64_t wakeup;		/* cached dp_svc_next_wakeup() */
	uint16_t src_mask;		/* configured services that are sources towards this peer */
	uint16_t busy_mask;		/* instances dp_svc_poll() must visit */
	bool closed;			/* the connection closed: nothing more is sent */
	uint8_t plain[SL_MAX_CHANNELS]; /* echo/sink index + 1 taking plain messages */
	uint8_t echo_src[SL_MAX_CHANNELS]; /* source index + 1 taking echoed messages */
};

static_assert(sizeof(struct dp_svc) <= DP_SVC_IDLE_BYTES, "idle sessions stay small");
static_assert(DP_SVC_MAX <= 16, "service masks are 16 bits");

/* NULL if the services of cfg can run together, else why not (and *which, the index of the
 * offending service): a service on the control channel or on a channel the engine does not
 * have, two echo/sink services on one channel, two sources towards one peer on one channel, a
 * source to an unknown peer, a size range that is empty or above max_message. For the
 * configuration's validation. */
const char *dp_svc_conf_check(const struct dp_svc_config *cfg, unsigned int *which /* may be NULL */);

/* Bind the services of cfg to a session with configured peer peer_index (any value >=
 * cfg->n_peers, e.g. DP_PEER_NONE: not a configured peer, so no source runs; echo and sink
 * serve every session). Allocates nothing. 0, or -EINVAL when dp_svc_conf_check() fails. */
int dp_svc_init(struct dp_svc *svc, const struct dp_svc_config *cfg, unsigned int peer_index);

/* Release the messages an echo service holds back to conn (NULL if the connection is already
 * destroyed — then call this before dp_conn_destroy() instead, or the messages leak) and free
 * everything. Statistics are gone afterwards: add them up first. */
void dp_svc_fini(struct dp_svc *svc, struct dp_conn *conn);

/* A message dp_conn_recv() delivered. Returns true when a service kept it (it releases it
 * later), false when the caller must dp_conn_msg_release() it now. */
bool dp_svc_on_message(struct dp_svc *svc, struct dp_conn *conn, struct dp_msg *m, uint64_t now_ns);

/* An event from dp_conn_poll_event(): WRITABLE resumes blocked senders (at the next poll),
 * EXPIRED and DATAGRAM_LOST are counted by the channel's source (or echo), CLOSED stops
 * everything and releases held messages. */
void dp_svc_on_event(struct dp_svc *svc, struct dp_conn *conn, const struct dp_conn_event *ev,
		     uint64_t now_ns);

/* The session ends: what its engine left undone (dp_conn_undelivered). Each channel's
 * undelivered messages count at the service that sent on it — the source towards this peer,
 * else the echo; its delivered_unacked and discarded_acked at the one that received on it — the
 * echo or sink, else the source expecting echoes. With a source here and a sink on the peer,
 *     source msgs_sent = sink msgs_recv + source undelivered - sink delivered_unacked
 *                        + sink discarded_acked
 * (see dp_conn.h for when this is exact). Call it once, before dp_svc_stats_add(). */
void dp_svc_on_undelivered(struct dp_svc *svc, const struct dp_conn_undelivered *u);

/* Sources send what their rate allows (at most DP_SVC_POLL_BATCH messages each), echo
 * services retry what they hold. */
void dp_svc_poll(struct dp_svc *svc, struct dp_conn *conn, uint64_t now_ns);

/* When dp_svc_poll() has something to do: 0 at once, a time for a rate-limited source,
 * UINT64_MAX when only an event or a message can give it work. */
static inline uint64_t
dp_svc_next_wakeup(const struct dp_svc *svc)
{
	return svc->wakeup;
}

/* Add this session's state of configured service idx to *acc (nothing if it never ran). */
void dp_svc_stats_add(const struct dp_svc *svc, unsigned int idx, struct dp_svc_stats *acc);

/* Messages that no service on this session took. */
static inline uint64_t
dp_svc_unhandled(const struct dp_svc *svc)
{
	return svc->unhandled;
}

/* Bytes the session's service state holds (struct dp_svc included). */
size_t dp_svc_memory(const struct dp_svc *svc);

#endif /* DP_SVC_H */
