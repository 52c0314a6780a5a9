/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the control thread's handshakes — initiations out, every handshake message in, and
 * the sessions they open or rekey (see cp_ctl.h).
 *
 * A failed read never costs us a handshake in progress: answers are tried on a copy of the
 * pending state, which stays as it was unless the answer completes it (a forged or damaged
 * answer cannot cancel a dial).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cp_ctl_pvt.h"
#include "cp_hs_resume.h"
#include "dp_keypair.h"

void
cp_ctl_refused(struct cp_ctl *ctl, enum cp_hs_reason r)
{
	ctl->st.refused++;
	ctl->st.refused_by_reason[r < CP_HS_REASON_COUNT ? r : CP_HS_MALFORMED]++;
}

struct cp_hs_pending *
cp_ctl_pending_alloc(void)
{
	size_t size = RTE_ALIGN_CEIL(sizeof(struct cp_hs_pending), 64);
	struct cp_hs_pending *p = aligned_alloc(64, size);

	if (p != NULL)
		memset(p, 0, size); /* nothing started (msg_type 0) */
	return p;
}

/* Both ids name the same session: same owner lcore and slot, any generation. */
static bool
same_session(uint32_t a, uint32_t b)
{
	return a >> SL_CONNID_SLOT_SHIFT == b >> SL_CONNID_SLOT_SHIFT;
}

/* A second session with n completed (initiated by us or not) while one is live: keep the live
 * one? If it is younger than SL_HS_CROSSING_NS, the two crossed: keep the one the lower static
 * key initiated. If it is older, or both were initiated by the same side, the newer replaces it
 * (the peer restarted). */
bool
cp_ctl_keep_old(struct cp_ctl *ctl, const struct cp_node *n, bool new_by_us, uint64_t now_ns)
{
	bool we_are_lower;

	if (now_ns - n->info.connected_ns >= SL_HS_CROSSING_NS)
		return false;
	if (n->info.initiator == new_by_us)
		return false;
	we_are_lower = memcmp(cp_ctl_pubkey(ctl), n->info.pub, SL_KEY_LEN) < 0;
	return n->info.initiator == we_are_lower;
}

/* Post a keypair for a completed handshake with pub to the lcore (open or rekey), and keep its
 * resumption secret. The handshake output is wiped either way. */
static bool
post_keys(struct cp_ctl *ctl, struct dp_cmd *cmd, unsigned int lcore, struct cp_hs_session *hs,
	  const uint8_t pub[SL_KEY_LEN], uint64_t now_ns)
{
	cp_ctl_resume_remember(ctl, pub, hs, now_ns);
	cmd->kp = dp_keypair_create(cp_hs_suite_aead(hs->suite), hs->send_key, hs->recv_key,
				    hs->local_id, hs->remote_id, hs->initiator, now_ns);
	cp_hs_session_wipe(hs);
	if (cmd->kp == NULL || ctl->ops.command(ctl->arg, lcore, cmd) != 0) {
		dp_keypair_destroy(cmd->kp);
		ctl->st.command_failures++;
		return false;
	}
	return true;
}

/* What the node's handshake said of it, and where it is dialled from now on: where we
 * dialled it, or for a node that dialled us, the listen address it advertised on the IP its
 * packets come from (their source port need not be one it listens on), else their source.
 * Only an address on that IP is taken: a peer cannot point our dials at another host. */
static void
learn_peer(struct cp_node *n, const struct cp_hs_peerinfo *pi, bool initiator,
	   const struct cp_endpoint *ep)
{
	n->info.capabilities = pi->capabilities;
	n->info.n_addrs = pi->n_addrs;
	memcpy(n->info.addrs, pi->addrs, sizeof(n->info.addrs));
	n->info.ip = ep->ip;
	n->info.udp_port = ep->udp_port;
	n->info.via = ep->via;
	for (unsigned int i = 0; !initiator && ep->via == 0 && i < pi->n_addrs; i++)
		if (pi->addrs[i].ip == ep->ip && pi->addrs[i].port != 0) {
			n->info.udp_port = pi->addrs[i].port;
			break;
		}
}

