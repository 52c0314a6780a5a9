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
#include "sl_dh.h"
#include "sl_aead.h"
#include "dp_keypair.h"
#include "ctl_world.h"
#include "sl_eal_test.h"

static struct rte_mempool *pool;

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

/* The peer moved (the dataplane follows its authenticated packets and says so): the next rekey
 * goes to where it is now. A move reported for a session that is gone changes nothing. */
static void
test_peer_moved(void)
{
	uint32_t id;
	struct dp_evt ev = { .type = DP_EVT_MOVED, .port = 0, .ip = 0xc6120077, .udp_port = 7777 };

	world_reset(2);
	add_peer(0, 1);
	node_start(0, NULL);
	node_start(1, NULL);
	run_for(300 * MS);
	CU_ASSERT_FATAL(connected(0, 1));
	id = view(0, 1).info.connid;
	ev.slot = sl_connid_slot(id);
	ev.connid = id ^ 1; /* another session's (a generation this slot does not have now) */
	ev.mac[5] = 0x77;
	push_event(&nodes[0], sl_connid_owner(id), &ev);
	run_for(MS);
	CU_ASSERT(stats(0)->moved_stale == 1 && stats(0)->moved == 0);
	CU_ASSERT_EQUAL(view(0, 1).info.ip, nodes[1].ip);
	ev.connid = id;
	push_event(&nodes[0], sl_connid_owner(id), &ev);
	run_for(MS);
	CU_ASSERT_EQUAL(stats(0)->moved, 1);
	CU_ASSERT(view(0, 1).info.ip == 0xc6120077 && view(0, 1).info.udp_port == 7777);
	CU_ASSERT_EQUAL(view(0, 1).info.moves, 1);
	n_captured = 0;
	rekey_event(0, 1);
	run_for(MS);
	CU_ASSERT_FATAL(n_captured == 1); /* no node at the new address: the test sees it */
	CU_ASSERT_EQUAL(captured[0].to_ip, 0xc6120077);
	CU_ASSERT_EQUAL(captured[0].buf[0], SL_MSG_IK_INIT);
	world_end();
}

/* A peer restarted at another address dials us while we dial its old one: our key is lower, so
 * crossed dials would keep ours — but ours goes where the peer no longer is. Its initiation,
 * from elsewhere, is answered at once instead of after our dial times out. */
static void
test_moved_peer_dials_while_we_dial(void)
{
	world_reset(2);
	add_peer(0, 1);
	nodes[0].peers[0].ip = 0xc6120099; /* node 1's old address: nobody answers there */
	add_peer(1, 0);
	node_start(0, NULL);
	node_start(1, NULL);
	run_for(500 * MS);
	CU_ASSERT(connected(0, 1));
	CU_ASSERT_EQUAL(stats(0)->collisions, 0);
	CU_ASSERT_EQUAL(view(0, 1).info.ip, nodes[1].ip); /* dialled where it is from now on */
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

/* A restarted peer dials again: its first initiation replaces the old session at once (the
 * session, initiated by the lower key, is older than SL_HS_CROSSING_NS). Before, it was
 * ignored while younger than the handshake timeout (5 s). */
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
	while (!connected(1, 0) && now < 10 * SEC)
		step();
	CU_ASSERT(connected(0, 1) && connected(1, 0));
	CU_ASSERT_EQUAL(stats(1)->initiations_sent, 1); /* its first initiation was answered */
	CU_ASSERT_EQUAL(stats(0)->duplicates, 0);
	CU_ASSERT_EQUAL(stats(0)->replaced, 1);
	CU_ASSERT_STRING_EQUAL(nodes[0].last_disc_reason, "replaced");
	CU_ASSERT_EQUAL(open_slots(&nodes[0]), 1);
	CU_ASSERT_EQUAL(open_slots(&nodes[1]), 1);
	world_end();
}

/* Both dial at once, and node1's initiation (the higher key's: it loses) is held back on the
 * wire until node0's session — node1, dialling, answered node0's initiation — is up: reordered
 * behind that answer. Delivered within SL_HS_CROSSING_NS it is taken for the crossed initiation it is and
 * ignored; after it, for a restarted peer's, and the session gives way (the two recover: one
 * session each in the end). */
