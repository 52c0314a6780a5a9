/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the reliable engine, receive side — the frames of a decrypted packet in
 * (dp_conn_input) and their dispatch: ACK to loss recovery, DATA and DATAGRAM to their channel
 * (dp_chan_in.c), credit taken, PING answered, CLOSE; then what acknowledgements and losses
 * mean: every packet dp_recovery reports acknowledged or lost is resolved against the record of
 * what it carried (the struct dp_ref ring dp_conn_out.c writes), entry by entry — a data
 * fragment to its message, a lost datagram to an event, lost credit to be sent again.
 *
 * Owner thread only (dp_conn.h). Packets are also resolved from dp_conn_tick (the loss and
 * probe timer, dp_conn.c) and from dp_conn_output (a packet that could not be recorded).
 */
#include <errno.h>

#include <rte_branch_prediction.h>

#include "dp_conn_pvt.h"

/* --- acknowledged and lost packets: their records resolved ---------------------------------- */

/* The ring's head moves past the entries already resolved. */
static void
refs_compact(struct dp_conn *c)
{
	while (c->ref_head != c->ref_tail && dp_conn_ref_at(c, c->ref_head)->kind == DP_REF_FREE)
		c->ref_head++;
}

static __rte_noinline void
resolve_other(struct dp_conn *c, struct dp_ref *r, bool acked)
{
	struct dp_chan *ch = dp_chan_at(c, r->chan);

	switch (r->kind) {
	case DP_REF_DGRAM:
		if (!acked) {
			c->cnt.datagrams_lost++;
			dp_conn_event_push(c, DP_EV_DATAGRAM_LOST, r->chan, r->off);
		}
		break;
	case DP_REF_CREDIT:
		if (!acked && r->chan == DP_REF_CONN)
			c->conn_credit_dirty = true;
		else if (!acked && r->chan == DP_REF_CHAN_DEFAULT)
			c->chan_default_dirty = true;
		else if (!acked && ch != NULL)
			dp_chan_owe_credit(c, ch);
		break;
	default:
		break;
	}
}

void
dp_conn_resolve(struct dp_conn *c, uint32_t first, uint16_t n, bool acked)
{
	for (uint32_t i = 0; i < n; i++) {
		struct dp_ref *r = dp_conn_ref_at(c, first + i);

		if (likely(r->kind == DP_REF_DATA))
			dp_chan_frag_resolved(c, r->msg, r->off, r->len, acked);
		else
			resolve_other(c, r, acked);
		r->kind = DP_REF_FREE;
	}
	if (first == c->ref_head) /* the oldest packet: the ring's head moves past it */
		refs_compact(c);
}

void
dp_conn_on_acked(void *arg, const struct dp_sent *p)
{
	dp_conn_resolve(arg, p->frames, p->nframes, true);
}

void
dp_conn_on_lost(void *arg, const struct dp_sent *p)
{
	dp_conn_resolve(arg, p->frames, p->nframes, false);
}

/* --- input ---------------------------------------------------------------------------------- */

static void
take_credit(struct dp_conn *c, const struct dp_frame *f)
{
	uint64_t *cur;

	if (f->type == SL_FRAME_MAX_DATA) {
		cur = &c->tx_conn_max;
	} else if (f->type == SL_FRAME_MAX_CHAN_DEFAULT) {
		cur = &c->tx_chan_default;
	} else {
		struct dp_chan *ch = dp_chan_get(c, f->credit.chan);

		if (ch == NULL || !dp_chan_reliable(c, ch)) {
			c->cnt.drops[DP_CONN_DROP_BAD_CHANNEL]++; /* harmless: ignored */
			return;
		}
		cur = &ch->peer_max;
	}
	if (f->credit.max < *cur)
		c->cnt.drops[DP_CONN_DROP_CREDIT_BACKWARDS]++;
	else
		*cur = f->credit.max;
}

