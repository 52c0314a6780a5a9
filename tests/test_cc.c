/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: congestion control tests — NewReno (slow start, recovery, congestion avoidance,
 * persistent congestion, the minimum window), CUBIC (reduction, K and W_cubic against a
 * double-precision reference, concave then convex growth over simulated time, the Reno-friendly
 * region, fast convergence, the 1.5x target cap) and the pacer's exact send times.
 * Time is injected; nothing here measures time.
 */
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "dp_cc.h"
#include "sl_limits.h"
#include "sl_test.h"

#define MS  1000000ull
#define SEC 1000000000ull

static double
cbrt_ref(double x) /* Newton's method: no libm needed */
{
	double y = x > 1 ? x / 3 : 1;

	for (int i = 0; i < 200; i++)
		y = (2 * y + x / (y * y)) / 3;
	return y;
}

static struct dp_rtt
rtt_of(uint64_t smoothed, bool sampled)
{
	struct dp_rtt r = { .latest_ns = smoothed,
			    .smoothed_ns = smoothed,
			    .var_ns = smoothed / 2,
			    .min_ns = sampled ? smoothed : DP_RTT_NO_SAMPLE };
	return r;
}

/* Acknowledge `total` bytes in `chunk`-byte packets sent at sent_ns. */
static void
ack_bytes(struct dp_cc *cc, uint64_t total, uint32_t chunk, uint64_t sent_ns, uint64_t now_ns,
	  const struct dp_rtt *rtt)
{
	while (total > 0) {
		uint32_t b = (uint32_t)RTE_MIN(total, (uint64_t)chunk);

		dp_cc_on_acked(cc, b, sent_ns, rtt, now_ns);
		total -= b;
	}
}

/* --- common ------------------------------------------------------------------------------ */

static void
test_init(void)
{
	static const struct {
		uint32_t mss;
		uint64_t cwnd;
	} t[] = {
		{ 512, 5120 },	 { 1200, 12000 }, { 1440, 14400 }, { 1472, 14720 },
		{ 1500, 14720 }, { 4000, 14720 }, { 9000, 18000 },
	};
	struct dp_cc cc;

	for (size_t i = 0; i < RTE_DIM(t); i++) {
		for (int algo = DP_CC_NEWRENO; algo <= DP_CC_CUBIC; algo++) {
			dp_cc_init(&cc, (enum dp_cc_algo)algo, t[i].mss, true, 7);
			CU_ASSERT_EQUAL(cc.cwnd, t[i].cwnd);
			CU_ASSERT_EQUAL(cc.ssthresh, UINT64_MAX);
			CU_ASSERT_EQUAL(dp_cc_min_window(&cc), 2ull * t[i].mss);
			CU_ASSERT_EQUAL(cc.pace_next_ns, 7);
			CU_ASSERT(!cc.in_recovery && !cc.recovery_valid);
		}
	}
	dp_cc_init(&cc, DP_CC_NEWRENO, 1000, false, 0);
	CU_ASSERT_STRING_EQUAL(dp_cc_name(&cc), "newreno");
	CU_ASSERT(dp_cc_window_open(&cc, 0, 10000));
	CU_ASSERT(dp_cc_window_open(&cc, 9000, 1000));
	CU_ASSERT(!dp_cc_window_open(&cc, 9001, 1000));
	CU_ASSERT(!dp_cc_window_open(&cc, 12000, 1));
	dp_cc_init(&cc, DP_CC_CUBIC, 1000, false, 0);
	CU_ASSERT_STRING_EQUAL(dp_cc_name(&cc), "cubic");
}

/* --- NewReno ------------------------------------------------------------------------------ */

static void
test_reno_slow_start(void)
{
	struct dp_rtt rtt = rtt_of(100 * MS, true);
	struct dp_cc cc;
	uint64_t t = 0;

	dp_cc_init(&cc, DP_CC_NEWRENO, 1000, false, 0);
	/* each round trip, a whole window is acknowledged packet by packet: it doubles */
	for (uint64_t want = 20000; want <= 320000; want *= 2) {
		ack_bytes(&cc, cc.cwnd, 1000, t, t + 100 * MS, &rtt);
		t += 100 * MS;
		CU_ASSERT_EQUAL(cc.cwnd, want);
	}
}

