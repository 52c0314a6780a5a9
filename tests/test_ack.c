/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: received-packet tracker tests — a table of arrival orders with the exact ranges
 * expected, the 32-bit edges of the compact form, seeded random arrival orders (reordering,
 * duplicates, stragglers, more ranges than fit) against a naive reference that remembers
 * every packet in a bitmap, and the delayed-ACK policy step by step.
 */
#include <stdio.h>
#include <string.h>

#include "dp_ack.h"
#include "sl_test.h"

#define CAP    DP_ACK_KEEP
#define MAXR   8
#define NONE   UINT64_MAX
#define MS     1000000ull
#define DELAY  (25 * MS)
#define BIG32  (1ull << 32)
#define U32MAX 0xffffffffull

static bool
same_ranges(const struct dp_ack_ranges *a, const struct dp_ack_range *want, unsigned int n)
{
	if (a->n != n)
		return false;
	for (unsigned int i = 0; i < n; i++)
		if (a->r[i].lo != want[i].lo || a->r[i].hi != want[i].hi)
			return false;
	return true;
}

static void
print_ranges(const char *what, const struct dp_ack_range *r, unsigned int n)
{
	fprintf(stderr, "    %s:", what);
	for (unsigned int i = 0; i < n; i++)
		fprintf(stderr, " [%llu,%llu]", (unsigned long long)r[i].lo,
			(unsigned long long)r[i].hi);
	fprintf(stderr, "\n");
}

/* Ranges of a tracker without disturbing it. */
static void
ranges_of(const struct dp_ack_tracker *t, struct dp_ack_ranges *out)
{
	struct dp_ack_tracker copy = *t;

	dp_ack_build(&copy, 0, out);
}

/* --- arrival orders with exact expectations ---------------------------------------------- */

struct order_case {
	const char *name;
	uint64_t pns[12]; /* NONE ends the list */
	struct dp_ack_range want[MAXR];
	unsigned int n_want;
	bool trimmed;
};

#define R(lo, hi)          \
	{                  \
		(lo), (hi) \
	}

static const struct order_case order_cases[] = {
	{ "in order", { 0, 1, 2, 3, NONE }, { R(0, 3) }, 1, false },
	{ "first packet above 0", { 7, 8, NONE }, { R(7, 8) }, 1, false },
	{ "one gap", { 0, 2, NONE }, { R(2, 2), R(0, 0) }, 2, false },
	{ "gap filled: merge", { 0, 2, 1, NONE }, { R(0, 2) }, 1, false },
	{ "descending", { 5, 4, 3, NONE }, { R(3, 5) }, 1, false },
	{ "middle first", { 5, 3, 4, NONE }, { R(3, 5) }, 1, false },
	{ "far below", { 10, 0, NONE }, { R(10, 10), R(0, 0) }, 2, false },
	{ "below, adjacent", { 10, 9, NONE }, { R(9, 10) }, 1, false },
	{ "extend lower range up", { 0, 10, 1, NONE }, { R(10, 10), R(0, 1) }, 2, false },
	{ "extend upper range down", { 0, 10, 9, NONE }, { R(9, 10), R(0, 0) }, 2, false },
	{ "new middle range", { 0, 10, 5, NONE }, { R(10, 10), R(5, 5), R(0, 0) }, 3, false },
	{ "middle range grows both ways",
	  { 0, 10, 5, 6, 4, NONE },
	  { R(10, 10), R(4, 6), R(0, 0) },
	  3,
	  false },
	{ "every other, then one merge",
	  { 0, 2, 4, 6, 3, NONE },
	  { R(6, 6), R(2, 4), R(0, 0) },
	  3,
	  false },
	{ "everything merges", { 0, 2, 4, 6, 3, 5, 1, NONE }, { R(0, 6) }, 1, false },
	{ "duplicates", { 1, 1, 3, 1, 3, NONE }, { R(3, 3), R(1, 1) }, 2, false },
	{ "gap of exactly 2^32 - 1",
	  { 0, U32MAX + 2, NONE },
	  { R(U32MAX + 2, U32MAX + 2), R(0, 0) },
	  2,
	  false },
	{ "gap of 2^32: older ranges dropped",
	  { 0, U32MAX + 3, NONE },
	  { R(U32MAX + 3, U32MAX + 3) },
	  1,
	  true },
	{ "straggler 2^32 + 1 below",
	  { BIG32 + 2, 0, NONE },
	  { R(BIG32 + 2, BIG32 + 2) },
	  1,
	  true },
	{ "straggler 2^32 below",
	  { BIG32 + 1, 0, NONE },
	  { R(BIG32 + 1, BIG32 + 1), R(0, 0) },
	  2,
	  false },
	{ "after a drop, below is unknown",
	  { 0, 1ull << 40, 5, (1ull << 40) - 1, NONE },
	  { R((1ull << 40) - 1, 1ull << 40) },
	  1,
	  true },
};

