/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: keypair and keyset tests — round trips both ways for both suites, rekeying with
 * packets in flight, the responder's next slot, time and message limits, replays, every
 * single-bit change of a data packet, reserved header bytes, and keys zeroed before their
 * memory is freed. The header decode itself: test_data.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <sodium.h>

#include "dp_keypair.h"
#include "sl_test.h"

#define MAX_PKT 256

static const enum sl_aead_alg suites[] = { SL_AEAD_AES256_GCM, SL_AEAD_CHACHA20_POLY1305 };

/* Every keypair released anywhere is inspected: all of its bytes must be zero. */
struct release_log {
	unsigned int released, dirty;
};

static struct release_log rel;

static bool
all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void
on_release(const struct dp_keypair *kp, void *arg)
{
	struct release_log *log = arg;

	log->released++;
	log->dirty += !all_bytes((const uint8_t *)kp, sizeof(*kp), 0);
}

static void
watch_releases(void)
{
	memset(&rel, 0, sizeof(rel));
	dp_keypair_set_release_hook(on_release, &rel);
}

static IMB_MGR *
mgr(void)
{
	return sl_aead_thread_mgr();
}

static struct dp_key_limits
default_limits(void)
{
	struct dp_key_limits lim;

	dp_key_limits_init(&lim);
	return lim;
}

/* What the appliance does with a received packet: decode its header once, then open the
 * decoded packet with the keyset ks or, when ks is NULL, the keypair kp. A packet the decode
 * refuses gives the decode's -EBADMSG. */
static int
open_pkt(struct dp_keyset *ks, struct dp_keypair *kp, uint64_t now, const struct dp_key_limits *lim,
	 const uint8_t *pkt, size_t len, uint8_t *plain)
{
	struct dp_data_rx rx;
	int rc = dp_data_rx_decode(pkt, len, &rx);

	if (rc != 0)
		return rc;
	return ks != NULL ? dp_keyset_open(mgr(), ks, now, lim, &rx, plain)
			  : dp_keypair_open(mgr(), kp, now, lim, &rx, plain);
}

/* One handshake's result: the initiator's and the responder's keypair, fresh random keys. */
struct session {
	struct dp_keypair *i, *r;
};

static struct session
handshake(enum sl_aead_alg alg, uint32_t id_i, uint32_t id_r, uint64_t now)
{
	uint8_t k1[SL_KEY_LEN], k2[SL_KEY_LEN];
	struct session s;

	randombytes_buf(k1, sizeof(k1));
	randombytes_buf(k2, sizeof(k2));
	s.i = dp_keypair_create(alg, k1, k2, id_i, id_r, true, now);
	s.r = dp_keypair_create(alg, k2, k1, id_r, id_i, false, now);
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s.i);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s.r);
	return s;
}

/* A sealed packet kept aside, as if still in flight. */
struct pkt {
	uint8_t b[MAX_PKT];
	int len;
	uint8_t msg[64];
	size_t msg_len;
};

static void
send_pkt(struct dp_keyset *ks, uint64_t now, struct pkt *p, unsigned int seq)
{
	struct dp_key_limits lim = default_limits();

	p->msg_len = snprintf((char *)p->msg, sizeof(p->msg), "message %u", seq);
	p->len = dp_keyset_seal(mgr(), ks, now, &lim, p->msg, p->msg_len, p->b);
	CU_ASSERT_EQUAL(p->len, (int)(p->msg_len + DP_DATA_OVERHEAD));
}

/* Deliver p to ks; true if it opened to the message that was sent. */
static bool
deliver(struct dp_keyset *ks, uint64_t now, const struct pkt *p)
{
	struct dp_key_limits lim = default_limits();
	uint8_t out[MAX_PKT];
	int n = open_pkt(ks, NULL, now, &lim, p->b, (size_t)p->len, out);

	return n == (int)p->msg_len && memcmp(out, p->msg, p->msg_len) == 0;
}

/* --- round trips ------------------------------------------------------------------------- */

