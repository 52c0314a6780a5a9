/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: libFuzzer target — raw Ethernet frames into the receive stack of a dataplane lcore:
 * dp_net_classify() (Ethernet, ARP, IPv4, UDP, ICMP, the sluice message types, the one decode
 * of a data packet's header), then what the lcore does with each verdict that needs no NIC:
 * an echo request becomes its reply (dp_net_icmp_echo_reply), an ARP request for us its reply
 * (dp_net_arp_reply), a data packet is opened with the session's keys (dp_keyset_open: receiver
 * id, reserved bytes, the anti-replay window, the AEAD tag).
 *
 * The interface is 198.18.0.1/24, MAC 02:00:00:00:00:01, UDP port 4789, MTU 1500; the session
 * has a responder's keypair (AES-256-GCM) whose receiver id is OUR_ID. The input is a sequence
 * of records (at most MAX_RECORDS):
 *     u8 mode, u8 seg, u8 len_hi, u8 len_lo, then len bytes: the frame (at most 2048 bytes)
 * mode & 0x03: what the NIC says of the IPv4 header checksum (0 nothing: verified in software,
 * 1 good, 2 bad, 3 none), mode >> 2 & 0x03 the same of the L4 checksum; mode & 0x10: the NIC
 * stripped a VLAN tag; mode & 0x20: the harness writes the IPv4 header checksum and the UDP or
 * ICMP checksum for the lengths the frame states (as the handshake target writes mac1: so
 * mutated frames get past the checksums); mode & 0x40: the harness seals a data packet (the
 * UDP payload of a frame of IPv4 without options) under the peer's keys, with the packet number
 * the frame's header carries and OUR_ID as receiver, then writes the checksums. seg & 0x03: the
 * mbuf is one segment (0, 3), two whose first has room for the rest (1), or two whose first has
 * none (2: rte_pktmbuf_linearize fails but for a last byte); the first segment holds
 * len * (seg >> 2) / 63 bytes.
 *
 * Invariants, abort() on violation: no crash, leak or sanitizer report, and no byte read outside
 * the frame (under ASan the rest of a one-segment mbuf's buffer is poisoned while it is
 * classified); every frame gets exactly one verdict: a drop with a reason dp_net may give (the
 * reason written) or a kind with its fields (the reason untouched); a second look at the same
 * mbuf (as the owner lcore takes after a handoff) gives the same verdict and fields; what is
 * accepted agrees with deliberately naive references (tests/net_frames.c: checksums byte by
 * byte, lengths, ports, the decoded header against the bytes); an accepted echo request always
 * has its reply, whose checksums verify and which the sender would classify as an echo reply
 * (icmp_not_echo); an ARP request for us always has its reply, which the requester would take
 * as a reply for it; a data packet opens exactly when a naive model of the replay window says
 * (RFC 6479 rules, sl_limits.h) and it was sealed by the harness, to the bytes sealed; no mbuf
 * is left out of the pool after an input.
 *
 * Built only with -Dfuzz=true under clang (make fuzz). EAL starts once, for the mbuf pool
 * (--no-huge --no-pci, sl_eal_test_start).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_mbuf.h>

#include "dp_keypair.h"
#include "dp_net.h"
#include "fuzz.h"
#include "net_frames.h"
#include "sl_aead.h"
#include "sl_eal_test.h"

#include "sl_poison.h"

#define MAX_RECORDS 64
#define M_FIX	    0x20
#define M_SEAL	    0x40
#define OUR_ID	    0x00010005u /* the session's receiver id (owner lcore 0, slot 5) */
#define PEER_ID	    0x00020007u
#define NOW	    (10ull * 1000000000ull)
#define SENTINEL    DP_DROP_COUNT /* no reason: what `why` holds until one is written */

static struct rte_mempool *pool;
static struct dp_key_limits lim;
static const uint8_t key_a[SL_KEY_LEN] = { 0xa1, 0x5e, 0x11 }; /* peer -> us */
static const uint8_t key_b[SL_KEY_LEN] = { 0xb0, 0x0c, 0x22 }; /* us -> peer */

