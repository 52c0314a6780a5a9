/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tests: reference frames (see net_frames.h).
 */
#include <string.h>

#include <rte_arp.h>

#include "net_frames.h"
#include "sl_poison.h"
#include "sl_wire.h"

void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = (uint8_t)v;
}

void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, (uint16_t)v);
}

uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

uint32_t
ref_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i < n; i++)
		sum += i % 2 == 0 ? (uint32_t)p[i] << 8 : p[i];
	return sum;
}

uint16_t
ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

bool
ref_ip_ok(const struct frame *f)
{
	return ref_fold(ref_sum(f->b + AT_IP, 20, 0)) == 0xffff;
}

void
frame_fix_ip(struct frame *f)
{
	put16(f->b + AT_IP_CK, 0);
	put16(f->b + AT_IP_CK, (uint16_t)~ref_fold(ref_sum(f->b + AT_IP, 20, 0)));
}

/* Over the pseudo-header and the IPv4 payload, the checksum field taken as zero; a result of
 * zero is sent as 0xffff (RFC 768). */
uint16_t
ref_udp_cksum(const struct frame *f)
{
	uint16_t l4 = get16(f->b + AT_IP_TOT) - 20;
	uint32_t sum = ref_sum(f->b + AT_IP_SRC, 8, 0) + IPPROTO_UDP + l4;
	uint16_t ck;

	sum = ref_sum(f->b + AT_L4, 6, sum);
	sum = ref_sum(f->b + AT_PAY, l4 - 8u, sum);
	ck = (uint16_t)~ref_fold(sum);
	return ck == 0 ? 0xffff : ck;
}

uint16_t
ref_icmp_cksum(const struct frame *f)
{
	uint16_t l4 = get16(f->b + AT_IP_TOT) - 20;

	return (uint16_t)~ref_fold(ref_sum(f->b + AT_L4, 2, 0) +
				   ref_sum(f->b + AT_L4 + 4, l4 - 4u, 0));
}

void
frame_fix_l4(struct frame *f)
{
	uint16_t tot = get16(f->b + AT_IP_TOT);

	if (tot < 28 || 14u + tot > sizeof(f->b))
		return;
	if (f->b[AT_IP_PROTO] == IPPROTO_UDP)
		put16(f->b + AT_UDP_CK, ref_udp_cksum(f));
	else if (f->b[AT_IP_PROTO] == IPPROTO_ICMP)
		put16(f->b + AT_ICMP_CK, ref_icmp_cksum(f));
}

static void
eth(struct frame *f, const struct rte_ether_addr *dst, const struct rte_ether_addr *src,
    uint16_t type)
{
	memcpy(f->b + AT_ETH_DST, dst, 6);
	memcpy(f->b + AT_ETH_SRC, src, 6);
	put16(f->b + AT_ETH_TYPE, type);
}

static void
ipv4(struct frame *f, const struct dp_net_if *from, const struct dp_net_if *to, uint8_t proto,
     uint16_t l4_len)
{
	memset(f, 0, sizeof(*f));
	eth(f, &to->mac, &from->mac, RTE_ETHER_TYPE_IPV4);
	f->b[AT_IP_VHL] = 0x45;
	put16(f->b + AT_IP_TOT, 20 + l4_len);
	put16(f->b + AT_IP_ID, 0x1234);
	put16(f->b + AT_IP_FRAG, 0x4000); /* DF */
	f->b[AT_IP_TTL] = 64;
	f->b[AT_IP_PROTO] = proto;
	put32(f->b + AT_IP_SRC, from->ip);
	put32(f->b + AT_IP_DST, to->ip);
	frame_fix_ip(f);
	f->len = 14 + 20 + l4_len;
}

void
frame_udp(struct frame *f, const struct dp_net_if *from, const struct dp_net_if *to,
	  uint16_t pay_len)
{
	ipv4(f, from, to, IPPROTO_UDP, 8 + pay_len);
	put16(f->b + AT_UDP_SPORT, from->udp_port);
	put16(f->b + AT_UDP_DPORT, to->udp_port);
	put16(f->b + AT_UDP_LEN, 8 + pay_len);
	for (uint16_t i = 0; i < pay_len; i++)
		f->b[AT_PAY + i] = (uint8_t)(i * 7 + 3);
	if (pay_len > 0)
		f->b[AT_PAY] = SL_MSG_DATA;
	frame_fix_l4(f);
}

void
frame_icmp(struct frame *f, const struct dp_net_if *from, const struct dp_net_if *to,
	   uint16_t data_len)
{
	ipv4(f, from, to, IPPROTO_ICMP, 8 + data_len);
	f->b[AT_ICMP_TYPE] = 8;
	put16(f->b + AT_L4 + 4, 0x4242); /* identifier */
	put16(f->b + AT_L4 + 6, 7);	 /* sequence */
	for (uint16_t i = 0; i < data_len; i++)
		f->b[AT_L4 + 8 + i] = (uint8_t)(0xa0 + i);
	frame_fix_l4(f);
}

void
frame_arp(struct frame *f, const struct dp_net_if *from, const struct dp_net_if *to, uint16_t op)
{
	static const struct rte_ether_addr bcast = { .addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff,
								     0xff } };

	memset(f, 0, sizeof(*f));
	eth(f, op == RTE_ARP_OP_REQUEST ? &bcast : &to->mac, &from->mac, RTE_ETHER_TYPE_ARP);
	put16(f->b + AT_ARP_HTYPE, 1);
	put16(f->b + AT_ARP_PTYPE, 0x0800);
	f->b[AT_ARP_HLEN] = 6;
	f->b[AT_ARP_PLEN] = 4;
	put16(f->b + AT_ARP_OP, op);
	memcpy(f->b + AT_ARP_SHA, &from->mac, 6);
	put32(f->b + AT_ARP_SIP, from->ip);
	if (op == RTE_ARP_OP_REPLY)
		memcpy(f->b + AT_ARP_THA, &to->mac, 6);
	put32(f->b + AT_ARP_TIP, to->ip);
	f->len = 42;
}

struct rte_mbuf *
frame_to_mbuf(const struct frame *f, struct rte_mempool *mp)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	char *p;

	if (m == NULL)
		return NULL;
	p = rte_pktmbuf_append(m, f->len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(p, f->b, f->len);
	m->ol_flags = f->ol_flags;
	return m;
}

void
frame_from_mbuf(const struct rte_mbuf *m, struct frame *f)
{
	uint16_t len = rte_pktmbuf_data_len(m);

	f->len = len <= sizeof(f->b) ? len : sizeof(f->b);
	memcpy(f->b, rte_pktmbuf_mtod(m, const void *), f->len);
	f->ol_flags = m->ol_flags;
}

enum dp_net_kind
frame_classify(const struct dp_net_if *nif, struct rte_mbuf *m, struct dp_net_pkt *out,
	       enum dp_drop_reason *why)
{
	char *buf = m->buf_addr, *data = rte_pktmbuf_mtod(m, char *);
	char *end = data + rte_pktmbuf_data_len(m);
	enum dp_net_kind k;

	if (!rte_pktmbuf_is_contiguous(m))
		return dp_net_classify(nif, m, out, why);
	POISON(buf, (size_t)(data - buf));
	POISON(end, (size_t)(buf + m->buf_len - end));
	k = dp_net_classify(nif, m, out, why);
	UNPOISON(buf, m->buf_len);
	return k;
}