bool
cp_ctl_open_session(struct cp_ctl *ctl, struct cp_node *n, unsigned int lcore, uint32_t slot,
		    struct cp_hs_session *hs, const struct cp_endpoint *ep, bool learned,
		    uint64_t now_ns)
{
	struct cp_slot *s = &ctl->slots[lcore][slot];
	struct dp_cmd cmd = {
		.type = DP_CMD_SESSION_OPEN,
		.port = ep->port,
		.peer = cp_ctl_is_peer(n) ? (uint16_t)n->info.peer : DP_PEER_NONE,
		.slot = slot,
		.ip = ep->ip,
		.udp_port = ep->udp_port,
		.via = ep->via,
	};
	bool initiator = hs->initiator, resumed = hs->resumed;
	uint32_t local_id = hs->local_id, remote_id = hs->remote_id;
	const struct cp_hs_peerinfo peer = hs->peer; /* post_keys() wipes hs */

	memcpy(cmd.mac, ep->mac, sizeof(cmd.mac));
	memcpy(cmd.node, n->info.pub, sizeof(cmd.node));
	if (!post_keys(ctl, &cmd, lcore, hs, n->info.pub, now_ns))
		return false;
	learn_peer(n, &peer, initiator, ep);
	s->state = CP_SLOT_LIVE;
	s->node = n;
	s->open_id = local_id;
	n->slot = slot;
	n->ep = *ep;
	n->closing = false;
	n->info.lcore = lcore;
	n->info.state = CP_NODE_CONNECTED;
	n->info.connid = local_id;
	n->info.remote_id = remote_id;
	n->info.initiator = initiator;
	n->info.learned = learned;
	n->info.connected_ns = now_ns;
	n->info.last_handshake_ns = now_ns;
	n->info.connects++;
	n->info.attempts = 0;
	n->info.last_error[0] = '\0';
	n->backoff_ns = 0;
	ctl->st.sessions_opened++;
	ctl->st.resumed += resumed;
	sl_theap_remove(&ctl->timers, &n->timer);
	cp_ctl_note(ctl, CP_NOTE_CONNECTED, n, NULL, false);
	return true;
}

void
cp_ctl_replace_session(struct cp_ctl *ctl, struct cp_node *n)
{
	cp_ctl_close_session(ctl, n, SL_CLOSE_REPLACED, false);
	ctl->slots[n->info.lcore][n->slot].node = NULL; /* the slot frees itself when closed */
	ctl->st.replaced++;
	n->info.disconnects++;
	cp_ctl_note(ctl, CP_NOTE_DISCONNECTED, n, cp_close_reason_name(SL_CLOSE_REPLACED), false);
	n->info.state = CP_NODE_WAITING;
	cp_ctl_hs_free(n);
}

void
cp_ctl_abandon_dial(struct cp_ctl *ctl, struct cp_node *n)
{
	cp_ctl_hs_free(n);
	cp_ctl_slot_release(ctl, n->info.lcore, n->slot);
	n->info.state = CP_NODE_WAITING;
	sl_theap_remove(&ctl->timers, &n->timer);
}

/* --- initiations out ------------------------------------------------------------------------ */

void
cp_ctl_send_initiation(struct cp_ctl *ctl, struct cp_node *n, uint64_t now_ns, uint64_t wall_ns)
{
	struct sl_msg_ik_init m;
	int rc;

	if (n->hs_resume && cp_ctl_resume_send(ctl, n, now_ns, wall_ns))
		return;
	rc = cp_hs_ik_start(ctl->hs, n->hs, n->info.pub, ctl->cfg.suite, n->hs_local_id,
			    n->hs_rekey ? SL_HS_F_REKEY : 0, wall_ns, n->cookie.valid ? &n->cookie : NULL,
			    now_ns, &m);
	if (rc != 0) { /* our own key, or a low-order one: the configuration is wrong */
		enum cp_hs_reason why = n->hs->reason;

		cp_ctl_refused(ctl, why);
		if (n->hs_rekey)
			cp_ctl_hs_free(n);
		else
			cp_ctl_dial_failed(ctl, n, cp_hs_reason_name(why), now_ns);
		return;
	}
	ctl->ops.send(ctl->arg, &n->ep, &m, sizeof(m));
	ctl->st.initiations_sent++;
}