static void
test_orders(void)
{
	unsigned int bad = 0;

	for (size_t c = 0; c < RTE_DIM(order_cases); c++) {
		const struct order_case *oc = &order_cases[c];
		struct dp_ack_tracker t;
		struct dp_ack_ranges a;
		bool ok;

		dp_ack_init(&t);
		for (unsigned int i = 0; oc->pns[i] != NONE; i++)
			dp_ack_on_packet(&t, oc->pns[i], true, 0, DELAY, 2);
		ranges_of(&t, &a);
		ok = same_ranges(&a, oc->want, oc->n_want) && t.trimmed == oc->trimmed;
		/* every listed pn inside the kept span is seen; the ends of each range too */
		for (unsigned int i = 0; oc->pns[i] != NONE; i++)
			if (oc->pns[i] >= a.r[a.n - 1].lo && !dp_ack_seen(&t, oc->pns[i]))
				ok = false;
		for (unsigned int i = 0; i < oc->n_want; i++) {
			ok = ok && dp_ack_seen(&t, oc->want[i].lo) &&
			     dp_ack_seen(&t, oc->want[i].hi);
			ok = ok && !dp_ack_seen(&t, oc->want[i].hi + 1);
			if (oc->want[i].lo > 0 && (i + 1 < oc->n_want || !oc->trimmed))
				ok = ok && !dp_ack_seen(&t, oc->want[i].lo - 1);
		}
		if (!ok) {
			fprintf(stderr, "  case '%s' (trimmed %d):\n", oc->name, t.trimmed);
			print_ranges("got ", a.r, a.n);
			print_ranges("want", oc->want, oc->n_want);
			bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void
test_in_order_long(void)
{
	struct dp_ack_tracker t;
	struct dp_ack_ranges a;

	dp_ack_init(&t);
	CU_ASSERT(!dp_ack_seen(&t, 0));
	for (uint64_t pn = 0; pn < 100000; pn++)
		dp_ack_on_packet(&t, pn, true, pn, DELAY, 2);
	ranges_of(&t, &a);
	CU_ASSERT_EQUAL(a.n, 1);
	CU_ASSERT_EQUAL(a.r[0].lo, 0);
	CU_ASSERT_EQUAL(a.r[0].hi, 99999);
	CU_ASSERT(dp_ack_seen(&t, 0));
	CU_ASSERT(dp_ack_seen(&t, 99999));
	CU_ASSERT(!dp_ack_seen(&t, 100000));
	CU_ASSERT(!t.trimmed);
}

/* --- the 32-bit edges, set up directly in the compact form -------------------------------- */

static void
test_length_limits(void)
{
	struct dp_ack_tracker t;
	struct dp_ack_ranges a;
	const uint64_t top = BIG32 + 10; /* range 0 = [11, 2^32 + 10]: 2^32 packets */

	/* range 0 at its longest slides up by one */
	dp_ack_init(&t);
	t.n = 1;
	t.largest = top;
	t.rel[0].len = U32MAX;
	dp_ack_on_packet(&t, top + 1, true, 0, DELAY, 2);
	ranges_of(&t, &a);
	CU_ASSERT(a.n == 1 && a.r[0].lo == 12 && a.r[0].hi == top + 1);
	CU_ASSERT(t.trimmed && !dp_ack_seen(&t, 11) && dp_ack_seen(&t, 12));

	/* ... and the range below it keeps its absolute place */
	dp_ack_init(&t);
	t.n = 2;
	t.largest = top;
	t.rel[0].len = U32MAX;
	t.rel[1].gap = 5; /* range 1 = [4, 4]: 11 - 5 - 2 */
	dp_ack_on_packet(&t, top + 1, true, 0, DELAY, 2);
	ranges_of(&t, &a);
	CU_ASSERT(a.n == 2 && a.r[0].lo == 12 && a.r[1].lo == 4 && a.r[1].hi == 4);
	CU_ASSERT(t.rel[1].gap == 6 && dp_ack_seen(&t, 4));

	/* closing a hole would make a range of more than 2^32 packets: the newest 2^32 stay */
	dp_ack_init(&t);
	t.n = 3;
	t.largest = top;
	t.rel[0].len = 1u << 31; /* [top - 2^31, top] */
	t.rel[1].gap = 0;	 /* hole at top - 2^31 - 1 */
	t.rel[1].len = 1u << 31; /* [8, top - 2^31 - 2] */
	t.rel[2].gap = 3;	 /* [3, 3] */
	dp_ack_on_packet(&t, top - (1ull << 31) - 1, true, 0, DELAY, 2);
	ranges_of(&t, &a);
	CU_ASSERT(a.n == 1 && a.r[0].hi == top && a.r[0].lo == top - U32MAX);
	CU_ASSERT(t.trimmed);
	CU_ASSERT(!dp_ack_seen(&t, top - U32MAX - 1));

	/* extending a full-length range downward is refused, and what lies below is dropped */
	dp_ack_init(&t);
	t.n = 2;
	t.largest = top;
	t.rel[0].len = U32MAX; /* [11, top] */
	t.rel[1].gap = 3;      /* [6, 6] */
	dp_ack_on_packet(&t, 10, true, 0, DELAY, 2);
	ranges_of(&t, &a);
	CU_ASSERT(a.n == 1 && a.r[0].lo == 11 && t.trimmed);
	CU_ASSERT(!dp_ack_seen(&t, 10) && !dp_ack_seen(&t, 6));
}

/* --- random arrival orders against a naive reference --------------------------------------- */

#define RN 4000 /* packet numbers 0 .. RN-1 */

/* The reference remembers every packet. Once ranges had to be dropped, nothing below `floor`
 * is known; floor moves down only when a packet lands right below it. */
struct ref {
	bool got[RN];
	uint64_t floor, largest;
	bool trimmed, any;
};

/* Runs of received packets from the top down to floor; returns how many (all of them). */
static unsigned int
ref_runs(const struct ref *m, struct dp_ack_range *out, unsigned int max)
{
	unsigned int n = 0;
	uint64_t pn = m->largest + 1;

	if (!m->any)
		return 0;
	while (pn-- > m->floor) {
		if (!m->got[pn])
			continue;
		if (n < max)
			out[n].hi = pn;
		while (pn > m->floor && m->got[pn - 1])
			pn--;
		if (n < max)
			out[n].lo = pn;
		n++;
	}
	return n;
}

static void
ref_add(struct ref *m, uint64_t pn)
{
	struct dp_ack_range runs[CAP + 1];

	if (m->trimmed && pn + 1 == m->floor)
		m->floor = pn;
	m->got[pn] = true;
	if (!m->any || pn > m->largest)
		m->largest = pn;
	m->any = true;
	if (ref_runs(m, runs, CAP + 1) > CAP) {
		m->floor = runs[CAP - 1].lo;
		m->trimmed = true;
	}
}

static bool
ref_seen(const struct ref *m, uint64_t pn)
{
	return m->any && pn <= m->largest && pn >= m->floor && m->got[pn];
}

/* Mostly in order, with losses, local reordering, duplicates and stragglers from far back. */
static uint64_t
pick(uint64_t *rng, uint64_t *next, unsigned int loss_pct)
{
	uint64_t r = sl_test_mix64(rng), roll = r % 100, x = r >> 8;

	if (roll < 60 || *next < 40) {
		while (*next < RN - 1 && x % 100 < loss_pct) { /* lost packets never arrive */
			(*next)++;
			x /= 100;
		}
		return *next < RN - 1 ? (*next)++ : *next;
	}
	if (roll < 85)
		return *next - 1 - x % 16; /* reordered, or a duplicate */
	if (roll < 95)
		return *next - 1 - x % 40;
	return x % *next; /* a straggler from anywhere behind */
}

struct rand_run {
	uint64_t seed;
	unsigned int loss_pct, ops;
	unsigned int mismatches, trims, max_n;
};

/* Ranges after every arrival; dp_ack_seen() for every packet number every 16th arrival,
 * otherwise around the one that arrived. */
static void
check_against(const struct dp_ack_tracker *t, const struct ref *m, struct rand_run *run,
	      unsigned int op, uint64_t pn)
{
	struct dp_ack_range want[CAP + 1];
	struct dp_ack_ranges a;
	unsigned int n = ref_runs(m, want, CAP + 1);
	uint64_t lo = op % 16 == 0 || pn < 64 ? 0 : pn - 64, hi = op % 16 == 0 ? RN : pn + 64;
	bool ok = n <= CAP;

	ranges_of(t, &a);
	ok = ok && same_ranges(&a, want, n) && t->trimmed == m->trimmed;
	for (uint64_t x = lo; ok && x < hi && x < RN; x++)
		ok = dp_ack_seen(t, x) == ref_seen(m, x);
	if (!ok && run->mismatches++ < 3) {
		fprintf(stderr, "  seed %llu op %u: mismatch (trimmed %d/%d, floor %llu)\n",
			(unsigned long long)run->seed, op, t->trimmed, m->trimmed,
			(unsigned long long)m->floor);
		print_ranges("got ", a.r, a.n);
		print_ranges("want", want, RTE_MIN(n, (unsigned int)CAP));
	}
	run->max_n = RTE_MAX(run->max_n, (unsigned int)a.n);
}

static void
random_run(struct rand_run *run, struct ref *m)
{
	struct dp_ack_tracker t;
	uint64_t rng = run->seed, next = 0;
	bool was_trimmed = false;

	memset(m, 0, sizeof(*m));
	dp_ack_init(&t);
	for (unsigned int op = 0; op < run->ops; op++) {
		uint64_t pn = pick(&rng, &next, run->loss_pct);

		dp_ack_on_packet(&t, pn, true, op, DELAY, 2);
		ref_add(m, pn);
		check_against(&t, m, run, op, pn);
		if (m->trimmed && !was_trimmed)
			run->trims++;
		was_trimmed = m->trimmed;
	}
}

static void
test_random_vs_reference(void)
{
	struct rand_run runs[] = {
		{ .seed = 1, .loss_pct = 0, .ops = 6000 },
		{ .seed = 2, .loss_pct = 5, .ops = 6000 },
		{ .seed = 3, .loss_pct = 20, .ops = 6000 },
		{ .seed = 4, .loss_pct = 50, .ops = 6000 },
		{ .seed = 5, .loss_pct = 2, .ops = 6000 },
	};
	static struct ref m;
	unsigned int trims = 0, full = 0;

	for (size_t i = 0; i < RTE_DIM(runs); i++) {
		random_run(&runs[i], &m);
		printf("\n  seed %llu: loss %u%%, %u arrivals, up to %u ranges, trimmed %d",
		       (unsigned long long)runs[i].seed, runs[i].loss_pct, runs[i].ops,
		       runs[i].max_n, m.trimmed);
		CU_ASSERT_EQUAL(runs[i].mismatches, 0);
		trims += runs[i].trims;
		full += runs[i].max_n == CAP;
	}
	printf("\n");
	/* the capacity was reached and overflowed in earnest */
	CU_ASSERT(trims >= 2);
	CU_ASSERT(full >= 2);
}

/* --- delayed-ACK policy ------------------------------------------------------------------ */

enum step_op {
	S_INIT, /* fresh tracker, ack_every = pn */
	S_PKT,	/* packet pn arrives at now (eliciting or not) */
	S_BUILD,
};

struct policy_step {
	enum step_op op;
	uint64_t pn;
	bool eliciting;
	uint64_t now;
	bool pending, due; /* expected right after the step, at now */
	uint64_t deadline; /* expected dp_ack_deadline() */
};

#define INIT(every)                                           \
	{                                                     \
		S_INIT, (every), false, 0, false, false, NONE \
	}
#define PKT(pn, el, now, p, d, dl)                       \
	{                                                \
		S_PKT, (pn), (el), (now), (p), (d), (dl) \
	}
#define BUILD(now)                                           \
	{                                                    \
		S_BUILD, 0, false, (now), false, false, NONE \
	}

static const struct policy_step policy_steps[] = {
	/* ack_every = 2: due after the second ack-eliciting packet, not the first */
	INIT(2),
	PKT(0, true, 1000, true, false, 1000 + DELAY),
	PKT(1, true, 2000, true, true, 0),
	BUILD(3000),
	PKT(2, true, 4000, true, false, 4000 + DELAY),
	PKT(3, false, 5000, true, false, 4000 + DELAY), /* not eliciting: no count, no change */
	PKT(4, true, 6000, true, true, 0),
	/* out of order is immediate, whatever ack_every says */
	INIT(10),
	PKT(0, true, 0, true, false, DELAY),
	PKT(2, true, 10, true, true, 0), /* a gap opens below 2 */
	BUILD(20),
	PKT(1, true, 30, true, true, 0), /* fills the hole */
	BUILD(40),
	PKT(3, true, 50, true, false, 50 + DELAY), /* next in order again */
	PKT(3, true, 60, true, false, 50 + DELAY), /* duplicate: changes nothing */
	/* the deadline is exact and set by the first unacknowledged eliciting packet */
	INIT(10),
	PKT(0, true, 7 * MS, true, false, 7 * MS + DELAY),
	PKT(1, true, 9 * MS, true, false, 7 * MS + DELAY),
	PKT(2, true, 7 * MS + DELAY - 1, true, false, 7 * MS + DELAY),
	PKT(3, true, 7 * MS + DELAY, true, true, 7 * MS + DELAY),
	BUILD(7 * MS + DELAY),
	PKT(4, true, 40 * MS, true, false, 40 * MS + DELAY),
	/* packets that do not elicit an ACK only wait for one */
	INIT(1),
	PKT(0, false, 0, true, false, NONE),
	PKT(5, false, 1, true, false, NONE), /* even out of order */
	PKT(3, false, 2, true, false, NONE),
	PKT(6, true, 3, true, true, 0), /* ack_every 1 */
	BUILD(4),
	PKT(7, false, 1 * MS, true, false, NONE),
	/* a first packet above 0 has a gap below it; ack_every 0 counts as 1 */
	INIT(0),
	PKT(3, true, 5, true, true, 0),
	BUILD(6),
	PKT(4, true, 7, true, true, 0),
};

static bool
run_step(struct dp_ack_tracker *t, uint32_t *every, const struct policy_step *s)
{
	struct dp_ack_ranges a;

	switch (s->op) {
	case S_INIT:
		dp_ack_init(t);
		*every = (uint32_t)s->pn;
		return !dp_ack_pending(t) && dp_ack_deadline(t) == NONE && !dp_ack_due(t, 0);
	case S_PKT:
		dp_ack_on_packet(t, s->pn, s->eliciting, s->now, DELAY, *every);
		break;
	case S_BUILD:
		dp_ack_build(t, s->now, &a);
		if (a.n == 0 || t->unacked_eliciting != 0)
			return false;
		break;
	}
	return dp_ack_pending(t) == s->pending && dp_ack_due(t, s->now) == s->due &&
	       dp_ack_deadline(t) == s->deadline &&
	       (s->deadline == 0 || s->deadline == NONE || !dp_ack_due(t, s->deadline - 1));
}

static void
test_policy(void)
{
	struct dp_ack_tracker t;
	uint32_t every = 2;
	unsigned int bad = 0;

	dp_ack_init(&t);
	for (size_t i = 0; i < RTE_DIM(policy_steps); i++) {
		if (!run_step(&t, &every, &policy_steps[i])) {
			fprintf(stderr, "  policy step %zu: pending %d due %d deadline %llu\n", i,
				dp_ack_pending(&t), dp_ack_due(&t, policy_steps[i].now),
				(unsigned long long)dp_ack_deadline(&t));
			bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void
test_build(void)
{
	struct dp_ack_tracker t;
	struct dp_ack_ranges a;

	dp_ack_init(&t);
	dp_ack_build(&t, 100, &a);
	CU_ASSERT_EQUAL(a.n, 0);
	/* ack_delay runs from the arrival of the largest, not of the latest packet */
	dp_ack_on_packet(&t, 5, true, 1000, DELAY, 2);
	dp_ack_on_packet(&t, 3, true, 2000, DELAY, 2);
	dp_ack_on_packet(&t, 1, false, 3000, DELAY, 2);
	dp_ack_build(&t, 5000, &a);
	CU_ASSERT_EQUAL(a.ack_delay_ns, 4000);
	CU_ASSERT(a.n == 3 && a.r[0].hi == 5 && a.r[1].lo == 3 && a.r[2].hi == 1);
	CU_ASSERT(!t.pending && !t.ack_now && t.unacked_eliciting == 0 && t.deadline_ns == NONE);
	/* the ranges stay after an ACK was built: the next ACK repeats them */
	dp_ack_on_packet(&t, 6, true, 6000, DELAY, 2);
	dp_ack_build(&t, 5500, &a); /* a clock behind the arrival gives 0, not a wrap */
	CU_ASSERT(a.n == 3 && a.r[0].lo == 5 && a.r[0].hi == 6 && a.ack_delay_ns == 0);
	CU_ASSERT(sizeof(struct dp_ack_tracker) <= 300);
}

/* ACK-only packets are acknowledged along with ack-eliciting ones, never on their own. */
static void
test_wanted(void)
{
	struct dp_ack_tracker t;
	struct dp_ack_ranges a;

	dp_ack_init(&t);
	CU_ASSERT(!dp_ack_wanted(&t));
	dp_ack_on_packet(&t, 0, false, 1000, DELAY, 2);
	dp_ack_on_packet(&t, 1, false, 2000, DELAY, 2);
	CU_ASSERT(dp_ack_pending(&t) && !dp_ack_wanted(&t) && !dp_ack_due(&t, NONE - 1));
	dp_ack_on_packet(&t, 2, true, 3000, DELAY, 2);
	CU_ASSERT(dp_ack_wanted(&t));
	dp_ack_build(&t, 4000, &a); /* and the ACK covers the ACK-only packets too */
	CU_ASSERT(a.n == 1 && a.r[0].lo == 0 && a.r[0].hi == 2);
	CU_ASSERT(!dp_ack_wanted(&t));
}

static CU_TestInfo cases[] = {
	{ "arrival orders: exact ranges", test_orders },
	{ "100000 packets in order: one range", test_in_order_long },
	{ "32-bit limits of the compact form", test_length_limits },
	{ "random arrivals against a naive reference", test_random_vs_reference },
	{ "delayed-ACK policy, step by step", test_policy },
	{ "build: absolute ranges, ack delay, reset", test_build },
	{ "ACK-only packets ride along, never on their own", test_wanted },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("ack", cases)
