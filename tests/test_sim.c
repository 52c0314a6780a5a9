/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the reliable engine (dp_conn.h) in the deterministic network simulator — the
 * scenarios of issue 3. Every scenario asserts byte-exact, exactly-once, per-channel in-order
 * delivery with no duplicate, no protocol violation counted at either end, and completion
 * before a virtual-time deadline; then its own property. Each prints its goodput as a fraction
 * of the link's bandwidth (application bytes over the time from the first message accepted
 * to the last one delivered).
 *
 * All times are virtual: nothing here depends on the machine's speed (the whole program takes
 * about two seconds under ASan).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sim_app.h"
#include "sl_test.h"

#define MBIT	  1000000ull
#define SEC	  SIM_NS_PER_SEC
#define MB	  1000000u
#define KIB	  1024u
#define MIB	  (1024u * 1024u)
#define BW	  (10 * MBIT)
#define DELAY	  (15 * SIM_MS)
#define QUEUE	  25
#define MAX_MSG	  (16 * MIB)
#define BULK_CHAN 1
#define SLACK	  (64 * KIB) /* bookkeeping beyond message bytes */
/* Events a scenario may take (they need ~15,000): bounds the wall time of a runaway engine
 * to seconds even where virtual time crawls. */
#define MAX_EVENTS (5 * 1000 * 1000)

/* --- the world of a scenario -------------------------------------------------------------- */

struct world {
	const char *name;
	uint64_t seed;
	struct dp_conn_config cfg;
	struct sim_link_config link; /* both directions */
	struct sim *sim;
	struct sim_ep *a, *b; /* a sends, b receives */
	struct sim_traffic *t;
	enum sim_result result;
	size_t a_base, b_base; /* dp_conn_memory() when created */
};

/* SLUICE_SIM_SEEDS (default 1): run every scenario with that many seeds, for soaking. */
static uint64_t seed_offset;

static uint64_t
n_seeds(void)
{
	const char *s = getenv("SLUICE_SIM_SEEDS");
	unsigned long long v = s != NULL ? strtoull(s, NULL, 10) : 1;

	return v >= 1 ? v : 1;
}

static void
for_seeds(void (*run)(void))
{
	for (seed_offset = 0; seed_offset < n_seeds(); seed_offset++)
		run();
	seed_offset = 0;
}

#define SEEDED(name)                   \
	static void test_##name(void)  \
	{                              \
		for_seeds(run_##name); \
	}

/* The link: 10 Mbit/s, 15 ms one way, 25 packets of queue. */
static struct sim_link_config
base_link(void)
{
	return (struct sim_link_config){ .bandwidth_bps = BW,
					 .delay_ns = DELAY,
					 .queue_limit = QUEUE };
}

/* Engine defaults, with messages, windows and queues large enough for the transfers. */
static void
base_config(struct dp_conn_config *cfg)
{
	dp_conn_config_defaults(cfg);
	cfg->max_message = MAX_MSG;
	cfg->chan_window = MAX_MSG;
	cfg->conn_window = 2 * MAX_MSG;
	for (unsigned int c = 0; c < cfg->n_channels; c++)
		cfg->chan[c].queue_limit = 2 * MAX_MSG;
}

static void
world_init(struct world *w, const char *name, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->name = name;
	w->seed = seed + seed_offset * 1000003;
	w->link = base_link();
	base_config(&w->cfg);
}

/* Build endpoints, links and traffic from w->cfg, w->link and the streams. */
static void
world_start(struct world *w, const struct sim_stream_config *streams, unsigned int n)
{
	const char *why = dp_conn_config_check(&w->cfg);

	if (why != NULL)
		printf("\n    config rejected: %s\n", why);
	CU_ASSERT_PTR_NULL_FATAL(why);
	w->sim = sim_create(w->seed);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->sim);
	sim_set_event_limit(w->sim, MAX_EVENTS);
	w->a = sim_ep_create(w->sim, "a", &w->cfg);
	w->b = sim_ep_create(w->sim, "b", &w->cfg);
	CU_ASSERT_FATAL(w->a != NULL && w->b != NULL);
	w->a_base = dp_conn_memory(sim_ep_conn(w->a));
	w->b_base = dp_conn_memory(sim_ep_conn(w->b));
	CU_ASSERT_EQUAL_FATAL(sim_ep_connect(w->a, w->b, &w->link, &w->link), 0);
	w->t = sim_traffic_create(w->a, w->b, w->seed, streams, n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->t);
	sim_ep_run(w->a);
	sim_ep_run(w->b);
}

