/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: per-source token buckets (see cp_ratelimit.h).
 *
 * The buckets live in an sl_lru table keyed by the source address under SipHash with a random
 * seed; its recency order is "least recently seen source first".
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cp_ratelimit.h"
#include "sl_lru_keyed.h"

#define TOKEN 1000000000ull /* credit of one token; a bucket earns per_sec credit per ns */

static_assert(CP_RATELIMIT_MAX_CAPACITY <= SL_LRU_MAX_CAPACITY, "the table takes any capacity");
static_assert((uint64_t)CP_RATELIMIT_MAX_BURST * TOKEN < UINT64_MAX / 2,
	      "a full bucket plus one nanosecond of credit fits in 64 bits");

struct rl_entry {
	uint64_t src;	  /* the key: an IPv4 address (host order), and a relay circuit above it */
	uint64_t credit;  /* as of last_ns, at most rl->full */
	uint64_t last_ns; /* latest time seen for this source */
};

static_assert(offsetof(struct rl_entry, src) == 0, "the key comes first");

struct cp_ratelimit {
	uint64_t per_sec;
	uint64_t full;	  /* credit of a full bucket: burst tokens */
	uint64_t fill_ns; /* time in which an empty bucket fills */
	struct sl_lru *tab;
	struct cp_ratelimit_stats stats; /* entries: read from the table */
};

void
cp_ratelimit_conf_init(struct cp_ratelimit_conf *conf)
{
	conf->per_sec = SL_RATELIMIT_PER_SEC;
	conf->burst = SL_RATELIMIT_BURST;
	conf->capacity = SL_RATELIMIT_TABLE_DEFAULT;
}

static bool
conf_valid(const struct cp_ratelimit_conf *c)
{
	return c->per_sec >= 1 && c->per_sec <= CP_RATELIMIT_MAX_PER_SEC && c->burst >= 1 &&
	       c->burst <= CP_RATELIMIT_MAX_BURST && c->capacity >= 1 &&
	       c->capacity <= CP_RATELIMIT_MAX_CAPACITY;
}

struct cp_ratelimit *
cp_ratelimit_create(const struct cp_ratelimit_conf *conf)
{
	struct cp_ratelimit_conf defaults;
	struct cp_ratelimit *rl;

	if (conf == NULL) {
		cp_ratelimit_conf_init(&defaults);
		conf = &defaults;
	}
	if (!conf_valid(conf)) {
		errno = EINVAL;
		return NULL;
	}
	rl = calloc(1, sizeof(*rl));
	if (rl == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rl->per_sec = conf->per_sec;
	rl->full = (uint64_t)conf->burst * TOKEN;
	rl->fill_ns = (rl->full + rl->per_sec - 1) / rl->per_sec;
	rl->tab = sl_lru_keyed_create(conf->capacity, sizeof(struct rl_entry), sizeof(uint64_t));
	if (rl->tab == NULL) {
		free(rl);
		return NULL; /* errno from the table */
	}
	return rl;
}

void
cp_ratelimit_destroy(struct cp_ratelimit *rl)
{
	if (rl == NULL)
		return;
	sl_lru_destroy(rl->tab); /* wipes its seed */
	sodium_memzero(rl, sizeof(*rl));
	free(rl);
}

/* Credit of e at now_ns. Elapsed time is capped at fill_ns before multiplying, so nothing
 * overflows however long the source was idle. */
static uint64_t
credit_at(const struct cp_ratelimit *rl, const struct rl_entry *e, uint64_t now_ns)
{
	uint64_t elapsed, credit;

	if (now_ns <= e->last_ns)
		return e->credit;
	elapsed = now_ns - e->last_ns;
	if (elapsed >= rl->fill_ns)
		return rl->full;
	credit = e->credit + elapsed * rl->per_sec;
	return credit < rl->full ? credit : rl->full;
}

/* Drop the bucket of e (refilled, so nothing is lost). */
static void
reclaim(struct cp_ratelimit *rl, struct rl_entry *e)
{
	sl_lru_remove(rl->tab, e);
	rl->stats.reclaimed++;
}

/* A new source with a full bucket, or NULL when there is no room: a full table gives up its
 * least recently seen source only if that bucket has refilled. */
static struct rl_entry *
insert(struct cp_ratelimit *rl, uint64_t src, uint64_t now_ns)
{
	struct rl_entry *e, *oldest = sl_lru_oldest(rl->tab);

	if (sl_lru_full(rl->tab)) {
		if (credit_at(rl, oldest, now_ns) != rl->full)
			return NULL;
		reclaim(rl, oldest);
	}
	e = sl_lru_insert(rl->tab, &src, NULL);
	e->credit = rl->full;
	e->last_ns = now_ns;
	return e;
}

bool
cp_ratelimit_allow(struct cp_ratelimit *rl, uint64_t src, uint64_t now_ns)
{
	struct rl_entry *e = sl_lru_find(rl->tab, &src);

	if (e == NULL) {
		e = insert(rl, src, now_ns);
		if (e == NULL) {
			rl->stats.table_full++;
			rl->stats.denied++;
			return false;
		}
	}
	e->credit = credit_at(rl, e, now_ns);
	if (now_ns > e->last_ns)
		e->last_ns = now_ns;
	sl_lru_touch(rl->tab, e);
	if (e->credit < TOKEN) {
		rl->stats.denied++;
		return false;
	}
	e->credit -= TOKEN;
	rl->stats.allowed++;
	return true;
}

unsigned int
cp_ratelimit_gc(struct cp_ratelimit *rl, uint64_t now_ns)
{
	unsigned int dropped = 0;
	struct rl_entry *e = sl_lru_oldest(rl->tab), *next;

	for (; e != NULL; e = next) {
		next = sl_lru_newer(rl->tab, e);
		if (credit_at(rl, e, now_ns) == rl->full) {
			reclaim(rl, e);
			dropped++;
		}
	}
	return dropped;
}

void
cp_ratelimit_get_stats(const struct cp_ratelimit *rl, struct cp_ratelimit_stats *st)
{
	*st = rl->stats;
	st->entries = sl_lru_count(rl->tab);
}
