/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: hashes, HMAC and the Noise HKDF for the handshake.
 *
 * SHA-256 and BLAKE2b-512 come from libsodium. HMAC-SHA256 is libsodium's; HMAC-BLAKE2b is built
 * here from the HMAC definition (RFC 2104) with BLAKE2b's 128-byte block, because libsodium's
 * keyed BLAKE2b is a different construction. No DPDK dependency; any thread.
 */
#ifndef SL_HASH_H
#define SL_HASH_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "sl_limits.h"

enum sl_hash_alg {
	SL_HASH_SHA256,
	SL_HASH_BLAKE2B,
};

/* Output length (HASHLEN): 32 for SHA-256, 64 for BLAKE2b. */
size_t sl_hash_len(enum sl_hash_alg alg);

/* HASH(a || b); b may be NULL with b_len 0. out holds sl_hash_len(alg) bytes. */
void sl_hash2(enum sl_hash_alg alg, uint8_t *out, const uint8_t *a, size_t a_len, const uint8_t *b,
	      size_t b_len);

/* Incremental HMAC over either hash. Keys longer than the block are hashed first. */
struct cp_hmac {
	enum sl_hash_alg alg;
	union {
		crypto_auth_hmacsha256_state sha256;
		struct {
			crypto_generichash_state inner;
			uint8_t okey[128]; /* key ^ opad */
		} b2b;
	};
};

void cp_hmac_init(struct cp_hmac *st, enum sl_hash_alg alg, const uint8_t *key, size_t key_len);
void cp_hmac_update(struct cp_hmac *st, const uint8_t *data, size_t len);
/* Writes sl_hash_len(alg) bytes and wipes the state. */
void cp_hmac_final(struct cp_hmac *st, uint8_t *out);

/* One-shot HMAC-HASH(key, data). */
void cp_hmac(enum sl_hash_alg alg, uint8_t *out, const uint8_t *key, size_t key_len,
	     const uint8_t *data, size_t len);

/* Noise HKDF(chaining_key, input_key_material, num_outputs): out1 and out2 always, out3 when
 * not NULL; each HASHLEN bytes. ck is HASHLEN bytes. */
void cp_hkdf(enum sl_hash_alg alg, const uint8_t *ck, const uint8_t *ikm, size_t ikm_len,
	     uint8_t *out1, uint8_t *out2, uint8_t *out3);

#endif /* SL_HASH_H */
