/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the session-resumption cache (cp_resume.h) — take and find, one entry per node,
 * bounds and eviction order, expiry (and a chain of resumptions never outliving its full
 * handshake), every removed entry zeroed (seen through the wipe hook), and a random sequence
 * of operations against a deliberately naive reference.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cp_resume.h"
#include "sl_lru.h"
#include "sl_test.h"

#define SEC  1000000000ull
#define LIFE (600 * SEC)

/* Node id i, and the resumption of its session number gen: distinct, recognisable bytes. */
static void
node_id(uint8_t id[SL_KEY_LEN], unsigned int i)
{
	memset(id, 0, SL_KEY_LEN);
	id[0] = 0x4e;
	id[1] = (uint8_t)i;
	id[2] = (uint8_t)(i >> 8);
}

static struct cp_hs_resumption
resumption(unsigned int i, unsigned int gen, uint64_t not_after)
{
	struct cp_hs_resumption r = { .not_after_ns = not_after };

	memset(r.ticket, 0xa0 ^ (int)gen, sizeof(r.ticket));
	r.ticket[0] = (uint8_t)i;
	r.ticket[1] = (uint8_t)(i >> 8);
	memset(r.secret, 0x50 + (int)(gen % 64), sizeof(r.secret));
	r.secret[0] = (uint8_t)i;
	return r;
}

static struct cp_resume *
cache(uint32_t capacity)
{
	struct cp_resume_config cfg = { .capacity = capacity, .lifetime_ns = LIFE };
	struct cp_resume *c = cp_resume_create(&cfg);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	return c;
}

/* The wipe hook: every entry handed to it must be all zero. */
struct wipes {
	unsigned int calls, dirty;
};

static void
on_wipe(const void *mem, size_t len, void *arg)
{
	struct wipes *w = arg;

	w->calls++;
	w->dirty += !sodium_is_zero(mem, len);
}

static void
test_put_take_find(void)
{
	struct cp_resume *c = cache(8);
	struct cp_hs_resumption r = resumption(1, 0, 0);
	struct cp_resume_ticket t;
	uint8_t id[SL_KEY_LEN];

	node_id(id, 1);
	CU_ASSERT_EQUAL(cp_resume_put(c, id, &r, 5 * SEC), 0);
	CU_ASSERT_EQUAL(cp_resume_count(c), 1);
	/* the responder finds it by ticket, and it stays */
	CU_ASSERT_EQUAL(cp_resume_find(c, r.ticket, 6 * SEC, &t), 0);
	CU_ASSERT_EQUAL(memcmp(t.node_id, id, SL_KEY_LEN), 0);
	CU_ASSERT_EQUAL(memcmp(t.secret, r.secret, SL_KEY_LEN), 0);
	CU_ASSERT_EQUAL(t.not_after_ns, 5 * SEC + LIFE);
	CU_ASSERT_EQUAL(cp_resume_count(c), 1);
	/* the initiator takes it: gone at once */
	CU_ASSERT_EQUAL(cp_resume_take(c, id, 6 * SEC, &t), 0);
	CU_ASSERT_EQUAL(memcmp(t.ticket, r.ticket, sizeof(r.ticket)), 0);
	CU_ASSERT_EQUAL(cp_resume_count(c), 0);
	CU_ASSERT_EQUAL(cp_resume_take(c, id, 6 * SEC, &t), -ENOENT);
	CU_ASSERT(sodium_is_zero((uint8_t *)&t, sizeof(t))); /* nothing handed out on failure */
	CU_ASSERT_EQUAL(cp_resume_find(c, r.ticket, 6 * SEC, &t), -ENOENT);
	/* forget drops node and ticket */
	CU_ASSERT_EQUAL(cp_resume_put(c, id, &r, 7 * SEC), 0);
	cp_resume_forget(c, id);
	cp_resume_forget(c, id); /* nothing left: a no-op */
	CU_ASSERT_EQUAL(cp_resume_find(c, r.ticket, 7 * SEC, &t), -ENOENT);
	CU_ASSERT_EQUAL(cp_resume_stats(c)->stored, 2);
	CU_ASSERT_EQUAL(cp_resume_stats(c)->taken, 1);
	CU_ASSERT_EQUAL(cp_resume_stats(c)->found, 1);
	CU_ASSERT_EQUAL(cp_resume_stats(c)->forgotten, 1);
	CU_ASSERT_EQUAL(cp_resume_stats(c)->missed, 3);
	cp_resume_ticket_wipe(&t);
	cp_resume_destroy(c);
}