static void
world_run(struct world *w, uint64_t deadline_ns)
{
	w->result = sim_run(w->sim, deadline_ns, sim_traffic_done, w->t);
}

static void
world_fini(struct world *w)
{
	sim_traffic_destroy(w->t);
	sim_ep_destroy(w->a);
	sim_ep_destroy(w->b);
	sim_destroy(w->sim);
}

/* --- checks and reports ------------------------------------------------------------------- */

/* Drop reasons that only a broken peer (here: a broken engine) can cause. */
static uint64_t
protocol_drops(const struct dp_conn_stats *st)
{
	static const enum dp_conn_drop bad[] = {
		DP_CONN_DROP_MALFORMED,	   DP_CONN_DROP_UNKNOWN_FRAME,	  DP_CONN_DROP_ACK_UNSENT,
		DP_CONN_DROP_BAD_CHANNEL,  DP_CONN_DROP_BAD_OFFSET,	  DP_CONN_DROP_TOO_LARGE,
		DP_CONN_DROP_FLOW_CONTROL, DP_CONN_DROP_CREDIT_BACKWARDS,
	};
	uint64_t n = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (st->drops[bad[i]] != 0)
			printf("    drop %s: %" PRIu64 "\n", dp_conn_drop_name(bad[i]),
			       st->drops[bad[i]]);
		n += st->drops[bad[i]];
	}
	return n;
}

static void
print_engine(const struct sim_ep *ep)
{
	const struct dp_conn_stats stv = dp_conn_stats_now(sim_ep_conn(ep)), *st = &stv;

	printf("    engine %s: pkts sent %" PRIu64 " recv %" PRIu64 ", lost %" PRIu64
	       ", frags resent %" PRIu64 ", PTOs %" PRIu64 ", acks %" PRIu64
	       ", srtt %.1f ms (min %.1f, var %.1f), cwnd %" PRIu64 ", dup pkts %" PRIu64
	       ", memory max %zu at %.6f s\n",
	       sim_ep_name(ep), st->pkts_sent, st->pkts_recv, st->pkts_lost,
	       st->frags_retransmitted, st->ptos, st->acks_sent, st->rtt_smoothed_ns / 1e6,
	       st->rtt_min_ns / 1e6, st->rtt_var_ns / 1e6, st->cwnd,
	       st->drops[DP_CONN_DROP_DUPLICATE], sim_ep_stats(ep)->max_memory,
	       sim_ep_stats(ep)->max_memory_at / 1e9);
}

/* Memory an endpoint may hold beyond what it had when created: as a receiver its window plus
 * one message being reassembled (a reassembly buffer is allocated whole); as a sender its
 * channel queues. Both plus bookkeeping. */
static size_t
memory_bound(const struct dp_conn_config *cfg, bool sender)
{
	size_t n = (size_t)cfg->conn_window + cfg->max_message + SLACK;

	for (unsigned int c = 0; c < cfg->n_channels && sender; c++)
		n += cfg->chan[c].queue_limit;
	return n;
}

/* Endpoint-level sanity: no input error, no packet number reused, no runaway, no close,
 * memory within bounds. */
static void
check_endpoint(const struct sim_ep *ep, const struct dp_conn_config *cfg, size_t base, bool sender)
{
	const struct sim_ep_stats *st = sim_ep_stats(ep);
	const struct dp_conn_stats es = dp_conn_stats_now(sim_ep_conn(ep));
	size_t bound = base + memory_bound(cfg, sender);

	if (st->input_errors != 0)
		printf("    %s: %" PRIu64 " input errors (last %d)\n", sim_ep_name(ep),
		       st->input_errors, st->last_input_error);
	if (st->closed_at != UINT64_MAX)
		printf("    %s: closed at %.3f s, reason %u, by peer %d\n", sim_ep_name(ep),
		       st->closed_at / 1e9, st->close_reason, st->closed_by_peer);
	CU_ASSERT_EQUAL(st->input_errors, 0);
	CU_ASSERT_EQUAL(st->pn_reused, 0);
	CU_ASSERT_EQUAL(st->output_runaway, 0);
	if (st->max_memory > bound)
		printf("    %s: memory %zu at %.6f s, above %zu\n", sim_ep_name(ep), st->max_memory,
		       st->max_memory_at / 1e9, bound);
	CU_ASSERT_EQUAL(st->closed_at, UINT64_MAX);
	CU_ASSERT_EQUAL(protocol_drops(&es), 0);
	CU_ASSERT(st->max_memory <= bound);
}

