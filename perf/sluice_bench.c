/* SPDX-License-Identifier: BSD-3-Clause
 * sluice-bench: applications over libsluice, measured (the perf rig's section 11, rig_api.py).
 *
 *   sluice_bench sink   -s SOCK [-c CHAN] [-n COUNT] [-t SEC] [-r MS] [-w spin|yield|block]
 *   sluice_bench source -s SOCK [-c CHAN] -z SIZE [-n COUNT] [-t SEC] [-w ...] NODE[@IP:PORT]
 *   sluice_bench echo   -s SOCK [-c CHAN] [-t SEC] [-w ...]
 *   sluice_bench ping   -s SOCK [-c CHAN] -z SIZE -n COUNT [--block] [-t SEC] NODE[@IP:PORT]
 *   sluice_bench ops    -s SOCK [-c CHAN] -n COUNT [-R RECONNECTS] NODE[@IP:PORT]
 *
 *   sink    serves CHAN: checks every message (its sequence number, then every byte of its
 *           pattern) and prints its counters as a JSON line every -r ms and once at the end
 *           (after COUNT messages, or when -t runs out), with its active period: from the
 *           first poll that brought a message to the end of the last one
 *   source  sends SIZE-byte messages to NODE on CHAN as fast as the credit allows (COUNT, or
 *           until -t runs out); a refused send (-ENOBUFS) waits for SLUICE_WRITABLE
 *   echo    sends every message on CHAN back to the node it came from
 *   ping    one message in flight to NODE's echo: COUNT round trips (after a warm-up of
 *           COUNT / 10), each reply checked byte for byte; percentiles in nanoseconds
 *   ops     the requests' latencies, COUNT times each: attach (and detach), connect to a node
 *           that is connected, nodes (ConnectedNodes), register + unregister; with -R, that
 *           many disconnect -> connect -> NODE_CONNECTED cycles (a full handshake each)
 *
 * -w says what a loop does when it finds nothing to do: spin (poll again at once, the
 * default), yield (sched_yield(), then poll: a core shared with the appliance's lcore gets it
 * back), block (sluice_wait(): the eventfd); --block is -w block. -t bounds every mode (default
 * 30 s): the program exits 1 if it runs out before its work is done, 0 otherwise.
 *
 * A message: its sequence number (8 bytes, host order), then 8-byte words base + i * STEP,
 * base = (seq + 1) * MUL (both odd), the last word cut to the message's length. Messages of
 * fewer than 8 bytes are not sent (-z 8 at least).
 *
 * Output: one JSON object per line on stdout ({"mode": ..., ...}), the first once attached with
 * CHAN served ({"ready": 1}); errors on stderr. Only
 * libsluice's public API (sluice.h) and the examples' helpers (examples/ex_common.h).
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ex_common.h"

#define STEP 0x9e3779b97f4a7c15ull
#define MUL  0xd1b54a32d192ed03ull

#define EVENTS	      64    /* events per sluice_poll() */
#define POLL_EVERY    256   /* a source looks at its events after this many sends */
#define REPLY_WAIT_MS 5000  /* ping: the longest a reply may take */
#define CONNECT_MS    20000 /* source, ping, ops: the longest the first NODE_CONNECTED takes */
/* ops: between two reconnects, more than the peer's handshake rate limit asks of one source
 * (SL_RATELIMIT_PER_SEC, 20 a second after a burst of 5): beyond it, initiations are dropped
 * and the reconnect waits for the 1-s retry, which measures the limit, not the handshake */
#define RECONNECT_GAP_MS 100

enum idle { IDLE_SPIN, IDLE_YIELD, IDLE_BLOCK };

struct opts {
	const char *mode, *sock, *target;
	uint8_t chan;
	uint32_t size;
	uint64_t count, reconnects;
	double seconds;
	unsigned int report_ms;
	enum idle idle;
};

static uint64_t deadline_ns;

/* --- messages ---------------------------------------------------------------------------- */

/* Four words at a time in two 16-byte vectors, as the built-in services do
 * (dataplane/services/dp_svc_msg.c): a 32-byte vector without AVX goes through the stack on
 * every step, and a loop of 64-bit words stays scalar. */
