/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the hashed LRU table (sl_lru) — scenario tables (insert, find, touch, remove and the
 * recency order they leave, eviction of the oldest), run under three hashes (SipHash with a
 * random seed, a hash that sends every key to one chain, one that collides half the time);
 * rejected configurations; entries zeroed and wiped, aligned, never moved; then long random
 * runs against a deliberately naive reference (an array searched linearly, a use counter for
 * recency).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "sl_lru.h"
#include "sl_lru_keyed.h"
#include "sl_test.h"

/* --- hashes --------------------------------------------------------------------------------- */

/* Every key in one chain: every lookup walks it, every removal unlinks from it. */
static uint64_t
hash_one_chain(const void *key, size_t len, const uint8_t seed[SL_LRU_SEED_LEN])
{
	(void)key, (void)len, (void)seed;
	return 0x5eed0000ull;
}

/* Equal tags for many different keys (only the first byte counts), so keys are compared. */
static uint64_t
hash_first_byte(const void *key, size_t len, const uint8_t seed[SL_LRU_SEED_LEN])
{
	(void)len;
	return (uint64_t)(*(const uint8_t *)key & 0x0f) ^ seed[0];
}

static const struct {
	const char *name;
	uint64_t (*fn)(const void *key, size_t len, const uint8_t seed[SL_LRU_SEED_LEN]);
} hashes[] = {
	{ "siphash", sl_lru_keyed_hash },
	{ "one chain", hash_one_chain },
	{ "first byte", hash_first_byte },
};

/* The caller's entry of the scenarios: a 4-byte key and a value. */
struct item {
	uint32_t key;
	uint32_t value;
};

static struct sl_lru *
make(uint32_t capacity, unsigned int h)
{
	struct sl_lru_conf conf = {
		.capacity = capacity,
		.entry_size = sizeof(struct item),
		.key_len = sizeof(uint32_t),
		.hash = hashes[h].fn,
	};

	for (unsigned int i = 0; i < SL_LRU_SEED_LEN; i++)
		conf.seed[i] = (uint8_t)(0xa5 + 7 * i);
	return sl_lru_create(&conf);
}

/* --- scenario tables ------------------------------------------------------------------------ */

enum op {
	END,
	INS,   /* insert key (absent): evicted key `arg` (0: none); the new entry gets value key */
	FIND,  /* find key: present (arg 1, with value key) or absent (arg 0) */
	TOUCH, /* touch key (present) */
	DEL,   /* remove key (present) */
	ORDER, /* the `key` keys oldest to newest are order[], and so backwards */
};

struct step {
	enum op op;
	uint32_t key;
	uint32_t arg;
	uint32_t order[8];
};

struct scenario {
	const char *name;
	uint32_t capacity;
	struct step steps[24]; /* up to the first END (zero) */
};

/* clang-format off */
#define I(k, ev)	{ INS, (k), (ev), { 0 } }
#define F(k, yes)	{ FIND, (k), (yes), { 0 } }
#define T(k)		{ TOUCH, (k), 0, { 0 } }
#define D(k)		{ DEL, (k), 0, { 0 } }
#define O(n, ...)	{ ORDER, (n), 0, { __VA_ARGS__ } }
#define O0		{ ORDER, 0, 0, { 0 } }

