/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: handshake admission (see cp_admission.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cp_admission.h"

#define LABEL_MAC1	  "sluice mac1 v1"
#define LABEL_MAC1_ANON	  "sluice mac1 anonymous v1"
#define LABEL_COOKIE	  "sluice cookie v1"
#define LABEL_COOKIE_ANON "sluice cookie anonymous v1"

static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == SL_COOKIE_NONCE_LEN, "nonce");
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == SL_TAG_LEN, "tag");

struct cp_admission {
	struct cp_admission_config cfg;
	uint8_t mac1_key[SL_KEY_LEN];	   /* messages addressed to our static key */
	uint8_t mac1_anon_key[SL_KEY_LEN]; /* XX messages: receiver's key unknown to the sender */
	uint8_t cookie_key[SL_KEY_LEN];
	uint8_t cookie_anon_key[SL_KEY_LEN];
	uint8_t secret[SL_KEY_LEN]; /* cookie secret, rotated */
	uint64_t secret_born_ns;
	struct cp_ratelimit *rl;
	struct cp_ratelimit *budget; /* one bucket, source 0: every initiation without a cookie */
	struct cp_admission_stats stats;
};

void
cp_admission_config_defaults(struct cp_admission_config *cfg)
{
	cfg->cookie_rotate_ns = SL_COOKIE_ROTATE_NS;
	cfg->under_load_pending = SL_UNDER_LOAD_PENDING;
	cp_ratelimit_conf_init(&cfg->rate);
	cfg->budget = (struct cp_ratelimit_conf){ .per_sec = SL_HS_BUDGET_PER_SEC,
						  .burst = SL_HS_BUDGET_BURST,
						  .capacity = 1 };
}

/* The size of each handshake message type; 0 for types that are not handshake messages. */
static size_t
msg_len(uint8_t type)
{
	switch (type) {
	case SL_MSG_IK_INIT:
		return sizeof(struct sl_msg_ik_init);
	case SL_MSG_IK_RESP:
		return sizeof(struct sl_msg_ik_resp);
	case SL_MSG_XX_INIT:
		return sizeof(struct sl_msg_xx_init);
	case SL_MSG_XX_RESP:
		return sizeof(struct sl_msg_xx_resp);
	case SL_MSG_XX_FINISH:
		return sizeof(struct sl_msg_xx_finish);
	case SL_MSG_RESUME_INIT:
		return sizeof(struct sl_msg_resume_init);
	case SL_MSG_RESUME_RESP:
		return sizeof(struct sl_msg_resume_resp);
	default:
		return 0;
	}
}

/* HASH(label || material), 32 bytes. */
static void
derive(uint8_t key[SL_KEY_LEN], const char *label, const uint8_t *material, size_t len)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, SL_KEY_LEN);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
	crypto_generichash_update(&st, material, len);
	crypto_generichash_final(&st, key, SL_KEY_LEN);
}

void
cp_mac1_key_peer(uint8_t key[SL_KEY_LEN], const uint8_t peer_pub[SL_KEY_LEN])
{
	derive(key, LABEL_MAC1, peer_pub, SL_KEY_LEN);
}

void
cp_mac1_key_anon(uint8_t key[SL_KEY_LEN])
{
	derive(key, LABEL_MAC1_ANON, NULL, 0);
}

void
cp_cookie_key_peer(uint8_t key[SL_KEY_LEN], const uint8_t peer_pub[SL_KEY_LEN])
{
	derive(key, LABEL_COOKIE, peer_pub, SL_KEY_LEN);
}

void
cp_cookie_key_anon(uint8_t key[SL_KEY_LEN])
{
	derive(key, LABEL_COOKIE_ANON, NULL, 0);
}

/* 16-byte keyed BLAKE2b. */
static void
mac(uint8_t out[SL_MAC_LEN], const uint8_t *key, size_t key_len, const uint8_t *data, size_t len)
{
	crypto_generichash(out, SL_MAC_LEN, data, len, key, key_len);
}

