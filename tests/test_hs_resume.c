/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: session resumption (cp_hs_resume.h) between two nodes with their caches — resumed
 * round trips in both suites and chained, the fallback to a full IK handshake (wrong secret,
 * expired or unknown ticket, the peer's network changed), replayed initiations (the ticket is
 * used up; the timestamp rule still holds), cookies under load, admission, misuse, low-order
 * ephemerals, and every single-bit flip of every resumption message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cp_hs_resume.h"
#include "sl_dh.h"
#include "hs_nodes.h"
#include "sl_test.h"
#include "vec.h"

#define LIFE SL_RESUME_LIFETIME_NS
#define ID_A 0x01000007u
#define ID_B 0x02000009u
#define IP_A 0xc6120001u
#define IP_B 0xc6120002u

struct pair {
	struct node a, b; /* a initiates */
	struct cp_resume *ca, *cb;
};

static struct cp_hs_pending pa, pb;

static struct cp_resume *
cache_with(uint64_t lifetime_ns)
{
	struct cp_resume_config cfg = { .capacity = 16, .lifetime_ns = lifetime_ns };
	struct cp_resume *c = cp_resume_create(&cfg);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	return c;
}

static void
pair_init(struct pair *w)
{
	node_init(&w->a, IP_A);
	node_init(&w->b, IP_B);
	w->ca = cache_with(LIFE);
	w->cb = cache_with(LIFE);
}

static void
pair_fini(struct pair *w)
{
	cp_resume_destroy(w->ca);
	cp_resume_destroy(w->cb);
	node_fini(&w->a);
	node_fini(&w->b);
	cp_hs_pending_wipe(&pa);
	cp_hs_pending_wipe(&pb);
}

/* A full IK handshake a -> b at now; both sides store the resumption it leaves. */
static void
full_ik(struct pair *w, uint8_t suite, uint64_t now, struct cp_hs_session *sa,
	struct cp_hs_session *sb)
{
	struct sl_msg_ik_init init;
	struct sl_msg_ik_resp resp;

	CU_ASSERT_EQUAL_FATAL(
		cp_hs_ik_start(w->a.ctx, &pa, w->b.pub, suite, ID_A, 0, now, NULL, now, &init), 0);
	CU_ASSERT_EQUAL_FATAL(
		recv_ik_init(&w->b, &w->a, &init, sizeof(init), &pb, ID_B, now, &resp, sb), 0);
	CU_ASSERT_EQUAL_FATAL(cp_hs_ik_finish(w->a.ctx, &pa, (uint8_t *)&resp, sizeof(resp), sa),
			      0);
	CU_ASSERT(!sa->resumed && !sb->resumed);
	CU_ASSERT_EQUAL(memcmp(&sa->resume, &sb->resume, sizeof(sa->resume)), 0);
	CU_ASSERT_EQUAL(sa->resume.not_after_ns, 0);
	CU_ASSERT_EQUAL(cp_resume_put(w->ca, w->b.pub, &sa->resume, now), 0);
	CU_ASSERT_EQUAL(cp_resume_put(w->cb, w->a.pub, &sb->resume, now), 0);
}

enum stage { ST_START, ST_ADMIT, ST_RESPOND, ST_FINISH, ST_DONE };

/* a resumes with b at now: start, admission at b, respond, finish. Where it stopped. */
static enum stage
resume(struct pair *w, uint8_t suite, uint64_t now, struct sl_msg_resume_init *init,
       struct cp_hs_session *sa, struct cp_hs_session *sb)
{
	struct sl_msg_resume_resp resp;
	struct sl_msg_cookie reply;

	if (cp_hs_resume_start(w->a.ctx, w->ca, &pa, w->b.pub, suite, ID_A, 0, now, NULL, now,
			       init) != 0)
		return ST_START;
	if (cp_admission_check(w->b.adm, (uint8_t *)init, sizeof(*init), false, true, 4, &w->a.src,
			       0, now, &reply) != CP_ADMIT_ACCEPT)
		return ST_ADMIT;
	if (cp_hs_resume_respond(w->b.ctx, w->cb, &pb, (uint8_t *)init, sizeof(*init), ID_B, now,
				 &resp, sb) != 0)
		return ST_RESPOND;
	if (cp_hs_resume_finish(w->a.ctx, &pa, (uint8_t *)&resp, sizeof(resp), sa) != 0)
		return ST_FINISH;
	return ST_DONE;
}

