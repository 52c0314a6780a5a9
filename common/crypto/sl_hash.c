/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: hashes, HMAC and the Noise HKDF (see sl_hash.h).
 */
#include <string.h>

#include "sl_hash.h"

#define B2B_BLOCK 128
#define B2B_OUT	  crypto_generichash_BYTES_MAX /* 64 */

size_t
sl_hash_len(enum sl_hash_alg alg)
{
	return alg == SL_HASH_BLAKE2B ? B2B_OUT : crypto_hash_sha256_BYTES;
}

void
sl_hash2(enum sl_hash_alg alg, uint8_t *out, const uint8_t *a, size_t a_len, const uint8_t *b,
	 size_t b_len)
{
	if (alg == SL_HASH_BLAKE2B) {
		crypto_generichash_state st;

		crypto_generichash_init(&st, NULL, 0, B2B_OUT);
		crypto_generichash_update(&st, a, a_len);
		if (b_len)
			crypto_generichash_update(&st, b, b_len);
		crypto_generichash_final(&st, out, B2B_OUT);
	} else {
		crypto_hash_sha256_state st;

		crypto_hash_sha256_init(&st);
		crypto_hash_sha256_update(&st, a, a_len);
		if (b_len)
			crypto_hash_sha256_update(&st, b, b_len);
		crypto_hash_sha256_final(&st, out);
	}
}

/* HMAC-BLAKE2b: H((K ^ opad) || H((K ^ ipad) || m)) with a 128-byte block. */
static void
b2b_hmac_init(struct cp_hmac *st, const uint8_t *key, size_t key_len)
{
	uint8_t k[B2B_BLOCK] = { 0 }, ikey[B2B_BLOCK];

	if (key_len > B2B_BLOCK)
		crypto_generichash(k, B2B_OUT, key, key_len, NULL, 0);
	else
		memcpy(k, key, key_len);
	for (size_t i = 0; i < B2B_BLOCK; i++) {
		ikey[i] = k[i] ^ 0x36;
		st->b2b.okey[i] = k[i] ^ 0x5c;
	}
	crypto_generichash_init(&st->b2b.inner, NULL, 0, B2B_OUT);
	crypto_generichash_update(&st->b2b.inner, ikey, sizeof(ikey));
	sodium_memzero(k, sizeof(k));
	sodium_memzero(ikey, sizeof(ikey));
}

void
cp_hmac_init(struct cp_hmac *st, enum sl_hash_alg alg, const uint8_t *key, size_t key_len)
{
	st->alg = alg;
	if (alg == SL_HASH_BLAKE2B)
		b2b_hmac_init(st, key, key_len);
	else
		crypto_auth_hmacsha256_init(&st->sha256, key, key_len);
}

void
cp_hmac_update(struct cp_hmac *st, const uint8_t *data, size_t len)
{
	if (len == 0)
		return;
	if (st->alg == SL_HASH_BLAKE2B)
		crypto_generichash_update(&st->b2b.inner, data, len);
	else
		crypto_auth_hmacsha256_update(&st->sha256, data, len);
}

void
cp_hmac_final(struct cp_hmac *st, uint8_t *out)
{
	if (st->alg == SL_HASH_BLAKE2B) {
		uint8_t inner[B2B_OUT];
		crypto_generichash_state outer;

		crypto_generichash_final(&st->b2b.inner, inner, B2B_OUT);
		crypto_generichash_init(&outer, NULL, 0, B2B_OUT);
		crypto_generichash_update(&outer, st->b2b.okey, B2B_BLOCK);
		crypto_generichash_update(&outer, inner, B2B_OUT);
		crypto_generichash_final(&outer, out, B2B_OUT);
		sodium_memzero(inner, sizeof(inner));
	} else {
		crypto_auth_hmacsha256_final(&st->sha256, out);
	}
	sodium_memzero(st, sizeof(*st));
}

void
cp_hmac(enum sl_hash_alg alg, uint8_t *out, const uint8_t *key, size_t key_len, const uint8_t *data,
	size_t len)
{
	struct cp_hmac st;

	cp_hmac_init(&st, alg, key, key_len);
	cp_hmac_update(&st, data, len);
	cp_hmac_final(&st, out);
}

/* out_i = HMAC(temp_key, out_{i-1} || i), out_0 empty. */
static void
hkdf_expand_one(enum sl_hash_alg alg, const uint8_t *temp_key, const uint8_t *prev, uint8_t index,
		uint8_t *out)
{
	size_t hl = sl_hash_len(alg);
	struct cp_hmac st;

	cp_hmac_init(&st, alg, temp_key, hl);
	if (prev != NULL)
		cp_hmac_update(&st, prev, hl);
	cp_hmac_update(&st, &index, 1);
	cp_hmac_final(&st, out);
}

void
cp_hkdf(enum sl_hash_alg alg, const uint8_t *ck, const uint8_t *ikm, size_t ikm_len, uint8_t *out1,
	uint8_t *out2, uint8_t *out3)
{
	uint8_t temp_key[SL_HASH_MAX_LEN];
	size_t hl = sl_hash_len(alg);

	cp_hmac(alg, temp_key, ck, hl, ikm, ikm_len);
	hkdf_expand_one(alg, temp_key, NULL, 1, out1);
	hkdf_expand_one(alg, temp_key, out1, 2, out2);
	if (out3 != NULL)
		hkdf_expand_one(alg, temp_key, out2, 3, out3);
	sodium_memzero(temp_key, sizeof(temp_key));
}