void
cp_ctl_dial(struct cp_ctl *ctl, struct cp_node *n, bool rekey, uint64_t now_ns, uint64_t wall_ns)
{
	unsigned int lcore;
	uint32_t slot;

	if (n->hs != NULL)
		return;
	n->hs = cp_ctl_pending_alloc();
	if (n->hs == NULL) {
		if (!rekey)
			cp_ctl_dial_failed(ctl, n, "out_of_memory", now_ns);
		return;
	}
	n->hs_rekey = rekey;
	n->hs_resume = !rekey && ctl->resume != NULL; /* a new session: resume if we can */
	n->rekey_retry = false;
	if (rekey) {
		const struct cp_slot *s = &ctl->slots[n->info.lcore][n->slot];

		n->hs_local_id = sl_connid(n->info.lcore, n->slot, (uint32_t)s->gen + 1);
	} else {
		slot = cp_ctl_slot_alloc(ctl, CP_SLOT_DIALING, &lcore);
		if (slot == UINT32_MAX) {
			ctl->st.no_slot++;
			cp_ctl_hs_free(n);
			cp_ctl_dial_failed(ctl, n, "no_free_slot", now_ns);
			return;
		}
		ctl->slots[lcore][slot].node = n;
		n->info.lcore = lcore;
		n->slot = slot;
		n->info.state = CP_NODE_DIALING;
		n->hs_local_id = sl_connid(lcore, slot, ctl->slots[lcore][slot].gen);
	}
	n->hs_deadline_ns = now_ns + ctl->cfg.handshake_timeout_ns;
	cp_ctl_send_initiation(ctl, n, now_ns, wall_ns);
	if (n->hs != NULL)
		cp_ctl_schedule_retry(ctl, n, now_ns);
}

/* --- admission ------------------------------------------------------------------------------ */

/* The session table is filling up: three quarters of max_sessions taken, or half the XX
 * answers that may wait. Then, as under a backlog, only initiations that proved their source
 * address with a cookie get in, so what spoofed sources took cannot grow (and it expires). */
static bool
tables_under_pressure(const struct cp_ctl *ctl)
{
	return (uint64_t)ctl->n_used * 4 >= (uint64_t)ctl->cfg.max_sessions * 3 ||
	       (uint64_t)ctl->n_xx * 2 >= ctl->cfg.max_pending_xx;
}

static bool
admit(struct cp_ctl *ctl, const struct cp_endpoint *from, const uint8_t *msg, size_t len, bool anon,
      bool initiation, uint32_t backlog, uint64_t now_ns)
{
	const struct cp_src src = { .ip = from->ip, .port = from->udp_port, .via = from->via };
	struct sl_msg_cookie reply;

	if (initiation && tables_under_pressure(ctl)) {
		backlog = UINT32_MAX; /* counts as load: a cookie is required */
		ctl->st.table_pressure++;
	}
	switch (cp_admission_check(ctl->adm, msg, len, anon, initiation, 4, &src, backlog, now_ns,
				   &reply)) {
	case CP_ADMIT_ACCEPT:
		return true;
	case CP_ADMIT_COOKIE:
		ctl->ops.send(ctl->arg, from, &reply, sizeof(reply));
		return false;
	default:
		return false; /* counted by the admission stats */
	}
}

/* --- responder ------------------------------------------------------------------------------ */

/* A rekey of n's live session: same slot, next generation; the session keeps its state. */
static void
answer_rekey(struct cp_ctl *ctl, struct cp_node *n, struct cp_hs_pending *p,
	     const struct cp_endpoint *from, uint64_t now_ns)
{
	struct cp_slot *s = &ctl->slots[n->info.lcore][n->slot];
	uint32_t local_id = sl_connid(n->info.lcore, n->slot, (uint32_t)s->gen + 1);
	struct dp_cmd cmd = { .type = DP_CMD_KEYPAIR_ADD, .slot = n->slot };
	struct sl_msg_ik_resp resp;
	struct cp_hs_session hs;

	if (cp_hs_ik_answer(ctl->hs, p, local_id, SL_HS_F_REKEY, &resp, &hs) != 0) {
		cp_ctl_refused(ctl, p->reason);
		return;
	}
	n->info.remote_id = hs.remote_id;
	if (!post_keys(ctl, &cmd, n->info.lcore, &hs, n->info.pub, now_ns))
		return;
	s->gen++;
	n->info.connid = local_id;
	n->info.last_handshake_ns = now_ns;
	n->info.rekeys++;
	n->info.initiator = false;
	ctl->st.rekeys++;
	cp_ctl_hs_free(n); /* a rekey of ours crossing theirs: theirs is done */
	ctl->ops.send(ctl->arg, from, &resp, sizeof(resp));
	cp_ctl_note(ctl, CP_NOTE_REKEYED, n, NULL, false);
}

