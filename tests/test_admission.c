/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: handshake admission — mac1 before any DH, the cookie round trip under load (bound to
 * the source address, rotating), the per-source rate limit as an exact allow/deny sequence, and
 * the rule that no reply is ever larger than what caused it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "sl_dh.h"
#include "hs_nodes.h"
#include "sl_test.h"

#define MS 1000000ull

/* An initiation from a to b at wall time ts, with a's cookie for b if it has one. */
static void
initiation(struct node *a, const struct node *b, uint64_t ts, const struct cp_cookie *cookie,
	   uint64_t now, struct cp_hs_pending *p, struct sl_msg_ik_init *m)
{
	CU_ASSERT_FATAL(cp_hs_ik_start(a->ctx, p, b->pub, SL_SUITE_AESGCM_SHA256, 7, 0, ts, cookie,
				       now, m) == 0);
}

static enum cp_admit
admit(struct node *b, const struct sl_msg_ik_init *m, const struct cp_src *src, uint32_t pending,
      uint64_t now, struct sl_msg_cookie *reply)
{
	return cp_admission_check(b->adm, (const uint8_t *)m, sizeof(*m), false, true, 4, src,
				  pending, now, reply);
}

/* Under load: no mac2 -> cookie reply; the initiator takes the cookie and its next initiation
 * goes through; the reply is never larger than the initiation. */
static void
test_cookie_round_trip(void)
{
	static struct cp_hs_pending pa, pb;
	struct node a, b;
	struct sl_msg_ik_init m;
	struct sl_msg_ik_resp resp;
	struct sl_msg_cookie reply;
	struct cp_cookie cookie = { 0 };
	struct cp_hs_session s;

	node_init(&a, 0xc6120001);
	node_init(&b, 0xc6120002);
	initiation(&a, &b, 1, NULL, 0, &pa, &m);
	CU_ASSERT_EQUAL(admit(&b, &m, &a.src, SL_UNDER_LOAD_PENDING, 0, &reply), CP_ADMIT_COOKIE);
	CU_ASSERT(sizeof(reply) <= sizeof(m));
	CU_ASSERT_EQUAL(reply.type, SL_MSG_COOKIE);
	CU_ASSERT_EQUAL(rte_be_to_cpu_32(reply.receiver), 7);
	CU_ASSERT_EQUAL(cp_hs_cookie_consume(a.ctx, &pa, &reply, sizeof(reply), 0, &cookie), 0);
	CU_ASSERT(cookie.valid);

	/* one below the threshold is not "under load": no mac2 needed */
	initiation(&a, &b, 2, NULL, MS, &pa, &m);
	CU_ASSERT_EQUAL(admit(&b, &m, &a.src, SL_UNDER_LOAD_PENDING - 1, MS, &reply),
			CP_ADMIT_ACCEPT);

	/* with the cookie: accepted under load, and the handshake completes */
	initiation(&a, &b, 3, &cookie, 2 * MS, &pa, &m);
	CU_ASSERT(!sodium_is_zero(m.macs.mac2, sizeof(m.macs.mac2)));
	CU_ASSERT_EQUAL(admit(&b, &m, &a.src, 1000, 2 * MS, &reply), CP_ADMIT_ACCEPT);
	CU_ASSERT_EQUAL(
		cp_hs_ik_respond(b.ctx, &pb, (uint8_t *)&m, sizeof(m), 8, 2 * MS, &resp, &s), 0);
	/* the same mac2 from another address is worth nothing */
	struct cp_src other = { a.src.ip + 1, a.src.port, 0 };

	CU_ASSERT_EQUAL(admit(&b, &m, &other, 1000, 2 * MS, &reply), CP_ADMIT_COOKIE);
	other.ip = a.src.ip;
	other.port = (uint16_t)(a.src.port + 1);
	CU_ASSERT_EQUAL(admit(&b, &m, &other, 1000, 2 * MS, &reply), CP_ADMIT_COOKIE);
	/* nor from the same address on a relay circuit (each circuit is a source of its own) */
	other = a.src;
	other.via = 0x101;
	CU_ASSERT_EQUAL(admit(&b, &m, &other, 1000, 2 * MS, &reply), CP_ADMIT_COOKIE);
	CU_ASSERT_EQUAL(cp_admission_stats(b.adm)->cookies_sent, 4);
	node_fini(&a);
	node_fini(&b);
}

