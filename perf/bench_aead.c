/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: AEAD benchmark — the project's interface (sl_aead_seal / sl_aead_open) against the
 * bare ipsec-mb calls it wraps, doing the same work on the same buffers with the same manager:
 *
 *   AES-256-GCM        raw: IMB_AES256_GCM_ENC / _DEC with a precomputed gcm_key_data and a
 *                      gcm_context_data of our own;
 *   ChaCha20-Poly1305  raw: the job API — IMB_GET_NEXT_JOB, fill in the fields this algorithm
 *                      reads, IMB_SUBMIT_JOB, IMB_FLUSH_JOB until the job is back.
 *
 * Out of place (plaintext buffer into an output buffer, as the TX path encrypts into the
 * mbuf), 16 bytes of associated data, 64 / 512 / 1400-byte payloads, one fixed nonce. The raw
 * decryption computes the tag but does not compare it: the comparison is part of what
 * sl_aead_open adds, so it is counted as the project's overhead.
 *
 * Method: each (algorithm, direction, size) runs one untimed warm-up repetition of each side,
 * then `reps` pairs of timed repetitions of `work` packets, raw and project back to back, the
 * side that goes first alternating. Reported: the median ns per packet of each side, and the
 * median over the pairs of (project / raw - 1), so a frequency change or a noisy neighbour that
 * hits one pair hits both of its sides. Before any timing both paths are checked to produce the
 * same ciphertext and tag, and the project's open to accept it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <intel-ipsec-mb.h>
#include <sodium.h>

#include "bench_util.h"
#include "sl_aead.h"

#define AAD_LEN	   16
#define MAX_LEN	   1400
#define DEF_REPS   15
#define DEF_PKTS   200000
#define TARGET_PCT 10.0

static const size_t sizes[] = { 64, 512, 1400 };

/* Everything one measurement touches. Holds ipsec-mb key schedules: 64-byte aligned. */
struct bench {
	struct sl_aead_key key;	 /* the project's expanded key */
	struct gcm_key_data gcm; /* raw AES-256-GCM key schedule */
	uint8_t chacha_key[SL_KEY_LEN];
	IMB_MGR *mgr;
	enum sl_aead_alg alg;
	size_t len;
	uint8_t nonce[SL_NONCE_LEN];
	uint8_t aad[AAD_LEN];
	uint8_t pt[MAX_LEN] __rte_aligned(64);
	uint8_t ct[MAX_LEN] __rte_aligned(64); /* pt sealed under nonce and aad */
	uint8_t out[MAX_LEN] __rte_aligned(64);
	uint8_t ct_tag[SL_TAG_LEN]; /* the tag of ct */
	uint8_t tag[SL_TAG_LEN];    /* written by the operation being timed */
	unsigned long failures;	    /* project opens that did not authenticate */
};

typedef void loop_fn(struct bench *b, unsigned long n);

/* --- the project's interface ------------------------------------------------------------- */

static void
proj_seal(struct bench *b, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		sl_aead_seal(b->mgr, &b->key, b->nonce, b->aad, AAD_LEN, b->pt, b->len, b->out,
			     b->tag);
}

static void
proj_open(struct bench *b, unsigned long n)
{
	unsigned long bad = 0;

	for (unsigned long i = 0; i < n; i++)
		bad += !sl_aead_open(b->mgr, &b->key, b->nonce, b->aad, AAD_LEN, b->ct, b->len,
				     b->out, b->ct_tag);
	b->failures += bad;
}

/* --- raw ipsec-mb ------------------------------------------------------------------------ */

static void
raw_gcm_enc(struct bench *b, unsigned long n)
{
	struct gcm_context_data ctx;

	for (unsigned long i = 0; i < n; i++)
		IMB_AES256_GCM_ENC(b->mgr, &b->gcm, &ctx, b->out, b->pt, b->len, b->nonce, b->aad,
				   AAD_LEN, b->tag, SL_TAG_LEN);
}

static void
raw_gcm_dec(struct bench *b, unsigned long n)
{
	struct gcm_context_data ctx;

	for (unsigned long i = 0; i < n; i++)
		IMB_AES256_GCM_DEC(b->mgr, &b->gcm, &ctx, b->out, b->ct, b->len, b->nonce, b->aad,
				   AAD_LEN, b->tag, SL_TAG_LEN);
}

/* One ChaCha20-Poly1305 job, run to completion. The AEAD reads its key from enc_keys in both
 * directions; the chain order is the one ipsec-mb documents for each direction. */
