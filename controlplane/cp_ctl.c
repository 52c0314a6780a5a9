/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the control thread's session logic — nodes, slots, timers and the dataplane's
 * events (see cp_ctl.h; handshake messages are in cp_ctl_hs.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_debug.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <sodium.h>

#include "cp_ctl_pvt.h"
#include "cp_resume.h"
#include "sl_aead.h"
#include "dp_keypair.h"

static const char *const state_names[] = {
	[CP_NODE_WAITING] = "waiting",
	[CP_NODE_RESOLVING] = "resolving",
	[CP_NODE_DIALING] = "dialing",
	[CP_NODE_CONNECTED] = "connected",
};

const char *
cp_node_state_name(enum cp_node_state s)
{
	return (unsigned int)s < RTE_DIM(state_names) ? state_names[s] : "?";
}

const char *
cp_close_reason_name(uint16_t reason)
{
	static const char *const names[SL_CLOSE_REASON_COUNT] = {
		[SL_CLOSE_NONE] = "closed",
		[SL_CLOSE_PROTOCOL] = "protocol_error",
		[SL_CLOSE_FLOW_CONTROL] = "flow_control_error",
		[SL_CLOSE_IDLE] = "idle_timeout",
		[SL_CLOSE_UNRESPONSIVE] = "unresponsive",
		[SL_CLOSE_APPLICATION] = "application",
		[SL_CLOSE_INTERNAL] = "internal_error",
		[SL_CLOSE_REPLACED] = "replaced",
		[SL_CLOSE_SHUTDOWN] = "shutdown",
		[SL_CLOSE_REFUSED] = "refused",
		[SL_CLOSE_MISBEHAVED] = "misbehaved",
		[SL_CLOSE_DONE] = "done",
	};

	return reason < SL_CLOSE_REASON_COUNT ? names[reason] : "unknown_reason";
}

/* --- slots ---------------------------------------------------------------------------------- */

/* A free slot on the lcore with the most free slots (the least loaded; of equals, the last:
 * with one rx queue polled by lcore 0, the first session then runs on another lcore, which
 * spreads receive and session work over two cores, and every multi-lcore appliance exercises
 * the handoff path from its first session). */
uint32_t
cp_ctl_slot_alloc(struct cp_ctl *ctl, enum cp_slot_state state, unsigned int *lcore)
{
	unsigned int best = 0;
	struct cp_slot *s;
	uint32_t slot;

	if (ctl->n_used >= ctl->cfg.max_sessions)
		return UINT32_MAX;
	for (unsigned int i = 1; i < ctl->cfg.n_lcores; i++)
		if (ctl->n_free[i] >= ctl->n_free[best])
			best = i;
	if (ctl->n_free[best] == 0)
		return UINT32_MAX;
	slot = ctl->free_slots[best][--ctl->n_free[best]];
	s = &ctl->slots[best][slot];
	RTE_ASSERT(s->state == CP_SLOT_FREE);
	RTE_ASSERT(state == CP_SLOT_DIALING || state == CP_SLOT_RESERVED || state == CP_SLOT_XDIAL);
	s->state = (uint8_t)state;
	s->gen++;
	s->node = NULL;
	ctl->n_used++;
	*lcore = best;
	return slot;
}

void
cp_ctl_slot_release(struct cp_ctl *ctl, unsigned int lcore, uint32_t slot)
{
	struct cp_slot *s = &ctl->slots[lcore][slot];

	if (s->state == CP_SLOT_FREE) {
		RTE_ASSERT(!"slot released twice");
		ctl->st.slot_double_release++;
		return;
	}
	s->state = CP_SLOT_FREE;
	s->node = NULL;
	ctl->free_slots[lcore][ctl->n_free[lcore]++] = slot;
	ctl->n_used--;
}

/* The slot a connection id names, or NULL if it cannot be ours. */
struct cp_slot *
cp_ctl_slot(struct cp_ctl *ctl, uint32_t connid)
{
	uint32_t owner = sl_connid_owner(connid), slot = sl_connid_slot(connid);

	if (owner >= ctl->cfg.n_lcores || slot >= ctl->cfg.slots_per_lcore)
		return NULL;
	return &ctl->slots[owner][slot];
}

/* --- nodes ---------------------------------------------------------------------------------- */

struct cp_node *
cp_ctl_node_find(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN])
{
	/* rte_jhash reads the key a 32-bit word at a time: callers' keys may sit anywhere (in a
	 * received message, after a flag in a struct) */
	uint32_t key[SL_KEY_LEN / sizeof(uint32_t)];
	void *data;

	memcpy(key, pub, SL_KEY_LEN);
	return rte_hash_lookup_data(ctl->by_pub, key, &data) >= 0 ? data : NULL;
}

