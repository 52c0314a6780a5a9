/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: session resumption — a reconnection to a node we had a session with, within the
 * lifetime of that session's resumption secret, by Noise NNpsk0 instead of IK:
 *
 *   initiator --SL_MSG_RESUME_INIT (ticket; -> psk, e)-->   responder
 *   initiator <--SL_MSG_RESUME_RESP (<- e, ee)----------    responder
 *             <--SL_MSG_RESUME_REJECT-------------------    (no usable secret: full IK follows)
 *
 * Each side does one X25519 key generation and one Diffie-Hellman (ee) instead of IK's key
 * generation and four (es, ss, ee, se). The psk — the resumption secret of the last session,
 * which only the two nodes hold — authenticates both; "ee" gives the new keys forward secrecy;
 * the prologue binds the ticket and both node ids. docs/protocol.md 3.7 has the reasoning.
 *
 * The initiator takes the secret out of its cache (cp_resume.h) when it starts; the responder
 * finds it by the ticket and drops it as soon as an initiation authenticated under it, so a
 * ticket opens one session at most, and a replayed initiation finds no ticket. Initiations also
 * carry the timestamp of section 6.5, checked like IK's. A session from a resumption comes with
 * a new secret (cp_hs_session.resume) whose expiry is that of the secret used.
 *
 * Fallback: cp_hs_resume_start() fails with -ENOENT when the cache has no usable secret for the
 * node; the responder refuses an initiation it cannot resume (unknown, expired or used ticket,
 * authentication failure, stale timestamp, or the peer's network or version no longer match)
 * and should answer with cp_hs_resume_reject(); the initiator that gets it
 * (cp_hs_resume_rejected() == 0) or gets nothing starts a full IK handshake (cp_hs_ik_start).
 *
 * Admission (cp_admission_check) is as for an IK initiation: mac1 keyed by the responder's
 * static key, cookies under load (then cp_hs_cookie_consume() and cp_hs_resume_resign() send
 * the same initiation again with mac2: the secret was taken once), the per-source rate limit.
 *
 * Control thread only. Time is injected.
 */
#ifndef CP_HS_RESUME_H
#define CP_HS_RESUME_H

#include <stdint.h>

#include <rte_common.h>

#include "cp_handshake.h"
#include "cp_resume.h"

/* --- initiator ----------------------------------------------------------------------------- */

/* Take peer_pub's secret from cache and write a resumption initiation. 0, or -errno with
 * p->reason: -ENOENT (CP_HS_NO_TICKET, CP_HS_TICKET_EXPIRED: run IK instead), -EINVAL (unknown
 * suite, ourselves). */
int cp_hs_resume_start(struct cp_hs_ctx *ctx, struct cp_resume *cache, struct cp_hs_pending *p,
		       const uint8_t peer_pub[SL_KEY_LEN], uint8_t suite, uint32_t local_id,
		       uint8_t flags, uint64_t wall_ns, const struct cp_cookie *cookie,
		       uint64_t now_ns, struct sl_msg_resume_init *out) __rte_warn_unused_result;

/* Recompute the MACs of the initiation p sent (msg), with a cookie the responder sent back. */
int cp_hs_resume_resign(struct cp_hs_ctx *ctx, struct cp_hs_pending *p,
			const struct cp_cookie *cookie, uint64_t now_ns,
			struct sl_msg_resume_init *msg) __rte_warn_unused_result;

/* Read the answer; 0 with a session, or -errno with p->reason. */
int cp_hs_resume_finish(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const uint8_t *msg,
			size_t len, struct cp_hs_session *s) __rte_warn_unused_result;

/* A reject for p's initiation? 0: yes, p is wiped (reason CP_HS_RESUME_REFUSED), start IK;
 * -EBADMSG: not a reject of p's initiation (drop it, p is untouched). */
int cp_hs_resume_rejected(struct cp_hs_pending *p, const uint8_t *msg,
			  size_t len) __rte_warn_unused_result;

/* --- responder ----------------------------------------------------------------------------- */

/* Read an admitted initiation: find the ticket's secret in cache, authenticate, drop the
 * ticket, check the payload and timestamp. 0: p->peer is filled (p->peer.pub: the node the
 * ticket was issued to). Else -errno with p->reason, nothing pending: -ENOENT (NO_TICKET,
 * TICKET_EXPIRED), -EBADMSG (MALFORMED, DECRYPT), -EALREADY (REPLAY), -ECONNREFUSED (NETWORK,
 * VERSION, SELF). */
int cp_hs_resume_read(struct cp_hs_ctx *ctx, struct cp_resume *cache, struct cp_hs_pending *p,
		      const uint8_t *msg, size_t len, uint64_t now_ns) __rte_warn_unused_result;

/* Write the answer with our connection id and flags and complete the session. */
int cp_hs_resume_answer(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, uint32_t local_id,
			uint8_t flags, struct sl_msg_resume_resp *out,
			struct cp_hs_session *s) __rte_warn_unused_result;

/* Both, for a responder that needs no decision in between. */
int cp_hs_resume_respond(struct cp_hs_ctx *ctx, struct cp_resume *cache, struct cp_hs_pending *p,
			 const uint8_t *msg, size_t len, uint32_t local_id, uint64_t now_ns,
			 struct sl_msg_resume_resp *out,
			 struct cp_hs_session *s) __rte_warn_unused_result;

/* The reject of an initiation (msg, len) that cp_hs_resume_read refused. 0, or -EINVAL if msg
 * is not a resumption initiation (then send nothing). */
int cp_hs_resume_reject(const uint8_t *msg, size_t len,
			struct sl_msg_resume_reject *out) __rte_warn_unused_result;

#endif /* CP_HS_RESUME_H */
