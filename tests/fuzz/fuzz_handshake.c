/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: libFuzzer target — UDP handshake payloads into the control plane of a responder,
 * cp_ctl_handshake().
 *
 * The appliance under test is nodes[1] of the test world (tests/ctl_world.h): a cp_ctl with two
 * configured peers, at most 4 sessions (handshakes included) and 4 XX answers waiting, a 2 s
 * handshake timeout, in virtual time, over the world's model of the dataplane. The harness plays
 * everyone else, with the real private keys of their identities: four actors — a configured peer
 * whose key is below the appliance's (its initiation wins a collision of dials), one whose key
 * is above, a stranger, and the second peer again as configured for another network — each from
 * its own address or a spoofed one. The input is a sequence of records:
 *     u8 op, u8 arg, u8 len, then len bytes            (at most MAX_RECORDS, 64)
 * op >> 4: first the world runs (op >> 4) x 100 ms + 1 ms (timers, the appliance's own dials,
 * dataplane events); op & 0x08: the appliance is under load for this message (a backlog of
 * SL_UNDER_LOAD_PENDING, so it answers with cookies); op & 0x07 says what comes:
 *   0 RAW        the len bytes are the message
 *   1 IK_INIT    the actor's new IK initiation (arg & 0x10: SL_HS_F_REKEY)
 *   2 XX_INIT    the actor's new XX initiation
 *   3 XX_FINISH  the actor finishes its XX handshake with the appliance's latest answer to it
 *   4 IK_RESP    the actor answers the appliance's latest initiation to it (a dial or a rekey;
 *                arg & 0x10: with SL_HS_F_REKEY); a resumption initiation is answered from the
 *                actor's resumption cache (arg & 0x10: rejected instead)
 *   5 COOKIE     the actor, "under load", answers that initiation with a cookie reply
 *   6 EVENT      the dataplane speaks of an open session slot: arg & 1 lcore, arg >> 1 & 7
 *                slot, arg >> 4 & 3: rekey due, unresponsive, closed, closed by the peer
 *   7 REPLAY     the actor's last message again; arg & 0x10: instead, the actor's resumption
 *                initiation of its last session with the appliance (docs/protocol.md 3.7)
 * For 1-5 and 7 the len bytes are mutations of the message made: pairs (offset, xor) and, when
 * len is odd, a last byte that cuts (byte % 16) bytes off its end. Then mac1 — and mac2, zero
 * or with the actor's cookie when arg & 0x20 — are written again with the key a sender who
 * knows the appliance would use (cp_macs_write): the appliance's key for IK initiations and
 * answers and XX finishing messages, the anonymous one for XX initiations (cookie replies carry
 * none); a raw message keeps its own mac2 unless arg & 0x20. So inputs get past admission into
 * Noise. arg & 0x80: no MACs written at all. arg & 0x03: the actor; arg >> 2 & 3: from its own
 * address (0) or from 198.19.0.x (x = 1..3); arg & 0x40: the ChaCha20-Poly1305/BLAKE2b suite for
 * initiations. The appliance's answers to an actor's address reach the actors there: each keeps
 * the latest initiation and XX answer, takes cookie replies for its handshake in progress, and
 * completes its own IK initiation or resumption with the appliance's answer: every session an
 * actor completes (as initiator or responder) leaves its secret in the actor's resumption
 * cache, as the appliance's leave theirs in its own (resumption is on: the default).
 *
 * Built only with -Dfuzz=true under clang (make fuzz). Randomness is a SplitMix64 stream
 * restarted for every input, so an input replays exactly (same keys, ephemerals, cookies).
 * Invariants, abort() on violation: no crash, leak or sanitizer report; the world's model of
 * the dataplane never sees an impossible command (its CUnit assertions); after every record
 * no slot was released twice, sessions_opened - sessions_closed is the number of sessions the
 * dataplane holds, and every taken slot is such a session or a handshake in progress
 * (cp_ctl_sessions() == open sessions + handshakes_pending); once the input is done and the
 * world ran past the handshake timeout, the only handshakes left are the appliance's own dials
 * — no slot is held by a refused, abandoned or unfinished handshake; and once it closed every
 * session (cp_ctl_close_all) and the dataplane answered, no slot is taken.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cp_ctl.h"