static void
round_trip_one(enum sl_aead_alg alg)
{
	struct dp_key_limits lim = default_limits();
	struct dp_keyset a, b;
	struct session s = handshake(alg, 0x01000007, 0x02000009, 1000);
	uint8_t msg[200], pkt[MAX_PKT], out[MAX_PKT];
	struct sl_data_hdr hdr;
	int n;

	dp_keyset_init(&a);
	dp_keyset_init(&b);
	dp_keyset_install(&a, s.i);
	dp_keyset_install(&b, s.r);
	CU_ASSERT(a.cur == s.i && a.prev == NULL && a.next == NULL);
	CU_ASSERT(b.cur == NULL && b.prev == NULL && b.next == s.r);
	/* the responder cannot send before the initiator's first packet */
	CU_ASSERT_EQUAL(dp_keyset_seal(mgr(), &b, 1000, &lim, msg, 10, pkt), -ENOKEY);

	for (size_t len = 0; len <= sizeof(msg); len += 25) {
		randombytes_buf(msg, len);
		n = dp_keyset_seal(mgr(), &a, 1000, &lim, msg, len, pkt);
		CU_ASSERT_EQUAL_FATAL(n, (int)(len + DP_DATA_OVERHEAD));
		memcpy(&hdr, pkt, sizeof(hdr));
		CU_ASSERT_EQUAL(hdr.type, SL_MSG_DATA);
		CU_ASSERT_EQUAL(rte_be_to_cpu_32(hdr.receiver), 0x02000009);
		CU_ASSERT_EQUAL(rte_be_to_cpu_64(hdr.pn), len / 25);
		CU_ASSERT_EQUAL(open_pkt(&b, NULL, 1001, &lim, pkt, (size_t)n, out), (int)len);
		CU_ASSERT_EQUAL(memcmp(out, msg, len), 0);
		CU_ASSERT(b.cur == s.r && b.next == NULL); /* confirmed by the first packet */

		randombytes_buf(msg, len);
		n = dp_keyset_seal(mgr(), &b, 1002, &lim, msg, len, pkt);
		CU_ASSERT_EQUAL_FATAL(n, (int)(len + DP_DATA_OVERHEAD));
		CU_ASSERT_EQUAL(rte_be_to_cpu_32(((struct sl_data_hdr *)pkt)->receiver),
				0x01000007);
		CU_ASSERT_EQUAL(open_pkt(&a, NULL, 1003, &lim, pkt, (size_t)n, out), (int)len);
		CU_ASSERT_EQUAL(memcmp(out, msg, len), 0);
	}
	CU_ASSERT_EQUAL(s.i->counters.tx_packets, 9);
	CU_ASSERT_EQUAL(s.i->counters.rx_packets, 9);
	CU_ASSERT_EQUAL(s.r->counters.rx_bytes, 0 + 25 + 50 + 75 + 100 + 125 + 150 + 175 + 200);
	CU_ASSERT_EQUAL(s.r->counters.tx_bytes, s.i->counters.rx_bytes);

	/* in place, both ways: payload already sits after the header */
	memcpy(pkt + sizeof(hdr), "in place", 8);
	n = dp_keyset_seal(mgr(), &a, 1004, &lim, pkt + sizeof(hdr), 8, pkt);
	CU_ASSERT_EQUAL(n, (int)(8 + DP_DATA_OVERHEAD));
	CU_ASSERT_EQUAL(open_pkt(&b, NULL, 1005, &lim, pkt, (size_t)n, pkt + sizeof(hdr)), 8);
	CU_ASSERT_EQUAL(memcmp(pkt + sizeof(hdr), "in place", 8), 0);

	dp_keyset_clear(&a);
	dp_keyset_clear(&b);
	CU_ASSERT(a.cur == NULL && b.cur == NULL);
}

static void
test_round_trip(void)
{
	watch_releases();
	for (size_t i = 0; i < RTE_DIM(suites); i++)
		round_trip_one(suites[i]);
	CU_ASSERT_EQUAL(rel.released, 4);
	CU_ASSERT_EQUAL(rel.dirty, 0);
}

/* --- rekeying ------------------------------------------------------------------------------ */

#define INFLIGHT 12

/* old and new are two consecutive sessions between x (initiator of new) and y. Packets sealed
 * under the old keys before and during the rekey all arrive, interleaved with new ones. */
static void
rekey_in_flight(struct dp_keyset *x, struct dp_keyset *y, struct session new, uint64_t now)
{
	struct pkt x_old[INFLIGHT], y_old[INFLIGHT], x_new[INFLIGHT], y_new[INFLIGHT];
	struct dp_keypair *old_x = x->cur, *old_y = y->cur;
	unsigned int ok = 0;

	for (unsigned int i = 0; i < INFLIGHT; i++) {
		send_pkt(x, now, &x_old[i], i);
		send_pkt(y, now, &y_old[i], 100 + i);
	}
	dp_keyset_install(x, new.i); /* x finished the handshake first and sends at once */
	dp_keyset_install(y, new.r);
	CU_ASSERT(x->cur == new.i && x->prev == old_x && x->next == NULL);
	CU_ASSERT(y->cur == old_y && y->next == new.r);

	for (unsigned int i = 0; i < INFLIGHT; i++) {
		send_pkt(x, now, &x_new[i], 200 + i);
		send_pkt(y, now, &y_old[i], 300 + i); /* y keeps the old keys until confirmed */
	}
	for (unsigned int i = 0; i < INFLIGHT / 2; i++)
		ok += deliver(y, now, &x_old[i]); /* under y's cur */
	CU_ASSERT(y->next == new.r);
	ok += deliver(y, now, &x_new[0]); /* first new packet: y rotates */
	CU_ASSERT(y->cur == new.r && y->prev == old_y && y->next == NULL);
	for (unsigned int i = INFLIGHT / 2; i < INFLIGHT; i++)
		ok += deliver(y, now, &x_old[i]); /* now under y's prev */
	for (unsigned int i = 1; i < INFLIGHT; i++)
		ok += deliver(y, now, &x_new[i]);
	for (unsigned int i = 0; i < INFLIGHT; i++)
		send_pkt(y, now, &y_new[i], 400 + i);
	for (unsigned int i = 0; i < INFLIGHT; i++) {
		ok += deliver(x, now, &y_new[i]); /* x's cur */
		ok += deliver(x, now, &y_old[i]); /* x's prev */
	}
	CU_ASSERT_EQUAL(ok, 4 * INFLIGHT);
	CU_ASSERT_EQUAL(new.r->counters.rx_packets, INFLIGHT);
	CU_ASSERT_EQUAL(new.i->counters.rx_packets, INFLIGHT);
}