static const struct scenario scenarios[] = {
	{ "empty table", 3, { O0, F(1, 0) } },
	{ "insert keeps order of arrival", 3,
	  { I(1, 0), I(2, 0), I(3, 0), O(3, 1, 2, 3), F(1, 1), F(2, 1), F(3, 1), F(4, 0) } },
	{ "find does not change the order", 3,
	  { I(1, 0), I(2, 0), I(3, 0), F(1, 1), F(2, 1), O(3, 1, 2, 3) } },
	{ "full: the oldest is evicted", 3,
	  { I(1, 0), I(2, 0), I(3, 0), I(4, 1), O(3, 2, 3, 4), F(1, 0), I(5, 2), O(3, 3, 4, 5) } },
	{ "touch saves an entry from eviction", 3,
	  { I(1, 0), I(2, 0), I(3, 0), T(1), O(3, 2, 3, 1), I(4, 2), O(3, 3, 1, 4), T(4),
	    O(3, 3, 1, 4), T(3), I(5, 1), O(3, 4, 3, 5) } },
	{ "remove makes room without eviction", 3,
	  { I(1, 0), I(2, 0), I(3, 0), D(2), O(2, 1, 3), F(2, 0), I(4, 0), O(3, 1, 3, 4), I(2, 1),
	    O(3, 3, 4, 2) } },
	{ "remove at either end and alone", 3,
	  { I(1, 0), I(2, 0), I(3, 0), D(1), O(2, 2, 3), D(3), O(1, 2), D(2), O0, F(2, 0), I(7, 0),
	    O(1, 7) } },
	{ "capacity 1", 1,
	  { I(1, 0), I(2, 1), O(1, 2), T(2), I(3, 2), F(2, 0), F(3, 1), D(3), O0, I(4, 0) } },
	{ "key 0 and all-ones are keys", 2,
	  { I(0, 0), I(0xffffffff, 0), F(0, 1), F(0xffffffff, 1), O(2, 0, 0xffffffff) } },
	{ "a removed key comes back fresh", 4,
	  { I(1, 0), I(2, 0), D(1), I(3, 0), I(1, 0), O(3, 2, 3, 1), F(1, 1) } },
};
/* clang-format on */

/* The keys oldest to newest are want[0..n), and the walk from the newest agrees. */
static bool
order_is(const struct sl_lru *t, const uint32_t *want, unsigned int n)
{
	unsigned int k = 0;
	const struct item *e;

	if (sl_lru_count(t) != n)
		return false;
	for (e = sl_lru_oldest(t); e != NULL; e = sl_lru_newer(t, e))
		if (k >= n || e->key != want[k++])
			return false;
	if (k != n)
		return false;
	for (e = sl_lru_newest(t); e != NULL; e = sl_lru_older(t, e))
		if (k == 0 || e->key != want[--k])
			return false;
	return k == 0;
}

static bool
run_step(struct sl_lru *t, const struct step *s)
{
	struct item *e = s->op == INS || s->op == ORDER ? NULL : sl_lru_find(t, &s->key);
	bool evicted;

	switch (s->op) {
	case INS:
		e = sl_lru_insert(t, &s->key, &evicted);
		if (e == NULL || e->key != s->key || e->value != 0 || evicted != (s->arg != 0))
			return false;
		e->value = s->key;
		return sl_lru_newest(t) == e && (s->arg == 0 || sl_lru_find(t, &s->arg) == NULL);
	case FIND:
		return s->arg ? e != NULL && e->key == s->key && e->value == s->key : e == NULL;
	case TOUCH:
		if (e == NULL)
			return false;
		sl_lru_touch(t, e);
		return sl_lru_newest(t) == e;
	case DEL:
		if (e == NULL)
			return false;
		sl_lru_remove(t, e);
		return sl_lru_find(t, &s->key) == NULL;
	case ORDER:
		return order_is(t, s->order, s->key);
	case END:
		break;
	}
	return false;
}

static void
test_scenarios(void)
{
	for (unsigned int h = 0; h < RTE_DIM(hashes); h++)
		for (unsigned int i = 0; i < RTE_DIM(scenarios); i++) {
			const struct scenario *sc = &scenarios[i];
			struct sl_lru *t = make(sc->capacity, h);

			CU_ASSERT_PTR_NOT_NULL_FATAL(t);
			CU_ASSERT_EQUAL(sl_lru_capacity(t), sc->capacity);
			for (unsigned int k = 0; k < RTE_DIM(sc->steps) && sc->steps[k].op != END;
			     k++)
				if (!run_step(t, &sc->steps[k])) {
					printf("\n  %s, hash %s: step %u fails", sc->name,
					       hashes[h].name, k);
					CU_FAIL("scenario step");
				}
			sl_lru_destroy(t);
		}
}

/* --- configurations ------------------------------------------------------------------------- */

