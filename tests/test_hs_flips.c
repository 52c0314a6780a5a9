/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: every handshake message (IK initiation and answer, XX initiation, answer and
 * finish, cookie reply), in both suites, with a single bit flipped at every position, is
 * rejected by the receive path a control plane runs (admission, then the handshake).
 *
 * A second pass flips every bit before mac1 and recomputes mac1, as an attacker who knows
 * the public keys can: the handshake itself must then refuse the message, so no session comes
 * out of any altered message. (A re-MACed XX initiation is indistinguishable from a new
 * initiator, so there the check is that the original initiator refuses the answer.)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "hs_nodes.h"
#include "sl_test.h"

enum kind { IK_INIT, IK_RESP, XX_INIT, XX_RESP, XX_FINISH, COOKIE, N_KINDS };

static const char *const kind_names[] = { "ik_init", "ik_resp",	  "xx_init",
					  "xx_resp", "xx_finish", "cookie" };

/* Everything one message needs to be delivered again and again from the same state. */
struct world {
	struct node a, b;	     /* a initiates, b responds */
	struct cp_hs_pending pa, pb; /* snapshots taken when the message was produced */
	struct cp_hs_pending wa, wb; /* working copies */
	uint8_t msg[256];
	size_t len;
	uint8_t mac1_key[SL_KEY_LEN]; /* the key the receiver checks mac1 with */
};

static bool
admitted(struct world *w, const uint8_t *m, size_t len, bool anon, bool initiation)
{
	struct sl_msg_cookie reply;

	return cp_admission_check(w->b.adm, m, len, anon, initiation, 4, &w->a.src, 0, 0, &reply) ==
	       CP_ADMIT_ACCEPT;
}

/* Deliver m to its receiver, starting from the snapshot; true if no session came out. */
static bool
refused(struct world *w, enum kind k, const uint8_t *m, size_t len, bool with_admission)
{
	struct sl_msg_ik_resp ir;
	struct sl_msg_xx_resp xr;
	struct sl_msg_xx_finish xf;
	struct sl_msg_cookie ck;
	struct cp_cookie cookie = { 0 };
	struct cp_hs_session s;

	w->wa = w->pa;
	w->wb = w->pb;
	switch (k) {
	case IK_INIT:
		if (with_admission && !admitted(w, m, len, false, true))
			return true;
		return cp_hs_ik_respond(w->b.ctx, &w->wb, m, len, 9, 0, &ir, &s) != 0;
	case IK_RESP:
		return cp_hs_ik_finish(w->a.ctx, &w->wa, m, len, &s) != 0;
	case XX_INIT:
		if (with_admission && !admitted(w, m, len, true, true))
			return true;
		if (cp_hs_xx_respond(w->b.ctx, &w->wb, m, len, 9, &xr) != 0)
			return true;
		return cp_hs_xx_finish(w->a.ctx, &w->wa, (uint8_t *)&xr, sizeof(xr), 1, NULL, 0,
				       &xf, &s) != 0;
	case XX_RESP:
		return cp_hs_xx_finish(w->a.ctx, &w->wa, m, len, 1, NULL, 0, &xf, &s) != 0;
	case XX_FINISH:
		if (with_admission && !admitted(w, m, len, false, false))
			return true;
		return cp_hs_xx_complete(w->b.ctx, &w->wb, m, len, 0, &s) != 0;
	case COOKIE:
		memcpy(&ck, m, sizeof(ck));
		return cp_hs_cookie_consume(w->a.ctx, &w->wa, &ck, len, 0, &cookie) != 0;
	default:
		return false;
	}
}

static void
keep(struct world *w, const void *m, size_t len, const uint8_t *mac1_key)
{
	memcpy(w->msg, m, len);
	w->len = len;
	if (mac1_key != NULL)
		memcpy(w->mac1_key, mac1_key, SL_KEY_LEN);
	w->pa = w->wa;
	w->pb = w->wb;
}

