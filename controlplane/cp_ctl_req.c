/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: requests to the control thread's session logic from applications and operators —
 * connect to a node, disconnect from it (see cp_ctl.h).
 */
#include <errno.h>
#include <string.h>

#include "cp_ctl_pvt.h"
#include "sl_dh.h"

int
cp_ctl_connect(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN], uint32_t ip, uint16_t port,
	       uint64_t now_ns)
{
	SL_ASSERT_OWNER(ctl->thread);
	return cp_ctl_want(ctl, pub, ip, port, now_ns);
}

int
cp_ctl_want(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN], uint32_t ip, uint16_t port,
	    uint64_t at)
{
	struct cp_node *n;

	if (!sl_dh_pub_usable(pub) || memcmp(pub, cp_ctl_pubkey(ctl), SL_KEY_LEN) == 0 ||
	    (ip != 0 && port == 0))
		return -EINVAL;
	n = cp_ctl_node_find(ctl, pub);
	if (n == NULL && ip == 0)
		return -EDESTADDRREQ;
	if (n == NULL && (n = cp_ctl_node_get(ctl, pub)) == NULL)
		return -ENOMEM;
	if (ip != 0 && n->info.state != CP_NODE_CONNECTED) {
		n->info.ip = ip;
		n->info.udp_port = port;
	}
	if (n->info.ip == 0) {
		cp_ctl_node_put(ctl, n);
		return -EDESTADDRREQ;
	}
	n->wanted = true;
	if (n->closing) /* an application that heard NODE_DISCONNECTED may ask before we did */
		n->dial_asked = true; /* session_closed() dials at once */
	else if (n->info.state == CP_NODE_WAITING && n->hs == NULL && !ctl->stopping) {
		n->info.attempts = 0; /* asked: try now, not after the back-off */
		cp_ctl_schedule(ctl, &n->timer, at);
	}
	return 0;
}

int
cp_ctl_connect_via(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN],
		   const struct cp_endpoint *relay, uint32_t via, uint64_t now_ns)
{
	struct cp_node *n;
	int rc;

	SL_ASSERT_OWNER(ctl->thread);
	if (via == 0 || relay->ip == 0 || relay->udp_port == 0)
		return -EINVAL;
	n = cp_ctl_node_find(ctl, pub);
	if (n == NULL && (n = cp_ctl_node_get(ctl, pub)) == NULL)
		return -ENOMEM;
	n->dial_via = via;
	if (n->info.state != CP_NODE_CONNECTED) {
		n->info.ip = relay->ip;
		n->info.udp_port = relay->udp_port;
	}
	rc = cp_ctl_want(ctl, pub, 0, 0, now_ns);
	if (rc != 0 && !n->wanted)
		cp_ctl_node_put(ctl, n);
	return rc;
}

int
cp_ctl_session_of(const struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN], struct cp_endpoint *ep,
		  unsigned int *lcore)
{
	struct cp_node *n = cp_ctl_node_find((struct cp_ctl *)(uintptr_t)ctl, pub);

	if (n == NULL || n->info.state != CP_NODE_CONNECTED || n->closing)
		return -ENOTCONN;
	*ep = n->ep;
	*lcore = n->info.lcore;
	return 0;
}

int
cp_ctl_post(struct cp_ctl *ctl, unsigned int lcore, const struct dp_cmd *cmd)
{
	SL_ASSERT_OWNER(ctl->thread);
	if (lcore >= ctl->cfg.n_lcores)
		return -EINVAL;
	return ctl->ops.command(ctl->arg, lcore, cmd);
}

/* Stop keeping n connected: its pending dial (not a rekey) is given up. */
static void
unwant(struct cp_ctl *ctl, struct cp_node *n)
{
	n->wanted = false;
	n->dial_asked = false;
	sl_theap_remove(&ctl->timers, &n->timer);
	if (n->hs != NULL && !n->hs_rekey) { /* a dial in progress: give it up */
		cp_ctl_hs_free(n);
		if (n->info.state == CP_NODE_DIALING)
			cp_ctl_slot_release(ctl, n->info.lcore, n->slot);
		n->info.state = CP_NODE_WAITING;
	}
}

int
cp_ctl_disconnect(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN], uint64_t now_ns)
{
	struct cp_node *n;

	SL_ASSERT_OWNER(ctl->thread);
	(void)now_ns;
	n = cp_ctl_node_find(ctl, pub);
	if (n == NULL)
		return -ENOENT;
	unwant(ctl, n);
	if (n->info.state == CP_NODE_CONNECTED && !n->closing) {
		cp_ctl_close_session(ctl, n, SL_CLOSE_APPLICATION, true);
		n->closing = true; /* the node goes when the lcore says the session closed */
		return 0;
	}
	cp_ctl_node_put(ctl, n);
	return 0;
}

int
cp_ctl_forget(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN], uint64_t now_ns)
{
	struct cp_node *n;

	SL_ASSERT_OWNER(ctl->thread);
	(void)now_ns;
	n = cp_ctl_node_find(ctl, pub);
	if (n == NULL)
		return -ENOENT;
	unwant(ctl, n);
	if (n->info.state != CP_NODE_CONNECTED && !n->closing)
		cp_ctl_node_put(ctl, n); /* a configured peer stays; a node nobody wants goes */
	return 0;
}

int
cp_ctl_close(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN], uint16_t reason, uint64_t now_ns)
{
	struct cp_node *n;

	SL_ASSERT_OWNER(ctl->thread);
	(void)now_ns;
	n = cp_ctl_node_find(ctl, pub);
	if (n == NULL || n->info.state != CP_NODE_CONNECTED || n->closing)
		return -ENOTCONN;
	cp_ctl_close_session(ctl, n, reason, true);
	n->closing = true;
	return 0;
}
