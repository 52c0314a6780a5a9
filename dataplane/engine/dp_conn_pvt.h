/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: reliable engine internals, shared by dp_conn.c (configuration, lifecycle, timers,
 * events), the receive side dp_conn_in.c (frames in, acknowledged and lost packets resolved)
 * and dp_chan_in.c (a channel's sent bytes acknowledged or lost; reassembly, delivery, credit
 * given), and the send side dp_conn_out.c (scheduling, packet assembly, the record of what
 * packets carried) and dp_chan_out.c (send queue, retransmissions, DATA/DATAGRAM frames).
 * Not for other modules.
 *
 * Owner thread only: everything here works on one connection, on the thread that owns it.
 */
#ifndef DP_CONN_PVT_H
#define DP_CONN_PVT_H

#include <assert.h>
#include <stddef.h>

#include <rte_branch_prediction.h>

#include "dp_ack.h"
#include "dp_blk.h"
#include "dp_conn.h"
#include "dp_frame.h"
#include "dp_rangeset.h"
#include "dp_recovery.h"

/* Credit both sides assume before the first MAX_DATA / MAX_CHAN arrives. */
#define DP_INITIAL_CONN_CREDIT (256u << 10)
#define DP_INITIAL_CHAN_CREDIT (64u << 10)
static_assert(SL_CONTROL_MSG_MAX <= DP_INITIAL_CHAN_CREDIT,
	      "a control message goes out before the peer's first credit frame");
/* A frame carrying at least one byte of data. */
#define DP_MIN_DATA_FRAME (sizeof(struct sl_frame_data) + 1)
/* Bytes a packet occupies beyond its frames: data header + tag + IPv4 + UDP. */
#define DP_PKT_OVERHEAD (SL_DATA_OVERHEAD + SL_IPV4_UDP_OVERHEAD)
/* Bytes added to a channel's deficit per round, times (priority + 1). */
#define DP_DRR_QUANTUM	     1024
#define DP_MAX_CLOSE_RESENDS 3

/* An outgoing message, from dp_conn_send() until acknowledged (or expired, or lost if it is a
 * datagram). The header is two cache lines, so the bytes start on a cache line of the block
 * (dp_blk aligns cached blocks to 64): the copies in and out of it use aligned accesses. */
struct dp_omsg {
	struct dp_omsg *next, *prev; /* channel queue, id order */
	struct dp_omsg *rtx_next;    /* channel retransmit list */
	uint64_t id;		     /* the sender's handle (dp_conn_send, DP_EV_EXPIRED) */
	uint64_t wire_id;	     /* message id on the wire, given at the first byte sent */
	union {
		uint64_t expires_ns; /* before its first byte is sent: 0 never */
		uint64_t base;	     /* from then on: channel offset of its first byte */
	};
	uint32_t len;
	uint32_t first_sent; /* bytes sent at least once (a prefix); 0: expires_ns is valid */
	uint32_t refs;	     /* fragments of it in packets not yet acknowledged or lost */
	uint8_t chan;
	bool queued;	/* still in its channel queue */
	bool in_rtx;	/* on the retransmit list (which also holds it) */
	bool ranges_on; /* acked and lost are set up (at the first fragment resolved alone) */
	/* second cache line: a message acknowledged whole never touches it */
	struct dp_rangeset acked;
	struct dp_rangeset lost; /* lost, not yet resent, not acknowledged since */
	uint8_t data[];
};
static_assert(offsetof(struct dp_omsg, data) % 64 == 0, "message bytes start a cache line");

#define DP_IMSG_WHOLE	(1u << 16)
#define DP_IMSG_UNACKED (1u << 17)

/* An incoming message: reassembled, then delivered (m is what the application sees). */
struct dp_imsg {
	struct dp_msg m;
	/* 0 until received whole; then DP_IMSG_WHOLE, the ACK epoch it became whole in (low 16
	 * bits) and DP_IMSG_UNACKED (cleared when the epoch wraps: dp_chan_rx_all_acked) */
	uint32_t whole;
	struct dp_imsg *next; /* reassembly list (id order) or delivered FIFO */
	uint64_t base;
	struct dp_rangeset got;
	uint8_t buf[];
};

