/* SPDX-License-Identifier: BSD-3-Clause
 * libsluice: the receive path — the events ring and each lane's rx ring turned into struct
 * sluice_event, the checks of what the appliance wrote, and the release of the rx arena.
 *
 * Rx arena (sl_api.h): lcore i writes each message on a 64-byte unit, where the previous one
 * ended or, when it would not fit before the end, at the next multiple of the arena size (the
 * bytes skipped are padding). The application releases messages in any order; rx_released,
 * which the lcore reads, may only pass a released prefix. A bit per unit (rx_map) says
 * "released or padding"; releasing a message sets its units' bits and moves rx_rel over the
 * set bits that follow it, clearing them for the arena's next round. Padding is found when a
 * message starts beyond the expected position (rx_next): its units are set at once.
 *
 * Checks: a message must lie where the rules put it — on a unit, not before rx_next, at rx_next
 * or at the arena's next start, inside the arena without wrapping, and below rx_rel + arena
 * size (where the lcore may write). One that does not is skipped, never read, and counted
 * (sluice_stats.appliance_errors); so is a descriptor for a session that is not up on that lane
 * (a well-placed message of one is released at once).
 */
#include <errno.h>
#include <string.h>

#include "sluice_pvt.h"

#define PRIV_TAG 0x51ce01u /* priv[1] = len << 32 | PRIV_TAG << 8 | lane */

static uint64_t
unit_up(uint64_t len)
{
	return (len + LSL_UNIT - 1) & ~(uint64_t)(LSL_UNIT - 1);
}

static uint64_t
ones(uint64_t n)
{
	return n >= 64 ? ~0ull : (1ull << n) - 1;
}

/* --- the release map ---------------------------------------------------------------------- */

/* Set the bits of the units of [from, to) (multiples of LSL_UNIT). */
static void
rx_mark(struct lsl_lane *l, uint64_t from, uint64_t to)
{
	while (from < to) {
		uint64_t u = (from / LSL_UNIT) & l->rx_umask, bit = u % 64;
		uint64_t run = (to - from) / LSL_UNIT;

		if (run > 64 - bit)
			run = 64 - bit;
		l->rx_map[u / 64] |= ones(run) << bit;
		from += run * LSL_UNIT;
	}
}

static bool
rx_marked(const struct lsl_lane *l, uint64_t pos)
{
	uint64_t u = (pos / LSL_UNIT) & l->rx_umask;

	return (l->rx_map[u / 64] >> (u % 64)) & 1;
}

/* Move rx_rel over the set bits from it (clearing them), up to rx_next; publish it. */
static void
rx_advance(struct lsl_lane *l)
{
	uint64_t rel = l->rx_rel;

	while (rel < l->rx_next) {
		uint64_t u = (rel / LSL_UNIT) & l->rx_umask, bit = u % 64;
		uint64_t w = l->rx_map[u / 64] >> bit;
		uint64_t run = ~w ? (uint64_t)__builtin_ctzll(~w) : 64;
		uint64_t left = (l->rx_next - rel) / LSL_UNIT;

		if (run == 0)
			break;
		if (run > left)
			run = left;
		l->rx_map[u / 64] &= ~(ones(run) << bit);
		rel += run * LSL_UNIT;
	}
	if (rel != l->rx_rel) {
		l->rx_rel = rel;
		atomic_store_explicit(l->rx_released, rel, memory_order_release);
	}
}

/* --- descriptors -> events ---------------------------------------------------------------- */

/* Is a message of len bytes at pos where the rx arena rules allow? */
static bool
rx_placed(const struct lsl_lane *l, uint64_t pos, uint32_t len)
{
	uint64_t size = l->rx_size, off = pos & (size - 1);

	if (len == 0 || pos % LSL_UNIT != 0 || pos < l->rx_next)
		return false;
	if (pos != l->rx_next && (off != 0 || pos - l->rx_next >= size))
		return false;
	return off + len <= size && pos - l->rx_rel <= size - len;
}

