/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the minimal stack — Ethernet, ARP, IPv4, UDP and ICMP echo, validated strictly.
 *
 * Receive: dp_net_classify() looks at a received frame once and says what it is — an ARP
 * packet for us, a ping to answer, a sluice UDP payload, or a drop with its reason (dp_drop.h).
 * It never frees the mbuf: the caller frees drops and owns everything else.
 *
 *   Ethernet  at least 14 bytes; destination our MAC (broadcast only for ARP); EtherType IPv4
 *             or ARP; tagged frames (802.1Q/802.1ad, or a tag the NIC stripped) are dropped.
 *   IPv4      RFC 791 / RFC 1122: version 4; header length exactly 20 (options are dropped and
 *             counted); header checksum; 20 <= total length <= frame - 14 (bytes past the
 *             total length are Ethernet padding and ignored); no fragments (MF or offset);
 *             TTL > 0; destination our address; source not 0/8, 127/8, multicast, class E,
 *             limited or our subnet's broadcast, or our own address.
 *   UDP       RFC 768: length equal to the IPv4 payload length (a shorter UDP length with
 *             trailing bytes inside the IP datagram is dropped, not trimmed); checksum over
 *             the pseudo-header verified unless it is zero (no checksum); destination port
 *             ours; source port not 0 (nothing to answer: counted as udp_wrong_port). Then
 *             the sluice payload: a known SL_MSG_* type and at least the size of that
 *             message (sl_wire.h). A relay header (SL_MSG_RELAY_FROM) in front of a
 *             message is taken off here and its circuit kept (dp_net_pkt.circuit): what
 *             follows is classified as if it had come alone. SL_MSG_RELAY_TO is returned
 *             as it is, for the relay's forwarding table (dp_relay.h), once its header and
 *             the type and size of the message inside are checked. A data packet's header is
 *             decoded here, once
 *             (dp_data_rx_decode, dp_data.h), into dp_net_pkt.data, which every later stage
 *             reads; anything finer (reserved bytes, sessions, keys) is the caller's.
 *   ICMP      echo request (type 8, code 0), at least 8 bytes, checksum over the message.
 *   ARP       Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6, plen 4), request or reply,
 *             sender MAC unicast and not ours, target IP ours; or a gratuitous ARP (sender
 *             IP == target IP), returned with arp_for_us false (RFC 826 merge rule: it may
 *             refresh an entry the cache already has, never create one).
 *   Checksums the NIC verified (RTE_MBUF_F_RX_{IP,L4}_CKSUM_GOOD or _BAD) are taken from
 *             the mbuf flags; otherwise verified in software.
 *
 * Segments: every function here works on single-segment mbufs. dp_net_classify() linearizes a
 * chained mbuf if its first segment has the room (rte_pktmbuf_linearize) and drops it
 * otherwise (multi_segment); configure ports so a frame fits one mbuf and it never happens.
 *
 * Send: the builders write headers in place.
 *   UDP       reserve DP_NET_UDP_HEADROOM bytes of headroom (RTE_PKTMBUF_HEADROOM is more than
 *             enough: a freshly allocated mbuf qualifies), rte_pktmbuf_append() the sluice
 *             payload and write it, then dp_net_build_udp() prepends Ethernet + IPv4 + UDP.
 *   ICMP/ARP  dp_net_icmp_echo_reply() and dp_net_arp_reply() turn the request into the answer
 *             in the same mbuf, never larger than the request.
 *
 * Addresses are host order (uint32_t, uint16_t) in this API; MACs are struct rte_ether_addr.
 * Threading: stateless; the interface description is read-only once the port runs.
 */
#ifndef DP_NET_H
#define DP_NET_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dp_data.h"
#include "dp_drop.h"

/* Ethernet + IPv4 (no options) + UDP in front of every sluice payload. */
#define DP_NET_UDP_HEADROOM \
	(sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))
#define DP_NET_TTL	   64
#define DP_NET_ETH_MIN_LEN (RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN) /* 60: frames are padded */

static_assert(DP_NET_UDP_HEADROOM == 42, "Ethernet + IPv4 + UDP");
static_assert(DP_NET_UDP_HEADROOM <= RTE_PKTMBUF_HEADROOM, "a fresh mbuf has the headroom");

/* One local interface (one port). */
struct dp_net_if {
	struct rte_ether_addr mac;
	uint32_t ip;	    /* host order */
	uint8_t prefix_len; /* 0..32 */
	uint16_t udp_port;  /* sluice's UDP port, host order */
	uint32_t gateway;   /* host order; 0: none (peers must be on-link) */
	uint16_t mtu;	    /* IPv4 MTU: largest IPv4 datagram sent (576..9000) */
};

