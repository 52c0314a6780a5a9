/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: AEAD over Intel ipsec-mb (see sl_aead.h).
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "sl_aead.h"

static __thread IMB_MGR *thread_mgr;

/* ipsec-mb wants a valid pointer even for zero-length associated data or messages. */
static const uint8_t empty[SL_TAG_LEN];

IMB_MGR *
sl_aead_mgr_create(void)
{
	IMB_MGR *mgr = alloc_mb_mgr(0);

	if (mgr == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	init_mb_mgr_auto(mgr, NULL);
	if (imb_get_errno(mgr) != 0) {
		free_mb_mgr(mgr);
		errno = ENOTSUP;
		return NULL;
	}
	return mgr;
}

void
sl_aead_mgr_free(IMB_MGR *mgr)
{
	if (mgr != NULL)
		free_mb_mgr(mgr);
}

IMB_MGR *
sl_aead_thread_mgr(void)
{
	if (thread_mgr == NULL)
		thread_mgr = sl_aead_mgr_create();
	return thread_mgr;
}

void
sl_aead_thread_mgr_release(void)
{
	sl_aead_mgr_free(thread_mgr);
	thread_mgr = NULL;
}

size_t
sl_aead_key_len(enum sl_aead_alg alg)
{
	switch (alg) {
	case SL_AEAD_AES128_GCM:
		return 16;
	case SL_AEAD_AES256_GCM:
	case SL_AEAD_CHACHA20_POLY1305:
		return 32;
	default:
		return 0;
	}
}

int
sl_aead_key_set(struct sl_aead_key *k, IMB_MGR *mgr, enum sl_aead_alg alg, const uint8_t *key,
		size_t key_len)
{
	if (key_len == 0 || key_len != sl_aead_key_len(alg))
		return -EINVAL;

	switch (alg) {
	case SL_AEAD_AES128_GCM:
		IMB_AES128_GCM_PRE(mgr, key, &k->gcm);
		break;
	case SL_AEAD_AES256_GCM:
		IMB_AES256_GCM_PRE(mgr, key, &k->gcm);
		break;
	default:
		memcpy(k->chacha, key, SL_KEY_LEN);
		break;
	}
	k->alg = alg;
	return 0;
}

void
sl_aead_key_wipe(struct sl_aead_key *k)
{
	sodium_memzero(k, sizeof(*k));
}

void
sl_aead_nonce_be(uint8_t nonce[SL_NONCE_LEN], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (56 - 8 * i));
}

void
sl_aead_nonce_le(uint8_t nonce[SL_NONCE_LEN], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

/* One ChaCha20-Poly1305 operation through the job API, completed synchronously.
 * Writes the computed tag to tag_out. Returns false if ipsec-mb refused the job. */
static bool
chacha_job(IMB_MGR *mgr, const struct sl_aead_key *k, const uint8_t *nonce, const uint8_t *aad,
	   size_t aad_len, const uint8_t *src, size_t len, uint8_t *dst, uint8_t *tag_out,
	   bool encrypt)
{
	IMB_JOB *job = IMB_GET_NEXT_JOB(mgr);

	job->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
	job->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
	job->cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	job->chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	job->enc_keys = k->chacha;
	job->dec_keys = k->chacha;
	job->key_len_in_bytes = SL_KEY_LEN;
	job->src = len ? src : empty;
	job->dst = len ? dst : (uint8_t *)(uintptr_t)empty;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = len;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = len;
	job->iv = nonce;
	job->iv_len_in_bytes = SL_NONCE_LEN;
	job->u.CHACHA20_POLY1305.aad = aad_len ? aad : empty;
	job->u.CHACHA20_POLY1305.aad_len_in_bytes = aad_len;
	job->auth_tag_output = tag_out;
	job->auth_tag_output_len_in_bytes = SL_TAG_LEN;

	job = IMB_SUBMIT_JOB(mgr);
	while (job == NULL)
		job = IMB_FLUSH_JOB(mgr);
	return job->status == IMB_STATUS_COMPLETED;
}

void
sl_aead_seal(IMB_MGR *mgr, const struct sl_aead_key *k, const uint8_t nonce[SL_NONCE_LEN],
	     const uint8_t *aad, size_t aad_len, const uint8_t *src, size_t len, uint8_t *dst,
	     uint8_t tag[SL_TAG_LEN])
{
	struct gcm_context_data ctx;

	if (aad_len == 0)
		aad = empty;
	switch (k->alg) {
	case SL_AEAD_AES128_GCM:
		IMB_AES128_GCM_ENC(mgr, &k->gcm, &ctx, dst, src, len, nonce, aad, aad_len, tag,
				   SL_TAG_LEN);
		break;
	case SL_AEAD_AES256_GCM:
		IMB_AES256_GCM_ENC(mgr, &k->gcm, &ctx, dst, src, len, nonce, aad, aad_len, tag,
				   SL_TAG_LEN);
		break;
	case SL_AEAD_CHACHA20_POLY1305:
		/* A job only fails on invalid parameters, which the key setup excludes; a zero
		 * tag then guarantees the receiver rejects the packet. */
		if (!chacha_job(mgr, k, nonce, aad, aad_len, src, len, dst, tag, true))
			memset(tag, 0, SL_TAG_LEN);
		break;
	default:
		memset(tag, 0, SL_TAG_LEN);
		break;
	}
}

/* Constant-time comparison of two 16-byte tags. */
static inline bool
tag_equal(const uint8_t *a, const uint8_t *b)
{
	uint64_t a0, a1, b0, b1;

	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

bool
sl_aead_open(IMB_MGR *mgr, const struct sl_aead_key *k, const uint8_t nonce[SL_NONCE_LEN],
	     const uint8_t *aad, size_t aad_len, const uint8_t *src, size_t len, uint8_t *dst,
	     const uint8_t tag[SL_TAG_LEN])
{
	struct gcm_context_data ctx;
	uint8_t computed[SL_TAG_LEN];
	bool ok = false;

	if (aad_len == 0)
		aad = empty;
	switch (k->alg) {
	case SL_AEAD_AES128_GCM:
		IMB_AES128_GCM_DEC(mgr, &k->gcm, &ctx, dst, src, len, nonce, aad, aad_len, computed,
				   SL_TAG_LEN);
		ok = true;
		break;
	case SL_AEAD_AES256_GCM:
		IMB_AES256_GCM_DEC(mgr, &k->gcm, &ctx, dst, src, len, nonce, aad, aad_len, computed,
				   SL_TAG_LEN);
		ok = true;
		break;
	case SL_AEAD_CHACHA20_POLY1305:
		ok = chacha_job(mgr, k, nonce, aad, aad_len, src, len, dst, computed, false);
		break;
	default:
		break;
	}
	ok = ok && tag_equal(computed, tag);
	if (!ok && len > 0)
		memset(dst, 0, len);
	return ok;
}