/* The node of a static key, created (not a configured peer) if it is new; NULL if out of
 * memory. */
struct cp_node *
cp_ctl_node_get(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN])
{
	struct cp_node *n = cp_ctl_node_find(ctl, pub);

	if (n != NULL)
		return n;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	memcpy(n->info.pub, pub, SL_KEY_LEN);
	n->info.peer = -1;
	n->info.state = CP_NODE_WAITING;
	sl_theap_node_init(&n->timer);
	if (rte_hash_add_key_data(ctl->by_pub, n->info.pub, n) < 0) {
		free(n);
		return NULL;
	}
	n->pub_in_hash = true;
	return n;
}

void
cp_ctl_hs_free(struct cp_node *n)
{
	if (n->hs != NULL) {
		cp_hs_pending_wipe(n->hs);
		free(n->hs);
		n->hs = NULL;
	}
	n->hs_rekey = false;
	n->hs_resume = false;
}

/* A node that is not a configured peer goes when it has no session. */
void
cp_ctl_node_put(struct cp_ctl *ctl, struct cp_node *n)
{
	if (cp_ctl_is_peer(n) || cp_ctl_keep(n) || n->info.state == CP_NODE_CONNECTED ||
	    n->closing)
		return;
	sl_theap_remove(&ctl->timers, &n->timer);
	cp_ctl_hs_free(n);
	if (n->pub_in_hash)
		rte_hash_del_key(ctl->by_pub, n->info.pub);
	free(n);
}

void
cp_ctl_schedule(struct cp_ctl *ctl, struct sl_theap_node *t, uint64_t at)
{
	/* the heap holds every node at most once; growth failing leaves it unscheduled, which
	 * only delays a retry until the next event touches the node */
	if (sl_theap_set(&ctl->timers, t, at) != 0)
		ctl->st.command_failures++;
}

/* The next resend of the node's initiation, or its deadline if that comes first. */
void
cp_ctl_schedule_retry(struct cp_ctl *ctl, struct cp_node *n, uint64_t now_ns)
{
	uint64_t at = now_ns + cp_ctl_jitter(ctl, ctl->cfg.retry_ns);

	cp_ctl_schedule(ctl, &n->timer, RTE_MIN(at, n->hs_deadline_ns));
}

void
cp_ctl_note_fill(struct cp_note *note, enum cp_note_type type, const struct cp_node *n,
		 const char *reason, bool by_peer)
{
	*note = (struct cp_note){
		.type = type,
		.name = n->info.name,
		.pub = n->info.pub,
		.ip = n->info.ip,
		.udp_port = n->info.udp_port,
		.initiator = n->info.initiator,
		.connid = n->info.connid,
		.reason = reason,
		.by_peer = by_peer,
		.attempts = n->info.attempts,
		.capabilities = n->info.capabilities,
		.n_addrs = n->info.n_addrs,
		.addrs = n->info.addrs,
		.learned = n->info.learned,
	};
	if (n->info.state == CP_NODE_CONNECTED)
		note->via = n->ep.via;
	if (type == CP_NOTE_CONNECTED || type == CP_NOTE_REKEYED) {
		note->capabilities = n->info.capabilities;
		note->n_addrs = n->info.n_addrs;
		note->addrs = n->info.addrs;
	}
	if (type == CP_NOTE_CONNECT_FAILED && n->timer.at != UINT64_MAX)
		note->retry_in_ns = n->backoff_ns;
}

void
cp_ctl_note(struct cp_ctl *ctl, enum cp_note_type type, const struct cp_node *n, const char *reason,
	    bool by_peer)
{
	struct cp_note note;

	cp_ctl_note_fill(&note, type, n, reason, by_peer);
	if (ctl->ops.note != NULL)
		ctl->ops.note(ctl->arg, &note);
}

