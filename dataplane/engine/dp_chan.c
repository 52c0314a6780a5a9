/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: channels of the reliable engine — send queues (backpressure, time to live,
 * acknowledged and lost bytes), reassembly, in-order delivery and flow-control credit.
 *
 * Message ids on the wire are given when a message's first byte is sent, so a message that
 * expires in the queue leaves no hole for the receiver to wait on; the id dp_conn_send()
 * returns is the sender's own handle (used in DP_EV_EXPIRED).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include "dp_blk.h"
#include "dp_conn_pvt.h"

struct dp_chan *
dp_chan_get_slow(struct dp_conn *c, uint8_t id)
{
	struct dp_chan *ch;

	if (id >= c->cfg->n_channels || c->cfg->chan[id].kind == DP_CHAN_UNUSED)
		return NULL;
	if (c->chans == NULL) {
		c->chans = calloc(c->cfg->n_channels, sizeof(*c->chans));
		if (c->chans == NULL)
			return NULL;
		c->heap += c->cfg->n_channels * sizeof(*c->chans);
	}
	if (c->chans[id] != NULL)
		return c->chans[id];
	ch = calloc(1, sizeof(*ch));
	if (ch == NULL)
		return NULL;
	ch->id = id;
	ch->peer_max = DP_INITIAL_CHAN_CREDIT;
	/* what the peer may send before hearing from this channel: the default credit, once our
	 * MAX_CHAN_DEFAULT has gone out */
	ch->rx_advertised = c->chan_default_dirty ? DP_INITIAL_CHAN_CREDIT : c->cfg->chan_window;
	c->chans[id] = ch;
	if (dp_chan_reliable(c, ch) && c->cfg->chan_window > ch->rx_advertised)
		dp_chan_owe_credit(c, ch);
	c->heap += sizeof(*ch);
	return ch;
}

/* Range-set changes with the heap they take or give back accounted. A set with a free inline
 * slot cannot grow onto the heap: the common case skips the accounting. */
static inline int
rs_add(struct dp_conn *c, struct dp_rangeset *rs, uint32_t lo, uint32_t hi)
{
	size_t before;
	int rc;

	if (rs->n < rs->cap && rs->v == rs->inl)
		return dp_rs_add(rs, lo, hi);
	before = dp_rs_heap(rs);
	rc = dp_rs_add(rs, lo, hi);

	c->heap += dp_rs_heap(rs) - before;
	return rc;
}

static int
rs_remove(struct dp_conn *c, struct dp_rangeset *rs, uint32_t lo, uint32_t hi)
{
	size_t before = dp_rs_heap(rs);
	int rc = dp_rs_remove(rs, lo, hi);

	c->heap += dp_rs_heap(rs) - before;
	return rc;
}

/* --- sending -------------------------------------------------------------------------------- */

static inline void
omsg_maybe_free(struct dp_conn *c, struct dp_omsg *m)
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

void
dp_chan_omsg_unref(struct dp_conn *c, struct dp_omsg *m)
{
	m->refs--;
	omsg_maybe_free(c, m);
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
static void
dequeue(struct dp_conn *c, struct dp_chan *ch, struct dp_omsg *m)
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

/* The byte ranges of m, set up on first use. */
static inline void
ranges_on(struct dp_omsg *m)
{
	if (!m->ranges_on) {
		dp_rs_init(&m->acked);
		dp_rs_init(&m->lost);
		m->ranges_on = true;
	}
}

/* Part of a message acknowledged: kept out of line, so the per-packet path of whole messages
 * stays small. */
static __rte_noinline void
frag_acked_part(struct dp_conn *c, struct dp_omsg *m, uint32_t off, uint32_t len)
{
	int rc;

	/* Out of memory here only means the bytes may be sent again: never wrong. */
	ranges_on(m);
	rc = rs_add(c, &m->acked, off, off + len);
	if (!dp_rs_empty(&m->lost))
		rc |= rs_remove(c, &m->lost, off, off + len);
	(void)rc;
	if (dp_rs_covers(&m->acked, 0, m->len))
		dequeue(c, dp_chan_at(c, m->chan), m);
}

static inline void
frag_acked(struct dp_conn *c, struct dp_omsg *m, uint32_t off, uint32_t len)
{
	if (!m->queued)
		return;
	if (off == 0 && len == m->len) /* the whole message at once: the common small case */
		dequeue(c, dp_chan_at(c, m->chan), m);
	else
		frag_acked_part(c, m, off, len);
}

static __rte_noinline void
frag_lost(struct dp_conn *c, struct dp_omsg *m, uint32_t off, uint32_t len)
{
	struct dp_chan *ch = dp_chan_at(c, m->chan);
	struct dp_range gap;

	if (!m->queued)
		return;
	ranges_on(m);
	while (dp_rs_first_gap(&m->acked, off, off + len, &gap)) {
		if (rs_add(c, &m->lost, gap.lo, gap.hi) != 0)
			break; /* cannot record: the PTO will probe and the peer will ask again */
		len -= gap.hi - off;
		off = gap.hi;
	}
	if (!dp_rs_empty(&m->lost) && !m->in_rtx) {
		m->in_rtx = true;
		m->rtx_next = NULL;
		if (ch->rtx_tail != NULL)
			ch->rtx_tail->rtx_next = m;
		else
			ch->rtx_head = m;
		ch->rtx_tail = m;
		dp_chan_activate(c, ch);
	}
}

void
dp_chan_frag_resolved(struct dp_conn *c, struct dp_omsg *m, uint32_t off, uint32_t len, bool acked)
{
	if (likely(acked))
		frag_acked(c, m, off, len);
	else
		frag_lost(c, m, off, len);
	m->refs--;
	omsg_maybe_free(c, m);
}

/* Drop every message of the channel (abortive close, destroy). Messages still referenced by
 * packets in flight are freed when those references go. */
void
dp_chan_drop_queue(struct dp_conn *c, struct dp_chan *ch)
{
	struct dp_omsg *m, *next;

	for (m = ch->rtx_head; m != NULL; m = next) {
		next = m->rtx_next;
		m->in_rtx = false;
		omsg_maybe_free(c, m);
	}
	ch->rtx_head = ch->rtx_tail = NULL;
	for (m = ch->head; m != NULL; m = next) {
		next = m->next;
		m->queued = false;
		omsg_maybe_free(c, m);
	}
	ch->head = ch->tail = ch->unsent = NULL;
	ch->queued = ch->unsent_bytes = 0;
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
		dequeue(c, ch, m);
		dp_conn_event_push(c, DP_EV_EXPIRED, ch->id, m->id);
		c->cnt.msgs_expired++;
		omsg_maybe_free(c, m);
	}
	return next;
}