static const struct dp_net_if us = {
	.mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x01 } },
	.ip = 0xc6120001, /* 198.18.0.1/24 */
	.prefix_len = 24,
	.udp_port = 4789,
	.gateway = 0xc61200fe,
	.mtu = 1500,
};

/* The session's keys and a naive model of its replay window: every packet number accepted so
 * far (at most one per record) and the highest. */
static struct {
	struct dp_keyset ks;
	struct dp_keypair *sender; /* the peer's keypair, to seal with */
	uint64_t seen[MAX_RECORDS];
	unsigned int n_seen;
	uint64_t top;
} sess;

/* What the harness sealed into the current frame. */
struct sealed {
	bool done;
	uint64_t pn;
	uint16_t len;
	uint8_t plain[2048];
};

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* --- the session ------------------------------------------------------------------------------ */

static void
session_start(void)
{
	dp_keyset_init(&sess.ks);
	dp_keyset_install(&sess.ks, dp_keypair_create(SL_AEAD_AES256_GCM, key_b, key_a, OUR_ID,
						      PEER_ID, false, NOW));
	fuzz_check(sess.ks.next != NULL, "our keypair");
	sess.sender = NULL;
	sess.n_seen = 0;
	sess.top = 0;
}

static void
session_stop(void)
{
	dp_keyset_clear(&sess.ks);
	dp_keypair_destroy(sess.sender);
}

/* The window's rules (dp_replay.h), naively: below the hard limit, never seen, and above the
 * highest or at most SL_REPLAY_WINDOW behind it. */
static bool
ref_accepts(uint64_t pn)
{
	if (pn >= lim.reject_after_msgs)
		return false;
	for (unsigned int i = 0; i < sess.n_seen; i++)
		if (sess.seen[i] == pn)
			return false;
	return pn > sess.top || sess.top - pn <= SL_REPLAY_WINDOW;
}

static void
ref_accept(uint64_t pn)
{
	sess.seen[sess.n_seen++] = pn;
	sess.top = RTE_MAX(sess.top, pn);
}

/* --- frames ----------------------------------------------------------------------------------- */

/* Seal the UDP payload of f (IPv4 without options) as a data packet from the peer: header
 * with OUR_ID and the packet number f carries there, the rest of the payload as plaintext. */
static void
seal(struct frame *f, struct sealed *s)
{
	uint16_t tot = f->len >= AT_PAY ? get16(f->b + AT_IP_TOT) : 0;
	uint8_t out[sizeof(f->b)];
	int n;

	if (tot < 28 + DP_DATA_OVERHEAD || 14u + tot > f->len || f->b[AT_IP_VHL] != 0x45)
		return;
	s->len = (uint16_t)(tot - 28 - DP_DATA_OVERHEAD);
	s->pn = get64(f->b + AT_PAY + 8);
	memcpy(s->plain, f->b + AT_PAY + sizeof(struct sl_data_hdr), s->len);
	if (sess.sender == NULL || sess.sender->next_pn > s->pn) { /* a pn below: new keys */
		dp_keypair_destroy(sess.sender);
		sess.sender = dp_keypair_create(SL_AEAD_AES256_GCM, key_a, key_b, PEER_ID, OUR_ID,
						true, NOW);
		fuzz_check(sess.sender != NULL, "the peer's keypair");
	}
	n = dp_keypair_seal_pn(sl_aead_thread_mgr(), sess.sender, s->pn, NOW, &lim, s->plain,
			       s->len, out);
	if (n <= 0)
		return; /* at the hard limit: the peer cannot seal it */
	fuzz_check((size_t)n == tot - 28u, "sealed to the payload's size");
	memcpy(f->b + AT_PAY, out, (size_t)n);
	s->done = true;
}

