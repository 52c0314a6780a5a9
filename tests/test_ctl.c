/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: control-thread tests — several cp_ctl instances joined by an in-memory network and a
 * model of the dataplane (session slots holding the keypairs the control posts), in virtual
 * time: dialling, simultaneous dials, one-sided configuration, timeouts and back-off, rekeys,
 * restarted peers, refusals, cookies, XX responders, hostile messages, slot exhaustion and
 * shutdown. Every session is checked end to end: both sides' ids match and a packet sealed by
 * one opens at the other.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cp_ctl.h"
#include "cp_dh.h"
#include "dp_aead.h"
#include "dp_keypair.h"
#include "sl_eal_test.h"

#define MS     1000000ull
#define SEC    1000000000ull
#define WALL0  1700000000000000000ull
#define MAXN   4
#define LCORES 2
#define SLOTS  8
#define NET_ID 0x5eed5eed5eed5eedull

static struct rte_mempool *pool;

/* --- the model dataplane --------------------------------------------------------------------- */

struct mslot {
	bool open;
	bool closing;
	uint16_t peer;
	uint16_t close_reason;
	unsigned int n_kp;
	struct dp_keypair *kp[8];
};

struct hnode {
	struct cp_ctl *ctl;
	struct cp_ctl_config cfg;
	uint8_t priv[SL_KEY_LEN], pub[SL_KEY_LEN];
	uint32_t ip;
	unsigned int n_peers;
	struct conf_peer peers[MAXN];
	struct mslot slots[LCORES][SLOTS];
	struct {
		struct dp_evt ev;
		unsigned int lcore;
	} evq[64];
	unsigned int n_evq;
	bool offline;	  /* everything sent to it is lost */
	uint32_t backlog; /* handshakes "queued" (admission under load) */
	unsigned int notes[CP_NOTE_UNRESPONSIVE + 1];
	struct cp_note last_fail;
	char last_fail_reason[48];
	char last_disc_reason[48];
	uint64_t fail_at[16], fail_retry[16];
	unsigned int n_fail;
	unsigned int closes[SL_CLOSE_REASON_COUNT];
};

static struct hnode nodes[MAXN];
static uint64_t now;

/* Messages on the wire, delivered in order at the next pump step. */
struct wmsg {
	int to; /* node index, or -1: captured for the test (an address no node has) */
	struct cp_endpoint from;
	size_t len;
	uint8_t buf[256];
};

static struct wmsg wire[512];
static unsigned int n_wire;
static struct wmsg captured[16];
static unsigned int n_captured;

static const struct dp_key_limits *
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
			w->len = len;
			memcpy(w->buf, msg, len);
		}
		return;
	}
	if (nodes[dst].offline || n_wire == RTE_DIM(wire))
		return;
	w = &wire[n_wire++];
	w->to = dst;
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

static void
push_event(struct hnode *h, unsigned int lcore, const struct dp_evt *ev)
{
	CU_ASSERT_FATAL(h->n_evq < RTE_DIM(h->evq));
	h->evq[h->n_evq].ev = *ev;
	h->evq[h->n_evq].lcore = lcore;
	h->n_evq++;
}

static void
mslot_free(struct mslot *s)
{
	for (unsigned int i = 0; i < s->n_kp; i++)
		dp_keypair_destroy(s->kp[i]);
	memset(s, 0, sizeof(*s));
}

static struct dp_keypair *
latest(const struct mslot *s)
{
	return s->n_kp > 0 ? s->kp[s->n_kp - 1] : NULL;
}

static bool seal_open(struct dp_keypair *a, struct dp_keypair *b);

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
static void
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

static int
ops_command(void *arg, unsigned int lcore, const struct dp_cmd *cmd)
{
	struct hnode *h = arg;
	struct mslot *s;

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
		CU_ASSERT_FATAL(s->open && s->n_kp < RTE_DIM(s->kp));
		CU_ASSERT_EQUAL(sl_connid_slot(cmd->kp->local_id), cmd->slot);
		s->kp[s->n_kp++] = cmd->kp;
		break;
	case DP_CMD_SESSION_CLOSE:
		CU_ASSERT_FATAL(s->open);
		if (cmd->reason < SL_CLOSE_REASON_COUNT)
			h->closes[cmd->reason]++;
		close_slot(h, lcore, cmd->slot, cmd->reason, false);
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
}