/* The report of every scenario, and the assertions common to all. Returns the goodput. */
static double
world_check(struct world *w, bool complete)
{
	uint64_t violations = sim_traffic_verify(w->t, complete);
	double gp = sim_traffic_goodput(w->t, w->link.bandwidth_bps);

	printf("\n  [%s] seed %" PRIu64 ": %s at %.3f s virtual, %" PRIu64 " events\n", w->name,
	       w->seed, sim_result_name(w->result), sim_now(w->sim) / 1e9, sim_events(w->sim));
	printf("    goodput %.1f %% of %.0f Mbit/s\n", 100 * gp, w->link.bandwidth_bps / 1e6);
	sim_traffic_print(w->t);
	sim_link_print(sim_ep_link(w->a), "link a->b");
	sim_link_print(sim_ep_link(w->b), "link b->a");
	print_engine(w->a);
	print_engine(w->b);
	CU_ASSERT_EQUAL(violations, 0);
	if (complete)
		CU_ASSERT_EQUAL(w->result, SIM_DONE);
	check_endpoint(w->a, &w->cfg, w->a_base, true);
	check_endpoint(w->b, &w->cfg, w->b_base, false);
	return gp;
}

/* --- bulk transfers ----------------------------------------------------------------------- */

static struct sim_stream_config
one_message(uint32_t len)
{
	return (struct sim_stream_config){
		.chan = BULK_CHAN, .n_msgs = 1, .min_len = len, .max_len = len
	};
}

/* One message of `bytes` on the clean link; returns the goodput. */
static double
clean_transfer(uint32_t bytes, uint64_t seed)
{
	struct sim_stream_config s = one_message(bytes);
	struct world w;
	double gp;

	world_init(&w, "clean transfer", seed);
	world_start(&w, &s, 1);
	world_run(&w, 60 * SEC);
	gp = world_check(&w, true);
	world_fini(&w);
	return gp;
}

/* 2, 3 and 5 MB messages on 10 Mbit/s, 15 ms, 25 packets of queue: the 5 MB one must reach
 * 90 % of the link (the wire overhead alone costs 1 - 1440 / 1514 = 4.9 %). */
static void
run_clean_transfers(void)
{
	static const uint32_t sizes[] = { 2 * MB, 3 * MB, 5 * MB };
	double gp[3];

	for (int i = 0; i < 3; i++)
		gp[i] = clean_transfer(sizes[i], 100 + (uint64_t)i);
	printf("\n  goodput: 2 MB %.1f %%, 3 MB %.1f %%, 5 MB %.1f %% (ceiling: one %zu-byte DATA "
	       "frame header per %u-byte wire packet, %.1f %%)\n",
	       100 * gp[0], 100 * gp[1], 100 * gp[2], sizeof(struct sl_frame_data),
	       sim_wire_bytes(SL_DEFAULT_PAYLOAD),
	       100.0 * (SL_DEFAULT_PAYLOAD - sizeof(struct sl_frame_data)) /
		       sim_wire_bytes(SL_DEFAULT_PAYLOAD));
	CU_ASSERT(gp[2] >= 0.90);
}

/* A mixed workload for the impaired links: large messages on channel 1, many small ones on
 * channel 2, a paced stream of medium ones on channel 3. About 5 MB. */