static void
fix_checksums(struct frame *f)
{
	if (f->len < AT_L4 || get16(f->b + AT_ETH_TYPE) != RTE_ETHER_TYPE_IPV4)
		return;
	frame_fix_ip(f);
	if (get16(f->b + AT_IP_TOT) <= f->len - 14u)
		frame_fix_l4(f);
}

static uint64_t
ol_flags(uint8_t mode)
{
	static const uint64_t ip[] = { 0, RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_BAD,
				       RTE_MBUF_F_RX_IP_CKSUM_NONE };
	static const uint64_t l4[] = { 0, RTE_MBUF_F_RX_L4_CKSUM_GOOD, RTE_MBUF_F_RX_L4_CKSUM_BAD,
				       RTE_MBUF_F_RX_L4_CKSUM_NONE };

	return ip[mode & 3] | l4[(mode >> 2) & 3] |
	       (mode & 0x10 ? RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED : 0);
}

static struct rte_mbuf *
segment(const uint8_t *b, uint16_t len, bool full)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint16_t room;
	char *p;

	fuzz_check(m != NULL, "an mbuf (the pool is never empty)");
	/* full: no room after the bytes, but one when it takes that to start the frame on an even
	 * address (DPDK's alignment of struct rte_ether_hdr, which every driver keeps) */
	room = full ? (uint16_t)(rte_pktmbuf_tailroom(m) - (len & 1)) : len;
	p = rte_pktmbuf_append(m, room);
	fuzz_check(p != NULL && rte_pktmbuf_adj(m, room - len) != NULL, "a segment's room");
	memcpy(rte_pktmbuf_mtod(m, char *), b, len);
	return m;
}

/* The frame in one mbuf or two chained (seg, see the top). */
static struct rte_mbuf *
to_mbuf(const struct frame *f, uint8_t seg)
{
	uint16_t split = (uint16_t)(f->len * (seg >> 2) / 63);
	struct rte_mbuf *m, *rest;

	if ((seg & 3) == 0 || (seg & 3) == 3) {
		m = segment(f->b, f->len, false);
	} else {
		m = segment(f->b, split, (seg & 3) == 2);
		rest = segment(f->b + split, f->len - split, false);
		fuzz_check(rte_pktmbuf_chain(m, rest) == 0, "two segments chained");
	}
	m->ol_flags = f->ol_flags;
	return m;
}

/* --- classification --------------------------------------------------------------------------- */

/* dp_reasons dp_net_classify() may give: the frame's (dp_net.h) and a data header's decode. */
static bool
net_reason(enum dp_drop_reason why)
{
	return why <= DP_DROP_SLUICE_UNKNOWN_TYPE || why == DP_DROP_DATA_BAD_SIZE ||
	       why == DP_DROP_RELAY_MALFORMED;
}

/* Classify with every byte of a one-segment mbuf's buffer outside the frame poisoned; check
 * that the verdict is one. */
static enum dp_net_kind
classify(const struct dp_net_if *nif, struct rte_mbuf *m, struct dp_net_pkt *out,
	 enum dp_drop_reason *why)
{
	bool one = rte_pktmbuf_is_contiguous(m);
	char *buf = m->buf_addr, *data = rte_pktmbuf_mtod(m, char *);
	char *end = data + rte_pktmbuf_data_len(m);
	enum dp_net_kind k;

	*why = SENTINEL;
	if (one) {
		POISON(buf, (size_t)(data - buf));
		POISON(end, (size_t)(buf + m->buf_len - end));
	}
	k = dp_net_classify(nif, m, out, why);
	if (one)
		UNPOISON(buf, m->buf_len);
	fuzz_check(k == DP_NET_DROP || k == DP_NET_ARP || k == DP_NET_ICMP_ECHO ||
			   k == DP_NET_SLUICE,
		   "a verdict of dp_net_kind");
	if (k == DP_NET_DROP)
		fuzz_check(*why != SENTINEL && net_reason(*why),
			   "a drop has one reason of dp_net's");
	else
		fuzz_check(*why == SENTINEL, "an accepted frame has no drop reason");
	return k;
}

