/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: built-in services tests — two engines joined by an in-memory wire (each packet
 * takes 1..3 ms, so packets also reorder) with services on both ends, driven the way the
 * dataplane loop drives them: source -> sink, source -> echo with round trips, rate limiting
 * on the injected clock, backpressure, the sink's detection of corrupt, missing and repeated
 * messages, idle memory, the configuration checks and what a session's end leaves undone. The
 * message format, the latency histogram and merging statistics, which need no engine, are in
 * test_svc_msg.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp_svc.h"
#include "dp_svc_msg.h"
#include "sl_test.h"

#define US 1000ull
#define MS 1000000ull
#define T0 (1000 * MS)

/* --- a configuration ------------------------------------------------------------------------ */
/* What an appliance's configuration gives a session: the engine's settings and the services
 * (conf/ assembles both from JSON). */
struct conf {
	struct dp_conn_config engine;
	struct dp_svc_config services;
};

static struct conf *
conf_new(void)
{
	struct conf *c = calloc(1, sizeof(*c));

	CU_ASSERT_FATAL(c != NULL);
	dp_conn_config_defaults(&c->engine);
	c->engine.pacing = false; /* see "the wire" */
	c->services.n_peers = 1;  /* peer 0: the other end */
	return c;
}

/* The services' configuration, checked against the engine's current settings. */
static const struct dp_svc_config *
svc_cfg(struct conf *c)
{
	c->services.n_channels = c->engine.n_channels;
	c->services.max_message = c->engine.max_message;
	return &c->services;
}

static struct dp_svc_def *
add_svc(struct conf *c, enum dp_svc_type type, uint8_t chan)
{
	struct dp_svc_def *s = &c->services.svc[c->services.n++];

	memset(s, 0, sizeof(*s));
	s->type = type;
	s->channel = chan;
	return s;
}

static struct dp_svc_def *
add_source(struct conf *c, uint8_t chan, uint64_t count, uint32_t min, uint32_t max, uint64_t rate,
	   bool expect_echo)
{
	struct dp_svc_def *s = add_svc(c, DP_SVC_SOURCE, chan);

	s->count = count;
	s->min_size = min;
	s->max_size = max;
	s->rate = rate;
	s->expect_echo = expect_echo;
	return s;
}

/* --- the wire -------------------------------------------------------------------------------
 * Steps of 1 ms; the engines run without pacing, whose sub-millisecond release times such
 * coarse steps would turn into a throughput cap. */
struct pkt {
	uint64_t pn;
	uint16_t len;
	bool to_b;
	uint8_t buf[SL_DEFAULT_PAYLOAD];
};

#define SLOTS 8 /* one per millisecond of delay; delays are 1..3 ms */

struct slot {
	struct pkt *p;
	unsigned int n, cap;
};

struct world {
	struct conf *ca, *cb;
	struct dp_conn *a, *b;
	struct dp_svc sa, sb;
	uint64_t now, rng;
	unsigned int dmin, dmax; /* wire delay, whole milliseconds */
	struct slot slot[SLOTS];
	uint64_t last_at[2]; /* arrival (ms) of the last packet each way */
	unsigned int in_flight;
};

static void
world_open(struct world *w, struct conf *ca, struct conf *cb)
{
	memset(w, 0, sizeof(*w));
	w->ca = ca;
	w->cb = cb;
	w->now = T0;
	w->rng = 42;
	w->dmin = 1;
	w->dmax = 3;
	w->a = dp_conn_create(&ca->engine, w->now);
	w->b = dp_conn_create(&cb->engine, w->now);
	CU_ASSERT_FATAL(w->a != NULL && w->b != NULL);
	CU_ASSERT_FATAL(dp_svc_init(&w->sa, svc_cfg(ca), 0) == 0);
	CU_ASSERT_FATAL(dp_svc_init(&w->sb, svc_cfg(cb), 0) == 0);
}

static void
world_close(struct world *w)
{
	dp_svc_fini(&w->sa, w->a);
	dp_svc_fini(&w->sb, w->b);
	dp_conn_destroy(w->a);
	dp_conn_destroy(w->b);
	for (unsigned int i = 0; i < SLOTS; i++)
		free(w->slot[i].p);
	free(w->ca);
	free(w->cb);
}

