/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: loss recovery tests — RTT estimation against a table of exact values, packet- and
 * time-threshold loss at their exact edges, the PTO and its backoff, probes, malformed ACKs
 * that change nothing, spurious losses, persistent congestion on both sides of its threshold,
 * the in-flight ring growing to 10,000 packets and freed again, running out of memory, and
 * long random runs against a naive reference that checks every callback and counter.
 * Time is injected; nothing here measures time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <rte_common.h>

#include "dp_recovery.h"
#include "sl_test.h"

#define MS   1000000ull
#define US   1000ull
#define SEC  1000000000ull
#define MSS  1200
#define MAD  (25 * MS)
#define NONE UINT64_MAX

#if defined(__has_feature) /* clang spells gcc's __SANITIZE_ADDRESS__ this way */
#if __has_feature(address_sanitizer) && !defined(__SANITIZE_ADDRESS__)
#define __SANITIZE_ADDRESS__ 1
#endif
#endif

/* --- helpers ----------------------------------------------------------------------------- */

struct log {
	uint64_t acked[64], lost[64];
	unsigned int n_acked, n_lost;
};

static void
log_acked(void *arg, const struct dp_sent *p)
{
	struct log *l = arg;

	if (l->n_acked < RTE_DIM(l->acked))
		l->acked[l->n_acked] = p->pn;
	l->n_acked++;
}

static void
log_lost(void *arg, const struct dp_sent *p)
{
	struct log *l = arg;

	if (l->n_lost < RTE_DIM(l->lost))
		l->lost[l->n_lost] = p->pn;
	l->n_lost++;
}

static void
rec_init(struct dp_recovery *r, struct log *l)
{
	dp_recovery_init(r, DP_CC_NEWRENO, MSS, false, 0, MAD, 0);
	if (l != NULL)
		memset(l, 0, sizeof(*l));
}

static uint64_t
send_pkt(struct dp_recovery *r, uint64_t now, bool eliciting, uint32_t bytes)
{
	struct dp_sent p = { .pn = dp_recovery_take_pn(r),
			     .bytes = bytes,
			     .ack_eliciting = eliciting,
			     .in_flight = true };

	p.frames = (uint32_t)p.pn;
	CU_ASSERT_EQUAL_FATAL(dp_recovery_on_sent(r, &p, now), 0);
	return p.pn;
}

/* ACK of n ranges given as { lo, hi } pairs, newest first. */
static int
ack_n(struct dp_recovery *r, uint64_t now, uint64_t delay, struct log *l, unsigned int n,
      const uint64_t (*rg)[2])
{
	struct dp_recovery_cb cb = { log_acked, log_lost, l };
	struct dp_ack_ranges a = { .ack_delay_ns = delay, .n = (uint8_t)n };

	for (unsigned int i = 0; i < n; i++) {
		a.r[i].lo = rg[i][0];
		a.r[i].hi = rg[i][1];
	}
	return dp_recovery_on_ack(r, &a, now, l != NULL ? &cb : NULL);
}

static int
ack1(struct dp_recovery *r, uint64_t now, uint64_t delay, struct log *l, uint64_t lo, uint64_t hi)
{
	const uint64_t rg[1][2] = { { lo, hi } };

	return ack_n(r, now, delay, l, 1, rg);
}

static void
timer(struct dp_recovery *r, uint64_t now, struct log *l)
{
	struct dp_recovery_cb cb = { log_acked, log_lost, l };

	dp_recovery_on_timer(r, now, &cb);
}

/* --- RTT estimation ---------------------------------------------------------------------- */

struct rtt_step {
	uint64_t send, ack, delay;
	uint64_t latest, smoothed, var, min;
};

struct rtt_case {
	const char *name;
	struct rtt_step s[4];
	unsigned int n;
};

static const struct rtt_case rtt_cases[] = {
	{ "first sample, then delay subtracted, min falls, delay capped at max_ack_delay",
	  { { 0, 100 * MS, 5 * MS, 100 * MS, 100 * MS, 50 * MS, 100 * MS },
	    { 200 * MS, 320 * MS, 10 * MS, 120 * MS, 101250000, 40 * MS, 100 * MS },
	    { 400 * MS, 480 * MS, 10 * MS, 80 * MS, 98593750, 35312500, 80 * MS },
	    { 500 * MS, 700 * MS, 100 * MS, 200 * MS, 108144531, 45585937, 80 * MS } },
	  4 },
	{ "delay not subtracted below min + delay",
	  { { 0, 50 * MS, 0, 50 * MS, 50 * MS, 25 * MS, 50 * MS },
	    { 60 * MS, 112 * MS, 10 * MS, 52 * MS, 50250000, 19250000, 50 * MS } },
	  2 },
	{ "delay subtracted exactly at min + delay",
	  { { 0, 50 * MS, 0, 50 * MS, 50 * MS, 25 * MS, 50 * MS },
	    { 60 * MS, 120 * MS, 10 * MS, 60 * MS, 50 * MS, 18750000, 50 * MS } },
	  2 },
	{ "tiny RTT, odd nanoseconds",
	  { { 1000, 1333, 0, 333, 333, 166, 333 },
	    { 2000, 2777, 0, 777, 388, 235, 333 },
	    { 3000, 3001, 1, 1, 339, 273, 1 } },
	  3 },
	{ "a first sample of 0 ns is a sample", /* (in virtual time an ACK can come at once) */
	  { { 1000, 1000, 0, 0, 0, 0, 0 }, { 2000, 2800, 0, 800, 100, 200, 0 } },
	  2 },
};

