/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: per-source token buckets (see cp_ratelimit.h).
 *
 * Layout: a power-of-two array of chain heads, and a fixed pool of `capacity` entries. An
 * entry is on exactly one of: a hash chain (and then also on the recency list, oldest to
 * newest), or the free list. Links are 32-bit pool indices, NIL ending a list.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cp_ratelimit.h"

#define NIL   UINT32_MAX
#define TOKEN 1000000000ull /* credit of one token; a bucket earns per_sec credit per ns */

static_assert(CP_RATELIMIT_MAX_CAPACITY < NIL, "pool indices fit below NIL");
static_assert((uint64_t)CP_RATELIMIT_MAX_BURST * TOKEN < UINT64_MAX / 2,
	      "a full bucket plus one nanosecond of credit fits in 64 bits");

struct rl_entry {
	uint64_t credit;  /* as of last_ns, at most rl->full */
	uint64_t last_ns; /* latest time seen for this source */
	uint32_t src;
	uint32_t chain;	       /* next in the hash chain, or in the free list */
	uint32_t older, newer; /* recency list */
};

struct cp_ratelimit {
	uint64_t per_sec;
	uint64_t full;	  /* credit of a full bucket: burst tokens */
	uint64_t fill_ns; /* time in which an empty bucket fills */
	uint32_t capacity;
	uint32_t mask; /* chain heads - 1 */
	uint32_t free;
	uint32_t oldest, newest;
	uint32_t *heads;
	struct rl_entry *pool;
	struct cp_ratelimit_stats stats;
	uint8_t key[crypto_shorthash_KEYBYTES];
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

static uint32_t
heads_for(uint32_t capacity)
{
	uint32_t n = 1;

	while (n < capacity)
		n <<= 1;
	return n;
}

/* Every head empty, every entry on the free list, nothing on the recency list. */
static void
reset_table(struct cp_ratelimit *rl)
{
	for (uint32_t i = 0; i <= rl->mask; i++)
		rl->heads[i] = NIL;
	for (uint32_t i = 0; i < rl->capacity; i++)
		rl->pool[i].chain = i + 1 < rl->capacity ? i + 1 : NIL;
	rl->free = 0;
	rl->oldest = rl->newest = NIL;
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
	if (rl == NULL)
		goto nomem;
	rl->per_sec = conf->per_sec;
	rl->full = (uint64_t)conf->burst * TOKEN;
	rl->fill_ns = (rl->full + rl->per_sec - 1) / rl->per_sec;
	rl->capacity = conf->capacity;
	rl->mask = heads_for(conf->capacity) - 1;
	rl->heads = calloc((size_t)rl->mask + 1, sizeof(*rl->heads));
	rl->pool = calloc(conf->capacity, sizeof(*rl->pool));
	if (rl->heads == NULL || rl->pool == NULL)
		goto nomem;
	crypto_shorthash_keygen(rl->key);
	reset_table(rl);
	return rl;
nomem:
	cp_ratelimit_destroy(rl);
	errno = ENOMEM;
	return NULL;
}

void
cp_ratelimit_destroy(struct cp_ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->heads);
	free(rl->pool);
	sodium_memzero(rl, sizeof(*rl));
	free(rl);
}