static unsigned int
rx_msg(struct sluice *s, uint32_t lane, const struct sl_api_desc *d, struct sluice_event *ev)
{
	struct lsl_lane *l = &s->lane[lane];
	uint64_t pos = d->msg.pos;
	uint32_t len = d->msg.len;
	struct lsl_node *n;

	if (!rx_placed(l, pos, len)) {
		s->st.appliance_errors++;
		return 0;
	}
	rx_mark(l, l->rx_next, pos); /* padding, if any */
	l->rx_next = pos + unit_up(len);
	n = lsl_node_by_conn(s, d->conn, lane);
	if (n == NULL || d->chan == 0 || d->chan >= SL_API_MAX_CHAN) {
		rx_mark(l, pos, l->rx_next);
		rx_advance(l);
		s->st.appliance_errors++;
		return 0;
	}
	lsl_event_node(ev, SLUICE_MESSAGE, n->id, d->chan);
	ev->len = len;
	ev->data = l->rx_arena + (pos & (l->rx_size - 1));
	ev->time_ns = d->msg.time_ns;
	ev->id = d->msg.id;
	ev->priv[0] = pos;
	ev->priv[1] = (uint64_t)len << 32 | (uint64_t)PRIV_TAG << 8 | lane;
	s->st.msgs_recv++;
	s->st.bytes_recv += len;
	return 1;
}

static unsigned int
rx_node_up(struct sluice *s, uint32_t lane, const struct sl_api_desc *d, struct sluice_event *ev)
{
	if (lsl_node_up(s, lane, d) < 0) { /* -EEXIST: up twice; -ENOMEM: lost */
		s->st.appliance_errors++;
		return 0;
	}
	lsl_event_node(ev, SLUICE_NODE_CONNECTED, d->node.node, 0);
	ev->ip = d->node.ip;
	ev->port = d->node.port;
	return 1;
}

static unsigned int
rx_node_down(struct sluice *s, uint32_t lane, const struct sl_api_desc *d, struct sluice_event *ev)
{
	uint8_t id[SL_API_NODE_LEN];
	bool current;

	if (lsl_node_down(s, lane, d->conn, id, &current) < 0) {
		s->st.appliance_errors++;
		return 0;
	}
	if (!current) /* a replaced session ended: the node is still up */
		return 0;
	lsl_event_node(ev, SLUICE_NODE_DISCONNECTED, id, 0);
	ev->reason = d->reason;
	ev->by_peer = d->node.by_peer;
	ev->undelivered = d->node.undelivered;
	return 1;
}

/* CREDIT, EXPIRED, DATAGRAM_LOST, SEND_FAILED: about a session up on this lane. */
static unsigned int
rx_session(struct sluice *s, uint32_t lane, const struct sl_api_desc *d, struct sluice_event *ev)
{
	struct lsl_node *n = lsl_node_by_conn(s, d->conn, lane);

	if (n == NULL || d->chan >= SL_API_MAX_CHAN) {
		s->st.appliance_errors++;
		return 0;
	}
	if (d->type == SL_API_D_CREDIT) {
		if (!n->connected || n->conn != d->conn ||
		    !lsl_node_credit(n, d->chan, d->credit.limit))
			return 0; /* a replaced session's, or no WANT out */
		lsl_event_node(ev, SLUICE_WRITABLE, n->id, d->chan);
		return 1;
	}
	lsl_event_node(ev,
		       d->type == SL_API_D_EXPIRED	   ? SLUICE_EXPIRED
		       : d->type == SL_API_D_DATAGRAM_LOST ? SLUICE_DATAGRAM_LOST
							   : SLUICE_SEND_FAILED,
		       n->id, d->chan);
	ev->id = d->msg.id;
	if (d->type == SL_API_D_SEND_FAILED) {
		ev->len = d->msg.len;
		s->st.send_failed++;
	}
	return 1;
}

static unsigned int
lane_desc(struct sluice *s, uint32_t lane, const struct sl_api_desc *d, struct sluice_event *ev)
{
	switch (d->type) {
	case SL_API_D_MSG:
		return rx_msg(s, lane, d, ev);
	case SL_API_D_NODE_UP:
		return rx_node_up(s, lane, d, ev);
	case SL_API_D_NODE_DOWN:
		return rx_node_down(s, lane, d, ev);
	case SL_API_D_CREDIT:
	case SL_API_D_EXPIRED:
	case SL_API_D_DATAGRAM_LOST:
	case SL_API_D_SEND_FAILED:
		return rx_session(s, lane, d, ev);
	default:
		s->st.appliance_errors++;
		return 0;
	}
}

