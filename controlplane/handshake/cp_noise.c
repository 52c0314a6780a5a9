/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the Noise protocol framework for NN, IK, XX, IKpsk2 and NNpsk0 (see cp_noise.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "sl_dh.h"
#include "cp_noise.h"

enum noise_token {
	T_END = 0,
	T_E,
	T_S,
	T_EE,
	T_ES,
	T_SE,
	T_SS,
	T_PSK,
};

#define MAX_TOKENS 6

struct cp_noise_pattern_def {
	const char *name;
	bool resp_pre_s; /* "<- s" pre-message: the initiator knows the responder's static key */
	bool psk;	 /* psk modifier: "e" also feeds MixKey */
	bool statics;	 /* both sides have a static key (every pattern here but NN and NNpsk0) */
	uint8_t n_msgs;
	uint8_t tokens[CP_NOISE_MAX_MSGS][MAX_TOKENS + 1];
};

/* Message i is written by the initiator when i is even. */
static const struct cp_noise_pattern_def patterns[] = {
	[CP_NOISE_NN] = { .name = "NN", .n_msgs = 2, .tokens = { { T_E }, { T_E, T_EE } } },
	[CP_NOISE_IK] = { .name = "IK",
			  .resp_pre_s = true,
			  .statics = true,
			  .n_msgs = 2,
			  .tokens = { { T_E, T_ES, T_S, T_SS }, { T_E, T_EE, T_SE } } },
	[CP_NOISE_XX] = { .name = "XX",
			  .statics = true,
			  .n_msgs = 3,
			  .tokens = { { T_E }, { T_E, T_EE, T_S, T_ES }, { T_S, T_SE } } },
	[CP_NOISE_IKPSK2] = { .name = "IKpsk2",
			      .resp_pre_s = true,
			      .psk = true,
			      .statics = true,
			      .n_msgs = 2,
			      .tokens = { { T_E, T_ES, T_S, T_SS }, { T_E, T_EE, T_SE, T_PSK } } },
	/* The psk, not a static key, authenticates both sides; "ee" alone gives the keys their
	 * forward secrecy. sluice's session resumption (cp_hs_resume.h). */
	[CP_NOISE_NNPSK0] = { .name = "NNpsk0",
			      .psk = true,
			      .n_msgs = 2,
			      .tokens = { { T_PSK, T_E }, { T_E, T_EE } } },
};

static const char *const cipher_names[] = {
	[CP_NOISE_AESGCM] = "AESGCM",
	[CP_NOISE_CHACHAPOLY] = "ChaChaPoly",
};

static const char *const hash_names[] = {
	[SL_HASH_SHA256] = "SHA256",
	[SL_HASH_BLAKE2B] = "BLAKE2b",
};

/* --- names ---------------------------------------------------------------------------------- */

static int
lookup(const char *tok, size_t len, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], tok, len) == 0)
			return (int)i;
	return -1;
}

static int
lookup_pattern(const char *tok, size_t len)
{
	for (size_t i = 0; i < RTE_DIM(patterns); i++)
		if (strlen(patterns[i].name) == len && memcmp(patterns[i].name, tok, len) == 0)
			return (int)i;
	return -1;
}

