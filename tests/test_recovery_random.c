/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: loss recovery against a naive reference, over long seeded random runs.
 *
 * A sender drives dp_recovery through a simulated path (loss, jitter, reordering, black
 * holes) to a peer that acknowledges what it received with up to SL_MAX_ACK_RANGES + 1
 * ranges (sometimes repeating an old ACK). The reference keeps one record per packet number
 * and checks, for every callback and after every call: a packet is reported at most once and
 * only as acknowledged if the ACK covers it, only as lost if a threshold says so; after loss
 * detection nothing that meets a threshold is left and the loss time is the earliest one; the
 * RTT sample comes from the largest acknowledged packet exactly when it should; bytes and
 * packets in flight, the PTO backoff and the timer match; spurious losses are counted by
 * the documented rule. At the end every recorded packet was reported exactly once and the
 * recovery state holds no memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "dp_recovery.h"
#include "sl_test.h"

#define MS  1000000ull
#define MSS 1200
#define MAD (25 * MS)
#define RP  30000 /* packet numbers per run */
#define OWD (10 * MS)

enum { ST_NONE, ST_OUT, ST_ACKED, ST_LOST };

struct rpkt {
	uint64_t sent, arrive, expire;
	uint32_t bytes;
	uint8_t state;
	bool eliciting, recorded, in_transit, spur;
};

struct world {
	struct dp_recovery r;
	struct rpkt p[RP];
	bool recv[RP];
	uint64_t transit[RP], out[RP], tomb[RP];
	unsigned int n_transit, n_out, n_tomb;
	uint64_t now, rng, recv_max, recv_floor, last_eliciting, fifo_arrive;
	bool any_recv, new_recv;
	/* reference counters */
	uint64_t bytes_out, spurious, reported, recorded, pcs;
	uint32_t elic_out;
	unsigned int errors, newly;
	bool largest_newly, any_eliciting;
	const struct dp_ack_ranges *cur;
	/* the run */
	unsigned int loss_pct, reorder_pct;
	bool blackhole;
};

static uint64_t
rnd(struct world *w, uint64_t n)
{
	return sl_test_mix64(&w->rng) % n;
}

static void
err(struct world *w, const char *what, uint64_t pn)
{
	if (w->errors++ < 10)
		fprintf(stderr, "  t %.6f s pn %llu: %s\n", w->now / 1e9, (unsigned long long)pn,
			what);
}

/* --- the reference's own arithmetic (RFC 9002, written out naively) ---------------------- */

static uint64_t
ref_loss_delay(const struct dp_rtt *rtt)
{
	uint64_t m = rtt->smoothed_ns > rtt->latest_ns ? rtt->smoothed_ns : rtt->latest_ns;

	m = m * 9 / 8;
	return m > SL_GRANULARITY_NS ? m : SL_GRANULARITY_NS;
}

static uint64_t
ref_pto(const struct dp_rtt *rtt)
{
	uint64_t v = 4 * rtt->var_ns;

	return rtt->smoothed_ns + (v > SL_GRANULARITY_NS ? v : SL_GRANULARITY_NS) + MAD;
}

static bool
in_ranges(const struct dp_ack_ranges *a, uint64_t pn)
{
	for (unsigned int i = 0; i < a->n; i++)
		if (pn >= a->r[i].lo && pn <= a->r[i].hi)
			return true;
	return false;
}

static void
out_remove(struct world *w, uint64_t pn)
{
	for (unsigned int i = 0; i < w->n_out; i++) {
		if (w->out[i] == pn) {
			w->out[i] = w->out[--w->n_out];
			return;
		}
	}
}

/* --- callbacks --------------------------------------------------------------------------- */

static void
cb_acked(void *arg, const struct dp_sent *s)
{
	struct world *w = arg;
	struct rpkt *p = &w->p[s->pn];

	if (w->cur == NULL || p->state != ST_OUT || !in_ranges(w->cur, s->pn) ||
	    s->bytes != p->bytes || s->frames != (uint32_t)s->pn)
		err(w, "acknowledged wrongly", s->pn);
	p->state = ST_ACKED;
	out_remove(w, s->pn);
	w->bytes_out -= p->bytes;
	w->elic_out -= p->eliciting;
	w->newly++;
	w->reported++;
	w->largest_newly |= s->pn == w->cur->r[0].hi;
	w->any_eliciting |= p->eliciting;
}

