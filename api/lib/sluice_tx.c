/* SPDX-License-Identifier: BSD-3-Clause
 * libsluice: the send path — credit per session and channel, the lane's tx ring and arena,
 * SL_API_D_SEND and SL_API_D_WANT, and the WRITABLE events that follow a refusal.
 *
 * The tx arena is a byte ring addressed by positions that only grow. A message starts where
 * the previous one ended, or at the next multiple of the arena size when it would not fit
 * before the end (sl_api.h: a SEND's bytes never wrap). Space frees in ring order: the bytes of
 * a descriptor are free once the lcore consumed it, so each tx ring slot remembers where its
 * descriptor's bytes start (tx_start), and the oldest descriptor not consumed yet
 * (sl_ring_consumed()) says where the space in use begins.
 *
 * Two refusals, both -ENOBUFS with a WRITABLE to follow (sluice.h):
 *   no credit  the session has posted its credit on that channel: one WANT goes to the lcore
 *              (wanted bit); its CREDIT answer becomes the WRITABLE (sluice_rx.c).
 *   no room    the lane's ring or arena is full: nothing in the protocol tells when the lcore
 *              takes descriptors, so the lane remembers its producer index (room_head) and
 *              the node the channel (room bit); WRITABLE once the lcore consumed up to there,
 *              which sluice_poll() and sluice_wait() look at (every millisecond while waiting).
 * A WANT that finds the ring full is a "no room" refusal: the retry after its WRITABLE posts it.
 */
#include <errno.h>
#include <string.h>

#include "sluice_pvt.h"

/* The arena position from which bytes are still in use (not consumed by the lcore). */
static uint64_t
tx_in_use_from(struct sl_ring *r, const struct lsl_lane *l)
{
	uint32_t c = sl_ring_consumed(r);

	return c == r->mine ? l->tx_pos : l->tx_start[c & r->mask];
}

/* Where a message of len bytes goes: 0 with *pos, -ENOBUFS (no slot or no room), -EPROTO. */
static int
tx_place(struct lsl_lane *l, uint32_t len, uint64_t *pos)
{
	int slots = sl_ring_free_slots(&l->tx, 1);
	uint64_t p = l->tx_pos, off = p & (l->tx_size - 1);

	if (slots <= 0)
		return slots < 0 ? slots : -ENOBUFS;
	if (off + len > l->tx_size)
		p += l->tx_size - off;
	if (p + len - tx_in_use_from(&l->tx, l) > l->tx_size)
		return -ENOBUFS;
	*pos = p;
	return 0;
}

/* Post d (SEND or WANT, whose bytes start at pos); a slot is free (checked by the caller). */
static void
tx_post(struct lsl_lane *l, const struct sl_api_desc *d, uint64_t start)
{
	l->tx_start[l->tx.mine & l->tx.mask] = start;
	(void)sl_ring_enqueue(&l->tx, d, 1);
}

/* No room in n's lane: WRITABLE on chan once the lcore took what is posted now. */
static int
refuse_room(struct sluice *s, struct lsl_node *n, uint8_t chan)
{
	struct lsl_lane *l = &s->lane[n->lane];

	n->room |= (uint16_t)(1u << chan);
	l->room_wait = true;
	l->room_emit = false;
	l->room_head = l->tx.mine;
	s->st.send_noroom++;
	return -ENOBUFS;
}

/* No credit on chan: ask the lcore once (WANT) to say when there is. */
static int
refuse_credit(struct sluice *s, struct lsl_node *n, uint8_t chan)
{
	struct lsl_lane *l = &s->lane[n->lane];
	struct sl_api_desc d = { .type = SL_API_D_WANT, .chan = chan, .conn = n->conn };
	uint16_t bit = (uint16_t)(1u << chan);
	int slots;

	if (n->wanted & bit) {
		s->st.send_nobufs++;
		return -ENOBUFS;
	}
	slots = sl_ring_free_slots(&l->tx, 1);
	if (slots < 0)
		return lsl_broken(s);
	if (slots == 0)
		return refuse_room(s, n, chan);
	tx_post(l, &d, l->tx_pos);
	n->wanted |= bit;
	s->st.send_nobufs++;
	return -ENOBUFS;
}