static void
test_reno_recovery(void)
{
	struct dp_rtt rtt = rtt_of(100 * MS, true);
	struct dp_cc cc;

	dp_cc_init(&cc, DP_CC_NEWRENO, 1000, false, 0);
	ack_bytes(&cc, 70000, 1000, 0, 100 * MS, &rtt); /* cwnd 80000 */
	CU_ASSERT_EQUAL(cc.cwnd, 80000);

	/* a loss: half the window */
	dp_cc_on_congestion(&cc, 150 * MS, 200 * MS);
	CU_ASSERT_EQUAL(cc.ssthresh, 40000);
	CU_ASSERT_EQUAL(cc.cwnd, 40000);
	CU_ASSERT(cc.in_recovery && cc.recovery_start_ns == 200 * MS);
	/* more losses of packets sent before the recovery began: no further reduction */
	dp_cc_on_congestion(&cc, 160 * MS, 210 * MS);
	dp_cc_on_congestion(&cc, 200 * MS, 220 * MS); /* sent exactly at the start: still inside */
	CU_ASSERT_EQUAL(cc.cwnd, 40000);
	CU_ASSERT_EQUAL(cc.recovery_start_ns, 200 * MS);
	/* their ACKs do not grow the window either */
	ack_bytes(&cc, 100000, 1000, 190 * MS, 230 * MS, &rtt);
	CU_ASSERT_EQUAL(cc.cwnd, 40000);
	CU_ASSERT(cc.in_recovery);
	/* the first ACK of a packet sent after the start ends recovery; congestion avoidance:
	 * +1 mss once a whole window has been acknowledged, not before */
	ack_bytes(&cc, 39000, 1000, 201 * MS, 300 * MS, &rtt);
	CU_ASSERT(!cc.in_recovery);
	CU_ASSERT_EQUAL(cc.cwnd, 40000);
	ack_bytes(&cc, 1000, 1000, 201 * MS, 300 * MS, &rtt);
	CU_ASSERT_EQUAL(cc.cwnd, 41000);
	ack_bytes(&cc, 40999, 1000, 301 * MS, 400 * MS, &rtt);
	CU_ASSERT_EQUAL(cc.cwnd, 41000);
	ack_bytes(&cc, 1, 1000, 301 * MS, 400 * MS, &rtt);
	CU_ASSERT_EQUAL(cc.cwnd, 42000);
	/* ... and a loss after recovery ended reduces again */
	dp_cc_on_congestion(&cc, 350 * MS, 450 * MS);
	CU_ASSERT_EQUAL(cc.cwnd, 21000);
	CU_ASSERT_EQUAL(cc.ssthresh, 21000);
}

static void
test_reno_persistent_and_floor(void)
{
	struct dp_rtt rtt = rtt_of(10 * MS, true);
	struct dp_cc cc;

	dp_cc_init(&cc, DP_CC_NEWRENO, 1200, false, 0);
	ack_bytes(&cc, 48000, 1200, 0, 10 * MS, &rtt); /* 60000 */
	dp_cc_on_congestion(&cc, 5 * MS, 20 * MS);
	CU_ASSERT_EQUAL(cc.cwnd, 30000);
	dp_cc_on_persistent_congestion(&cc, 20 * MS);
	CU_ASSERT_EQUAL(cc.cwnd, 2400);
	CU_ASSERT_EQUAL(cc.ssthresh, 30000); /* kept: slow start back up to it */
	CU_ASSERT(!cc.in_recovery && !cc.recovery_valid);
	/* the recovery period is over: even an old packet's ACK grows the window now */
	ack_bytes(&cc, 1200, 1200, 1 * MS, 30 * MS, &rtt);
	CU_ASSERT_EQUAL(cc.cwnd, 3600);
	/* the window never drops below 2 mss */
	dp_cc_on_congestion(&cc, 31 * MS, 40 * MS);
	CU_ASSERT_EQUAL(cc.ssthresh, 1800);
	CU_ASSERT_EQUAL(cc.cwnd, 2400);
	dp_cc_on_congestion(&cc, 41 * MS, 50 * MS);
	CU_ASSERT_EQUAL(cc.cwnd, 2400);
	/* congestion avoidance from the floor: one mss per window */
	ack_bytes(&cc, 2400, 1200, 51 * MS, 60 * MS, &rtt);
	CU_ASSERT_EQUAL(cc.cwnd, 3600);
}

