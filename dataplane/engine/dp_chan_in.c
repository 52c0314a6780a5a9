/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: channels of the reliable engine, receive side — what arrives for a channel. For the
 * bytes it sent: a packet carrying them acknowledged or lost (acknowledged and lost byte
 * ranges; a message fully acknowledged leaves the send queue, lost bytes go on the
 * retransmission list). For the bytes the peer sends: the flow-control check, reassembly,
 * in-order delivery, and the credit given back as the application releases what it read.
 *
 * Owner thread only (dp_conn.h). Called from dp_conn_in.c (frames; packets resolved) and
 * dp_conn.c (release, destroy).
 */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include "dp_blk.h"
#include "dp_conn_pvt.h"
#include "sl_debug.h"

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

int
dp_conn_rs_remove(struct dp_conn *c, struct dp_rangeset *rs, uint32_t lo, uint32_t hi)
{
	size_t before = dp_rs_heap(rs);
	int rc = dp_rs_remove(rs, lo, hi);

	c->heap += dp_rs_heap(rs) - before;
	return rc;
}

/* --- sent bytes acknowledged or lost -------------------------------------------------------- */

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
		rc |= dp_conn_rs_remove(c, &m->lost, off, off + len);
	(void)rc;
	if (dp_rs_covers(&m->acked, 0, m->len))
		dp_chan_dequeue(c, dp_chan_at(c, m->chan), m);
}

static inline void
frag_acked(struct dp_conn *c, struct dp_omsg *m, uint32_t off, uint32_t len)
{
	if (!m->queued)
		return;
	if (off == 0 && len == m->len) /* the whole message at once: the common small case */
		dp_chan_dequeue(c, dp_chan_at(c, m->chan), m);
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
	dp_omsg_maybe_free(c, m);
}

/* --- data received: reassembly, delivery, credit given back --------------------------------- */

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

static inline struct dp_imsg *
imsg_new(struct dp_conn *c, struct dp_chan *ch, uint64_t id, uint64_t base, uint32_t len)
{
	struct dp_imsg *im = dp_blk_alloc(sizeof(*im) + len);

	if (im == NULL)
		return NULL;
	im->m = (struct dp_msg){ .chan = ch->id, .id = id, .len = len, .data = im->buf };
	im->whole = 0;
	im->next = NULL;
	im->base = base;
	dp_rs_init(&im->got);
	ch->rx_held += len;
	c->heap += sizeof(*im) + len;
	return im;
}

/* All of im is here: which the next ACK tells the peer. Until then it counts as received and
 * unacknowledged, for dp_conn_undelivered(). */
static inline void
mark_whole(struct dp_conn *c, struct dp_chan *ch, struct dp_imsg *im)
{
	uint16_t epoch = dp_ack_epoch(c);

	if (ch->rx_unacked_at != epoch) { /* an ACK left since the last one: they are known */
		ch->rx_unacked_at = epoch;
		ch->rx_unacked = 0;
	}
	ch->rx_unacked++;
	im->whole = DP_IMSG_WHOLE | DP_IMSG_UNACKED | epoch;
}

/* Is all of im here, f having just arrived? The ranges are merged, so then there is one,
 * [0, len); a message in one fragment (the common case) needs no look at them. */
static inline bool
arrived_whole(const struct dp_imsg *im, const struct dp_frame *f)
{
	if (f->data.offset == 0 && f->data.len == im->m.len)
		return true;
	return im->got.n == 1 && im->got.v[0].lo == 0 && im->got.v[0].hi == im->m.len;
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

	while ((im = ch->asm_head) != NULL && im->m.id == ch->rx_next_id && im->whole) {
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

/* Find message id in the reassembly list, or create it in place after validation; *out NULL
 * if it is there and whole already. */
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
		/* whole already, waiting behind a gap: a retransmission whose ACK was lost */
		*out = cur->whole ? NULL : cur;
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
	if (rc != 0 || im == NULL)
		return rc;
	memcpy(im->buf + f->data.offset, f->data.data, f->data.len);
	if (rs_add(c, &im->got, f->data.offset, f->data.offset + f->data.len) != 0) {
		*why = DP_CONN_DROP_TOO_LARGE;
		return -ENOMEM;
	}
	if (!arrived_whole(im, f))
		return 0;
	mark_whole(c, ch, im);
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
	mark_whole(c, ch, im);
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

/* --- what the end throws away --------------------------------------------------------------- */

void
dp_chan_rx_all_acked(struct dp_conn *c)
{
	for (unsigned int i = 0; i < c->cfg->n_channels; i++) {
		struct dp_chan *ch = dp_chan_at(c, i);

		if (ch == NULL)
			continue;
		ch->rx_unacked = 0;
		for (struct dp_imsg *im = ch->asm_head; im != NULL; im = im->next)
			im->whole &= ~DP_IMSG_UNACKED;
	}
	for (struct dp_imsg *im = c->dq_head; im != NULL; im = im->next)
		im->whole &= ~DP_IMSG_UNACKED;
}

/* A message held and never handed over: discarded; if whole and acknowledged, the sender
 * counts it delivered. Returns whether it is whole and not acknowledged yet. */
static bool
held_undelivered(const struct dp_conn *c, const struct dp_imsg *im, struct dp_undelivered *u)
{
	bool whole = im->whole != 0;
	bool unacked = (im->whole & DP_IMSG_UNACKED) && (uint16_t)im->whole == dp_ack_epoch(c);

	u->discarded++;
	u->discarded_bytes += im->m.len;
	u->discarded_acked += whole && !unacked;
	return whole && unacked;
}

void
dp_chan_rx_undelivered(const struct dp_conn *c, struct dp_conn_undelivered *out)
{
	uint32_t held_unacked[SL_MAX_CHANNELS] = { 0 };

	for (const struct dp_imsg *im = c->dq_head; im != NULL; im = im->next)
		held_unacked[im->m.chan] += held_undelivered(c, im, &out->chan[im->m.chan]);
	for (unsigned int i = 0; i < c->cfg->n_channels; i++) {
		const struct dp_chan *ch = dp_chan_at(c, i);
		uint32_t unacked;

		if (ch == NULL)
			continue;
		for (const struct dp_imsg *im = ch->asm_head; im != NULL; im = im->next)
			held_unacked[i] += held_undelivered(c, im, &out->chan[i]);
		/* received whole since the last ACK: handed over, or still held (counted above) */
		unacked = ch->rx_unacked_at == dp_ack_epoch(c) ? ch->rx_unacked : 0;
		SL_ASSERT(unacked >= held_unacked[i]);
		out->chan[i].delivered_unacked = unacked - held_unacked[i];
	}
}
