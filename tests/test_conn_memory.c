/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: reliable engine unit tests — memory: what a connection keeps while busy (the records
 * of packets in flight, resolved whatever order their fate arrives in) is given back once it
 * is idle, and an idle connection fits in 1 KiB.
 */
#include <stdio.h>
#include <string.h>

#include "conn_pair.h"
#include "dp_frame.h"
#include "sl_test.h"

/* After a transfer everything is released: memory back near the baseline. */
static void
test_memory_returns(void)
{
	static uint8_t msg[200000];
	struct pair p;
	struct dp_msg *m;
	size_t base_a, base_b;

	pair_open(&p, NULL);
	base_a = dp_conn_memory(p.a);
	base_b = dp_conn_memory(p.b);
	for (int i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, sizeof(msg), 0, p.now, NULL), 0);
	pump(&p, 3000);
	while ((m = dp_conn_recv(p.b)) != NULL)
		dp_conn_msg_release(p.b, m);
	pump(&p, 200);
	/* the timers of an idle connection (its keepalive at the latest) release what a busy one
	 * kept allocated */
	dp_conn_tick(p.a, p.now);
	dp_conn_tick(p.b, p.now);
	printf("\n  idle memory: %zu and %zu bytes (baseline %zu, %zu)\n", dp_conn_memory(p.a),
	       dp_conn_memory(p.b), base_a, base_b);
	/* one channel struct each is all that remains, and an idle connection fits in 1 KiB */
	CU_ASSERT(dp_conn_memory(p.a) <= base_a + 256);
	CU_ASSERT(dp_conn_memory(p.b) <= base_b + 256);
	CU_ASSERT(dp_conn_memory(p.a) <= 1024 && dp_conn_memory(p.b) <= 1024);
	pair_close(&p);
}

static void
no_timers(struct dp_conn_config *cfg)
{
	cfg->keepalive_ns = 0;
	cfg->idle_timeout_ns = 0;
}

/* Without keepalives or an idle timeout, nothing else would ever wake an idle connection: the
 * engine asks for a tick DP_CONN_TRIM_NS after its last packet itself, and that tick releases
 * the in-flight records (100,000 idle sessions must not keep kilobytes each). */
static void
test_memory_returns_without_timers(void)
{
	static uint8_t msg[3000];
	struct pair p;
	struct dp_msg *m;
	size_t base_b;
	uint64_t last, wake;

	pair_open(&p, no_timers);
	base_b = dp_conn_memory(p.b);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, sizeof(msg), 0, p.now, NULL), 0);
	pump(&p, 50);
	while ((m = dp_conn_recv(p.b)) != NULL)
		dp_conn_msg_release(p.b, m);
	/* the receiver still holds the records of its ACK-only packets (nothing will ever ack
	 * them: the sender has nothing more to say); no keepalive, no idle timeout */
	last = p.now;
	CU_ASSERT(dp_conn_memory(p.b) > base_b + 256);
	wake = dp_conn_next_wakeup(p.b);
	CU_ASSERT(wake <= last + DP_CONN_TRIM_NS);
	p.now = wake;
	dp_conn_tick(p.a, p.now);
	dp_conn_tick(p.b, p.now);
	CU_ASSERT(dp_conn_memory(p.a) <= 1024);
	CU_ASSERT(dp_conn_memory(p.b) <= base_b + 256);
	/* and then it asks for nothing more */
	CU_ASSERT_EQUAL(dp_conn_next_wakeup(p.a), UINT64_MAX);
	CU_ASSERT_EQUAL(dp_conn_next_wakeup(p.b), UINT64_MAX);
	pair_close(&p);
}

static void
no_timers_no_pacing(struct dp_conn_config *cfg)
{
	no_timers(cfg);
	cfg->pacing = false;
}

/* One packet of c, kept for delivery in the order the test chooses. */
struct kept {
	uint64_t pn;
	size_t len;
	uint8_t buf[SL_MAX_PAYLOAD];
};

static bool
keep(struct pair *p, struct dp_conn *c, struct kept *k)
{
	int n = dp_conn_output(c, p->now, k->buf, sizeof(k->buf), &k->pn);

	k->len = n > 0 ? (size_t)n : 0;
	return n > 0;
}