static unsigned int
mixed_streams(struct sim_stream_config *s)
{
	s[0] = (struct sim_stream_config){
		.chan = 1, .n_msgs = 8, .min_len = 64 * KIB, .max_len = 512 * KIB
	};
	s[1] = (struct sim_stream_config){
		.chan = 2, .n_msgs = 400, .min_len = 8, .max_len = 4096
	};
	s[2] = (struct sim_stream_config){ .chan = 3,
					   .n_msgs = 40,
					   .min_len = 16 * KIB,
					   .max_len = 64 * KIB,
					   .gap_ns = 20 * SIM_MS };
	return 3;
}

static void
impaired_transfer(struct world *w, uint64_t deadline_ns)
{
	struct sim_stream_config s[3];

	world_start(w, s, mixed_streams(s));
	world_run(w, deadline_ns);
	(void)world_check(w, true);
	world_fini(w);
}

static void
run_bursty_loss(void)
{
	struct world w;

	world_init(&w, "2 % loss in bursts of up to 3", 201);
	w.link.loss = 0.02;
	w.link.max_burst = 3;
	impaired_transfer(&w, 300 * SEC);
}

static void
run_corruption(void)
{
	struct world w;

	world_init(&w, "2 % corruption", 202);
	w.link.corrupt = 0.02;
	impaired_transfer(&w, 300 * SEC);
}

static void
run_loss_reorder_dup(void)
{
	struct world w;

	world_init(&w, "10 % loss + 10 % reordering + 1 % duplication", 203);
	w.link.loss = 0.10;
	w.link.reorder = 0.10;
	w.link.reorder_delay_ns = 10 * SIM_MS;
	w.link.duplicate = 0.01;
	impaired_transfer(&w, 600 * SEC);
}

static void
run_long_delay(void)
{
	struct world w;

	world_init(&w, "750 ms one-way delay", 204);
	w.link.delay_ns = 750 * SIM_MS;
	impaired_transfer(&w, 600 * SEC);
}

/* 10 MB while the path goes dark for 2 s every 5 s (both directions), from 3 s on. */
static void
run_black_holes(void)
{
	struct sim_stream_config s = one_message(10 * MB);
	struct world w;

	world_init(&w, "black hole 2 s every 5 s, 10 MB", 205);
	w.link.black_hole_start_ns = 3 * SEC;
	w.link.black_hole_every_ns = 5 * SEC;
	w.link.black_hole_len_ns = 2 * SEC;
	world_start(&w, &s, 1);
	world_run(&w, 600 * SEC);
	(void)world_check(&w, true);
	CU_ASSERT(sim_link_stats(sim_ep_link(w.a))->black_holed > 0);
	printf("    unresponsive events at a: %" PRIu64 "\n",
	       sim_ep_stats(w.a)->events[DP_EV_UNRESPONSIVE]);
	world_fini(&w);
}

/* --- multiplexing and priorities ---------------------------------------------------------- */

#define N_SMALL	  8 /* channels 1..8, priorities 0..7 */
#define PRIO_BULK 9 /* channel of the large low-priority transfer */

static void
priority_config(struct dp_conn_config *cfg)
{
	cfg->n_channels = PRIO_BULK + 1;
	for (unsigned int c = 1; c <= PRIO_BULK; c++)
		cfg->chan[c] = (struct dp_chan_config){
			.kind = DP_CHAN_RELIABLE,
			.priority = (uint8_t)(c <= N_SMALL ? c - 1 : 0),
			.queue_limit = 2 * MAX_MSG,
		};
}

/* 250 small messages per channel, one every 16 ms from 0.3 s, while 6 MB go on channel 9. */
static unsigned int
priority_streams(struct sim_stream_config *s)
{
	for (unsigned int k = 0; k < N_SMALL; k++)
		s[k] = (struct sim_stream_config){
			.chan = (uint8_t)(k + 1),
			.n_msgs = 250,
			.min_len = 16,
			.max_len = 512,
			.start_ns = 300 * SIM_MS + (k + 1) * SIM_MS,
			.gap_ns = 16 * SIM_MS,
		};
	s[N_SMALL] = (struct sim_stream_config){
		.chan = PRIO_BULK, .n_msgs = 6, .min_len = MB, .max_len = MB
	};
	return N_SMALL + 1;
}

/* Worst round trip the link allows: propagation both ways plus a full queue of full packets
 * ahead (the ACK path is nearly empty). */
