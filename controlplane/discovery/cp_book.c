/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: the address book's rules — what an add, a connection, a bad mark or a ban
 * does to the tables, when an entry is stale, the book's life cycle (cp_book.h). The mechanics
 * (hashing, entries, slots) are in cp_book_table.c, the layout in cp_book_pvt.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cp_book_pvt.h"

#define FUTURE_SLACK_S	 600ull		/* a last seen this far ahead is believed */
#define UNKNOWN_AGE_S	 (5ull * 86400) /* a last seen that is not: this old */
#define HEARSAY_AGE_S	 7200ull	/* what others say is this much older */
#define RECENT_TRY_S	 60ull		/* never stale within this of a try */
#define RTT_SMOOTH_SHIFT 3		/* smoothed RTT: 7/8 old + 1/8 new */

/* --- rules on entries ------------------------------------------------------------------------- */

bool
cp_bk_addr_valid(const struct cp_addr *a)
{
	enum cp_addr_class c = cp_addr_classify(a->ip);

	if (a->port == 0 || (a->flags & ~CP_ADDR_F_HAS_ID) != 0)
		return false;
	return c != CP_ADDR_UNSPECIFIED && c != CP_ADDR_MULTICAST && c != CP_ADDR_BROADCAST;
}

static uint64_t
age(uint64_t then, uint64_t now_s)
{
	return now_s > then ? now_s - then : 0;
}

bool
cp_bk_stale(const struct cp_book *b, const struct bk_entry *e, uint64_t now_s)
{
	const struct cp_book_config *c = &b->cfg;

	if (e->last_try != 0 && age(e->last_try, now_s) < RECENT_TRY_S)
		return false;
	if (e->addr.last_seen > now_s + FUTURE_SLACK_S)
		return true;
	if (e->addr.last_seen == 0 || age(e->addr.last_seen, now_s) > c->horizon_s)
		return true;
	if (e->last_success == 0)
		return e->attempts >= c->retries;
	return age(e->last_success, now_s) > c->min_fail_s && e->attempts >= c->max_failures;
}

bool
cp_bk_is_bad(const struct bk_entry *e, uint64_t now_s)
{
	return e->bad_until > now_s;
}

/* --- placement ------------------------------------------------------------------------------- */

static uint32_t
new_slot(struct cp_book *b, uint32_t idx, uint32_t src)
{
	const struct bk_entry *e = BK_E(b, idx);

	if (!b->cfg.bucketing)
		return cp_bk_flat_slot(b, &b->new_t);
	return cp_bk_new_slot_of(b, e->addr.ip, e->addr.port, src);
}

static uint32_t
tried_slot(struct cp_book *b, uint32_t idx)
{
	const struct bk_entry *e = BK_E(b, idx);

	if (!b->cfg.bucketing)
		return cp_bk_flat_slot(b, &b->tried_t);
	return cp_bk_tried_slot_of(b, e->addr.ip, e->addr.port);
}

/* May idx take new slot s from the entry there? Bitcoin's rule: if that one is stale, or is
 * also in other buckets while idx is in none. Flat pools: always (that is the point). */
static bool
may_take(const struct cp_book *b, uint32_t s, uint32_t idx, uint64_t now_s)
{
	const struct bk_entry *o = BK_E(b, b->new_t.slot[s]);

	if (!b->cfg.bucketing)
		return true;
	return cp_bk_stale(b, o, now_s) || (o->refs > 1 && b->e[idx].refs == 0);
}

/* One more new slot for idx (heard of from src). force: take the slot whatever holds it (an
 * entry coming back from tried). 0, or -ENOSPC. */
static int
place_new(struct cp_book *b, uint32_t idx, uint32_t src, uint64_t now_s, bool force)
{
	uint32_t s = new_slot(b, idx, src);
	uint32_t o = b->new_t.slot[s];

	if (o == idx)
		return 0;
	if (o != BK_NONE) {
		if (!force && !may_take(b, s, idx, now_s))
			return -ENOSPC;
		cp_bk_new_ref_drop(b, s);
		b->stats.evicted++;
	}
	cp_bk_new_ref_add(b, s, idx);
	return 0;
}

int
cp_bk_load_new(struct cp_book *b, uint32_t idx, uint32_t src)
{
	uint32_t s = new_slot(b, idx, src);

	if (b->new_t.slot[s] != BK_NONE)
		return -ENOSPC;
	cp_bk_new_ref_add(b, s, idx);
	return 0;
}

