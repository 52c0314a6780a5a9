/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the lcores' side of the application interface, towards the application — its
 * notifications (and their backlog while its rx ring is full), its messages copied into the rx
 * arena, the messages a session holds while that arena is full, and what it is told when a
 * session ends (see dp_api.h, dp_api_pvt.h; the contract: api/sl_api.h). Owner lcore only.
 *
 * Held messages wait per session and channel, in order; a channel whose application has no
 * room holds up nothing but itself. A session that found no room puts itself (once) on the
 * lane's waiters; the lane looks, every polling round, whether the application gave room back
 * (rx_released moved, or it took rx ring slots) and then wakes them all: without that, nothing
 * would run the session again while its peer, stopped by flow control, sends nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "dp_api_pvt.h"

#define LINE 64u

/* --- notifications -------------------------------------------------------------------------- */

static bool
backlog_empty(const struct dp_api_lane *ln)
{
	return ln->bl_head == ln->bl_tail;
}

void
dp_api_backlog_flush(struct dp_lcore *lc, struct dp_api_lane *ln)
{
	while (!backlog_empty(ln) && !ln->broken) {
		int n = sl_ring_enqueue(&ln->rx, &ln->backlog[ln->bl_head % DP_API_BACKLOG], 1);

		if (n < 0) {
			dp_api_broken(lc, ln, "rx ring index");
			return;
		}
		if (n == 0)
			return;
		ln->bl_head++;
		ln->wake = true;
	}
}

bool
dp_api_notify(struct dp_lcore *lc, struct dp_api_lane *ln, const struct sl_api_desc *d)
{
	if (ln->broken)
		return false;
	dp_api_backlog_flush(lc, ln);
	if (backlog_empty(ln) && sl_ring_enqueue(&ln->rx, d, 1) == 1) {
		ln->wake = true;
		lc->api_cnt[ln->idx].notifications++;
		return true;
	}
	if (ln->bl_tail - ln->bl_head == DP_API_BACKLOG) {
		dp_api_broken(lc, ln, "too far behind (notification backlog full)");
		return false;
	}
	ln->backlog[ln->bl_tail++ % DP_API_BACKLOG] = *d;
	lc->api_cnt[ln->idx].notifications++;
	return true;
}

/* --- waiting for room ------------------------------------------------------------------------ */

static uint32_t
rx_tail(const struct dp_api_lane *ln)
{
	return atomic_load_explicit(&ln->rx.shm->tail, memory_order_acquire);
}

static uint64_t
rx_released(const struct dp_api_lane *ln)
{
	return atomic_load_explicit(&ln->released->v, memory_order_acquire);
}

/* s found no room in ln: ln wakes it when the application gives some back. */
static void
wait_room(struct dp_api_lane *ln, struct dp_session *s)
{
	uint64_t bit = 1ull << ln->idx;

	if (s->api == NULL || (s->api->waiting & bit))
		return;
	if (ln->n_waiters == ln->cap_waiters) {
		uint32_t cap = ln->cap_waiters ? 2 * ln->cap_waiters : 16;
		uint32_t *w = realloc(ln->waiters, cap * sizeof(*w));

		if (w == NULL) /* it waits for its next packet or timer instead */
			return;
		ln->waiters = w;
		ln->cap_waiters = cap;
	}
	if (ln->n_waiters == 0) { /* what the application has taken and released now */
		ln->wait_tail = rx_tail(ln);
		ln->wait_released = rx_released(ln);
	}
	ln->waiters[ln->n_waiters++] = s->connid;
	s->api->waiting |= bit;
}

unsigned int
dp_api_lane_room(struct dp_lcore *lc, struct dp_api_lane *ln)
{
	uint64_t bit = 1ull << ln->idx;
	unsigned int woken = 0;

	if (ln->n_waiters == 0 ||
	    (rx_tail(ln) == ln->wait_tail && rx_released(ln) == ln->wait_released))
		return 0;
	for (uint32_t k = 0; k < ln->n_waiters; k++) {
		uint32_t id = ln->waiters[k], slot = sl_connid_slot(id);
		struct dp_session *s =
			slot < lc->rt->cfg->limits.max_sessions ? lc->slots[slot] : NULL;

		if (s == NULL || s->connid != id || s->api == NULL) /* gone meanwhile */
			continue;
		s->api->waiting &= ~bit;
		dp_session_wake(lc, s);
		woken++;
	}
	ln->n_waiters = 0;
	return woken;
}

/* --- messages into the rx arena --------------------------------------------------------------- */

/* Room for len bytes at the rx arena's next position (skipping its end if need be): the
 * position, or UINT64_MAX when the application has not released enough. */
