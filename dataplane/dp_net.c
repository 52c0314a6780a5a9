/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the minimal stack (see dp_net.h).
 *
 * Every check reads only bytes it has already proved are inside the frame. Checksums come from
 * DPDK's helpers (rte_ipv4_cksum, rte_ipv4_udptcp_cksum[_verify], rte_raw_cksum).
 */
/* rte_ipv4_udptcp_cksum_verify() is still marked experimental in DPDK 22.11 (an inline helper:
 * no ABI involved). */
#ifndef ALLOW_EXPERIMENTAL_API
#define ALLOW_EXPERIMENTAL_API 1
#endif

#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_icmp.h>

#include "dp_net.h"
#include "sl_wire.h"

#define L2_LEN	 ((uint16_t)sizeof(struct rte_ether_hdr))
#define L3_LEN	 ((uint16_t)sizeof(struct rte_ipv4_hdr))
#define UDP_LEN	 ((uint16_t)sizeof(struct rte_udp_hdr))
#define ICMP_LEN ((uint16_t)sizeof(struct rte_icmp_hdr))
#define ARP_LEN	 ((uint16_t)sizeof(struct rte_arp_hdr))

static_assert(sizeof(struct rte_icmp_hdr) == 8, "echo header");
static_assert(sizeof(struct rte_arp_hdr) == 28, "Ethernet/IPv4 ARP");

/* Smallest payload of each sluice message type; 0: not a type. */
static const uint16_t sluice_min_len[] = {
	[SL_MSG_IK_INIT] = sizeof(struct sl_msg_ik_init),
	[SL_MSG_IK_RESP] = sizeof(struct sl_msg_ik_resp),
	[SL_MSG_COOKIE] = sizeof(struct sl_msg_cookie),
	[SL_MSG_DATA] = DP_DATA_OVERHEAD,
	[SL_MSG_XX_INIT] = sizeof(struct sl_msg_xx_init),
	[SL_MSG_XX_RESP] = sizeof(struct sl_msg_xx_resp),
	[SL_MSG_XX_FINISH] = sizeof(struct sl_msg_xx_finish),
	[SL_MSG_RESUME_INIT] = sizeof(struct sl_msg_resume_init),
	[SL_MSG_RESUME_RESP] = sizeof(struct sl_msg_resume_resp),
	[SL_MSG_RESUME_REJECT] = sizeof(struct sl_msg_resume_reject),
};

static inline enum dp_net_kind
drop(enum dp_drop_reason *why, enum dp_drop_reason reason)
{
	*why = reason;
	return DP_NET_DROP;
}

static inline bool
fail(enum dp_drop_reason *why, enum dp_drop_reason reason)
{
	*why = reason;
	return false;
}

/* --- addresses -------------------------------------------------------------------------- */

static uint32_t
netmask(uint8_t prefix_len)
{
	if (prefix_len == 0)
		return 0; /* a shift by 32 would be undefined */
	if (prefix_len >= 32)
		return UINT32_MAX;
	return UINT32_MAX << (32 - prefix_len);
}

bool
dp_net_on_link(const struct dp_net_if *nif, uint32_t ip)
{
	uint32_t mask = netmask(nif->prefix_len);

	return (ip & mask) == (nif->ip & mask);
}

uint32_t
dp_net_next_hop(const struct dp_net_if *nif, uint32_t dst_ip)
{
	if (dp_net_on_link(nif, dst_ip))
		return dst_ip;
	if (nif->gateway != 0 && dp_net_on_link(nif, nif->gateway))
		return nif->gateway;
	return 0;
}

/* Never a unicast source (RFC 1122 3.2.1.3, RFC 5735): 0/8 "this network", 127/8 loopback,
 * 224/4 multicast, 240/4 reserved and the limited broadcast. */
static bool
ip_never_source(uint32_t ip)
{
	uint8_t first = ip >> 24;

	return first == 0 || first == 127 || first >= 224;
}

