/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: control-thread tests, third part — keyless dials and what handshakes say of a node.
 * An address without a key is dialled with Noise XX: the node is then known by its key and
 * redialled with IK; a dial to ourselves ends; timeouts, back-off, cookies, damaged answers,
 * answers for nothing, a dial crossing the node's own IK dial, the bound on dials. And the
 * payload: channel sets that differ are refused at connect with the reason; capabilities and
 * listen addresses reach the node, whose advertised address is where it is dialled. Same world
 * as test_ctl.c (ctl_world.h: cp_ctl instances on an in-memory network, virtual time).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cp_ctl.h"
#include "ctl_world.h"
#include "sl_dh.h"
#include "sl_eal_test.h"

static struct rte_mempool *pool;

#define PORT 4789

struct dials {
	unsigned int n;
	struct cp_addr_dial_info last;
};

static int
count_cb(void *arg, const struct cp_addr_dial_info *info)
{
	struct dials *d = arg;

	d->n++;
	d->last = *info;
	return 0;
}

/* How many keyless dials node i has; *info (may be NULL) the last one. */
static unsigned int
addr_dials(unsigned int i, struct cp_addr_dial_info *info)
{
	struct dials d = { 0 };

	CU_ASSERT_EQUAL(cp_ctl_foreach_addr_dial(nodes[i].ctl, count_cb, &d), 0);
	if (info != NULL)
		*info = d.last;
	return d.n;
}

static void
small_backoff(struct cp_ctl_config *c)
{
	c->backoff_min_ns = SEC;
	c->backoff_max_ns = 8 * SEC;
}

/* --- keyless dials ---------------------------------------------------------------------------- */

/* Node 0 knows only node 1's address: XX, then node 1 is a node known by key; when the session
 * ends it is redialled with IK, and dialling the address again is an IK dial too. */
static void
test_xx_dial(void)
{
	world_reset(2);
	node_start(0, NULL);
	node_start(1, NULL);
	CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[0].ctl, nodes[1].ip, PORT, now), 0);
	CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[0].ctl, nodes[1].ip, PORT, now), 0); /* once */
	run_for(300 * MS);
	CU_ASSERT_FATAL(connected(0, 1));
	CU_ASSERT(view(0, 1).info.initiator && view(0, 1).info.learned);
	CU_ASSERT(!view(1, 0).info.learned);
	CU_ASSERT(view(0, 1).info.ip == nodes[1].ip && view(0, 1).info.udp_port == PORT);
	CU_ASSERT_EQUAL(nodes[0].notes[CP_NOTE_CONNECTED], 1);
	CU_ASSERT(nodes[0].last_conn.learned);
	CU_ASSERT_EQUAL(memcmp(nodes[0].last_conn_pub, nodes[1].pub, SL_KEY_LEN), 0);
	CU_ASSERT(stats(0)->addr_dials == 1 && stats(0)->keys_learned == 1);
	CU_ASSERT_EQUAL(stats(0)->initiations_sent, 1);
	CU_ASSERT_EQUAL(addr_dials(0, NULL), 0); /* the dial ended with its session */
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[1].ctl), 1);

	/* the session ends: node 0 keeps the node, and dials it again with IK */
	{
		uint32_t id = view(0, 1).info.connid;

		close_slot(&nodes[0], sl_connid_owner(id), sl_connid_slot(id), SL_CLOSE_IDLE,
			   false);
	}
	run_for(3 * SEC);
	CU_ASSERT_FATAL(connected(0, 1));
	CU_ASSERT(view(0, 1).info.initiator && !view(0, 1).info.learned);
	CU_ASSERT(stats(0)->addr_dials == 1 && stats(0)->keys_learned == 1);
	CU_ASSERT_EQUAL(stats(0)->sessions_opened, 2);
	CU_ASSERT_EQUAL(stats(1)->answers_received, 1); /* the XX finish only: then IK */
	/* the address again: the node known there is dialled (it is connected: nothing to do) */
	CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[0].ctl, nodes[1].ip, PORT, now), 0);
	run_for(SEC);
	CU_ASSERT_EQUAL(stats(0)->addr_dials, 1);
	CU_ASSERT_EQUAL(addr_dials(0, NULL), 0);
	CU_ASSERT(connected(0, 1));
	world_end();
}

