/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: reliable-engine cost per packet and memory per idle connection (issue 3).
 *
 *  send -> ack       a sender connection queues messages, builds packets (dp_conn_output) and
 *                    takes the ACKs a receiver would send (every other packet), synthesised so
 *                    only the sender's engine is timed
 *  receive -> deliver  a receiver connection takes packets recorded from a real sender
 *                    (dp_conn_input), hands out every message (dp_conn_recv/release) and
 *                    writes its ACKs (dp_conn_output); packets in cache as after in-place
 *                    decryption (see run_receive), and once more read cold from memory
 *
 * For 64-byte and 1400-byte messages; ns per packet and millions of messages per second. The
 * reference measured in the same run is a memcpy of the same payload bytes per packet: the
 * least any engine that copies data into packets must spend. Time is virtual inside the
 * engine (pacing off, 10 us per packet); wall time is what is measured.
 *
 * Memory: dp_conn_memory() of a connection that carried traffic and went idle, and the heap
 * per connection of 100,000 idle connections as malloc counts it (its overhead included).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "dp_conn.h"
#include "dp_frame.h"

#define US   1000ull
#define CHAN 1

static struct dp_conn_config cfg;

static void
config(void)
{
	dp_conn_config_defaults(&cfg);
	cfg.pacing = false;
	cfg.max_ack_delay_ns = 0;
	cfg.conn_window = 1u << 30;
	cfg.chan_window = 256u << 20;
	for (int i = 0; i < cfg.n_channels; i++)
		cfg.chan[i].queue_limit = 64u << 20;
}

/* Credit so large that flow control never interferes. */
static size_t
put_big_credit(uint8_t *p)
{
	size_t n = dp_frame_put_credit(p, 64, SL_FRAME_MAX_DATA, 0, 1ull << 60);

	return n + dp_frame_put_credit(p + n, 64, SL_FRAME_MAX_CHAN, CHAN, 1ull << 60);
}

/* --- send -> ack -------------------------------------------------------------------------- */

struct send_run {
	uint64_t packets, msgs;
	double ns;
};

static void
ack_upto(struct dp_conn *c, uint64_t *peer_pn, uint64_t largest, uint64_t now)
{
	static struct dp_ack_ranges a; /* not zeroed per call: only n and r[0] are read */
	uint8_t buf[64];
	size_t n;

	a.n = 1;
	a.r[0].lo = 0;
	a.r[0].hi = largest;
	n = dp_frame_put_ack(buf, sizeof(buf), &a);
	(void)dp_conn_input(c, (*peer_pn)++, buf, n, now);
}

/* Send `total` messages of `size` bytes, keeping a backlog of at most BACKLOG queued the way
 * a streaming application tops its queue up; every second packet is acknowledged at once. */
#define BACKLOG 256

/* noinline: each path stays a function of its own for profilers (callgrind --toggle-collect) */
static __attribute__((noinline)) struct send_run
run_send(uint32_t size, uint64_t total)
{
	static uint8_t msg[1400], buf[SL_MAX_PAYLOAD];
	struct dp_conn *c = dp_conn_create(&cfg, 0);
	uint64_t now = 0, peer_pn = 0, pn = 0, t0;
	struct send_run r = { 0 };
	uint8_t credit[64];
	int n;

	(void)dp_conn_input(c, peer_pn++, credit, put_big_credit(credit), now);
	t0 = bench_now_ns();
	while (r.msgs < total) {
		for (int i = 0; i < BACKLOG && r.msgs < total; i++, r.msgs++)
			if (dp_conn_send(c, CHAN, msg, size, 0, now, NULL) != 0)
				break;
		while ((n = dp_conn_output(c, now, buf, sizeof(buf), &pn)) > 0) {
			r.packets++;
			now += 10 * US;
			if (pn % 2 == 1)
				ack_upto(c, &peer_pn, pn, now);
		}
		ack_upto(c, &peer_pn, pn, now);
	}
	r.ns = (double)(bench_now_ns() - t0);
	dp_conn_destroy(c);
	return r;
}