int
cp_noise_parse_name(const char *name, struct cp_noise_protocol *proto)
{
	static const char *const other_hashes[] = { "BLAKE2s", "SHA512" };
	const char *part[5];
	size_t plen[5];
	int pat, cipher, hash;
	const char *p = name;

	for (int i = 0; i < 5; i++) {
		const char *end = strchr(p, '_');

		if ((end == NULL) != (i == 4))
			return -EINVAL;
		part[i] = p;
		plen[i] = end ? (size_t)(end - p) : strlen(p);
		if (plen[i] == 0)
			return -EINVAL;
		p = end ? end + 1 : p + plen[i];
	}
	if (plen[0] != 5 || memcmp(part[0], "Noise", 5) != 0)
		return -EINVAL;
	pat = lookup_pattern(part[1], plen[1]);
	cipher = lookup(part[3], plen[3], cipher_names, RTE_DIM(cipher_names));
	hash = lookup(part[4], plen[4], hash_names, RTE_DIM(hash_names));
	if (pat < 0 || cipher < 0 || plen[2] != 5 || memcmp(part[2], "25519", 5) != 0)
		return -ENOTSUP;
	if (hash < 0)
		return lookup(part[4], plen[4], other_hashes, RTE_DIM(other_hashes)) >= 0 ? -ENOTSUP
											  : -EINVAL;
	proto->pattern = (enum cp_noise_pattern)pat;
	proto->cipher = (enum cp_noise_cipher)cipher;
	proto->hash = (enum sl_hash_alg)hash;
	return 0;
}

int
cp_noise_name(const struct cp_noise_protocol *proto, char *buf, size_t len)
{
	int n = snprintf(buf, len, "Noise_%s_25519_%s_%s", patterns[proto->pattern].name,
			 cipher_names[proto->cipher], hash_names[proto->hash]);

	return (n < 0 || (size_t)n >= len) ? -ENOSPC : n;
}

/* --- CipherState ---------------------------------------------------------------------------- */

static int
cs_init_key(struct cp_noise_cipherstate *cs, const uint8_t *k)
{
	enum sl_aead_alg alg =
		cs->cipher == CP_NOISE_AESGCM ? SL_AEAD_AES256_GCM : SL_AEAD_CHACHA20_POLY1305;
	IMB_MGR *mgr = sl_aead_thread_mgr();

	if (mgr == NULL)
		return -ENOMEM;
	memcpy(cs->k, k, SL_KEY_LEN);
	cs->n = 0;
	cs->has_key = true;
	return sl_aead_key_set(&cs->aead, mgr, alg, k, SL_KEY_LEN);
}

static void
cs_nonce(const struct cp_noise_cipherstate *cs, uint8_t nonce[SL_NONCE_LEN])
{
	if (cs->cipher == CP_NOISE_AESGCM)
		sl_aead_nonce_be(nonce, cs->n);
	else
		sl_aead_nonce_le(nonce, cs->n);
}

int
cp_noise_cs_encrypt(struct cp_noise_cipherstate *cs, const uint8_t *ad, size_t ad_len,
		    const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t nonce[SL_NONCE_LEN];
	IMB_MGR *mgr = sl_aead_thread_mgr();

	if (!cs->has_key || len > CP_NOISE_MAX_MSG - SL_TAG_LEN)
		return -EINVAL;
	if (cs->n == UINT64_MAX) /* reserved by the specification */
		return -EOVERFLOW;
	if (mgr == NULL)
		return -ENOMEM;
	cs_nonce(cs, nonce);
	sl_aead_seal(mgr, &cs->aead, nonce, ad, ad_len, in, len, out, out + len);
	cs->n++;
	return (int)(len + SL_TAG_LEN);
}

int
cp_noise_cs_decrypt(struct cp_noise_cipherstate *cs, const uint8_t *ad, size_t ad_len,
		    const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t nonce[SL_NONCE_LEN];
	IMB_MGR *mgr = sl_aead_thread_mgr();

	if (!cs->has_key || len < SL_TAG_LEN || len > CP_NOISE_MAX_MSG)
		return -EINVAL;
	if (cs->n == UINT64_MAX)
		return -EOVERFLOW;
	if (mgr == NULL)
		return -ENOMEM;
	cs_nonce(cs, nonce);
	if (!sl_aead_open(mgr, &cs->aead, nonce, ad, ad_len, in, len - SL_TAG_LEN, out,
			  in + len - SL_TAG_LEN))
		return -EBADMSG;
	cs->n++;
	return (int)(len - SL_TAG_LEN);
}

