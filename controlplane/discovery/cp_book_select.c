/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: choosing from the address book — an address to dial, a sample to give
 * away — and looking into it (cp_book.h). */
#include <errno.h>
#include <string.h>

#include "cp_book_pvt.h"

#define PICK_DRAWS	   128 /* random draws before a plain scan */
#define PICK_GROWTH	   1.2 /* the acceptance factor grows this much per refused draw */
#define RECENT_TRY_S	   600ull
#define RECENT_TRY_FACTOR  0.01
#define FAILURE_FACTOR	   0.66
#define FAILURES_COUNTED   8
#define DAY_S		   86400ull
#define FAST_RTT_NS	   50000000ull /* 50 ms */
#define SLOWEST_FACTOR	   0.1
#define UNKNOWN_RTT_FACTOR 0.5

/* How likely a draw of e is accepted (cp_book.h: ranking), in (0, 1]. */
static double
chance(const struct bk_entry *e, uint64_t now_s)
{
	double c = 1.0;
	uint64_t seen_age = now_s > e->addr.last_seen ? now_s - e->addr.last_seen : 0;

	if (e->last_try != 0 && now_s >= e->last_try && now_s - e->last_try < RECENT_TRY_S)
		c *= RECENT_TRY_FACTOR;
	for (uint32_t i = 0; i < e->attempts && i < FAILURES_COUNTED; i++)
		c *= FAILURE_FACTOR;
	if (seen_age > 7 * DAY_S)
		c *= 0.25;
	else if (seen_age > DAY_S)
		c *= 0.5;
	if (e->rtt_ns == 0)
		c *= UNKNOWN_RTT_FACTOR;
	else if (e->rtt_ns > FAST_RTT_NS)
		c *= RTE_MAX((double)FAST_RTT_NS / (double)e->rtt_ns, SLOWEST_FACTOR);
	return c;
}

