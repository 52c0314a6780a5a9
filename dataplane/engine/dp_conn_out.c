/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the reliable engine, send side — scheduling and packet assembly (dp_conn_output), and
 * the record of what each packet carried (see dp_conn.h).
 *
 * A packet is built as: ACK (when one is due, or piggybacked), PONG, credit updates, PING
 * (keepalive or probe), then data frames chosen by deficit round robin across channels, each
 * channel's share weighted by its priority + 1 (retransmissions first within a channel).
 * Congestion window and pacing gate everything but ACK-only packets; a probe owed after a
 * probe timeout bypasses them.
 *
 * What each ack-eliciting packet carried is kept in a ring of struct dp_ref, one entry per
 * frame that must be acted on when the packet is acknowledged or lost (data fragments,
 * datagrams, credit); the packet's record in dp_recovery holds its first entry and their
 * count. Entries are freed as packets are resolved (dp_conn_in.c); the ring's head skips over
 * freed entries, and the ring is released when empty.
 *
 * Owner thread only (dp_conn.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include "dp_conn_pvt.h"

/* --- the record of what packets carried ---------------------------------------------------- */

/* Room for n more entries: the ring grows. */
static int
refs_grow(struct dp_conn *c, uint32_t n)
{
	uint32_t used = c->ref_tail - c->ref_head, cap = c->ref_cap ? c->ref_cap : 64;
	struct dp_ref *v;

	while (cap - used < n)
		cap *= 2;
	v = malloc(cap * sizeof(*v)); /* entries are written before they are read */
	if (v == NULL)
		return -ENOMEM;
	for (uint32_t i = c->ref_head; i != c->ref_tail; i++)
		v[i & (cap - 1)] = *dp_conn_ref_at(c, i);
	free(c->refs);
	c->refs = v;
	c->ref_cap = cap;
	return 0;
}

/* Room for n more entries. */
static inline int
refs_reserve(struct dp_conn *c, uint32_t n)
{
	if (likely(c->ref_cap - (c->ref_tail - c->ref_head) >= n && c->ref_cap != 0))
		return 0;
	return refs_grow(c, n);
}

void
dp_conn_trim(struct dp_conn *c)
{
	if (c->ref_head == c->ref_tail && c->refs != NULL) { /* nothing in flight */
		free(c->refs);
		c->refs = NULL;
		c->ref_cap = 0;
		c->ref_head = c->ref_tail = 0;
	}
	dp_recovery_trim(&c->rec);
}

void
dp_conn_refs_fini(struct dp_conn *c)
{
	for (uint32_t i = c->ref_head; i != c->ref_tail; i++) {
		struct dp_ref *r = dp_conn_ref_at(c, i);

		if (r->kind == DP_REF_DATA)
			dp_chan_omsg_unref(c, r->msg);
	}
	free(c->refs);
	c->refs = NULL;
	c->ref_cap = 0;
	c->ref_head = c->ref_tail = 0;
}

void
dp_conn_dgrams_in_flight(const struct dp_conn *c, struct dp_conn_undelivered *out)
{
	for (uint32_t i = c->ref_head; i != c->ref_tail; i++) {
		const struct dp_ref *r = dp_conn_ref_at(c, i);

		if (r->kind == DP_REF_DGRAM && r->chan < SL_MAX_CHANNELS) {
			out->chan[r->chan].undelivered++;
			out->chan[r->chan].undelivered_bytes += r->len;
		}
	}
}

/* --- what there is to send ----------------------------------------------------------------- */

bool
dp_conn_has_data(const struct dp_conn *c)
{
	for (uint16_t a = c->tx_active; a != 0; a &= (uint16_t)(a - 1)) {
		const struct dp_chan *ch = dp_chan_at(c, (unsigned int)__builtin_ctz(a));

		if (ch != NULL && dp_chan_sendable(c, ch))
			return true;
	}
	return false;
}

static bool
credit_owed(const struct dp_conn *c)
{
	return c->conn_credit_dirty || c->chan_default_dirty || c->credit_owed != 0;
}

/* --- building a packet --------------------------------------------------------------------- */

static size_t
put_credit(struct dp_conn *c, uint8_t *p, size_t room, struct dp_chan *ch)
{
	uint64_t v = ch ? ch->rx_released + c->cfg->chan_window
			: c->rx_conn_released + c->cfg->conn_window;
	size_t w = dp_frame_put_credit(p, room, ch ? SL_FRAME_MAX_CHAN : SL_FRAME_MAX_DATA,
				       ch ? ch->id : 0, v);

	if (w == 0)
		return 0;
	if (ch != NULL) {
		ch->rx_advertised = v;
		c->credit_owed &= (uint16_t) ~(1u << ch->id);
	} else {
		c->rx_conn_advertised = v;
		c->conn_credit_dirty = false;
	}
	dp_conn_ref_add(c, DP_REF_CREDIT, ch ? ch->id : DP_REF_CONN, NULL, 0, 0);
	return w;
}

/* Every channel may use the channel window before its own MAX_CHAN: say so once. Channels that
 * already exist here count as advertised at that level from now on. */
static size_t
put_chan_default(struct dp_conn *c, uint8_t *p, size_t room)
{
	size_t w = dp_frame_put_credit(p, room, SL_FRAME_MAX_CHAN_DEFAULT, 0, c->cfg->chan_window);

	if (w == 0)
		return 0;
	c->chan_default_dirty = false;
	for (unsigned int i = 0; i < c->cfg->n_channels; i++) {
		struct dp_chan *ch = dp_chan_at(c, i);

		if (ch != NULL && ch->rx_advertised < c->cfg->chan_window)
			ch->rx_advertised = c->cfg->chan_window;
	}
	dp_conn_ref_add(c, DP_REF_CREDIT, DP_REF_CHAN_DEFAULT, NULL, 0, 0);
	return w;
}

/* PONG, credit, PING: the small frames that go before data. */
static size_t
put_control(struct dp_conn *c, uint8_t *p, size_t room, bool probe, bool *eliciting)
{
	size_t n = 0, w;

	if (c->pong_due && (w = dp_frame_put_ping(p, room, SL_FRAME_PONG, c->pong_token)) != 0) {
		c->pong_due = false;
		n += w;
	}
	if (c->conn_credit_dirty)
		n += put_credit(c, p + n, room - n, NULL);
	if (c->chan_default_dirty)
		n += put_chan_default(c, p + n, room - n);
	for (uint16_t o = c->credit_owed; o != 0; o &= (uint16_t)(o - 1)) {
		struct dp_chan *ch = dp_chan_at(c, (unsigned int)__builtin_ctz(o));

		if (ch != NULL)
			n += put_credit(c, p + n, room - n, ch);
	}
	if ((c->ping_due || (probe && n == 0 && !dp_conn_has_data(c))) &&
	    (w = dp_frame_put_ping(p + n, room - n, SL_FRAME_PING, ++c->ping_token)) != 0) {
		c->ping_due = false;
		c->cnt.pings_sent++;
		n += w;
	}
	*eliciting = *eliciting || n > 0;
	return n;
}

static int32_t
quantum(const struct dp_conn *c, const struct dp_chan *ch)
{
	return (int32_t)(dp_chan_cfg(c, ch)->priority + 1) * DP_DRR_QUANTUM;
}

/* The first channel of mask at or after position from, wrapping around; -1 if none. */
static inline int
next_channel(uint32_t mask, unsigned int from)
{
	uint32_t ahead = mask & (~0u << from);

	if (ahead != 0)
		return __builtin_ctz(ahead);
	return mask != 0 ? __builtin_ctz(mask) : -1;
}

/* The only candidate channel takes its turn: it never ends, the deficit just refills. */
static inline void
drr_lone_turn(struct dp_conn *c, struct dp_chan *ch)
{
	if (ch->id != c->rr) {
		c->rr = ch->id;
		ch->deficit += quantum(c, ch);
	}
	while (ch->deficit <= 0)
		ch->deficit += quantum(c, ch);
}

/* Deficit round robin: keep serving the current channel while it has deficit left, then move
 * on to the next active channel and give it its quantum. Only channels marked active are
 * visited; skip: channels whose next frame does not fit in what is left of this packet. */
static struct dp_chan *
drr_pick(struct dp_conn *c, uint32_t skip)
{
	uint32_t cand = c->tx_active & ~skip;
	int i;

	if (cand != 0 && (cand & (cand - 1)) == 0) { /* one channel: its turn never ends */
		struct dp_chan *ch = dp_chan_at(c, (unsigned int)__builtin_ctz(cand));

		if (ch != NULL && dp_chan_sendable(c, ch)) {
			drr_lone_turn(c, ch);
			return ch;
		}
	}

	while ((i = next_channel(cand, c->rr)) >= 0) {
		struct dp_chan *ch = dp_chan_at(c, (unsigned int)i);
		uint32_t bit = 1u << i;

		if (ch == NULL || !dp_chan_sendable(c, ch)) {
			cand &= ~bit;
			if (ch == NULL || (ch->unsent == NULL && ch->rtx_head == NULL))
				c->tx_active &= (uint16_t)~bit; /* nothing at all any more */
			else
				ch->deficit = 0; /* blocked for now: no credit saved */
			continue;
		}
		if (i != c->rr) { /* arrived at a channel whose turn begins */
			c->rr = (uint8_t)i;
			ch->deficit += quantum(c, ch);
		}
		if (ch->deficit > 0)
			return ch;
		/* its turn is over: the next active channel's begins now (or, alone, it goes on);
		 * every pass grants a quantum somewhere, so this ends */
		i = next_channel(cand & ~bit, (unsigned int)i + 1);
		if (i < 0) {
			ch->deficit += quantum(c, ch);
			continue;
		}
		c->rr = (uint8_t)i;
		if ((ch = dp_chan_at(c, (unsigned int)i)) != NULL)
			ch->deficit += quantum(c, ch);
	}
	return NULL;
}

static size_t
put_data(struct dp_conn *c, uint8_t *p, size_t room, uint64_t now_ns)
{
	uint32_t skip = 0;
	size_t n = 0;
	struct dp_chan *ch;

	while (room - n >= sizeof(struct sl_frame_datagram) + 1 && (ch = drr_pick(c, skip))) {
		size_t w = dp_chan_emit(c, ch, p + n, room - n, now_ns);

		if (w == 0) {
			skip |= 1u << ch->id;
			continue;
		}
		ch->deficit -= (int32_t)w;
		n += w;
	}
	return n;
}

static int
put_close(struct dp_conn *c, uint8_t *buf, size_t cap, uint64_t *pn)
{
	size_t n;

	if (!c->close_pending)
		return 0;
	n = dp_frame_put_close(buf, cap, c->close_graceful && c->close_reason == SL_CLOSE_NONE,
			       c->close_reason);
	if (n == 0)
		return 0;
	c->close_pending = false;
	*pn = dp_recovery_take_pn(&c->rec);
	c->cnt.pkts_sent++;
	c->cnt.bytes_sent += n;
	return (int)n;
}

/* Record the packet just built; if that fails its contents count as lost at once, so
 * nothing is forgotten. */
static void
record_sent(struct dp_conn *c, size_t n, uint64_t now_ns)
{
	if (dp_recovery_on_sent_eliciting(&c->rec, (uint32_t)(n + DP_PKT_OVERHEAD), c->ref_pkt,
					  c->ref_pkt_n, now_ns) != 0)
		dp_conn_resolve(c, c->ref_pkt, c->ref_pkt_n, false);
	dp_recovery_probe_sent(&c->rec);
}

/* The ACK that rides along, when one is wanted. */
static size_t
put_ack(struct dp_conn *c, uint8_t *buf, size_t room, uint64_t now_ns)
{
	struct dp_ack_ranges ack;

	if (!dp_ack_wanted(&c->ack))
		return 0;
	dp_ack_build(&c->ack, now_ns, &ack);
	c->cnt.acks_sent++;
	if (unlikely(dp_ack_epoch(c) == 0))
		dp_chan_rx_all_acked(c);
	return dp_frame_put_ack(buf, room, &ack);
}

/* The packet about to be built starts with no entries (room for them is reserved). */
static inline void
begin_refs(struct dp_conn *c)
{
	c->ref_pkt = c->ref_tail;
	c->ref_pkt_n = 0;
}

/* A packet of n bytes is ready: number it and, if ack-eliciting, record it with the entries
 * begun last. */
static int
finish(struct dp_conn *c, size_t n, bool eliciting, uint64_t now_ns, uint64_t *pn)
{
	if (n == 0)
		return 0;
	*pn = dp_recovery_take_pn(&c->rec);
	if (eliciting)
		record_sent(c, n, now_ns); /* numbered just now: the last pn handed out */
	c->last_send_ns = now_ns;
	c->cnt.pkts_sent++;
	c->cnt.bytes_sent += n;
	return (int)n;
}

/* The common case of a busy sender: one active channel, reliable, with new data and nothing
 * to resend (its next message not waiting to expire), no control frame owed, no probe. Returns
 * that channel, or NULL for the general path. */
static struct dp_chan *
lone_sender(const struct dp_conn *c)
{
	uint16_t a = c->tx_active;
	const struct dp_omsg *m;
	struct dp_chan *ch;

	if (a == 0 || (a & (a - 1)) != 0 || c->ping_due || c->pong_due || credit_owed(c) ||
	    c->rec.probes_due > 0)
		return NULL;
	ch = dp_chan_at(c, (unsigned int)__builtin_ctz(a));
	if (ch == NULL || ch->rtx_head != NULL || (m = ch->unsent) == NULL ||
	    (m->first_sent == 0 && m->expires_ns != 0) || !dp_chan_reliable(c, ch))
		return NULL;
	return ch;
}

/* What the general path does for a lone sender (lone_sender() above), in one pass: ACK if
 * wanted, then data frames of that channel while they fit. Returns -1 if the general path must
 * decide (no credit, window or pacing closed, no memory for the record). */
static int
output_lone(struct dp_conn *c, struct dp_chan *ch, uint64_t now_ns, uint8_t *buf, size_t room,
	    uint64_t *pn)
{
	size_t n;

	if (dp_chan_credit(c, ch, ch->unsent) == 0 ||
	    !dp_recovery_can_send(&c->rec, (uint32_t)(room + DP_PKT_OVERHEAD), now_ns) ||
	    refs_reserve(c, (uint32_t)(room / DP_MIN_DATA_FRAME + 2)) != 0)
		return -1;
	n = put_ack(c, buf, room, now_ns);
	begin_refs(c);
	while (room - n >= DP_MIN_DATA_FRAME && ch->unsent != NULL) {
		size_t w;

		drr_lone_turn(c, ch);
		w = dp_chan_emit_new(c, ch, buf + n, room - n, now_ns);
		if (w == 0)
			break;
		ch->deficit -= (int32_t)w;
		n += w;
	}
	/* no entry: a message expired, the packet holds nothing but the ACK */
	return finish(c, n, c->ref_pkt_n > 0, now_ns, pn);
}

int
dp_conn_output(struct dp_conn *c, uint64_t now_ns, uint8_t *buf, size_t cap, uint64_t *pn)
{
	size_t room = RTE_MIN(cap, (size_t)c->cfg->max_payload), n = 0;
	bool probe = c->rec.probes_due > 0, eliciting = false, want;
	struct dp_chan *lone;
	int rc;

	if (c->state == DP_CONN_DRAINING && dp_conn_drained(c))
		dp_conn_enter_closed(c, c->close_reason, false, true);
	if (c->state == DP_CONN_CLOSED)
		return put_close(c, buf, cap, pn);
	if ((lone = lone_sender(c)) != NULL &&
	    (rc = output_lone(c, lone, now_ns, buf, room, pn)) >= 0)
		return rc;
	/* what there is to send first: a receiver mostly has nothing but its ACK */
	want = (c->ping_due || c->pong_due || probe || credit_owed(c) || dp_conn_has_data(c)) &&
	       (probe || dp_recovery_can_send(&c->rec, (uint32_t)(room + DP_PKT_OVERHEAD), now_ns));
	if (!want && !dp_ack_due(&c->ack, now_ns))
		return 0;
	n = put_ack(c, buf, room, now_ns);
	if (want && refs_reserve(c, (uint32_t)(room / 9 + SL_MAX_CHANNELS + 4)) == 0) {
		begin_refs(c);
		n += put_control(c, buf + n, room - n, probe, &eliciting);
		n += put_data(c, buf + n, room - n, now_ns);
		eliciting = eliciting || c->ref_pkt_n > 0;
	}
	return finish(c, n, eliciting, now_ns, pn);
}