static uint64_t
rx_reserve(struct dp_lcore *lc, struct dp_api_lane *ln, uint32_t len)
{
	uint64_t rel = rx_released(ln);
	uint64_t pos = ln->rx_pos, need = RTE_ALIGN_CEIL((uint64_t)len, LINE);

	if (rel < ln->rx_released || rel > ln->rx_pos) {
		dp_api_broken(lc, ln, "rx_released out of range");
		return UINT64_MAX;
	}
	ln->rx_released = rel;
	if ((pos % ln->rx_size) + need > ln->rx_size)
		pos = RTE_ALIGN_CEIL(pos + 1, ln->rx_size); /* skip the end */
	if (pos + need - rel > ln->rx_size)
		return UINT64_MAX;
	return pos;
}

/* Copy m into application ln's rx arena and post it. False when there is no room (s then
 * waits for it). */
static bool
deliver_now(struct dp_lcore *lc, struct dp_api_lane *ln, struct dp_session *s, struct dp_msg *m)
{
	struct sl_api_desc d = { .type = SL_API_D_MSG, .chan = m->chan, .conn = s->connid };
	uint64_t pos = UINT64_MAX;

	int slots;

	dp_api_backlog_flush(lc, ln); /* notifications that waited go first */
	if (ln->broken)
		return false;
	slots = backlog_empty(ln) ? sl_ring_free_slots(&ln->rx, 1) : 0;
	if (slots < 0)
		dp_api_broken(lc, ln, "rx ring index");
	else if (slots > 0)
		pos = rx_reserve(lc, ln, m->len);
	if (pos == UINT64_MAX || ln->broken) {
		wait_room(ln, s);
		return false;
	}
	memcpy(ln->rx_arena + pos % ln->rx_size, m->data, m->len);
	d.msg.pos = pos;
	d.msg.len = m->len;
	d.msg.time_ns = lc->now;
	d.msg.id = m->id;
	if (sl_ring_enqueue(&ln->rx, &d, 1) != 1)
		return false;
	ln->rx_pos = pos + RTE_ALIGN_CEIL((uint64_t)m->len, LINE);
	ln->wake = true;
	lc->api_cnt[ln->idx].msgs_delivered++;
	lc->api_cnt[ln->idx].bytes_delivered += m->len;
	dp_conn_msg_release(s->conn, m);
	return true;
}

/* The application serving m's channel, if it may hear about s; NULL if it may not yet. */
static struct dp_api_lane *
lane_for(struct dp_lcore *lc, const struct dp_session *s, uint8_t chan)
{
	uint8_t o = atomic_load_explicit(&lc->rt->api.owner[chan], memory_order_relaxed);
	struct dp_api_lane *ln = o < DP_API_MAX_APPS ? lc->api_lane[o] : NULL;

	return ln != NULL && (s->api_told & (1ull << o)) ? ln : NULL;
}

static bool
app_owned(const struct dp_lcore *lc, uint8_t chan)
{
	return chan < SL_MAX_CHANNELS &&
	       atomic_load_explicit(&lc->rt->api.owner[chan], memory_order_relaxed) <
		       DP_API_MAX_APPS;
}

/* --- held messages --------------------------------------------------------------------------- */

static bool
held_push(struct dp_api_sess *as, struct dp_msg *m)
{
	struct dp_api_held *h = &as->held[m->chan];

	if (h->n == h->cap) {
		uint32_t cap = h->cap ? 2 * h->cap : 16;
		struct dp_msg **q = malloc(cap * sizeof(*q));

		if (q == NULL)
			return false;
		for (uint32_t k = 0; k < h->n; k++)
			q[k] = h->m[(h->first + k) % h->cap];
		free(h->m);
		h->m = q;
		h->cap = cap;
		h->first = 0;
	}
	h->m[(h->first + h->n++) % h->cap] = m;
	as->holding |= (uint16_t)(1u << m->chan);
	return true;
}

static struct dp_msg *
held_pop(struct dp_api_sess *as, uint8_t chan)
{
	struct dp_api_held *h = &as->held[chan];
	struct dp_msg *m = h->m[h->first];

	h->first = (h->first + 1) % h->cap;
	if (--h->n == 0)
		as->holding &= (uint16_t) ~(1u << chan);
	return m;
}

/* Let go of every message chan holds (counted in *count); frees the queue. */
static void
held_drop(struct dp_session *s, struct dp_api_sess *as, uint8_t chan, uint64_t *count)
{
	struct dp_api_held *h = &as->held[chan];

	*count += h->n;
	while (h->n > 0)
		dp_conn_msg_release(s->conn, held_pop(as, chan));
	free(h->m);
	memset(h, 0, sizeof(*h));
}