/* The directed broadcast of our subnet (subnets of /31 and /32 have none, RFC 3021). */
static bool
ip_subnet_broadcast(const struct dp_net_if *nif, uint32_t ip)
{
	uint32_t mask = netmask(nif->prefix_len);

	return nif->prefix_len <= 30 && (ip & mask) == (nif->ip & mask) &&
	       (ip | mask) == UINT32_MAX;
}

static bool
source_ok(const struct dp_net_if *nif, uint32_t src)
{
	return !ip_never_source(src) && !ip_subnet_broadcast(nif, src) && src != nif->ip;
}

/* --- receive ---------------------------------------------------------------------------- */

static bool
ipv4_cksum_ok(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip)
{
	uint64_t f = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;

	if (f == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return false;
	if (f == RTE_MBUF_F_RX_IP_CKSUM_GOOD || f == RTE_MBUF_F_RX_IP_CKSUM_NONE)
		return true;
	/* over the header including its checksum field: a valid one sums to 0xffff */
	return rte_ipv4_cksum(ip) == 0;
}

/* The caller has checked that the UDP length equals the IPv4 payload length, which is what
 * the helper sums over. */
static bool
udp_cksum_ok(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, const struct rte_udp_hdr *udp)
{
	uint64_t f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

	if (udp->dgram_cksum == 0) /* RFC 768: no checksum */
		return true;
	if (f == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		return false;
	if (f == RTE_MBUF_F_RX_L4_CKSUM_GOOD || f == RTE_MBUF_F_RX_L4_CKSUM_NONE)
		return true;
	return rte_ipv4_udptcp_cksum_verify(ip, udp) == 0;
}

/* A message of a type from 1 to 10 (never a relay header), at least its type's size. */
static enum dp_net_kind
classify_message(const uint8_t *payload, struct dp_net_pkt *out, enum dp_drop_reason *why)
{
	uint8_t type;

	if (out->payload_len < 1)
		return drop(why, DP_DROP_SLUICE_TOO_SHORT);
	type = payload[0];
	if (type >= RTE_DIM(sluice_min_len) || sluice_min_len[type] == 0)
		return drop(why, DP_DROP_SLUICE_UNKNOWN_TYPE);
	if (out->payload_len < sluice_min_len[type])
		return drop(why, DP_DROP_SLUICE_TOO_SHORT);
	out->msg_type = type;
	if (type == SL_MSG_DATA) {
		/* the one decode of the header; too long cannot be in one IPv4 datagram */
		int rc = dp_data_rx_decode(payload, out->payload_len, &out->data);

		if (unlikely(rc != 0))
			return drop(why, dp_drop_from_errno(rc));
	}
	return DP_NET_SLUICE;
}

/* A relay header (sl_relay_hdr): RELAY_TO is for the forwarding table (the message inside is
 * not the relay's to judge, beyond being one); RELAY_FROM is unwrapped here: what follows is
 * the message, classified as if it had come alone, with the circuit it came on. */
static enum dp_net_kind
classify_relayed(const uint8_t *payload, struct dp_net_pkt *out, enum dp_drop_reason *why)
{
	struct sl_relay_hdr h;
	enum dp_net_kind k;
	uint8_t inner;

	if (out->payload_len < SL_RELAY_HDR_LEN + 1)
		return drop(why, DP_DROP_RELAY_MALFORMED);
	memcpy(&h, payload, sizeof(h));
	inner = payload[SL_RELAY_HDR_LEN];
	if (h.reserved[0] != 0 || h.reserved[1] != 0 || h.reserved[2] != 0 || h.circuit == 0 ||
	    inner >= RTE_DIM(sluice_min_len) || sluice_min_len[inner] == 0 ||
	    out->payload_len < SL_RELAY_HDR_LEN + sluice_min_len[inner])
		return drop(why, DP_DROP_RELAY_MALFORMED);
	out->circuit = rte_be_to_cpu_32(h.circuit);
	if (h.type == SL_MSG_RELAY_TO) {
		out->msg_type = SL_MSG_RELAY_TO;
		return DP_NET_SLUICE;
	}
	out->payload_off += SL_RELAY_HDR_LEN;
	out->payload_len -= SL_RELAY_HDR_LEN;
	k = classify_message(payload + SL_RELAY_HDR_LEN, out, why);
	if (k == DP_NET_DROP && *why == DP_DROP_SLUICE_TOO_SHORT)
		*why = DP_DROP_RELAY_MALFORMED;
	return k;
}

static enum dp_net_kind
classify_sluice(const uint8_t *payload, struct dp_net_pkt *out, enum dp_drop_reason *why)
{
	if (out->payload_len >= 1 &&
	    (payload[0] == SL_MSG_RELAY_TO || payload[0] == SL_MSG_RELAY_FROM))
		return classify_relayed(payload, out, why);
	return classify_message(payload, out, why);
}

/* l4_len: the IPv4 payload length (total length - 20). */
static enum dp_net_kind
classify_udp(const struct dp_net_if *nif, const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
	     uint16_t l4_len, struct dp_net_pkt *out, enum dp_drop_reason *why)
{
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);
	uint16_t off = L2_LEN + L3_LEN + UDP_LEN;

	if (l4_len < UDP_LEN)
		return drop(why, DP_DROP_UDP_TOO_SHORT);
	if (rte_be_to_cpu_16(udp->dgram_len) != l4_len)
		return drop(why, DP_DROP_UDP_BAD_LENGTH);
	if (!udp_cksum_ok(m, ip, udp))
		return drop(why, DP_DROP_UDP_BAD_CHECKSUM);
	/* source port 0 means "no reply expected" (RFC 768): nothing we could answer */
	if (rte_be_to_cpu_16(udp->dst_port) != nif->udp_port || udp->src_port == 0)
		return drop(why, DP_DROP_UDP_WRONG_PORT);
	out->src_port = rte_be_to_cpu_16(udp->src_port);
	out->payload_off = off;
	out->payload_len = l4_len - UDP_LEN;
	return classify_sluice(rte_pktmbuf_mtod_offset(m, const uint8_t *, off), out, why);
}

static enum dp_net_kind
classify_icmp(const struct dp_net_if *nif, const struct rte_ipv4_hdr *ip, uint16_t l4_len,
	      enum dp_drop_reason *why)
{
	const struct rte_icmp_hdr *icmp = (const struct rte_icmp_hdr *)(ip + 1);

	if (l4_len < ICMP_LEN)
		return drop(why, DP_DROP_ICMP_MALFORMED);
	if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0)
		return drop(why, DP_DROP_ICMP_NOT_ECHO);
	if (rte_raw_cksum(icmp, l4_len) != 0xffff)
		return drop(why, DP_DROP_ICMP_BAD_CHECKSUM);
	/* the reply is as large as the request: above the MTU it could not be sent */
	if ((uint32_t)l4_len + L3_LEN > nif->mtu)
		return drop(why, DP_DROP_ICMP_TOO_BIG);
	return DP_NET_ICMP_ECHO;
}

