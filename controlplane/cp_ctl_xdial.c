/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: keyless dials — an address without a key (a seed given as ip:port) dialled with
 * Noise XX as the initiator; the answer names the node, which is known by its key from then
 * on (see cp_ctl_connect_addr() in cp_ctl.h).
 *
 * A dial lives in a table of max_addr_dials entries, one per address, and runs like a node's
 * IK dial: resolve the next hop, reserve a session slot (CP_SLOT_XDIAL: its connection id is
 * our sender id), send an initiation every retry_ns until handshake_timeout_ns, then back off.
 * Only an answer to the current initiation of one of these dials is read (its receiver id
 * names the slot, the slot the dial); any other XX answer is counted in `unmatched`. As for IK
 * answers, it is read on a copy of the pending state, so a forged or damaged answer changes
 * nothing. When it completes, the session opens in the reserved slot, the finishing message
 * goes out, and the dial ends; the node goes on as a node we keep connected, at this address.
 *
 * The finishing message is not acknowledged: if it is lost, our session has no peer until the
 * dataplane's idle timeout closes it, and then the node is redialled (with IK).
 *
 * Control thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_hash.h>
#include <sodium.h>

#include "cp_ctl_pvt.h"

int
cp_ctl_xdial_init(struct cp_ctl *ctl)
{
	ctl->xd = calloc(ctl->cfg.max_addr_dials, sizeof(*ctl->xd));
	return ctl->xd == NULL ? -ENOMEM : 0;
}

static void
xd_hs_free(struct cp_xdial *xd)
{
	if (xd->hs != NULL) {
		cp_hs_pending_wipe(xd->hs);
		free(xd->hs);
		xd->hs = NULL;
	}
}

/* The dial ends (its slot, if it holds one, is the caller's to release or use). */
static void
xd_end(struct cp_ctl *ctl, struct cp_xdial *xd)
{
	sl_theap_remove(&ctl->xd_timers, &xd->timer);
	xd_hs_free(xd);
	sodium_memzero(&xd->cookie, sizeof(xd->cookie));
	xd->used = false;
	ctl->n_xd--;
}

void
cp_ctl_xdial_fini(struct cp_ctl *ctl)
{
	for (uint32_t i = 0; ctl->xd != NULL && i < ctl->cfg.max_addr_dials; i++)
		xd_hs_free(&ctl->xd[i]);
	sl_theap_fini(&ctl->xd_timers);
	if (ctl->xd != NULL) /* cookies */
		sodium_memzero(ctl->xd, ctl->cfg.max_addr_dials * sizeof(*ctl->xd));
	free(ctl->xd);
	ctl->xd = NULL;
}

static void
xd_schedule(struct cp_ctl *ctl, struct cp_xdial *xd, uint64_t at)
{
	if (sl_theap_set(&ctl->xd_timers, &xd->timer, at) != 0)
		ctl->st.command_failures++; /* retried when the next event touches it */
}

static struct cp_xdial *
xd_find(struct cp_ctl *ctl, uint32_t ip, uint16_t port)
{
	for (uint32_t i = 0; i < ctl->cfg.max_addr_dials; i++)
		if (ctl->xd[i].used && ctl->xd[i].ip == ip && ctl->xd[i].port == port)
			return &ctl->xd[i];
	return NULL;
}

/* A CONNECT_FAILED note for the address (no key to name). */
static void
xd_note_failed(struct cp_ctl *ctl, const struct cp_xdial *xd, const char *why)
{
	struct cp_note note = {
		.type = CP_NOTE_CONNECT_FAILED,
		.name = "",
		.ip = xd->ip,
		.udp_port = xd->port,
		.reason = why,
		.attempts = xd->attempts,
		.retry_in_ns = xd->used ? xd->backoff_ns : 0,
	};

	if (ctl->ops.note != NULL)
		ctl->ops.note(ctl->arg, &note);
}

/* An attempt failed: give the slot back, back off (doubling, with jitter) and say so. */
static void
xd_failed(struct cp_ctl *ctl, struct cp_xdial *xd, const char *why, uint64_t now_ns)
{
	xd_hs_free(xd);
	if (xd->state == CP_NODE_DIALING)
		cp_ctl_slot_release(ctl, xd->lcore, xd->slot);
	xd->attempts++;
	xd->failures++;
	ctl->st.connect_failures++;
	snprintf(xd->last_error, sizeof(xd->last_error), "%s", why);
	xd->backoff_base_ns = xd->attempts == 1
				      ? ctl->cfg.backoff_min_ns
				      : RTE_MIN(xd->backoff_base_ns * 2, ctl->cfg.backoff_max_ns);
	xd->backoff_ns = cp_ctl_jitter(ctl, xd->backoff_base_ns);
	xd->state = CP_NODE_WAITING;
	xd_schedule(ctl, xd, ctl->stopping ? UINT64_MAX : now_ns + xd->backoff_ns);
	xd_note_failed(ctl, xd, why);
}

