/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: congestion control and pacing, in bytes, behind a small interface.
 *
 * Algorithms: NewReno (RFC 9002 section 7 / appendix B) and CUBIC (RFC 9438), both with slow
 * start, a recovery period (one window reduction per round trip of losses), and persistent
 * congestion (window back to the minimum). A pacer spreads packets over the round trip:
 * rate = N * cwnd / smoothed_rtt with N = 1.25, so bursts do not overrun queues.
 *
 * The algorithm is chosen per connection at init; the dispatch is a small ops table, so adding
 * an algorithm means adding one ops table and its state to the union.
 *
 * Plain C, time injected; owned by one connection (one thread).
 */
#ifndef DP_CC_H
#define DP_CC_H

#include <stdbool.h>
#include <stdint.h>

enum dp_cc_algo {
	DP_CC_NEWRENO,
	DP_CC_CUBIC,
};

/* RTT estimate (RFC 9002 section 5), kept by loss recovery and read by the controller. */
struct dp_rtt {
	uint64_t latest_ns;
	uint64_t smoothed_ns;
	uint64_t var_ns;
	uint64_t min_ns; /* DP_RTT_NO_SAMPLE until the first sample (smoothed: the initial RTT) */
};

#define DP_RTT_NO_SAMPLE UINT64_MAX

static inline bool
dp_rtt_sampled(const struct dp_rtt *rtt)
{
	return rtt->min_ns != DP_RTT_NO_SAMPLE;
}

struct dp_cc;

struct dp_cc_ops {
	const char *name;
	void (*on_acked)(struct dp_cc *cc, uint32_t bytes, uint64_t sent_ns,
			 const struct dp_rtt *rtt, uint64_t now_ns);
	/* a congestion event: a loss of a packet sent at sent_ns (only the first one per
	 * recovery period reduces the window) */
	void (*on_congestion)(struct dp_cc *cc, uint64_t sent_ns, uint64_t now_ns);
	void (*on_persistent_congestion)(struct dp_cc *cc, uint64_t now_ns);
};

struct dp_cc {
	const struct dp_cc_ops *ops;
	uint32_t mss;	  /* bytes of the largest packet, counted as sent on the wire */
	bool in_recovery; /* from a congestion event to the first ACK of a packet sent after it */
	bool pacing;
	/* recovery_start_ns holds a congestion event (false before the first one and after
	 * persistent congestion) */
	bool recovery_valid;
	uint64_t cwnd;		    /* bytes */
	uint64_t ssthresh;	    /* UINT64_MAX until the first congestion event */
	uint64_t recovery_start_ns; /* packets sent before this do not cause another reduction */
	uint64_t pace_next_ns;	    /* earliest time the next packet may leave */
	/* HyStart++ (RFC 9406): leave slow start when the round trip grows, before the queue
	 * overflows. Rounds are delimited by send times: a round ends when a packet sent after
	 * round_start_ns is acknowledged. */
	struct {
		uint64_t round_start_ns;
		uint32_t cur_min_rtt_us, last_min_rtt_us; /* UINT32_MAX: none yet */
		uint32_t css_baseline_us;
		uint16_t run;	    /* consecutive samples beyond the threshold (see dp_cc.c) */
		uint8_t css_rounds; /* rounds spent in conservative slow start */
		bool css;	    /* in conservative slow start: growth / 4 */
	} hs;
	union {
		struct {
			uint64_t acked_bytes; /* toward the next +1 MSS in congestion avoidance */
		} reno;
		struct {
			uint64_t w_max;	      /* window before the last reduction, bytes */
			uint64_t k_ns;	      /* time to reach w_max again */
			uint64_t epoch_ns;    /* start of the current congestion-avoidance epoch */
			uint64_t w_est;	      /* Reno-friendly estimate, bytes */
			uint64_t acked_bytes; /* for w_est growth: remainder, bytes * 9 * mss */
			/* cwnd just before the last reduction: alpha = 1 once w_est reaches it */
			uint64_t cwnd_prior;
			uint64_t cwnd_acc; /* growth toward the target carried over, 1/cwnd bytes */
			bool epoch_valid;
		} cubic;
	};
};

