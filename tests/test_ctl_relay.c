/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: relaying in the control plane (cp_relay) on cp_ctl instances in the in-memory world
 * (ctl_world.h): A (node 0) reaches B (node 2) and C (node 3) through R (node 1). Reservations
 * and circuits granted — R sets up both ends in its forwarding table, B hears of its circuit and
 * accepts relayed handshakes only on it, from R's address; every refusal reaches A with its
 * status (unknown_destination, no_reservation, not_allowed, relay_disabled, too_many_circuits,
 * reservations_full); circuits end with their reason at both ends (the other end's session
 * closed, the time limit, the byte limit, an end's own END) and their ends are cleared; hostile
 * or unasked relay messages are counted and change nothing; a node that does not relay answers
 * requests relay_disabled. (The dataplane's forwarding is
 * tests/integration/test_relay.py's.)
 */
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>

#include "cp_relay_pvt.h"
#include "ctl_world.h"
#include "sl_eal_test.h"
#include "sl_dh.h"
#include "sl_test.h"
#include "sl_wire.h"

enum { A, R, B, C };

static struct conf *confs[MAXN];
static uint8_t ghost[SL_KEY_LEN];

/* The relay section each test starts R with (defaults, as conf_relay() gives them). */
static struct conf_relay relay_cfg;

static void
relay_defaults(void)
{
	memset(&relay_cfg, 0, sizeof(relay_cfg));
	relay_cfg.enabled = true;
	relay_cfg.max_circuits = 8;
	relay_cfg.max_circuits_per_node = 8;
	relay_cfg.max_reservations = 8;
	relay_cfg.circuit_seconds = 3600;
	relay_cfg.circuit_bytes = 1 << 20;
}

/* A peer of node i through the relay (node R's peer index at i: 0). */
static void
add_via(unsigned int i, const uint8_t pub[SL_KEY_LEN], const char *name)
{
	struct conf_peer *p = &nodes[i].peers[nodes[i].n_peers++];

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	memcpy(p->pub, pub, SL_KEY_LEN);
	p->has_via = true;
	p->via = 0;
}

static void
start_with_relay(unsigned int i)
{
	struct conf *c = calloc(1, sizeof(*c));

	CU_ASSERT_FATAL(c != NULL);
	node_start(i, NULL);
	c->n_lcores = LCORES;
	c->n_peers = nodes[i].n_peers;
	memcpy(c->peers, nodes[i].peers, sizeof(nodes[i].peers));
	if (i == R)
		c->relay = relay_cfg;
	confs[i] = c;
	nodes[i].relay = cp_relay_create(c, nodes[i].ctl, NULL);
	CU_ASSERT_FATAL(nodes[i].relay != NULL);
}

/* A with peers R, B via R, C via R (and the ghost via R when asked); B and C with R, reserving
 * there when told to. */
static void
world(bool b_reserves, bool c_reserves, bool ghost_too)
{
	uint8_t priv[SL_KEY_LEN];

	world_reset(4);
	sl_dh_keygen(priv, ghost);
	add_peer(A, R);
	add_via(A, nodes[B].pub, "b");
	add_via(A, nodes[C].pub, "c");
	if (ghost_too)
		add_via(A, ghost, "ghost");
	add_peer(B, R);
	nodes[B].peers[0].relay_reserve = b_reserves;
	add_peer(C, R);
	nodes[C].peers[0].relay_reserve = c_reserves;
	for (unsigned int i = 0; i < 4; i++)
		start_with_relay(i);
}

static void
world_done(void)
{
	world_end();
	for (unsigned int i = 0; i < MAXN; i++) {
		free(confs[i]);
		confs[i] = NULL;
	}
}

static const struct cp_relay_stats *
rst(unsigned int i)
{
	return cp_relay_stats(nodes[i].relay);
}

struct use_find {
	const char *peer;
	struct cp_relay_use_info u;
	bool found;
};

static int
use_cb(void *arg, const struct cp_relay_use_info *u)
{
	struct use_find *f = arg;

	if (strcmp(u->peer, f->peer) == 0) {
		f->u = *u;
		f->found = true;
	}
	return 0;
}

/* How A uses the relay for `peer`: state, circuit, last status. */
static struct cp_relay_use_info
use_of(const char *peer)
{
	struct use_find f = { .peer = peer };

	cp_relay_foreach_use(nodes[A].relay, use_cb, &f);
	CU_ASSERT_FATAL(f.found);
	return f.u;
}

static int
circ_cb(void *arg, const struct cp_relay_circuit_info *c)
{
	if (memcmp(c->b, nodes[B].pub, SL_KEY_LEN) == 0)
		*(uint32_t *)arg = c->id_b;
	return 0;
}

static void
test_granted(void)
{
	struct cp_endpoint from = { .udp_port = 4789 };
	struct cp_relay_use_info u;

	relay_defaults();
	world(true, true, false);
	from.ip = nodes[R].ip;
	run_for(3 * SEC);
	CU_ASSERT(connected(A, R) && connected(B, R) && connected(C, R));
	CU_ASSERT_EQUAL(rst(B)->reservations_held, 1);
	CU_ASSERT_EQUAL(rst(R)->reserve_granted, 2);
	CU_ASSERT_EQUAL(rst(R)->reservations, 2);
	u = use_of("b");
	CU_ASSERT(strcmp(u.state, "open") == 0 && u.circuit != 0 && u.last_status == SL_RELAY_OK);
	CU_ASSERT(strcmp(use_of("c").state, "open") == 0);
	CU_ASSERT_EQUAL(rst(R)->circuits_opened, 2);
	CU_ASSERT_EQUAL(rst(R)->circuits, 2);
	CU_ASSERT_EQUAL(nodes[R].relay_set, 4); /* two ends per circuit */
	CU_ASSERT_EQUAL(rst(A)->circuits_granted, 2);
	CU_ASSERT_EQUAL(rst(B)->circuits_offered, 1);
	/* the last end set up forwards to A (the destination's end leads back to the asker) */
	CU_ASSERT_EQUAL(nodes[R].last_relay_set.ip, nodes[A].ip);
	/* B takes relayed handshakes only on its circuit, from R */
	cp_relay_foreach_circuit(nodes[R].relay, now, circ_cb, &from.via);
	CU_ASSERT_FATAL(from.via != 0);
	CU_ASSERT(cp_relay_accepts(nodes[B].relay, &from));
	CU_ASSERT(!cp_relay_accepts(
		nodes[B].relay,
		&(struct cp_endpoint){ .ip = nodes[R].ip, .udp_port = 4789, .via = 0x7777 }));
	CU_ASSERT(!cp_relay_accepts(
		nodes[B].relay,
		&(struct cp_endpoint){ .ip = nodes[C].ip, .udp_port = 4789, .via = u.circuit }));
	CU_ASSERT(rst(B)->hs_unknown_circuit == 2);
	/* A takes the answers on its own end, from R */
	CU_ASSERT(cp_relay_accepts(
		nodes[A].relay,
		&(struct cp_endpoint){ .ip = nodes[R].ip, .udp_port = 4789, .via = u.circuit }));
	world_done();
}

/* One refusal at a time: what A hears, what R counts. */
static void
expect_refused(const char *peer, unsigned int status)
{
	struct cp_relay_use_info u = use_of(peer);

	CU_ASSERT_EQUAL(u.last_status, status);
	CU_ASSERT(u.refusals >= 1 && strcmp(u.state, "open") != 0);
	CU_ASSERT(rst(R)->refused_by[status] >= 1);
	if (u.last_status != status)
		printf("\n  %s: status %u (%s), want %s", peer, u.last_status,
		       cp_relay_status_name(u.last_status), cp_relay_status_name(status));
}

static void
test_refusals(void)
{
	relay_defaults();
	world(true, false, true); /* C holds no reservation; the ghost is nobody */
	run_for(3 * SEC);
	CU_ASSERT(strcmp(use_of("b").state, "open") == 0);
	expect_refused("c", SL_RELAY_NO_RESERVATION);
	expect_refused("ghost", SL_RELAY_UNKNOWN_DEST);
	CU_ASSERT_EQUAL(rst(R)->circuits, 1);
	CU_ASSERT_EQUAL(nodes[R].relay_set, 2);
	world_done();

	relay_defaults();
	relay_cfg.max_circuits_per_node = 1;
	world(true, true, false);
	run_for(3 * SEC);
	CU_ASSERT_EQUAL(rst(R)->circuits, 1);
	CU_ASSERT(use_of("b").last_status == SL_RELAY_TOO_MANY ||
		  use_of("c").last_status == SL_RELAY_TOO_MANY);
	CU_ASSERT_EQUAL(rst(R)->refused_by[SL_RELAY_TOO_MANY] >= 1, true);
	world_done();

	relay_defaults();
	relay_cfg.max_reservations = 1;
	world(true, true, false);
	run_for(3 * SEC);
	CU_ASSERT_EQUAL(rst(R)->reserve_refused, 1);
	CU_ASSERT_EQUAL(rst(B)->reservations_refused + rst(C)->reservations_refused, 1);
	CU_ASSERT_EQUAL(rst(R)->circuits, 1); /* to the one that holds it */
	CU_ASSERT(use_of("b").last_status == SL_RELAY_NO_RESERVATION ||
		  use_of("c").last_status == SL_RELAY_NO_RESERVATION);
	world_done();
}

static void
test_refusals_policy(void)
{
	relay_defaults();
	relay_cfg.n_allow = 1; /* only B may use the relay */
	world(true, true, false);
	memcpy(confs[R]->relay.allow[0], nodes[B].pub, SL_KEY_LEN);
	run_for(3 * SEC);
	expect_refused("b", SL_RELAY_NOT_ALLOWED);
	CU_ASSERT_EQUAL(rst(R)->reserve_refused, 1); /* C's */
	CU_ASSERT_EQUAL(nodes[R].relay_set, 0);
	world_done();

	relay_defaults();
	relay_cfg.enabled = false;
	world(true, true, false);
	run_for(3 * SEC);
	CU_ASSERT_EQUAL(use_of("b").last_status, SL_RELAY_DISABLED);
	CU_ASSERT_EQUAL(rst(B)->reservations_refused, 1);
	CU_ASSERT_EQUAL(nodes[R].relay_set, 0);
	world_done();
}

/* B goes: R ends its circuit (peer_gone) and tells A, clears both ends; A asks again and hears
 * unknown_destination while B is away. */
static void
test_end_peer_gone(void)
{
	relay_defaults();
	world(true, true, false);
	run_for(3 * SEC);
	CU_ASSERT_FATAL(strcmp(use_of("b").state, "open") == 0);
	CU_ASSERT_FATAL(cp_ctl_disconnect(nodes[B].ctl, nodes[R].pub, now) == 0);
	run_for(3 * SEC);
	CU_ASSERT_EQUAL(rst(R)->ended_by[SL_RELAY_PEER_GONE], 1);
	CU_ASSERT_EQUAL(nodes[R].relay_clear, 2);
	CU_ASSERT_EQUAL(rst(R)->circuits, 1);
	CU_ASSERT(use_of("b").losses == 1 && strcmp(use_of("b").state, "open") != 0);
	CU_ASSERT_EQUAL(use_of("b").last_status, SL_RELAY_UNKNOWN_DEST);
	CU_ASSERT(strcmp(use_of("c").state, "open") == 0); /* C's circuit stays */
	world_done();
}

/* Time and byte limits end a circuit at both ends, with the reason. */
static void
test_limits(void)
{
	struct cp_endpoint from = { .udp_port = 4789 };
	struct cp_relay_use_info u;

	relay_defaults();
	relay_cfg.circuit_seconds = 2;
	world(true, false, false);
	run_for(2 * SEC);
	u = use_of("b");
	CU_ASSERT_FATAL(strcmp(u.state, "open") == 0);
	run_for(3 * SEC); /* limits are checked once a second */
	CU_ASSERT(rst(R)->ended_by[SL_RELAY_TIME_LIMIT] >= 1);
	CU_ASSERT(use_of("b").losses >= 1);
	CU_ASSERT(rst(B)->msgs_unexpected == 0); /* B's END named its offered circuit */
	world_done();

	relay_defaults();
	world(true, false, false);
	run_for(2 * SEC);
	CU_ASSERT_FATAL(nodes[R].relay_set == 2);
	from.ip = nodes[R].ip;
	cp_relay_foreach_circuit(nodes[R].relay, now, circ_cb, &from.via); /* B's end */
	CU_ASSERT_FATAL(from.via != 0 && cp_relay_accepts(nodes[B].relay, &from));
	cp_relay_limit(nodes[R].relay, nodes[R].last_relay_set.connid,
		       now); /* DP_EVT_RELAY_LIMIT */
	cp_relay_limit(nodes[R].relay, nodes[R].last_relay_set.connid, now); /* a second: nothing */
	run_for(100 * MS);
	CU_ASSERT_EQUAL(rst(R)->ended_by[SL_RELAY_BYTES_LIMIT], 1);
	CU_ASSERT_EQUAL(nodes[R].relay_clear, 2);
	CU_ASSERT_EQUAL(use_of("b").last_status, SL_RELAY_BYTES_LIMIT);
	CU_ASSERT(!cp_relay_accepts(nodes[B].relay, &from)); /* B heard of the end too */
	world_done();
}

/* Messages nobody asked for, from the wrong node, or malformed: counted, nothing changes. */
static void
test_hostile(void)
{
	struct sl_ctl_circuit_ans ans = { .req_id = rte_cpu_to_be_32(999),
					  .circuit = rte_cpu_to_be_32(5) };
	struct sl_ctl_circuit_open open = { .circuit = rte_cpu_to_be_32(5) };
	struct sl_ctl_circuit_end end = { .circuit = rte_cpu_to_be_32(12345) };
	struct sl_ctl_circuit_req req = { 0 };

	relay_defaults();
	world(true, false, false);
	run_for(2 * SEC);
	cp_relay_hdr(&ans.hdr, SL_CTL_CIRCUIT_ANS, sizeof(ans));
	cp_relay_hdr(&open.hdr, SL_CTL_CIRCUIT_OPEN, sizeof(open));
	cp_relay_hdr(&end.hdr, SL_CTL_CIRCUIT_END, sizeof(end));
	cp_relay_hdr(&req.hdr, SL_CTL_CIRCUIT_REQ, sizeof(req));
	memcpy(req.node, nodes[B].pub, SL_KEY_LEN);
	/* an answer to no request, an OPEN from a node A holds no reservation at, an END of no
	 * circuit: to A from R */
	cp_relay_control(nodes[A].relay, nodes[R].pub, &ans, sizeof(ans), now);
	cp_relay_control(nodes[A].relay, nodes[R].pub, &open, sizeof(open), now);
	cp_relay_control(nodes[A].relay, nodes[R].pub, &end, sizeof(end), now);
	CU_ASSERT_EQUAL(rst(A)->msgs_unexpected, 3);
	/* a request one byte short, with reserved bytes, to a node that is no relay */
	cp_relay_control(nodes[R].relay, nodes[A].pub, &req, sizeof(req) - 1, now);
	req.reserved = 1;
	cp_relay_control(nodes[R].relay, nodes[A].pub, &req, sizeof(req), now);
	CU_ASSERT_EQUAL(rst(R)->msgs_malformed, 2);
	req.reserved = 0; /* to a node that does not relay: answered relay_disabled */
	cp_relay_control(nodes[B].relay, nodes[A].pub, &req, sizeof(req), now);
	CU_ASSERT_EQUAL(rst(B)->refused_by[SL_RELAY_DISABLED], 1);
	/* an END from A naming B's end of the circuit: not A's to end */
	end.circuit = rte_cpu_to_be_32(nodes[R].last_relay_set.connid);
	cp_relay_control(nodes[R].relay, nodes[C].pub, &end, sizeof(end), now);
	CU_ASSERT_EQUAL(rst(R)->circuits, 1);
	CU_ASSERT(strcmp(use_of("b").state, "open") == 0);
	/* A ends its own circuit: R clears it and tells B */
	end.circuit = rte_cpu_to_be_32(use_of("b").circuit);
	cp_relay_control(nodes[R].relay, nodes[A].pub, &end, sizeof(end), now);
	CU_ASSERT_EQUAL(rst(R)->circuits, 0);
	CU_ASSERT_EQUAL(rst(R)->ended_by[SL_RELAY_CLOSED], 1);
	world_done();
}

static CU_TestInfo cases[] = {
	{ "reservations and circuits granted; B's gate", test_granted },
	{ "refusals: no reservation, unknown destination, limits", test_refusals },
	{ "refusals: allow-list, relaying off", test_refusals_policy },
	{ "the other end goes: peer_gone at A, ends cleared", test_end_peer_gone },
	{ "time and byte limits end circuits", test_limits },
	{ "hostile and unasked relay messages", test_hostile },
	CU_TEST_INFO_NULL,
};

int
main(void)
{
	static struct rte_mempool *pool;

	return sl_eal_test_main("ctl_relay", cases, &pool);
}