/* A fresh initiation of the current attempt (a new ephemeral key, the same sender id). */
static void
xd_send(struct cp_ctl *ctl, struct cp_xdial *xd, uint64_t now_ns)
{
	struct sl_msg_xx_init m;

	if (cp_hs_xx_start(ctl->hs, xd->hs, ctl->cfg.suite, xd->local_id,
			   xd->cookie.valid ? &xd->cookie : NULL, now_ns, &m) != 0) {
		cp_ctl_refused(ctl, xd->hs->reason);
		xd_failed(ctl, xd, cp_hs_reason_name(xd->hs->reason), now_ns);
		return;
	}
	ctl->ops.send(ctl->arg, &xd->ep, &m, sizeof(m));
	ctl->st.initiations_sent++;
	xd_schedule(ctl, xd,
		    RTE_MIN(now_ns + cp_ctl_jitter(ctl, ctl->cfg.retry_ns), xd->deadline_ns));
}

/* Start an attempt: a slot for the session, then the first initiation. */
static void
xd_dial(struct cp_ctl *ctl, struct cp_xdial *xd, uint64_t now_ns)
{
	unsigned int lcore;
	uint32_t slot;

	xd->hs = cp_ctl_pending_alloc();
	if (xd->hs == NULL) {
		xd_failed(ctl, xd, "out_of_memory", now_ns);
		return;
	}
	slot = cp_ctl_slot_alloc(ctl, CP_SLOT_XDIAL, &lcore);
	if (slot == UINT32_MAX) {
		ctl->st.no_slot++;
		xd_failed(ctl, xd, "no_free_slot", now_ns);
		return;
	}
	ctl->slots[lcore][slot].xd = xd;
	xd->lcore = lcore;
	xd->slot = slot;
	xd->local_id = sl_connid(lcore, slot, ctl->slots[lcore][slot].gen);
	xd->state = CP_NODE_DIALING;
	xd->deadline_ns = now_ns + ctl->cfg.handshake_timeout_ns;
	ctl->st.addr_dials++;
	xd_send(ctl, xd, now_ns);
}

/* Look for the next hop, and dial once it is known (as resolve_and_dial() does for nodes). */
static void
xd_resolve(struct cp_ctl *ctl, struct cp_xdial *xd, uint64_t now_ns)
{
	int rc = ctl->ops.resolve(ctl->arg, xd->ip, &xd->ep.port, xd->ep.mac);

	if (rc == 0) {
		xd->ep.ip = xd->ip;
		xd->ep.udp_port = xd->port;
		xd_dial(ctl, xd, now_ns);
		return;
	}
	if (rc != -EAGAIN) {
		xd_failed(ctl, xd, "no_route", now_ns);
		return;
	}
	if (xd->state != CP_NODE_RESOLVING) {
		xd->state = CP_NODE_RESOLVING;
		xd->deadline_ns = now_ns + ctl->cfg.handshake_timeout_ns;
	} else if (now_ns >= xd->deadline_ns) {
		xd_failed(ctl, xd, "address_unresolved", now_ns);
		return;
	}
	xd_schedule(ctl, xd, RTE_MIN(now_ns + ctl->cfg.retry_ns, xd->deadline_ns));
}

static void
xd_due(struct cp_ctl *ctl, struct cp_xdial *xd, uint64_t now_ns)
{
	if (ctl->stopping)
		return;
	if (xd->state != CP_NODE_DIALING)
		xd_resolve(ctl, xd, now_ns);
	else if (now_ns < xd->deadline_ns)
		xd_send(ctl, xd, now_ns);
	else
		xd_failed(ctl, xd, "handshake_timeout", now_ns);
}

void
cp_ctl_xdial_tick(struct cp_ctl *ctl, uint64_t now_ns, uint64_t wall_ns)
{
	struct sl_theap_node *t;

	(void)wall_ns; /* XX initiations carry no timestamp: the finishing message does */
	while ((t = sl_theap_top(&ctl->xd_timers)) != NULL && t->at <= now_ns) {
		sl_theap_remove(&ctl->xd_timers, t);
		xd_due(ctl, container_of(t, struct cp_xdial, timer), now_ns);
	}
}

void
cp_ctl_xdial_kick(struct cp_ctl *ctl, uint64_t now_ns)
{
	for (uint32_t i = 0; i < ctl->cfg.max_addr_dials; i++)
		if (ctl->xd[i].used && ctl->xd[i].state == CP_NODE_RESOLVING)
			xd_schedule(ctl, &ctl->xd[i], now_ns);
}