/* b's ACK of what it has, handed to a. */
static void
ack_to_a(struct pair *p)
{
	static struct kept k;

	p->now += p->cfg.max_ack_delay_ns + 1;
	while (keep(p, p->b, &k))
		CU_ASSERT_EQUAL(dp_conn_input(p->a, k.pn, k.buf, k.len, p->now), 0);
}

/* What each packet carried is recorded from its first entry on, packets with nothing to record
 * (a PING alone) included; acknowledged out of order or declared lost, every record is resolved
 * once, the ring empties, and an idle connection gives it back. */
static void
test_records_resolved_in_any_order(void)
{
	static struct kept pk[8];
	static uint8_t msg[1000];
	struct pair p;
	struct dp_msg *m;
	size_t base;
	uint64_t id = 0;
	unsigned int bad = 0;

	pair_open(&p, no_timers_no_pacing);
	pump(&p, 50); /* the initial credit both ways, then idle */
	p.now += DP_CONN_TRIM_NS;
	dp_conn_tick(p.a, p.now);
	base = dp_conn_memory(p.a);
	/* 0: data, 1: a PING alone, 2: data */
	fill(msg, sizeof(msg), 0);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, sizeof(msg), 0, p.now, NULL), 0);
	CU_ASSERT_FATAL(keep(&p, p.a, &pk[0]));
	dp_conn_ping(p.a);
	CU_ASSERT_FATAL(keep(&p, p.a, &pk[1]));
	CU_ASSERT(pk[1].buf[0] == SL_FRAME_PING && pk[1].len < sizeof(msg)); /* no data in it */
	fill(msg, sizeof(msg), 1);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, sizeof(msg), 0, p.now, NULL), 0);
	CU_ASSERT_FATAL(keep(&p, p.a, &pk[2]));
	/* 2 and 1 arrive and are acknowledged first, 0 after them */
	for (int i = 2; i >= 1; i--)
		CU_ASSERT_EQUAL(dp_conn_input(p.b, pk[i].pn, pk[i].buf, pk[i].len, p.now), 0);
	ack_to_a(&p);
	CU_ASSERT_EQUAL(dp_conn_input(p.b, pk[0].pn, pk[0].buf, pk[0].len, p.now), 0);
	ack_to_a(&p);
	/* 3: data and 4: a PING alone never arrive; three later packets make them lost */
	fill(msg, sizeof(msg), 2);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, sizeof(msg), 0, p.now, NULL), 0);
	CU_ASSERT_FATAL(keep(&p, p.a, &pk[3]));
	dp_conn_ping(p.a);
	CU_ASSERT_FATAL(keep(&p, p.a, &pk[4]));
	for (int i = 5; i < 8; i++) {
		fill(msg, sizeof(msg), (uint32_t)i - 2);
		CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, sizeof(msg), 0, p.now, NULL), 0);
		CU_ASSERT_FATAL(keep(&p, p.a, &pk[i]));
		CU_ASSERT_EQUAL(dp_conn_input(p.b, pk[i].pn, pk[i].buf, pk[i].len, p.now), 0);
	}
	ack_to_a(&p);
	CU_ASSERT_EQUAL(dp_conn_stats_now(p.a).pkts_lost, 2);
	pump(&p, 200); /* the resend of 3's message */
	for (; (m = dp_conn_recv(p.b)) != NULL; id++) {
		fill(msg, sizeof(msg), (uint32_t)id);
		bad += m->id != id || m->len != sizeof(msg) || memcmp(m->data, msg, m->len) != 0;
		dp_conn_msg_release(p.b, m);
	}
	CU_ASSERT_EQUAL(id, 6);
	CU_ASSERT_EQUAL(bad, 0);
	/* nothing in flight: the records go at a trim, the lost ones' after three PTOs */
	for (int i = 0; i < 10; i++) {
		p.now += DP_CONN_TRIM_NS;
		dp_conn_tick(p.a, p.now);
	}
	CU_ASSERT(dp_conn_memory(p.a) <= base + 256);
	pair_close(&p);
}

static CU_TestInfo cases[] = {
	{ "memory returns to the baseline", test_memory_returns },
	{ "memory returns without keepalive or idle timeout", test_memory_returns_without_timers },
	{ "packet records resolved in any order, then released",
	  test_records_resolved_in_any_order },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("conn_memory", cases)