static void
rekey_one(enum sl_aead_alg alg)
{
	struct dp_keyset a, b;
	struct session s1 = handshake(alg, 0x100, 0x200, 0);
	struct pkt p;

	dp_keyset_init(&a);
	dp_keyset_init(&b);
	dp_keyset_install(&a, s1.i);
	dp_keyset_install(&b, s1.r);
	send_pkt(&a, 0, &p, 0);
	CU_ASSERT(deliver(&b, 0, &p));
	CU_ASSERT(b.cur == s1.r);

	/* a starts the second handshake, then b starts the third: roles swap, nothing lost */
	rekey_in_flight(&a, &b, handshake(alg, 0x101, 0x201, 10), 10);
	CU_ASSERT_EQUAL(rel.released, 0);
	rekey_in_flight(&b, &a, handshake(alg, 0x202, 0x102, 20), 20);
	CU_ASSERT_EQUAL(rel.released, 2); /* the first session's keypairs left both prev slots */
	CU_ASSERT_PTR_NULL(dp_keyset_lookup(&a, 0x100));
	CU_ASSERT_PTR_NOT_NULL(dp_keyset_lookup(&a, 0x101));
	CU_ASSERT_PTR_NOT_NULL(dp_keyset_lookup(&a, 0x102));
	CU_ASSERT_PTR_NULL(dp_keyset_lookup(&a, 0x103));
	dp_keyset_clear(&a);
	dp_keyset_clear(&b);
	CU_ASSERT_EQUAL(rel.released, 6);
}

static void
test_rekey_loses_nothing(void)
{
	for (size_t i = 0; i < RTE_DIM(suites); i++) {
		watch_releases();
		rekey_one(suites[i]);
		CU_ASSERT_EQUAL(rel.dirty, 0);
	}
}

/* The responder's next keypair turns current only on a packet that authenticates under it:
 * forged, malformed or mis-addressed packets leave the slots alone. */
static void
test_next_needs_authenticated_packet(void)
{
	struct dp_key_limits lim = default_limits();
	struct session s = handshake(SL_AEAD_AES256_GCM, 7, 8, 0);
	struct dp_keyset b;
	uint8_t out[MAX_PKT];
	struct pkt p;

	watch_releases();
	dp_keyset_init(&b);
	dp_keyset_install(&b, s.r);
	send_pkt(&(struct dp_keyset){ .cur = s.i }, 0, &p, 1);

	p.b[p.len - 1] ^= 1; /* forged tag */
	CU_ASSERT_EQUAL(open_pkt(&b, NULL, 0, &lim, p.b, (size_t)p.len, out), -EPERM);
	CU_ASSERT(b.next == s.r && b.cur == NULL);
	p.b[p.len - 1] ^= 1;
	CU_ASSERT_EQUAL(open_pkt(&b, NULL, 0, &lim, p.b, 20, out), -EBADMSG);
	CU_ASSERT_FALSE(dp_keyset_confirm(&b, s.i)); /* not in next */
	CU_ASSERT_FALSE(dp_keyset_confirm(&b, NULL));
	CU_ASSERT(b.next == s.r && b.cur == NULL);
	CU_ASSERT(deliver(&b, 0, &p));
	CU_ASSERT(b.cur == s.r && b.next == NULL && b.prev == NULL);

	/* a second responder keypair replaces an unconfirmed next, never cur */
	struct session s2 = handshake(SL_AEAD_AES256_GCM, 17, 18, 0);
	struct session s3 = handshake(SL_AEAD_AES256_GCM, 27, 28, 0);

	dp_keyset_install(&b, s2.r);
	dp_keyset_install(&b, s3.r);
	CU_ASSERT(b.cur == s.r && b.next == s3.r && b.prev == NULL);
	CU_ASSERT_EQUAL(rel.released, 1);
	/* both sides rekeyed at once: our initiator keypair wins cur, the unconfirmed one
	 * stays receivable in prev, the old cur goes */
	dp_keyset_install(&b, s2.i);
	CU_ASSERT(b.cur == s2.i && b.prev == s3.r && b.next == NULL);
	CU_ASSERT_EQUAL(rel.released, 2);
	dp_keyset_clear(&b);
	dp_keypair_destroy(s.i);
	dp_keypair_destroy(s3.i);
	CU_ASSERT_EQUAL(rel.released, 6);
	CU_ASSERT_EQUAL(rel.dirty, 0);
}

