/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: Noise IK handshake benchmark — full handshakes a second on one core through the
 * project's handshake code, against the bound set by the X25519 operations a handshake needs,
 * timed with libsodium directly in the same run.
 *
 * One handshake, both sides in this thread, exactly what a control plane runs:
 *   initiator  cp_hs_ik_start                      (writes the initiation)
 *   responder  cp_admission_check, cp_hs_ik_respond (mac1 and rate limit, then the answer)
 *   initiator  cp_hs_ik_finish                     (reads the answer; both hold a session)
 * Every handshake is checked to give both sides matching keys; a failure stops the benchmark.
 *
 * Peers: one responder and N_INITIATORS initiator identities, each from its own source address
 * in 198.18.0.0/15, used round robin, as many peers connecting would. The admission config is
 * the default one (20 initiations/s per source, burst 5): the injected clock advances
 * CLOCK_STEP_NS per handshake, so each source initiates every N_INITIATORS * CLOCK_STEP_NS =
 * 64 ms, below the limit, and every initiation takes the rate limiter's real path. The anti-
 * replay table needs increasing timestamps per identity: each handshake's wall clock is that
 * injected clock, and cp_hs_next_timestamp() keeps each initiator's timestamps increasing.
 *
 * The bound. X25519 operations of Noise IK (tokens "e, es, s, ss" then "e, ee, se"; see the
 * pattern table in controlplane/cp_noise.c):
 *   initiator writes message 1   e: keygen (1 base-point mult); es, ss: 2 variable-base mults
 *   responder reads message 1    es, ss: 2 variable-base mults (s is decrypted, no DH)
 *   responder writes message 2   e: keygen (1 base); ee, se: 2 variable-base
 *   initiator reads message 2    ee, se: 2 variable-base
 * = 2 base-point + 8 variable-base mults, so bound = 1 / (2 t_base + 8 t_scalarmult).
 * sl_dh.c maps keygen to crypto_scalarmult_base and each DH token to crypto_scalarmult. The
 * benchmark also counts the calls the handshake code actually makes, by wrapping both libsodium
 * entry points at link time (-Wl,--wrap in perf/meson.build), and prints the counts: reading
 * cp_noise.c, init_keys() derives our static public key from the private key at every
 * cp_noise_init(), i.e. once per side per handshake, so the code is expected to make
 * 4 base-point + 8 variable-base calls. The target is measured against the pattern's bound.
 *
 * Resumed handshakes (cp_hs_resume.h), in the same run: Noise NNpsk0 keyed by the resumption
 * secret the previous session left, exactly what a control plane runs:
 *   initiator  cp_hs_resume_start                          (takes the secret from its cache)
 *   responder  cp_admission_check, cp_hs_resume_respond    (finds it by the ticket, answers)
 *   initiator  cp_hs_resume_finish
 * X25519 operations of NNpsk0 ("psk, e" then "e, ee"): one keygen and one "ee" a side = 2
 * base-point + 2 variable-base mults, against IK's 2 + 8. Both kinds of handshake store the
 * resumption their session leaves in both caches (cp_resume_put), as a control plane would, so
 * every resumed handshake resumes the session before it, and both rows pay for the cache.
 *
 * Method: `reps` repetitions, each timing `work` handshakes of each kind (full, resumed) and
 * suite, `work` base-point mults and `work` variable-base mults, the order of the six rotating
 * between repetitions, after an untimed warm-up. Reported: medians, and for each suite the
 * median over repetitions of the ratio rate / bound, and of resumed / full, each computed
 * within the repetition. Setup (contexts, static keys) is not timed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bench_util.h"
#include "cp_admission.h"
#include "sl_dh.h"
#include "cp_handshake.h"
#include "cp_hs_resume.h"