/* A newer session replaces the node's entry: its old ticket names nothing any more. */
static void
test_replace(void)
{
	struct cp_resume *c = cache(8);
	struct cp_hs_resumption old = resumption(1, 0, 0), now = resumption(1, 1, 0);
	struct cp_resume_ticket t;
	uint8_t id[SL_KEY_LEN];

	node_id(id, 1);
	CU_ASSERT_EQUAL(cp_resume_put(c, id, &old, 0), 0);
	CU_ASSERT_EQUAL(cp_resume_put(c, id, &now, SEC), 0);
	CU_ASSERT_EQUAL(cp_resume_count(c), 1);
	CU_ASSERT_EQUAL(cp_resume_stats(c)->replaced, 1);
	CU_ASSERT_EQUAL(cp_resume_find(c, old.ticket, SEC, &t), -ENOENT);
	CU_ASSERT_EQUAL(cp_resume_find(c, now.ticket, SEC, &t), 0);
	CU_ASSERT_EQUAL(memcmp(t.secret, now.secret, SL_KEY_LEN), 0);

	/* two nodes never share a ticket: the later one's entry wins */
	uint8_t id2[SL_KEY_LEN];

	node_id(id2, 2);
	CU_ASSERT_EQUAL(cp_resume_put(c, id2, &now, 2 * SEC), 0);
	CU_ASSERT_EQUAL(cp_resume_count(c), 1);
	CU_ASSERT_EQUAL(cp_resume_find(c, now.ticket, 2 * SEC, &t), 0);
	CU_ASSERT_EQUAL(memcmp(t.node_id, id2, SL_KEY_LEN), 0);
	CU_ASSERT_EQUAL(cp_resume_take(c, id, 2 * SEC, &t), -ENOENT);
	cp_resume_ticket_wipe(&t);
	cp_resume_destroy(c);
}

/* Capacity 4, six nodes: the two stored longest ago give way; storing a node again makes it
 * the newest. Every entry that goes is zero when it goes. */
static void
test_bounds_and_eviction(void)
{
	struct cp_resume *c = cache(4);
	struct wipes w = { 0 };
	struct cp_resume_ticket t;
	uint8_t id[SL_KEY_LEN];

	cp_resume_set_wipe_hook(c, on_wipe, &w);
	for (unsigned int i = 0; i < 6; i++) {
		struct cp_hs_resumption r = resumption(i, 0, 0);

		node_id(id, i);
		CU_ASSERT_EQUAL(cp_resume_put(c, id, &r, i * SEC), 0);
		CU_ASSERT(cp_resume_count(c) <= 4);
	}
	CU_ASSERT_EQUAL(cp_resume_count(c), 4);
	CU_ASSERT_EQUAL(cp_resume_stats(c)->evicted, 2);
	CU_ASSERT_EQUAL(w.calls, 2 * 2); /* node entry and ticket entry of each */
	CU_ASSERT_EQUAL(w.dirty, 0);
	for (unsigned int i = 0; i < 6; i++) {
		struct cp_hs_resumption r = resumption(i, 0, 0);

		CU_ASSERT_EQUAL(cp_resume_find(c, r.ticket, 6 * SEC, &t), i < 2 ? -ENOENT : 0);
	}
	/* node 2 stored again: now node 3 is the oldest */
	struct cp_hs_resumption r2 = resumption(2, 1, 0), r6 = resumption(6, 0, 0);

	node_id(id, 2);
	CU_ASSERT_EQUAL(cp_resume_put(c, id, &r2, 7 * SEC), 0);
	node_id(id, 6);
	CU_ASSERT_EQUAL(cp_resume_put(c, id, &r6, 8 * SEC), 0);
	node_id(id, 3);
	CU_ASSERT_EQUAL(cp_resume_take(c, id, 8 * SEC, &t), -ENOENT);
	node_id(id, 2);
	CU_ASSERT_EQUAL(cp_resume_take(c, id, 8 * SEC, &t), 0);
	CU_ASSERT_EQUAL(w.dirty, 0);
	/* destroy wipes what is left: 3 entries, each with its ticket */
	w.calls = 0;
	cp_resume_destroy(c);
	CU_ASSERT_EQUAL(w.calls, 2 * 3);
	CU_ASSERT_EQUAL(w.dirty, 0);
	cp_resume_ticket_wipe(&t);
}