static void
crossed_initiation(uint64_t hold_ns)
{
	struct wmsg held;

	world_reset(2);
	add_peer(0, 1);
	add_peer(1, 0);
	node_start(1, NULL);
	while (n_captured == 0 && now < 7 * SEC) /* node0 is not up: node1's initiation is kept */
		step();
	CU_ASSERT_FATAL(n_captured > 0 && captured[0].buf[0] == SL_MSG_IK_INIT);
	held = captured[0];
	held.to = 0;
	held.from = (struct cp_endpoint){ .port = 0, .ip = nodes[1].ip, .udp_port = 4789 };
	held.from.mac[5] = 1;
	node_start(0, NULL); /* its initiation reaches node1 while node1 dials */
	while (!connected(0, 1) && now < 8 * SEC)
		step();
	CU_ASSERT_FATAL(connected(0, 1));
	CU_ASSERT_FATAL(view(0, 1).info.initiator);
	CU_ASSERT_EQUAL(stats(1)->initiations_sent, 1); /* it abandoned its dial when it answered */
	run_for(hold_ns);
	wire[n_wire++] = held;
	step();
	if (hold_ns < SL_HS_CROSSING_NS) {
		CU_ASSERT_EQUAL(stats(0)->duplicates, 1);
		CU_ASSERT_EQUAL(stats(0)->replaced, 0);
		CU_ASSERT(connected(0, 1));
		CU_ASSERT_EQUAL(stats(0)->sessions_opened, 1);
	} else {
		CU_ASSERT_EQUAL(stats(0)->duplicates, 0);
		CU_ASSERT_EQUAL(stats(0)->replaced, 1);
		run_for(15 * SEC);
		CU_ASSERT(connected(0, 1) && connected(1, 0));
	}
	CU_ASSERT_EQUAL(open_slots(&nodes[0]), 1);
	CU_ASSERT_EQUAL(open_slots(&nodes[1]), 1);
	world_end();
}

static void
test_crossed_initiation_reordered(void)
{
	crossed_initiation(SL_HS_CROSSING_NS / 10);
	crossed_initiation(SL_HS_CROSSING_NS + 10 * MS);
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

static void
test_xx_responder(void)
{
	struct dialer d;
	struct sl_msg_xx_init m1;
	struct sl_msg_xx_finish m3;
	struct cp_hs_session hs;
	struct dp_keypair *mine;
	struct find f;

	world_reset(1);
	node_start(0, NULL);
	dialer_init(&d, NULL, NET_ID);
	/* an XX initiation that is never finished holds a slot until the handshake timeout */
	CU_ASSERT_FATAL(cp_hs_xx_start(d.ctx, d.p, SL_SUITE_AESGCM_SHA256, 77, NULL, now, &m1) ==
			0);
	cp_ctl_handshake(nodes[0].ctl, &d.ep, (uint8_t *)&m1, sizeof(m1), 0, now, WALL0 + now);
	CU_ASSERT_EQUAL(n_captured, 1);
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), 1);
	CU_ASSERT_EQUAL(stats(0)->handshakes_pending, 1); /* was counted twice (fuzz_handshake) */
	run_for(6 * SEC);
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), 0);
	CU_ASSERT_EQUAL(stats(0)->handshakes_pending, 0);
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
	mine = dp_keypair_create(cp_hs_suite_aead(hs.suite), hs.send_key, hs.recv_key, hs.local_id,
				 hs.remote_id, true, now);
	CU_ASSERT_FATAL(mine != NULL);
	CU_ASSERT(seal_open(mine, latest(&nodes[0].slots[sl_connid_owner(f.info.connid)]
							[sl_connid_slot(f.info.connid)])));
	dp_keypair_destroy(mine);
	cp_hs_session_wipe(&hs);
	/* a replayed finishing message finds no handshake */
	cp_ctl_handshake(nodes[0].ctl, &d.ep, (uint8_t *)&m3, sizeof(m3), 0, now, WALL0 + now);
	CU_ASSERT_EQUAL(stats(0)->unmatched, 1);
	CU_ASSERT_EQUAL(stats(0)->sessions_opened, 1);
	dialer_fini(&d);
	world_end();
}

/* XX initiations with a valid (anonymous, computable by anyone) mac1 that are then refused —
 * a suite we do not have, reserved bits, non-zero padding, a short message, a low-order
 * ephemeral — each from another source, three times as many as there are slots: none may keep
 * a slot, and a peer still gets a session afterwards. */
static void
test_refused_xx_keep_no_slot(void)
{
	uint8_t anon[SL_KEY_LEN], buf[sizeof(struct sl_msg_xx_init)];
	struct sl_msg_xx_init *m = (void *)buf;
	struct dialer d;
	const unsigned int n = 3 * LCORES * SLOTS;

	world_reset(2);
	add_peer(1, 0);
	node_start(0, NULL);
	dialer_init(&d, NULL, NET_ID);
	cp_mac1_key_anon(anon);
	for (unsigned int i = 0; i < n; i++) {
		size_t len = sizeof(*m);

		CU_ASSERT_FATAL(
			cp_hs_xx_start(d.ctx, d.p, SL_SUITE_AESGCM_SHA256, i, NULL, now, m) == 0);
		switch (i % 5) {
		case 0:
			m->suite = 0x7f;
			break;
		case 1:
			m->reserved = rte_cpu_to_be_16(1);
			break;
		case 2:
			m->padding[3] = 1;
			break;
		case 3:
			len--;
			break;
		default:
			memset(m->ephemeral, 0, sizeof(m->ephemeral));
			break;
		}
		cp_macs_write(buf, len, anon, NULL, now, 0);
		d.ep.ip = 0xc6130100 + i; /* spoofed sources: no per-source limit applies */
		cp_ctl_handshake(nodes[0].ctl, &d.ep, buf, len, 0, now, WALL0 + now);
	}
	/* the short ones stop at admission (bad_length), the others at the handshake */
	CU_ASSERT_EQUAL(cp_ctl_admission_stats(nodes[0].ctl)->bad_length, n / 5);
	CU_ASSERT_EQUAL(cp_ctl_admission_stats(nodes[0].ctl)->accepted, n - n / 5);
	CU_ASSERT_EQUAL(stats(0)->refused, n - n / 5);
	CU_ASSERT_EQUAL(n_captured, 0); /* nothing answered */
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), 0);
	node_start(1, NULL);
	run_for(1 * SEC);
	CU_ASSERT(connected(1, 0));
	dialer_fini(&d);
	world_end();
}

