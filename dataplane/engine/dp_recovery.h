/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: loss detection and the probe timeout, following RFC 9002.
 *
 * Sender side of one connection: the packet numbers it hands out, the packets in flight, the
 * RTT estimate, packet-threshold (3) and time-threshold (9/8 RTT) loss detection, the probe
 * timeout with exponential backoff, persistent congestion, and the congestion controller
 * (dp_cc.h) it feeds.
 *
 * The connection learns what became of its packets through two callbacks: acked() and lost(),
 * each with the packet's record (including an opaque `frames` handle the connection gave at
 * send time, to find the frames that packet carried). A packet is reported exactly once, as
 * acknowledged or as lost; a late ACK of a packet already declared lost is only counted
 * (spurious loss), since its frames have been dealt with.
 *
 * Memory: the record of packets in flight is allocated on demand and released when nothing
 * is in flight; the record of recently lost packets (for counting spurious losses) likewise,
 * and it expires by the timer. So an idle connection holds no buffer.
 *
 * Plain C, time injected; owned by one connection (one thread).
 */
#ifndef DP_RECOVERY_H
#define DP_RECOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "dp_cc.h"
#include "dp_frame.h"

/* One sent packet. */
struct dp_sent {
	uint64_t pn;
	uint64_t sent_ns;
	uint32_t bytes;	  /* size counted in flight: frame bytes + packet overhead */
	uint32_t frames;  /* the connection's handle for what the packet carried: */
	uint16_t nframes; /* a first entry and a count, both opaque here */
	bool ack_eliciting;
	bool in_flight; /* counted in bytes_in_flight (ack-eliciting or padding) */
	bool done;	/* dp_recovery's own: acknowledged or lost, awaiting removal */
};

struct dp_recovery_cb {
	void (*acked)(void *arg, const struct dp_sent *p);
	void (*lost)(void *arg, const struct dp_sent *p);
	void *arg;
};

struct dp_recovery_stats {
	uint64_t lost, spurious, ptos, persistent;
};

struct dp_recovery {
	struct dp_sent *ring; /* packets sent and not yet acknowledged or lost, in pn order */
	uint32_t cap, head, n;
	uint32_t eliciting_in_flight; /* ack-eliciting packets in flight */
	uint64_t next_pn;	      /* next packet number to hand out */
	uint64_t largest_acked;	      /* valid when any_acked */
	uint64_t loss_time_ns;	      /* earliest time-threshold loss; 0: none */
	uint64_t last_eliciting_ns;   /* when the last ack-eliciting packet was sent */
	uint64_t bytes_in_flight;
	uint64_t max_ack_delay_ns;
	uint16_t pto_count;  /* consecutive probe timeouts (reset by an ACK of news) */
	uint16_t probes_due; /* ack-eliciting packets owed because a PTO fired */
	/* the largest flight so far (bytes): the window never grows past twice what was used
	 * (RFC 9002 7.8: an application- or flow-control-limited sender does not grow it) */
	uint32_t max_in_flight;
	struct dp_rtt rtt;
	struct dp_cc cc;
	struct dp_recovery_stats stats;
	/* packets declared lost, remembered for DP_RECOVERY_LOST_KEEP_PTOS probe timeouts so that a
	 * late ACK is counted as a spurious loss (once); in pn order; sent_ns holds the time the
	 * record expires. Allocated on demand like ring. */
	struct dp_sent *lost;
	uint32_t lost_cap, lost_head, lost_n;
	bool any_acked;
	uint64_t first_sample_ns; /* when the first RTT sample was taken (if dp_rtt_sampled) */
};

#define DP_RECOVERY_RING_MIN	   16 /* entries of the first allocation; doubles from there */
#define DP_RECOVERY_LOST_KEEP_PTOS 3

/* Packet numbers start at 0. Before the first RTT sample smoothed = initial_rtt_ns (0 means
 * SL_INITIAL_RTT_NS) and var = half of it. No memory is allocated. */
void dp_recovery_init(struct dp_recovery *r, enum dp_cc_algo algo, uint32_t mss, bool pacing,
		      uint64_t initial_rtt_ns, uint64_t max_ack_delay_ns, uint64_t now_ns);
/* Release the records of packets in flight and of lost packets if they are empty (they are
 * kept while a connection is busy; call this from the idle path). */
void dp_recovery_trim(struct dp_recovery *r);

/* Free the in-flight record (no callbacks). */
void dp_recovery_fini(struct dp_recovery *r);

/* Hand out the next packet number. */
static inline uint64_t
dp_recovery_take_pn(struct dp_recovery *r)
{
	return r->next_pn++;
}