/* A DISCOVERY; a kind this library does not know (a newer appliance's) is skipped. */
static unsigned int
rx_discovery(struct sluice *s, const struct sl_api_desc *d, struct sluice_event *ev)
{
	static const enum sluice_event_type type[] = {
		[SL_API_DISC_ADDR_LEARNED] = SLUICE_DISC_ADDR_LEARNED,
		[SL_API_DISC_PEER_BAD] = SLUICE_DISC_PEER_BAD,
		[SL_API_DISC_BOOK_SAVED] = SLUICE_DISC_BOOK_SAVED,
		[SL_API_DISC_BOOK_FAILED] = SLUICE_DISC_BOOK_FAILED,
	};

	if (d->reason >= sizeof(type) / sizeof(type[0]) || type[d->reason] == 0) {
		s->st.appliance_errors++;
		return 0;
	}
	lsl_event_node(ev, type[d->reason], d->disc.node, 0);
	ev->undelivered = d->disc.missed;
	if (d->reason == SL_API_DISC_BOOK_FAILED)
		ev->reason = (uint16_t)(d->disc.count > UINT16_MAX ? UINT16_MAX : d->disc.count);
	else
		ev->count = d->disc.count;
	return 1;
}

/* The events ring grows (sl_api.h): a type this library does not know is skipped, counted,
 * and never breaks the attachment. */
static unsigned int
event_desc(struct sluice *s, const struct sl_api_desc *d, struct sluice_event *ev)
{
	switch (d->type) {
	case SL_API_D_CONNECT_FAILED:
		lsl_event_node(ev, SLUICE_NODE_CONNECT_FAILED, d->node.node, 0);
		ev->reason = d->reason;
		return 1;
	case SL_API_D_DISCOVERY:
		return rx_discovery(s, d, ev);
	default:
		s->st.appliance_errors++;
		return 0;
	}
}

/* Up to max events from one burst of ring r (lane -1: the events ring). */
static unsigned int
poll_ring(struct sluice *s, struct sl_ring *r, int lane, struct sluice_event *ev, unsigned int max)
{
	struct sl_api_desc d[LSL_RX_BURST];
	int got = sl_ring_peek(r, d, max < LSL_RX_BURST ? max : LSL_RX_BURST);
	unsigned int k = 0;

	if (got < 0) {
		lsl_broken(s);
		return 0;
	}
	for (int i = 0; i < got; i++)
		k += lane < 0 ? event_desc(s, &d[i], &ev[k])
			      : lane_desc(s, (uint32_t)lane, &d[i], &ev[k]);
	if (got > 0)
		sl_ring_take(r, (uint32_t)got);
	return k;
}

int
sluice_poll(struct sluice *s, struct sluice_event *ev, unsigned int max)
{
	unsigned int n;

	if (max == 0)
		return 0;
	n = lsl_tx_writable(s, ev, max);
	if (n < max)
		n += poll_ring(s, &s->events, -1, ev + n, max - n);
	for (uint32_t k = 0; k < s->n_lanes && n < max; k++) {
		uint32_t i = (s->next_lane + k) % s->n_lanes;

		n += poll_ring(s, &s->lane[i].rx, (int)i, ev + n, max - n);
	}
	s->next_lane = (s->next_lane + 1) % s->n_lanes;
	s->st.events += n;
	return n == 0 && s->broken ? -EPROTO : (int)n;
}

bool
lsl_rx_ready(struct sluice *s)
{
	if (s->broken || !sl_ring_empty(&s->events))
		return true;
	for (uint32_t i = 0; i < s->n_lanes; i++)
		if (!sl_ring_empty(&s->lane[i].rx))
			return true;
	return false;
}

void
sluice_release(struct sluice *s, const struct sluice_event *ev)
{
	uint32_t lane = (uint32_t)(ev->priv[1] & 0xff);
	uint64_t pos = ev->priv[0], end = pos + unit_up(ev->priv[1] >> 32);
	struct lsl_lane *l = &s->lane[lane < SL_API_MAX_LANES ? lane : 0];

	if (ev->type != SLUICE_MESSAGE || (ev->priv[1] >> 8 & 0xffffff) != PRIV_TAG ||
	    lane >= s->n_lanes || pos % LSL_UNIT != 0 || pos < l->rx_rel || end <= pos ||
	    end > l->rx_next || rx_marked(l, pos)) {
		s->st.release_errors++; /* not held: released already, or not a message */
		return;
	}
	rx_mark(l, pos, end);
	rx_advance(l);
}

int
sluice_recv(struct sluice *s, struct sluice_event *ev, void *buf, size_t cap)
{
	struct sluice_event held;
	int n = sluice_poll(s, ev, 1);

	if (n <= 0 || ev->type != SLUICE_MESSAGE)
		return n;
	held = *ev;
	if (cap > ev->len)
		cap = ev->len;
	if (cap > 0)
		memcpy(buf, ev->data, cap);
	ev->data = buf;
	sluice_release(s, &held);
	return 1;
}