int
cp_bk_load_tried(struct cp_book *b, uint32_t idx)
{
	uint32_t s = tried_slot(b, idx);

	if (b->tried_t.slot[s] != BK_NONE)
		return -ENOSPC;
	cp_bk_tried_set(b, s, idx);
	return 0;
}

/* idx leaves tried for a new slot of its own (source: itself). */
static void
demote(struct cp_book *b, uint32_t idx, uint64_t now_s)
{
	struct bk_entry *e = BK_E(b, idx);

	cp_bk_tbl_clear(&b->tried_t, e->tried_slot);
	e->tried_slot = BK_NONE;
	b->stats.demoted++;
	place_new(b, idx, e->addr.ip, now_s, true);
}

/* A tried slot whose entry connected within replacement_s keeps it (a cheap form of Bitcoin's
 * test-before-evict: that connection is the test). */
static bool
tried_keeps(const struct cp_book *b, uint32_t occupant, uint64_t now_s)
{
	const struct bk_entry *o = BK_E(b, occupant);

	return b->cfg.bucketing && !cp_bk_is_bad(o, now_s) &&
	       age(o->last_success, now_s) < b->cfg.replacement_s;
}

static void
promote(struct cp_book *b, uint32_t idx, uint64_t now_s)
{
	struct bk_entry *e = BK_E(b, idx);
	uint32_t s = tried_slot(b, idx);
	uint32_t o = b->tried_t.slot[s];

	if (o != BK_NONE && tried_keeps(b, o, now_s)) {
		b->stats.tried_collisions++;
		if (e->refs == 0 && place_new(b, idx, e->src_ip, now_s, false) < 0) {
			cp_bk_entry_drop(b, idx);
			b->stats.refused_full++;
		}
		return;
	}
	while (e->refs > 0) /* first: o's way back to new must not find idx there */
		cp_bk_tbl_clear(&b->new_t, e->slot[--e->refs]);
	if (o != BK_NONE)
		demote(b, o, now_s);
	cp_bk_tried_set(b, s, idx);
	b->stats.promoted++;
}

/* --- bans ------------------------------------------------------------------------------------- */

static bool
ban_matches(const struct bk_ban *ban, const struct cp_addr *a)
{
	if (ban->addr.ip == a->ip && ban->addr.port == a->port)
		return true;
	return cp_bk_has_id(&ban->addr) && cp_bk_has_id(a) &&
	       memcmp(ban->addr.id, a->id, SL_KEY_LEN) == 0;
}

bool
cp_book_banned(const struct cp_book *b, const struct cp_addr *a, uint64_t now_s)
{
	for (uint32_t i = 0; i < b->n_bans; i++)
		if (b->bans[i].until > now_s && ban_matches(&b->bans[i], a))
			return true;
	return false;
}

static struct bk_ban *
ban_find(struct cp_book *b, const struct cp_addr *key)
{
	for (uint32_t i = 0; i < b->n_bans; i++) {
		struct bk_ban *x = &b->bans[i];

		if (x->addr.ip == key->ip && x->addr.port == key->port &&
		    x->addr.flags == key->flags && memcmp(x->addr.id, key->id, SL_KEY_LEN) == 0)
			return x;
	}
	return NULL;
}

/* A record for a new ban: a free one, else the one that expires first (forgotten). */
static struct bk_ban *
ban_new(struct cp_book *b)
{
	uint32_t first = 0;

	if (b->n_bans < b->cfg.max_bans)
		return &b->bans[b->n_bans++];
	for (uint32_t i = 1; i < b->n_bans; i++)
		if (b->bans[i].until < b->bans[first].until)
			first = i;
	b->stats.bans_dropped++;
	return &b->bans[first];
}

static void
drop_matching(struct cp_book *b, const struct cp_addr *a)
{
	uint32_t idx = cp_bk_find(b, a->ip, a->port);

	if (idx != BK_NONE)
		cp_bk_entry_drop(b, idx);
	if (!cp_bk_has_id(a))
		return;
	while ((idx = cp_bk_find_id(b, a->id)) != BK_NONE)
		cp_bk_entry_drop(b, idx);
}