int
sluice_send(struct sluice *s, const uint8_t node[SLUICE_NODE_LEN], uint8_t chan, const void *data,
	    size_t len, uint64_t ttl_ns)
{
	struct sl_api_desc d = { .type = SL_API_D_SEND, .chan = chan };
	struct lsl_node *n;
	struct lsl_lane *l;
	uint64_t pos;
	int rc;

	if (chan == 0 || chan >= SL_API_MAX_CHAN || s->rep.chan[chan].kind == 0)
		return -EINVAL;
	if (len == 0 || len > s->max_message)
		return -EMSGSIZE;
	if (s->broken)
		return -EPROTO;
	n = lsl_node_find(s, node);
	if (n == NULL || !n->connected)
		return -ENOTCONN;
	if (n->posted[chan] + len > n->limit[chan])
		return refuse_credit(s, n, chan);
	l = &s->lane[n->lane];
	rc = tx_place(l, (uint32_t)len, &pos);
	if (rc < 0)
		return rc == -ENOBUFS ? refuse_room(s, n, chan) : lsl_broken(s);
	memcpy(l->tx_arena + (pos & (l->tx_size - 1)), data, len);
	d.conn = n->conn;
	d.msg.pos = pos;
	d.msg.len = (uint32_t)len;
	d.msg.ttl_ns = ttl_ns;
	tx_post(l, &d, pos);
	l->tx_pos = pos + len;
	n->posted[chan] += len;
	s->st.msgs_sent++;
	s->st.bytes_sent += len;
	return 0;
}

/* Has the lcore consumed every descriptor posted before lane l's last "no room"? */
static bool
room_back(struct lsl_lane *l)
{
	if (l->room_wait && (int32_t)(sl_ring_consumed(&l->tx) - l->room_head) >= 0) {
		l->room_wait = false;
		l->room_emit = true;
	}
	return l->room_emit;
}

bool
lsl_tx_room_ready(struct sluice *s)
{
	bool any = false;

	for (uint32_t i = 0; i < s->n_lanes; i++)
		any |= room_back(&s->lane[i]);
	return any;
}

bool
lsl_tx_all_taken(struct sluice *s)
{
	for (uint32_t i = 0; i < s->n_lanes; i++)
		if (sl_ring_consumed(&s->lane[i].tx) != s->lane[i].tx.mine)
			return false;
	return true;
}

bool
lsl_tx_room_waiting(const struct sluice *s)
{
	for (uint32_t i = 0; i < s->n_lanes; i++)
		if (s->lane[i].room_wait)
			return true;
	return false;
}

/* WRITABLE for node n's channels refused for room, at most max; how many. */
static unsigned int
node_writable(struct lsl_node *n, struct sluice_event *ev, unsigned int max)
{
	unsigned int k = 0;

	while (n->room != 0 && k < max) {
		uint8_t chan = (uint8_t)__builtin_ctz(n->room);

		n->room &= (uint16_t)(n->room - 1);
		lsl_event_node(&ev[k++], SLUICE_WRITABLE, n->id, chan);
	}
	return k;
}

/* Rare (a lane was full), so a walk over the node table is fine here. */
unsigned int
lsl_tx_writable(struct sluice *s, struct sluice_event *ev, unsigned int max)
{
	unsigned int k = 0;
	struct lsl_node *n;

	if (!lsl_tx_room_ready(s))
		return 0;
	for (uint32_t i = 0; i < s->nodes.n && k < max; i++)
		if ((n = lsl_node_at(s, i)) != NULL && n->room && s->lane[n->lane].room_emit)
			k += node_writable(n, ev + k, max - k);
	if (k < max)
		for (uint32_t i = 0; i < s->n_lanes; i++)
			s->lane[i].room_emit = false;
	return k;
}
