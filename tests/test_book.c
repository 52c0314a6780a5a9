/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: the address book's tables — configuration limits, what an add keeps,
 * bucketing against one source's flood (and the same flood without bucketing), promotion to
 * tried and its collisions, identities, stale entries giving way, bad marks and bans with their
 * expiry, and the keyed hash against libsodium's SipHash. Selection (picks and samples) is in
 * test_book_select.c, persistence in test_book_file.c, the random test against a reference in
 * test_book_ref.c.
 */
#include <errno.h>

#include <sodium.h>

#include "test_book.h"

static struct cp_book_config
small(uint32_t new_buckets, uint32_t tried_buckets, uint32_t size)
{
	struct cp_book_config c;

	cp_book_config_defaults(&c);
	c.new_buckets = new_buckets;
	c.tried_buckets = tried_buckets;
	c.bucket_size = size;
	c.new_per_source_group = RTE_MIN(c.new_per_source_group, new_buckets);
	c.tried_per_group = RTE_MIN(c.tried_per_group, tried_buckets);
	return c;
}

/* How many of n addresses (tip(i, per_group), port 9) the book holds. */
static unsigned int
held(const struct cp_book *b, uint32_t from, uint32_t n, uint32_t per_group)
{
	struct cp_book_info info;
	unsigned int k = 0;

	for (uint32_t i = from; i < from + n; i++) {
		struct cp_addr a = taddr(tip(i, per_group), 9, 0);

		k += cp_book_lookup(b, &a, &info) == 0;
	}
	return k;
}

/* --- configuration ---------------------------------------------------------------------------- */

static void
break_config(struct cp_book_config *c, int i)
{
	switch (i) {
	case 0:
		c->new_buckets = 0;
		break;
	case 1:
		c->new_buckets = CP_BOOK_MAX_BUCKETS + 1;
		break;
	case 2:
		c->tried_buckets = 0;
		break;
	case 3:
		c->bucket_size = 0;
		break;
	case 4:
		c->bucket_size = CP_BOOK_MAX_BUCKET_SIZE + 1;
		break;
	case 5:
		c->new_per_source_group = 0;
		break;
	case 6:
		c->new_per_source_group = c->new_buckets + 1;
		break;
	case 7:
		c->tried_per_group = c->tried_buckets + 1;
		break;
	case 8:
		c->max_new_refs = 0;
		break;
	case 9:
		c->max_new_refs = CP_BOOK_MAX_REFS + 1;
		break;
	case 10:
		c->retries = 0;
		break;
	case 11:
		c->max_failures = c->retries - 1;
		break;
	case 12:
		c->bad_s = 0;
		break;
	case 13:
		c->bad_to_ban = 0;
		break;
	case 14:
		c->ban_s = 0;
		break;
	case 15:
		c->max_bans = 0;
		break;
	case 16:
		c->sample_pct = 101;
		break;
	case 17:
		c->sample_new_pct = 101;
		break;
	case 18:
		c->sample_min = c->sample_max + 1;
		break;
	}
}

