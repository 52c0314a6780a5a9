/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: rate limits of repeated log lines (sl_repeat) — exact sequences on an injected
 * clock: the burst written, the rest counted and reported by the next line written (in the
 * same window once the burst allows, or at the next window), keys independent, and a key
 * the full table evicted starting afresh.
 */
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "sl_lru_keyed.h"
#include "sl_repeat.h"
#include "sl_test.h"

#define S 1000000000ull

static const struct sl_repeat_rule rule = { .burst = 2, .window_ns = 60 * S };

struct step {
	uint8_t key;	     /* which key (its first byte) */
	uint64_t at_s;	     /* the injected clock */
	bool allowed;	     /* written? */
	uint32_t suppressed; /* ... reporting this many left out */
};

static void
run(const struct step *steps, size_t n, uint32_t capacity)
{
	struct sl_lru *t = sl_lru_keyed_create(capacity, SL_REPEAT_ENTRY_SIZE, SL_REPEAT_KEY_LEN);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (size_t i = 0; i < n; i++) {
		uint8_t key[SL_REPEAT_KEY_LEN] = { steps[i].key };
		uint32_t sup = 12345;
		bool ok = sl_repeat_allow(t, &rule, key, steps[i].at_s * S, &sup);

		CU_ASSERT_EQUAL(ok, steps[i].allowed);
		if (ok)
			CU_ASSERT_EQUAL(sup, steps[i].suppressed);
		if (ok != steps[i].allowed || (ok && sup != steps[i].suppressed))
			printf("\n  step %zu: allowed %d suppressed %u ", i, ok, sup);
	}
	sl_lru_destroy(t);
}

static void
test_burst_then_window(void)
{
	static const struct step steps[] = {
		{ 1, 0, true, 0 },   { 1, 1, true, 0 }, /* the burst */
		{ 1, 2, false, 0 },  { 1, 30, false, 0 },  { 1, 59, false, 0 },
		{ 1, 60, true, 3 }, /* a new window: three were left out */
		{ 1, 61, true, 0 },  { 1, 62, false, 0 },  { 1, 200, true, 1 },
		{ 1, 200, true, 0 }, { 1, 200, false, 0 }, { 1, 259, false, 0 },
		{ 1, 260, true, 2 },
	};

	run(steps, RTE_DIM(steps), 8);
}

static void
test_keys_apart(void)
{
	/* each key its own burst and window: key 2's began at 5 s, so it ends at 65 */
	static const struct step fixed[] = {
		{ 1, 0, true, 0 },  { 1, 0, true, 0 },	 { 1, 0, false, 0 }, { 2, 5, true, 0 },
		{ 2, 6, true, 0 },  { 2, 6, false, 0 },	 { 1, 6, false, 0 }, { 3, 6, true, 0 },
		{ 1, 60, true, 2 }, { 2, 60, false, 0 }, { 2, 65, true, 2 },
	};
	run(fixed, RTE_DIM(fixed), 8);
}

static void
test_evicted_key_starts_afresh(void)
{
	static const struct step steps[] = {
		{ 1, 0, true, 0 }, { 1, 0, true, 0 }, { 1, 0, false, 0 },
		{ 2, 1, true, 0 }, { 3, 1, true, 0 }, /* capacity 2: key 1 evicted */
		{ 1, 2, true, 0 },		      /* written again, its count gone */
	};

	run(steps, RTE_DIM(steps), 2);
}

static CU_TestInfo cases[] = {
	{ "the burst, then one window later the count", test_burst_then_window },
	{ "keys counted apart", test_keys_apart },
	{ "an evicted key starts afresh", test_evicted_key_starts_afresh },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("repeat", cases)
