/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the ARP cache (see cp_arp.h).
 *
 * The entries live in an sl_lru table keyed by the address under SipHash with a random seed
 * (ARP senders choose their addresses: no chain can be aimed at); its recency order is the
 * cache's LRU order, and a full table evicts the least recently used entry.
 *
 * Time: expiry (REACHABLE -> STALE) and the end of a hold-down are honoured by every call as of
 * its now_ns; retries may be sent by cp_arp_want() or cp_arp_tick(), whichever comes first
 * once due; failures are declared only by cp_arp_tick(), which is the one that can tell.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cp_arp.h"
#include "sl_lru_keyed.h"

static_assert(CP_ARP_MAX_CAPACITY <= SL_LRU_MAX_CAPACITY, "the table takes any capacity");

struct arp_entry {
	uint32_t ip; /* the key (host order) */
	uint8_t mac[CP_ARP_MAC_LEN];
	uint8_t state;	      /* enum cp_arp_state */
	uint8_t requests;     /* sent in this resolution */
	uint64_t deadline_ns; /* INCOMPLETE/PROBE: next request (or failure); REACHABLE: expiry;
				 FAILED: end of the hold-down */
};

static_assert(offsetof(struct arp_entry, ip) == 0, "the key comes first");

struct cp_arp {
	struct cp_arp_conf conf;
	struct sl_lru *tab;
	struct cp_arp_stats stats; /* entries: read from the table */
};

static bool
conf_valid(const struct cp_arp_conf *c)
{
	return c->capacity >= 1 && c->capacity <= CP_ARP_MAX_CAPACITY && c->retry_ns > 0 &&
	       c->max_requests >= 1 && c->max_requests <= UINT8_MAX && c->reachable_ns > 0;
}

void
cp_arp_conf_init(struct cp_arp_conf *conf)
{
	conf->capacity = CP_ARP_CAPACITY_DEFAULT;
	conf->retry_ns = CP_ARP_RETRY_NS;
	conf->max_requests = CP_ARP_MAX_REQUESTS;
	conf->reachable_ns = CP_ARP_REACHABLE_NS;
	conf->failed_hold_ns = CP_ARP_FAILED_HOLD_NS;
}

struct cp_arp *
cp_arp_create(const struct cp_arp_conf *conf)
{
	struct cp_arp *arp = calloc(1, sizeof(*arp));
	int err = ENOMEM;

	if (arp == NULL)
		goto fail;
	if (conf != NULL)
		arp->conf = *conf;
	else
		cp_arp_conf_init(&arp->conf);
	err = EINVAL;
	if (!conf_valid(&arp->conf))
		goto fail;
	arp->tab =
		sl_lru_keyed_create(arp->conf.capacity, sizeof(struct arp_entry), sizeof(uint32_t));
	if (arp->tab != NULL)
		return arp;
	err = errno;
fail:
	free(arp);
	errno = err;
	return NULL;
}

void
cp_arp_destroy(struct cp_arp *arp)
{
	if (arp == NULL)
		return;
	sl_lru_destroy(arp->tab);
	free(arp);
}

/* --- table -------------------------------------------------------------------------------- */

static struct arp_entry *
find(const struct cp_arp *arp, uint32_t ip)
{
	return sl_lru_find(arp->tab, &ip);
}

/* A new entry for ip, the least recently used one evicted if the cache is full. */
static struct arp_entry *
insert(struct cp_arp *arp, uint32_t ip)
{
	bool evicted;
	struct arp_entry *e = sl_lru_insert(arp->tab, &ip, &evicted);

	arp->stats.evicted += evicted;
	return e;
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
	struct arp_entry *e = find(arp, ip);

	if (e == NULL)
		return CP_ARP_MISS;
	switch (age(arp, e, now_ns)) {
	case CP_ARP_ST_REACHABLE:
	case CP_ARP_ST_STALE:
	case CP_ARP_ST_PROBE:
		sl_lru_touch(arp->tab, e);
		if (mac != NULL)
			memcpy(mac, e->mac, CP_ARP_MAC_LEN);
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
	struct arp_entry *e;

	if (ip == 0)
		return false;
	e = find(arp, ip);
	if (e == NULL)
		e = insert(arp, ip);
	sl_lru_touch(arp->tab, e);
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
	struct arp_entry *e;

	if (ip == 0 || !mac_ok(mac))
		return -EINVAL;
	e = find(arp, ip);
	if (e == NULL && !create)
		return -ENOENT;
	if (e == NULL) {
		e = insert(arp, ip);
		arp->stats.learned++;
	} else {
		arp->stats.refreshed++;
		if (e->state != CP_ARP_ST_INCOMPLETE && e->state != CP_ARP_ST_FAILED &&
		    memcmp(e->mac, mac, CP_ARP_MAC_LEN) != 0)
			arp->stats.mac_changed++;
		sl_lru_touch(arp->tab, e);
	}
	confirm(arp, e, mac, now_ns);
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
tick_one(struct cp_arp *arp, struct arp_entry *e, uint64_t now_ns,
	 void (*cb)(void *ctx, uint32_t ip, enum cp_arp_event ev), void *ctx)
{
	enum cp_arp_state st = age(arp, e, now_ns);

	if (st == CP_ARP_ST_NONE) {
		sl_lru_remove(arp->tab, e);
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
	struct arp_entry *e = sl_lru_oldest(arp->tab), *next;

	for (; e != NULL; e = next) {
		next = sl_lru_newer(arp->tab, e); /* tick_one may remove e; it never reorders */
		asked += tick_one(arp, e, now_ns, cb, ctx);
	}
	return asked;
}

enum cp_arp_state
cp_arp_state(const struct cp_arp *arp, uint32_t ip, uint64_t now_ns)
{
	const struct arp_entry *e = find(arp, ip);

	return e == NULL ? CP_ARP_ST_NONE : effective(e, now_ns);
}

void
cp_arp_foreach(const struct cp_arp *arp, uint64_t now_ns,
	       void (*fn)(void *ctx, uint32_t ip, const uint8_t mac[CP_ARP_MAC_LEN],
			  enum cp_arp_state st),
	       void *ctx)
{
	for (const struct arp_entry *e = sl_lru_newest(arp->tab); e != NULL;
	     e = sl_lru_older(arp->tab, e)) {
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
	st->entries = sl_lru_count(arp->tab);
}