static void
test_config(void)
{
	struct cp_book_config c;
	struct cp_book *b;

	cp_book_config_defaults(&c);
	CU_ASSERT(c.bucketing);
	CU_ASSERT_EQUAL(c.new_buckets * c.bucket_size, 16384);
	CU_ASSERT_EQUAL(c.tried_buckets * c.bucket_size, 4096);
	b = cp_book_create(&c, test_key, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(cp_book_size(b), 0);
	CU_ASSERT(tbook_ok(b));
	cp_book_destroy(b);
	cp_book_destroy(NULL);
	for (int i = 0; i <= 18; i++) {
		cp_book_config_defaults(&c);
		break_config(&c, i);
		errno = 0;
		b = cp_book_create(&c, test_key, 1);
		if (b != NULL)
			printf("\n  config change %d accepted", i);
		CU_ASSERT_PTR_NULL(b);
		CU_ASSERT_EQUAL(errno, EINVAL);
		cp_book_destroy(b);
	}
	cp_book_config_defaults(&c);
	CU_ASSERT_PTR_NULL(cp_book_create(&c, NULL, 1));
	CU_ASSERT_PTR_NULL(cp_book_create(NULL, test_key, 1));
}

/* --- adding ----------------------------------------------------------------------------------- */

static void
test_add_rules(void)
{
	static const struct {
		uint32_t ip;
		uint16_t port;
		uint8_t flags;
		int rc;
	} t[] = {
		{ IP(8, 8, 8, 8), 0, 0, -EINVAL },
		{ IP(0, 1, 2, 3), 9, 0, -EINVAL },
		{ IP(224, 0, 0, 1), 9, 0, -EINVAL },
		{ IP(255, 255, 255, 255), 9, 0, -EINVAL },
		{ IP(8, 8, 8, 8), 9, 0x80, -EINVAL },
		{ IP(8, 8, 8, 8), 9, 0, 0 },
		{ IP(127, 0, 0, 1), 9, 0, 0 },
		{ IP(198, 18, 0, 1), 9, 0, 0 },
		{ IP(10, 0, 0, 1), 9, 0, 0 },
		{ IP(240, 0, 0, 1), 9, 0, 0 },
		{ IP(8, 8, 8, 8), 10, CP_ADDR_F_HAS_ID, 0 },
	};
	struct cp_book *b = tbook(NULL, 1);
	unsigned int ok = 0, bad = 0;

	for (unsigned int i = 0; i < RTE_DIM(t); i++) {
		struct cp_addr a = taddr(t[i].ip, t[i].port, 0);
		int rc;

		a.flags = t[i].flags;
		rc = cp_book_add(b, &a, a.ip, NOW);
		if (rc != t[i].rc)
			printf("\n  row %u: %d, expected %d", i, rc, t[i].rc);
		CU_ASSERT_EQUAL(rc, t[i].rc);
		ok += t[i].rc == 0;
		bad += t[i].rc != 0;
	}
	CU_ASSERT_EQUAL(cp_book_size(b), ok);
	CU_ASSERT_EQUAL(cp_book_stats(b)->added, ok);
	CU_ASSERT_EQUAL(cp_book_stats(b)->refused_invalid, bad);
	CU_ASSERT_EQUAL(cp_book_stats(b)->entries_new, ok);
	CU_ASSERT(tbook_ok(b));
	cp_book_destroy(b);
}

/* When an added node was last up, as the book believes it. */
static void
test_last_seen(void)
{
	static const struct {
		uint64_t told;
		bool hearsay;
		uint64_t kept;
	} t[] = {
		{ NOW - 100, false, NOW - 100 },      { NOW - 100, true, NOW - 100 - 2 * HOUR },
		{ 0, false, NOW - 5 * DAY },	      { 0, true, NOW - 5 * DAY - 2 * HOUR },
		{ NOW + HOUR, false, NOW - 5 * DAY }, /* too far ahead */
		{ NOW + 300, false, NOW + 300 },      /* clocks differ a little */
	};
	struct cp_book *b = tbook(NULL, 1);
	struct cp_book_info info;

	for (unsigned int i = 0; i < RTE_DIM(t); i++) {
		struct cp_addr a = taddr(tip(i, 1), 9, 0);

		a.last_seen = t[i].told;
		CU_ASSERT_EQUAL(cp_book_add(b, &a, t[i].hearsay ? IP(1, 1, 1, 1) : a.ip, NOW), 0);
		CU_ASSERT_EQUAL_FATAL(cp_book_lookup(b, &a, &info), 0);
		if (info.addr.last_seen != t[i].kept)
			printf("\n  row %u: %lu, expected %lu", i,
			       (unsigned long)info.addr.last_seen, (unsigned long)t[i].kept);
		CU_ASSERT_EQUAL(info.addr.last_seen, t[i].kept);
	}
	/* newer news refreshes it, older does not */
	{
		struct cp_addr a = taddr(tip(0, 1), 9, 0);

		a.last_seen = NOW + 10;
		CU_ASSERT_EQUAL(cp_book_add(b, &a, a.ip, NOW + 20), 0);
		a.last_seen = NOW - DAY;
		CU_ASSERT_EQUAL(cp_book_add(b, &a, a.ip, NOW + 20), 0);
		CU_ASSERT_EQUAL(cp_book_lookup(b, &a, &info), 0);
		CU_ASSERT_EQUAL(info.addr.last_seen, NOW + 10);
		CU_ASSERT_EQUAL(cp_book_stats(b)->updated, 2);
	}
	cp_book_destroy(b);
}

/* --- bucketing -------------------------------------------------------------------------------- */

/* Distinct new buckets in use. */
static unsigned int
new_buckets_used(const struct cp_book *b)
{
	static bool used[CP_BOOK_MAX_BUCKETS];
	unsigned int n = 0;

	memset(used, 0, sizeof(used));
	for (uint32_t i = 0; i < b->new_t.n_occ; i++) {
		uint32_t k = b->new_t.occ[i] / b->cfg.bucket_size;

		n += !used[k];
		used[k] = true;
	}
	return n;
}

static void
test_flood_one_source(void)
{
	struct cp_book *b = tbook(NULL, 7);
	uint32_t limit = CP_BOOK_NEW_PER_SOURCE_GROUP * CP_BOOK_BUCKET_SIZE;

	/* 10,000 addresses from 250 groups, all from one peer */
	for (uint32_t i = 0; i < 10000; i++) {
		struct cp_addr a = taddr(tip(i, 40), 9, 0);

		cp_book_add(b, &a, IP(66, 1, 2, 3), NOW);
	}
	printf("\n  one source: %u of 10000 kept (limit %u)", cp_book_size(b), limit);
	CU_ASSERT(cp_book_size(b) <= limit);
	CU_ASSERT(cp_book_size(b) >= limit / 2); /* and it does fill its share */
	CU_ASSERT(new_buckets_used(b) <= CP_BOOK_NEW_PER_SOURCE_GROUP);
	CU_ASSERT_EQUAL(cp_book_stats(b)->refused_full, 10000 - cp_book_size(b));
	/* the same from 10,000 sources of that one /16 */
	for (uint32_t i = 0; i < 10000; i++) {
		struct cp_addr a = taddr(tip(20000 + i, 40), 9, 0);

		cp_book_add(b, &a, IP(66, 1, i >> 8, i & 0xff), NOW);
	}
	CU_ASSERT(cp_book_size(b) <= limit);
	CU_ASSERT(new_buckets_used(b) <= CP_BOOK_NEW_PER_SOURCE_GROUP);
	/* a second group adds its own share at most */
	for (uint32_t i = 0; i < 10000; i++) {
		struct cp_addr a = taddr(tip(40000 + i, 40), 9, 0);

		cp_book_add(b, &a, IP(67, 1, 2, 3), NOW);
	}
	CU_ASSERT(cp_book_size(b) <= 2 * limit);
	CU_ASSERT(new_buckets_used(b) <= 2 * CP_BOOK_NEW_PER_SOURCE_GROUP);
	CU_ASSERT(tbook_ok(b));
	cp_book_destroy(b);
}

static void
test_spread_many_sources(void)
{
	struct cp_book *b = tbook(NULL, 7);

	/* 256 peers of 256 groups tell us 20 addresses each */
	for (uint32_t g = 0; g < 256; g++)
		for (uint32_t k = 0; k < 20; k++) {
			struct cp_addr a = taddr(tip(g * 20 + k, 1), 9, 0);

			cp_book_add(b, &a, IP(30 + g / 64, g, 0, 1), NOW);
		}
	printf("\n  many sources: %u of 5120 kept, %u buckets", cp_book_size(b),
	       new_buckets_used(b));
	/* one slot per address and bucket: at the final load L = 5120 / 16384 about
	 * (1 - e^-L) / L = 86 % find theirs free (a one-source flood keeps at most 2048) */
	CU_ASSERT(cp_book_size(b) >= 5120 * 8 / 10);
	CU_ASSERT(new_buckets_used(b) >= 200);
	CU_ASSERT(tbook_ok(b));
	cp_book_destroy(b);
}

/* Honest addresses first, then one source floods: bucketed, every honest one stays; flat, the
 * flood replaces nearly all of them. */
static unsigned int
flood_survivors(bool bucketing)
{
	struct cp_book_config c = small(64, 16, 16);
	struct cp_book *b;
	unsigned int left;

	c.bucketing = bucketing;
	c.new_per_source_group = 8;
	b = tbook(&c, 3);
	for (uint32_t i = 0; i < 300; i++) {
		struct cp_addr a = taddr(tip(i, 1), 9, 0);

		cp_book_add(b, &a, IP(40 + i % 30, 1, 0, 1), NOW);
	}
	left = held(b, 0, 300, 1);
	for (uint32_t i = 0; i < 10000; i++) {
		struct cp_addr a = taddr(tip(1000 + i, 40), 9, 0);

		cp_book_add(b, &a, IP(66, 1, 2, 3), NOW + 1);
	}
	CU_ASSERT(tbook_ok(b));
	if (bucketing)
		CU_ASSERT(cp_book_size(b) <= left + 8 * 16);
	printf("\n  %s: %u honest before the flood, %u after, book %u",
	       bucketing ? "bucketed" : "flat", left, held(b, 0, 300, 1), cp_book_size(b));
	left = held(b, 0, 300, 1);
	cp_book_destroy(b);
	return left;
}

static void
test_flood_bucketing_off(void)
{
	unsigned int bucketed = flood_survivors(true), flat = flood_survivors(false);

	CU_ASSERT(bucketed >= 250); /* all that fitted in the first place */
	CU_ASSERT(flat < 30);
}

/* --- connections and identities --------------------------------------------------------------- */

static void
test_good_tried(void)
{
	struct cp_book *b = tbook(NULL, 1);
	struct cp_addr a = taddr(IP(8, 8, 8, 8), 9, 0), x = taddr(IP(8, 8, 8, 8), 9, 42);
	struct cp_book_info info;

	CU_ASSERT_EQUAL(cp_book_add(b, &a, IP(1, 1, 1, 1), NOW), 0);
	cp_book_attempt(b, &a, NOW);
	CU_ASSERT_EQUAL(cp_book_lookup(b, &a, &info), 0);
	CU_ASSERT(!info.tried && info.refs == 1 && info.attempts == 1 && info.last_try == NOW);
	CU_ASSERT(!cp_book_knows(b, x.id));
	cp_book_good(b, &x, 20000000, NOW + 1); /* the handshake says it is node 42 */
	CU_ASSERT_EQUAL(cp_book_lookup(b, &a, &info), 0);
	CU_ASSERT(info.tried && info.refs == 0 && info.attempts == 0 && info.successes == 1);
	CU_ASSERT(info.last_success == NOW + 1 && info.addr.last_seen == NOW + 1);
	CU_ASSERT(info.rtt_ns == 20000000 && (info.addr.flags & CP_ADDR_F_HAS_ID));
	CU_ASSERT(cp_book_knows(b, x.id));
	cp_book_good(b, &x, 40000000, NOW + 2);
	CU_ASSERT_EQUAL(cp_book_lookup(b, &a, &info), 0);
	CU_ASSERT_EQUAL(info.rtt_ns, 22500000); /* 7/8 old + 1/8 new */
	CU_ASSERT_EQUAL(info.successes, 2);
	cp_book_good(b, &x, 0, NOW + 3); /* not measured: unchanged */
	CU_ASSERT_EQUAL(cp_book_lookup(b, &a, &info), 0);
	CU_ASSERT_EQUAL(info.rtt_ns, 22500000);
	/* still connected a week later: last seen moves on */
	cp_book_seen(b, &a, NOW + 7 * DAY);
	CU_ASSERT_EQUAL(cp_book_lookup(b, &a, &info), 0);
	CU_ASSERT_EQUAL(info.addr.last_seen, NOW + 7 * DAY);
	CU_ASSERT_EQUAL(info.successes, 3);
	/* good for an address never heard of: straight to tried */
	{
		struct cp_addr c = taddr(IP(9, 9, 9, 9), 9, 43);

		cp_book_good(b, &c, 0, NOW);
		CU_ASSERT_EQUAL(cp_book_lookup(b, &c, &info), 0);
		CU_ASSERT(info.tried);
	}
	CU_ASSERT_EQUAL(cp_book_stats(b)->promoted, 2);
	CU_ASSERT_EQUAL(cp_book_stats(b)->entries_tried, 2);
	CU_ASSERT_EQUAL(cp_book_stats(b)->goods, 4);
	CU_ASSERT_EQUAL(cp_book_stats(b)->attempts, 1);
	/* attempts at unknown addresses change nothing */
	{
		struct cp_addr u = taddr(IP(7, 7, 7, 7), 9, 0);

		cp_book_attempt(b, &u, NOW);
		CU_ASSERT_EQUAL(cp_book_stats(b)->attempts, 1);
	}
	CU_ASSERT(tbook_ok(b));
	cp_book_destroy(b);
}

static void
test_identity(void)
{
	struct cp_book *b = tbook(NULL, 1);
	struct cp_addr a = taddr(IP(8, 8, 8, 8), 9, 42); /* node 42 */
	struct cp_addr c = taddr(IP(9, 9, 9, 9), 9, 42); /* node 42 elsewhere, says someone */
	struct cp_addr y = taddr(IP(8, 8, 8, 8), 9, 43); /* a claims to be 43 */
	struct cp_addr n = taddr(IP(8, 8, 8, 8), 9, 0);	 /* a without id */
	struct cp_book_info info;

	cp_book_good(b, &a, 0, NOW);
	CU_ASSERT_EQUAL(cp_book_add(b, &c, IP(1, 1, 1, 1), NOW), 0); /* a second entry */
	CU_ASSERT_EQUAL(cp_book_size(b), 2);
	CU_ASSERT_EQUAL(cp_book_add(b, &y, IP(1, 1, 1, 1), NOW), -EEXIST);
	CU_ASSERT_EQUAL(cp_book_stats(b)->id_conflicts, 1);
	CU_ASSERT_EQUAL(cp_book_add(b, &n, IP(1, 1, 1, 1), NOW), 0); /* news without id: fine */
	CU_ASSERT_EQUAL(cp_book_lookup(b, &n, &info), 0);
	CU_ASSERT_EQUAL(memcmp(info.addr.id, a.id, SL_KEY_LEN), 0);
	/* node 42 is found at c by a handshake: the entry at a goes */
	cp_book_good(b, &c, 0, NOW + 10);
	CU_ASSERT_EQUAL(cp_book_lookup(b, &a, &info), -ENOENT);
	CU_ASSERT_EQUAL(cp_book_lookup(b, &c, &info), 0);
	CU_ASSERT(info.tried);
	CU_ASSERT_EQUAL(cp_book_stats(b)->moved, 1);
	CU_ASSERT(cp_book_knows(b, a.id));
	CU_ASSERT(!cp_book_knows(b, y.id));
	/* a handshake finds node 43 at c: c is re-pinned, 42 is forgotten */
	{
		struct cp_addr c43 = taddr(IP(9, 9, 9, 9), 9, 43);

		cp_book_good(b, &c43, 0, NOW + 20);
		CU_ASSERT(cp_book_knows(b, y.id));
		CU_ASSERT(!cp_book_knows(b, a.id));
	}
	/* an address heard of without id: hearsay does not name it, the node itself does */
	{
		struct cp_addr d = taddr(IP(7, 7, 7, 7), 9, 0), d44 = taddr(IP(7, 7, 7, 7), 9, 44);
		struct cp_addr d45 = taddr(IP(7, 7, 7, 7), 9, 45);

		CU_ASSERT_EQUAL(cp_book_add(b, &d, IP(1, 1, 1, 1), NOW), 0);
		CU_ASSERT_EQUAL(cp_book_add(b, &d44, IP(1, 1, 1, 1), NOW), 0);
		CU_ASSERT(!cp_book_knows(b, d44.id));
		CU_ASSERT_EQUAL(cp_book_add(b, &d44, d44.ip, NOW), 0);
		CU_ASSERT(cp_book_knows(b, d44.id));
		CU_ASSERT_EQUAL(cp_book_add(b, &d45, d45.ip, NOW), -EEXIST); /* never replaced */
		CU_ASSERT(!cp_book_knows(b, d45.id));
	}
	CU_ASSERT(tbook_ok(b));
	cp_book_destroy(b);
}

/* One tried slot: a newcomer waits while the occupant is recent, then takes it. */
static void
test_tried_collision(void)
{
	for (int flat = 0; flat <= 1; flat++) {
		struct cp_book_config c = small(4, 1, 1);
		struct cp_addr a = taddr(IP(8, 8, 8, 8), 9, 1), x = taddr(IP(9, 9, 9, 9), 9, 2);
		struct cp_book_info info;
		struct cp_book *b;

		c.bucketing = !flat;
		b = tbook(&c, 5);
		cp_book_good(b, &a, 0, NOW);
		cp_book_good(b, &x, 0, NOW + 10);
		CU_ASSERT_EQUAL(cp_book_lookup(b, &x, &info), 0);
		CU_ASSERT_EQUAL(info.tried, (bool)flat); /* flat pools have no such care */
		CU_ASSERT_EQUAL(cp_book_stats(b)->tried_collisions, flat ? 0 : 1);
		cp_book_good(b, &x, 0, NOW + CP_BOOK_REPLACEMENT_S + 11);
		CU_ASSERT_EQUAL(cp_book_lookup(b, &x, &info), 0);
		CU_ASSERT(info.tried);
		CU_ASSERT_EQUAL(cp_book_lookup(b, &a, &info), 0); /* back in new, not gone */
		CU_ASSERT(!info.tried);
		CU_ASSERT_EQUAL(cp_book_stats(b)->demoted, 1);
		CU_ASSERT(tbook_ok(b));
		cp_book_destroy(b);
	}
}

/* --- stale entries give way ------------------------------------------------------------------- */

static void
test_stale(void)
{
	static const struct {
		const char *what;
		unsigned int attempts;
		uint64_t tried_ago,
			later; /* attempts that long before NOW; B comes at NOW + later */
		bool replaced;
	} t[] = {
		{ "fresh", 0, 0, 0, false },
		{ "not seen for the horizon", 0, 0, CP_BOOK_HORIZON_S + DAY, true },
		{ "retries without success", CP_BOOK_RETRIES, 2 * HOUR, 0, true },
		{ "fewer retries", CP_BOOK_RETRIES - 1, 2 * HOUR, 0, false },
		{ "retries, but just tried", CP_BOOK_RETRIES, 30, 0, false },
	};

	for (unsigned int i = 0; i < RTE_DIM(t); i++) {
		struct cp_book_config c = small(1, 1, 1);
		struct cp_book *b = tbook(&c, 1);
		struct cp_addr a = taddr(IP(8, 8, 8, 8), 9, 0), x = taddr(IP(9, 9, 9, 9), 9, 0);
		struct cp_book_info info;
		int rc;

		CU_ASSERT_EQUAL(cp_book_add(b, &a, a.ip, NOW), 0);
		for (unsigned int k = 0; k < t[i].attempts; k++)
			cp_book_attempt(b, &a, NOW - t[i].tried_ago);
		x.last_seen = NOW + t[i].later;
		rc = cp_book_add(b, &x, x.ip, NOW + t[i].later);
		if ((rc == 0) != t[i].replaced)
			printf("\n  %s: %d", t[i].what, rc);
		CU_ASSERT_EQUAL(rc, t[i].replaced ? 0 : -ENOSPC);
		CU_ASSERT_EQUAL(cp_book_lookup(b, &a, &info) == 0, !t[i].replaced);
		CU_ASSERT_EQUAL(cp_book_stats(b)->evicted, t[i].replaced);
		CU_ASSERT_EQUAL(cp_book_size(b), 1);
		cp_book_destroy(b);
	}
}

/* --- bad marks and bans ----------------------------------------------------------------------- */

static void
test_ban_expiry(void)
{
	struct cp_book *b = tbook(NULL, 1);
	struct cp_addr a = taddr(IP(8, 8, 8, 8), 9, 42);
	struct cp_addr a2 = taddr(IP(9, 9, 9, 9), 7, 42); /* the same node elsewhere */
	struct cp_addr anon = taddr(IP(9, 9, 9, 9), 7, 0);

	CU_ASSERT_EQUAL(cp_book_add(b, &a, a.ip, NOW), 0);
	cp_book_ban(b, &a, NOW + 100);
	CU_ASSERT_EQUAL(cp_book_size(b), 0);
	CU_ASSERT(cp_book_banned(b, &a, NOW));
	CU_ASSERT(cp_book_banned(b, &a, NOW + 99));
	CU_ASSERT(!cp_book_banned(b, &a, NOW + 100));
	CU_ASSERT(cp_book_banned(b, &a2, NOW)); /* by id */
	CU_ASSERT(!cp_book_banned(b, &anon, NOW));
	CU_ASSERT_EQUAL(cp_book_add(b, &a, a.ip, NOW + 50), -EPERM);
	CU_ASSERT_EQUAL(cp_book_add(b, &a2, a.ip, NOW + 50), -EPERM);
	CU_ASSERT_EQUAL(cp_book_add(b, &anon, a.ip, NOW + 50), 0);
	cp_book_good(b, &a, 0, NOW + 50);
	CU_ASSERT_EQUAL(cp_book_size(b), 1);
	CU_ASSERT_EQUAL(cp_book_stats(b)->refused_banned, 2);
	/* a ban is never shortened */
	cp_book_ban(b, &a, NOW + 10);
	CU_ASSERT(cp_book_banned(b, &a, NOW + 50));
	CU_ASSERT_EQUAL(cp_book_stats(b)->bans, 1);
	/* expired */
	CU_ASSERT_EQUAL(cp_book_add(b, &a, a.ip, NOW + 100), 0);
	CU_ASSERT_EQUAL(cp_book_size(b), 2);
	CU_ASSERT(tbook_ok(b));
	cp_book_destroy(b);
}

static void
test_ban_capacity(void)
{
	struct cp_book_config c;
	struct cp_book *b;
	static const uint64_t until[] = { 100, 50, 200, 300 };

	cp_book_config_defaults(&c);
	c.max_bans = 3;
	b = tbook(&c, 1);
	for (unsigned int i = 0; i < RTE_DIM(until); i++) {
		struct cp_addr a = taddr(tip(i, 1), 9, 0);

		cp_book_ban(b, &a, NOW + until[i]);
	}
	for (unsigned int i = 0; i < RTE_DIM(until); i++) {
		struct cp_addr a = taddr(tip(i, 1), 9, 0);

		CU_ASSERT_EQUAL(cp_book_banned(b, &a, NOW), i != 1); /* the soonest went */
	}
	CU_ASSERT_EQUAL(cp_book_stats(b)->bans_dropped, 1);
	CU_ASSERT_EQUAL(cp_book_stats(b)->bans, 3);
	CU_ASSERT_EQUAL(cp_book_stats(b)->banned, 4);
	cp_book_destroy(b);
}

static bool
never(void *arg, const struct cp_addr *a)
{
	(void)arg;
	(void)a;
	return false;
}

static void
test_bad(void)
{
	struct cp_book *b = tbook(NULL, 1);
	struct cp_addr a = taddr(IP(8, 8, 8, 8), 9, 42), out;
	struct cp_addr by_id = taddr(IP(1, 2, 3, 4), 5, 42);
	struct cp_addr unknown = taddr(IP(7, 7, 7, 7), 9, 0);
	struct cp_book_info info;

	cp_book_good(b, &a, 0, NOW);
	cp_book_bad(b, &unknown, NOW); /* ignored */
	CU_ASSERT_EQUAL(cp_book_stats(b)->marked_bad, 0);
	cp_book_bad(b, &a, NOW);
	CU_ASSERT_EQUAL(cp_book_lookup(b, &a, &info), 0);
	CU_ASSERT(!info.tried && info.bad_count == 1 && info.bad_until == NOW + CP_BOOK_BAD_S);
	CU_ASSERT_EQUAL(cp_book_stats(b)->demoted, 1);
	CU_ASSERT_EQUAL(cp_book_pick(b, 50, never, NULL, NOW + 10, &out), -ENOENT);
	CU_ASSERT_EQUAL(cp_book_sample(b, &out, 1, NOW + 10), 0);
	CU_ASSERT_EQUAL(cp_book_pick(b, 50, NULL, NULL, NOW + CP_BOOK_BAD_S, &out), 0);
	CU_ASSERT(cp_book_sample(b, &out, 1, NOW + CP_BOOK_BAD_S) == 1);
	CU_ASSERT_EQUAL(out.ip, a.ip);
	cp_book_bad(b, &by_id, NOW + 2 * CP_BOOK_BAD_S); /* found by its id */
	CU_ASSERT_EQUAL(cp_book_lookup(b, &a, &info), 0);
	CU_ASSERT_EQUAL(info.bad_count, 2);
	cp_book_bad(b, &a, NOW + 3 * CP_BOOK_BAD_S); /* the third: banned */
	CU_ASSERT_EQUAL(cp_book_size(b), 0);
	CU_ASSERT(cp_book_banned(b, &a, NOW + 3 * CP_BOOK_BAD_S + CP_BOOK_BAN_S - 1));
	CU_ASSERT(!cp_book_banned(b, &a, NOW + 3 * CP_BOOK_BAD_S + CP_BOOK_BAN_S));
	CU_ASSERT_EQUAL(cp_book_stats(b)->marked_bad, 3);
	CU_ASSERT_EQUAL(cp_book_stats(b)->banned, 1);
	cp_book_destroy(b);
}

/* --- the keyed hash is SipHash-2-4 ------------------------------------------------------------ */

static void
test_siphash(void)
{
	uint64_t s = 99;

	for (unsigned int n = 0; n <= 6; n++) {
		uint8_t key[crypto_shorthash_KEYBYTES], bytes[48], out[crypto_shorthash_BYTES];
		uint64_t k[2], m[6], want;

		for (unsigned int i = 0; i < sizeof(key); i++)
			key[i] = (uint8_t)sl_test_mix64(&s);
		for (unsigned int i = 0; i < n; i++)
			m[i] = sl_test_mix64(&s);
		memcpy(k, key, sizeof(k)); /* little-endian machine: the words are the bytes */
		memcpy(bytes, m, 8 * n);
		crypto_shorthash(out, bytes, 8 * n, key);
		memcpy(&want, out, 8);
		CU_ASSERT_EQUAL(cp_bk_siphash(k, m, n), want);
	}
}

static CU_TestInfo cases[] = {
	{ "config", test_config },
	{ "add_rules", test_add_rules },
	{ "last_seen", test_last_seen },
	{ "flood_one_source", test_flood_one_source },
	{ "spread_many_sources", test_spread_many_sources },
	{ "flood_bucketing_off", test_flood_bucketing_off },
	{ "good_tried", test_good_tried },
	{ "identity", test_identity },
	{ "tried_collision", test_tried_collision },
	{ "stale", test_stale },
	{ "ban_expiry", test_ban_expiry },
	{ "ban_capacity", test_ban_capacity },
	{ "bad", test_bad },
	{ "siphash", test_siphash },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("book", cases)