struct dp_chan {
	/* sending */
	struct dp_omsg *head, *tail;	     /* queued, not fully acknowledged */
	struct dp_omsg *unsent;		     /* first message with bytes never sent */
	struct dp_omsg *rtx_head, *rtx_tail; /* messages with lost bytes to resend */
	uint64_t next_id;		     /* next sender handle */
	uint64_t next_wire_id, next_base;    /* for the next message to start going out */
	uint64_t peer_max;		     /* the peer's channel credit (reliable) */
	/* receiving */
	struct dp_imsg *asm_head; /* being reassembled, id order */
	uint64_t rx_next_id, rx_next_base;
	uint64_t rx_highest;	/* highest channel offset received */
	uint64_t rx_released;	/* bytes the application has released */
	uint64_t rx_advertised; /* credit last sent (or the initial credit) */
	uint32_t queued;	/* bytes queued and not acknowledged (<= queue_limit) */
	uint32_t unsent_bytes;	/* of which never sent (cfg->unsent_limit) */
	uint32_t rx_held;	/* bytes held by reassembly and delivery (<= window + message) */
	int32_t deficit;	/* deficit round robin */
	uint8_t id;
	bool blocked; /* a send failed with -ENOBUFS: report when writable */
	/* messages received whole in ACK epoch rx_unacked_at; only those of the current epoch
	 * are still unacknowledged (dp_conn_undelivered) */
	uint16_t rx_unacked_at;
	uint32_t rx_unacked;
};

enum dp_ref_kind {
	DP_REF_FREE = 0,
	DP_REF_DATA,
	DP_REF_DGRAM,
	DP_REF_CREDIT, /* chan 0xff: MAX_DATA */
};

/* What a sent packet carried, so its fate can be applied to messages and credit. */
struct dp_ref {
	struct dp_omsg *msg; /* DATA */
	uint32_t off;	     /* DATA: offset; DGRAM: sequence */
	uint16_t len;
	uint8_t kind;
	uint8_t chan;
};

#define DP_REF_CONN	    0xff /* CREDIT: MAX_DATA */
#define DP_REF_CHAN_DEFAULT 0xfe /* CREDIT: MAX_CHAN_DEFAULT */

struct dp_conn {
	const struct dp_conn_config *cfg;
	enum dp_conn_state state;
	uint32_t ping_token;
	struct dp_recovery rec;
	struct dp_ack_tracker ack;
	struct dp_chan **chans; /* cfg->n_channels entries, allocated with the first channel */
	struct dp_imsg *dq_head, *dq_tail; /* delivered, waiting for dp_conn_recv */
	struct dp_conn_event *ev;	   /* ring of pending events */
	uint32_t ev_cap, ev_head, ev_n;
	uint32_t ref_cap;
	struct dp_ref *refs; /* ring, indexed by absolute counters & (ref_cap - 1) */
	uint32_t ref_head, ref_tail;
	uint32_t ref_pkt;   /* first entry of the packet being built */
	uint16_t ref_pkt_n; /* and how many it has so far (fewer than room / 9 + 20) */
	uint16_t close_reason;
	uint16_t tx_active;   /* channels with messages to send or resend (a superset) */
	uint16_t credit_owed; /* channels owed a MAX_CHAN */
	uint8_t close_resends;
	uint8_t rr; /* deficit round robin position */
	/* flags, packed to keep every connection small */
	bool conn_credit_dirty : 1, chan_default_dirty : 1, ping_due : 1, pong_due : 1;
	bool close_pending : 1, unresponsive_reported : 1, close_graceful : 1, closed_by_peer : 1;
	/* connection-level flow control */
	uint64_t tx_conn_max, tx_conn_sent;
	uint64_t rx_conn_highest, rx_conn_released, rx_conn_advertised;
	uint64_t tx_chan_default; /* the peer's MAX_CHAN_DEFAULT */
	uint64_t pong_token;
	uint64_t last_recv_ns, last_send_ns, next_expiry_ns;
	size_t heap; /* bytes allocated for messages, channels, rings */
	struct dp_conn_counters cnt;
};

static_assert(sizeof(struct dp_chan) <= 144, "the epoch fields fit in what was padding");
static_assert(sizeof(struct dp_imsg) <= 80, "the epoch fields fit in what was padding");

/* The ACK epoch: the low 16 bits of the ACKs sent. A message received whole in the current
 * epoch has not been acknowledged yet. Each time the epoch wraps to 0 every mark of an older
 * epoch is cleared (dp_chan_rx_all_acked), so an equal epoch always means "no ACK since". */
static inline uint16_t
dp_ack_epoch(const struct dp_conn *c)
{
	return (uint16_t)c->cnt.acks_sent;
}

/* Nothing heard for idle_timeout_ns: the connection is dead whatever comes next. */
static inline bool
dp_conn_idle_expired(const struct dp_conn *c, uint64_t now_ns)
{
	return c->cfg->idle_timeout_ns != 0 && now_ns - c->last_recv_ns >= c->cfg->idle_timeout_ns;
}

