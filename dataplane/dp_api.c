/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the lcores' side of the application interface — lanes, credit, what applications
 * post, the polling round (see dp_api.h; towards the application: dp_api_rx.c; the contract:
 * api/sl_api.h). Owner lcore only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dp_api_pvt.h"

RTE_LOG_REGISTER(dp_api_logtype, sluice.dp.api, INFO);

#define ANNOUNCE_PER_RUN 256u	/* sessions a new lane is told about per polling round */
#define WAKE_BATCH_SLOTS 128u	/* wake_due(): descriptors worth waking a sleeper for */
#define WAKE_DELAY_NS	 20000u /* ... the longest a wake waits for them */

static_assert(WAKE_BATCH_SLOTS <= DP_API_RING_SLOTS / 4, "a batch leaves the ring room to fill");

/* --- lanes -------------------------------------------------------------------------------- */

static void *
at(const struct dp_api_app *a, uint64_t off)
{
	return a->shm + off;
}

static struct dp_api_lane *
lane_open(struct dp_lcore *lc, unsigned int i, const struct dp_api_app *a)
{
	const struct sl_api_lane_layout *l = &a->layout.lane[lc->index];
	struct dp_api_lane *ln = calloc(1, sizeof(*ln));

	if (ln == NULL)
		return NULL;
	ln->idx = i;
	ln->gen = a->gen;
	sl_ring_attach(&ln->tx, at(a, l->tx_ring), a->layout.ring_slots, sizeof(struct sl_api_desc),
		       false);
	sl_ring_attach(&ln->rx, at(a, l->rx_ring), a->layout.ring_slots, sizeof(struct sl_api_desc),
		       true);
	ln->tx_arena = at(a, l->tx_arena);
	ln->rx_arena = at(a, l->rx_arena);
	ln->tx_size = a->layout.tx_arena_bytes;
	ln->rx_size = a->layout.rx_arena_bytes;
	ln->released = at(a, l->rx_released);
	ln->sleeping = at(a, a->layout.sleeping);
	return ln;
}

/* Let go of application i: what the sessions hold for it, what they were told. */
static void
lane_close(struct dp_lcore *lc, unsigned int i)
{
	uint64_t bit = 1ull << i;

	for (uint32_t k = 0; k < lc->rt->cfg->limits.max_sessions; k++) {
		struct dp_session *s = lc->slots[k];

		if (s != NULL && (s->api_told & bit)) {
			s->api_told &= ~bit;
			dp_api_sess_forget(lc, s, i);
		}
	}
	free(lc->api_lane[i]->waiters);
	free(lc->api_lane[i]);
	lc->api_lane[i] = NULL;
	lc->api_lanes &= ~bit;
}

/* Follow the control thread: a new attachment in slot i, or one going. */
static struct dp_api_lane *
lane_sync(struct dp_lcore *lc, unsigned int i)
{
	const struct dp_api_app *a = &lc->rt->api.app[i];
	uint32_t st = atomic_load_explicit(&a->state, memory_order_acquire);
	struct dp_api_lane *ln = lc->api_lane[i];

	if (ln != NULL && (st != DP_API_LIVE || ln->gen != a->gen)) {
		lane_close(lc, i);
		ln = NULL;
	}
	if (ln == NULL && st == DP_API_LIVE) {
		ln = lane_open(lc, i, a);
		lc->api_lane[i] = ln;
		if (ln != NULL)
			lc->api_lanes |= 1ull << i;
		else
			API_LOG(ERR, "%u: no memory for application %u\n", lc->index, i);
	}
	return ln;
}

void
dp_api_broken(struct dp_lcore *lc, struct dp_api_lane *ln, const char *what)
{
	if (!ln->broken)
		API_LOG(WARNING, "%u: application %u: %s: its lane stops\n", lc->index, ln->idx,
			what);
	ln->broken = true;
	lc->api_cnt[ln->idx].protocol_errors++;
}

/* --- sessions ------------------------------------------------------------------------------- */

