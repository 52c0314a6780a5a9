/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tests: the world test_ctl and fuzz_handshake run in (see ctl_world.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cp_ctl.h"
#include "sl_dh.h"
#include "sl_aead.h"
#include "dp_keypair.h"
#include "ctl_world.h"
#include "sl_test.h"

/* --- the model dataplane --------------------------------------------------------------------- */

struct hnode nodes[MAXN];
uint64_t now;

struct wmsg wire[512];
unsigned int n_wire;
struct wmsg captured[16];
unsigned int n_captured;

const struct dp_key_limits *
limits(void)
{
	static struct dp_key_limits lim;

	dp_key_limits_init(&lim);
	return &lim;
}

static int
node_index(const struct hnode *h)
{
	return (int)(h - nodes);
}

static int
node_by_ip(uint32_t ip)
{
	for (int i = 0; i < MAXN; i++)
		if (nodes[i].ctl != NULL && nodes[i].ip == ip)
			return i;
	return -1;
}

static void
ops_send(void *arg, const struct cp_endpoint *to, const void *msg, size_t len)
{
	struct hnode *h = arg;
	int dst = node_by_ip(to->ip);
	struct wmsg *w;

	CU_ASSERT_FATAL(len <= sizeof(wire[0].buf));
	if (dst < 0) {
		if (n_captured < RTE_DIM(captured)) {
			w = &captured[n_captured++];
			w->to = -1;
			w->to_ip = to->ip;
			w->len = len;
			memcpy(w->buf, msg, len);
		}
		return;
	}
	if (nodes[dst].offline || n_wire == RTE_DIM(wire))
		return;
	w = &wire[n_wire++];
	w->to = dst;
	w->to_ip = to->ip;
	w->from = (struct cp_endpoint){ .port = 0, .ip = h->ip, .udp_port = 4789 };
	w->from.mac[5] = (uint8_t)node_index(h);
	w->len = len;
	memcpy(w->buf, msg, len);
}

static int
ops_resolve(void *arg, uint32_t ip, uint8_t *port, uint8_t mac[6])
{
	(void)arg;
	if ((ip >> 24) != 198)
		return -ENETUNREACH;
	*port = 0;
	memset(mac, 0, 6);
	mac[5] = (uint8_t)(ip & 0xff);
	return 0;
}

void
push_event(struct hnode *h, unsigned int lcore, const struct dp_evt *ev)
{
	CU_ASSERT_FATAL(h->n_evq < RTE_DIM(h->evq));
	h->evq[h->n_evq].ev = *ev;
	h->evq[h->n_evq].lcore = lcore;
	h->n_evq++;
}

/* Forget h's events from the first-th on (the buffers of control messages freed). */
static void
evq_drop(struct hnode *h, unsigned int first)
{
	for (unsigned int k = first; k < h->n_evq; k++)
		if (h->evq[k].ev.type == DP_EVT_CONTROL)
			free(h->evq[k].ev.msg);
	h->n_evq = 0;
}

static void
mslot_free(struct mslot *s)
{
	for (unsigned int i = 0; i < s->n_kp; i++)
		dp_keypair_destroy(s->kp[i]);
	for (unsigned int i = 0; i < s->n_out; i++)
		free(s->out[i].msg); /* never sent: the session ended first */
	memset(s, 0, sizeof(*s));
}

struct dp_keypair *
latest(const struct mslot *s)
{
	return s->n_kp > 0 ? s->kp[s->n_kp - 1] : NULL;
}

/* The peer's session whose keys pair with kp (its local id is kp's remote id, and a packet
 * sealed with one opens with the other: ids alone may repeat across a restart). */
static struct mslot *
peer_slot(const struct hnode *self, const struct dp_keypair *kp, struct hnode **owner)
{
	for (int i = 0; i < MAXN; i++) {
		struct hnode *h = &nodes[i];

		if (h == self || h->ctl == NULL)
			continue;
		for (unsigned int l = 0; l < LCORES; l++)
			for (unsigned int k = 0; k < SLOTS; k++) {
				struct mslot *s = &h->slots[l][k];

				if (s->open && latest(s) != NULL &&
				    latest(s)->local_id == kp->remote_id &&
				    seal_open((struct dp_keypair *)(uintptr_t)kp, latest(s))) {
					*owner = h;
					return s;
				}
			}
	}
	return NULL;
}

/* A close reaches the peer too (its session ends "by peer"). */
void
close_slot(struct hnode *h, unsigned int lcore, uint32_t slot, uint16_t reason, bool by_peer)
{
	struct mslot *s = &h->slots[lcore][slot];
	struct dp_evt ev = {
		.type = DP_EVT_CLOSED, .slot = slot, .reason = reason, .by_peer = by_peer
	};
	struct hnode *other = NULL;
	struct mslot *ps;

	if (!s->open || s->closing)
		return;
	s->closing = true;
	s->close_reason = reason;
	push_event(h, lcore, &ev);
	if (by_peer || latest(s) == NULL)
		return;
	ps = peer_slot(h, latest(s), &other);
	if (ps != NULL) {
		uint32_t id = latest(ps)->local_id;

		close_slot(other, sl_connid_owner(id), sl_connid_slot(id), reason, true);
	}
}

/* DP_CMD_CONTROL_SEND: queued on the session if it is the one the command names (the slot open,
 * not closing, opened with that connection id), else it goes nowhere (as the lcore counts it,
 * control_send_stale). */
static void
control_queue(struct hnode *h, struct mslot *s, const struct dp_cmd *cmd)
{
	CU_ASSERT_FATAL(cmd->msg != NULL && cmd->len >= 1 && cmd->len <= SL_CONTROL_MSG_MAX);
	h->ctl_cmds++;
	h->last_ctl_cmd = *cmd;
	h->last_ctl_cmd.msg = NULL;
	memcpy(h->last_ctl_bytes, cmd->msg, cmd->len);
	if (!s->open || s->closing || s->kp[0]->local_id != cmd->connid) {
		h->ctl_cmd_stale++;
		free(cmd->msg);
		return;
	}
	CU_ASSERT_FATAL(s->n_out < RTE_DIM(s->out));
	s->out[s->n_out++] = *cmd;
}

/* The queued control messages of session s of h go to the peer's matching session once it is
 * open, in order, as DP_EVT_CONTROL naming that session as its lcore would (its slot and its
 * connection id at open). */
static void
carry_slot(struct hnode *h, struct mslot *s)
{
	struct hnode *other = NULL;
	struct mslot *ps;
	uint32_t id;

	if (s->n_out == 0 || s->closing || (ps = peer_slot(h, latest(s), &other)) == NULL ||
	    ps->closing)
		return;
	id = ps->kp[0]->local_id;
	for (unsigned int m = 0; m < s->n_out; m++) {
		struct dp_evt ev = { .type = DP_EVT_CONTROL,
				     .slot = sl_connid_slot(id),
				     .connid = id,
				     .len = s->out[m].len,
				     .msg = s->out[m].msg };

		push_event(other, sl_connid_owner(id), &ev);
	}
	s->n_out = 0;
}

static void
control_carry(void)
{
	for (int i = 0; i < MAXN; i++)
		for (unsigned int l = 0; nodes[i].ctl != NULL && l < LCORES; l++)
			for (unsigned int k = 0; k < SLOTS; k++)
				carry_slot(&nodes[i], &nodes[i].slots[l][k]);
}

static int
ops_command(void *arg, unsigned int lcore, const struct dp_cmd *cmd)
{
	struct hnode *h = arg;
	struct mslot *s;

	if (cmd->type == DP_CMD_RELAY_SET || cmd->type == DP_CMD_RELAY_CLEAR) {
		CU_ASSERT_FATAL(lcore < LCORES && sl_connid_owner(cmd->connid) == lcore &&
				sl_connid_slot(cmd->connid) == cmd->slot && cmd->connid != 0);
		if (cmd->type == DP_CMD_RELAY_SET) {
			h->relay_set++;
			h->last_relay_set = *cmd;
		} else {
			h->relay_clear++;
		}
		return 0;
	}
	CU_ASSERT_FATAL(lcore < LCORES && cmd->slot < SLOTS);
	s = &h->slots[lcore][cmd->slot];
	switch (cmd->type) {
	case DP_CMD_SESSION_OPEN:
		CU_ASSERT_FATAL(!s->open);
		s->open = true;
		s->peer = cmd->peer;
		s->kp[s->n_kp++] = cmd->kp;
		CU_ASSERT_EQUAL(sl_connid_owner(cmd->kp->local_id), lcore);
		CU_ASSERT_EQUAL(sl_connid_slot(cmd->kp->local_id), cmd->slot);
		break;
	case DP_CMD_KEYPAIR_ADD:
		CU_ASSERT_FATAL(s->open);
		CU_ASSERT_EQUAL(sl_connid_slot(cmd->kp->local_id), cmd->slot);
		if (s->n_kp == RTE_DIM(s->kp)) { /* a session keeps its latest keys, as a keyset */
			dp_keypair_destroy(s->kp[0]);
			memmove(s->kp, s->kp + 1, (RTE_DIM(s->kp) - 1) * sizeof(s->kp[0]));
			s->n_kp--;
		}
		s->kp[s->n_kp++] = cmd->kp;
		break;
	case DP_CMD_SESSION_CLOSE:
		CU_ASSERT_FATAL(s->open);
		if (cmd->reason < SL_CLOSE_REASON_COUNT)
			h->closes[cmd->reason]++;
		close_slot(h, lcore, cmd->slot, cmd->reason, false);
		break;
	case DP_CMD_CONTROL_SEND:
		if (h->refuse_control)
			return -ENOBUFS; /* the buffer stays the caller's */
		control_queue(h, s, cmd);
		break;
	default:
		CU_FAIL("unexpected command");
	}
	return 0;
}

static void
ops_note(void *arg, const struct cp_note *n)
{
	struct hnode *h = arg;

	h->notes[n->type]++;
	if (n->type == CP_NOTE_CONNECT_FAILED) {
		h->last_fail = *n;
		snprintf(h->last_fail_reason, sizeof(h->last_fail_reason), "%s", n->reason);
		if (h->n_fail < RTE_DIM(h->fail_at)) {
			h->fail_at[h->n_fail] = now;
			h->fail_retry[h->n_fail++] = n->retry_in_ns;
		}
	}
	if (n->type == CP_NOTE_DISCONNECTED)
		snprintf(h->last_disc_reason, sizeof(h->last_disc_reason), "%s", n->reason);
	if (n->type == CP_NOTE_CONNECTED) {
		CU_ASSERT_FATAL(n->n_addrs <= SL_HS_MAX_ADDRS && (n->n_addrs == 0 || n->addrs));
		h->last_conn = *n;
		memcpy(h->last_conn_pub, n->pub, SL_KEY_LEN);
		memcpy(h->last_conn_addrs, n->addrs, n->n_addrs * sizeof(n->addrs[0]));
		h->last_conn.pub = NULL;
		h->last_conn.addrs = NULL;
		h->last_conn.name = NULL;
		h->last_conn.reason = NULL;
	}
	if (h->greet)
		cp_control_note(&h->cc, n);
	if (h->relay != NULL)
		cp_relay_note(h->relay, n, now);
}

static void
ops_control(void *arg, const uint8_t pub[SL_KEY_LEN], const void *msg, size_t len)
{
	struct hnode *h = arg;

	CU_ASSERT_FATAL(len >= 1 && len <= sizeof(h->ctl_rx));
	h->n_ctl_rx++;
	memcpy(h->ctl_rx_pub, pub, SL_KEY_LEN);
	memcpy(h->ctl_rx, msg, len);
	h->ctl_rx_len = len;
	if (h->greet)
		cp_control_input(&h->cc, pub, msg, len);
	if (h->relay != NULL && cp_relay_msg_type(((const uint8_t *)msg)[0]))
		cp_relay_control(h->relay, pub, msg, len, now);
}

static int
world_control_send(void *arg, const uint8_t pub[SL_KEY_LEN], const void *msg, size_t len)
{
	struct hnode *h = arg;

	return cp_ctl_control_send(h->ctl, pub, msg, len);
}

const struct cp_ctl_ops world_ops = {
	.command = ops_command,
	.send = ops_send,
	.resolve = ops_resolve,
	.note = ops_note,
	.control = ops_control,
};

/* --- nodes ---------------------------------------------------------------------------------- */

static void
node_keys(struct hnode *h)
{
	sl_dh_keygen(h->priv, h->pub);
}

/* Keys such that nodes[0] < nodes[1] < ... (who wins a collision is then known). */
static void
ordered_keys(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		node_keys(&nodes[i]);
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = i + 1; j < n; j++)
			if (memcmp(nodes[j].pub, nodes[i].pub, SL_KEY_LEN) < 0) {
				struct hnode t = nodes[i];

				memcpy(nodes[i].priv, nodes[j].priv, SL_KEY_LEN);
				memcpy(nodes[i].pub, nodes[j].pub, SL_KEY_LEN);
				memcpy(nodes[j].priv, t.priv, SL_KEY_LEN);
				memcpy(nodes[j].pub, t.pub, SL_KEY_LEN);
			}
}