/* --- dp_conn.c ------------------------------------------------------------------------------ */
void dp_conn_event_push(struct dp_conn *c, enum dp_conn_event_type type, uint8_t chan, uint64_t id);
/* Close because of what the peer sent; counts the drop reason. Returns -EPROTO. */
int dp_conn_fail(struct dp_conn *c, enum dp_conn_drop why, uint16_t reason);
/* Every reliable message acknowledged: a graceful close may finish. */
bool dp_conn_drained(const struct dp_conn *c);
void dp_conn_enter_closed(struct dp_conn *c, uint16_t reason, bool by_peer, bool send_close);
struct dp_chan *dp_chan_get_slow(struct dp_conn *c, uint8_t id);

/* The channel if it has been used, else NULL. */
static inline struct dp_chan *
dp_chan_at(const struct dp_conn *c, unsigned int id)
{
	return c->chans != NULL && id < c->cfg->n_channels ? c->chans[id] : NULL;
}

/* The channel, allocated on first use; NULL if unused in the configuration or out of memory. */
static inline struct dp_chan *
dp_chan_get(struct dp_conn *c, uint8_t id)
{
	struct dp_chan *ch = dp_chan_at(c, id);

	return ch != NULL ? ch : dp_chan_get_slow(c, id);
}

/* --- dp_conn_in.c --------------------------------------------------------------------------- */
/* The packet whose n entries start at `first` was acknowledged (acked) or lost. */
void dp_conn_resolve(struct dp_conn *c, uint32_t first, uint16_t n, bool acked);
/* dp_recovery's callbacks (arg: the connection): a packet acknowledged, a packet lost. */
void dp_conn_on_acked(void *arg, const struct dp_sent *p);
void dp_conn_on_lost(void *arg, const struct dp_sent *p);

/* --- dp_conn_out.c -------------------------------------------------------------------------- */
bool dp_conn_has_data(const struct dp_conn *c);

static inline struct dp_ref *
dp_conn_ref_at(const struct dp_conn *c, uint32_t i)
{
	return &c->refs[i & (c->ref_cap - 1)];
}

/* Record what the packet being built carries (room was reserved when it was begun). */
static inline void
dp_conn_ref_add(struct dp_conn *c, enum dp_ref_kind kind, uint8_t chan, struct dp_omsg *m,
		uint32_t off, uint16_t len)
{
	struct dp_ref *r = dp_conn_ref_at(c, c->ref_tail++);

	r->msg = m;
	r->off = off;
	r->len = len;
	r->kind = (uint8_t)kind;
	r->chan = chan;
	c->ref_pkt_n++;
}

void dp_conn_refs_fini(struct dp_conn *c);
/* Datagrams in packets in flight (they left their queue when sent), into out->chan[]. */
void dp_conn_dgrams_in_flight(const struct dp_conn *c, struct dp_conn_undelivered *out);
/* Release the buffers an idle connection does not need (nothing in flight); the engine does
 * it at the first tick DP_CONN_TRIM_NS (dp_conn.h) after the last packet. */
void dp_conn_trim(struct dp_conn *c);

/* --- dp_chan_in.c --------------------------------------------------------------------------- */
/* The packet holding a fragment of m was acknowledged (acked) or lost: record that and drop
 * the packet's reference to m. */
void dp_chan_frag_resolved(struct dp_conn *c, struct dp_omsg *m, uint32_t off, uint32_t len,
			   bool acked);
/* dp_rs_remove() with the heap it takes or gives back accounted. */
int dp_conn_rs_remove(struct dp_conn *c, struct dp_rangeset *rs, uint32_t lo, uint32_t hi);
/* Receiving. 0, or -EPROTO / -ENOMEM with *why when the frame breaks the protocol. */
int dp_chan_rx_data(struct dp_conn *c, const struct dp_frame *f, enum dp_conn_drop *why);
int dp_chan_rx_datagram(struct dp_conn *c, const struct dp_frame *f, enum dp_conn_drop *why);
void dp_chan_release(struct dp_conn *c, struct dp_imsg *im);
void dp_chan_drop_rx(struct dp_conn *c, struct dp_chan *ch);
/* An ACK left and the epoch wrapped to 0: everything received so far is acknowledged. */
void dp_chan_rx_all_acked(struct dp_conn *c);
/* Receiving side of dp_conn_undelivered(): messages held and never handed over, per channel
 * (the delivered FIFO and the reassembly lists), and those handed over unacknowledged. */
void dp_chan_rx_undelivered(const struct dp_conn *c, struct dp_conn_undelivered *out);