/* --- receiving ------------------------------------------------------------------------------ */

static void
imsg_free(struct dp_conn *c, struct dp_chan *ch, struct dp_imsg *im)
{
	ch->rx_held -= im->m.len;
	c->heap -= sizeof(*im) + im->m.len + dp_rs_heap(&im->got);
	dp_rs_fini(&im->got);
	dp_blk_free(im, sizeof(*im) + im->m.len);
}

void
dp_chan_drop_rx(struct dp_conn *c, struct dp_chan *ch)
{
	struct dp_imsg *im, *next;

	for (im = ch->asm_head; im != NULL; im = next) {
		next = im->next;
		imsg_free(c, ch, im);
	}
	ch->asm_head = NULL;
}

static struct dp_imsg *
imsg_new(struct dp_conn *c, struct dp_chan *ch, uint64_t id, uint64_t base, uint32_t len)
{
	struct dp_imsg *im = dp_blk_alloc(sizeof(*im) + len);

	if (im == NULL)
		return NULL;
	im->m = (struct dp_msg){ .chan = ch->id, .id = id, .len = len, .data = im->buf };
	im->next = NULL;
	im->base = base;
	dp_rs_init(&im->got);
	ch->rx_held += len;
	c->heap += sizeof(*im) + len;
	return im;
}

static void
deliver(struct dp_conn *c, struct dp_imsg *im)
{
	im->next = NULL;
	if (c->dq_tail != NULL)
		c->dq_tail->next = im;
	else
		c->dq_head = im;
	c->dq_tail = im;
	c->cnt.msgs_delivered++;
	c->cnt.bytes_delivered += im->m.len;
}

/* Hand over every complete message at the front of the reassembly list, in id order. */
static void
deliver_ready(struct dp_conn *c, struct dp_chan *ch)
{
	struct dp_imsg *im;

	while ((im = ch->asm_head) != NULL && im->m.id == ch->rx_next_id &&
	       dp_rs_covers(&im->got, 0, im->m.len)) {
		ch->asm_head = im->next;
		ch->rx_next_id++;
		ch->rx_next_base += im->m.len;
		deliver(c, im);
	}
}

/* Can a new message (id, base, len) sit between its neighbours? Every message between two
 * known ones holds at least one byte, so ids cannot run ahead of bytes. */
static bool
fits_between(const struct dp_chan *ch, const struct dp_imsg *prev, const struct dp_imsg *next,
	     uint64_t id, uint64_t base, uint32_t len)
{
	uint64_t lo_id = prev ? prev->m.id + 1 : ch->rx_next_id;
	uint64_t lo_base = prev ? prev->base + prev->m.len : ch->rx_next_base;

	if (base < lo_base || id - lo_id > base - lo_base)
		return false;
	if (id == lo_id && base != lo_base)
		return false;
	if (next == NULL)
		return true;
	return base + len <= next->base && next->m.id - id - 1 <= next->base - (base + len);
}

/* Find message id in the reassembly list, or create it in place after validation. */
static int
asm_lookup(struct dp_conn *c, struct dp_chan *ch, const struct dp_frame *f, struct dp_imsg **out,
	   enum dp_conn_drop *why)
{
	struct dp_imsg *prev = NULL, *cur = ch->asm_head, *im;