typedef uint64_t words2 __attribute__((vector_size(16)));

/* Message seq of len bytes (len >= 8) into p. */
static void
msg_fill(uint8_t *p, uint32_t len, uint64_t seq)
{
	uint64_t base = (seq + 1) * MUL, n = (len - 8) / 8, i = 0, w;
	words2 a = { base, base + STEP }, b = a + 2 * STEP;

	memcpy(p, &seq, 8);
	p += 8;
	for (; i + 4 <= n; i += 4, a += 4 * STEP, b += 4 * STEP) {
		memcpy(p + i * 8, &a, 16);
		memcpy(p + i * 8 + 16, &b, 16);
	}
	for (; i < n; i++) {
		w = base + i * STEP;
		memcpy(p + i * 8, &w, 8);
	}
	w = base + n * STEP;
	memcpy(p + n * 8, &w, (len - 8) % 8);
}

/* Is p (len bytes) message seq, every byte of it? No early exit: the sink reads all. */
static bool
msg_ok(const uint8_t *p, uint32_t len, uint64_t seq)
{
	uint64_t base = (seq + 1) * MUL, n = (len - 8) / 8, i = 0, w, got, diff;
	words2 a = { base, base + STEP }, b = a + 2 * STEP, x, y, acc = { 0, 0 };

	memcpy(&got, p, 8);
	diff = got ^ seq;
	p += 8;
	for (; i + 4 <= n; i += 4, a += 4 * STEP, b += 4 * STEP) {
		memcpy(&x, p + i * 8, 16);
		memcpy(&y, p + i * 8 + 16, 16);
		acc |= (x ^ a) | (y ^ b);
	}
	diff |= acc[0] | acc[1];
	for (; i < n; i++) {
		memcpy(&got, p + i * 8, 8);
		diff |= got ^ (base + i * STEP);
	}
	w = base + n * STEP;
	return diff == 0 && memcmp(p + n * 8, &w, (len - 8) % 8) == 0;
}

/* The sequence number a message says it is (len >= 8). */
static uint64_t
msg_seq(const struct sluice_event *ev)
{
	uint64_t seq;

	memcpy(&seq, ev->data, 8);
	return seq;
}

/* --- shared ---------------------------------------------------------------------------- */

static bool
out_of_time(void)
{
	return ex_stop || ex_now_ns() >= deadline_ns;
}