static const struct cp_ctl_ops ops = {
	.command = ops_command,
	.send = ops_send,
	.resolve = ops_resolve,
	.note = ops_note,
};

/* --- nodes ---------------------------------------------------------------------------------- */

static void
node_keys(struct hnode *h)
{
	cp_dh_keygen(h->priv, h->pub);
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

static void
add_peer(unsigned int i, unsigned int j)
{
	struct conf_peer *p = &nodes[i].peers[nodes[i].n_peers++];

	snprintf(p->name, sizeof(p->name), "node%u", j);
	memcpy(p->pub, nodes[j].pub, SL_KEY_LEN);
	p->ip = nodes[j].ip;
	p->port = 4789;
}

static void
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
	h->ctl = cp_ctl_create(&h->cfg, &ops, h, now);
	CU_ASSERT_FATAL(h->ctl != NULL);
	CU_ASSERT_EQUAL(memcmp(cp_ctl_pubkey(h->ctl), h->pub, SL_KEY_LEN), 0);
}

/* Stop a node as a crash would: its control and its sessions vanish without a word. */
static void
node_crash(unsigned int i)
{
	struct hnode *h = &nodes[i];

	cp_ctl_destroy(h->ctl);
	h->ctl = NULL;
	for (unsigned int l = 0; l < LCORES; l++)
		for (unsigned int k = 0; k < SLOTS; k++)
			mslot_free(&h->slots[l][k]);
	h->n_evq = 0;
}

static void
world_reset(unsigned int n)
{
	for (unsigned int i = 0; i < MAXN; i++) {
		if (nodes[i].ctl != NULL)
			node_crash(i);
		memset(&nodes[i], 0, sizeof(nodes[i]));
		nodes[i].ip = 0xc6120001 + i; /* 198.18.0.1 + i */
	}
	ordered_keys(n);
	n_wire = n_captured = 0;
	now = 5 * SEC;
}

static void
world_end(void)
{
	for (unsigned int i = 0; i < MAXN; i++)
		if (nodes[i].ctl != NULL)
			node_crash(i);
	n_wire = 0;
}

/* One millisecond of the world: the wire, the dataplane events, the timers. */
static void
step(void)
{
	struct wmsg batch[RTE_DIM(wire)];
	unsigned int n = n_wire;

	memcpy(batch, wire, n * sizeof(batch[0]));
	n_wire = 0;
	for (unsigned int k = 0; k < n; k++) {
		struct hnode *h = &nodes[batch[k].to];

		if (h->ctl != NULL)
			cp_ctl_handshake(h->ctl, &batch[k].from, batch[k].buf, batch[k].len,
					 h->backlog, now, WALL0 + now);
	}
	for (unsigned int i = 0; i < MAXN; i++) {
		struct hnode *h = &nodes[i];

		for (unsigned int k = 0; h->ctl != NULL && k < h->n_evq; k++) {
			const struct dp_evt *ev = &h->evq[k].ev;

			if (ev->type == DP_EVT_CLOSED)
				mslot_free(&h->slots[h->evq[k].lcore][ev->slot]);
			cp_ctl_event(h->ctl, h->evq[k].lcore, ev, now, WALL0 + now);
		}
		h->n_evq = 0;
		if (h->ctl != NULL)
			cp_ctl_tick(h->ctl, now, WALL0 + now);
	}
	now += MS;
}

static void
run_for(uint64_t ns)
{
	for (uint64_t end = now + ns; now < end;)
		step();
}

/* --- checks --------------------------------------------------------------------------------- */

struct find {
	const uint8_t *pub;
	struct cp_node_info info;
	bool found;
	unsigned int count;
};

static int
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
static struct find
view(unsigned int i, unsigned int j)
{
	struct find f = { .pub = nodes[j].pub };

	cp_ctl_foreach_node(nodes[i].ctl, find_cb, &f);
	return f;
}