static void
advertise_elsewhere(struct cp_ctl_config *c)
{
	c->hs.addrs[0].ip = 0xc6120063; /* 198.18.0.99: the world still delivers to 198.18.0.1 */
}

/* An address that turns out to be our own (here: not one we advertise, so it is dialled): the
 * answer has our key; the dial ends for good, no session, no retry. One we advertise is
 * refused at once. */
static void
test_xx_dial_self(void)
{
	uint64_t sent;

	world_reset(1);
	node_start(0, advertise_elsewhere);
	CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[0].ctl, 0xc6120063, PORT, now), -EINVAL);
	CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[0].ctl, nodes[0].ip, 0, now), -EINVAL);
	CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[0].ctl, 0, PORT, now), -EINVAL);
	CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[0].ctl, nodes[0].ip, PORT, now), 0);
	run_for(500 * MS);
	CU_ASSERT_STRING_EQUAL(nodes[0].last_fail_reason, "own_identity");
	CU_ASSERT(nodes[0].last_fail.pub == NULL && nodes[0].last_fail.ip == nodes[0].ip);
	CU_ASSERT_EQUAL(nodes[0].last_fail.retry_in_ns, 0);
	CU_ASSERT_EQUAL(stats(0)->refused_by_reason[CP_HS_SELF], 1);
	CU_ASSERT_EQUAL(stats(0)->sessions_opened, 0);
	CU_ASSERT_EQUAL(addr_dials(0, NULL), 0);
	sent = stats(0)->initiations_sent;
	run_for(20 * SEC);
	CU_ASSERT_EQUAL(stats(0)->initiations_sent, sent);
	CU_ASSERT_EQUAL(nodes[0].n_fail, 1);
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), 0); /* its own XX answer expired too */
	world_end();
}

/* Nobody answers: a fresh initiation every second or so for 5 s, then back-off doubling from
 * 1 s to the 8 s cap; CONNECT_FAILED notes name the address; the node comes up: connected. */
static void
test_xx_dial_timeout_and_backoff(void)
{
	struct cp_addr_dial_info info;

	world_reset(2);
	nodes[1].offline = true;
	node_start(0, small_backoff);
	node_start(1, NULL);
	CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[0].ctl, nodes[1].ip, PORT, now), 0);
	run_for(50 * SEC);
	CU_ASSERT_FATAL(nodes[0].n_fail >= 4);
	CU_ASSERT_STRING_EQUAL(nodes[0].last_fail_reason, "handshake_timeout");
	CU_ASSERT(nodes[0].last_fail.pub == NULL && nodes[0].last_fail.ip == nodes[1].ip &&
		  nodes[0].last_fail.udp_port == PORT);
	for (unsigned int k = 0; k < 4; k++) {
		uint64_t want = RTE_MIN(SEC << k, 8 * SEC);

		CU_ASSERT(nodes[0].fail_retry[k] >= want - want / 4 &&
			  nodes[0].fail_retry[k] < want + want / 4);
	}
	CU_ASSERT(stats(0)->initiations_sent >= 4 * nodes[0].n_fail &&
		  stats(0)->initiations_sent <= 7 * (nodes[0].n_fail + 1));
	CU_ASSERT_EQUAL(addr_dials(0, &info), 1);
	CU_ASSERT_EQUAL(stats(0)->addr_dials, nodes[0].n_fail + (info.state == CP_NODE_DIALING));
	CU_ASSERT(info.ip == nodes[1].ip && info.udp_port == PORT);
	CU_ASSERT_EQUAL(info.attempts, nodes[0].n_fail);
	CU_ASSERT_STRING_EQUAL(info.last_error, "handshake_timeout");
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), info.state == CP_NODE_DIALING);
	nodes[1].offline = false;
	run_for(15 * SEC);
	CU_ASSERT(connected(0, 1));
	CU_ASSERT_EQUAL(addr_dials(0, NULL), 0);
	CU_ASSERT_EQUAL(view(0, 1).info.attempts, 0);
	world_end();
}