static inline IMB_JOB *
raw_chacha_one(struct bench *b, const uint8_t *src, IMB_CIPHER_DIRECTION dir, IMB_CHAIN_ORDER order)
{
	IMB_JOB *job = IMB_GET_NEXT_JOB(b->mgr);

	job->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
	job->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
	job->cipher_direction = dir;
	job->chain_order = order;
	job->enc_keys = b->chacha_key;
	job->key_len_in_bytes = SL_KEY_LEN;
	job->src = src;
	job->dst = b->out;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = b->len;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = b->len;
	job->iv = b->nonce;
	job->iv_len_in_bytes = SL_NONCE_LEN;
	job->u.CHACHA20_POLY1305.aad = b->aad;
	job->u.CHACHA20_POLY1305.aad_len_in_bytes = AAD_LEN;
	job->auth_tag_output = b->tag;
	job->auth_tag_output_len_in_bytes = SL_TAG_LEN;
	job = IMB_SUBMIT_JOB(b->mgr);
	while (job == NULL)
		job = IMB_FLUSH_JOB(b->mgr);
	return job;
}

static void
raw_chacha_enc(struct bench *b, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		raw_chacha_one(b, b->pt, IMB_DIR_ENCRYPT, IMB_ORDER_CIPHER_HASH);
}

static void
raw_chacha_dec(struct bench *b, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		raw_chacha_one(b, b->ct, IMB_DIR_DECRYPT, IMB_ORDER_HASH_CIPHER);
}

/* --- setup and checks -------------------------------------------------------------------- */

static const char *
alg_name(enum sl_aead_alg alg)
{
	return alg == SL_AEAD_AES256_GCM ? "AES-256-GCM" : "ChaCha20-Poly1305";
}

/* Keys for alg, fresh plaintext of len bytes, and its ciphertext made by the project. */
static int
bench_setup(struct bench *b, enum sl_aead_alg alg, size_t len)
{
	uint8_t raw_key[SL_KEY_LEN];
	int rc;

	b->alg = alg;
	b->len = len;
	randombytes_buf(raw_key, sizeof(raw_key));
	randombytes_buf(b->nonce, sizeof(b->nonce));
	randombytes_buf(b->aad, sizeof(b->aad));
	randombytes_buf(b->pt, len);
	rc = sl_aead_key_set(&b->key, b->mgr, alg, raw_key, sizeof(raw_key));
	if (alg == SL_AEAD_AES256_GCM)
		IMB_AES256_GCM_PRE(b->mgr, raw_key, &b->gcm);
	memcpy(b->chacha_key, raw_key, sizeof(raw_key));
	sodium_memzero(raw_key, sizeof(raw_key));
	if (rc == 0)
		sl_aead_seal(b->mgr, &b->key, b->nonce, b->aad, AAD_LEN, b->pt, len, b->ct,
			     b->ct_tag);
	return rc;
}

/* Does the raw encryption produce the project's ciphertext and tag, the raw decryption the
 * plaintext and tag, and the project's open accept? */
static bool
bench_check(struct bench *b, loop_fn *raw_enc, loop_fn *raw_dec)
{
	bool ok;

	raw_enc(b, 1);
	ok = memcmp(b->out, b->ct, b->len) == 0 && memcmp(b->tag, b->ct_tag, SL_TAG_LEN) == 0;
	raw_dec(b, 1);
	ok = ok && memcmp(b->out, b->pt, b->len) == 0 && memcmp(b->tag, b->ct_tag, SL_TAG_LEN) == 0;
	b->failures = 0;
	proj_open(b, 1);
	return ok && b->failures == 0 && memcmp(b->out, b->pt, b->len) == 0;
}

/* --- measurement ------------------------------------------------------------------------- */

struct result {
	double raw_ns, proj_ns; /* median ns per packet */
	double overhead_pct;	/* median of the paired overheads */
};

static double
time_ns(struct bench *b, loop_fn *fn, unsigned long n)
{
	uint64_t t0 = bench_now_ns();

	fn(b, n);
	return (double)(bench_now_ns() - t0);
}

static void
measure(struct bench *b, loop_fn *raw, loop_fn *proj, const struct bench_opts *o, struct result *r)
{
	double t_raw[BENCH_MAX_REPS], t_proj[BENCH_MAX_REPS], ratio[BENCH_MAX_REPS];

	raw(b, o->work);
	proj(b, o->work);
	for (unsigned int i = 0; i < o->reps; i++) {
		if (i % 2 == 0) {
			t_raw[i] = time_ns(b, raw, o->work);
			t_proj[i] = time_ns(b, proj, o->work);
		} else {
			t_proj[i] = time_ns(b, proj, o->work);
			t_raw[i] = time_ns(b, raw, o->work);
		}
		ratio[i] = t_proj[i] / t_raw[i];
	}
	r->overhead_pct = (bench_median(ratio, o->reps) - 1) * 100;
	r->raw_ns = bench_median(t_raw, o->reps) / (double)o->work;
	r->proj_ns = bench_median(t_proj, o->reps) / (double)o->work;
}