struct cp_admission *
cp_admission_create(const uint8_t our_pub[SL_KEY_LEN], const struct cp_admission_config *cfg,
		    uint64_t now_ns)
{
	struct cp_admission *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (cfg->cookie_rotate_ns == 0) {
		free(a);
		errno = EINVAL;
		return NULL;
	}
	a->cfg = *cfg;
	a->rl = cp_ratelimit_create(&cfg->rate);
	a->budget = a->rl != NULL ? cp_ratelimit_create(&cfg->budget) : NULL;
	if (a->budget == NULL) {
		int err = errno;

		cp_ratelimit_destroy(a->rl);
		free(a);
		errno = err;
		return NULL;
	}
	cp_mac1_key_peer(a->mac1_key, our_pub);
	cp_mac1_key_anon(a->mac1_anon_key);
	cp_cookie_key_peer(a->cookie_key, our_pub);
	cp_cookie_key_anon(a->cookie_anon_key);
	randombytes_buf(a->secret, sizeof(a->secret));
	a->secret_born_ns = now_ns;
	return a;
}

void
cp_admission_destroy(struct cp_admission *a)
{
	if (a == NULL)
		return;
	cp_ratelimit_destroy(a->rl);
	cp_ratelimit_destroy(a->budget);
	sodium_memzero(a, sizeof(*a));
	free(a);
}

const struct cp_admission_stats *
cp_admission_stats(const struct cp_admission *a)
{
	return &a->stats;
}

const char *
cp_admit_name(enum cp_admit verdict)
{
	static const char *const names[] = {
		[CP_ADMIT_ACCEPT] = "accept",		[CP_ADMIT_BAD_LENGTH] = "bad_length",
		[CP_ADMIT_BAD_MAC1] = "bad_mac1",	[CP_ADMIT_COOKIE] = "cookie_sent",
		[CP_ADMIT_RATELIMITED] = "ratelimited",
	};

	return (unsigned int)verdict < RTE_DIM(names) ? names[verdict] : "unknown";
}

/* The cookie this node hands to src under the current secret. */
static void
cookie_for(struct cp_admission *a, const struct cp_src *src, uint64_t now_ns,
	   uint8_t cookie[SL_MAC_LEN])
{
	uint8_t addr[10] = {
		(uint8_t)(src->ip >> 24),  (uint8_t)(src->ip >> 16),  (uint8_t)(src->ip >> 8),
		(uint8_t)src->ip,	   (uint8_t)(src->port >> 8), (uint8_t)src->port,
		(uint8_t)(src->via >> 24), (uint8_t)(src->via >> 16), (uint8_t)(src->via >> 8),
		(uint8_t)src->via,
	};

	if (now_ns - a->secret_born_ns >= a->cfg.cookie_rotate_ns) {
		randombytes_buf(a->secret, sizeof(a->secret));
		a->secret_born_ns = now_ns;
	}
	mac(cookie, a->secret, sizeof(a->secret), addr, sizeof(addr));
}

static void
cookie_reply(struct cp_admission *a, const uint8_t *msg, size_t len, bool anon, size_t sender_off,
	     const uint8_t cookie[SL_MAC_LEN], struct sl_msg_cookie *reply)
{
	const uint8_t *mac1 = msg + len - sizeof(struct sl_msg_macs);

	memset(reply, 0, sizeof(*reply));
	reply->type = SL_MSG_COOKIE;
	memcpy(&reply->receiver, msg + sender_off, sizeof(reply->receiver));
	randombytes_buf(reply->nonce, sizeof(reply->nonce));
	crypto_aead_xchacha20poly1305_ietf_encrypt(reply->cookie_enc, NULL, cookie, SL_MAC_LEN,
						   mac1, SL_MAC_LEN, NULL, reply->nonce,
						   anon ? a->cookie_anon_key : a->cookie_key);
}

/* mac1 and mac2 verdicts, in constant time per MAC. An initiation without mac2 takes a token
 * of the global budget; none left counts as load. */
static enum cp_admit
check_macs(struct cp_admission *a, const uint8_t *msg, size_t len, bool anon, bool initiation,
	   const struct cp_src *src, uint64_t now_ns, bool under_load, uint8_t cookie[SL_MAC_LEN])
{
	const struct sl_msg_macs *m = (const void *)(msg + len - sizeof(*m));
	size_t mac1_off = len - sizeof(*m), mac2_off = mac1_off + SL_MAC_LEN;
	uint8_t want[SL_MAC_LEN];
	bool mac2_present;

	mac(want, anon ? a->mac1_anon_key : a->mac1_key, SL_KEY_LEN, msg, mac1_off);
	if (sodium_memcmp(want, m->mac1, SL_MAC_LEN) != 0)
		return CP_ADMIT_BAD_MAC1;
	mac2_present = !sodium_is_zero(m->mac2, SL_MAC_LEN);
	if (!mac2_present && !under_load && initiation && !cp_ratelimit_allow(a->budget, 0, now_ns)) {
		a->stats.over_budget++;
		under_load = true;
	}
	if (!mac2_present && !under_load)
		return CP_ADMIT_ACCEPT;
	cookie_for(a, src, now_ns, cookie);
	mac(want, cookie, SL_MAC_LEN, msg, mac2_off);
	if (sodium_memcmp(want, m->mac2, SL_MAC_LEN) == 0)
		return CP_ADMIT_ACCEPT;
	/* Missing under load, or wrong (a stale cookie from before a rotation, or damage): the
	 * message is not processed; a fresh cookie lets an honest sender retry at once. */
	return CP_ADMIT_COOKIE;
}