/* The IPv4 header: everything but the payload. */
static bool
ipv4_header_ok(const struct dp_net_if *nif, const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
	       uint16_t avail, enum dp_drop_reason *why)
{
	uint16_t tot;

	if (avail < L3_LEN)
		return fail(why, DP_DROP_IPV4_TOO_SHORT);
	if ((ip->version_ihl >> 4) != IPVERSION)
		return fail(why, DP_DROP_IPV4_BAD_VERSION);
	if ((ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) < RTE_IPV4_MIN_IHL)
		return fail(why, DP_DROP_IPV4_BAD_IHL);
	if ((ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) > RTE_IPV4_MIN_IHL)
		return fail(why, DP_DROP_IPV4_OPTIONS);
	if (!ipv4_cksum_ok(m, ip))
		return fail(why, DP_DROP_IPV4_BAD_CHECKSUM);
	tot = rte_be_to_cpu_16(ip->total_length);
	if (tot < L3_LEN || tot > avail)
		return fail(why, DP_DROP_IPV4_BAD_LENGTH);
	if (rte_be_to_cpu_16(ip->fragment_offset) &
	    (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return fail(why, DP_DROP_IPV4_FRAGMENT);
	if (ip->time_to_live == 0)
		return fail(why, DP_DROP_IPV4_TTL_ZERO);
	if (rte_be_to_cpu_32(ip->dst_addr) != nif->ip)
		return fail(why, DP_DROP_IPV4_NOT_FOR_US);
	if (!source_ok(nif, rte_be_to_cpu_32(ip->src_addr)))
		return fail(why, DP_DROP_IPV4_BAD_SOURCE);
	return true;
}

static enum dp_net_kind
classify_ipv4(const struct dp_net_if *nif, const struct rte_mbuf *m, struct dp_net_pkt *out,
	      enum dp_drop_reason *why)
{
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, L2_LEN);
	uint16_t l4_len;

	if (!ipv4_header_ok(nif, m, ip, rte_pktmbuf_data_len(m) - L2_LEN, why))
		return DP_NET_DROP;
	out->src_ip = rte_be_to_cpu_32(ip->src_addr);
	l4_len = rte_be_to_cpu_16(ip->total_length) - L3_LEN;
	switch (ip->next_proto_id) {
	case IPPROTO_UDP:
		return classify_udp(nif, m, ip, l4_len, out, why);
	case IPPROTO_ICMP:
		return classify_icmp(nif, ip, l4_len, why);
	default:
		return drop(why, DP_DROP_IPV4_UNKNOWN_PROTO);
	}
}

/* Is this ARP packet for us? Sets arp_for_us, or *why. */
static bool
arp_target_ok(const struct dp_net_if *nif, uint16_t op, uint32_t sip, uint32_t tip,
	      struct dp_net_pkt *out, enum dp_drop_reason *why)
{
	if (sip == nif->ip) /* our own address in someone else's mouth: never learn it */
		return fail(why, DP_DROP_ARP_NOT_FOR_US);
	if (tip == nif->ip) {
		/* only a probe (RFC 5227, a request) has no sender address */
		if (sip == 0 && op != RTE_ARP_OP_REQUEST)
			return fail(why, DP_DROP_ARP_MALFORMED);
		out->arp_for_us = true;
		return true;
	}
	if (sip == tip && sip != 0) { /* gratuitous: may refresh a known entry */
		out->arp_for_us = false;
		return true;
	}
	return fail(why, DP_DROP_ARP_NOT_FOR_US);
}

static enum dp_net_kind
classify_arp(const struct dp_net_if *nif, const struct rte_mbuf *m, struct dp_net_pkt *out,
	     enum dp_drop_reason *why)
{
	const struct rte_arp_hdr *arp =
		rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *, L2_LEN);
	const struct rte_arp_ipv4 *d = &arp->arp_data;
	uint16_t op;
	uint32_t sip;

	if (rte_pktmbuf_data_len(m) < L2_LEN + ARP_LEN)
		return drop(why, DP_DROP_ARP_MALFORMED);
	op = rte_be_to_cpu_16(arp->arp_opcode);
	if (rte_be_to_cpu_16(arp->arp_hardware) != RTE_ARP_HRD_ETHER ||
	    rte_be_to_cpu_16(arp->arp_protocol) != RTE_ETHER_TYPE_IPV4 ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != sizeof(uint32_t) ||
	    (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY))
		return drop(why, DP_DROP_ARP_MALFORMED);
	sip = rte_be_to_cpu_32(d->arp_sip);
	if (!rte_is_valid_assigned_ether_addr(&d->arp_sha) || (sip != 0 && ip_never_source(sip)))
		return drop(why, DP_DROP_ARP_MALFORMED);
	if (rte_is_same_ether_addr(&d->arp_sha, &nif->mac))
		return drop(why, DP_DROP_ARP_NOT_FOR_US); /* our own, looped back */
	if (!arp_target_ok(nif, op, sip, rte_be_to_cpu_32(d->arp_tip), out, why))
		return DP_NET_DROP;
	out->arp_op = op;
	out->arp_sha = d->arp_sha;
	out->src_ip = sip;
	return DP_NET_ARP;
}