static bool
seal_open(struct dp_keypair *a, struct dp_keypair *b)
{
	uint8_t plain[64], pkt[64 + DP_DATA_OVERHEAD], back[64];
	IMB_MGR *mgr = dp_aead_thread_mgr();
	int n;

	randombytes_buf(plain, sizeof(plain));
	n = dp_keypair_seal(mgr, a, now, limits(), plain, sizeof(plain), pkt);
	if (n <= 0)
		return false;
	return dp_keypair_open(mgr, b, now, limits(), pkt, (size_t)n, back) == (int)sizeof(back) &&
	       memcmp(plain, back, sizeof(back)) == 0;
}

/* i and j hold one live session with each other whose latest keys work both ways. */
static bool
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

static unsigned int
open_slots(const struct hnode *h)
{
	unsigned int n = 0;

	for (unsigned int l = 0; l < LCORES; l++)
		for (unsigned int k = 0; k < SLOTS; k++)
			n += h->slots[l][k].open;
	return n;
}

static const struct cp_ctl_stats *
stats(unsigned int i)
{
	return cp_ctl_stats(nodes[i].ctl);
}

/* --- tests ---------------------------------------------------------------------------------- */

static void
test_dial(void)
{
	world_reset(2);
	add_peer(0, 1);
	node_start(0, NULL);
	node_start(1, NULL); /* node1 does not know node0: a node that dials it is welcome */
	run_for(300 * MS);
	CU_ASSERT(connected(0, 1));
	CU_ASSERT_EQUAL(view(0, 1).info.peer, 0);
	CU_ASSERT_EQUAL(view(1, 0).info.peer, -1);
	CU_ASSERT(view(0, 1).info.initiator);
	CU_ASSERT_STRING_EQUAL(view(0, 1).info.name, "node1");
	CU_ASSERT(stats(0)->sessions_opened == 1 && stats(1)->sessions_opened == 1);
	CU_ASSERT(stats(0)->sessions_live == 1 && stats(1)->sessions_live == 1);
	CU_ASSERT(nodes[0].notes[CP_NOTE_CONNECTED] == 1 && nodes[1].notes[CP_NOTE_CONNECTED] == 1);
	CU_ASSERT_EQUAL(nodes[1].slots[0][0].peer + nodes[1].slots[1][0].peer, DP_PEER_NONE);
	/* nothing more happens on a quiet, connected pair */
	run_for(3 * SEC);
	CU_ASSERT_EQUAL(stats(0)->initiations_sent, 1);
	CU_ASSERT(connected(0, 1));
	world_end();
}

/* Both dial while neither hears the other, then the network heals: one session, initiated by
 * the lower key, whichever retransmission arrives first. */
static void
test_simultaneous_dials(void)
{
	for (unsigned int round = 0; round < 8; round++) {
		world_reset(2);
		add_peer(0, 1);
		add_peer(1, 0);
		nodes[0].offline = nodes[1].offline = true;
		node_start(0, NULL);
		node_start(1, NULL);
		run_for(200 * MS);
		CU_ASSERT(view(0, 1).info.state == CP_NODE_DIALING &&
			  view(1, 0).info.state == CP_NODE_DIALING);
		nodes[0].offline = nodes[1].offline = false;
		run_for(3 * SEC);
		CU_ASSERT(connected(0, 1));
		CU_ASSERT(view(0, 1).info.initiator); /* node0 has the lower key */
		CU_ASSERT_EQUAL(open_slots(&nodes[0]), 1);
		CU_ASSERT_EQUAL(open_slots(&nodes[1]), 1);
		CU_ASSERT_EQUAL(stats(0)->sessions_opened + stats(1)->sessions_opened, 2);
		CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), 1);
		CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[1].ctl), 1);
		world_end();
	}
}

static void
small_backoff(struct cp_ctl_config *c)
{
	c->backoff_min_ns = SEC;
	c->backoff_max_ns = 8 * SEC;
}