void
cp_noise_cs_wipe(struct cp_noise_cipherstate *cs)
{
	sodium_memzero(cs, sizeof(*cs));
}

/* --- SymmetricState ------------------------------------------------------------------------- */

static size_t
hashlen(const struct cp_noise_hs *hs)
{
	return sl_hash_len(hs->proto.hash);
}

static void
mix_hash(struct cp_noise_hs *hs, const uint8_t *data, size_t len)
{
	sl_hash2(hs->proto.hash, hs->h, hs->h, hashlen(hs), data, len);
}

static int
mix_key(struct cp_noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t temp_k[SL_HASH_MAX_LEN];
	int rc;

	cp_hkdf(hs->proto.hash, hs->ck, ikm, len, hs->ck, temp_k, NULL);
	rc = cs_init_key(&hs->cs, temp_k); /* truncated to 32 bytes when HASHLEN is 64 */
	sodium_memzero(temp_k, sizeof(temp_k));
	return rc;
}

static int
mix_key_and_hash(struct cp_noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t temp_h[SL_HASH_MAX_LEN], temp_k[SL_HASH_MAX_LEN];
	int rc;

	cp_hkdf(hs->proto.hash, hs->ck, ikm, len, hs->ck, temp_h, temp_k);
	mix_hash(hs, temp_h, hashlen(hs));
	rc = cs_init_key(&hs->cs, temp_k);
	sodium_memzero(temp_h, sizeof(temp_h));
	sodium_memzero(temp_k, sizeof(temp_k));
	return rc;
}

/* EncryptAndHash: returns bytes written. */
static int
encrypt_and_hash(struct cp_noise_hs *hs, const uint8_t *pt, size_t len, uint8_t *out)
{
	int n = (int)len;

	if (hs->cs.has_key)
		n = cp_noise_cs_encrypt(&hs->cs, hs->h, hashlen(hs), pt, len, out);
	else if (len)
		memmove(out, pt, len);
	if (n >= 0)
		mix_hash(hs, out, (size_t)n);
	return n;
}

/* DecryptAndHash: returns plaintext bytes. The ciphertext is hashed, so it must be read before
 * it can be overwritten: decrypt into a scratch buffer when in and out overlap. */
static int
decrypt_and_hash(struct cp_noise_hs *hs, const uint8_t *ct, size_t len, uint8_t *out)
{
	uint8_t h_next[SL_HASH_MAX_LEN];
	int n = (int)len;

	sl_hash2(hs->proto.hash, h_next, hs->h, hashlen(hs), ct, len);
	if (hs->cs.has_key)
		n = cp_noise_cs_decrypt(&hs->cs, hs->h, hashlen(hs), ct, len, out);
	else if (len)
		memmove(out, ct, len);
	if (n >= 0)
		memcpy(hs->h, h_next, hashlen(hs));
	return n;
}

/* --- HandshakeState ------------------------------------------------------------------------- */

static int
fail(struct cp_noise_hs *hs, int rc)
{
	cp_noise_wipe(hs);
	hs->failed = true;
	return rc;
}

static int
init_symmetric(struct cp_noise_hs *hs)
{
	char name[64];
	int n = cp_noise_name(&hs->proto, name, sizeof(name));

	if (n < 0)
		return n;
	memset(hs->h, 0, sizeof(hs->h));
	if ((size_t)n <= hashlen(hs))
		memcpy(hs->h, name, (size_t)n);
	else
		sl_hash2(hs->proto.hash, hs->h, (const uint8_t *)name, (size_t)n, NULL, 0);
	memcpy(hs->ck, hs->h, sizeof(hs->ck));
	hs->cs.cipher = hs->proto.cipher;
	hs->cs.has_key = false;
	return 0;
}

