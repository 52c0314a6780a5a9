/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: channels of the reliable engine, send side — the send queue (backpressure, time to
 * live, dropping) and the emission of DATA and DATAGRAM frames: lost bytes resent first, then
 * new bytes within the peer's credit.
 *
 * Message ids on the wire are given when a message's first byte is sent, so a message that
 * expires in the queue leaves no hole for the receiver to wait on; the id dp_conn_send()
 * returns is the sender's own handle (used in DP_EV_EXPIRED).
 *
 * Owner thread only (dp_conn.h). Called from dp_conn.c (send, expiry, close, destroy) and
 * dp_conn_out.c (emission); dp_chan_in.c takes fully acknowledged messages out of the queue.
 */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include "dp_blk.h"
#include "dp_conn_pvt.h"

/* --- the send queue ------------------------------------------------------------------------- */

void
dp_chan_omsg_unref(struct dp_conn *c, struct dp_omsg *m)
{
	m->refs--;
	dp_omsg_maybe_free(c, m);
}

/* A channel refused a send with -ENOBUFS hears it may send again once its queue and its
 * bytes never sent are both down to half their limits. */
static inline void
maybe_writable(struct dp_conn *c, struct dp_chan *ch)
{
	uint32_t lim = c->cfg->unsent_limit;

	if (ch->queued > dp_chan_cfg(c, ch)->queue_limit / 2 ||
	    (lim != 0 && ch->unsent_bytes > lim / 2))
		return;
	ch->blocked = false;
	dp_conn_event_push(c, DP_EV_WRITABLE, ch->id, 0);
}

/* Take m out of its channel queue (fully acknowledged, expired or dropped). */
void
dp_chan_dequeue(struct dp_conn *c, struct dp_chan *ch, struct dp_omsg *m)
{
	if (m->prev != NULL)
		m->prev->next = m->next;
	else
		ch->head = m->next;
	if (m->next != NULL)
		m->next->prev = m->prev;
	else
		ch->tail = m->prev;
	if (ch->unsent == m)
		ch->unsent = m->next;
	m->queued = false;
	ch->queued -= m->len;
	ch->unsent_bytes -= m->len - m->first_sent; /* expired, or a datagram going out */
	if (ch->blocked)
		maybe_writable(c, ch);
}

int
dp_chan_enqueue(struct dp_conn *c, struct dp_chan *ch, const void *data, uint32_t len,
		uint64_t expires_ns, uint64_t *msg_id)
{
	struct dp_omsg *m;

	if (ch->queued + len > dp_chan_cfg(c, ch)->queue_limit ||
	    (c->cfg->unsent_limit != 0 && ch->unsent_bytes >= c->cfg->unsent_limit)) {
		ch->blocked = true;
		return -ENOBUFS;
	}
	m = dp_blk_alloc(sizeof(*m) + len);
	if (m == NULL)
		return -ENOMEM;
	/* every field set here, none left to a memset (wire_id and base: at the first send) */
	m->next = m->rtx_next = NULL;
	m->prev = ch->tail;
	m->id = ch->next_id++;
	m->expires_ns = expires_ns;
	m->len = len;
	m->first_sent = 0;
	m->refs = 0;
	m->chan = ch->id;
	m->queued = true;
	m->in_rtx = false;
	m->ranges_on = false;
	memcpy(m->data, data, len);
	if (ch->tail != NULL)
		ch->tail->next = m;
	else
		ch->head = m;
	ch->tail = m;
	if (ch->unsent == NULL)
		ch->unsent = m;
	dp_chan_activate(c, ch);
	ch->queued += len;
	ch->unsent_bytes += len;
	c->heap += sizeof(*m) + len;
	if (msg_id != NULL)
		*msg_id = m->id;
	return 0;
}

/* Drop every message of the channel (destroy). Messages still referenced by packets in
 * flight are freed when those references go. A closed connection keeps its queue until then:
 * what is in it counts as undelivered (dp_chan_tx_undelivered). */
void
dp_chan_drop_queue(struct dp_conn *c, struct dp_chan *ch)
{
	struct dp_omsg *m, *next;

	for (m = ch->rtx_head; m != NULL; m = next) {
		next = m->rtx_next;
		m->in_rtx = false;
		dp_omsg_maybe_free(c, m);
	}
	ch->rtx_head = ch->rtx_tail = NULL;
	for (m = ch->head; m != NULL; m = next) {
		next = m->next;
		m->queued = false;
		dp_omsg_maybe_free(c, m);
	}
	ch->head = ch->tail = ch->unsent = NULL;
	ch->queued = ch->unsent_bytes = 0;
}

/* The queue holds exactly the messages not acknowledged in full (fully acknowledged ones leave
 * it, expired ones too, datagrams when sent). */
void
dp_chan_tx_undelivered(const struct dp_chan *ch, struct dp_undelivered *u)
{
	for (const struct dp_omsg *m = ch->head; m != NULL; m = m->next) {
		u->undelivered++;
		u->undelivered_bytes += m->len;
	}
}

uint64_t
dp_chan_expire(struct dp_conn *c, struct dp_chan *ch, uint64_t now_ns)
{
	uint64_t next = UINT64_MAX;
	struct dp_omsg *m, *after;

	for (m = ch->unsent; m != NULL; m = after) {
		after = m->next;
		if (m->first_sent != 0 || m->expires_ns == 0)
			continue;
		if (m->expires_ns > now_ns) {
			next = RTE_MIN(next, m->expires_ns);
			continue;
		}
		dp_chan_dequeue(c, ch, m);
		dp_conn_event_push(c, DP_EV_EXPIRED, ch->id, m->id);
		c->cnt.msgs_expired++;
		dp_omsg_maybe_free(c, m);
	}
	return next;
}