static void
test_timeout_and_backoff(void)
{
	world_reset(2);
	add_peer(0, 1);
	nodes[1].offline = true;
	node_start(0, small_backoff);
	node_start(1, NULL);
	run_for(70 * SEC);
	CU_ASSERT_FATAL(nodes[0].n_fail >= 6);
	CU_ASSERT_STRING_EQUAL(nodes[0].last_fail_reason, "handshake_timeout");
	for (unsigned int k = 0; k < 6; k++) {
		uint64_t want = RTE_MIN(SEC << k, 8 * SEC);

		CU_ASSERT(nodes[0].fail_retry[k] >= want - want / 4 &&
			  nodes[0].fail_retry[k] < want + want / 4);
		if (k > 0) /* the next failure: back-off, then a 5 s attempt */
			CU_ASSERT_EQUAL(nodes[0].fail_at[k] - nodes[0].fail_at[k - 1],
					nodes[0].fail_retry[k - 1] / MS * MS + 5 * SEC +
						(nodes[0].fail_retry[k - 1] % MS ? MS : 0));
	}
	CU_ASSERT_EQUAL(view(0, 1).info.attempts, nodes[0].n_fail);
	/* each 5 s attempt resends every second or so: 4..7 initiations */
	CU_ASSERT(stats(0)->initiations_sent >= 4 * nodes[0].n_fail &&
		  stats(0)->initiations_sent <= 7 * (nodes[0].n_fail + 1));
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), view(0, 1).info.state == CP_NODE_DIALING);
	/* it comes back: the next attempt connects and the failure count resets */
	nodes[1].offline = false;
	run_for(15 * SEC);
	CU_ASSERT(connected(0, 1));
	CU_ASSERT_EQUAL(view(0, 1).info.attempts, 0);
	world_end();
}

static void
rekey_event(unsigned int i, unsigned int j)
{
	uint32_t id = view(i, j).info.connid;
	struct dp_evt ev = { .type = DP_EVT_REKEY, .slot = sl_connid_slot(id) };

	push_event(&nodes[i], sl_connid_owner(id), &ev);
}

static void
test_rekey(void)
{
	struct find before0, before1;

	world_reset(2);
	add_peer(0, 1);
	node_start(0, NULL);
	node_start(1, NULL);
	run_for(300 * MS);
	CU_ASSERT_FATAL(connected(0, 1));
	before0 = view(0, 1);
	before1 = view(1, 0);
	for (unsigned int k = 1; k <= 3; k++) {
		rekey_event(0, 1);
		run_for(100 * MS);
		CU_ASSERT(connected(0, 1));
		/* the same session: same slot, next generation, no new session */
		CU_ASSERT_EQUAL(view(0, 1).info.connid >> 8, before0.info.connid >> 8);
		CU_ASSERT_EQUAL(view(0, 1).info.connid & 0xff, (before0.info.connid + k) & 0xff);
		CU_ASSERT_EQUAL(view(1, 0).info.connid >> 8, before1.info.connid >> 8);
		CU_ASSERT_EQUAL(view(1, 0).info.rekeys, k);
	}
	CU_ASSERT(stats(0)->sessions_opened == 1 && stats(1)->sessions_opened == 1);
	CU_ASSERT(stats(0)->rekeys == 3 && stats(1)->rekeys == 3);
	CU_ASSERT_EQUAL(nodes[0].notes[CP_NOTE_REKEYED], 3);
	/* the responder may rekey too (by message count) */
	rekey_event(1, 0);
	run_for(100 * MS);
	CU_ASSERT(connected(0, 1));
	CU_ASSERT(view(1, 0).info.initiator);
	CU_ASSERT_EQUAL(stats(0)->sessions_opened, 1);
	world_end();
}

