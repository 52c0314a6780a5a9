/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: the connection pool's policy (cp_pool) — caps per direction, persistent
 * and unconditional peers, the inbound allow-list, eviction of the worst inbound peer for a
 * newcomer from a rarer network group (and never otherwise), outbound diversity by group, the
 * bias towards new addresses; then long random runs checked against the invariants: the
 * counts equal the entries by side, caps hold for everything but persistent peers, a refused
 * session never enters, an evicted peer is always an evictable inbound one.
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>

#include "cp_pool.h"
#include "sl_test.h"

static void
id_of(uint8_t id[SL_KEY_LEN], uint32_t n)
{
	memset(id, 0, SL_KEY_LEN);
	memcpy(id, &n, sizeof(n));
	id[31] = 0x5a;
}

static struct cp_pool *
make(uint32_t in, uint32_t out, uint32_t uncond)
{
	struct cp_pool_config cfg;
	struct cp_pool *p;

	cp_pool_config_defaults(&cfg);
	cfg.max_inbound = in, cfg.max_outbound = out, cfg.max_unconditional = uncond;
	p = cp_pool_create(&cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	return p;
}

/* Admit and, if kept, open: the verdict. */
static enum cp_pool_verdict
join(struct cp_pool *p, uint32_t n, uint32_t group, unsigned int flags, uint64_t now)
{
	uint8_t id[SL_KEY_LEN], victim[SL_KEY_LEN];
	enum cp_pool_verdict v;

	id_of(id, n);
	v = cp_pool_admit(p, id, group, flags, victim);
	if (v == CP_POOL_EVICT)
		CU_ASSERT_EQUAL(cp_pool_closed(p, victim), 0);
	if (v == CP_POOL_ACCEPT || v == CP_POOL_EVICT)
		CU_ASSERT(cp_pool_opened(p, id, group, flags, now) != -ENOSPC);
	return v;
}

static bool
has(const struct cp_pool *p, uint32_t n)
{
	uint8_t id[SL_KEY_LEN];

	id_of(id, n);
	return cp_pool_has(p, id);
}

static void
test_create(void)
{
	struct cp_pool_config cfg;

	cp_pool_config_defaults(&cfg);
	CU_ASSERT_EQUAL(cfg.max_inbound, 32);
	CU_ASSERT_EQUAL(cfg.max_outbound, 8);
	CU_ASSERT_TRUE(cfg.inbound_open);
	cfg.max_inbound = cfg.max_outbound = cfg.max_unconditional = cfg.max_persistent = 0;
	errno = 0;
	CU_ASSERT_PTR_NULL(cp_pool_create(&cfg));
	CU_ASSERT_EQUAL(errno, EINVAL);
	cfg.max_inbound = CP_POOL_MAX_PEERS;
	cfg.max_outbound = 1;
	CU_ASSERT_PTR_NULL(cp_pool_create(&cfg));
	cfg.max_inbound = 4;
	cfg.n_allow = 1; /* without its array */
	CU_ASSERT_PTR_NULL(cp_pool_create(&cfg));
	CU_ASSERT_STRING_EQUAL(cp_pool_verdict_name(CP_POOL_REFUSE_FULL), "connection pool full");
}

static void
test_outbound_cap(void)
{
	struct cp_pool *p = make(4, 3, 1);
	uint8_t id[SL_KEY_LEN];

	CU_ASSERT_EQUAL(cp_pool_outbound_wanted(p), 3);
	for (uint32_t n = 0; n < 3; n++)
		CU_ASSERT_EQUAL(join(p, n, n, CP_POOL_F_OUTBOUND, 1), CP_POOL_ACCEPT);
	CU_ASSERT_EQUAL(cp_pool_outbound_wanted(p), 0);
	CU_ASSERT_EQUAL(join(p, 3, 3, CP_POOL_F_OUTBOUND, 1), CP_POOL_REFUSE_FULL);
	CU_ASSERT_FALSE(has(p, 3));
	/* a configured (persistent) peer is dialled whatever the cap says */
	CU_ASSERT_EQUAL(join(p, 4, 4, CP_POOL_F_OUTBOUND | CP_POOL_F_PERSISTENT, 1),
			CP_POOL_ACCEPT);
	CU_ASSERT_EQUAL(cp_pool_stats(p)->outbound, 4);
	CU_ASSERT_EQUAL(cp_pool_outbound_wanted(p), 0);
	/* a known node's new session is accepted and replaces its entry */
	CU_ASSERT_EQUAL(join(p, 0, 0, CP_POOL_F_OUTBOUND, 2), CP_POOL_ACCEPT);
	CU_ASSERT_EQUAL(cp_pool_stats(p)->outbound, 4);
	id_of(id, 0);
	CU_ASSERT_EQUAL(cp_pool_closed(p, id), 0);
	CU_ASSERT_EQUAL(cp_pool_closed(p, id), -ENOENT);
	CU_ASSERT_EQUAL(cp_pool_outbound_wanted(p), 0); /* 3 left: the persistent one counts */
	id_of(id, 4);
	CU_ASSERT_EQUAL(cp_pool_closed(p, id), 0);
	CU_ASSERT_EQUAL(cp_pool_outbound_wanted(p), 1);
	CU_ASSERT_EQUAL(cp_pool_stats(p)->refused_full, 1);
	CU_ASSERT_EQUAL(cp_pool_stats(p)->closed, 2);
	cp_pool_destroy(p);
}

static void
test_hard_capacity(void)
{
	struct cp_pool_config cfg;
	struct cp_pool *p;
	unsigned int pers_out = CP_POOL_F_OUTBOUND | CP_POOL_F_PERSISTENT;

	cp_pool_config_defaults(&cfg);
	cfg.max_inbound = cfg.max_outbound = cfg.max_persistent = 1;
	cfg.max_unconditional = 0;
	p = cp_pool_create(&cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(join(p, 0, 0, CP_POOL_F_OUTBOUND, 1), CP_POOL_ACCEPT);
	CU_ASSERT_EQUAL(join(p, 1, 1, pers_out, 1), CP_POOL_ACCEPT);
	CU_ASSERT_EQUAL(join(p, 2, 2, pers_out, 1), CP_POOL_ACCEPT); /* the inbound room */
	CU_ASSERT_EQUAL(join(p, 3, 3, pers_out, 1), CP_POOL_REFUSE_FULL);
	CU_ASSERT_EQUAL(join(p, 4, 4, 0, 1), CP_POOL_REFUSE_FULL);
	CU_ASSERT_EQUAL(join(p, 5, 5, CP_POOL_F_UNCONDITIONAL, 1), CP_POOL_REFUSE_FULL);
	CU_ASSERT_EQUAL(join(p, 1, 1, pers_out, 2), CP_POOL_ACCEPT); /* known: replaced */
	CU_ASSERT_EQUAL(cp_pool_stats(p)->outbound, 3);
	cp_pool_destroy(p);
}

static void
test_allow_list(void)
{
	uint8_t allow[2][SL_KEY_LEN];
	struct cp_pool_config cfg;
	struct cp_pool *p;

	id_of(allow[0], 10);
	id_of(allow[1], 11);
	cp_pool_config_defaults(&cfg);
	cfg.inbound_open = false;
	cfg.n_allow = 2;
	cfg.allow = (const uint8_t(*)[SL_KEY_LEN])allow;
	p = cp_pool_create(&cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(join(p, 1, 1, 0, 1), CP_POOL_REFUSE_POLICY);
	CU_ASSERT_EQUAL(join(p, 10, 1, 0, 1), CP_POOL_ACCEPT);
	CU_ASSERT_EQUAL(join(p, 2, 1, CP_POOL_F_UNCONDITIONAL, 1), CP_POOL_ACCEPT);
	CU_ASSERT_EQUAL(join(p, 3, 1, CP_POOL_F_PERSISTENT, 1), CP_POOL_ACCEPT);
	CU_ASSERT_EQUAL(join(p, 4, 1, CP_POOL_F_OUTBOUND, 1), CP_POOL_ACCEPT); /* we dialled */
	CU_ASSERT_FALSE(has(p, 1));
	CU_ASSERT_EQUAL(cp_pool_stats(p)->refused_policy, 1);
	CU_ASSERT_EQUAL(cp_pool_stats(p)->inbound, 2);
	CU_ASSERT_EQUAL(cp_pool_stats(p)->unconditional, 1);
	cp_pool_destroy(p);
}

/* Inbound full: 6 peers from group 1 (ids 0..5, joined at times 0..5), 2 from groups 2, 3. */
static struct cp_pool *
full_inbound(void)
{
	struct cp_pool *p = make(8, 2, 2);

	for (uint32_t n = 0; n < 6; n++)
		CU_ASSERT_EQUAL(join(p, n, 1, 0, n), CP_POOL_ACCEPT);
	CU_ASSERT_EQUAL(join(p, 6, 2, 0, 6), CP_POOL_ACCEPT);
	CU_ASSERT_EQUAL(join(p, 7, 3, 0, 7), CP_POOL_ACCEPT);
	return p;
}

static void
test_eviction(void)
{
	struct cp_pool *p = full_inbound();

	/* from group 1 (6 there) or group 2 (1 there, 1+1 >= 6 is false: improves) */
	CU_ASSERT_EQUAL(join(p, 20, 1, 0, 9), CP_POOL_REFUSE_FULL);
	CU_ASSERT_EQUAL(join(p, 21, 9, 0, 9), CP_POOL_EVICT);
	CU_ASSERT_FALSE(has(p, 5)); /* the youngest of the largest group */
	CU_ASSERT_TRUE(has(p, 21) && has(p, 0) && has(p, 4));
	CU_ASSERT_EQUAL(join(p, 22, 2, 0, 10), CP_POOL_EVICT); /* group 2: 1 + 1 < 5 */
	CU_ASSERT_FALSE(has(p, 4));
	/* group 1 now holds 4, group 2 holds 2: a third from group 2 still evens it out */
	CU_ASSERT_EQUAL(join(p, 23, 2, 0, 11), CP_POOL_EVICT);
	CU_ASSERT_FALSE(has(p, 3));
	/* 3 and 3: the victim would be group 2's youngest (id 23), a fourth from group 2 would
	 * only take its place */
	CU_ASSERT_EQUAL(join(p, 24, 2, 0, 12), CP_POOL_REFUSE_FULL);
	CU_ASSERT_TRUE(has(p, 23));
	/* a configured peer takes a place whatever its group */
	CU_ASSERT_EQUAL(join(p, 25, 1, CP_POOL_F_PERSISTENT, 13), CP_POOL_EVICT);
	CU_ASSERT_FALSE(has(p, 23));
	CU_ASSERT_EQUAL(cp_pool_stats(p)->inbound, 8);
	CU_ASSERT_EQUAL(cp_pool_stats(p)->evicted, 4);
	CU_ASSERT_EQUAL(cp_pool_stats(p)->refused_full, 2);
	cp_pool_destroy(p);
}

static void
test_nothing_evictable(void)
{
	struct cp_pool *p = make(2, 1, 1);

	CU_ASSERT_EQUAL(join(p, 0, 1, CP_POOL_F_PERSISTENT, 0), CP_POOL_ACCEPT);
	CU_ASSERT_EQUAL(join(p, 1, 1, CP_POOL_F_PERSISTENT, 0), CP_POOL_ACCEPT);
	CU_ASSERT_EQUAL(join(p, 2, 7, 0, 1), CP_POOL_REFUSE_FULL);
	CU_ASSERT_EQUAL(join(p, 3, 7, CP_POOL_F_PERSISTENT, 1), CP_POOL_REFUSE_FULL);
	/* unconditional: its own cap */
	CU_ASSERT_EQUAL(join(p, 4, 7, CP_POOL_F_UNCONDITIONAL, 1), CP_POOL_ACCEPT);
	CU_ASSERT_EQUAL(join(p, 5, 7, CP_POOL_F_UNCONDITIONAL, 1), CP_POOL_REFUSE_FULL);
	CU_ASSERT_TRUE(has(p, 0) && has(p, 1) && has(p, 4));
	cp_pool_destroy(p);
}

static void
test_groups(void)
{
	struct cp_pool *p = make(4, 4, 1);

	CU_ASSERT_FALSE(cp_pool_group_taken(p, 7));
	CU_ASSERT_EQUAL(join(p, 0, 7, 0, 1), CP_POOL_ACCEPT); /* inbound: does not take it */
	CU_ASSERT_FALSE(cp_pool_group_taken(p, 7));
	CU_ASSERT_EQUAL(join(p, 1, 8, CP_POOL_F_UNCONDITIONAL | CP_POOL_F_OUTBOUND, 1),
			CP_POOL_ACCEPT); /* unconditional: neither */
	CU_ASSERT_FALSE(cp_pool_group_taken(p, 8));
	for (uint32_t n = 0; n < 4; n++) {
		CU_ASSERT_EQUAL(join(p, 10 + n, 20 + n, CP_POOL_F_OUTBOUND, 1), CP_POOL_ACCEPT);
		CU_ASSERT_TRUE(cp_pool_group_taken(p, 20 + n));
	}
	CU_ASSERT_EQUAL(cp_pool_outbound_wanted(p), 0);
	cp_pool_destroy(p);
}

/* --- random runs against the invariants ------------------------------------------------------ */

#define R_IDS 64

struct model {
	bool in[R_IDS];
	unsigned int flags[R_IDS];
};

static void
check_model(const struct cp_pool *p, const struct model *m, uint32_t max_in, uint32_t max_out)
{
	uint32_t in = 0, out = 0, uncond = 0, pers_in = 0, pers_out = 0;

	for (uint32_t n = 0; n < R_IDS; n++) {
		CU_ASSERT_EQUAL_FATAL(has(p, n), m->in[n]);
		if (!m->in[n])
			continue;
		if (m->flags[n] & CP_POOL_F_UNCONDITIONAL)
			uncond++;
		else if (m->flags[n] & CP_POOL_F_OUTBOUND)
			out++, pers_out += !!(m->flags[n] & CP_POOL_F_PERSISTENT);
		else
			in++, pers_in += !!(m->flags[n] & CP_POOL_F_PERSISTENT);
	}
	CU_ASSERT_EQUAL_FATAL(cp_pool_stats(p)->inbound, in);
	CU_ASSERT_EQUAL_FATAL(cp_pool_stats(p)->outbound, out);
	CU_ASSERT_EQUAL_FATAL(cp_pool_stats(p)->unconditional, uncond);
	CU_ASSERT_FATAL(in <= max_in || in - pers_in <= max_in);
	CU_ASSERT_FATAL(out <= max_out || out - pers_out <= max_out);
}

static void
random_step(struct cp_pool *p, struct model *m, uint64_t *rng, uint64_t now)
{
	uint64_t r = sl_test_mix64(rng);
	uint32_t n = (uint32_t)(r % R_IDS), group = (uint32_t)(r >> 8) % 5;
	/* a node's kind is its configuration's (fixed), the direction of each session random */
	unsigned int flags = (n % 8 == 0 ? CP_POOL_F_PERSISTENT : 0) |
			     (n % 13 == 0 ? CP_POOL_F_UNCONDITIONAL : 0) |
			     ((r >> 16) % 3 == 0 ? CP_POOL_F_OUTBOUND : 0);
	uint8_t id[SL_KEY_LEN], victim[SL_KEY_LEN];
	enum cp_pool_verdict v;

	id_of(id, n);
	if (m->in[n] && (r >> 24) % 3 == 0) {
		CU_ASSERT_EQUAL_FATAL(cp_pool_closed(p, id), 0);
		m->in[n] = false;
		return;
	}
	v = cp_pool_admit(p, id, group, flags, victim);
	if (v == CP_POOL_EVICT) {
		uint32_t vn;

		memcpy(&vn, victim, sizeof(vn));
		CU_ASSERT_FATAL(vn < R_IDS && m->in[vn] && m->flags[vn] == 0);
		CU_ASSERT_EQUAL_FATAL(cp_pool_closed(p, victim), 0);
		m->in[vn] = false;
	}
	if (v == CP_POOL_ACCEPT || v == CP_POOL_EVICT) {
		int rc = cp_pool_opened(p, id, group, flags, now);

		CU_ASSERT_FATAL(rc == (m->in[n] ? -EEXIST : 0));
		m->in[n] = true;
		m->flags[n] = flags;
	}
}

static void
test_random_invariants(void)
{
	uint64_t rng = 0x9001;

	for (int run = 0; run < 40; run++) {
		uint32_t max_in = 1 + run % 9, max_out = 1 + run % 4;
		struct cp_pool *p = make(max_in, max_out, 3);
		struct model m = { 0 };

		for (uint64_t k = 0; k < 5000; k++) {
			random_step(p, &m, &rng, k);
			check_model(p, &m, max_in, max_out);
		}
		CU_ASSERT(cp_pool_stats(p)->evicted > 0);
		cp_pool_destroy(p);
	}
}

static CU_TestInfo cases[] = {
	{ "create: defaults and rejected configurations", test_create },
	{ "outbound cap, persistent peers, replacement", test_outbound_cap },
	{ "hard capacity: persistent peers beyond the caps", test_hard_capacity },
	{ "inbound allow-list", test_allow_list },
	{ "eviction only for a rarer network group", test_eviction },
	{ "nothing evictable, unconditional cap", test_nothing_evictable },
	{ "outbound groups", test_groups },
	{ "random runs keep the invariants", test_random_invariants },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("pool", cases)
