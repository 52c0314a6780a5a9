/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the minimal stack (dp_net) under EAL — a table of malformed frames, one defect each,
 * covering every drop reason dp_net produces; valid ARP, ICMP and UDP frames; builders round
 * tripping through the classifier; every checksum checked by a deliberately naive reference
 * (RFC 1071 byte by byte), the echo reply's also for an all-zero request; 20,000 random and
 * mutated frames. Under ASan the bytes around each frame are poisoned while it is classified,
 * so a read outside the frame is a failure. Every test ends with the mbuf pool back at its
 * baseline.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_mbuf.h>

#include "dp_net.h"
#include "net_frames.h"
#include "sl_eal_test.h"
#include "sl_wire.h"

static struct rte_mempool *pool;

static const struct dp_net_if us = {
	.mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x01 } },
	.ip = 0xc6120001, /* 198.18.0.1/24 */
	.prefix_len = 24,
	.udp_port = 4789,
	.gateway = 0xc61200fe,
	.mtu = 1500,
};
static const struct dp_net_if peer = {
	.mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x02 } },
	.ip = 0xc6120002,
	.prefix_len = 24,
	.udp_port = 5000,
	.mtu = 1500,
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* --- frames and mbufs --------------------------------------------------------------------- */

static struct rte_mbuf *
to_mbuf(const struct frame *f)
{
	struct rte_mbuf *m = frame_to_mbuf(f, pool);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	return m;
}

static void
from_mbuf(const struct rte_mbuf *m, struct frame *f)
{
	CU_ASSERT_FATAL(rte_pktmbuf_is_contiguous(m) && rte_pktmbuf_data_len(m) <= sizeof(f->b));
	frame_from_mbuf(m, f);
}

#define POOL_BASELINE() unsigned int baseline_ = rte_mempool_in_use_count(pool)
#define POOL_CHECK()	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), baseline_)

/* --- the table ---------------------------------------------------------------------------- */

enum base { B_UDP, B_ICMP, B_ARP, B_ARP_REPLY };
enum op { NONE, SET8, SET16, SET32, XOR8, XOR16, LEN, TOT, PAYLEN, COPY_MAC, ZERO6, OLFLAGS };
#define FIX_IP 1
#define FIX_L4 2

struct mut {
	enum op op;
	uint16_t off;
	uint64_t val;
};

struct row {
	const char *name;
	enum base base;
	struct mut m[2];
	int fix;
	enum dp_net_kind kind;
	enum dp_drop_reason why;
};

/* clang-format off */
#define D(name, base, m0, fix, why)	 { name, base, { m0, NOP }, fix, DP_NET_DROP, why }
#define D2(name, base, m0, m1, fix, why) { name, base, { m0, m1 }, fix, DP_NET_DROP, why }
#define OK(name, base, m0, m1, fix, kind) { name, base, { m0, m1 }, fix, kind, 0 }
#define M(op, off, val)			 { op, off, val }
#define NOP				 { NONE, 0, 0 }
/* clang-format on */

