/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the transmit queue (dataplane/dp_txq.h) — control packets ahead of data. A port of
 * the test's own takes as many packets as it is told to (none: its ring is full) and records
 * the order they left in. Scenarios: a handshake packet queued while the data batch is full
 * and the port takes nothing leaves before every data packet queued earlier; data waits while
 * any control packet waits; a full control queue refuses; taking everything out. Then long
 * random runs against a deliberately naive reference (two lists, the control one emptied
 * first).
 */
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "dp_txq.h"
#include "sl_test.h"

#define PORT_ID	 3
#define QUEUE_ID 1
#define WIRE_MAX 200000

/* Packets are tokens: distinct addresses the queue moves around and never dereferences. Data
 * packets are tokens 0.., control packets CTL_BASE.. */
#define CTL_BASE 100000
static char tokens[2 * CTL_BASE];

static struct rte_mbuf *
pkt(unsigned int i)
{
	return (struct rte_mbuf *)(void *)&tokens[i];
}

static unsigned int
id(const struct rte_mbuf *m)
{
	return (unsigned int)((const char *)(const void *)m - tokens);
}

static struct {
	unsigned int room; /* what the port takes before its ring is full */
	unsigned int wire[WIRE_MAX];
	unsigned int n_wire;
	bool wrong_queue;
} port;

static uint16_t
port_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t k = (uint16_t)RTE_MIN((unsigned int)n, port.room);

	port.wrong_queue |= port_id != PORT_ID || queue_id != QUEUE_ID;
	for (uint16_t i = 0; i < k && port.n_wire < WIRE_MAX; i++)
		port.wire[port.n_wire++] = id(pkts[i]);
	port.room -= k;
	return k;
}

static void
reset(struct dp_txq *q)
{
	memset(q, 0, sizeof(*q));
	q->port_id = PORT_ID;
	q->queue_id = QUEUE_ID;
	memset(&port, 0, sizeof(port));
}

/* What a sender at full speed does: fill the batch; the port (its ring full) takes nothing. */
static void
fill_data(struct dp_txq *q, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		CU_ASSERT_TRUE_FATAL(dp_txq_data_room(q));
		if (dp_txq_push_data(q, pkt(i)))
			dp_txq_flush(q, port_burst);
	}
}

static void
test_handshake_ahead_of_full_batch(void)
{
	struct dp_txq q;

	reset(&q);
	fill_data(&q, DP_TXQ_DATA);
	CU_ASSERT_EQUAL(q.n, DP_TXQ_DATA);
	CU_ASSERT_FALSE(dp_txq_data_room(&q)); /* a data packet would be refused now... */
	CU_ASSERT_TRUE(dp_txq_push_ctl(&q, pkt(CTL_BASE))); /* ...a handshake is not */
	CU_ASSERT_EQUAL(dp_txq_flush(&q, port_burst), 0);   /* the ring is still full */
	port.room = 1;					    /* one slot frees up */
	CU_ASSERT_EQUAL(dp_txq_flush(&q, port_burst), 1);
	CU_ASSERT_EQUAL(port.n_wire, 1);
	CU_ASSERT_EQUAL(port.wire[0], CTL_BASE); /* the handshake took it */
	CU_ASSERT_EQUAL(q.n, DP_TXQ_DATA);
	port.room = 1000;
	CU_ASSERT_EQUAL(dp_txq_flush(&q, port_burst), DP_TXQ_DATA);
	CU_ASSERT_EQUAL(port.n_wire, 1 + DP_TXQ_DATA);
	for (unsigned int i = 0; i < DP_TXQ_DATA; i++)
		CU_ASSERT_EQUAL(port.wire[1 + i], i); /* then the data, in order */
	CU_ASSERT_EQUAL(q.n + q.n_ctl, 0);
	CU_ASSERT_FALSE(port.wrong_queue);
}

static void
test_data_waits_for_control(void)
{
	static const unsigned int want[] = { CTL_BASE, CTL_BASE + 1, CTL_BASE + 2, 0, 1, 2 };
	struct dp_txq q;

	reset(&q);
	for (unsigned int i = 0; i < 3; i++) {
		CU_ASSERT_FALSE(dp_txq_push_data(&q, pkt(i)));
		CU_ASSERT_TRUE(dp_txq_push_ctl(&q, pkt(CTL_BASE + i)));
	}
	port.room = 2; /* part of the control queue */
	CU_ASSERT_EQUAL(dp_txq_flush(&q, port_burst), 2);
	CU_ASSERT_EQUAL(q.n_ctl, 1);
	CU_ASSERT_EQUAL(q.n, 3); /* no data offered while a control packet waits */
	port.room = 10;
	CU_ASSERT_EQUAL(dp_txq_flush(&q, port_burst), 4);
	CU_ASSERT_EQUAL(port.n_wire, RTE_DIM(want));
	for (unsigned int i = 0; i < RTE_DIM(want); i++)
		CU_ASSERT_EQUAL(port.wire[i], want[i]);
}