/* A rekey that reaches a restarted peer: it does not know the session, so a new one starts. */
static void
test_rekey_to_restarted_peer(void)
{
	world_reset(2);
	add_peer(0, 1);
	node_start(0, NULL);
	node_start(1, NULL);
	run_for(300 * MS);
	CU_ASSERT_FATAL(connected(0, 1));
	node_crash(1);
	node_start(1, NULL);
	rekey_event(0, 1);
	run_for(300 * MS);
	CU_ASSERT(connected(0, 1));
	CU_ASSERT_EQUAL(stats(0)->rekeys_refused, 1);
	CU_ASSERT_EQUAL(stats(0)->replaced, 1);
	CU_ASSERT_EQUAL(nodes[0].closes[SL_CLOSE_REPLACED], 1);
	CU_ASSERT_EQUAL(stats(0)->sessions_opened, 2);
	CU_ASSERT_EQUAL(open_slots(&nodes[0]), 1);
	/* the restarted node holds exactly one session: the one the rekey's answer left open
	 * was replaced by the fresh dial (same initiator: the newer wins) */
	CU_ASSERT_EQUAL(open_slots(&nodes[1]), 1);
	world_end();
}

/* A restarted peer dials again. While the old session is young and was initiated by the lower
 * key, the new initiation is taken for a crossed one and ignored; once it is old, the new
 * session replaces it. */
static void
test_restarted_peer_dials(void)
{
	world_reset(2);
	add_peer(0, 1);
	node_start(0, NULL);
	node_start(1, NULL);
	run_for(500 * MS);
	CU_ASSERT_FATAL(connected(0, 1));
	CU_ASSERT_FATAL(view(0, 1).info.initiator);
	node_crash(1);
	add_peer(1, 0); /* comes back configured to dial node0 */
	node_start(1, NULL);
	run_for(2 * SEC); /* node1 dials; node0's session is young: ignored */
	CU_ASSERT(stats(0)->duplicates >= 1);
	CU_ASSERT_EQUAL(stats(0)->replaced, 0);
	run_for(12 * SEC); /* node1 times out, backs off, dials again: replaced */
	CU_ASSERT(connected(0, 1));
	CU_ASSERT_EQUAL(stats(0)->replaced, 1);
	CU_ASSERT_STRING_EQUAL(nodes[0].last_disc_reason, "replaced");
	CU_ASSERT_EQUAL(open_slots(&nodes[0]), 1);
	CU_ASSERT_EQUAL(open_slots(&nodes[1]), 1);
	world_end();
}

static void
other_network(struct cp_ctl_config *c)
{
	c->hs.network_id = NET_ID + 1;
}

static void
test_wrong_network(void)
{
	world_reset(2);
	add_peer(0, 1);
	node_start(0, NULL);
	node_start(1, other_network);
	run_for(2 * SEC);
	CU_ASSERT_STRING_EQUAL(nodes[0].last_fail_reason, "wrong_network");
	CU_ASSERT(stats(0)->refused_by_reason[CP_HS_NETWORK] >= 1);
	CU_ASSERT(stats(1)->refused_by_reason[CP_HS_NETWORK] >= 1);
	CU_ASSERT(stats(0)->sessions_opened == 0 && stats(1)->sessions_opened == 0);
	CU_ASSERT(cp_ctl_sessions(nodes[0].ctl) <= 1 && cp_ctl_sessions(nodes[1].ctl) == 0);
	world_end();
}

static void
test_cookie_under_load(void)
{
	world_reset(2);
	add_peer(0, 1);
	node_start(0, NULL);
	node_start(1, NULL);
	nodes[1].backlog = 1000; /* well above the under-load threshold */
	run_for(300 * MS);
	CU_ASSERT(connected(0, 1));
	CU_ASSERT_EQUAL(stats(0)->cookies_received, 1);
	CU_ASSERT_EQUAL(cp_ctl_admission_stats(nodes[1].ctl)->cookies_sent, 1);
	CU_ASSERT_EQUAL(stats(0)->initiations_sent, 2); /* once, then with the cookie */
	world_end();
}

/* --- XX responder --------------------------------------------------------------------------- */

struct xx_dialer {
	struct cp_hs_ctx *ctx;
	struct cp_hs_pending *p;
	uint8_t pub[SL_KEY_LEN];
	struct cp_endpoint ep;
};