/* The most credit a channel grants at once: its queue limit, or the unsent limit below it. */
static uint32_t
chan_window(const struct dp_lcore *lc, uint8_t chan)
{
	const struct dp_conn_config *e = &lc->rt->cfg->engine;
	uint32_t w = e->chan[chan].queue_limit;

	return e->unsent_limit != 0 && e->unsent_limit < w ? e->unsent_limit : w;
}

struct dp_api_sess *
dp_api_sess_get(struct dp_session *s)
{
	if (s->api == NULL)
		s->api = calloc(1, sizeof(*s->api));
	return s->api;
}

/* The credit of chan is application ln's from now: as it was told when the session came up,
 * it may send the channel's initial credit (the attach reply's) before any CREDIT. */
static void
credit_own(struct dp_lcore *lc, struct dp_api_sess *as, const struct dp_api_lane *ln, uint8_t chan)
{
	if (as->owner[chan] == ln->idx + 1 && as->owner_gen[chan] == ln->gen)
		return;
	as->owner[chan] = (uint8_t)(ln->idx + 1);
	as->owner_gen[chan] = ln->gen;
	as->granted[chan] = chan_window(lc, chan);
	as->accepted[chan] = 0;
}

/* Raise the credit of channel chan of s for application ln (the channel's owner) to what the
 * engine takes now, and tell it when it grew enough to be worth it: by a quarter of a window
 * (an application that waits for it, asleep perhaps, then has a batch to send, not a message
 * or two: the silly window of TCP); by anything when it asked and the channel has all its
 * room back (no more is coming: it must not wait for nothing). */
static void
grant(struct dp_lcore *lc, struct dp_api_lane *ln, struct dp_session *s, uint8_t chan, bool asked)
{
	struct dp_api_sess *as = dp_api_sess_get(s);
	struct sl_api_desc d = { .type = SL_API_D_CREDIT, .chan = chan, .conn = s->connid };
	uint32_t room, win = chan_window(lc, chan);
	uint64_t limit;

	if (as == NULL)
		return;
	credit_own(lc, as, ln, chan);
	room = dp_conn_send_room(s->conn, chan);
	limit = as->accepted[chan] + room;
	if (limit <= as->granted[chan] ||
	    (as->granted[chan] != 0 && limit - as->granted[chan] < win / 4 &&
	     !(asked && room >= win)))
		return;
	as->granted[chan] = limit;
	d.credit.limit = limit;
	as->want &= (uint16_t) ~(1u << chan);
	dp_api_notify(lc, ln, &d);
}

/* Tell application ln about session s: NODE_UP, then credit on the channels it serves. */
static void
announce(struct dp_lcore *lc, struct dp_api_lane *ln, struct dp_session *s)
{
	struct sl_api_desc d = { .type = SL_API_D_NODE_UP, .conn = s->connid };

	memcpy(d.node.node, s->node, SL_API_NODE_LEN);
	d.node.ip = s->ip;
	d.node.port = s->udp_port;
	if (!dp_api_notify(lc, ln, &d))
		return;
	s->api_told |= 1ull << ln->idx;
	dp_session_wake(lc, s); /* what it held for this application can go now */
}

/* Tell a new lane about the sessions that were open before it came, a few per round. */
static void
announce_existing(struct dp_lcore *lc, struct dp_api_lane *ln)
{
	uint32_t max = lc->rt->cfg->limits.max_sessions, end = ln->announce + ANNOUNCE_PER_RUN;

	for (; ln->announce < max && ln->announce < end && !ln->broken; ln->announce++) {
		struct dp_session *s = lc->slots[ln->announce];

		if (s != NULL && !s->closing && !(s->api_told & (1ull << ln->idx)))
			announce(lc, ln, s);
	}
	ln->announced = ln->announce >= max;
}

