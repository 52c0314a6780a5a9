/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: signatures by a node's identity — its X25519 static key — that anyone who knows the
 * node id (its X25519 public key) can check, for messages that reach a node through others
 * (docs/protocol.md, 17.3).
 *
 * The clamped X25519 private scalar k signs as an Ed25519 key whose public point is A = k·B on
 * edwards25519. The birational map between the curves takes A to the Montgomery point k·B_M,
 * whose u-coordinate is the node id: libsodium's crypto_sign_ed25519_pk_to_curve25519(A) gives
 * it back. A cannot be recomputed from u alone (u fixes A's y, not the sign of its x), so the
 * signature carries A:
 *
 *     signature (96 bytes) = A (32) || R (32) || S (32)
 *
 * R || S is an Ed25519 signature (RFC 8032 verification, libsodium's
 * crypto_sign_verify_detached, strict: canonical encodings, S < L, A not of small order) under
 * A of the 64-byte digest M = SHA-512(SL_SIGN_DOMAIN || msg) (the domain keeps these
 * signatures apart from any other use of the key). Signing: r = SHA-512(prefix || M) mod L with
 * prefix = BLAKE2b-256 keyed by k of a fixed label (secret and deterministic: no random number
 * needed, none reused across messages), R = r·B, h = SHA-512(R || A || M) mod L,
 * S = r + h·k mod L. A verifier checks that A converts to the node id, then the signature.
 * Forging one for a node id needs k (or -k, which gives -A: the same u).
 *
 * A node whose identity came from an Ed25519 key (k = the clamped first half of SHA-512 of its
 * seed, crypto_sign_ed25519_sk_to_curve25519) signs under that same Ed25519 public key, and
 * libsodium's own signatures by it verify here (test_sign checks both ways).
 *
 * Any thread; no state.
 */
#ifndef SL_SIGN_H
#define SL_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "sl_limits.h"

#define SL_SIGN_LEN    96
#define SL_SIGN_DOMAIN "sluice identity signature v1"

/* Sign msg with the node's X25519 private key. 0, or -EINVAL if the key's scalar is 0 mod L
 * (impossible for a clamped key; checked anyway). The signature is deterministic. */
int sl_sign(uint8_t sig[SL_SIGN_LEN], const uint8_t *msg, size_t len,
	    const uint8_t priv[SL_KEY_LEN]) __rte_warn_unused_result;

/* Is sig a signature of msg by the node whose id (X25519 public key) is node_id? */
bool sl_sign_verify(const uint8_t sig[SL_SIGN_LEN], const uint8_t *msg, size_t len,
		    const uint8_t node_id[SL_KEY_LEN]) __rte_warn_unused_result;

/* The Ed25519 check itself (RFC 8032, strict): is rs a signature of m under public key a?
 * sl_sign_verify() calls it on its digest; test_sign runs it on the Wycheproof vectors. */
bool sl_sign_ed25519_verify(const uint8_t rs[64], const uint8_t *m, size_t len,
			    const uint8_t a[32]) __rte_warn_unused_result;

#endif /* SL_SIGN_H */