/* --- receive -> deliver ------------------------------------------------------------------- */

struct pkt {
	uint64_t pn;
	uint16_t len;
	uint8_t data[SL_DEFAULT_PAYLOAD];
};

/* Messages whose last byte a recorded packet carries. */
static uint64_t
messages_ended(const struct pkt *p)
{
	struct dp_ack_ranges a;
	struct dp_frame f;
	uint64_t n = 0;
	size_t off = 0;

	while (dp_frame_parse(p->data, p->len, &off, &f, &a) > 0)
		n += f.type == SL_FRAME_DATA && f.data.last;
	return n;
}

/* Record the packets a real sender makes for `total` messages of `size` bytes. */
static __attribute__((noinline)) struct pkt *
record(uint32_t size, uint64_t total, uint64_t *npkts)
{
	static uint8_t msg[1400];
	uint64_t cap = total * (size + 64) / 1000 + 64, now = 0, peer_pn = 0, sent = 0, last = 0;
	uint64_t ended = 0;
	struct pkt *v = malloc(cap * sizeof(*v));
	struct dp_conn *c = dp_conn_create(&cfg, 0);
	uint8_t credit[64];
	int n;

	*npkts = 0;
	(void)dp_conn_input(c, peer_pn++, credit, put_big_credit(credit), now);
	while (v != NULL && ended < total && *npkts < cap) {
		while (sent < total && dp_conn_send(c, CHAN, msg, size, 0, now, NULL) == 0)
			sent++;
		while (*npkts < cap &&
		       (n = dp_conn_output(c, now, v[*npkts].data, SL_DEFAULT_PAYLOAD,
					   &v[*npkts].pn)) > 0) {
			v[*npkts].len = (uint16_t)n;
			ended += messages_ended(&v[*npkts]);
			last = v[(*npkts)++].pn;
			now += 10 * US;
		}
		ack_upto(c, &peer_pn, last, now);
	}
	dp_conn_destroy(c);
	return v;
}

/* Packets are handed to the receiver in bursts of RX_BURST staged in a small set of buffers
 * first, untimed: in the appliance a packet reaches dp_conn_input right after its bytes were
 * decrypted in place, so they are in cache. Reading the whole recording straight from memory
 * (hundreds of MB) would time DRAM bandwidth instead; `cold` does just that, for comparison. */
#define RX_BURST 32

static __attribute__((noinline)) void
receive_one(struct dp_conn *c, uint64_t pn, const uint8_t *data, uint16_t len, uint64_t now,
	    uint64_t *msgs)
{
	static uint8_t out[SL_MAX_PAYLOAD];
	struct dp_msg *m;
	uint64_t out_pn;

	(void)dp_conn_input(c, pn, data, len, now);
	while ((m = dp_conn_recv(c)) != NULL) {
		(*msgs)++;
		dp_conn_msg_release(c, m);
	}
	while (dp_conn_output(c, now, out, sizeof(out), &out_pn) > 0)
		;
}