static uint64_t
rtt_max(void)
{
	return 2 * DELAY + QUEUE * sim_serialization_ns(SL_DEFAULT_PAYLOAD, BW);
}

/* A high-priority message goes into the next packet built; before reaching the peer it may
 * wait for the congestion window (at most a round trip), then cross a full queue and the
 * wire (at most a round trip); if that packet is lost in the queue, detection takes about a
 * round trip and the resend another: 4 worst-case round trips cover one loss. */
static void
run_priorities(void)
{
	struct sim_stream_config s[N_SMALL + 1];
	uint64_t bound = 4 * rtt_max(), hi_max, mean, last_small = 0;
	const struct sim_msg *bulk_last;
	struct world w;
	unsigned int n;

	world_init(&w, "2000 small messages on 8 priorities + bulk", 206);
	priority_config(&w.cfg);
	n = priority_streams(s);
	world_start(&w, s, n);
	world_run(&w, 300 * SEC);
	(void)world_check(&w, true);
	for (unsigned int k = 0; k < N_SMALL; k++) {
		uint64_t max = sim_traffic_max_latency(w.t, k, &mean);
		const struct sim_msg *m = sim_traffic_msg(w.t, k, s[k].n_msgs - 1);

		printf("    channel %u priority %u: latency max %.1f ms, mean %.1f ms\n", k + 1, k,
		       max / 1e6, mean / 1e6);
		if (m != NULL && m->sent_at > last_small)
			last_small = m->sent_at;
	}
	hi_max = sim_traffic_max_latency(w.t, N_SMALL - 1, NULL);
	bulk_last = sim_traffic_msg(w.t, N_SMALL, s[N_SMALL].n_msgs - 1);
	printf("    high priority max latency %.1f ms, bound %.1f ms (4 x %.1f ms round trip)\n",
	       hi_max / 1e6, bound / 1e6, rtt_max() / 1e6);
	CU_ASSERT(hi_max <= bound);
	/* the bulk transfer really ran underneath all the small traffic */
	CU_ASSERT_PTR_NOT_NULL_FATAL(bulk_last);
	CU_ASSERT(bulk_last->done_at > last_small);
	world_fini(&w);
}

/* --- a receiver that stops reading -------------------------------------------------------- */

struct probe {
	struct world *w;
	uint64_t a_bytes_sent;	     /* frame bytes a had sent then */
	uint64_t b_delivered;	     /* messages b's application had taken */
	size_t a_mem_max, b_mem_max; /* largest memory seen so far */
};

static void
probe_fire(void *arg, void *data, uint64_t tag)
{
	struct probe *p = arg;

	(void)data;
	(void)tag;
	p->a_bytes_sent = dp_conn_stats_now(sim_ep_conn(p->w->a)).bytes_sent;
	p->b_delivered = sim_traffic_stats(p->w->t)->delivered;
	p->a_mem_max = sim_ep_stats(p->w->a)->max_memory;
	p->b_mem_max = sim_ep_stats(p->w->b)->max_memory;
}

static void
resume_fire(void *arg, void *data, uint64_t tag)
{
	(void)data;
	(void)tag;
	sim_ep_pause(arg, false);
}

#define SLOW_WINDOW (256 * KIB)
#define SLOW_QUEUE  (256 * KIB)

/* The receiver takes nothing for 3 s. Its window (256 KiB) fills, the sender's channel queue
 * (256 KiB) fills behind it and dp_conn_send refuses with -ENOBUFS; from 1 s to 2.9 s the
 * sender sends (almost) nothing and the receiver holds no more than its window. At 3 s the
 * receiver reads again and everything arrives. */