static void
test_rtt_table(void)
{
	unsigned int bad = 0;

	for (size_t c = 0; c < RTE_DIM(rtt_cases); c++) {
		struct dp_recovery r;

		rec_init(&r, NULL);
		CU_ASSERT(!dp_rtt_sampled(&r.rtt) && r.rtt.smoothed_ns == SL_INITIAL_RTT_NS);
		CU_ASSERT_EQUAL(r.rtt.var_ns, SL_INITIAL_RTT_NS / 2);
		for (unsigned int i = 0; i < rtt_cases[c].n; i++) {
			const struct rtt_step *s = &rtt_cases[c].s[i];
			uint64_t pn = send_pkt(&r, s->send, true, MSS);

			CU_ASSERT_EQUAL(ack1(&r, s->ack, s->delay, NULL, pn, pn), 0);
			if (r.rtt.latest_ns != s->latest || r.rtt.smoothed_ns != s->smoothed ||
			    r.rtt.var_ns != s->var || r.rtt.min_ns != s->min ||
			    !dp_rtt_sampled(&r.rtt)) {
				fprintf(stderr,
					"  '%s' step %u: latest %llu smoothed %llu var %llu min "
					"%llu\n",
					rtt_cases[c].name, i, (unsigned long long)r.rtt.latest_ns,
					(unsigned long long)r.rtt.smoothed_ns,
					(unsigned long long)r.rtt.var_ns,
					(unsigned long long)r.rtt.min_ns);
				bad++;
			}
		}
		CU_ASSERT_EQUAL(r.first_sample_ns, rtt_cases[c].s[0].ack);
		dp_recovery_fini(&r);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void
test_rtt_no_sample(void)
{
	struct dp_recovery r;
	struct log l;
	uint64_t a, b, pad, pure;

	rec_init(&r, &l);
	a = send_pkt(&r, 0, true, MSS);
	b = send_pkt(&r, 10 * MS, true, MSS);
	CU_ASSERT_EQUAL(ack1(&r, 100 * MS, 0, &l, b, b), 0);
	CU_ASSERT_EQUAL(r.rtt.latest_ns, 90 * MS);
	/* a newly acknowledged packet, but not the largest: no sample */
	CU_ASSERT_EQUAL(ack1(&r, 200 * MS, 0, &l, a, b), 0);
	CU_ASSERT_EQUAL(l.n_acked, 2);
	CU_ASSERT_EQUAL(r.rtt.latest_ns, 90 * MS);
	/* the same ACK again: nothing new, nothing changes */
	CU_ASSERT_EQUAL(ack1(&r, 300 * MS, 0, &l, a, b), 0);
	CU_ASSERT(l.n_acked == 2 && r.rtt.latest_ns == 90 * MS && r.rtt.smoothed_ns == 90 * MS);
	/* only a non-eliciting packet newly acked: no sample */
	pad = send_pkt(&r, 400 * MS, false, 100);
	CU_ASSERT_EQUAL(ack1(&r, 450 * MS, 0, &l, a, pad), 0);
	CU_ASSERT(l.n_acked == 3 && r.rtt.latest_ns == 90 * MS);
	/* the largest is a pure ACK the sender never recorded: no sample either */
	a = send_pkt(&r, 500 * MS, true, MSS);
	pure = dp_recovery_take_pn(&r);
	CU_ASSERT_EQUAL(ack1(&r, 600 * MS, 0, &l, a, pure), 0);
	CU_ASSERT(l.n_acked == 4 && r.rtt.latest_ns == 90 * MS);
	dp_recovery_trim(&r); /* emptied records are released when idle */
	CU_ASSERT(r.ring == NULL && r.bytes_in_flight == 0);
	dp_recovery_fini(&r);
}

/* --- loss detection ---------------------------------------------------------------------- */

static void
test_packet_and_time_threshold(void)
{
	struct dp_recovery r;
	struct log l;
	const uint64_t delay = 90 * MS * 9 / 8; /* 101.25 ms */

	rec_init(&r, &l);
	(void)dp_recovery_take_pn(&r); /* pn 0 went out as a pure ACK */
	for (uint64_t pn = 1; pn <= 10; pn++)
		CU_ASSERT_EQUAL(send_pkt(&r, pn * MS, true, MSS), pn);
	CU_ASSERT_EQUAL(r.bytes_in_flight, 10 * MSS);
	/* ACK of 10 alone, 100 ms: 1..7 are 3 or more below it, 8 and 9 wait for the time
	 * threshold, 9/8 of the 90 ms RTT after they were sent */
	CU_ASSERT_EQUAL(ack1(&r, 100 * MS, 0, &l, 10, 10), 0);
	CU_ASSERT_EQUAL(l.n_acked, 1);
	CU_ASSERT_EQUAL(l.n_lost, 7);
	for (unsigned int i = 0; i < 7 && i < l.n_lost; i++)
		CU_ASSERT_EQUAL(l.lost[i], i + 1);
	CU_ASSERT_EQUAL(r.stats.lost, 7);
	CU_ASSERT_EQUAL(r.bytes_in_flight, 2 * MSS);
	CU_ASSERT_EQUAL(r.eliciting_in_flight, 2);
	/* one reduction, and the ACK did not grow the window: losses are processed first and
	 * the acked packet was sent before the recovery period began */
	CU_ASSERT_EQUAL(r.cc.cwnd, 12000 / 2);
	CU_ASSERT_EQUAL(r.loss_time_ns, 8 * MS + delay);
	CU_ASSERT_EQUAL(dp_recovery_timer(&r), 8 * MS + delay);
	/* the time threshold fires to the nanosecond */
	timer(&r, 8 * MS + delay - 1, &l);
	CU_ASSERT_EQUAL(l.n_lost, 7);
	timer(&r, 8 * MS + delay, &l);
	CU_ASSERT(l.n_lost == 8 && l.lost[7] == 8);
	CU_ASSERT_EQUAL(dp_recovery_timer(&r), 9 * MS + delay);
	timer(&r, 9 * MS + delay, &l);
	CU_ASSERT(l.n_lost == 9 && l.lost[8] == 9);
	CU_ASSERT_EQUAL(r.cc.cwnd, 12000 / 2); /* same recovery period */
	dp_recovery_trim(&r);		       /* emptied records are released when idle */
	CU_ASSERT(r.ring == NULL && r.cap == 0 && r.bytes_in_flight == 0);
	CU_ASSERT_EQUAL(r.loss_time_ns, 0);
	dp_recovery_fini(&r);
}

/* Nothing in flight: only the lost-packet records remain, and the timer frees them. */
static void
test_lost_records_expire(void)
{
	struct dp_recovery r;
	struct log l;
	uint64_t pto, expire;

	rec_init(&r, &l);
	for (int i = 0; i < 5; i++)
		send_pkt(&r, (uint64_t)i * MS, true, MSS);
	CU_ASSERT_EQUAL(ack1(&r, 100 * MS, 0, &l, 1, 4), 0); /* 0 lost: 4 >= 0 + 3 */
	CU_ASSERT_EQUAL(l.n_lost, 1);
	dp_recovery_trim(&r); /* emptied records are released when idle */
	CU_ASSERT(r.ring == NULL && r.lost_n == 1);
	pto = dp_recovery_pto_base(&r); /* 96 + 4 * 48 + 25 ms */
	CU_ASSERT_EQUAL(pto, 96 * MS + 4 * 48 * MS + MAD);
	expire = 100 * MS + DP_RECOVERY_LOST_KEEP_PTOS * pto;
	CU_ASSERT_EQUAL(dp_recovery_timer(&r), expire);
	CU_ASSERT_EQUAL(dp_recovery_memory(&r), DP_RECOVERY_RING_MIN * sizeof(struct dp_sent));
	timer(&r, expire - 1, &l);
	CU_ASSERT_EQUAL(r.lost_n, 1);
	timer(&r, expire, &l);
	dp_recovery_trim(&r); /* emptied records are released when idle */
	CU_ASSERT(r.lost_n == 0 && r.lost == NULL && dp_recovery_memory(&r) == 0);
	CU_ASSERT_EQUAL(dp_recovery_timer(&r), NONE);
	/* a late ACK of the lost packet after that is neither a callback nor counted */
	CU_ASSERT_EQUAL(ack1(&r, expire + 1, 0, &l, 0, 4), 0);
	CU_ASSERT(l.n_acked == 4 && l.n_lost == 1 && r.stats.spurious == 0);
	dp_recovery_fini(&r);
}

static void
test_spurious(void)
{
	struct dp_recovery r;
	struct log l;
	const uint64_t both[2][2] = { { 7, 9 }, { 0, 4 } };

	rec_init(&r, &l);
	for (int i = 0; i < 10; i++)
		send_pkt(&r, (uint64_t)i * MS, true, MSS);
	CU_ASSERT_EQUAL(ack1(&r, 50 * MS, 0, &l, 1, 4), 0);
	CU_ASSERT(l.n_lost == 1 && l.lost[0] == 0 && l.n_acked == 4);
	/* 0 arrives after all: counted once, reported never again */
	CU_ASSERT_EQUAL(ack1(&r, 60 * MS, 0, &l, 0, 4), 0);
	CU_ASSERT_EQUAL(r.stats.spurious, 1);
	CU_ASSERT(l.n_lost == 1 && l.n_acked == 4);
	CU_ASSERT_EQUAL(ack_n(&r, 70 * MS, 0, &l, 2, both), 0);
	CU_ASSERT_EQUAL(r.stats.spurious, 1);
	CU_ASSERT_EQUAL(l.n_acked, 7); /* 7, 8, 9 */
	/* 5 and 6 are lost (9 >= 6 + 3), then both show up */
	CU_ASSERT_EQUAL(l.n_lost, 3);
	CU_ASSERT_EQUAL(ack1(&r, 80 * MS, 0, &l, 0, 9), 0);
	CU_ASSERT_EQUAL(r.stats.spurious, 3);
	CU_ASSERT(l.n_lost == 3 && l.n_acked == 7 && r.stats.lost == 3);
	dp_recovery_trim(&r); /* emptied records are released when idle */
	CU_ASSERT(r.lost_n == 0 && r.ring == NULL);
	dp_recovery_fini(&r);

	/* a counted record that stays behind an older, uncounted one is not counted again */
	rec_init(&r, &l);
	for (int i = 0; i < 6; i++)
		send_pkt(&r, (uint64_t)i * MS, true, MSS);
	CU_ASSERT_EQUAL(ack1(&r, 50 * MS, 0, &l, 4, 5), 0); /* 0, 1, 2 lost: 2 + 3 <= 5 */
	CU_ASSERT_EQUAL(l.n_lost, 3);
	CU_ASSERT_EQUAL(ack1(&r, 60 * MS, 0, &l, 1, 5), 0);
	CU_ASSERT_EQUAL(ack1(&r, 70 * MS, 0, &l, 1, 5), 0);
	CU_ASSERT_EQUAL(r.stats.spurious, 2);
	CU_ASSERT_EQUAL(r.lost_n, 3); /* 1 and 2 counted, kept behind 0 */
	CU_ASSERT_EQUAL(ack1(&r, 80 * MS, 0, &l, 0, 5), 0);
	CU_ASSERT(r.stats.spurious == 3 && r.lost_n == 0 && l.n_acked == 3);
	dp_recovery_fini(&r);
}

/* --- the probe timeout ------------------------------------------------------------------- */

static void
test_pto(void)
{
	struct dp_recovery r;
	struct log l;
	/* no sample yet: 333 + 4 * 166.5 + 25 ms */
	const uint64_t base = SL_INITIAL_RTT_NS + 4 * (SL_INITIAL_RTT_NS / 2) + MAD;
	const uint64_t t0 = SEC;
	uint64_t b, c;

	rec_init(&r, &l);
	CU_ASSERT_EQUAL(dp_recovery_timer(&r), NONE);
	CU_ASSERT_EQUAL(base, 1024 * MS);
	CU_ASSERT_EQUAL(dp_recovery_pto_base(&r), base);
	send_pkt(&r, t0, true, MSS);
	/* 0, 1, 2 probe timeouts: 1, 2, 4 periods after the last ack-eliciting send */
	for (unsigned int k = 0; k < 3; k++) {
		uint64_t due = t0 + (base << k);

		CU_ASSERT_EQUAL(dp_recovery_timer(&r), due);
		timer(&r, due - 1, &l);
		CU_ASSERT_EQUAL(r.pto_count, k);
		timer(&r, due, &l);
		CU_ASSERT_EQUAL(r.pto_count, k + 1);
		CU_ASSERT_EQUAL(r.probes_due, 2);
		CU_ASSERT_EQUAL(r.stats.ptos, k + 1);
	}
	CU_ASSERT_EQUAL(l.n_lost, 0); /* a PTO declares nothing lost */
	/* a probe moves the timer to its own send time, with the backoff kept */
	b = send_pkt(&r, 9 * SEC, true, MSS);
	dp_recovery_probe_sent(&r);
	CU_ASSERT_EQUAL(r.probes_due, 1);
	CU_ASSERT_EQUAL(dp_recovery_timer(&r), 9 * SEC + (base << 3));
	c = send_pkt(&r, 9 * SEC + 1 * MS, true, MSS); /* not counted as a probe */
	/* the ACK of c (RTT 49 ms) resets the backoff; the first packet, 8 s old, is lost by
	 * time threshold; b waits for it, and that timer takes precedence over the PTO */
	CU_ASSERT_EQUAL(ack1(&r, 9 * SEC + 50 * MS, 0, &l, c, c), 0);
	CU_ASSERT_EQUAL(r.pto_count, 0);
	CU_ASSERT(l.n_lost == 1 && l.lost[0] == 0);
	CU_ASSERT_EQUAL(r.probes_due, 1); /* still owed: only sending pays it */
	CU_ASSERT_EQUAL(r.loss_time_ns, 9 * SEC + 49 * MS * 9 / 8);
	CU_ASSERT_EQUAL(dp_recovery_timer(&r), r.loss_time_ns);
	CU_ASSERT(r.loss_time_ns < r.last_eliciting_ns + dp_recovery_pto_base(&r));
	timer(&r, r.loss_time_ns, &l);
	CU_ASSERT(l.n_lost == 2 && l.lost[1] == b);
	dp_recovery_probe_sent(&r);
	dp_recovery_probe_sent(&r);
	CU_ASSERT_EQUAL(r.probes_due, 0);
	dp_recovery_fini(&r);
}

static void
test_pto_periods_and_probes(void)
{
	struct dp_recovery r;
	struct log l;
	uint64_t pn, base, last = SEC;

	/* a 100 us RTT: 4 * var (200 us) is below the 1 ms granularity */
	rec_init(&r, &l);
	pn = send_pkt(&r, 0, true, MSS);
	CU_ASSERT_EQUAL(ack1(&r, 100 * US, 0, &l, pn, pn), 0);
	base = dp_recovery_pto_base(&r);
	CU_ASSERT_EQUAL(base, 100 * US + SL_GRANULARITY_NS + MAD);
	/* fill the window exactly: nothing more may go */
	while (r.bytes_in_flight + MSS <= r.cc.cwnd)
		send_pkt(&r, last, true, MSS);
	CU_ASSERT(!dp_recovery_can_send(&r, MSS, SEC));
	CU_ASSERT(!dp_recovery_can_send(&r, 1, SEC));
	for (unsigned int k = 0; k < 4; k++) {
		CU_ASSERT_EQUAL(dp_recovery_timer(&r), last + (base << k));
		timer(&r, last + (base << k), &l);
	}
	CU_ASSERT_EQUAL(r.pto_count, 4);
	/* probes go even though the window is full, and pacing is bypassed */
	r.cc.pacing = true;
	r.cc.pace_next_ns = 100 * SEC;
	CU_ASSERT(dp_recovery_can_send(&r, MSS, 2 * SEC));
	CU_ASSERT_EQUAL(dp_recovery_send_time(&r, 2 * SEC), 2 * SEC);
	dp_recovery_probe_sent(&r);
	CU_ASSERT(dp_recovery_can_send(&r, MSS, 2 * SEC));
	dp_recovery_probe_sent(&r);
	CU_ASSERT(!dp_recovery_can_send(&r, MSS, 2 * SEC));
	CU_ASSERT_EQUAL(dp_recovery_send_time(&r, 2 * SEC), 100 * SEC);
	/* an ACK that acknowledges nothing new keeps the backoff */
	CU_ASSERT_EQUAL(ack1(&r, 3 * SEC, 0, &l, pn, pn), 0);
	CU_ASSERT_EQUAL(r.pto_count, 4);
	dp_recovery_fini(&r);

	/* only non-eliciting packets in flight: no PTO, and calling the timer does nothing */
	rec_init(&r, &l);
	send_pkt(&r, 0, false, 100);
	CU_ASSERT(r.bytes_in_flight == 100 && r.eliciting_in_flight == 0);
	CU_ASSERT_EQUAL(dp_recovery_timer(&r), NONE);
	timer(&r, 1000 * SEC, &l);
	CU_ASSERT(r.pto_count == 0 && r.probes_due == 0 && r.stats.ptos == 0);
	dp_recovery_fini(&r);
}

/* --- malformed input --------------------------------------------------------------------- */

static void
test_eproto_changes_nothing(void)
{
	static const struct {
		uint8_t n;
		uint64_t rg[3][2];
	} bad[] = {
		{ 1, { { 0, 10 } } },			 /* 10 never sent */
		{ 1, { { 10, 10 } } },			 /* nor 10 alone */
		{ 1, { { 5, 4 } } },			 /* lo > hi */
		{ 2, { { 5, 6 }, { 6, 7 } } },		 /* ascending */
		{ 2, { { 5, 6 }, { 3, 5 } } },		 /* overlapping */
		{ 2, { { 5, 6 }, { 3, 12 } } },		 /* second range beyond what was sent */
		{ 0, { { 0, 0 } } },			 /* no range at all */
		{ SL_MAX_ACK_RANGES + 2, { { 0, 0 } } }, /* more ranges than exist */
	};
	struct dp_recovery r, before;
	struct dp_sent ring_before[16];
	struct dp_recovery_cb cb = { log_acked, log_lost, NULL };
	struct log l;

	rec_init(&r, &l);
	cb.arg = &l;
	for (int i = 0; i < 10; i++)
		send_pkt(&r, (uint64_t)i * MS, true, MSS);
	CU_ASSERT_EQUAL(ack1(&r, 50 * MS, 0, &l, 0, 0), 0);
	CU_ASSERT_EQUAL_FATAL(r.cap, 16);
	before = r;
	memcpy(ring_before, r.ring, sizeof(ring_before));
	for (size_t i = 0; i < RTE_DIM(bad); i++) {
		struct dp_ack_ranges a = { .ack_delay_ns = 0, .n = bad[i].n };

		for (unsigned int k = 0; k < RTE_DIM(bad[i].rg); k++) {
			a.r[k].lo = bad[i].rg[k][0];
			a.r[k].hi = bad[i].rg[k][1];
		}
		CU_ASSERT_EQUAL(dp_recovery_on_ack(&r, &a, 60 * MS, &cb), -EPROTO);
		CU_ASSERT(memcmp(&r, &before, sizeof(r)) == 0);
		CU_ASSERT(memcmp(r.ring, ring_before, sizeof(ring_before)) == 0);
	}
	CU_ASSERT(l.n_acked == 1 && l.n_lost == 0);
	/* send-side misuse */
	{
		struct dp_sent p = { .pn = r.next_pn, .bytes = MSS, .ack_eliciting = true };

		CU_ASSERT_EQUAL(dp_recovery_on_sent(&r, &p, 70 * MS), -EINVAL); /* not taken */
		p.pn = 9;
		CU_ASSERT_EQUAL(dp_recovery_on_sent(&r, &p, 70 * MS), -EINVAL); /* not above */
		CU_ASSERT(memcmp(&r, &before, sizeof(r)) == 0);
		/* a pure ACK is not recorded at all */
		p.pn = dp_recovery_take_pn(&r);
		p.ack_eliciting = false;
		CU_ASSERT_EQUAL(dp_recovery_on_sent(&r, &p, 70 * MS), 0);
		CU_ASSERT(r.n == before.n && r.bytes_in_flight == before.bytes_in_flight);
	}
	dp_recovery_fini(&r);
}

/* --- persistent congestion --------------------------------------------------------------- */

/* An RTT sample of 100 ms (smoothed 100, var 50: PTO base 325 ms, persistent congestion
 * after 975 ms), then ack-eliciting packets at `t1` and `t2` (and `mid` between them when
 * mid_acked: a non-eliciting packet that gets acknowledged), then three non-eliciting packets;
 * the ACK of the last one declares the two lost by packet threshold without a new RTT sample.
 * Returns whether persistent congestion was declared. */
static bool
pc_run(uint64_t t1, uint64_t t2, bool mid_acked, bool before_sample)
{
	struct dp_recovery r;
	struct log l;
	uint64_t first, p1, p2, mid = 0, last = 0, now;
	bool pc;

	rec_init(&r, &l);
	first = send_pkt(&r, 0, true, MSS);
	p1 = before_sample ? send_pkt(&r, t1, true, MSS) : 0;
	CU_ASSERT_EQUAL(ack1(&r, 100 * MS, 0, &l, first, first), 0);
	CU_ASSERT_EQUAL(dp_recovery_pto_base(&r), 325 * MS);
	if (!before_sample)
		p1 = send_pkt(&r, t1, true, MSS);
	if (mid_acked)
		mid = send_pkt(&r, t1 + MS, false, 100);
	p2 = send_pkt(&r, t2, true, MSS);
	for (int i = 0; i < 3; i++)
		last = send_pkt(&r, t2 + MS, false, 100);
	now = t2 + 2 * MS;
	if (mid_acked) {
		const uint64_t rg[2][2] = { { last, last }, { mid, mid } };

		CU_ASSERT_EQUAL(ack_n(&r, now, 0, &l, 2, rg), 0);
	} else {
		CU_ASSERT_EQUAL(ack1(&r, now, 0, &l, last, last), 0);
	}
	CU_ASSERT(l.n_lost >= 2 && l.lost[0] == p1 && l.lost[1] == p2);
	CU_ASSERT_EQUAL(r.rtt.smoothed_ns, 100 * MS); /* no sample from non-eliciting packets */
	pc = r.stats.persistent == 1;
	/* the first ACK does not grow the initial 12000 (one packet in flight: the window is not
	 * in use), then halved; or down to the minimum, which ends the recovery period, so the 100
	 * acknowledged bytes count again (RFC 9002 A.7 processes the losses, then the
	 * acknowledgements) */
	CU_ASSERT_EQUAL(r.cc.cwnd, pc ? 2 * MSS + 100 : 6000u);
	CU_ASSERT(pc ? !r.cc.recovery_valid : r.cc.in_recovery);
	dp_recovery_fini(&r);
	return pc;
}

static void
test_persistent_congestion(void)
{
	const uint64_t d = 975 * MS, t1 = 200 * MS;

	CU_ASSERT(!pc_run(t1, t1 + d, false, false));	 /* exactly the duration: not more */
	CU_ASSERT(pc_run(t1, t1 + d + 1, false, false)); /* one nanosecond more */
	CU_ASSERT(pc_run(t1, t1 + 5 * d, false, false));
	CU_ASSERT(!pc_run(t1, t1 + d - 1, false, false));
	/* a packet acknowledged between the two breaks the span */
	CU_ASSERT(!pc_run(t1, t1 + 5 * d, true, false));
	/* packets sent before the first RTT sample do not count */
	CU_ASSERT(!pc_run(1 * MS, 1 * MS + 5 * d, false, true));
}

/* --- memory ------------------------------------------------------------------------------ */

static void
test_ring_growth(void)
{
	enum { N = 10000 };
	struct dp_recovery r;
	struct log l;
	uint32_t cap = 0, growths = 0;

	rec_init(&r, &l);
	dp_recovery_trim(&r); /* emptied records are released when idle */
	CU_ASSERT(r.ring == NULL && dp_recovery_memory(&r) == 0);
	for (uint64_t i = 0; i < N; i++) {
		send_pkt(&r, i * US, true, MSS);
		growths += r.cap != cap;
		cap = r.cap;
	}
	CU_ASSERT_EQUAL(r.n, N);
	CU_ASSERT_EQUAL(r.cap, 16384);
	CU_ASSERT_EQUAL(growths, 11); /* 16, 32, ..., 16384 */
	CU_ASSERT_EQUAL(dp_recovery_memory(&r), 16384 * sizeof(struct dp_sent));
	CU_ASSERT_EQUAL(r.bytes_in_flight, (uint64_t)N * MSS);
	/* only the newest two acknowledged: all but one of the others are lost by packet
	 * threshold, the last by time threshold */
	CU_ASSERT_EQUAL(ack1(&r, SEC, 0, &l, N - 2, N - 1), 0);
	CU_ASSERT_EQUAL(l.n_lost, N - 3);
	CU_ASSERT_EQUAL(r.n, 3); /* N-3 outstanding, N-2 and N-1 acknowledged behind it */
	timer(&r, dp_recovery_timer(&r), &l);
	CU_ASSERT_EQUAL(l.n_lost, N - 2);
	dp_recovery_trim(&r); /* emptied records are released when idle */
	CU_ASSERT(r.ring == NULL && r.cap == 0 && r.n == 0 && r.bytes_in_flight == 0);
	dp_recovery_fini(&r);

	/* the same, acknowledged: a single ACK of everything */
	rec_init(&r, &l);
	for (uint64_t i = 0; i < N; i++)
		send_pkt(&r, i * US, true, MSS);
	CU_ASSERT_EQUAL(ack1(&r, SEC, 0, &l, 0, N - 1), 0);
	CU_ASSERT(l.n_acked == N && l.n_lost == 0);
	for (unsigned int i = 0; i < 64; i++)
		CU_ASSERT_EQUAL(l.acked[i], i); /* in packet-number order */
	dp_recovery_trim(&r);			/* emptied records are released when idle */
	CU_ASSERT(r.ring == NULL && r.cap == 0 && r.eliciting_in_flight == 0);
	CU_ASSERT_EQUAL(dp_recovery_memory(&r), 0);
	dp_recovery_fini(&r);
}

/* A wrapped ring (head in the middle of the array) grows with its order intact. */
static void
test_ring_wrap(void)
{
	struct dp_recovery r;
	struct log l;
	uint64_t next_ack = 0, upto;
	uint32_t head = 0, cap = 0, wraps = 0, misplaced = 0;

	rec_init(&r, &l);
	for (uint64_t round = 0; round < 40; round++) {
		for (int i = 0; i < 7; i++)
			send_pkt(&r, round * MS, true, MSS);
		/* acknowledge all but the newest 5 + round/4, in order */
		upto = r.next_pn - 5 - round / 4;
		if (upto > next_ack) {
			CU_ASSERT_EQUAL(ack1(&r, round * MS + 1, 0, &l, next_ack, upto - 1), 0);
			next_ack = upto;
		}
		CU_ASSERT_EQUAL(r.n, r.next_pn - next_ack);
		for (uint32_t i = 0; i < r.n; i++)
			misplaced += r.ring[(r.head + i) & (r.cap - 1)].pn != next_ack + i;
		wraps += r.cap == cap && r.head < head;
		head = r.head;
		cap = r.cap;
	}
	CU_ASSERT(l.n_lost == 0 && l.n_acked == next_ack);
	CU_ASSERT_EQUAL(misplaced, 0);
	CU_ASSERT(wraps >= 3);
	dp_recovery_fini(&r);
}

/* Out of memory when the ring must double: -ENOMEM and nothing changed. Uses an address-space
 * limit, which AddressSanitizer's shadow memory does not tolerate, so only without it. */
static void
test_enomem(void)
{
#if defined(__SANITIZE_ADDRESS__)
	printf("\n  skipped under AddressSanitizer\n");
#else
	enum { FULL = 1 << 19 }; /* 16 MiB of ring; doubling needs 32 MiB more */
	struct dp_recovery r, before;
	struct rlimit old, lim;
	struct dp_sent p = { .bytes = MSS, .ack_eliciting = true, .in_flight = true };
	unsigned long pages = 0;
	unsigned int failed = 0;
	FILE *f;
	int rc;

	rec_init(&r, NULL);
	for (uint64_t i = 0; i < FULL; i++) {
		p.pn = dp_recovery_take_pn(&r);
		failed += dp_recovery_on_sent(&r, &p, i) != 0;
	}
	CU_ASSERT_EQUAL_FATAL(failed, 0);
	CU_ASSERT_EQUAL_FATAL(r.cap, FULL);
	/* room for 8 MiB more address space: not for the 32 MiB the doubling needs */
	f = fopen("/proc/self/statm", "r");
	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_FATAL(fscanf(f, "%lu", &pages) == 1);
	fclose(f);
	CU_ASSERT_FATAL(getrlimit(RLIMIT_AS, &old) == 0);
	lim = old;
	lim.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (8u << 20);
	CU_ASSERT_FATAL(setrlimit(RLIMIT_AS, &lim) == 0);
	before = r;
	p.pn = dp_recovery_take_pn(&r);
	before.next_pn = r.next_pn;
	rc = dp_recovery_on_sent(&r, &p, FULL);
	CU_ASSERT_FATAL(setrlimit(RLIMIT_AS, &old) == 0);
	CU_ASSERT_EQUAL(rc, -ENOMEM);
	CU_ASSERT(memcmp(&r, &before, sizeof(r)) == 0);
	/* with memory back, the same packet goes in, and everything is still there */
	CU_ASSERT_EQUAL(dp_recovery_on_sent(&r, &p, FULL), 0);
	CU_ASSERT(r.n == FULL + 1 && r.cap == 2 * FULL);
	CU_ASSERT_EQUAL(ack1(&r, SEC, 0, NULL, 0, FULL), 0);
	dp_recovery_trim(&r); /* emptied records are released when idle */
	CU_ASSERT(r.ring == NULL && r.bytes_in_flight == 0);
	dp_recovery_fini(&r);
#endif
}

static void
test_window_wiring(void)
{
	struct dp_recovery r;
	struct log l;

	rec_init(&r, &l);
	CU_ASSERT(dp_recovery_can_send(&r, MSS, 0));
	for (int i = 0; i < 10; i++)
		send_pkt(&r, 0, true, MSS);
	CU_ASSERT(!dp_recovery_can_send(&r, 1, 0));
	/* slow start: the window grows by what was acknowledged */
	CU_ASSERT_EQUAL(ack1(&r, 100 * MS, 0, &l, 0, 9), 0);
	CU_ASSERT_EQUAL(r.cc.cwnd, 24000);
	CU_ASSERT(dp_recovery_can_send(&r, MSS, 100 * MS));
	dp_recovery_fini(&r);
}

/* A sender that never fills its window (two packets per round trip) does not grow it: after
 * 200 round trips it is still the initial window, in both algorithms. A sender that fills it
 * grows it as before. */
static void
test_limited_sender_keeps_window(void)
{
	const enum dp_cc_algo algos[] = { DP_CC_NEWRENO, DP_CC_CUBIC };

	for (unsigned int a = 0; a < RTE_DIM(algos); a++) {
		struct dp_recovery r;
		struct log l;
		uint64_t now = 0, initial;

		memset(&l, 0, sizeof(l));
		dp_recovery_init(&r, algos[a], MSS, false, 0, MAD, 0);
		initial = r.cc.cwnd;
		for (int rt = 0; rt < 200; rt++) {
			uint64_t lo = send_pkt(&r, now, true, MSS),
				 hi = send_pkt(&r, now, true, MSS);

			now += 10 * MS;
			CU_ASSERT_EQUAL_FATAL(ack1(&r, now, 0, &l, lo, hi), 0);
		}
		CU_ASSERT_EQUAL(r.cc.cwnd, initial);
		CU_ASSERT_EQUAL(r.max_in_flight, 2 * MSS);
		/* now fill it: it grows (slow start doubles per round trip, up to twice the flight)
		 */
		for (int rt = 0; rt < 3; rt++) {
			uint64_t lo = r.next_pn, hi = lo, win = r.cc.cwnd;

			while (dp_recovery_can_send(&r, MSS, now))
				hi = send_pkt(&r, now, true, MSS);
			now += 10 * MS;
			CU_ASSERT_EQUAL_FATAL(ack1(&r, now, 0, &l, lo, hi), 0);
			CU_ASSERT(r.cc.cwnd > win && r.cc.cwnd <= 2 * win);
		}
		dp_recovery_fini(&r);
	}
}

static CU_TestInfo cases[] = {
	{ "rtt: table of exact estimates", test_rtt_table },
	{ "rtt: no sample unless the largest is new and eliciting", test_rtt_no_sample },
	{ "loss: packet threshold, then time threshold to the ns", test_packet_and_time_threshold },
	{ "loss: lost-packet records expire and free", test_lost_records_expire },
	{ "loss: spurious losses counted once", test_spurious },
	{ "pto: backoff 1, 2, 4, probes, loss timer precedence", test_pto },
	{ "pto: granularity, probes bypass window and pacing", test_pto_periods_and_probes },
	{ "malformed ACKs and sends change nothing", test_eproto_changes_nothing },
	{ "persistent congestion at its exact threshold", test_persistent_congestion },
	{ "ring: 10,000 in flight, freed when empty", test_ring_growth },
	{ "ring: wrapped head, order kept", test_ring_wrap },
	{ "ring: -ENOMEM leaves the state intact", test_enomem },
	{ "congestion window wiring", test_window_wiring },
	{ "a sender that does not fill its window does not grow it",
	  test_limited_sender_keeps_window },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("recovery", cases)