/* The global budget: SL_HS_BUDGET_BURST initiations without a cookie pass at once from as many
 * sources, the next one is answered with a cookie (over_budget) however new its source; a
 * cookie's mac2 is admitted without the budget; the budget refills at SL_HS_BUDGET_PER_SEC. */
static void
test_global_budget(void)
{
	static struct cp_hs_pending pa;
	const uint64_t token_ns = 1000000000ull / SL_HS_BUDGET_PER_SEC;
	struct node a, b;
	struct sl_msg_ik_init m;
	struct sl_msg_cookie reply;
	struct cp_cookie cookie = { 0 };
	struct cp_src src = { 0 };

	node_init(&a, 0xc6120001);
	node_init(&b, 0xc6120002);
	initiation(&a, &b, 1, NULL, 0, &pa, &m);
	for (unsigned int i = 0; i < SL_HS_BUDGET_BURST; i++) {
		src = (struct cp_src){ .ip = 0xc6130000 + i, .port = 4789 }; /* spoofed, each new */
		CU_ASSERT_EQUAL(admit(&b, &m, &src, 0, 0, &reply), CP_ADMIT_ACCEPT);
	}
	src.ip++;
	CU_ASSERT_EQUAL(admit(&b, &m, &src, 0, 0, &reply), CP_ADMIT_COOKIE);
	CU_ASSERT_EQUAL(admit(&b, &m, &a.src, 0, 0, &reply), CP_ADMIT_COOKIE);
	CU_ASSERT_EQUAL(cp_admission_stats(b.adm)->over_budget, 2);
	/* the honest initiator answers its cookie: admitted though the budget is spent */
	CU_ASSERT_EQUAL_FATAL(cp_hs_cookie_consume(a.ctx, &pa, &reply, sizeof(reply), 0, &cookie),
			      0);
	initiation(&a, &b, 2, &cookie, 1, &pa, &m);
	CU_ASSERT_EQUAL(admit(&b, &m, &a.src, 0, 1, &reply), CP_ADMIT_ACCEPT);
	/* one token later, one more without a cookie, and no more */
	initiation(&a, &b, 3, NULL, token_ns, &pa, &m);
	src.ip++;
	CU_ASSERT_EQUAL(admit(&b, &m, &src, 0, token_ns, &reply), CP_ADMIT_ACCEPT);
	src.ip++;
	CU_ASSERT_EQUAL(admit(&b, &m, &src, 0, token_ns, &reply), CP_ADMIT_COOKIE);
	CU_ASSERT_EQUAL(cp_admission_stats(b.adm)->over_budget, 3);
	CU_ASSERT_EQUAL(cp_admission_stats(b.adm)->accepted, SL_HS_BUDGET_BURST + 2);
	node_fini(&a);
	node_fini(&b);
}

/* The cookie secret rotates: a mac2 made with a cookie from before the rotation no longer
 * passes, and the answer is a fresh cookie that does. */