static void
test_expiry(void)
{
	struct cp_resume *c = cache(8);
	struct wipes w = { 0 };
	struct cp_resume_ticket t;
	uint8_t id[SL_KEY_LEN];
	struct cp_hs_resumption r = resumption(1, 0, 0);

	cp_resume_set_wipe_hook(c, on_wipe, &w);
	node_id(id, 1);
	CU_ASSERT_EQUAL(cp_resume_put(c, id, &r, 10 * SEC), 0);
	CU_ASSERT_EQUAL(cp_resume_take(c, id, 10 * SEC + LIFE, &t), -ETIME);
	CU_ASSERT_EQUAL(cp_resume_count(c), 0); /* and wiped */
	CU_ASSERT_EQUAL(w.calls, 2);
	CU_ASSERT_EQUAL(cp_resume_put(c, id, &r, 10 * SEC), 0);
	CU_ASSERT_EQUAL(cp_resume_find(c, r.ticket, 10 * SEC + LIFE - 1, &t), 0);
	CU_ASSERT_EQUAL(cp_resume_find(c, r.ticket, 10 * SEC + LIFE, &t), -ETIME);
	CU_ASSERT(sodium_is_zero((uint8_t *)&t, sizeof(t)));
	CU_ASSERT_EQUAL(cp_resume_count(c), 0);

	/* a resumed session's secret keeps the expiry of the one it used, capped at the
	 * lifetime; one that has already expired is not stored */
	struct cp_hs_resumption chained = resumption(1, 1, 50 * SEC);

	CU_ASSERT_EQUAL(cp_resume_put(c, id, &chained, 20 * SEC), 0);
	CU_ASSERT_EQUAL(cp_resume_find(c, chained.ticket, 20 * SEC, &t), 0);
	CU_ASSERT_EQUAL(t.not_after_ns, 50 * SEC);
	chained.not_after_ns = UINT64_MAX;
	CU_ASSERT_EQUAL(cp_resume_put(c, id, &chained, 20 * SEC), 0);
	CU_ASSERT_EQUAL(cp_resume_find(c, chained.ticket, 20 * SEC, &t), 0);
	CU_ASSERT_EQUAL(t.not_after_ns, 20 * SEC + LIFE);
	chained.not_after_ns = 30 * SEC;
	CU_ASSERT_EQUAL(cp_resume_put(c, id, &chained, 30 * SEC), -ETIME);
	CU_ASSERT_EQUAL(cp_resume_count(c), 0);

	/* the sweep removes the expired entries only */
	for (unsigned int i = 0; i < 6; i++) {
		struct cp_hs_resumption ri = resumption(i, 0, (i + 1) * 100 * SEC);

		node_id(id, i);
		CU_ASSERT_EQUAL(cp_resume_put(c, id, &ri, 0), 0);
	}
	CU_ASSERT_EQUAL(cp_resume_expire(c, 300 * SEC), 3);
	CU_ASSERT_EQUAL(cp_resume_count(c), 3);
	CU_ASSERT_EQUAL(cp_resume_expire(c, 300 * SEC), 0);
	CU_ASSERT_EQUAL(cp_resume_expire(c, 600 * SEC), 3);
	CU_ASSERT_EQUAL(w.dirty, 0);
	cp_resume_ticket_wipe(&t);
	cp_resume_destroy(c);
}

static void
test_bad_config(void)
{
	struct cp_resume_config cfg = { .capacity = SL_LRU_MAX_CAPACITY + 1 };

	errno = 0;
	CU_ASSERT_PTR_NULL(cp_resume_create(&cfg));
	CU_ASSERT_EQUAL(errno, EINVAL);
	cfg.capacity = 0; /* the default */
	struct cp_resume *c = cp_resume_create(&cfg);

	CU_ASSERT_PTR_NOT_NULL(c);
	cp_resume_destroy(c);
	cp_resume_destroy(NULL);
}

/* --- random operations against a naive reference ------------------------------------------ */

#define REF_NODES 12
#define REF_CAP	  5
#define REF_OPS	  40000

/* The reference: one slot per node id, the oldest stored is evicted, a linear scan for
 * tickets. */
struct ref {
	bool present[REF_NODES];
	struct cp_hs_resumption r[REF_NODES];
	uint64_t stored_at[REF_NODES]; /* order of storing */
	uint64_t seq;
};

static int
ref_count(const struct ref *m)
{
	int n = 0;

	for (int i = 0; i < REF_NODES; i++)
		n += m->present[i];
	return n;
}

static void
ref_put(struct ref *m, unsigned int i, const struct cp_hs_resumption *r, uint64_t now)
{
	uint64_t cap = now + LIFE;
	int oldest = -1;

	m->present[i] = false;
	if (now >= (r->not_after_ns ? RTE_MIN(r->not_after_ns, cap) : cap))
		return;
	for (int j = 0; j < REF_NODES; j++) /* a ticket names one node */
		if (m->present[j] && memcmp(m->r[j].ticket, r->ticket, sizeof(r->ticket)) == 0)
			m->present[j] = false;
	if (ref_count(m) == REF_CAP)
		for (int j = 0; j < REF_NODES; j++)
			if (m->present[j] && (oldest < 0 || m->stored_at[j] < m->stored_at[oldest]))
				oldest = j;
	if (oldest >= 0)
		m->present[oldest] = false;
	m->present[i] = true;
	m->r[i] = *r;
	m->r[i].not_after_ns = r->not_after_ns ? RTE_MIN(r->not_after_ns, cap) : cap;
	m->stored_at[i] = ++m->seq;
}

