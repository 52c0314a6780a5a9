/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: handshake tests — IK and XX in both suites, payload validation, refusal reasons,
 * replayed initiations, low-order keys (Wycheproof's zero-shared-secret points) and a
 * single-bit flip at every position of every handshake message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cp_admission.h"
#include "sl_dh.h"
#include "cp_handshake.h"
#include "dp_keypair.h"
#include "hs_nodes.h"
#include "sl_test.h"
#include "vec.h"

static void
assert_sessions_match(const struct cp_hs_session *a, const struct cp_hs_session *b,
		      const struct node *na, const struct node *nb, uint8_t suite)
{
	CU_ASSERT_EQUAL(memcmp(a->send_key, b->recv_key, SL_KEY_LEN), 0);
	CU_ASSERT_EQUAL(memcmp(a->recv_key, b->send_key, SL_KEY_LEN), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a->send_key, a->recv_key, SL_KEY_LEN), 0);
	CU_ASSERT_EQUAL(a->local_id, b->remote_id);
	CU_ASSERT_EQUAL(a->remote_id, b->local_id);
	CU_ASSERT(a->initiator && !b->initiator);
	CU_ASSERT(a->suite == suite && b->suite == suite);
	CU_ASSERT_EQUAL(memcmp(a->peer.pub, nb->pub, SL_KEY_LEN), 0);
	CU_ASSERT_EQUAL(memcmp(b->peer.pub, na->pub, SL_KEY_LEN), 0);
	CU_ASSERT_EQUAL(b->peer.n_addrs, 2);
	CU_ASSERT_EQUAL(b->peer.addrs[0].ip, na->src.ip);
	CU_ASSERT_EQUAL(b->peer.addrs[1].port, 4790);
	CU_ASSERT_EQUAL(a->peer.addrs[0].ip, nb->src.ip);
	CU_ASSERT_EQUAL(b->peer.capabilities, SL_CAP_RELAY | SL_CAP_PEX);
	CU_ASSERT_EQUAL(b->peer.network_id, NET);
	CU_ASSERT_EQUAL(a->peer.version, SL_PROTO_VERSION);
}

static void
test_ik_both_suites(void)
{
	for (size_t i = 0; i < N_SUITES; i++) {
		static struct cp_hs_pending pa, pb;
		struct node a, b;
		struct sl_msg_ik_init init;
		struct sl_msg_ik_resp resp;
		struct cp_hs_session sa, sb;

		node_init(&a, 0xc6120001);
		node_init(&b, 0xc6120002);
		CU_ASSERT_EQUAL_FATAL(cp_hs_ik_start(a.ctx, &pa, b.pub, suites[i], 0x01000007, 0,
						     5 * SEC, NULL, 0, &init),
				      0);
		CU_ASSERT_EQUAL_FATAL(
			recv_ik_init(&b, &a, &init, sizeof(init), &pb, 0x02000009, 0, &resp, &sb),
			0);
		CU_ASSERT_EQUAL_FATAL(
			cp_hs_ik_finish(a.ctx, &pa, (uint8_t *)&resp, sizeof(resp), &sa), 0);
		assert_sessions_match(&sa, &sb, &a, &b, suites[i]);
		CU_ASSERT_EQUAL(sb.peer.timestamp, 5 * SEC);
		CU_ASSERT_EQUAL(sa.local_id, 0x01000007);
		CU_ASSERT_EQUAL(sb.local_id, 0x02000009);
		/* nothing secret is left in finished handshake state */
		for (int side = 0; side < 2; side++) {
			const struct cp_noise_hs *h = side ? &pb.noise : &pa.noise;

			CU_ASSERT(sodium_is_zero(h->ck, sizeof(h->ck)));
			CU_ASSERT(sodium_is_zero(h->e_priv, sizeof(h->e_priv)));
			CU_ASSERT(sodium_is_zero(h->s_priv, sizeof(h->s_priv)));
			CU_ASSERT(sodium_is_zero((const uint8_t *)&h->cs, sizeof(h->cs)));
		}
		cp_hs_session_wipe(&sa);
		cp_hs_session_wipe(&sb);
		node_fini(&a);
		node_fini(&b);
	}
}

static void
test_xx_both_suites(void)
{
	for (size_t i = 0; i < N_SUITES; i++) {
		struct node a, b;
		struct cp_hs_session sa, sb;
		int stage;

		node_init(&a, 0xc6120001);
		node_init(&b, 0xc6120002);
		CU_ASSERT_EQUAL(run_xx(&a, &b, suites[i], &sa, &sb, &stage), 0);
		assert_sessions_match(&sa, &sb, &a, &b, suites[i]);
		CU_ASSERT_EQUAL(sb.peer.timestamp, 7 * SEC);
		node_fini(&a);
		node_fini(&b);
	}
}