/* b refused a's resumption: b rejects, a takes the reject and runs a full IK that works. */
static void
fall_back(struct pair *w, const struct sl_msg_resume_init *init, uint8_t suite, uint64_t now)
{
	struct sl_msg_resume_reject rej;
	struct cp_hs_session sa, sb;

	CU_ASSERT_EQUAL(cp_hs_resume_reject((const uint8_t *)init, sizeof(*init), &rej), 0);
	CU_ASSERT(sizeof(rej) < sizeof(*init)); /* no amplification */
	CU_ASSERT_EQUAL(cp_hs_resume_rejected(&pa, (uint8_t *)&rej, sizeof(rej)), 0);
	CU_ASSERT_EQUAL(pa.reason, CP_HS_RESUME_REFUSED);
	CU_ASSERT(sodium_is_zero(pa.noise.psk, sizeof(pa.noise.psk)));
	full_ik(w, suite, now, &sa, &sb);
	cp_hs_session_wipe(&sa);
	cp_hs_session_wipe(&sb);
}

static void
assert_resumed_pair(const struct cp_hs_session *sa, const struct cp_hs_session *sb,
		    const struct pair *w, uint8_t suite)
{
	CU_ASSERT_EQUAL(memcmp(sa->send_key, sb->recv_key, SL_KEY_LEN), 0);
	CU_ASSERT_EQUAL(memcmp(sa->recv_key, sb->send_key, SL_KEY_LEN), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(sa->send_key, sa->recv_key, SL_KEY_LEN), 0);
	CU_ASSERT(sa->local_id == ID_A && sa->remote_id == ID_B);
	CU_ASSERT(sb->local_id == ID_B && sb->remote_id == ID_A);
	CU_ASSERT(sa->initiator && !sb->initiator && sa->resumed && sb->resumed);
	CU_ASSERT(sa->suite == suite && sb->suite == suite);
	CU_ASSERT_EQUAL(memcmp(sa->peer.pub, w->b.pub, SL_KEY_LEN), 0);
	CU_ASSERT_EQUAL(memcmp(sb->peer.pub, w->a.pub, SL_KEY_LEN), 0);
	CU_ASSERT(sb->peer.network_id == NET && sb->peer.n_addrs == 2);
	CU_ASSERT_EQUAL(sb->peer.addrs[0].ip, IP_A);
	CU_ASSERT_EQUAL(sa->peer.addrs[0].ip, IP_B);
	CU_ASSERT_EQUAL(memcmp(&sa->resume, &sb->resume, sizeof(sa->resume)), 0);
}

/* --- round trips ---------------------------------------------------------------------------- */

static void
test_round_trip(void)
{
	for (size_t i = 0; i < N_SUITES; i++) {
		struct cp_hs_session s0a, s0b, sa, sb, s2a, s2b;
		struct sl_msg_resume_init init;
		struct pair w;

		pair_init(&w);
		full_ik(&w, suites[i], 1 * SEC, &s0a, &s0b);
		CU_ASSERT_EQUAL_FATAL(resume(&w, suites[i], 2 * SEC, &init, &sa, &sb), ST_DONE);
		assert_resumed_pair(&sa, &sb, &w, suites[i]);
		CU_ASSERT_EQUAL(sb.peer.timestamp, 2 * SEC);
		/* new keys, a new secret and ticket, the old expiry */
		CU_ASSERT_NOT_EQUAL(memcmp(sa.send_key, s0a.send_key, SL_KEY_LEN), 0);
		CU_ASSERT_NOT_EQUAL(memcmp(sa.resume.secret, s0a.resume.secret, SL_KEY_LEN), 0);
		CU_ASSERT_NOT_EQUAL(memcmp(sa.resume.ticket, s0a.resume.ticket, 16), 0);
		CU_ASSERT_EQUAL(memcmp(init.ticket, s0a.resume.ticket, 16), 0);
		CU_ASSERT_EQUAL(sa.resume.not_after_ns, 1 * SEC + LIFE);
		/* the ticket is used up at both ends; nothing secret is left in the pendings */
		CU_ASSERT(cp_resume_count(w.ca) == 0 && cp_resume_count(w.cb) == 0);
		CU_ASSERT(sodium_is_zero(pa.noise.psk, sizeof(pa.noise.psk)));
		CU_ASSERT(sodium_is_zero(pb.noise.ck, sizeof(pb.noise.ck)));
		CU_ASSERT(sodium_is_zero(pb.noise.e_priv, sizeof(pb.noise.e_priv)));

		/* chained: the resumed session's secret resumes the next one, same expiry */
		CU_ASSERT_EQUAL(cp_resume_put(w.ca, w.b.pub, &sa.resume, 2 * SEC), 0);
		CU_ASSERT_EQUAL(cp_resume_put(w.cb, w.a.pub, &sb.resume, 2 * SEC), 0);
		CU_ASSERT_EQUAL(resume(&w, suites[i], 3 * SEC, &init, &s2a, &s2b), ST_DONE);
		assert_resumed_pair(&s2a, &s2b, &w, suites[i]);
		CU_ASSERT_EQUAL(s2b.resume.not_after_ns, 1 * SEC + LIFE);

		/* ... but not past the full handshake's lifetime: then a full one again */
		CU_ASSERT_EQUAL(cp_resume_put(w.ca, w.b.pub, &s2a.resume, 3 * SEC), 0);
		CU_ASSERT_EQUAL(cp_resume_put(w.cb, w.a.pub, &s2b.resume, 3 * SEC), 0);
		CU_ASSERT_EQUAL(resume(&w, suites[i], 1 * SEC + LIFE, &init, &sa, &sb), ST_START);
		CU_ASSERT_EQUAL(pa.reason, CP_HS_TICKET_EXPIRED);
		full_ik(&w, suites[i], 2 * SEC + LIFE, &sa, &sb);
		cp_hs_session_wipe(&s0a);
		cp_hs_session_wipe(&s0b);
		cp_hs_session_wipe(&s2a);
		cp_hs_session_wipe(&s2b);
		pair_fini(&w);
	}
}