/* 0, -ENOENT or -ETIME as the cache must answer; an expired entry goes. */
static int
ref_lookup(struct ref *m, int i, uint64_t now)
{
	if (i < 0 || !m->present[i])
		return -ENOENT;
	if (now >= m->r[i].not_after_ns) {
		m->present[i] = false;
		return -ETIME;
	}
	return 0;
}

static int
ref_by_ticket(const struct ref *m, const uint8_t *ticket)
{
	for (int j = 0; j < REF_NODES; j++)
		if (m->present[j] && memcmp(m->r[j].ticket, ticket, SL_RESUME_TICKET_LEN) == 0)
			return j;
	return -1;
}

static bool
same(const struct cp_resume_ticket *t, const struct cp_hs_resumption *r, unsigned int i)
{
	uint8_t id[SL_KEY_LEN];

	node_id(id, i);
	return memcmp(t->node_id, id, SL_KEY_LEN) == 0 &&
	       memcmp(t->ticket, r->ticket, sizeof(r->ticket)) == 0 &&
	       memcmp(t->secret, r->secret, sizeof(r->secret)) == 0 &&
	       t->not_after_ns == r->not_after_ns;
}

/* One random operation on both; false if they disagree. */
static bool
random_op(struct cp_resume *c, struct ref *m, uint64_t *rng, uint64_t *now)
{
	uint64_t x = sl_test_mix64(rng);
	unsigned int i = (unsigned int)(x >> 8) % REF_NODES, op = (unsigned int)(x % 16);
	struct cp_hs_resumption r = resumption(i, (unsigned int)(x >> 20) % 3, 0);
	struct cp_resume_ticket t;
	uint8_t id[SL_KEY_LEN];
	int want, got, j;

	*now += (x >> 32) % (20 * SEC);
	node_id(id, i);
	if (op < 6) { /* put: a full handshake, or a resumed one with an inherited expiry */
		if (op == 5)
			r.not_after_ns = *now + (x >> 40) % LIFE;
		ref_put(m, i, &r, *now);
		return cp_resume_put(c, id, &r, *now) == (m->present[i] ? 0 : -ETIME);
	}
	if (op < 9) {
		want = ref_lookup(m, (int)i, *now);
		got = cp_resume_take(c, id, *now, &t);
		if (want == 0)
			m->present[i] = false;
		return got == want && (want != 0 || same(&t, &m->r[i], i));
	}
	if (op < 13) { /* find by a ticket of node i (the current one or an older one) */
		j = ref_by_ticket(m, r.ticket);
		want = ref_lookup(m, j, *now);
		got = cp_resume_find(c, r.ticket, *now, &t);
		return got == want && (want != 0 || same(&t, &m->r[j], (unsigned int)j));
	}
	if (op < 15) {
		m->present[i] = false;
		cp_resume_forget(c, id);
		return true;
	}
	want = 0;
	for (j = 0; j < REF_NODES; j++)
		want += ref_lookup(m, j, *now) == -ETIME;
	return (int)cp_resume_expire(c, *now) == want;
}

static void
test_random_vs_reference(void)
{
	struct cp_resume *c = cache(REF_CAP);
	struct ref m = { 0 };
	struct wipes w = { 0 };
	uint64_t rng = 0x726573756d65ull, now = 0;
	unsigned int agree = 0;

	cp_resume_set_wipe_hook(c, on_wipe, &w);
	for (unsigned int n = 0; n < REF_OPS; n++) {
		bool ok = random_op(c, &m, &rng, &now);

		agree += ok;
		ok = ok && (int)cp_resume_count(c) == ref_count(&m);
		if (!ok) {
			fprintf(stderr, "resume cache and reference disagree at operation %u\n", n);
			break;
		}
	}
	printf("\n  %u operations agreed; %u entries wiped on the way, %u not zero\n", agree,
	       w.calls, w.dirty);
	CU_ASSERT_EQUAL(agree, REF_OPS);
	CU_ASSERT_EQUAL(w.dirty, 0);
	CU_ASSERT(cp_resume_stats(c)->evicted > 0 && cp_resume_stats(c)->expired > 0);
	cp_resume_destroy(c);
}

static CU_TestInfo cases[] = {
	{ "put, take, find, forget", test_put_take_find },
	{ "a newer session replaces the node's entry", test_replace },
	{ "bounded: the oldest stored gives way, zeroed", test_bounds_and_eviction },
	{ "expiry, chained expiry, the sweep", test_expiry },
	{ "capacity out of range", test_bad_config },
	{ "random operations vs a naive reference", test_random_vs_reference },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("resume", cases)