void
add_peer(unsigned int i, unsigned int j)
{
	struct conf_peer *p = &nodes[i].peers[nodes[i].n_peers++];

	snprintf(p->name, sizeof(p->name), "node%u", j);
	memcpy(p->pub, nodes[j].pub, SL_KEY_LEN);
	p->ip = nodes[j].ip;
	p->port = 4789;
	p->persistent = true; /* the configuration's default */
}

void
node_start(unsigned int i, void (*tweak)(struct cp_ctl_config *))
{
	struct hnode *h = &nodes[i];

	cp_ctl_config_defaults(&h->cfg);
	memcpy(h->cfg.hs.static_priv, h->priv, SL_KEY_LEN);
	h->cfg.hs.network_id = NET_ID;
	h->cfg.hs.n_addrs = 1;
	h->cfg.hs.addrs[0].ip = h->ip;
	h->cfg.hs.addrs[0].port = 4789;
	h->cfg.n_lcores = LCORES;
	h->cfg.slots_per_lcore = SLOTS;
	h->cfg.max_sessions = LCORES * SLOTS;
	h->cfg.max_pending_xx = 4;
	h->cfg.backoff_max_ns = 8 * SEC;
	h->cfg.n_peers = h->n_peers;
	h->cfg.peers = h->peers;
	if (tweak != NULL)
		tweak(&h->cfg);
	if (h->greet)
		cp_control_init(&h->cc, world_control_send, h);
	h->ctl = cp_ctl_create(&h->cfg, &world_ops, h, now);
	CU_ASSERT_FATAL(h->ctl != NULL);
	CU_ASSERT_EQUAL(memcmp(cp_ctl_pubkey(h->ctl), h->pub, SL_KEY_LEN), 0);
}

