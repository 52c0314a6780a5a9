/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the ARP cache (see cp_arp.h).
 *
 * Layout as in cp_ratelimit.c: a power-of-two array of chain heads keyed by SipHash of the
 * address under a random key (ARP senders choose their addresses: no chain can be aimed at),
 * and a pool of `capacity` entries, each either on a hash chain and the recency list, or on
 * the free list. Links are 32-bit pool indices, NIL ending a list.
 *
 * Time: expiry (REACHABLE -> STALE) and the end of a hold-down are honoured by every call as of
 * its now_ns; retries may be sent by cp_arp_want() or cp_arp_tick(), whichever comes first
 * once due; failures are declared only by cp_arp_tick(), which is the one that can tell.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cp_arp.h"

#define NIL UINT32_MAX

static_assert(CP_ARP_MAX_CAPACITY < NIL, "pool indices fit below NIL");

struct arp_entry {
	uint64_t deadline_ns; /* INCOMPLETE/PROBE: next request (or failure); REACHABLE: expiry;
				 FAILED: end of the hold-down */
	uint32_t ip;
	uint8_t mac[CP_ARP_MAC_LEN];
	uint8_t state;	  /* enum cp_arp_state */
	uint8_t requests; /* sent in this resolution */
	uint32_t chain;	  /* next in the hash chain, or in the free list */
	uint32_t older, newer;
};

struct cp_arp {
	struct cp_arp_conf conf;
	uint32_t mask; /* chain heads - 1 */
	uint32_t free;
	uint32_t oldest, newest;
	uint32_t *heads;
	struct arp_entry *pool;
	struct cp_arp_stats stats;
	uint8_t key[crypto_shorthash_KEYBYTES];
};

void
cp_arp_conf_init(struct cp_arp_conf *conf)
{
	conf->capacity = CP_ARP_CAPACITY_DEFAULT;
	conf->retry_ns = CP_ARP_RETRY_NS;
	conf->max_requests = CP_ARP_MAX_REQUESTS;
	conf->reachable_ns = CP_ARP_REACHABLE_NS;
	conf->failed_hold_ns = CP_ARP_FAILED_HOLD_NS;
}

static bool
conf_valid(const struct cp_arp_conf *c)
{
	return c->capacity >= 1 && c->capacity <= CP_ARP_MAX_CAPACITY && c->retry_ns > 0 &&
	       c->max_requests >= 1 && c->max_requests <= UINT8_MAX && c->reachable_ns > 0;
}

struct cp_arp *
cp_arp_create(const struct cp_arp_conf *conf)
{
	struct cp_arp_conf defaults;
	struct cp_arp *arp;
	uint32_t heads = 1;

	if (conf == NULL) {
		cp_arp_conf_init(&defaults);
		conf = &defaults;
	}
	if (!conf_valid(conf)) {
		errno = EINVAL;
		return NULL;
	}
	while (heads < conf->capacity)
		heads <<= 1;
	arp = calloc(1, sizeof(*arp));
	if (arp == NULL)
		goto nomem;
	arp->conf = *conf;
	arp->mask = heads - 1;
	arp->heads = malloc((size_t)heads * sizeof(*arp->heads));
	arp->pool = calloc(conf->capacity, sizeof(*arp->pool));
	if (arp->heads == NULL || arp->pool == NULL)
		goto nomem;
	memset(arp->heads, 0xff, (size_t)heads * sizeof(*arp->heads)); /* all NIL */
	for (uint32_t i = 0; i < conf->capacity; i++)
		arp->pool[i].chain = i + 1 < conf->capacity ? i + 1 : NIL;
	arp->free = 0;
	arp->oldest = arp->newest = NIL;
	randombytes_buf(arp->key, sizeof(arp->key));
	return arp;
nomem:
	cp_arp_destroy(arp);
	errno = ENOMEM;
	return NULL;
}

void
cp_arp_destroy(struct cp_arp *arp)
{
	if (arp == NULL)
		return;
	free(arp->heads);
	free(arp->pool);
	free(arp);
}