static void
test_create(void)
{
	static const struct {
		uint32_t capacity, entry_size, key_len;
		bool hash;
	} bad[] = {
		/* clang-format off */
		{ 0, 8, 4, true },
		{ SL_LRU_MAX_CAPACITY + 1, 8, 4, true },
		{ 4, 0, 0, true },
		{ 4, SL_LRU_MAX_ENTRY_SIZE + 1, 4, true },
		{ 4, 8, 0, true },
		{ 4, 8, 9, true },
		{ 4, 8, 4, false },
		/* clang-format on */
	};
	struct sl_lru_conf conf = { .hash = sl_lru_keyed_hash };
	struct sl_lru *t;

	for (unsigned int i = 0; i < RTE_DIM(bad); i++) {
		conf.capacity = bad[i].capacity;
		conf.entry_size = bad[i].entry_size;
		conf.key_len = bad[i].key_len;
		conf.hash = bad[i].hash ? sl_lru_keyed_hash : NULL;
		errno = 0;
		CU_ASSERT_PTR_NULL(sl_lru_create(&conf));
		CU_ASSERT_EQUAL(errno, EINVAL);
	}
	errno = 0;
	CU_ASSERT_PTR_NULL(sl_lru_create(NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(sl_lru_keyed_create(0, 8, 4));
	CU_ASSERT_EQUAL(errno, EINVAL);
	/* the edges that are allowed: key as long as the entry, one-byte entries */
	t = sl_lru_keyed_create(5, 8, 8);
	CU_ASSERT_PTR_NOT_NULL(t);
	CU_ASSERT_EQUAL(sl_lru_capacity(t), 5);
	CU_ASSERT_EQUAL(sl_lru_count(t), 0);
	CU_ASSERT_FALSE(sl_lru_full(t));
	CU_ASSERT_PTR_NULL(sl_lru_oldest(t));
	CU_ASSERT_PTR_NULL(sl_lru_newest(t));
	sl_lru_destroy(t);
	t = sl_lru_keyed_create(3, 1, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (uint8_t k = 0; k < 3; k++)
		CU_ASSERT_PTR_NOT_NULL(sl_lru_insert(t, &k, NULL));
	CU_ASSERT_TRUE(sl_lru_full(t));
	sl_lru_destroy(t);
	sl_lru_destroy(NULL);
}

/* SipHash under a seed: the same key hashes alike under one seed, differently under another. */
static void
test_keyed_hash(void)
{
	uint8_t s1[SL_LRU_SEED_LEN] = { 1 }, s2[SL_LRU_SEED_LEN] = { 2 };
	uint32_t k = 0xc0a80001;

	CU_ASSERT_EQUAL(sl_lru_keyed_hash(&k, sizeof(k), s1), sl_lru_keyed_hash(&k, sizeof(k), s1));
	CU_ASSERT_NOT_EQUAL(sl_lru_keyed_hash(&k, sizeof(k), s1),
			    sl_lru_keyed_hash(&k, sizeof(k), s2));
	CU_ASSERT_NOT_EQUAL(sl_lru_keyed_hash(&k, sizeof(k), s1), sl_lru_keyed_hash(&k, 3, s1));
}

/* --- entries -------------------------------------------------------------------------------- */

struct wide {
	uint16_t key;
	_Alignas(64) uint8_t body[100];
};

/* Entries are aligned as their struct asks (up to 64 bytes), and stay where they are. */
static void
test_entries_aligned_and_stable(void)
{
	struct sl_lru *t = sl_lru_keyed_create(40, sizeof(struct wide), sizeof(uint16_t));
	struct wide *at[40];

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (uint16_t k = 0; k < 40; k++) {
		at[k] = sl_lru_insert(t, &k, NULL);
		CU_ASSERT_EQUAL((uintptr_t)at[k] % 64, 0);
		memset(at[k]->body, (int)k, sizeof(at[k]->body));
	}
	for (uint16_t k = 0; k < 40; k += 3)
		sl_lru_touch(t, at[k]);
	for (uint16_t k = 1; k < 40; k += 4)
		sl_lru_remove(t, at[k]);
	for (uint16_t k = 0; k < 40; k++) {
		struct wide *e = sl_lru_find(t, &k);

		if (k % 4 == 1) {
			CU_ASSERT_PTR_NULL(e);
			continue;
		}
		CU_ASSERT_PTR_EQUAL(e, at[k]);
		CU_ASSERT_EQUAL(e->body[0], k);
		CU_ASSERT_EQUAL(e->body[99], k);
	}
	sl_lru_destroy(t);
}

/* A removed entry is wiped; a reused one (removed or evicted) starts at zero. */
static void
test_entries_wiped(void)
{
	static const uint8_t zero[sizeof(struct item)];
	struct sl_lru *t = make(2, 0);
	struct item *a, *b;
	uint32_t k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	k = 1;
	a = sl_lru_insert(t, &k, NULL);
	a->value = 0xdeadbeef;
	sl_lru_remove(t, a);
	CU_ASSERT_EQUAL(memcmp(a, zero, sizeof(zero)), 0); /* the pool outlives the entry */
	k = 2;
	b = sl_lru_insert(t, &k, NULL);
	CU_ASSERT_PTR_EQUAL(b, a); /* the removed entry is used again first */
	CU_ASSERT_EQUAL(b->value, 0);
	b->value = 0xfeedface;
	k = 3;
	CU_ASSERT_EQUAL(((struct item *)sl_lru_insert(t, &k, NULL))->value, 0);
	k = 4;
	a = sl_lru_insert(t, &k, NULL); /* evicts 2 and takes its place */
	CU_ASSERT_PTR_EQUAL(a, b);
	CU_ASSERT_EQUAL(a->key, 4);
	CU_ASSERT_EQUAL(a->value, 0);
	sl_lru_destroy(t);
}

/* --- random runs against a naive reference -------------------------------------------------- */

#define KEY_LEN 6
#define REF_MAX 64

/* A key that shares its first byte with many others and is otherwise spread out. */
struct rkey {
	uint8_t b[KEY_LEN];
};

struct ritem {
	struct rkey key;
	uint64_t value;
};

/* The reference: an array searched from the start, recency as a use counter. */
struct ref {
	uint32_t cap, n;
	uint64_t clock;
	uint64_t evicted; /* how often the oldest gave way */
	struct {
		struct rkey key;
		uint64_t value, used;
	} e[REF_MAX];
};

static struct rkey
rkey_of(uint32_t k)
{
	struct rkey key = { { (uint8_t)k, (uint8_t)(k >> 8), 0x5a, (uint8_t)(k * 7), 0,
			      (uint8_t)(k % 3) } };

	return key;
}

static int
ref_find(const struct ref *r, const struct rkey *key)
{
	for (uint32_t i = 0; i < r->n; i++)
		if (memcmp(&r->e[i].key, key, KEY_LEN) == 0)
			return (int)i;
	return -1;
}

static uint32_t
ref_oldest(const struct ref *r)
{
	uint32_t o = 0;

	for (uint32_t i = 1; i < r->n; i++)
		if (r->e[i].used < r->e[o].used)
			o = i;
	return o;
}

static void
ref_remove(struct ref *r, uint32_t i)
{
	r->e[i] = r->e[--r->n];
}

/* Insert an absent key; returns the index it took, *evicted set when the oldest gave way. */
static uint32_t
ref_insert(struct ref *r, const struct rkey *key, bool *evicted, struct rkey *gone)
{
	*evicted = r->n == r->cap;
	if (*evicted) {
		uint32_t o = ref_oldest(r);

		*gone = r->e[o].key;
		ref_remove(r, o);
		r->evicted++;
	}
	r->e[r->n].key = *key;
	r->e[r->n].value = 0;
	r->e[r->n].used = ++r->clock;
	return r->n++;
}

/* Every entry, oldest to newest, against the reference sorted by use. */
static bool
same_order(const struct sl_lru *t, const struct ref *r)
{
	uint64_t after = 0;
	uint32_t n = 0;

	for (const struct ritem *e = sl_lru_oldest(t); e != NULL; e = sl_lru_newer(t, e), n++) {
		int i = ref_find(r, &e->key);

		if (i < 0 || r->e[i].used <= after || r->e[i].value != e->value)
			return false;
		after = r->e[i].used;
	}
	return n == r->n;
}

/* Drop every entry whose value is odd, walking oldest to newest (how a gc pass works). */
static bool
sweep_odd(struct sl_lru *t, struct ref *r)
{
	struct ritem *e = sl_lru_oldest(t), *next;

	for (; e != NULL; e = next) {
		next = sl_lru_newer(t, e);
		if (e->value % 2 == 1)
			sl_lru_remove(t, e);
	}
	for (uint32_t i = 0; i < r->n;)
		if (r->e[i].value % 2 == 1)
			ref_remove(r, i);
		else
			i++;
	return same_order(t, r);
}

static bool
random_insert(struct sl_lru *t, struct ref *r, const struct rkey *key, struct ritem *e, int i)
{
	const struct ritem *oldest = sl_lru_oldest(t);
	struct rkey expect_gone = oldest != NULL ? oldest->key : rkey_of(0), gone;
	bool ev, ref_ev;

	if ((e == NULL) != (i < 0))
		return false;
	if (e != NULL)
		return true; /* present: nothing to insert */
	e = sl_lru_insert(t, key, &ev);
	ref_insert(r, key, &ref_ev, &gone);
	return e != NULL && e->value == 0 && memcmp(&e->key, key, KEY_LEN) == 0 && ev == ref_ev &&
	       (!ev ||
		(memcmp(&gone, &expect_gone, KEY_LEN) == 0 && sl_lru_find(t, &gone) == NULL));
}

/* One random operation on both; false at the first disagreement. */
static bool
random_op(struct sl_lru *t, struct ref *r, uint64_t *rng)
{
	uint64_t x = sl_test_mix64(rng), roll = x % 100;
	struct rkey key = rkey_of((uint32_t)(x >> 8) % (3 * r->cap + 2));
	struct ritem *e = sl_lru_find(t, &key);
	int i = ref_find(r, &key);

	if (roll < 30) /* find */
		return i < 0 ? e == NULL : e != NULL && e->value == r->e[i].value;
	if (roll < 60)
		return random_insert(t, r, &key, e, i);
	if ((e == NULL) != (i < 0))
		return false;
	if (e == NULL)
		return true;
	if (roll < 75) {
		sl_lru_touch(t, e);
		r->e[i].used = ++r->clock;
		return sl_lru_newest(t) == e;
	}
	if (roll < 85) {
		sl_lru_remove(t, e);
		ref_remove(r, (uint32_t)i);
		return sl_lru_find(t, &key) == NULL;
	}
	if (roll < 98) { /* the caller writes its entry */
		e->value = r->e[i].value = x >> 32;
		return true;
	}
	return roll == 98 ? same_order(t, r) : sweep_odd(t, r);
}

static void
test_random_vs_reference(void)
{
	static const uint32_t caps[] = { 1, 2, 3, 5, 16, REF_MAX };
	uint64_t rng = 0x6c72752d74657374ull;
	unsigned int bad = 0;
	uint64_t evictions = 0;

	for (unsigned int h = 0; h < RTE_DIM(hashes); h++)
		for (unsigned int c = 0; c < RTE_DIM(caps); c++) {
			struct sl_lru_conf conf = { .capacity = caps[c],
						    .entry_size = sizeof(struct ritem),
						    .key_len = KEY_LEN,
						    .hash = hashes[h].fn };
			struct ref r = { .cap = caps[c] };
			struct sl_lru *t;

			conf.seed[0] = (uint8_t)sl_test_mix64(&rng);
			t = sl_lru_create(&conf);
			CU_ASSERT_PTR_NOT_NULL_FATAL(t);
			for (int k = 0; k < 30000 && bad < 5; k++)
				if (!random_op(t, &r, &rng) || sl_lru_count(t) != r.n) {
					printf("\n  hash %s, capacity %u: op %d disagrees",
					       hashes[h].name, caps[c], k);
					bad++;
				}
			CU_ASSERT_TRUE(same_order(t, &r));
			CU_ASSERT(r.evicted > 100); /* every run filled its table often */
			evictions += r.evicted;
			sl_lru_destroy(t);
		}
	CU_ASSERT_EQUAL(bad, 0);
	printf("\n  %lu evictions ", (unsigned long)evictions);
}

static CU_TestInfo cases[] = {
	{ "scenarios under three hashes", test_scenarios },
	{ "create: rejected configurations and edges", test_create },
	{ "keyed hash depends on the seed", test_keyed_hash },
	{ "entries aligned and never moved", test_entries_aligned_and_stable },
	{ "entries wiped on removal, zero when reused", test_entries_wiped },
	{ "random runs against a naive reference", test_random_vs_reference },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("lru", cases)