/* A new session with the initiator (n: its node if we know it). */
static void
answer_new(struct cp_ctl *ctl, struct cp_node *n, struct cp_hs_pending *p,
	   const struct cp_endpoint *from, uint64_t now_ns)
{
	union {
		struct sl_msg_ik_resp ik;
		struct sl_msg_resume_resp resume;
	} resp;
	size_t resp_len = p->resume ? sizeof(resp.resume) : sizeof(resp.ik);
	struct cp_hs_session hs;
	unsigned int lcore;
	uint32_t slot = cp_ctl_slot_alloc(ctl, CP_SLOT_RESERVED, &lcore), id;
	int rc;

	if (slot == UINT32_MAX) {
		ctl->st.no_slot++;
		cp_hs_pending_wipe(p);
		return;
	}
	id = sl_connid(lcore, slot, ctl->slots[lcore][slot].gen);
	rc = p->resume ? cp_hs_resume_answer(ctl->hs, p, id, 0, &resp.resume, &hs)
		       : cp_hs_ik_answer(ctl->hs, p, id, 0, &resp.ik, &hs);
	if (rc != 0) {
		cp_ctl_refused(ctl, p->reason);
		cp_ctl_slot_release(ctl, lcore, slot);
		return;
	}
	if (n == NULL)
		n = cp_ctl_node_get(ctl, hs.peer.pub);
	if (n != NULL && n->info.state == CP_NODE_CONNECTED)
		cp_ctl_replace_session(ctl, n);
	if (n == NULL || !cp_ctl_open_session(ctl, n, lcore, slot, &hs, from, false, now_ns)) {
		cp_hs_session_wipe(&hs);
		cp_ctl_slot_release(ctl, lcore, slot);
		if (n != NULL)
			cp_ctl_node_put(ctl, n);
		return;
	}
	ctl->ops.send(ctl->arg, from, &resp, resp_len);
}

/* An initiation read (IK or a resumption, in ctl->scratch) from a node: a rekey of its live
 * session, a second session (kept or not), a crossing dial, or a new session. */
static void
initiation_read(struct cp_ctl *ctl, struct cp_hs_pending *p, const struct cp_endpoint *from,
		uint64_t now_ns)
{
	struct cp_node *n = cp_ctl_node_find(ctl, p->peer.pub);

	if (n != NULL && n->info.state == CP_NODE_CONNECTED && !n->closing) {
		if (!p->resume && (p->peer.flags & SL_HS_F_REKEY) &&
		    same_session(p->peer.sender, n->info.remote_id)) {
			answer_rekey(ctl, n, p, from, now_ns);
			return;
		}
		if (cp_ctl_keep_old(ctl, n, false, now_ns)) {
			ctl->st.duplicates++;
			cp_hs_pending_wipe(p);
			return;
		}
	} else if (n != NULL && n->info.state == CP_NODE_DIALING) {
		/* Crossed dials: the lower key's wins, and the peer answers ours — if ours goes
		 * where the peer is. From another address the peer has moved (restarted elsewhere,
		 * a NAT rebound): ours may never arrive, so theirs is answered. */
		if (memcmp(cp_ctl_pubkey(ctl), n->info.pub, SL_KEY_LEN) < 0 &&
		    n->ep.ip == from->ip && n->ep.udp_port == from->udp_port &&
		    n->ep.via == from->via) {
			ctl->st.collisions++; /* ours wins: the peer answers it and drops its own */
			cp_hs_pending_wipe(p);
			return;
		}
		cp_ctl_abandon_dial(ctl, n);
	}
	answer_new(ctl, n, p, from, now_ns);
}

static void
resume_init(struct cp_ctl *ctl, const struct cp_endpoint *from, const uint8_t *msg, size_t len,
	    uint32_t backlog, uint64_t now_ns)
{
	if (!admit(ctl, from, msg, len, false, true, backlog, now_ns))
		return;
	ctl->st.initiations_received++;
	if (cp_ctl_resume_read(ctl, from, msg, len, now_ns))
		initiation_read(ctl, ctl->scratch, from, now_ns);
}