void
dp_api_session_open(struct dp_lcore *lc, struct dp_session *s)
{
	for (uint64_t m = lc->api_lanes; m != 0; m &= m - 1) {
		struct dp_api_lane *ln = lc->api_lane[__builtin_ctzll(m)];

		/* a lane still announcing reaches this slot by itself */
		if (ln != NULL && (ln->announced || s->slot < ln->announce))
			announce(lc, ln, s);
	}
}

void
dp_api_session_run(struct dp_lcore *lc, struct dp_session *s)
{
	struct dp_api_sess *as = s->api;

	if (as == NULL)
		return;
	if (as->holding != 0)
		dp_api_deliver_held(lc, s);
	/* credit that fell to half or less of a window, or that was asked for */
	for (uint8_t c = 1; c < SL_MAX_CHANNELS; c++) {
		struct dp_api_lane *ln;

		if (as->owner[c] == 0 || (ln = lc->api_lane[as->owner[c] - 1]) == NULL ||
		    ln->gen != as->owner_gen[c])
			continue;
		if ((as->want & (1u << c)) ||
		    as->granted[c] - as->accepted[c] < chan_window(lc, c) / 2)
			grant(lc, ln, s, c, (as->want & (1u << c)) != 0);
	}
}

/* --- what applications post ------------------------------------------------------------------ */

/* The session a descriptor names, or NULL: counted as impossible (bad_session), or told back
 * to the application as ended (SEND_FAILED) when the slot's session is another one or none. */
static struct dp_session *
session_of(struct dp_lcore *lc, struct dp_api_lane *ln, const struct sl_api_desc *d)
{
	uint32_t slot = sl_connid_slot(d->conn);
	struct dp_session *s;

	if (sl_connid_owner(d->conn) != lc->index || slot >= lc->rt->cfg->limits.max_sessions) {
		lc->api_cnt[ln->idx].bad_session++;
		return NULL;
	}
	s = lc->slots[slot];
	if (s == NULL || s->connid != d->conn || s->closing || !(s->api_told & (1ull << ln->idx))) {
		struct sl_api_desc f = { .type = SL_API_D_SEND_FAILED,
					 .chan = d->chan,
					 .conn = d->conn };

		if (d->type == SL_API_D_SEND) {
			f.msg.len = d->msg.len;
			lc->api_cnt[ln->idx].send_failed++;
			dp_api_notify(lc, ln, &f);
		}
		return NULL;
	}
	return s;
}

/* A SEND. False if it must wait in the ring: within its credit, but the engine's channel has no
 * room yet (see below); every other outcome takes it (sent, or refused: counted, or told). */
static bool
on_send(struct dp_lcore *lc, struct dp_api_lane *ln, const struct sl_api_desc *d)
{
	struct dp_api_counters *cnt = &lc->api_cnt[ln->idx];
	uint64_t off = d->msg.pos % ln->tx_size;
	struct dp_api_sess *as;
	struct dp_session *s;
	int rc;

	if (d->chan >= SL_MAX_CHANNELS ||
	    atomic_load_explicit(&lc->rt->api.owner[d->chan], memory_order_relaxed) != ln->idx) {
		cnt->not_owner++;
		return true;
	}
	if (d->msg.len == 0 || d->msg.len > lc->rt->api.max_message ||
	    off + d->msg.len > ln->tx_size) {
		cnt->bad_descriptor++;
		return true;
	}
	s = session_of(lc, ln, d);
	if (s == NULL)
		return true;
	as = dp_api_sess_get(s);
	if (as != NULL)
		credit_own(lc, as, ln, d->chan);
	if (as == NULL || as->accepted[d->chan] + d->msg.len > as->granted[d->chan]) {
		cnt->over_credit++;
		return true;
	}
	as->accepted[d->chan] += d->msg.len;
	rc = dp_conn_send(s->conn, d->chan, ln->tx_arena + off, d->msg.len, d->msg.ttl_ns, lc->now,
			  NULL);
	if (rc == -ENOBUFS) {
		/* Within its credit, yet the channel is full: it still holds what a previous owner
		 * posted (an application that detached, or unregistered the channel), and
		 * credit_own() gave this one the initial credit every new owner assumes. The
		 * descriptor waits in the ring until that has drained: a message within credit is
		 * neither refused nor held by the lcore. */
		as->accepted[d->chan] -= d->msg.len;
		return false;
	}
	if (rc != 0) { /* closing, or no memory: the application hears of it */
		struct sl_api_desc f = { .type = SL_API_D_SEND_FAILED,
					 .chan = d->chan,
					 .conn = d->conn };

		f.msg.len = d->msg.len;
		cnt->send_failed++;
		dp_api_notify(lc, ln, &f);
		return true;
	}
	cnt->msgs_sent++;
	cnt->bytes_sent += d->msg.len;
	dp_session_wake(lc, s);
	return true;
}