/* Valid XX initiations from sources that never finish (spoofed) fill half the waiting XX
 * answers: from then on every initiation needs a cookie, so the spoofed ones get no further
 * while a real peer answers its cookie and connects. */
static void
test_table_pressure(void)
{
	struct dialer d;
	struct sl_msg_xx_init m1;

	world_reset(2);
	add_peer(1, 0);
	node_start(0, NULL); /* max_pending_xx 4 (ctl_world.c) */
	dialer_init(&d, NULL, NET_ID);
	for (unsigned int i = 0; i < 6; i++) {
		CU_ASSERT_FATAL(cp_hs_xx_start(d.ctx, d.p, SL_SUITE_AESGCM_SHA256, i, NULL, now,
					       &m1) == 0);
		d.ep.ip = 0xc6130200 + i;
		cp_ctl_handshake(nodes[0].ctl, &d.ep, (uint8_t *)&m1, sizeof(m1), 0, now,
				 WALL0 + now);
	}
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), 2); /* two XX answers wait */
	CU_ASSERT_EQUAL(stats(0)->table_pressure, 4);
	CU_ASSERT_EQUAL(cp_ctl_admission_stats(nodes[0].ctl)->cookies_sent, 4);
	CU_ASSERT_EQUAL(n_captured, 6); /* two answers, four cookies */
	node_start(1, NULL);
	run_for(1 * SEC);
	CU_ASSERT(connected(1, 0));
	CU_ASSERT_EQUAL(stats(1)->cookies_received, 1);
	run_for(6 * SEC); /* the spoofed XX answers expire */
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), 1);
	dialer_fini(&d);
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
	/* closing sessions hold their slots, as neither sessions nor handshakes */
	CU_ASSERT_EQUAL(cp_ctl_sessions(nodes[0].ctl), 2);
	CU_ASSERT(stats(0)->sessions_live == 0 && stats(0)->handshakes_pending == 0);
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
	sl_dh_keygen(c.hs.static_priv, pub);
	c.n_lcores = 0;
	CU_ASSERT(cp_ctl_create(&c, &world_ops, NULL, 0) == NULL && errno == EINVAL);
	c.n_lcores = 1;
	c.slots_per_lcore = SL_CONNID_MAX_SLOTS + 1;
	CU_ASSERT(cp_ctl_create(&c, &world_ops, NULL, 0) == NULL && errno == EINVAL);
	c.slots_per_lcore = 4;
	c.handshake_timeout_ns = c.retry_ns - 1;
	CU_ASSERT(cp_ctl_create(&c, &world_ops, NULL, 0) == NULL && errno == EINVAL);
	c.handshake_timeout_ns = 5 * SEC;
	c.suite = 9;
	CU_ASSERT(cp_ctl_create(&c, &world_ops, NULL, 0) == NULL && errno == EINVAL);
}

static CU_TestInfo cases[] = {
	{ "dial a peer that does not know us", test_dial },
	{ "simultaneous dials: one session, the lower key's", test_simultaneous_dials },
	{ "unreachable: timeout, back-off doubling to the cap, recovery",
	  test_timeout_and_backoff },
	{ "rekeys keep the session (either side)", test_rekey },
	{ "peer moved: rekeys follow it", test_peer_moved },
	{ "moved peer dials while we dial its old address", test_moved_peer_dials_while_we_dial },
	{ "rekey to a restarted peer: a new session", test_rekey_to_restarted_peer },
	{ "restarted peer dials: replaced at its first initiation", test_restarted_peer_dials },
	{ "crossed initiation reordered behind the answer: kept within the window",
	  test_crossed_initiation_reordered },
	{ "wrong network: refused with the reason", test_wrong_network },
	{ "under load: cookie round trip", test_cookie_under_load },
	{ "XX responder: session, expiry, replay", test_xx_responder },
	{ "refused XX initiations keep no slot", test_refused_xx_keep_no_slot },
	{ "session table under pressure: cookies first", test_table_pressure },
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