static void
ik_init(struct cp_ctl *ctl, const struct cp_endpoint *from, const uint8_t *msg, size_t len,
	uint32_t backlog, uint64_t now_ns)
{
	struct cp_hs_pending *p = ctl->scratch;
	struct sl_msg_ik_resp resp;
	struct cp_hs_session hs;
	int rc;

	if (!admit(ctl, from, msg, len, false, true, backlog, now_ns))
		return;
	ctl->st.initiations_received++;
	rc = cp_hs_ik_read(ctl->hs, p, msg, len, now_ns);
	if (rc == -ECONNREFUSED && cp_hs_reason_answered(p->reason)) {
		cp_ctl_refused(ctl, p->reason); /* the answer tells the initiator why */
		if (cp_hs_ik_answer(ctl->hs, p, 0, 0, &resp, &hs) == -ECONNREFUSED)
			ctl->ops.send(ctl->arg, from, &resp, sizeof(resp));
		return;
	}
	if (rc != 0) {
		cp_ctl_refused_from(ctl, p, from); /* a policy refusal: noted, nothing answered */
		return;
	}
	initiation_read(ctl, p, from, now_ns);
}

static void
xx_init(struct cp_ctl *ctl, const struct cp_endpoint *from, const uint8_t *msg, size_t len,
	uint32_t backlog, uint64_t now_ns)
{
	struct sl_msg_xx_resp resp;
	struct cp_xx *xx;
	unsigned int lcore;
	uint32_t slot;

	if (!admit(ctl, from, msg, len, true, true, backlog, now_ns))
		return;
	ctl->st.initiations_received++;
	if (ctl->n_xx >= ctl->cfg.max_pending_xx) {
		ctl->st.pending_full++;
		return;
	}
	slot = cp_ctl_slot_alloc(ctl, CP_SLOT_RESERVED, &lcore);
	if (slot == UINT32_MAX) {
		ctl->st.no_slot++;
		return;
	}
	xx = calloc(1, sizeof(*xx));
	if (xx != NULL)
		xx->hs = cp_ctl_pending_alloc();
	if (xx == NULL || xx->hs == NULL ||
	    cp_hs_xx_respond(ctl->hs, xx->hs, msg, len,
			     sl_connid(lcore, slot, ctl->slots[lcore][slot].gen), &resp) != 0) {
		if (xx != NULL && xx->hs != NULL)
			cp_ctl_refused(ctl, xx->hs->reason);
		if (xx != NULL)
			free(xx->hs);
		free(xx);
		cp_ctl_slot_release(ctl, lcore, slot);
		return;
	}
	xx->from = *from;
	xx->lcore = lcore;
	xx->slot = slot;
	sl_theap_node_init(&xx->timer);
	if (sl_theap_set(&ctl->xx_timers, &xx->timer, now_ns + ctl->cfg.handshake_timeout_ns)) {
		cp_hs_pending_wipe(xx->hs);
		free(xx->hs);
		free(xx);
		cp_ctl_slot_release(ctl, lcore, slot);
		return;
	}
	ctl->slots[lcore][slot].state = CP_SLOT_XX;
	ctl->slots[lcore][slot].xx = xx;
	ctl->n_xx++;
	ctl->ops.send(ctl->arg, from, &resp, sizeof(resp));
}

void
cp_ctl_xx_free(struct cp_ctl *ctl, struct cp_xx *xx)
{
	sl_theap_remove(&ctl->xx_timers, &xx->timer);
	cp_hs_pending_wipe(xx->hs);
	free(xx->hs);
	free(xx);
	ctl->n_xx--;
}

void
cp_ctl_xx_expire(struct cp_ctl *ctl, struct cp_xx *xx)
{
	unsigned int lcore = xx->lcore;
	uint32_t slot = xx->slot;

	cp_ctl_xx_free(ctl, xx);
	cp_ctl_slot_release(ctl, lcore, slot);
}