static __attribute__((noinline)) double
run_receive(const struct pkt *v, uint64_t npkts, bool cold, uint64_t *msgs)
{
	static uint8_t out[SL_MAX_PAYLOAD], staged[RX_BURST][SL_DEFAULT_PAYLOAD];
	struct dp_conn *c = dp_conn_create(&cfg, 0);
	uint64_t now = 0, pn, t0, total = 0;

	/* the receiver's first packet gives the sender its windows; the recording assumed them */
	while (dp_conn_output(c, now, out, sizeof(out), &pn) > 0)
		;
	*msgs = 0;
	if (cold) {
		t0 = bench_now_ns();
		for (uint64_t i = 0; i < npkts; i++) {
			now += 10 * US;
			receive_one(c, v[i].pn, v[i].data, v[i].len, now, msgs);
		}
		total = bench_now_ns() - t0;
	}
	for (uint64_t i = 0; !cold && i < npkts; i += RX_BURST) {
		uint64_t k = npkts - i < RX_BURST ? npkts - i : RX_BURST;

		for (uint64_t j = 0; j < k; j++)
			memcpy(staged[j], v[i + j].data, v[i + j].len);
		t0 = bench_now_ns();
		for (uint64_t j = 0; j < k; j++) {
			now += 10 * US;
			receive_one(c, v[i + j].pn, staged[j], v[i + j].len, now, msgs);
		}
		total += bench_now_ns() - t0;
	}
	if (*msgs == 0 || getenv("BENCH_ENGINE_DEBUG")) {
		struct dp_conn_stats st = dp_conn_stats_now(c);

		for (int d = 0; d < DP_CONN_DROP_COUNT; d++)
			if (st.drops[d])
				fprintf(stderr, "receiver drop %s: %lu\n", dp_conn_drop_name(d),
					(unsigned long)st.drops[d]);
	}
	dp_conn_destroy(c);
	return (double)total;
}

/* --- the reference: copying the same payload bytes -------------------------------------- */

static double
run_memcpy(uint64_t packets, size_t bytes_per_packet)
{
	static uint8_t src[SL_DEFAULT_PAYLOAD], dst[SL_DEFAULT_PAYLOAD];
	uint64_t t0 = bench_now_ns();

	if (bytes_per_packet > sizeof(src))
		bytes_per_packet = sizeof(src);
	for (uint64_t i = 0; i < packets; i++) {
		src[i & 63] = (uint8_t)i;
		memcpy(dst, src, bytes_per_packet);
		__asm__ volatile("" : : "r"(dst) : "memory");
	}
	return (double)(bench_now_ns() - t0);
}

/* --- memory ------------------------------------------------------------------------------ */

/* Bytes malloc has handed out, its own overhead included. */
static size_t
heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static void
memory_report(void)
{
	enum { N = 100000 };
	struct dp_conn **v = malloc(N * sizeof(*v));
	struct dp_conn *c;
	size_t before, after;

	before = heap_in_use();
	for (int i = 0; i < N && v != NULL; i++)
		v[i] = dp_conn_create(&cfg, 0);
	after = heap_in_use();
	c = v ? v[0] : NULL;
	printf("\n### Memory per idle connection\n\n| measure | bytes | target "
	       "|\n|---|---:|---|\n");
	if (c != NULL)
		printf("| engine state of a fresh connection (dp_conn_memory) | %zu | <= 1024 |\n",
		       dp_conn_memory(c));
	printf("| heap per connection, %d idle connections (malloc's own overhead included) "
	       "| %.0f | <= 1024 |\n",
	       N, (double)(after - before) / N);
	for (int i = 0; i < N && v != NULL; i++)
		dp_conn_destroy(v[i]);
	free(v);
}

static size_t
used_memory_after_traffic(void)
{
	static uint8_t msg[1400], buf[SL_MAX_PAYLOAD];
	struct dp_conn *a = dp_conn_create(&cfg, 0), *b = dp_conn_create(&cfg, 0);
	uint64_t now = 0, pn;
	struct dp_msg *m;
	size_t mem;
	int n;

	for (int i = 0; i < 100; i++)
		if (dp_conn_send(a, CHAN, msg, sizeof(msg), 0, now, NULL) != 0)
			return 0;
	for (int round = 0; round < 200; round++, now += 1000 * US) {
		while ((n = dp_conn_output(a, now, buf, sizeof(buf), &pn)) > 0)
			(void)dp_conn_input(b, pn, buf, (size_t)n, now);
		while ((m = dp_conn_recv(b)) != NULL)
			dp_conn_msg_release(b, m);
		while ((n = dp_conn_output(b, now, buf, sizeof(buf), &pn)) > 0)
			(void)dp_conn_input(a, pn, buf, (size_t)n, now);
		dp_conn_tick(a, now);
		dp_conn_tick(b, now);
	}
	mem = dp_conn_memory(a) > dp_conn_memory(b) ? dp_conn_memory(a) : dp_conn_memory(b);
	dp_conn_destroy(a);
	dp_conn_destroy(b);
	return mem;
}