bool
dp_api_deliver(struct dp_lcore *lc, struct dp_session *s, struct dp_msg *m)
{
	struct dp_api_sess *as;
	struct dp_api_lane *ln;

	if (!app_owned(lc, m->chan))
		return false;
	as = dp_api_sess_get(s);
	ln = lane_for(lc, s, m->chan);
	if (as != NULL && as->held[m->chan].n == 0 && ln != NULL && deliver_now(lc, ln, s, m))
		return true;
	if (as == NULL || !held_push(as, m)) { /* no memory: the message cannot be kept */
		lc->api_stats.no_memory++;
		dp_conn_msg_release(s->conn, m);
		return true;
	}
	if (ln != NULL)
		lc->api_cnt[ln->idx].held++;
	return true;
}

/* Deliver what channel chan of s holds, in order, as far as its application's arena allows. */
static void
deliver_chan(struct dp_lcore *lc, struct dp_session *s, struct dp_api_sess *as, uint8_t chan)
{
	struct dp_api_lane *ln;

	/* Held only while an application served the channel: it left (detached, or serves it no
	 * more) and nobody took over. Counted the same whether the lane closed first (lane_close:
	 * dp_api_sess_forget()) or the control thread's release of the channel was seen first. */
	if (!app_owned(lc, chan)) {
		held_drop(s, as, chan, &lc->api_stats.dropped_app_gone);
		return;
	}
	ln = lane_for(lc, s, chan);
	while (as->held[chan].n > 0 && ln != NULL &&
	       deliver_now(lc, ln, s, as->held[chan].m[as->held[chan].first]))
		held_pop(as, chan);
}

void
dp_api_deliver_held(struct dp_lcore *lc, struct dp_session *s)
{
	struct dp_api_sess *as = s->api;

	for (uint32_t m = as != NULL ? as->holding : 0; m != 0; m &= m - 1)
		deliver_chan(lc, s, as, (uint8_t)__builtin_ctz(m));
}

void
dp_api_sess_forget(struct dp_lcore *lc, struct dp_session *s, unsigned int i)
{
	struct dp_api_sess *as = s->api;

	if (as == NULL)
		return;
	as->waiting &= ~(1ull << i);
	for (uint8_t c = 0; c < SL_MAX_CHANNELS; c++) {
		if (as->owner[c] == i + 1)
			as->owner[c] = 0;
		if ((as->holding & (1u << c)) &&
		    (atomic_load_explicit(&lc->rt->api.owner[c], memory_order_relaxed) == i ||
		     !app_owned(lc, c)))
			held_drop(s, as, c, &lc->api_stats.dropped_app_gone);
	}
}

/* --- the end of a session -------------------------------------------------------------------- */

void
dp_api_session_close(struct dp_lcore *lc, struct dp_session *s, uint16_t reason, bool by_peer,
		     uint32_t undelivered)
{
	struct sl_api_desc d = { .type = SL_API_D_NODE_DOWN, .conn = s->connid, .reason = reason };
	struct dp_api_sess *as = s->api;

	if (as != NULL) {
		dp_api_deliver_held(lc, s);
		for (uint8_t c = 0; c < SL_MAX_CHANNELS; c++) /* the arena stayed full to the end */
			held_drop(s, as, c, &lc->api_stats.dropped_closed);
		free(as);
		s->api = NULL;
	}
	memcpy(d.node.node, s->node, SL_API_NODE_LEN);
	d.node.by_peer = by_peer;
	d.node.undelivered = undelivered;
	for (uint64_t m = s->api_told & lc->api_lanes; m != 0; m &= m - 1)
		dp_api_notify(lc, lc->api_lane[__builtin_ctzll(m)], &d);
	s->api_told = 0;
}

void
dp_api_engine_event(struct dp_lcore *lc, struct dp_session *s, const struct dp_conn_event *ev)
{
	struct sl_api_desc d = { .chan = ev->chan, .conn = s->connid };
	struct dp_api_lane *ln;

	if (!app_owned(lc, ev->chan) || (ln = lane_for(lc, s, ev->chan)) == NULL)
		return;
	if (ev->type == DP_EV_EXPIRED)
		d.type = SL_API_D_EXPIRED;
	else if (ev->type == DP_EV_DATAGRAM_LOST)
		d.type = SL_API_D_DATAGRAM_LOST;
	else
		return;
	d.msg.id = ev->id;
	dp_api_notify(lc, ln, &d);
}