#include "cp_hs_resume.h"
#include "cp_resume.h"
#include "ctl_world.h"
#include "fuzz.h"
#include "sl_eal_test.h"
#include "sl_test.h"

enum { RAW, IK_INIT, XX_INIT, XX_FINISH, IK_RESP, COOKIE, EVENT, REPLAY };

#define APP	      1 /* the appliance: nodes[APP] */
#define ACTORS	      4
#define A_REKEY	      0x10
#define A_COOKIE      0x20
#define A_CHACHA      0x40
#define A_NO_MACS     0x80
#define SPOOFED_IP(x) (0xc6130000u + (x)) /* 198.19.0.x: no node, no actor */
#define FOREIGN_NET   (NET_ID ^ 1)
/* Records an input may hold (more are ignored): enough to fill every slot and queue twice over,
 * and a bound on the time one input takes (each record may cost a few Diffie-Hellmans). */
#define MAX_RECORDS 64

struct actor {
	struct dialer d;	      /* its identity; d.p: its own handshake in progress */
	struct cp_hs_pending *answer; /* reading the appliance's initiation */
	struct cp_admission *adm;     /* makes its cookie replies */
	struct cp_cookie cookie;      /* the appliance's cookie for it, once handed out */
	uint8_t gen;		      /* generation of its connection ids (slot 1 + index) */
	struct wmsg init;	      /* the appliance's latest initiation to it (len 0: none) */
	struct wmsg xx_resp;	      /* the appliance's latest XX answer to it */
	struct wmsg last;	      /* its own last message */
	struct cp_resume *cache;      /* its sessions' resumption secrets */
};

/* Whom each actor is: the world node whose key and address it has, and its network. Keys are
 * ordered: nodes[0] < nodes[APP] < nodes[2] < nodes[3]. */
static const struct {
	unsigned int node;
	uint64_t network;
} cast[ACTORS] = {
	{ 0, NET_ID },	    /* configured peer, lower key: it wins a collision of dials */
	{ 2, NET_ID },	    /* configured peer, higher key: the appliance's dial wins */
	{ 3, NET_ID },	    /* a stranger (XX, or IK since it knows the appliance's key) */
	{ 2, FOREIGN_NET }, /* the second peer, moved to another network: refused, with a reason */
};

static struct actor actors[ACTORS];
static const uint8_t *in_data;
static size_t in_size;

/* --- deterministic randomness --------------------------------------------------------------- */

static uint64_t rng_state;

static const char *
rng_name(void)
{
	return "fuzz_splitmix64";
}

static uint32_t
rng_random(void)
{
	return (uint32_t)sl_test_mix64(&rng_state);
}

static void
rng_buf(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n > 0) {
		uint64_t v = sl_test_mix64(&rng_state);
		size_t k = n < sizeof(v) ? n : sizeof(v);

		memcpy(p, &v, k);
		p += k;
		n -= k;
	}
}

static struct randombytes_implementation rng = {
	.implementation_name = rng_name,
	.random = rng_random,
	.buf = rng_buf,
};

/* --- invariants ----------------------------------------------------------------------------- */

static int
count_dialing(void *arg, const struct cp_node_info *info)
{
	*(unsigned int *)arg += info->state == CP_NODE_DIALING;
	return 0;
}