static const struct row rows[] = {
	/* valid frames */
	OK("udp", B_UDP, NOP, NOP, 0, DP_NET_SLUICE),
	OK("udp zero checksum", B_UDP, M(SET16, AT_UDP_CK, 0), NOP, 0, DP_NET_SLUICE),
	OK("udp ethernet padding", B_UDP, M(LEN, 0, 14 + 20 + 8 + 64 + 10), NOP, 0, DP_NET_SLUICE),
	OK("udp nic said good", B_UDP, M(XOR16, AT_UDP_CK, 1),
	   M(OLFLAGS, 0, RTE_MBUF_F_RX_L4_CKSUM_GOOD), 0, DP_NET_SLUICE),
	OK("ip nic said good", B_UDP, M(XOR16, AT_IP_CK, 1),
	   M(OLFLAGS, 0, RTE_MBUF_F_RX_IP_CKSUM_GOOD), 0, DP_NET_SLUICE),
	OK("udp no DF", B_UDP, M(SET16, AT_IP_FRAG, 0), NOP, FIX_IP, DP_NET_SLUICE),
	OK("udp smallest data", B_UDP, M(PAYLEN, 0, 32), NOP, 0, DP_NET_SLUICE),
	OK("udp smallest cookie", B_UDP, M(PAYLEN, 0, 64), M(SET8, AT_PAY, SL_MSG_COOKIE), FIX_L4,
	   DP_NET_SLUICE),
	OK("icmp echo", B_ICMP, NOP, NOP, 0, DP_NET_ICMP_ECHO),
	OK("icmp echo empty", B_ICMP, M(TOT, 0, 28), NOP, FIX_IP | FIX_L4, DP_NET_ICMP_ECHO),
	OK("arp request", B_ARP, NOP, NOP, 0, DP_NET_ARP),
	OK("arp request unicast", B_ARP, M(COPY_MAC, AT_ETH_DST, 0), NOP, 0, DP_NET_ARP),
	OK("arp request padded", B_ARP, M(LEN, 0, 60), NOP, 0, DP_NET_ARP),
	OK("arp reply", B_ARP_REPLY, NOP, NOP, 0, DP_NET_ARP),
	OK("arp probe", B_ARP, M(SET32, AT_ARP_SIP, 0), NOP, 0, DP_NET_ARP),
	OK("arp gratuitous", B_ARP, M(SET32, AT_ARP_TIP, 0xc6120002), NOP, 0, DP_NET_ARP),
	/* Ethernet */
	D("eth 13 bytes", B_UDP, M(LEN, 0, 13), 0, DP_DROP_ETH_TOO_SHORT),
	D("eth empty", B_UDP, M(LEN, 0, 0), 0, DP_DROP_ETH_TOO_SHORT),
	D("eth other mac", B_UDP, M(XOR8, AT_ETH_DST + 5, 0x80), 0, DP_DROP_ETH_NOT_FOR_US),
	D("eth multicast", B_UDP, M(SET8, AT_ETH_DST, 0x01), 0, DP_DROP_ETH_NOT_FOR_US),
	D2("eth broadcast ipv4", B_UDP, M(SET32, AT_ETH_DST, 0xffffffff), M(SET16, 4, 0xffff), 0,
	   DP_DROP_ETH_NOT_FOR_US),
	D("eth ipv6", B_UDP, M(SET16, AT_ETH_TYPE, 0x86dd), 0, DP_DROP_ETH_UNKNOWN_TYPE),
	/* sources nobody may answer: an echo or handshake answer would reach the whole segment */
	D2("eth src broadcast", B_UDP, M(SET32, AT_ETH_SRC, 0xffffffff),
	   M(SET16, AT_ETH_SRC + 4, 0xffff), 0, DP_DROP_ETH_BAD_SOURCE),
	D("eth src multicast", B_ICMP, M(XOR8, AT_ETH_SRC, 0x01), 0, DP_DROP_ETH_BAD_SOURCE),
	D("eth src zero", B_UDP, M(ZERO6, AT_ETH_SRC, 0), 0, DP_DROP_ETH_BAD_SOURCE),
	D("eth src ours", B_ICMP, M(COPY_MAC, AT_ETH_SRC, 0), 0, DP_DROP_ETH_BAD_SOURCE),
	D("arp src multicast", B_ARP, M(XOR8, AT_ETH_SRC, 0x01), 0, DP_DROP_ETH_BAD_SOURCE),
	D("eth 802.1q", B_UDP, M(SET16, AT_ETH_TYPE, 0x8100), 0, DP_DROP_VLAN),
	D("eth 802.1ad", B_UDP, M(SET16, AT_ETH_TYPE, 0x88a8), 0, DP_DROP_VLAN),
	D("eth vlan stripped", B_UDP,
	  M(OLFLAGS, 0, RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED), 0, DP_DROP_VLAN),
	/* ARP */
	D("arp short", B_ARP, M(LEN, 0, 41), 0, DP_DROP_ARP_MALFORMED),
	D("arp htype", B_ARP, M(SET16, AT_ARP_HTYPE, 6), 0, DP_DROP_ARP_MALFORMED),
	D("arp ptype", B_ARP, M(SET16, AT_ARP_PTYPE, 0x86dd), 0, DP_DROP_ARP_MALFORMED),
	D("arp hlen", B_ARP, M(SET8, AT_ARP_HLEN, 8), 0, DP_DROP_ARP_MALFORMED),
	D("arp plen", B_ARP, M(SET8, AT_ARP_PLEN, 16), 0, DP_DROP_ARP_MALFORMED),
	D("arp op rarp", B_ARP, M(SET16, AT_ARP_OP, 3), 0, DP_DROP_ARP_MALFORMED),
	D("arp sha multicast", B_ARP, M(SET8, AT_ARP_SHA, 0x01), 0, DP_DROP_ARP_MALFORMED),
	D("arp sha zero", B_ARP, M(ZERO6, AT_ARP_SHA, 0), 0, DP_DROP_ARP_MALFORMED),
	D("arp sip multicast", B_ARP, M(SET32, AT_ARP_SIP, 0xe0000001), 0, DP_DROP_ARP_MALFORMED),
	D("arp reply from 0", B_ARP_REPLY, M(SET32, AT_ARP_SIP, 0), 0, DP_DROP_ARP_MALFORMED),
	D("arp other target", B_ARP, M(SET32, AT_ARP_TIP, 0xc6120003), 0, DP_DROP_ARP_NOT_FOR_US),
	D("arp our own sha", B_ARP, M(COPY_MAC, AT_ARP_SHA, 0), 0, DP_DROP_ARP_NOT_FOR_US),
	D("arp claims our ip", B_ARP, M(SET32, AT_ARP_SIP, 0xc6120001), 0, DP_DROP_ARP_NOT_FOR_US),
	/* IPv4 */
	D("ip 19 bytes", B_UDP, M(LEN, 0, 14 + 19), 0, DP_DROP_IPV4_TOO_SHORT),
	D("ip version 6", B_UDP, M(SET8, AT_IP_VHL, 0x65), FIX_IP, DP_DROP_IPV4_BAD_VERSION),
	D("ip version 0", B_UDP, M(SET8, AT_IP_VHL, 0x05), FIX_IP, DP_DROP_IPV4_BAD_VERSION),
	D("ip ihl 4", B_UDP, M(SET8, AT_IP_VHL, 0x44), FIX_IP, DP_DROP_IPV4_BAD_IHL),
	D("ip ihl 0", B_UDP, M(SET8, AT_IP_VHL, 0x40), FIX_IP, DP_DROP_IPV4_BAD_IHL),
	D("ip ihl 6", B_UDP, M(SET8, AT_IP_VHL, 0x46), FIX_IP, DP_DROP_IPV4_OPTIONS),
	D("ip ihl 15", B_UDP, M(SET8, AT_IP_VHL, 0x4f), FIX_IP, DP_DROP_IPV4_OPTIONS),
	D("ip checksum", B_UDP, M(XOR16, AT_IP_CK, 0x0100), 0, DP_DROP_IPV4_BAD_CHECKSUM),
	D("ip checksum of a changed ttl", B_UDP, M(SET8, AT_IP_TTL, 63), 0,
	  DP_DROP_IPV4_BAD_CHECKSUM),
	D2("ip nic said bad", B_UDP, M(OLFLAGS, 0, RTE_MBUF_F_RX_IP_CKSUM_BAD), NOP, 0,
	   DP_DROP_IPV4_BAD_CHECKSUM),
	D("ip total 19", B_UDP, M(SET16, AT_IP_TOT, 19), FIX_IP, DP_DROP_IPV4_BAD_LENGTH),
	D("ip total beyond frame", B_UDP, M(SET16, AT_IP_TOT, 20 + 8 + 64 + 1), FIX_IP,
	  DP_DROP_IPV4_BAD_LENGTH),
	D("ip frame truncated", B_UDP, M(LEN, 0, 14 + 20 + 8 + 63), 0, DP_DROP_IPV4_BAD_LENGTH),
	D("ip more fragments", B_UDP, M(SET16, AT_IP_FRAG, 0x2000), FIX_IP, DP_DROP_IPV4_FRAGMENT),
	D("ip last fragment", B_UDP, M(SET16, AT_IP_FRAG, 0x0001), FIX_IP, DP_DROP_IPV4_FRAGMENT),
	D("ip DF with offset", B_UDP, M(SET16, AT_IP_FRAG, 0x5fff), FIX_IP, DP_DROP_IPV4_FRAGMENT),
	D("ip ttl 0", B_UDP, M(SET8, AT_IP_TTL, 0), FIX_IP, DP_DROP_IPV4_TTL_ZERO),
	D("ip other dst", B_UDP, M(SET32, AT_IP_DST, 0xc6120009), FIX_IP, DP_DROP_IPV4_NOT_FOR_US),
	D("ip dst broadcast", B_UDP, M(SET32, AT_IP_DST, 0xffffffff), FIX_IP,
	  DP_DROP_IPV4_NOT_FOR_US),
	D("ip dst subnet bcast", B_UDP, M(SET32, AT_IP_DST, 0xc61200ff), FIX_IP,
	  DP_DROP_IPV4_NOT_FOR_US),
	D("ip src 0.0.0.0", B_UDP, M(SET32, AT_IP_SRC, 0), FIX_IP, DP_DROP_IPV4_BAD_SOURCE),
	D("ip src 255.255.255.255", B_UDP, M(SET32, AT_IP_SRC, 0xffffffff), FIX_IP,
	  DP_DROP_IPV4_BAD_SOURCE),
	D("ip src subnet bcast", B_UDP, M(SET32, AT_IP_SRC, 0xc61200ff), FIX_IP,
	  DP_DROP_IPV4_BAD_SOURCE),
	D("ip src multicast", B_UDP, M(SET32, AT_IP_SRC, 0xe0000005), FIX_IP,
	  DP_DROP_IPV4_BAD_SOURCE),
	D("ip src class e", B_UDP, M(SET32, AT_IP_SRC, 0xf0000001), FIX_IP,
	  DP_DROP_IPV4_BAD_SOURCE),
	D("ip src loopback", B_UDP, M(SET32, AT_IP_SRC, 0x7f000001), FIX_IP,
	  DP_DROP_IPV4_BAD_SOURCE),
	D("ip src ours", B_UDP, M(SET32, AT_IP_SRC, 0xc6120001), FIX_IP, DP_DROP_IPV4_BAD_SOURCE),
	D("ip proto tcp", B_UDP, M(SET8, AT_IP_PROTO, IPPROTO_TCP), FIX_IP,
	  DP_DROP_IPV4_UNKNOWN_PROTO),
	/* UDP */
	D("udp 7 bytes", B_UDP, M(TOT, 0, 27), FIX_IP, DP_DROP_UDP_TOO_SHORT),
	D("udp ip payload empty", B_UDP, M(TOT, 0, 20), FIX_IP, DP_DROP_UDP_TOO_SHORT),
	D("udp length +1", B_UDP, M(SET16, AT_UDP_LEN, 8 + 64 + 1), FIX_L4, DP_DROP_UDP_BAD_LENGTH),
	D("udp length -1", B_UDP, M(SET16, AT_UDP_LEN, 8 + 64 - 1), FIX_L4, DP_DROP_UDP_BAD_LENGTH),
	D("udp length 7", B_UDP, M(SET16, AT_UDP_LEN, 7), FIX_L4, DP_DROP_UDP_BAD_LENGTH),
	D("udp payload flipped", B_UDP, M(XOR8, AT_PAY + 9, 0x10), 0, DP_DROP_UDP_BAD_CHECKSUM),
	D("udp checksum flipped", B_UDP, M(XOR16, AT_UDP_CK, 0x8000), 0, DP_DROP_UDP_BAD_CHECKSUM),
	D("udp pseudo-header", B_UDP, M(SET32, AT_IP_SRC, 0xc6120005), FIX_IP,
	  DP_DROP_UDP_BAD_CHECKSUM),
	D2("udp nic said bad", B_UDP, M(OLFLAGS, 0, RTE_MBUF_F_RX_L4_CKSUM_BAD), NOP, 0,
	   DP_DROP_UDP_BAD_CHECKSUM),
	D("udp other port", B_UDP, M(SET16, AT_UDP_DPORT, 4790), FIX_L4, DP_DROP_UDP_WRONG_PORT),
	D("udp source port 0", B_UDP, M(SET16, AT_UDP_SPORT, 0), FIX_L4, DP_DROP_UDP_WRONG_PORT),
	/* sluice */
	D("sluice empty", B_UDP, M(PAYLEN, 0, 0), 0, DP_DROP_SLUICE_TOO_SHORT),
	D("sluice data 31", B_UDP, M(PAYLEN, 0, 31), 0, DP_DROP_SLUICE_TOO_SHORT),
	D2("sluice ik init 199", B_UDP, M(PAYLEN, 0, 199), M(SET8, AT_PAY, SL_MSG_IK_INIT), FIX_L4,
	   DP_DROP_SLUICE_TOO_SHORT),
	D("sluice type 0", B_UDP, M(SET8, AT_PAY, 0), FIX_L4, DP_DROP_SLUICE_UNKNOWN_TYPE),
	D("sluice type 13", B_UDP, M(SET8, AT_PAY, 13), FIX_L4, DP_DROP_SLUICE_UNKNOWN_TYPE),
	D("sluice type 255", B_UDP, M(SET8, AT_PAY, 255), FIX_L4, DP_DROP_SLUICE_UNKNOWN_TYPE),
	/* ICMP */
	D("icmp 7 bytes", B_ICMP, M(TOT, 0, 27), FIX_IP, DP_DROP_ICMP_MALFORMED),
	D("icmp echo reply", B_ICMP, M(SET8, AT_ICMP_TYPE, 0), FIX_L4, DP_DROP_ICMP_NOT_ECHO),
	D("icmp code 1", B_ICMP, M(SET8, AT_ICMP_CODE, 1), FIX_L4, DP_DROP_ICMP_NOT_ECHO),
	D("icmp unreachable", B_ICMP, M(SET8, AT_ICMP_TYPE, 3), FIX_L4, DP_DROP_ICMP_NOT_ECHO),
	D("icmp echo above the mtu", B_ICMP, M(TOT, 0, 1501), FIX_IP | FIX_L4, DP_DROP_ICMP_TOO_BIG),
	D("icmp data flipped", B_ICMP, M(XOR8, AT_L4 + 20, 0x01), 0, DP_DROP_ICMP_BAD_CHECKSUM),
	D("icmp checksum flipped", B_ICMP, M(XOR16, AT_ICMP_CK, 0x0001), 0,
	  DP_DROP_ICMP_BAD_CHECKSUM),
};