static void
test_cookie_rotation(void)
{
	static struct cp_hs_pending pa;
	struct node a, b;
	struct sl_msg_ik_init m;
	struct sl_msg_cookie reply;
	struct cp_cookie cookie = { 0 };
	const uint64_t rot = SL_COOKIE_ROTATE_NS;

	node_init(&a, 0xc6120001);
	node_init(&b, 0xc6120002);
	initiation(&a, &b, 1, NULL, 0, &pa, &m);
	CU_ASSERT_EQUAL(admit(&b, &m, &a.src, 1000, 0, &reply), CP_ADMIT_COOKIE);
	CU_ASSERT_EQUAL_FATAL(cp_hs_cookie_consume(a.ctx, &pa, &reply, sizeof(reply), 0, &cookie),
			      0);

	/* just before the rotation the cookie still works */
	initiation(&a, &b, 2, &cookie, rot - 1, &pa, &m);
	CU_ASSERT_EQUAL(admit(&b, &m, &a.src, 1000, rot - 1, &reply), CP_ADMIT_ACCEPT);
	/* at the rotation it does not (the initiator still thinks it is fresh) */
	cookie.received_ns = rot - 1;
	initiation(&a, &b, 3, &cookie, rot, &pa, &m);
	CU_ASSERT(!sodium_is_zero(m.macs.mac2, sizeof(m.macs.mac2)));
	CU_ASSERT_EQUAL(admit(&b, &m, &a.src, 1000, rot, &reply), CP_ADMIT_COOKIE);
	CU_ASSERT_EQUAL(cp_hs_cookie_consume(a.ctx, &pa, &reply, sizeof(reply), rot, &cookie), 0);
	initiation(&a, &b, 4, &cookie, rot + 1, &pa, &m);
	CU_ASSERT_EQUAL(admit(&b, &m, &a.src, 1000, rot + 1, &reply), CP_ADMIT_ACCEPT);
	/* an initiator drops a cookie older than the rotation period: mac2 goes back to zero */
	initiation(&a, &b, 5, &cookie, 2 * rot + 2, &pa, &m);
	CU_ASSERT(sodium_is_zero(m.macs.mac2, sizeof(m.macs.mac2)));
	node_fini(&a);
	node_fini(&b);
}

/* A cookie reply only authenticates for the message it answers. */
static void
test_cookie_bound_to_message(void)
{
	static struct cp_hs_pending p1, p2;
	struct node a, b;
	struct sl_msg_ik_init m1, m2;
	struct sl_msg_cookie reply;
	struct cp_cookie cookie = { 0 };

	node_init(&a, 0xc6120001);
	node_init(&b, 0xc6120002);
	initiation(&a, &b, 1, NULL, 0, &p1, &m1);
	initiation(&a, &b, 2, NULL, 0, &p2, &m2);
	CU_ASSERT_EQUAL(admit(&b, &m1, &a.src, 1000, 0, &reply), CP_ADMIT_COOKIE);
	CU_ASSERT_EQUAL(cp_hs_cookie_consume(a.ctx, &p2, &reply, sizeof(reply), 0, &cookie),
			-EBADMSG);
	CU_ASSERT(!cookie.valid);
	CU_ASSERT_EQUAL(cp_hs_cookie_consume(a.ctx, &p1, &reply, sizeof(reply) - 1, 0, &cookie),
			-EBADMSG);
	CU_ASSERT_EQUAL(cp_hs_cookie_consume(a.ctx, &p1, &reply, sizeof(reply), 0, &cookie), 0);
	node_fini(&a);
	node_fini(&b);
}

/* The rate limit, seen through admission: exactly burst initiations at once, then one per
 * 1/rate, per source. */
