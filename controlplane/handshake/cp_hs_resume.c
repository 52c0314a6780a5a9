/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: session resumption over Noise NNpsk0 (see cp_hs_resume.h).
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "cp_handshake_pvt.h"
#include "cp_hs_resume.h"
#include "cp_hs_stamps.h"

#define RESUME_PROLOGUE "sluice resume v1"
/* the initiation's header and ticket: everything before its Noise message */
#define RESUME_HDR_LEN offsetof(struct sl_msg_resume_init, ephemeral)
#define INIT_NOISE_LEN (offsetof(struct sl_msg_resume_init, macs) - RESUME_HDR_LEN)
#define RESP_NOISE_LEN \
	(offsetof(struct sl_msg_resume_resp, macs) - offsetof(struct sl_msg_resume_resp, ephemeral))

static_assert(RESUME_HDR_LEN == CP_HS_HDR_LEN + SL_RESUME_TICKET_LEN, "header, then ticket");

/* Noise NNpsk0 keyed by the resumption secret. The prologue binds the header and ticket as
 * sent, and both node ids: the psk was issued to exactly these two. */
static int
resume_noise_begin(struct cp_hs_pending *p, const uint8_t *hdr, const uint8_t *init_pub,
		   const uint8_t *resp_pub, const uint8_t *secret)
{
	uint8_t prologue[sizeof(RESUME_PROLOGUE) - 1 + RESUME_HDR_LEN + 2 * SL_KEY_LEN];
	uint8_t *at = prologue + sizeof(RESUME_PROLOGUE) - 1;
	struct cp_noise_params np = {
		.initiator = p->initiator,
		.prologue = prologue,
		.prologue_len = sizeof(prologue),
		.psk = secret,
	};

	if (!cp_hs_suite_protocol(p->suite, CP_NOISE_NNPSK0, &np.proto))
		return -EINVAL;
	memcpy(prologue, RESUME_PROLOGUE, sizeof(RESUME_PROLOGUE) - 1);
	memcpy(at, hdr, RESUME_HDR_LEN);
	memcpy(at + RESUME_HDR_LEN, init_pub, SL_KEY_LEN);
	memcpy(at + RESUME_HDR_LEN + SL_KEY_LEN, resp_pub, SL_KEY_LEN);
	return cp_noise_init(&p->noise, &np);
}

static enum cp_hs_reason
lookup_reason(int rc)
{
	return rc == -ETIME ? CP_HS_TICKET_EXPIRED : CP_HS_NO_TICKET;
}

/* --- initiator ----------------------------------------------------------------------------- */

/* The Noise part of the initiation, once the header and ticket are written. */
static int
write_init(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const struct cp_resume_ticket *t,
	   uint8_t flags, uint64_t wall_ns, struct sl_msg_resume_init *out)
{
	struct sl_hs_payload pl;
	int rc = resume_noise_begin(p, (const uint8_t *)out, ctx->pub, p->peer_pub, t->secret);

	if (rc != 0)
		return cp_hs_refuse(p, CP_HS_MALFORMED, rc);
	cp_hs_payload_encode(ctx, p->local_id, cp_hs_next_timestamp(ctx, wall_ns), flags, &pl);
	rc = cp_hs_noise_write(p, &pl, sizeof(pl), out->ephemeral, INIT_NOISE_LEN);
	if (rc != 0)
		return cp_hs_refuse(p, CP_HS_LOW_ORDER, rc);
	return 0;
}

int
cp_hs_resume_start(struct cp_hs_ctx *ctx, struct cp_resume *cache, struct cp_hs_pending *p,
		   const uint8_t peer_pub[SL_KEY_LEN], uint8_t suite, uint32_t local_id,
		   uint8_t flags, uint64_t wall_ns, const struct cp_cookie *cookie, uint64_t now_ns,
		   struct sl_msg_resume_init *out)
{
	struct cp_noise_protocol proto;
	struct cp_resume_ticket t;
	uint8_t mac1_key[SL_KEY_LEN];
	int rc;