/* --- CUBIC ------------------------------------------------------------------------------- */

/* A CUBIC controller whose window was `w` bytes when a loss at now_ns reduced it. */
static void
cubic_after_loss(struct dp_cc *cc, uint32_t mss, uint64_t w, uint64_t now_ns)
{
	struct dp_rtt rtt = rtt_of(100 * MS, true);

	dp_cc_init(cc, DP_CC_CUBIC, mss, false, 0);
	ack_bytes(cc, w - cc->cwnd, UINT32_MAX, 0, 1, &rtt);
	CU_ASSERT_EQUAL_FATAL(cc->cwnd, w);
	dp_cc_on_congestion(cc, now_ns - 1, now_ns);
}

static void
test_cubic_reduction_and_k(void)
{
	static const struct {
		uint32_t mss;
		uint64_t w;
	} t[] = {
		{ 1000, 100000 }, { 1440, 14400 * 7 },	   { 1200, 1200 * 1000 },
		{ 1000, 20000 },  { 1440, 1440 * 100000 }, { 9000, 900000 },
	};
	struct dp_rtt rtt = rtt_of(100 * MS, true);

	for (size_t i = 0; i < RTE_DIM(t); i++) {
		struct dp_cc cc;
		double segs, k_ref;

		cubic_after_loss(&cc, t[i].mss, t[i].w, SEC);
		CU_ASSERT_EQUAL(cc.cwnd, t[i].w * 7 / 10);
		CU_ASSERT_EQUAL(cc.ssthresh, t[i].w * 7 / 10);
		CU_ASSERT_EQUAL(cc.cubic.w_max, t[i].w);
		CU_ASSERT_EQUAL(cc.cubic.cwnd_prior, t[i].w);
		/* the epoch starts with the first ACK after recovery */
		dp_cc_on_acked(&cc, 1, SEC + 1, &rtt, 2 * SEC);
		CU_ASSERT(cc.cubic.epoch_valid && cc.cubic.epoch_ns == 2 * SEC);
		/* K = cbrt(W_max (1 - beta) / C) seconds, W_max in segments; the integer root in
		 * whole microseconds is at most 1 us below */
		segs = (double)t[i].w / t[i].mss;
		k_ref = cbrt_ref(segs * 0.3 / 0.4) * 1e9;
		CU_ASSERT((double)cc.cubic.k_ns <= k_ref + 1.0);
		CU_ASSERT((double)cc.cubic.k_ns > k_ref - 1000.0);
		if (!((double)cc.cubic.k_ns <= k_ref + 1.0 &&
		      (double)cc.cubic.k_ns > k_ref - 1000.0))
			fprintf(stderr, "  w %llu mss %u: K %llu ns, reference %.1f\n",
				(unsigned long long)t[i].w, t[i].mss,
				(unsigned long long)cc.cubic.k_ns, k_ref);
	}
}

/* W_cubic(t) against C * (t - K)^3 + W_max in doubles, with the controller's own K. The integer
 * version truncates t - K to whole microseconds: that moves W by at most
 * 3 C d^2 * 1e-6 segments (0.2 bytes for d = 10 s and mss 1440), plus one byte of final
 * rounding, so 2 bytes of tolerance. */