int
main(int argc, char **argv)
{
	static const uint32_t sizes[] = { 64, 1400 };
	struct bench_opts o;

	if (bench_parse_opts(argc, argv, &o, 7, 200000) != 0)
		return 2;
	config();
	if (dp_conn_config_check(&cfg) != NULL) {
		fprintf(stderr, "bench_engine: bad configuration: %s\n",
			dp_conn_config_check(&cfg));
		return 1;
	}
	printf("### Reliable engine cost per packet (one core)\n\n");
	printf("| path | message | msgs/packet | engine ns/pkt | Mmsg/s | memcpy reference ns/pkt "
	       "| engine / memcpy | target (1400 B) |\n|---|---:|---:|---:|---:|---:|---:|---|\n");
	for (size_t s = 0; s < 2; s++) {
		const char *only = getenv("BENCH_ENGINE_SIZE"); /* profiling one size */

		if (only != NULL && (uint32_t)atoi(only) != sizes[s])
			continue;
		double tx[BENCH_MAX_REPS], rx[BENCH_MAX_REPS], rxc[BENCH_MAX_REPS];
		double ref[BENCH_MAX_REPS];
		uint64_t npk = 0, msgs = 0, sent_pkts = 0, rx_msgs = 0;
		struct pkt *v = record(sizes[s], o.work, &npk);

		if (v == NULL) {
			fprintf(stderr, "bench_engine: out of memory\n");
			return 1;
		}
		for (unsigned int r = 0; r < o.reps; r++) {
			struct send_run sr = run_send(sizes[s], o.work);

			sent_pkts = sr.packets;
			msgs = sr.msgs;
			tx[r] = sr.ns / (double)sr.packets;
			rx[r] = run_receive(v, npk, false, &rx_msgs) / (double)npk;
			rxc[r] = run_receive(v, npk, true, &rx_msgs) / (double)npk;
			ref[r] = run_memcpy(npk, (size_t)o.work * sizes[s] / npk) / (double)npk;
		}
		double t = bench_median(tx, o.reps), x = bench_median(rx, o.reps);
		double xc = bench_median(rxc, o.reps), m = bench_median(ref, o.reps);
		double per = (double)msgs / (double)sent_pkts;

		printf("| send -> ack | %u B | %.1f | %.1f | %.2f | %.1f | %.1fx | %s |\n",
		       sizes[s], per, t, per * 1e3 / t, m, t / m,
		       sizes[s] == 1400 ? (t <= 100 ? "<= 100 ns: PASS" : "<= 100 ns: MISS") : "-");
		printf("| receive -> deliver | %u B | %.1f | %.1f | %.2f | %.1f | %.1fx | %s |\n",
		       sizes[s], (double)rx_msgs / (double)npk, x,
		       (double)rx_msgs / (double)npk * 1e3 / x, m, x / m,
		       sizes[s] == 1400 ? (x <= 100 ? "<= 100 ns: PASS" : "<= 100 ns: MISS") : "-");
		printf("| receive -> deliver, packets read cold from memory | %u B | %.1f | %.1f | "
		       "%.2f | %.1f | %.1fx | - |\n",
		       sizes[s], (double)rx_msgs / (double)npk, xc,
		       (double)rx_msgs / (double)npk * 1e3 / xc, m, xc / m);
		if (rx_msgs != o.work)
			fprintf(stderr, "bench_engine: delivered %lu of %lu messages\n",
				(unsigned long)rx_msgs, (unsigned long)o.work);
		free(v);
	}
	if (getenv("BENCH_ENGINE_SIZE") != NULL)
		return 0;
	memory_report();
	printf("| engine state after a transfer, idle (dp_conn_memory, one channel used) | %zu "
	       "| <= 1024 |\n",
	       used_memory_after_traffic());
	return 0;
}
