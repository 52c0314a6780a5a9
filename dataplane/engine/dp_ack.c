/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: received packet numbers and the delayed-ACK policy (see dp_ack.h).
 *
 * The ranges are kept newest first, relative to one another just as an ACK frame carries
 * them: range 0 runs from largest down rel[0].len packets; range i (i > 0) ends rel[i].gap + 2
 * below the smallest packet of range i-1 and holds rel[i].len + 1 packets. The common case, the
 * next packet in order, only increments rel[0].len.
 *
 * When something does not fit (a range beyond DP_ACK_KEEP, or a distance beyond 32
 * bits) the oldest information goes and `trimmed` is set. From then on nothing is known below
 * the oldest kept range, so a packet below it is recorded only when it extends that range
 * downward: the kept ranges stay exact from their smallest packet up.
 */
#include <string.h>

#include "dp_ack.h"

#define DP_ACK_CAP DP_ACK_KEEP

static_assert(sizeof(struct dp_ack_tracker) <= 144, "the tracker lives in every connection");
static_assert(DP_ACK_CAP <= UINT8_MAX, "n is a uint8_t");

void
dp_ack_init(struct dp_ack_tracker *t)
{
	memset(t, 0, sizeof(*t));
	t->deadline_ns = UINT64_MAX;
}

/* The largest packet number of range i, given the smallest of range i-1. */
static inline uint64_t
next_hi(const struct dp_ack_tracker *t, unsigned int i, uint64_t prev_lo)
{
	return prev_lo - t->rel[i].gap - 2;
}

bool
dp_ack_seen(const struct dp_ack_tracker *t, uint64_t pn)
{
	uint64_t hi = t->largest, lo = 0;

	if (t->n == 0 || pn > t->largest)
		return false;
	for (unsigned int i = 0; i < t->n; i++) {
		if (i > 0)
			hi = next_hi(t, i, lo);
		lo = hi - t->rel[i].len;
		if (pn > hi)
			return false; /* in the gap above range i */
		if (pn >= lo)
			return true;
	}
	return false;
}

/* Forget range i and every older one. */
static void
cut(struct dp_ack_tracker *t, unsigned int i)
{
	t->n = (uint8_t)i;
	t->trimmed = true;
}

/* Open a slot at index i (ranges i.. move one older); the oldest falls off when full. */
static void
open_slot(struct dp_ack_tracker *t, unsigned int i)
{
	unsigned int keep = t->n;

	if (keep == DP_ACK_CAP) {
		keep--;
		t->trimmed = true;
	}
	memmove(&t->rel[i + 1], &t->rel[i], (keep - i) * sizeof(t->rel[0]));
	t->n = (uint8_t)(keep + 1);
}

/* pn == largest + 1. Range 0 grows; at 2^32 packets it slides up instead, forgetting its
 * smallest packet (range 1 then lies one further below). */
static void
extend_top(struct dp_ack_tracker *t)
{
	if (t->rel[0].len < UINT32_MAX) {
		t->rel[0].len++;
	} else if (t->n == 1 || t->rel[1].gap == UINT32_MAX) {
		cut(t, 1);
	} else {
		t->rel[1].gap++;
		t->trimmed = true;
	}
}

/* pn > largest + 1: a new newest range. */
static void
push_top(struct dp_ack_tracker *t, uint64_t pn)
{
	uint64_t gap = pn - t->largest - 2;

	if (gap > UINT32_MAX) {
		cut(t, 0);
	} else {
		open_slot(t, 0);
		t->rel[1].gap = (uint32_t)gap;
	}
	if (t->n == 0)
		t->n = 1;
	t->rel[0].gap = 0;
	t->rel[0].len = 0;
}

/* pn lies strictly between range i-1 (smallest upper_lo) and range i (largest lower_hi). */
static void
fill_gap(struct dp_ack_tracker *t, unsigned int i, uint64_t pn, uint64_t upper_lo,
	 uint64_t lower_hi)
{
	bool up = pn + 1 == upper_lo, down = pn == lower_hi + 1;

	if (up && down) { /* the hole closes: ranges i-1 and i become one */
		uint64_t len = (uint64_t)t->rel[i - 1].len + t->rel[i].len + 2;

		if (len > UINT32_MAX) {
			t->rel[i - 1].len = UINT32_MAX;
			cut(t, i);
			return;
		}
		t->rel[i - 1].len = (uint32_t)len;
		memmove(&t->rel[i], &t->rel[i + 1], (t->n - i - 1) * sizeof(t->rel[0]));
		t->n--;
	} else if (up && t->rel[i - 1].len < UINT32_MAX) {
		t->rel[i - 1].len++;
		t->rel[i].gap--;
	} else if (down && t->rel[i].len < UINT32_MAX) {
		t->rel[i].len++;
		t->rel[i].gap--;
	} else if (up || down) {
		cut(t, i); /* a range would exceed 2^32 packets: pn falls below what is kept */
	} else {
		open_slot(t, i);
		t->rel[i].gap = (uint32_t)(upper_lo - pn - 2);
		t->rel[i].len = 0;
		if (i + 1 < t->n)
			t->rel[i + 1].gap = (uint32_t)(pn - lower_hi - 2);
	}
}