/* Nothing to do now: as -w says. */
static void
idle(struct sluice *s, enum idle how, int timeout_ms)
{
	if (how == IDLE_YIELD)
		sched_yield();
	else if (how == IDLE_BLOCK && sluice_wait(s, timeout_ms) == -ECONNRESET)
		errx(1, "the appliance went away");
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One JSON line of percentiles of v[0..n) (sorted here) in nanoseconds. */
static void
print_percentiles(const char *mode, const char *what, uint64_t *v, uint64_t n, const char *extra)
{
	uint64_t sum = 0;

	if (n == 0) {
		printf("{\"mode\": \"%s\", \"op\": \"%s\", \"n\": 0%s}\n", mode, what, extra);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	for (uint64_t i = 0; i < n; i++)
		sum += v[i];
	printf("{\"mode\": \"%s\", \"op\": \"%s\", \"n\": %" PRIu64 ", \"min_ns\": %" PRIu64
	       ", \"p50_ns\": %" PRIu64 ", \"p90_ns\": %" PRIu64 ", \"p99_ns\": %" PRIu64
	       ", \"p999_ns\": %" PRIu64 ", \"max_ns\": %" PRIu64 ", \"mean_ns\": %" PRIu64 "%s}\n",
	       mode, what, n, v[0], v[n / 2], v[n * 90 / 100], v[n * 99 / 100], v[n * 999 / 1000],
	       v[n - 1], sum / n, extra);
	fflush(stdout);
}

static void
print_stats(const char *mode, struct sluice *s)
{
	struct sluice_stats st;

	sluice_get_stats(s, &st);
	printf("{\"mode\": \"%s\", \"stats\": 1, \"msgs_sent\": %" PRIu64
	       ", \"msgs_recv\": %" PRIu64 ", \"send_nobufs\": %" PRIu64
	       ", \"send_noroom\": %" PRIu64 ", \"appliance_errors\": %" PRIu64
	       ", \"release_errors\": %" PRIu64 "}\n",
	       mode, st.msgs_sent, st.msgs_recv, st.send_nobufs, st.send_noroom,
	       st.appliance_errors, st.release_errors);
	fflush(stdout);
}

/* A session event of node that ends the run. */
static void
check_node_event(const struct sluice_event *ev, const uint8_t node[SLUICE_NODE_LEN])
{
	if (memcmp(ev->node, node, SLUICE_NODE_LEN) != 0)
		return;
	if (ev->type == SLUICE_NODE_DISCONNECTED)
		errx(1, "the node disconnected (reason %u)", ev->reason);
	if (ev->type == SLUICE_SEND_FAILED)
		errx(1, "a send failed: the session ended");
}

/* --- sink ------------------------------------------------------------------------------- */

struct sink {
	uint64_t msgs, bytes, bad, gaps, next_seq;
	uint64_t first_ns, last_ns; /* the active period: the first and the last poll with data */
	bool started;
};

static void
sink_msg(struct sink *k, const struct sluice_event *ev)
{
	uint64_t seq;

	k->msgs++;
	k->bytes += ev->len;
	if (ev->len < 8) {
		k->bad++;
		return;
	}
	seq = msg_seq(ev);
	if (!msg_ok(ev->data, ev->len, seq))
		k->bad++;
	if (k->started && seq != k->next_seq)
		k->gaps++;
	k->started = true;
	k->next_seq = seq + 1;
}

static void
sink_report(const struct sink *k, bool final)
{
	printf("{\"mode\": \"sink\", \"t_ns\": %" PRIu64 ", \"msgs\": %" PRIu64
	       ", \"bytes\": %" PRIu64 ", \"bad\": %" PRIu64 ", \"gaps\": %" PRIu64
	       ", \"first_ns\": %" PRIu64 ", \"last_ns\": %" PRIu64 ", \"final\": %d}\n",
	       ex_now_ns(), k->msgs, k->bytes, k->bad, k->gaps, k->first_ns, k->last_ns, final);
	fflush(stdout);
}

/* One poll's events; how many messages of ours. */
static int
sink_events(const struct opts *o, struct sluice *s, struct sink *k)
{
	struct sluice_event ev[EVENTS];
	int n = sluice_poll(s, ev, EVENTS), got = 0;

	if (n < 0)
		errx(1, "poll: %s", sluice_strerror(n));
	for (int i = 0; i < n; i++) {
		if (ev[i].type != SLUICE_MESSAGE)
			continue;
		if (ev[i].chan == o->chan) {
			sink_msg(k, &ev[i]);
			got++;
		}
		sluice_release(s, &ev[i]);
	}
	return n == 0 ? -1 : got;
}

/* Until -n messages came (0: until -t runs out or a signal). */
static int
run_sink(const struct opts *o, struct sluice *s)
{
	uint64_t every = (uint64_t)o->report_ms * 1000000, next = ex_now_ns() + every, now;
	struct sink k = { 0 };

	while (!out_of_time() && (o->count == 0 || k.msgs < o->count)) {
		uint64_t before = ex_now_ns();
		int got = sink_events(o, s, &k);

		if (got > 0) {
			k.first_ns = k.first_ns != 0 ? k.first_ns : before;
			k.last_ns = ex_now_ns();
		}
		now = got > 0 ? k.last_ns : before;
		if (now >= next) {
			sink_report(&k, false);
			next += every;
		}
		if (got < 0)
			idle(s, o->idle, (int)o->report_ms);
	}
	sink_report(&k, true);
	print_stats("sink", s);
	return o->count != 0 && k.msgs < o->count;
}

/* --- source ----------------------------------------------------------------------------- */

/* Events while sending: true when a WRITABLE for (node, chan) came. */
static bool
source_events(struct sluice *s, const uint8_t node[SLUICE_NODE_LEN], uint8_t chan)
{
	struct sluice_event ev[EVENTS];
	int n = sluice_poll(s, ev, EVENTS);
	bool writable = false;

	if (n < 0)
		errx(1, "poll: %s", sluice_strerror(n));
	for (int i = 0; i < n; i++) {
		check_node_event(&ev[i], node);
		if (ev[i].type == SLUICE_WRITABLE && ev[i].chan == chan &&
		    memcmp(ev[i].node, node, SLUICE_NODE_LEN) == 0)
			writable = true;
		else if (ev[i].type == SLUICE_MESSAGE)
			sluice_release(s, &ev[i]);
	}
	return writable;
}

static int
run_source(const struct opts *o, struct sluice *s)
{
	uint8_t node[SLUICE_NODE_LEN], *buf = malloc(o->size);
	uint64_t seq = 0, t0, refused = 0;
	bool blocked = false;
	int rc;

	if (buf == NULL)
		errx(1, "out of memory");
	ex_connect(s, o->target, node, CONNECT_MS);
	t0 = ex_now_ns();
	while (o->count == 0 || seq < o->count) {
		/* the clock every POLL_EVERY messages: a read per message is a few % of the core */
		if ((blocked || seq % POLL_EVERY == 0) && out_of_time())
			break;
		if (blocked) {
			blocked = !source_events(s, node, o->chan);
			if (blocked)
				idle(s, o->idle, 100);
			continue;
		}
		msg_fill(buf, o->size, seq);
		rc = sluice_send(s, node, o->chan, buf, o->size, 0);
		if (rc == 0 && ++seq % POLL_EVERY == 0)
			(void)source_events(s, node, o->chan);
		else if (rc == -ENOBUFS)
			blocked = true, refused++;
		else if (rc != 0)
			errx(1, "send: %s", sluice_strerror(rc));
	}
	printf("{\"mode\": \"source\", \"sent\": %" PRIu64 ", \"bytes\": %" PRIu64
	       ", \"seconds\": %.3f, \"refused\": %" PRIu64 "}\n",
	       seq, seq * o->size, (double)(ex_now_ns() - t0) / 1e9, refused);
	print_stats("source", s);
	(void)sluice_flush(s, 1000);
	free(buf);
	return o->count != 0 && seq < o->count;
}

/* --- echo ------------------------------------------------------------------------------- */

/* A message that could not go back yet, copied. */
struct held {
	struct held *next;
	uint8_t node[SLUICE_NODE_LEN];
	uint32_t len;
	uint8_t data[];
};

struct echo {
	struct sluice *s;
	uint8_t chan;
	bool blocked;
	struct held *head, **tail;
	uint64_t echoed, dropped;
};

/* Send one back: true when it went or never will (its node left). */
static bool
echo_one(struct echo *e, const uint8_t *node, const void *data, uint32_t len)
{
	int rc = sluice_send(e->s, node, e->chan, data, len, 0);

	if (rc == -ENOBUFS) {
		e->blocked = true;
		return false;
	}
	if (rc == 0)
		e->echoed++;
	else
		e->dropped++;
	return true;
}

static void
echo_hold(struct echo *e, const struct sluice_event *ev)
{
	struct held *h = malloc(sizeof(*h) + ev->len);

	if (h == NULL)
		errx(1, "out of memory");
	memcpy(h->node, ev->node, SLUICE_NODE_LEN);
	h->len = ev->len;
	memcpy(h->data, ev->data, ev->len);
	h->next = NULL;
	*e->tail = h;
	e->tail = &h->next;
}

static void
echo_held(struct echo *e)
{
	while (e->head != NULL && !e->blocked &&
	       echo_one(e, e->head->node, e->head->data, e->head->len)) {
		struct held *h = e->head;

		e->head = h->next;
		if (e->head == NULL)
			e->tail = &e->head;
		free(h);
	}
}

static int
run_echo(const struct opts *o, struct sluice *s)
{
	struct echo e = { .s = s, .chan = o->chan };
	struct sluice_event ev[EVENTS];

	e.tail = &e.head;
	while (!out_of_time()) {
		int n = sluice_poll(s, ev, EVENTS);

		if (n < 0)
			errx(1, "poll: %s", sluice_strerror(n));
		for (int i = 0; i < n; i++) {
			if (ev[i].type == SLUICE_WRITABLE)
				e.blocked = false;
			if (ev[i].type != SLUICE_MESSAGE)
				continue;
			if (ev[i].chan == o->chan &&
			    (e.head != NULL || e.blocked ||
			     !echo_one(&e, ev[i].node, ev[i].data, ev[i].len)))
				echo_hold(&e, &ev[i]);
			sluice_release(s, &ev[i]);
		}
		echo_held(&e);
		if (n == 0)
			idle(s, o->idle, 100);
	}
	for (struct held *h = e.head, *next; h != NULL; h = next, e.dropped++) {
		next = h->next;
		free(h);
	}
	printf("{\"mode\": \"echo\", \"echoed\": %" PRIu64 ", \"dropped\": %" PRIu64 "}\n",
	       e.echoed, e.dropped);
	print_stats("echo", s);
	return 0;
}

/* --- ping ------------------------------------------------------------------------------- */

/* Wait for the reply to message seq; its round trip from t0. */
static uint64_t
ping_reply(const struct opts *o, struct sluice *s, const uint8_t node[SLUICE_NODE_LEN],
	   uint64_t seq, uint64_t t0)
{
	uint64_t give_up = t0 + (uint64_t)REPLY_WAIT_MS * 1000000;
	struct sluice_event ev;

	for (;;) {
		int n = sluice_poll(s, &ev, 1);

		if (n < 0)
			errx(1, "poll: %s", sluice_strerror(n));
		if (n == 1 && ev.type == SLUICE_MESSAGE) {
			uint64_t rtt = ex_now_ns() - t0;
			bool ok = ev.chan == o->chan && ev.len == o->size && msg_seq(&ev) == seq &&
				  msg_ok(ev.data, ev.len, seq);

			sluice_release(s, &ev);
			if (!ok)
				errx(1, "reply %" PRIu64 ": not the message sent", seq);
			return rtt;
		}
		if (n == 1) {
			check_node_event(&ev, node);
			continue;
		}
		if (ex_now_ns() > give_up || out_of_time())
			errx(1, "no reply to message %" PRIu64, seq);
		idle(s, o->idle, 100);
	}
}

static int
run_ping(const struct opts *o, struct sluice *s)
{
	uint64_t warm = o->count / 10, *rtt = calloc(o->count, sizeof(uint64_t));
	uint8_t node[SLUICE_NODE_LEN], *buf = malloc(o->size);
	char extra[64];

	if (rtt == NULL || buf == NULL)
		errx(1, "out of memory");
	ex_connect(s, o->target, node, CONNECT_MS);
	for (uint64_t i = 0; i < warm + o->count; i++) {
		uint64_t t0;
		int rc;

		msg_fill(buf, o->size, i);
		t0 = ex_now_ns();
		rc = sluice_send(s, node, o->chan, buf, o->size, 0);
		if (rc != 0) /* one in flight: always within credit and room */
			errx(1, "send %" PRIu64 ": %s", i, sluice_strerror(rc));
		t0 = ping_reply(o, s, node, i, t0);
		if (i >= warm)
			rtt[i - warm] = t0;
	}
	snprintf(extra, sizeof(extra), ", \"size\": %u, \"wait\": \"%s\"", o->size,
		 o->idle == IDLE_BLOCK	 ? "block"
		 : o->idle == IDLE_YIELD ? "yield"
					 : "spin");
	print_percentiles("ping", "rtt", rtt, o->count, extra);
	print_stats("ping", s);
	free(rtt);
	free(buf);
	return 0;
}

/* --- ops -------------------------------------------------------------------------------- */

struct series {
	const char *name;
	uint64_t *v, n;
};

static void
series_add(struct series *x, uint64_t t0)
{
	x->v[x->n++] = ex_now_ns() - t0;
}

/* attach and detach, count times (a slot the appliance has not freed yet: -EUSERS, again). */
static void
ops_attach(const struct opts *o, struct series *att, struct series *det)
{
	while (att->n < o->count && !out_of_time()) {
		uint64_t t0 = ex_now_ns();
		int err = 0;
		struct sluice *s = sluice_attach(o->sock, "bench-ops", &err);

		if (s == NULL && err == -EUSERS) {
			sched_yield();
			continue;
		}
		if (s == NULL)
			errx(1, "attach: %s", sluice_strerror(err));
		series_add(att, t0);
		t0 = ex_now_ns();
		sluice_detach(s);
		series_add(det, t0);
	}
}

/* Wait for an event of this type about node (other events are dropped). */
static void
ops_wait_event(struct sluice *s, const uint8_t node[SLUICE_NODE_LEN], enum sluice_event_type type)
{
	uint64_t give_up = ex_now_ns() + (uint64_t)CONNECT_MS * 1000000;
	struct sluice_event ev;

	while (ex_now_ns() < give_up && !ex_stop) {
		while (sluice_recv(s, &ev, NULL, 0) == 1)
			if (ev.type == type && memcmp(ev.node, node, SLUICE_NODE_LEN) == 0)
				return;
		(void)sluice_wait(s, 100);
	}
	errx(1, "no event %d within %d ms", type, CONNECT_MS);
}

/* disconnect, wait for NODE_DISCONNECTED, then connect and wait for NODE_CONNECTED: a new
 * handshake each time (timed from the connect), RECONNECT_GAP_MS apart. */
static void
ops_reconnect(const struct opts *o, struct sluice *s, const uint8_t node[SLUICE_NODE_LEN],
	      struct series *x)
{
	const struct timespec gap = { .tv_nsec = RECONNECT_GAP_MS * 1000000L };

	for (uint64_t i = 0; i < o->reconnects; i++) {
		uint64_t t0;
		int rc;

		(void)nanosleep(&gap, NULL); /* cut short by a signal: ex_stop, seen next */
		if (out_of_time())
			break;
		rc = sluice_disconnect(s, node);
		if (rc < 0)
			errx(1, "disconnect: %s", sluice_strerror(rc));
		ops_wait_event(s, node, SLUICE_NODE_DISCONNECTED);
		t0 = ex_now_ns();
		rc = sluice_connect(s, node, 0, 0);
		if (rc < 0)
			errx(1, "connect: %s", sluice_strerror(rc));
		ops_wait_event(s, node, SLUICE_NODE_CONNECTED);
		series_add(x, t0);
	}
}

/* connect (already connected: the request alone), nodes, register + unregister. */
static void
ops_requests(const struct opts *o, struct sluice *s, const uint8_t node[SLUICE_NODE_LEN],
	     struct series *x)
{
	struct sluice_node_info info[64];
	uint8_t spare = (uint8_t)(o->chan == 15 ? 14 : o->chan + 1);

	for (uint64_t i = 0; i < o->count && !out_of_time(); i++) {
		uint64_t t0 = ex_now_ns();
		unsigned int total;
		int rc = sluice_connect(s, node, 0, 0);

		series_add(&x[0], t0);
		t0 = ex_now_ns();
		if (rc == 0)
			rc = sluice_nodes(s, info, 64, &total);
		series_add(&x[1], t0);
		t0 = ex_now_ns();
		if (rc >= 0 && (rc = sluice_register(s, spare)) == 0)
			rc = sluice_unregister(s, spare);
		series_add(&x[2], t0);
		if (rc < 0)
			errx(1, "requests: %s", sluice_strerror(rc));
	}
}

static int
run_ops(const struct opts *o, struct sluice *s)
{
	static const char *const names[6] = {
		"attach", "detach", "connect", "nodes", "register_unregister", "reconnect"
	};
	struct series x[6];
	uint8_t node[SLUICE_NODE_LEN];

	for (int k = 0; k < 6; k++) {
		x[k] = (struct series){ .name = names[k],
					.v = calloc(o->count + o->reconnects + 1,
						    sizeof(uint64_t)) };
		if (x[k].v == NULL)
			errx(1, "out of memory");
	}
	ex_connect(s, o->target, node, CONNECT_MS);
	ops_attach(o, &x[0], &x[1]);
	ops_requests(o, s, node, &x[2]);
	ops_reconnect(o, s, node, &x[5]);
	for (int k = 0; k < 6; k++) {
		if (k < 5 || o->reconnects > 0)
			print_percentiles("ops", x[k].name, x[k].v, x[k].n, "");
		free(x[k].v);
	}
	return x[0].n < o->count || x[5].n < o->reconnects;
}

/* --- command line ----------------------------------------------------------------------- */

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr,
		"usage: sluice_bench sink|echo -s SOCK [-c CHAN] [-n COUNT] [-t SEC] [-r MS] [-w "
		"WAIT]\n"
		"       sluice_bench source -s SOCK [-c CHAN] -z SIZE [-n COUNT] [-t SEC] [-w "
		"WAIT] "
		"NODE[@IP:PORT]\n"
		"       sluice_bench ping -s SOCK [-c CHAN] -z SIZE -n COUNT [--block] [-t SEC] "
		"NODE[@IP:PORT]\n"
		"       sluice_bench ops -s SOCK [-c CHAN] -n COUNT [-R RECONNECTS] "
		"NODE[@IP:PORT]\n"
		"WAIT: spin (default), yield, block\n");
	exit(1);
}