/* --- table -------------------------------------------------------------------------------- */

static uint32_t *
head_of(const struct cp_arp *arp, uint32_t ip)
{
	uint8_t in[4] = { (uint8_t)(ip >> 24), (uint8_t)(ip >> 16), (uint8_t)(ip >> 8),
			  (uint8_t)ip };
	uint8_t out[crypto_shorthash_BYTES];
	uint32_t h;

	crypto_shorthash(out, in, sizeof(in), arp->key);
	memcpy(&h, out, sizeof(h));
	return &arp->heads[h & arp->mask];
}

static uint32_t
find(const struct cp_arp *arp, uint32_t ip)
{
	uint32_t i = *head_of(arp, ip);

	while (i != NIL && arp->pool[i].ip != ip)
		i = arp->pool[i].chain;
	return i;
}

static void
lru_unlink(struct cp_arp *arp, uint32_t i)
{
	struct arp_entry *e = &arp->pool[i];

	if (e->older != NIL)
		arp->pool[e->older].newer = e->newer;
	else
		arp->oldest = e->newer;
	if (e->newer != NIL)
		arp->pool[e->newer].older = e->older;
	else
		arp->newest = e->older;
}

static void
lru_push(struct cp_arp *arp, uint32_t i)
{
	struct arp_entry *e = &arp->pool[i];

	e->older = arp->newest;
	e->newer = NIL;
	if (arp->newest != NIL)
		arp->pool[arp->newest].newer = i;
	else
		arp->oldest = i;
	arp->newest = i;
}

static void
touch(struct cp_arp *arp, uint32_t i)
{
	if (arp->newest != i) {
		lru_unlink(arp, i);
		lru_push(arp, i);
	}
}

static void
remove_entry(struct cp_arp *arp, uint32_t i)
{
	uint32_t *link = head_of(arp, arp->pool[i].ip);

	while (*link != i)
		link = &arp->pool[*link].chain;
	*link = arp->pool[i].chain;
	lru_unlink(arp, i);
	arp->pool[i].chain = arp->free;
	arp->free = i;
	arp->stats.entries--;
}

/* A new entry for ip, the least recently used one evicted if the cache is full. */
static uint32_t
insert(struct cp_arp *arp, uint32_t ip)
{
	uint32_t i, *head;

	if (arp->free == NIL) {
		remove_entry(arp, arp->oldest);
		arp->stats.evicted++;
	}
	i = arp->free;
	arp->free = arp->pool[i].chain;
	memset(&arp->pool[i], 0, sizeof(arp->pool[i]));
	arp->pool[i].ip = ip;
	head = head_of(arp, ip);
	arp->pool[i].chain = *head;
	*head = i;
	lru_push(arp, i);
	arp->stats.entries++;
	return i;
}

/* --- states ------------------------------------------------------------------------------- */

/* The state as of now: expiry and hold-downs are a matter of time alone. */
static enum cp_arp_state
effective(const struct arp_entry *e, uint64_t now_ns)
{
	if (e->state == CP_ARP_ST_REACHABLE && now_ns >= e->deadline_ns)
		return CP_ARP_ST_STALE;
	if (e->state == CP_ARP_ST_FAILED && now_ns >= e->deadline_ns)
		return CP_ARP_ST_NONE;
	return (enum cp_arp_state)e->state;
}

/* Bring e up to now (expiry is counted once, where it happens). */
static enum cp_arp_state
age(struct cp_arp *arp, struct arp_entry *e, uint64_t now_ns)
{
	enum cp_arp_state st = effective(e, now_ns);

	if (st == CP_ARP_ST_STALE && e->state == CP_ARP_ST_REACHABLE)
		arp->stats.expired++;
	if (st != CP_ARP_ST_NONE)
		e->state = (uint8_t)st;
	return st;
}