/* XX sessions leave a resumption too (an XX-dialled seed is resumed without its key known
 * beforehand: the ticket names it). */
static void
test_after_xx(void)
{
	struct cp_hs_session sa, sb, ra, rb;
	struct sl_msg_resume_init init;
	struct pair w;
	int stage;

	pair_init(&w);
	CU_ASSERT_EQUAL_FATAL(run_xx(&w.a, &w.b, SL_SUITE_CHACHAPOLY_BLAKE2B, &sa, &sb, &stage), 0);
	CU_ASSERT_EQUAL(memcmp(&sa.resume, &sb.resume, sizeof(sa.resume)), 0);
	CU_ASSERT_EQUAL(cp_resume_put(w.ca, sa.peer.pub, &sa.resume, 8 * SEC), 0);
	CU_ASSERT_EQUAL(cp_resume_put(w.cb, sb.peer.pub, &sb.resume, 8 * SEC), 0);
	CU_ASSERT_EQUAL(resume(&w, SL_SUITE_AESGCM_SHA256, 9 * SEC, &init, &ra, &rb), ST_DONE);
	assert_resumed_pair(&ra, &rb, &w, SL_SUITE_AESGCM_SHA256);
	pair_fini(&w);
}

/* --- fallback ------------------------------------------------------------------------------- */

/* a's secret is not b's: b refuses (decrypt_failed) and keeps its ticket; IK follows. */
static void
test_wrong_secret(void)
{
	struct cp_hs_session s0a, s0b, sa, sb;
	struct sl_msg_resume_init init;
	struct cp_hs_resumption bad;
	struct pair w;

	pair_init(&w);
	full_ik(&w, SL_SUITE_AESGCM_SHA256, 1 * SEC, &s0a, &s0b);
	bad = s0a.resume;
	bad.secret[7] ^= 0x20;
	CU_ASSERT_EQUAL(cp_resume_put(w.ca, w.b.pub, &bad, 1 * SEC), 0);
	CU_ASSERT_EQUAL(resume(&w, SL_SUITE_AESGCM_SHA256, 2 * SEC, &init, &sa, &sb), ST_RESPOND);
	CU_ASSERT_EQUAL(pb.reason, CP_HS_DECRYPT);
	CU_ASSERT_EQUAL(cp_resume_count(w.cb), 1); /* nobody who lacks the secret can burn it */
	CU_ASSERT_EQUAL(cp_resume_count(w.ca), 0); /* the initiator tries a secret once */
	fall_back(&w, &init, SL_SUITE_AESGCM_SHA256, 3 * SEC);
	/* the full handshake replaced both entries: resumption works again */
	CU_ASSERT_EQUAL(resume(&w, SL_SUITE_AESGCM_SHA256, 4 * SEC, &init, &sa, &sb), ST_DONE);
	sodium_memzero(&bad, sizeof(bad));
	pair_fini(&w);
}

