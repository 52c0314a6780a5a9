/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the reliable engine — one instance per peer connection.
 *
 * Turns the plaintext of data packets (frames, sl_wire.h) into reliable, ordered, prioritised
 * messages and back: channels (reliable-ordered or unreliable-datagram, priority, queue limit,
 * time to live), fragmentation and reassembly, ACK ranges and RFC 9002 loss recovery,
 * congestion control (NewReno, CUBIC) with pacing, connection- and channel-level flow control,
 * backpressure, expiry, keepalive, liveness and close.
 *
 * Plain C: no DPDK runtime, no sockets, no clock. The caller passes the time (now_ns, any
 * monotonic nanosecond clock) and moves packets:
 *
 *   receive:  decrypt a data packet, then dp_conn_input(conn, pn, frames, len, now)
 *   send:     while ((n = dp_conn_output(conn, now, buf, cap, &pn)) > 0)
 *                 encrypt buf[0..n) as packet number pn and transmit it
 *   timers:   at dp_conn_next_wakeup(conn), call dp_conn_tick(conn, now), then output again
 *   app:      dp_conn_send() messages; dp_conn_recv() / dp_conn_msg_release() delivered ones;
 *             dp_conn_poll_event() for writable / expired / lost / unresponsive / closed
 *
 * The engine owns the packet number space: the number dp_conn_output() returns is the AEAD
 * nonce of that packet and is never reused.
 *
 * Threading: a connection belongs to one thread (the peer's owner lcore); no function here is
 * thread-safe. The configuration is shared, read-only, by every connection created from it and
 * must outlive them.
 */
#ifndef DP_CONN_H
#define DP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "dp_cc.h"
#include "sl_limits.h"
#include "sl_wire.h"

enum dp_chan_kind {
	DP_CHAN_UNUSED = 0,
	DP_CHAN_RELIABLE, /* every message exactly once, in order per channel */
	DP_CHAN_DATAGRAM, /* at most once, unordered, one packet each, never retransmitted */
};

struct dp_chan_config {
	enum dp_chan_kind kind;
	uint8_t priority;     /* 0 (lowest) .. 7; bandwidth share is weighted by priority + 1 */
	uint32_t queue_limit; /* bytes of messages queued at the sender and not yet acknowledged */
	uint64_t ttl_ns;      /* default time to live before first transmission; 0: forever */
};

struct dp_conn_config {
	uint32_t max_payload;	   /* frame bytes per packet (SL_DEFAULT_PAYLOAD) */
	uint32_t max_message;	   /* largest message (SL_DEFAULT_MAX_MESSAGE) */
	uint32_t conn_window;	   /* receive credit for the whole connection, bytes */
	uint32_t chan_window;	   /* receive credit per channel, bytes */
	uint64_t max_ack_delay_ns; /* delayed ACK bound */
	uint32_t ack_every;	   /* ACK at once after this many ack-eliciting packets */
	uint64_t idle_timeout_ns;  /* close when nothing was heard for this long (0: never) */
	uint64_t keepalive_ns;	   /* PING when nothing was sent for this long (0: never) */
	uint32_t max_ptos;	   /* consecutive probe timeouts before "unresponsive" */
	/* Sends on a channel are refused (-ENOBUFS) while it holds this many bytes or more that
	 * were never sent, whatever its queue allows: a sender a little ahead of the network
	 * keeps its messages warm in cache instead of megabytes ahead (0: no limit). */
	uint32_t unsent_limit;
	uint64_t initial_rtt_ns;
	enum dp_cc_algo cc;
	bool pacing;
	uint8_t n_channels; /* channels 0 .. n_channels-1; 0 is the control plane's */
	struct dp_chan_config chan[SL_MAX_CHANNELS];
};

/* Defaults: 1440-byte payload, 1 MiB messages, 16 MiB connection / 4 MiB channel windows,
 * 25 ms ACK delay, ACK every 2 packets, 30 s idle, 10 s keepalive, 6 PTOs, CUBIC with pacing,
 * channel 0 reliable priority 7, channels 1..7 reliable priorities 0..6, 8 MiB queues, no
 * unsent limit. */
void dp_conn_config_defaults(struct dp_conn_config *cfg);

/* Returns 0, or -EINVAL naming nothing: use dp_conn_config_check() for the reason. */
int dp_conn_config_validate(const struct dp_conn_config *cfg) __rte_warn_unused_result;
/* NULL if valid, else a static string saying which field is wrong and why. */
const char *dp_conn_config_check(const struct dp_conn_config *cfg);

struct dp_conn;

/* NULL with errno set (EINVAL bad config, ENOMEM). */
struct dp_conn *dp_conn_create(const struct dp_conn_config *cfg, uint64_t now_ns);
/* Frees everything, queued and delivered-but-unreleased messages included. What that throws
 * away can be counted first with dp_conn_undelivered(). */
void dp_conn_destroy(struct dp_conn *c);

/* --- application side ------------------------------------------------------------------- */

/* Queue a copy of data (1..max_message bytes) on channel chan. ttl_ns overrides the channel's
 * default when non-zero. *msg_id (may be NULL) gets the message's id on its channel.
 *   -EINVAL   unknown channel, or len 0
 *   -EMSGSIZE len > max_message (or, on a datagram channel, more than fits one packet)
 *   -ENOBUFS  the channel's queue is full, or it holds unsent_limit bytes never sent:
 *             nothing was queued; a DP_EV_WRITABLE event for this channel follows when both
 *             are down to half their limit
 *   -EPIPE    the connection is closing or closed
 *   -ENOMEM */
int dp_conn_send(struct dp_conn *c, uint8_t chan, const void *data, size_t len, uint64_t ttl_ns,
		 uint64_t now_ns, uint64_t *msg_id) __rte_warn_unused_result;

/* Bytes channel chan takes now: any run of dp_conn_send() calls on it totalling at most this
 * many is accepted (while the connection stays open). 0 when the channel is full, unused, or
 * the connection not open. It is what a sender that must never be refused may post (the
 * application interface grants it as credit). */
uint32_t dp_conn_send_room(const struct dp_conn *c, uint8_t chan);

/* A delivered message. data stays valid until dp_conn_msg_release(). */
struct dp_msg {
	uint8_t chan;
	uint32_t len;
	uint64_t id; /* message id (reliable) or sequence number (datagram) */
	uint8_t *data;
};

/* The next delivered message, or NULL. Reliable channels deliver in id order; channels are
 * independent (a missing message on one never holds back another). */
struct dp_msg *dp_conn_recv(struct dp_conn *c);

/* Give a delivered message back: its bytes return to the flow-control credit. A receiver
 * that stops calling recv/release makes the sender's queue fill, not this side's memory. */
void dp_conn_msg_release(struct dp_conn *c, struct dp_msg *m);

enum dp_conn_event_type {
	DP_EV_NONE = 0,
	DP_EV_WRITABLE,	     /* chan has room again after -ENOBUFS */
	DP_EV_EXPIRED,	     /* message (chan, id) reached its TTL before it was first sent */
	DP_EV_DATAGRAM_LOST, /* datagram (chan, id) was declared lost */
	DP_EV_UNRESPONSIVE,  /* max_ptos probe timeouts in a row: the peer is not answering */
	DP_EV_CLOSED,	     /* the connection is closed; reason, by_peer */
};

struct dp_conn_event {
	enum dp_conn_event_type type;
	uint8_t chan;
	bool by_peer;
	uint16_t reason; /* SL_CLOSE_* */
	uint64_t id;
};

/* Take the oldest pending event; false when there is none. */
bool dp_conn_poll_event(struct dp_conn *c, struct dp_conn_event *ev);

/* Graceful: stop accepting messages, deliver what is queued, then send CLOSE. Abortive: send
 * nothing queued any more (reporting nothing more: it counts in dp_conn_undelivered() and is
 * freed by dp_conn_destroy()) and send CLOSE with reason at once. */
void dp_conn_close(struct dp_conn *c, bool graceful, uint16_t reason, uint64_t now_ns);

/* Send a PING with the next packet (an initiator does at once, so the responder learns the
 * new keys work without waiting for data). */
void dp_conn_ping(struct dp_conn *c);

/* --- network side ----------------------------------------------------------------------- */

/* Take the frames of an authenticated packet. Returns 0 (also for a duplicate, which is
 * ignored), or -EPROTO when the frames broke the protocol: the connection is then closed with
 * SL_CLOSE_PROTOCOL or SL_CLOSE_FLOW_CONTROL (a DP_EV_CLOSED follows, and a CLOSE frame goes
 * out with the next output). Malformed or impossible frames are counted by reason.
 * Packets taken after the idle deadline (nothing heard for idle_timeout_ns and the owner has
 * not ticked since, e.g. its process was paused) are taken as usual — what they acknowledge
 * and deliver is true — but do not revive the connection: the owner's next dp_conn_tick() (due
 * at once: call it before output, as in the loop above) closes it with SL_CLOSE_IDLE, and it
 * answers nothing, since its peer has given up on it by then. */
int dp_conn_input(struct dp_conn *c, uint64_t pn, const uint8_t *frames, size_t len,
		  uint64_t now_ns);

/* Build the next packet's frames into buf (cap >= max_payload). Returns the number of bytes
 * (and *pn, the packet number to seal it under), or 0 when nothing may be sent now (no data,
 * congestion window full, pacing, flow control). */
int dp_conn_output(struct dp_conn *c, uint64_t now_ns, uint8_t *buf, size_t cap, uint64_t *pn);

/* An idle connection (nothing in flight) releases its in-flight records this long after its
 * last packet: dp_conn_next_wakeup() asks for that tick even without keepalives. */
#define DP_CONN_TRIM_NS (100 * 1000 * 1000ull)

/* When the engine next needs dp_conn_tick() (loss or probe timer, delayed ACK, pacing,
 * keepalive, idle timeout, TTL); UINT64_MAX if never. */
uint64_t dp_conn_next_wakeup(const struct dp_conn *c);
void dp_conn_tick(struct dp_conn *c, uint64_t now_ns);

/* --- state and counters ----------------------------------------------------------------- */

enum dp_conn_state {
	DP_CONN_OPEN,
	DP_CONN_DRAINING, /* graceful close: sending what is queued */
	DP_CONN_CLOSED,
};

enum dp_conn_state dp_conn_state(const struct dp_conn *c);

/* Why a frame or packet was rejected: one counter each. */
#define DP_CONN_DROPS(X)                        \
	X(MALFORMED, "frame_malformed")         \
	X(UNKNOWN_FRAME, "frame_unknown")       \
	X(DUPLICATE, "packet_duplicate")        \
	X(ACK_UNSENT, "ack_of_unsent_packet")   \
	X(BAD_CHANNEL, "bad_channel")           \
	X(BAD_OFFSET, "bad_offset")             \
	X(TOO_LARGE, "message_too_large")       \
	X(FLOW_CONTROL, "beyond_credit")        \
	X(CREDIT_BACKWARDS, "credit_backwards") \
	X(AFTER_CLOSE, "after_close")

enum dp_conn_drop {
#define DP_CONN_DROP_ENUM(name, str) DP_CONN_DROP_##name,
	DP_CONN_DROPS(DP_CONN_DROP_ENUM)
#undef DP_CONN_DROP_ENUM
		DP_CONN_DROP_COUNT
};

const char *dp_conn_drop_name(enum dp_conn_drop d);

/* What a connection counts as it goes (kept in every connection). */
#define DP_CONN_COUNTERS                                                         \
	uint64_t pkts_sent, pkts_recv, bytes_sent, bytes_recv; /* frame bytes */ \
	uint64_t msgs_sent, msgs_delivered, msgs_expired, datagrams_lost;        \
	uint64_t bytes_delivered;                                                \
	uint64_t frags_retransmitted, acks_sent, pings_sent;                     \
	uint64_t drops[DP_CONN_DROP_COUNT];

struct dp_conn_counters {
	DP_CONN_COUNTERS
};

/* The counters plus the state of loss recovery and congestion control, read on demand. */
struct dp_conn_stats {
	DP_CONN_COUNTERS
	uint64_t pkts_lost, ptos;
	uint64_t rtt_smoothed_ns, rtt_min_ns, rtt_var_ns, rtt_latest_ns;
	uint64_t cwnd, bytes_in_flight;
	uint32_t channels; /* a bit per channel the connection has opened (either side used it) */
};

void dp_conn_get_stats(const struct dp_conn *c, struct dp_conn_stats *out);

/* The same, by value (convenient for tests and telemetry). */
static inline struct dp_conn_stats
dp_conn_stats_now(const struct dp_conn *c)
{
	struct dp_conn_stats st;

	dp_conn_get_stats(c, &st);
	return st;
}

/* --- what a connection leaves undone ------------------------------------------------------ */

/* Per channel, what the connection would throw away were it destroyed now: its owner calls
 * dp_conn_undelivered() once the connection has closed (or when it gives up on it), before
 * dp_conn_destroy(), so that no message is lost without a count. Names are the telemetry keys.
 *
 * Sender and receiver each see half of the picture: a message the receiver handed over just
 * before the end, whose acknowledgement never left, is "undelivered" at the sender; a message
 * that arrived whole and was acknowledged, but waited behind a gap when the end came, is
 * delivered as far as the sender knows. The receiver counts both, so that for a reliable
 * channel, with `sent` its dp_conn_send() successes at the sender and `delivered` what the
 * receiver's application got from dp_conn_recv():
 *
 *     sent = delivered + undelivered - delivered_unacked + discarded_acked   (+ msgs_expired)
 *
 * exactly, provided every acknowledgement the receiver sent reached the sender before the
 * sender's connection ended (nothing it sent was lost on the way: a paused peer, an idle
 * timeout, a close by the receiver or a replacement keep to this; a wire that loses the last
 * ACKs does not, and the sender's undelivered then also counts the messages those ACKs
 * covered, as it does when the sender closes while ACKs are on their way), and
 * no packet arrived more than DP_ACK_KEEP ranges out of order (every ACK reports every packet
 * received since the last one). On a datagram channel, datagrams declared lost
 * (datagrams_lost) are outside this count; one declared lost that did arrive is counted twice. */
#define DP_UNDELIVERED_FIELDS(X)                                                                  \
	X(undelivered, "sending: messages dp_conn_send() accepted that were not acknowledged in " \
		       "full: queued and never sent, in flight, partly acknowledged; datagrams "  \
		       "never sent or in flight (the peer may have some of them)")                \
	X(undelivered_bytes, "sending: the bytes of those messages")                              \
	X(discarded, "receiving: messages that arrived in part or whole and were never handed "   \
		     "over (waiting behind a gap, incomplete, or delivered but not taken)")       \
	X(discarded_bytes, "receiving: the bytes of those messages (their whole length)")         \
	X(discarded_acked, "receiving: of discarded, those that arrived whole and were "          \
			   "acknowledged: the sender counts them delivered")                      \
	X(delivered_unacked, "receiving: messages handed over whose acknowledgement never "       \
			     "left: the sender counts them undelivered")

struct dp_undelivered {
#define DP_UNDELIVERED_FIELD(name, what) uint64_t name;
	DP_UNDELIVERED_FIELDS(DP_UNDELIVERED_FIELD)
#undef DP_UNDELIVERED_FIELD
};

struct dp_conn_undelivered {
	struct dp_undelivered chan[SL_MAX_CHANNELS]; /* by channel id */
	struct dp_undelivered total;		     /* over channels */
};

/* Fill *out (owner thread; any state, typically closed). Walks what the connection holds:
 * O(messages held + packets in flight). As it runs, the connection only keeps, per channel,
 * how many messages it received whole since its last ACK, and a mark on each message it holds
 * (in what was padding: no memory of its own). */
void dp_conn_undelivered(const struct dp_conn *c, struct dp_conn_undelivered *out);

/* acc += u, field by field. */
static inline void
dp_undelivered_add(struct dp_undelivered *acc, const struct dp_undelivered *u)
{
#define DP_UNDELIVERED_ADD(name, what) acc->name += u->name;
	DP_UNDELIVERED_FIELDS(DP_UNDELIVERED_ADD)
#undef DP_UNDELIVERED_ADD
}

/* Bytes of heap the connection holds now (itself included), for the memory benchmark. */
size_t dp_conn_memory(const struct dp_conn *c);

#endif /* DP_CONN_H */