static void
test_rate_limit_sequence(void)
{
	static struct cp_hs_pending p;
	struct node a, b;
	struct sl_msg_ik_init m;
	struct sl_msg_cookie reply;
	const uint64_t t0 = 10ull * SEC, cost = SEC / SL_RATELIMIT_PER_SEC; /* 50 ms */
	/* time offset from t0, expected verdict */
	static const struct {
		uint64_t at;
		enum cp_admit want;
	} seq[] = {
		{ 0, CP_ADMIT_ACCEPT },		 { 0, CP_ADMIT_ACCEPT },
		{ 0, CP_ADMIT_ACCEPT },		 { 0, CP_ADMIT_ACCEPT },
		{ 0, CP_ADMIT_ACCEPT },		 { 0, CP_ADMIT_RATELIMITED },
		{ 1, CP_ADMIT_RATELIMITED },	 { 49, CP_ADMIT_RATELIMITED },
		{ 50, CP_ADMIT_ACCEPT },	 { 50, CP_ADMIT_RATELIMITED },
		{ 100, CP_ADMIT_ACCEPT },	 { 120, CP_ADMIT_RATELIMITED },
		{ 150, CP_ADMIT_ACCEPT },	 { 10000, CP_ADMIT_ACCEPT },
		{ 10000, CP_ADMIT_ACCEPT },	 { 10000, CP_ADMIT_ACCEPT },
		{ 10000, CP_ADMIT_ACCEPT },	 { 10000, CP_ADMIT_ACCEPT },
		{ 10000, CP_ADMIT_RATELIMITED },
	};
	struct cp_src other;
	size_t i;

	CU_ASSERT_EQUAL(cost, 50 * MS);
	node_init(&a, 0xc6120001);
	node_init(&b, 0xc6120002);
	initiation(&a, &b, 1, NULL, 0, &p, &m);
	for (i = 0; i < RTE_DIM(seq); i++) {
		enum cp_admit v = admit(&b, &m, &a.src, 0, t0 + seq[i].at * MS, &reply);

		if (v != seq[i].want)
			fprintf(stderr, "step %zu at +%llu ms: %s, expected %s\n", i,
				(unsigned long long)seq[i].at, cp_admit_name(v),
				cp_admit_name(seq[i].want));
		CU_ASSERT_EQUAL(v, seq[i].want);
	}
	/* another source has its own bucket */
	other = a.src;
	other.ip++;
	CU_ASSERT_EQUAL(admit(&b, &m, &other, 0, t0 + 10000 * MS, &reply), CP_ADMIT_ACCEPT);
	/* so has each relay circuit from one relay's address (a's own bucket is empty now) */
	other = a.src;
	other.via = 0x101;
	for (i = 0; i < SL_RATELIMIT_BURST; i++)
		CU_ASSERT_EQUAL(admit(&b, &m, &other, 0, t0 + 10000 * MS, &reply), CP_ADMIT_ACCEPT);
	CU_ASSERT_EQUAL(admit(&b, &m, &other, 0, t0 + 10000 * MS, &reply), CP_ADMIT_RATELIMITED);
	other.via = 0x201;
	CU_ASSERT_EQUAL(admit(&b, &m, &other, 0, t0 + 10000 * MS, &reply), CP_ADMIT_ACCEPT);
	CU_ASSERT_EQUAL(admit(&b, &m, &a.src, 0, t0 + 10000 * MS, &reply), CP_ADMIT_RATELIMITED);
	/* answers (not initiations) are never rate-limited */
	CU_ASSERT_EQUAL(cp_admission_check(b.adm, (uint8_t *)&m, sizeof(m), false, false, 4, &a.src,
					   0, t0 + 10000 * MS, &reply),
			CP_ADMIT_ACCEPT);
	CU_ASSERT_EQUAL(cp_admission_stats(b.adm)->ratelimited, 8);
	node_fini(&a);
	node_fini(&b);
}

/* Garbage, truncated and misaddressed messages cost one MAC and get no reply at all, even
 * under load; a message for another node's key fails mac1. */
static void
test_no_reply_to_unauthenticated(void)
{
	static struct cp_hs_pending p;
	struct node a, b, c;
	struct sl_msg_ik_init m;
	struct sl_msg_cookie reply, untouched;
	uint8_t junk[sizeof(m)];

	node_init(&a, 0xc6120001);
	node_init(&b, 0xc6120002);
	node_init(&c, 0xc6120003);
	memset(&reply, 0xa5, sizeof(reply));
	untouched = reply;
	randombytes_buf(junk, sizeof(junk));
	junk[0] = SL_MSG_IK_INIT; /* the right length for its type: it gets as far as mac1 */
	CU_ASSERT_EQUAL(cp_admission_check(b.adm, junk, sizeof(junk), false, true, 4, &a.src, 1000,
					   0, &reply),
			CP_ADMIT_BAD_MAC1);
	CU_ASSERT_EQUAL(
		cp_admission_check(b.adm, junk, 40, false, true, 4, &a.src, 1000, 0, &reply),
		CP_ADMIT_BAD_LENGTH);
	initiation(&a, &c, 1, NULL, 0, &p, &m); /* meant for c */
	CU_ASSERT_EQUAL(admit(&b, &m, &a.src, 1000, 0, &reply), CP_ADMIT_BAD_MAC1);
	CU_ASSERT_EQUAL(memcmp(&reply, &untouched, sizeof(reply)), 0);
	CU_ASSERT_EQUAL(admit(&c, &m, &a.src, 0, 0, &reply), CP_ADMIT_ACCEPT);
	/* a handshake type at another length than its own, and a data type, never reach mac1 */
	CU_ASSERT_EQUAL(cp_admission_check(b.adm, junk, sizeof(junk) - 1, false, true, 4, &a.src, 0,
					   0, &reply),
			CP_ADMIT_BAD_LENGTH);
	junk[0] = SL_MSG_DATA;
	CU_ASSERT_EQUAL(cp_admission_check(b.adm, junk, sizeof(junk), false, true, 4, &a.src, 0, 0,
					   &reply),
			CP_ADMIT_BAD_LENGTH);
	CU_ASSERT_EQUAL(memcmp(&reply, &untouched, sizeof(reply)), 0);
	CU_ASSERT_EQUAL(cp_admission_stats(b.adm)->bad_mac1, 2);
	CU_ASSERT_EQUAL(cp_admission_stats(b.adm)->bad_length, 3);
	CU_ASSERT_STRING_EQUAL(cp_admit_name(CP_ADMIT_RATELIMITED), "ratelimited");
	node_fini(&a);
	node_fini(&b);
	node_fini(&c);
}