/* After every record: the slots and the counters agree with the dataplane's sessions. */
static void
check_counters(void)
{
	const struct cp_ctl_stats *st = cp_ctl_stats(nodes[APP].ctl);
	unsigned int open = open_slots(&nodes[APP]);

	fuzz_check(st->slot_double_release == 0, "a slot was released twice");
	fuzz_check(st->sessions_opened - st->sessions_closed == open,
		   "sessions_opened - sessions_closed != sessions the dataplane holds");
	fuzz_check(nodes[APP].notes[CP_NOTE_CONNECTED] == st->sessions_opened,
		   "a CONNECTED note for each session opened");
	fuzz_check(cp_ctl_sessions(nodes[APP].ctl) == open + st->handshakes_pending,
		   "taken slots != open sessions + handshakes_pending");
}

/* Once every handshake had time to finish or expire: no slot is held but by a session or by
 * the appliance's own dial of a configured peer. */
static void
check_settled(void)
{
	unsigned int dialing = 0;

	cp_ctl_foreach_node(nodes[APP].ctl, count_dialing, &dialing);
	check_counters();
	fuzz_check(cp_ctl_stats(nodes[APP].ctl)->handshakes_pending == dialing,
		   "a slot is held by a handshake that is over (refused, abandoned or expired)");
}

/* --- the actors ------------------------------------------------------------------------------ */

/* A session the actor completed: its secret goes into the actor's cache. */
static void
completed(struct actor *a, struct cp_hs_session *s)
{
	(void)cp_resume_put(a->cache, nodes[APP].pub, &s->resume, now);
	cp_hs_session_wipe(s);
}

/* The appliance's answer to the actor's own IK initiation or resumption. */
static void
answered(struct actor *a, const struct wmsg *w)
{
	struct cp_hs_session s;
	int rc = w->buf[0] == SL_MSG_IK_RESP
			 ? cp_hs_ik_finish(a->d.ctx, a->d.p, w->buf, w->len, &s)
			 : cp_hs_resume_finish(a->d.ctx, a->d.p, w->buf, w->len, &s);

	if (rc == 0)
		completed(a, &s);
}

static void
receive(struct actor *a, const struct wmsg *w)
{
	if (w->buf[0] == SL_MSG_IK_INIT || w->buf[0] == SL_MSG_RESUME_INIT)
		a->init = *w;
	else if (w->buf[0] == SL_MSG_IK_RESP || w->buf[0] == SL_MSG_RESUME_RESP)
		answered(a, w);
	else if (w->buf[0] == SL_MSG_XX_RESP)
		a->xx_resp = *w;
	else if (w->buf[0] == SL_MSG_COOKIE)
		(void)cp_hs_cookie_consume(a->d.ctx, a->d.p, (const void *)w->buf, w->len, now,
					   &a->cookie);
}

/* What the appliance sent reaches the actors at that address. */
static void
collect(void)
{
	for (unsigned int i = 0; i < n_captured; i++) {
		fuzz_check(captured[i].len >= 12, "the appliance sent a message shorter than any");
		for (unsigned int k = 0; k < ACTORS; k++)
			if (actors[k].d.ep.ip == captured[i].to_ip)
				receive(&actors[k], &captured[i]);
	}
	n_captured = 0;
}

static uint32_t
next_id(struct actor *a)
{
	return sl_connid(0, 1 + (uint32_t)(a - actors), ++a->gen);
}

static uint8_t
suite(uint8_t arg)
{
	return arg & A_CHACHA ? SL_SUITE_CHACHAPOLY_BLAKE2B : SL_SUITE_AESGCM_SHA256;
}

static const struct cp_cookie *
cookie(const struct actor *a, uint8_t arg)
{
	return (arg & A_COOKIE) && a->cookie.valid ? &a->cookie : NULL;
}

/* The actor's answer to the appliance's resumption initiation: from its cache, or a reject
 * (arg & A_REKEY, or nothing to resume with). */
static size_t
resume_answer(struct actor *a, uint8_t arg, uint8_t *out)
{
	struct cp_hs_session s;

	if (!(arg & A_REKEY) &&
	    cp_hs_resume_respond(a->d.ctx, a->cache, a->answer, a->init.buf, a->init.len,
				 next_id(a), now, (struct sl_msg_resume_resp *)out, &s) == 0) {
		completed(a, &s);
		return sizeof(struct sl_msg_resume_resp);
	}
	return cp_hs_resume_reject(a->init.buf, a->init.len, (struct sl_msg_resume_reject *)out) == 0
		       ? sizeof(struct sl_msg_resume_reject)
		       : 0;
}

