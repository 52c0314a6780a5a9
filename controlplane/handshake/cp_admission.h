/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: handshake admission — the checks a handshake message passes before any
 * Diffie-Hellman is spent on it.
 *
 * Every handshake message ends with two MACs (struct sl_msg_macs):
 *   mac1 = MAC(HASH(LABEL_MAC1 || receiver's static public key), msg up to mac1)
 *          or, where the sender cannot know that key (XX initiation and answer),
 *          MAC(HASH(LABEL_MAC1_ANON), ...), which only proves the message is intact.
 *          A corrupted message (or, for IK, one not meant for this node) costs the receiver one
 *          keyed hash, not a DH. It is deliberately not keyed by the network id, so a node of
 *          another network gets a reason ("wrong_network") instead of silence.
 *   mac2 = zero, or MAC(cookie, msg up to mac2) where cookie = MAC(secret, source ip || port)
 *          was handed to the sender in an encrypted cookie reply. The secret rotates every
 *          cookie_rotate_ns (2 minutes by default).
 * Every message must have exactly the size of its type (struct sl_msg_* in sl_wire.h); any
 * other length is counted in bad_length and dropped before a MAC is computed.
 * Under load (at least under_load_pending handshakes waiting) a message without a valid mac2 is
 * answered with a cookie reply (64 bytes, never more than the message) and not processed. So is
 * an initiation without a valid mac2 when the global budget is spent: at most budget.per_sec
 * initiations a second (burst budget.burst), all sources together, are processed without
 * proof of their source address (counted in over_budget), so a flood from spoofed sources —
 * which never see their cookies — cannot hold the handshake table, however many addresses it
 * uses; an honest sender answers the cookie at once and is then limited per source only.
 * A non-zero mac2 must always be valid; a wrong one (damaged, or made with a cookie from before
 * the secret rotated) is answered with a fresh cookie too, so every altered message is refused
 * and an honest sender can retry at once. Accepted initiations are then rate-limited per
 * source address.
 *
 * MAC is keyed BLAKE2b with a 16-byte output (libsodium crypto_generichash); cookie replies are
 * XChaCha20-Poly1305 with a random nonce and the triggering message's mac1 as associated data.
 *
 * Control thread only, clock injected.
 */
#ifndef CP_ADMISSION_H
#define CP_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "cp_ratelimit.h"
#include "sl_wire.h"

struct cp_admission_config {
	uint64_t cookie_rotate_ns;     /* default SL_COOKIE_ROTATE_NS */
	uint32_t under_load_pending;   /* default SL_UNDER_LOAD_PENDING */
	struct cp_ratelimit_conf rate; /* per-source initiations: 20/s, burst 5 by default */
	/* all sources together, without a cookie: SL_HS_BUDGET_PER_SEC, SL_HS_BUDGET_BURST
	 * (capacity unused: one bucket) */
	struct cp_ratelimit_conf budget;
};

void cp_admission_config_defaults(struct cp_admission_config *cfg);

/* Where a message came from; the cookie is bound to it. Host byte order. */
struct cp_src {
	uint32_t ip;
	uint16_t port;
	/* the relay circuit it came on (0: direct): messages relayed on different circuits come
	 * from one relay's address but are sources of their own (rate limits, cookies) */
	uint32_t via;
};

enum cp_admit {
	CP_ADMIT_ACCEPT,      /* go on: decrypt it */
	CP_ADMIT_BAD_LENGTH,  /* too short to carry the MACs */
	CP_ADMIT_BAD_MAC1,    /* drop silently */
	CP_ADMIT_COOKIE,      /* send the cookie reply written to *reply; drop the message */
	CP_ADMIT_RATELIMITED, /* drop */
};

struct cp_admission_stats {
	uint64_t accepted, bad_length, bad_mac1, cookies_sent, ratelimited;
	uint64_t over_budget; /* initiations answered with a cookie: the global budget was spent */
};

struct cp_admission;

/* NULL with errno set on failure. our_pub: this node's static public key. */
struct cp_admission *cp_admission_create(const uint8_t our_pub[SL_KEY_LEN],
					 const struct cp_admission_config *cfg, uint64_t now_ns);
void cp_admission_destroy(struct cp_admission *a);

/*
 * Check a handshake message received from src. anon: the message's mac1 uses the anonymous
 * key (XX initiation and answer). initiation: it starts new work (IK or XX message 1) and is
 * subject to the per-source rate limit. pending: handshakes waiting to be processed now (a
 * caller whose own tables fill up passes UINT32_MAX: it is under load too).
 * On CP_ADMIT_COOKIE, *reply holds a cookie reply addressed to the message's sender id
 * (sender_off: offset of its 32-bit sender field).
 */
enum cp_admit cp_admission_check(struct cp_admission *a, const uint8_t *msg, size_t len, bool anon,
				 bool initiation, size_t sender_off, const struct cp_src *src,
				 uint32_t pending, uint64_t now_ns,
				 struct sl_msg_cookie *reply) __rte_warn_unused_result;

const struct cp_admission_stats *cp_admission_stats(const struct cp_admission *a);
const char *cp_admit_name(enum cp_admit verdict);

/* --- sender side -------------------------------------------------------------------------- */

/* mac1 keys: of a peer whose static key is known, or the anonymous one (XX). */
void cp_mac1_key_peer(uint8_t key[SL_KEY_LEN], const uint8_t peer_pub[SL_KEY_LEN]);
void cp_mac1_key_anon(uint8_t key[SL_KEY_LEN]);
/* Keys that encrypt cookie replies, derived the same way with another label. */
void cp_cookie_key_peer(uint8_t key[SL_KEY_LEN], const uint8_t peer_pub[SL_KEY_LEN]);
void cp_cookie_key_anon(uint8_t key[SL_KEY_LEN]);

/* A cookie received from a peer, valid for cookie_rotate_ns after it arrived. */
struct cp_cookie {
	uint8_t value[SL_MAC_LEN];
	uint64_t received_ns;
	bool valid;
};

/* Write mac1 and mac2 into the last 32 bytes of msg (len bytes in all). mac2 is zero unless
 * cookie holds a cookie younger than max_age_ns. */
void cp_macs_write(uint8_t *msg, size_t len, const uint8_t mac1_key[SL_KEY_LEN],
		   const struct cp_cookie *cookie, uint64_t now_ns, uint64_t max_age_ns);

/* Check mac1 of a message (len bytes, MACs at the end) with a mac1 key; for answers, which the
 * receiver checks itself. */
bool cp_mac1_valid(const uint8_t *msg, size_t len,
		   const uint8_t mac1_key[SL_KEY_LEN]) __rte_warn_unused_result;

/* Take a cookie reply answering a message whose mac1 was sent_mac1. Returns 0 and fills
 * *cookie, or -EBADMSG if it does not authenticate. */
int cp_cookie_consume(struct cp_cookie *cookie, const struct sl_msg_cookie *reply, size_t len,
		      const uint8_t cookie_key[SL_KEY_LEN], const uint8_t sent_mac1[SL_MAC_LEN],
		      uint64_t now_ns) __rte_warn_unused_result;

#endif /* CP_ADMISSION_H */
