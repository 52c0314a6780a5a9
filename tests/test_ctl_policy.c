/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the peer policy of the control thread (cp_ctl_config.peers_only, cp_ctl_policy.c) —
 * cp_ctl instances in the in-memory world of ctl_world.h. With peers_only a node answers only
 * its configured peers, the keys of its inbound allow-list, and nodes it dials or is in session
 * with: an unknown node's IK initiation is refused once read (reason `policy`, no slot, no node,
 * no CONNECTED note, nothing sent back), its XX handshake at the finishing message (the slot
 * held for it given back at once, not at the timeout), its resumption without even a reject.
 * Without peers_only the same nodes are answered, as before the option existed.
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "cp_ctl.h"
#include "ctl_world.h"
#include "sl_eal_test.h"

#define PORT 4789

static struct rte_mempool *pool;
static uint8_t allow[1][SL_KEY_LEN]; /* node 1's inbound allow-list, when it has one */

static void
peers_only(struct cp_ctl_config *c)
{
	c->peers_only = true;
}

static void
peers_only_allow(struct cp_ctl_config *c)
{
	c->peers_only = true;
	c->n_inbound_allow = 1;
	c->inbound_allow = (const uint8_t(*)[SL_KEY_LEN])allow;
}

/* Node 1 took nothing for node 0: no slot, no handshake waiting, no node, no CONNECTED. */
static void
assert_nothing_kept(void)
{
	CU_ASSERT_EQUAL(open_slots(&nodes[1]), 0);
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[1].ctl), 0);
	CU_ASSERT_EQUAL(stats(1)->handshakes_pending, 0);
	CU_ASSERT_EQUAL(stats(1)->sessions_opened, 0);
	CU_ASSERT_FALSE(view(1, 0).found);
	CU_ASSERT_EQUAL(nodes[1].notes[CP_NOTE_CONNECTED], 0);
}

/* Node 0 dials node 1 (IK), which does not know it: refused at every attempt, node 0 hears
 * nothing and gives up at its handshake timeout. */
static void
test_ik_stranger_refused(void)
{
	uint64_t refused;

	world_reset(2);
	add_peer(0, 1);
	node_start(0, NULL);
	node_start(1, peers_only);
	leap_for(2500 * MS); /* the first initiation and two resends */
	refused = stats(1)->refused_by_reason[CP_HS_POLICY];
	CU_ASSERT(refused >= 2);
	CU_ASSERT_EQUAL(refused, stats(1)->initiations_received);
	CU_ASSERT_EQUAL(stats(1)->refused, refused); /* nothing else refused */
	CU_ASSERT_EQUAL(nodes[1].notes[CP_NOTE_REFUSED], refused);
	assert_nothing_kept();
	CU_ASSERT_EQUAL(stats(0)->answers_received + stats(0)->cookies_received, 0);
	CU_ASSERT_EQUAL(stats(0)->unmatched, 0);
	CU_ASSERT_EQUAL(view(0, 1).info.state, CP_NODE_DIALING);
	leap_for(4 * SEC);
	CU_ASSERT(nodes[0].notes[CP_NOTE_CONNECT_FAILED] >= 1);
	CU_ASSERT_STRING_EQUAL(nodes[0].last_fail_reason, "handshake_timeout");
	CU_ASSERT(!connected(0, 1));
	assert_nothing_kept();
	world_end();
}

/* The same dial without peers_only: answered (today's behaviour, the option's default). */
static void
test_ik_stranger_default(void)
{
	world_reset(2);
	add_peer(0, 1);
	node_start(0, NULL);
	node_start(1, NULL);
	leap_for(300 * MS);
	CU_ASSERT(connected(0, 1));
	CU_ASSERT_EQUAL(stats(1)->refused_by_reason[CP_HS_POLICY], 0);
	CU_ASSERT_EQUAL(nodes[1].notes[CP_NOTE_REFUSED], 0);
	world_end();
}

/* A configured peer's initiation is answered (node 1 dials it at an address where nobody is,
 * so that node 1 is the responder); so is one from a key of the allow-list, which is no
 * configured peer. */
static void
test_ik_allowed(void)
{
	world_reset(2);
	add_peer(0, 1);
	add_peer(1, 0);
	nodes[1].peers[0].ip = 0xc6120063; /* 198.18.0.99: no node */
	node_start(0, NULL);
	node_start(1, peers_only);
	leap_for(300 * MS);
	CU_ASSERT(connected(0, 1));
	CU_ASSERT_FALSE(view(1, 0).info.initiator); /* node 1 answered */
	CU_ASSERT_EQUAL(stats(1)->refused_by_reason[CP_HS_POLICY], 0);
	world_end();

	world_reset(2);
	memcpy(allow[0], nodes[0].pub, SL_KEY_LEN);
	add_peer(0, 1);
	node_start(0, NULL);
	node_start(1, peers_only_allow);
	leap_for(300 * MS);
	CU_ASSERT(connected(0, 1));
	CU_ASSERT_EQUAL(view(1, 0).info.peer, -1);
	CU_ASSERT_EQUAL(stats(1)->refused_by_reason[CP_HS_POLICY], 0);
	world_end();
}