static void
apply(struct frame *f, const struct mut *m)
{
	switch (m->op) {
	case NONE:
		break;
	case SET8:
		f->b[m->off] = (uint8_t)m->val;
		break;
	case SET16:
		put16(f->b + m->off, (uint16_t)m->val);
		break;
	case SET32:
		put32(f->b + m->off, (uint32_t)m->val);
		break;
	case XOR8:
		f->b[m->off] ^= (uint8_t)m->val;
		break;
	case XOR16:
		put16(f->b + m->off, get16(f->b + m->off) ^ (uint16_t)m->val);
		break;
	case LEN: /* frame length; bytes past the old end are zero padding */
		f->len = (uint16_t)m->val;
		break;
	case TOT: /* IPv4 total length and the frame with it */
		put16(f->b + AT_IP_TOT, (uint16_t)m->val);
		f->len = 14 + (uint16_t)m->val;
		break;
	case PAYLEN: /* UDP payload length, everything consistent */
		put16(f->b + AT_IP_TOT, 28 + (uint16_t)m->val);
		put16(f->b + AT_UDP_LEN, 8 + (uint16_t)m->val);
		f->len = AT_PAY + (uint16_t)m->val;
		frame_fix_ip(f);
		frame_fix_l4(f);
		break;
	case COPY_MAC:
		memcpy(f->b + m->off, &us.mac, 6);
		break;
	case ZERO6:
		memset(f->b + m->off, 0, 6);
		break;
	case OLFLAGS:
		f->ol_flags |= m->val;
		break;
	}
}