static void
on_want(struct dp_lcore *lc, struct dp_api_lane *ln, const struct sl_api_desc *d)
{
	struct dp_session *s;

	if (d->chan >= SL_MAX_CHANNELS ||
	    atomic_load_explicit(&lc->rt->api.owner[d->chan], memory_order_relaxed) != ln->idx) {
		lc->api_cnt[ln->idx].not_owner++;
		return;
	}
	s = session_of(lc, ln, d);
	if (s == NULL || dp_api_sess_get(s) == NULL)
		return;
	s->api->want |= (uint16_t)(1u << d->chan);
	grant(lc, ln, s, d->chan, true);
	dp_session_wake(lc, s);
}

/* Descriptors the application posted, a burst at most, in order; a SEND that must wait stops
 * the burst and stays in the ring with those behind it (the next round looks again). Having
 * taken the last one it posted, the lane is drained: an application asleep waiting for room
 * wants to hear of it. */
static unsigned int
take_posted(struct dp_lcore *lc, struct dp_api_lane *ln)
{
	struct sl_api_desc d[DP_API_BURST];
	int n = sl_ring_peek(&ln->tx, d, DP_API_BURST), k;

	if (n < 0) {
		dp_api_broken(lc, ln, "tx ring index");
		return 0;
	}
	for (k = 0; k < n; k++) {
		if (d[k].type == SL_API_D_SEND) {
			if (!on_send(lc, ln, &d[k]))
				break;
		} else if (d[k].type == SL_API_D_WANT) {
			on_want(lc, ln, &d[k]);
		} else {
			lc->api_cnt[ln->idx].bad_descriptor++;
		}
	}
	if (k > 0)
		sl_ring_take(&ln->tx, (uint32_t)k);
	if (k > 0 && ln->tx.theirs == ln->tx.mine) /* everything seen posted is taken */
		ln->room_wake = true;
	return (unsigned int)k;
}

/* Wake application ln if it sleeps with one of the bits of why (SL_API_SLEEP_*) in its sleep
 * flag. The fence pairs with the one libsluice puts between setting the flag and looking at
 * its rings (sl_api.h, "Waiting"). */
static void
wake(struct dp_lcore *lc, struct dp_api_lane *ln, uint64_t why)
{
	const uint64_t one = 1;

	ln->room_wake = false;
	if (why & SL_API_SLEEP_EVENTS) {
		ln->wake = false;
		ln->wake_since = 0;
	}
	atomic_thread_fence(memory_order_seq_cst);
	if ((atomic_load_explicit(&ln->sleeping->v, memory_order_relaxed) & why) == 0)
		return;
	ln->wake = false; /* it looks at everything once awake */
	ln->wake_since = 0;
	if (write(lc->rt->api.app[ln->idx].eventfd, &one, sizeof(one)) == sizeof(one))
		lc->api_cnt[ln->idx].wakeups++;
}

/* Slots to look at: those the control thread uses, and those this lcore still has a lane for
 * (to notice they went). */
static uint64_t
slots(const struct dp_lcore *lc)
{
	return atomic_load_explicit(&lc->rt->api.used, memory_order_acquire) | lc->api_lanes;
}

