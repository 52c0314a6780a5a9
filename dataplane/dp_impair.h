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
 * Deterministic: decisions come from a splitmix64 stream seeded by conf_impair.seed, five
 * draws per packet whatever the outcome, so the fate of the k-th packet depends only on the
 * seed and k (and hold releases on the burst boundaries and now_ns).
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
};

struct dp_impair;

/* A stage for cfg (probabilities in [0, 1]); mp provides the duplicates' mbufs (may be NULL
 * when cfg->duplicate is 0). cfg->enabled is not looked at: the caller decides whether to use a
 * stage. NULL with rte_errno EINVAL (bad configuration) or ENOMEM. */
struct dp_impair *dp_impair_create(const struct conf_impair *cfg, struct rte_mempool *mp);

/* Frees the held packets and the stage. NULL is a no-op. */
void dp_impair_destroy(struct dp_impair *imp);

/* Impair the burst pkts[0..n) in place; pkts has room for cap >= n entries. Returns how many
 * packets pkts[] now holds (at most cap): survivors in order, then held packets released now,
 * then duplicates. drops (may be NULL) counts impair_loss and impair_corrupt. now_ns: any
 * monotonic clock in nanoseconds. */
uint16_t dp_impair_rx(struct dp_impair *imp, struct rte_mbuf **pkts, uint16_t n, uint16_t cap,
		       uint64_t now_ns, struct dp_drop_counters *drops);

/* Release up to cap held packets into pkts (oldest first). Returns how many. */
uint16_t dp_impair_flush(struct dp_impair *imp, struct rte_mbuf **pkts, uint16_t cap);

/* Packets held now. */
unsigned int dp_impair_held(const struct dp_impair *imp);

void dp_impair_get_stats(const struct dp_impair *imp, struct dp_impair_stats *st);

#endif /* DP_IMPAIR_H */