/* A keyless dial (XX) of node 1 by node 0: with peers_only, refused at the finishing message
 * and its slot given back then (long before the 5 s handshake timeout); allowed by the
 * allow-list, or without peers_only, it connects. */
static void
test_xx(void)
{
	world_reset(2);
	node_start(0, NULL);
	node_start(1, peers_only);
	CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[0].ctl, nodes[1].ip, PORT, now), 0);
	leap_for(100 * MS);
	CU_ASSERT_EQUAL(stats(1)->initiations_received, 1);
	CU_ASSERT_EQUAL(stats(1)->refused_by_reason[CP_HS_POLICY], 1);
	CU_ASSERT_EQUAL(nodes[1].notes[CP_NOTE_REFUSED], 1);
	assert_nothing_kept();
	world_end();

	for (int allowed = 0; allowed < 2; allowed++) {
		world_reset(2);
		memcpy(allow[0], nodes[0].pub, SL_KEY_LEN);
		node_start(0, NULL);
		node_start(1, allowed ? peers_only_allow : NULL);
		CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[0].ctl, nodes[1].ip, PORT, now), 0);
		leap_for(100 * MS);
		CU_ASSERT(connected(0, 1));
		CU_ASSERT_EQUAL(stats(1)->refused_by_reason[CP_HS_POLICY], 0);
		world_end();
	}
}

static void
rekey_event(unsigned int i, unsigned int j)
{
	uint32_t id = view(i, j).info.connid;
	struct dp_evt ev = { .type = DP_EVT_REKEY, .slot = sl_connid_slot(id) };

	push_event(&nodes[i], sl_connid_owner(id), &ev);
}

/* Node 1 (peers_only) dials node 0, which it does not configure: nodes we dial are not
 * affected, nor is the session's peer renewing its keys. Once node 1 lets it go, node 0's
 * redial — a resumption of that session — is refused without a reject. */
static void
test_dialled_then_resumption(void)
{
	world_reset(2);
	node_start(0, NULL);
	node_start(1, peers_only);
	CU_ASSERT_EQUAL(cp_ctl_connect(nodes[1].ctl, nodes[0].pub, nodes[0].ip, PORT, now), 0);
	leap_for(300 * MS);
	CU_ASSERT_FATAL(connected(0, 1));
	rekey_event(0, 1); /* node 0 renews the keys: node 1 answers */
	leap_for(300 * MS);
	CU_ASSERT(connected(0, 1));
	CU_ASSERT_EQUAL(stats(1)->rekeys, 1);
	CU_ASSERT_EQUAL(cp_ctl_disconnect(nodes[1].ctl, nodes[0].pub, now), 0);
	leap_for(500 * MS);
	CU_ASSERT_FATAL(!view(1, 0).found && !connected(0, 1));
	CU_ASSERT_EQUAL(cp_ctl_connect(nodes[0].ctl, nodes[1].pub, nodes[1].ip, PORT, now), 0);
	leap_for(500 * MS);
	CU_ASSERT(stats(0)->resumes_sent >= 1);
	CU_ASSERT(stats(1)->refused_by_reason[CP_HS_POLICY] >= 1);
	CU_ASSERT_EQUAL(stats(1)->resume_rejected, 0);
	CU_ASSERT_EQUAL(stats(0)->resume_fallbacks, 0);
	CU_ASSERT(!connected(0, 1));
	CU_ASSERT_FALSE(view(1, 0).found);
	CU_ASSERT_EQUAL(stats(1)->sessions_opened, 1); /* the first one only */
	world_end();
}

static void
test_bad_config(void)
{
	struct cp_ctl_config c;

	cp_ctl_config_defaults(&c);
	CU_ASSERT_FALSE(c.peers_only);
	c.n_inbound_allow = 1; /* and no list */
	CU_ASSERT(cp_ctl_create(&c, &world_ops, NULL, 0) == NULL && errno == EINVAL);
}

static CU_TestInfo cases[] = {
	{ "peers_only: an unknown node's IK is refused, nothing kept", test_ik_stranger_refused },
	{ "no peers_only: the same node is answered", test_ik_stranger_default },
	{ "peers_only: configured and allow-listed keys answered", test_ik_allowed },
	{ "peers_only: XX refused at its finish, slot back at once", test_xx },
	{ "peers_only: nodes we dial pass; a resumption refused", test_dialled_then_resumption },
	{ "an allow-list count without a list is refused", test_bad_config },
	CU_TEST_INFO_NULL,
};

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	return sl_eal_test_main("ctl_policy", cases, &pool);
}