/* A responder under load answers with a cookie: the dial resends at once with it. */
static void
test_xx_dial_cookie(void)
{
	world_reset(2);
	node_start(0, NULL);
	node_start(1, NULL);
	nodes[1].backlog = 1000;
	CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[0].ctl, nodes[1].ip, PORT, now), 0);
	run_for(300 * MS);
	CU_ASSERT(connected(0, 1));
	CU_ASSERT_EQUAL(stats(0)->cookies_received, 1);
	CU_ASSERT_EQUAL(stats(0)->initiations_sent, 2);
	world_end();
}

/* XX answers for no dial of ours are counted and change nothing: one from a stranger with a
 * made-up receiver id, every single-bit flip of the real answer (none cancels the dial), and
 * the real answer again once it completed the dial. */
static void
test_xx_answers_for_nothing(void)
{
	static struct cp_hs_pending pi, pr;
	struct cp_hs_config hc = { .network_id = NET_ID, .version = 1, .min_version = 1 };
	struct cp_endpoint stranger = { .ip = 0xc6130063, .udp_port = 5000 };
	struct sl_msg_xx_init m1;
	struct sl_msg_xx_resp m2;
	struct cp_hs_ctx *ci, *cr;
	uint8_t pub[SL_KEY_LEN];
	unsigned int flips = 0;
	struct wmsg answer;

	world_reset(2);
	node_start(0, NULL);
	node_start(1, NULL);
	/* a stranger's XX answer to an initiation we never sent (its receiver: slot 0, lcore 0) */
	sl_dh_keygen(hc.static_priv, pub);
	ci = cp_hs_ctx_create(&hc);
	sl_dh_keygen(hc.static_priv, pub);
	cr = cp_hs_ctx_create(&hc);
	CU_ASSERT_FATAL(ci != NULL && cr != NULL);
	CU_ASSERT_FATAL(cp_hs_xx_start(ci, &pi, SL_SUITE_AESGCM_SHA256, sl_connid(0, 0, 1), NULL,
				       now, &m1) == 0);
	CU_ASSERT_FATAL(cp_hs_xx_respond(cr, &pr, (uint8_t *)&m1, sizeof(m1), 7, &m2) == 0);
	cp_ctl_handshake(nodes[0].ctl, &stranger, (uint8_t *)&m2, sizeof(m2), 0, now, WALL0 + now);
	CU_ASSERT_EQUAL(stats(0)->unmatched, 1);
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), 0);

	CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[0].ctl, nodes[1].ip, PORT, now), 0);
	while (n_wire == 0 || wire[0].to != 0) /* until node 1's answer is on the wire */
		step();
	answer = wire[0];
	n_wire = 0;
	CU_ASSERT_FATAL(answer.buf[0] == SL_MSG_XX_RESP);
	for (size_t i = 0; i < answer.len * 8; i++) {
		struct wmsg bad = answer;

		bad.buf[i / 8] ^= (uint8_t)(1u << (i % 8));
		cp_ctl_handshake(nodes[0].ctl, &bad.from, bad.buf, bad.len, 0, now, WALL0 + now);
		flips++;
	}
	CU_ASSERT_EQUAL(stats(0)->sessions_opened, 0);
	CU_ASSERT_EQUAL(stats(0)->refused + stats(0)->unmatched, flips + 1);
	CU_ASSERT_EQUAL(addr_dials(0, NULL), 1);
	cp_ctl_handshake(nodes[0].ctl, &answer.from, answer.buf, answer.len, 0, now, WALL0 + now);
	run_for(10 * MS);
	CU_ASSERT(connected(0, 1));
	/* the same answer again: its dial is over */
	{
		uint64_t unmatched = stats(0)->unmatched;

		cp_ctl_handshake(nodes[0].ctl, &answer.from, answer.buf, answer.len, 0, now,
				 WALL0 + now);
		CU_ASSERT_EQUAL(stats(0)->unmatched, unmatched + 1);
		CU_ASSERT_EQUAL(stats(0)->sessions_opened, 1);
	}
	cp_hs_pending_wipe(&pi);
	cp_hs_pending_wipe(&pr);
	cp_hs_ctx_destroy(ci);
	cp_hs_ctx_destroy(cr);
	world_end();
}