/* The actor's message of kind `what` into out (256 bytes); its length, 0 if it has none. */
static size_t
make(struct actor *a, int what, uint8_t arg, uint8_t *out)
{
	struct cp_hs_session s;
	size_t len = 0;
	int rc;

	switch (what) {
	case IK_INIT:
		rc = cp_hs_ik_start(a->d.ctx, a->d.p, nodes[APP].pub, suite(arg), next_id(a),
				    arg & A_REKEY ? SL_HS_F_REKEY : 0, WALL0 + now, cookie(a, arg),
				    now, (struct sl_msg_ik_init *)out);
		return rc == 0 ? sizeof(struct sl_msg_ik_init) : 0;
	case XX_INIT:
		rc = cp_hs_xx_start(a->d.ctx, a->d.p, suite(arg), next_id(a), cookie(a, arg), now,
				    (struct sl_msg_xx_init *)out);
		return rc == 0 ? sizeof(struct sl_msg_xx_init) : 0;
	case XX_FINISH:
		if (a->xx_resp.len == 0 ||
		    cp_hs_xx_finish(a->d.ctx, a->d.p, a->xx_resp.buf, a->xx_resp.len, WALL0 + now,
				    cookie(a, arg), now, (struct sl_msg_xx_finish *)out, &s) != 0)
			return 0;
		completed(a, &s);
		return sizeof(struct sl_msg_xx_finish);
	case IK_RESP:
		if (a->init.len == 0)
			return 0;
		if (a->init.buf[0] == SL_MSG_RESUME_INIT)
			return resume_answer(a, arg, out);
		rc = cp_hs_ik_read(a->d.ctx, a->answer, a->init.buf, a->init.len, now);
		if (rc == 0 || rc == -ECONNREFUSED)
			rc = cp_hs_ik_answer(a->d.ctx, a->answer, next_id(a),
					     arg & A_REKEY ? SL_HS_F_REKEY : 0,
					     (struct sl_msg_ik_resp *)out, &s);
		if (rc == 0)
			completed(a, &s);
		cp_hs_session_wipe(&s);
		return rc == 0 || rc == -ECONNREFUSED ? sizeof(struct sl_msg_ik_resp) : 0;
	case COOKIE: {
		const struct cp_src to = { .ip = nodes[APP].ip, .port = 4789 };

		if (a->init.len > 0 &&
		    cp_admission_check(a->adm, a->init.buf, a->init.len, false, true, 4, &to,
				       SL_UNDER_LOAD_PENDING, now,
				       (struct sl_msg_cookie *)out) == CP_ADMIT_COOKIE)
			len = sizeof(struct sl_msg_cookie);
		return len;
	}
	case REPLAY:
		if (arg & A_REKEY) {
			rc = cp_hs_resume_start(a->d.ctx, a->cache, a->d.p, nodes[APP].pub,
						suite(arg), next_id(a), 0, WALL0 + now,
						cookie(a, arg), now, (struct sl_msg_resume_init *)out);
			return rc == 0 ? sizeof(struct sl_msg_resume_init) : 0;
		}
		memcpy(out, a->last.buf, a->last.len);
		return a->last.len;
	default:
		return 0;
	}
}

/* --- messages ------------------------------------------------------------------------------- */

/* mac1 with the key a sender knowing the appliance uses for this type; mac2 zero or with the
 * cookie, or left as it is (keep_mac2). Other types carry no MACs. */