#define N_INITIATORS  16
#define CLOCK_STEP_NS 4000000ull /* injected time per handshake: 4 ms */
#define NET_ID	      0x736c75696365ull
#define SRC_IP_BASE   0xc6120001u /* 198.18.0.1 */
#define DEF_REPS      11
#define DEF_HS	      400
#define TARGET_PCT    80.0
#define PATTERN_BASE  2 /* X25519 base-point mults of Noise IK (see above) */
#define PATTERN_VAR   8 /* variable-base mults */
#define RESUME_BASE   2 /* of Noise NNpsk0 */
#define RESUME_VAR    2

/* --- counting libsodium's X25519 calls ------------------------------------------------------ */

int __real_crypto_scalarmult_base(unsigned char *q, const unsigned char *n);
int __real_crypto_scalarmult(unsigned char *q, const unsigned char *n, const unsigned char *p);
int __wrap_crypto_scalarmult_base(unsigned char *q, const unsigned char *n);
int __wrap_crypto_scalarmult(unsigned char *q, const unsigned char *n, const unsigned char *p);

static unsigned long calls_base, calls_var;

int
__wrap_crypto_scalarmult_base(unsigned char *q, const unsigned char *n)
{
	calls_base++;
	return __real_crypto_scalarmult_base(q, n);
}

int
__wrap_crypto_scalarmult(unsigned char *q, const unsigned char *n, const unsigned char *p)
{
	calls_var++;
	return __real_crypto_scalarmult(q, n, p);
}

/* --- the rig -------------------------------------------------------------------------------- */

struct node {
	struct cp_hs_ctx *ctx;
	struct cp_resume *cache; /* its resumption cache */
	uint8_t pub[SL_KEY_LEN];
	struct cp_src src;
};

struct rig {
	struct node resp;
	struct cp_admission *adm; /* the responder's */
	struct node init[N_INITIATORS];
	struct cp_hs_pending *pi, *pr; /* initiator's and responder's handshake state */
	uint64_t now_ns;	       /* injected clock */
	unsigned long count;	       /* handshakes started */
	/* raw X25519 operands */
	uint8_t priv[SL_KEY_LEN], peer_pub[SL_KEY_LEN], out[SL_KEY_LEN];
};

static int
node_create(struct node *n, uint32_t ip)
{
	struct cp_hs_config cfg = {
		.network_id = NET_ID,
		.capabilities = SL_CAP_RELAY | SL_CAP_PEX,
		.version = SL_PROTO_VERSION,
		.min_version = SL_PROTO_MIN_VERSION,
		.n_addrs = 1,
		.addrs = { { ip, 4789 } },
	};

	struct cp_resume_config rcfg = { .capacity = 2 * N_INITIATORS };

	sl_dh_keygen(cfg.static_priv, n->pub);
	n->ctx = cp_hs_ctx_create(&cfg);
	sodium_memzero(cfg.static_priv, sizeof(cfg.static_priv));
	n->src.ip = ip;
	n->src.port = 4789;
	if (n->ctx == NULL)
		return -errno;
	n->cache = cp_resume_create(&rcfg);
	return n->cache == NULL ? -errno : 0;
}

static struct cp_hs_pending *
pending_alloc(void)
{
	struct cp_hs_pending *p = aligned_alloc(64, RTE_ALIGN_CEIL(sizeof(*p), 64));

	if (p != NULL)
		memset(p, 0, sizeof(*p));
	return p;
}

static void
rig_destroy(struct rig *r)
{
	for (unsigned int i = 0; i < N_INITIATORS; i++) {
		cp_hs_ctx_destroy(r->init[i].ctx);
		cp_resume_destroy(r->init[i].cache);
	}
	cp_hs_ctx_destroy(r->resp.ctx);
	cp_resume_destroy(r->resp.cache);
	cp_admission_destroy(r->adm);
	free(r->pi);
	free(r->pr);
	sodium_memzero(r, sizeof(*r));
	free(r);
}

