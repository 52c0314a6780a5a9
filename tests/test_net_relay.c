/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: relay headers in the minimal stack (dp_net_classify, docs/protocol.md 17.1) — a
 * table of well-formed and malformed headers: RELAY_TO stays whole for the forwarding table,
 * RELAY_FROM is taken off and the message inside classified as if it had come alone, anything
 * else dropped as relay_malformed. Every byte outside the frame poisoned under ASan.
 */
#include <string.h>

#include <rte_mbuf.h>

#include "dp_net.h"
#include "net_frames.h"
#include "sl_eal_test.h"
#include "sl_test.h"
#include "sl_wire.h"

static struct rte_mempool *pool;

static const struct dp_net_if us = {
	.mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x01 } },
	.ip = 0xc6120001, /* 198.18.0.1/24 */
	.prefix_len = 24,
	.udp_port = 4789,
	.mtu = 1500,
};
static const struct dp_net_if peer = {
	.mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x02 } },
	.ip = 0xc6120002,
	.prefix_len = 24,
	.udp_port = 5000,
	.mtu = 1500,
};

static struct rte_mbuf *
to_mbuf(const struct frame *f)
{
	struct rte_mbuf *m = frame_to_mbuf(f, pool);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	return m;
}

#define POOL_BASELINE() unsigned int baseline_ = rte_mempool_in_use_count(pool)
#define POOL_CHECK()	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), baseline_)

struct relay_case {
	const char *name;
	uint8_t type;	  /* SL_MSG_RELAY_TO or _FROM */
	uint8_t reserved; /* written into the header's first reserved byte */
	uint32_t circuit;
	uint8_t inner; /* type of the message inside */
	uint16_t inner_len;
	enum dp_net_kind kind;
	enum dp_drop_reason why; /* DROP */
};

static const struct relay_case relay_cases[] = {
	{ "to: ik init inside", SL_MSG_RELAY_TO, 0, 0x101, SL_MSG_IK_INIT, 208, DP_NET_SLUICE, 0 },
	{ "to: data inside", SL_MSG_RELAY_TO, 0, 0x4000201, SL_MSG_DATA, 100, DP_NET_SLUICE, 0 },
	{ "from: data inside", SL_MSG_RELAY_FROM, 0, 0x101, SL_MSG_DATA, 100, DP_NET_SLUICE, 0 },
	{ "from: ik answer inside", SL_MSG_RELAY_FROM, 0, 7, SL_MSG_IK_RESP, 164, DP_NET_SLUICE,
	  0 },
	{ "to: circuit 0", SL_MSG_RELAY_TO, 0, 0, SL_MSG_DATA, 100, DP_NET_DROP,
	  DP_DROP_RELAY_MALFORMED },
	{ "from: reserved byte", SL_MSG_RELAY_FROM, 1, 5, SL_MSG_DATA, 100, DP_NET_DROP,
	  DP_DROP_RELAY_MALFORMED },
	{ "from: a relay header inside", SL_MSG_RELAY_FROM, 0, 5, SL_MSG_RELAY_TO, 100, DP_NET_DROP,
	  DP_DROP_RELAY_MALFORMED },
	{ "to: unknown type inside", SL_MSG_RELAY_TO, 0, 5, 0, 100, DP_NET_DROP,
	  DP_DROP_RELAY_MALFORMED },
	{ "from: ik init too short", SL_MSG_RELAY_FROM, 0, 5, SL_MSG_IK_INIT, 207, DP_NET_DROP,
	  DP_DROP_RELAY_MALFORMED },
	{ "to: ik init too short", SL_MSG_RELAY_TO, 0, 5, SL_MSG_IK_INIT, 207, DP_NET_DROP,
	  DP_DROP_RELAY_MALFORMED },
	{ "to: nothing inside", SL_MSG_RELAY_TO, 0, 5, SL_MSG_DATA, 0, DP_NET_DROP,
	  DP_DROP_RELAY_MALFORMED },
};

/* A relay header is checked, and a RELAY_FROM taken off: the message inside is classified as if
 * it had come alone; RELAY_TO stays whole for the forwarding table. */
static void
test_relay_headers(void)
{
	POOL_BASELINE();

	for (size_t i = 0; i < RTE_DIM(relay_cases); i++) {
		const struct relay_case *c = &relay_cases[i];
		uint16_t len = (uint16_t)(8 + c->inner_len);
		enum dp_drop_reason why = DP_DROP_COUNT;
		struct dp_net_pkt p;
		struct frame f;
		struct rte_mbuf *m;
		enum dp_net_kind k;

		frame_udp(&f, &peer, &us, len);
		memset(f.b + AT_PAY, 0, len);
		f.b[AT_PAY] = c->type;
		f.b[AT_PAY + 1] = c->reserved;
		put32(f.b + AT_PAY + 4, c->circuit);
		if (c->inner_len > 0)
			f.b[AT_PAY + 8] = c->inner;
		if (c->inner == SL_MSG_DATA && c->inner_len > 8)
			put32(f.b + AT_PAY + 12, 0x01000203); /* the data header's receiver */
		frame_fix_l4(&f);
		m = to_mbuf(&f);
		k = frame_classify(&us, m, &p, &why);
		if (k != c->kind || (k == DP_NET_DROP && why != c->why))
			printf("\n  relay case \"%s\": kind %d reason %s", c->name, k,
			       dp_drop_name(why));
		CU_ASSERT_EQUAL(k, c->kind);
		if (k == DP_NET_DROP) {
			CU_ASSERT_EQUAL(why, c->why);
		} else if (c->type == SL_MSG_RELAY_TO) {
			CU_ASSERT(p.msg_type == SL_MSG_RELAY_TO && p.circuit == c->circuit);
			CU_ASSERT(p.payload_off == AT_PAY && p.payload_len == len);
		} else {
			CU_ASSERT(p.msg_type == c->inner && p.circuit == c->circuit);
			CU_ASSERT(p.payload_off == AT_PAY + 8 && p.payload_len == c->inner_len);
			if (c->inner == SL_MSG_DATA)
				CU_ASSERT_EQUAL(p.data.receiver, 0x01000203);
		}
		rte_pktmbuf_free(m);
	}
	POOL_CHECK();
}

static CU_TestInfo cases[] = {
	{ "relay headers: checked, RELAY_FROM taken off", test_relay_headers },
	CU_TEST_INFO_NULL,
};

int
main(void)
{
	return sl_eal_test_main("net_relay", cases, &pool);
}