/* Node 0 dials node 1's address without its key while node 1 dials node 0 with IK (node 0 is
 * its configured peer), both unheard until the network heals: one session in the end, on both
 * sides the same, whichever handshake completes first. */
static void
test_xx_dial_crossing_ik(void)
{
	for (unsigned int round = 0; round < 8; round++) {
		world_reset(2);
		add_peer(1, 0);
		nodes[0].offline = nodes[1].offline = true;
		node_start(0, NULL);
		node_start(1, NULL);
		CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[0].ctl, nodes[1].ip, PORT, now), 0);
		run_for(200 * MS + round * 130 * MS);
		nodes[0].offline = nodes[1].offline = false;
		run_for(4 * SEC);
		CU_ASSERT(connected(0, 1));
		CU_ASSERT_EQUAL(open_slots(&nodes[0]), 1);
		CU_ASSERT_EQUAL(open_slots(&nodes[1]), 1);
		CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), 1);
		CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[1].ctl), 1);
		CU_ASSERT_EQUAL(addr_dials(0, NULL), 0);
		world_end();
	}
}

static void
two_dials(struct cp_ctl_config *c)
{
	c->max_addr_dials = 2;
}

/* At most max_addr_dials addresses at once; giving one up frees its slot and its place. */
static void
test_xx_dial_bounded(void)
{
	world_reset(1);
	node_start(0, two_dials);
	CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[0].ctl, 0xc6120050, PORT, now), 0);
	CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[0].ctl, 0xc6120051, PORT, now), 0);
	CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[0].ctl, 0xc6120050, PORT, now), 0);
	CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[0].ctl, 0xc6120052, PORT, now), -ENOSPC);
	run_for(100 * MS);
	CU_ASSERT_EQUAL(addr_dials(0, NULL), 2);
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), 2); /* each holds a slot while it dials */
	CU_ASSERT_EQUAL(n_captured, 2);			   /* two initiations, to nobody */
	CU_ASSERT_EQUAL(cp_ctl_disconnect_addr(nodes[0].ctl, 0xc6120050, PORT, now), 0);
	CU_ASSERT_EQUAL(cp_ctl_disconnect_addr(nodes[0].ctl, 0xc6120050, PORT, now), -ENOENT);
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), 1);
	CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[0].ctl, 0xc6120052, PORT, now), 0);
	/* shutdown: every dial gives its slot back and stops */
	CU_ASSERT(cp_ctl_close_all(nodes[0].ctl, now));
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), 0);
	n_captured = 0;
	run_for(10 * SEC);
	CU_ASSERT_EQUAL(n_captured, 0);
	world_end();
}

/* --- what the handshake says of a node ------------------------------------------------------ */

static void
fewer_channels(struct cp_ctl_config *c)
{
	c->hs.chan_used = 0x0003;
}

/* Channel sets that differ: refused at connect with the reason, IK and XX, and no session. */
static void
test_channel_set_mismatch(void)
{
	world_reset(3);
	add_peer(0, 1);
	node_start(0, NULL);
	node_start(1, fewer_channels);
	node_start(2, NULL);
	run_for(2 * SEC);
	CU_ASSERT_STRING_EQUAL(nodes[0].last_fail_reason, "channel_set_mismatch");
	CU_ASSERT(stats(0)->refused_by_reason[CP_HS_CHANNELS] >= 1);
	CU_ASSERT(stats(1)->refused_by_reason[CP_HS_CHANNELS] >= 1);
	CU_ASSERT(stats(0)->sessions_opened == 0 && stats(1)->sessions_opened == 0);
	/* keyless: the XX initiator refuses on reading the answer */
	CU_ASSERT_EQUAL(cp_ctl_connect_addr(nodes[2].ctl, nodes[1].ip, PORT, now), 0);
	run_for(500 * MS);
	CU_ASSERT_STRING_EQUAL(nodes[2].last_fail_reason, "channel_set_mismatch");
	CU_ASSERT(nodes[2].last_fail.pub == NULL);
	CU_ASSERT_EQUAL(stats(2)->refused_by_reason[CP_HS_CHANNELS], 1);
	CU_ASSERT_EQUAL(stats(2)->sessions_opened, 0);
	CU_ASSERT_EQUAL(addr_dials(2, NULL), 1); /* it backs off and tries again */
	world_end();
}