/* --- limits ---------------------------------------------------------------------------------- */

static void
test_limits_time_and_count(void)
{
	struct dp_key_limits lim = { .rekey_after_ns = 100,
				     .reject_after_ns = 200,
				     .rekey_after_msgs = 5,
				     .reject_after_msgs = 8 };
	struct dp_key_limits big = default_limits();
	struct session s = handshake(SL_AEAD_CHACHA20_POLY1305, 1, 2, 1000);
	uint8_t pkt[9][MAX_PKT], out[MAX_PKT];
	uint64_t pn;
	int len[9];

	watch_releases();
	CU_ASSERT(dp_key_limits_valid(&lim));
	/* time: only the initiator rekeys on age; both stop at the hard limit */
	CU_ASSERT_FALSE(dp_keypair_needs_rekey(s.i, 1099, &lim));
	CU_ASSERT(dp_keypair_needs_rekey(s.i, 1100, &lim));
	CU_ASSERT_FALSE(dp_keypair_needs_rekey(s.r, 1199, &lim));
	CU_ASSERT_FALSE(dp_keypair_needs_rekey(s.i, 500, &lim)); /* clock stepped back: age 0 */
	CU_ASSERT(dp_keypair_can_send(s.i, 1199, &lim) && dp_keypair_can_receive(s.i, 1199, &lim));
	CU_ASSERT_FALSE(dp_keypair_can_send(s.i, 1200, &lim));
	CU_ASSERT_FALSE(dp_keypair_can_receive(s.r, 1200, &lim));
	CU_ASSERT_EQUAL(dp_keypair_seal(mgr(), s.i, 1200, &lim, out, 1, pkt[0]), -EKEYEXPIRED);
	CU_ASSERT_EQUAL(dp_keypair_next_pn(s.i, 1200, &lim, &pn), -EKEYEXPIRED);
	CU_ASSERT_EQUAL(s.i->next_pn, 0); /* refusals consume nothing */

	/* count: the sender under generous limits makes pns 0..8 */
	for (int i = 0; i < 9; i++)
		len[i] = dp_keypair_seal(mgr(), s.i, 1000, &big, out, 3, pkt[i]);
	/* the receiver's small limits: rekey from pn 5 on, nothing at or above 8 */
	for (uint64_t i = 0; i < 8; i++) {
		CU_ASSERT_EQUAL(dp_keypair_needs_rekey(s.r, 1000, &lim), i >= 5);
		CU_ASSERT_EQUAL(dp_keypair_next_pn(s.r, 1000, &lim, &pn), 0);
		CU_ASSERT_EQUAL(pn, i);
		CU_ASSERT_EQUAL(open_pkt(NULL, s.r, 1000, &lim, pkt[i], (size_t)len[i], out), 3);
	}
	CU_ASSERT(dp_keypair_needs_rekey(s.r, 1000, &lim)); /* responder, on count */
	CU_ASSERT_EQUAL(dp_keypair_next_pn(s.r, 1000, &lim, &pn), -EKEYEXPIRED);
	CU_ASSERT_EQUAL(dp_keypair_seal(mgr(), s.r, 1000, &lim, out, 1, pkt[0]), -EKEYEXPIRED);
	CU_ASSERT_EQUAL(open_pkt(NULL, s.r, 1000, &lim, pkt[8], (size_t)len[8], out), -EKEYEXPIRED);
	/* too old to receive at all, even a packet number that is fine */
	struct dp_key_limits time_only = lim;

	time_only.reject_after_msgs = big.reject_after_msgs;
	CU_ASSERT_EQUAL(open_pkt(NULL, s.r, 1200, &time_only, pkt[8], (size_t)len[8], out),
			-EKEYEXPIRED);
	CU_ASSERT_EQUAL(open_pkt(NULL, s.r, 1199, &time_only, pkt[8], (size_t)len[8], out), 3);

	/* the keyset drops keypairs that can no longer receive */
	struct dp_keyset ks = { .cur = s.i, .prev = s.r };

	CU_ASSERT_EQUAL(dp_keyset_expire(&ks, 1199, &lim), 0);
	CU_ASSERT_EQUAL(dp_keyset_expire(&ks, 1200, &lim), 2);
	CU_ASSERT(ks.cur == NULL && ks.prev == NULL);
	CU_ASSERT_EQUAL(rel.released, 2);
	CU_ASSERT_EQUAL(rel.dirty, 0);
}