/* pn is below the oldest kept range, whose smallest packet is lowest. */
static void
add_bottom(struct dp_ack_tracker *t, uint64_t pn, uint64_t lowest)
{
	unsigned int last = t->n - 1u;
	uint64_t gap;

	if (pn + 1 == lowest) {
		if (t->rel[last].len < UINT32_MAX)
			t->rel[last].len++;
		else
			t->trimmed = true;
	} else if (!t->trimmed) {
		gap = lowest - pn - 2;
		if (t->n == DP_ACK_CAP || gap > UINT32_MAX) {
			t->trimmed = true;
		} else {
			t->rel[t->n].gap = (uint32_t)gap;
			t->rel[t->n].len = 0;
			t->n++;
		}
	}
}

/* Below largest: find where pn falls. Returns false for a duplicate. */
static bool
add_below(struct dp_ack_tracker *t, uint64_t pn)
{
	uint64_t hi = t->largest, lo = 0, prev_lo = 0;

	for (unsigned int i = 0; i < t->n; i++) {
		if (i > 0)
			hi = next_hi(t, i, lo);
		prev_lo = lo;
		lo = hi - t->rel[i].len;
		if (pn > hi) {
			fill_gap(t, i, pn, prev_lo, hi);
			return true;
		}
		if (pn >= lo)
			return false;
	}
	add_bottom(t, pn, lo);
	return true;
}

/* Returns false if pn was already recorded. */
static bool
record(struct dp_ack_tracker *t, uint64_t pn)
{
	if (t->n == 0) {
		t->n = 1;
		t->rel[0].gap = 0;
		t->rel[0].len = 0;
	} else if (pn == t->largest + 1) {
		extend_top(t);
	} else if (pn > t->largest) {
		push_top(t, pn);
	} else {
		return add_below(t, pn);
	}
	t->largest = pn;
	return true;
}

void
dp_ack_on_packet(struct dp_ack_tracker *t, uint64_t pn, bool ack_eliciting, uint64_t now_ns,
		 uint64_t max_ack_delay_ns, uint32_t ack_every)
{
	bool any = t->n > 0;
	uint64_t prev = t->largest;
	/* packet numbers start at 0: a first packet above 0 has a gap below it too */
	bool in_order = any ? pn == prev + 1 : pn == 0;

	if (!record(t, pn))
		return;
	if (!any || pn > prev)
		t->largest_recv_ns = now_ns;
	t->pending = true;
	if (!ack_eliciting)
		return;
	if (!in_order)
		t->ack_now = true;
	if (t->unacked_eliciting++ == 0)
		t->deadline_ns = now_ns > UINT64_MAX - max_ack_delay_ns ? UINT64_MAX
									: now_ns + max_ack_delay_ns;
	if (t->unacked_eliciting >= (ack_every == 0 ? 1 : ack_every))
		t->ack_now = true;
}

bool
dp_ack_due(const struct dp_ack_tracker *t, uint64_t now_ns)
{
	return t->pending && (t->ack_now || now_ns >= t->deadline_ns);
}

void
dp_ack_build(struct dp_ack_tracker *t, uint64_t now_ns, struct dp_ack_ranges *out)
{
	uint64_t hi = t->largest, lo = 0;

	out->n = t->n;
	out->ack_delay_ns = now_ns > t->largest_recv_ns ? now_ns - t->largest_recv_ns : 0;
	for (unsigned int i = 0; i < t->n; i++) {
		if (i > 0)
			hi = next_hi(t, i, lo);
		lo = hi - t->rel[i].len;
		out->r[i].hi = hi;
		out->r[i].lo = lo;
	}
	t->pending = false;
	t->ack_now = false;
	t->unacked_eliciting = 0;
	t->deadline_ns = UINT64_MAX;
}