static void
advertise_pex_5555(struct cp_ctl_config *c)
{
	c->hs.capabilities = SL_CAP_PEX;
	c->hs.n_addrs = 2;
	c->hs.addrs[0].port = 5555; /* its packets leave from 4789 (ctl_world.c) */
	c->hs.addrs[1].ip = 0xc6130001;
	c->hs.addrs[1].port = 6000;
}

static void
advertise_other_ip(struct cp_ctl_config *c)
{
	c->hs.addrs[0].ip = 0xc6130002;
	c->hs.addrs[0].port = 7000;
}

/* The responder learns the initiator's capabilities and listen addresses (the CONNECTED note
 * and the node carry them) and dials it next at the advertised port on the IP its packets come
 * from; an address advertised on another IP is not taken (the packets' source is). */
static void
test_capabilities_and_listen_address(void)
{
	world_reset(3);
	add_peer(0, 1);
	add_peer(2, 1);
	node_start(0, advertise_pex_5555);
	node_start(1, NULL);
	run_for(300 * MS);
	node_start(2, advertise_other_ip); /* node 1's last CONNECTED note is node 2's */
	run_for(300 * MS);
	CU_ASSERT_FATAL(connected(0, 1) && connected(2, 1));
	CU_ASSERT_EQUAL(view(1, 0).info.capabilities, SL_CAP_PEX);
	CU_ASSERT(view(1, 0).info.ip == nodes[0].ip && view(1, 0).info.udp_port == 5555);
	CU_ASSERT(view(1, 0).info.n_addrs == 2 && view(1, 0).info.addrs[1].ip == 0xc6130001 &&
		  view(1, 0).info.addrs[1].port == 6000);
	CU_ASSERT_EQUAL(view(0, 1).info.capabilities, 0);
	CU_ASSERT(view(0, 1).info.ip == nodes[1].ip && view(0, 1).info.udp_port == PORT);
	CU_ASSERT(view(1, 2).info.ip == nodes[2].ip && view(1, 2).info.udp_port == PORT);
	/* the notes carry the same */
	CU_ASSERT_EQUAL(nodes[1].notes[CP_NOTE_CONNECTED], 2);
	CU_ASSERT_EQUAL(memcmp(nodes[1].last_conn_pub, nodes[2].pub, SL_KEY_LEN), 0);
	CU_ASSERT(nodes[1].last_conn.n_addrs == 1 && nodes[1].last_conn_addrs[0].port == 7000);
	CU_ASSERT(nodes[0].last_conn.capabilities == 0 && !nodes[0].last_conn.learned);
	/* asked to keep node 0, node 1 dials it where it listens */
	CU_ASSERT_EQUAL(cp_ctl_connect(nodes[1].ctl, nodes[0].pub, 0, 0, now), 0);
	CU_ASSERT_EQUAL(view(1, 0).info.udp_port, 5555);
	world_end();
}

/* --- configuration: persistent peers, what the conf gives the handshake ---------------------- */

static void
not_persistent(struct cp_ctl_config *c)
{
	((struct conf_peer *)(uintptr_t)c->peers)[0].persistent = false;
}

/* A peer that is not persistent is dialled until it connects, and not again once its session
 * ended (the pool's to decide); asked to, it is dialled again. */