/* Stop a node as a crash would: its control and its sessions vanish without a word. */
void
node_crash(unsigned int i)
{
	struct hnode *h = &nodes[i];

	cp_relay_destroy(h->relay);
	h->relay = NULL;
	cp_ctl_destroy(h->ctl);
	h->ctl = NULL;
	for (unsigned int l = 0; l < LCORES; l++)
		for (unsigned int k = 0; k < SLOTS; k++)
			mslot_free(&h->slots[l][k]);
	evq_drop(h, 0);
}

void
world_restart(void)
{
	for (unsigned int i = 0; i < MAXN; i++) {
		uint8_t priv[SL_KEY_LEN], pub[SL_KEY_LEN];

		if (nodes[i].ctl != NULL)
			node_crash(i);
		memcpy(priv, nodes[i].priv, SL_KEY_LEN);
		memcpy(pub, nodes[i].pub, SL_KEY_LEN);
		memset(&nodes[i], 0, sizeof(nodes[i]));
		memcpy(nodes[i].priv, priv, SL_KEY_LEN);
		memcpy(nodes[i].pub, pub, SL_KEY_LEN);
		nodes[i].ip = 0xc6120001 + i; /* 198.18.0.1 + i */
	}
	n_wire = n_captured = 0;
	now = 5 * SEC;
}