static void
cb_lost(void *arg, const struct dp_sent *s)
{
	struct world *w = arg;
	struct rpkt *p = &w->p[s->pn];
	uint64_t largest = w->r.largest_acked;

	if (p->state != ST_OUT || s->pn >= largest ||
	    (s->pn + 3 > largest && p->sent + ref_loss_delay(&w->r.rtt) > w->now))
		err(w, "lost wrongly", s->pn);
	p->state = ST_LOST;
	out_remove(w, s->pn);
	w->bytes_out -= p->bytes;
	w->elic_out -= p->eliciting;
	w->reported++;
	p->expire = w->now + DP_RECOVERY_LOST_KEEP_PTOS * ref_pto(&w->r.rtt);
	w->tomb[w->n_tomb++] = s->pn;
}

static const struct dp_recovery_cb *
cbs(struct world *w)
{
	static struct dp_recovery_cb cb = { cb_acked, cb_lost, NULL };

	cb.arg = w;
	return &cb;
}

/* --- checks after each call -------------------------------------------------------------- */

/* After loss detection ran: nothing left that a threshold declares lost, and the loss time
 * is the earliest time one will. */
static void
check_detection(struct world *w)
{
	uint64_t largest = w->r.largest_acked, delay = ref_loss_delay(&w->r.rtt), first = 0;

	for (unsigned int i = 0; i < w->n_out; i++) {
		uint64_t pn = w->out[i], t = w->p[pn].sent + delay;

		if (pn >= largest)
			continue;
		if (pn + 3 <= largest || t <= w->now)
			err(w, "not declared lost", pn);
		if (first == 0 || t < first)
			first = t;
	}
	if (w->r.loss_time_ns != first)
		err(w, "loss time", first);
}

static void
check_counters(struct world *w)
{
	uint64_t want = UINT64_MAX;

	if (w->r.bytes_in_flight != w->bytes_out || w->r.eliciting_in_flight != w->elic_out)
		err(w, "bytes or packets in flight", w->bytes_out);
	if (w->r.stats.spurious != w->spurious)
		err(w, "spurious count", w->spurious);
	if (w->r.loss_time_ns != 0)
		want = w->r.loss_time_ns;
	else if (w->elic_out > 0 && w->r.pto_count < 32)
		want = w->last_eliciting + (ref_pto(&w->r.rtt) << w->r.pto_count);
	else if (w->elic_out > 0)
		err(w, "runaway PTO backoff", w->r.pto_count);
	/* with nothing in flight the timer only frees lost-packet records */
	if ((want != UINT64_MAX || w->r.lost_n == 0) && dp_recovery_timer(&w->r) != want)
		err(w, "timer", want);
}

/* Spurious losses by the documented rule: an ACK that covers a lost packet before its record
 * expires counts once. */
static void
ref_spurious(struct world *w, const struct dp_ack_ranges *a)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < w->n_tomb; i++) {
		uint64_t pn = w->tomb[i];

		if (w->now >= w->p[pn].expire)
			continue;
		if (in_ranges(a, pn)) {
			w->spurious++;
			continue;
		}
		w->tomb[k++] = pn;
	}
	w->n_tomb = k;
}

/* --- the path and the peer --------------------------------------------------------------- */

static void
wire(struct world *w, uint64_t pn)
{
	uint64_t roll = rnd(w, 100), jitter;

	if (w->blackhole || rnd(w, 100) < w->loss_pct)
		return;
	if (roll >= w->reorder_pct) { /* in order behind the packets before it */
		w->fifo_arrive = RTE_MAX(w->fifo_arrive, w->now + OWD + rnd(w, 200000));
		w->p[pn].arrive = w->fifo_arrive;
	} else {
		if (roll % 4 != 0)
			jitter = rnd(w, 20 * MS);
		else
			jitter = 20 * MS + rnd(w, 60 * MS); /* reordered well past the others */
		w->p[pn].arrive = w->now + OWD + jitter;
	}
	w->transit[w->n_transit++] = pn;
}

static void
deliver(struct world *w)
{
	for (unsigned int i = 0; i < w->n_transit;) {
		uint64_t pn = w->transit[i];

		if (w->p[pn].arrive > w->now) {
			i++;
			continue;
		}
		w->transit[i] = w->transit[--w->n_transit];
		w->recv[pn] = true;
		w->new_recv = true;
		if (!w->any_recv || pn > w->recv_max)
			w->recv_max = pn;
		w->any_recv = true;
		while (w->recv_floor < RP && w->recv[w->recv_floor])
			w->recv_floor++;
	}
}

/* The newest SL_MAX_ACK_RANGES + 1 ranges of what arrived (all below recv_floor did). */
static void
peer_ranges(const struct world *w, struct dp_ack_ranges *a)
{
	uint64_t pn = w->recv_max + 1;

	a->n = 0;
	while (a->n < SL_MAX_ACK_RANGES + 1 && pn-- > 0) {
		if (!w->recv[pn])
			continue;
		a->r[a->n].hi = pn;
		while (pn > 0 && w->recv[pn - 1])
			pn = pn - 1 < w->recv_floor ? 0 : pn - 1;
		a->r[a->n++].lo = pn;
	}
}