static uint32_t
head_of(const struct cp_ratelimit *rl, uint32_t src)
{
	uint8_t in[4] = { (uint8_t)(src >> 24), (uint8_t)(src >> 16), (uint8_t)(src >> 8),
			  (uint8_t)src }; /* network order */
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t h;

	crypto_shorthash(out, in, sizeof(in), rl->key);
	memcpy(&h, out, sizeof(h));
	return (uint32_t)h & rl->mask;
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

/* --- recency list ------------------------------------------------------------------------- */

static void
recency_unlink(struct cp_ratelimit *rl, uint32_t i)
{
	struct rl_entry *e = &rl->pool[i];

	if (e->older != NIL)
		rl->pool[e->older].newer = e->newer;
	else
		rl->oldest = e->newer;
	if (e->newer != NIL)
		rl->pool[e->newer].older = e->older;
	else
		rl->newest = e->older;
}

static void
recency_push(struct cp_ratelimit *rl, uint32_t i)
{
	struct rl_entry *e = &rl->pool[i];

	e->older = rl->newest;
	e->newer = NIL;
	if (rl->newest != NIL)
		rl->pool[rl->newest].newer = i;
	else
		rl->oldest = i;
	rl->newest = i;
}

/* --- table -------------------------------------------------------------------------------- */

/* Unlink entry i, whose chain link is *link, and return it to the free list. */
static void
release(struct cp_ratelimit *rl, uint32_t *link, uint32_t i)
{
	struct rl_entry *e = &rl->pool[i];

	*link = e->chain;
	recency_unlink(rl, i);
	e->chain = rl->free;
	rl->free = i;
	rl->stats.entries--;
	rl->stats.reclaimed++;
}

/* Link of entry i in its chain (the head or the predecessor's chain field). */
static uint32_t *
link_of(struct cp_ratelimit *rl, uint32_t i)
{
	uint32_t *link = &rl->heads[head_of(rl, rl->pool[i].src)];

	while (*link != i)
		link = &rl->pool[*link].chain;
	return link;
}

/* Make room by dropping the least recently seen source, if its bucket has refilled. */
static void
reclaim_oldest(struct cp_ratelimit *rl, uint64_t now_ns)
{
	uint32_t i = rl->oldest;

	if (i != NIL && credit_at(rl, &rl->pool[i], now_ns) == rl->full)
		release(rl, link_of(rl, i), i);
}

static uint32_t
lookup(const struct cp_ratelimit *rl, uint32_t head, uint32_t src)
{
	uint32_t i = rl->heads[head];

	while (i != NIL && rl->pool[i].src != src)
		i = rl->pool[i].chain;
	return i;
}

/* A new source with a full bucket, or NIL when there is no room. */
static uint32_t
insert(struct cp_ratelimit *rl, uint32_t head, uint32_t src, uint64_t now_ns)
{
	struct rl_entry *e;
	uint32_t i;

	if (rl->free == NIL)
		reclaim_oldest(rl, now_ns);
	i = rl->free;
	if (i == NIL)
		return NIL;
	e = &rl->pool[i];
	rl->free = e->chain;
	e->src = src;
	e->credit = rl->full;
	e->last_ns = now_ns;
	e->chain = rl->heads[head];
	rl->heads[head] = i;
	recency_push(rl, i);
	rl->stats.entries++;
	return i;
}

bool
cp_ratelimit_allow(struct cp_ratelimit *rl, uint32_t src, uint64_t now_ns)
{
	uint32_t head = head_of(rl, src), i = lookup(rl, head, src);
	struct rl_entry *e;

	if (i == NIL) {
		i = insert(rl, head, src, now_ns);
		if (i == NIL) {
			rl->stats.table_full++;
			rl->stats.denied++;
			return false;
		}
	}
	e = &rl->pool[i];
	e->credit = credit_at(rl, e, now_ns);
	if (now_ns > e->last_ns)
		e->last_ns = now_ns;
	recency_unlink(rl, i);
	recency_push(rl, i);
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

	for (uint32_t h = 0; h <= rl->mask; h++) {
		uint32_t *link = &rl->heads[h];

		while (*link != NIL) {
			uint32_t i = *link;

			if (credit_at(rl, &rl->pool[i], now_ns) == rl->full) {
				release(rl, link, i);
				dropped++;
			} else {
				link = &rl->pool[i].chain;
			}
		}
	}
	return dropped;
}

void
cp_ratelimit_get_stats(const struct cp_ratelimit *rl, struct cp_ratelimit_stats *st)
{
	*st = rl->stats;
}