void
world_reset(unsigned int n)
{
	world_restart();
	ordered_keys(n);
}

void
world_end(void)
{
	for (unsigned int i = 0; i < MAXN; i++)
		if (nodes[i].ctl != NULL)
			node_crash(i);
	n_wire = 0;
}

/* The earliest timer of any node, as the last step() saw it. */
static uint64_t next_due = UINT64_MAX;

/* One millisecond of the world: the wire, the dataplane events, the timers. */
void
step(void)
{
	struct wmsg batch[RTE_DIM(wire)];
	unsigned int n = n_wire;

	memcpy(batch, wire, n * sizeof(batch[0]));
	n_wire = 0;
	next_due = UINT64_MAX;
	control_carry();
	for (unsigned int k = 0; k < n; k++) {
		struct hnode *h = &nodes[batch[k].to];

		if (h->ctl != NULL)
			cp_ctl_handshake(h->ctl, &batch[k].from, batch[k].buf, batch[k].len,
					 h->backlog, now, WALL0 + now);
	}
	for (unsigned int i = 0; i < MAXN; i++) {
		struct hnode *h = &nodes[i];

		unsigned int k;

		for (k = 0; h->ctl != NULL && k < h->n_evq; k++) {
			const struct dp_evt *ev = &h->evq[k].ev;

			if (ev->type == DP_EVT_CLOSED)
				mslot_free(&h->slots[h->evq[k].lcore][ev->slot]);
			cp_ctl_event(h->ctl, h->evq[k].lcore, ev, now, WALL0 + now);
			if (ev->type == DP_EVT_CONTROL)
				free(ev->msg);
		}
		evq_drop(h, k); /* all delivered, or the node is down */
		if (h->relay != NULL)
			cp_relay_tick(h->relay, now);
		if (h->ctl != NULL)
			next_due = RTE_MIN(next_due, cp_ctl_tick(h->ctl, now, WALL0 + now));
	}
	now += MS;
}

void
run_for(uint64_t ns)
{
	for (uint64_t end = now + ns; now < end;)
		step();
}