/* --- the sender -------------------------------------------------------------------------- */

static void
send_one(struct world *w, bool probe)
{
	uint64_t pn = dp_recovery_take_pn(&w->r), roll = rnd(w, 100);
	struct dp_sent s = { .pn = pn, .bytes = MSS, .ack_eliciting = true, .in_flight = true };
	struct rpkt *p = &w->p[pn];

	s.frames = (uint32_t)pn;
	if (!probe && roll >= 85) {
		if (roll < 90) {
			s.bytes = 100 + (uint32_t)rnd(w, 1000);
		} else {
			s.ack_eliciting = false; /* padding only, or a pure ACK (not in flight) */
			s.in_flight = roll < 95;
			s.bytes = 200;
		}
	}
	if (dp_recovery_on_sent(&w->r, &s, w->now) != 0)
		err(w, "send refused", pn);
	p->sent = w->now;
	p->bytes = s.bytes;
	p->eliciting = s.ack_eliciting;
	if (s.in_flight) {
		p->recorded = true;
		p->state = ST_OUT;
		w->out[w->n_out++] = pn;
		w->bytes_out += s.bytes;
		w->elic_out += s.ack_eliciting;
		w->recorded++;
		if (s.ack_eliciting)
			w->last_eliciting = w->now;
	}
	if (probe)
		dp_recovery_probe_sent(&w->r);
	wire(w, pn);
	if (rnd(w, 100) == 0)
		wire(w, pn); /* duplicated on the way */
}

/* Probes whenever due; data while the window and pacer allow (and the application has some). */
static void
sender(struct world *w, bool data, uint64_t limit)
{
	for (int k = 0; k < 16 && w->r.next_pn < limit; k++) {
		bool probe = w->r.probes_due > 0;

		if (!probe && (!data || !dp_recovery_can_send(&w->r, MSS, w->now)))
			break;
		send_one(w, probe);
	}
}

static void
peer_ack(struct world *w)
{
	struct dp_ack_ranges a;
	uint64_t latest = w->r.rtt.latest_ns;
	uint32_t ptos = w->r.pto_count;

	peer_ranges(w, &a);
	a.ack_delay_ns = rnd(w, 40 * MS);
	w->cur = &a;
	w->newly = 0;
	w->largest_newly = w->any_eliciting = false;
	if (dp_recovery_on_ack(&w->r, &a, w->now, cbs(w)) != 0)
		err(w, "ACK refused", a.r[0].hi);
	w->cur = NULL;
	for (unsigned int i = 0; i < w->n_out; i++)
		if (in_ranges(&a, w->out[i]))
			err(w, "acknowledged but not reported", w->out[i]);
	ref_spurious(w, &a);
	if (w->newly > 0)
		check_detection(w);
	if (w->r.pto_count != (w->newly > 0 ? 0 : ptos))
		err(w, "PTO backoff after an ACK", ptos);
	if (w->newly > 0 && w->largest_newly && w->any_eliciting)
		latest = w->now - w->p[a.r[0].hi].sent;
	if (w->r.rtt.latest_ns != latest)
		err(w, "RTT sample", latest);
	check_counters(w);
}

static void
fire_timer(struct world *w)
{
	uint32_t ptos = w->r.pto_count;
	bool loss, pto;

	if (dp_recovery_timer(&w->r) > w->now)
		return;
	loss = w->r.loss_time_ns != 0;
	pto = !loss && w->elic_out > 0;
	dp_recovery_on_timer(&w->r, w->now, cbs(w));
	if (loss)
		check_detection(w);
	if (w->r.pto_count != ptos + pto || (pto && w->r.probes_due != 2))
		err(w, "PTO", ptos);
	check_counters(w);
}

/* --- runs -------------------------------------------------------------------------------- */

struct run {
	uint64_t seed;
	unsigned int loss_pct, reorder_pct;
	bool pacing, blackholes;
	enum dp_cc_algo algo;
};

static void
step(struct world *w, bool data, uint64_t limit)
{
	deliver(w);
	fire_timer(w);
	if (w->any_recv && ((w->new_recv && rnd(w, 100) < 50) || rnd(w, 100) < 3)) {
		peer_ack(w); /* sometimes an old ACK again */
		w->new_recv = false;
	}
	sender(w, data, limit);
}

/* No more data: probes and a keepalive packet until every packet is decided, then time for
 * the lost-packet records to expire. */
