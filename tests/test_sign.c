/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: signatures by a node's identity (sl_sign.h). The Ed25519 check it rests on against
 * every Wycheproof ed25519 vector, loaded at run time; then signatures by X25519 keys: they
 * verify under the node id, are deterministic, and anything altered (a byte of the message or
 * of the signature, another node id, a signature moved to another message) is refused; and
 * against libsodium's own Ed25519: a node whose X25519 key comes from an Ed25519 key signs
 * under that Ed25519 public key, and libsodium's signatures by it verify as the node's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sl_dh.h"
#include "sl_sign.h"
#include "sl_test.h"
#include "vec.h"

#define ED25519_VECTORS 151 /* tests in the file this project was written against */

struct tally {
	unsigned int ran, valid, invalid, failures;
};

static void
run_group(const json_t *g, struct tally *t)
{
	const json_t *key = json_object_get(g, "publicKey"), *test;
	size_t pk_len = 0, i;
	uint8_t *pk = vec_hex(key, "pk", &pk_len);

	CU_ASSERT_FATAL(pk != NULL && pk_len == 32);
	json_array_foreach (json_object_get(g, "tests"), i, test) {
		const char *result = json_string_value(json_object_get(test, "result"));
		size_t msg_len = 0, sig_len = 0;
		uint8_t *msg = vec_hex(test, "msg", &msg_len),
			*sig = vec_hex(test, "sig", &sig_len);
		bool valid = result != NULL && strcmp(result, "valid") == 0;
		bool ok = sig_len == 64 && sl_sign_ed25519_verify(sig, msg, msg_len, pk);

		t->ran++;
		t->valid += valid;
		t->invalid += !valid;
		if (ok != valid) {
			t->failures++;
			printf("\n  tcId %lld: %s, verified %d",
			       (long long)json_integer_value(json_object_get(test, "tcId")), result,
			       ok);
		}
		free(msg);
		free(sig);
	}
	free(pk);
}

static void
test_wycheproof_ed25519(void)
{
	json_t *root = vec_load("wycheproof/ed25519_test.json"), *g;
	struct tally t = { 0 };
	size_t gi;

	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	json_array_foreach (json_object_get(root, "testGroups"), gi, g)
		run_group(g, &t);
	printf("\n  %u ed25519 vectors (%u valid, %u invalid), %u failures ", t.ran, t.valid,
	       t.invalid, t.failures);
	CU_ASSERT(t.ran >= ED25519_VECTORS);
	CU_ASSERT(t.valid > 0 && t.invalid > 0);
	CU_ASSERT_EQUAL(t.failures, 0);
	json_decref(root);
}

static void
test_sign_verify(void)
{
	static const uint8_t msg[] = "a message that travels through other nodes";
	uint8_t priv[SL_KEY_LEN], id[SL_KEY_LEN], other_priv[SL_KEY_LEN], other[SL_KEY_LEN];
	uint8_t sig[SL_SIGN_LEN], again[SL_SIGN_LEN], m2[sizeof(msg)];

	for (int round = 0; round < 32; round++) {
		sl_dh_keygen(priv, id);
		sl_dh_keygen(other_priv, other);
		CU_ASSERT_FATAL(sl_sign(sig, msg, sizeof(msg), priv) == 0);
		CU_ASSERT(sl_sign_verify(sig, msg, sizeof(msg), id));
		CU_ASSERT(sl_sign(again, msg, sizeof(msg), priv) == 0);
		CU_ASSERT(memcmp(sig, again, sizeof(sig)) == 0); /* deterministic */
		CU_ASSERT(!sl_sign_verify(sig, msg, sizeof(msg), other));
		CU_ASSERT(!sl_sign_verify(sig, msg, sizeof(msg) - 1, id));
		memcpy(m2, msg, sizeof(msg));
		m2[round % sizeof(m2)] ^= 1;
		CU_ASSERT(!sl_sign_verify(sig, m2, sizeof(m2), id));
		for (size_t i = 0; i < SL_SIGN_LEN; i++) {
			sig[i] ^= (uint8_t)(1u << (i % 8));
			CU_ASSERT(!sl_sign_verify(sig, msg, sizeof(msg), id));
			sig[i] ^= (uint8_t)(1u << (i % 8));
		}
		/* the other key's signature of the same message, carrying our A: refused */
		CU_ASSERT_FATAL(sl_sign(again, msg, sizeof(msg), other_priv) == 0);
		memcpy(again, sig, 32);
		CU_ASSERT(!sl_sign_verify(again, msg, sizeof(msg), id));
		/* the empty message signs too */
		CU_ASSERT(sl_sign(sig, NULL, 0, priv) == 0 && sl_sign_verify(sig, NULL, 0, id));
	}
}

/* M = SHA-512(domain || msg), as sl_sign.h says. */
static void
digest(uint8_t m[64], const uint8_t *msg, size_t len)
{
	size_t dl = strlen(SL_SIGN_DOMAIN);
	uint8_t *buf = malloc(dl + len);

	CU_ASSERT_FATAL(buf != NULL);
	memcpy(buf, SL_SIGN_DOMAIN, dl);
	memcpy(buf + dl, msg, len);
	crypto_hash_sha512(m, buf, dl + len);
	free(buf);
}

static void
test_against_libsodium(void)
{
	static const uint8_t msg[] = "gossip";
	uint8_t seed[32], ed_pk[32], ed_sk[64], x_priv[32], x_pub[32], id[32];
	uint8_t sig[SL_SIGN_LEN], m[64];

	for (int round = 0; round < 32; round++) {
		randombytes_buf(seed, sizeof(seed));
		CU_ASSERT_FATAL(crypto_sign_seed_keypair(ed_pk, ed_sk, seed) == 0);
		CU_ASSERT_FATAL(crypto_sign_ed25519_sk_to_curve25519(x_priv, ed_sk) == 0);
		CU_ASSERT_FATAL(sl_dh_pubkey(x_pub, x_priv) == 0);
		CU_ASSERT_FATAL(crypto_sign_ed25519_pk_to_curve25519(id, ed_pk) == 0);
		CU_ASSERT(memcmp(id, x_pub, 32) == 0); /* the same node, either way */
		/* ours: A is the Ed25519 public key; libsodium verifies R || S under it */
		CU_ASSERT_FATAL(sl_sign(sig, msg, sizeof(msg), x_priv) == 0);
		CU_ASSERT(memcmp(sig, ed_pk, 32) == 0);
		digest(m, msg, sizeof(msg));
		CU_ASSERT(crypto_sign_verify_detached(sig + 32, m, sizeof(m), ed_pk) == 0);
		/* libsodium's: verifies as the node's */
		memcpy(sig, ed_pk, 32);
		CU_ASSERT_FATAL(crypto_sign_detached(sig + 32, NULL, m, sizeof(m), ed_sk) == 0);
		CU_ASSERT(sl_sign_verify(sig, msg, sizeof(msg), x_pub));
	}
	sodium_memzero(ed_sk, sizeof(ed_sk));
	sodium_memzero(x_priv, sizeof(x_priv));
}

static CU_TestInfo cases[] = {
	{ "Ed25519 check: every Wycheproof vector", test_wycheproof_ed25519 },
	{ "sign with an X25519 key, verify by node id; alterations refused", test_sign_verify },
	{ "the same as libsodium's Ed25519, both ways", test_against_libsodium },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("sign", cases)