/* Same initiation twice: the second is refused; a newer one is accepted; the old one stays
 * refused even after the newer one. */
static void
test_replayed_initiation(void)
{
	static struct cp_hs_pending pa, pb;
	struct node a, b;
	struct sl_msg_ik_init first, second;
	struct sl_msg_ik_resp resp;
	struct cp_hs_session s;

	node_init(&a, 0xc6120001);
	node_init(&b, 0xc6120002);
	CU_ASSERT_EQUAL_FATAL(cp_hs_ik_start(a.ctx, &pa, b.pub, SL_SUITE_AESGCM_SHA256, 1, 0,
					     100 * SEC, NULL, 0, &first),
			      0);
	CU_ASSERT_EQUAL(recv_ik_init(&b, &a, &first, sizeof(first), &pb, 2, 0, &resp, &s), 0);
	CU_ASSERT_EQUAL(recv_ik_init(&b, &a, &first, sizeof(first), &pb, 3, 0, &resp, &s),
			-EALREADY);
	CU_ASSERT_EQUAL(pb.reason, CP_HS_REPLAY);
	CU_ASSERT_STRING_EQUAL(cp_hs_reason_name(pb.reason), "replayed_initiation");

	/* the initiator's wall clock went backwards: timestamps still increase */
	CU_ASSERT_EQUAL_FATAL(cp_hs_ik_start(a.ctx, &pa, b.pub, SL_SUITE_AESGCM_SHA256, 1, 0,
					     50 * SEC, NULL, 0, &second),
			      0);
	CU_ASSERT_EQUAL(recv_ik_init(&b, &a, &second, sizeof(second), &pb, 4, 0, &resp, &s), 0);
	CU_ASSERT_EQUAL(recv_ik_init(&b, &a, &first, sizeof(first), &pb, 5, 0, &resp, &s),
			-EALREADY);
	CU_ASSERT_EQUAL(recv_ik_init(&b, &a, &second, sizeof(second), &pb, 6, 0, &resp, &s),
			-EALREADY);
	node_fini(&a);
	node_fini(&b);
}

/* --- low-order points -------------------------------------------------------------------- */

#define MAX_LOW_ORDER 64

/* The distinct public keys Wycheproof flags as giving a zero shared secret. */
static size_t
load_low_order(uint8_t pts[MAX_LOW_ORDER][SL_KEY_LEN])
{
	json_t *root = vec_load("wycheproof/x25519_test.json"), *g, *t;
	size_t n = 0, gi, ti;

	if (root == NULL)
		return 0;
	json_array_foreach (json_object_get(root, "testGroups"), gi, g) {
		json_array_foreach (json_object_get(g, "tests"), ti, t) {
			size_t len = 0;
			uint8_t *pub;
			bool dup = false;

			if (!vec_has_flag(t, "ZeroSharedSecret") || n == MAX_LOW_ORDER)
				continue;
			pub = vec_hex(t, "public", &len);
			for (size_t i = 0; pub != NULL && len == SL_KEY_LEN && i < n; i++)
				dup = dup || memcmp(pts[i], pub, SL_KEY_LEN) == 0;
			if (pub != NULL && len == SL_KEY_LEN && !dup)
				memcpy(pts[n++], pub, SL_KEY_LEN);
			free(pub);
		}
	}
	json_decref(root);
	return n;
}

/* Replace a Noise ephemeral in a message and recompute its mac1, as an attacker who knows the
 * receiver's public key can. */
static void
forge_ephemeral(uint8_t *msg, size_t len, size_t e_off, const uint8_t *pt, const uint8_t *mac1_key)
{
	memcpy(msg + e_off, pt, SL_KEY_LEN);
	cp_macs_write(msg, len, mac1_key, NULL, 0, 0);
}