static void
test_cubic_window_formula(void)
{
	struct dp_rtt rtt = rtt_of(100 * MS, true);
	struct dp_cc cc;
	unsigned int bad = 0;

	cubic_after_loss(&cc, 1440, 1440 * 1000, SEC);
	dp_cc_on_acked(&cc, 1, SEC + 1, &rtt, 2 * SEC);
	/* at t = 0 the curve starts at the reduced window */
	CU_ASSERT(dp_cc_cubic_window(&cc, 0) >= 1440 * 700);
	CU_ASSERT(dp_cc_cubic_window(&cc, 0) <= 1440 * 700 + 1);
	CU_ASSERT_EQUAL(dp_cc_cubic_window(&cc, cc.cubic.k_ns), 1440 * 1000);
	for (uint64_t t = 0; t <= 3 * cc.cubic.k_ns; t += 7777777) {
		double d = ((double)t - (double)cc.cubic.k_ns) / 1e9;
		double want = 1440.0 * 1000 + 0.4 * 1440 * d * d * d;
		double got = (double)dp_cc_cubic_window(&cc, t);

		if (got < want - 2 || got > want + 2) {
			if (bad++ < 5)
				fprintf(stderr, "  t %.3f s: W %.1f, reference %.1f\n", t / 1e9,
					got, want);
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* Congestion avoidance over simulated time: RTT 100 ms, every 10 ms a tenth of the window is
 * acknowledged. Returns the window at each of `n` 10 ms steps. */
static void
cubic_run(struct dp_cc *cc, uint64_t start, uint64_t *w, unsigned int n)
{
	struct dp_rtt rtt = rtt_of(100 * MS, true);

	for (unsigned int i = 0; i < n; i++) {
		uint64_t now = start + i * 10 * MS;

		dp_cc_on_acked(cc, (uint32_t)(cc->cwnd / 10), now - 100 * MS, &rtt, now);
		w[i] = cc->cwnd;
	}
}

static void
test_cubic_growth_curve(void)
{
	enum { STEPS = 3000 }; /* 30 s */
	static uint64_t w[STEPS];
	const uint64_t wmax = 1000ull * 10000, start = 2 * SEC;
	struct dp_cc cc;
	unsigned int k_step, non_mono = 0, not_concave = 0, not_convex = 0;
	uint64_t at_k;

	/* W_max = 10000 segments, RTT 100 ms: K = cbrt(7500) = 19.57 s, far beyond what the
	 * Reno-friendly estimate (+0.53 segment per RTT) reaches, so CUBIC's own curve rules */
	cubic_after_loss(&cc, 1000, wmax, SEC);
	cubic_run(&cc, start, w, STEPS);
	k_step = (unsigned int)(cc.cubic.k_ns / (10 * MS));
	CU_ASSERT_FATAL(k_step > 1900 && k_step < 2000);
	for (unsigned int i = 1; i < STEPS; i++)
		non_mono += w[i] < w[i - 1];
	/* growth per second shrinks toward K (concave) and swells after it (convex) */
	for (unsigned int s = 1; s + 2 < k_step / 100 - 1; s++)
		not_concave += w[(s + 2) * 100] - w[(s + 1) * 100] >= w[(s + 1) * 100] - w[s * 100];
	for (unsigned int s = k_step / 100 + 2; s + 2 < STEPS / 100; s++)
		not_convex += w[(s + 2) * 100] - w[(s + 1) * 100] <= w[(s + 1) * 100] - w[s * 100];
	CU_ASSERT_EQUAL(non_mono, 0);
	CU_ASSERT_EQUAL(not_concave, 0);
	CU_ASSERT_EQUAL(not_convex, 0);
	/* The window follows target = W(t + RTT) through a first-order lag (a tenth of the gap
	 * per ACK, one ACK per 10 ms: time constant tau ~ RTT), which cancels the RTT lead to
	 * first order. Near K the curve is flat (W' = W'' = 0), so what remains is ~ W''' tau^3 / 6
	 * = C mss tau^3 = 0.4 bytes, the 10 ms grid (< 0.001 byte) and the 1 us rounding of K
	 * (none at first order): 50 bytes (1/20 mss) is ample. One second either side the curve
	 * is 400 bytes away from W_max, so a K off by a second would fail. */
	at_k = w[k_step];
	printf("\n  K %.3f s, cwnd at K %llu (W_max %llu), at K - 1 s %llu, at 30 s %llu\n",
	       cc.cubic.k_ns / 1e9, (unsigned long long)at_k, (unsigned long long)wmax,
	       (unsigned long long)w[k_step - 100], (unsigned long long)w[STEPS - 1]);
	CU_ASSERT(at_k + 50 >= wmax && at_k <= wmax + 50);
	for (int off = -100; off <= 100; off += 200) {
		double t = (k_step + off) * 0.01 - cc.cubic.k_ns / 1e9;
		double want = (double)wmax + 0.4 * 1000 * t * t * t;
		double got = (double)w[k_step + off];

		CU_ASSERT(got > want - 50 && got < want + 50);
	}
	/* and it carries on past W_max: 10 s after K, W = W_max + 0.4 * 10^3 segments */
	CU_ASSERT(w[STEPS - 1] > wmax + 300 * 1000);
	CU_ASSERT(cc.cubic.w_est < cc.cwnd);
}

static void
test_cubic_reno_friendly(void)
{
	struct dp_rtt rtt = rtt_of(1 * MS, true);
	struct dp_cc cc;
	uint64_t now = 2 * SEC, prev;
	unsigned int bad = 0;

	/* 20 segments, RTT 1 ms: K = cbrt(15) = 2.47 s = 2466 round trips, while Reno gains
	 * 9/17 segment per round trip from the start: the Reno-friendly window dominates */
	cubic_after_loss(&cc, 1000, 20000, SEC);
	for (unsigned int rt = 0; rt < 100; rt++, now += MS) {
		bool below_prior = cc.cubic.w_est < cc.cubic.cwnd_prior;
		uint64_t inc;

		prev = cc.cwnd;
		dp_cc_on_acked(&cc, (uint32_t)cc.cwnd, now - MS, &rtt, now);
		inc = cc.cwnd - prev;
		/* alpha = 9/17 until W_est reaches the window before the loss, then 1 */
		if (below_prior ? inc != 529 && inc != 530 : inc != 1000)
			bad++;
		if (cc.cwnd != cc.cubic.w_est ||
		    dp_cc_cubic_window(&cc, now - cc.cubic.epoch_ns) >= cc.cwnd)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* 11.3 round trips at 9/17 to climb 6000 bytes, the rest at 1000 per round trip */
	CU_ASSERT(cc.cwnd >= 20000 + 88 * 1000 && cc.cwnd <= 20000 + 89 * 1000 + 530);
}

static void
test_cubic_fast_convergence(void)
{
	struct dp_rtt rtt = rtt_of(100 * MS, true);
	struct dp_cc cc;

	cubic_after_loss(&cc, 1000, 100000, SEC);
	/* a second loss before the window got back to W_max: W_max = 0.85 cwnd */
	dp_cc_on_congestion(&cc, SEC + 1, 2 * SEC);
	CU_ASSERT_EQUAL(cc.cubic.w_max, 70000 * 17 / 20);
	CU_ASSERT_EQUAL(cc.cwnd, 49000);
	CU_ASSERT_EQUAL(cc.cubic.cwnd_prior, 70000);
	/* grow past W_max (59500), then a loss: no fast convergence, W_max = cwnd */
	ack_bytes(&cc, 1, 1, 2 * SEC + 1, 3 * SEC, &rtt); /* starts the epoch at 3 s */
	for (uint64_t now = 3 * SEC; cc.cwnd <= 59500; now += 10 * MS)
		dp_cc_on_acked(&cc, (uint32_t)cc.cwnd, now, &rtt, now);
	{
		uint64_t w = cc.cwnd;

		dp_cc_on_congestion(&cc, 100 * SEC, 101 * SEC);
		CU_ASSERT_EQUAL(cc.cubic.w_max, w);
		CU_ASSERT_EQUAL(cc.cwnd, w * 7 / 10);
	}
}

static void
test_cubic_cap_and_persistent(void)
{
	struct dp_rtt rtt = rtt_of(100 * MS, true);
	struct dp_cc cc, reno;
	uint64_t w;

	cubic_after_loss(&cc, 1000, 100000, SEC);
	dp_cc_on_acked(&cc, 1000, SEC + 1, &rtt, 2 * SEC); /* epoch at 2 s */
	/* 100 s later W(t) is enormous: one ACK of a whole window grows it by exactly half */
	w = cc.cwnd;
	dp_cc_on_acked(&cc, (uint32_t)w, 50 * SEC, &rtt, 102 * SEC);
	CU_ASSERT_EQUAL(cc.cwnd, w + w / 2);

	/* persistent congestion: 2 mss, slow start (as NewReno) up to ssthresh, then a new
	 * epoch with K = 0 and W_max = the window at its start */
	dp_cc_on_persistent_congestion(&cc, 103 * SEC);
	CU_ASSERT_EQUAL(cc.cwnd, 2000);
	CU_ASSERT(!cc.recovery_valid);
	dp_cc_init(&reno, DP_CC_NEWRENO, 1000, false, 0);
	reno.cwnd = 2000;
	for (int i = 0; i < 5; i++) {
		dp_cc_on_acked(&cc, (uint32_t)cc.cwnd, 104 * SEC, &rtt, 104 * SEC);
		dp_cc_on_acked(&reno, (uint32_t)reno.cwnd, 104 * SEC, &rtt, 104 * SEC);
		CU_ASSERT_EQUAL(cc.cwnd, reno.cwnd);
	}
	CU_ASSERT_EQUAL(cc.cwnd, 64000);
	CU_ASSERT(cc.cwnd < cc.ssthresh);
	dp_cc_on_acked(&cc, 10000, 105 * SEC, &rtt, 105 * SEC); /* 74000 >= ssthresh 70000 */
	dp_cc_on_acked(&cc, 1000, 105 * SEC, &rtt, 106 * SEC);
	CU_ASSERT(cc.cubic.epoch_valid && cc.cubic.k_ns == 0);
	CU_ASSERT_EQUAL(cc.cubic.w_max, 74000);
}

/* --- pacing ------------------------------------------------------------------------------ */

static void
test_pacing(void)
{
	struct dp_rtt rtt = rtt_of(100 * MS, true), init = rtt_of(SL_INITIAL_RTT_NS, false);
	struct dp_cc cc;
	uint64_t now = SEC, t;
	unsigned int bad = 0;

	/* cwnd 14400, RTT 100 ms: 1440 bytes every 1440 * 0.1 / (1.25 * 14400) = 8 ms, so the
	 * window leaves over 80 ms = RTT / 1.25 */
	dp_cc_init(&cc, DP_CC_NEWRENO, 1440, true, SEC);
	for (unsigned int k = 0; k < 10; k++) {
		t = dp_cc_pacing_time(&cc, now);
		bad += t != SEC + k * 8 * MS;
		dp_cc_on_sent(&cc, 1440, &rtt, t);
		now = t;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(cc.pace_next_ns, SEC + 80 * MS);
	/* a smaller packet takes proportionally less time */
	dp_cc_on_sent(&cc, 720, &rtt, SEC + 80 * MS);
	CU_ASSERT_EQUAL(cc.pace_next_ns, SEC + 84 * MS);
	/* after a pause, credit of at most 1 ms (9 packets would be 72 ms) */
	dp_cc_on_sent(&cc, 1440, &rtt, 10 * SEC);
	CU_ASSERT_EQUAL(cc.pace_next_ns, 10 * SEC - 1 * MS + 8 * MS);
	CU_ASSERT_EQUAL(dp_cc_pacing_time(&cc, 10 * SEC), 10 * SEC + 7 * MS);
	CU_ASSERT_EQUAL(dp_cc_pacing_time(&cc, 11 * SEC), 11 * SEC);

	/* a 100x window: 80 us per packet; after a pause exactly DP_CC_PACE_BURST packets go at
	 * once, the next one 80 us later */
	cc.cwnd = 1440000;
	now = 20 * SEC;
	for (unsigned int k = 0; k < DP_CC_PACE_BURST; k++) {
		bad += dp_cc_pacing_time(&cc, now) != now;
		dp_cc_on_sent(&cc, 1440, &rtt, now);
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(dp_cc_pacing_time(&cc, now), now + 80000);

	/* before an RTT sample nothing is paced: the initial window leaves as a burst */
	dp_cc_init(&cc, DP_CC_CUBIC, 1440, true, 0);
	for (unsigned int k = 0; k < 10; k++) {
		dp_cc_on_sent(&cc, 1440, k % 2 ? &init : NULL, 0);
		bad += dp_cc_pacing_time(&cc, 0) != 0;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(cc.pace_next_ns, 0);

	/* pacing off: always now, and sending leaves the pacer alone */
	dp_cc_init(&cc, DP_CC_NEWRENO, 1440, false, 5);
	dp_cc_on_sent(&cc, 1440, &rtt, 5);
	dp_cc_on_sent(&cc, 1440, &rtt, 5);
	CU_ASSERT_EQUAL(dp_cc_pacing_time(&cc, 5), 5);
	CU_ASSERT_EQUAL(cc.pace_next_ns, 5);
}

/* --- HyStart++ ---------------------------------------------------------------------------- */

/* One ACK of a 1000-byte packet sent at sent_ms, arriving at now_ms with RTT sample rtt_ms. */
static void
hs_ack(struct dp_cc *cc, uint64_t sent_ms, uint64_t now_ms, uint64_t rtt_ms)
{
	struct dp_rtt r = rtt_of(rtt_ms * MS, true);

	dp_cc_on_acked(cc, 1000, sent_ms * MS, &r, now_ms * MS);
}

/* Round A at 40 ms sets the baseline; in round B samples 6 ms higher (threshold: max(4 ms,
 * 40/8 ms) = 5 ms) enter conservative slow start after 8 in a row. */
static void
hs_enter_css(struct dp_cc *cc)
{
	dp_cc_init(cc, DP_CC_NEWRENO, 1000, false, 0);
	CU_ASSERT_EQUAL(cc->cwnd, 10000);
	for (uint64_t i = 1; i <= 10; i++)
		hs_ack(cc, i, 40 + i, 40);
	CU_ASSERT_EQUAL(cc->cwnd, 20000);
	for (uint64_t i = 0; i < 7; i++) /* a new round: packets sent after 41 ms */
		hs_ack(cc, 60 + i, 106 + i, 46);
	CU_ASSERT(!cc->hs.css);
	CU_ASSERT_EQUAL(cc->cwnd, 27000);
	hs_ack(cc, 67, 113, 46); /* the eighth in a row */
	CU_ASSERT(cc->hs.css);
	CU_ASSERT_EQUAL(cc->cwnd, 27250); /* a quarter of the acknowledged bytes */
}

static void
test_hystart_css_then_ca(void)
{
	struct dp_cc cc;
	uint64_t t = 200;

	hs_enter_css(&cc);
	hs_ack(&cc, 68, 114, 46);
	CU_ASSERT_EQUAL(cc.cwnd, 27500);
	CU_ASSERT_EQUAL(cc.ssthresh, UINT64_MAX);
	/* five more rounds in conservative slow start, then congestion avoidance */
	for (int round = 1; round <= 5; round++, t += 100) {
		CU_ASSERT(cc.hs.css);
		hs_ack(&cc, t, t + 46, 46); /* sent after the round began: a new round */
	}
	CU_ASSERT(!cc.hs.css);
	CU_ASSERT_EQUAL(cc.ssthresh, 27500 + 4 * 250);
	CU_ASSERT_EQUAL(cc.cwnd, cc.ssthresh); /* the fifth round's ACK no longer slow-starts */
	hs_ack(&cc, t, t + 46, 46);
	CU_ASSERT(cc.cwnd < cc.ssthresh + 1000); /* +1 mss per window from here */
}

/* A rise that goes away again (8 samples below the baseline) resumes full slow start. */
static void
test_hystart_spurious(void)
{
	struct dp_cc cc;
	uint64_t w;

	hs_enter_css(&cc);
	for (uint64_t i = 0; i < 7; i++)
		hs_ack(&cc, 68 + i, 114 + i, 41);
	CU_ASSERT(cc.hs.css);
	hs_ack(&cc, 75, 121, 41);
	CU_ASSERT(!cc.hs.css);
	w = cc.cwnd;
	hs_ack(&cc, 76, 122, 41);
	CU_ASSERT_EQUAL(cc.cwnd, w + 1000);
	/* one sample above the threshold is not enough, nor seven */
	for (uint64_t i = 0; i < 7; i++)
		hs_ack(&cc, 77 + i, 123 + i, 50);
	hs_ack(&cc, 84, 130, 40);
	CU_ASSERT(!cc.hs.css);
}

static CU_TestInfo cases[] = {
	{ "initial window, minimum window, window check", test_init },
	{ "newreno: slow start doubles per round trip", test_reno_slow_start },
	{ "newreno: one reduction per recovery, then +1 mss per window", test_reno_recovery },
	{ "newreno: persistent congestion and the 2 mss floor", test_reno_persistent_and_floor },
	{ "cubic: reduction to 0.7 and K against a double reference", test_cubic_reduction_and_k },
	{ "cubic: W_cubic(t) against a double reference", test_cubic_window_formula },
	{ "cubic: concave then convex growth, W_max at K", test_cubic_growth_curve },
	{ "cubic: Reno-friendly region for small windows", test_cubic_reno_friendly },
	{ "cubic: fast convergence", test_cubic_fast_convergence },
	{ "cubic: 1.5x target cap, persistent congestion", test_cubic_cap_and_persistent },
	{ "pacing: exact send times, burst credit, none before a sample, off", test_pacing },
	{ "hystart++: delay rise, conservative slow start, then CA", test_hystart_css_then_ca },
	{ "hystart++: a rise that goes away resumes slow start", test_hystart_spurious },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("cc", cases)
