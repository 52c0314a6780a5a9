/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: session resumption in the control thread (cp_hs_resume.h, docs/protocol.md 3.7).
 *
 * Every session that completes (IK, XX, a resumption, a rekey) leaves its resumption secret in
 * ctl->resume under the peer's node id. A dial of a node (not a rekey) whose secret is there
 * sends SL_MSG_RESUME_INIT instead of an IK initiation; resends within the handshake timeout
 * send the same message again (the secret was taken from the cache once), with a cookie's
 * MAC when the responder asked for one. A reject, or a responder that has no secret, turns the
 * dial into a full IK handshake at once; a dial that times out fails like an IK one and the
 * next attempt is a full handshake (the secret is gone).
 *
 * The responder finds the secret by the ticket, drops it as soon as the initiation
 * authenticated, and answers like an IK initiation (cp_ctl_hs.c); one it cannot resume is
 * answered by a reject (24 bytes, never larger than the initiation) so the initiator need not
 * wait for its timeout. A reject is not authenticated (it echoes the initiation's mac1): whoever
 * saw the initiation can make the initiator fall back to a full handshake, nothing more.
 *
 * Control thread only.
 */
#include <errno.h>

#include "cp_ctl_pvt.h"
#include "cp_hs_resume.h"
#include "cp_resume.h"

#define SEC 1000000000ull

const struct cp_resume_stats *
cp_ctl_resume_stats(const struct cp_ctl *ctl, uint32_t *entries)
{
	*entries = ctl->resume == NULL ? 0 : cp_resume_count(ctl->resume);
	return ctl->resume == NULL ? NULL : cp_resume_stats(ctl->resume);
}

int
cp_ctl_resume_init(struct cp_ctl *ctl)
{
	struct cp_resume_config rc = {
		.capacity = ctl->cfg.resume_cache,
		.lifetime_ns = ctl->cfg.resume_lifetime_ns,
	};

	if (ctl->cfg.resume_cache == 0)
		return 0;
	ctl->resume = cp_resume_create(&rc);
	return ctl->resume == NULL ? -ENOMEM : 0;
}

/* Wipe expired secrets, at most once a second, whenever a secret is stored or a resumption
 * read (lookups wipe the expired entries they meet too). */
static void
resume_sweep(struct cp_ctl *ctl, uint64_t now_ns)
{
	if (now_ns < ctl->resume_expire_ns)
		return;
	cp_resume_expire(ctl->resume, now_ns);
	ctl->resume_expire_ns = now_ns + SEC;
}

void
cp_ctl_resume_remember(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN],
		       const struct cp_hs_session *hs, uint64_t now_ns)
{
	if (ctl->resume == NULL)
		return;
	resume_sweep(ctl, now_ns);
	(void)cp_resume_put(ctl->resume, pub, &hs->resume, now_ns); /* -ETIME: nothing kept */
}

bool
cp_ctl_resume_send(struct cp_ctl *ctl, struct cp_node *n, uint64_t now_ns, uint64_t wall_ns)
{
	int rc = 0;

	if (n->hs->msg_type != SL_MSG_RESUME_INIT) /* the first attempt: take the secret */
		rc = cp_hs_resume_start(ctl->hs, ctl->resume, n->hs, n->info.pub, ctl->cfg.suite,
					n->hs_local_id, 0, wall_ns,
					n->cookie.valid ? &n->cookie : NULL, now_ns,
					&n->resume_msg);
	else if (n->cookie.valid) /* the same initiation, now with the cookie's MAC */
		rc = cp_hs_resume_resign(ctl->hs, n->hs, &n->cookie, now_ns, &n->resume_msg);
	if (rc != 0) { /* no secret for the node (or it expired): a full handshake */
		n->hs_resume = false;
		cp_hs_pending_wipe(n->hs);
		return false;
	}
	ctl->ops.send(ctl->arg, &n->ep, &n->resume_msg, sizeof(n->resume_msg));
	ctl->st.initiations_sent++;
	ctl->st.resumes_sent++;
	return true;
}

bool
cp_ctl_resume_read(struct cp_ctl *ctl, const struct cp_endpoint *from, const uint8_t *msg,
		   size_t len, uint64_t now_ns)
{
	struct cp_hs_pending *p = ctl->scratch;
	struct sl_msg_resume_reject rej;

	if (ctl->resume != NULL) {
		resume_sweep(ctl, now_ns);
		if (cp_hs_resume_read(ctl->hs, ctl->resume, p, msg, len, now_ns) == 0)
			return true;
		cp_ctl_refused_from(ctl, p, from);
		if (p->reason == CP_HS_POLICY)
			return false; /* peers_only: a stranger hears nothing, not even a reject */
	} else {
		cp_ctl_refused(ctl, CP_HS_NO_TICKET);
	}
	ctl->st.resume_rejected++;
	if (cp_hs_resume_reject(msg, len, &rej) == 0)
		ctl->ops.send(ctl->arg, from, &rej, sizeof(rej));
	return false;
}

void
cp_ctl_resume_rejected(struct cp_ctl *ctl, const uint8_t *msg, size_t len, uint64_t now_ns,
		       uint64_t wall_ns)
{
	struct cp_node *n = cp_ctl_dialer(ctl, cp_ctl_be32_at(msg + 4));

	if (n == NULL || !n->hs_resume || cp_hs_resume_rejected(n->hs, msg, len) != 0) {
		ctl->st.unmatched++;
		return;
	}
	ctl->st.resume_fallbacks++;
	n->hs_resume = false;
	cp_ctl_send_initiation(ctl, n, now_ns, wall_ns); /* a full handshake, at once */
}