static struct rig *
rig_create(void)
{
	struct cp_admission_config acfg;
	struct rig *r = calloc(1, sizeof(*r));
	int rc;

	if (r == NULL)
		return NULL;
	cp_admission_config_defaults(&acfg);
	rc = node_create(&r->resp, SRC_IP_BASE + N_INITIATORS);
	for (unsigned int i = 0; rc == 0 && i < N_INITIATORS; i++)
		rc = node_create(&r->init[i], SRC_IP_BASE + i);
	if (rc == 0)
		r->adm = cp_admission_create(r->resp.pub, &acfg, 0);
	r->pi = pending_alloc();
	r->pr = pending_alloc();
	if (rc != 0 || r->adm == NULL || r->pi == NULL || r->pr == NULL) {
		rig_destroy(r);
		return NULL;
	}
	sl_dh_keygen(r->priv, r->peer_pub);
	sl_dh_keygen(r->out, r->peer_pub);
	return r;
}

/* --- what is timed -------------------------------------------------------------------------- */

static bool
sessions_match(const struct cp_hs_session *si, const struct cp_hs_session *sr)
{
	return memcmp(si->send_key, sr->recv_key, SL_KEY_LEN) == 0 &&
	       memcmp(si->recv_key, sr->send_key, SL_KEY_LEN) == 0;
}

/* Both sides keep what the session leaves for resuming it. */
static int
keep_resumption(struct rig *r, struct node *ini, const struct cp_hs_session *si,
		const struct cp_hs_session *sr, uint64_t now)
{
	int rc = cp_resume_put(ini->cache, r->resp.pub, &si->resume, now);

	return rc == 0 ? cp_resume_put(r->resp.cache, ini->pub, &sr->resume, now) : rc;
}

/* One full IK handshake from the next initiator to the responder. 0 or -errno. */
static int
handshake(struct rig *r, uint8_t suite)
{
	struct node *ini = &r->init[r->count % N_INITIATORS];
	uint32_t id = (uint32_t)r->count++;
	uint64_t now = r->now_ns += CLOCK_STEP_NS;
	struct cp_hs_session si, sr;
	struct sl_msg_cookie cookie_reply;
	struct sl_msg_ik_init m1;
	struct sl_msg_ik_resp m2;
	int rc;

	rc = cp_hs_ik_start(ini->ctx, r->pi, r->resp.pub, suite, id, 0, now, NULL, now, &m1);
	if (rc == 0 && cp_admission_check(r->adm, (const uint8_t *)&m1, sizeof(m1), false, true,
					  offsetof(struct sl_msg_ik_init, sender), &ini->src, 0,
					  now, &cookie_reply) != CP_ADMIT_ACCEPT)
		rc = -EACCES;
	if (rc == 0)
		rc = cp_hs_ik_respond(r->resp.ctx, r->pr, (const uint8_t *)&m1, sizeof(m1), ~id,
				      now, &m2, &sr);
	if (rc == 0)
		rc = cp_hs_ik_finish(ini->ctx, r->pi, (const uint8_t *)&m2, sizeof(m2), &si);
	if (rc == 0 && !sessions_match(&si, &sr))
		rc = -EPROTO;
	if (rc == 0)
		rc = keep_resumption(r, ini, &si, &sr, now);
	cp_hs_session_wipe(&si);
	cp_hs_session_wipe(&sr);
	return rc;
}

