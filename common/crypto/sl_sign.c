/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: signatures by a node's identity (see sl_sign.h), on libsodium's edwards25519
 * arithmetic and its Ed25519 verification.
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "sl_sign.h"

#define PREFIX_LABEL "sluice identity signature nonce key"

static_assert(SL_SIGN_LEN == 3 * 32, "A || R || S");
static_assert(SL_KEY_LEN == crypto_core_ed25519_SCALARBYTES, "an X25519 key is a scalar");

/* M = SHA-512(domain || msg). */
static void
digest(uint8_t m[crypto_hash_sha512_BYTES], const uint8_t *msg, size_t len)
{
	crypto_hash_sha512_state st;

	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, (const uint8_t *)SL_SIGN_DOMAIN, strlen(SL_SIGN_DOMAIN));
	crypto_hash_sha512_update(&st, msg, len);
	crypto_hash_sha512_final(&st, m);
}

/* SHA-512 of a || b || c, reduced mod L. */
static void
hash_scalar(uint8_t out[32], const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
	    const uint8_t *c, size_t clen)
{
	uint8_t h[crypto_hash_sha512_BYTES];
	crypto_hash_sha512_state st;

	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, a, alen);
	crypto_hash_sha512_update(&st, b, blen);
	crypto_hash_sha512_update(&st, c, clen);
	crypto_hash_sha512_final(&st, h);
	crypto_core_ed25519_scalar_reduce(out, h);
	sodium_memzero(h, sizeof(h));
}

int
sl_sign(uint8_t sig[SL_SIGN_LEN], const uint8_t *msg, size_t len, const uint8_t priv[SL_KEY_LEN])
{
	uint8_t k[32], wide[64] = { 0 }, kred[32], prefix[32], m[crypto_hash_sha512_BYTES];
	uint8_t r[32], h[32], hk[32];
	uint8_t *A = sig, *R = sig + 32, *S = sig + 64;
	int rc = -EINVAL;

	memcpy(k, priv, sizeof(k)); /* the X25519 clamping: what the key is as a scalar */
	k[0] &= 248;
	k[31] &= 127;
	k[31] |= 64;
	memcpy(wide, k, sizeof(k));
	crypto_core_ed25519_scalar_reduce(kred, wide);
	if (sodium_is_zero(kred, sizeof(kred)) || crypto_scalarmult_ed25519_base_noclamp(A, k) != 0)
		goto out;
	crypto_generichash(prefix, sizeof(prefix), (const uint8_t *)PREFIX_LABEL,
			   strlen(PREFIX_LABEL), k, sizeof(k));
	digest(m, msg, len);
	hash_scalar(r, prefix, sizeof(prefix), m, sizeof(m), NULL, 0);
	if (crypto_scalarmult_ed25519_base_noclamp(R, r) != 0) /* r == 0: 2^-252 */
		goto out;
	hash_scalar(h, R, 32, A, 32, m, sizeof(m));
	crypto_core_ed25519_scalar_mul(hk, h, kred);
	crypto_core_ed25519_scalar_add(S, r, hk);
	rc = 0;
out:
	sodium_memzero(k, sizeof(k));
	sodium_memzero(wide, sizeof(wide));
	sodium_memzero(kred, sizeof(kred));
	sodium_memzero(prefix, sizeof(prefix));
	sodium_memzero(r, sizeof(r));
	sodium_memzero(hk, sizeof(hk));
	if (rc != 0)
		sodium_memzero(sig, SL_SIGN_LEN);
	return rc;
}

bool
sl_sign_ed25519_verify(const uint8_t rs[64], const uint8_t *m, size_t len, const uint8_t a[32])
{
	return crypto_sign_verify_detached(rs, m, len, a) == 0;
}

bool
sl_sign_verify(const uint8_t sig[SL_SIGN_LEN], const uint8_t *msg, size_t len,
	       const uint8_t node_id[SL_KEY_LEN])
{
	uint8_t u[SL_KEY_LEN], m[crypto_hash_sha512_BYTES];

	/* A must be the node's: its Montgomery form is the node id */
	if (crypto_sign_ed25519_pk_to_curve25519(u, sig) != 0 ||
	    sodium_memcmp(u, node_id, SL_KEY_LEN) != 0)
		return false;
	digest(m, msg, len);
	return sl_sign_ed25519_verify(sig + 32, m, sizeof(m), sig);
}
