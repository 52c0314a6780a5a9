/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: newest handshake timestamp per identity — replays refused, and when the table is full
 * the identity accepted least recently gives way (a replay does not count as an update).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "cp_hs_stamps.h"
#include "sl_lru.h"
#include "sl_test.h"

#define NOW 1000 /* the clock is not used by the table */

static uint8_t pubs[5][SL_KEY_LEN];

static void
make_pubs(void)
{
	for (unsigned int i = 0; i < 5; i++) {
		memset(pubs[i], 0x40 + (int)i, SL_KEY_LEN);
		pubs[i][SL_KEY_LEN - 1] = (uint8_t)i; /* differ at both ends */
	}
}

struct step {
	unsigned int who; /* pubs[who] */
	uint64_t ts;
	bool fresh; /* what cp_hs_stamps_fresh() must say */
};

struct scenario {
	const char *name;
	uint32_t capacity;
	struct step steps[16];
	unsigned int n_steps;
	uint32_t count;	    /* identities held at the end */
	uint64_t evictions; /* identities that gave way */
};

/* clang-format off */
static const struct scenario scenarios[] = {
	{ "replays refused, per identity", 8, {
		{ 0, 5, true }, { 0, 5, false }, /* the same timestamp again */
		{ 0, 4, false },		 /* an older one */
		{ 1, 4, true },			 /* another identity has its own */
		{ 0, 6, true }, { 0, 5, false },
		{ 0, UINT64_MAX, true }, { 0, UINT64_MAX, false },
	  }, 8, 2, 0 },
	{ "full: the identity accepted least recently gives way", 3, {
		{ 0, 10, true }, { 1, 10, true }, { 2, 10, true },
		{ 0, 10, false }, /* a replay: 0 stays the least recently accepted */
		{ 1, 11, true },  /* order now 0, 2, 1 */
		{ 3, 10, true },  /* 0 gives way: 2, 1, 3 */
		{ 1, 11, false }, { 2, 9, false }, /* still remembered */
		{ 0, 1, true },	  /* forgotten: anything goes (the limit of a bounded table);
				     2 gives way: 1, 3, 0 */
		{ 2, 1, true },	  /* 1 gives way: 3, 0, 2 */
		{ 0, 1, false },  /* remembered this time */
		{ 1, 1, true },	  /* 3 gives way */
	  }, 12, 3, 4 },
	{ "capacity 1", 1, {
		{ 0, 7, true }, { 0, 7, false }, { 1, 1, true }, { 0, 7, true }, { 0, 8, true },
	  }, 5, 1, 2 },
};
/* clang-format on */

static void
test_scenarios(void)
{
	make_pubs();
	for (unsigned int i = 0; i < RTE_DIM(scenarios); i++) {
		const struct scenario *sc = &scenarios[i];
		struct cp_hs_stamps *t = cp_hs_stamps_create(sc->capacity);

		CU_ASSERT_PTR_NOT_NULL_FATAL(t);
		for (unsigned int k = 0; k < sc->n_steps; k++) {
			const struct step *st = &sc->steps[k];

			if (cp_hs_stamps_fresh(t, pubs[st->who], st->ts, NOW) != st->fresh) {
				printf("\n  %s: step %u fails", sc->name, k);
				CU_FAIL("scenario step");
			}
		}
		CU_ASSERT_EQUAL(cp_hs_stamps_count(t), sc->count);
		CU_ASSERT_EQUAL(cp_hs_stamps_evictions(t), sc->evictions);
		cp_hs_stamps_destroy(t);
	}
}

static void
test_create(void)
{
	errno = 0;
	CU_ASSERT_PTR_NULL(cp_hs_stamps_create(0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(cp_hs_stamps_create(SL_LRU_MAX_CAPACITY + 1));
	CU_ASSERT_EQUAL(errno, EINVAL);
	cp_hs_stamps_destroy(NULL);
}

static CU_TestInfo cases[] = {
	{ "scenarios: replays, eviction of the least recently accepted", test_scenarios },
	{ "create: capacity out of range", test_create },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("hs_stamps", cases)