/* One frame; 0 or -EPROTO (the connection is then closed). */
static int
handle_frame(struct dp_conn *c, const struct dp_frame *f, const struct dp_ack_ranges *ack,
	     uint64_t now_ns)
{
	const struct dp_recovery_cb cb = { dp_conn_on_acked, dp_conn_on_lost, c };
	enum dp_conn_drop why = DP_CONN_DROP_MALFORMED;
	int rc = 0;

	switch (f->type) {
	case SL_FRAME_PING:
		c->pong_due = true;
		c->pong_token = f->token;
		break;
	case SL_FRAME_ACK:
		if (dp_recovery_on_ack(&c->rec, ack, now_ns, &cb) != 0)
			return dp_conn_fail(c, DP_CONN_DROP_ACK_UNSENT, SL_CLOSE_PROTOCOL);
		if (c->rec.pto_count == 0)
			c->unresponsive_reported = false;
		break;
	case SL_FRAME_DATA:
		rc = dp_chan_rx_data(c, f, &why);
		break;
	case SL_FRAME_DATAGRAM:
		rc = dp_chan_rx_datagram(c, f, &why);
		break;
	case SL_FRAME_MAX_DATA:
	case SL_FRAME_MAX_CHAN:
	case SL_FRAME_MAX_CHAN_DEFAULT:
		take_credit(c, f);
		break;
	case SL_FRAME_CLOSE:
		dp_conn_enter_closed(c, f->close.reason, true, false);
		break;
	default: /* PONG: its ACK is what matters */
		break;
	}
	if (rc == 0)
		return 0;
	return dp_conn_fail(c, why,
			    rc == -ENOMEM		       ? SL_CLOSE_INTERNAL
			    : why == DP_CONN_DROP_FLOW_CONTROL ? SL_CLOSE_FLOW_CONTROL
							       : SL_CLOSE_PROTOCOL);
}

int
dp_conn_input(struct dp_conn *c, uint64_t pn, const uint8_t *frames, size_t len, uint64_t now_ns)
{
	struct dp_ack_ranges ack;
	struct dp_frame f;
	bool eliciting = false, late;
	size_t off = 0;
	int rc;

	if (c->state == DP_CONN_CLOSED) {
		c->cnt.drops[DP_CONN_DROP_AFTER_CLOSE]++;
		if (!c->closed_by_peer && !c->close_pending &&
		    c->close_resends < DP_MAX_CLOSE_RESENDS) {
			c->close_resends++; /* the peer missed our CLOSE: say it again */
			c->close_pending = true;
		}
		return 0;
	}
	if (dp_ack_seen(&c->ack, pn)) {
		c->cnt.drops[DP_CONN_DROP_DUPLICATE]++;
		return 0;
	}
	/* past the idle deadline: taken, but the deadline stays passed, so the owner's next tick
	 * closes the connection (dp_conn.h) */
	late = dp_conn_idle_expired(c, now_ns);
	c->cnt.pkts_recv++;
	c->cnt.bytes_recv += len;
	if (likely(!late))
		c->last_recv_ns = now_ns;
	while ((rc = dp_frame_parse(frames, len, &off, &f, &ack)) > 0) {
		eliciting = eliciting || dp_frame_ack_eliciting(f.type);
		rc = handle_frame(c, &f, &ack, now_ns);
		if (rc != 0)
			return rc; /* closed with a protocol error */
		if (c->state == DP_CONN_CLOSED)
			return 0; /* the peer closed */
	}
	if (rc < 0)
		return dp_conn_fail(
			c, rc == -ENOTSUP ? DP_CONN_DROP_UNKNOWN_FRAME : DP_CONN_DROP_MALFORMED,
			SL_CLOSE_PROTOCOL);
	dp_ack_on_packet(&c->ack, pn, eliciting, now_ns, c->cfg->max_ack_delay_ns,
			 c->cfg->ack_every);
	return 0;
}
