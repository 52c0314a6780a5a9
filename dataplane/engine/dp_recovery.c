/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: loss detection and the probe timeout, RFC 9002 (see dp_recovery.h).
 *
 * Packets in flight sit in a ring in packet-number order (their send times are therefore in
 * order too). An ACK marks the packets it newly acknowledges `done` in place; loss detection
 * walks from the oldest packet and stops at the first one not yet lost, since every newer
 * packet is less likely lost by either threshold. Everything before that point is done (acked
 * or lost) and leaves the ring, so acknowledged packets linger only while an older packet is
 * still undecided, which is at most SL_PACKET_THRESHOLD - 1 packets behind the largest
 * acknowledged. The ring is allocated on the first send and freed when it empties.
 *
 * Lost packets move to a second, usually tiny ring of records that expire after a few PTOs;
 * an ACK that covers one counts a spurious loss and removes the record, so it is counted once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp_recovery.h"
#include "sl_limits.h"

static_assert(sizeof(struct dp_recovery) <= 352, "recovery state lives in every connection");
static_assert(sizeof(struct dp_sent) == 32, "ring entries stay at half a cache line");
static_assert((DP_RECOVERY_RING_MIN & (DP_RECOVERY_RING_MIN - 1)) == 0, "ring size power of 2");

/* A view of one of the two rings. */
struct ring {
	struct dp_sent **buf;
	uint32_t *cap, *head, *n;
};

static struct ring
sent_ring(struct dp_recovery *r)
{
	return (struct ring){ &r->ring, &r->cap, &r->head, &r->n };
}

static struct ring
lost_ring(struct dp_recovery *r)
{
	return (struct ring){ &r->lost, &r->lost_cap, &r->lost_head, &r->lost_n };
}

static inline struct dp_sent *
ring_at(struct ring g, uint32_t i)
{
	return &(*g.buf)[(*g.head + i) & (*g.cap - 1)];
}

/* Entry i (from the oldest) of the packets in flight: ring_at(sent_ring(r), i), directly. */
static inline struct dp_sent *
sent_at(const struct dp_recovery *r, uint32_t i)
{
	return &r->ring[(r->head + i) & (r->cap - 1)];
}

/* Doubles the ring; on failure nothing changes. */
static int
ring_grow(struct ring g)
{
	uint32_t cap = *g.cap == 0 ? DP_RECOVERY_RING_MIN : *g.cap * 2;
	uint32_t first = *g.cap - *g.head; /* entries from head to the end of the array */
	struct dp_sent *buf;

	if (cap < *g.cap || (buf = malloc((size_t)cap * sizeof(*buf))) == NULL)
		return -ENOMEM;
	if (*g.n > 0) {
		first = RTE_MIN(first, *g.n);
		memcpy(buf, ring_at(g, 0), first * sizeof(*buf));
		memcpy(buf + first, *g.buf, (*g.n - first) * sizeof(*buf));
	}
	free(*g.buf);
	*g.buf = buf;
	*g.cap = cap;
	*g.head = 0;
	return 0;
}

static int
ring_push(struct ring g, const struct dp_sent *p)
{
	if (*g.n == *g.cap && ring_grow(g) != 0)
		return -ENOMEM;
	*ring_at(g, *g.n) = *p;
	(*g.n)++;
	return 0;
}

static void
ring_release(struct ring g)
{
	free(*g.buf);
	*g.buf = NULL;
	*g.cap = *g.head = *g.n = 0;
}

/* An emptied ring stays allocated (busy connections empty and refill it all the time);
 * dp_recovery_trim() releases it once the connection is idle. */
static void
ring_pop(struct ring g)
{
	*g.head = (*g.head + 1) & (*g.cap - 1);
	(*g.n)--;
}

void
dp_recovery_trim(struct dp_recovery *r)
{
	if (r->n == 0 && r->ring != NULL)
		ring_release(sent_ring(r));
	if (r->lost_n == 0 && r->lost != NULL)
		ring_release(lost_ring(r));
}