void
cp_ctl_xdial_stop(struct cp_ctl *ctl, unsigned int lcore, uint32_t slot)
{
	struct cp_xdial *xd = ctl->slots[lcore][slot].xd;

	xd_hs_free(xd);
	cp_ctl_slot_release(ctl, lcore, slot);
	xd->state = CP_NODE_WAITING;
	sl_theap_remove(&ctl->xd_timers, &xd->timer);
}

/* --- answers -------------------------------------------------------------------------------- */

/* The keyless dial whose current initiation has sender id `receiver`, or NULL. */
static struct cp_xdial *
xd_of(struct cp_ctl *ctl, uint32_t receiver)
{
	struct cp_slot *s = cp_ctl_slot(ctl, receiver);

	if (s == NULL || s->state != CP_SLOT_XDIAL || s->xd->hs == NULL ||
	    s->xd->local_id != receiver)
		return NULL;
	return s->xd;
}

void
cp_ctl_xdial_cookie(struct cp_ctl *ctl, const uint8_t *msg, size_t len, uint64_t now_ns)
{
	struct cp_xdial *xd = xd_of(ctl, cp_ctl_be32_at(msg + 4));

	if (xd == NULL) {
		ctl->st.unmatched++;
		return;
	}
	if (cp_hs_cookie_consume(ctl->hs, xd->hs, (const struct sl_msg_cookie *)msg, len, now_ns,
				 &xd->cookie) != 0) {
		cp_ctl_refused(ctl, CP_HS_MALFORMED);
		return;
	}
	ctl->st.cookies_received++;
	xd_send(ctl, xd, now_ns); /* at once, with the cookie */
}

/* The node our completed handshake reached, made ready for the session: NULL (and the
 * session to be dropped) if a live one with it stays, or out of memory. */
static struct cp_node *
xd_node(struct cp_ctl *ctl, const struct cp_xdial *xd, const uint8_t pub[SL_KEY_LEN],
	uint64_t now_ns)
{
	struct cp_node *n = cp_ctl_node_get(ctl, pub);

	if (n == NULL)
		return NULL;
	n->wanted = true; /* kept connected, redialled with IK where we found it */
	if (n->info.state != CP_NODE_CONNECTED) {
		n->info.ip = xd->ip;
		n->info.udp_port = xd->port;
	}
	if (n->info.state == CP_NODE_CONNECTED && !n->closing &&
	    cp_ctl_keep_old(ctl, n, true, now_ns)) {
		ctl->st.duplicates++;
		return NULL;
	}
	if (n->info.state == CP_NODE_CONNECTED)
		cp_ctl_replace_session(ctl, n);
	else if (n->info.state == CP_NODE_DIALING)
		cp_ctl_abandon_dial(ctl, n); /* this session is complete; that dial is not */
	return n;
}

/* The handshake completed (hs; fin is the finishing message): open the session in the dial's
 * slot, send fin, and end the dial. */
static void
xd_complete(struct cp_ctl *ctl, struct cp_xdial *xd, struct cp_hs_session *hs,
	    const struct sl_msg_xx_finish *fin, uint64_t now_ns)
{
	unsigned int lcore = xd->lcore;
	uint32_t slot = xd->slot;
	struct cp_endpoint ep = xd->ep;
	struct cp_node *n = xd_node(ctl, xd, hs->peer.pub, now_ns);

	xd_end(ctl, xd);
	if (n == NULL || !cp_ctl_open_session(ctl, n, lcore, slot, hs, &ep, true, now_ns)) {
		cp_hs_session_wipe(hs);
		cp_ctl_slot_release(ctl, lcore, slot);
		if (n != NULL && n->info.state == CP_NODE_WAITING)
			cp_ctl_schedule(ctl, &n->timer, now_ns + ctl->cfg.retry_ns); /* with IK */
		return;
	}
	ctl->st.keys_learned++;
	ctl->ops.send(ctl->arg, &ep, fin, sizeof(*fin));
}

/* A refusal in the answer: our own key ends the dial; the responder's reasons back off. */
static void
xd_refused(struct cp_ctl *ctl, struct cp_xdial *xd, enum cp_hs_reason why, uint64_t now_ns)
{
	cp_ctl_refused(ctl, why);
	if (why != CP_HS_SELF) {
		xd_failed(ctl, xd, cp_hs_reason_name(why), now_ns);
		return;
	}
	cp_ctl_slot_release(ctl, xd->lcore, xd->slot);
	snprintf(xd->last_error, sizeof(xd->last_error), "%s", cp_hs_reason_name(why));
	xd->attempts++;
	ctl->st.connect_failures++;
	xd_end(ctl, xd);
	xd_note_failed(ctl, xd, cp_hs_reason_name(why));
}

