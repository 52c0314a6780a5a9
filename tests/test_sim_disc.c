/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: discovery at work in the simulator (sim_disc.h) — a few hundred nodes running the
 * appliance's cp_disc (address book, peer exchange, pool) with churn: they reach their
 * outbound target, their sessions form one connected graph within the pool's caps, the run is
 * the same bit for bit for the same seed (and not for another), and against an attacker
 * holding a fifth of all addresses that floods ADDR into a converged network with full books,
 * bucketing keeps the attacker's share of outbound peers and of the books well under what flat
 * tables let it take (and eclipses no more nodes). Virtual time only: nothing here depends on
 * the machine.
 */
#include <string.h>

#include "sim_disc.h"
#include "sl_test.h"

/* The small world of these cases: 200 honest nodes, 2 seeds, 5 minutes with churn. */
static void
small(struct sim_disc_config *c)
{
	sim_disc_config_defaults(c);
	c->seed = 7;
	c->nodes = 200;
	c->seeds = 2;
	c->join_window_ns = 30 * SIM_DISC_NS;
	c->duration_ns = 300 * SIM_DISC_NS;
	c->churn_per_min = 0.02;
}

static void
run(const struct sim_disc_config *c, struct sim_disc_metrics *m)
{
	struct sim_disc *w = sim_disc_create(c);

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT_EQUAL(sim_disc_run(w), 0);
	sim_disc_metrics(w, m);
	sim_disc_destroy(w);
	CU_ASSERT_FALSE(m->truncated);
}

/* Every honest node reaches its target; the graph is connected and within the caps. */
static void
t_converges(void)
{
	struct sim_disc_config c;
	struct sim_disc_metrics m;
	uint32_t hist_sum = 0;

	small(&c);
	run(&c, &m);
	CU_ASSERT_EQUAL(m.honest_live, c.nodes);
	CU_ASSERT(m.left > 0); /* churn happened */
	CU_ASSERT_EQUAL(m.joined, c.nodes + m.left);
	CU_ASSERT(m.t99_ns != UINT64_MAX && m.t99_ns < c.duration_ns);
	CU_ASSERT(m.at_target_end >= 0.95);
	CU_ASSERT(m.reached >= c.nodes);
	CU_ASSERT(m.to_target_p50_ns <= m.to_target_p99_ns &&
		  m.to_target_p99_ns <= m.to_target_max_ns);
	CU_ASSERT_TRUE(m.g_connected);
	CU_ASSERT_EQUAL(m.g_components, 1);
	CU_ASSERT_EQUAL(m.g_largest, c.nodes);
	CU_ASSERT(m.g_diameter >= 2 && m.g_diameter <= 8);
	CU_ASSERT(m.outdeg_max <= c.outbound);
	CU_ASSERT(m.indeg_max <= c.inbound);
	for (int i = 0; i <= SIM_DISC_INDEG_MAX; i++)
		hist_sum += m.indeg_hist[i];
	CU_ASSERT_EQUAL(hist_sum, m.g_nodes);
	/* every edge has one dialler and one dialled end */
	CU_ASSERT(m.indeg_mean * m.g_nodes > m.g_edges - 0.5 &&
		  m.indeg_mean * m.g_nodes < m.g_edges + 0.5);
	CU_ASSERT_EQUAL(m.eclipsed, 0);
	CU_ASSERT_EQUAL(m.attacker_book_entries, 0);
}

/* The same seed gives the same run, bit for bit; another seed another run. */
static void
t_reproducible(void)
{
	struct sim_disc_config c;
	struct sim_disc_metrics a, b, other;

	small(&c);
	c.duration_ns = 150 * SIM_DISC_NS;
	c.attacker_share = 0.05;
	run(&c, &a);
	run(&c, &b);
	CU_ASSERT_EQUAL(a.digest, b.digest);
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	c.seed++;
	run(&c, &other);
	CU_ASSERT_NOT_EQUAL(a.digest, other.digest);
}

/* An attacker holding a fifth of all addresses comes up once the network has converged and
 * floods: answers of its own addresses only, unsolicited ADDRs. The books are small (160
 * addresses for 250 in the world) so they are full and a flood has something to push out:
 * bucketed books keep the fresh honest entries they hold, flat tables evict at random. At this
 * size eclipses are a handful either way, so the clear inequality is on what they are made of:
 * the attacker's share of outbound peers and of the books. */
static void
t_bucketing_resists(void)
{
	struct sim_disc_config c;
	struct sim_disc_metrics b, f;

	small(&c);
	c.duration_ns = 600 * SIM_DISC_NS;
	c.churn_per_min = 0.05;
	c.attacker_share = 0.2;
	c.attacker_start_ns = 120 * SIM_DISC_NS;
	c.book.new_buckets = 16;
	c.book.new_per_source_group = 2;
	c.book.tried_buckets = 4;
	c.book.tried_per_group = 1;
	c.book.bucket_size = 8;
	run(&c, &b);
	c.book.bucketing = false;
	run(&c, &f);
	CU_ASSERT_EQUAL(b.attackers, 50);
	CU_ASSERT(f.attacker_out_frac > 0.05); /* the attack works on flat tables */
	printf("\n  attacker's share of outbound peers: bucketed %.3f, flat %.3f; of books %.3f, "
	       "%.3f",
	       b.attacker_out_frac, f.attacker_out_frac, b.book_attacker_frac,
	       f.book_attacker_frac);
	/* outbound: about 2.8x at this seed (3.5 % of outbound peers the attacker's, bucketed, 9.8
	 * % flat); the books: about 4x */
	CU_ASSERT(f.attacker_out_frac > 2 * b.attacker_out_frac);
	CU_ASSERT(f.book_attacker_frac > 3 * b.book_attacker_frac);
	CU_ASSERT(b.eclipsed <= f.eclipsed);
	CU_ASSERT(b.eclipsed <= b.with_out && f.eclipsed <= f.with_out);
	/* the spam was dropped, counted, and its senders closed and marked bad */
	CU_ASSERT(b.pex_unsolicited > 0 && b.peers_bad > 0);
	CU_ASSERT(f.pex_unsolicited > 0 && f.peers_bad > 0);
}

static CU_TestInfo cases[] = {
	{ "converges", t_converges },
	{ "reproducible", t_reproducible },
	{ "bucketing_resists", t_bucketing_resists },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("sim_disc", cases)