static bool
vlan_tagged(const struct rte_mbuf *m, uint16_t type)
{
	return type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ ||
	       (m->ol_flags & (RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_QINQ_STRIPPED));
}

enum dp_net_kind
dp_net_classify(const struct dp_net_if *nif, struct rte_mbuf *m, struct dp_net_pkt *out,
		enum dp_drop_reason *why)
{
	const struct rte_ether_hdr *eth;
	bool bcast;
	uint16_t type;

	if (unlikely(m->nb_segs > 1) && rte_pktmbuf_linearize(m) != 0)
		return drop(why, DP_DROP_MULTI_SEGMENT);
	if (rte_pktmbuf_data_len(m) < L2_LEN)
		return drop(why, DP_DROP_ETH_TOO_SHORT);
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	bcast = rte_is_broadcast_ether_addr(&eth->dst_addr);
	if (!bcast && !rte_is_same_ether_addr(&eth->dst_addr, &nif->mac))
		return drop(why, DP_DROP_ETH_NOT_FOR_US);
	type = rte_be_to_cpu_16(eth->ether_type);
	if (vlan_tagged(m, type))
		return drop(why, DP_DROP_VLAN);
	if (type != RTE_ETHER_TYPE_ARP && type != RTE_ETHER_TYPE_IPV4)
		return drop(why, DP_DROP_ETH_UNKNOWN_TYPE);
	if (bcast && type != RTE_ETHER_TYPE_ARP)
		return drop(why, DP_DROP_ETH_NOT_FOR_US);
	/* whatever we answer goes back to this address (echo replies, handshake answers): it
	 * must be one station's, and not ours */
	if (!rte_is_valid_assigned_ether_addr(&eth->src_addr) ||
	    rte_is_same_ether_addr(&eth->src_addr, &nif->mac))
		return drop(why, DP_DROP_ETH_BAD_SOURCE);
	memset(out, 0, sizeof(*out));
	rte_ether_addr_copy(&eth->src_addr, &out->src_mac);
	if (type == RTE_ETHER_TYPE_ARP)
		return classify_arp(nif, m, out, why);
	return classify_ipv4(nif, m, out, why);
}