	while (cur != NULL && cur->m.id < f->data.msg_id) {
		prev = cur;
		cur = cur->next;
	}
	if (cur != NULL && cur->m.id == f->data.msg_id) {
		*out = cur;
		if (cur->base == f->data.msg_base && cur->m.len == f->data.msg_len)
			return 0;
		*why = DP_CONN_DROP_BAD_OFFSET;
		return -EPROTO;
	}
	if (!fits_between(ch, prev, cur, f->data.msg_id, f->data.msg_base, f->data.msg_len)) {
		*why = DP_CONN_DROP_BAD_OFFSET;
		return -EPROTO;
	}
	if (ch->rx_held + f->data.msg_len > (uint64_t)c->cfg->chan_window + c->cfg->max_message) {
		*why = DP_CONN_DROP_FLOW_CONTROL;
		return -EPROTO;
	}
	im = imsg_new(c, ch, f->data.msg_id, f->data.msg_base, f->data.msg_len);
	if (im == NULL) {
		*why = DP_CONN_DROP_TOO_LARGE;
		return -ENOMEM;
	}
	im->next = cur;
	if (prev != NULL)
		prev->next = im;
	else
		ch->asm_head = im;
	*out = im;
	return 0;
}

/* Flow control: the fragment must lie within the credit we gave, for the channel and for the
 * connection. Updates the highest offsets. */
static bool
within_credit(struct dp_conn *c, struct dp_chan *ch, uint64_t end)
{
	uint64_t grow = end > ch->rx_highest ? end - ch->rx_highest : 0;

	if (end > ch->rx_advertised || c->rx_conn_highest + grow > c->rx_conn_advertised)
		return false;
	ch->rx_highest += grow;
	c->rx_conn_highest += grow;
	return true;
}

int
dp_chan_rx_data(struct dp_conn *c, const struct dp_frame *f, enum dp_conn_drop *why)
{
	struct dp_chan *ch = dp_chan_get(c, f->data.chan);
	struct dp_imsg *im;
	int rc;

	if (ch == NULL || !dp_chan_reliable(c, ch)) {
		*why = DP_CONN_DROP_BAD_CHANNEL;
		return -EPROTO;
	}
	if (f->data.msg_len > c->cfg->max_message) {
		*why = DP_CONN_DROP_TOO_LARGE;
		return -EPROTO;
	}
	if (!within_credit(c, ch, f->data.msg_base + f->data.offset + f->data.len)) {
		*why = DP_CONN_DROP_FLOW_CONTROL;
		return -EPROTO;
	}
	if (f->data.msg_id < ch->rx_next_id)
		return 0; /* already delivered: a retransmission whose ACK was lost */
	rc = asm_lookup(c, ch, f, &im, why);
	if (rc != 0)
		return rc;
	memcpy(im->buf + f->data.offset, f->data.data, f->data.len);
	if (rs_add(c, &im->got, f->data.offset, f->data.offset + f->data.len) != 0) {
		*why = DP_CONN_DROP_TOO_LARGE;
		return -ENOMEM;
	}
	if (im->m.id == ch->rx_next_id)
		deliver_ready(c, ch);
	return 0;
}

int
dp_chan_rx_datagram(struct dp_conn *c, const struct dp_frame *f, enum dp_conn_drop *why)
{
	struct dp_chan *ch = dp_chan_get(c, f->dgram.chan);
	struct dp_imsg *im;

	if (ch == NULL || dp_chan_reliable(c, ch)) {
		*why = DP_CONN_DROP_BAD_CHANNEL;
		return -EPROTO;
	}
	if (ch->rx_held + f->dgram.len > c->cfg->chan_window) {
		c->cnt.drops[DP_CONN_DROP_FLOW_CONTROL]++; /* unreliable: dropped, not fatal */
		return 0;
	}
	im = imsg_new(c, ch, f->dgram.seq, 0, f->dgram.len);
	if (im == NULL)
		return 0;
	memcpy(im->buf, f->dgram.data, f->dgram.len);
	deliver(c, im);
	return 0;
}

void
dp_chan_release(struct dp_conn *c, struct dp_imsg *im)
{
	struct dp_chan *ch = dp_chan_at(c, im->m.chan);
	uint32_t win = c->cfg->chan_window;

	if (dp_chan_reliable(c, ch)) {
		ch->rx_released += im->m.len;
		c->rx_conn_released += im->m.len;
		if (ch->rx_released + win - ch->rx_advertised >= win / 4)
			dp_chan_owe_credit(c, ch);
		if (c->rx_conn_released + c->cfg->conn_window - c->rx_conn_advertised >=
		    c->cfg->conn_window / 4)
			c->conn_credit_dirty = true;
	}
	imsg_free(c, ch, im);
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
	omsg_maybe_free(c, m);
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
	if (rs_remove(c, &m->lost, r.lo, r.lo + len) != 0)
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
	dp_conn_ref_add(c, DP_REF_DGRAM, ch->id, NULL, seq, 0);
	dequeue(c, ch, m);
	omsg_maybe_free(c, m);
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