/* Initial window: min(10 * mss, max(2 * mss, 14720)) (RFC 9002 7.2); minimum 2 * mss.
 * ssthresh starts infinite; pace_next_ns starts at now_ns (no initial burst credit). */
void dp_cc_init(struct dp_cc *cc, enum dp_cc_algo algo, uint32_t mss, bool pacing, uint64_t now_ns);

static inline uint64_t
dp_cc_min_window(const struct dp_cc *cc)
{
	return 2ull * cc->mss;
}

/* Was a packet sent at sent_ns sent during the current recovery period (RFC 9002
 * InCongestionRecovery)? Its acknowledgement does not grow the window, its loss does not reduce
 * it again. */
static inline bool
dp_cc_in_recovery(const struct dp_cc *cc, uint64_t sent_ns)
{
	return cc->recovery_valid && sent_ns <= cc->recovery_start_ns;
}

/* May a packet of `bytes` go now, with `in_flight` bytes unacknowledged? (window only) */
static inline bool
dp_cc_window_open(const struct dp_cc *cc, uint64_t in_flight, uint32_t bytes)
{
	return in_flight <= cc->cwnd && bytes <= cc->cwnd - in_flight;
}

/* Earliest time the next packet may leave (pacing); now if pacing is off. */
static inline uint64_t
dp_cc_pacing_time(const struct dp_cc *cc, uint64_t now_ns)
{
	return cc->pacing && cc->pace_next_ns > now_ns ? cc->pace_next_ns : now_ns;
}

/* A packet of `bytes` counted in flight was sent: advances the pacer by bytes / rate from
 * max(pace_next_ns, now - allowance). The allowance is the credit the pacer keeps across a
 * pause or a late wakeup, so timer granularity does not throttle it: the time of
 * DP_CC_PACE_BURST - 1 mss-sized packets (a burst of DP_CC_PACE_BURST), at most
 * DP_CC_PACE_MAX_ALLOWANCE_NS. Before the first RTT sample (rtt NULL or not sampled) nothing is
 * paced: the initial window leaves as a burst. */
#define DP_CC_PACE_BURST	    10
#define DP_CC_PACE_MAX_ALLOWANCE_NS 1000000ull
void dp_cc_on_sent(struct dp_cc *cc, uint32_t bytes, const struct dp_rtt *rtt, uint64_t now_ns);

/* Acknowledged in-flight bytes of a packet sent at sent_ns (or of several packets, the newest
 * sent at sent_ns). Packets sent before the recovery period began do not grow the window; the
 * first one sent after it ends the period. */
void dp_cc_on_acked(struct dp_cc *cc, uint32_t bytes, uint64_t sent_ns, const struct dp_rtt *rtt,
		    uint64_t now_ns);

/* Lost packet sent at sent_ns: a congestion event (at most one reduction per recovery). */
void dp_cc_on_congestion(struct dp_cc *cc, uint64_t sent_ns, uint64_t now_ns);

/* RFC 9002 7.6: losses spanning more than the persistent-congestion duration. */
void dp_cc_on_persistent_congestion(struct dp_cc *cc, uint64_t now_ns);

const char *dp_cc_name(const struct dp_cc *cc);

/* CUBIC's W_cubic(t) in bytes for the current epoch, t_ns after its start (RFC 9438 4.2):
 * C * (t - K)^3 + W_max with C = 0.4 segments/s^3, computed in integers: t - K in whole
 * microseconds, clamped to +-2^31 us, the cube in 128 bits. Exposed for tests. */
uint64_t dp_cc_cubic_window(const struct dp_cc *cc, uint64_t t_ns);

#endif /* DP_CC_H */