static void
test_expired_or_unknown(void)
{
	struct cp_hs_session s0a, s0b, sa, sb;
	struct sl_msg_resume_init init;
	struct pair w;

	/* the responder's copy expired, the initiator's (longer lifetime) not */
	pair_init(&w);
	cp_resume_destroy(w.ca);
	w.ca = cache_with(2 * LIFE);
	full_ik(&w, SL_SUITE_AESGCM_SHA256, 1 * SEC, &s0a, &s0b);
	CU_ASSERT_EQUAL(resume(&w, SL_SUITE_AESGCM_SHA256, 1 * SEC + LIFE, &init, &sa, &sb),
			ST_RESPOND);
	CU_ASSERT_EQUAL(pb.reason, CP_HS_TICKET_EXPIRED);
	CU_ASSERT_STRING_EQUAL(cp_hs_reason_name(pb.reason), "ticket_expired");
	fall_back(&w, &init, SL_SUITE_AESGCM_SHA256, 2 * SEC + LIFE);

	/* the responder restarted: its cache is empty */
	cp_resume_destroy(w.cb);
	w.cb = cache_with(LIFE);
	CU_ASSERT_EQUAL(resume(&w, SL_SUITE_AESGCM_SHA256, 3 * SEC + LIFE, &init, &sa, &sb),
			ST_RESPOND);
	CU_ASSERT_EQUAL(pb.reason, CP_HS_NO_TICKET);
	fall_back(&w, &init, SL_SUITE_AESGCM_SHA256, 4 * SEC + LIFE);

	/* the initiator has nothing for the node: it does not even start */
	cp_resume_forget(w.ca, w.b.pub);
	CU_ASSERT_EQUAL(cp_hs_resume_start(w.a.ctx, w.ca, &pa, w.b.pub, SL_SUITE_AESGCM_SHA256,
					   ID_A, 0, 5 * SEC + LIFE, NULL, 5 * SEC + LIFE, &init),
			-ENOENT);
	CU_ASSERT_EQUAL(pa.reason, CP_HS_NO_TICKET);
	pair_fini(&w);
}

/* b's network changed since the session: refused (the ticket is used up), the full
 * handshake then reports why. */
static void
node_with_key(struct node *n, const uint8_t priv[SL_KEY_LEN], uint64_t network, uint32_t ip)
{
	struct cp_hs_config cfg = { .network_id = network,
				    .version = SL_PROTO_VERSION,
				    .min_version = SL_PROTO_MIN_VERSION,
				    .n_addrs = 1,
				    .addrs = { { ip, 4789 } },
				    .chan_used = 0x00ff }; /* as node_init()'s (hs_nodes.c) */
	struct cp_admission_config acfg;

	memcpy(cfg.static_priv, priv, SL_KEY_LEN);
	n->ctx = cp_hs_ctx_create(&cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n->ctx);
	memcpy(n->pub, cp_hs_ctx_pubkey(n->ctx), SL_KEY_LEN);
	cp_admission_config_defaults(&acfg);
	n->adm = cp_admission_create(n->pub, &acfg, 0);
	n->src.ip = ip;
	n->src.port = 4789;
	sodium_memzero(&cfg, sizeof(cfg));
}

static void
test_network_changed(void)
{
	struct cp_hs_session s0a, s0b, sa, sb;
	struct sl_msg_resume_init init;
	uint8_t priv[SL_KEY_LEN], pub[SL_KEY_LEN];
	struct pair w;

	pair_init(&w);
	node_fini(&w.b);
	sl_dh_keygen(priv, pub);
	node_with_key(&w.b, priv, NET, IP_B);
	full_ik(&w, SL_SUITE_AESGCM_SHA256, 1 * SEC, &s0a, &s0b);
	node_fini(&w.b); /* b restarts in another network, same identity, cache kept */
	node_with_key(&w.b, priv, NET + 1, IP_B);
	CU_ASSERT_EQUAL(resume(&w, SL_SUITE_AESGCM_SHA256, 2 * SEC, &init, &sa, &sb), ST_RESPOND);
	CU_ASSERT_EQUAL(pb.reason, CP_HS_NETWORK);
	CU_ASSERT_EQUAL(cp_resume_count(w.cb), 0);
	sodium_memzero(priv, sizeof(priv));
	pair_fini(&w);
}

/* --- replay --------------------------------------------------------------------------------- */

static int
deliver_init(struct pair *w, const struct sl_msg_resume_init *init, uint64_t now,
	     struct cp_hs_session *sb)
{
	struct sl_msg_resume_resp resp;
	struct sl_msg_cookie reply;

	if (cp_admission_check(w->b.adm, (const uint8_t *)init, sizeof(*init), false, true, 4,
			       &w->a.src, 0, now, &reply) != CP_ADMIT_ACCEPT)
		return -EACCES;
	return cp_hs_resume_respond(w->b.ctx, w->cb, &pb, (const uint8_t *)init, sizeof(*init),
				    ID_B, now, &resp, sb);
}