/* Run the exchange up to message k and keep it with both sides' state at that point. */
static void
produce(struct world *w, enum kind k, uint8_t suite)
{
	struct sl_msg_ik_init ii;
	struct sl_msg_ik_resp ir;
	struct sl_msg_xx_init xi;
	struct sl_msg_xx_resp xr;
	struct sl_msg_xx_finish xf;
	struct sl_msg_cookie ck;
	struct cp_hs_session s;
	uint8_t key[SL_KEY_LEN];
	bool ik = k == IK_INIT || k == IK_RESP || k == COOKIE;

	if (ik) {
		CU_ASSERT_FATAL(cp_hs_ik_start(w->a.ctx, &w->wa, w->b.pub, suite, 1, 0, SEC, NULL,
					       0, &ii) == 0);
		cp_mac1_key_peer(key, w->b.pub);
		keep(w, &ii, sizeof(ii), key);
		if (k == COOKIE) {
			CU_ASSERT_FATAL(cp_admission_check(w->b.adm, (uint8_t *)&ii, sizeof(ii),
							   false, true, 4, &w->a.src, 1000, 0,
							   &ck) == CP_ADMIT_COOKIE);
			keep(w, &ck, sizeof(ck), NULL);
		}
		if (k != IK_RESP)
			return;
		CU_ASSERT_FATAL(cp_hs_ik_respond(w->b.ctx, &w->wb, (uint8_t *)&ii, sizeof(ii), 9, 0,
						 &ir, &s) == 0);
		cp_mac1_key_peer(key, w->a.pub);
		keep(w, &ir, sizeof(ir), key);
		return;
	}
	cp_mac1_key_anon(key);
	CU_ASSERT_FATAL(cp_hs_xx_start(w->a.ctx, &w->wa, suite, 1, NULL, 0, &xi) == 0);
	keep(w, &xi, sizeof(xi), key);
	if (k == XX_INIT)
		return;
	CU_ASSERT_FATAL(cp_hs_xx_respond(w->b.ctx, &w->wb, (uint8_t *)&xi, sizeof(xi), 9, &xr) ==
			0);
	keep(w, &xr, sizeof(xr), key);
	if (k == XX_RESP)
		return;
	CU_ASSERT_FATAL(cp_hs_xx_finish(w->a.ctx, &w->wa, (uint8_t *)&xr, sizeof(xr), SEC, NULL, 0,
					&xf, &s) == 0);
	cp_mac1_key_peer(key, w->b.pub);
	keep(w, &xf, sizeof(xf), key);
}

struct tally {
	unsigned int trials, rejected;
};

static void
flip_kind(enum kind k, uint8_t suite, bool remac, struct tally *t)
{
	static struct world w;
	uint8_t m[256];
	size_t limit;

	node_init(&w.a, 0xc6120001);
	node_init(&w.b, 0xc6120002);
	produce(&w, k, suite);
	/* the untouched message goes through: the flips are what make it fail */
	CU_ASSERT(!refused(&w, k, w.msg, w.len, true));
	limit = remac ? w.len - sizeof(struct sl_msg_macs) : w.len;
	for (size_t bit = 0; bit < limit * 8; bit++) {
		memcpy(m, w.msg, w.len);
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (remac)
			cp_macs_write(m, w.len, w.mac1_key, NULL, 0, 0);
		t->trials++;
		if (refused(&w, k, m, w.len, !remac))
			t->rejected++;
		else
			fprintf(stderr, "%s suite %u%s: bit %zu accepted\n", kind_names[k], suite,
				remac ? " re-MACed" : "", bit);
	}
	cp_hs_pending_wipe(&w.pa);
	cp_hs_pending_wipe(&w.pb);
	node_fini(&w.a);
	node_fini(&w.b);
}

static void
run_flips(bool remac)
{
	struct tally t = { 0 };
	unsigned int want = 0;
	static const size_t lens[N_KINDS] = {
		sizeof(struct sl_msg_ik_init),	 sizeof(struct sl_msg_ik_resp),
		sizeof(struct sl_msg_xx_init),	 sizeof(struct sl_msg_xx_resp),
		sizeof(struct sl_msg_xx_finish), sizeof(struct sl_msg_cookie),
	};

	for (int k = 0; k < N_KINDS; k++) {
		if (remac && k == COOKIE)
			continue; /* a cookie reply has no MAC; its AEAD is what the flips hit */
		for (size_t s = 0; s < N_SUITES; s++) {
			flip_kind((enum kind)k, suites[s], remac, &t);
			want += 8 *
				(unsigned int)(lens[k] - (remac ? sizeof(struct sl_msg_macs) : 0));
		}
	}
	printf("\n  %u of %u altered messages rejected\n", t.rejected, t.trials);
	CU_ASSERT_EQUAL(t.trials, want);
	CU_ASSERT_EQUAL(t.rejected, t.trials);
}

static void
test_flips(void)
{
	run_flips(false);
}

static void
test_flips_remac(void)
{
	run_flips(true);
}

static void
test_release(void)
{
	sl_aead_thread_mgr_release();
	CU_PASS("released");
}

static CU_TestInfo cases[] = {
	{ "one bit flipped at every position: rejected", test_flips },
	{ "one bit flipped and mac1 recomputed: still no session", test_flips_remac },
	{ "release the thread manager", test_release },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("handshake flips", cases)