/* Index of the first entry with a packet number >= pn (n if none). */
static uint32_t
ring_lower_bound(struct ring g, uint64_t pn)
{
	uint32_t lo = 0, hi = *g.n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (ring_at(g, mid)->pn < pn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* --- RTT and the derived periods ---------------------------------------------------------- */

void
dp_recovery_init(struct dp_recovery *r, enum dp_cc_algo algo, uint32_t mss, bool pacing,
		 uint64_t initial_rtt_ns, uint64_t max_ack_delay_ns, uint64_t now_ns)
{
	memset(r, 0, sizeof(*r));
	if (initial_rtt_ns == 0)
		initial_rtt_ns = SL_INITIAL_RTT_NS;
	r->rtt.smoothed_ns = initial_rtt_ns;
	r->rtt.var_ns = initial_rtt_ns / 2;
	r->rtt.min_ns = DP_RTT_NO_SAMPLE;
	r->max_ack_delay_ns = max_ack_delay_ns;
	dp_cc_init(&r->cc, algo, mss, pacing, now_ns);
}

void
dp_recovery_fini(struct dp_recovery *r)
{
	ring_release(sent_ring(r));
	ring_release(lost_ring(r));
}

size_t
dp_recovery_memory(const struct dp_recovery *r)
{
	return ((size_t)r->cap + r->lost_cap) * sizeof(struct dp_sent);
}

/* RFC 9002 5.3. */
static void
rtt_update(struct dp_recovery *r, uint64_t latest, uint64_t ack_delay, uint64_t now_ns)
{
	struct dp_rtt *rtt = &r->rtt;
	uint64_t adjusted, diff;

	latest = RTE_MIN(latest, DP_RTT_NO_SAMPLE - 1); /* that value means "none yet" */
	adjusted = latest;
	rtt->latest_ns = latest;
	if (!dp_rtt_sampled(rtt)) {
		rtt->min_ns = latest;
		rtt->smoothed_ns = latest;
		rtt->var_ns = latest / 2;
		r->first_sample_ns = now_ns;
		return;
	}
	rtt->min_ns = RTE_MIN(rtt->min_ns, latest);
	ack_delay = RTE_MIN(ack_delay, r->max_ack_delay_ns);
	if (latest >= rtt->min_ns + ack_delay)
		adjusted = latest - ack_delay;
	diff = rtt->smoothed_ns > adjusted ? rtt->smoothed_ns - adjusted
					   : adjusted - rtt->smoothed_ns;
	rtt->var_ns = (3 * rtt->var_ns + diff) / 4;
	rtt->smoothed_ns = (7 * rtt->smoothed_ns + adjusted) / 8;
}

uint64_t
dp_recovery_pto_base(const struct dp_recovery *r)
{
	return r->rtt.smoothed_ns + RTE_MAX(4 * r->rtt.var_ns, SL_GRANULARITY_NS) +
	       r->max_ack_delay_ns;
}

/* max(9/8 * max(smoothed, latest), granularity) */
static uint64_t
loss_delay(const struct dp_recovery *r)
{
	uint64_t rtt = RTE_MAX(r->rtt.smoothed_ns, r->rtt.latest_ns);

	return RTE_MAX(rtt * SL_TIME_THRESHOLD_NUM / SL_TIME_THRESHOLD_DEN, SL_GRANULARITY_NS);
}

static uint64_t
pto_deadline(const struct dp_recovery *r)
{
	uint64_t d = dp_recovery_pto_base(r);

	if (r->pto_count >= 64 || d > (UINT64_MAX >> r->pto_count))
		return UINT64_MAX;
	d <<= r->pto_count;
	return d > UINT64_MAX - r->last_eliciting_ns ? UINT64_MAX : r->last_eliciting_ns + d;
}

/* --- sending ------------------------------------------------------------------------------ */

int
dp_recovery_on_sent(struct dp_recovery *r, const struct dp_sent *p, uint64_t now_ns)
{
	struct dp_sent *s;

	if (p->pn >= r->next_pn || (r->n > 0 && p->pn <= sent_at(r, r->n - 1)->pn))
		return -EINVAL;
	if (!p->in_flight && !p->ack_eliciting)
		return 0;
	if (r->n == r->cap && ring_grow(sent_ring(r)) != 0)
		return -ENOMEM;
	/* field by field: the caller's record was just written with narrow stores, and a wide
	 * copy reading it back would stall on store forwarding */
	s = sent_at(r, r->n++);
	s->pn = p->pn;
	s->sent_ns = now_ns;
	s->bytes = p->bytes;
	s->frames = p->frames;
	s->nframes = p->nframes;
	s->ack_eliciting = p->ack_eliciting;
	s->in_flight = true;
	s->done = false;
	r->bytes_in_flight += s->bytes;
	if (r->bytes_in_flight > r->max_in_flight)
		r->max_in_flight = (uint32_t)RTE_MIN(r->bytes_in_flight, UINT32_MAX);
	if (s->ack_eliciting) {
		r->eliciting_in_flight++;
		r->last_eliciting_ns = now_ns;
	}
	dp_cc_on_sent(&r->cc, s->bytes, &r->rtt, now_ns);
	return 0;
}

uint64_t
dp_recovery_send_time(const struct dp_recovery *r, uint64_t now_ns)
{
	return r->probes_due > 0 ? now_ns : dp_cc_pacing_time(&r->cc, now_ns);
}

/* --- lost-packet records ------------------------------------------------------------------ */

/* Remember a lost packet until now + DP_RECOVERY_LOST_KEEP_PTOS PTOs: a late ACK counts as a
 * spurious loss only before then. Records leave from the oldest, when it is counted or
 * expired; a younger one that expires first (the PTO shrank) just waits for it. Best effort:
 * without memory the packet is simply not remembered (a late ACK then goes uncounted). */
static void
lost_remember(struct dp_recovery *r, const struct dp_sent *p, uint64_t now_ns)
{
	struct dp_sent rec = *p;

	rec.sent_ns = now_ns + DP_RECOVERY_LOST_KEEP_PTOS * dp_recovery_pto_base(r);
	rec.done = false;
	(void)ring_push(lost_ring(r), &rec);
}

static void
lost_purge(struct dp_recovery *r, uint64_t now_ns)
{
	struct ring g = lost_ring(r);

	while (r->lost_n > 0 && (ring_at(g, 0)->done || ring_at(g, 0)->sent_ns <= now_ns))
		ring_pop(g);
}

/* ACK of [lo, hi]: records of lost packets in it are spurious losses. */
static void
lost_acked(struct dp_recovery *r, uint64_t lo, uint64_t hi, uint64_t now_ns)
{
	struct ring g = lost_ring(r);

	for (uint32_t i = ring_lower_bound(g, lo); i < r->lost_n; i++) {
		struct dp_sent *p = ring_at(g, i);

		if (p->pn > hi)
			break;
		if (!p->done && p->sent_ns > now_ns) {
			p->done = true;
			r->stats.spurious++;
		}
	}
}

/* --- loss detection (RFC 9002 6.1, 7.6) -------------------------------------------------- */

/* Persistent congestion: two lost ack-eliciting packets, sent after the first RTT sample,
 * more than the persistent-congestion duration apart, with nothing acknowledged between. */
struct pc_scan {
	uint64_t duration_ns, start_ns;
	bool started, found;
};

static void
pc_lost(struct pc_scan *pc, const struct dp_recovery *r, const struct dp_sent *p)
{
	if (!p->ack_eliciting || !dp_rtt_sampled(&r->rtt) || p->sent_ns <= r->first_sample_ns)
		return;
	if (!pc->started) {
		pc->started = true;
		pc->start_ns = p->sent_ns;
	} else if (p->sent_ns - pc->start_ns > pc->duration_ns) {
		pc->found = true;
	}
}

static void
declare_lost(struct dp_recovery *r, struct dp_sent *p, uint64_t now_ns,
	     const struct dp_recovery_cb *cb)
{
	r->bytes_in_flight -= p->bytes;
	if (p->ack_eliciting)
		r->eliciting_in_flight--;
	r->stats.lost++;
	if (cb != NULL && cb->lost != NULL)
		cb->lost(cb->arg, p);
	lost_remember(r, p, now_ns);
	p->done = true;
}

/* Drop the acknowledged and lost packets at the front; free the ring once it is empty. */
static void
pop_done(struct dp_recovery *r)
{
	while (r->n > 0 && sent_at(r, 0)->done) {
		r->head = (r->head + 1) & (r->cap - 1);
		r->n--;
	}
}

static void
detect_lost(struct dp_recovery *r, uint64_t now_ns, const struct dp_recovery_cb *cb)
{
	struct pc_scan pc = { 0 };
	uint64_t delay, last_sent = 0;
	bool any = false;

	r->loss_time_ns = 0;
	/* the decided packets at the front go first (a persistent-congestion span could not
	 * cross them anyway); then the common case, nothing older than the largest acknowledged
	 * left undecided, costs nothing more */
	pop_done(r);
	if (!r->any_acked || r->n == 0 || sent_at(r, 0)->pn >= r->largest_acked)
		return;
	delay = loss_delay(r);
	pc.duration_ns = dp_recovery_pto_base(r) * SL_PERSISTENT_CONGESTION_THRESHOLD;
	for (uint32_t i = 0; i < r->n; i++) {
		struct dp_sent *p = sent_at(r, i);

		if (p->pn >= r->largest_acked)
			break;
		if (p->done) { /* acknowledged: a persistent-congestion span cannot cross it */
			pc.started = false;
			continue;
		}
		if (p->pn + SL_PACKET_THRESHOLD > r->largest_acked && p->sent_ns + delay > now_ns) {
			r->loss_time_ns = p->sent_ns + delay;
			break;
		}
		pc_lost(&pc, r, p);
		last_sent = p->sent_ns;
		any = true;
		declare_lost(r, p, now_ns, cb);
	}
	if (any)
		dp_cc_on_congestion(&r->cc, last_sent, now_ns);
	if (pc.found) {
		dp_cc_on_persistent_congestion(&r->cc, now_ns);
		r->rtt.min_ns = r->rtt.latest_ns; /* RFC 9002 5.2 */
		r->stats.persistent++;
	}
	pop_done(r);
}

/* --- acknowledgements --------------------------------------------------------------------- */

static bool
ack_valid(const struct dp_recovery *r, const struct dp_ack_ranges *a)
{
	if (a->n == 0 || a->n > SL_MAX_ACK_RANGES + 1 || a->r[0].hi >= r->next_pn)
		return false;
	for (unsigned int i = 0; i < a->n; i++) {
		if (a->r[i].lo > a->r[i].hi)
			return false;
		if (i > 0 && a->r[i].hi >= a->r[i - 1].lo)
			return false;
	}
	return true;
}

/* What the newly acknowledged packets of one ACK add up to. */
struct ack_scan {
	uint64_t largest;      /* the ACK's largest acknowledged */
	uint64_t largest_sent; /* its send time, when newly acked */
	uint64_t grow_bytes;   /* in-flight bytes acked that were sent outside recovery */
	uint64_t grow_sent;    /* the newest of those */
	uint32_t newly;
	bool largest_newly, eliciting;
};

static void
take_acked(struct dp_recovery *r, struct dp_sent *p, struct ack_scan *s,
	   const struct dp_recovery_cb *cb)
{
	s->newly++;
	r->bytes_in_flight -= p->bytes;
	if (p->ack_eliciting) {
		r->eliciting_in_flight--;
		s->eliciting = true;
	}
	if (p->pn == s->largest) {
		s->largest_newly = true;
		s->largest_sent = p->sent_ns;
	}
	if (!dp_cc_in_recovery(&r->cc, p->sent_ns)) {
		s->grow_bytes += p->bytes;
		s->grow_sent = RTE_MAX(s->grow_sent, p->sent_ns);
	}
	if (cb != NULL && cb->acked != NULL)
		cb->acked(cb->arg, p);
	p->done = true;
}

/* Index of the first packet in flight numbered pn or above (n if none). */
static inline uint32_t
sent_lower_bound(struct dp_recovery *r, uint64_t pn)
{
	if (r->n == 0 || sent_at(r, 0)->pn >= pn) /* an ACK usually covers the oldest packet */
		return 0;
	return ring_lower_bound(sent_ring(r), pn);
}

static void
sent_acked(struct dp_recovery *r, uint64_t lo, uint64_t hi, struct ack_scan *s,
	   const struct dp_recovery_cb *cb)
{
	for (uint32_t i = sent_lower_bound(r, lo); i < r->n; i++) {
		struct dp_sent *p = sent_at(r, i);

		if (p->pn > hi)
			break;
		if (!p->done)
			take_acked(r, p, s, cb);
	}
}

/* Grow the window for what was acknowledged, but not past twice the largest flight: a sender
 * held back by the application or flow control has not shown the path takes more (RFC 9002
 * 7.8), and a window grown in vain would later leave as one burst. */
static void
grow_window(struct dp_recovery *r, const struct ack_scan *s, uint64_t now_ns)
{
	uint64_t before = r->cc.cwnd;
	uint64_t cap = RTE_MAX(2ull * r->max_in_flight, 10ull * r->cc.mss);

	dp_cc_on_acked(&r->cc, (uint32_t)RTE_MIN(s->grow_bytes, UINT32_MAX), s->grow_sent, &r->rtt,
		       now_ns);
	if (r->cc.cwnd > before && r->cc.cwnd > cap)
		r->cc.cwnd = RTE_MAX(before, cap);
}

int
dp_recovery_on_ack(struct dp_recovery *r, const struct dp_ack_ranges *ack, uint64_t now_ns,
		   const struct dp_recovery_cb *cb)
{
	struct ack_scan s = { .largest = ack->r[0].hi };

	if (!ack_valid(r, ack))
		return -EPROTO;
	if (!r->any_acked || s.largest > r->largest_acked)
		r->largest_acked = s.largest;
	r->any_acked = true;
	for (unsigned int i = 0; i < ack->n; i++) {
		if (r->lost_n > 0)
			lost_acked(r, ack->r[i].lo, ack->r[i].hi, now_ns);
		sent_acked(r, ack->r[i].lo, ack->r[i].hi, &s, cb);
	}
	if (r->lost_n > 0)
		lost_purge(r, now_ns);
	if (s.newly == 0)
		return 0;
	if (s.largest_newly && s.eliciting && now_ns >= s.largest_sent)
		rtt_update(r, now_ns - s.largest_sent, ack->ack_delay_ns, now_ns);
	/* losses first, so acknowledgements of packets sent before a recovery period this ACK
	 * starts do not grow the window (RFC 9002 A.7) */
	detect_lost(r, now_ns, cb);
	if (s.grow_bytes > 0)
		grow_window(r, &s, now_ns);
	r->pto_count = 0;
	pop_done(r);
	return 0;
}

/* --- timers ------------------------------------------------------------------------------- */

uint64_t
dp_recovery_timer(const struct dp_recovery *r)
{
	if (r->loss_time_ns != 0)
		return r->loss_time_ns;
	if (r->eliciting_in_flight > 0)
		return pto_deadline(r);
	if (r->lost_n > 0)
		return r->lost[r->lost_head].sent_ns;
	return UINT64_MAX;
}

void
dp_recovery_on_timer(struct dp_recovery *r, uint64_t now_ns, const struct dp_recovery_cb *cb)
{
	if (r->loss_time_ns != 0) {
		if (now_ns >= r->loss_time_ns)
			detect_lost(r, now_ns, cb);
	} else if (r->eliciting_in_flight > 0 && now_ns >= pto_deadline(r)) {
		if (r->pto_count < UINT16_MAX)
			r->pto_count++;
		r->probes_due = 2;
		r->stats.ptos++;
	}
	lost_purge(r, now_ns);
}