static void
run_stopped_receiver(void)
{
	struct sim_stream_config s = {
		.chan = BULK_CHAN, .n_msgs = 48, .min_len = 16 * KIB, .max_len = 64 * KIB
	};
	struct probe early = { 0 }, late = { 0 };
	size_t a_base, b_base;
	struct world w;

	world_init(&w, "receiver stops reading for 3 s", 207);
	w.cfg.max_message = 64 * KIB;
	w.cfg.chan_window = 128 * KIB;
	w.cfg.conn_window = SLOW_WINDOW;
	w.cfg.chan[BULK_CHAN].queue_limit = SLOW_QUEUE;
	world_start(&w, &s, 1);
	early.w = late.w = &w;
	a_base = w.a_base;
	b_base = w.b_base;
	sim_ep_pause(w.b, true);
	CU_ASSERT_EQUAL(sim_at(w.sim, 1 * SEC, probe_fire, &early, NULL, 0), 0);
	CU_ASSERT_EQUAL(sim_at(w.sim, 2900 * SIM_MS, probe_fire, &late, NULL, 0), 0);
	CU_ASSERT_EQUAL(sim_at(w.sim, 3 * SEC, resume_fire, w.b, NULL, 0), 0);
	world_run(&w, 120 * SEC);
	(void)world_check(&w, true);
	printf("    paused: a sent %" PRIu64 " bytes from 1 s to 2.9 s; memory a %zu (+%zu), b %zu "
	       "(+%zu)\n",
	       late.a_bytes_sent - early.a_bytes_sent, late.a_mem_max, late.a_mem_max - a_base,
	       late.b_mem_max, late.b_mem_max - b_base);
	CU_ASSERT(sim_traffic_stats(w.t)->enobufs > 0);
	CU_ASSERT(sim_traffic_stats(w.t)->writable > 0);
	CU_ASSERT_EQUAL(late.b_delivered, 0);
	CU_ASSERT(late.a_bytes_sent - early.a_bytes_sent <= SLACK);
	CU_ASSERT(late.b_mem_max <= b_base + SLOW_WINDOW + SLACK);
	CU_ASSERT(late.a_mem_max <= a_base + SLOW_QUEUE + SLACK);
	world_fini(&w);
}

/* --- message expiry ----------------------------------------------------------------------- */

#define EXP_TTL	 (300 * SIM_MS)
#define EXP_LEN	 (32 * KIB)
#define EXP_LATE (10 * SIM_MS) /* expiry reported at most this long after the deadline */
/* Bytes the sender may have sent for the first time beyond what the link has carried: what
 * it has in flight, bounded by its congestion window (~2 BDP + queue here; 256 KiB is well
 * above what slow start reaches on this path). */
#define EXP_IN_FLIGHT (256 * KIB)

/* Checks of the queued channel (every message queued at time 0): a channel sends its
 * messages in order, so message i goes out only after every byte of the messages delivered
 * ahead of it has gone out once; the link carries BW, so that takes at least
 * (ahead - EXP_IN_FLIGHT) * 8 / BW. A TTL message for which that exceeds its TTL cannot have
 * been sent in time: it must have expired. Expired ones are reported soon after their
 * deadline (the engine's wakeup includes TTLs). */
static void
check_expiry(const struct world *w, uint32_t n, uint32_t *with_ttl_delivered)
{
	uint64_t ahead = 0, late_max = 0, must = 0, wrong = 0;

	*with_ttl_delivered = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct sim_msg *m = sim_traffic_msg(w->t, 0, i);
		uint64_t min_wait =
			ahead > EXP_IN_FLIGHT ? (ahead - EXP_IN_FLIGHT) * 8 * SEC / BW : 0;

		if (m->state == SIM_MSG_DELIVERED) {
			ahead += m->len;
			*with_ttl_delivered += m->ttl_ns != 0;
		} else if (m->state == SIM_MSG_EXPIRED &&
			   m->done_at - (m->sent_at + m->ttl_ns) > late_max) {
			late_max = m->done_at - (m->sent_at + m->ttl_ns);
		}
		if (m->ttl_ns != 0 && min_wait > m->ttl_ns) {
			must++;
			wrong += m->state != SIM_MSG_EXPIRED;
		}
	}
	printf("    %" PRIu64 " had to expire (%" PRIu64 " did not); %u with a TTL delivered; "
	       "latest expiry report %.3f ms after the deadline\n",
	       must, wrong, *with_ttl_delivered, late_max / 1e6);
	CU_ASSERT(must > 0);
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT(late_max <= EXP_LATE);
}

/* 100 messages of 32 KiB queued at once on channel 1, every other one with a 300 ms TTL: the
 * queue takes ~2.8 s to drain, so most TTL messages expire, the first few go out in time.
 * Channel 2 sends small messages with a 30 s TTL: all delivered. */
