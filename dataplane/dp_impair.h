/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the impairment stage — loss, reordering, duplication and corruption on received
 * packets, for tests (netem is not available here; this takes its place, inside the process).
 *
 * dp_impair_rx() is applied to a burst just received from a port, in place, before the
 * dataplane sees it. For each packet, in order:
 *   loss       the packet is freed and counted (impair_loss);
 *   duplicate  a copy (rte_pktmbuf_copy from the stage's mempool) is appended at the end of the
 *              burst, if the burst has room (cap) and the pool has an mbuf;
 *   corrupt    one random bit of the UDP payload is flipped and counted (impair_corrupt), and
 *              a non-zero UDP checksum is updated to match (RFC 1624), so the packet passes
 *              the stack and fails where it should: at the AEAD (data_decrypt_failed). The
 *              duplicate, taken before, stays intact. Only IPv4/UDP packets with a payload
 *              are corrupted;
 *   reorder    the packet is held back in a small queue (DP_IMPAIR_HOLD_MAX) and released at
 *              the end of a later burst, or once it has waited DP_IMPAIR_HOLD_NS, so nothing
 *              is held for long: call dp_impair_rx() with n = 0 when the port is idle.
 * Probabilities are per received packet (conf_impair); corruption, duplication and reordering
 * apply to the packets that were not lost.
 *
 * Outages (conf_impair.outages): a schedule of times, counted from the port's start, when the
 * port's link is cut both ways — every packet received on the port is freed and counted
 * (impair_outage_rx) before the stage looks at it, and every packet the lcores would send on it
 * is freed and counted (impair_outage_tx, by dp_lcore's flush). An outage is a link that loses
 * 100 % of its packets for a while: nothing else notices it (a memif link stays up), so the
 * sessions over it live through it as they would through a cut cable — keepalives, probe and
 * idle timeouts, new handshakes once it is over. Each user of a schedule — each receive queue's
 * stage, each lcore's transmit side, the control thread's log lines — keeps a cursor of its own
 * (struct dp_outage) over the same schedule and the same start, and reads the same clock.
 *
 * Deterministic: decisions come from a splitmix64 stream seeded by conf_impair.seed, five
 * draws per packet whatever the outcome, so the fate of the k-th packet depends only on the
 * seed and k (and hold releases on the burst boundaries and now_ns); packets an outage took
 * draw nothing.
 *
 * Threading: one stage per receive queue, used by the lcore that polls it (owner only).
 */
#ifndef DP_IMPAIR_H
#define DP_IMPAIR_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "conf.h"
#include "dp_drop.h"

#define DP_IMPAIR_HOLD_MAX 32	   /* packets held back at once (a power of two) */
#define DP_IMPAIR_HOLD_NS  300000 /* longest a held packet waits: 300 us */
#define DP_IMPAIR_DUP_MAX  32	   /* duplicates added to one burst at most */

struct dp_impair_stats {
	uint64_t seen;		   /* packets offered */
	uint64_t lost;		   /* freed on purpose */
	uint64_t corrupted;	   /* one bit flipped */
	uint64_t duplicated;	   /* copies added */
	uint64_t dup_skipped;	   /* duplications not done: no room in the burst or no mbuf */
	uint64_t reordered;	   /* held back (then released after later packets, or by time) */
	uint64_t released_by_time; /* released because they waited DP_IMPAIR_HOLD_NS */
	uint64_t outage_lost;	   /* freed during an outage (not in seen) */
};

struct dp_impair;

/* A cursor over a port's outage schedule. Whoever owns it (one thread) only. */
struct dp_outage {
	const struct conf_outage *o; /* the schedule (cfg->outages), in order, none overlapping */
	unsigned int n, next;	     /* outages; the first that has not ended */
	uint64_t t0_ns;		     /* the port's start: outage times count from it */
};

/* A cursor over cfg's outages (none: never on), times counted from t0_ns. cfg must outlive it. */
void dp_outage_init(struct dp_outage *s, const struct conf_impair *cfg, uint64_t t0_ns);

/* Index of the outage on at now_ns, or -1; outages that ended are passed for good (now_ns never
 * goes back). */
int dp_outage_at(struct dp_outage *s, uint64_t now_ns);

/* Is the link cut at now_ns? The per-packet test: no schedule or every outage over, one
 * comparison. */
static inline bool
dp_outage_on(struct dp_outage *s, uint64_t now_ns)
{
	return s->next < s->n && dp_outage_at(s, now_ns) >= 0;
}

/* A stage for cfg (probabilities in [0, 1]); mp provides the duplicates' mbufs (may be NULL
 * when cfg->duplicate is 0); t0_ns: the port's start, from which cfg's outages count.
 * cfg->enabled is not looked at: the caller decides whether to use a stage. cfg must outlive
 * the stage. NULL with rte_errno EINVAL (bad configuration) or ENOMEM. */
struct dp_impair *dp_impair_create(const struct conf_impair *cfg, struct rte_mempool *mp,
				   uint64_t t0_ns);

/* Frees the held packets and the stage. NULL is a no-op. */
void dp_impair_destroy(struct dp_impair *imp);

/* Impair the burst pkts[0..n) in place; pkts has room for cap >= n entries. Returns how many
 * packets pkts[] now holds (at most cap): survivors in order, then held packets released now,
 * then duplicates; during an outage, the burst is freed whole (held packets are released as
 * usual: they arrived before it). drops (may be NULL) counts impair_loss, impair_corrupt and
 * impair_outage_rx. now_ns: the clock t0_ns was read from, in nanoseconds. */
uint16_t dp_impair_rx(struct dp_impair *imp, struct rte_mbuf **pkts, uint16_t n, uint16_t cap,
		       uint64_t now_ns, struct dp_drop_counters *drops);

/* Release up to cap held packets into pkts (oldest first). Returns how many. */
uint16_t dp_impair_flush(struct dp_impair *imp, struct rte_mbuf **pkts, uint16_t cap);

/* Packets held now. */
unsigned int dp_impair_held(const struct dp_impair *imp);

void dp_impair_get_stats(const struct dp_impair *imp, struct dp_impair_stats *st);

#endif /* DP_IMPAIR_H */