static void
drain(struct world *w)
{
	w->blackhole = false;
	w->loss_pct = 0;
	for (int i = 0; i < 200000 && w->n_out > 0; i++) {
		w->now += 100000 + rnd(w, 2 * MS);
		step(w, false, RP);
		if (w->elic_out == 0 && w->n_out > 0 && rnd(w, 50) == 0)
			send_one(w, true); /* only padding left in flight: a keepalive */
	}
	for (int i = 0; i < 100000 && dp_recovery_timer(&w->r) != UINT64_MAX; i++) {
		w->now = RTE_MAX(w->now, dp_recovery_timer(&w->r));
		fire_timer(w);
	}
}

static void
one_run(struct world *w, const struct run *run)
{
	uint64_t hole_end = 0, lost = 0;

	memset(w, 0, sizeof(*w));
	w->rng = run->seed;
	w->loss_pct = run->loss_pct;
	w->reorder_pct = run->reorder_pct;
	dp_recovery_init(&w->r, run->algo, MSS, run->pacing, 0, MAD, 0);
	while (w->r.next_pn < RP - 3000) {
		w->now += 200000 + rnd(w, 3 * MS);
		if (run->blackholes && !w->blackhole && rnd(w, 1500) == 0)
			hole_end = w->now + 300 * MS + rnd(w, 1500 * MS);
		w->blackhole = w->now < hole_end;
		step(w, rnd(w, 100) < 90, RP - 3000);
	}
	drain(w);
	for (uint64_t pn = 0; pn < w->r.next_pn; pn++) {
		if (w->p[pn].recorded && w->p[pn].state != ST_ACKED && w->p[pn].state != ST_LOST)
			err(w, "never reported", pn);
		lost += w->p[pn].state == ST_LOST;
	}
	printf("\n  seed %llu %s loss %u%% reorder %u%%%s: %llu packets, %llu lost, %llu spurious, "
	       "%llu PTOs, "
	       "%llu persistent, cwnd %llu",
	       (unsigned long long)run->seed, dp_cc_name(&w->r.cc), run->loss_pct, run->reorder_pct,
	       run->blackholes ? " + black holes" : "", (unsigned long long)w->r.next_pn,
	       (unsigned long long)lost, (unsigned long long)w->r.stats.spurious,
	       (unsigned long long)w->r.stats.ptos, (unsigned long long)w->r.stats.persistent,
	       (unsigned long long)w->r.cc.cwnd);
	CU_ASSERT_EQUAL(w->errors, 0);
	CU_ASSERT_EQUAL(w->reported, w->recorded);
	CU_ASSERT_EQUAL(w->r.stats.lost, lost);
	CU_ASSERT(w->n_out == 0 && w->r.bytes_in_flight == 0 && w->r.eliciting_in_flight == 0);
	dp_recovery_trim(&w->r); /* emptied records are released when idle */
	CU_ASSERT(w->r.ring == NULL && w->r.lost == NULL && dp_recovery_memory(&w->r) == 0);
	CU_ASSERT_EQUAL(dp_recovery_timer(&w->r), UINT64_MAX);
	if (run->loss_pct == 0 && run->reorder_pct == 0 && !run->blackholes)
		CU_ASSERT(lost == 0 && w->r.cc.cwnd > 100 * MSS); /* a clean path loses nothing */
	dp_recovery_fini(&w->r);
}

static void
test_random_vs_reference(void)
{
	static const struct run runs[] = {
		{ 1, 0, 0, false, false, DP_CC_NEWRENO }, { 2, 0, 0, true, false, DP_CC_CUBIC },
		{ 3, 0, 10, false, false, DP_CC_CUBIC },  { 4, 2, 2, true, false, DP_CC_CUBIC },
		{ 5, 10, 5, false, false, DP_CC_CUBIC },  { 6, 30, 20, true, false, DP_CC_NEWRENO },
		{ 7, 3, 2, true, true, DP_CC_CUBIC },	  { 8, 1, 5, false, true, DP_CC_NEWRENO },
	};
	struct world *w = calloc(1, sizeof(*w));
	uint64_t spurious = 0, ptos = 0, persistent = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	for (size_t i = 0; i < RTE_DIM(runs); i++) {
		one_run(w, &runs[i]);
		spurious += w->r.stats.spurious;
		ptos += w->r.stats.ptos;
		persistent += w->r.stats.persistent;
	}
	printf("\n");
	/* the runs exercised what they are meant to */
	CU_ASSERT(spurious > 0);
	CU_ASSERT(ptos > 0);
	CU_ASSERT(persistent > 0);
	free(w);
}

static CU_TestInfo cases[] = {
	{ "random runs against a naive reference", test_random_vs_reference },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("recovery_random", cases)