static void
test_low_order_keys(void)
{
	static uint8_t pts[MAX_LOW_ORDER][SL_KEY_LEN];
	static struct cp_hs_pending pa, pb;
	size_t n = load_low_order(pts);
	unsigned int refused = 0;
	uint8_t key_b[SL_KEY_LEN], key_a[SL_KEY_LEN], anon[SL_KEY_LEN];
	struct node a, b;

	printf("\n  %zu distinct low-order points\n", n);
	CU_ASSERT_FATAL(n >= 10);
	node_init(&a, 0xc6120001);
	node_init(&b, 0xc6120002);
	cp_mac1_key_peer(key_b, b.pub);
	cp_mac1_key_peer(key_a, a.pub);
	cp_mac1_key_anon(anon);
	for (size_t i = 0; i < n; i++) {
		struct sl_msg_ik_init init;
		struct sl_msg_ik_resp resp;
		struct sl_msg_xx_init xi;
		struct sl_msg_xx_resp xr;
		struct sl_msg_xx_finish xf;
		struct cp_hs_session s;

		/* 1. an initiator asked to reach a low-order static key */
		refused += cp_hs_ik_start(a.ctx, &pa, pts[i], SL_SUITE_AESGCM_SHA256, 1, 0, i + 1,
					  NULL, 0, &init) != 0 &&
			   pa.reason == CP_HS_LOW_ORDER;
		/* 2. an initiation whose ephemeral is a low-order point */
		CU_ASSERT_FATAL(cp_hs_ik_start(a.ctx, &pa, b.pub, SL_SUITE_CHACHAPOLY_BLAKE2B, 1, 0,
					       i + 1, NULL, 0, &init) == 0);
		forge_ephemeral((uint8_t *)&init, sizeof(init), 8, pts[i], key_b);
		refused += recv_ik_init(&b, &a, &init, sizeof(init), &pb, 2, i * SEC, &resp, &s) ==
				   -EKEYREJECTED &&
			   pb.reason == CP_HS_LOW_ORDER;
		/* 3. an answer whose ephemeral is a low-order point */
		CU_ASSERT_FATAL(cp_hs_ik_start(a.ctx, &pa, b.pub, SL_SUITE_AESGCM_SHA256, 1, 0,
					       1000 + i, NULL, 0, &init) == 0);
		CU_ASSERT_FATAL(
			recv_ik_init(&b, &a, &init, sizeof(init), &pb, 2, i * SEC, &resp, &s) == 0);
		forge_ephemeral((uint8_t *)&resp, sizeof(resp), 12, pts[i], key_a);
		refused += cp_hs_ik_finish(a.ctx, &pa, (uint8_t *)&resp, sizeof(resp), &s) ==
				   -EKEYREJECTED &&
			   pa.reason == CP_HS_LOW_ORDER;
		/* 4. XX initiation and 5. XX answer with a low-order ephemeral */
		CU_ASSERT_FATAL(
			cp_hs_xx_start(a.ctx, &pa, SL_SUITE_AESGCM_SHA256, 1, NULL, 0, &xi) == 0);
		forge_ephemeral((uint8_t *)&xi, sizeof(xi), 8, pts[i], anon);
		refused += cp_hs_xx_respond(b.ctx, &pb, (uint8_t *)&xi, sizeof(xi), 3, &xr) != 0 &&
			   pb.reason == CP_HS_LOW_ORDER;
		CU_ASSERT_FATAL(
			cp_hs_xx_start(a.ctx, &pa, SL_SUITE_AESGCM_SHA256, 1, NULL, 0, &xi) == 0);
		CU_ASSERT_FATAL(cp_hs_xx_respond(b.ctx, &pb, (uint8_t *)&xi, sizeof(xi), 3, &xr) ==
				0);
		forge_ephemeral((uint8_t *)&xr, sizeof(xr), 12, pts[i], anon);
		refused += cp_hs_xx_finish(a.ctx, &pa, (uint8_t *)&xr, sizeof(xr), 1, NULL, 0, &xf,
					   &s) == -EKEYREJECTED &&
			   pa.reason == CP_HS_LOW_ORDER;
	}
	CU_ASSERT_EQUAL(refused, 5 * n);
	node_fini(&a);
	node_fini(&b);
}

/* --- refusals with a reason -------------------------------------------------------------- */

static void
ik_refusal(struct node *a, struct node *b, enum cp_hs_reason want)
{
	static struct cp_hs_pending pa, pb;
	struct sl_msg_ik_init init;
	struct sl_msg_ik_resp resp;
	struct cp_hs_session s;

	CU_ASSERT_EQUAL_FATAL(cp_hs_ik_start(a->ctx, &pa, b->pub, SL_SUITE_AESGCM_SHA256, 1, 0, 1,
					     NULL, 0, &init),
			      0);
	CU_ASSERT_EQUAL(recv_ik_init(b, a, &init, sizeof(init), &pb, 2, 0, &resp, &s),
			-ECONNREFUSED);
	CU_ASSERT_EQUAL(pb.reason, want);
	/* the answer tells the initiator why */
	CU_ASSERT_EQUAL(cp_hs_ik_finish(a->ctx, &pa, (uint8_t *)&resp, sizeof(resp), &s),
			-ECONNREFUSED);
	CU_ASSERT_EQUAL(pa.reason, want);
}