static void
xx_dialer_init(struct xx_dialer *d)
{
	struct cp_hs_config c = { .network_id = NET_ID,
				  .tstamp_capacity = 16,
				  .version = SL_PROTO_VERSION,
				  .min_version = SL_PROTO_MIN_VERSION,
				  .cookie_max_age_ns = SL_COOKIE_ROTATE_NS };

	cp_dh_keygen(c.static_priv, d->pub);
	d->ctx = cp_hs_ctx_create(&c);
	d->p = aligned_alloc(64, RTE_ALIGN_CEIL(sizeof(*d->p), 64));
	CU_ASSERT_FATAL(d->ctx != NULL && d->p != NULL);
	d->ep = (struct cp_endpoint){ .ip = 0xc6130063, .udp_port = 5000 }; /* no node there */
}

static void
xx_dialer_fini(struct xx_dialer *d)
{
	cp_hs_pending_wipe(d->p);
	free(d->p);
	cp_hs_ctx_destroy(d->ctx);
}

static void
test_xx_responder(void)
{
	struct xx_dialer d;
	struct sl_msg_xx_init m1;
	struct sl_msg_xx_finish m3;
	struct cp_hs_session hs;
	struct dp_keypair *mine;
	struct find f;

	world_reset(1);
	node_start(0, NULL);
	xx_dialer_init(&d);
	/* an XX initiation that is never finished holds a slot until the handshake timeout */
	CU_ASSERT_FATAL(cp_hs_xx_start(d.ctx, d.p, SL_SUITE_AESGCM_SHA256, 77, NULL, now, &m1) ==
			0);
	cp_ctl_handshake(nodes[0].ctl, &d.ep, (uint8_t *)&m1, sizeof(m1), 0, now, WALL0 + now);
	CU_ASSERT_EQUAL(n_captured, 1);
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), 1);
	run_for(6 * SEC);
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), 0);
	/* a complete one opens a session with a node it did not know */
	n_captured = 0;
	CU_ASSERT_FATAL(
		cp_hs_xx_start(d.ctx, d.p, SL_SUITE_CHACHAPOLY_BLAKE2B, 78, NULL, now, &m1) == 0);
	cp_ctl_handshake(nodes[0].ctl, &d.ep, (uint8_t *)&m1, sizeof(m1), 0, now, WALL0 + now);
	CU_ASSERT_FATAL(n_captured == 1);
	CU_ASSERT_FATAL(cp_hs_xx_finish(d.ctx, d.p, captured[0].buf, captured[0].len, WALL0 + now,
					NULL, now, &m3, &hs) == 0);
	cp_ctl_handshake(nodes[0].ctl, &d.ep, (uint8_t *)&m3, sizeof(m3), 0, now, WALL0 + now);
	f = (struct find){ .pub = d.pub };
	cp_ctl_foreach_node(nodes[0].ctl, find_cb, &f);
	CU_ASSERT_FATAL(f.found && f.info.state == CP_NODE_CONNECTED);
	CU_ASSERT_EQUAL(f.info.connid, hs.remote_id);
	mine = dp_keypair_create(dp_aead_thread_mgr(), cp_hs_suite_aead(hs.suite), hs.send_key,
				 hs.recv_key, hs.local_id, hs.remote_id, true, now);
	CU_ASSERT_FATAL(mine != NULL);
	CU_ASSERT(seal_open(mine, latest(&nodes[0].slots[sl_connid_owner(f.info.connid)]
							[sl_connid_slot(f.info.connid)])));
	dp_keypair_destroy(mine);
	cp_hs_session_wipe(&hs);
	/* a replayed finishing message finds no handshake */
	cp_ctl_handshake(nodes[0].ctl, &d.ep, (uint8_t *)&m3, sizeof(m3), 0, now, WALL0 + now);
	CU_ASSERT_EQUAL(stats(0)->unmatched, 1);
	CU_ASSERT_EQUAL(stats(0)->sessions_opened, 1);
	xx_dialer_fini(&d);
	world_end();
}

/* --- hostile input -------------------------------------------------------------------------- */

/* Every single-bit flip of the answer reaches the dialer before the answer itself: none is
 * accepted, none cancels the dial, and the real answer still completes it. */
