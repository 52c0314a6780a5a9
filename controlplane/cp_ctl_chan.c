/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the control channel of the control thread's sessions — control messages to a node's
 * session (DP_CMD_CONTROL_SEND) and from it (DP_EVT_CONTROL) (see cp_ctl.h). Control thread
 * only.
 *
 * A session is named to and by its lcore with (slot, connection id at open): the lcore ignores
 * a send for a slot whose session is another one (counted there), and a message from a session
 * its node no longer has — replaced, or closing after a newer one took the node — is counted
 * here (control_stale) and dropped. Events and commands of one lcore stay in order, so a slot
 * is reused only after every message of its previous session came through.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cp_ctl_pvt.h"

int
cp_ctl_control_send(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN], const void *msg, size_t len)
{
	struct cp_node *n;
	struct cp_slot *s;
	struct dp_cmd cmd = { .type = DP_CMD_CONTROL_SEND };

	SL_ASSERT_OWNER(ctl->thread);
	if (len == 0 || len > SL_CONTROL_MSG_MAX)
		return -EMSGSIZE;
	n = cp_ctl_node_find(ctl, pub);
	if (n == NULL || n->info.state != CP_NODE_CONNECTED || n->closing)
		return -ENOTCONN;
	s = &ctl->slots[n->info.lcore][n->slot];
	if (s->state != CP_SLOT_LIVE || s->node != n)
		return -ENOTCONN;
	cmd.slot = n->slot;
	cmd.connid = s->open_id;
	cmd.len = (uint16_t)len;
	cmd.msg = malloc(len);
	if (cmd.msg == NULL)
		return -ENOMEM;
	memcpy(cmd.msg, msg, len);
	if (ctl->ops.command(ctl->arg, n->info.lcore, &cmd) != 0) {
		free(cmd.msg); /* not taken: still ours */
		ctl->st.control_ring_full++;
		return -ENOBUFS;
	}
	ctl->st.control_sent++;
	n->info.control_sent++;
	return 0;
}

/* The node whose current session sent ev from lcore, or NULL. */
static struct cp_node *
control_sender(struct cp_ctl *ctl, unsigned int lcore, const struct dp_evt *ev)
{
	const struct cp_slot *s;
	struct cp_node *n;

	if (lcore >= ctl->cfg.n_lcores || ev->slot >= ctl->cfg.slots_per_lcore)
		return NULL;
	s = &ctl->slots[lcore][ev->slot];
	if ((s->state != CP_SLOT_LIVE && s->state != CP_SLOT_CLOSING) || s->open_id != ev->connid)
		return NULL;
	n = s->node;
	if (n == NULL || n->info.state != CP_NODE_CONNECTED || n->info.lcore != lcore ||
	    n->slot != ev->slot)
		return NULL;
	return n;
}

void
cp_ctl_control_in(struct cp_ctl *ctl, unsigned int lcore, const struct dp_evt *ev)
{
	struct cp_node *n = control_sender(ctl, lcore, ev);

	if (n == NULL || ev->msg == NULL || ev->len == 0 || ev->len > SL_CONTROL_MSG_MAX) {
		ctl->st.control_stale++;
		return;
	}
	ctl->st.control_received++;
	n->info.control_received++;
	if (ctl->ops.control != NULL)
		ctl->ops.control(ctl->arg, n->info.pub, ev->msg, ev->len);
}