static void
mk_base(struct frame *f, enum base b)
{
	switch (b) {
	case B_UDP:
		frame_udp(f, &peer, &us, 64);
		break;
	case B_ICMP:
		frame_icmp(f, &peer, &us, 56);
		break;
	case B_ARP:
		frame_arp(f, &peer, &us, RTE_ARP_OP_REQUEST);
		break;
	case B_ARP_REPLY:
		frame_arp(f, &peer, &us, RTE_ARP_OP_REPLY);
		break;
	}
}

/* A data packet's header, decoded once by the classifier: each field as the bytes say (the
 * base frame's reserved bytes are not zero: recorded, left to the keys layer to refuse). */
static void
check_data_fields(const struct frame *f, const struct rte_mbuf *m, const struct dp_net_pkt *p)
{
	const uint8_t *pay = f->b + AT_PAY;

	CU_ASSERT(p->data.pkt == rte_pktmbuf_mtod_offset(m, const uint8_t *, AT_PAY));
	CU_ASSERT_EQUAL(p->data.receiver, get32(pay + 4));
	CU_ASSERT_EQUAL(p->data.pn, (uint64_t)get32(pay + 8) << 32 | get32(pay + 12));
	CU_ASSERT_EQUAL(p->data.plain_len, p->payload_len - 32);
	CU_ASSERT_EQUAL(p->data.reserved_set, (pay[1] | pay[2] | pay[3]) != 0);
}