static void
xx_finish(struct cp_ctl *ctl, const struct cp_endpoint *from, const uint8_t *msg, size_t len,
	  uint64_t now_ns)
{
	uint32_t receiver = cp_ctl_be32_at(msg + 8);
	struct cp_slot *s = cp_ctl_slot(ctl, receiver);
	struct cp_hs_pending *p = ctl->scratch;
	struct cp_hs_session hs;
	struct cp_node *n;
	struct cp_xx *xx;

	if (s == NULL || s->state != CP_SLOT_XX || s->gen != (receiver & SL_CONNID_GEN_MASK)) {
		ctl->st.unmatched++;
		return;
	}
	if (!admit(ctl, from, msg, len, false, false, 0, now_ns))
		return;
	xx = s->xx;
	memcpy(p, xx->hs, sizeof(*p));
	if (cp_hs_xx_complete(ctl->hs, p, msg, len, now_ns, &hs) != 0) {
		cp_ctl_refused_from(ctl, p, from);
		if (p->reason == CP_HS_POLICY) /* an authenticated stranger: its XX state goes */
			cp_ctl_xx_expire(ctl, xx);
		return;
	}
	ctl->st.answers_received++;
	n = cp_ctl_node_get(ctl, hs.peer.pub);
	if (n != NULL && n->info.state == CP_NODE_CONNECTED &&
	    cp_ctl_keep_old(ctl, n, false, now_ns)) {
		ctl->st.duplicates++;
		n = NULL;
	} else if (n != NULL && n->info.state == CP_NODE_CONNECTED) {
		cp_ctl_replace_session(ctl, n);
	} else if (n != NULL && n->info.state == CP_NODE_DIALING) {
		cp_ctl_abandon_dial(ctl, n); /* this session is complete; ours is not */
	}
	cp_ctl_xx_free(ctl, xx);
	s->state = CP_SLOT_RESERVED; /* until opened */
	if (n == NULL || !cp_ctl_open_session(ctl, n, sl_connid_owner(receiver),
					      sl_connid_slot(receiver), &hs, from, false, now_ns)) {
		cp_hs_session_wipe(&hs);
		cp_ctl_slot_release(ctl, sl_connid_owner(receiver), sl_connid_slot(receiver));
	}
}

/* --- initiator: answers and cookies --------------------------------------------------------- */

struct cp_node *
cp_ctl_dialer(struct cp_ctl *ctl, uint32_t receiver)
{
	struct cp_slot *s = cp_ctl_slot(ctl, receiver);

	if (s == NULL || (s->state != CP_SLOT_DIALING && s->state != CP_SLOT_LIVE) ||
	    s->node == NULL || s->node->hs == NULL || s->node->hs_local_id != receiver)
		return NULL;
	return s->node;
}

/* Our rekey completed: keep the session if the peer knew it, else start afresh. */
static void
rekeyed(struct cp_ctl *ctl, struct cp_node *n, struct cp_hs_session *hs, uint64_t now_ns)
{
	struct cp_slot *s = &ctl->slots[n->info.lcore][n->slot];
	struct dp_cmd cmd = { .type = DP_CMD_KEYPAIR_ADD, .slot = n->slot };
	uint32_t local_id = hs->local_id, remote_id = hs->remote_id;

	if (!(hs->peer.flags & SL_HS_F_REKEY)) {
		ctl->st.rekeys_refused++;
		cp_hs_session_wipe(hs);
		cp_ctl_replace_session(ctl, n);
		if (cp_ctl_keep(n))
			cp_ctl_schedule(ctl, &n->timer, now_ns);
		return;
	}
	if (!post_keys(ctl, &cmd, n->info.lcore, hs, n->info.pub, now_ns))
		return;
	s->gen = (uint8_t)(local_id & SL_CONNID_GEN_MASK);
	n->info.connid = local_id;
	n->info.remote_id = remote_id;
	n->info.initiator = true;
	n->info.last_handshake_ns = now_ns;
	n->info.rekeys++;
	ctl->st.rekeys++;
	cp_ctl_note(ctl, CP_NOTE_REKEYED, n, NULL, false);
}