enum dp_net_kind {
	DP_NET_DROP = 0,  /* *why says why; the caller counts and frees */
	DP_NET_ARP,	  /* ARP for us (or gratuitous): answer requests, teach the cache */
	DP_NET_ICMP_ECHO, /* echo request to us: dp_net_icmp_echo_reply() and send it back */
	DP_NET_SLUICE,	  /* UDP to our port: payload at payload_off, payload_len bytes */
};

/* What dp_net_classify() found; which fields are set depends on the kind. */
struct dp_net_pkt {
	struct rte_ether_addr src_mac; /* all kinds: Ethernet source */
	uint32_t src_ip;	       /* IPv4 source, or ARP sender IP (0 in an ARP probe) */
	uint16_t src_port;	       /* SLUICE: UDP source port */
	uint16_t arp_op;	       /* ARP: RTE_ARP_OP_REQUEST or RTE_ARP_OP_REPLY */
	struct rte_ether_addr arp_sha; /* ARP: sender hardware address */
	bool arp_for_us;	       /* ARP: target IP is ours (false: gratuitous) */
	uint8_t msg_type;	       /* SLUICE: SL_MSG_* (RELAY_FROM: the message inside's) */
	/* SLUICE: RELAY_TO: the circuit to forward on; another type: the circuit the message
	 * came on through a relay (its RELAY_FROM header is behind payload_off), 0 if direct */
	uint32_t circuit;
	uint16_t payload_off;	       /* SLUICE: offset of the UDP payload in the mbuf data */
	uint16_t payload_len;	       /* SLUICE: its length (Ethernet padding excluded) */
	struct dp_data_rx data;	       /* SLUICE, msg_type SL_MSG_DATA: the header, decoded */
};

/* Build flags. */
#define DP_NET_F_NO_UDP_CKSUM                                         \
	0x1 /* send UDP checksum 0 (RFC 768: none); the AEAD protects \
	       the payload anyway, this saves a pass over it */

/* What a received frame is. Returns DP_NET_DROP with *why set, or another kind with *out
 * filled. May linearize m (see above); never frees it. */
enum dp_net_kind dp_net_classify(const struct dp_net_if *nif, struct rte_mbuf *m,
				 struct dp_net_pkt *out,
				 enum dp_drop_reason *why) __rte_warn_unused_result;

/* Prepend Ethernet, IPv4 and UDP headers to m, which holds exactly payload_len bytes of sluice
 * payload (one segment, at least DP_NET_UDP_HEADROOM of headroom). From our MAC, address and
 * port to the given ones; IPv4 with DF, TTL 64, the given identification (RFC 6864: any value
 * for an atomic datagram; a per-lcore counter is fine), header checksum; UDP checksum in
 * software unless DP_NET_F_NO_UDP_CKSUM. Sets m->l2_len and l3_len.
 * Returns 0; -EINVAL (segments, length mismatch), -ENOSPC (headroom), -EMSGSIZE (the datagram
 * would exceed the interface MTU). On error m is unchanged. */
int dp_net_build_udp(const struct dp_net_if *nif, struct rte_mbuf *m,
		     const struct rte_ether_addr *dst_mac, uint32_t dst_ip, uint16_t dst_port,
		     uint16_t payload_len, uint16_t ip_id,
		     unsigned int flags) __rte_warn_unused_result;

/* Turn an echo request that dp_net_classify() accepted into its reply, in place: addresses
 * swapped, TTL 64, type 0, both checksums recomputed; same length. 0, or -EINVAL if m is not
 * such a request. */
int dp_net_icmp_echo_reply(const struct dp_net_if *nif,
			   struct rte_mbuf *m) __rte_warn_unused_result;

/* Turn an ARP request for our address (classified DP_NET_ARP, arp_for_us, op request) into
 * the reply, in place, addressed to the requester's hardware address. 0 or -EINVAL. */
int dp_net_arp_reply(const struct dp_net_if *nif, struct rte_mbuf *m) __rte_warn_unused_result;

/* Write a broadcast ARP request for target_ip (host order) into m, an empty mbuf: 60 bytes
 * (42 of ARP, zero-padded to the Ethernet minimum). 0 or -ENOSPC. With target_ip == nif->ip it
 * is a gratuitous ARP (announcement). */
int dp_net_arp_request(const struct dp_net_if *nif, struct rte_mbuf *m,
		       uint32_t target_ip) __rte_warn_unused_result;

/* Is ip on the interface's subnet? */
bool dp_net_on_link(const struct dp_net_if *nif, uint32_t ip);

/* The address whose MAC a packet to dst_ip needs: dst_ip itself when on-link, else the
 * gateway; 0 when neither (no_route). */
uint32_t dp_net_next_hop(const struct dp_net_if *nif, uint32_t dst_ip);

#endif /* DP_NET_H */