/* One resumed handshake (NNpsk0) of the next initiator's last session. 0 or -errno. */
static int
resumed(struct rig *r, uint8_t suite)
{
	struct node *ini = &r->init[r->count % N_INITIATORS];
	uint32_t id = (uint32_t)r->count++;
	uint64_t now = r->now_ns += CLOCK_STEP_NS;
	struct cp_hs_session si, sr;
	struct sl_msg_cookie cookie_reply;
	struct sl_msg_resume_init m1;
	struct sl_msg_resume_resp m2;
	int rc;

	rc = cp_hs_resume_start(ini->ctx, ini->cache, r->pi, r->resp.pub, suite, id, 0, now, NULL,
				now, &m1);
	if (rc == 0 && cp_admission_check(r->adm, (const uint8_t *)&m1, sizeof(m1), false, true,
					  offsetof(struct sl_msg_resume_init, sender), &ini->src, 0,
					  now, &cookie_reply) != CP_ADMIT_ACCEPT)
		rc = -EACCES;
	if (rc == 0)
		rc = cp_hs_resume_respond(r->resp.ctx, r->resp.cache, r->pr, (const uint8_t *)&m1,
					  sizeof(m1), ~id, now, &m2, &sr);
	if (rc == 0)
		rc = cp_hs_resume_finish(ini->ctx, r->pi, (const uint8_t *)&m2, sizeof(m2), &si);
	if (rc == 0 && (!sessions_match(&si, &sr) || !si.resumed))
		rc = -EPROTO;
	if (rc == 0)
		rc = keep_resumption(r, ini, &si, &sr, now);
	cp_hs_session_wipe(&si);
	cp_hs_session_wipe(&sr);
	return rc;
}

/* Full handshakes of each suite, then resumed ones in the same order (T_RS_* = T_HS_* + 2). */
enum task { T_HS_AESGCM, T_HS_CHACHAPOLY, T_RS_AESGCM, T_RS_CHACHAPOLY, T_BASE, T_VAR, T_COUNT };

#define N_SUITES 2

static const uint8_t task_suite[] = {
	[T_HS_AESGCM] = SL_SUITE_AESGCM_SHA256,
	[T_HS_CHACHAPOLY] = SL_SUITE_CHACHAPOLY_BLAKE2B,
	[T_RS_AESGCM] = SL_SUITE_AESGCM_SHA256,
	[T_RS_CHACHAPOLY] = SL_SUITE_CHACHAPOLY_BLAKE2B,
};

static const char *const task_name[] = {
	[T_HS_AESGCM] = "Noise_IK_25519_AESGCM_SHA256",
	[T_HS_CHACHAPOLY] = "Noise_IK_25519_ChaChaPoly_BLAKE2b",
	[T_RS_AESGCM] = "Noise_NNpsk0_25519_AESGCM_SHA256",
	[T_RS_CHACHAPOLY] = "Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b",
	[T_BASE] = "crypto_scalarmult_base",
	[T_VAR] = "crypto_scalarmult",
};

/* One raw X25519 operation, as sl_dh.c calls it. */
static inline int
x25519_op(struct rig *r, enum task t)
{
	int rc = t == T_BASE ? __real_crypto_scalarmult_base(r->out, r->priv)
			     : __real_crypto_scalarmult(r->out, r->priv, r->peer_pub);

	return rc == 0 ? 0 : -EKEYREJECTED;
}

/* n operations of one task; 0, or -errno if one failed. */
static int
run_ops(struct rig *r, enum task t, unsigned long n)
{
	int rc = 0;

	for (unsigned long i = 0; rc == 0 && i < n; i++)
		rc = t >= T_BASE	? x25519_op(r, t)
		     : t >= T_RS_AESGCM ? resumed(r, task_suite[t])
					: handshake(r, task_suite[t]);
	return rc;
}

/* Time n operations of a task: ns per operation, or a negative value on failure. */
static double
time_ops(struct rig *r, enum task t, unsigned long n)
{
	uint64_t t0 = bench_now_ns();
	int rc = run_ops(r, t, n);

	if (rc != 0) {
		fprintf(stderr,
			"bench_handshake: %s failed: %s (handshake %lu; initiator: %s, "
			"responder: %s)\n",
			task_name[t], strerror(-rc), r->count, cp_hs_reason_name(r->pi->reason),
			cp_hs_reason_name(r->pr->reason));
		return -1;
	}
	return (double)(bench_now_ns() - t0) / (double)n;
}

/* --- measurement and report ----------------------------------------------------------------- */