/* The slot of a packet sent now towards b (or a), with room for one more. Each direction is
 * a FIFO link whose delay varies between dmin and dmax ms (jitter without reordering: heavy
 * reordering is the simulator's business, tests/sim.h). */
static struct slot *
wire_pick(struct world *w, bool to_b)
{
	unsigned int d = w->dmin + (unsigned int)(sl_test_mix64(&w->rng) % (w->dmax - w->dmin + 1));
	uint64_t at = RTE_MAX(w->now / MS + d, w->last_at[to_b]);
	struct slot *s = &w->slot[at % SLOTS];

	w->last_at[to_b] = at;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->p = realloc(s->p, s->cap * sizeof(*s->p));
		CU_ASSERT_FATAL(s->p != NULL);
	}
	return s;
}

static void
emit(struct world *w, struct dp_conn *from, bool to_b)
{
	for (;;) {
		struct slot *s = wire_pick(w, to_b);
		struct pkt *p = &s->p[s->n];
		int len = dp_conn_output(from, w->now, p->buf, sizeof(p->buf), &p->pn);

		if (len <= 0)
			return;
		p->len = (uint16_t)len;
		p->to_b = to_b;
		s->n++;
		w->in_flight++;
	}
}

/* What the dataplane loop does for one session. */
static void
serve(struct world *w, struct dp_conn *c, struct dp_svc *svc)
{
	struct dp_conn_event ev;
	struct dp_msg *m;

	while ((m = dp_conn_recv(c)) != NULL)
		if (!dp_svc_on_message(svc, c, m, w->now))
			dp_conn_msg_release(c, m);
	while (dp_conn_poll_event(c, &ev))
		dp_svc_on_event(svc, c, &ev, w->now);
	if (dp_conn_next_wakeup(c) <= w->now)
		dp_conn_tick(c, w->now);
	for (int i = 0; i < 16 && dp_svc_next_wakeup(svc) <= w->now; i++)
		dp_svc_poll(svc, c, w->now);
}

/* One millisecond: deliver what arrives now, run both ends, transmit. */
static void
step(struct world *w)
{
	struct slot *s = &w->slot[(w->now / MS) % SLOTS];

	for (unsigned int i = 0; i < s->n; i++)
		(void)dp_conn_input(s->p[i].to_b ? w->b : w->a, s->p[i].pn, s->p[i].buf,
				    s->p[i].len, w->now);
	w->in_flight -= s->n;
	s->n = 0;
	serve(w, w->a, &w->sa);
	serve(w, w->b, &w->sb);
	emit(w, w->a, true);
	emit(w, w->b, false);
	w->now += MS;
}

static void
stats_of(const struct dp_svc *svc, unsigned int idx, struct dp_svc_stats *st)
{
	memset(st, 0, sizeof(*st));
	dp_svc_stats_add(svc, idx, st);
}

/* Run until source idx of side a is done and the wire is quiet, or max_ms passed. */
static bool
run_until_done(struct world *w, unsigned int idx, unsigned int max_ms)
{
	static struct dp_svc_stats st;

	for (unsigned int t = 0; t < max_ms; t++) {
		step(w);
		stats_of(&w->sa, idx, &st);
		if (st.sources_done == 1 && w->in_flight == 0)
			return true;
	}
	return false;
}

/* --- source, sink, echo --------------------------------------------------------------------- */
static struct dp_svc_stats st_a, st_b;