static void
test_control_queue_full(void)
{
	struct dp_txq q;

	reset(&q);
	for (unsigned int i = 0; i < DP_TXQ_CTL; i++)
		CU_ASSERT_TRUE(dp_txq_push_ctl(&q, pkt(CTL_BASE + i)));
	CU_ASSERT_FALSE(dp_txq_push_ctl(&q, pkt(CTL_BASE + DP_TXQ_CTL)));
	CU_ASSERT_EQUAL(q.n_ctl, DP_TXQ_CTL);
	port.room = 1;
	dp_txq_flush(&q, port_burst);
	CU_ASSERT_TRUE(dp_txq_push_ctl(&q, pkt(CTL_BASE + DP_TXQ_CTL))); /* room again */
}

static void
test_take_all(void)
{
	struct rte_mbuf *v[DP_TXQ_CTL + DP_TXQ_DATA];
	struct dp_txq q;

	reset(&q);
	fill_data(&q, DP_TXQ_DATA);
	for (unsigned int i = 0; i < DP_TXQ_CTL; i++)
		dp_txq_push_ctl(&q, pkt(CTL_BASE + i));
	CU_ASSERT_EQUAL(dp_txq_take_all(&q, v), DP_TXQ_CTL + DP_TXQ_DATA);
	for (unsigned int i = 0; i < DP_TXQ_CTL; i++)
		CU_ASSERT_EQUAL(id(v[i]), CTL_BASE + i);
	for (unsigned int i = 0; i < DP_TXQ_DATA; i++)
		CU_ASSERT_EQUAL(id(v[DP_TXQ_CTL + i]), i);
	CU_ASSERT_EQUAL(q.n + q.n_ctl, 0);
	CU_ASSERT_EQUAL(dp_txq_take_all(&q, v), 0);
	CU_ASSERT_EQUAL(port.n_wire, 0);
}

/* --- random runs against a naive reference ---------------------------------------------- */

/* The reference: two first-in first-out lists; a flush takes from the control list while the
 * port has room, and from the data list only once the control list is empty. */
struct ref {
	unsigned int ctl[CTL_BASE], data[CTL_BASE];
	unsigned int ctl_head, ctl_tail, data_head, data_tail;
	unsigned int wire[WIRE_MAX], n_wire;
};

static void
ref_flush(struct ref *r, unsigned int room)
{
	while (room > 0 && r->ctl_head < r->ctl_tail) {
		r->wire[r->n_wire++] = r->ctl[r->ctl_head++];
		room--;
	}
	if (r->ctl_head < r->ctl_tail)
		return;
	while (room > 0 && r->data_head < r->data_tail) {
		r->wire[r->n_wire++] = r->data[r->data_head++];
		room--;
	}
}

static void
random_run(uint64_t seed, unsigned int steps)
{
	static struct ref r;
	unsigned int next_data = 0, next_ctl = CTL_BASE;
	struct dp_txq q;

	reset(&q);
	memset(&r, 0, sizeof(r));
	for (unsigned int step = 0; step < steps; step++) {
		uint64_t x = sl_test_mix64(&seed);
		unsigned int room = (unsigned int)(x >> 8) % 40;

		switch (x % 4) {
		case 0: /* a session builds a packet if the batch has room (else it waits) */
		case 1:
			if (!dp_txq_data_room(&q))
				break;
			r.data[r.data_tail++] = next_data;
			if (dp_txq_push_data(&q, pkt(next_data++))) {
				port.room = room;
				dp_txq_flush(&q, port_burst);
				ref_flush(&r, room);
			}
			break;
		case 2: /* the control thread's packet */
			if (dp_txq_push_ctl(&q, pkt(next_ctl))) {
				r.ctl[r.ctl_tail++] = next_ctl;
				port.room = room;
				dp_txq_flush(&q, port_burst);
				ref_flush(&r, room);
			} else {
				CU_ASSERT_EQUAL(r.ctl_tail - r.ctl_head, DP_TXQ_CTL);
			}
			next_ctl++;
			break;
		default: /* the end of a round */
			port.room = room;
			dp_txq_flush(&q, port_burst);
			ref_flush(&r, room);
			break;
		}
		CU_ASSERT_EQUAL_FATAL(port.n_wire, r.n_wire);
		CU_ASSERT_EQUAL_FATAL(q.n, r.data_tail - r.data_head);
		CU_ASSERT_EQUAL_FATAL(q.n_ctl, r.ctl_tail - r.ctl_head);
		if (next_data >= CTL_BASE - 1 || next_ctl >= 2 * CTL_BASE - 1 ||
		    port.n_wire >= WIRE_MAX - 64)
			break;
	}
	CU_ASSERT_EQUAL(memcmp(port.wire, r.wire, r.n_wire * sizeof(r.wire[0])), 0);
	CU_ASSERT_FALSE(port.wrong_queue);
}

static void
test_random_vs_reference(void)
{
	for (uint64_t seed = 1; seed <= 20; seed++)
		random_run(seed * 0x9e3779b97f4a7c15ull, 20000);
}

static CU_TestInfo cases[] = {
	{ "a handshake queued behind a full data batch leaves first",
	  test_handshake_ahead_of_full_batch },
	{ "data waits while a control packet waits", test_data_waits_for_control },
	{ "a full control queue refuses", test_control_queue_full },
	{ "take everything out, control first", test_take_all },
	{ "random runs against a naive reference", test_random_vs_reference },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("txq", cases)
