/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tests: frames written byte by byte, with deliberately naive checksums (RFC 1071, one
 * byte at a time), to check dp_net and the impairment stage against something that shares no
 * code with them. Offsets assume Ethernet + IPv4 without options.
 */
#ifndef NET_FRAMES_H
#define NET_FRAMES_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "dp_net.h"

/* clang-format off */
enum {
	AT_ETH_DST = 0, AT_ETH_SRC = 6, AT_ETH_TYPE = 12,
	AT_IP = 14, AT_IP_VHL = 14, AT_IP_TOT = 16, AT_IP_ID = 18, AT_IP_FRAG = 20, AT_IP_TTL = 22,
	AT_IP_PROTO = 23, AT_IP_CK = 24, AT_IP_SRC = 26, AT_IP_DST = 30,
	AT_L4 = 34, AT_UDP_SPORT = 34, AT_UDP_DPORT = 36, AT_UDP_LEN = 38, AT_UDP_CK = 40,
	AT_PAY = 42,
	AT_ICMP_TYPE = 34, AT_ICMP_CODE = 35, AT_ICMP_CK = 36,
	AT_ARP_HTYPE = 14, AT_ARP_PTYPE = 16, AT_ARP_HLEN = 18, AT_ARP_PLEN = 19, AT_ARP_OP = 20,
	AT_ARP_SHA = 22, AT_ARP_SIP = 28, AT_ARP_THA = 32, AT_ARP_TIP = 38,
};
/* clang-format on */

struct frame {
	uint8_t b[2048];
	uint16_t len;
	uint64_t ol_flags; /* copied into the mbuf */
};

void put16(uint8_t *p, uint16_t v);
void put32(uint8_t *p, uint32_t v);
uint16_t get16(const uint8_t *p);
uint32_t get32(const uint8_t *p);

/* One's complement sum of big-endian 16-bit words (odd byte padded), not folded; and folded. */
uint32_t ref_sum(const uint8_t *p, size_t n, uint32_t sum);
uint16_t ref_fold(uint32_t sum);

/* Checksums the frame should carry, from its IPv4 total length. */
uint16_t ref_udp_cksum(const struct frame *f);
uint16_t ref_icmp_cksum(const struct frame *f);
/* Does the IPv4 header checksum verify? */
bool ref_ip_ok(const struct frame *f);

/* Recompute the IPv4 header checksum; the UDP or ICMP one (only if the lengths make sense). */
void frame_fix_ip(struct frame *f);
void frame_fix_l4(struct frame *f);

/* Valid frames from `from` to `to`: a sluice data message of pay_len bytes (type byte 4, then
 * a fixed pattern), an echo request with data_len bytes of data, an ARP request (broadcast)
 * or reply. */
void frame_udp(struct frame *f, const struct dp_net_if *from, const struct dp_net_if *to,
	       uint16_t pay_len);
void frame_icmp(struct frame *f, const struct dp_net_if *from, const struct dp_net_if *to,
		uint16_t data_len);
void frame_arp(struct frame *f, const struct dp_net_if *from, const struct dp_net_if *to,
	       uint16_t op);

/* dp_net_classify() with every byte of a one-segment mbuf's buffer outside the frame poisoned
 * (under ASan: a read past the frame is caught). */
enum dp_net_kind frame_classify(const struct dp_net_if *nif, struct rte_mbuf *m,
				struct dp_net_pkt *out, enum dp_drop_reason *why);

/* A fresh single-segment mbuf holding the frame (NULL if the pool is empty), and back. */
struct rte_mbuf *frame_to_mbuf(const struct frame *f, struct rte_mempool *mp);
void frame_from_mbuf(const struct rte_mbuf *m, struct frame *f);

#endif /* NET_FRAMES_H */