static void
test_not_persistent(void)
{
	uint32_t id;

	world_reset(2);
	add_peer(0, 1);
	node_start(0, not_persistent);
	nodes[1].offline = true;
	node_start(1, NULL);
	run_for(7 * SEC); /* the first attempt fails: it is tried again all the same */
	CU_ASSERT_EQUAL(nodes[0].n_fail, 1);
	nodes[1].offline = false;
	run_for(5 * SEC);
	CU_ASSERT_FATAL(connected(0, 1));
	id = view(0, 1).info.connid;
	close_slot(&nodes[0], sl_connid_owner(id), sl_connid_slot(id), SL_CLOSE_IDLE, false);
	run_for(20 * SEC);
	CU_ASSERT_EQUAL(view(0, 1).info.state, CP_NODE_WAITING);
	CU_ASSERT_EQUAL(stats(0)->sessions_opened, 1);
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), 0);
	CU_ASSERT_EQUAL(cp_ctl_connect(nodes[0].ctl, nodes[1].pub, 0, 0, now), 0);
	run_for(300 * MS);
	CU_ASSERT(connected(0, 1));
	world_end();
}

/* What a validated conf gives the handshake: the channel set of the engine's channels, the
 * peer-exchange capability with a discovery section (none without). */
static void
test_config_from_conf(void)
{
	struct conf *c = calloc(1, sizeof(*c));
	struct cp_ctl_config cfg;
	uint8_t priv[SL_KEY_LEN], pub[SL_KEY_LEN];

	CU_ASSERT_FATAL(c != NULL);
	sl_dh_keygen(priv, pub);
	c->n_lcores = 1;
	c->suite = SL_SUITE_AESGCM_SHA256;
	c->limits.max_sessions = 64;
	c->limits.handshake_timeout_ns = 5 * SEC;
	dp_conn_config_defaults(&c->engine);
	cp_ctl_config_from_conf(&cfg, c, priv);
	CU_ASSERT(cfg.hs.chan_used == 0x00ff && cfg.hs.chan_datagram == 0);
	CU_ASSERT_EQUAL(cfg.hs.capabilities, 0);
	c->engine.n_channels = 6;
	c->engine.chan[1].kind = DP_CHAN_UNUSED;
	c->engine.chan[3].kind = DP_CHAN_DATAGRAM;
	c->engine.chan[5].kind = DP_CHAN_DATAGRAM;
	c->discovery.enabled = true;
	c->discovery.n_seeds = 1;
	c->discovery.seeds[0] = (struct conf_seed){ .ip = 0xc6120002, .port = PORT };
	cp_ctl_config_from_conf(&cfg, c, priv);
	CU_ASSERT(cfg.hs.chan_used == 0x003d && cfg.hs.chan_datagram == 0x0028);
	CU_ASSERT_EQUAL(cfg.hs.capabilities, SL_CAP_PEX);
	sodium_memzero(priv, sizeof(priv));
	sodium_memzero(cfg.hs.static_priv, sizeof(cfg.hs.static_priv));
	free(c);
}

static CU_TestInfo cases[] = {
	{ "keyless dial: XX, the key learned, then IK", test_xx_dial },
	{ "keyless dial to ourselves: refused, never retried", test_xx_dial_self },
	{ "keyless dial: timeout, back-off, recovery", test_xx_dial_timeout_and_backoff },
	{ "keyless dial: cookie round trip", test_xx_dial_cookie },
	{ "XX answers for nothing counted, damaged ones change nothing",
	  test_xx_answers_for_nothing },
	{ "keyless dial crossing the node's IK dial: one session", test_xx_dial_crossing_ik },
	{ "keyless dials bounded, given up, stopped", test_xx_dial_bounded },
	{ "channel set mismatch refused at connect (IK, XX)", test_channel_set_mismatch },
	{ "capabilities and listen addresses: noted, dialled",
	  test_capabilities_and_listen_address },
	{ "a peer not persistent: not redialled", test_not_persistent },
	{ "from the conf: channel set, capabilities", test_config_from_conf },
	CU_TEST_INFO_NULL,
};

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	return sl_eal_test_main("ctl_dial", cases, &pool);
}