/* Every answer sluice can send to a message it has not authenticated is at most as large as
 * that message (compile-time asserts in sl_wire.h; here the bytes actually written). */
static void
test_reply_sizes(void)
{
	static struct cp_hs_pending pa, pb;
	struct node a, b;
	struct sl_msg_xx_init xi;
	struct sl_msg_xx_resp xr;
	struct sl_msg_cookie reply;

	node_init(&a, 0xc6120001);
	node_init(&b, 0xc6120002);
	CU_ASSERT_EQUAL_FATAL(cp_hs_xx_start(a.ctx, &pa, SL_SUITE_AESGCM_SHA256, 1, NULL, 0, &xi),
			      0);
	CU_ASSERT_EQUAL(cp_admission_check(b.adm, (uint8_t *)&xi, sizeof(xi), true, true, 4, &a.src,
					   1000, 0, &reply),
			CP_ADMIT_COOKIE);
	CU_ASSERT(sizeof(reply) <= sizeof(xi));
	CU_ASSERT_EQUAL(cp_hs_cookie_consume(a.ctx, &pa, &reply, sizeof(reply), 0,
					     &(struct cp_cookie){ 0 }),
			0);
	CU_ASSERT_EQUAL(cp_hs_xx_respond(b.ctx, &pb, (uint8_t *)&xi, sizeof(xi), 2, &xr), 0);
	CU_ASSERT(sizeof(xr) <= sizeof(xi));
	CU_ASSERT(sizeof(struct sl_msg_ik_resp) <= sizeof(struct sl_msg_ik_init));
	node_fini(&a);
	node_fini(&b);
}

static void
test_bad_config(void)
{
	struct cp_admission_config cfg;
	uint8_t pub[SL_KEY_LEN] = { 9 };

	cp_admission_config_defaults(&cfg);
	cfg.cookie_rotate_ns = 0;
	CU_ASSERT_PTR_NULL(cp_admission_create(pub, &cfg, 0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	cp_admission_config_defaults(&cfg);
	cfg.rate.burst = 0;
	CU_ASSERT_PTR_NULL(cp_admission_create(pub, &cfg, 0));
}

static void
test_release(void)
{
	sl_aead_thread_mgr_release();
	CU_PASS("released");
}

static CU_TestInfo cases[] = {
	{ "global budget: cookies beyond it, whatever the source", test_global_budget },
	{ "cookie round trip under load", test_cookie_round_trip },
	{ "cookie secret rotation", test_cookie_rotation },
	{ "a cookie reply authenticates only for its message", test_cookie_bound_to_message },
	{ "rate limit: exact allow/deny sequence", test_rate_limit_sequence },
	{ "no reply to unauthenticated input", test_no_reply_to_unauthenticated },
	{ "replies never larger than their cause", test_reply_sizes },
	{ "invalid configuration refused", test_bad_config },
	{ "release the thread manager", test_release },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("admission", cases)
