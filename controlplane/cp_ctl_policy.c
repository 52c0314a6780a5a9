/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the control thread's peer policy (cp_ctl_config.peers_only, see cp_ctl.h) — who may
 * start a session with us, and what refusing one leaves behind.
 *
 * The handshake layer asks cp_ctl_policy_allows() as a responder, once Noise has authenticated
 * the initiator's key and before anything is kept (cp_hs_config.peer_allowed): for IK and
 * resumption initiations right after the first message is read; for XX only at the finishing
 * message, the first that names the initiator (its slot and pending state are freed then). A
 * refusal is counted (refused_by_reason[CP_HS_POLICY]) and noted for the log
 * (CP_NOTE_REFUSED); nothing is answered, no slot or node is taken, no application is told.
 * Control thread only.
 */
#include <string.h>

#include "cp_ctl_pvt.h"

bool
cp_ctl_policy_allows(void *arg, const uint8_t pub[SL_KEY_LEN])
{
	struct cp_ctl *ctl = arg;
	const struct cp_node *n = cp_ctl_node_find(ctl, pub);

	/* configured, or chosen by us (dialled, kept, learned by a keyless dial), or already in
	 * session with us (its rekeys and redials: the session passed this check or was ours) */
	if (n != NULL &&
	    (cp_ctl_is_peer(n) || cp_ctl_keep(n) || n->info.state == CP_NODE_CONNECTED))
		return true;
	/* discovery.inbound: at most CONF_MAX_INBOUND_ALLOW keys, and only after the Noise
	 * Diffie-Hellmans of a handshake — a scan costs nothing beside them */
	for (unsigned int i = 0; i < ctl->cfg.n_inbound_allow; i++)
		if (memcmp(ctl->cfg.inbound_allow[i], pub, SL_KEY_LEN) == 0)
			return true;
	return false;
}

void
cp_ctl_refused_from(struct cp_ctl *ctl, const struct cp_hs_pending *p,
		    const struct cp_endpoint *from)
{
	struct cp_note note = {
		.type = CP_NOTE_REFUSED,
		.name = "",
		.pub = p->peer.pub,
		.ip = from->ip,
		.udp_port = from->udp_port,
		.via = from->via,
		.reason = cp_hs_reason_name(p->reason),
	};

	cp_ctl_refused(ctl, p->reason);
	if (p->reason == CP_HS_POLICY && ctl->ops.note != NULL)
		ctl->ops.note(ctl->arg, &note);
}