	cp_hs_pending_begin(p, true, false, suite, local_id);
	p->resume = true;
	memcpy(p->peer_pub, peer_pub, SL_KEY_LEN);
	memset(out, 0, sizeof(*out));
	cp_hs_write_header((uint8_t *)out, SL_MSG_RESUME_INIT, suite, local_id);
	if (sodium_memcmp(peer_pub, ctx->pub, SL_KEY_LEN) == 0)
		return cp_hs_refuse(p, CP_HS_SELF, -EINVAL);
	if (!cp_hs_suite_protocol(suite, CP_NOISE_NNPSK0, &proto))
		return cp_hs_refuse(p, CP_HS_MALFORMED, -EINVAL); /* before the secret is taken */
	rc = cp_resume_take(cache, peer_pub, now_ns, &t);
	if (rc != 0)
		return cp_hs_refuse(p, lookup_reason(rc), -ENOENT);
	memcpy(out->ticket, t.ticket, sizeof(out->ticket));
	p->resume_not_after_ns = t.not_after_ns;
	rc = write_init(ctx, p, &t, flags, wall_ns, out);
	cp_resume_ticket_wipe(&t);
	if (rc != 0)
		return rc;
	cp_mac1_key_peer(mac1_key, peer_pub);
	cp_hs_sign(ctx, p, (uint8_t *)out, sizeof(*out), mac1_key, cookie, now_ns);
	p->msg_type = SL_MSG_RESUME_INIT;
	return 0;
}

int
cp_hs_resume_resign(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const struct cp_cookie *cookie,
		    uint64_t now_ns, struct sl_msg_resume_init *msg)
{
	uint8_t mac1_key[SL_KEY_LEN];

	if (!p->initiator || !p->resume || p->msg_type != SL_MSG_RESUME_INIT ||
	    cp_hs_read_be32((const uint8_t *)msg + 4) != p->local_id)
		return -EINVAL;
	cp_mac1_key_peer(mac1_key, p->peer_pub);
	cp_hs_sign(ctx, p, (uint8_t *)msg, sizeof(*msg), mac1_key, cookie, now_ns);
	return 0;
}

int
cp_hs_resume_finish(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const uint8_t *msg, size_t len,
		    struct cp_hs_session *s)
{
	const struct sl_msg_resume_resp *r = (const void *)msg;
	struct sl_hs_payload pl;
	int rc;

	if (!p->initiator || !p->resume || p->msg_type != SL_MSG_RESUME_INIT)
		return cp_hs_refuse(p, CP_HS_STATE, -EINVAL);
	if (!cp_hs_header_ok(msg, len, sizeof(*r), SL_MSG_RESUME_RESP) || msg[1] != p->suite ||
	    cp_hs_read_be32(msg + 8) != p->local_id)
		return cp_hs_refuse(p, CP_HS_MALFORMED, -EBADMSG);
	if (!cp_hs_answer_macs_ok(msg, len, ctx->mac1_self))
		return cp_hs_refuse(p, CP_HS_BAD_MAC1, -EBADMSG);
	p->remote_id = cp_hs_read_be32(msg + 4);
	rc = cp_hs_noise_read(p, r->ephemeral, RESP_NOISE_LEN, &pl, sizeof(pl));
	if (rc == 0) {
		memcpy(p->peer.pub, p->peer_pub, SL_KEY_LEN); /* whom the psk was shared with */
		rc = cp_hs_check_peer(ctx, p, &pl);
	}
	if (rc != 0) {
		cp_noise_wipe(&p->noise);
		return rc;
	}
	return cp_hs_complete(p, s);
}

int
cp_hs_resume_rejected(struct cp_hs_pending *p, const uint8_t *msg, size_t len)
{
	const struct sl_msg_resume_reject *r = (const void *)msg;

	if (!p->initiator || !p->resume || p->msg_type != SL_MSG_RESUME_INIT || len != sizeof(*r) ||
	    r->type != SL_MSG_RESUME_REJECT || !sodium_is_zero(r->reserved, sizeof(r->reserved)) ||
	    rte_be_to_cpu_32(r->receiver) != p->local_id ||
	    sodium_memcmp(r->mac1, p->sent_mac1, SL_MAC_LEN) != 0)
		return -EBADMSG;
	cp_hs_refuse(p, CP_HS_RESUME_REFUSED, 0);
	p->msg_type = SL_MSG_RESUME_REJECT;
	return 0;
}

/* --- responder ----------------------------------------------------------------------------- */

/* Authenticate the initiation under the ticket's secret; on success the ticket is used up. */
static int
read_init(struct cp_hs_ctx *ctx, struct cp_resume *cache, struct cp_hs_pending *p,
	  const struct sl_msg_resume_init *in, uint64_t now_ns, struct sl_hs_payload *pl)
{
	struct cp_resume_ticket t;
	int rc = cp_resume_find(cache, in->ticket, now_ns, &t);

	if (rc != 0)
		return cp_hs_refuse(p, lookup_reason(rc), -ENOENT);
	rc = resume_noise_begin(p, (const uint8_t *)in, t.node_id, ctx->pub, t.secret);
	if (rc != 0)
		rc = cp_hs_refuse(p, CP_HS_MALFORMED, -EBADMSG);
	if (rc == 0)
		rc = cp_hs_noise_read(p, in->ephemeral, INIT_NOISE_LEN, pl, sizeof(*pl));
	if (rc == 0) {
		cp_resume_forget(cache, t.node_id);
		memcpy(p->peer.pub, t.node_id, SL_KEY_LEN);
		p->resume_not_after_ns = t.not_after_ns;
	}
	cp_resume_ticket_wipe(&t);
	return rc;
}