static void
test_replay(void)
{
	struct cp_hs_session s0a, s0b, sa, sb;
	struct sl_msg_resume_init init, lost;
	struct pair w;

	pair_init(&w);
	full_ik(&w, SL_SUITE_CHACHAPOLY_BLAKE2B, 1 * SEC, &s0a, &s0b);
	CU_ASSERT_EQUAL_FATAL(resume(&w, SL_SUITE_CHACHAPOLY_BLAKE2B, 2 * SEC, &init, &sa, &sb),
			      ST_DONE);
	/* the same initiation again: its ticket is used up */
	CU_ASSERT_EQUAL(deliver_init(&w, &init, 3 * SEC, &sb), -ENOENT);
	CU_ASSERT_EQUAL(pb.reason, CP_HS_NO_TICKET);
	/* were the ticket still there, the timestamp rule would refuse it all the same */
	CU_ASSERT_EQUAL(cp_resume_put(w.cb, w.a.pub, &s0b.resume, 3 * SEC), 0);
	CU_ASSERT_EQUAL(deliver_init(&w, &init, 4 * SEC, &sb), -EALREADY);
	CU_ASSERT_EQUAL(pb.reason, CP_HS_REPLAY);
	CU_ASSERT_EQUAL(cp_resume_count(w.cb), 0); /* it authenticated: the ticket is gone */

	/* an initiation delayed past the full handshake that replaced it finds no ticket */
	full_ik(&w, SL_SUITE_CHACHAPOLY_BLAKE2B, 5 * SEC, &s0a, &s0b);
	CU_ASSERT_EQUAL(cp_hs_resume_start(w.a.ctx, w.ca, &pa, w.b.pub, SL_SUITE_CHACHAPOLY_BLAKE2B,
					   ID_A, 0, 6 * SEC, NULL, 6 * SEC, &lost),
			0);
	full_ik(&w, SL_SUITE_CHACHAPOLY_BLAKE2B, 7 * SEC, &s0a, &s0b);
	CU_ASSERT_EQUAL(deliver_init(&w, &lost, 8 * SEC, &sb), -ENOENT);
	CU_ASSERT_EQUAL(pb.reason, CP_HS_NO_TICKET);
	pair_fini(&w);
}

/* Under load the responder answers with a cookie; the initiator sends the same initiation
 * again with mac2 (its secret was taken once) and the resumption completes. */
static void
test_cookie_under_load(void)
{
	struct cp_hs_session s0a, s0b, sa, sb;
	struct sl_msg_resume_init init;
	struct sl_msg_resume_resp resp;
	struct sl_msg_cookie reply;
	struct cp_cookie cookie = { 0 };
	struct pair w;

	pair_init(&w);
	full_ik(&w, SL_SUITE_AESGCM_SHA256, 1 * SEC, &s0a, &s0b);
	CU_ASSERT_EQUAL_FATAL(cp_hs_resume_start(w.a.ctx, w.ca, &pa, w.b.pub,
						 SL_SUITE_AESGCM_SHA256, ID_A, 0, 2 * SEC, NULL,
						 2 * SEC, &init),
			      0);
	CU_ASSERT_EQUAL(cp_admission_check(w.b.adm, (uint8_t *)&init, sizeof(init), false, true, 4,
					   &w.a.src, UINT32_MAX, 2 * SEC, &reply),
			CP_ADMIT_COOKIE);
	CU_ASSERT_EQUAL(cp_hs_cookie_consume(w.a.ctx, &pa, &reply, sizeof(reply), 2 * SEC, &cookie),
			0);
	CU_ASSERT_EQUAL(cp_hs_resume_resign(w.a.ctx, &pa, &cookie, 2 * SEC, &init), 0);
	CU_ASSERT_EQUAL(cp_admission_check(w.b.adm, (uint8_t *)&init, sizeof(init), false, true, 4,
					   &w.a.src, UINT32_MAX, 2 * SEC, &reply),
			CP_ADMIT_ACCEPT);
	CU_ASSERT_EQUAL(cp_hs_resume_respond(w.b.ctx, w.cb, &pb, (uint8_t *)&init, sizeof(init),
					     ID_B, 2 * SEC, &resp, &sb),
			0);
	CU_ASSERT_EQUAL(cp_hs_resume_finish(w.a.ctx, &pa, (uint8_t *)&resp, sizeof(resp), &sa), 0);
	assert_resumed_pair(&sa, &sb, &w, SL_SUITE_AESGCM_SHA256);
	pair_fini(&w);
}