/* What the valid rows must report besides their kind. */
static void
check_fields(const struct row *r, const struct frame *f, const struct rte_mbuf *m,
	     const struct dp_net_pkt *p)
{
	CU_ASSERT(rte_is_same_ether_addr(&p->src_mac, &peer.mac));
	if (r->kind == DP_NET_SLUICE) {
		CU_ASSERT(p->src_ip == peer.ip && p->src_port == peer.udp_port);
		CU_ASSERT(p->payload_off == AT_PAY &&
			  p->payload_len == get16(f->b + AT_UDP_LEN) - 8);
		CU_ASSERT_EQUAL(p->msg_type, f->b[AT_PAY]);
		if (p->msg_type == SL_MSG_DATA)
			check_data_fields(f, m, p);
		else
			CU_ASSERT_PTR_NULL(p->data.pkt);
	} else if (r->kind == DP_NET_ICMP_ECHO) {
		CU_ASSERT_EQUAL(p->src_ip, peer.ip);
	} else if (r->kind == DP_NET_ARP) {
		CU_ASSERT(rte_is_same_ether_addr(&p->arp_sha, &peer.mac));
		CU_ASSERT_EQUAL(p->arp_op, get16(f->b + AT_ARP_OP));
		CU_ASSERT_EQUAL(p->src_ip, get32(f->b + AT_ARP_SIP));
		CU_ASSERT_EQUAL(p->arp_for_us, get32(f->b + AT_ARP_TIP) == us.ip);
	}
}

static void
test_table(void)
{
	bool seen[DP_DROP_COUNT] = { false };
	POOL_BASELINE();

	for (size_t i = 0; i < RTE_DIM(rows); i++) {
		const struct row *r = &rows[i];
		enum dp_drop_reason why = DP_DROP_COUNT;
		struct dp_net_pkt p;
		struct frame f;
		struct rte_mbuf *m;
		enum dp_net_kind k;

		mk_base(&f, r->base);
		apply(&f, &r->m[0]);
		apply(&f, &r->m[1]);
		if (r->fix & FIX_IP)
			frame_fix_ip(&f);
		if (r->fix & FIX_L4)
			frame_fix_l4(&f);
		m = to_mbuf(&f);
		k = frame_classify(&us, m, &p, &why);
		if (k != r->kind || (k == DP_NET_DROP && why != r->why))
			printf("\n  row \"%s\": kind %d reason %s, expected kind %d reason %s",
			       r->name, k, dp_drop_name(why), r->kind, dp_drop_name(r->why));
		CU_ASSERT_EQUAL(k, r->kind);
		if (k == DP_NET_DROP && r->kind == DP_NET_DROP) {
			CU_ASSERT_EQUAL(why, r->why);
			seen[why] = true;
		} else if (k == r->kind) {
			check_fields(r, &f, m, &p);
		}
		rte_pktmbuf_free(m);
	}
	/* every reason dp_net produces has a row (multi_segment: test_segments) */
	for (int i = DP_DROP_ETH_TOO_SHORT; i <= DP_DROP_SLUICE_UNKNOWN_TYPE; i++)
		if (i != DP_DROP_MULTI_SEGMENT && !seen[i]) {
			printf("\n  no row for %s", dp_drop_name((enum dp_drop_reason)i));
			CU_FAIL("a drop reason without a row");
		}
	POOL_CHECK();
}

/* A UDP checksum that computes to zero is sent as 0xffff (RFC 768) and verifies. */
static void
test_udp_checksum_ffff(void)
{
	struct dp_net_pkt p;
	enum dp_drop_reason why;
	struct frame f;
	struct rte_mbuf *m;
	uint32_t sum;
	POOL_BASELINE();

	frame_udp(&f, &peer, &us, 64);
	put16(f.b + AT_PAY + 62, 0);
	put16(f.b + AT_UDP_CK, 0);
	sum = ref_fold(ref_sum(f.b + AT_IP_SRC, 8, IPPROTO_UDP + 72) + ref_sum(f.b + AT_L4, 72, 0));
	put16(f.b + AT_PAY + 62, (uint16_t)(0xffff - sum)); /* the whole sum becomes 0xffff */
	CU_ASSERT_EQUAL(ref_udp_cksum(&f), 0xffff);
	put16(f.b + AT_UDP_CK, 0xffff);
	m = to_mbuf(&f);
	CU_ASSERT_EQUAL(frame_classify(&us, m, &p, &why), DP_NET_SLUICE);
	rte_pktmbuf_free(m);
	POOL_CHECK();
}

/* A chained frame is made flat when the first segment has room, dropped when it has not. */
static void
test_segments(void)
{
	struct rte_mbuf *a, *b;
	struct dp_net_pkt p;
	enum dp_drop_reason why;
	struct frame f;
	POOL_BASELINE();

	frame_udp(&f, &peer, &us, 200);
	for (int fits = 1; fits >= 0; fits--) {
		a = rte_pktmbuf_alloc(pool);
		b = rte_pktmbuf_alloc(pool);
		CU_ASSERT_FATAL(a != NULL && b != NULL);
		if (!fits) /* first segment ends at the end of its buffer: no tailroom */
			a->data_off = a->buf_len - 30;
		memcpy(rte_pktmbuf_append(a, 30), f.b, 30);
		memcpy(rte_pktmbuf_append(b, f.len - 30), f.b + 30, f.len - 30);
		CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_chain(a, b), 0);
		if (fits) {
			CU_ASSERT_EQUAL(dp_net_classify(&us, a, &p, &why), DP_NET_SLUICE);
			CU_ASSERT(a->nb_segs == 1 && rte_pktmbuf_data_len(a) == f.len);
			CU_ASSERT(memcmp(rte_pktmbuf_mtod(a, void *), f.b, f.len) == 0);
		} else {
			CU_ASSERT_EQUAL(dp_net_classify(&us, a, &p, &why), DP_NET_DROP);
			CU_ASSERT_EQUAL(why, DP_DROP_MULTI_SEGMENT);
		}
		rte_pktmbuf_free(a);
	}
	POOL_CHECK();
}

/* --- builders ----------------------------------------------------------------------------- */

