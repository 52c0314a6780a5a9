/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: AEAD tests — Wycheproof AES-GCM and ChaCha20-Poly1305 vectors, loaded at run time,
 * plus in-place/out-of-place, tampering and key-validation cases.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sl_aead.h"
#include "sl_test.h"
#include "vec.h"

/* Smallest number of eligible vectors in the files this project was written against; a file
 * that yields fewer has been truncated or replaced. Larger drop-in sets are welcome. */
#define MIN_AES_GCM_VECTORS 133 /* 96-bit IV, 128-bit tag, 128- and 256-bit keys */
#define MIN_CHACHA_VECTORS  316 /* 96-bit nonce */

struct wp_tally {
	unsigned int ran;      /* vectors executed */
	unsigned int eligible; /* tests in groups we support, counted independently */
	unsigned int in_file;  /* tests in all groups */
	unsigned int declared; /* numberOfTests at the top of the file */
	unsigned int valid, invalid, acceptable;
	unsigned int failures;
};

/* Which algorithm, if any, runs a Wycheproof AEAD group. */
typedef enum sl_aead_alg (*group_alg_fn)(const json_t *group);

static enum sl_aead_alg
gcm_group_alg(const json_t *g)
{
	json_int_t key = json_integer_value(json_object_get(g, "keySize"));
	json_int_t iv = json_integer_value(json_object_get(g, "ivSize"));
	json_int_t tag = json_integer_value(json_object_get(g, "tagSize"));

	if (iv != 96 || tag != 128)
		return SL_AEAD_NONE;
	if (key == 128)
		return SL_AEAD_AES128_GCM;
	if (key == 256)
		return SL_AEAD_AES256_GCM;
	return SL_AEAD_NONE;
}

static enum sl_aead_alg
chacha_group_alg(const json_t *g)
{
	json_int_t iv = json_integer_value(json_object_get(g, "ivSize"));
	json_int_t tag = json_integer_value(json_object_get(g, "tagSize"));

	return (iv == 96 && tag == 128) ? SL_AEAD_CHACHA20_POLY1305 : SL_AEAD_NONE;
}

struct wp_case {
	uint8_t *key, *iv, *aad, *msg, *ct, *tag;
	size_t key_len, iv_len, aad_len, msg_len, ct_len, tag_len;
};

static void
wp_case_free(struct wp_case *c)
{
	free(c->key);
	free(c->iv);
	free(c->aad);
	free(c->msg);
	free(c->ct);
	free(c->tag);
}

