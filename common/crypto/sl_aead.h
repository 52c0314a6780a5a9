/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: AEAD over Intel ipsec-mb.
 *
 * AES-128/256-GCM through ipsec-mb's direct GCM API, ChaCha20-Poly1305 through its job API.
 * 96-bit nonce, 16-byte tag, associated data, in place (src == dst) or out of place.
 *
 * Threading: an IMB_MGR is not thread-safe. Every thread uses its own manager: dataplane lcores
 * create one each with sl_aead_mgr_create(); the control thread and tests may use
 * sl_aead_thread_mgr(), a lazily created per-thread manager. A sl_aead_key is read-only after
 * sl_aead_key_set() and may be shared between threads.
 *
 * No DPDK runtime dependency: usable from the dataplane, the control plane and tests.
 */
#ifndef SL_AEAD_H
#define SL_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <intel-ipsec-mb.h>
#include <rte_common.h>

#include "sl_limits.h"

enum sl_aead_alg {
	SL_AEAD_NONE = 0,
	SL_AEAD_AES128_GCM,
	SL_AEAD_AES256_GCM,
	SL_AEAD_CHACHA20_POLY1305,
};

struct sl_aead_key {
	union {
		struct gcm_key_data gcm;    /* expanded AES round keys + GHASH powers */
		uint8_t chacha[SL_KEY_LEN]; /* ChaCha20 key as given */
	};
	enum sl_aead_alg alg;
};

/* Allocate and initialise a manager for the best instruction set of this CPU.
 * Returns NULL with errno set on failure. */
IMB_MGR *sl_aead_mgr_create(void);
void sl_aead_mgr_free(IMB_MGR *mgr);

/* The calling thread's own manager, created on first use; NULL with errno on failure.
 * sl_aead_thread_mgr_release() frees it (call before the thread exits). */
IMB_MGR *sl_aead_thread_mgr(void);
void sl_aead_thread_mgr_release(void);

/* Key length in bytes an algorithm takes (16 or 32), 0 for an unknown algorithm. */
size_t sl_aead_key_len(enum sl_aead_alg alg);

/* Expand a raw key for alg. Returns 0, or -EINVAL for a wrong length or algorithm. */
int sl_aead_key_set(struct sl_aead_key *k, IMB_MGR *mgr, enum sl_aead_alg alg, const uint8_t *key,
		    size_t key_len) __rte_warn_unused_result;

/* Zero every byte of expanded key material. */
void sl_aead_key_wipe(struct sl_aead_key *k);

/* Encrypt len bytes of src into dst (may equal src) and write the 16-byte tag. */
void sl_aead_seal(IMB_MGR *mgr, const struct sl_aead_key *k, const uint8_t nonce[SL_NONCE_LEN],
		  const uint8_t *aad, size_t aad_len, const uint8_t *src, size_t len, uint8_t *dst,
		  uint8_t tag[SL_TAG_LEN]);

/* Decrypt len bytes of src into dst (may equal src) and verify tag in constant time.
 * Returns true only when the tag is authentic; on failure dst is zeroed, so no unverified
 * plaintext ever leaves this function. */
bool sl_aead_open(IMB_MGR *mgr, const struct sl_aead_key *k, const uint8_t nonce[SL_NONCE_LEN],
		  const uint8_t *aad, size_t aad_len, const uint8_t *src, size_t len, uint8_t *dst,
		  const uint8_t tag[SL_TAG_LEN]) __rte_warn_unused_result;

/* 96-bit nonce from a 64-bit counter: four zero bytes, then the counter big-endian (data
 * packets, Noise AESGCM) or little-endian (Noise ChaChaPoly). */
void sl_aead_nonce_be(uint8_t nonce[SL_NONCE_LEN], uint64_t counter);
void sl_aead_nonce_le(uint8_t nonce[SL_NONCE_LEN], uint64_t counter);

#endif /* SL_AEAD_H */