unsigned int
dp_api_poll(struct dp_lcore *lc)
{
	unsigned int work = 0;

	for (uint64_t m = slots(lc); m != 0; m &= m - 1) {
		unsigned int i = (unsigned int)__builtin_ctzll(m);
		struct dp_api_lane *ln = lane_sync(lc, i);

		if (ln == NULL || ln->broken)
			continue;
		if (!ln->announced)
			announce_existing(lc, ln);
		work += dp_api_lane_room(lc, ln) + take_posted(lc, ln);
	}
	return work;
}

/* Wake now, or after more rounds (coalescing)? A woken application takes its core from this
 * lcore when they share one, for what is in its rx ring; while the lcore keeps finding work
 * more is coming, so the wake waits for a batch worth a context switch: WAKE_BATCH_SLOTS
 * descriptors, a quarter of the rx arena, WAKE_DELAY_NS since the first round that left one
 * pending, or a round without work (the lcore waits for nothing: it wakes it before it idles). */
static bool
wake_due(struct dp_lcore *lc, struct dp_api_lane *ln, unsigned int work)
{
	if (work == 0)
		return true;
	if (ln->wake_since == 0)
		ln->wake_since = lc->now;
	return lc->now - ln->wake_since >= WAKE_DELAY_NS ||
	       ln->rx.mine - sl_ring_consumed(&ln->rx) >= WAKE_BATCH_SLOTS ||
	       ln->rx_pos - atomic_load_explicit(&ln->released->v, memory_order_relaxed) >=
		       ln->rx_size / 4; /* (an impossible rx_released only makes it wake early) */
}

void
dp_api_round_end(struct dp_lcore *lc, unsigned int work)
{
	for (uint64_t m = lc->api_lanes; m != 0; m &= m - 1) {
		struct dp_api_lane *ln = lc->api_lane[__builtin_ctzll(m)];

		if (ln == NULL || ln->broken)
			continue;
		dp_api_backlog_flush(lc, ln);
		if (ln->wake && wake_due(lc, ln, work))
			wake(lc, ln, SL_API_SLEEP_EVENTS | SL_API_SLEEP_ROOM);
		else if (ln->room_wake)
			wake(lc, ln, SL_API_SLEEP_ROOM);
	}
}

void
dp_api_lcore_fini(struct dp_lcore *lc)
{
	dp_api_round_end(lc, 0); /* the last NODE_DOWNs, and wake it for them */
	for (unsigned int i = 0; i < DP_API_MAX_APPS; i++)
		if (lc->api_lane[i] != NULL)
			lane_close(lc, i);
}

/* --- for the control thread ------------------------------------------------------------- */

bool
dp_lcore_api_broken(const struct dp_runtime *rt, unsigned int l, unsigned int i)
{
	return rt->lcores[l]->api_cnt[i].protocol_errors != 0;
}

void
dp_lcore_api_counters(const struct dp_runtime *rt, unsigned int i, struct dp_api_counters *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int l = 0; l < rt->n_lcores; l++) {
		const struct dp_api_counters *c = &rt->lcores[l]->api_cnt[i];

#define DP_API_SUM(name, what) sum->name += c->name;
		DP_API_COUNTERS(DP_API_SUM)
#undef DP_API_SUM
	}
}

void
dp_lcore_api_reset(struct dp_runtime *rt, unsigned int i)
{
	for (unsigned int l = 0; l < rt->n_lcores; l++)
		memset(&rt->lcores[l]->api_cnt[i], 0, sizeof(rt->lcores[l]->api_cnt[i]));
}

void
dp_lcore_api_stats(const struct dp_runtime *rt, struct dp_api_lcore_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int l = 0; l < rt->n_lcores; l++) {
		const struct dp_api_lcore_stats *c = &rt->lcores[l]->api_stats;

		for (unsigned int k = 0; k < SL_MAX_CHANNELS; k++)
			sum->no_owner[k] += c->no_owner[k];
		sum->dropped_app_gone += c->dropped_app_gone;
		sum->dropped_closed += c->dropped_closed;
		sum->no_memory += c->no_memory;
	}
}