static bool
wp_case_load(const json_t *t, struct wp_case *c)
{
	memset(c, 0, sizeof(*c));
	c->key = vec_hex(t, "key", &c->key_len);
	c->iv = vec_hex(t, "iv", &c->iv_len);
	c->aad = vec_hex(t, "aad", &c->aad_len);
	c->msg = vec_hex(t, "msg", &c->msg_len);
	c->ct = vec_hex(t, "ct", &c->ct_len);
	c->tag = vec_hex(t, "tag", &c->tag_len);
	return c->key && c->iv && c->aad && c->msg && c->ct && c->tag;
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* Seal and open, out of place and in place. Returns true if everything matched the vector. */
static bool
wp_check_valid(IMB_MGR *mgr, const struct sl_aead_key *k, const struct wp_case *c)
{
	size_t n = c->msg_len;
	uint8_t *buf = malloc(n + 1), *out = malloc(n + 1);
	uint8_t tag[SL_TAG_LEN];
	bool ok = buf && out && c->ct_len == n;

	if (ok) {
		sl_aead_seal(mgr, k, c->iv, c->aad, c->aad_len, c->msg, n, out, tag);
		ok = memcmp(out, c->ct, n) == 0 && memcmp(tag, c->tag, SL_TAG_LEN) == 0;
	}
	if (ok) { /* in place */
		memcpy(buf, c->msg, n);
		sl_aead_seal(mgr, k, c->iv, c->aad, c->aad_len, buf, n, buf, tag);
		ok = memcmp(buf, c->ct, n) == 0 && memcmp(tag, c->tag, SL_TAG_LEN) == 0;
	}
	if (ok)
		ok = sl_aead_open(mgr, k, c->iv, c->aad, c->aad_len, c->ct, n, out, c->tag) &&
		     memcmp(out, c->msg, n) == 0;
	if (ok) {
		memcpy(buf, c->ct, n);
		ok = sl_aead_open(mgr, k, c->iv, c->aad, c->aad_len, buf, n, buf, c->tag) &&
		     memcmp(buf, c->msg, n) == 0;
	}
	free(buf);
	free(out);
	return ok;
}

/* Opening must fail and leave nothing but zeros behind. */
static bool
wp_check_rejected(IMB_MGR *mgr, const struct sl_aead_key *k, const struct wp_case *c)
{
	size_t n = c->ct_len;
	uint8_t *out = malloc(n + 1);
	bool rejected;

	if (out == NULL)
		return false;
	memset(out, 0xa5, n);
	rejected = !sl_aead_open(mgr, k, c->iv, c->aad, c->aad_len, c->ct, n, out, c->tag) &&
		   all_zero(out, n);
	free(out);
	return rejected;
}

static bool
wp_run_one(IMB_MGR *mgr, enum sl_aead_alg alg, const json_t *t, struct wp_tally *tally)
{
	const char *result = json_string_value(json_object_get(t, "result"));
	struct sl_aead_key k;
	struct wp_case c;
	bool ok = false;

	if (!wp_case_load(t, &c) || result == NULL || c.tag_len != SL_TAG_LEN ||
	    c.iv_len != SL_NONCE_LEN)
		goto out;
	if (sl_aead_key_set(&k, mgr, alg, c.key, c.key_len) != 0)
		goto out;

	if (strcmp(result, "valid") == 0) {
		tally->valid++;
		ok = wp_check_valid(mgr, &k, &c);
	} else if (strcmp(result, "invalid") == 0) {
		tally->invalid++;
		ok = wp_check_rejected(mgr, &k, &c);
	} else if (strcmp(result, "acceptable") == 0) {
		tally->acceptable++;
		ok = wp_check_rejected(mgr, &k, &c) || wp_check_valid(mgr, &k, &c);
	}
	sl_aead_key_wipe(&k);
out:
	wp_case_free(&c);
	return ok;
}

static void
wp_run_file(const char *file, group_alg_fn group_alg, struct wp_tally *tally)
{
	IMB_MGR *mgr = sl_aead_thread_mgr();
	json_t *root = vec_load(file), *groups, *g, *t;
	size_t gi, ti;

	memset(tally, 0, sizeof(*tally));
	CU_ASSERT_PTR_NOT_NULL_FATAL(mgr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	tally->declared = (unsigned int)json_integer_value(json_object_get(root, "numberOfTests"));
	groups = json_object_get(root, "testGroups");
	CU_ASSERT_FATAL(json_is_array(groups));

	json_array_foreach (groups, gi, g) {
		enum sl_aead_alg alg = group_alg(g);
		const json_t *tests = json_object_get(g, "tests");

		tally->in_file += json_array_size(tests);
		if (alg == SL_AEAD_NONE)
			continue;
		tally->eligible += json_array_size(tests);
		json_array_foreach (tests, ti, t) {
			tally->ran++;
			if (!wp_run_one(mgr, alg, t, tally)) {
				tally->failures++;
				fprintf(stderr, "%s: tcId %lld failed\n", file,
					json_integer_value(json_object_get(t, "tcId")));
			}
		}
	}
	json_decref(root);
	printf("\n  %s: ran %u of %u tests (valid %u, invalid %u, acceptable %u), %u failed\n",
	       file, tally->ran, tally->in_file, tally->valid, tally->invalid, tally->acceptable,
	       tally->failures);
}

static void
test_wycheproof_aes_gcm(void)
{
	struct wp_tally t;

	wp_run_file("wycheproof/aes_gcm_test.json", gcm_group_alg, &t);
	CU_ASSERT_EQUAL(t.failures, 0);
	CU_ASSERT_EQUAL(t.in_file, t.declared); /* no test array was truncated */
	CU_ASSERT_EQUAL(t.ran, t.eligible);
	CU_ASSERT(t.ran >= MIN_AES_GCM_VECTORS);
	CU_ASSERT(t.valid > 0 && t.invalid > 0);
}

static void
test_wycheproof_chacha20_poly1305(void)
{
	struct wp_tally t;

	wp_run_file("wycheproof/chacha20_poly1305_test.json", chacha_group_alg, &t);
	CU_ASSERT_EQUAL(t.failures, 0);
	CU_ASSERT_EQUAL(t.in_file, t.declared);
	CU_ASSERT_EQUAL(t.ran, t.eligible);
	CU_ASSERT(t.ran >= MIN_CHACHA_VECTORS);
	CU_ASSERT(t.valid > 0 && t.invalid > 0);
}

static const enum sl_aead_alg all_algs[] = {
	SL_AEAD_AES128_GCM,
	SL_AEAD_AES256_GCM,
	SL_AEAD_CHACHA20_POLY1305,
};

static void
test_key_validation(void)
{
	IMB_MGR *mgr = sl_aead_thread_mgr();
	uint8_t raw[64] = { 1 };
	struct sl_aead_key k;

	CU_ASSERT_EQUAL(sl_aead_key_set(&k, mgr, SL_AEAD_AES256_GCM, raw, 16), -EINVAL);
	CU_ASSERT_EQUAL(sl_aead_key_set(&k, mgr, SL_AEAD_AES128_GCM, raw, 32), -EINVAL);
	CU_ASSERT_EQUAL(sl_aead_key_set(&k, mgr, SL_AEAD_CHACHA20_POLY1305, raw, 0), -EINVAL);
	CU_ASSERT_EQUAL(sl_aead_key_set(&k, mgr, SL_AEAD_NONE, raw, 32), -EINVAL);
	CU_ASSERT_EQUAL(sl_aead_key_set(&k, mgr, (enum sl_aead_alg)99, raw, 32), -EINVAL);
	CU_ASSERT_EQUAL(sl_aead_key_set(&k, mgr, SL_AEAD_AES256_GCM, raw, 32), 0);
	sl_aead_key_wipe(&k);
	CU_ASSERT(all_zero((const uint8_t *)&k, sizeof(k)));
}

static void
test_nonce_layout(void)
{
	static const uint8_t be[SL_NONCE_LEN] = { 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t le[SL_NONCE_LEN] = { 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1 };
	uint8_t n[SL_NONCE_LEN];

	sl_aead_nonce_be(n, 0x0102030405060708ull);
	CU_ASSERT_EQUAL(memcmp(n, be, sizeof(n)), 0);
	sl_aead_nonce_le(n, 0x0102030405060708ull);
	CU_ASSERT_EQUAL(memcmp(n, le, sizeof(n)), 0);
}

/* Every single-bit change to ciphertext, tag, associated data or nonce is rejected and the
 * output is zeroed; the untouched packet still opens. */
static void
tamper_one_alg(IMB_MGR *mgr, enum sl_aead_alg alg)
{
	uint8_t key[32], nonce[SL_NONCE_LEN], aad[16], pt[61], ct[61], out[61], tag[SL_TAG_LEN];
	struct sl_aead_key k;
	unsigned int rejected = 0, trials = 0;

	randombytes_buf(key, sizeof(key));
	randombytes_buf(nonce, sizeof(nonce));
	randombytes_buf(aad, sizeof(aad));
	randombytes_buf(pt, sizeof(pt));
	CU_ASSERT_EQUAL_FATAL(sl_aead_key_set(&k, mgr, alg, key, sl_aead_key_len(alg)), 0);
	sl_aead_seal(mgr, &k, nonce, aad, sizeof(aad), pt, sizeof(pt), ct, tag);
	CU_ASSERT(sl_aead_open(mgr, &k, nonce, aad, sizeof(aad), ct, sizeof(ct), out, tag));
	CU_ASSERT_EQUAL(memcmp(out, pt, sizeof(pt)), 0);

	uint8_t *fields[] = { ct, tag, aad, nonce };
	size_t lens[] = { sizeof(ct), sizeof(tag), sizeof(aad), sizeof(nonce) };

	for (size_t f = 0; f < RTE_DIM(fields); f++) {
		for (size_t bit = 0; bit < lens[f] * 8; bit++) {
			fields[f][bit / 8] ^= (uint8_t)(1u << (bit % 8));
			memset(out, 0x5a, sizeof(out));
			trials++;
			if (!sl_aead_open(mgr, &k, nonce, aad, sizeof(aad), ct, sizeof(ct), out,
					  tag) &&
			    all_zero(out, sizeof(out)))
				rejected++;
			fields[f][bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
	}
	CU_ASSERT_EQUAL(rejected, trials);
	CU_ASSERT(sl_aead_open(mgr, &k, nonce, aad, sizeof(aad), ct, sizeof(ct), out, tag));
	sl_aead_key_wipe(&k);
}

static void
test_tamper_rejected(void)
{
	for (size_t i = 0; i < RTE_DIM(all_algs); i++)
		tamper_one_alg(sl_aead_thread_mgr(), all_algs[i]);
}

/* In-place and out-of-place give the same bytes, for every length from 0 to 1600 (covers
 * partial blocks, one full Ethernet payload and the no-data case). */
static void
test_in_place_matches_out_of_place(void)
{
	IMB_MGR *mgr = sl_aead_thread_mgr();
	static uint8_t pt[1600], a[1600], b[1600];
	uint8_t key[32], nonce[SL_NONCE_LEN], aad[16], ta[SL_TAG_LEN], tb[SL_TAG_LEN];
	unsigned int mismatches = 0;

	randombytes_buf(key, sizeof(key));
	randombytes_buf(aad, sizeof(aad));
	randombytes_buf(pt, sizeof(pt));
	for (size_t i = 0; i < RTE_DIM(all_algs); i++) {
		struct sl_aead_key k;

		CU_ASSERT_EQUAL_FATAL(
			sl_aead_key_set(&k, mgr, all_algs[i], key, sl_aead_key_len(all_algs[i])),
			0);
		for (size_t len = 0; len <= sizeof(pt); len += (len < 70 ? 1 : 37)) {
			sl_aead_nonce_be(nonce, len);
			sl_aead_seal(mgr, &k, nonce, aad, len % 17, pt, len, a, ta);
			memcpy(b, pt, len);
			sl_aead_seal(mgr, &k, nonce, aad, len % 17, b, len, b, tb);
			if (memcmp(a, b, len) != 0 || memcmp(ta, tb, SL_TAG_LEN) != 0)
				mismatches++;
			if (!sl_aead_open(mgr, &k, nonce, aad, len % 17, b, len, b, tb) ||
			    memcmp(b, pt, len) != 0)
				mismatches++;
		}
		sl_aead_key_wipe(&k);
	}
	CU_ASSERT_EQUAL(mismatches, 0);
}

/* Keys are shareable, managers are per thread: two threads with their own managers produce
 * the same ciphertext from one shared key. */
struct thread_arg {
	const struct sl_aead_key *k;
	uint8_t out[4][256 + SL_TAG_LEN];
	int rc;
};

static void *
seal_in_thread(void *p)
{
	struct thread_arg *arg = p;
	IMB_MGR *mgr = sl_aead_thread_mgr();
	uint8_t pt[256] = { 7 }, nonce[SL_NONCE_LEN];

	arg->rc = mgr == NULL ? -1 : 0;
	for (int i = 0; mgr != NULL && i < 4; i++) {
		sl_aead_nonce_be(nonce, (uint64_t)i);
		sl_aead_seal(mgr, arg->k, nonce, NULL, 0, pt, sizeof(pt), arg->out[i],
			     arg->out[i] + sizeof(pt));
	}
	sl_aead_thread_mgr_release();
	return NULL;
}

static void
test_per_thread_managers(void)
{
	static struct thread_arg a1, a2;
	uint8_t key[32] = { 3 };
	struct sl_aead_key k;
	pthread_t t1, t2;

	CU_ASSERT_EQUAL_FATAL(
		sl_aead_key_set(&k, sl_aead_thread_mgr(), SL_AEAD_AES256_GCM, key, sizeof(key)), 0);
	a1.k = a2.k = &k;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t1, NULL, seal_in_thread, &a1), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t2, NULL, seal_in_thread, &a2), 0);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	CU_ASSERT_EQUAL(a1.rc, 0);
	CU_ASSERT_EQUAL(a2.rc, 0);
	CU_ASSERT_EQUAL(memcmp(a1.out, a2.out, sizeof(a1.out)), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a1.out[0], a1.out[1], sizeof(a1.out[0])), 0);
	sl_aead_key_wipe(&k);
}

static void
test_release_thread_mgr(void)
{
	sl_aead_thread_mgr_release();
	CU_PASS("released");
}

static CU_TestInfo cases[] = {
	{ "wycheproof AES-GCM (96-bit IV, 128/256-bit keys)", test_wycheproof_aes_gcm },
	{ "wycheproof ChaCha20-Poly1305 (96-bit nonce)", test_wycheproof_chacha20_poly1305 },
	{ "key length and algorithm validation", test_key_validation },
	{ "nonce layout big/little endian", test_nonce_layout },
	{ "any single-bit change is rejected, output zeroed", test_tamper_rejected },
	{ "in place equals out of place, 0..1600 bytes", test_in_place_matches_out_of_place },
	{ "one manager per thread, shared key", test_per_thread_managers },
	{ "release the thread manager", test_release_thread_mgr },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("aead", cases)
