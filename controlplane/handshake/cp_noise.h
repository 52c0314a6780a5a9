/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the Noise protocol framework (revision 34) for the patterns sluice uses.
 *
 * Patterns NN, IK, XX, IKpsk2 and NNpsk0 over X25519, with cipher AESGCM (AES-256-GCM, big-endian
 * nonce) or ChaChaPoly (little-endian nonce) and hash SHA256 or BLAKE2b. Written from the
 * specification; checked byte for byte against published test vectors (tests/test_noise.c).
 *
 * Plain C, no DPDK runtime, no clock. A handshake state belongs to one thread (the control
 * thread in the appliance). Any error poisons the state: it is wiped and every later call fails,
 * so a failed handshake can never be continued.
 */
#ifndef CP_NOISE_H
#define CP_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "sl_hash.h"
#include "sl_aead.h"
#include "sl_limits.h"

#define CP_NOISE_MAX_MSG  65535 /* Noise message size limit */
#define CP_NOISE_MAX_MSGS 3	/* handshake messages in the longest pattern (XX) */

enum cp_noise_pattern {
	CP_NOISE_NN,
	CP_NOISE_IK,
	CP_NOISE_XX,
	CP_NOISE_IKPSK2,
	CP_NOISE_NNPSK0, /* "-> psk, e  <- e, ee": sluice's session resumption */
};

enum cp_noise_cipher {
	CP_NOISE_AESGCM,
	CP_NOISE_CHACHAPOLY,
};

struct cp_noise_protocol {
	enum cp_noise_pattern pattern;
	enum cp_noise_cipher cipher;
	enum sl_hash_alg hash;
};

/* Parse "Noise_IK_25519_AESGCM_SHA256" and the like. Returns 0, or -ENOTSUP for a well-formed
 * name this implementation does not provide (other DH, hash, pattern), -EINVAL otherwise. */
int cp_noise_parse_name(const char *name, struct cp_noise_protocol *proto) __rte_warn_unused_result;

/* Canonical protocol name into buf; returns its length or -ENOSPC. */
int cp_noise_name(const struct cp_noise_protocol *proto, char *buf, size_t len);

/* A CipherState: key, nonce. Used for handshake encryption and for transport messages. */
struct cp_noise_cipherstate {
	struct sl_aead_key aead; /* expanded key */
	uint8_t k[SL_KEY_LEN];	 /* raw key, so Split() results can be handed to the dataplane */
	uint64_t n;
	enum cp_noise_cipher cipher;
	bool has_key;
};

/* EncryptWithAd / DecryptWithAd on a transport CipherState. out holds len + SL_TAG_LEN bytes
 * (encrypt) or len - SL_TAG_LEN bytes (decrypt). Return output length or -errno:
 * -EBADMSG authentication failed, -EOVERFLOW nonce exhausted, -EINVAL no key / bad length. */
int cp_noise_cs_encrypt(struct cp_noise_cipherstate *cs, const uint8_t *ad, size_t ad_len,
			const uint8_t *in, size_t len, uint8_t *out) __rte_warn_unused_result;
int cp_noise_cs_decrypt(struct cp_noise_cipherstate *cs, const uint8_t *ad, size_t ad_len,
			const uint8_t *in, size_t len, uint8_t *out) __rte_warn_unused_result;
void cp_noise_cs_wipe(struct cp_noise_cipherstate *cs);

struct cp_noise_params {
	struct cp_noise_protocol proto;
	bool initiator;
	const uint8_t *prologue;
	size_t prologue_len;
	const uint8_t *s;     /* our static private key, if the pattern uses one */
	const uint8_t *s_pub; /* its public key if the caller has it (saves an X25519), else NULL */
	const uint8_t *rs;    /* peer's static public key, if known beforehand (IK) */
	const uint8_t *psk;   /* SL_KEY_LEN bytes, for psk patterns */
	/* Tests only: fixed ephemeral private key instead of a fresh random one. */
	const uint8_t *fixed_e;
};