static void
test_source_to_sink(void)
{
	struct conf *ca = conf_new(), *cb = conf_new();
	struct world w;

	add_source(ca, 1, 10000, 32, 16384, 0, false);
	add_svc(cb, DP_SVC_SINK, 1);
	world_open(&w, ca, cb);
	CU_ASSERT(run_until_done(&w, 0, 20000));
	stats_of(&w.sa, 0, &st_a);
	stats_of(&w.sb, 0, &st_b);
	CU_ASSERT_EQUAL(st_a.cnt.msgs_sent, 10000);
	CU_ASSERT_EQUAL(st_a.sources, 1);
	CU_ASSERT_EQUAL(st_a.sources_done, 1);
	/* uniform sizes 32..16384: about 8 KiB on average */
	CU_ASSERT(st_a.cnt.bytes_sent > 10000ull * 7800 && st_a.cnt.bytes_sent < 10000ull * 8600);
	CU_ASSERT_EQUAL(st_b.cnt.msgs_recv, 10000);
	CU_ASSERT_EQUAL(st_b.cnt.msgs_verified, 10000);
	CU_ASSERT_EQUAL(st_b.cnt.bytes_recv, st_a.cnt.bytes_sent);
	CU_ASSERT_EQUAL(st_b.cnt.lost + st_b.cnt.duplicated + st_b.cnt.corrupt, 0);
	CU_ASSERT_EQUAL(dp_svc_unhandled(&w.sa) + dp_svc_unhandled(&w.sb), 0);
	/* active periods: the sink's starts after the source's and both end after they start */
	CU_ASSERT(st_a.first_ns != 0 && st_a.last_ns > st_a.first_ns);
	CU_ASSERT(st_b.first_ns > st_a.first_ns && st_b.last_ns > st_b.first_ns);
	CU_ASSERT(st_b.last_ns >= st_a.last_ns);
	CU_ASSERT(dp_svc_memory(&w.sb) < 512); /* a sink keeps one number per channel */
	world_close(&w);
}

/* Messages shorter than the header are headerless, and still checked byte for byte. */
static void
test_tiny_messages(void)
{
	struct conf *ca = conf_new(), *cb = conf_new();
	struct world w;

	add_source(ca, 2, 3000, 1, 40, 0, false);
	add_svc(cb, DP_SVC_SINK, 2);
	world_open(&w, ca, cb);
	CU_ASSERT(run_until_done(&w, 0, 5000));
	stats_of(&w.sb, 0, &st_b);
	CU_ASSERT_EQUAL(st_b.cnt.msgs_verified, 3000);
	CU_ASSERT_EQUAL(st_b.cnt.lost + st_b.cnt.duplicated + st_b.cnt.corrupt, 0);
	world_close(&w);
}

static void
test_echo_round_trips(void)
{
	struct conf *ca = conf_new(), *cb = conf_new();
	uint64_t p50, p99, p999;
	struct world w;

	add_source(ca, 2, 2000, 32, 4096, 20000, true);
	add_svc(cb, DP_SVC_ECHO, 2);
	world_open(&w, ca, cb);
	CU_ASSERT(run_until_done(&w, 0, 5000));
	stats_of(&w.sa, 0, &st_a);
	stats_of(&w.sb, 0, &st_b);
	CU_ASSERT_EQUAL(st_b.cnt.msgs_recv, 2000);
	CU_ASSERT_EQUAL(st_b.cnt.msgs_echoed, 2000);
	CU_ASSERT_EQUAL(st_b.cnt.bytes_echoed, st_a.cnt.bytes_sent);
	CU_ASSERT_EQUAL(st_a.cnt.msgs_recv, 2000);
	CU_ASSERT_EQUAL(st_a.cnt.msgs_verified, 2000);
	CU_ASSERT_EQUAL(st_a.cnt.lost + st_a.cnt.duplicated + st_a.cnt.corrupt, 0);
	CU_ASSERT_EQUAL(st_a.rtt.count, 2000);
	p50 = sl_hist_percentile(&st_a.rtt, 50);
	p99 = sl_hist_percentile(&st_a.rtt, 99);
	p999 = sl_hist_percentile(&st_a.rtt, 99.9);
	CU_ASSERT(st_a.rtt.min <= p50 && p50 <= p99 && p99 <= p999 && p999 <= st_a.rtt.max);
	/* two crossings of 1..3 ms each; the engine adds at most a few ms of pacing */
	CU_ASSERT(st_a.rtt.min >= 2 * w.dmin * MS);
	CU_ASSERT(p50 <= 2 * w.dmax * MS + 2 * MS);
	CU_ASSERT(st_a.rtt.max <= 2 * w.dmax * MS + 20 * MS);
	world_close(&w);
}

