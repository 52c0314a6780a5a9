/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: congestion control and pacing (see dp_cc.h).
 *
 * Everything is in bytes and integer nanoseconds. The rules common to both algorithms (the
 * recovery period, slow start's entry and exit, pacing) live here in the dispatch functions;
 * an algorithm's ops only grow and shrink the window.
 *
 * CUBIC fixed point: W_cubic is evaluated with t - K in whole microseconds; C = 0.4 segments
 * per s^3 is 4 * mss / 10^19 bytes per us^3, applied to a 128-bit cube, so the only rounding is
 * the microsecond truncation of t - K and the final division (see dp_cc_cubic_window). K is the
 * integer cube root of (W_max - cwnd_epoch) / C in us^3, also in 128 bits.
 */
#include <string.h>

#include <rte_common.h>

#include "dp_cc.h"
#include "sl_limits.h"

#define DP_CC_MAX_CWND (1ull << 48) /* keeps every product below in range */

/* RFC 9438: beta_cubic = 0.7, fast convergence W_max = cwnd * (1 + beta) / 2,
 * alpha_cubic = 3 * (1 - beta) / (1 + beta) = 9 / 17. */
#define CUBIC_BETA_NUM	7
#define CUBIC_BETA_DEN	10
#define CUBIC_FC_NUM	17
#define CUBIC_FC_DEN	20
#define CUBIC_ALPHA_NUM 9
#define CUBIC_ALPHA_DEN 17
/* C = 0.4 segments / s^3: W grows by CUBIC_C_NUM * mss * d^3 / CUBIC_C_DEN bytes, d in us. */
#define CUBIC_C_NUM	  4u
#define CUBIC_C_DEN	  ((unsigned __int128)10000000000000000000u) /* 10 * 10^18 */
#define CUBIC_D_MAX_US	  (1ull << 31) /* |t - K| beyond 35 minutes is clamped */
#define CUBIC_K_MAX_DELTA (1ull << 40) /* W_max - cwnd beyond 1 TiB is clamped */
/* Pacing: rate = 5/4 * cwnd / smoothed_rtt. */
#define PACE_GAIN_NUM 5
#define PACE_GAIN_DEN 4

static_assert(CUBIC_ALPHA_NUM * (CUBIC_BETA_DEN + CUBIC_BETA_NUM) ==
		      3 * (CUBIC_BETA_DEN - CUBIC_BETA_NUM) * CUBIC_ALPHA_DEN,
	      "alpha_cubic = 3 (1 - beta) / (1 + beta)");
static_assert(CUBIC_FC_NUM * 2 * CUBIC_BETA_DEN == (CUBIC_BETA_DEN + CUBIC_BETA_NUM) * CUBIC_FC_DEN,
	      "fast convergence factor = (1 + beta) / 2");

/* a * b / c, saturating. */
static uint64_t
mul_div(uint64_t a, uint64_t b, uint64_t c)
{
	unsigned __int128 q = (unsigned __int128)a * b / c;

	return q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
}

static void
grow(struct dp_cc *cc, uint64_t bytes)
{
	cc->cwnd = bytes > DP_CC_MAX_CWND - cc->cwnd ? DP_CC_MAX_CWND : cc->cwnd + bytes;
}

/* --- slow start and HyStart++ (RFC 9406) ------------------------------------------------- */

#define HS_MIN_RTT_THRESH_US 4000
#define HS_MAX_RTT_THRESH_US 16000
#define HS_MIN_RTT_DIVISOR   8
#define HS_N_RTT_SAMPLE	     8
#define HS_CSS_GROWTH_DIV    4
#define HS_CSS_ROUNDS	     5

static void
hs_reset(struct dp_cc *cc, uint64_t now_ns)
{
	memset(&cc->hs, 0, sizeof(cc->hs));
	cc->hs.round_start_ns = now_ns;
	cc->hs.cur_min_rtt_us = cc->hs.last_min_rtt_us = UINT32_MAX;
}

/* A new round starts when a packet sent after the current one began is acknowledged. */
static void
hs_round(struct dp_cc *cc, uint64_t sent_ns, uint64_t now_ns)
{
	if (sent_ns < cc->hs.round_start_ns)
		return;
	if (cc->hs.cur_min_rtt_us != UINT32_MAX)
		cc->hs.last_min_rtt_us = cc->hs.cur_min_rtt_us;
	cc->hs.cur_min_rtt_us = UINT32_MAX;
	cc->hs.round_start_ns = now_ns;
	if (cc->hs.css && ++cc->hs.css_rounds >= HS_CSS_ROUNDS) {
		cc->ssthresh = cc->cwnd; /* on to congestion avoidance */
		cc->hs.css = false;
	}
}

/* Watch the round trip during slow start. RFC 9406 compares the minimum of a round's samples
 * with the previous round's; with pacing, the first samples of every round come from packets
 * sent before the queue formed, so that minimum only rises a round too late, when a
 * one-BDP queue has already overflowed. Here the same test runs on a sliding window instead:
 * HS_N_RTT_SAMPLE samples in a row at least a threshold (an eighth of the last round's
 * minimum, 4..16 ms) above it enter conservative slow start; as many in a row below the
 * baseline taken then leave it again. */
static void
hs_sample(struct dp_cc *cc, const struct dp_rtt *rtt)
{
	uint32_t us, thresh;
	bool beyond;

	if (rtt == NULL || !dp_rtt_sampled(rtt))
		return;
	us = (uint32_t)RTE_MIN(rtt->latest_ns / 1000, (uint64_t)UINT32_MAX - 1);
	cc->hs.cur_min_rtt_us = RTE_MIN(cc->hs.cur_min_rtt_us, us);
	if (cc->hs.last_min_rtt_us == UINT32_MAX)
		return;
	thresh = cc->hs.last_min_rtt_us / HS_MIN_RTT_DIVISOR;
	thresh = thresh < HS_MIN_RTT_THRESH_US	 ? HS_MIN_RTT_THRESH_US
		 : thresh > HS_MAX_RTT_THRESH_US ? HS_MAX_RTT_THRESH_US
						 : thresh;
	beyond = cc->hs.css ? us < cc->hs.css_baseline_us : us >= cc->hs.last_min_rtt_us + thresh;
	cc->hs.run = beyond ? cc->hs.run + 1 : 0;
	if (cc->hs.run < HS_N_RTT_SAMPLE)
		return;
	cc->hs.run = 0;
	cc->hs.css = !cc->hs.css;
	cc->hs.css_rounds = 0;
	cc->hs.css_baseline_us = us;
}

/* Slow-start growth for `bytes` acknowledged: all of it, or a quarter in conservative slow
 * start. */
static void
slow_start(struct dp_cc *cc, uint32_t bytes)
{
	grow(cc, cc->hs.css ? bytes / HS_CSS_GROWTH_DIV : bytes);
}

static uint64_t
srtt_of(const struct dp_rtt *rtt)
{
	return rtt != NULL && rtt->smoothed_ns != 0 ? rtt->smoothed_ns : SL_INITIAL_RTT_NS;
}

/* --- NewReno (RFC 9002 7.3, appendix B) -------------------------------------------------- */

static void
reno_acked(struct dp_cc *cc, uint32_t bytes, uint64_t sent_ns __rte_unused,
	   const struct dp_rtt *rtt __rte_unused, uint64_t now_ns __rte_unused)
{
	if (cc->cwnd < cc->ssthresh) {
		slow_start(cc, bytes);
		return;
	}
	/* congestion avoidance: one mss per cwnd of bytes acknowledged */
	cc->reno.acked_bytes += bytes;
	while (cc->reno.acked_bytes >= cc->cwnd) {
		cc->reno.acked_bytes -= cc->cwnd;
		grow(cc, cc->mss);
	}
}

static void
reno_congestion(struct dp_cc *cc, uint64_t sent_ns __rte_unused, uint64_t now_ns __rte_unused)
{
	cc->ssthresh = cc->cwnd / 2; /* kLossReductionFactor */
	cc->cwnd = RTE_MAX(cc->ssthresh, dp_cc_min_window(cc));
	cc->reno.acked_bytes = 0;
}

static void
reno_persistent(struct dp_cc *cc, uint64_t now_ns __rte_unused)
{
	cc->cwnd = dp_cc_min_window(cc);
	cc->reno.acked_bytes = 0;
}

static const struct dp_cc_ops reno_ops = {
	.name = "newreno",
	.on_acked = reno_acked,
	.on_congestion = reno_congestion,
	.on_persistent_congestion = reno_persistent,
};

/* --- CUBIC (RFC 9438) -------------------------------------------------------------------- */

/* Largest y with y^3 <= x, for x < 2^108. */
static uint64_t
icbrt(unsigned __int128 x)
{
	uint64_t lo = 0, hi = 1ull << 36;

	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if ((unsigned __int128)mid * mid * mid <= x)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* K = cbrt((W_max - cwnd_epoch) / C), in ns (computed in whole microseconds). */
static uint64_t
cubic_k(uint64_t delta_bytes, uint32_t mss)
{
	unsigned __int128 x = (unsigned __int128)RTE_MIN(delta_bytes, CUBIC_K_MAX_DELTA);

	return icbrt(x * CUBIC_C_DEN / ((unsigned __int128)CUBIC_C_NUM * mss)) * 1000;
}

uint64_t
dp_cc_cubic_window(const struct dp_cc *cc, uint64_t t_ns)
{
	uint64_t w_max = cc->cubic.w_max, k = cc->cubic.k_ns;
	bool after = t_ns >= k;
	uint64_t d = RTE_MIN((after ? t_ns - k : k - t_ns) / 1000, CUBIC_D_MAX_US);
	unsigned __int128 delta =
		(unsigned __int128)d * d * d * CUBIC_C_NUM * cc->mss / CUBIC_C_DEN;

	if (!after)
		return delta >= w_max ? 0 : w_max - (uint64_t)delta;
	return delta >= DP_CC_MAX_CWND - w_max ? DP_CC_MAX_CWND : w_max + (uint64_t)delta;
}

/* The first ACK in congestion avoidance after a reduction (or after slow start). */
static void
cubic_epoch(struct dp_cc *cc, uint64_t now_ns)
{
	cc->cubic.epoch_ns = now_ns;
	cc->cubic.epoch_valid = true;
	cc->cubic.w_est = cc->cwnd;
	cc->cubic.acked_bytes = 0;
	cc->cubic.cwnd_acc = 0;
	if (cc->cubic.w_max > cc->cwnd) {
		cc->cubic.k_ns = cubic_k(cc->cubic.w_max - cc->cwnd, cc->mss);
	} else { /* no reduction to recover from (after persistent congestion) */
		cc->cubic.w_max = cc->cwnd;
		cc->cubic.k_ns = 0;
	}
}

/* Reno-friendly estimate: W_est += alpha * mss * bytes / cwnd, alpha = 9/17 until W_est reaches
 * the window before the reduction, then 1 (RFC 9438 4.3). */
static void
cubic_est(struct dp_cc *cc, uint32_t bytes)
{
	uint64_t num = cc->cubic.w_est >= cc->cubic.cwnd_prior ? CUBIC_ALPHA_DEN : CUBIC_ALPHA_NUM;
	uint64_t den = CUBIC_ALPHA_DEN * cc->cwnd;
	unsigned __int128 acc = (unsigned __int128)bytes * cc->mss * num + cc->cubic.acked_bytes;
	unsigned __int128 inc = acc / den;

	cc->cubic.acked_bytes = (uint64_t)(acc % den);
	cc->cubic.w_est = inc >= DP_CC_MAX_CWND - cc->cubic.w_est ? DP_CC_MAX_CWND
								  : cc->cubic.w_est + (uint64_t)inc;
}

static void
cubic_acked(struct dp_cc *cc, uint32_t bytes, uint64_t sent_ns __rte_unused,
	    const struct dp_rtt *rtt, uint64_t now_ns)
{
	uint64_t t, target;
	unsigned __int128 acc;

	if (cc->cwnd < cc->ssthresh) {
		slow_start(cc, bytes);
		return;
	}
	if (!cc->cubic.epoch_valid)
		cubic_epoch(cc, now_ns);
	t = now_ns > cc->cubic.epoch_ns ? now_ns - cc->cubic.epoch_ns : 0;
	cubic_est(cc, bytes);
	if (dp_cc_cubic_window(cc, t) < cc->cubic.w_est) { /* Reno-friendly region */
		cc->cwnd = RTE_MAX(cc->cwnd, cc->cubic.w_est);
		return;
	}
	/* concave or convex region: grow by (target - cwnd) / cwnd per mss acknowledged,
	 * target = W_cubic(t + RTT) kept within [cwnd, 1.5 cwnd] */
	target = RTE_MAX(dp_cc_cubic_window(cc, t + srtt_of(rtt)), cc->cwnd);
	target = RTE_MIN(target, cc->cwnd + cc->cwnd / 2);
	acc = (unsigned __int128)(target - cc->cwnd) * bytes + cc->cubic.cwnd_acc;
	cc->cubic.cwnd_acc = (uint64_t)(acc % cc->cwnd);
	grow(cc, (uint64_t)(acc / cc->cwnd));
}

static void
cubic_congestion(struct dp_cc *cc, uint64_t sent_ns __rte_unused, uint64_t now_ns __rte_unused)
{
	cc->cubic.epoch_valid = false;
	cc->cubic.cwnd_prior = cc->cwnd;
	/* fast convergence: a window that did not reach the last W_max releases bandwidth */
	if (cc->cwnd < cc->cubic.w_max)
		cc->cubic.w_max = cc->cwnd * CUBIC_FC_NUM / CUBIC_FC_DEN;
	else
		cc->cubic.w_max = cc->cwnd;
	cc->ssthresh = RTE_MAX(cc->cwnd * CUBIC_BETA_NUM / CUBIC_BETA_DEN, dp_cc_min_window(cc));
	cc->cwnd = cc->ssthresh;
}

/* RFC 9438 4.8: after a timeout the next epoch starts with K = 0 and W_max = cwnd then. */
static void
cubic_persistent(struct dp_cc *cc, uint64_t now_ns __rte_unused)
{
	cc->cwnd = dp_cc_min_window(cc);
	cc->cubic.epoch_valid = false;
	cc->cubic.w_max = 0;
	cc->cubic.cwnd_prior = 0;
}

static const struct dp_cc_ops cubic_ops = {
	.name = "cubic",
	.on_acked = cubic_acked,
	.on_congestion = cubic_congestion,
	.on_persistent_congestion = cubic_persistent,
};

/* --- dispatch and the rules common to every algorithm ------------------------------------ */

void
dp_cc_init(struct dp_cc *cc, enum dp_cc_algo algo, uint32_t mss, bool pacing, uint64_t now_ns)
{
	memset(cc, 0, sizeof(*cc));
	cc->ops = algo == DP_CC_CUBIC ? &cubic_ops : &reno_ops;
	cc->mss = RTE_MAX(mss, 1u);
	cc->cwnd = RTE_MAX(2ull * cc->mss, 14720ull);
	cc->cwnd = RTE_MIN(10ull * cc->mss, cc->cwnd);
	cc->ssthresh = UINT64_MAX;
	cc->pacing = pacing;
	cc->pace_next_ns = now_ns;
	hs_reset(cc, now_ns);
}

/* Time to send `bytes` at 5/4 * cwnd per smoothed RTT. */
static uint64_t
pace_interval(const struct dp_cc *cc, uint64_t bytes, const struct dp_rtt *rtt)
{
	return mul_div(bytes * PACE_GAIN_DEN, srtt_of(rtt), cc->cwnd * PACE_GAIN_NUM);
}

void
dp_cc_on_sent(struct dp_cc *cc, uint32_t bytes, const struct dp_rtt *rtt, uint64_t now_ns)
{
	uint64_t allow, from;

	/* Before the first RTT sample the pacer has no rate worth using: the initial RTT (333 ms)
	 * would spread the initial window over a third of a second on any real path. The initial
	 * window goes as a burst instead (RFC 9002 7.7 allows bursts up to it); the window itself
	 * still bounds what is in flight. */
	if (!cc->pacing || rtt == NULL || !dp_rtt_sampled(rtt))
		return;
	/* after a pause, DP_CC_PACE_BURST mss-sized packets may leave back to back */
	allow = RTE_MIN(pace_interval(cc, (uint64_t)(DP_CC_PACE_BURST - 1) * cc->mss, rtt),
			DP_CC_PACE_MAX_ALLOWANCE_NS);
	from = RTE_MAX(cc->pace_next_ns, now_ns > allow ? now_ns - allow : 0);
	cc->pace_next_ns = from + pace_interval(cc, bytes, rtt);
}

/* RFC 9002 InCongestionRecovery(): sent no later than the start of the recovery period. */
static bool
in_recovery_period(const struct dp_cc *cc, uint64_t sent_ns)
{
	return cc->recovery_valid && sent_ns <= cc->recovery_start_ns;
}

void
dp_cc_on_acked(struct dp_cc *cc, uint32_t bytes, uint64_t sent_ns, const struct dp_rtt *rtt,
	       uint64_t now_ns)
{
	if (bytes == 0 || in_recovery_period(cc, sent_ns))
		return;
	cc->in_recovery = false;
	if (cc->cwnd < cc->ssthresh) {
		hs_round(cc, sent_ns, now_ns);
		hs_sample(cc, rtt);
	}
	cc->ops->on_acked(cc, bytes, sent_ns, rtt, now_ns);
}

void
dp_cc_on_congestion(struct dp_cc *cc, uint64_t sent_ns, uint64_t now_ns)
{
	if (in_recovery_period(cc, sent_ns))
		return;
	cc->recovery_valid = true;
	cc->in_recovery = true;
	cc->recovery_start_ns = now_ns;
	cc->ops->on_congestion(cc, sent_ns, now_ns);
}

void
dp_cc_on_persistent_congestion(struct dp_cc *cc, uint64_t now_ns)
{
	cc->ops->on_persistent_congestion(cc, now_ns);
	hs_reset(cc, now_ns); /* slow start again, watched afresh */
	/* RFC 9002 B.8: the recovery period ends; the next loss reduces the window again */
	cc->recovery_valid = false;
	cc->in_recovery = false;
}

const char *
dp_cc_name(const struct dp_cc *cc)
{
	return cc->ops->name;
}