/* Send a request now (the first or a retry) and wait retry_ns for the next. */
static void
request(struct cp_arp *arp, struct arp_entry *e, enum cp_arp_state st, uint64_t now_ns)
{
	e->state = (uint8_t)st;
	e->requests++;
	e->deadline_ns = now_ns + arp->conf.retry_ns;
	arp->stats.requests++;
}

static bool
mac_ok(const uint8_t mac[CP_ARP_MAC_LEN])
{
	static const uint8_t zero[CP_ARP_MAC_LEN];

	return (mac[0] & 0x01) == 0 && memcmp(mac, zero, sizeof(zero)) != 0; /* unicast */
}

static void
confirm(struct cp_arp *arp, struct arp_entry *e, const uint8_t mac[CP_ARP_MAC_LEN], uint64_t now_ns)
{
	e->state = CP_ARP_ST_REACHABLE;
	e->requests = 0;
	e->deadline_ns = now_ns + arp->conf.reachable_ns;
	memcpy(e->mac, mac, CP_ARP_MAC_LEN);
}

/* --- API ---------------------------------------------------------------------------------- */

enum cp_arp_result
cp_arp_lookup(struct cp_arp *arp, uint32_t ip, uint64_t now_ns, uint8_t mac[CP_ARP_MAC_LEN])
{
	uint32_t i = find(arp, ip);

	if (i == NIL)
		return CP_ARP_MISS;
	switch (age(arp, &arp->pool[i], now_ns)) {
	case CP_ARP_ST_REACHABLE:
	case CP_ARP_ST_STALE:
	case CP_ARP_ST_PROBE:
		touch(arp, i);
		if (mac != NULL)
			memcpy(mac, arp->pool[i].mac, CP_ARP_MAC_LEN);
		return CP_ARP_FOUND;
	case CP_ARP_ST_INCOMPLETE:
		return CP_ARP_PENDING;
	case CP_ARP_ST_FAILED:
		return CP_ARP_FAILED;
	case CP_ARP_ST_NONE:
		break;
	}
	return CP_ARP_MISS;
}

bool
cp_arp_want(struct cp_arp *arp, uint32_t ip, uint64_t now_ns)
{
	uint32_t i;
	struct arp_entry *e;

	if (ip == 0)
		return false;
	i = find(arp, ip);
	if (i == NIL)
		i = insert(arp, ip);
	e = &arp->pool[i];
	touch(arp, i);
	switch (e->state == CP_ARP_ST_NONE ? CP_ARP_ST_NONE : age(arp, e, now_ns)) {
	case CP_ARP_ST_NONE: /* new, or a hold-down is over: start afresh */
		e->requests = 0;
		request(arp, e, CP_ARP_ST_INCOMPLETE, now_ns);
		return true;
	case CP_ARP_ST_STALE:
		e->requests = 0;
		request(arp, e, CP_ARP_ST_PROBE, now_ns);
		return true;
	case CP_ARP_ST_INCOMPLETE:
	case CP_ARP_ST_PROBE:
		if (now_ns < e->deadline_ns || e->requests >= arp->conf.max_requests)
			return false; /* not due, or out of requests: cp_arp_tick() fails it */
		request(arp, e, (enum cp_arp_state)e->state, now_ns);
		return true;
	case CP_ARP_ST_REACHABLE:
	case CP_ARP_ST_FAILED:
		break;
	}
	return false;
}

static int
learn(struct cp_arp *arp, uint32_t ip, const uint8_t mac[CP_ARP_MAC_LEN], uint64_t now_ns,
      bool create)
{
	uint32_t i;
	struct arp_entry *e;

	if (ip == 0 || !mac_ok(mac))
		return -EINVAL;
	i = find(arp, ip);
	if (i == NIL && !create)
		return -ENOENT;
	if (i == NIL) {
		i = insert(arp, ip);
		arp->stats.learned++;
	} else {
		e = &arp->pool[i];
		arp->stats.refreshed++;
		if (e->state != CP_ARP_ST_INCOMPLETE && e->state != CP_ARP_ST_FAILED &&
		    memcmp(e->mac, mac, CP_ARP_MAC_LEN) != 0)
			arp->stats.mac_changed++;
		touch(arp, i);
	}
	confirm(arp, &arp->pool[i], mac, now_ns);
	return 0;
}