static void
sign(uint8_t *msg, size_t len, const struct cp_cookie *ck, bool keep_mac2)
{
	uint8_t key[SL_KEY_LEN], mac2[SL_MAC_LEN], *at_mac2;

	if (len < sizeof(struct sl_msg_macs))
		return;
	at_mac2 = msg + len - SL_MAC_LEN;
	if (msg[0] == SL_MSG_XX_INIT || msg[0] == SL_MSG_XX_RESP)
		cp_mac1_key_anon(key);
	else if (msg[0] == SL_MSG_IK_INIT || msg[0] == SL_MSG_IK_RESP || msg[0] == SL_MSG_XX_FINISH ||
		 msg[0] == SL_MSG_RESUME_INIT || msg[0] == SL_MSG_RESUME_RESP)
		cp_mac1_key_peer(key, nodes[APP].pub);
	else
		return;
	memcpy(mac2, at_mac2, sizeof(mac2));
	cp_macs_write(msg, len, key, ck, now, SL_COOKIE_ROTATE_NS);
	if (keep_mac2)
		memcpy(at_mac2, mac2, sizeof(mac2));
}

/* Pairs (offset, xor); an odd last byte cuts (byte % 16) bytes off the end. The new length. */
static size_t
mutate(uint8_t *msg, size_t len, const uint8_t *m, size_t n)
{
	for (size_t i = 0; i + 1 < n && len > 0; i += 2)
		msg[m[i] % len] ^= m[i + 1];
	if (n % 2 == 1)
		len -= RTE_MIN(len, (size_t)(m[n - 1] % 16));
	return len;
}

/* A session slot of the dataplane model reports something about its session. */
static void
event(uint8_t arg)
{
	static const uint16_t reasons[] = { SL_CLOSE_IDLE, SL_CLOSE_APPLICATION, SL_CLOSE_PROTOCOL,
					    SL_CLOSE_UNRESPONSIVE };
	unsigned int lcore = arg & 1, slot = (arg >> 1) & 7, what = (arg >> 4) & 3;
	struct mslot *s = &nodes[APP].slots[lcore][slot];
	struct dp_evt ev = { .type = what == 0 ? DP_EVT_REKEY : DP_EVT_UNRESPONSIVE, .slot = slot };

	if (!s->open || s->closing) /* the dataplane only speaks of its live sessions */
		return;
	if (what < 2)
		push_event(&nodes[APP], lcore, &ev);
	else
		close_slot(&nodes[APP], lcore, slot, reasons[arg >> 6], what == 3);
}

static void
record(uint8_t op, uint8_t arg, const uint8_t *data, size_t n)
{
	struct actor *a = &actors[arg & 3];
	struct cp_endpoint from = a->d.ep;
	uint8_t msg[sizeof(captured[0].buf)];
	int what = op & 7;
	size_t len;

	if (what == EVENT) {
		event(arg);
		return;
	}
	if ((arg >> 2) & 3)
		from.ip = SPOOFED_IP((arg >> 2) & 3);
	if (what == RAW) {
		len = RTE_MIN(n, sizeof(msg));
		memcpy(msg, data, len);
	} else {
		len = mutate(msg, make(a, what, arg, msg), data, n);
	}
	if (!(arg & A_NO_MACS))
		sign(msg, len, cookie(a, arg), what == RAW && !(arg & A_COOKIE));
	a->last.len = len;
	memcpy(a->last.buf, msg, len);
	cp_ctl_handshake(nodes[APP].ctl, &from, msg, len, op & 0x08 ? SL_UNDER_LOAD_PENDING : 0,
			 now, WALL0 + now);
}

/* --- the world ------------------------------------------------------------------------------- */

/* Tables sized for a handful of parties (the defaults are for thousands), and shorter
 * handshakes with rarer dials: an initiation costs three Diffie-Hellmans, the most expensive
 * thing an input does, and the end of every input waits out the handshake timeout. */
#define SOURCES 64

static void
small(struct cp_ctl_config *cfg)
{
	cfg->hs.tstamp_capacity = SOURCES;
	cfg->admission.rate.capacity = SOURCES;
	cfg->handshake_timeout_ns = 2 * SEC;
	cfg->retry_ns = 2 * SEC; /* jittered: sometimes one resend before the timeout */
	cfg->backoff_min_ns = 4 * SEC;
	cfg->max_sessions = 4; /* so the handshakes of a few parties can fill them */
}