static void
test_network_and_version(void)
{
	struct node a, b;
	struct cp_hs_session sa, sb;
	int stage;

	node_init_ver(&a, NET, 1, 1, 0xc6120001);
	node_init_ver(&b, NET + 1, 1, 1, 0xc6120002);
	ik_refusal(&a, &b, CP_HS_NETWORK);
	CU_ASSERT_EQUAL(run_xx(&a, &b, SL_SUITE_AESGCM_SHA256, &sa, &sb, &stage), -ECONNREFUSED);
	CU_ASSERT_EQUAL(stage, 3); /* refused by the initiator on reading the answer */
	node_fini(&a);
	node_fini(&b);

	node_init_ver(&a, NET, 2, 1, 0xc6120001);
	node_init_ver(&b, NET, 4, 3, 0xc6120002);
	ik_refusal(&a, &b, CP_HS_VERSION);
	CU_ASSERT_STRING_EQUAL(cp_hs_reason_name(CP_HS_VERSION), "incompatible_version");
	node_fini(&a);
	node_fini(&b);

	/* overlapping ranges negotiate the lower version */
	node_init_ver(&a, NET, 3, 1, 0xc6120001);
	node_init_ver(&b, NET, 4, 2, 0xc6120002);
	CU_ASSERT_EQUAL(run_xx(&a, &b, SL_SUITE_CHACHAPOLY_BLAKE2B, &sa, &sb, &stage), 0);
	CU_ASSERT(sa.peer.version == 3 && sb.peer.version == 3);
	node_fini(&a);
	node_fini(&b);
}

/* Channel sets that differ in the channels used or in a channel's kind: refused at connect,
 * with the reason on both sides (the IK responder still answers; the XX initiator refuses on
 * the answer). Sets equal in both, datagram channels included, connect; the control channel
 * is always in the set, given or not. */
static void
test_channel_set(void)
{
	static const struct {
		uint16_t used_a, dgram_a, used_b, dgram_b;
		bool ok;
	} rows[] = {
		{ 0x00ff, 0, 0x01ff, 0, false },	   { 0x000f, 0x0004, 0x000f, 0, false },
		{ 0x000f, 0x0004, 0x000f, 0x0008, false }, { 0x0001, 0, 0x0003, 0, false },
		{ 0x8003, 0x8000, 0x8003, 0x8000, true },  { 0x0000, 0, 0x0001, 0, true },
	};
	struct cp_hs_session sa, sb;
	struct node a, b;
	int stage;

	for (size_t i = 0; i < RTE_DIM(rows); i++) {
		node_init_chan(&a, NET, 1, 1, rows[i].used_a, rows[i].dgram_a, 0xc6120001);
		node_init_chan(&b, NET, 1, 1, rows[i].used_b, rows[i].dgram_b, 0xc6120002);
		if (rows[i].ok) {
			CU_ASSERT_EQUAL(run_xx(&a, &b, SL_SUITE_AESGCM_SHA256, &sa, &sb, &stage),
					0);
			CU_ASSERT_EQUAL(sa.peer.chan_used, rows[i].used_b | 1u);
			CU_ASSERT_EQUAL(sb.peer.chan_datagram, rows[i].dgram_a);
		} else {
			ik_refusal(&a, &b, CP_HS_CHANNELS);
			CU_ASSERT_EQUAL(run_xx(&a, &b, SL_SUITE_AESGCM_SHA256, &sa, &sb, &stage),
					-ECONNREFUSED);
			CU_ASSERT_EQUAL(stage, 3);
		}
		node_fini(&a);
		node_fini(&b);
	}
	CU_ASSERT_STRING_EQUAL(cp_hs_reason_name(CP_HS_CHANNELS), "channel_set_mismatch");
	/* a channel set that cannot be: no context */
	{
		struct cp_hs_config cfg = { .network_id = NET, .version = 1, .min_version = 1 };

		cfg.chan_used = 0x0003;
		cfg.chan_datagram = 0x0004; /* not among those used */
		CU_ASSERT(cp_hs_ctx_create(&cfg) == NULL && errno == EINVAL);
		cfg.chan_datagram = 0x0001; /* the control channel is reliable */
		CU_ASSERT(cp_hs_ctx_create(&cfg) == NULL && errno == EINVAL);
	}
}