static int
init_keys(struct cp_noise_hs *hs, const struct cp_noise_params *p)
{
	if (p->s != NULL) {
		memcpy(hs->s_priv, p->s, SL_KEY_LEN);
		if (p->s_pub != NULL)
			memcpy(hs->s_pub, p->s_pub, SL_KEY_LEN);
		else if (sl_dh_pubkey(hs->s_pub, hs->s_priv) != 0)
			return -EINVAL;
		hs->has_s = true;
	}
	if (p->rs != NULL) {
		memcpy(hs->rs, p->rs, SL_KEY_LEN);
		hs->has_rs = true;
	}
	if (p->psk != NULL) {
		memcpy(hs->psk, p->psk, SL_KEY_LEN);
		hs->has_psk = true;
	}
	if (p->fixed_e != NULL) {
		memcpy(hs->fixed_e, p->fixed_e, SL_KEY_LEN);
		hs->has_fixed_e = true;
	}
	return 0;
}

/* Does this pattern, from our side, have every key it needs? */
static bool
keys_complete(const struct cp_noise_hs *hs)
{
	const struct cp_noise_pattern_def *pat = hs->pat;

	if (pat->statics && !hs->has_s)
		return false;
	if (pat->resp_pre_s && hs->initiator && !hs->has_rs)
		return false;
	return !pat->psk || hs->has_psk;
}

int
cp_noise_init(struct cp_noise_hs *hs, const struct cp_noise_params *p)
{
	int rc;

	memset(hs, 0, sizeof(*hs));
	if ((unsigned int)p->proto.pattern >= RTE_DIM(patterns) ||
	    (unsigned int)p->proto.cipher >= RTE_DIM(cipher_names) ||
	    (unsigned int)p->proto.hash >= RTE_DIM(hash_names))
		return fail(hs, -EINVAL);
	hs->proto = p->proto;
	hs->pat = &patterns[p->proto.pattern];
	hs->initiator = p->initiator;
	rc = init_keys(hs, p);
	if (rc == 0 && !keys_complete(hs))
		rc = -EINVAL;
	if (rc == 0)
		rc = init_symmetric(hs);
	if (rc != 0)
		return fail(hs, rc);
	mix_hash(hs, p->prologue, p->prologue_len);
	if (hs->pat->resp_pre_s)
		mix_hash(hs, hs->initiator ? hs->rs : hs->s_pub, SL_KEY_LEN);
	return 0;
}

bool
cp_noise_done(const struct cp_noise_hs *hs)
{
	return !hs->failed && hs->pat != NULL && hs->msg_index >= hs->pat->n_msgs;
}

bool
cp_noise_our_turn(const struct cp_noise_hs *hs)
{
	return !hs->failed && hs->pat != NULL && hs->msg_index < hs->pat->n_msgs &&
	       ((hs->msg_index % 2 == 0) == hs->initiator);
}

/* Would this token install a cipher key? */
static bool
token_keys(const struct cp_noise_hs *hs, uint8_t tok)
{
	return tok >= T_EE || (tok == T_E && hs->pat->psk);
}

int
cp_noise_next_len(const struct cp_noise_hs *hs, size_t payload_len)
{
	const uint8_t *tok;
	bool keyed;
	size_t n = 0;

	if (hs->failed || hs->pat == NULL || hs->msg_index >= hs->pat->n_msgs)
		return -EINVAL;
	keyed = hs->cs.has_key;
	for (tok = hs->pat->tokens[hs->msg_index]; *tok != T_END; tok++) {
		if (*tok == T_E)
			n += SL_KEY_LEN;
		else if (*tok == T_S)
			n += SL_KEY_LEN + (keyed ? SL_TAG_LEN : 0);
		keyed = keyed || token_keys(hs, *tok);
	}
	n += payload_len + (keyed ? SL_TAG_LEN : 0);
	return n > CP_NOISE_MAX_MSG ? -EMSGSIZE : (int)n;
}