enum cp_admit
cp_admission_check(struct cp_admission *a, const uint8_t *msg, size_t len, bool anon,
		   bool initiation, size_t sender_off, const struct cp_src *src, uint32_t pending,
		   uint64_t now_ns, struct sl_msg_cookie *reply)
{
	bool under_load = pending >= a->cfg.under_load_pending;
	uint8_t cookie[SL_MAC_LEN];
	enum cp_admit v;

	if (len < sizeof(struct sl_msg_macs) + sender_off + sizeof(rte_be32_t) ||
	    len < sizeof(struct sl_msg_cookie) || len != msg_len(msg[0])) {
		v = CP_ADMIT_BAD_LENGTH;
		a->stats.bad_length++;
		return v;
	}
	v = check_macs(a, msg, len, anon, initiation, src, now_ns, under_load, cookie);
	if (v == CP_ADMIT_COOKIE)
		cookie_reply(a, msg, len, anon, sender_off, cookie, reply);
	else if (v == CP_ADMIT_ACCEPT && initiation &&
		 !cp_ratelimit_allow(a->rl, (uint64_t)src->via << 32 | src->ip, now_ns))
		v = CP_ADMIT_RATELIMITED;
	sodium_memzero(cookie, sizeof(cookie));

	switch (v) {
	case CP_ADMIT_ACCEPT:
		a->stats.accepted++;
		break;
	case CP_ADMIT_BAD_MAC1:
		a->stats.bad_mac1++;
		break;
	case CP_ADMIT_COOKIE:
		a->stats.cookies_sent++;
		break;
	default:
		a->stats.ratelimited++;
		break;
	}
	return v;
}

void
cp_macs_write(uint8_t *msg, size_t len, const uint8_t mac1_key[SL_KEY_LEN],
	      const struct cp_cookie *cookie, uint64_t now_ns, uint64_t max_age_ns)
{
	struct sl_msg_macs *m = (void *)(msg + len - sizeof(*m));
	size_t mac1_off = len - sizeof(*m);

	mac(m->mac1, mac1_key, SL_KEY_LEN, msg, mac1_off);
	if (cookie != NULL && cookie->valid && now_ns - cookie->received_ns < max_age_ns)
		mac(m->mac2, cookie->value, SL_MAC_LEN, msg, mac1_off + SL_MAC_LEN);
	else
		memset(m->mac2, 0, SL_MAC_LEN);
}

bool
cp_mac1_valid(const uint8_t *msg, size_t len, const uint8_t mac1_key[SL_KEY_LEN])
{
	uint8_t want[SL_MAC_LEN];
	size_t mac1_off;

	if (len < sizeof(struct sl_msg_macs))
		return false;
	mac1_off = len - sizeof(struct sl_msg_macs);
	mac(want, mac1_key, SL_KEY_LEN, msg, mac1_off);
	return sodium_memcmp(want, msg + mac1_off, SL_MAC_LEN) == 0;
}

int
cp_cookie_consume(struct cp_cookie *cookie, const struct sl_msg_cookie *reply, size_t len,
		  const uint8_t cookie_key[SL_KEY_LEN], const uint8_t sent_mac1[SL_MAC_LEN],
		  uint64_t now_ns)
{
	uint8_t value[SL_MAC_LEN];

	if (len != sizeof(*reply) || reply->type != SL_MSG_COOKIE ||
	    !sodium_is_zero(reply->reserved, sizeof(reply->reserved)))
		return -EBADMSG;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(value, NULL, NULL, reply->cookie_enc,
						       sizeof(reply->cookie_enc), sent_mac1,
						       SL_MAC_LEN, reply->nonce, cookie_key) != 0)
		return -EBADMSG;
	memcpy(cookie->value, value, SL_MAC_LEN);
	cookie->received_ns = now_ns;
	cookie->valid = true;
	sodium_memzero(value, sizeof(value));
	return 0;
}