static uint32_t
isqrt(uint64_t n)
{
	uint64_t r = 0;

	for (uint64_t bit = 1ull << 62; bit != 0; bit >>= 2) {
		if (n >= r + bit) {
			n -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
	}
	return (uint32_t)r;
}

/* new or tried for the next draw: CometBFT's weights (cp_book_pick()). */
static const struct bk_table *
pick_table(struct cp_book *b, unsigned int new_bias_pct)
{
	uint64_t wn = (uint64_t)isqrt((uint64_t)b->new_t.n_occ * 10000) * new_bias_pct;
	uint64_t wt = (uint64_t)isqrt((uint64_t)b->tried_t.n_occ * 10000) * (100 - new_bias_pct);

	if (b->tried_t.n_occ == 0)
		return &b->new_t;
	if (b->new_t.n_occ == 0 || wn + wt == 0)
		return &b->tried_t;
	return (cp_bk_rand(b) >> 11) % (wn + wt) < wn ? &b->new_t : &b->tried_t;
}

static bool
eligible(const struct bk_entry *e, bool (*skip)(void *, const struct cp_addr *), void *arg,
	 uint64_t now_s)
{
	return !cp_bk_is_bad(e, now_s) && (skip == NULL || !skip(arg, &e->addr));
}

static double
unit(struct cp_book *b)
{
	return (double)(cp_bk_rand(b) >> 11) / (double)(1ull << 53);
}

/* Random draws, each accepted by its rank: the entry index, or BK_NONE. */
static uint32_t
pick_draws(struct cp_book *b, unsigned int new_bias_pct,
	   bool (*skip)(void *, const struct cp_addr *), void *arg, uint64_t now_s)
{
	double factor = 1.0;

	for (int n = 0; n < PICK_DRAWS; n++) {
		const struct bk_table *t = pick_table(b, new_bias_pct);
		uint32_t idx = t->slot[t->occ[cp_bk_below(b, t->n_occ)]];
		const struct bk_entry *e = BK_E(b, idx);

		if (eligible(e, skip, arg, now_s) && unit(b) < factor * chance(e, now_s))
			return idx;
		factor *= PICK_GROWTH;
	}
	return BK_NONE;
}

/* Everything else was skipped so far: the first eligible entry from a random place. */
static uint32_t
pick_scan(struct cp_book *b, bool (*skip)(void *, const struct cp_addr *), void *arg,
	  uint64_t now_s)
{
	uint32_t start = cp_bk_below(b, b->n_all);

	for (uint32_t k = 0; k < b->n_all; k++) {
		uint32_t idx = b->all[(start + k) % b->n_all];

		if (eligible(BK_E(b, idx), skip, arg, now_s))
			return idx;
	}
	return BK_NONE;
}

int
cp_book_pick(struct cp_book *b, unsigned int new_bias_pct,
	     bool (*skip)(void *arg, const struct cp_addr *a), void *arg, uint64_t now_s,
	     struct cp_addr *out)
{
	uint32_t idx = BK_NONE;

	SL_ASSERT_OWNER(b->owner);
	if (new_bias_pct > 100)
		return -EINVAL;
	if (b->n_all > 0)
		idx = pick_draws(b, new_bias_pct, skip, arg, now_s);
	if (idx == BK_NONE && b->n_all > 0)
		idx = pick_scan(b, skip, arg, now_s);
	if (idx == BK_NONE) {
		b->stats.picks_empty++;
		return -ENOENT;
	}
	*out = b->e[idx].addr;
	b->stats.picks++;
	return 0;
}

unsigned int
cp_book_new_bias(unsigned int outbound)
{
	return RTE_MIN(outbound, 8u) * 10 + 10;
}

/* --- samples ---------------------------------------------------------------------------------- */

static bool
sample_ok(const struct cp_book *b, const struct bk_entry *e, uint64_t now_s)
{
	return !cp_bk_is_bad(e, now_s) &&
	       !cp_bk_stale(b, e, now_s); /* never banned (cp_book_pvt.h) */
}

/* How many of each table: q[0] new, q[1] tried. */
static void
sample_quota(const struct cp_book *b, unsigned int max, uint64_t now_s, uint32_t q[2])
{
	const struct cp_book_config *c = &b->cfg;
	uint32_t ok[2] = { 0, 0 };
	uint64_t want = (uint64_t)b->n_all * c->sample_pct / 100;

	for (uint32_t i = 0; i < b->n_all; i++) {
		const struct bk_entry *e = BK_E(b, b->all[i]);

		if (sample_ok(b, e, now_s))
			ok[e->tried_slot != BK_NONE]++;
	}
	want = RTE_MAX(want, (uint64_t)c->sample_min);
	want = RTE_MIN(want, (uint64_t)c->sample_max);
	want = RTE_MIN(want, (uint64_t)max);
	want = RTE_MIN(want, (uint64_t)ok[0] + ok[1]);
	q[0] = RTE_MIN((uint32_t)((want * c->sample_new_pct + 50) / 100), ok[0]);
	q[1] = RTE_MIN((uint32_t)want - q[0], ok[1]);
	q[0] = (uint32_t)want - q[1]; /* new makes up for missing tried */
}

static void
all_swap(struct cp_book *b, uint32_t i, uint32_t j)
{
	uint32_t x = b->all[i];

	b->all[i] = b->all[j];
	b->all[j] = x;
	b->e[b->all[i]].all_pos = i;
	b->e[b->all[j]].all_pos = j;
}

unsigned int
cp_book_sample(struct cp_book *b, struct cp_addr *out, unsigned int max, uint64_t now_s)
{
	uint32_t q[2], n = 0;

	SL_ASSERT_OWNER(b->owner);
	sample_quota(b, max, now_s, q);
	/* a Fisher-Yates shuffle of all[], stopped as soon as the quotas are met */
	for (uint32_t i = 0; i < b->n_all && q[0] + q[1] > 0; i++) {
		const struct bk_entry *e;
		bool tried;

		all_swap(b, i, i + cp_bk_below(b, b->n_all - i));
		e = BK_E(b, b->all[i]);
		tried = e->tried_slot != BK_NONE;
		if (q[tried] == 0 || !sample_ok(b, e, now_s))
			continue;
		q[tried]--;
		out[n++] = e->addr;
	}
	b->stats.samples++;
	return n;
}

/* --- looking ---------------------------------------------------------------------------------- */

void
cp_bk_info(const struct bk_entry *e, struct cp_book_info *info)
{
	*info = (struct cp_book_info){
		.addr = e->addr,
		.src_ip = e->src_ip,
		.tried = e->tried_slot != BK_NONE,
		.refs = e->refs,
		.bad_count = e->bad_count,
		.attempts = e->attempts,
		.successes = e->successes,
		.last_try = e->last_try,
		.last_success = e->last_success,
		.bad_until = e->bad_until,
		.rtt_ns = e->rtt_ns,
	};
}

unsigned int
cp_book_size(const struct cp_book *b)
{
	return b->n_all;
}

int
cp_book_lookup(const struct cp_book *b, const struct cp_addr *a, struct cp_book_info *info)
{
	uint32_t idx = cp_bk_find(b, a->ip, a->port);

	if (idx == BK_NONE)
		return -ENOENT;
	cp_bk_info(BK_E(b, idx), info);
	return 0;
}

void
cp_book_walk(const struct cp_book *b, void (*fn)(void *arg, const struct cp_book_info *info),
	     void *arg)
{
	struct cp_book_info info;

	for (uint32_t i = 0; i < b->n_all; i++) {
		cp_bk_info(BK_E(b, b->all[i]), &info);
		fn(arg, &info);
	}
}