/* Jitter: a value in [v * 3/4, v * 5/4). */
uint64_t
cp_ctl_jitter(struct cp_ctl *ctl, uint64_t v)
{
	ctl->rng = ctl->rng * 6364136223846793005ull + 1442695040888963407ull;
	return v - v / 4 + (v / 2 == 0 ? 0 : (ctl->rng >> 11) % (v / 2));
}

void
cp_ctl_dial_failed(struct cp_ctl *ctl, struct cp_node *n, const char *why, uint64_t now_ns)
{
	cp_ctl_hs_free(n);
	if (n->info.state == CP_NODE_DIALING)
		cp_ctl_slot_release(ctl, n->info.lcore, n->slot);
	n->info.attempts++;
	n->info.failures++;
	ctl->st.connect_failures++;
	snprintf(n->info.last_error, sizeof(n->info.last_error), "%s", why);
	n->backoff_base_ns = n->info.attempts == 1
				     ? ctl->cfg.backoff_min_ns
				     : RTE_MIN(n->backoff_base_ns * 2, ctl->cfg.backoff_max_ns);
	n->backoff_ns = cp_ctl_jitter(ctl, n->backoff_base_ns);
	n->info.state = CP_NODE_WAITING;
	cp_ctl_schedule(ctl, &n->timer, ctl->stopping ? UINT64_MAX : now_ns + n->backoff_ns);
	cp_ctl_note(ctl, CP_NOTE_CONNECT_FAILED, n, why, false);
}

void
cp_ctl_close_session(struct cp_ctl *ctl, struct cp_node *n, uint16_t reason, bool graceful)
{
	struct cp_slot *s = &ctl->slots[n->info.lcore][n->slot];
	struct dp_cmd cmd = {
		.type = DP_CMD_SESSION_CLOSE,
		.slot = n->slot,
		.reason = reason,
		.graceful = graceful,
	};

	if (s->state != CP_SLOT_LIVE)
		return;
	s->state = CP_SLOT_CLOSING;
	if (ctl->ops.command(ctl->arg, n->info.lcore, &cmd) != 0)
		ctl->st.command_failures++;
}

/* --- creation ------------------------------------------------------------------------------- */

static int
make_slots(struct cp_ctl *ctl)
{
	for (unsigned int l = 0; l < ctl->cfg.n_lcores; l++) {
		uint32_t n = ctl->cfg.slots_per_lcore;

		ctl->slots[l] = calloc(n, sizeof(*ctl->slots[l]));
		ctl->free_slots[l] = malloc(n * sizeof(uint32_t));
		if (ctl->slots[l] == NULL || ctl->free_slots[l] == NULL)
			return -ENOMEM;
		/* slot 0 handed out first: pop from the end */
		for (uint32_t i = 0; i < n; i++) {
			ctl->free_slots[l][i] = n - 1 - i;
			randombytes_buf(&ctl->slots[l][i].gen, 1); /* ids differ across restarts */
		}
		ctl->n_free[l] = n;
	}
	return 0;
}

static int
make_peers(struct cp_ctl *ctl, uint64_t now_ns)
{
	ctl->peers = calloc(RTE_MAX(ctl->cfg.n_peers, 1u), sizeof(*ctl->peers));
	if (ctl->peers == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < ctl->cfg.n_peers; i++) {
		const struct conf_peer *p = &ctl->cfg.peers[i];
		struct cp_node *n = &ctl->peers[i];

		snprintf(n->info.name, sizeof(n->info.name), "%s", p->name);
		memcpy(n->info.pub, p->pub, SL_KEY_LEN);
		n->info.peer = (int)i;
		n->wanted = !p->has_via; /* through a relay: once the relay gave a circuit */
		n->info.ip = p->ip;
		n->info.udp_port = p->port;
		n->info.state = CP_NODE_WAITING;
		sl_theap_node_init(&n->timer);
		if (rte_hash_add_key_data(ctl->by_pub, p->pub, n) < 0)
			return -EINVAL; /* the configuration has each key once */
		n->pub_in_hash = true;
		if (p->has_via)
			continue;
		/* first attempts spread over 100 ms so that peers do not all dial at once */
		cp_ctl_schedule(ctl, &n->timer, now_ns + cp_ctl_jitter(ctl, 50000000ull));
	}
	return 0;
}