struct results {
	double ns[T_COUNT];		 /* median ns per operation */
	double ratio[T_COUNT];		 /* full handshakes: median of rate / pattern bound */
	double speedup[N_SUITES];	 /* median of resumed rate / full rate, per suite */
	unsigned long calls[T_COUNT][2]; /* handshake tasks: base and variable calls counted */
};

/* X25519 calls one handshake of each kind and suite makes (untimed). First a full handshake
 * of every initiator, so that each has a session to resume. */
static int
count_calls(struct rig *r, struct results *res)
{
	if (time_ops(r, T_HS_AESGCM, N_INITIATORS) < 0)
		return -1;
	for (int t = T_HS_AESGCM; t < T_BASE; t++) {
		calls_base = calls_var = 0;
		if (time_ops(r, (enum task)t, 1) < 0)
			return -1;
		res->calls[t][0] = calls_base;
		res->calls[t][1] = calls_var;
	}
	return 0;
}

static int
measure(struct rig *r, const struct bench_opts *o, struct results *res)
{
	static double ns[T_COUNT][BENCH_MAX_REPS], ratio[T_COUNT][BENCH_MAX_REPS];
	static double speedup[N_SUITES][BENCH_MAX_REPS];

	for (int t = 0; t < T_COUNT; t++)
		if (time_ops(r, (enum task)t, o->work / 10 + 1) < 0)
			return -1;
	for (unsigned int i = 0; i < o->reps; i++) {
		for (int k = 0; k < T_COUNT; k++) {
			int t = (int)(k + i) % T_COUNT;

			ns[t][i] = time_ops(r, (enum task)t, o->work);
			if (ns[t][i] < 0)
				return -1;
		}
		for (int t = T_HS_AESGCM; t <= T_HS_CHACHAPOLY; t++) {
			ratio[t][i] = (PATTERN_BASE * ns[T_BASE][i] + PATTERN_VAR * ns[T_VAR][i]) /
				      ns[t][i];
			speedup[t][i] = ns[t][i] / ns[t + T_RS_AESGCM][i];
		}
	}
	for (int t = 0; t < T_COUNT; t++) {
		res->ns[t] = bench_median(ns[t], o->reps);
		res->ratio[t] = t <= T_HS_CHACHAPOLY ? bench_median(ratio[t], o->reps) : 0;
	}
	for (int t = 0; t < N_SUITES; t++)
		res->speedup[t] = bench_median(speedup[t], o->reps);
	return 0;
}

static void
print_x25519(const struct results *res)
{
	printf("| X25519 (libsodium %s) | us/op | per IK handshake: pattern | counted "
	       "(AESGCM / ChaChaPoly) |\n",
	       sodium_version_string());
	printf("|---|---:|---:|---:|\n");
	printf("| base-point, crypto_scalarmult_base | %.2f | %d | %lu / %lu |\n",
	       res->ns[T_BASE] / 1e3, PATTERN_BASE, res->calls[T_HS_AESGCM][0],
	       res->calls[T_HS_CHACHAPOLY][0]);
	printf("| variable-base, crypto_scalarmult | %.2f | %d | %lu / %lu |\n\n",
	       res->ns[T_VAR] / 1e3, PATTERN_VAR, res->calls[T_HS_AESGCM][1],
	       res->calls[T_HS_CHACHAPOLY][1]);
}

static void
print_suite(const struct results *res, enum task t, double bound_ns)
{
	double counted_ns = (double)res->calls[t][0] * res->ns[T_BASE] +
			    (double)res->calls[t][1] * res->ns[T_VAR];

	printf("| %s | %.1f | %.0f | %.0f | %.1f %% | >= %.0f %% | %s | %.0f %% |\n", task_name[t],
	       res->ns[t] / 1e3, 1e9 / res->ns[t], 1e9 / bound_ns, res->ratio[t] * 100, TARGET_PCT,
	       res->ratio[t] * 100 >= TARGET_PCT ? "PASS" : "MISS", counted_ns / res->ns[t] * 100);
}