static void
test_limits_defaults_and_validation(void)
{
	struct dp_key_limits lim = default_limits(), bad;

	CU_ASSERT_EQUAL(lim.rekey_after_ns, SL_REKEY_AFTER_TIME_NS);
	CU_ASSERT_EQUAL(lim.reject_after_ns, SL_REJECT_AFTER_TIME_NS);
	CU_ASSERT_EQUAL(lim.rekey_after_msgs, SL_REKEY_AFTER_MESSAGES);
	CU_ASSERT_EQUAL(lim.reject_after_msgs, SL_REJECT_AFTER_MESSAGES);
	CU_ASSERT(dp_key_limits_valid(&lim));
	bad = lim;
	bad.rekey_after_ns = bad.reject_after_ns;
	CU_ASSERT_FALSE(dp_key_limits_valid(&bad));
	bad = lim;
	bad.rekey_after_msgs = bad.reject_after_msgs + 1;
	CU_ASSERT_FALSE(dp_key_limits_valid(&bad));
	bad = (struct dp_key_limits){ 0 };
	CU_ASSERT_FALSE(dp_key_limits_valid(&bad));
}

/* --- replays and tampering ----------------------------------------------------------------- */

static void
test_replay_rejected(void)
{
	struct dp_key_limits lim = default_limits();
	struct session s = handshake(SL_AEAD_AES256_GCM, 3, 4, 0);
	struct dp_keyset a = { .cur = s.i }, b = { .next = s.r };
	struct pkt p[3];
	uint8_t out[MAX_PKT];

	watch_releases();
	for (unsigned int i = 0; i < RTE_DIM(p); i++)
		send_pkt(&a, 0, &p[i], i);
	CU_ASSERT(deliver(&b, 0, &p[2]));
	CU_ASSERT_EQUAL(open_pkt(&b, NULL, 0, &lim, p[2].b, (size_t)p[2].len, out), -EALREADY);
	CU_ASSERT(deliver(&b, 0, &p[0])); /* out of order, inside the window */
	CU_ASSERT_EQUAL(open_pkt(&b, NULL, 0, &lim, p[0].b, (size_t)p[0].len, out), -EALREADY);
	CU_ASSERT(deliver(&b, 0, &p[1]));
	CU_ASSERT_EQUAL(s.r->counters.rx_packets, 3);

	/* a packet more than the window behind the newest */
	struct pkt old;

	send_pkt(&a, 0, &old, 99);
	for (unsigned int i = 0; i <= SL_REPLAY_WINDOW; i++)
		send_pkt(&a, 0, &p[0], i);
	CU_ASSERT(deliver(&b, 0, &p[0]));
	CU_ASSERT_EQUAL(open_pkt(&b, NULL, 0, &lim, old.b, (size_t)old.len, out), -EALREADY);
	dp_keyset_clear(&a);
	dp_keyset_clear(&b);
	CU_ASSERT_EQUAL(rel.dirty, 0);
}

/* Every single-bit change anywhere in a data packet (header, ciphertext, tag) is rejected,
 * leaves no plaintext behind, and leaves the keyset as it was. */
static void
bit_flips_one(enum sl_aead_alg alg)
{
	struct dp_key_limits lim = default_limits();
	struct session s = handshake(alg, 0x05000001, 0x06000002, 0);
	struct dp_keyset a = { .cur = s.i }, b = { .next = s.r };
	unsigned int trials = 0, rejected = 0, leaked = 0, reasons[5] = { 0 };
	uint8_t out[MAX_PKT];
	struct pkt p;

	send_pkt(&a, 0, &p, 42);
	for (size_t bit = 0; bit < (size_t)p.len * 8; bit++) {
		int rc;

		p.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		memset(out, 0x5a, sizeof(out));
		rc = open_pkt(&b, NULL, 0, &lim, p.b, (size_t)p.len, out);
		p.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		trials++;
		rejected += rc < 0;
		leaked += !all_bytes(out, sizeof(out), 0x5a) && !all_bytes(out, p.msg_len, 0);
		reasons[0] += rc == -EBADMSG;
		reasons[1] += rc == -ENOKEY;
		reasons[2] += rc == -EPERM;
		reasons[3] += rc == -EALREADY;
		reasons[4] += rc == -EKEYEXPIRED;
	}
	CU_ASSERT_EQUAL(trials, (p.msg_len + DP_DATA_OVERHEAD) * 8);
	CU_ASSERT_EQUAL(rejected, trials);
	CU_ASSERT_EQUAL(leaked, 0);
	CU_ASSERT_EQUAL(reasons[0], 4 * 8);	     /* type and reserved bytes */
	CU_ASSERT_EQUAL(reasons[1], 4 * 8);	     /* receiver id */
	CU_ASSERT_EQUAL(reasons[2], trials - 8 * 8); /* pn, ciphertext, tag */
	CU_ASSERT(b.next == s.r && b.cur == NULL && s.r->counters.rx_packets == 0);
	CU_ASSERT(deliver(&b, 0, &p)); /* the untouched packet still opens */
	CU_ASSERT(b.cur == s.r);
	dp_keyset_clear(&a);
	dp_keyset_clear(&b);
}