void
cp_bk_ban_put(struct cp_book *b, const struct cp_addr *a, uint64_t until_s)
{
	struct cp_addr key = *a;
	struct bk_ban *ban;

	key.last_seen = 0;
	if (!cp_bk_has_id(a))
		memset(key.id, 0, SL_KEY_LEN);
	ban = ban_find(b, &key);
	if (ban == NULL) {
		ban = ban_new(b);
		ban->addr = key;
		ban->until = until_s;
	} else if (until_s > ban->until) {
		ban->until = until_s;
	}
}

void
cp_book_ban(struct cp_book *b, const struct cp_addr *a, uint64_t until_s)
{
	struct cp_addr key = *a;

	SL_ASSERT_OWNER(b->owner);
	if (!cp_bk_addr_valid(a))
		return;
	if (!cp_bk_has_id(a))
		memset(key.id, 0, SL_KEY_LEN);
	cp_bk_ban_put(b, &key, until_s);
	b->stats.banned++;
	drop_matching(b, &key);
	cp_bk_gauges(b);
}

bool
cp_book_knows(const struct cp_book *b, const uint8_t id[SL_KEY_LEN])
{
	return cp_bk_find_id(b, id) != BK_NONE;
}

/* --- adding ----------------------------------------------------------------------------------- */

/* When the node was last up, as we believe it: see cp_book_add(). */
static uint64_t
seen_time(const struct cp_addr *a, uint32_t src, uint64_t now_s)
{
	uint64_t t = a->last_seen;

	if (t == 0 || t > now_s + FUTURE_SLACK_S)
		t = now_s > UNKNOWN_AGE_S ? now_s - UNKNOWN_AGE_S : 1;
	if (src != a->ip && t > HEARSAY_AGE_S)
		t -= HEARSAY_AGE_S;
	return t;
}

static unsigned int
max_refs(const struct cp_book *b)
{
	return b->cfg.bucketing ? b->cfg.max_new_refs : 1;
}

static int
add_known(struct cp_book *b, uint32_t idx, const struct cp_addr *a, uint32_t src, uint64_t seen,
	  uint64_t now_s)
{
	struct bk_entry *e = BK_E(b, idx);

	if (cp_bk_has_id(a) && cp_bk_has_id(&e->addr) &&
	    memcmp(a->id, e->addr.id, SL_KEY_LEN) != 0) {
		b->stats.id_conflicts++;
		return -EEXIST;
	}
	if (src == a->ip && cp_bk_has_id(a) && !cp_bk_has_id(&e->addr))
		cp_bk_entry_set_id(b, idx, a->id); /* the config or the node itself says so */
	if (seen > e->addr.last_seen)
		e->addr.last_seen = seen;
	b->stats.updated++;
	if (e->tried_slot != BK_NONE || e->refs >= max_refs(b))
		return 0;
	/* each further bucket half as likely as the one before (Bitcoin) */
	if ((cp_bk_rand(b) & ((1ull << e->refs) - 1)) != 0)
		return 0;
	place_new(b, idx, src, now_s, false);
	return 0;
}

static int
add_fresh(struct cp_book *b, const struct cp_addr *a, uint32_t src, uint64_t seen, uint64_t now_s)
{
	uint32_t idx = cp_bk_entry_new(b, a, src);

	if (idx == BK_NONE)
		return -ENOMEM;
	b->e[idx].addr.last_seen = seen;
	if (place_new(b, idx, src, now_s, false) < 0) {
		cp_bk_entry_free(b, idx);
		b->stats.refused_full++;
		return -ENOSPC;
	}
	b->stats.added++;
	return 0;
}

int
cp_book_add(struct cp_book *b, const struct cp_addr *a, uint32_t source_ip, uint64_t now_s)
{
	uint64_t seen;
	uint32_t idx;
	int rc;

	SL_ASSERT_OWNER(b->owner);
	if (!cp_bk_addr_valid(a)) {
		b->stats.refused_invalid++;
		return -EINVAL;
	}
	if (cp_book_banned(b, a, now_s)) {
		b->stats.refused_banned++;
		return -EPERM;
	}
	seen = seen_time(a, source_ip, now_s);
	idx = cp_bk_find(b, a->ip, a->port);
	if (idx != BK_NONE)
		rc = add_known(b, idx, a, source_ip, seen, now_s);
	else
		rc = add_fresh(b, a, source_ip, seen, now_s);
	cp_bk_gauges(b);
	return rc;
}

/* --- what happened when we dialled ------------------------------------------------------------ */