/* What each side tells the other of itself reaches the completed session: capabilities and
 * listen addresses, in IK and XX, either role. */
static void
test_peer_self_description(void)
{
	static struct cp_hs_pending pa, pb;
	struct sl_msg_ik_init init;
	struct sl_msg_ik_resp resp;
	struct cp_hs_session sa, sb;
	struct node a, b;
	int stage;

	node_init(&a, 0xc6120001);
	node_init(&b, 0xc6120005);
	CU_ASSERT_EQUAL_FATAL(run_xx(&a, &b, SL_SUITE_AESGCM_SHA256, &sa, &sb, &stage), 0);
	CU_ASSERT(sa.peer.capabilities == (SL_CAP_RELAY | SL_CAP_PEX) &&
		  sb.peer.capabilities == (SL_CAP_RELAY | SL_CAP_PEX));
	CU_ASSERT(sa.peer.n_addrs == 2 && sa.peer.addrs[0].ip == 0xc6120005 &&
		  sa.peer.addrs[1].ip == 0xc6120006 && sa.peer.addrs[1].port == 4790);
	CU_ASSERT(sb.peer.n_addrs == 2 && sb.peer.addrs[0].ip == 0xc6120001 &&
		  sb.peer.addrs[0].port == 4789);
	CU_ASSERT(memcmp(sa.peer.pub, b.pub, SL_KEY_LEN) == 0);
	/* IK: b dials a */
	CU_ASSERT_EQUAL_FATAL(cp_hs_ik_start(b.ctx, &pb, a.pub, SL_SUITE_AESGCM_SHA256, 3, 0,
					     9 * SEC, NULL, 0, &init),
			      0);
	CU_ASSERT_EQUAL_FATAL(recv_ik_init(&a, &b, &init, sizeof(init), &pa, 4, 0, &resp, &sa), 0);
	CU_ASSERT_EQUAL_FATAL(cp_hs_ik_finish(b.ctx, &pb, (uint8_t *)&resp, sizeof(resp), &sb), 0);
	CU_ASSERT(sa.peer.capabilities == (SL_CAP_RELAY | SL_CAP_PEX) && sa.peer.n_addrs == 2 &&
		  sa.peer.addrs[0].ip == 0xc6120005 && sa.peer.addrs[0].port == 4789);
	CU_ASSERT(sb.peer.capabilities == (SL_CAP_RELAY | SL_CAP_PEX) && sb.peer.n_addrs == 2 &&
		  sb.peer.addrs[1].ip == 0xc6120002 && sb.peer.addrs[1].port == 4790);
	cp_hs_session_wipe(&sa);
	cp_hs_session_wipe(&sb);
	node_fini(&a);
	node_fini(&b);
}

/* The two-step responder: it reads the initiation, sees who it is and whether it asks for a
 * rekey, then answers with its own id and flags; both sides see each other's flags. */
static void
test_rekey_flag(void)
{
	static struct cp_hs_pending pa, pb;
	struct node a, b;
	struct sl_msg_ik_init init;
	struct sl_msg_ik_resp resp;
	struct cp_hs_session sa, sb;
	const uint8_t answers[] = { SL_HS_F_REKEY, 0 };

	node_init(&a, 0xc6120001);
	node_init(&b, 0xc6120002);
	for (size_t i = 0; i < RTE_DIM(answers); i++) {
		CU_ASSERT_EQUAL_FATAL(cp_hs_ik_start(a.ctx, &pa, b.pub, SL_SUITE_AESGCM_SHA256,
						     0x0100002a, SL_HS_F_REKEY, (i + 1) * SEC, NULL,
						     0, &init),
				      0);
		CU_ASSERT_EQUAL_FATAL(cp_hs_ik_read(b.ctx, &pb, (uint8_t *)&init, sizeof(init), 0),
				      0);
		CU_ASSERT_EQUAL(pb.peer.flags, SL_HS_F_REKEY);
		CU_ASSERT_EQUAL(memcmp(pb.peer.pub, a.pub, SL_KEY_LEN), 0);
		CU_ASSERT_EQUAL(pb.peer.sender, 0x0100002a);
		CU_ASSERT_EQUAL_FATAL(
			cp_hs_ik_answer(b.ctx, &pb, 0x02000107, answers[i], &resp, &sb), 0);
		CU_ASSERT_EQUAL_FATAL(
			cp_hs_ik_finish(a.ctx, &pa, (uint8_t *)&resp, sizeof(resp), &sa), 0);
		CU_ASSERT_EQUAL(sa.peer.flags, answers[i]);
		CU_ASSERT_EQUAL(sa.remote_id, 0x02000107);
		assert_sessions_match(&sa, &sb, &a, &b, SL_SUITE_AESGCM_SHA256);
	}
	/* an answer is written once per read initiation */
	CU_ASSERT_EQUAL(cp_hs_ik_answer(b.ctx, &pb, 1, 0, &resp, &sb), -EINVAL);
	node_fini(&a);
	node_fini(&b);
}