static void
test_every_bit_flip_rejected(void)
{
	watch_releases();
	for (size_t i = 0; i < RTE_DIM(suites); i++)
		bit_flips_one(suites[i]);
	CU_ASSERT_EQUAL(rel.released, 4);
	CU_ASSERT_EQUAL(rel.dirty, 0);
}

static void
test_malformed(void)
{
	struct dp_key_limits lim = default_limits();
	struct session s = handshake(SL_AEAD_AES256_GCM, 11, 12, 0);
	static uint8_t big[DP_DATA_MAX_PLAIN + DP_DATA_OVERHEAD + 1];
	struct dp_keyset a = { .cur = s.i }, b = { .cur = s.r };
	uint8_t out[MAX_PKT];
	struct pkt p;

	watch_releases();
	send_pkt(&a, 0, &p, 5);
	for (int n = 0; n < (int)DP_DATA_OVERHEAD; n++)
		CU_ASSERT_EQUAL(open_pkt(&b, NULL, 0, &lim, p.b, (size_t)n, out), -EBADMSG);
	CU_ASSERT_EQUAL(open_pkt(&b, NULL, 0, &lim, p.b, (size_t)p.len - 1, out), -EPERM);
	/* a packet for another keypair, handed to this one directly */
	CU_ASSERT_EQUAL(open_pkt(NULL, s.i, 0, &lim, p.b, (size_t)p.len, out), -ENOKEY);
	CU_ASSERT(deliver(&b, 0, &p));
	/* sizes: the largest payload seals, one more does not; oversized packets are malformed */
	CU_ASSERT_EQUAL(dp_keyset_seal(mgr(), &a, 0, &lim, big, DP_DATA_MAX_PLAIN + 1, big),
			-EMSGSIZE);
	CU_ASSERT_EQUAL(dp_keyset_seal(mgr(), &a, 0, &lim, big + sizeof(struct sl_data_hdr),
				       DP_DATA_MAX_PLAIN, big),
			(int)(DP_DATA_MAX_PLAIN + DP_DATA_OVERHEAD));
	CU_ASSERT_EQUAL(open_pkt(&b, NULL, 0, &lim, big, sizeof(big), big + 16), -EBADMSG);
	CU_ASSERT_EQUAL(open_pkt(&b, NULL, 0, &lim, big, sizeof(big) - 1, big + 16),
			(int)DP_DATA_MAX_PLAIN);
	dp_keyset_clear(&a);
	dp_keyset_clear(&b);
	CU_ASSERT_EQUAL(rel.dirty, 0);
}

/* --- reserved bytes ------------------------------------------------------------------------ */

/* A real packet with a reserved bit set decodes, and both opens refuse it as malformed before
 * any key is used: nothing in the keypair changes, the untouched packet still opens. */
static void
test_reserved_refused_by_open(void)
{
	struct dp_key_limits lim = default_limits();
	struct session s = handshake(SL_AEAD_AES256_GCM, 0x03000001, 0x04000002, 0);
	struct dp_keyset b = { .next = s.r };
	uint8_t out[MAX_PKT];
	struct dp_data_rx rx;
	struct pkt p;

	watch_releases();
	send_pkt(&(struct dp_keyset){ .cur = s.i }, 0, &p, 7);
	p.b[2] ^= 0x10;
	CU_ASSERT_EQUAL_FATAL(dp_data_rx_decode(p.b, (size_t)p.len, &rx), 0);
	CU_ASSERT(rx.reserved_set && rx.receiver == 0x04000002);
	CU_ASSERT_EQUAL(dp_keypair_open(mgr(), s.r, 0, &lim, &rx, out), -EBADMSG);
	CU_ASSERT_EQUAL(dp_keyset_open(mgr(), &b, 0, &lim, &rx, out), -EBADMSG);
	CU_ASSERT(b.next == s.r && s.r->counters.rx_packets == 0);
	p.b[2] ^= 0x10;
	CU_ASSERT(deliver(&b, 0, &p));
	CU_ASSERT(b.cur == s.r);
	dp_keyset_clear(&b);
	dp_keypair_destroy(s.i);
	CU_ASSERT(rel.released == 2 && rel.dirty == 0);
}

/* --- construction and destruction ------------------------------------------------------- */