static void
run_expiry(void)
{
	struct sim_stream_config s[2] = {
		{ .chan = 1,
		  .n_msgs = 100,
		  .min_len = EXP_LEN,
		  .max_len = EXP_LEN,
		  .ttl_ns = EXP_TTL,
		  .ttl_every = 2 },
		{ .chan = 2,
		  .n_msgs = 20,
		  .min_len = KIB,
		  .max_len = 2 * KIB,
		  .gap_ns = 100 * SIM_MS,
		  .ttl_ns = 30 * SEC },
	};
	const struct sim_traffic_stats *st;
	uint32_t ttl_delivered;
	struct world w;

	world_init(&w, "message expiry", 208);
	world_start(&w, s, 2);
	world_run(&w, 120 * SEC);
	(void)world_check(&w, true);
	st = sim_traffic_stats(w.t);
	check_expiry(&w, s[0].n_msgs, &ttl_delivered);
	CU_ASSERT(st->expired > 0);
	CU_ASSERT(ttl_delivered > 0);
	CU_ASSERT_EQUAL(st->delivered + st->expired, st->msgs);
	for (uint32_t i = 0; i < s[1].n_msgs; i++)
		CU_ASSERT_EQUAL(sim_traffic_msg(w.t, 1, i)->state, SIM_MSG_DELIVERED);
	world_fini(&w);
}

/* --- the peer vanishes -------------------------------------------------------------------- */

#define VANISH_AT (2 * SEC)

struct vanish {
	struct world *w;
	struct dp_conn_stats at_t; /* the sender's view when the peer went */
};

static void
vanish_fire(void *arg, void *data, uint64_t tag)
{
	struct vanish *v = arg;

	(void)data;
	(void)tag;
	v->at_t = dp_conn_stats_now(sim_ep_conn(v->w->a));
	sim_ep_vanish(v->w->b);
}

static bool
a_unresponsive(void *arg)
{
	const struct world *w = arg;

	return sim_ep_stats(w->a)->unresponsive_at != UINT64_MAX;
}

/* sum_{i < max_ptos} PTO * 2^i, PTO = srtt + max(4 rttvar, granularity) + max_ack_delay
 * (RFC 9002 6.2.1), from the RTT estimate at the moment the peer went. */
static uint64_t
pto_budget(const struct dp_conn_stats *st, const struct dp_conn_config *cfg, uint64_t *pto)
{
	uint64_t var4 = 4 * st->rtt_var_ns;

	*pto = st->rtt_smoothed_ns + (var4 > SL_GRANULARITY_NS ? var4 : SL_GRANULARITY_NS) +
	       cfg->max_ack_delay_ns;
	return *pto * ((1ull << cfg->max_ptos) - 1);
}

/* b vanishes at 2 s in the middle of a 10 MB transfer. ACKs b sent before then still arrive
 * for one one-way delay, and let a send more; packets below the last acknowledged are
 * declared lost 9/8 RTT after they were sent and resent: a's last ack-eliciting packet
 * before the silence leaves within about 2 smoothed RTTs. From then on its probe timer backs
 * off max_ptos times, and the unresponsive event comes at the end of that. Allowed: 2 RTTs
 * for the drain, and 10 % on the PTO sum for the RTT samples the last (queued) ACKs add
 * after 2 s. Not before half the sum either. */
static void
run_vanish(void)
{
	struct sim_stream_config s = one_message(10 * MB);
	struct vanish v = { 0 };
	uint64_t pto, sum, at, hi, lo;
	struct world w;

	world_init(&w, "peer vanishes at 2 s", 209);
	world_start(&w, &s, 1);
	v.w = &w;
	CU_ASSERT_EQUAL(sim_at(w.sim, VANISH_AT, vanish_fire, &v, NULL, 0), 0);
	w.result = sim_run(w.sim, VANISH_AT + 300 * SEC, a_unresponsive, &w);
	(void)world_check(&w, false);
	CU_ASSERT_EQUAL(w.result, SIM_DONE);
	sum = pto_budget(&v.at_t, &w.cfg, &pto);
	at = sim_ep_stats(w.a)->unresponsive_at;
	hi = VANISH_AT + 2 * v.at_t.rtt_smoothed_ns + sum + sum / 10;
	lo = VANISH_AT + sum / 2;
	printf("    srtt at 2 s %.1f ms, var %.1f ms, PTO %.1f ms, %u PTOs: %.3f s; unresponsive "
	       "at %.3f s (allowed %.3f .. %.3f s)\n",
	       v.at_t.rtt_smoothed_ns / 1e6, v.at_t.rtt_var_ns / 1e6, pto / 1e6, w.cfg.max_ptos,
	       sum / 1e9, at == UINT64_MAX ? -1.0 : at / 1e9, lo / 1e9, hi / 1e9);
	CU_ASSERT(at >= lo && at <= hi);
	CU_ASSERT(v.at_t.rtt_smoothed_ns > 0);
	world_fini(&w);
}