struct cp_ctl *
cp_ctl_create(const struct cp_ctl_config *cfg, const struct cp_ctl_ops *ops, void *arg,
	      uint64_t now_ns)
{
	static unsigned int instance;
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name,
		.key_len = SL_KEY_LEN,
		.hash_func = rte_jhash,
		.socket_id = -1,
	};
	struct cp_ctl *ctl;

	if (cp_ctl_config_problem(cfg) != NULL || ops == NULL || ops->command == NULL ||
	    ops->send == NULL || ops->resolve == NULL) {
		errno = EINVAL;
		return NULL;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	ctl->cfg = *cfg;
	ctl->ops = *ops;
	ctl->arg = arg;
	sl_theap_init(&ctl->timers);
	sl_theap_init(&ctl->xx_timers);
	sl_theap_init(&ctl->xd_timers);
	randombytes_buf(&ctl->rng, sizeof(ctl->rng));
	snprintf(name, sizeof(name), "sl_nodes%u",
		 __atomic_fetch_add(&instance, 1, __ATOMIC_RELAXED));
	hp.entries = RTE_MAX(cfg->max_sessions + cfg->n_peers, 64u) * 2;
	ctl->by_pub = rte_hash_create(&hp);
	if (cfg->peers_only) { /* the handshake layer asks us whom it may answer */
		ctl->cfg.hs.peer_allowed = cp_ctl_policy_allows;
		ctl->cfg.hs.peer_allowed_arg = ctl;
	}
	ctl->hs = cp_hs_ctx_create(&ctl->cfg.hs);
	ctl->adm = ctl->hs == NULL ? NULL
				   : cp_admission_create(cp_hs_ctx_pubkey(ctl->hs), &cfg->admission,
							 now_ns);
	ctl->scratch = aligned_alloc(64, RTE_ALIGN_CEIL(sizeof(*ctl->scratch), 64));
	if (ctl->by_pub == NULL || ctl->scratch == NULL || ctl->adm == NULL ||
	    make_slots(ctl) != 0 || make_peers(ctl, now_ns) != 0 || cp_ctl_xdial_init(ctl) != 0 ||
	    cp_ctl_resume_init(ctl) != 0) {
		cp_ctl_destroy(ctl);
		errno = ENOMEM;
		return NULL;
	}
	return ctl;
}

static void
free_dynamic_nodes(struct cp_ctl *ctl)
{
	const void *key;
	void *data;
	uint32_t it = 0;

	while (rte_hash_iterate(ctl->by_pub, &key, &data, &it) >= 0) {
		struct cp_node *n = data;

		if (!cp_ctl_is_peer(n)) {
			cp_ctl_hs_free(n);
			free(n);
		}
	}
}

void
cp_ctl_destroy(struct cp_ctl *ctl)
{
	if (ctl == NULL)
		return;
	sl_theap_fini(&ctl->timers); /* first: it touches the nodes it holds */
	sl_theap_fini(&ctl->xx_timers);
	cp_ctl_xdial_fini(ctl);
	for (unsigned int l = 0; l < ctl->cfg.n_lcores; l++) {
		for (uint32_t i = 0; ctl->slots[l] != NULL && i < ctl->cfg.slots_per_lcore; i++)
			if (ctl->slots[l][i].state == CP_SLOT_XX)
				cp_ctl_xx_free(ctl, ctl->slots[l][i].xx); /* slots go below */
		free(ctl->slots[l]);
		free(ctl->free_slots[l]);
	}
	if (ctl->by_pub != NULL) {
		free_dynamic_nodes(ctl);
		rte_hash_free(ctl->by_pub);
	}
	for (unsigned int i = 0; ctl->peers != NULL && i < ctl->cfg.n_peers; i++)
		cp_ctl_hs_free(&ctl->peers[i]);
	free(ctl->peers);
	cp_resume_destroy(ctl->resume); /* wipes every secret */
	cp_admission_destroy(ctl->adm);
	cp_hs_ctx_destroy(ctl->hs);
	if (ctl->scratch != NULL)
		cp_hs_pending_wipe(ctl->scratch);
	free(ctl->scratch);
	sodium_memzero(&ctl->cfg.hs.static_priv, sizeof(ctl->cfg.hs.static_priv));
	free(ctl);
}

const uint8_t *
cp_ctl_pubkey(const struct cp_ctl *ctl)
{
	return cp_hs_ctx_pubkey(ctl->hs);
}

/* --- timers --------------------------------------------------------------------------------- */