static void
test_create_rejects_bad_arguments(void)
{
	uint8_t k[SL_KEY_LEN] = { 1 };
	struct dp_keypair *kp;

	watch_releases();
	errno = 0;
	CU_ASSERT_PTR_NULL(dp_keypair_create(SL_AEAD_AES128_GCM, k, k, 1, 2, true, 0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(dp_keypair_create(SL_AEAD_NONE, k, k, 1, 2, true, 0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(dp_keypair_create(SL_AEAD_AES256_GCM, NULL, k, 1, 2, true, 0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	kp = dp_keypair_create(SL_AEAD_CHACHA20_POLY1305, k, k, 1, 2, false, 77);
	CU_ASSERT_PTR_NOT_NULL_FATAL(kp);
	CU_ASSERT(kp->local_id == 1 && kp->remote_id == 2 && !kp->initiator);
	CU_ASSERT(kp->created_ns == 77 && kp->next_pn == 0 && kp->alg == SL_AEAD_CHACHA20_POLY1305);
	dp_keypair_destroy(kp);
	dp_keypair_destroy(NULL);
	CU_ASSERT_EQUAL(rel.released, 1);
}

/* The release hook sees the memory just before free(): every byte, keys included, must be
 * zero. A keypair's key bytes are non-zero while it lives, so this would catch a missing
 * wipe. */
static void
test_keys_zeroed_on_destroy(void)
{
	struct session s = handshake(SL_AEAD_AES256_GCM, 1, 2, 0);
	struct session t = handshake(SL_AEAD_CHACHA20_POLY1305, 3, 4, 0);
	struct dp_keyset ks;

	struct dp_key_limits lim = default_limits();
	uint8_t msg[16] = { 7 }, pkt[MAX_PKT];
	uint64_t tag = s.i->tag;

	watch_releases();
	CU_ASSERT_FALSE(all_bytes(s.i->send_key, sizeof(s.i->send_key), 0));
	CU_ASSERT_FALSE(all_bytes(t.r->recv_key, sizeof(t.r->recv_key), 0));
	/* sealing expands the keys into this thread's cache; destroying wipes that entry too */
	CU_ASSERT(dp_keypair_seal(mgr(), s.i, 0, &lim, msg, sizeof(msg), pkt) > 0);
	CU_ASSERT(dp_keypair_cached(tag));
	dp_keypair_destroy(s.i);
	CU_ASSERT(!dp_keypair_cached(tag));
	CU_ASSERT_EQUAL(rel.released, 1);
	dp_keyset_init(&ks);
	dp_keyset_install(&ks, t.i);
	dp_keyset_install(&ks, t.r);
	dp_keyset_install(&ks, s.r);
	CU_ASSERT_EQUAL(rel.released, 2); /* t.r pushed out of next */
	dp_keyset_clear(&ks);
	CU_ASSERT_EQUAL(rel.released, 4);
	CU_ASSERT_EQUAL(rel.dirty, 0);
}

/* Keypairs whose tags share a cache entry take it in turns: each seal or open finds its own
 * schedules again, so every packet still opens; released, the cache forgets them all. */
static void
test_cache_sharing(void)
{
	struct dp_key_limits lim = default_limits();
	struct session a = handshake(SL_AEAD_AES256_GCM, 1, 2, 0), b;
	struct dp_keypair *filler[DP_KEYPAIR_CACHE - 1];
	uint8_t msg[32] = { 3 }, pa[MAX_PKT], pb[MAX_PKT], back[MAX_PKT];
	int na, nb;

	/* keypairs are tagged in creation order: DP_KEYPAIR_CACHE tags later, b.i meets a.i */
	for (unsigned int i = 0; i < RTE_DIM(filler) - 1; i++) {
		filler[i] = dp_keypair_create(SL_AEAD_CHACHA20_POLY1305, msg, msg, 9, 9, true, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(filler[i]);
	}
	b = handshake(SL_AEAD_AES256_GCM, 3, 4, 0);
	CU_ASSERT_EQUAL_FATAL(b.i->tag & (DP_KEYPAIR_CACHE - 1), a.i->tag & (DP_KEYPAIR_CACHE - 1));
	for (int round = 0; round < 3; round++) {
		na = dp_keypair_seal(mgr(), a.i, 0, &lim, msg, sizeof(msg), pa);
		CU_ASSERT(dp_keypair_cached(a.i->tag) && !dp_keypair_cached(b.i->tag));
		nb = dp_keypair_seal(mgr(), b.i, 0, &lim, msg, sizeof(msg), pb);
		CU_ASSERT(dp_keypair_cached(b.i->tag) && !dp_keypair_cached(a.i->tag));
		CU_ASSERT_EQUAL(open_pkt(NULL, a.r, 0, &lim, pa, (size_t)na, back), 32);
		CU_ASSERT_EQUAL(open_pkt(NULL, b.r, 0, &lim, pb, (size_t)nb, back), 32);
		/* a.i's packet under b.r's keys (same entry, other keys) never opens */
		CU_ASSERT_EQUAL(open_pkt(NULL, b.r, 0, &lim, pa, (size_t)na, back), -ENOKEY);
	}
	dp_keypair_thread_release();
	CU_ASSERT(!dp_keypair_cached(a.r->tag) && !dp_keypair_cached(b.r->tag));
	CU_ASSERT(dp_keypair_seal(mgr(), a.i, 0, &lim, msg, sizeof(msg), pa) > 0); /* remade */
	for (unsigned int i = 0; i < RTE_DIM(filler) - 1; i++)
		dp_keypair_destroy(filler[i]);
	dp_keypair_destroy(a.i);
	dp_keypair_destroy(a.r);
	dp_keypair_destroy(b.i);
	dp_keypair_destroy(b.r);
}

static void
test_release_thread_mgr(void)
{
	dp_keypair_set_release_hook(NULL, NULL);
	dp_keypair_thread_release();
	sl_aead_thread_mgr_release();
	CU_PASS("released");
}

/* The engine chooses packet numbers: sealing at a given pn works when it moves forward, a
 * number already used is refused, and the receiver accepts large jumps. */
static void
test_seal_at_packet_number(void)
{
	struct dp_key_limits lim = default_limits();
	struct session s = handshake(SL_AEAD_AES256_GCM, 0x04000100, 0x08000200, 0);
	uint8_t msg[32] = { 1 }, pkt[MAX_PKT], back[MAX_PKT];
	static const uint64_t pns[] = { 0, 1, 5, 1000000, 1000001 };

	for (size_t i = 0; i < RTE_DIM(pns); i++) {
		int n = dp_keypair_seal_pn(mgr(), s.i, pns[i], 0, &lim, msg, sizeof(msg), pkt);

		CU_ASSERT_EQUAL(n, (int)(sizeof(msg) + DP_DATA_OVERHEAD));
		CU_ASSERT_EQUAL(open_pkt(NULL, s.r, 0, &lim, pkt, (size_t)n, back),
				(int)sizeof(msg));
	}
	CU_ASSERT_EQUAL(s.i->next_pn, 1000002);
	CU_ASSERT_EQUAL(dp_keypair_seal_pn(mgr(), s.i, 1000001, 0, &lim, msg, sizeof(msg), pkt),
			-EINVAL);
	CU_ASSERT_EQUAL(dp_keypair_seal_pn(mgr(), s.i, lim.reject_after_msgs, 0, &lim, msg,
					   sizeof(msg), pkt),
			-EKEYEXPIRED);
	dp_keypair_destroy(s.i);
	dp_keypair_destroy(s.r);
}

struct retired {
	struct dp_keypair *kp[4];
	unsigned int n;
};

static void
retire(struct dp_keypair *kp, void *arg)
{
	struct retired *r = arg;

	r->kp[r->n++] = kp;
}

/* With a retire hook, keypairs leaving a keyset go to the hook (the appliance frees them
 * after an RCU grace period) and are not freed by the keyset. */
static void
test_retire_hook(void)
{
	struct retired r = { .n = 0 };
	struct dp_keyset ks;
	struct session a = handshake(SL_AEAD_AES256_GCM, 1, 2, 0);
	struct session b = handshake(SL_AEAD_AES256_GCM, 3, 4, 0);
	struct session c = handshake(SL_AEAD_AES256_GCM, 5, 6, 0);

	dp_keyset_init(&ks);
	ks.retire = retire;
	ks.retire_arg = &r;
	dp_keyset_install(&ks, a.i);
	dp_keyset_install(&ks, b.i);
	dp_keyset_install(&ks, c.i); /* a leaves */
	CU_ASSERT_EQUAL(r.n, 1);
	CU_ASSERT_PTR_EQUAL(r.kp[0], a.i);
	CU_ASSERT_EQUAL(a.i->local_id, 1); /* not wiped: still readable until the grace period */
	dp_keyset_clear(&ks);		   /* b and c leave */
	CU_ASSERT_EQUAL(r.n, 3);
	for (unsigned int i = 0; i < r.n; i++)
		dp_keypair_destroy(r.kp[i]);
	dp_keypair_destroy(a.r);
	dp_keypair_destroy(b.r);
	dp_keypair_destroy(c.r);
}

static CU_TestInfo cases[] = {
	{ "round trip both ways, AES-256-GCM and ChaCha20-Poly1305", test_round_trip },
	{ "rekey with packets in flight loses nothing", test_rekey_loses_nothing },
	{ "responder's next becomes current only when authenticated",
	  test_next_needs_authenticated_packet },
	{ "rekey and reject after time and message count", test_limits_time_and_count },
	{ "limit defaults and validation", test_limits_defaults_and_validation },
	{ "replayed and too-old packets rejected", test_replay_rejected },
	{ "every single-bit change rejected, nothing leaked", test_every_bit_flip_rejected },
	{ "malformed and oversized packets", test_malformed },
	{ "reserved bytes: decoded, refused by both opens", test_reserved_refused_by_open },
	{ "create rejects bad arguments", test_create_rejects_bad_arguments },
	{ "keys zeroed before memory is freed, cache entry too", test_keys_zeroed_on_destroy },
	{ "keypairs sharing a cache entry take turns", test_cache_sharing },
	{ "sealing at the engine's packet numbers", test_seal_at_packet_number },
	{ "retire hook takes pushed-out keypairs", test_retire_hook },
	{ "release the thread manager", test_release_thread_mgr },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("keypair", cases)