static void
world_start(void)
{
	world_restart();	       /* the keys LLVMFuzzerInitialize() made */
	rng_state = 0x736c75696365ull; /* and the same randomness: every input replays */
	add_peer(APP, 0);
	add_peer(APP, 2);
	node_start(APP, small);
	for (unsigned int i = 0; i < ACTORS; i++) {
		struct actor *a = &actors[i];
		struct cp_admission_config acfg;
		struct cp_resume_config rcfg = { .capacity = 4 };

		memset(a, 0, sizeof(*a));
		dialer_init(&a->d, nodes[cast[i].node].priv, cast[i].network);
		a->d.ep = (struct cp_endpoint){ .ip = nodes[cast[i].node].ip, .udp_port = 4789 };
		a->answer = aligned_alloc(64, RTE_ALIGN_CEIL(sizeof(*a->answer), 64));
		cp_admission_config_defaults(&acfg);
		acfg.rate.capacity = SOURCES;
		a->adm = cp_admission_create(a->d.pub, &acfg, now);
		a->cache = cp_resume_create(&rcfg);
		fuzz_check(a->answer != NULL && a->adm != NULL && a->cache != NULL, "actor set up");
	}
}

static void
world_stop(void)
{
	for (unsigned int i = 0; i < ACTORS; i++) {
		cp_hs_pending_wipe(actors[i].answer);
		free(actors[i].answer);
		cp_admission_destroy(actors[i].adm);
		cp_resume_destroy(actors[i].cache);
		dialer_fini(&actors[i].d);
	}
	world_end();
}

static void
run_input(void)
{
	size_t off = 0;

	world_start();
	for (unsigned int i = 0; i < MAX_RECORDS && off + 3 <= in_size; i++) {
		const uint8_t *r = in_data + off;
		size_t n = RTE_MIN((size_t)r[2], in_size - off - 3);

		leap_for((r[0] >> 4) * 100 * MS + MS);
		collect();
		record(r[0], r[1], r + 3, n);
		collect();
		check_counters();
		off += 3 + n;
	}
	leap_for(nodes[APP].cfg.handshake_timeout_ns + SEC);
	collect();
	check_settled();
	fuzz_check(cp_ctl_close_all(nodes[APP].ctl, now), "a few sessions close in one call");
	leap_for(MS); /* the dataplane answers every close */
	fuzz_check(cp_ctl_sessions(nodes[APP].ctl) == 0, "no slot taken once every session closed");
	world_stop();
}

/* --- libFuzzer ------------------------------------------------------------------------------- */

/* The world's model of the dataplane checks with CUnit assertions: each input runs as a test. */
static CU_pSuite suite_p;
static CU_pTest test_p;

static void
stop(void)
{
	CU_cleanup_registry();
	sl_eal_test_stop();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	randombytes_set_implementation(&rng);
	if (sodium_init() < 0 || sl_eal_test_start("fuzz_handshake") != 0)
		abort();
	world_reset(MAXN); /* the keys of every input's world */
	if (CU_initialize_registry() != CUE_SUCCESS ||
	    (suite_p = CU_add_suite("fuzz_handshake", NULL, NULL)) == NULL ||
	    (test_p = CU_add_test(suite_p, "input", run_input)) == NULL)
		abort();
	atexit(stop);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	in_data = data;
	in_size = size;
	CU_run_test(suite_p, test_p);
	if (CU_get_number_of_failures() > 0) {
		for (CU_pFailureRecord f = CU_get_failure_list(); f != NULL; f = f->pNext)
			fprintf(stderr, "fuzz_handshake: %s:%u: %s\n", f->strFileName,
				f->uiLineNumber, f->strCondition);
		abort();
	}
	return 0;
}
