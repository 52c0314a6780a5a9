/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: ARP cache tests on an injected clock — scenario tables (the exact retry schedule,
 * failure after the third request and the hold-down, retries sent by want, expiry to STALE and
 * the probe that follows, LRU eviction, learning from requests and the merge rule, rejected
 * input), then a long random run against a deliberately naive reference (linear arrays, a use
 * counter for recency).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cp_arp.h"
#include "sl_test.h"

#define MS 1000000ull
#define S  1000000000ull
#define T0 (1000 * S)

#define IP_A 0xc6120002u
#define IP_B 0xc6120003u
#define IP_C 0xc6120004u
#define IP_D 0xc6120005u
#define IP_E 0xc6120006u

static const uint8_t macs[][CP_ARP_MAC_LEN] = {
	{ 0x02, 0, 0, 0, 0, 0x01 },		/* 0 */
	{ 0x02, 0, 0, 0, 0, 0x02 },		/* 1 */
	{ 0x02, 0, 0, 0, 0, 0x03 },		/* 2 */
	{ 0x01, 0, 0x5e, 0, 0, 1 },		/* 3: multicast */
	{ 0, 0, 0, 0, 0, 0 },			/* 4: zero */
	{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, /* 5: broadcast */
};

/* --- events ------------------------------------------------------------------------------- */

struct ev_log {
	unsigned int n_req, n_fail;
	uint32_t ips[64];
	unsigned int n;
};

static void
on_event(void *ctx, uint32_t ip, enum cp_arp_event ev)
{
	struct ev_log *log = ctx;

	if (ev == CP_ARP_EV_REQUEST)
		log->n_req++;
	else
		log->n_fail++;
	if (log->n < RTE_DIM(log->ips))
		log->ips[log->n++] = ip;
}

/* --- scenario tables ---------------------------------------------------------------------- */

enum op {
	END,
	WANT,	/* cp_arp_want() == expect */
	LOOKUP, /* cp_arp_lookup() == expect, and the MAC is macs[mac] when FOUND */
	LEARN,	/* cp_arp_learn(macs[mac]) == expect */
	UPDATE, /* cp_arp_update(macs[mac]) == expect */
	TICK,	/* cp_arp_tick() asks expect requests and reports fail failures, all for ip */
	STATE,	/* cp_arp_state() == expect */
	STAT,	/* stats field `mac` (an index into stat_of) == expect */
};

struct step {
	enum op op;
	uint64_t t;
	uint32_t ip;
	int mac;
	int expect;
	int fail;
};

struct scenario {
	const char *name;
	uint32_t capacity;
	struct step steps[40];
};

enum {
	ST_REQUESTS,
	ST_LEARNED,
	ST_REFRESHED,
	ST_CHANGED,
	ST_EXPIRED,
	ST_FAILED,
	ST_EVICTED,
	ST_ENTRIES
};

static uint64_t
stat_of(const struct cp_arp *arp, int which)
{
	struct cp_arp_stats st;

	cp_arp_get_stats(arp, &st);
	switch (which) {
	case ST_REQUESTS:
		return st.requests;
	case ST_LEARNED:
		return st.learned;
	case ST_REFRESHED:
		return st.refreshed;
	case ST_CHANGED:
		return st.mac_changed;
	case ST_EXPIRED:
		return st.expired;
	case ST_FAILED:
		return st.failed;
	case ST_EVICTED:
		return st.evicted;
	default:
		return st.entries;
	}
}

/* clang-format off */
#define W(t, ip, ok)		{ WANT, (t), (ip), 0, (ok), 0 }
#define L(t, ip, res, mac)	{ LOOKUP, (t), (ip), (mac), (res), 0 }
#define LEARN_(t, ip, mac, rc)	{ LEARN, (t), (ip), (mac), (rc), 0 }
#define UPD(t, ip, mac, ok)	{ UPDATE, (t), (ip), (mac), (ok), 0 }
#define TK(t, ip, req, fail)	{ TICK, (t), (ip), 0, (req), (fail) }
#define ST(t, ip, st)		{ STATE, (t), (ip), 0, (st), 0 }
#define STATS(which, n)		{ STAT, 0, 0, (which), (n), 0 }
/* clang-format on */

static const struct scenario scenarios[] = {
	{ "retry schedule: every second, three requests, failed, hold-down, afresh",
	  16,
	  { W(T0, IP_A, true),
	    ST(T0, IP_A, CP_ARP_ST_INCOMPLETE),
	    L(T0, IP_A, CP_ARP_PENDING, 0),
	    W(T0 + 500 * MS, IP_A, false), /* one on its way */
	    TK(T0 + 999 * MS, IP_A, 0, 0),
	    TK(T0 + 1 * S, IP_A, 1, 0), /* second request */
	    W(T0 + 1 * S + 1, IP_A, false),
	    TK(T0 + 1500 * MS, IP_A, 0, 0),
	    TK(T0 + 2 * S, IP_A, 1, 0), /* third */
	    TK(T0 + 3 * S - 1, IP_A, 0, 0),
	    W(T0 + 3 * S, IP_A, false), /* out of requests: not another */
	    L(T0 + 3 * S, IP_A, CP_ARP_PENDING, 0),
	    TK(T0 + 3 * S, IP_A, 0, 1), /* failed, 1 s after the third */
	    ST(T0 + 3 * S, IP_A, CP_ARP_ST_FAILED),
	    L(T0 + 3500 * MS, IP_A, CP_ARP_FAILED, 0),
	    W(T0 + 3500 * MS, IP_A, false), /* hold-down: 1 s, one retry interval */
	    TK(T0 + 4 * S - 1, IP_A, 0, 0),
	    ST(T0 + 4 * S - 1, IP_A, CP_ARP_ST_FAILED),
	    ST(T0 + 4 * S, IP_A, CP_ARP_ST_NONE),
	    L(T0 + 4 * S, IP_A, CP_ARP_MISS, 0),
	    W(T0 + 4 * S, IP_A, true), /* afresh */
	    TK(T0 + 5 * S, IP_A, 1, 0),
	    STATS(ST_REQUESTS, 5),
	    STATS(ST_FAILED, 1),
	    STATS(ST_ENTRIES, 1),
	    { END, 0, 0, 0, 0, 0 } } },
	{ "retries sent by want; the hold-down over, tick drops the entry",
	  16,
	  { W(T0, IP_A, true),
	    W(T0 + 1 * S, IP_A, true),
	    W(T0 + 1 * S, IP_A, false),
	    TK(T0 + 1 * S, IP_A, 0, 0), /* want sent it */
	    W(T0 + 2 * S, IP_A, true),
	    W(T0 + 3 * S, IP_A, false),
	    TK(T0 + 3 * S + 5 * MS, IP_A, 0, 1),
	    TK(T0 + 4 * S + 5 * MS, 0, 0, 0),
	    STATS(ST_ENTRIES, 0),
	    STATS(ST_REQUESTS, 3),
	    { END, 0, 0, 0, 0, 0 } } },
	{ "a neighbour silent through an outage: its probe fails, and one retry interval later the "
	  "next use asks afresh (a 20 s hold-down kept it unreachable after the link was back)",
	  16,
	  { LEARN_(T0, IP_A, 0, 0),
	    W(T0 + 61 * S, IP_A, true), /* stale: probe */
	    ST(T0 + 61 * S, IP_A, CP_ARP_ST_PROBE),
	    TK(T0 + 62 * S, IP_A, 1, 0),
	    TK(T0 + 63 * S, IP_A, 1, 0),
	    TK(T0 + 64 * S, IP_A, 0, 1), /* no answer: failed */
	    L(T0 + 64 * S, IP_A, CP_ARP_FAILED, 0),
	    W(T0 + 64500 * MS, IP_A, false),
	    L(T0 + 65 * S, IP_A, CP_ARP_MISS, 0), /* the link is back: the next dial asks */
	    W(T0 + 65 * S, IP_A, true),
	    LEARN_(T0 + 65 * S + 1, IP_A, 2, 0),
	    L(T0 + 65 * S + 1, IP_A, CP_ARP_FOUND, 2),
	    STATS(ST_REQUESTS, 4),
	    STATS(ST_FAILED, 1),
	    { END, 0, 0, 0, 0, 0 } } },
	{ "resolved: the reply ends the retries",
	  16,
	  { W(T0, IP_A, true),
	    LEARN_(T0 + 200 * MS, IP_A, 1, 0),
	    L(T0 + 200 * MS, IP_A, CP_ARP_FOUND, 1),
	    TK(T0 + 1 * S, IP_A, 0, 0),
	    TK(T0 + 5 * S, IP_A, 0, 0),
	    W(T0 + 5 * S, IP_A, false), /* fresh */
	    ST(T0 + 5 * S, IP_A, CP_ARP_ST_REACHABLE),
	    STATS(ST_REQUESTS, 1),
	    STATS(ST_LEARNED, 0), /* it existed (INCOMPLETE) */
	    STATS(ST_REFRESHED, 1),
	    STATS(ST_CHANGED, 0),
	    { END, 0, 0, 0, 0, 0 } } },
	{ "expiry: stale after 60 s, still used, probed on next use",
	  16,
	  { LEARN_(T0, IP_A, 0, 0),
	    ST(T0 + 60 * S - 1, IP_A, CP_ARP_ST_REACHABLE),
	    ST(T0 + 60 * S, IP_A, CP_ARP_ST_STALE),
	    TK(T0 + 60 * S, 0, 0, 0), /* expiry sends nothing by itself */
	    STATS(ST_EXPIRED, 1),
	    L(T0 + 70 * S, IP_A, CP_ARP_FOUND, 0),
	    W(T0 + 70 * S, IP_A, true), /* probe */
	    ST(T0 + 70 * S, IP_A, CP_ARP_ST_PROBE),
	    L(T0 + 70 * S, IP_A, CP_ARP_FOUND, 0), /* used while probing */
	    W(T0 + 70 * S + 500 * MS, IP_A, false),
	    TK(T0 + 71 * S, IP_A, 1, 0),
	    LEARN_(T0 + 71 * S + 1, IP_A, 0, 0), /* confirmed */
	    ST(T0 + 72 * S, IP_A, CP_ARP_ST_REACHABLE),
	    TK(T0 + 72 * S, 0, 0, 0),
	    ST(T0 + 131 * S + 1, IP_A, CP_ARP_ST_STALE),
	    W(T0 + 200 * S, IP_A, true), /* probe again, nobody answers */
	    TK(T0 + 201 * S, IP_A, 1, 0),
	    TK(T0 + 202 * S, IP_A, 1, 0),
	    L(T0 + 202 * S, IP_A, CP_ARP_FOUND, 0),
	    TK(T0 + 203 * S, IP_A, 0, 1),
	    L(T0 + 203 * S, IP_A, CP_ARP_FAILED, 0),
	    STATS(ST_REQUESTS, 5),
	    STATS(ST_EXPIRED, 2),
	    { END, 0, 0, 0, 0, 0 } } },
	{ "LRU: a full cache evicts the least recently used",
	  3,
	  { LEARN_(T0, IP_A, 0, 0),
	    LEARN_(T0 + 1, IP_B, 1, 0),
	    LEARN_(T0 + 2, IP_C, 2, 0),
	    L(T0 + 3, IP_A, CP_ARP_FOUND, 0), /* A used: B is the oldest now */
	    LEARN_(T0 + 4, IP_D, 1, 0),
	    ST(T0 + 4, IP_B, CP_ARP_ST_NONE),
	    L(T0 + 5, IP_A, CP_ARP_FOUND, 0),
	    L(T0 + 5, IP_D, CP_ARP_FOUND, 1),
	    W(T0 + 6, IP_E, true), /* C is the oldest */
	    ST(T0 + 6, IP_C, CP_ARP_ST_NONE),
	    W(T0 + 7, IP_A, false), /* a want is a use too */
	    W(T0 + 8, IP_B, true),  /* D goes */
	    ST(T0 + 8, IP_D, CP_ARP_ST_NONE),
	    ST(T0 + 8, IP_A, CP_ARP_ST_REACHABLE),
	    STATS(ST_EVICTED, 3),
	    STATS(ST_ENTRIES, 3),
	    { END, 0, 0, 0, 0, 0 } } },
	{ "learning: requests to us create, the merge rule only refreshes",
	  16,
	  { LEARN_(T0, IP_A, 0, 0), /* a request for our address from A */
	    L(T0, IP_A, CP_ARP_FOUND, 0),
	    UPD(T0 + 1, IP_B, 1, false), /* gratuitous ARP from B: unknown, ignored */
	    ST(T0 + 1, IP_B, CP_ARP_ST_NONE),
	    UPD(T0 + 2, IP_A, 2, true), /* A moved */
	    L(T0 + 2, IP_A, CP_ARP_FOUND, 2),
	    W(T0 + 3, IP_C, true),
	    UPD(T0 + 4, IP_C, 1, true), /* C announced itself while we asked */
	    L(T0 + 4, IP_C, CP_ARP_FOUND, 1),
	    STATS(ST_LEARNED, 1),
	    STATS(ST_REFRESHED, 2),
	    STATS(ST_CHANGED, 1),
	    { END, 0, 0, 0, 0, 0 } } },
	{ "rejected: address 0, MACs zero, multicast, broadcast",
	  16,
	  { LEARN_(T0, 0, 0, -EINVAL),
	    LEARN_(T0, IP_A, 3, -EINVAL),
	    LEARN_(T0, IP_A, 4, -EINVAL),
	    LEARN_(T0, IP_A, 5, -EINVAL),
	    UPD(T0, IP_A, 3, false),
	    W(T0, 0, false),
	    STATS(ST_ENTRIES, 0),
	    { END, 0, 0, 0, 0, 0 } } },
};

static void
run_step(struct cp_arp *arp, const struct step *s, const char *name, int k)
{
	uint8_t mac[CP_ARP_MAC_LEN] = { 0 };
	struct ev_log log = { 0 };
	bool ok = true;

	switch (s->op) {
	case WANT:
		ok = cp_arp_want(arp, s->ip, s->t) == (bool)s->expect;
		break;
	case LOOKUP:
		ok = (int)cp_arp_lookup(arp, s->ip, s->t, mac) == s->expect &&
		     (s->expect != CP_ARP_FOUND || memcmp(mac, macs[s->mac], sizeof(mac)) == 0);
		break;
	case LEARN:
		ok = cp_arp_learn(arp, s->ip, macs[s->mac], s->t) == s->expect;
		break;
	case UPDATE:
		ok = cp_arp_update(arp, s->ip, macs[s->mac], s->t) == (bool)s->expect;
		break;
	case TICK:
		ok = cp_arp_tick(arp, s->t, on_event, &log) == (unsigned int)s->expect &&
		     log.n_req == (unsigned int)s->expect && log.n_fail == (unsigned int)s->fail;
		for (unsigned int i = 0; i < log.n; i++)
			ok = ok && log.ips[i] == s->ip;
		break;
	case STATE:
		ok = (int)cp_arp_state(arp, s->ip, s->t) == s->expect;
		break;
	case STAT:
		ok = stat_of(arp, s->mac) == (uint64_t)s->expect;
		break;
	case END:
		break;
	}
	if (!ok)
		printf("\n  \"%s\" step %d (op %d at T0%+lld ms) failed", name, k, s->op,
		       s->t == 0 ? 0 : (long long)(s->t - T0) / (long long)MS);
	CU_ASSERT(ok);
}

static void
test_scenarios(void)
{
	for (size_t i = 0; i < RTE_DIM(scenarios); i++) {
		const struct scenario *sc = &scenarios[i];
		struct cp_arp_conf conf;
		struct cp_arp *arp;

		cp_arp_conf_init(&conf);
		conf.capacity = sc->capacity;
		arp = cp_arp_create(&conf);
		CU_ASSERT_PTR_NOT_NULL_FATAL(arp);
		for (int k = 0; sc->steps[k].op != END; k++)
			run_step(arp, &sc->steps[k], sc->name, k);
		cp_arp_destroy(arp);
	}
}

static void
test_create(void)
{
	struct cp_arp_conf conf, bad[6];
	struct cp_arp *arp;

	cp_arp_conf_init(&conf);
	CU_ASSERT(conf.capacity == CP_ARP_CAPACITY_DEFAULT && conf.retry_ns == CP_ARP_RETRY_NS);
	CU_ASSERT(conf.max_requests == CP_ARP_MAX_REQUESTS &&
		  conf.reachable_ns == CP_ARP_REACHABLE_NS &&
		  conf.failed_hold_ns == CP_ARP_FAILED_HOLD_NS);
	for (size_t i = 0; i < RTE_DIM(bad); i++)
		bad[i] = conf;
	bad[0].capacity = 0;
	bad[1].capacity = CP_ARP_MAX_CAPACITY + 1;
	bad[2].retry_ns = 0;
	bad[3].max_requests = 0;
	bad[4].max_requests = 256;
	bad[5].reachable_ns = 0;
	for (size_t i = 0; i < RTE_DIM(bad); i++) {
		errno = 0;
		CU_ASSERT_PTR_NULL(cp_arp_create(&bad[i]));
		CU_ASSERT_EQUAL(errno, EINVAL);
	}
	arp = cp_arp_create(NULL);
	CU_ASSERT_PTR_NOT_NULL(arp);
	CU_ASSERT_STRING_EQUAL(cp_arp_state_name(CP_ARP_ST_PROBE), "probe");
	CU_ASSERT_STRING_EQUAL(cp_arp_state_name((enum cp_arp_state)99), "unknown");
	cp_arp_destroy(arp);
	cp_arp_destroy(NULL);
}

static void
collect(void *ctx, uint32_t ip, const uint8_t mac[CP_ARP_MAC_LEN], enum cp_arp_state st)
{
	uint32_t *out = ctx;

	(void)mac;
	(void)st;
	out[++out[0]] = ip;
}

static void
test_foreach_order(void)
{
	struct cp_arp *arp = cp_arp_create(NULL);
	uint32_t seen[8] = { 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(arp);
	CU_ASSERT_EQUAL(cp_arp_learn(arp, IP_A, macs[0], T0), 0);
	CU_ASSERT_EQUAL(cp_arp_learn(arp, IP_B, macs[1], T0), 0);
	CU_ASSERT(cp_arp_want(arp, IP_C, T0));
	CU_ASSERT_EQUAL(cp_arp_lookup(arp, IP_A, T0, NULL), CP_ARP_FOUND);
	cp_arp_foreach(arp, T0, collect, seen);
	CU_ASSERT(seen[0] == 3 && seen[1] == IP_A && seen[2] == IP_C && seen[3] == IP_B);
	cp_arp_destroy(arp);
}

/* --- random run against a naive reference -------------------------------------------------- */

#define REF_CAP 16
#define REF_IPS 40

struct ref_entry {
	bool used;
	uint32_t ip;
	uint8_t mac[CP_ARP_MAC_LEN];
	enum cp_arp_state state;
	unsigned int requests;
	uint64_t deadline;
	uint64_t last_use;
};

struct ref {
	struct cp_arp_conf conf;
	struct ref_entry e[REF_CAP];
	uint64_t clock; /* use counter */
};

static struct ref_entry *
ref_find(struct ref *r, uint32_t ip)
{
	for (int i = 0; i < REF_CAP; i++)
		if (r->e[i].used && r->e[i].ip == ip)
			return &r->e[i];
	return NULL;
}

/* A free slot, or the least recently used entry. */
static struct ref_entry *
ref_insert(struct ref *r, uint32_t ip)
{
	struct ref_entry *victim = &r->e[0];

	for (int i = 0; i < REF_CAP; i++) {
		if (!r->e[i].used) {
			victim = &r->e[i];
			break;
		}
		if (r->e[i].last_use < victim->last_use)
			victim = &r->e[i];
	}
	memset(victim, 0, sizeof(*victim));
	victim->used = true;
	victim->ip = ip;
	victim->state = CP_ARP_ST_NONE;
	victim->last_use = ++r->clock;
	return victim;
}

static uint32_t
ref_entries(const struct ref *r)
{
	uint32_t n = 0;

	for (int i = 0; i < REF_CAP; i++)
		n += r->e[i].used;
	return n;
}

static enum cp_arp_state
ref_state(const struct ref_entry *e, uint64_t now)
{
	if (e == NULL)
		return CP_ARP_ST_NONE;
	if (e->state == CP_ARP_ST_REACHABLE && now >= e->deadline)
		return CP_ARP_ST_STALE;
	if (e->state == CP_ARP_ST_FAILED && now >= e->deadline)
		return CP_ARP_ST_NONE;
	return e->state;
}

static void
ref_send(struct ref *r, struct ref_entry *e, enum cp_arp_state st, unsigned int n, uint64_t now)
{
	e->state = st;
	e->requests = n;
	e->deadline = now + r->conf.retry_ns;
}

static bool
ref_want(struct ref *r, uint32_t ip, uint64_t now)
{
	struct ref_entry *e;

	if (ip == 0)
		return false;
	e = ref_find(r, ip);
	if (e == NULL)
		e = ref_insert(r, ip);
	e->last_use = ++r->clock;
	switch (ref_state(e, now)) {
	case CP_ARP_ST_NONE:
		ref_send(r, e, CP_ARP_ST_INCOMPLETE, 1, now);
		return true;
	case CP_ARP_ST_STALE:
		ref_send(r, e, CP_ARP_ST_PROBE, 1, now);
		return true;
	case CP_ARP_ST_INCOMPLETE:
	case CP_ARP_ST_PROBE:
		if (now < e->deadline || e->requests >= r->conf.max_requests)
			return false;
		ref_send(r, e, e->state, e->requests + 1, now);
		return true;
	default:
		return false;
	}
}

static enum cp_arp_result
ref_lookup(struct ref *r, uint32_t ip, uint64_t now, uint8_t *mac)
{
	struct ref_entry *e = ref_find(r, ip);

	switch (ref_state(e, now)) {
	case CP_ARP_ST_REACHABLE:
	case CP_ARP_ST_STALE:
	case CP_ARP_ST_PROBE:
		e->last_use = ++r->clock;
		memcpy(mac, e->mac, CP_ARP_MAC_LEN);
		return CP_ARP_FOUND;
	case CP_ARP_ST_INCOMPLETE:
		return CP_ARP_PENDING;
	case CP_ARP_ST_FAILED:
		return CP_ARP_FAILED;
	default:
		return CP_ARP_MISS;
	}
}

static int
ref_learn(struct ref *r, uint32_t ip, const uint8_t *mac, uint64_t now, bool create)
{
	struct ref_entry *e;

	if (ip == 0 || (mac[0] & 1) || memcmp(mac, macs[4], CP_ARP_MAC_LEN) == 0)
		return -EINVAL;
	e = ref_find(r, ip);
	if (e == NULL && !create)
		return -ENOENT;
	if (e == NULL)
		e = ref_insert(r, ip);
	e->last_use = ++r->clock;
	e->state = CP_ARP_ST_REACHABLE;
	e->requests = 0;
	e->deadline = now + r->conf.reachable_ns;
	memcpy(e->mac, mac, CP_ARP_MAC_LEN);
	return 0;
}

static void
ref_tick(struct ref *r, uint64_t now, struct ev_log *log)
{
	for (int i = 0; i < REF_CAP; i++) {
		struct ref_entry *e = &r->e[i];
		enum cp_arp_state st = e->used ? ref_state(e, now) : CP_ARP_ST_NONE;

		if (e->used && st == CP_ARP_ST_NONE)
			e->used = false;
		if ((st != CP_ARP_ST_INCOMPLETE && st != CP_ARP_ST_PROBE) || now < e->deadline)
			continue;
		if (e->requests < r->conf.max_requests) {
			ref_send(r, e, st, e->requests + 1, now);
			on_event(log, e->ip, CP_ARP_EV_REQUEST);
		} else {
			e->state = CP_ARP_ST_FAILED;
			e->deadline = now + r->conf.failed_hold_ns;
			on_event(log, e->ip, CP_ARP_EV_FAILED);
		}
	}
}

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return (a > b) - (a < b);
}

static bool
same_events(struct ev_log *x, struct ev_log *y)
{
	qsort(x->ips, x->n, sizeof(x->ips[0]), cmp_u32);
	qsort(y->ips, y->n, sizeof(y->ips[0]), cmp_u32);
	return x->n_req == y->n_req && x->n_fail == y->n_fail && x->n == y->n &&
	       memcmp(x->ips, y->ips, x->n * sizeof(x->ips[0])) == 0;
}

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* One random operation on both; false on the first disagreement. */
static bool
random_op(struct cp_arp *arp, struct ref *r, uint64_t now)
{
	uint32_t ip = rnd() % 50 == 0 ? 0 : 0xc6120000u + (uint32_t)(rnd() % REF_IPS);
	const uint8_t *mac = macs[rnd() % RTE_DIM(macs)];
	uint8_t m1[CP_ARP_MAC_LEN], m2[CP_ARP_MAC_LEN];
	struct ev_log l1 = { 0 }, l2 = { 0 };
	unsigned int op = (unsigned int)(rnd() % 100);
	enum cp_arp_result r1;

	if (op < 30)
		return cp_arp_want(arp, ip, now) == ref_want(r, ip, now);
	if (op < 55) {
		r1 = cp_arp_lookup(arp, ip, now, m1);
		return r1 == ref_lookup(r, ip, now, m2) &&
		       (r1 != CP_ARP_FOUND || memcmp(m1, m2, sizeof(m1)) == 0);
	}
	if (op < 70)
		return cp_arp_learn(arp, ip, mac, now) == ref_learn(r, ip, mac, now, true);
	if (op < 80)
		return cp_arp_update(arp, ip, mac, now) == (ref_learn(r, ip, mac, now, false) == 0);
	ref_tick(r, now, &l2);
	return cp_arp_tick(arp, now, on_event, &l1) == l2.n_req && same_events(&l1, &l2);
}

static void
test_random_vs_reference(void)
{
	struct cp_arp_stats st;
	struct cp_arp *arp;
	struct ref r;
	uint64_t now = T0;
	unsigned int bad = 0;

	memset(&r, 0, sizeof(r));
	cp_arp_conf_init(&r.conf);
	r.conf.capacity = REF_CAP;
	r.conf.reachable_ns = 10 * S; /* short, so every state is visited often */
	r.conf.failed_hold_ns = 5 * S;
	arp = cp_arp_create(&r.conf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(arp);
	for (int i = 0; i < 200000 && bad < 5; i++) {
		now += rnd() % 4 == 0 ? rnd() % (3 * S) : rnd() % (50 * MS);
		if (!random_op(arp, &r, now)) {
			printf("\n  op %d disagrees with the reference", i);
			bad++;
		}
		if (stat_of(arp, ST_ENTRIES) != ref_entries(&r)) {
			printf("\n  op %d: entries disagree", i);
			bad++;
		}
		for (uint32_t k = 0; k < REF_IPS; k += 7) {
			uint32_t ip = 0xc6120000u + k;

			if (cp_arp_state(arp, ip, now) != ref_state(ref_find(&r, ip), now)) {
				printf("\n  op %d: state of .%u disagrees", i, k);
				bad++;
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	cp_arp_get_stats(arp, &st);
	printf("\n  requests %lu, learned %lu, refreshed %lu, expired %lu, failed %lu, evicted "
	       "%lu ",
	       (unsigned long)st.requests, (unsigned long)st.learned, (unsigned long)st.refreshed,
	       (unsigned long)st.expired, (unsigned long)st.failed, (unsigned long)st.evicted);
	CU_ASSERT(st.requests > 0 && st.learned > 0 && st.refreshed > 0 && st.expired > 0 &&
		  st.failed > 0 && st.evicted > 0);
	cp_arp_destroy(arp);
}

static CU_TestInfo cases[] = {
	{ "scenarios on an injected clock", test_scenarios },
	{ "create: defaults and rejected configurations", test_create },
	{ "foreach: most recently used first", test_foreach_order },
	{ "random run against a naive reference", test_random_vs_reference },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("arp", cases)