/* Exact sizes only; mac1 is keyed by the responder's static key like IK's. */
static void
test_admission(void)
{
	struct cp_hs_session s0a, s0b;
	struct sl_msg_resume_init init;
	struct sl_msg_cookie reply;
	struct node c;
	struct pair w;

	pair_init(&w);
	node_init(&c, 0xc6120003);
	full_ik(&w, SL_SUITE_AESGCM_SHA256, 1 * SEC, &s0a, &s0b);
	CU_ASSERT_EQUAL_FATAL(cp_hs_resume_start(w.a.ctx, w.ca, &pa, w.b.pub,
						 SL_SUITE_AESGCM_SHA256, ID_A, 0, 2 * SEC, NULL,
						 2 * SEC, &init),
			      0);
	CU_ASSERT_EQUAL(cp_admission_check(w.b.adm, (uint8_t *)&init, sizeof(init) - 1, false, true,
					   4, &w.a.src, 0, 2 * SEC, &reply),
			CP_ADMIT_BAD_LENGTH);
	CU_ASSERT_EQUAL(cp_admission_check(c.adm, (uint8_t *)&init, sizeof(init), false, true, 4,
					   &w.a.src, 0, 2 * SEC, &reply),
			CP_ADMIT_BAD_MAC1);
	CU_ASSERT_EQUAL(cp_admission_check(w.b.adm, (uint8_t *)&init, sizeof(init), false, true, 4,
					   &w.a.src, 0, 2 * SEC, &reply),
			CP_ADMIT_ACCEPT);
	node_fini(&c);
	pair_fini(&w);
}

static void
test_misuse(void)
{
	struct cp_hs_session s0a, s0b, s;
	struct sl_msg_resume_init init;
	struct sl_msg_resume_resp resp;
	struct sl_msg_resume_reject rej;
	struct sl_msg_ik_init ik;
	struct pair w;

	pair_init(&w);
	full_ik(&w, SL_SUITE_AESGCM_SHA256, 1 * SEC, &s0a, &s0b);
	/* not our own identity; not an unknown suite — and the secret stays for later */
	CU_ASSERT_EQUAL(cp_hs_resume_start(w.a.ctx, w.ca, &pa, w.a.pub, SL_SUITE_AESGCM_SHA256, 1,
					   0, 2 * SEC, NULL, 2 * SEC, &init),
			-EINVAL);
	CU_ASSERT_EQUAL(pa.reason, CP_HS_SELF);
	CU_ASSERT_EQUAL(cp_hs_resume_start(w.a.ctx, w.ca, &pa, w.b.pub, 9, 1, 0, 2 * SEC, NULL,
					   2 * SEC, &init),
			-EINVAL);
	CU_ASSERT_EQUAL(cp_resume_count(w.ca), 1);
	/* out of turn */
	cp_hs_pending_wipe(&pa);
	CU_ASSERT_EQUAL(cp_hs_resume_finish(w.a.ctx, &pa, (uint8_t *)&resp, sizeof(resp), &s),
			-EINVAL);
	CU_ASSERT_EQUAL(cp_hs_resume_answer(w.b.ctx, &pb, ID_B, 0, &resp, &s), -EINVAL);
	CU_ASSERT_EQUAL(cp_hs_ik_start(w.a.ctx, &pa, w.b.pub, SL_SUITE_AESGCM_SHA256, 1, 0, 2 * SEC,
				       NULL, 2 * SEC, &ik),
			0);
	CU_ASSERT_EQUAL(cp_hs_resume_resign(w.a.ctx, &pa, NULL, 2 * SEC, &init), -EINVAL);
	CU_ASSERT_EQUAL(cp_hs_resume_rejected(&pa, (uint8_t *)&rej, sizeof(rej)), -EBADMSG);
	CU_ASSERT_EQUAL(cp_hs_resume_reject((uint8_t *)&ik, sizeof(init), &rej), -EINVAL);
	/* an IK answer is no answer to a resumption, nor the other way round */
	CU_ASSERT_EQUAL(cp_hs_resume_start(w.a.ctx, w.ca, &pa, w.b.pub, SL_SUITE_AESGCM_SHA256, 1,
					   0, 3 * SEC, NULL, 3 * SEC, &init),
			0);
	CU_ASSERT_EQUAL(cp_hs_ik_finish(w.a.ctx, &pa, (uint8_t *)&resp, sizeof(resp), &s), -EINVAL);
	pair_fini(&w);
}