/* At a low rate nothing queues: every round trip is two crossings of the wire. */
static void
test_echo_round_trips_idle_link(void)
{
	struct conf *ca = conf_new(), *cb = conf_new();
	struct world w;

	add_source(ca, 2, 300, 32, 1024, 500, true);
	add_svc(cb, DP_SVC_ECHO, 2);
	world_open(&w, ca, cb);
	CU_ASSERT(run_until_done(&w, 0, 5000));
	stats_of(&w.sa, 0, &st_a);
	CU_ASSERT_EQUAL(st_a.rtt.count, 300);
	CU_ASSERT(st_a.rtt.min >= 2 * w.dmin * MS);
	CU_ASSERT(st_a.rtt.max <= 2 * w.dmax * MS);
	CU_ASSERT(sl_hist_percentile(&st_a.rtt, 50) < st_a.rtt.max);
	world_close(&w);
}

/* in_flight 1: a message leaves only when the previous one came back, so no round trip
 * waits behind another message and the run takes one round trip per message. */
static void
test_echo_one_in_flight(void)
{
	struct conf *ca = conf_new(), *cb = conf_new();
	unsigned int t, most = 0;
	struct world w;

	add_source(ca, 2, 200, 32, 1024, 0, true)->in_flight = 1;
	add_svc(cb, DP_SVC_ECHO, 2);
	world_open(&w, ca, cb);
	for (t = 0; t < 5000; t++) {
		step(&w);
		stats_of(&w.sa, 0, &st_a);
		most = RTE_MAX(most, (unsigned int)(st_a.cnt.msgs_sent - st_a.cnt.msgs_recv));
		if (st_a.sources_done == 1 && w.in_flight == 0)
			break;
	}
	CU_ASSERT_EQUAL(st_a.sources_done, 1);
	CU_ASSERT_EQUAL(st_a.cnt.msgs_verified, 200);
	CU_ASSERT_EQUAL(most, 1);
	CU_ASSERT_EQUAL(st_a.rtt.count, 200);
	CU_ASSERT(st_a.rtt.min >= 2 * w.dmin * MS);
	CU_ASSERT(st_a.rtt.max <= 2 * w.dmax * MS + 2 * MS);
	CU_ASSERT(t >= 200 * 2 * w.dmin);
	world_close(&w);
}

/* Headerless echoes are verified too; only messages with a header give a round trip. */
static void
test_echo_tiny(void)
{
	struct conf *ca = conf_new(), *cb = conf_new();
	struct world w;

	add_source(ca, 3, 1000, 1, 63, 0, true);
	add_svc(cb, DP_SVC_ECHO, 3);
	world_open(&w, ca, cb);
	CU_ASSERT(run_until_done(&w, 0, 5000));
	stats_of(&w.sa, 0, &st_a);
	CU_ASSERT_EQUAL(st_a.cnt.msgs_verified, 1000);
	CU_ASSERT_EQUAL(st_a.cnt.lost + st_a.cnt.duplicated + st_a.cnt.corrupt, 0);
	CU_ASSERT(st_a.rtt.count > 300 && st_a.rtt.count < 700); /* sizes 32..63 of 1..63 */
	world_close(&w);
}

static void
small_queues(struct conf *ca, struct conf *cb)
{
	ca->engine.max_message = cb->engine.max_message = 4096;
	ca->engine.chan[1].queue_limit = 32768;
	cb->engine.chan[1].queue_limit = 8192; /* the echo's side blocks first */
}

/* Small queues: sources and echo services block on -ENOBUFS, resume on DP_EV_WRITABLE, and
 * nothing is lost. */
