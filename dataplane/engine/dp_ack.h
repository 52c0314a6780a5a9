/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: which packet numbers a connection has received, and when to acknowledge them.
 *
 * Receiver side of RFC 9000 section 13.2 / RFC 9002: ranges of received packet numbers (the
 * newest DP_ACK_KEEP kept; older ones fall off), duplicate detection within them,
 * and the delayed-ACK policy: an ACK goes at once when a packet arrives out of order (a gap
 * opens below it) or after `ack_every` ack-eliciting packets, otherwise no later than
 * max_ack_delay after the first unacknowledged ack-eliciting packet. Packets that are not
 * ack-eliciting are acknowledged only along with something else.
 *
 * Small and allocation-free: it lives inside every connection.
 *
 * Plain C, time injected; owned by one connection (one thread).
 */
#ifndef DP_ACK_H
#define DP_ACK_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include "dp_frame.h"

/* Ranges kept. Every ACK reports the newest ones and ACKs go every other packet, so a range has
 * been reported many times before it falls off; 12 gaps cover heavy loss over a large window
 * while keeping the tracker small (it lives in every connection). */
#define DP_ACK_KEEP 13
static_assert(DP_ACK_KEEP <= SL_MAX_ACK_RANGES + 1, "an ACK frame can carry every kept range");

struct dp_ack_tracker {
	uint64_t largest;	  /* largest packet number received (valid when n > 0) */
	uint64_t largest_recv_ns; /* when it arrived */
	uint64_t deadline_ns;	  /* a delayed ACK is due then; UINT64_MAX: nothing pending */
	uint32_t unacked_eliciting;
	bool ack_now; /* send an ACK with the next output */
	bool pending; /* something received since the last ACK was written */
	uint8_t n;    /* ranges held */
	bool trimmed; /* older ranges were dropped: nothing is known below the oldest kept one */
	/* ranges newest first, compactly: rel[0].len packets below largest were received too
	 * (rel[0].gap is unused); then gap/len as in struct sl_ack_range (relative) */
	struct {
		uint32_t gap, len;
	} rel[DP_ACK_KEEP];
};

void dp_ack_init(struct dp_ack_tracker *t);

/* Has this packet number been seen? Exact from the oldest kept range up; a packet below the
 * kept ranges reports false (the AEAD replay window guards against real replays). */
bool dp_ack_seen(const struct dp_ack_tracker *t, uint64_t pn);

/* Record a received packet (a duplicate changes nothing). ack_every 0 counts as 1. */
void dp_ack_on_packet(struct dp_ack_tracker *t, uint64_t pn, bool ack_eliciting, uint64_t now_ns,
		      uint64_t max_ack_delay_ns, uint32_t ack_every);

/* Is an ACK due now (immediately, or its delay expired)? */
bool dp_ack_due(const struct dp_ack_tracker *t, uint64_t now_ns);

/* Anything to acknowledge at all (for piggybacking on other frames)? */
static inline bool
dp_ack_pending(const struct dp_ack_tracker *t)
{
	return t->pending;
}

/* Is an ack-eliciting packet waiting for its ACK? Only then does an ACK ride along with other
 * frames: packets that are not ack-eliciting (the peer's ACK-only packets) are acknowledged
 * with those, never on their own account. Acknowledging them alone would serve nothing (an ACK
 * of an ACK-only packet is not used by the peer) and would cost a data packet 24 bytes, which
 * splits a packet-sized message across two packets. */
static inline bool
dp_ack_wanted(const struct dp_ack_tracker *t)
{
	return t->unacked_eliciting > 0;
}

/* When the delayed ACK is due; UINT64_MAX if none. */
static inline uint64_t
dp_ack_deadline(const struct dp_ack_tracker *t)
{
	return t->pending ? (t->ack_now ? 0 : t->deadline_ns) : UINT64_MAX;
}

/* Fill the ranges to send (absolute, newest first; ack_delay from largest_recv_ns to now) and
 * mark them sent: clears pending, ack_now, unacked_eliciting and the deadline. out->n is 0 if
 * nothing was ever received. */
void dp_ack_build(struct dp_ack_tracker *t, uint64_t now_ns, struct dp_ack_ranges *out);

#endif /* DP_ACK_H */