int
cp_hs_resume_read(struct cp_hs_ctx *ctx, struct cp_resume *cache, struct cp_hs_pending *p,
		  const uint8_t *msg, size_t len, uint64_t now_ns)
{
	struct sl_hs_payload pl;
	int rc;

	if (!cp_hs_header_ok(msg, len, sizeof(struct sl_msg_resume_init), SL_MSG_RESUME_INIT)) {
		cp_hs_pending_begin(p, false, false, 0, 0);
		return cp_hs_refuse(p, CP_HS_MALFORMED, -EBADMSG);
	}
	cp_hs_pending_begin(p, false, false, msg[1], 0);
	p->resume = true;
	p->remote_id = cp_hs_read_be32(msg + 4);
	rc = read_init(ctx, cache, p, (const void *)msg, now_ns, &pl);
	if (rc == 0)
		rc = cp_hs_check_policy(ctx, p, cp_hs_check_peer(ctx, p, &pl));
	if (rc == 0 && !cp_hs_stamps_fresh(ctx->tstamps, p->peer.pub, p->peer.timestamp, now_ns))
		rc = cp_hs_refuse(p, CP_HS_REPLAY, -EALREADY);
	if (rc != 0) {
		/* network or version: no answer of ours would tell; the full handshake will */
		cp_noise_wipe(&p->noise);
		return rc;
	}
	p->msg_type = SL_MSG_RESUME_INIT;
	return 0;
}

int
cp_hs_resume_answer(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, uint32_t local_id,
		    uint8_t flags, struct sl_msg_resume_resp *out, struct cp_hs_session *s)
{
	rte_be32_t receiver = rte_cpu_to_be_32(p->remote_id);
	uint8_t mac1_key[SL_KEY_LEN];
	struct sl_hs_payload pl;
	int rc;

	if (p->initiator || !p->resume || p->msg_type != SL_MSG_RESUME_INIT ||
	    p->reason != CP_HS_NONE)
		return cp_hs_refuse(p, CP_HS_STATE, -EINVAL);
	p->local_id = local_id;
	memset(out, 0, sizeof(*out));
	cp_hs_write_header((uint8_t *)out, SL_MSG_RESUME_RESP, p->suite, local_id);
	memcpy(&out->receiver, &receiver, sizeof(receiver));
	cp_hs_payload_encode(ctx, local_id, 0, flags, &pl);
	rc = cp_hs_noise_write(p, &pl, sizeof(pl), out->ephemeral, RESP_NOISE_LEN);
	if (rc != 0)
		return cp_hs_refuse(p, CP_HS_LOW_ORDER, rc);
	cp_mac1_key_peer(mac1_key, p->peer.pub);
	cp_hs_sign(ctx, p, (uint8_t *)out, sizeof(*out), mac1_key, NULL, 0);
	p->msg_type = SL_MSG_RESUME_RESP;
	return cp_hs_complete(p, s);
}

int
cp_hs_resume_respond(struct cp_hs_ctx *ctx, struct cp_resume *cache, struct cp_hs_pending *p,
		     const uint8_t *msg, size_t len, uint32_t local_id, uint64_t now_ns,
		     struct sl_msg_resume_resp *out, struct cp_hs_session *s)
{
	int rc = cp_hs_resume_read(ctx, cache, p, msg, len, now_ns);

	return rc != 0 ? rc : cp_hs_resume_answer(ctx, p, local_id, 0, out, s);
}

int
cp_hs_resume_reject(const uint8_t *msg, size_t len, struct sl_msg_resume_reject *out)
{
	const struct sl_msg_resume_init *in = (const void *)msg;

	memset(out, 0, sizeof(*out));
	if (len != sizeof(*in) || in->type != SL_MSG_RESUME_INIT)
		return -EINVAL;
	out->type = SL_MSG_RESUME_REJECT;
	out->receiver = in->sender;
	memcpy(out->mac1, in->macs.mac1, SL_MAC_LEN);
	return 0;
}