struct cp_noise_pattern_def; /* private */

struct cp_noise_hs {
	const struct cp_noise_pattern_def *pat;
	struct cp_noise_protocol proto;
	struct cp_noise_cipherstate cs;
	uint8_t ck[SL_HASH_MAX_LEN];
	uint8_t h[SL_HASH_MAX_LEN];
	uint8_t s_priv[SL_KEY_LEN], s_pub[SL_KEY_LEN];
	uint8_t e_priv[SL_KEY_LEN], e_pub[SL_KEY_LEN];
	uint8_t rs[SL_KEY_LEN], re[SL_KEY_LEN];
	uint8_t psk[SL_KEY_LEN];
	uint8_t fixed_e[SL_KEY_LEN];
	bool has_s, has_e, has_rs, has_re, has_psk, has_fixed_e;
	bool initiator;
	bool failed;
	uint8_t msg_index; /* next handshake message to write or read */
};

/* Initialize(): returns 0, or -EINVAL when a key the pattern needs is missing or invalid. */
int cp_noise_init(struct cp_noise_hs *hs, const struct cp_noise_params *p) __rte_warn_unused_result;

/* Size of the next handshake message for a payload of payload_len bytes, or -EINVAL when the
 * handshake is finished or failed. */
int cp_noise_next_len(const struct cp_noise_hs *hs, size_t payload_len);

/* WriteMessage(): appends the next handshake message to out (out_max bytes) and returns its
 * length, or -errno (-EINVAL not our turn/finished, -ENOSPC, -EKEYREJECTED all-zero DH). */
int cp_noise_write(struct cp_noise_hs *hs, const uint8_t *payload, size_t payload_len, uint8_t *out,
		   size_t out_max) __rte_warn_unused_result;

/* ReadMessage(): consumes a handshake message and writes its payload to payload (payload_max
 * bytes); returns the payload length or -errno (-EBADMSG bad length or authentication,
 * -EKEYREJECTED all-zero DH, -EINVAL not our turn, -ENOSPC). */
int cp_noise_read(struct cp_noise_hs *hs, const uint8_t *msg, size_t len, uint8_t *payload,
		  size_t payload_max) __rte_warn_unused_result;

/* True when every handshake message has been written or read. */
bool cp_noise_done(const struct cp_noise_hs *hs);

/* Whose turn is it: true if the next message is ours to write. */
bool cp_noise_our_turn(const struct cp_noise_hs *hs);

/* Split(): the initiator's sending CipherState is c1, the responder's c2. Only when done. */
int cp_noise_split(struct cp_noise_hs *hs, struct cp_noise_cipherstate *send,
		   struct cp_noise_cipherstate *recv) __rte_warn_unused_result;

/* Two 32-byte secrets bound to the finished handshake, for use outside Noise (sluice derives
 * its resumption secret and ticket this way): out1 and out2 are the first SL_KEY_LEN bytes of
 * HKDF(ck, label)'s two outputs, where ck is the final chaining key. Split() is HKDF(ck, empty),
 * so a non-empty label gives keys independent of the session keys. Only when done and before
 * the state is wiped; 0, or -EINVAL (not done, empty label). */
int cp_noise_export(const struct cp_noise_hs *hs, const uint8_t *label, size_t label_len,
		    uint8_t out1[SL_KEY_LEN], uint8_t out2[SL_KEY_LEN]) __rte_warn_unused_result;

/* Handshake hash h (HASHLEN bytes) and the peer's static key once known. */
const uint8_t *cp_noise_hash(const struct cp_noise_hs *hs, size_t *len);
const uint8_t *cp_noise_remote_static(const struct cp_noise_hs *hs);

/* Zero every secret in the state. */
void cp_noise_wipe(struct cp_noise_hs *hs);

#endif /* CP_NOISE_H */