/* A second look at the same mbuf, as the owner lcore takes after a handoff, sees the same. */
static void
check_again(struct rte_mbuf *m, enum dp_net_kind k, const struct dp_net_pkt *pkt,
	    enum dp_drop_reason why)
{
	struct dp_net_pkt again;
	enum dp_drop_reason why2;

	fuzz_check(classify(&us, m, &again, &why2) == k, "a second look: the same verdict");
	if (k == DP_NET_DROP)
		fuzz_check(why2 == why, "a second look: the same reason");
	else
		fuzz_check(memcmp(&again, pkt, sizeof(again)) == 0,
			   "a second look: the same fields");
}

/* --- what each verdict leads to --------------------------------------------------------------- */

/* One's complement sum of the UDP datagram of f with its pseudo-header, checksum included:
 * 0xffff when it verifies (naive, byte by byte). */
static uint16_t
ref_udp_sum(const struct frame *f)
{
	uint16_t l4 = get16(f->b + AT_IP_TOT) - 20;
	uint32_t sum = ref_sum(f->b + AT_IP_SRC, 8, 0) + IPPROTO_UDP + l4;

	return ref_fold(ref_sum(f->b + AT_L4, l4, sum));
}

/* The session opens the data packet exactly when the naive window says so and the harness
 * sealed it, into the bytes it sealed. */
static void
open_data(struct rte_mbuf *m, const struct dp_net_pkt *pkt, const struct sealed *s)
{
	const struct dp_data_rx *rx = &pkt->data;
	uint8_t *plain = rte_pktmbuf_mtod_offset(m, uint8_t *,
						 pkt->payload_off + sizeof(struct sl_data_hdr));
	bool ours = s->done && !rx->reserved_set && rx->receiver == OUR_ID && rx->pn == s->pn;
	bool accept = ours && ref_accepts(rx->pn);
	int rc = dp_keyset_open(sl_aead_thread_mgr(), &sess.ks, NOW, &lim, rx, plain);

	if (rx->reserved_set)
		fuzz_check(rc == -EBADMSG, "reserved bytes set: malformed");
	else if (rx->receiver != OUR_ID)
		fuzz_check(rc == -ENOKEY, "another receiver id: no session");
	fuzz_check((rc >= 0) == accept, "opened exactly when sealed and the window takes it");
	if (rc < 0)
		return;
	fuzz_check(rc == s->len && memcmp(plain, s->plain, s->len) == 0,
		   "opened to what was sealed");
	ref_accept(rx->pn);
}

/* A relay header (docs/protocol.md 17.1): RELAY_TO stays whole, RELAY_FROM is taken off. How
 * many bytes of the UDP payload come before the message pkt describes. */
static uint16_t
check_relay(const uint8_t *udp_pay, const struct dp_net_pkt *pkt)
{
	bool wrapped = udp_pay[0] == SL_MSG_RELAY_TO || udp_pay[0] == SL_MSG_RELAY_FROM;

	fuzz_check(wrapped == (pkt->circuit != 0), "a circuit exactly when a relay header");
	if (!wrapped)
		return 0;
	fuzz_check(pkt->circuit == get32(udp_pay + 4) && !udp_pay[1] && !udp_pay[2] && !udp_pay[3],
		   "the relay header's circuit, reserved bytes zero");
	fuzz_check(udp_pay[8] >= SL_MSG_IK_INIT && udp_pay[8] <= SL_MSG_RESUME_REJECT,
		   "one message of types 1..10 inside");
	if (udp_pay[0] == SL_MSG_RELAY_TO) {
		fuzz_check(pkt->msg_type == SL_MSG_RELAY_TO, "RELAY_TO: for the forwarding table");
		return 0;
	}
	fuzz_check(pkt->msg_type == udp_pay[8], "RELAY_FROM: the message inside's type");
	return SL_RELAY_HDR_LEN;
}