/* --- send ------------------------------------------------------------------------------- */

static void
write_eth(struct rte_ether_hdr *eth, const struct rte_ether_addr *src,
	  const struct rte_ether_addr *dst, uint16_t type)
{
	rte_ether_addr_copy(dst, &eth->dst_addr);
	rte_ether_addr_copy(src, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(type);
}

static void
write_ipv4(struct rte_ipv4_hdr *ip, uint32_t src, uint32_t dst, uint8_t proto, uint16_t tot,
	   uint16_t id)
{
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16(tot);
	ip->packet_id = rte_cpu_to_be_16(id);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = DP_NET_TTL;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

int
dp_net_build_udp(const struct dp_net_if *nif, struct rte_mbuf *m,
		 const struct rte_ether_addr *dst_mac, uint32_t dst_ip, uint16_t dst_port,
		 uint16_t payload_len, uint16_t ip_id, unsigned int flags)
{
	uint32_t tot = (uint32_t)payload_len + L3_LEN + UDP_LEN;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;

	if (!rte_pktmbuf_is_contiguous(m) || rte_pktmbuf_data_len(m) != payload_len)
		return -EINVAL;
	if (tot > nif->mtu)
		return -EMSGSIZE;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, DP_NET_UDP_HEADROOM);
	if (eth == NULL)
		return -ENOSPC;
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	udp = (struct rte_udp_hdr *)(ip + 1);
	write_eth(eth, &nif->mac, dst_mac, RTE_ETHER_TYPE_IPV4);
	write_ipv4(ip, nif->ip, dst_ip, IPPROTO_UDP, (uint16_t)tot, ip_id);
	udp->src_port = rte_cpu_to_be_16(nif->udp_port);
	udp->dst_port = rte_cpu_to_be_16(dst_port);
	udp->dgram_len = rte_cpu_to_be_16(payload_len + UDP_LEN);
	udp->dgram_cksum = 0;
	if (!(flags & DP_NET_F_NO_UDP_CKSUM))
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp); /* never 0: 0 becomes 0xffff */
	m->l2_len = L2_LEN;
	m->l3_len = L3_LEN;
	m->l4_len = UDP_LEN;
	return 0;
}

