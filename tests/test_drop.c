/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the dataplane's drop reasons (dp_drop.h) — one name each, found again by name,
 * counters that add up, and the one mapping from the keys layer's errors to reasons.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "dp_drop.h"
#include "sl_test.h"

static void
test_drop_names(void)
{
	struct dp_drop_counters a = { 0 }, b = { 0 };

	for (int i = 0; i < DP_DROP_COUNT; i++) {
		const char *n = dp_drop_name((enum dp_drop_reason)i);

		CU_ASSERT(strlen(n) > 0 && strcmp(n, "unknown") != 0);
		CU_ASSERT_EQUAL(dp_drop_from_name(n), i);
		for (int j = 0; j < i; j++)
			CU_ASSERT(strcmp(n, dp_drop_name((enum dp_drop_reason)j)) != 0);
	}
	CU_ASSERT_STRING_EQUAL(dp_drop_name(DP_DROP_IPV4_OPTIONS), "ipv4_options");
	CU_ASSERT_STRING_EQUAL(dp_drop_name(DP_DROP_COUNT), "unknown");
	CU_ASSERT_EQUAL(dp_drop_from_name("nope"), -1);
	CU_ASSERT_EQUAL((uintptr_t)&a % RTE_CACHE_LINE_SIZE, 0);
	dp_drop_count(&a, DP_DROP_NO_MBUF, 3);
	dp_drop_count(&b, DP_DROP_NO_MBUF, 2);
	dp_drop_count(&b, DP_DROP_VLAN, 1);
	dp_drop_add(&a, &b);
	CU_ASSERT(a.n[DP_DROP_NO_MBUF] == 5 && a.n[DP_DROP_VLAN] == 1 && dp_drop_total(&a) == 6);
}

/* The keys layer's errors (dp_keypair.h), one per reason, and the rest: no memory or room. */
static void
test_drop_from_errno(void)
{
	static const struct {
		int err;
		enum dp_drop_reason why;
	} map[] = {
		{ -EBADMSG, DP_DROP_DATA_BAD_SIZE },
		{ -ENOKEY, DP_DROP_DATA_UNKNOWN_SESSION },
		{ -EKEYEXPIRED, DP_DROP_DATA_KEY_EXPIRED },
		{ -EALREADY, DP_DROP_DATA_REPLAY },
		{ -EPERM, DP_DROP_DATA_DECRYPT_FAILED },
		{ -ENOMEM, DP_DROP_NO_MBUF },
		{ -ENOSPC, DP_DROP_NO_MBUF },
		{ -EMSGSIZE, DP_DROP_NO_MBUF },
		{ -EINVAL, DP_DROP_NO_MBUF },
	};

	for (size_t i = 0; i < RTE_DIM(map); i++) {
		enum dp_drop_reason got = dp_drop_from_errno(map[i].err);

		if (got != map[i].why)
			printf("\n  errno %d: %s, expected %s", -map[i].err, dp_drop_name(got),
			       dp_drop_name(map[i].why));
		CU_ASSERT_EQUAL(got, map[i].why);
	}
}

static CU_TestInfo cases[] = {
	{ "drop reasons: names, lookup, counters", test_drop_names },
	{ "drop reasons of the keys layer's errors", test_drop_from_errno },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("drop", cases)