static void
check_sluice(const struct frame *f, struct rte_mbuf *m, const struct dp_net_pkt *pkt,
	     const struct sealed *s)
{
	const uint8_t *udp_pay = rte_pktmbuf_mtod_offset(m, const uint8_t *, AT_PAY);
	uint16_t hl = check_relay(udp_pay, pkt);
	const uint8_t *pay = udp_pay + hl;

	fuzz_check(pkt->payload_off == AT_PAY + hl &&
			   pkt->payload_off + pkt->payload_len <= rte_pktmbuf_data_len(m),
		   "the payload lies in the frame");
	fuzz_check(pkt->payload_len + hl + 8u == get16(f->b + AT_UDP_LEN) &&
			   get16(f->b + AT_IP_TOT) == pkt->payload_len + hl + 28u,
		   "UDP and IPv4 lengths agree with the payload");
	fuzz_check(get16(f->b + AT_UDP_DPORT) == us.udp_port && pkt->src_port != 0 &&
			   pkt->src_port == get16(f->b + AT_UDP_SPORT),
		   "our port, from a port");
	fuzz_check(get32(f->b + AT_IP_DST) == us.ip && pkt->src_ip == get32(f->b + AT_IP_SRC),
		   "to our address");
	fuzz_check(!(f->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) ? ref_ip_ok(f) : true,
		   "the IPv4 checksum verifies (naive reference)");
	fuzz_check((f->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) || get16(f->b + AT_UDP_CK) == 0 ||
			   ref_udp_sum(f) == 0xffff,
		   "the UDP checksum verifies or is absent (naive reference)");
	fuzz_check(pkt->msg_type == pay[0], "the message type is the payload's first byte");
	if (pkt->msg_type != SL_MSG_DATA)
		return; /* a handshake message: the control thread's (fuzz_handshake), or one to relay */
	fuzz_check(pkt->data.pkt == pay &&
			   pkt->data.plain_len + DP_DATA_OVERHEAD == pkt->payload_len,
		   "the data packet is the payload");
	fuzz_check(pkt->data.receiver == get32(pay + 4) && pkt->data.pn == get64(pay + 8) &&
			   pkt->data.reserved_set == (pay[1] || pay[2] || pay[3]),
		   "the decoded header is the bytes'");
	open_data(m, pkt, s);
}

/* The reply to an echo request: same length, checksums that verify (naive), and the sender
 * would see an echo reply from us (icmp_not_echo: it answers no replies). */