static enum idle
parse_idle(const char *arg)
{
	if (strcmp(arg, "spin") == 0)
		return IDLE_SPIN;
	if (strcmp(arg, "yield") == 0)
		return IDLE_YIELD;
	if (strcmp(arg, "block") == 0)
		return IDLE_BLOCK;
	usage();
}

static void
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = { { "block", no_argument, NULL, 'B' }, { 0 } };
	int c;

	while ((c = getopt_long(argc, argv, "s:c:z:n:t:r:w:R:B", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o->sock = optarg;
			break;
		case 'c':
			o->chan = (uint8_t)atoi(optarg);
			break;
		case 'z':
			o->size = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			o->count = strtoull(optarg, NULL, 10);
			break;
		case 't':
			o->seconds = atof(optarg);
			break;
		case 'r':
			o->report_ms = (unsigned int)atoi(optarg);
			break;
		case 'w':
			o->idle = parse_idle(optarg);
			break;
		case 'R':
			o->reconnects = strtoull(optarg, NULL, 10);
			break;
		case 'B':
			o->idle = IDLE_BLOCK;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc || o->sock == NULL || o->seconds <= 0 || o->report_ms == 0)
		usage();
	o->mode = argv[optind++];
	if (optind < argc)
		o->target = argv[optind++];
	if (optind != argc)
		usage();
}

int
main(int argc, char **argv)
{
	struct opts o = { .chan = 1, .size = 64, .seconds = 30, .report_ms = 100 };
	static const char *const needs_node[] = { "source", "ping", "ops" };
	struct sluice *s;
	bool node = false;
	int rc;

	parse(argc, argv, &o);
	for (size_t i = 0; i < sizeof(needs_node) / sizeof(needs_node[0]); i++)
		node |= strcmp(o.mode, needs_node[i]) == 0;
	if (node != (o.target != NULL) || o.size < 8 ||
	    ((strcmp(o.mode, "ping") == 0 || strcmp(o.mode, "ops") == 0) && o.count == 0))
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	ex_signals();
	deadline_ns = ex_now_ns() + (uint64_t)(o.seconds * 1e9);
	s = ex_attach(o.sock, "sluice-bench", o.chan);
	if (o.size > sluice_max_message(s))
		errx(1, "-z %u: above the largest message (%u)", o.size, sluice_max_message(s));
	printf("{\"mode\": \"%s\", \"ready\": 1}\n", o.mode); /* attached, CHAN served */
	if (strcmp(o.mode, "sink") == 0)
		rc = run_sink(&o, s);
	else if (strcmp(o.mode, "source") == 0)
		rc = run_source(&o, s);
	else if (strcmp(o.mode, "echo") == 0)
		rc = run_echo(&o, s);
	else if (strcmp(o.mode, "ping") == 0)
		rc = run_ping(&o, s);
	else if (strcmp(o.mode, "ops") == 0)
		rc = run_ops(&o, s);
	else
		usage();
	sluice_detach(s);
	return rc;
}