static void
test_backpressure(void)
{
	struct conf *ca = conf_new(), *cb = conf_new();
	struct world w;

	small_queues(ca, cb);
	add_source(ca, 1, 3000, 32, 4096, 0, true);
	add_svc(cb, DP_SVC_ECHO, 1);
	world_open(&w, ca, cb);
	CU_ASSERT(run_until_done(&w, 0, 20000));
	stats_of(&w.sa, 0, &st_a);
	stats_of(&w.sb, 0, &st_b);
	CU_ASSERT(st_a.cnt.send_blocked > 0);
	CU_ASSERT(st_b.cnt.send_blocked > 0);
	CU_ASSERT_EQUAL(st_b.cnt.msgs_echoed, 3000);
	CU_ASSERT_EQUAL(st_b.cnt.dropped, 0);
	CU_ASSERT_EQUAL(st_a.cnt.msgs_verified, 3000);
	CU_ASSERT_EQUAL(st_a.cnt.lost + st_a.cnt.duplicated + st_a.cnt.corrupt, 0);
	CU_ASSERT_EQUAL(st_a.cnt.dropped, 0);
	/* the echo service gave back the ring it held messages in */
	CU_ASSERT(dp_svc_memory(&w.sb) < 512);
	world_close(&w);
}

/* --- rate limiting -------------------------------------------------------------------------- */
struct lone {
	struct conf *c;
	struct dp_conn *conn;
	struct dp_svc svc;
};

/* A source alone on an engine that is never drained: its 8 MiB queue takes every message. */
static void
lone_open(struct lone *l, uint64_t rate)
{
	l->c = conf_new();
	add_source(l->c, 1, 0, 40, 40, rate, false);
	l->conn = dp_conn_create(&l->c->engine, T0);
	CU_ASSERT_FATAL(l->conn != NULL);
	CU_ASSERT_FATAL(dp_svc_init(&l->svc, svc_cfg(l->c), 0) == 0);
}

static uint64_t
lone_close(struct lone *l)
{
	stats_of(&l->svc, 0, &st_a);
	dp_svc_fini(&l->svc, l->conn);
	dp_conn_destroy(l->conn);
	free(l->c);
	return st_a.cnt.msgs_sent;
}

/* 1000 messages/s over 2 s of virtual time, polled every millisecond. */
static void
test_rate_fixed_polls(void)
{
	struct lone l;

	lone_open(&l, 1000);
	for (uint64_t t = T0; t < T0 + 2000 * MS; t += MS)
		dp_svc_poll(&l.svc, l.conn, t);
	CU_ASSERT_EQUAL(lone_close(&l), 2000);
}

/* Polled only when dp_svc_next_wakeup() says: one message per wake-up, exactly 1 ms apart. */
static void
test_rate_wakeups(void)
{
	uint64_t t = T0, polls = 0, late = 0;
	struct lone l;

	lone_open(&l, 1000);
	for (;;) {
		uint64_t w = dp_svc_next_wakeup(&l.svc);

		t = RTE_MAX(t, w);
		if (t >= T0 + 2000 * MS)
			break;
		late += polls > 0 && t != T0 + polls * MS;
		dp_svc_poll(&l.svc, l.conn, t);
		polls++;
	}
	CU_ASSERT_EQUAL(polls, 2000);
	CU_ASSERT_EQUAL(late, 0);
	CU_ASSERT_EQUAL(lone_close(&l), 2000);
}

/* Irregular polls (up to 5 ms apart) still average the rate: the bucket holds 10 ms. */
static void
test_rate_irregular_polls(void)
{
	uint64_t rng = 7, t = T0;
	struct lone l;

	lone_open(&l, 1000);
	while (t < T0 + 2000 * MS) {
		dp_svc_poll(&l.svc, l.conn, t);
		t += sl_test_mix64(&rng) % (5 * MS);
	}
	dp_svc_poll(&l.svc, l.conn, T0 + 2000 * MS - 1);
	CU_ASSERT_EQUAL(lone_close(&l), 2000);
	/* a faster rate, polled every 100 us: 50,000/s over 2 s */
	lone_open(&l, 50000);
	for (t = T0; t < T0 + 2000 * MS; t += 100 * US)
		dp_svc_poll(&l.svc, l.conn, t);
	dp_svc_poll(&l.svc, l.conn, T0 + 2000 * MS - 1);
	CU_ASSERT_EQUAL(lone_close(&l), 100000); /* one at T0, then one per 20 us */
}