static void
check_icmp(const struct frame *f, struct rte_mbuf *m)
{
	const struct dp_net_if sender = { .mac = { .addr_bytes = { f->b[6], f->b[7], f->b[8],
								   f->b[9], f->b[10], f->b[11] } },
					  .ip = get32(f->b + AT_IP_SRC),
					  .prefix_len = 32,
					  .udp_port = 1,
					  .mtu = 9000 };
	uint16_t l4 = get16(f->b + AT_IP_TOT) - 20;
	struct dp_net_pkt pkt;
	enum dp_drop_reason why;
	struct frame r;

	fuzz_check(!(f->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) ? ref_ip_ok(f) : true,
		   "the IPv4 checksum verifies (naive reference)");
	fuzz_check((f->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ||
			   ref_fold(ref_sum(f->b + AT_L4, l4, 0)) == 0xffff,
		   "the ICMP checksum verifies (naive reference)");
	fuzz_check(dp_net_icmp_echo_reply(&us, m) == 0, "an accepted echo request has its reply");
	frame_from_mbuf(m, &r);
	fuzz_check(r.len == f->len && ref_ip_ok(&r), "the reply: same length, IPv4 checksum");
	if (f->ol_flags & (RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK))
		return; /* the NIC's word was taken: the reply is as good as it was */
	fuzz_check(ref_fold(ref_sum(r.b + AT_L4, l4, 0)) == 0xffff, "the reply's ICMP checksum");
	m->ol_flags = 0;
	fuzz_check(classify(&sender, m, &pkt, &why) == DP_NET_DROP && why == DP_DROP_ICMP_NOT_ECHO,
		   "the sender sees an echo reply from us");
}

/* An ARP request for us has its reply, which the requester takes as a reply for it; nothing
 * else has one. */
static void
check_arp(const struct frame *f, struct rte_mbuf *m, const struct dp_net_pkt *pkt)
{
	const struct dp_net_if asker = {
		.mac = pkt->arp_sha, .ip = pkt->src_ip, .prefix_len = 32, .udp_port = 1, .mtu = 9000
	};
	uint32_t tip = get32(f->b + AT_ARP_TIP);
	bool request = pkt->arp_op == RTE_ARP_OP_REQUEST;
	struct dp_net_pkt back;
	enum dp_drop_reason why;

	fuzz_check(request || pkt->arp_op == RTE_ARP_OP_REPLY, "a request or a reply");
	fuzz_check(pkt->src_ip == get32(f->b + AT_ARP_SIP) &&
			   (pkt->arp_for_us ? tip == us.ip : tip == pkt->src_ip),
		   "for us, or gratuitous");
	fuzz_check((dp_net_arp_reply(&us, m) == 0) == (request && pkt->arp_for_us),
		   "a reply to a request for us, and to nothing else");
	if (!(request && pkt->arp_for_us))
		return;
	m->ol_flags = 0;
	fuzz_check(classify(&asker, m, &back, &why) == DP_NET_ARP &&
			   back.arp_op == RTE_ARP_OP_REPLY && back.arp_for_us &&
			   back.src_ip == us.ip && rte_is_same_ether_addr(&back.arp_sha, &us.mac),
		   "the requester takes the reply as ours, for it");
}

/* --- records ---------------------------------------------------------------------------------- */

static void
one_frame(uint8_t mode, uint8_t seg, const uint8_t *b, size_t len)
{
	struct frame f = { .len = (uint16_t)len, .ol_flags = ol_flags(mode) };
	static struct sealed s;
	struct dp_net_pkt pkt;
	enum dp_drop_reason why;
	struct rte_mbuf *m;
	enum dp_net_kind k;

	memcpy(f.b, b, len);
	s.done = false;
	if (mode & M_SEAL)
		seal(&f, &s);
	if (mode & (M_FIX | M_SEAL))
		fix_checksums(&f);
	m = to_mbuf(&f, seg);
	k = classify(&us, m, &pkt, &why);
	fuzz_check(k == DP_NET_DROP ? true : rte_pktmbuf_data_len(m) == f.len,
		   "an accepted frame is in one segment, whole");
	check_again(m, k, &pkt, why);
	if (k == DP_NET_SLUICE)
		check_sluice(&f, m, &pkt, &s);
	else if (k == DP_NET_ICMP_ECHO)
		check_icmp(&f, m);
	else if (k == DP_NET_ARP)
		check_arp(&f, m, &pkt);
	rte_pktmbuf_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	session_start();
	for (unsigned int i = 0; i < MAX_RECORDS && off + 4 <= size; i++) {
		const uint8_t *r = data + off;
		size_t len = ((size_t)r[2] << 8 | r[3]) % (sizeof(((struct frame *)0)->b) + 1);

		len = RTE_MIN(len, size - off - 4);
		one_frame(r[0], r[1], r + 4, len);
		off += 4 + len;
	}
	session_stop();
	fuzz_check(rte_mempool_in_use_count(pool) == 0, "every mbuf back in the pool");
	return 0;
}

static void
stop(void)
{
	rte_mempool_free(pool);
	sl_eal_test_stop();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sl_eal_test_start("fuzz_frame") != 0)
		abort();
	/* no per-lcore cache: rte_mempool_in_use_count() is exact */
	pool = rte_pktmbuf_pool_create("fuzz_frame", 63, 0, 0,
				       RTE_PKTMBUF_HEADROOM + sizeof(((struct frame *)0)->b),
				       SOCKET_ID_ANY);
	if (pool == NULL)
		abort();
	dp_key_limits_init(&lim);
	atexit(stop);
	return 0;
}