void
cp_book_attempt(struct cp_book *b, const struct cp_addr *a, uint64_t now_s)
{
	uint32_t idx;

	SL_ASSERT_OWNER(b->owner);
	idx = cp_bk_find(b, a->ip, a->port);
	if (idx == BK_NONE)
		return;
	b->e[idx].last_try = now_s;
	b->e[idx].attempts++;
	b->stats.attempts++;
}

void
cp_book_seen(struct cp_book *b, const struct cp_addr *a, uint64_t now_s)
{
	uint32_t idx;

	SL_ASSERT_OWNER(b->owner);
	idx = cp_bk_find(b, a->ip, a->port);
	if (idx != BK_NONE && now_s > b->e[idx].addr.last_seen)
		b->e[idx].addr.last_seen = now_s;
}

/* idx is the node with id: it gets the id, every other entry with it goes (the node moved). */
static void
pin_id(struct cp_book *b, uint32_t idx, const uint8_t id[SL_KEY_LEN])
{
	struct bk_entry *e = BK_E(b, idx);
	uint32_t o;

	while ((o = cp_bk_find_other_id(b, id, idx)) != BK_NONE) {
		cp_bk_entry_drop(b, o);
		b->stats.moved++;
	}
	if (!cp_bk_has_id(&e->addr) || memcmp(e->addr.id, id, SL_KEY_LEN) != 0)
		cp_bk_entry_set_id(b, idx, id);
}

static void
record_success(struct bk_entry *e, uint64_t rtt_ns, uint64_t now_s)
{
	e->last_success = now_s;
	e->last_try = now_s;
	e->addr.last_seen = now_s;
	e->attempts = 0;
	e->successes++;
	if (rtt_ns == 0)
		return;
	if (e->rtt_ns == 0)
		e->rtt_ns = rtt_ns;
	else
		e->rtt_ns =
			e->rtt_ns - (e->rtt_ns >> RTT_SMOOTH_SHIFT) + (rtt_ns >> RTT_SMOOTH_SHIFT);
}

void
cp_book_good(struct cp_book *b, const struct cp_addr *a, uint64_t rtt_ns, uint64_t now_s)
{
	uint32_t idx;

	SL_ASSERT_OWNER(b->owner);
	if (!cp_bk_addr_valid(a) || cp_book_banned(b, a, now_s))
		return;
	idx = cp_bk_find(b, a->ip, a->port);
	if (idx == BK_NONE)
		idx = cp_bk_entry_new(b, a, a->ip);
	if (idx == BK_NONE)
		return;
	if (cp_bk_has_id(a))
		pin_id(b, idx, a->id);
	record_success(BK_E(b, idx), rtt_ns, now_s);
	b->stats.goods++;
	if (b->e[idx].tried_slot == BK_NONE)
		promote(b, idx, now_s);
	cp_bk_gauges(b);
}

void
cp_book_bad(struct cp_book *b, const struct cp_addr *a, uint64_t now_s)
{
	struct bk_entry *e;
	uint32_t idx;

	SL_ASSERT_OWNER(b->owner);
	idx = cp_bk_find(b, a->ip, a->port);
	if (idx == BK_NONE && cp_bk_has_id(a))
		idx = cp_bk_find_id(b, a->id);
	if (idx == BK_NONE)
		return;
	e = BK_E(b, idx);
	e->bad_until = now_s + b->cfg.bad_s;
	if (e->bad_count < UINT8_MAX)
		e->bad_count++;
	b->stats.marked_bad++;
	if (e->bad_count >= b->cfg.bad_to_ban) {
		struct cp_addr who = e->addr;

		cp_book_ban(b, &who, now_s + b->cfg.ban_s);
		return;
	}
	if (e->tried_slot != BK_NONE)
		demote(b, idx, now_s);
	cp_bk_gauges(b);
}

/* --- life cycle ------------------------------------------------------------------------------- */