/* Look for the peer's next hop and dial once it is known. */
static void
resolve_and_dial(struct cp_ctl *ctl, struct cp_node *n, uint64_t now_ns, uint64_t wall_ns)
{
	int rc = ctl->ops.resolve(ctl->arg, n->info.ip, &n->ep.port, n->ep.mac);

	if (rc == 0) {
		n->ep.ip = n->info.ip;
		n->ep.udp_port = n->info.udp_port;
		n->ep.via = n->dial_via;
		cp_ctl_dial(ctl, n, false, now_ns, wall_ns);
		return;
	}
	if (rc != -EAGAIN) {
		cp_ctl_dial_failed(ctl, n, "no_route", now_ns);
		return;
	}
	if (n->info.state != CP_NODE_RESOLVING) {
		n->info.state = CP_NODE_RESOLVING;
		n->hs_deadline_ns = now_ns + ctl->cfg.handshake_timeout_ns;
	} else if (now_ns >= n->hs_deadline_ns) {
		cp_ctl_dial_failed(ctl, n, "address_unresolved", now_ns);
		return;
	}
	cp_ctl_schedule(ctl, &n->timer, RTE_MIN(now_ns + ctl->cfg.retry_ns, n->hs_deadline_ns));
}

static void
node_due(struct cp_ctl *ctl, struct cp_node *n, uint64_t now_ns, uint64_t wall_ns)
{
	if (ctl->stopping)
		return;
	if (n->hs != NULL) { /* our handshake in progress: resend, or give up */
		if (now_ns < n->hs_deadline_ns) {
			cp_ctl_send_initiation(ctl, n, now_ns, wall_ns);
			cp_ctl_schedule_retry(ctl, n, now_ns);
		} else if (n->hs_rekey) { /* the keys still work for a while: try again later */
			cp_ctl_hs_free(n);
			n->rekey_retry = true;
			cp_ctl_schedule(ctl, &n->timer, now_ns + ctl->cfg.retry_ns);
			n->info.failures++;
			snprintf(n->info.last_error, sizeof(n->info.last_error), "rekey_timeout");
		} else {
			cp_ctl_dial_failed(ctl, n, "handshake_timeout", now_ns);
		}
		return;
	}
	if (n->info.state == CP_NODE_CONNECTED) {
		if (n->rekey_retry && !n->closing) /* a rekey that timed out: again */
			cp_ctl_dial(ctl, n, true, now_ns, wall_ns);
		return;
	}
	if (cp_ctl_keep(n) && !n->closing)
		resolve_and_dial(ctl, n, now_ns, wall_ns);
}

uint64_t
cp_ctl_tick(struct cp_ctl *ctl, uint64_t now_ns, uint64_t wall_ns)
{
	struct sl_theap_node *t;
	uint64_t next;

	SL_ASSERT_OWNER(ctl->thread);
	while ((t = sl_theap_top(&ctl->xx_timers)) != NULL && t->at <= now_ns)
		cp_ctl_xx_expire(ctl, container_of(t, struct cp_xx, timer));
	while ((t = sl_theap_top(&ctl->timers)) != NULL && t->at <= now_ns) {
		sl_theap_remove(&ctl->timers, t);
		node_due(ctl, container_of(t, struct cp_node, timer), now_ns, wall_ns);
	}
	cp_ctl_xdial_tick(ctl, now_ns, wall_ns);
	next = UINT64_MAX;
	if ((t = sl_theap_top(&ctl->timers)) != NULL)
		next = t->at;
	if ((t = sl_theap_top(&ctl->xx_timers)) != NULL)
		next = RTE_MIN(next, t->at);
	if ((t = sl_theap_top(&ctl->xd_timers)) != NULL)
		next = RTE_MIN(next, t->at);
	return next;
}

void
cp_ctl_kick(struct cp_ctl *ctl, uint64_t now_ns)
{
	SL_ASSERT_OWNER(ctl->thread);
	for (unsigned int i = 0; i < ctl->cfg.n_peers; i++)
		if (ctl->peers[i].info.state == CP_NODE_RESOLVING)
			cp_ctl_schedule(ctl, &ctl->peers[i].timer, now_ns);
	cp_ctl_xdial_kick(ctl, now_ns);
}

/* --- dataplane events ----------------------------------------------------------------------- */

/* A session whose node moved on to a newer one (its NodeDisconnected was noted then) ended
 * with messages undelivered: say so, by its connection id. */