/* A responder's ephemeral of low order (Wycheproof's zero-shared-secret points) aborts the
 * initiator's "ee", even with every MAC made right. */
static void
test_low_order_answer(void)
{
	json_t *root = vec_load("wycheproof/x25519_test.json"), *g, *t;
	static struct cp_hs_pending keep;
	struct cp_hs_session s0a, s0b, s;
	struct sl_msg_resume_init init;
	struct sl_msg_resume_resp resp, forged;
	unsigned int tried = 0, refused = 0;
	uint8_t key_a[SL_KEY_LEN];
	size_t gi, ti;
	struct pair w;

	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	pair_init(&w);
	full_ik(&w, SL_SUITE_AESGCM_SHA256, 1 * SEC, &s0a, &s0b);
	CU_ASSERT_EQUAL_FATAL(cp_hs_resume_start(w.a.ctx, w.ca, &keep, w.b.pub,
						 SL_SUITE_AESGCM_SHA256, ID_A, 0, 2 * SEC, NULL,
						 2 * SEC, &init),
			      0);
	CU_ASSERT_EQUAL_FATAL(
		cp_hs_resume_read(w.b.ctx, w.cb, &pb, (uint8_t *)&init, sizeof(init), 2 * SEC), 0);
	CU_ASSERT_EQUAL_FATAL(cp_hs_resume_answer(w.b.ctx, &pb, ID_B, 0, &resp, &s), 0);
	cp_mac1_key_peer(key_a, w.a.pub);
	json_array_foreach (json_object_get(root, "testGroups"), gi, g) {
		json_array_foreach (json_object_get(g, "tests"), ti, t) {
			size_t len = 0;
			uint8_t *pub = vec_hex(t, "public", &len);

			if (vec_has_flag(t, "ZeroSharedSecret") && pub != NULL &&
			    len == SL_KEY_LEN) {
				forged = resp;
				memcpy(forged.ephemeral, pub, SL_KEY_LEN);
				cp_macs_write((uint8_t *)&forged, sizeof(forged), key_a, NULL, 0,
					      0);
				pa = keep;
				tried++;
				refused +=
					cp_hs_resume_finish(w.a.ctx, &pa, (uint8_t *)&forged,
							    sizeof(forged), &s) == -EKEYREJECTED &&
					pa.reason == CP_HS_LOW_ORDER;
			}
			free(pub);
		}
	}
	printf("\n  %u of %u low-order answers refused\n", refused, tried);
	CU_ASSERT(tried >= 10);
	CU_ASSERT_EQUAL(refused, tried);
	pa = keep; /* the real answer still completes */
	CU_ASSERT_EQUAL(cp_hs_resume_finish(w.a.ctx, &pa, (uint8_t *)&resp, sizeof(resp), &s), 0);
	json_decref(root);
	cp_hs_pending_wipe(&keep);
	pair_fini(&w);
}

/* --- every single-bit flip ------------------------------------------------------------------
 * Each message is produced once; every flipped copy is delivered to its receiver from the same
 * state (a copy of the pending handshake; the responder's cache and timestamps are changed only
 * by an initiation that authenticates, which no flipped one may). The untouched message goes
 * last and must succeed: the state was good for all of them. With remac, mac1 is recomputed
 * over the flipped bytes and admission skipped: the handshake itself must refuse. */

enum kind { K_INIT, K_RESP, K_REJECT, N_KINDS };

struct flips {
	struct pair w;
	struct cp_hs_pending keep_a; /* the initiator after it sent its initiation */
	uint8_t msg[sizeof(struct sl_msg_resume_init)];
	size_t len;
	uint8_t mac1_key[SL_KEY_LEN];
	unsigned int trials, refused;
};

/* Deliver m to its receiver; 0 if it was accepted. */
static int
deliver(struct flips *f, enum kind k, const uint8_t *m, bool admission)
{
	struct sl_msg_resume_resp resp;
	struct sl_msg_cookie reply;
	struct cp_hs_session s;

	pa = f->keep_a;
	switch (k) {
	case K_INIT:
		if (admission &&
		    cp_admission_check(f->w.b.adm, m, f->len, false, true, 4, &f->w.a.src, 0,
				       2 * SEC, &reply) != CP_ADMIT_ACCEPT)
			return -EACCES;
		return cp_hs_resume_respond(f->w.b.ctx, f->w.cb, &pb, m, f->len, ID_B, 2 * SEC,
					    &resp, &s);
	case K_RESP:
		return cp_hs_resume_finish(f->w.a.ctx, &pa, m, f->len, &s);
	default:
		return cp_hs_resume_rejected(&pa, m, f->len);
	}
}