static void
print_row(const struct bench *b, const char *dir, const struct result *r)
{
	printf("| %-17s | %-7s | %5zu | %10.1f | %13.1f | %+7.1f %% | <= %.0f %% | %-6s |\n",
	       alg_name(b->alg), dir, b->len, r->raw_ns, r->proj_ns, r->overhead_pct, TARGET_PCT,
	       r->overhead_pct <= TARGET_PCT ? "PASS" : "MISS");
	fflush(stdout);
}

/* Both directions of one algorithm at one size. Returns 0, or -1 if the paths disagree. */
static int
run_case(struct bench *b, enum sl_aead_alg alg, size_t len, const struct bench_opts *o)
{
	bool gcm = alg == SL_AEAD_AES256_GCM;
	loop_fn *raw_enc = gcm ? raw_gcm_enc : raw_chacha_enc;
	loop_fn *raw_dec = gcm ? raw_gcm_dec : raw_chacha_dec;
	struct result r;

	if (bench_setup(b, alg, len) != 0 || !bench_check(b, raw_enc, raw_dec)) {
		fprintf(stderr, "bench_aead: %s, %zu bytes: raw and project results differ\n",
			alg_name(alg), len);
		return -1;
	}
	measure(b, raw_enc, proj_seal, o, &r);
	print_row(b, "encrypt", &r);
	b->failures = 0;
	measure(b, raw_dec, proj_open, o, &r);
	print_row(b, "decrypt", &r);
	if (b->failures != 0) {
		fprintf(stderr, "bench_aead: %s: %lu opens failed\n", alg_name(alg), b->failures);
		return -1;
	}
	return 0;
}

/* --- main -------------------------------------------------------------------------------- */

static const char *
arch_name(const IMB_MGR *mgr)
{
	switch (mgr->used_arch) {
	case IMB_ARCH_NOAESNI:
		return "no-AESNI";
	case IMB_ARCH_SSE:
		return "SSE";
	case IMB_ARCH_AVX:
		return "AVX";
	case IMB_ARCH_AVX2:
		return "AVX2";
	case IMB_ARCH_AVX512:
		return "AVX512";
	default:
		return "unknown";
	}
}

static void
print_header(const IMB_MGR *mgr, const struct bench_opts *o)
{
	printf("### AEAD: sluice sl_aead_seal/open vs raw ipsec-mb\n\n");
	printf("ipsec-mb %s, %s code path%s; out of place, %d-byte AAD; median of %u interleaved "
	       "repetitions of %lu packets; ns per packet.\n\n",
	       imb_get_version_str(), arch_name(mgr),
	       (mgr->features & IMB_FEATURE_VAES) ? " with VAES" : "", AAD_LEN, o->reps, o->work);
	printf("| algorithm         | dir     | bytes | raw ns/pkt | sluice ns/pkt | overhead  | "
	       "target  | result |\n");
	printf("|-------------------|---------|------:|-----------:|--------------:|----------:|"
	       "---------|--------|\n");
}

static int
run_all(IMB_MGR *mgr, const struct bench_opts *o)
{
	static const enum sl_aead_alg algs[] = { SL_AEAD_AES256_GCM, SL_AEAD_CHACHA20_POLY1305 };
	struct bench *b = aligned_alloc(64, RTE_ALIGN_CEIL(sizeof(*b), 64));
	int rc = 0;

	if (b == NULL) {
		perror("bench_aead");
		return -1;
	}
	memset(b, 0, sizeof(*b));
	b->mgr = mgr;
	print_header(mgr, o);
	for (size_t a = 0; rc == 0 && a < RTE_DIM(algs); a++)
		for (size_t s = 0; rc == 0 && s < RTE_DIM(sizes); s++)
			rc = run_case(b, algs[a], sizes[s], o);
	printf("\n");
	sodium_memzero(b, sizeof(*b));
	free(b);
	return rc;
}

int
main(int argc, char **argv)
{
	struct bench_opts o;
	IMB_MGR *mgr;
	int rc;

	if (bench_parse_opts(argc, argv, &o, DEF_REPS, DEF_PKTS) != 0)
		return 2;
	if (o.version) {
		printf("%s\n", imb_get_version_str());
		return 0;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "bench_aead: sodium_init failed\n");
		return 1;
	}
	mgr = sl_aead_mgr_create();
	if (mgr == NULL) {
		fprintf(stderr, "bench_aead: no ipsec-mb manager: %s\n", strerror(errno));
		return 1;
	}
	rc = run_all(mgr, &o);
	sl_aead_mgr_free(mgr);
	return rc == 0 ? 0 : 1;
}
