/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: control-thread tests, the control channel — control messages from one node's control
 * thread to another's through cp_ctl (cp_ctl_control_send, DP_CMD_CONTROL_SEND, DP_EVT_CONTROL,
 * cp_ctl_ops.control), the HELLO every new session starts with (cp_control), and what the
 * CONNECTED note says of the peer. Same world as test_ctl.c (ctl_world.h: cp_ctl instances on an
 * in-memory network, a model dataplane that queues control messages on a session and carries
 * them to the peer's matching session, virtual time).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <sodium.h>

#include "cp_control.h"
#include "cp_ctl.h"
#include "ctl_world.h"
#include "sl_eal_test.h"
#include "sl_wire.h"

static struct rte_mempool *pool;

/* node0 dials node1 (node1 does not know it) and they connect. */
static void
connect_pair(void (*tweak1)(struct cp_ctl_config *))
{
	add_peer(0, 1);
	node_start(0, NULL);
	node_start(1, tweak1);
	run_for(300 * MS);
	CU_ASSERT_FATAL(connected(0, 1));
}

static int
send_ctl(unsigned int i, unsigned int j, const void *msg, size_t len)
{
	return cp_ctl_control_send(nodes[i].ctl, nodes[j].pub, msg, len);
}

/* A DP_EVT_CONTROL from node i's lcore as if its session (lcore, slot, connid) received msg. */
static void
control_event(unsigned int i, unsigned int lcore, uint32_t slot, uint32_t connid, const char *msg)
{
	struct dp_evt ev = { .type = DP_EVT_CONTROL, .slot = slot, .connid = connid };

	ev.len = (uint16_t)strlen(msg);
	ev.msg = malloc(ev.len);
	CU_ASSERT_FATAL(ev.msg != NULL);
	memcpy(ev.msg, msg, ev.len);
	push_event(&nodes[i], lcore, &ev); /* freed by the world once delivered */
}

/* --- tests ---------------------------------------------------------------------------------- */

static void
test_send_without_session(void)
{
	uint8_t stranger[SL_KEY_LEN], big[SL_CONTROL_MSG_MAX + 1] = { 0 };

	world_reset(2);
	add_peer(0, 1);
	nodes[1].offline = true; /* node0 dials in vain */
	node_start(0, NULL);
	node_start(1, NULL);
	run_for(200 * MS);
	CU_ASSERT_EQUAL(view(0, 1).info.state, CP_NODE_DIALING);
	CU_ASSERT_EQUAL(send_ctl(0, 1, "x", 1), -ENOTCONN);
	randombytes_buf(stranger, sizeof(stranger));
	CU_ASSERT_EQUAL(cp_ctl_control_send(nodes[0].ctl, stranger, "x", 1), -ENOTCONN);
	CU_ASSERT_EQUAL(send_ctl(0, 1, big, 0), -EMSGSIZE);
	nodes[1].offline = false;
	run_for(3 * SEC);
	CU_ASSERT_FATAL(connected(0, 1));
	CU_ASSERT_EQUAL(send_ctl(0, 1, big, 0), -EMSGSIZE);
	CU_ASSERT_EQUAL(send_ctl(0, 1, big, sizeof(big)), -EMSGSIZE);
	CU_ASSERT_EQUAL(send_ctl(0, 1, big, SL_CONTROL_MSG_MAX), 0); /* the largest goes */
	/* a session being closed takes no more */
	CU_ASSERT_EQUAL(cp_ctl_disconnect(nodes[0].ctl, nodes[1].pub, now), 0);
	CU_ASSERT_EQUAL(send_ctl(0, 1, "x", 1), -ENOTCONN);
	CU_ASSERT_EQUAL(nodes[0].ctl_cmds, 1);
	CU_ASSERT_EQUAL(stats(0)->control_sent, 1);
	world_end();
}

/* A message becomes one command with the bytes, naming the session as it was opened; the peer's
 * control gets it with the sender's key; both count it, in total and per node. */
static void
test_send_and_receive(void)
{
	uint8_t msg[SL_CONTROL_MSG_MAX];
	uint32_t id;

	world_reset(2);
	connect_pair(NULL);
	id = view(0, 1).info.connid;
	randombytes_buf(msg, sizeof(msg));
	CU_ASSERT_EQUAL(send_ctl(0, 1, msg, sizeof(msg)), 0);
	CU_ASSERT_EQUAL(nodes[0].ctl_cmds, 1);
	CU_ASSERT_EQUAL(nodes[0].last_ctl_cmd.type, DP_CMD_CONTROL_SEND);
	CU_ASSERT_EQUAL(nodes[0].last_ctl_cmd.slot, sl_connid_slot(id));
	CU_ASSERT_EQUAL(nodes[0].last_ctl_cmd.connid, id);
	CU_ASSERT_EQUAL(nodes[0].last_ctl_cmd.len, sizeof(msg));
	CU_ASSERT_EQUAL(memcmp(nodes[0].last_ctl_bytes, msg, sizeof(msg)), 0);
	step();
	CU_ASSERT_EQUAL(nodes[1].n_ctl_rx, 1);
	CU_ASSERT_EQUAL(memcmp(nodes[1].ctl_rx_pub, nodes[0].pub, SL_KEY_LEN), 0);
	CU_ASSERT_EQUAL(nodes[1].ctl_rx_len, sizeof(msg));
	CU_ASSERT_EQUAL(memcmp(nodes[1].ctl_rx, msg, sizeof(msg)), 0);
	/* the other way, several in a row: in order */
	CU_ASSERT_EQUAL(send_ctl(1, 0, "one", 3), 0);
	CU_ASSERT_EQUAL(send_ctl(1, 0, "two", 3), 0);
	CU_ASSERT_EQUAL(send_ctl(1, 0, "three", 5), 0);
	step();
	CU_ASSERT_EQUAL(nodes[0].n_ctl_rx, 3);
	CU_ASSERT(nodes[0].ctl_rx_len == 5 && memcmp(nodes[0].ctl_rx, "three", 5) == 0);
	CU_ASSERT_EQUAL(memcmp(nodes[0].ctl_rx_pub, nodes[1].pub, SL_KEY_LEN), 0);
	CU_ASSERT(stats(0)->control_sent == 1 && stats(0)->control_received == 3);
	CU_ASSERT(stats(1)->control_sent == 3 && stats(1)->control_received == 1);
	CU_ASSERT(view(0, 1).info.control_sent == 1 && view(0, 1).info.control_received == 3);
	CU_ASSERT(view(1, 0).info.control_sent == 3 && view(1, 0).info.control_received == 1);
	CU_ASSERT(stats(0)->control_stale == 0 && stats(1)->control_stale == 0);
	CU_ASSERT(nodes[0].ctl_cmd_stale == 0 && nodes[1].ctl_cmd_stale == 0);
	world_end();
}

/* A rekey changes the connection id, not the name the lcore knows the session by. */
static void
test_rekey_keeps_the_channel(void)
{
	uint32_t id;
	struct dp_evt ev = { .type = DP_EVT_REKEY };

	world_reset(2);
	connect_pair(NULL);
	id = view(0, 1).info.connid;
	ev.slot = sl_connid_slot(id);
	push_event(&nodes[0], sl_connid_owner(id), &ev);
	run_for(100 * MS);
	CU_ASSERT_FATAL(connected(0, 1));
	CU_ASSERT_FATAL(view(0, 1).info.rekeys == 1 && view(0, 1).info.connid != id);
	CU_ASSERT_EQUAL(send_ctl(0, 1, "after", 5), 0);
	CU_ASSERT_EQUAL(nodes[0].last_ctl_cmd.connid, id);
	CU_ASSERT_EQUAL(send_ctl(1, 0, "back", 4), 0);
	step();
	CU_ASSERT(nodes[1].n_ctl_rx == 1 && nodes[0].n_ctl_rx == 1);
	CU_ASSERT(stats(0)->control_stale == 0 && stats(1)->control_stale == 0);
	CU_ASSERT(nodes[0].ctl_cmd_stale == 0 && nodes[1].ctl_cmd_stale == 0);
	world_end();
}

/* Events that name no current session of a node are counted, and nobody hears of them. */
static void
test_stale_events(void)
{
	uint32_t id, old;
	unsigned int lc;

	world_reset(2);
	connect_pair(NULL);
	id = view(1, 0).info.connid; /* node1's session with node0 */
	lc = sl_connid_owner(id);
	control_event(1, lc, sl_connid_slot(id), id, "current"); /* the real one, for contrast */
	control_event(1, lc, sl_connid_slot(id), id ^ 1, "wrong generation");
	control_event(1, lc, (sl_connid_slot(id) + 1) % SLOTS, id, "free slot");
	control_event(1, LCORES, 0, id, "no such lcore");
	control_event(1, lc, SLOTS, id, "no such slot");
	step();
	CU_ASSERT_EQUAL(nodes[1].n_ctl_rx, 1);
	CU_ASSERT(nodes[1].ctl_rx_len == 7 && memcmp(nodes[1].ctl_rx, "current", 7) == 0);
	CU_ASSERT_EQUAL(stats(1)->control_received, 1);
	CU_ASSERT_EQUAL(stats(1)->control_stale, 4);
	/* node0 restarts and dials again: node1's session with it is replaced; a message of the
	 * old one that comes late reaches nobody */
	old = id;
	node_crash(0);
	node_start(0, NULL);
	run_for(300 * MS);
	CU_ASSERT_FATAL(connected(0, 1));
	CU_ASSERT_EQUAL(stats(1)->replaced, 1);
	id = view(1, 0).info.connid;
	control_event(1, sl_connid_owner(old), sl_connid_slot(old), old, "late");
	step();
	CU_ASSERT_EQUAL(nodes[1].n_ctl_rx, 1);
	CU_ASSERT_EQUAL(stats(1)->control_stale, 5);
	control_event(1, sl_connid_owner(id), sl_connid_slot(id), id, "new");
	step();
	CU_ASSERT_EQUAL(nodes[1].n_ctl_rx, 2);
	CU_ASSERT_EQUAL(view(1, 0).info.control_received, 2);
	world_end();
}

/* The command ring has no room: -ENOBUFS, counted, the copy freed (ASan), nothing counted
 * as sent. */
static void
test_ring_full(void)
{
	world_reset(2);
	connect_pair(NULL);
	nodes[0].refuse_control = true;
	CU_ASSERT_EQUAL(send_ctl(0, 1, "x", 1), -ENOBUFS);
	CU_ASSERT_EQUAL(stats(0)->control_ring_full, 1);
	CU_ASSERT_EQUAL(stats(0)->control_sent, 0);
	CU_ASSERT_EQUAL(view(0, 1).info.control_sent, 0);
	nodes[0].refuse_control = false;
	CU_ASSERT_EQUAL(send_ctl(0, 1, "x", 1), 0);
	step();
	CU_ASSERT_EQUAL(nodes[1].n_ctl_rx, 1);
	world_end();
}

/* A session closed with messages still queued on it: they are lost with it (as its engine's
 * undelivered count says), never delivered to the next session. */
static void
test_queued_on_a_closing_session(void)
{
	uint32_t id;

	world_reset(2);
	connect_pair(NULL);
	id = view(0, 1).info.connid;
	CU_ASSERT_EQUAL(send_ctl(0, 1, "late", 4), 0);
	close_slot(&nodes[0], sl_connid_owner(id), sl_connid_slot(id), SL_CLOSE_IDLE, false);
	run_for(3 * SEC); /* closed, then dialled again */
	CU_ASSERT_FATAL(connected(0, 1));
	CU_ASSERT_EQUAL(nodes[1].n_ctl_rx, 0);
	world_end();
}

/* --- HELLO ---------------------------------------------------------------------------------- */

static void
test_hello(void)
{
	const struct cp_control_stats *c0, *c1;

	world_reset(2);
	nodes[0].greet = nodes[1].greet = true;
	connect_pair(NULL);
	step();
	c0 = cp_control_stats(&nodes[0].cc);
	c1 = cp_control_stats(&nodes[1].cc);
	CU_ASSERT(c0->hello_sent == 1 && c0->hello_received == 1 && c0->hello_send_failed == 0);
	CU_ASSERT(c1->hello_sent == 1 && c1->hello_received == 1 && c1->hello_send_failed == 0);
	/* each is told the address its packets come from */
	CU_ASSERT(c0->observed_ip == nodes[0].ip && c0->observed_port == 4789);
	CU_ASSERT(c1->observed_ip == nodes[1].ip && c1->observed_port == 4789);
	CU_ASSERT_EQUAL(nodes[0].last_ctl_cmd.len, sizeof(struct sl_ctl_hello));
	CU_ASSERT_EQUAL(nodes[0].last_ctl_bytes[0], SL_CTL_HELLO);
	/* a new session: a new HELLO each way */
	{
		uint32_t id = view(0, 1).info.connid;

		close_slot(&nodes[0], sl_connid_owner(id), sl_connid_slot(id), SL_CLOSE_IDLE,
			   false);
	}
	run_for(3 * SEC);
	CU_ASSERT_FATAL(connected(0, 1));
	CU_ASSERT(c0->hello_sent == 2 && c0->hello_received == 2);
	CU_ASSERT(c1->hello_sent == 2 && c1->hello_received == 2);
	CU_ASSERT(c0->control_malformed == 0 && c0->control_unknown_type == 0);
	world_end();
}

/* A control header: type, version, len as given. */
static struct sl_ctl_hdr
ctl_hdr(uint8_t type, uint8_t version, size_t len)
{
	return (struct sl_ctl_hdr){ .type = type,
				    .version = version,
				    .len = rte_cpu_to_be_16((uint16_t)len) };
}

static struct sl_ctl_hello
hello_msg(size_t len_field)
{
	return (struct sl_ctl_hello){ .hdr = ctl_hdr(SL_CTL_HELLO, SL_CTL_VERSION, len_field) };
}

/* Unknown types and malformed messages are counted and ignored. */
static void
test_unknown_and_malformed(void)
{
	struct {
		struct sl_ctl_hdr h;
		uint8_t body[3];
	} __rte_packed unknown = { ctl_hdr(0x7f, SL_CTL_VERSION, 11), { 1, 2, 3 } };
	struct sl_ctl_hdr newer = ctl_hdr(SL_CTL_HELLO, SL_CTL_VERSION + 1, 8);
	struct sl_ctl_hdr len_off = ctl_hdr(0x7f, SL_CTL_VERSION, 9);
	struct sl_ctl_hdr reserved = ctl_hdr(0x7f, SL_CTL_VERSION, 8);
	struct sl_ctl_hdr type_zero = ctl_hdr(0, SL_CTL_VERSION, 8);
	struct sl_ctl_hello two_hellos[2] = { hello_msg(32), hello_msg(16) };
	struct sl_ctl_hello bad_hello = hello_msg(16);
	const uint8_t short_hdr[] = { SL_CTL_HELLO, SL_CTL_VERSION, 0, 4 };
	const struct cp_control_stats *c1;

	reserved.reserved = rte_cpu_to_be_32(1);
	bad_hello.reserved = 1;
	world_reset(2);
	nodes[0].greet = nodes[1].greet = true;
	connect_pair(NULL);
	step();
	c1 = cp_control_stats(&nodes[1].cc);
	CU_ASSERT_EQUAL(send_ctl(0, 1, &unknown, sizeof(unknown)), 0);	  /* unknown */
	CU_ASSERT_EQUAL(send_ctl(0, 1, &newer, sizeof(newer)), 0);	  /* unknown */
	CU_ASSERT_EQUAL(send_ctl(0, 1, short_hdr, sizeof(short_hdr)), 0); /* malformed ... */
	CU_ASSERT_EQUAL(send_ctl(0, 1, &len_off, sizeof(len_off)), 0);
	CU_ASSERT_EQUAL(send_ctl(0, 1, &reserved, sizeof(reserved)), 0);
	CU_ASSERT_EQUAL(send_ctl(0, 1, &type_zero, sizeof(type_zero)), 0);
	CU_ASSERT_EQUAL(send_ctl(0, 1, "\x03", 1), 0);
	CU_ASSERT_EQUAL(send_ctl(0, 1, two_hellos, sizeof(two_hellos)), 0); /* HELLO of 32 */
	CU_ASSERT_EQUAL(send_ctl(0, 1, &bad_hello, sizeof(bad_hello)), 0);
	step();
	CU_ASSERT_EQUAL(c1->control_unknown_type, 2);
	CU_ASSERT_EQUAL(c1->control_malformed, 7);
	CU_ASSERT_EQUAL(c1->hello_received, 1); /* the session's own */
	CU_ASSERT_EQUAL(stats(1)->control_received, 10);
	CU_ASSERT_EQUAL(c1->observed_ip, nodes[1].ip); /* no bad HELLO changed it */
	world_end();
}

/* --- what CONNECTED says of the peer -------------------------------------------------------- */

static void
advertise(struct cp_ctl_config *c)
{
	c->hs.capabilities = SL_CAP_PEX | SL_CAP_RELAY;
	c->hs.n_addrs = 2;
	c->hs.addrs[1].ip = 0xc6120909; /* 198.18.9.9 */
	c->hs.addrs[1].port = 5000;
}

static void
test_connected_note(void)
{
	const struct cp_note *n0 = &nodes[0].last_conn, *n1 = &nodes[1].last_conn;
	const struct cp_hs_addr *a0 = nodes[0].last_conn_addrs;
	struct find f;

	world_reset(2);
	connect_pair(advertise);
	CU_ASSERT(n0->initiator && !n1->initiator);
	CU_ASSERT_EQUAL(n0->capabilities, SL_CAP_PEX | SL_CAP_RELAY);
	CU_ASSERT_EQUAL(n0->n_addrs, 2);
	CU_ASSERT(a0[0].ip == nodes[1].ip && a0[0].port == 4789);
	CU_ASSERT(a0[1].ip == 0xc6120909 && a0[1].port == 5000);
	CU_ASSERT_EQUAL(n1->capabilities, 0);
	CU_ASSERT_EQUAL(n1->n_addrs, 1);
	CU_ASSERT(nodes[1].last_conn_addrs[0].ip == nodes[0].ip);
	f = view(0, 1);
	CU_ASSERT(f.info.capabilities == (SL_CAP_PEX | SL_CAP_RELAY) && f.info.n_addrs == 2);
	CU_ASSERT(f.info.addrs[1].ip == 0xc6120909 && f.info.addrs[1].port == 5000);
	world_end();
}

static CU_TestInfo cases[] = {
	{ "send without a live session: -ENOTCONN; sizes: -EMSGSIZE", test_send_without_session },
	{ "send: a command with the bytes; received: the callback with the sender's key",
	  test_send_and_receive },
	{ "a rekey keeps the control channel", test_rekey_keeps_the_channel },
	{ "events of no current session: counted, not delivered", test_stale_events },
	{ "command ring full: -ENOBUFS, counted", test_ring_full },
	{ "messages queued on a closed session die with it", test_queued_on_a_closing_session },
	{ "HELLO: one each way per new session, the observed address", test_hello },
	{ "unknown types and malformed messages: counted, ignored", test_unknown_and_malformed },
	{ "CONNECTED note: role, the peer's capabilities and listen addresses",
	  test_connected_note },
	CU_TEST_INFO_NULL,
};

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	return sl_eal_test_main("ctl_control", cases, &pool);
}