int
cp_arp_learn(struct cp_arp *arp, uint32_t ip, const uint8_t mac[CP_ARP_MAC_LEN], uint64_t now_ns)
{
	return learn(arp, ip, mac, now_ns, true);
}

bool
cp_arp_update(struct cp_arp *arp, uint32_t ip, const uint8_t mac[CP_ARP_MAC_LEN], uint64_t now_ns)
{
	return learn(arp, ip, mac, now_ns, false) == 0;
}

/* One entry's timers; returns whether a request was asked for. Drops a finished hold-down. */
static bool
tick_one(struct cp_arp *arp, uint32_t i, uint64_t now_ns,
	 void (*cb)(void *ctx, uint32_t ip, enum cp_arp_event ev), void *ctx)
{
	struct arp_entry *e = &arp->pool[i];
	enum cp_arp_state st = age(arp, e, now_ns);

	if (st == CP_ARP_ST_NONE) {
		remove_entry(arp, i);
		return false;
	}
	if ((st != CP_ARP_ST_INCOMPLETE && st != CP_ARP_ST_PROBE) || now_ns < e->deadline_ns)
		return false;
	if (e->requests < arp->conf.max_requests) {
		request(arp, e, st, now_ns);
		if (cb != NULL)
			cb(ctx, e->ip, CP_ARP_EV_REQUEST);
		return true;
	}
	e->state = CP_ARP_ST_FAILED;
	e->deadline_ns = now_ns + arp->conf.failed_hold_ns;
	arp->stats.failed++;
	if (cb != NULL)
		cb(ctx, e->ip, CP_ARP_EV_FAILED);
	return false;
}

unsigned int
cp_arp_tick(struct cp_arp *arp, uint64_t now_ns,
	    void (*cb)(void *ctx, uint32_t ip, enum cp_arp_event ev), void *ctx)
{
	unsigned int asked = 0;
	uint32_t i = arp->oldest, next;

	for (; i != NIL; i = next) {
		next = arp->pool[i].newer; /* tick_one may free i; it never reorders */
		asked += tick_one(arp, i, now_ns, cb, ctx);
	}
	return asked;
}

enum cp_arp_state
cp_arp_state(const struct cp_arp *arp, uint32_t ip, uint64_t now_ns)
{
	uint32_t i = find(arp, ip);

	return i == NIL ? CP_ARP_ST_NONE : effective(&arp->pool[i], now_ns);
}

void
cp_arp_foreach(const struct cp_arp *arp, uint64_t now_ns,
	       void (*fn)(void *ctx, uint32_t ip, const uint8_t mac[CP_ARP_MAC_LEN],
			  enum cp_arp_state st),
	       void *ctx)
{
	for (uint32_t i = arp->newest; i != NIL; i = arp->pool[i].older) {
		const struct arp_entry *e = &arp->pool[i];
		enum cp_arp_state st = effective(e, now_ns);

		if (st != CP_ARP_ST_NONE)
			fn(ctx, e->ip, e->mac, st);
	}
}

const char *
cp_arp_state_name(enum cp_arp_state st)
{
	static const char *const names[] = {
		[CP_ARP_ST_NONE] = "none",	     [CP_ARP_ST_INCOMPLETE] = "incomplete",
		[CP_ARP_ST_REACHABLE] = "reachable", [CP_ARP_ST_STALE] = "stale",
		[CP_ARP_ST_PROBE] = "probe",	     [CP_ARP_ST_FAILED] = "failed",
	};

	return (unsigned int)st < RTE_DIM(names) ? names[st] : "unknown";
}

void
cp_arp_get_stats(const struct cp_arp *arp, struct cp_arp_stats *st)
{
	*st = arp->stats;
}