static void
test_damaged_answers(void)
{
	struct wmsg answer;
	unsigned int flips = 0;

	world_reset(2);
	add_peer(0, 1);
	node_start(0, NULL);
	node_start(1, NULL);
	while (n_wire == 0 || wire[0].to != 0) /* until node1's answer is on the wire */
		step();
	answer = wire[0];
	n_wire = 0;
	CU_ASSERT_FATAL(answer.buf[0] == SL_MSG_IK_RESP);
	for (size_t i = 0; i < answer.len * 8; i++) {
		struct wmsg bad = answer;

		bad.buf[i / 8] ^= (uint8_t)(1u << (i % 8));
		cp_ctl_handshake(nodes[0].ctl, &bad.from, bad.buf, bad.len, 0, now, WALL0 + now);
		flips++;
	}
	CU_ASSERT_EQUAL(stats(0)->sessions_opened, 0);
	CU_ASSERT_EQUAL(stats(0)->refused + stats(0)->unmatched, flips);
	CU_ASSERT_EQUAL(view(0, 1).info.state, CP_NODE_DIALING);
	cp_ctl_handshake(nodes[0].ctl, &answer.from, answer.buf, answer.len, 0, now, WALL0 + now);
	CU_ASSERT(connected(0, 1));
	world_end();
}

/* Random bytes under every message type, of every length up to 255: counted, never a session,
 * never a crash; the pair still connects afterwards. */
static void
test_garbage(void)
{
	static const uint8_t types[] = { 0,
					 SL_MSG_IK_INIT,
					 SL_MSG_IK_RESP,
					 SL_MSG_COOKIE,
					 SL_MSG_DATA,
					 SL_MSG_XX_INIT,
					 SL_MSG_XX_RESP,
					 SL_MSG_XX_FINISH,
					 8,
					 255 };
	struct cp_endpoint from = { .ip = 0xc6130001, .udp_port = 1 };
	uint8_t buf[256];

	world_reset(2);
	add_peer(0, 1);
	node_start(0, NULL);
	node_start(1, NULL);
	for (unsigned int t = 0; t < RTE_DIM(types); t++)
		for (size_t len = 0; len < sizeof(buf); len++) {
			randombytes_buf(buf, sizeof(buf));
			buf[0] = types[t];
			from.ip++; /* a new source each time: past the rate limit */
			cp_ctl_handshake(nodes[1].ctl, &from, buf, len, 0, now, WALL0 + now);
		}
	CU_ASSERT_EQUAL(stats(1)->sessions_opened, 0);
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[1].ctl), 0);
	CU_ASSERT_EQUAL(n_captured, 0); /* nothing answered: no mac1 was valid */
	run_for(300 * MS);
	CU_ASSERT(connected(0, 1));
	world_end();
}

/* --- session ends ----------------------------------------------------------------------------- */

static void
test_closed_sessions(void)
{
	struct find f;

	world_reset(2);
	add_peer(0, 1);
	node_start(0, NULL);
	node_start(1, NULL);
	run_for(300 * MS);
	CU_ASSERT_FATAL(connected(0, 1));
	/* node1's engine gives up on the session (idle): both sides hear of it */
	f = view(1, 0);
	close_slot(&nodes[1], sl_connid_owner(f.info.connid), sl_connid_slot(f.info.connid),
		   SL_CLOSE_IDLE, false);
	step();
	CU_ASSERT_STRING_EQUAL(nodes[0].last_disc_reason, "idle_timeout");
	CU_ASSERT_EQUAL(view(0, 1).info.state, CP_NODE_WAITING);
	CU_ASSERT(!view(1, 0).found); /* not configured: forgotten */
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), 0);
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[1].ctl), 0);
	/* the configured side dials again after about a second */
	run_for(700 * MS);
	CU_ASSERT_EQUAL(view(0, 1).info.state, CP_NODE_WAITING);
	run_for(700 * MS);
	CU_ASSERT(connected(0, 1));
	CU_ASSERT_EQUAL(view(0, 1).info.connects, 2);
	CU_ASSERT_EQUAL(view(0, 1).info.disconnects, 1);
	world_end();
}