/* --- the sink's verdicts -------------------------------------------------------------------- */
/* Hand-made messages through the engine, in this order, to a sink on channel 1. */
static const struct hand {
	uint8_t chan;
	uint64_t seq;
	uint32_t len;
	int spoil_at; /* byte to change (-1: none) */
	uint8_t spoil_xor;
	bool cut; /* send one byte less than the header says */
} hands[] = {
	{ 1, 0, 300, -1, 0, false },		 /* verified */
	{ 1, 1, 300, 132, 0x01, false },	 /* payload byte: corrupt */
	{ 1, 1, 300, -1, 0, false },		 /* verified */
	{ 1, 3, 300, -1, 0, false },		 /* verified, 1 lost */
	{ 1, 3, 300, -1, 0, false },		 /* duplicate */
	{ 1, 2, 300, -1, 0, false },		 /* duplicate (too late) */
	{ 1, 4, 300, 0, 0x20, false },		 /* magic: corrupt */
	{ 1, 4, 300, 4, 0x03, false },		 /* version: corrupt */
	{ 1, 4, 300, 23, 0x01, false },		 /* sequence changed under the checksum */
	{ 1, 4, 300, -1, 0, true },		 /* length: corrupt */
	{ 1, 4, 20, -1, 0, false },		 /* headerless, implied 4: verified */
	{ 1, 5, 20, 0, 0xff, false },		 /* headerless, corrupt (takes number 5) */
	{ 1, 9, 300, -1, 0, false },		 /* verified, 3 lost (6, 7, 8) */
	{ 1, 10, 300, 5, SL_SVC_ECHOED, false }, /* an echo nobody here expects: unhandled */
	{ 1, 10, 300, -1, 0, false },		 /* verified */
	{ 1, 0, 300, -1, 0, false },		 /* duplicate */
	{ 2, 0, 1, -1, 0, false },		 /* no service on channel 2: unhandled */
};

static void
send_raw(struct world *w, uint8_t chan, const uint8_t *buf, uint32_t len)
{
	CU_ASSERT_EQUAL(dp_conn_send(w->a, chan, buf, len, 0, w->now, NULL), 0);
}

static void
test_sink_detects(void)
{
	struct conf *ca = conf_new(), *cb = conf_new();
	uint8_t buf[300];
	struct world w;

	add_svc(cb, DP_SVC_SINK, 1);
	world_open(&w, ca, cb);
	for (size_t i = 0; i < RTE_DIM(hands); i++) {
		const struct hand *h = &hands[i];

		dp_svc_msg_build(buf, h->len, h->seq, w.now);
		if (h->spoil_at >= 0)
			buf[h->spoil_at] ^= h->spoil_xor;
		send_raw(&w, h->chan, buf, h->len - h->cut);
	}
	for (int i = 0; i < 50; i++)
		step(&w);
	stats_of(&w.sb, 0, &st_b);
	CU_ASSERT_EQUAL(st_b.cnt.msgs_recv, 15);
	CU_ASSERT_EQUAL(st_b.cnt.msgs_verified, 6);
	CU_ASSERT_EQUAL(st_b.cnt.corrupt, 6);
	CU_ASSERT_EQUAL(st_b.cnt.duplicated, 3);
	CU_ASSERT_EQUAL(st_b.cnt.lost, 4);
	CU_ASSERT_EQUAL(dp_svc_unhandled(&w.sb), 2);
	world_close(&w);
}

/* --- memory, configuration, closing ---------------------------------------------------------- */
static void
test_idle_memory(void)
{
	struct conf *c = conf_new();
	struct dp_svc svc;

	add_svc(c, DP_SVC_ECHO, 1);
	add_svc(c, DP_SVC_SINK, 2);
	add_source(c, 3, 10, 100, 100, 0, true);
	CU_ASSERT(sizeof(struct dp_svc) <= DP_SVC_IDLE_BYTES);
	/* a session with an unconfigured peer: echo and sink wait, no source */
	CU_ASSERT_EQUAL(dp_svc_init(&svc, svc_cfg(c), 0xffff), 0);
	CU_ASSERT_EQUAL(dp_svc_memory(&svc), sizeof(struct dp_svc));
	CU_ASSERT_EQUAL(dp_svc_next_wakeup(&svc), UINT64_MAX);
	dp_svc_fini(&svc, NULL);
	/* the configured peer: the source wants to run, and nothing is allocated before */
	CU_ASSERT_EQUAL(dp_svc_init(&svc, svc_cfg(c), 0), 0);
	CU_ASSERT_EQUAL(dp_svc_memory(&svc), sizeof(struct dp_svc));
	CU_ASSERT_EQUAL(dp_svc_next_wakeup(&svc), 0);
	dp_svc_fini(&svc, NULL);
	/* no services at all */
	c->services.n = 0;
	CU_ASSERT_EQUAL(dp_svc_init(&svc, svc_cfg(c), 0), 0);
	CU_ASSERT_EQUAL(dp_svc_memory(&svc), sizeof(struct dp_svc));
	CU_ASSERT_EQUAL(dp_svc_next_wakeup(&svc), UINT64_MAX);
	dp_svc_fini(&svc, NULL);
	free(c);
}