static void
print_resumed(const struct results *res, const struct bench_opts *o)
{
	printf("### Resumed (Noise NNpsk0, one DH a side) vs full (Noise IK) handshakes, same "
	       "run\n\n");
	printf("Resumed handshakes (Noise NNpsk0 keyed by the resumption secret of the last "
	       "session, one Diffie-Hellman a side; docs/protocol.md 3.7) next to the full IK "
	       "handshakes above, same rig: each resumed handshake resumes the session before it, "
	       "with the secret and ticket that session left in both caches; both kinds store what "
	       "their session leaves. Alternated in the same %u repetitions of %lu handshakes; "
	       "speed-up: median of the per-repetition ratios. X25519 calls counted per handshake "
	       "(base-point + variable-base).\n\n",
	       o->reps, o->work);
	printf("| suite | full handshakes/s | resumed handshakes/s | speed-up | X25519 calls full "
	       "| resumed |\n");
	printf("|---|---:|---:|---:|---:|---:|\n");
	for (int t = T_HS_AESGCM; t <= T_HS_CHACHAPOLY; t++) {
		int rs = t + T_RS_AESGCM;

		printf("| %s | %.0f | %.0f | %.2fx | %lu + %lu | %lu + %lu |\n",
		       t == T_HS_AESGCM ? "AESGCM_SHA256" : "ChaChaPoly_BLAKE2b", 1e9 / res->ns[t],
		       1e9 / res->ns[rs], res->speedup[t], res->calls[t][0], res->calls[t][1],
		       res->calls[rs][0], res->calls[rs][1]);
	}
	printf("\nPattern: IK %d + %d, NNpsk0 %d + %d X25519 operations per handshake.\n\n",
	       PATTERN_BASE, PATTERN_VAR, RESUME_BASE, RESUME_VAR);
}

static void
print_report(const struct results *res, const struct bench_opts *o)
{
	double bound_ns = PATTERN_BASE * res->ns[T_BASE] + PATTERN_VAR * res->ns[T_VAR];

	printf("### Noise IK handshakes on one core: sluice vs the X25519 bound\n\n");
	printf("Both sides in one thread (start, admission, respond, finish); %d initiator "
	       "identities from distinct sources, default admission config. Median of %u "
	       "interleaved repetitions of %lu handshakes per suite and %lu of each X25519 "
	       "operation. Bound = 1 / (%d t_base + %d t_scalarmult) = %.0f handshakes/s.\n\n",
	       N_INITIATORS, o->reps, o->work, o->work, PATTERN_BASE, PATTERN_VAR, 1e9 / bound_ns);
	print_x25519(res);
	printf("| suite | us/handshake | handshakes/s | bound/s | ratio | target | result | "
	       "X25519 share |\n");
	printf("|---|---:|---:|---:|---:|---|---|---:|\n");
	for (int t = T_HS_AESGCM; t <= T_HS_CHACHAPOLY; t++)
		print_suite(res, (enum task)t, bound_ns);
	printf("\nX25519 share: time of the X25519 calls the handshake was counted making, over "
	       "the handshake's time; the rest is hashing, AEAD, admission and bookkeeping.\n\n");
	print_resumed(res, o);
}

int
main(int argc, char **argv)
{
	struct results res = { 0 };
	struct bench_opts o;
	struct rig *r;
	int rc;

	if (bench_parse_opts(argc, argv, &o, DEF_REPS, DEF_HS) != 0)
		return 2;
	if (o.version) {
		printf("%s\n", sodium_version_string());
		return 0;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "bench_handshake: sodium_init failed\n");
		return 1;
	}
	r = rig_create();
	if (r == NULL) {
		fprintf(stderr, "bench_handshake: setup failed: %s\n", strerror(errno));
		return 1;
	}
	rc = count_calls(r, &res);
	if (rc == 0)
		rc = measure(r, &o, &res);
	if (rc == 0)
		print_report(&res, &o);
	rig_destroy(r);
	return rc == 0 ? 0 : 1;
}