static void
one_session(struct cp_ctl_config *c)
{
	c->max_sessions = 1;
}

static void
test_no_free_slot(void)
{
	world_reset(3);
	add_peer(0, 2);
	add_peer(1, 2);
	node_start(0, NULL);
	node_start(1, NULL);
	node_start(2, one_session);
	run_for(7 * SEC);
	CU_ASSERT(connected(0, 2) != connected(1, 2));
	CU_ASSERT(stats(2)->no_slot >= 1);
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[2].ctl), 1);
	CU_ASSERT_STRING_EQUAL(nodes[connected(0, 2) ? 1 : 0].last_fail_reason,
			       "handshake_timeout");
	world_end();
}

static void
test_shutdown(void)
{
	uint64_t sent;

	world_reset(3);
	add_peer(0, 1);
	add_peer(0, 2);
	node_start(0, NULL);
	node_start(1, NULL);
	node_start(2, NULL);
	run_for(300 * MS);
	CU_ASSERT_FATAL(connected(0, 1) && connected(0, 2));
	cp_ctl_close_all(nodes[0].ctl, now);
	CU_ASSERT_EQUAL(nodes[0].closes[SL_CLOSE_SHUTDOWN], 2);
	step();
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), 0);
	CU_ASSERT_EQUAL(nodes[0].notes[CP_NOTE_DISCONNECTED], 2);
	CU_ASSERT_STRING_EQUAL(nodes[1].last_disc_reason, "shutdown");
	sent = stats(0)->initiations_sent;
	run_for(5 * SEC); /* stopping: no new dial */
	CU_ASSERT_EQUAL(stats(0)->initiations_sent, sent);
	CU_ASSERT_EQUAL(open_slots(&nodes[0]), 0);
	world_end();
}

static void
test_bad_config(void)
{
	struct cp_ctl_config c;
	uint8_t pub[SL_KEY_LEN];

	cp_ctl_config_defaults(&c);
	cp_dh_keygen(c.hs.static_priv, pub);
	c.n_lcores = 0;
	CU_ASSERT(cp_ctl_create(&c, &ops, NULL, 0) == NULL && errno == EINVAL);
	c.n_lcores = 1;
	c.slots_per_lcore = SL_CONNID_MAX_SLOTS + 1;
	CU_ASSERT(cp_ctl_create(&c, &ops, NULL, 0) == NULL && errno == EINVAL);
	c.slots_per_lcore = 4;
	c.handshake_timeout_ns = c.retry_ns - 1;
	CU_ASSERT(cp_ctl_create(&c, &ops, NULL, 0) == NULL && errno == EINVAL);
	c.handshake_timeout_ns = 5 * SEC;
	c.suite = 9;
	CU_ASSERT(cp_ctl_create(&c, &ops, NULL, 0) == NULL && errno == EINVAL);
}

static CU_TestInfo cases[] = {
	{ "dial a peer that does not know us", test_dial },
	{ "simultaneous dials: one session, the lower key's", test_simultaneous_dials },
	{ "unreachable: timeout, back-off doubling to the cap, recovery",
	  test_timeout_and_backoff },
	{ "rekeys keep the session (either side)", test_rekey },
	{ "rekey to a restarted peer: a new session", test_rekey_to_restarted_peer },
	{ "restarted peer dials: young kept, old replaced", test_restarted_peer_dials },
	{ "wrong network: refused with the reason", test_wrong_network },
	{ "under load: cookie round trip", test_cookie_under_load },
	{ "XX responder: session, expiry, replay", test_xx_responder },
	{ "damaged answers change nothing", test_damaged_answers },
	{ "random bytes of every type and length", test_garbage },
	{ "closed sessions: configured redial, others forgotten", test_closed_sessions },
	{ "every slot taken: refused, counted", test_no_free_slot },
	{ "shutdown closes every session, no redial", test_shutdown },
	{ "bad configuration refused", test_bad_config },
	CU_TEST_INFO_NULL,
};

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	return sl_eal_test_main("ctl", cases, &pool);
}