static struct rte_mbuf *
payload_mbuf(uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	p = (uint8_t *)rte_pktmbuf_append(m, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (uint16_t i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
	if (len > 0)
		p[0] = SL_MSG_DATA;
	return m;
}

static void
check_built(const struct frame *f, uint16_t len, uint16_t id, bool udp_cksum)
{
	CU_ASSERT_EQUAL(f->len, AT_PAY + len);
	CU_ASSERT(memcmp(f->b + AT_ETH_DST, &us.mac, 6) == 0 &&
		  memcmp(f->b + AT_ETH_SRC, &peer.mac, 6) == 0);
	CU_ASSERT(f->b[AT_IP_VHL] == 0x45 && f->b[AT_IP_TTL] == 64 &&
		  f->b[AT_IP_PROTO] == IPPROTO_UDP);
	CU_ASSERT(get16(f->b + AT_IP_FRAG) == 0x4000 && get16(f->b + AT_IP_ID) == id);
	CU_ASSERT_EQUAL(get16(f->b + AT_IP_TOT), 28 + len);
	CU_ASSERT(ref_ip_ok(f));
	CU_ASSERT_EQUAL(get16(f->b + AT_UDP_LEN), 8 + len);
	CU_ASSERT(get16(f->b + AT_UDP_SPORT) == peer.udp_port &&
		  get16(f->b + AT_UDP_DPORT) == us.udp_port);
	CU_ASSERT_EQUAL(get16(f->b + AT_UDP_CK), udp_cksum ? ref_udp_cksum(f) : 0);
}

/* peer builds, we classify: same addresses, same payload, checksums the reference agrees with */
static void
test_build_udp_round_trip(void)
{
	static const uint16_t lens[] = { 32, 33, 100, 1471, 1472 };
	POOL_BASELINE();

	for (size_t i = 0; i < 2 * RTE_DIM(lens); i++) {
		uint16_t len = lens[i % RTE_DIM(lens)], id = (uint16_t)(i * 1000 + 1);
		bool ck = i < RTE_DIM(lens);
		struct rte_mbuf *m = payload_mbuf(len);
		uint8_t copy[1500];
		enum dp_drop_reason why;
		struct dp_net_pkt p;
		struct frame f;

		memcpy(copy, rte_pktmbuf_mtod(m, void *), len);
		CU_ASSERT_EQUAL(dp_net_build_udp(&peer, m, &us.mac, us.ip, us.udp_port, len, id,
						 ck ? 0 : DP_NET_F_NO_UDP_CKSUM),
				0);
		CU_ASSERT(m->l2_len == 14 && m->l3_len == 20);
		from_mbuf(m, &f);
		check_built(&f, len, id, ck);
		CU_ASSERT_EQUAL(frame_classify(&us, m, &p, &why), DP_NET_SLUICE);
		CU_ASSERT(rte_is_same_ether_addr(&p.src_mac, &peer.mac) && p.src_ip == peer.ip);
		CU_ASSERT(p.src_port == peer.udp_port && p.payload_len == len && p.msg_type == 4);
		CU_ASSERT(memcmp(rte_pktmbuf_mtod_offset(m, void *, p.payload_off), copy, len) ==
			  0);
		rte_pktmbuf_free(m);
	}
	POOL_CHECK();
}

static void
test_build_udp_errors(void)
{
	struct rte_mbuf *m;
	POOL_BASELINE();

	m = payload_mbuf(1473); /* 1473 + 28 > 1500 */
	CU_ASSERT_EQUAL(dp_net_build_udp(&peer, m, &us.mac, us.ip, 1, 1473, 0, 0), -EMSGSIZE);
	CU_ASSERT_EQUAL(rte_pktmbuf_data_len(m), 1473);
	CU_ASSERT_EQUAL(dp_net_build_udp(&peer, m, &us.mac, us.ip, 1, 1472, 0, 0), -EINVAL);
	rte_pktmbuf_free(m);

	m = rte_pktmbuf_alloc(pool);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	m->data_off = DP_NET_UDP_HEADROOM - 1;
	CU_ASSERT_PTR_NOT_NULL(rte_pktmbuf_append(m, 100));
	CU_ASSERT_EQUAL(dp_net_build_udp(&peer, m, &us.mac, us.ip, 1, 100, 0, 0), -ENOSPC);
	CU_ASSERT(rte_pktmbuf_data_len(m) == 100 && m->data_off == DP_NET_UDP_HEADROOM - 1);
	m->data_off = DP_NET_UDP_HEADROOM; /* exactly enough */
	CU_ASSERT_EQUAL(dp_net_build_udp(&peer, m, &us.mac, us.ip, 1, 100, 0, 0), 0);
	CU_ASSERT_EQUAL(m->data_off, 0);
	rte_pktmbuf_free(m);
	POOL_CHECK();
}

/* Echo requests of many sizes and contents: the reply is the same size, addressed back, with
 * checksums the reference agrees with (the ICMP one is updated incrementally). */
static void
test_icmp_echo_reply(void)
{
	POOL_BASELINE();

	for (int i = 0; i < 2000; i++) {
		uint16_t dlen = (uint16_t)(rnd() % 1473);
		enum dp_drop_reason why;
		struct dp_net_pkt p;
		struct frame f, r;
		struct rte_mbuf *m;

		frame_icmp(&f, &peer, &us, dlen);
		for (uint16_t j = 0; j < dlen + 4; j++) /* id, seq and data */
			f.b[AT_L4 + 4 + j] = (uint8_t)rnd();
		frame_fix_l4(&f);
		if (i % 3 == 0 && f.len < 60)
			f.len = 60; /* padded */
		m = to_mbuf(&f);
		CU_ASSERT_EQUAL_FATAL(frame_classify(&us, m, &p, &why), DP_NET_ICMP_ECHO);
		CU_ASSERT_EQUAL(dp_net_icmp_echo_reply(&us, m), 0);
		from_mbuf(m, &r);
		CU_ASSERT_EQUAL(r.len, f.len);
		CU_ASSERT(memcmp(r.b + AT_ETH_DST, &peer.mac, 6) == 0 &&
			  memcmp(r.b + AT_ETH_SRC, &us.mac, 6) == 0);
		CU_ASSERT(memcmp(r.b + AT_IP_SRC, f.b + AT_IP_DST, 4) == 0 &&
			  memcmp(r.b + AT_IP_DST, f.b + AT_IP_SRC, 4) == 0);
		CU_ASSERT(ref_ip_ok(&r));
		CU_ASSERT(r.b[AT_ICMP_TYPE] == 0 && r.b[AT_ICMP_CODE] == 0);
		CU_ASSERT_EQUAL(get16(r.b + AT_ICMP_CK), ref_icmp_cksum(&r));
		CU_ASSERT(memcmp(r.b + AT_L4 + 4, f.b + AT_L4 + 4, dlen + 4u) == 0);
		rte_pktmbuf_free(m);
	}
	POOL_CHECK();
}

/* Regression (fuzz_frame): an echo request whose other words are all zero — identifier 0,
 * sequence 0, no data or zero data, of even and odd lengths. RFC 1624's update gave its reply
 * the checksum 0x0000, which no receiver verifies; it must be 0xffff. */
static void
test_icmp_echo_reply_zero(void)
{
	static const uint16_t lens[] = { 0, 1, 2, 56 };
	POOL_BASELINE();

	for (size_t i = 0; i < RTE_DIM(lens); i++) {
		enum dp_drop_reason why;
		struct dp_net_pkt p;
		struct frame f, r;
		struct rte_mbuf *m;

		frame_icmp(&f, &peer, &us, lens[i]);
		memset(f.b + AT_L4 + 4, 0, 4u + lens[i]);
		frame_fix_l4(&f);
		CU_ASSERT_EQUAL(get16(f.b + AT_ICMP_CK), 0xf7ff);
		m = to_mbuf(&f);
		CU_ASSERT_EQUAL_FATAL(frame_classify(&us, m, &p, &why), DP_NET_ICMP_ECHO);
		CU_ASSERT_EQUAL(dp_net_icmp_echo_reply(&us, m), 0);
		from_mbuf(m, &r);
		CU_ASSERT_EQUAL(get16(r.b + AT_ICMP_CK), 0xffff);
		CU_ASSERT_EQUAL(ref_fold(ref_sum(r.b + AT_L4, 8u + lens[i], 0)), 0xffff);
		rte_pktmbuf_free(m);
	}
	POOL_CHECK();
}

static void
test_arp_reply_and_request(void)
{
	enum dp_drop_reason why;
	struct dp_net_pkt p;
	struct frame f, r;
	struct rte_mbuf *m;
	POOL_BASELINE();

	/* peer asks for us; we answer in place; the answer is for peer */
	frame_arp(&f, &peer, &us, RTE_ARP_OP_REQUEST);
	f.len = 60;
	m = to_mbuf(&f);
	CU_ASSERT_EQUAL(frame_classify(&us, m, &p, &why), DP_NET_ARP);
	CU_ASSERT(p.arp_for_us && p.arp_op == RTE_ARP_OP_REQUEST);
	CU_ASSERT_EQUAL(dp_net_arp_reply(&us, m), 0);
	CU_ASSERT_EQUAL(rte_pktmbuf_data_len(m), 60);
	from_mbuf(m, &r);
	CU_ASSERT(memcmp(r.b + AT_ETH_DST, &peer.mac, 6) == 0 &&
		  memcmp(r.b + AT_ETH_SRC, &us.mac, 6) == 0);
	CU_ASSERT(memcmp(r.b + AT_ARP_THA, &peer.mac, 6) == 0 &&
		  memcmp(r.b + AT_ARP_SHA, &us.mac, 6) == 0);
	CU_ASSERT_EQUAL(frame_classify(&peer, m, &p, &why), DP_NET_ARP);
	CU_ASSERT(p.arp_for_us && p.arp_op == RTE_ARP_OP_REPLY && p.src_ip == us.ip);
	CU_ASSERT(rte_is_same_ether_addr(&p.arp_sha, &us.mac));
	CU_ASSERT_EQUAL(dp_net_arp_reply(&us, m), -EINVAL); /* a reply is not a request */
	rte_pktmbuf_free(m);

	/* we ask for peer */
	m = rte_pktmbuf_alloc(pool);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(dp_net_arp_request(&us, m, peer.ip), 0);
	CU_ASSERT_EQUAL(rte_pktmbuf_data_len(m), 60);
	CU_ASSERT_EQUAL(dp_net_arp_request(&us, m, peer.ip), -EINVAL); /* not empty */
	CU_ASSERT_EQUAL(frame_classify(&peer, m, &p, &why), DP_NET_ARP);
	CU_ASSERT(p.arp_for_us && p.arp_op == RTE_ARP_OP_REQUEST && p.src_ip == us.ip);
	CU_ASSERT_EQUAL(frame_classify(&us, m, &p, &why), DP_NET_DROP); /* our own, looped back */
	CU_ASSERT_EQUAL(why, DP_DROP_ETH_BAD_SOURCE);
	rte_pktmbuf_free(m);

	/* gratuitous: a neighbour may refresh us, never create */
	m = rte_pktmbuf_alloc(pool);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(dp_net_arp_request(&us, m, us.ip), 0);
	CU_ASSERT_EQUAL(frame_classify(&peer, m, &p, &why), DP_NET_ARP);
	CU_ASSERT(!p.arp_for_us && p.src_ip == us.ip);
	CU_ASSERT_EQUAL(dp_net_arp_reply(&peer, m), -EINVAL);
	rte_pktmbuf_free(m);
	POOL_CHECK();
}

static void
test_next_hop(void)
{
	struct dp_net_if nif = us;

	CU_ASSERT(dp_net_on_link(&nif, 0xc6120063) && !dp_net_on_link(&nif, 0xc6130001));
	CU_ASSERT_EQUAL(dp_net_next_hop(&nif, 0xc6120063), 0xc6120063);
	CU_ASSERT_EQUAL(dp_net_next_hop(&nif, 0x0a000001), us.gateway);
	nif.gateway = 0;
	CU_ASSERT_EQUAL(dp_net_next_hop(&nif, 0x0a000001), 0);
	nif.gateway = 0x0a000001; /* a gateway that is not on-link is no gateway */
	CU_ASSERT_EQUAL(dp_net_next_hop(&nif, 0x0b000001), 0);
	nif.prefix_len = 0;
	CU_ASSERT_EQUAL(dp_net_next_hop(&nif, 0x0b000001), 0x0b000001);
	nif.prefix_len = 32;
	CU_ASSERT(dp_net_on_link(&nif, us.ip) && !dp_net_on_link(&nif, us.ip + 1));
}

/* --- random frames ------------------------------------------------------------------------ */

static void
random_frame(struct frame *f, int i)
{
	uint16_t flips = (uint16_t)(rnd() % 8);

	if (i % 4 == 0) { /* pure noise, half of it addressed to us */
		f->len = (uint16_t)(rnd() % 1600);
		for (uint16_t j = 0; j < f->len; j++)
			f->b[j] = (uint8_t)rnd();
		if (rnd() & 1)
			memcpy(f->b, &us.mac, 6);
		return;
	}
	mk_base(f, (enum base)(rnd() % 4));
	if (f->b[AT_IP_PROTO] == IPPROTO_UDP && (rnd() & 1))
		apply(f, &(struct mut){ PAYLEN, 0, rnd() % 300 });
	for (uint16_t j = 0; j < flips; j++)
		f->b[rnd() % (f->len + 8u)] ^= (uint8_t)(1u << (rnd() % 8));
	if (rnd() % 3 == 0)
		f->len = (uint16_t)(rnd() % (f->len + 16u));
	if (rnd() & 1)
		frame_fix_ip(f);
	if (rnd() & 1)
		frame_fix_l4(f);
}

static void
test_random_frames(void)
{
	unsigned int kinds[4] = { 0 }, reasons = 0;
	bool seen[DP_DROP_COUNT] = { false };
	POOL_BASELINE();

	for (int i = 0; i < 20000; i++) {
		enum dp_drop_reason why = DP_DROP_COUNT;
		struct dp_net_pkt p;
		struct frame f;
		struct rte_mbuf *m;
		enum dp_net_kind k;

		memset(&f, 0, sizeof(f));
		random_frame(&f, i);
		m = to_mbuf(&f);
		k = frame_classify(&us, m, &p, &why);
		CU_ASSERT_FATAL(k <= DP_NET_SLUICE);
		kinds[k]++;
		if (k == DP_NET_DROP) {
			CU_ASSERT_FATAL(why < DP_DROP_COUNT);
			reasons += !seen[why];
			seen[why] = true;
		}
		if (k == DP_NET_SLUICE)
			CU_ASSERT(p.payload_off + p.payload_len <= rte_pktmbuf_data_len(m));
		if (k == DP_NET_ICMP_ECHO)
			CU_ASSERT(dp_net_icmp_echo_reply(&us, m) == 0 &&
				  rte_pktmbuf_data_len(m) == f.len);
		if (k == DP_NET_ARP && p.arp_for_us && p.arp_op == RTE_ARP_OP_REQUEST)
			CU_ASSERT(dp_net_arp_reply(&us, m) == 0 &&
				  rte_pktmbuf_data_len(m) == f.len);
		rte_pktmbuf_free(m);
	}
	printf("\n  drop %u, arp %u, icmp %u, sluice %u; %u distinct reasons ", kinds[0], kinds[1],
	       kinds[2], kinds[3], reasons);
	CU_ASSERT(kinds[DP_NET_ARP] > 0 && kinds[DP_NET_ICMP_ECHO] > 0 && kinds[DP_NET_SLUICE] > 0);
	CU_ASSERT(reasons >= 20);
	POOL_CHECK();
}

static CU_TestInfo cases[] = {
	{ "table: valid frames and one defect per row", test_table },
	{ "udp checksum 0xffff", test_udp_checksum_ffff },
	{ "chained mbufs: linearized or dropped", test_segments },
	{ "build udp: round trip through classify", test_build_udp_round_trip },
	{ "build udp: mtu, headroom, length", test_build_udp_errors },
	{ "icmp echo reply: same size, checksums", test_icmp_echo_reply },
	{ "icmp echo reply to an all-zero request: checksum 0xffff", test_icmp_echo_reply_zero },
	{ "arp reply, request, gratuitous", test_arp_reply_and_request },
	{ "on-link and next hop", test_next_hop },
	{ "20,000 random and mutated frames", test_random_frames },
	CU_TEST_INFO_NULL,
};

int
main(void)
{
	return sl_eal_test_main("net", cases, &pool);
}
