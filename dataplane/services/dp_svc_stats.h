/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the built-in services' statistics — the counters of one service on one session
 * (DP_SVC_COUNTERS, whose names are the telemetry keys), the totals of one configured service
 * over sessions and lcores (struct dp_svc_stats, with the round-trip histogram of a source that
 * expects echoes), and adding totals up.
 *
 * A session's numbers go into a struct dp_svc_stats through dp_svc_stats_add() (dp_svc.h) on
 * the owner lcore; the control thread merges the lcores' snapshots with dp_svc_stats_merge().
 * Plain C; nothing here is thread-safe: a struct dp_svc_stats has one writer at a time.
 */
#ifndef DP_SVC_STATS_H
#define DP_SVC_STATS_H

#include <stdint.h>

#include "sl_hist.h"

/* Per service and session; names are the telemetry keys. */
#define DP_SVC_COUNTERS(X)                                                                         \
	X(msgs_sent, "messages a source queued to the engine")                                     \
	X(bytes_sent, "bytes of those")                                                            \
	X(msgs_recv, "messages received (sink, echo) or echoes received (source)")                 \
	X(bytes_recv, "bytes of those")                                                            \
	X(msgs_verified, "received messages that passed every check (sink, source)")               \
	X(msgs_echoed, "messages an echo service queued back")                                     \
	X(bytes_echoed, "bytes of those")                                                          \
	X(lost, "sequence numbers skipped (sink: messages, source: echoes)")                       \
	X(duplicated, "sequence numbers seen again")                                               \
	X(corrupt, "bad magic, version, length, checksum or payload")                              \
	X(expired, "own messages that expired (TTL) or datagrams lost before arriving")            \
	X(send_blocked, "sends refused with -ENOBUFS (retried on DP_EV_WRITABLE)")                 \
	X(dropped, "echo: messages not returned (closed, ring full, refused); source: unsendable") \
	X(undelivered, "source (else echo): messages not acknowledged when the session ended")     \
	X(delivered_unacked, "sink or echo: messages received whose ACK never left (session end)") \
	X(discarded_acked, "sink or echo: messages acknowledged, never handed over (session end)")

struct dp_svc_counters {
#define DP_SVC_CNT_FIELD(name, what) uint64_t name;
	DP_SVC_COUNTERS(DP_SVC_CNT_FIELD)
#undef DP_SVC_CNT_FIELD
};

/* One configured service, summed over the sessions that ran it. */
struct dp_svc_stats {
	struct dp_svc_counters cnt;
	uint32_t sources;      /* source instances counted in */
	uint32_t sources_done; /* of those: sent `count` and, expecting echoes, got them all */
	/* the active period, for goodput (0: none yet): from the first message sent (source) or
	 * received (sink, echo) to the last one sent (source without echoes), echo verified
	 * (source with echoes) or received (sink, echo); over sessions and lcores, the earliest
	 * start and the latest end */
	uint64_t first_ns, last_ns;
	struct sl_hist rtt; /* round trips in ns of echoed messages (source with expect_echo) */
};

/* Widen acc's active period to include [first, last] (first 0: nothing to add). */
static inline void
dp_svc_span_add(struct dp_svc_stats *acc, uint64_t first, uint64_t last)
{
	if (first == 0)
		return;
	if (acc->first_ns == 0 || first < acc->first_ns)
		acc->first_ns = first;
	if (last > acc->last_ns)
		acc->last_ns = last;
}

/* dst += src, counters and histograms. A zeroed struct dp_svc_stats is empty. */
void dp_svc_stats_merge(struct dp_svc_stats *dst, const struct dp_svc_stats *src);

#endif /* DP_SVC_STATS_H */
