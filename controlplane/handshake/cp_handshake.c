/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the sluice handshake over Noise IK / XX (see cp_handshake.h), and the steps the
 * resumption handshake shares with them (cp_handshake_pvt.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sl_dh.h"
#include "cp_handshake_pvt.h"
#include "cp_hs_stamps.h"

#define PROLOGUE_LABEL		"sluice handshake v1"
#define RESUME_LABEL		"sluice resumption v1" /* HKDF label of the resumption secret */
#define DEFAULT_TSTAMP_CAPACITY 65536

static const char *const reason_names[] = {
#define CP_HS_REASON_NAME(name, str) [CP_HS_##name] = str,
	CP_HS_REASONS(CP_HS_REASON_NAME)
#undef CP_HS_REASON_NAME
};

const char *
cp_hs_reason_name(enum cp_hs_reason r)
{
	return (unsigned int)r < CP_HS_REASON_COUNT ? reason_names[r] : "unknown";
}

bool
cp_hs_reason_answered(enum cp_hs_reason r)
{
	return r == CP_HS_NETWORK || r == CP_HS_VERSION || r == CP_HS_CHANNELS;
}

/* --- context -------------------------------------------------------------------------------- */

/* A channel set: the control channel (0, reliable), datagram channels among those used. */
static bool
chanset_valid(uint16_t used, uint16_t datagram)
{
	return (used & 1u) != 0 && (datagram & 1u) == 0 && (datagram & ~used) == 0;
}

static bool
config_valid(const struct cp_hs_config *cfg)
{
	if (cfg->version == 0 || cfg->min_version == 0 || cfg->min_version > cfg->version)
		return false;
	if (!chanset_valid(cfg->chan_used | 1u, cfg->chan_datagram))
		return false;
	return cfg->n_addrs <= SL_HS_MAX_ADDRS;
}

struct cp_hs_ctx *
cp_hs_ctx_create(const struct cp_hs_config *cfg)
{
	struct cp_hs_ctx *ctx;

	if (!config_valid(cfg)) {
		errno = EINVAL;
		return NULL;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	ctx->cfg = *cfg;
	ctx->cfg.chan_used |= 1u; /* the control channel is always there */
	if (ctx->cfg.tstamp_capacity == 0)
		ctx->cfg.tstamp_capacity = DEFAULT_TSTAMP_CAPACITY;
	if (ctx->cfg.cookie_max_age_ns == 0)
		ctx->cfg.cookie_max_age_ns = SL_COOKIE_ROTATE_NS;
	if (sl_dh_pubkey(ctx->pub, cfg->static_priv) != 0) {
		cp_hs_ctx_destroy(ctx);
		errno = EINVAL;
		return NULL;
	}
	ctx->tstamps = cp_hs_stamps_create(ctx->cfg.tstamp_capacity);
	if (ctx->tstamps == NULL) {
		cp_hs_ctx_destroy(ctx);
		errno = ENOMEM;
		return NULL;
	}
	cp_mac1_key_peer(ctx->mac1_self, ctx->pub);
	cp_mac1_key_anon(ctx->mac1_anon);
	cp_cookie_key_anon(ctx->cookie_anon);
	return ctx;
}

void
cp_hs_ctx_destroy(struct cp_hs_ctx *ctx)
{
	if (ctx == NULL)
		return;
	cp_hs_stamps_destroy(ctx->tstamps);
	sodium_memzero(ctx, sizeof(*ctx));
	free(ctx);
}

const uint8_t *
cp_hs_ctx_pubkey(const struct cp_hs_ctx *ctx)
{
	return ctx->pub;
}

const struct cp_hs_stamps *
cp_hs_ctx_tstamps(const struct cp_hs_ctx *ctx)
{
	return ctx->tstamps;
}

uint64_t
cp_hs_next_timestamp(struct cp_hs_ctx *ctx, uint64_t wall_ns)
{
	ctx->last_ts = wall_ns > ctx->last_ts ? wall_ns : ctx->last_ts + 1;
	return ctx->last_ts;
}

void
cp_hs_session_wipe(struct cp_hs_session *s)
{
	sodium_memzero(s, sizeof(*s));
}

void
cp_hs_pending_wipe(struct cp_hs_pending *p)
{
	sodium_memzero(p, sizeof(*p));
}

enum sl_aead_alg
cp_hs_suite_aead(uint8_t suite)
{
	switch (suite) {
	case SL_SUITE_AESGCM_SHA256:
		return SL_AEAD_AES256_GCM;
	case SL_SUITE_CHACHAPOLY_BLAKE2B:
		return SL_AEAD_CHACHA20_POLY1305;
	default:
		return SL_AEAD_NONE;
	}
}

bool
cp_hs_suite_protocol(uint8_t suite, enum cp_noise_pattern pat, struct cp_noise_protocol *p)
{
	p->pattern = pat;
	switch (suite) {
	case SL_SUITE_AESGCM_SHA256:
		p->cipher = CP_NOISE_AESGCM;
		p->hash = SL_HASH_SHA256;
		return true;
	case SL_SUITE_CHACHAPOLY_BLAKE2B:
		p->cipher = CP_NOISE_CHACHAPOLY;
		p->hash = SL_HASH_BLAKE2B;
		return true;
	default:
		return false;
	}
}

/* --- payload -------------------------------------------------------------------------------- */

void
cp_hs_payload_encode(const struct cp_hs_ctx *ctx, uint32_t sender, uint64_t timestamp,
		     uint8_t flags, struct sl_hs_payload *out)
{
	memset(out, 0, sizeof(*out));
	out->sender = rte_cpu_to_be_32(sender);
	out->flags = flags;
	out->version = ctx->cfg.version;
	out->min_version = ctx->cfg.min_version;
	out->n_addrs = ctx->cfg.n_addrs;
	out->network_id = rte_cpu_to_be_64(ctx->cfg.network_id);
	out->capabilities = rte_cpu_to_be_64(ctx->cfg.capabilities);
	out->timestamp = rte_cpu_to_be_64(timestamp);
	for (unsigned int i = 0; i < ctx->cfg.n_addrs; i++) {
		out->addrs[i].ip = rte_cpu_to_be_32(ctx->cfg.addrs[i].ip);
		out->addrs[i].port = rte_cpu_to_be_16(ctx->cfg.addrs[i].port);
	}
	out->chan_used = rte_cpu_to_be_16(ctx->cfg.chan_used);
	out->chan_datagram = rte_cpu_to_be_16(ctx->cfg.chan_datagram);
}

/* Reserved bytes zero, every unused address slot entirely zero, a channel set that can be. */
static bool
payload_well_formed(const struct sl_hs_payload *in)
{
	static const struct sl_wire_addr4 zero_addr;

	if ((in->flags & ~SL_HS_F_KNOWN) != 0 || in->n_addrs > SL_HS_MAX_ADDRS)
		return false;
	if (in->min_version == 0 || in->min_version > in->version)
		return false;
	if (!chanset_valid(rte_be_to_cpu_16(in->chan_used), rte_be_to_cpu_16(in->chan_datagram)) ||
	    in->reserved[0] != 0 || in->reserved[1] != 0 || in->reserved[2] != 0 ||
	    in->reserved[3] != 0)
		return false;
	for (unsigned int i = 0; i < SL_HS_MAX_ADDRS; i++) {
		if (in->addrs[i].reserved[0] != 0 || in->addrs[i].reserved[1] != 0)
			return false;
		if (i >= in->n_addrs && memcmp(&in->addrs[i], &zero_addr, sizeof(zero_addr)) != 0)
			return false;
	}
	return true;
}

enum cp_hs_reason
cp_hs_payload_decode(const struct cp_hs_ctx *ctx, const struct sl_hs_payload *in,
		     struct cp_hs_peerinfo *info)
{
	if (!payload_well_formed(in))
		return CP_HS_MALFORMED;
	info->sender = rte_be_to_cpu_32(in->sender);
	info->flags = in->flags;
	info->network_id = rte_be_to_cpu_64(in->network_id);
	info->capabilities = rte_be_to_cpu_64(in->capabilities);
	info->timestamp = rte_be_to_cpu_64(in->timestamp);
	info->n_addrs = in->n_addrs;
	for (unsigned int i = 0; i < in->n_addrs; i++) {
		info->addrs[i].ip = rte_be_to_cpu_32(in->addrs[i].ip);
		info->addrs[i].port = rte_be_to_cpu_16(in->addrs[i].port);
	}
	info->chan_used = rte_be_to_cpu_16(in->chan_used);
	info->chan_datagram = rte_be_to_cpu_16(in->chan_datagram);
	info->version = RTE_MIN(in->version, ctx->cfg.version);
	if (info->network_id != ctx->cfg.network_id)
		return CP_HS_NETWORK;
	if (in->version < ctx->cfg.min_version || ctx->cfg.version < in->min_version)
		return CP_HS_VERSION;
	if (info->chan_used != ctx->cfg.chan_used || info->chan_datagram != ctx->cfg.chan_datagram)
		return CP_HS_CHANNELS;
	return CP_HS_NONE;
}

/* --- shared steps --------------------------------------------------------------------------- */

int
cp_hs_refuse(struct cp_hs_pending *p, enum cp_hs_reason r, int rc)
{
	cp_noise_wipe(&p->noise);
	p->reason = r;
	return rc;
}

void
cp_hs_write_header(uint8_t *msg, uint8_t type, uint8_t suite, uint32_t sender)
{
	rte_be32_t be = rte_cpu_to_be_32(sender);

	msg[0] = type;
	msg[1] = suite;
	msg[2] = msg[3] = 0;
	memcpy(msg + 4, &be, sizeof(be));
}

/* Type, suite and reserved bytes of a received message. */
bool
cp_hs_header_ok(const uint8_t *msg, size_t len, size_t want_len, uint8_t type)
{
	struct cp_noise_protocol proto;

	return len == want_len && msg[0] == type && msg[2] == 0 && msg[3] == 0 &&
	       cp_hs_suite_protocol(msg[1], CP_NOISE_IK, &proto);
}

/* Initialize Noise for pattern pat; the prologue binds the first message's header. */
static int
noise_begin(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, enum cp_noise_pattern pat,
	    const uint8_t *first_hdr, const uint8_t *rs)
{
	uint8_t prologue[sizeof(PROLOGUE_LABEL) - 1 + CP_HS_HDR_LEN];
	struct cp_noise_params np = {
		.initiator = p->initiator,
		.prologue = prologue,
		.prologue_len = sizeof(prologue),
		.s = ctx->cfg.static_priv,
		.s_pub = ctx->pub, /* derived once, at context creation */
		.rs = rs,
	};

	if (!cp_hs_suite_protocol(p->suite, pat, &np.proto))
		return -EINVAL;
	memcpy(prologue, PROLOGUE_LABEL, sizeof(PROLOGUE_LABEL) - 1);
	memcpy(prologue + sizeof(PROLOGUE_LABEL) - 1, first_hdr, CP_HS_HDR_LEN);
	return cp_noise_init(&p->noise, &np);
}

int
cp_hs_noise_write(struct cp_hs_pending *p, const void *payload, size_t plen, uint8_t *out,
		  size_t out_len)
{
	int n = cp_noise_write(&p->noise, payload, plen, out, out_len);

	return n == (int)out_len ? 0 : -EINVAL;
}

/* Read a Noise message whose payload must be exactly plen bytes. */
int
cp_hs_noise_read(struct cp_hs_pending *p, const uint8_t *in, size_t in_len, void *payload,
		 size_t plen)
{
	int n = cp_noise_read(&p->noise, in, in_len, payload, plen);

	if (n == -EKEYREJECTED)
		return cp_hs_refuse(p, CP_HS_LOW_ORDER, n);
	if (n != (int)plen)
		return cp_hs_refuse(p, CP_HS_DECRYPT, -EBADMSG);
	return 0;
}

int
cp_hs_check_peer(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const struct sl_hs_payload *pl)
{
	enum cp_hs_reason r;

	if (sodium_memcmp(p->peer.pub, ctx->pub, SL_KEY_LEN) == 0)
		return cp_hs_refuse(p, CP_HS_SELF, -ECONNREFUSED);
	r = cp_hs_payload_decode(ctx, pl, &p->peer);
	if (r == CP_HS_NONE && p->peer.sender != p->remote_id)
		r = CP_HS_MALFORMED; /* the header's sender id was altered */
	if (r == CP_HS_MALFORMED)
		return cp_hs_refuse(p, r, -EBADMSG);
	if (r != CP_HS_NONE) {
		p->reason = r; /* the Noise state stays usable to write an answer */
		return -ECONNREFUSED;
	}
	return 0;
}

int
cp_hs_check_policy(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, int rc)
{
	bool known = rc == 0 || (rc == -ECONNREFUSED && cp_hs_reason_answered(p->reason));

	if (ctx->cfg.peer_allowed == NULL || !known ||
	    ctx->cfg.peer_allowed(ctx->cfg.peer_allowed_arg, p->peer.pub))
		return rc;
	return cp_hs_refuse(p, CP_HS_POLICY, -EACCES);
}

/* Peer payload checks of IK and XX, where Noise authenticated the peer's static key. */
static int
accept_payload(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const struct sl_hs_payload *pl)
{
	const uint8_t *rs = cp_noise_remote_static(&p->noise);

	if (rs == NULL)
		return cp_hs_refuse(p, CP_HS_STATE, -EINVAL);
	memcpy(p->peer.pub, rs, SL_KEY_LEN);
	return cp_hs_check_peer(ctx, p, pl);
}

/* The secret a later handshake resumes this one with, and its ticket (cp_hs_resume.h). */
static int
derive_resumption(struct cp_hs_pending *p, struct cp_hs_resumption *r)
{
	uint8_t ticket[SL_KEY_LEN];
	int rc = cp_noise_export(&p->noise, (const uint8_t *)RESUME_LABEL, sizeof(RESUME_LABEL) - 1,
				 r->secret, ticket);

	memcpy(r->ticket, ticket, sizeof(r->ticket));
	r->not_after_ns = p->resume ? p->resume_not_after_ns : 0;
	sodium_memzero(ticket, sizeof(ticket));
	return rc;
}

int
cp_hs_complete(struct cp_hs_pending *p, struct cp_hs_session *s)
{
	struct cp_noise_cipherstate send, recv;
	int rc = cp_noise_split(&p->noise, &send, &recv);

	if (rc != 0)
		return cp_hs_refuse(p, CP_HS_STATE, rc);
	memset(s, 0, sizeof(*s));
	rc = derive_resumption(p, &s->resume);
	s->suite = p->suite;
	s->initiator = p->initiator;
	s->resumed = p->resume;
	s->local_id = p->local_id;
	s->remote_id = p->remote_id;
	memcpy(s->send_key, send.k, SL_KEY_LEN);
	memcpy(s->recv_key, recv.k, SL_KEY_LEN);
	s->peer = p->peer;
	cp_noise_cs_wipe(&send);
	cp_noise_cs_wipe(&recv);
	if (rc != 0) {
		cp_hs_session_wipe(s);
		return cp_hs_refuse(p, CP_HS_STATE, rc);
	}
	cp_noise_wipe(&p->noise);
	p->reason = CP_HS_NONE;
	return 0;
}

void
cp_hs_sign(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, uint8_t *msg, size_t len,
	   const uint8_t *mac1_key, const struct cp_cookie *cookie, uint64_t now_ns)
{
	cp_macs_write(msg, len, mac1_key, cookie, now_ns, ctx->cfg.cookie_max_age_ns);
	memcpy(p->sent_mac1, msg + len - sizeof(struct sl_msg_macs), SL_MAC_LEN);
}

void
cp_hs_pending_begin(struct cp_hs_pending *p, bool initiator, bool xx, uint8_t suite,
		    uint32_t local_id)
{
	memset(p, 0, sizeof(*p));
	p->initiator = initiator;
	p->xx = xx;
	p->suite = suite;
	p->local_id = local_id;
}

/* --- IK ------------------------------------------------------------------------------------- */

int
cp_hs_ik_start(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const uint8_t peer_pub[SL_KEY_LEN],
	       uint8_t suite, uint32_t local_id, uint8_t flags, uint64_t wall_ns,
	       const struct cp_cookie *cookie, uint64_t now_ns, struct sl_msg_ik_init *out)
{
	uint8_t mac1_key[SL_KEY_LEN];
	struct sl_hs_payload pl;
	int rc;

	cp_hs_pending_begin(p, true, false, suite, local_id);
	memcpy(p->peer_pub, peer_pub, SL_KEY_LEN);
	memset(out, 0, sizeof(*out));
	cp_hs_write_header((uint8_t *)out, SL_MSG_IK_INIT, suite, local_id);
	if (sodium_memcmp(peer_pub, ctx->pub, SL_KEY_LEN) == 0)
		return cp_hs_refuse(p, CP_HS_SELF, -EINVAL);
	rc = noise_begin(ctx, p, CP_NOISE_IK, (const uint8_t *)out, peer_pub);
	if (rc != 0)
		return cp_hs_refuse(p, CP_HS_MALFORMED, rc);
	cp_hs_payload_encode(ctx, local_id, cp_hs_next_timestamp(ctx, wall_ns), flags, &pl);
	rc = cp_hs_noise_write(p, &pl, sizeof(pl), out->ephemeral,
			       sizeof(*out) - offsetof(struct sl_msg_ik_init, ephemeral) -
				       sizeof(struct sl_msg_macs));
	if (rc != 0)
		return cp_hs_refuse(p, CP_HS_LOW_ORDER, rc);
	cp_mac1_key_peer(mac1_key, peer_pub);
	cp_hs_sign(ctx, p, (uint8_t *)out, sizeof(*out), mac1_key, cookie, now_ns);
	p->msg_type = SL_MSG_IK_INIT;
	return 0;
}

bool
cp_hs_answer_macs_ok(const uint8_t *msg, size_t len, const uint8_t mac1_key[SL_KEY_LEN])
{
	return cp_mac1_valid(msg, len, mac1_key) &&
	       sodium_is_zero(msg + len - SL_MAC_LEN, SL_MAC_LEN);
}

int
cp_hs_ik_finish(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const uint8_t *msg, size_t len,
		struct cp_hs_session *s)
{
	const struct sl_msg_ik_resp *r = (const void *)msg;
	struct sl_hs_payload pl;
	int rc;

	if (!p->initiator || p->xx || p->msg_type != SL_MSG_IK_INIT)
		return cp_hs_refuse(p, CP_HS_STATE, -EINVAL);
	if (!cp_hs_header_ok(msg, len, sizeof(*r), SL_MSG_IK_RESP) || msg[1] != p->suite ||
	    cp_hs_read_be32(msg + 8) != p->local_id)
		return cp_hs_refuse(p, CP_HS_MALFORMED, -EBADMSG);
	if (!cp_hs_answer_macs_ok(msg, len, ctx->mac1_self))
		return cp_hs_refuse(p, CP_HS_BAD_MAC1, -EBADMSG);
	p->remote_id = cp_hs_read_be32(msg + 4);
	rc = cp_hs_noise_read(p, r->ephemeral, sizeof(r->ephemeral) + sizeof(r->payload_enc), &pl,
			      sizeof(pl));
	if (rc == 0)
		rc = accept_payload(ctx, p, &pl);
	if (rc == 0 && sodium_memcmp(p->peer.pub, p->peer_pub, SL_KEY_LEN) != 0)
		rc = cp_hs_refuse(p, CP_HS_WRONG_PEER, -ECONNREFUSED);
	if (rc != 0) {
		cp_noise_wipe(&p->noise);
		return rc;
	}
	return cp_hs_complete(p, s);
}

/* Write our answer to an initiation that has been read. */
static int
ik_write_answer(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, uint8_t flags,
		struct sl_msg_ik_resp *out)
{
	uint8_t mac1_key[SL_KEY_LEN];
	struct sl_hs_payload pl;
	rte_be32_t receiver = rte_cpu_to_be_32(p->remote_id);
	int rc;

	memset(out, 0, sizeof(*out));
	cp_hs_write_header((uint8_t *)out, SL_MSG_IK_RESP, p->suite, p->local_id);
	memcpy(&out->receiver, &receiver, sizeof(receiver));
	cp_hs_payload_encode(ctx, p->local_id, 0, flags, &pl);
	rc = cp_hs_noise_write(p, &pl, sizeof(pl), out->ephemeral,
			       sizeof(out->ephemeral) + sizeof(out->payload_enc));
	if (rc != 0)
		return cp_hs_refuse(p, CP_HS_LOW_ORDER, rc);
	cp_mac1_key_peer(mac1_key, p->peer.pub);
	cp_hs_sign(ctx, p, (uint8_t *)out, sizeof(*out), mac1_key, NULL, 0);
	p->msg_type = SL_MSG_IK_RESP;
	return 0;
}

int
cp_hs_ik_read(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const uint8_t *msg, size_t len,
	      uint64_t now_ns)
{
	const struct sl_msg_ik_init *in = (const void *)msg;
	struct sl_hs_payload pl;
	int rc;

	if (!cp_hs_header_ok(msg, len, sizeof(*in), SL_MSG_IK_INIT)) {
		cp_hs_pending_begin(p, false, false, 0, 0);
		return cp_hs_refuse(p, CP_HS_MALFORMED, -EBADMSG);
	}
	cp_hs_pending_begin(p, false, false, msg[1], 0);
	p->remote_id = cp_hs_read_be32(msg + 4);
	rc = noise_begin(ctx, p, CP_NOISE_IK, msg, NULL);
	if (rc == 0)
		rc = cp_hs_noise_read(p, in->ephemeral,
				      offsetof(struct sl_msg_ik_init, macs) -
					      offsetof(struct sl_msg_ik_init, ephemeral),
				      &pl, sizeof(pl));
	if (rc == 0)
		rc = cp_hs_check_policy(ctx, p, accept_payload(ctx, p, &pl));
	if (rc == -ECONNREFUSED && cp_hs_reason_answered(p->reason))
		return rc; /* the Noise state stays usable: cp_hs_ik_answer tells the initiator */
	if (rc == 0 && !cp_hs_stamps_fresh(ctx->tstamps, p->peer.pub, p->peer.timestamp, now_ns))
		rc = cp_hs_refuse(p, CP_HS_REPLAY, -EALREADY);
	if (rc != 0) {
		cp_noise_wipe(&p->noise);
		return rc;
	}
	p->msg_type = SL_MSG_IK_INIT;
	return 0;
}

int
cp_hs_ik_answer(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, uint32_t local_id, uint8_t flags,
		struct sl_msg_ik_resp *out, struct cp_hs_session *s)
{
	enum cp_hs_reason why = p->reason;
	int rc;

	if (p->initiator || p->xx)
		return cp_hs_refuse(p, CP_HS_STATE, -EINVAL);
	p->local_id = local_id;
	if (cp_hs_reason_answered(why)) {
		/* tell the initiator who we are, so it can report why; keep no session */
		if (ik_write_answer(ctx, p, 0, out) == 0)
			return cp_hs_refuse(p, why, -ECONNREFUSED);
		return cp_hs_refuse(p, why, -EPROTO);
	}
	if (why != CP_HS_NONE || p->msg_type != SL_MSG_IK_INIT)
		return cp_hs_refuse(p, CP_HS_STATE, -EINVAL);
	rc = ik_write_answer(ctx, p, flags, out);
	if (rc != 0)
		return rc; /* p is wiped */
	return cp_hs_complete(p, s);
}

int
cp_hs_ik_respond(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const uint8_t *msg, size_t len,
		 uint32_t local_id, uint64_t now_ns, struct sl_msg_ik_resp *out,
		 struct cp_hs_session *s)
{
	int rc = cp_hs_ik_read(ctx, p, msg, len, now_ns);

	if (rc != 0 && rc != -ECONNREFUSED)
		return rc;
	if (rc == -ECONNREFUSED && !cp_hs_reason_answered(p->reason))
		return rc;
	return cp_hs_ik_answer(ctx, p, local_id, 0, out, s);
}

/* --- XX ------------------------------------------------------------------------------------- */

int
cp_hs_xx_start(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, uint8_t suite, uint32_t local_id,
	       const struct cp_cookie *cookie, uint64_t now_ns, struct sl_msg_xx_init *out)
{
	int rc;

	cp_hs_pending_begin(p, true, true, suite, local_id);
	memset(out, 0, sizeof(*out));
	cp_hs_write_header((uint8_t *)out, SL_MSG_XX_INIT, suite, local_id);
	rc = noise_begin(ctx, p, CP_NOISE_XX, (const uint8_t *)out, NULL);
	if (rc == 0)
		rc = cp_hs_noise_write(p, out->padding, sizeof(out->padding), out->ephemeral,
				       sizeof(out->ephemeral) + sizeof(out->padding));
	if (rc != 0)
		return cp_hs_refuse(p, CP_HS_MALFORMED, rc);
	cp_hs_sign(ctx, p, (uint8_t *)out, sizeof(*out), ctx->mac1_anon, cookie, now_ns);
	p->msg_type = SL_MSG_XX_INIT;
	return 0;
}

int
cp_hs_xx_respond(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const uint8_t *msg, size_t len,
		 uint32_t local_id, struct sl_msg_xx_resp *out)
{
	const struct sl_msg_xx_init *in = (const void *)msg;
	uint8_t padding[SL_XX_INIT_PAD];
	struct sl_hs_payload pl;
	rte_be32_t receiver;
	int rc;

	if (!cp_hs_header_ok(msg, len, sizeof(*in), SL_MSG_XX_INIT)) {
		cp_hs_pending_begin(p, false, true, 0, local_id);
		return cp_hs_refuse(p, CP_HS_MALFORMED, -EBADMSG);
	}
	cp_hs_pending_begin(p, false, true, msg[1], local_id);
	p->remote_id = cp_hs_read_be32(msg + 4);
	rc = noise_begin(ctx, p, CP_NOISE_XX, msg, NULL);
	if (rc == 0)
		rc = cp_hs_noise_read(p, in->ephemeral, sizeof(in->ephemeral) + sizeof(in->padding),
				      padding, sizeof(padding));
	if (rc == 0 && !sodium_is_zero(padding, sizeof(padding)))
		rc = cp_hs_refuse(p, CP_HS_MALFORMED, -EBADMSG);
	if (rc != 0)
		return rc;

	memset(out, 0, sizeof(*out));
	cp_hs_write_header((uint8_t *)out, SL_MSG_XX_RESP, p->suite, local_id);
	receiver = rte_cpu_to_be_32(p->remote_id);
	memcpy(&out->receiver, &receiver, sizeof(receiver));
	cp_hs_payload_encode(ctx, local_id, 0, 0, &pl);
	rc = cp_hs_noise_write(p, &pl, sizeof(pl), out->ephemeral,
			       offsetof(struct sl_msg_xx_resp, macs) -
				       offsetof(struct sl_msg_xx_resp, ephemeral));
	if (rc != 0)
		return cp_hs_refuse(p, CP_HS_LOW_ORDER, rc);
	cp_hs_sign(ctx, p, (uint8_t *)out, sizeof(*out), ctx->mac1_anon, NULL, 0);
	p->msg_type = SL_MSG_XX_RESP;
	return 0;
}

/* Write the finishing message once the answer has been accepted. */
static int
xx_write_finish(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, uint64_t wall_ns,
		const struct cp_cookie *cookie, uint64_t now_ns, struct sl_msg_xx_finish *out)
{
	uint8_t mac1_key[SL_KEY_LEN];
	struct sl_hs_payload pl;
	rte_be32_t receiver = rte_cpu_to_be_32(p->remote_id);
	int rc;

	memset(out, 0, sizeof(*out));
	cp_hs_write_header((uint8_t *)out, SL_MSG_XX_FINISH, p->suite, p->local_id);
	memcpy(&out->receiver, &receiver, sizeof(receiver));
	cp_hs_payload_encode(ctx, p->local_id, cp_hs_next_timestamp(ctx, wall_ns), 0, &pl);
	rc = cp_hs_noise_write(p, &pl, sizeof(pl), out->static_enc,
			       offsetof(struct sl_msg_xx_finish, macs) -
				       offsetof(struct sl_msg_xx_finish, static_enc));
	if (rc != 0)
		return cp_hs_refuse(p, CP_HS_LOW_ORDER, rc);
	cp_mac1_key_peer(mac1_key, p->peer.pub);
	cp_hs_sign(ctx, p, (uint8_t *)out, sizeof(*out), mac1_key, cookie, now_ns);
	p->msg_type = SL_MSG_XX_FINISH;
	return 0;
}

int
cp_hs_xx_finish(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const uint8_t *msg, size_t len,
		uint64_t wall_ns, const struct cp_cookie *cookie, uint64_t now_ns,
		struct sl_msg_xx_finish *out, struct cp_hs_session *s)
{
	const struct sl_msg_xx_resp *r = (const void *)msg;
	struct sl_hs_payload pl;
	int rc;

	if (!p->initiator || !p->xx || p->msg_type != SL_MSG_XX_INIT)
		return cp_hs_refuse(p, CP_HS_STATE, -EINVAL);
	if (!cp_hs_header_ok(msg, len, sizeof(*r), SL_MSG_XX_RESP) || msg[1] != p->suite ||
	    cp_hs_read_be32(msg + 8) != p->local_id)
		return cp_hs_refuse(p, CP_HS_MALFORMED, -EBADMSG);
	if (!cp_hs_answer_macs_ok(msg, len, ctx->mac1_anon))
		return cp_hs_refuse(p, CP_HS_BAD_MAC1, -EBADMSG);
	p->remote_id = cp_hs_read_be32(msg + 4);
	rc = cp_hs_noise_read(p, r->ephemeral,
			      offsetof(struct sl_msg_xx_resp, macs) -
				      offsetof(struct sl_msg_xx_resp, ephemeral),
			      &pl, sizeof(pl));
	if (rc == 0)
		rc = accept_payload(ctx, p, &pl);
	if (rc == 0)
		rc = xx_write_finish(ctx, p, wall_ns, cookie, now_ns, out);
	if (rc != 0) {
		cp_noise_wipe(&p->noise);
		return rc;
	}
	return cp_hs_complete(p, s);
}

int
cp_hs_xx_complete(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const uint8_t *msg, size_t len,
		  uint64_t now_ns, struct cp_hs_session *s)
{
	const struct sl_msg_xx_finish *f = (const void *)msg;
	struct sl_hs_payload pl;
	int rc;

	if (p->initiator || !p->xx || p->msg_type != SL_MSG_XX_RESP)
		return cp_hs_refuse(p, CP_HS_STATE, -EINVAL);
	if (!cp_hs_header_ok(msg, len, sizeof(*f), SL_MSG_XX_FINISH) || msg[1] != p->suite ||
	    cp_hs_read_be32(msg + 4) != p->remote_id || cp_hs_read_be32(msg + 8) != p->local_id)
		return cp_hs_refuse(p, CP_HS_MALFORMED, -EBADMSG);
	rc = cp_hs_noise_read(p, f->static_enc,
			      offsetof(struct sl_msg_xx_finish, macs) -
				      offsetof(struct sl_msg_xx_finish, static_enc),
			      &pl, sizeof(pl));
	if (rc == 0)
		rc = cp_hs_check_policy(ctx, p, accept_payload(ctx, p, &pl));
	if (rc == 0 && !cp_hs_stamps_fresh(ctx->tstamps, p->peer.pub, p->peer.timestamp, now_ns))
		rc = cp_hs_refuse(p, CP_HS_REPLAY, -EALREADY);
	if (rc != 0) {
		cp_noise_wipe(&p->noise);
		return rc;
	}
	return cp_hs_complete(p, s);
}

/* --- cookies -------------------------------------------------------------------------------- */

int
cp_hs_cookie_consume(struct cp_hs_ctx *ctx, const struct cp_hs_pending *p,
		     const struct sl_msg_cookie *reply, size_t len, uint64_t now_ns,
		     struct cp_cookie *cookie)
{
	uint8_t key[SL_KEY_LEN];
	int rc;

	if (!p->initiator || len != sizeof(*reply) ||
	    rte_be_to_cpu_32(reply->receiver) != p->local_id)
		return -EBADMSG;
	if (p->msg_type == SL_MSG_XX_INIT)
		memcpy(key, ctx->cookie_anon, sizeof(key));
	else if (p->msg_type == SL_MSG_XX_FINISH)
		cp_cookie_key_peer(key, p->peer.pub);
	else if (p->msg_type == SL_MSG_IK_INIT || p->msg_type == SL_MSG_RESUME_INIT)
		cp_cookie_key_peer(key, p->peer_pub);
	else
		return -EBADMSG;
	rc = cp_cookie_consume(cookie, reply, len, key, p->sent_mac1, now_ns);
	sodium_memzero(key, sizeof(key));
	return rc;
}