/* --- determinism -------------------------------------------------------------------------- */

struct outcome {
	uint64_t end_ns, events;
	struct sim_link_stats ab, ba;
	struct dp_conn_stats ea, eb;
	struct sim_traffic_stats t;
};

static void
lossy_outcome(uint64_t seed, struct outcome *o)
{
	struct sim_stream_config s[3];
	unsigned int n = mixed_streams(s);
	struct world w;

	world_init(&w, "determinism", seed);
	w.link.loss = 0.05;
	w.link.max_burst = 3;
	w.link.reorder = 0.05;
	w.link.reorder_delay_ns = 5 * SIM_MS;
	w.link.duplicate = 0.01;
	w.link.corrupt = 0.01;
	world_start(&w, s, n);
	world_run(&w, 300 * SEC);
	memset(o, 0, sizeof(*o));
	o->end_ns = sim_now(w.sim);
	o->events = sim_events(w.sim);
	o->ab = *sim_link_stats(sim_ep_link(w.a));
	o->ba = *sim_link_stats(sim_ep_link(w.b));
	o->ea = dp_conn_stats_now(sim_ep_conn(w.a));
	o->eb = dp_conn_stats_now(sim_ep_conn(w.b));
	o->t = *sim_traffic_stats(w.t);
	CU_ASSERT_EQUAL(w.result, SIM_DONE);
	CU_ASSERT_EQUAL(sim_traffic_verify(w.t, true), 0);
	world_fini(&w);
}

/* The engine and the simulator together are a pure function of the seed: two runs agree on
 * every counter and on the last event's time; another seed gives another run. */
static void
run_determinism(void)
{
	struct outcome a, b, c;
	uint64_t seed = 210 + seed_offset * 1000003; /* as world_init makes it */

	lossy_outcome(210, &a);
	lossy_outcome(210, &b);
	lossy_outcome(211, &c);
	printf("\n  [determinism] seed %" PRIu64 ": both runs end at %.6f s after %" PRIu64
	       " events; seed %" PRIu64 " at %.6f s\n",
	       seed, a.end_ns / 1e9, a.events, seed + 1, c.end_ns / 1e9);
	CU_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
	CU_ASSERT(memcmp(&a, &c, sizeof(a)) != 0);
}

SEEDED(determinism)
SEEDED(clean_transfers)
SEEDED(bursty_loss)
SEEDED(corruption)
SEEDED(loss_reorder_dup)
SEEDED(long_delay)
SEEDED(black_holes)
SEEDED(priorities)
SEEDED(stopped_receiver)
SEEDED(expiry)
SEEDED(vanish)

static CU_TestInfo cases[] = {
	{ "clean link: 2, 3, 5 MB messages, >= 90 % goodput", test_clean_transfers },
	{ "2 % loss in bursts of up to 3", test_bursty_loss },
	{ "2 % corruption", test_corruption },
	{ "10 % loss + 10 % reordering + 1 % duplication", test_loss_reorder_dup },
	{ "750 ms one-way delay", test_long_delay },
	{ "black holes of 2 s every 5 s during 10 MB", test_black_holes },
	{ "8 priorities multiplexed under a bulk transfer", test_priorities },
	{ "receiver stops reading: backpressure, nothing lost", test_stopped_receiver },
	{ "messages past their TTL expire, others arrive", test_expiry },
	{ "vanished peer: unresponsive within the PTO bound", test_vanish },
	{ "same seed, same run, to the last counter", test_determinism },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("sim", cases)