/* --- dp_chan_out.c -------------------------------------------------------------------------- */
int dp_chan_enqueue(struct dp_conn *c, struct dp_chan *ch, const void *data, uint32_t len,
		    uint64_t expires_ns, uint64_t *msg_id);
/* Take m out of its channel queue (fully acknowledged, expired or dropped). */
void dp_chan_dequeue(struct dp_conn *c, struct dp_chan *ch, struct dp_omsg *m);
void dp_chan_drop_queue(struct dp_conn *c, struct dp_chan *ch);
void dp_chan_omsg_unref(struct dp_conn *c, struct dp_omsg *m);
/* Sending side of dp_conn_undelivered() for one channel: its queue (not acknowledged in full). */
void dp_chan_tx_undelivered(const struct dp_chan *ch, struct dp_undelivered *u);
/* Expire messages whose TTL passed before their first byte left; returns the next expiry. */
uint64_t dp_chan_expire(struct dp_conn *c, struct dp_chan *ch, uint64_t now_ns);

/* Emission: write chan's next frame into p (0 if none fits); dp_chan_sendable (below) says
 * whether it has something it may send now. */
size_t dp_chan_emit(struct dp_conn *c, struct dp_chan *ch, uint8_t *p, size_t room,
		    uint64_t now_ns);
/* The same for a reliable channel with nothing to resend: new data only. */
size_t dp_chan_emit_new(struct dp_conn *c, struct dp_chan *ch, uint8_t *p, size_t room,
			uint64_t now_ns);

/* Free m once nothing holds it any more: not queued, on no retransmission list, in no packet
 * in flight. */
static inline void
dp_omsg_maybe_free(struct dp_conn *c, struct dp_omsg *m)
{
	if (m->queued || m->refs != 0 || m->in_rtx)
		return;
	c->heap -= sizeof(*m) + m->len;
	if (unlikely(m->ranges_on && (m->acked.v != m->acked.inl || m->lost.v != m->lost.inl))) {
		c->heap -= dp_rs_heap(&m->acked) + dp_rs_heap(&m->lost);
		dp_rs_fini(&m->acked);
		dp_rs_fini(&m->lost);
	}
	dp_blk_free(m, sizeof(*m) + m->len);
}

static_assert(SL_MAX_CHANNELS <= 16, "channel masks are 16 bits");
static_assert(SL_MAX_PAYLOAD / 9 + SL_MAX_CHANNELS + 4 <= UINT16_MAX,
	      "entries per packet: 16 bits");

/* Mark a channel as having something to send (cleared lazily by the scheduler). */
static inline void
dp_chan_activate(struct dp_conn *c, const struct dp_chan *ch)
{
	c->tx_active |= (uint16_t)(1u << ch->id);
}

static inline void
dp_chan_owe_credit(struct dp_conn *c, const struct dp_chan *ch)
{
	c->credit_owed |= (uint16_t)(1u << ch->id);
}

static inline const struct dp_chan_config *
dp_chan_cfg(const struct dp_conn *c, const struct dp_chan *ch)
{
	return &c->cfg->chan[ch->id];
}

static inline bool
dp_chan_reliable(const struct dp_conn *c, const struct dp_chan *ch)
{
	return dp_chan_cfg(c, ch)->kind == DP_CHAN_RELIABLE;
}

/* Channel offset of the next new byte of m (its base once it has started going out). */
static inline uint64_t
dp_chan_next_offset(const struct dp_chan *ch, const struct dp_omsg *m)
{
	return (m->first_sent ? m->base : ch->next_base) + m->first_sent;
}

/* New bytes the peer lets us send on ch now, m being its first unsent message. */
static inline uint64_t
dp_chan_credit(const struct dp_conn *c, const struct dp_chan *ch, const struct dp_omsg *m)
{
	uint64_t off = dp_chan_next_offset(ch, m), max = RTE_MAX(ch->peer_max, c->tx_chan_default);
	uint64_t chan = max > off ? max - off : 0;
	uint64_t conn = c->tx_conn_max > c->tx_conn_sent ? c->tx_conn_max - c->tx_conn_sent : 0;

	return RTE_MIN(chan, conn);
}

/* Is there something chan may send now: retransmissions, or new data (within credit on a
 * reliable channel)? */
static inline bool
dp_chan_sendable(const struct dp_conn *c, const struct dp_chan *ch)
{
	if (ch->rtx_head != NULL)
		return true;
	if (ch->unsent == NULL)
		return false;
	return !dp_chan_reliable(c, ch) || dp_chan_credit(c, ch, ch->unsent) > 0;
}

#endif /* DP_CONN_PVT_H */