static void
test_self_connection(void)
{
	static struct cp_hs_pending pa, pb;
	struct node a;
	struct sl_msg_ik_init init;
	struct sl_msg_xx_init xi;
	struct sl_msg_xx_resp xr;
	struct sl_msg_xx_finish xf;
	struct cp_hs_session s;

	node_init(&a, 0xc6120001);
	CU_ASSERT_EQUAL(
		cp_hs_ik_start(a.ctx, &pa, a.pub, SL_SUITE_AESGCM_SHA256, 1, 0, 1, NULL, 0, &init),
		-EINVAL);
	CU_ASSERT_EQUAL(pa.reason, CP_HS_SELF);
	CU_ASSERT_EQUAL_FATAL(cp_hs_xx_start(a.ctx, &pa, SL_SUITE_AESGCM_SHA256, 1, NULL, 0, &xi),
			      0);
	CU_ASSERT_EQUAL_FATAL(cp_hs_xx_respond(a.ctx, &pb, (uint8_t *)&xi, sizeof(xi), 2, &xr), 0);
	CU_ASSERT_EQUAL(
		cp_hs_xx_finish(a.ctx, &pa, (uint8_t *)&xr, sizeof(xr), 1, NULL, 0, &xf, &s),
		-ECONNREFUSED);
	CU_ASSERT_EQUAL(pa.reason, CP_HS_SELF);
	node_fini(&a);
}

/* Fields of a payload the decoding table changes, one per row. */
enum field {
	OK,
	RESERVED0,
	N_ADDRS,
	UNUSED_ADDR,
	ADDR_RESERVED,
	MIN_VER0,
	MIN_GT_VER,
	NETWORK,
	VERSION_LOW,
	VERSION_HIGH,
	CHAN_NO_CONTROL,
	CHAN_CONTROL_DGRAM,
	CHAN_DGRAM_UNUSED,
	CHAN_RESERVED,
	CHAN_MORE,
	CHAN_KIND
};

/* Change field f of a valid payload. */
static void
change_field(struct sl_hs_payload *pl, enum field f)
{
	switch (f) {
	case RESERVED0:
		pl->flags = 0x80;
		break;
	case N_ADDRS:
		pl->n_addrs = SL_HS_MAX_ADDRS + 1;
		break;
	case UNUSED_ADDR:
		pl->addrs[3].port = 1;
		break;
	case ADDR_RESERVED:
		pl->addrs[0].reserved[1] = 1;
		break;
	case MIN_VER0:
		pl->min_version = 0;
		break;
	case MIN_GT_VER:
		pl->min_version = 4;
		break;
	case NETWORK:
		pl->network_id = rte_cpu_to_be_64(NET ^ 1);
		break;
	case VERSION_LOW:
		pl->version = 1;
		break;
	case VERSION_HIGH:
		pl->version = 9;
		pl->min_version = 4;
		break;
	case CHAN_NO_CONTROL:
		pl->chan_used = rte_cpu_to_be_16(0x00fe);
		break;
	case CHAN_CONTROL_DGRAM:
		pl->chan_datagram = rte_cpu_to_be_16(0x0001);
		break;
	case CHAN_DGRAM_UNUSED:
		pl->chan_datagram = rte_cpu_to_be_16(0x0100);
		break;
	case CHAN_RESERVED:
		pl->reserved[3] = 1;
		break;
	case CHAN_MORE: /* a channel 8 we do not have */
		pl->chan_used = rte_cpu_to_be_16(0x01ff);
		break;
	case CHAN_KIND: /* channel 2 a datagram channel there, reliable here */
		pl->chan_datagram = rte_cpu_to_be_16(0x0004);
		break;
	default:
		break;
	}
}