static void
note_replaced_ended(struct cp_ctl *ctl, uint32_t connid, const struct dp_evt *ev)
{
	struct cp_note note = {
		.type = CP_NOTE_REPLACED_ENDED,
		.name = "",
		.connid = connid,
		.reason = cp_close_reason_name(ev->reason),
		.by_peer = ev->by_peer,
		.undelivered = ev->undelivered,
		.undelivered_bytes = ev->undelivered_bytes,
	};

	if (ev->undelivered != 0 && ctl->ops.note != NULL)
		ctl->ops.note(ctl->arg, &note);
}

static void
note_disconnected(struct cp_ctl *ctl, const struct cp_node *n, const struct dp_evt *ev)
{
	struct cp_note note;

	cp_ctl_note_fill(&note, CP_NOTE_DISCONNECTED, n, cp_close_reason_name(ev->reason),
			 ev->by_peer);
	note.undelivered = ev->undelivered;
	note.undelivered_bytes = ev->undelivered_bytes;
	if (ctl->ops.note != NULL)
		ctl->ops.note(ctl->arg, &note);
}

static void
session_closed(struct cp_ctl *ctl, unsigned int lcore, const struct dp_evt *ev, uint64_t now_ns)
{
	struct cp_slot *s = &ctl->slots[lcore][ev->slot];
	struct cp_node *n = s->node;
	uint64_t at;

	if (s->state != CP_SLOT_LIVE && s->state != CP_SLOT_CLOSING)
		return; /* not a session slot: a stale or forged event */
	ctl->st.sessions_closed++;
	cp_ctl_slot_release(ctl, lcore, ev->slot);
	if (n == NULL || n->info.lcore != lcore || n->slot != ev->slot ||
	    n->info.state != CP_NODE_CONNECTED) { /* replaced: the node lives on in another slot */
		note_replaced_ended(ctl, sl_connid(lcore, ev->slot, s->gen), ev);
		return;
	}
	n->info.state = CP_NODE_WAITING;
	n->info.disconnects++;
	n->closing = false;
	cp_ctl_hs_free(n);
	note_disconnected(ctl, n, ev);
	if (cp_ctl_is_peer(n) && !ctl->cfg.peers[n->info.peer].persistent)
		n->wanted = false; /* dialled until connected, not again: the pool decides */
	if (!cp_ctl_keep(n)) {
		cp_ctl_node_put(ctl, n);
		return;
	}
	n->backoff_ns = cp_ctl_jitter(ctl, ctl->cfg.backoff_min_ns);
	at = now_ns + n->backoff_ns;
	if (n->dial_asked) { /* asked to connect while it closed: now, as when waiting */
		n->info.attempts = 0;
		at = now_ns;
	}
	n->dial_asked = false;
	cp_ctl_schedule(ctl, &n->timer, ctl->stopping ? UINT64_MAX : at);
}

/* The peer of a live session moved (its authenticated packets come from elsewhere): rekeys
 * and a redial go where it is now. */
static void
session_moved(struct cp_ctl *ctl, struct cp_slot *s, const struct dp_evt *ev)
{
	struct cp_node *n = s->node;

	if (s->state != CP_SLOT_LIVE || n == NULL || s->open_id != ev->connid) {
		ctl->st.moved_stale++;
		return;
	}
	n->ep.port = ev->port;
	n->ep.ip = ev->ip;
	n->ep.udp_port = ev->udp_port;
	n->ep.via = ev->via;
	memcpy(n->ep.mac, ev->mac, sizeof(n->ep.mac));
	n->info.via = ev->via;
	n->info.ip = ev->ip;
	n->info.udp_port = ev->udp_port;
	n->info.moves++;
	ctl->st.moved++;
}