#define ECHO(ch)                                     \
	{                                            \
		.type = DP_SVC_ECHO, .channel = ch \
	}
#define SINK(ch)                                     \
	{                                            \
		.type = DP_SVC_SINK, .channel = ch \
	}
#define SRC(ch, p, lo, hi, echo)                                                                   \
	{                                                                                          \
		.type = DP_SVC_SOURCE, .channel = ch, .peer = p, .min_size = lo, .max_size = hi, \
		.expect_echo = echo                                                                \
	}

static const struct conf_case {
	const char *name;
	uint8_t n_channels; /* 0: the default */
	unsigned int n;
	struct dp_svc_def s[5];
	bool ok;
	unsigned int which; /* the service blamed */
} conf_cases[] = {
	{ "valid: a source may share a channel with an echo, or with another peer's source",
	  0,
	  5,
	  { ECHO(1), SINK(2), SRC(1, 0, 1, 4096, true), SRC(3, 0, 1, 9, false),
	    SRC(3, 1, 1, 9, false) },
	  true,
	  0 },
	{ "channel 0", 0, 2, { ECHO(1), SINK(0) }, false, 1 },
	{ "channel not configured", 4, 1, { ECHO(4) }, false, 0 },
	{ "two echo/sink", 0, 3, { SINK(2), ECHO(3), ECHO(2) }, false, 2 },
	{ "two sources", 0, 2, { SRC(2, 0, 1, 9, false), SRC(2, 0, 1, 9, true) }, false, 1 },
	{ "unknown peer", 0, 1, { SRC(2, 2, 1, 9, false) }, false, 0 },
	{ "min above max", 0, 1, { SRC(2, 0, 10, 9, false) }, false, 0 },
	{ "above max_message",
	  0,
	  1,
	  { SRC(2, 0, 1, SL_DEFAULT_MAX_MESSAGE + 1, false) },
	  false,
	  0 },
};

static void
test_conf_check(void)
{
	for (size_t i = 0; i < RTE_DIM(conf_cases); i++) {
		const struct conf_case *cc = &conf_cases[i];
		struct conf *c = conf_new();
		unsigned int which = 99;
		struct dp_svc svc;
		const char *why;

		c->services.n_peers = 2;
		c->engine.n_channels = cc->n_channels ? cc->n_channels : c->engine.n_channels;
		c->services.n = cc->n;
		memcpy(c->services.svc, cc->s, sizeof(cc->s));
		why = dp_svc_conf_check(svc_cfg(c), &which);
		CU_ASSERT_EQUAL(why == NULL, cc->ok);
		if (!cc->ok)
			CU_ASSERT_EQUAL(which, cc->which);
		CU_ASSERT_EQUAL(dp_svc_init(&svc, svc_cfg(c), 0), cc->ok ? 0 : -EINVAL);
		dp_svc_fini(&svc, NULL);
		free(c);
	}
}

/* An echo service whose queue (2 KiB) is too small for the 50 messages of 1000 bytes it got:
 * it holds most of them. */
static void
held_world(struct world *w)
{
	struct conf *ca = conf_new(), *cb = conf_new();
	uint8_t buf[1000];

	cb->engine.max_message = 1024;
	cb->engine.chan[1].queue_limit = 2048;
	add_svc(cb, DP_SVC_ECHO, 1);
	world_open(w, ca, cb);
	for (uint64_t seq = 0; seq < 50; seq++) {
		dp_svc_msg_build(buf, sizeof(buf), seq, w->now);
		send_raw(w, 1, buf, sizeof(buf));
	}
	while (dp_conn_stats_now(w->b).msgs_delivered < 50)
		step(w);
}