/* Payload decoding, table-driven: each row changes one field of a valid payload. */
static void
test_payload_decode(void)
{
	static const struct {
		enum field f;
		enum cp_hs_reason want;
	} rows[] = {
		{ OK, CP_HS_NONE },
		{ RESERVED0, CP_HS_MALFORMED },
		{ N_ADDRS, CP_HS_MALFORMED },
		{ UNUSED_ADDR, CP_HS_MALFORMED },
		{ ADDR_RESERVED, CP_HS_MALFORMED },
		{ MIN_VER0, CP_HS_MALFORMED },
		{ MIN_GT_VER, CP_HS_MALFORMED },
		{ NETWORK, CP_HS_NETWORK },
		{ VERSION_LOW, CP_HS_VERSION },
		{ VERSION_HIGH, CP_HS_VERSION },
		{ CHAN_NO_CONTROL, CP_HS_MALFORMED },
		{ CHAN_CONTROL_DGRAM, CP_HS_MALFORMED },
		{ CHAN_DGRAM_UNUSED, CP_HS_MALFORMED },
		{ CHAN_RESERVED, CP_HS_MALFORMED },
		{ CHAN_MORE, CP_HS_CHANNELS },
		{ CHAN_KIND, CP_HS_CHANNELS },
	};
	struct node a, b;

	node_init_ver(&a, NET, 3, 2, 0xc6120001);
	node_init(&b, 0xc6120002);
	for (size_t i = 0; i < RTE_DIM(rows); i++) {
		struct sl_hs_payload pl;
		struct cp_hs_peerinfo info;

		cp_hs_payload_encode(b.ctx, 9, 42, 0, &pl);
		pl.version = 3; /* b speaks 1..3 in this table */
		change_field(&pl, rows[i].f);
		CU_ASSERT_EQUAL(cp_hs_payload_decode(a.ctx, &pl, &info), rows[i].want);
		if (rows[i].want == CP_HS_NONE) {
			CU_ASSERT_EQUAL(info.timestamp, 42);
			CU_ASSERT_EQUAL(info.sender, 9);
			CU_ASSERT_EQUAL(info.version, 3);
			CU_ASSERT_EQUAL(info.capabilities, SL_CAP_RELAY | SL_CAP_PEX);
			CU_ASSERT(info.n_addrs == 2 && info.addrs[0].ip == 0xc6120002 &&
				  info.addrs[0].port == 4789 && info.addrs[1].ip == 0xc6120003 &&
				  info.addrs[1].port == 4790);
			CU_ASSERT(info.chan_used == 0x00ff && info.chan_datagram == 0);
		}
		if (rows[i].want == CP_HS_CHANNELS)
			CU_ASSERT(cp_hs_reason_answered(rows[i].want));
	}
	node_fini(&a);
	node_fini(&b);
}

/* One IK handshake from a to b; the keypairs each side would install. */
static void
ik_keypairs(struct node *a, struct node *b, uint8_t suite, uint64_t ts, uint32_t ida, uint32_t idb,
	    struct dp_keypair **ka, struct dp_keypair **kb)
{
	static struct cp_hs_pending pa, pb;
	struct sl_msg_ik_init init;
	struct sl_msg_ik_resp resp;
	struct cp_hs_session sa, sb;

	CU_ASSERT_FATAL(cp_hs_ik_start(a->ctx, &pa, b->pub, suite, ida, 0, ts, NULL, 0, &init) ==
			0);
	CU_ASSERT_FATAL(recv_ik_init(b, a, &init, sizeof(init), &pb, idb, ts, &resp, &sb) == 0);
	CU_ASSERT_FATAL(cp_hs_ik_finish(a->ctx, &pa, (uint8_t *)&resp, sizeof(resp), &sa) == 0);
	*ka = dp_keypair_create(cp_hs_suite_aead(sa.suite), sa.send_key, sa.recv_key, sa.local_id,
				sa.remote_id, sa.initiator, ts);
	*kb = dp_keypair_create(cp_hs_suite_aead(sb.suite), sb.send_key, sb.recv_key, sb.local_id,
				sb.remote_id, sb.initiator, ts);
	CU_ASSERT_FATAL(*ka != NULL && *kb != NULL);
	cp_hs_session_wipe(&sa);
	cp_hs_session_wipe(&sb);
}

static int
seal(struct dp_keyset *ks, const char *text, uint64_t now, const struct dp_key_limits *lim,
     uint8_t *pkt)
{
	return dp_keyset_seal(sl_aead_thread_mgr(), ks, now, lim, (const uint8_t *)text,
			      strlen(text) + 1, pkt);
}