static bool
events_queued(void)
{
	for (unsigned int i = 0; i < MAXN; i++)
		if (nodes[i].n_evq > 0)
			return true;
	return false;
}

void
leap_for(uint64_t ns)
{
	for (uint64_t end = now + ns; now < end;) {
		uint64_t due;

		step();
		control_carry(); /* (what the next step would carry first) queued events count */
		due = RTE_MIN(next_due, end);
		if (n_wire == 0 && !events_queued() && due > now)
			now = due;
	}
}

/* --- a party outside the world -------------------------------------------------------------- */

void
dialer_init(struct dialer *d, const uint8_t *priv, uint64_t network)
{
	struct cp_hs_config c = { .network_id = network,
				  .tstamp_capacity = 16,
				  .version = SL_PROTO_VERSION,
				  .min_version = SL_PROTO_MIN_VERSION,
				  .cookie_max_age_ns = SL_COOKIE_ROTATE_NS };

	if (priv != NULL)
		memcpy(c.static_priv, priv, SL_KEY_LEN);
	else
		sl_dh_keygen(c.static_priv, d->pub);
	d->ctx = cp_hs_ctx_create(&c);
	d->p = aligned_alloc(64, RTE_ALIGN_CEIL(sizeof(*d->p), 64));
	CU_ASSERT_FATAL(d->ctx != NULL && d->p != NULL);
	memcpy(d->pub, cp_hs_ctx_pubkey(d->ctx), SL_KEY_LEN);
	memset(d->p, 0, sizeof(*d->p));
	d->ep = (struct cp_endpoint){ .ip = 0xc6130063, .udp_port = 5000 }; /* no node there */
	sodium_memzero(c.static_priv, sizeof(c.static_priv));
}

void
dialer_fini(struct dialer *d)
{
	cp_hs_pending_wipe(d->p);
	free(d->p);
	cp_hs_ctx_destroy(d->ctx);
}

/* --- checks --------------------------------------------------------------------------------- */

int
find_cb(void *arg, const struct cp_node_info *info)
{
	struct find *f = arg;

	f->count++;
	if (memcmp(info->pub, f->pub, SL_KEY_LEN) == 0) {
		f->info = *info;
		f->found = true;
	}
	return 0;
}

/* What node i knows of node j. */
struct find
view(unsigned int i, unsigned int j)
{
	struct find f = { .pub = nodes[j].pub };

	cp_ctl_foreach_node(nodes[i].ctl, find_cb, &f);
	return f;
}

bool
seal_open(struct dp_keypair *a, struct dp_keypair *b)
{
	uint8_t plain[64], pkt[64 + DP_DATA_OVERHEAD], back[64];
	IMB_MGR *mgr = sl_aead_thread_mgr();
	struct dp_data_rx rx;
	int n;

	randombytes_buf(plain, sizeof(plain));
	n = dp_keypair_seal(mgr, a, now, limits(), plain, sizeof(plain), pkt);
	if (n <= 0 || dp_data_rx_decode(pkt, (size_t)n, &rx) != 0)
		return false;
	return dp_keypair_open(mgr, b, now, limits(), &rx, back) == (int)sizeof(back) &&
	       memcmp(plain, back, sizeof(back)) == 0;
}

/* i and j hold one live session with each other whose latest keys work both ways. */
bool
connected(unsigned int i, unsigned int j)
{
	struct find a = view(i, j), b = view(j, i);
	struct mslot *sa, *sb;

	if (!a.found || !b.found || a.info.state != CP_NODE_CONNECTED ||
	    b.info.state != CP_NODE_CONNECTED || a.info.connid != b.info.remote_id ||
	    b.info.connid != a.info.remote_id || a.info.initiator == b.info.initiator)
		return false;
	sa = &nodes[i].slots[sl_connid_owner(a.info.connid)][sl_connid_slot(a.info.connid)];
	sb = &nodes[j].slots[sl_connid_owner(b.info.connid)][sl_connid_slot(b.info.connid)];
	if (!sa->open || !sb->open || latest(sa)->local_id != a.info.connid ||
	    latest(sb)->local_id != b.info.connid)
		return false;
	return seal_open(latest(sa), latest(sb)) && seal_open(latest(sb), latest(sa));
}

unsigned int
open_slots(const struct hnode *h)
{
	unsigned int n = 0;

	for (unsigned int l = 0; l < LCORES; l++)
		for (unsigned int k = 0; k < SLOTS; k++)
			n += h->slots[l][k].open;
	return n;
}

const struct cp_ctl_stats *
stats(unsigned int i)
{
	return cp_ctl_stats(nodes[i].ctl);
}