void
cp_ctl_event(struct cp_ctl *ctl, unsigned int lcore, const struct dp_evt *ev, uint64_t now_ns,
	     uint64_t wall_ns)
{
	struct cp_slot *s;

	SL_ASSERT_OWNER(ctl->thread);
	if (ev->type == DP_EVT_CONTROL) {
		cp_ctl_control_in(ctl, lcore, ev);
		return;
	}
	if (lcore >= ctl->cfg.n_lcores || ev->slot >= ctl->cfg.slots_per_lcore)
		return;
	s = &ctl->slots[lcore][ev->slot];
	switch (ev->type) {
	case DP_EVT_CLOSED:
		session_closed(ctl, lcore, ev, now_ns);
		break;
	case DP_EVT_REKEY:
		if (s->state == CP_SLOT_LIVE && s->node != NULL && s->node->hs == NULL &&
		    !ctl->stopping)
			cp_ctl_dial(ctl, s->node, true, now_ns, wall_ns);
		break;
	case DP_EVT_UNRESPONSIVE:
		if (s->state == CP_SLOT_LIVE && s->node != NULL)
			cp_ctl_note(ctl, CP_NOTE_UNRESPONSIVE, s->node, "unresponsive", false);
		break;
	case DP_EVT_MOVED:
		session_moved(ctl, s, ev);
		break;
	default:
		break;
	}
}

/* --- shutdown, counters, telemetry ---------------------------------------------------------- */

bool
cp_ctl_close_all(struct cp_ctl *ctl, uint64_t now_ns)
{
	bool all = true;

	SL_ASSERT_OWNER(ctl->thread);
	(void)now_ns;
	ctl->stopping = true;
	for (unsigned int l = 0; l < ctl->cfg.n_lcores; l++) {
		unsigned int sent = 0;

		for (uint32_t i = 0; i < ctl->cfg.slots_per_lcore; i++) {
			struct cp_slot *s = &ctl->slots[l][i];
			struct dp_cmd cmd = {
				.type = DP_CMD_SESSION_CLOSE,
				.slot = i,
				.reason = SL_CLOSE_SHUTDOWN,
				.graceful = true,
			};

			if (s->state == CP_SLOT_XX) {
				cp_ctl_xx_expire(ctl, s->xx);
				continue;
			}
			if (s->state == CP_SLOT_XDIAL) {
				cp_ctl_xdial_stop(ctl, l, i);
				continue;
			}
			if (s->state == CP_SLOT_DIALING && s->node != NULL) {
				cp_ctl_hs_free(s->node);
				s->node->info.state = CP_NODE_WAITING;
				cp_ctl_slot_release(ctl, l, i);
				continue;
			}
			if (s->state != CP_SLOT_LIVE)
				continue;
			/* at most a quarter of the lcore's ring per call: the lcore answers each
			 * close with an event, which only the caller's next round drains */
			if (sent == CP_CTL_CLOSE_BATCH) {
				all = false;
				break;
			}
			sent++;
			s->state = CP_SLOT_CLOSING;
			if (ctl->ops.command(ctl->arg, l, &cmd) != 0)
				ctl->st.command_failures++;
		}
	}
	return all;
}

uint32_t
cp_ctl_sessions(const struct cp_ctl *ctl)
{
	return ctl->n_used;
}

const struct cp_ctl_stats *
cp_ctl_stats(const struct cp_ctl *ctl)
{
	struct cp_ctl_stats *st = (struct cp_ctl_stats *)(uintptr_t)&ctl->st;
	uint32_t live = 0, closing = 0;

	for (unsigned int l = 0; l < ctl->cfg.n_lcores; l++)
		for (uint32_t i = 0; i < ctl->cfg.slots_per_lcore; i++) {
			live += ctl->slots[l][i].state == CP_SLOT_LIVE;
			closing += ctl->slots[l][i].state == CP_SLOT_CLOSING;
		}
	st->sessions_live = live;
	/* every other taken slot: DIALING, RESERVED, XX (each counted once) */
	st->handshakes_pending = ctl->n_used - live - closing;
	return st;
}

const struct cp_admission_stats *
cp_ctl_admission_stats(const struct cp_ctl *ctl)
{
	return cp_admission_stats(ctl->adm);
}

int
cp_ctl_foreach_node(const struct cp_ctl *ctl, int (*fn)(void *arg, const struct cp_node_info *),
		    void *arg)
{
	const void *key;
	void *data;
	uint32_t it = 0;
	int rc;

	for (unsigned int i = 0; i < ctl->cfg.n_peers; i++)
		if ((rc = fn(arg, &ctl->peers[i].info)) != 0)
			return rc;
	while (rte_hash_iterate(ctl->by_pub, &key, &data, &it) >= 0) {
		const struct cp_node *n = data;

		if (!cp_ctl_is_peer(n) && (rc = fn(arg, &n->info)) != 0)
			return rc;
	}
	return 0;
}