/* Decode the data packet's header, then open it with the keyset (as the appliance does). */
static int
open_data(struct dp_keyset *ks, const uint8_t *pkt, int len, uint8_t *plain, uint64_t now,
	  const struct dp_key_limits *lim)
{
	struct dp_data_rx rx;
	int rc = dp_data_rx_decode(pkt, (size_t)len, &rx);

	return rc != 0 ? rc : dp_keyset_open(sl_aead_thread_mgr(), ks, now, lim, &rx, plain);
}

static bool
opens_to(struct dp_keyset *ks, const uint8_t *pkt, int len, const char *text, uint64_t now,
	 const struct dp_key_limits *lim)
{
	uint8_t plain[256];
	int n = len > 0 ? open_data(ks, pkt, len, plain, now, lim) : len;

	return n == (int)strlen(text) + 1 && memcmp(plain, text, (size_t)n) == 0;
}

/* The keys a handshake produces carry data both ways, and a rekey with packets still in
 * flight under the old keys loses none of them. */
static void
test_session_keys_carry_data(void)
{
	struct node a, b;
	struct dp_keyset ka, kb;
	struct dp_keypair *pa, *pb;
	struct dp_key_limits lim;
	uint8_t p1[256], p2[256], p3[256];
	int n1, n2, n3;

	dp_key_limits_init(&lim);
	for (size_t i = 0; i < N_SUITES; i++) {
		node_init(&a, 0xc6120001);
		node_init(&b, 0xc6120002);
		dp_keyset_init(&ka);
		dp_keyset_init(&kb);
		ik_keypairs(&a, &b, suites[i], SEC, 0x01000001, 0x02000001, &pa, &pb);
		dp_keyset_install(&ka, pa);
		dp_keyset_install(&kb, pb);
		/* the responder cannot send before the initiator's first packet */
		CU_ASSERT_EQUAL(seal(&kb, "early", SEC, &lim, p1), -ENOKEY);
		n1 = seal(&ka, "hello b", SEC, &lim, p1);
		CU_ASSERT(opens_to(&kb, p1, n1, "hello b", SEC, &lim));
		n2 = seal(&kb, "hello a", SEC, &lim, p2);
		CU_ASSERT(opens_to(&ka, p2, n2, "hello a", SEC, &lim));

		/* rekey: one packet leaves under the old keys, one under the new */
		n1 = seal(&ka, "old keys", 2 * SEC, &lim, p1);
		ik_keypairs(&a, &b, suites[i], 2 * SEC, 0x01000002, 0x02000002, &pa, &pb);
		dp_keyset_install(&ka, pa);
		dp_keyset_install(&kb, pb);
		n2 = seal(&ka, "new keys", 2 * SEC, &lim, p2);
		n3 = seal(&kb, "still old", 2 * SEC, &lim, p3); /* b has not confirmed yet */
		CU_ASSERT(opens_to(&kb, p2, n2, "new keys", 2 * SEC, &lim));
		CU_ASSERT(opens_to(&kb, p1, n1, "old keys", 2 * SEC, &lim));
		CU_ASSERT(opens_to(&ka, p3, n3, "still old", 2 * SEC, &lim));
		CU_ASSERT_PTR_EQUAL(kb.cur, pb);
		n3 = seal(&kb, "b on new", 2 * SEC, &lim, p3);
		CU_ASSERT(opens_to(&ka, p3, n3, "b on new", 2 * SEC, &lim));
		/* and a replay of any of them is refused */
		CU_ASSERT_EQUAL(open_data(&kb, p2, n2, p3, 2 * SEC, &lim), -EALREADY);
		dp_keyset_clear(&ka);
		dp_keyset_clear(&kb);
		node_fini(&a);
		node_fini(&b);
	}
}

static CU_TestInfo cases[] = {
	{ "IK, both suites", test_ik_both_suites },
	{ "XX, both suites", test_xx_both_suites },
	{ "replayed initiation refused", test_replayed_initiation },
	{ "low-order public keys produce no session", test_low_order_keys },
	{ "wrong network / version refused with a reason", test_network_and_version },
	{ "connecting to oneself refused", test_self_connection },
	{ "rekey flag, two-step responder", test_rekey_flag },
	{ "channel sets: a mismatch refused at connect, both sides", test_channel_set },
	{ "capabilities and listen addresses reach the session", test_peer_self_description },
	{ "payload validation table", test_payload_decode },
	{ "session keys carry data, rekey loses nothing", test_session_keys_carry_data },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("handshake", cases)
