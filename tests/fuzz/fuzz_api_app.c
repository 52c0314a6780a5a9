/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: fuzz_api's applications, attached as cp_api.c attaches them (a shared memory laid
 * out by sl_api_layout(), published LIVE to the lcore; detached GONE, freed after the lcore's
 * next round), with one lane each (the lcore's).
 *
 * ALICE keeps the contract of api/sl_api.h, as libsluice does: she reads her rx ring after
 * every round and checks each descriptor the lcore wrote (its type, its session, where a
 * message lies in her arena, the message's bytes, the order of a channel's messages, credit
 * that never shrinks), releases messages when the input says, sends within her credit (a WANT
 * when beyond it) and only to sessions she was told of. MALLORY does anything: descriptors of
 * any content, indices and shared words of any value, any channel.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fuzz.h"
#include "fuzz_api.h"

#define RING_SLOTS 64	       /* small, so that a full ring and the backlog are reached */
#define ARENA	   (64u << 10) /* sl_api.h's smallest: 16 of the largest messages */
#define UNIT	   64u
#define MAX_HELD   (ARENA / UNIT)

static_assert(RING_SLOTS == RTE_DIM(((struct fa_app *)0)->posted_log), "a log entry a slot");

struct fa_app alice, mallory;
static uint32_t attach_gen; /* cp_api's count of attachments */

static uint64_t
unit_up(uint64_t v)
{
	return RTE_ALIGN_CEIL(v, UNIT);
}

#include "sl_poison.h"

static const struct sl_api_sizes sizes = { 1, RING_SLOTS, ARENA, ARENA };

/* Its shared memory is made once, a heap block of exactly the layout's size, and poisoned
 * while it is not attached (as unmapped: under ASan the lcore touching it then is a report). */
void
fa_app_init(struct fa_app *a, unsigned int idx)
{
	struct sl_api_shm_hdr hdr;
	uint64_t size = sl_api_layout(&sizes, &hdr);

	memset(a, 0, sizeof(*a));
	a->idx = idx;
	a->size = size;
	a->shm = aligned_alloc(UNIT, size);
	a->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	a->held = calloc(MAX_HELD, sizeof(a->held[0]));
	fuzz_check(size != 0 && a->shm != NULL && a->eventfd >= 0 && a->held != NULL,
		   "a shared memory, an eventfd, memory");
	POISON(a->shm, size);
}

/* Forget the last attachment: detached, the memory poisoned. */
static void
app_reset(struct fa_app *a)
{
	struct fa_app keep = *a;

	POISON(a->shm, a->size);
	memset(a, 0, sizeof(*a));
	a->idx = keep.idx;
	a->size = keep.size;
	a->shm = keep.shm;
	a->eventfd = keep.eventfd;
	a->held = keep.held;
}

void
fa_apps_start(void)
{
	app_reset(&alice);
	app_reset(&mallory);
	attach_gen = 0;
}

void
fa_apps_stop(void)
{
	app_reset(&alice); /* the lcore let go of both (fa_world_stop) */
	app_reset(&mallory);
}

void
fa_app_attach(struct fa_app *a)
{
	struct dp_api_app *da = &W.rt->api.app[a->idx];
	const struct sl_api_lane_layout *l;

	if (a->attached || a->leaving)
		return;
	app_reset(a);
	fuzz_check(sl_api_layout(&sizes, &a->hdr) == a->size, "the layout");
	UNPOISON(a->shm, a->size);
	memset(a->shm, 0, a->size);
	memcpy(a->shm, &a->hdr, sizeof(a->hdr)); /* as cp_api.c's make_shm */
	l = &a->hdr.lane[0];
	sl_ring_attach(&a->tx, (void *)(a->shm + l->tx_ring), RING_SLOTS,
		       sizeof(struct sl_api_desc), true);
	sl_ring_attach(&a->rx, (void *)(a->shm + l->rx_ring), RING_SLOTS,
		       sizeof(struct sl_api_desc), false);
	a->tx_arena = a->shm + l->tx_arena;
	a->rx_arena = a->shm + l->rx_arena;
	a->released = (void *)(a->shm + l->rx_released);
	a->sleeping = (void *)(a->shm + a->hdr.sleeping);
	da->shm = a->shm;
	da->shm_size = a->size;
	da->layout = a->hdr;
	da->eventfd = a->eventfd;
	da->gen = a->gen = ++attach_gen; /* as cp_api.c's attach_reply */
	dp_lcore_api_reset(W.rt, a->idx);
	atomic_store_explicit(&da->state, DP_API_LIVE, memory_order_release);
	atomic_fetch_or_explicit(&W.rt->api.used, 1ull << a->idx, memory_order_release);
	a->attached = true;
}

void
fa_app_detach(struct fa_app *a)
{
	if (!a->attached)
		return;
	for (unsigned int c = 0; c < SL_MAX_CHANNELS; c++) /* as cp_api_detach */
		if (atomic_load_explicit(&W.rt->api.owner[c], memory_order_relaxed) == a->idx)
			atomic_store_explicit(&W.rt->api.owner[c], DP_API_OWNER_NONE,
					      memory_order_release);
	atomic_store_explicit(&W.rt->api.app[a->idx].state, DP_API_GONE, memory_order_release);
	a->attached = false;
	a->leaving = true;
}

void
fa_app_after_round(struct fa_app *a)
{
	struct dp_api_app *da = &W.rt->api.app[a->idx];

	if (!a->leaving)
		return;
	/* the lcore saw GONE in the round that just ran: it let go of the memory */
	fuzz_check(W.lc->api_lane[a->idx] == NULL, "a departed application's lane is closed");
	POISON(a->shm, a->size); /* as munmap */
	da->shm = NULL;
	atomic_store_explicit(&da->state, DP_API_FREE, memory_order_release);
	atomic_fetch_and_explicit(&W.rt->api.used, ~(1ull << a->idx), memory_order_release);
	a->leaving = false;
}

/* As cp_api_req.c's do_register and do_unregister. */
int
fa_app_register(struct fa_app *a, uint8_t chan)
{
	const struct dp_conn_config *e = &W.cfg->engine;
	uint8_t o;

	if (!a->attached)
		return -ENOTCONN;
	if (chan == SL_CONTROL_CHANNEL || chan >= e->n_channels ||
	    e->chan[chan].kind == DP_CHAN_UNUSED)
		return -EINVAL;
	o = atomic_load_explicit(&W.rt->api.owner[chan], memory_order_relaxed);
	if (o == a->idx)
		return -EALREADY;
	if (o != DP_API_OWNER_NONE)
		return -EBUSY;
	atomic_store_explicit(&W.rt->api.owner[chan], (uint8_t)a->idx, memory_order_release);
	a->registered[chan] = true;
	return 0;
}

int
fa_app_unregister(struct fa_app *a, uint8_t chan)
{
	if (!a->attached || chan >= SL_MAX_CHANNELS ||
	    atomic_load_explicit(&W.rt->api.owner[chan], memory_order_relaxed) != a->idx)
		return -ENOENT;
	atomic_store_explicit(&W.rt->api.owner[chan], DP_API_OWNER_NONE, memory_order_release);
	a->registered[chan] = false;
	return 0;
}

/* --- ALICE: what she reads -------------------------------------------------------------------- */

/* Where the rules of sl_api.h allow a message of len bytes at pos: on a unit, where the last
 * one ended or at the arena's next start, without wrapping, below rx_released + size. */
static bool
placed(uint64_t pos, uint32_t len)
{
	uint64_t off = pos % ARENA;

	if (len == 0 || len > W.cfg->engine.max_message || pos % UNIT != 0 || pos < alice.rx_next)
		return false;
	if (pos != alice.rx_next && (off != 0 || pos - alice.rx_next >= ARENA))
		return false;
	return off + len <= ARENA && pos - alice.rx_rel <= ARENA - len;
}

static void
on_node_up(const struct sl_api_desc *d, unsigned int slot)
{
	const struct dp_conn_config *e = &W.cfg->engine;
	uint8_t node[SL_API_NODE_LEN];

	memset(node, 0xa0 + (int)slot, sizeof(node));
	fuzz_check(alice.told[slot] == 0, "NODE_UP: the slot's last session was told down");
	fuzz_check(memcmp(d->node.node, node, sizeof(node)) == 0 && d->node.ip == 0xc6120010 + slot,
		   "NODE_UP: the session's node and address");
	alice.told[slot] = d->conn;
	alice.strict[slot] = fa_sess_live(slot, d->conn) && W.sess[slot].alice_gen == alice.gen;
	for (unsigned int c = 0; c < FA_CHANS; c++) {
		/* the attach reply's initial credit (cp_api.c) */
		alice.granted[slot][c] =
			e->unsent_limit != 0 && e->unsent_limit < e->chan[c].queue_limit
				? e->unsent_limit
				: e->chan[c].queue_limit;
		alice.posted[slot][c] = 0;
		alice.seq_in[slot][c] = 0;
	}
}

/* A message: where it may lie, what its bytes are, its place in its channel's order. */
static void
on_msg(const struct sl_api_desc *d, unsigned int slot)
{
	uint32_t seq, *in = &alice.seq_in[slot][d->chan];

	fuzz_check(placed(d->msg.pos, d->msg.len), "MSG: where the rx arena rules put it");
	fuzz_check(fa_msg_ok(alice.rx_arena + d->msg.pos % ARENA, d->msg.len, FA_FROM_PEER,
			     (uint8_t)slot, d->chan, &seq),
		   "MSG: the peer's message, byte for byte");
	if (d->chan == FA_ALICE_DG)
		fuzz_check(seq > *in, "MSG: datagrams never twice, never older");
	else if (*in != 0 || (d->chan == FA_ALICE_REL && alice.strict[slot]))
		fuzz_check(seq == *in + 1,
			   "MSG: a reliable channel's messages in order, none lost");
	*in = seq;
	alice.held[alice.n_held++] = (struct fa_held){ d->msg.pos, d->msg.len };
	alice.rx_next = d->msg.pos + unit_up(d->msg.len);
}

static void
on_desc(const struct sl_api_desc *d)
{
	unsigned int slot = sl_connid_slot(d->conn);
	bool mine = slot < FA_SLOTS && sl_connid_owner(d->conn) == 0 && alice.told[slot] == d->conn;
	bool chan_ok = d->chan < FA_CHANS && alice.registered[d->chan];

	fuzz_check(sl_connid_owner(d->conn) == 0 && slot < FA_SLOTS, "a session of the lane");
	switch (d->type) {
	case SL_API_D_NODE_UP:
		on_node_up(d, slot);
		return;
	case SL_API_D_NODE_DOWN:
		fuzz_check(mine, "NODE_DOWN: of a session she was told of");
		alice.told[slot] = 0;
		return;
	case SL_API_D_CREDIT:
		fuzz_check(mine && chan_ok, "CREDIT: her session, her channel");
		fuzz_check(d->credit.limit >= alice.granted[slot][d->chan], "credit never shrinks");
		alice.granted[slot][d->chan] = d->credit.limit;
		return;
	case SL_API_D_MSG:
		fuzz_check(mine && chan_ok, "MSG: her session, her channel");
		on_msg(d, slot);
		return;
	case SL_API_D_EXPIRED:
	case SL_API_D_DATAGRAM_LOST:
		fuzz_check(mine && chan_ok, "engine event: her session, her channel");
		return;
	case SL_API_D_SEND_FAILED:
		fuzz_check(chan_ok && !fa_sess_live(slot, d->conn),
			   "SEND_FAILED: only when the session had ended");
		return;
	default:
		fuzz_check(false, "a descriptor of a type the lcore sends");
	}
}

/* rx_released: below the first message she holds, or everything read. */
static void
publish(void)
{
	uint64_t rel = alice.rx_next;

	for (unsigned int i = 0; i < alice.n_held; i++)
		rel = RTE_MIN(rel, alice.held[i].pos);
	fuzz_check(rel >= alice.rx_rel, "rx_released only grows");
	alice.rx_rel = rel;
	atomic_store_explicit(&alice.released->v, rel, memory_order_release);
}

void
fa_alice_read(void)
{
	struct sl_api_desc d[16];
	int n;

	if (!alice.attached)
		return;
	while ((n = sl_ring_dequeue(&alice.rx, d, RTE_DIM(d))) > 0)
		for (int k = 0; k < n; k++)
			on_desc(&d[k]);
	fuzz_check(n == 0, "the lcore's rx ring index is possible");
	publish();
}

void
fa_alice_release(const uint8_t *mask, size_t n, bool all)
{
	unsigned int kept = 0;

	if (!alice.attached)
		return;
	for (unsigned int i = 0; i < alice.n_held; i++) {
		const struct fa_held *h = &alice.held[i];
		const struct fa_msg *m = (const void *)(alice.rx_arena + h->pos % ARENA);
		uint32_t seq;

		fuzz_check(
			fa_msg_ok((const uint8_t *)m, h->len, FA_FROM_PEER, m->slot, m->chan, &seq),
			"a message she holds is never overwritten");
		if (all || (i / 8 < n && (mask[i / 8] >> (i % 8)) & 1))
			continue;
		alice.held[kept++] = *h;
	}
	alice.n_held = kept;
	publish();
}

/* --- ALICE: what she posts -------------------------------------------------------------------- */

static bool
can_post(unsigned int slot, uint8_t chan)
{
	return alice.attached && alice.registered[chan] && alice.told[slot] != 0;
}

void
fa_alice_want(unsigned int slot, uint8_t chan)
{
	struct sl_api_desc d = { .type = SL_API_D_WANT, .chan = chan };

	if (!can_post(slot, chan))
		return;
	d.conn = alice.told[slot];
	alice.posted_log[alice.tx.mine % RING_SLOTS] = (struct fa_posted){ d.type, chan, slot, 0 };
	(void)sl_ring_enqueue(&alice.tx, &d, 1); /* a full ring: she asks later */
}

void
fa_alice_send(unsigned int slot, uint8_t chan, uint32_t len)
{
	struct sl_api_desc d = { .type = SL_API_D_SEND, .chan = chan };
	uint64_t pos = alice.tx_pos;
	uint32_t seq;

	if (!can_post(slot, chan))
		return;
	if (alice.posted[slot][chan] + len > alice.granted[slot][chan]) {
		fa_alice_want(slot, chan); /* libsluice: -ENOBUFS, and one WANT */
		return;
	}
	/* the tx arena frees in ring order: every descriptor taken, every byte is free */
	if (sl_ring_consumed(&alice.tx) != alice.tx.mine)
		return;
	if (pos % ARENA + len > ARENA)
		pos = RTE_ALIGN_CEIL(pos + 1, ARENA);
	/* numbered in the session's order; 0 for a session that ended (never delivered) */
	seq = fa_sess_live(slot, alice.told[slot]) ? ++W.sess[slot].alice_sent[chan] : 0;
	fa_msg_write(alice.tx_arena + pos % ARENA, FA_FROM_ALICE, (uint8_t)slot, chan, seq, len);
	d.conn = alice.told[slot];
	d.msg.pos = pos;
	d.msg.len = len;
	alice.posted_log[alice.tx.mine % RING_SLOTS] =
		(struct fa_posted){ d.type, chan, slot, len };
	fuzz_check(sl_ring_enqueue(&alice.tx, &d, 1) == 1, "room in her empty tx ring");
	alice.tx_pos = pos + len;
	alice.posted[slot][chan] += len;
}

/* What she posted and the lcore left in her ring: nothing, or, first, a SEND (within her
 * credit, the engine had no room for it: dp_api.c's on_send lets it wait). Whether the engine
 * has room now cannot tell: the session sent since, or ended. That it is taken in the end, the
 * final check of fuzz_api.c sees. */
static void
check_waiting(void)
{
	if (alice.tx_taken != alice.tx.mine)
		fuzz_check(alice.posted_log[alice.tx_taken % RING_SLOTS].type == SL_API_D_SEND,
			   "what waits in her ring is a SEND");
}

/* After each round: each SEND the lcore took sent or refused because its session ended, none
 * over her credit, nothing counted against her; what it left waits for a reason. */
void
fa_alice_check_counters(void)
{
	struct dp_api_counters c;
	uint32_t tail, sends = 0;

	if (!alice.attached)
		return;
	dp_lcore_api_counters(W.rt, alice.idx, &c);
	tail = sl_ring_consumed(&alice.tx);
	fuzz_check(tail - alice.tx_taken <= alice.tx.mine - alice.tx_taken, "her ring's tail");
	for (; alice.tx_taken != tail; alice.tx_taken++)
		sends += alice.posted_log[alice.tx_taken % RING_SLOTS].type == SL_API_D_SEND;
	fuzz_check(c.msgs_sent - alice.seen.msgs_sent + c.send_failed - alice.seen.send_failed ==
			   sends,
		   "each SEND of hers taken was sent, or refused for an ended session");
	fuzz_check(c.over_credit == 0, "a SEND within her credit is never refused (over_credit)");
	fuzz_check(c.bad_descriptor == 0 && c.bad_session == 0 && c.not_owner == 0 &&
			   c.protocol_errors == 0,
		   "nothing counted against a well-behaved application");
	check_waiting();
	alice.seen = c;
}

bool
fa_alice_all_delivered(void)
{
	for (unsigned int i = 0; i < FA_SLOTS; i++) {
		const struct fa_sess *fs = &W.sess[i];

		if (fs->s == NULL || !fa_sess_live(i, fs->s->connid))
			continue;
		if (alice.told[i] != fs->s->connid ||
		    alice.seq_in[i][FA_ALICE_REL] != fs->peer_sent[FA_ALICE_REL] ||
		    fs->peer_got[FA_ALICE_REL] != fs->alice_sent[FA_ALICE_REL])
			return false;
	}
	return true;
}

/* --- MALLORY ---------------------------------------------------------------------------------- */

void
fa_mallory_desc(unsigned int slot, const uint8_t *b, size_t n, bool raw)
{
	const struct fa_sess *fs = &W.sess[slot];
	struct sl_api_desc d = { .type = SL_API_D_SEND, .chan = FA_FREE_CHAN };

	if (!mallory.attached)
		return;
	d.conn = fs->s != NULL ? fs->s->connid : sl_connid(0, slot, 1);
	d.msg.pos = mallory.tx_pos;
	d.msg.len = 100;
	memcpy(&d, b, RTE_MIN(n, sizeof(d)));
	mallory.tx_pos += 128;
	if (!raw && sl_ring_enqueue(&mallory.tx, &d, 1) == 1)
		return;
	/* over whatever is there, published whatever the lcore took */
	memcpy(sl_ring_slot(&mallory.tx, mallory.tx.mine), &d, sizeof(d));
	mallory.tx.mine++;
	atomic_store_explicit(&mallory.tx.shm->head, mallory.tx.mine, memory_order_release);
}

/* She reads her rx ring and releases all she read. */
static void
mallory_consume(void)
{
	struct sl_api_desc d[16];
	int n;

	while ((n = sl_ring_dequeue(&mallory.rx, d, RTE_DIM(d))) > 0)
		for (int k = 0; k < n; k++)
			if (d[k].type == SL_API_D_MSG)
				mallory.rx_next = d[k].msg.pos + unit_up(d[k].msg.len);
	atomic_store_explicit(&mallory.released->v, mallory.rx_next, memory_order_release);
}

void
fa_mallory_poke(unsigned int what, const uint8_t *b, size_t n)
{
	uint64_t v = 0;

	if (!mallory.attached)
		return;
	memcpy(&v, b, RTE_MIN(n, sizeof(v)));
	switch (what) {
	case 0: /* her tx ring's producer index */
		atomic_store_explicit(&mallory.tx.shm->head, (uint32_t)v, memory_order_release);
		break;
	case 1: /* her rx ring's consumer index */
		atomic_store_explicit(&mallory.rx.shm->tail, (uint32_t)v, memory_order_release);
		break;
	case 2:
		atomic_store_explicit(&mallory.released->v, v, memory_order_release);
		break;
	case 3:
		atomic_store_explicit(&mallory.sleeping->v, v, memory_order_release);
		break;
	case 4: /* the indices the lcore writes */
		atomic_store_explicit(&mallory.tx.shm->tail, (uint32_t)v, memory_order_release);
		atomic_store_explicit(&mallory.rx.shm->head, (uint32_t)(v >> 32),
				      memory_order_release);
		break;
	case 5:
		mallory_consume();
		break;
	default: /* bytes into her tx arena */
		if (n > sizeof(v))
			memcpy(mallory.tx_arena + v % ARENA, b + sizeof(v),
			       RTE_MIN(n - sizeof(v), ARENA - v % ARENA));
		break;
	}
}