/* The answer to our IK initiation or resumption (n's dial or rekey). */
static void
answer_in(struct cp_ctl *ctl, const uint8_t *msg, size_t len, uint64_t now_ns)
{
	struct cp_node *n = cp_ctl_dialer(ctl, cp_ctl_be32_at(msg + 8));
	struct cp_hs_pending *p = ctl->scratch;
	struct cp_hs_session hs;
	bool rekey;
	int rc;

	if (n == NULL) {
		ctl->st.unmatched++;
		return;
	}
	memcpy(p, n->hs, sizeof(*p));
	rc = msg[0] == SL_MSG_RESUME_RESP ? cp_hs_resume_finish(ctl->hs, p, msg, len, &hs)
					  : cp_hs_ik_finish(ctl->hs, p, msg, len, &hs);
	if (rc != 0) {
		cp_ctl_refused(ctl, p->reason);
		/* a refusal on network or version is the responder's word: give up */
		if (rc == -ECONNREFUSED && !n->hs_rekey)
			cp_ctl_dial_failed(ctl, n, cp_hs_reason_name(p->reason), now_ns);
		cp_hs_pending_wipe(p);
		return;
	}
	ctl->st.answers_received++;
	rekey = n->hs_rekey;
	cp_ctl_hs_free(n);
	sl_theap_remove(&ctl->timers, &n->timer);
	if (rekey) {
		rekeyed(ctl, n, &hs, now_ns);
		return;
	}
	if (!cp_ctl_open_session(ctl, n, n->info.lcore, n->slot, &hs, &n->ep, false, now_ns)) {
		cp_hs_session_wipe(&hs);
		cp_ctl_dial_failed(ctl, n, "dataplane_refused", now_ns);
	}
}

static void
cookie_reply(struct cp_ctl *ctl, const uint8_t *msg, size_t len, uint64_t now_ns, uint64_t wall_ns)
{
	struct cp_slot *s = cp_ctl_slot(ctl, cp_ctl_be32_at(msg + 4));
	struct cp_node *n;

	if (s != NULL && s->state == CP_SLOT_XDIAL) {
		cp_ctl_xdial_cookie(ctl, msg, len, now_ns);
		return;
	}
	n = cp_ctl_dialer(ctl, cp_ctl_be32_at(msg + 4));
	if (n == NULL) {
		ctl->st.unmatched++;
		return;
	}
	if (cp_hs_cookie_consume(ctl->hs, n->hs, (const struct sl_msg_cookie *)msg, len, now_ns,
				 &n->cookie) != 0) {
		cp_ctl_refused(ctl, CP_HS_MALFORMED);
		return;
	}
	ctl->st.cookies_received++;
	cp_ctl_send_initiation(ctl, n, now_ns, wall_ns); /* at once, with the cookie */
}

/* --- dispatch ------------------------------------------------------------------------------- */

bool
cp_ctl_initiation_fresh(struct cp_ctl *ctl, const uint8_t *msg, size_t len, uint64_t since_ns,
			uint64_t now_ns)
{
	SL_ASSERT_OWNER(ctl->thread);
	if (len < 1 ||
	    (msg[0] != SL_MSG_IK_INIT && msg[0] != SL_MSG_XX_INIT && msg[0] != SL_MSG_RESUME_INIT) ||
	    now_ns < since_ns || now_ns - since_ns <= ctl->cfg.handshake_timeout_ns)
		return true;
	ctl->st.stale_initiations++;
	return false;
}

void
cp_ctl_handshake(struct cp_ctl *ctl, const struct cp_endpoint *from, const uint8_t *msg, size_t len,
		 uint32_t backlog, uint64_t now_ns, uint64_t wall_ns)
{
	SL_ASSERT_OWNER(ctl->thread);
	if (ctl->stopping)
		return;
	if (len < 12) {
		cp_ctl_refused(ctl, CP_HS_MALFORMED);
		return;
	}
	switch (msg[0]) {
	case SL_MSG_IK_INIT:
		ik_init(ctl, from, msg, len, backlog, now_ns);
		break;
	case SL_MSG_XX_INIT:
		xx_init(ctl, from, msg, len, backlog, now_ns);
		break;
	case SL_MSG_IK_RESP:
	case SL_MSG_RESUME_RESP:
		answer_in(ctl, msg, len, now_ns);
		break;
	case SL_MSG_RESUME_INIT:
		resume_init(ctl, from, msg, len, backlog, now_ns);
		break;
	case SL_MSG_RESUME_REJECT:
		cp_ctl_resume_rejected(ctl, msg, len, now_ns, wall_ns);
		break;
	case SL_MSG_XX_FINISH:
		xx_finish(ctl, from, msg, len, now_ns);
		break;
	case SL_MSG_COOKIE:
		cookie_reply(ctl, msg, len, now_ns, wall_ns);
		break;
	case SL_MSG_XX_RESP: /* the answer to a keyless dial of ours, or to nothing */
		cp_ctl_xdial_answer(ctl, msg, len, now_ns, wall_ns);
		break;
	default:
		cp_ctl_refused(ctl, CP_HS_MALFORMED);
		break;
	}
}