/* --- emission ------------------------------------------------------------------------------- */

static void
rtx_pop(struct dp_conn *c, struct dp_chan *ch)
{
	struct dp_omsg *m = ch->rtx_head;

	ch->rtx_head = m->rtx_next;
	if (ch->rtx_head == NULL)
		ch->rtx_tail = NULL;
	m->in_rtx = false;
	dp_omsg_maybe_free(c, m);
}

/* Resend the first lost range of the first message that has one. */
static size_t
emit_rtx(struct dp_conn *c, struct dp_chan *ch, uint8_t *p, size_t room)
{
	struct dp_omsg *m;
	struct dp_range r;
	uint32_t len;
	size_t w;

	while ((m = ch->rtx_head) != NULL) {
		if (m->queued && m->ranges_on && !dp_rs_empty(&m->lost))
			break;
		rtx_pop(c, ch); /* acknowledged meanwhile, or dropped */
	}
	if (m == NULL || room < DP_MIN_DATA_FRAME)
		return 0;
	r = m->lost.v[0];
	len = (uint32_t)RTE_MIN((size_t)(r.hi - r.lo), room - sizeof(struct sl_frame_data));
	len = RTE_MIN(len, (uint32_t)UINT16_MAX);
	w = dp_frame_put_data(p, room, ch->id, m->wire_id, m->base, m->len, r.lo, m->data + r.lo,
			      (uint16_t)len);
	if (dp_conn_rs_remove(c, &m->lost, r.lo, r.lo + len) != 0)
		return 0; /* cannot split the range now; try again later */
	m->refs++;
	dp_conn_ref_add(c, DP_REF_DATA, ch->id, m, r.lo, (uint16_t)len);
	c->cnt.frags_retransmitted++;
	if (dp_rs_empty(&m->lost))
		rtx_pop(c, ch);
	return w;
}

/* First transmission of the next bytes of the channel's oldest unsent message. */
static size_t
emit_new(struct dp_conn *c, struct dp_chan *ch, uint8_t *p, size_t room)
{
	struct dp_omsg *m = ch->unsent;
	uint64_t len;
	size_t w;

	if (m == NULL || room < DP_MIN_DATA_FRAME)
		return 0;
	len = RTE_MIN((uint64_t)(m->len - m->first_sent), dp_chan_credit(c, ch, m));
	len = RTE_MIN(len, (uint64_t)(room - sizeof(struct sl_frame_data)));
	len = RTE_MIN(len, (uint64_t)UINT16_MAX);
	if (len == 0)
		return 0;
	if (m->first_sent == 0) { /* the message starts going out: it gets its wire id now */
		m->wire_id = ch->next_wire_id++;
		m->base = ch->next_base;
		ch->next_base += m->len;
	}
	w = dp_frame_put_data(p, room, ch->id, m->wire_id, m->base, m->len, m->first_sent,
			      m->data + m->first_sent, (uint16_t)len);
	m->refs++;
	dp_conn_ref_add(c, DP_REF_DATA, ch->id, m, m->first_sent, (uint16_t)len);
	m->first_sent += (uint32_t)len;
	c->tx_conn_sent += len;
	ch->unsent_bytes -= (uint32_t)len;
	if (unlikely(ch->blocked))
		maybe_writable(c, ch);
	if (m->first_sent == m->len)
		ch->unsent = m->next;
	return w;
}

/* A datagram goes whole, once; its fate is reported by sequence number. */
static size_t
emit_datagram(struct dp_conn *c, struct dp_chan *ch, uint8_t *p, size_t room)
{
	struct dp_omsg *m = ch->unsent;
	uint32_t seq;
	size_t w;

	if (m == NULL)
		return 0;
	seq = (uint32_t)ch->next_wire_id;
	w = dp_frame_put_datagram(p, room, ch->id, seq, m->data, (uint16_t)m->len);
	if (w == 0)
		return 0;
	ch->next_wire_id++;
	dp_conn_ref_add(c, DP_REF_DGRAM, ch->id, NULL, seq, (uint16_t)m->len);
	dp_chan_dequeue(c, ch, m);
	dp_omsg_maybe_free(c, m);
	return w;
}

/* A message whose time to live passed before its first byte left goes no further. */
static inline void
expire_unsent(struct dp_conn *c, struct dp_chan *ch, uint64_t now_ns)
{
	if (ch->unsent != NULL && ch->unsent->first_sent == 0 && ch->unsent->expires_ns != 0 &&
	    ch->unsent->expires_ns <= now_ns)
		dp_chan_expire(c, ch, now_ns);
}

size_t
dp_chan_emit(struct dp_conn *c, struct dp_chan *ch, uint8_t *p, size_t room, uint64_t now_ns)
{
	size_t w;

	expire_unsent(c, ch, now_ns);
	if (!dp_chan_reliable(c, ch))
		return emit_datagram(c, ch, p, room);
	w = emit_rtx(c, ch, p, room);
	return w != 0 ? w : emit_new(c, ch, p, room);
}

size_t
dp_chan_emit_new(struct dp_conn *c, struct dp_chan *ch, uint8_t *p, size_t room, uint64_t now_ns)
{
	expire_unsent(c, ch, now_ns);
	return emit_new(c, ch, p, room);
}
