/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: IPv4 address classes and network groups (cp_addr.h). */
#include <string.h>

#include "cp_addr.h"

struct range {
	uint32_t net, mask;
	enum cp_addr_class cls;
};

#define NET(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))
#define MASK(len)	((uint32_t)(0xffffffffull << (32 - (len))))

/* IANA's IPv4 special-purpose registry, most specific first where ranges nest. */
static const struct range ranges[] = {
	{ NET(255, 255, 255, 255), MASK(32), CP_ADDR_BROADCAST },
	{ NET(0, 0, 0, 0), MASK(8), CP_ADDR_UNSPECIFIED },
	{ NET(127, 0, 0, 0), MASK(8), CP_ADDR_LOOPBACK },
	{ NET(10, 0, 0, 0), MASK(8), CP_ADDR_PRIVATE },
	{ NET(172, 16, 0, 0), MASK(12), CP_ADDR_PRIVATE },
	{ NET(192, 168, 0, 0), MASK(16), CP_ADDR_PRIVATE },
	{ NET(100, 64, 0, 0), MASK(10), CP_ADDR_PRIVATE },
	{ NET(169, 254, 0, 0), MASK(16), CP_ADDR_PRIVATE },
	{ NET(198, 18, 0, 0), MASK(15), CP_ADDR_BENCHMARK },
	{ NET(192, 0, 0, 0), MASK(24), CP_ADDR_RESERVED },    /* IETF protocol assignments */
	{ NET(192, 0, 2, 0), MASK(24), CP_ADDR_RESERVED },    /* TEST-NET-1 */
	{ NET(198, 51, 100, 0), MASK(24), CP_ADDR_RESERVED }, /* TEST-NET-2 */
	{ NET(203, 0, 113, 0), MASK(24), CP_ADDR_RESERVED },  /* TEST-NET-3 */
	{ NET(192, 88, 99, 0), MASK(24), CP_ADDR_RESERVED },  /* 6to4 relay anycast (retired) */
	{ NET(224, 0, 0, 0), MASK(4), CP_ADDR_MULTICAST },
	{ NET(240, 0, 0, 0), MASK(4), CP_ADDR_RESERVED },
};

enum cp_addr_class
cp_addr_classify(uint32_t ip)
{
	for (unsigned int i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if ((ip & ranges[i].mask) == ranges[i].net)
			return ranges[i].cls;
	return CP_ADDR_ROUTABLE;
}

const char *
cp_addr_class_name(enum cp_addr_class c)
{
	static const char *const names[] = {
		[CP_ADDR_ROUTABLE] = "routable",   [CP_ADDR_UNSPECIFIED] = "unspecified",
		[CP_ADDR_LOOPBACK] = "loopback",   [CP_ADDR_PRIVATE] = "private",
		[CP_ADDR_BENCHMARK] = "benchmark", [CP_ADDR_RESERVED] = "reserved",
		[CP_ADDR_MULTICAST] = "multicast", [CP_ADDR_BROADCAST] = "broadcast",
	};

	return (unsigned int)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}

uint32_t
cp_addr_group(uint32_t ip)
{
	enum cp_addr_class c = cp_addr_classify(ip);

	/* Non-routable addresses group by /16 as well (a test network spread over one /15 still
	 * has two groups, a private LAN one per /16), tagged by class so that no non-routable
	 * group equals a routable one. */
	if (c == CP_ADDR_ROUTABLE)
		return ip >> 16;
	return (1u << 31) | ((uint32_t)c << 16) | ((ip >> 16) & 0xffff);
}

bool
cp_addr_same(const struct cp_addr *a, const struct cp_addr *b)
{
	if (a->ip != b->ip || a->port != b->port)
		return false;
	if ((a->flags & b->flags & CP_ADDR_F_HAS_ID) == 0)
		return true;
	return memcmp(a->id, b->id, SL_KEY_LEN) == 0;
}