void
cp_book_config_defaults(struct cp_book_config *cfg)
{
	*cfg = (struct cp_book_config){
		.bucketing = true,
		.new_buckets = CP_BOOK_NEW_BUCKETS,
		.tried_buckets = CP_BOOK_TRIED_BUCKETS,
		.bucket_size = CP_BOOK_BUCKET_SIZE,
		.new_per_source_group = CP_BOOK_NEW_PER_SOURCE_GROUP,
		.tried_per_group = CP_BOOK_TRIED_PER_GROUP,
		.max_new_refs = CP_BOOK_NEW_REFS,
		.horizon_s = CP_BOOK_HORIZON_S,
		.min_fail_s = CP_BOOK_MIN_FAIL_S,
		.replacement_s = CP_BOOK_REPLACEMENT_S,
		.retries = CP_BOOK_RETRIES,
		.max_failures = CP_BOOK_MAX_FAILURES,
		.bad_s = CP_BOOK_BAD_S,
		.bad_to_ban = CP_BOOK_BAD_TO_BAN,
		.ban_s = CP_BOOK_BAN_S,
		.max_bans = CP_BOOK_MAX_BANS,
		.sample_pct = CP_BOOK_SAMPLE_PCT,
		.sample_min = CP_BOOK_SAMPLE_MIN,
		.sample_max = CP_BOOK_SAMPLE_MAX,
		.sample_new_pct = CP_BOOK_SAMPLE_NEW_PCT,
	};
}

static bool
in_range(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v >= lo && v <= hi;
}

static bool
config_valid(const struct cp_book_config *c)
{
	return in_range(c->new_buckets, 1, CP_BOOK_MAX_BUCKETS) &&
	       in_range(c->tried_buckets, 1, CP_BOOK_MAX_BUCKETS) &&
	       in_range(c->bucket_size, 1, CP_BOOK_MAX_BUCKET_SIZE) &&
	       in_range(c->new_per_source_group, 1, c->new_buckets) &&
	       in_range(c->tried_per_group, 1, c->tried_buckets) &&
	       in_range(c->max_new_refs, 1, CP_BOOK_MAX_REFS) && c->retries >= 1 &&
	       c->max_failures >= c->retries && c->bad_s > 0 && c->bad_to_ban >= 1 &&
	       c->ban_s > 0 && in_range(c->max_bans, 1, CP_BOOK_MAX_BANS_LIMIT) &&
	       c->sample_pct <= 100 && c->sample_new_pct <= 100 && c->sample_min <= c->sample_max;
}

struct cp_book *
cp_book_create(const struct cp_book_config *cfg, const uint8_t key[SL_KEY_LEN], uint64_t rng_seed)
{
	struct cp_book *b;

	if (cfg == NULL || key == NULL || !config_valid(cfg)) {
		errno = EINVAL;
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		goto nomem;
	b->cfg = *cfg;
	memcpy(b->key, key, SL_KEY_LEN);
	for (int i = 0; i < 2; i++) {
		b->k_place[i] = cp_bk_le64(key + 8 * i);
		b->k_index[i] = cp_bk_le64(key + 16 + 8 * i);
	}
	b->rng = rng_seed;
	b->e_free = BK_NONE;
	b->e_max = cfg->new_buckets * cfg->bucket_size + cfg->tried_buckets * cfg->bucket_size + 1;
	b->bans = calloc(cfg->max_bans, sizeof(*b->bans));
	if (b->bans == NULL ||
	    cp_bk_table_init(&b->new_t, cfg->new_buckets * cfg->bucket_size) < 0 ||
	    cp_bk_table_init(&b->tried_t, cfg->tried_buckets * cfg->bucket_size) < 0 ||
	    cp_bk_entries_grow(b) < 0)
		goto nomem;
	return b;
nomem:
	cp_book_destroy(b);
	errno = ENOMEM;
	return NULL;
}

void
cp_book_handoff(struct cp_book *b)
{
	SL_OWNER_RELEASE(b->owner);
}

void
cp_book_destroy(struct cp_book *b)
{
	if (b == NULL)
		return;
	cp_bk_table_free(&b->new_t);
	cp_bk_table_free(&b->tried_t);
	free(b->e);
	free(b->all);
	free(b->head_addr);
	free(b->head_id);
	free(b->bans);
	memset(b->key, 0, sizeof(b->key));
	memset(b->k_place, 0, sizeof(b->k_place));
	memset(b->k_index, 0, sizeof(b->k_index));
	__asm__ __volatile__("" : : "r"(b) : "memory"); /* keep the wipe */
	free(b);
}

void
cp_bk_gauges(struct cp_book *b)
{
	b->stats.entries_tried = b->tried_t.n_occ;
	b->stats.entries_new = b->n_all - b->tried_t.n_occ;
	b->stats.bans = b->n_bans;
}

const struct cp_book_stats *
cp_book_stats(const struct cp_book *b)
{
	return &b->stats;
}