/* RFC 1624 eqn. 3: the checksum after one 16-bit word changed from old to new. Eqn. 3 gives
 * 0x0000 where a checksum computed afresh gives 0xffff when every other 16-bit word of the
 * message is zero (an echo request with identifier 0, sequence 0 and no data, or zero data):
 * two zeros of one's complement, but then only 0xffff verifies (the message must sum to 0xffff),
 * while 0xffff verifies whatever the message. So 0xffff it is. */
static rte_be16_t
cksum_update16(rte_be16_t cksum, rte_be16_t old, rte_be16_t new)
{
	uint32_t sum = (uint16_t)~cksum + (uint16_t)~old + (uint32_t) new;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff ? (rte_be16_t)0xffff : (rte_be16_t)~sum;
}

int
dp_net_icmp_echo_reply(const struct dp_net_if *nif, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);
	rte_be16_t before, after;

	if (!rte_pktmbuf_is_contiguous(m) || rte_pktmbuf_data_len(m) < L2_LEN + L3_LEN + ICMP_LEN ||
	    eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ip->version_ihl != RTE_IPV4_VHL_DEF || ip->next_proto_id != IPPROTO_ICMP ||
	    icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0)
		return -EINVAL;
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&nif->mac, &eth->src_addr);
	ip->dst_addr = ip->src_addr;
	ip->src_addr = rte_cpu_to_be_32(nif->ip);
	ip->time_to_live = DP_NET_TTL;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	/* type and code share the first 16-bit word of the message */
	memcpy(&before, icmp, sizeof(before));
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	memcpy(&after, icmp, sizeof(after));
	icmp->icmp_cksum = cksum_update16(icmp->icmp_cksum, before, after);
	return 0;
}

int
dp_net_arp_reply(const struct dp_net_if *nif, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	struct rte_arp_ipv4 *d = &arp->arp_data;

	if (!rte_pktmbuf_is_contiguous(m) || rte_pktmbuf_data_len(m) < L2_LEN + ARP_LEN ||
	    eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP) ||
	    arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
	    d->arp_tip != rte_cpu_to_be_32(nif->ip))
		return -EINVAL;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&d->arp_sha, &d->arp_tha);
	d->arp_tip = d->arp_sip;
	rte_ether_addr_copy(&nif->mac, &d->arp_sha);
	d->arp_sip = rte_cpu_to_be_32(nif->ip);
	write_eth(eth, &nif->mac, &d->arp_tha, RTE_ETHER_TYPE_ARP);
	return 0;
}

int
dp_net_arp_request(const struct dp_net_if *nif, struct rte_mbuf *m, uint32_t target_ip)
{
	static const struct rte_ether_addr bcast = { .addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff,
								     0xff } };
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	if (rte_pktmbuf_pkt_len(m) != 0)
		return -EINVAL;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, DP_NET_ETH_MIN_LEN);
	if (eth == NULL)
		return -ENOSPC;
	memset(eth, 0, DP_NET_ETH_MIN_LEN);
	write_eth(eth, &nif->mac, &bcast, RTE_ETHER_TYPE_ARP);
	arp = (struct rte_arp_hdr *)(eth + 1);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = sizeof(uint32_t);
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(&nif->mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = rte_cpu_to_be_32(nif->ip);
	arp->arp_data.arp_tip = rte_cpu_to_be_32(target_ip); /* tha stays zero */
	return 0;
}