void
cp_ctl_xdial_answer(struct cp_ctl *ctl, const uint8_t *msg, size_t len, uint64_t now_ns,
		    uint64_t wall_ns)
{
	struct cp_xdial *xd = xd_of(ctl, cp_ctl_be32_at(msg + 8));
	struct cp_hs_pending *p = ctl->scratch;
	struct sl_msg_xx_finish fin;
	struct cp_hs_session hs;
	int rc;

	if (xd == NULL) {
		ctl->st.unmatched++;
		return;
	}
	memcpy(p, xd->hs, sizeof(*p));
	rc = cp_hs_xx_finish(ctl->hs, p, msg, len, wall_ns, xd->cookie.valid ? &xd->cookie : NULL,
			     now_ns, &fin, &hs);
	if (rc == -ECONNREFUSED) { /* its own word (network, version, channels) or our key */
		xd_refused(ctl, xd, p->reason, now_ns);
	} else if (rc != 0) {
		cp_ctl_refused(ctl, p->reason); /* damaged or forged: the dial goes on */
	} else {
		ctl->st.answers_received++;
		xd_complete(ctl, xd, &hs, &fin, now_ns);
	}
	cp_hs_pending_wipe(p);
}

/* --- requests ------------------------------------------------------------------------------- */

struct cp_node *
cp_ctl_node_at(struct cp_ctl *ctl, uint32_t ip, uint16_t port)
{
	const void *key;
	void *data;
	uint32_t it = 0;

	while (rte_hash_iterate(ctl->by_pub, &key, &data, &it) >= 0) {
		struct cp_node *n = data;

		if (n->info.ip == ip && n->info.udp_port == port)
			return n;
	}
	return NULL;
}

static bool
own_address(const struct cp_ctl *ctl, uint32_t ip, uint16_t port)
{
	for (unsigned int i = 0; i < ctl->cfg.hs.n_addrs; i++)
		if (ctl->cfg.hs.addrs[i].ip == ip && ctl->cfg.hs.addrs[i].port == port)
			return true;
	return false;
}

int
cp_ctl_connect_addr(struct cp_ctl *ctl, uint32_t ip, uint16_t port, uint64_t now_ns)
{
	SL_ASSERT_OWNER(ctl->thread);
	return cp_ctl_xdial_add(ctl, ip, port, now_ns);
}

int
cp_ctl_xdial_add(struct cp_ctl *ctl, uint32_t ip, uint16_t port, uint64_t at)
{
	struct cp_node *n;
	struct cp_xdial *xd;
	uint32_t i;

	if (ip == 0 || port == 0 || own_address(ctl, ip, port))
		return -EINVAL;
	n = cp_ctl_node_at(ctl, ip, port);
	if (n != NULL) /* first contact was made: IK from now on */
		return cp_ctl_want(ctl, n->info.pub, ip, port, at);
	if (xd_find(ctl, ip, port) != NULL)
		return 0;
	for (i = 0; i < ctl->cfg.max_addr_dials && ctl->xd[i].used; i++)
		;
	if (i == ctl->cfg.max_addr_dials)
		return -ENOSPC;
	xd = &ctl->xd[i];
	memset(xd, 0, sizeof(*xd));
	xd->used = true;
	xd->ip = ip;
	xd->port = port;
	xd->state = CP_NODE_WAITING;
	sl_theap_node_init(&xd->timer);
	ctl->n_xd++;
	if (!ctl->stopping)
		xd_schedule(ctl, xd, at);
	return 0;
}

int
cp_ctl_disconnect_addr(struct cp_ctl *ctl, uint32_t ip, uint16_t port, uint64_t now_ns)
{
	struct cp_xdial *xd;

	SL_ASSERT_OWNER(ctl->thread);
	(void)now_ns;
	xd = xd_find(ctl, ip, port);
	if (xd == NULL)
		return -ENOENT;
	if (xd->state == CP_NODE_DIALING)
		cp_ctl_slot_release(ctl, xd->lcore, xd->slot);
	xd_end(ctl, xd);
	return 0;
}

int
cp_ctl_foreach_addr_dial(const struct cp_ctl *ctl,
			 int (*fn)(void *arg, const struct cp_addr_dial_info *info), void *arg)
{
	for (uint32_t i = 0; i < ctl->cfg.max_addr_dials; i++) {
		const struct cp_xdial *xd = &ctl->xd[i];
		struct cp_addr_dial_info info = {
			.ip = xd->ip,
			.udp_port = xd->port,
			.state = xd->state,
			.attempts = xd->attempts,
			.failures = xd->failures,
		};
		int rc;

		if (!xd->used)
			continue;
		memcpy(info.last_error, xd->last_error, sizeof(info.last_error));
		if ((rc = fn(arg, &info)) != 0)
			return rc;
	}
	return 0;
}