static int
mix_dh(struct cp_noise_hs *hs, const uint8_t *priv, const uint8_t *pub)
{
	uint8_t shared[SL_KEY_LEN];
	int rc = sl_dh(shared, priv, pub);

	if (rc == 0)
		rc = mix_key(hs, shared, sizeof(shared));
	sodium_memzero(shared, sizeof(shared));
	return rc;
}

/* ee, es, se, ss and psk: the same computation on both sides. */
static int
process_key_token(struct cp_noise_hs *hs, uint8_t tok)
{
	bool i = hs->initiator;

	switch (tok) {
	case T_EE:
		return mix_dh(hs, hs->e_priv, hs->re);
	case T_ES:
		return i ? mix_dh(hs, hs->e_priv, hs->rs) : mix_dh(hs, hs->s_priv, hs->re);
	case T_SE:
		return i ? mix_dh(hs, hs->s_priv, hs->re) : mix_dh(hs, hs->e_priv, hs->rs);
	case T_SS:
		return mix_dh(hs, hs->s_priv, hs->rs);
	case T_PSK:
		return mix_key_and_hash(hs, hs->psk, SL_KEY_LEN);
	default:
		return -EINVAL;
	}
}

static int
write_e(struct cp_noise_hs *hs, uint8_t *out)
{
	if (hs->has_fixed_e) {
		memcpy(hs->e_priv, hs->fixed_e, SL_KEY_LEN);
		if (sl_dh_pubkey(hs->e_pub, hs->e_priv) != 0)
			return -EINVAL;
	} else {
		sl_dh_keygen(hs->e_priv, hs->e_pub);
	}
	hs->has_e = true;
	memcpy(out, hs->e_pub, SL_KEY_LEN);
	mix_hash(hs, hs->e_pub, SL_KEY_LEN);
	return hs->pat->psk ? mix_key(hs, hs->e_pub, SL_KEY_LEN) : 0;
}

int
cp_noise_write(struct cp_noise_hs *hs, const uint8_t *payload, size_t payload_len, uint8_t *out,
	       size_t out_max)
{
	int total = cp_noise_next_len(hs, payload_len), rc = 0;
	const uint8_t *tok;
	size_t off = 0;

	if (!cp_noise_our_turn(hs) || total < 0)
		return hs->failed ? -EINVAL : fail(hs, total < 0 ? total : -EINVAL);
	if ((size_t)total > out_max)
		return -ENOSPC; /* nothing consumed: the caller may retry with a larger buffer */
	for (tok = hs->pat->tokens[hs->msg_index]; rc >= 0 && *tok != T_END; tok++) {
		if (*tok == T_E) {
			rc = write_e(hs, out + off);
			off += SL_KEY_LEN;
		} else if (*tok == T_S) {
			rc = encrypt_and_hash(hs, hs->s_pub, SL_KEY_LEN, out + off);
			off += rc > 0 ? (size_t)rc : 0;
		} else {
			rc = process_key_token(hs, *tok);
		}
	}
	if (rc >= 0)
		rc = encrypt_and_hash(hs, payload, payload_len, out + off);
	if (rc < 0)
		return fail(hs, rc);
	hs->msg_index++;
	return total;
}

static int
read_tokens(struct cp_noise_hs *hs, const uint8_t *msg, size_t *off)
{
	const uint8_t *tok;
	int rc = 0;

	for (tok = hs->pat->tokens[hs->msg_index]; rc >= 0 && *tok != T_END; tok++) {
		if (*tok == T_E) {
			memcpy(hs->re, msg + *off, SL_KEY_LEN);
			hs->has_re = true;
			*off += SL_KEY_LEN;
			mix_hash(hs, hs->re, SL_KEY_LEN);
			if (hs->pat->psk)
				rc = mix_key(hs, hs->re, SL_KEY_LEN);
		} else if (*tok == T_S) {
			size_t n = SL_KEY_LEN + (hs->cs.has_key ? SL_TAG_LEN : 0);

			rc = decrypt_and_hash(hs, msg + *off, n, hs->rs);
			hs->has_rs = rc >= 0;
			*off += n;
		} else {
			rc = process_key_token(hs, *tok);
		}
	}
	return rc;
}

