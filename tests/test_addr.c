/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: address classes (a table of edges of every special range), network groups
 * (one per routable /16, non-routable ones never equal to a routable one), and when two
 * addresses are the same node at the same place.
 */
#include <string.h>

#include <rte_common.h>

#include "cp_addr.h"
#include "sl_test.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static void
test_classify(void)
{
	static const struct {
		uint32_t ip;
		enum cp_addr_class cls;
	} t[] = {
		{ IP(0, 0, 0, 0), CP_ADDR_UNSPECIFIED },
		{ IP(0, 255, 255, 255), CP_ADDR_UNSPECIFIED },
		{ IP(1, 0, 0, 0), CP_ADDR_ROUTABLE },
		{ IP(9, 255, 255, 255), CP_ADDR_ROUTABLE },
		{ IP(10, 0, 0, 0), CP_ADDR_PRIVATE },
		{ IP(10, 255, 255, 255), CP_ADDR_PRIVATE },
		{ IP(11, 0, 0, 0), CP_ADDR_ROUTABLE },
		{ IP(100, 63, 255, 255), CP_ADDR_ROUTABLE },
		{ IP(100, 64, 0, 0), CP_ADDR_PRIVATE },
		{ IP(100, 127, 255, 255), CP_ADDR_PRIVATE },
		{ IP(100, 128, 0, 0), CP_ADDR_ROUTABLE },
		{ IP(127, 0, 0, 1), CP_ADDR_LOOPBACK },
		{ IP(169, 254, 1, 1), CP_ADDR_PRIVATE },
		{ IP(172, 15, 255, 255), CP_ADDR_ROUTABLE },
		{ IP(172, 16, 0, 0), CP_ADDR_PRIVATE },
		{ IP(172, 31, 255, 255), CP_ADDR_PRIVATE },
		{ IP(172, 32, 0, 0), CP_ADDR_ROUTABLE },
		{ IP(192, 0, 0, 7), CP_ADDR_RESERVED },
		{ IP(192, 0, 2, 1), CP_ADDR_RESERVED },
		{ IP(192, 0, 3, 1), CP_ADDR_ROUTABLE },
		{ IP(192, 167, 255, 255), CP_ADDR_ROUTABLE },
		{ IP(192, 168, 0, 0), CP_ADDR_PRIVATE },
		{ IP(198, 17, 255, 255), CP_ADDR_ROUTABLE },
		{ IP(198, 18, 0, 0), CP_ADDR_BENCHMARK },
		{ IP(198, 19, 255, 255), CP_ADDR_BENCHMARK },
		{ IP(198, 20, 0, 0), CP_ADDR_ROUTABLE },
		{ IP(198, 51, 100, 9), CP_ADDR_RESERVED },
		{ IP(203, 0, 113, 9), CP_ADDR_RESERVED },
		{ IP(223, 255, 255, 255), CP_ADDR_ROUTABLE },
		{ IP(224, 0, 0, 1), CP_ADDR_MULTICAST },
		{ IP(239, 255, 255, 255), CP_ADDR_MULTICAST },
		{ IP(240, 0, 0, 0), CP_ADDR_RESERVED },
		{ IP(255, 255, 255, 254), CP_ADDR_RESERVED },
		{ IP(255, 255, 255, 255), CP_ADDR_BROADCAST },
	};

	for (unsigned int i = 0; i < RTE_DIM(t); i++) {
		enum cp_addr_class c = cp_addr_classify(t[i].ip);

		if (c != t[i].cls)
			printf("\n  %08x: %s, expected %s", t[i].ip, cp_addr_class_name(c),
			       cp_addr_class_name(t[i].cls));
		CU_ASSERT_EQUAL(c, t[i].cls);
	}
	CU_ASSERT_STRING_EQUAL(cp_addr_class_name(CP_ADDR_BENCHMARK), "benchmark");
	CU_ASSERT_STRING_EQUAL(cp_addr_class_name((enum cp_addr_class)99), "?");
}

static void
test_group(void)
{
	CU_ASSERT_EQUAL(cp_addr_group(IP(8, 8, 4, 4)), cp_addr_group(IP(8, 8, 8, 8)));
	CU_ASSERT_NOT_EQUAL(cp_addr_group(IP(8, 8, 4, 4)), cp_addr_group(IP(8, 9, 4, 4)));
	CU_ASSERT_EQUAL(cp_addr_group(IP(198, 18, 0, 1)), cp_addr_group(IP(198, 18, 200, 1)));
	CU_ASSERT_NOT_EQUAL(cp_addr_group(IP(198, 18, 0, 1)), cp_addr_group(IP(198, 19, 0, 1)));
	/* 10.0/16 and 10.1/16 are two groups; none equals a routable group with the same bits */
	CU_ASSERT_NOT_EQUAL(cp_addr_group(IP(10, 0, 0, 1)), cp_addr_group(IP(10, 1, 0, 1)));
	for (uint32_t hi = 0; hi < 0x10000; hi++) {
		uint32_t ip = hi << 16 | 1;

		if (cp_addr_classify(ip) == CP_ADDR_ROUTABLE) {
			CU_ASSERT_EQUAL_FATAL(cp_addr_group(ip), hi);
		} else {
			CU_ASSERT_FATAL(cp_addr_group(ip) >= 1u << 31);
		}
	}
}

static void
test_same(void)
{
	struct cp_addr a = { .ip = IP(198, 18, 0, 1), .port = 4790 }, b = a;

	CU_ASSERT_TRUE(cp_addr_same(&a, &b));
	b.port = 4791;
	CU_ASSERT_FALSE(cp_addr_same(&a, &b));
	b = a;
	b.ip++;
	CU_ASSERT_FALSE(cp_addr_same(&a, &b));
	b = a;
	memset(b.id, 7, sizeof(b.id));
	b.flags = CP_ADDR_F_HAS_ID;
	CU_ASSERT_TRUE(cp_addr_same(&a, &b)); /* one side without an identity */
	a.flags = CP_ADDR_F_HAS_ID;
	CU_ASSERT_FALSE(cp_addr_same(&a, &b)); /* two identities that differ */
	memset(a.id, 7, sizeof(a.id));
	CU_ASSERT_TRUE(cp_addr_same(&a, &b));
}

static CU_TestInfo cases[] = {
	{ "classes: edges of every special range", test_classify },
	{ "network groups", test_group },
	{ "same node at the same place", test_same },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("addr", cases)