/* Record a sent packet (its pn came from dp_recovery_take_pn, in order). The send time is
 * now_ns (p->sent_ns is ignored); an ack-eliciting packet is always in flight. Packets neither
 * ack-eliciting nor in flight (pure ACKs) are not recorded (returns 0, nothing changes).
 * probes_due is not touched: see dp_recovery_probe_sent(). Returns 0, -EINVAL for a pn not
 * handed out or not above the last one recorded, or -ENOMEM (nothing changed). */
int dp_recovery_on_sent(struct dp_recovery *r, const struct dp_sent *p,
			uint64_t now_ns) __rte_warn_unused_result;

/* dp_recovery_on_sent() for the packet numbered last (by dp_recovery_take_pn), ack-eliciting
 * and in flight, inline while its ring has room: the record is written in place. */
static inline int __rte_warn_unused_result
dp_recovery_on_sent_eliciting(struct dp_recovery *r, uint32_t bytes, uint32_t frames,
			      uint16_t nframes, uint64_t now_ns)
{
	struct dp_sent *s;

	if (r->n == r->cap) {
		struct dp_sent p = { .pn = r->next_pn - 1,
				     .bytes = bytes,
				     .frames = frames,
				     .nframes = nframes,
				     .ack_eliciting = true,
				     .in_flight = true };

		return dp_recovery_on_sent(r, &p, now_ns);
	}
	s = &r->ring[(r->head + r->n++) & (r->cap - 1)];
	s->pn = r->next_pn - 1;
	s->sent_ns = now_ns;
	s->bytes = bytes;
	s->frames = frames;
	s->nframes = nframes;
	s->ack_eliciting = true;
	s->in_flight = true;
	s->done = false;
	r->bytes_in_flight += bytes;
	if (r->bytes_in_flight > r->max_in_flight)
		r->max_in_flight = (uint32_t)RTE_MIN(r->bytes_in_flight, UINT32_MAX);
	r->eliciting_in_flight++;
	r->last_eliciting_ns = now_ns;
	if (r->cc.pacing)
		dp_cc_on_sent(&r->cc, bytes, &r->rtt, now_ns);
	return 0;
}

/* Process an ACK frame (ranges decoded by dp_frame). Updates the RTT (when the largest
 * acknowledged is newly acked and at least one newly acked packet is ack-eliciting), reports
 * newly acked packets, runs loss detection, drives the congestion controller, resets the PTO
 * backoff (only when something was newly acknowledged; probes_due is left alone).
 * Callbacks must not call back into this dp_recovery. cb, and either function, may be NULL.
 * Returns 0, or -EPROTO if the ACK covers a packet number never handed out or its ranges are
 * not descending and disjoint (nothing is changed then). */
int dp_recovery_on_ack(struct dp_recovery *r, const struct dp_ack_ranges *ack, uint64_t now_ns,
		       const struct dp_recovery_cb *cb) __rte_warn_unused_result;

/* When the loss-detection timer fires: the time-threshold loss time if set, else the PTO
 * (last ack-eliciting send + dp_recovery_pto_base() * 2^pto_count) while anything
 * ack-eliciting is in flight. With nothing in flight the PTO is unarmed; the timer then only
 * reports when the record of lost packets expires (so an idle connection frees it), and
 * UINT64_MAX once there is none. */
uint64_t dp_recovery_timer(const struct dp_recovery *r);

/* The timer may have fired (calling early is harmless: nothing is due, nothing happens):
 * declare time-threshold losses, or count a PTO (pto_count++, probes_due = 2: the PTO is only
 * armed while ack-eliciting packets are in flight), and drop expired lost-packet records. */
void dp_recovery_on_timer(struct dp_recovery *r, uint64_t now_ns, const struct dp_recovery_cb *cb);

/* An ack-eliciting packet that was sent as a probe: probes_due-- (if any were due). */
static inline void
dp_recovery_probe_sent(struct dp_recovery *r)
{
	if (r->probes_due > 0)
		r->probes_due--;
}

/* Bytes of heap held now (the in-flight and lost-packet records). */
size_t dp_recovery_memory(const struct dp_recovery *r);

/* The current PTO period (RFC 9002 6.2.1) without backoff. */
uint64_t dp_recovery_pto_base(const struct dp_recovery *r);

/* May a packet of `bytes` be sent now: congestion window and pacing. While probes are due
 * (probes_due > 0) both are bypassed: RFC 9002 7.5, probes are never blocked. */
static inline bool
dp_recovery_can_send(const struct dp_recovery *r, uint32_t bytes, uint64_t now_ns)
{
	if (r->probes_due > 0)
		return true;
	return dp_cc_window_open(&r->cc, r->bytes_in_flight, bytes) &&
	       dp_cc_pacing_time(&r->cc, now_ns) <= now_ns;
}

/* Earliest time a data packet may be sent given pacing (now if already allowed, or while
 * probes are due). */
uint64_t dp_recovery_send_time(const struct dp_recovery *r, uint64_t now_ns);

#endif /* DP_RECOVERY_H */