int
cp_noise_read(struct cp_noise_hs *hs, const uint8_t *msg, size_t len, uint8_t *payload,
	      size_t payload_max)
{
	int fixed = cp_noise_next_len(hs, 0), rc;
	size_t off = 0, payload_len;

	if (hs->failed || hs->pat == NULL || cp_noise_our_turn(hs) || fixed < 0)
		return hs->failed ? -EINVAL : fail(hs, -EINVAL);
	/* fixed counts the payload tag if a key will be set; the payload is the remainder. */
	if (len < (size_t)fixed || len > CP_NOISE_MAX_MSG)
		return fail(hs, -EBADMSG);
	payload_len = len - (size_t)fixed;
	if (payload_len > payload_max)
		return fail(hs, -ENOSPC);
	rc = read_tokens(hs, msg, &off);
	if (rc >= 0)
		rc = decrypt_and_hash(hs, msg + off, len - off, payload);
	if (rc < 0)
		return fail(hs, rc == -EKEYREJECTED ? rc : -EBADMSG);
	hs->msg_index++;
	return rc;
}

int
cp_noise_split(struct cp_noise_hs *hs, struct cp_noise_cipherstate *send,
	       struct cp_noise_cipherstate *recv)
{
	uint8_t k1[SL_HASH_MAX_LEN], k2[SL_HASH_MAX_LEN];
	struct cp_noise_cipherstate *c1 = hs->initiator ? send : recv;
	struct cp_noise_cipherstate *c2 = hs->initiator ? recv : send;
	int rc;

	if (!cp_noise_done(hs))
		return -EINVAL;
	cp_hkdf(hs->proto.hash, hs->ck, NULL, 0, k1, k2, NULL);
	memset(c1, 0, sizeof(*c1));
	memset(c2, 0, sizeof(*c2));
	c1->cipher = c2->cipher = hs->proto.cipher;
	rc = cs_init_key(c1, k1);
	if (rc == 0)
		rc = cs_init_key(c2, k2);
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
	if (rc != 0) {
		cp_noise_cs_wipe(c1);
		cp_noise_cs_wipe(c2);
	}
	return rc;
}

int
cp_noise_export(const struct cp_noise_hs *hs, const uint8_t *label, size_t label_len,
		uint8_t out1[SL_KEY_LEN], uint8_t out2[SL_KEY_LEN])
{
	uint8_t o1[SL_HASH_MAX_LEN], o2[SL_HASH_MAX_LEN];

	/* an empty label would give Split()'s keys */
	if (!cp_noise_done(hs) || label == NULL || label_len == 0)
		return -EINVAL;
	cp_hkdf(hs->proto.hash, hs->ck, label, label_len, o1, o2, NULL);
	memcpy(out1, o1, SL_KEY_LEN);
	memcpy(out2, o2, SL_KEY_LEN);
	sodium_memzero(o1, sizeof(o1));
	sodium_memzero(o2, sizeof(o2));
	return 0;
}

const uint8_t *
cp_noise_hash(const struct cp_noise_hs *hs, size_t *len)
{
	*len = hashlen(hs);
	return hs->h;
}

const uint8_t *
cp_noise_remote_static(const struct cp_noise_hs *hs)
{
	return hs->has_rs ? hs->rs : NULL;
}

void
cp_noise_wipe(struct cp_noise_hs *hs)
{
	const struct cp_noise_pattern_def *pat = hs->pat;
	struct cp_noise_protocol proto = hs->proto;
	bool failed = hs->failed;

	sodium_memzero(hs, sizeof(*hs));
	hs->pat = pat;
	hs->proto = proto;
	hs->failed = failed;
}