/* Closing the connection drops the held messages (counted); dp_svc_fini() releases whatever is
 * still held (ASan checks that nothing leaks). */
static void
test_close_with_held_messages(void)
{
	struct dp_conn_event ev;
	struct world w;

	held_world(&w);
	stats_of(&w.sb, 0, &st_b);
	CU_ASSERT(st_b.cnt.send_blocked > 0);
	CU_ASSERT(dp_svc_memory(&w.sb) > sizeof(struct dp_svc) + 8 * sizeof(void *));
	dp_conn_close(w.b, false, SL_CLOSE_APPLICATION, w.now);
	while (dp_conn_poll_event(w.b, &ev))
		dp_svc_on_event(&w.sb, w.b, &ev, w.now);
	stats_of(&w.sb, 0, &st_b);
	CU_ASSERT(st_b.cnt.dropped > 0);
	CU_ASSERT_EQUAL(st_b.cnt.msgs_echoed + st_b.cnt.dropped, 50);
	CU_ASSERT_EQUAL(dp_svc_next_wakeup(&w.sb), UINT64_MAX);
	world_close(&w);

	held_world(&w); /* torn down without a close */
	world_close(&w);
}

/* The receiving side closes mid-transfer: at the end each service hears what its engine left
 * undone, and the source's and the sink's numbers add up (dp_svc_on_undelivered). */
static void
test_undelivered_at_end(void)
{
	struct conf *ca = conf_new(), *cb = conf_new();
	struct dp_conn_undelivered ua, ub;
	struct world w;

	add_source(ca, 1, 0, 32, 4096, 0, false);
	add_svc(cb, DP_SVC_SINK, 1);
	world_open(&w, ca, cb);
	for (int t = 0; t < 30; t++)
		step(&w);
	dp_conn_close(w.b, false, SL_CLOSE_APPLICATION, w.now);
	for (int t = 0; t < 100 && dp_conn_state(w.a) != DP_CONN_CLOSED; t++)
		step(&w);
	CU_ASSERT_EQUAL(dp_conn_state(w.a), DP_CONN_CLOSED);
	dp_conn_undelivered(w.a, &ua);
	dp_conn_undelivered(w.b, &ub);
	dp_svc_on_undelivered(&w.sa, &ua);
	dp_svc_on_undelivered(&w.sb, &ub);
	stats_of(&w.sa, 0, &st_a);
	stats_of(&w.sb, 0, &st_b);
	CU_ASSERT(st_a.cnt.undelivered > 0);
	CU_ASSERT_EQUAL(st_a.cnt.undelivered, ua.chan[1].undelivered);
	CU_ASSERT_EQUAL(st_b.cnt.delivered_unacked, ub.chan[1].delivered_unacked);
	CU_ASSERT_EQUAL(st_a.cnt.msgs_sent, st_b.cnt.msgs_verified + st_a.cnt.undelivered -
						    st_b.cnt.delivered_unacked +
						    st_b.cnt.discarded_acked);
	world_close(&w);
}

static CU_TestInfo cases[] = {
	{ "source_to_sink", test_source_to_sink },
	{ "tiny_messages", test_tiny_messages },
	{ "echo_round_trips", test_echo_round_trips },
	{ "echo_round_trips_idle_link", test_echo_round_trips_idle_link },
	{ "echo_one_in_flight", test_echo_one_in_flight },
	{ "echo_tiny", test_echo_tiny },
	{ "backpressure", test_backpressure },
	{ "rate_fixed_polls", test_rate_fixed_polls },
	{ "rate_wakeups", test_rate_wakeups },
	{ "rate_irregular_polls", test_rate_irregular_polls },
	{ "sink_detects", test_sink_detects },
	{ "idle_memory", test_idle_memory },
	{ "conf_check", test_conf_check },
	{ "close_with_held_messages", test_close_with_held_messages },
	{ "undelivered_at_end", test_undelivered_at_end },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("svc", cases)