static void
produce(struct flips *f, enum kind k, uint8_t suite)
{
	struct cp_hs_session s0a, s0b, s;
	struct sl_msg_resume_init init;
	struct sl_msg_resume_resp resp;
	struct sl_msg_resume_reject rej;

	full_ik(&f->w, suite, 1 * SEC, &s0a, &s0b);
	CU_ASSERT_EQUAL_FATAL(cp_hs_resume_start(f->w.a.ctx, f->w.ca, &f->keep_a, f->w.b.pub, suite,
						 ID_A, 0, 2 * SEC, NULL, 2 * SEC, &init),
			      0);
	f->len = sizeof(init);
	memcpy(f->msg, &init, sizeof(init));
	cp_mac1_key_peer(f->mac1_key, f->w.b.pub);
	if (k == K_REJECT) {
		CU_ASSERT_EQUAL(cp_hs_resume_reject((uint8_t *)&init, sizeof(init), &rej), 0);
		f->len = sizeof(rej);
		memcpy(f->msg, &rej, sizeof(rej));
	} else if (k == K_RESP) {
		CU_ASSERT_EQUAL_FATAL(cp_hs_resume_respond(f->w.b.ctx, f->w.cb, &pb,
							   (uint8_t *)&init, sizeof(init), ID_B,
							   2 * SEC, &resp, &s),
				      0);
		f->len = sizeof(resp);
		memcpy(f->msg, &resp, sizeof(resp));
		cp_mac1_key_peer(f->mac1_key, f->w.a.pub);
	}
}

static void
flip_kind(struct flips *f, enum kind k, uint8_t suite, bool remac)
{
	static const char *const names[] = { "resume_init", "resume_resp", "resume_reject" };
	uint8_t m[sizeof(f->msg)];
	size_t limit;

	pair_init(&f->w);
	produce(f, k, suite);
	limit = remac ? f->len - sizeof(struct sl_msg_macs) : f->len;
	for (size_t bit = 0; bit < limit * 8; bit++) {
		memcpy(m, f->msg, f->len);
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (remac)
			cp_macs_write(m, f->len, f->mac1_key, NULL, 0, 0);
		f->trials++;
		if (deliver(f, k, m, !remac) != 0)
			f->refused++;
		else
			fprintf(stderr, "%s suite %u%s: bit %zu accepted\n", names[k], suite,
				remac ? " re-MACed" : "", bit);
	}
	CU_ASSERT_EQUAL(deliver(f, k, f->msg, true), 0);
	cp_hs_pending_wipe(&f->keep_a);
	pair_fini(&f->w);
}

static void
test_flips(void)
{
	static struct flips f;
	unsigned int want = 0;
	static const size_t lens[N_KINDS] = { sizeof(struct sl_msg_resume_init),
					      sizeof(struct sl_msg_resume_resp),
					      sizeof(struct sl_msg_resume_reject) };

	for (int k = 0; k < N_KINDS; k++)
		for (size_t s = 0; s < N_SUITES; s++)
			for (int remac = 0; remac < (k == K_REJECT ? 1 : 2); remac++) {
				flip_kind(&f, (enum kind)k, suites[s], remac);
				want += 8 *
					(unsigned int)(lens[k] -
						       (remac ? sizeof(struct sl_msg_macs) : 0));
			}
	printf("\n  %u of %u altered resumption messages refused\n", f.refused, f.trials);
	CU_ASSERT_EQUAL(f.trials, want);
	CU_ASSERT_EQUAL(f.refused, f.trials);
}

static void
test_release(void)
{
	sl_aead_thread_mgr_release();
	CU_PASS("released");
}

static CU_TestInfo cases[] = {
	{ "resumed round trips, both suites, chained, bounded by the full handshake",
	  test_round_trip },
	{ "an XX session resumes too", test_after_xx },
	{ "wrong secret: refused, ticket kept, full handshake", test_wrong_secret },
	{ "expired or unknown ticket: refused, full handshake", test_expired_or_unknown },
	{ "the responder's network changed: refused", test_network_changed },
	{ "replayed and delayed initiations refused", test_replay },
	{ "cookie under load, then the same initiation with mac2", test_cookie_under_load },
	{ "admission: exact size, mac1 keyed by the responder", test_admission },
	{ "misuse: out of turn, own identity, unknown suite", test_misuse },
	{ "low-order ephemeral in the answer", test_low_order_answer },
	{ "every single-bit flip of every resumption message", test_flips },
	{ "release the thread manager", test_release },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("handshake resumption", cases)
