/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: reliable engine unit tests — two connections joined by a perfect in-memory wire
 * (conn_pair.c: delivery, fragmentation, channels, backpressure, expiry, datagrams, close,
 * keepalive) and every protocol violation the engine must refuse. Memory and the records of
 * packets in flight: test_conn_memory.c; the lossy-network behaviour: the simulator
 * (test_sim.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_pair.h"
#include "dp_conn.h"
#include "dp_frame.h"
#include "sl_test.h"

static void
test_messages_in_order(void)
{
	static uint8_t msg[300000], want[300000];
	static const size_t sizes[] = { 1, 64, 1400, 1441, 5000, 299999 };
	struct pair p;
	struct dp_msg *m;
	unsigned int got = 0, bad = 0;

	pair_open(&p, NULL);
	CU_ASSERT_EQUAL(dp_conn_stats_now(p.a).channels, 0); /* none opened yet */
	for (size_t i = 0; i < RTE_DIM(sizes); i++) {
		fill(msg, sizes[i], (uint32_t)i);
		CU_ASSERT_EQUAL(dp_conn_send(p.a, 1 + i % 3, msg, sizes[i], 0, p.now, NULL), 0);
	}
	pump(&p, 2000);
	while ((m = dp_conn_recv(p.b)) != NULL) {
		size_t i = 0;

		while (i < RTE_DIM(sizes) && sizes[i] != m->len)
			i++;
		fill(want, m->len, (uint32_t)i);
		bad += i == RTE_DIM(sizes) || memcmp(m->data, want, m->len) != 0 ||
		       m->chan != 1 + i % 3 || m->id != i / 3;
		got++;
		dp_conn_msg_release(p.b, m);
	}
	CU_ASSERT_EQUAL(got, RTE_DIM(sizes));
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(dp_conn_stats_now(p.b).msgs_delivered, RTE_DIM(sizes));
	CU_ASSERT(dp_conn_stats_now(p.a).rtt_smoothed_ns > 0);
	/* the channels used, on both sides (telemetry's per-peer "channels") */
	CU_ASSERT_EQUAL(dp_conn_stats_now(p.a).channels, 0xeu);
	CU_ASSERT_EQUAL(dp_conn_stats_now(p.b).channels, 0xeu);
	pair_close(&p);
}

static void
big_messages(struct dp_conn_config *cfg)
{
	cfg->max_message = 16u << 20;
	cfg->chan_window = cfg->conn_window = 32u << 20;
	for (int i = 0; i < cfg->n_channels; i++)
		cfg->chan[i].queue_limit = 32u << 20;
}

/* The largest message the engine must support (16 MiB, max_message raised with the windows and
 * queues that must hold it) arrives whole and byte-exact; one byte more is refused. */
static void
test_16mib_message(void)
{
	const size_t len = 16u << 20;
	uint8_t *msg = malloc(len + 1);
	struct pair p;
	struct dp_msg *m;

	CU_ASSERT_FATAL(msg != NULL);
	fill(msg, len + 1, 16);
	pair_open(&p, big_messages);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, len + 1, 0, p.now, NULL), -EMSGSIZE);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, len, 0, p.now, NULL), 0);
	pump(&p, 20000);
	m = dp_conn_recv(p.b);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT(m->len == len && memcmp(m->data, msg, len) == 0);
	dp_conn_msg_release(p.b, m);
	CU_ASSERT_PTR_NULL(dp_conn_recv(p.b));
	pair_close(&p);
	free(msg);
}

/* Small messages share packets. */
static void
test_small_messages_share_packets(void)
{
	struct pair p;
	uint8_t msg[64] = { 5 };
	unsigned int delivered = 0;
	struct dp_msg *m;

	pair_open(&p, NULL);
	for (int i = 0; i < 1000; i++)
		CU_ASSERT_EQUAL_FATAL(dp_conn_send(p.a, 2, msg, sizeof(msg), 0, p.now, NULL), 0);
	pump(&p, 2000);
	while ((m = dp_conn_recv(p.b)) != NULL) {
		delivered++;
		dp_conn_msg_release(p.b, m);
	}
	CU_ASSERT_EQUAL(delivered, 1000);
	/* 96 bytes of frame each: about 15 per 1440-byte packet */
	CU_ASSERT(dp_conn_stats_now(p.a).pkts_sent < 1000 / 10 + 20);
	pair_close(&p);
}

static void
small_queue(struct dp_conn_config *cfg)
{
	cfg->max_message = 4096;
	cfg->chan[1].queue_limit = 8192;
}

static void
test_backpressure(void)
{
	struct pair p;
	uint8_t msg[4096] = { 1 };
	struct dp_conn_event ev;
	bool writable = false;

	pair_open(&p, small_queue);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, 4096, 0, p.now, NULL), 0);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, 4096, 0, p.now, NULL), 0);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, 1, 0, p.now, NULL), -ENOBUFS);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 2, msg, 1, 0, p.now, NULL), 0); /* other channel */
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, 4097, 0, p.now, NULL), -EMSGSIZE);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 99, msg, 1, 0, p.now, NULL), -EINVAL);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, 0, 0, p.now, NULL), -EINVAL);
	pump(&p, 500);
	while (dp_conn_poll_event(p.a, &ev))
		writable = writable || (ev.type == DP_EV_WRITABLE && ev.chan == 1);
	CU_ASSERT(writable);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, 4096, 0, p.now, NULL), 0);
	pair_close(&p);
}

static void
small_unsent(struct dp_conn_config *cfg)
{
	cfg->unsent_limit = 64u << 10;
}

/* The unsent limit: sends on a channel are refused once it holds that many bytes never sent
 * (long before its queue is full) while another channel still takes messages; a refused
 * channel hears it is writable once half of them are out, and everything sent arrives. */
static void
test_unsent_limit(void)
{
	static uint8_t msg[1400];
	unsigned int sent = 0, got = 0, refusals = 0, writable = 0;
	struct dp_conn_event ev;
	struct pair p;
	struct dp_msg *m;

	pair_open(&p, small_unsent);
	for (unsigned int round = 0; round < 40 && sent < 401; round++) {
		unsigned int now_sent = 0;

		while (sent < 401 &&
		       dp_conn_send(p.a, 1 + round % 2, msg, sizeof(msg), 0, p.now, NULL) == 0)
			sent++, now_sent++;
		refusals += sent < 401;
		if (round == 0) {
			CU_ASSERT_EQUAL(now_sent, (64u << 10) / sizeof(msg) + 1);
			CU_ASSERT_EQUAL(dp_conn_send(p.a, 2, msg, 1, 0, p.now, NULL), 0);
			sent++;
		}
		pump(&p, 200);
		while (dp_conn_poll_event(p.a, &ev))
			writable += ev.type == DP_EV_WRITABLE;
		while ((m = dp_conn_recv(p.b)) != NULL) {
			got++;
			dp_conn_msg_release(p.b, m);
		}
	}
	CU_ASSERT_EQUAL(sent, 401);
	CU_ASSERT_EQUAL(got, 401);
	CU_ASSERT(refusals >= 8);
	CU_ASSERT_EQUAL(writable, refusals);
	pair_close(&p);
}

/* A receiver that does not read: the sender stops at the credit, the receiver holds no more
 * than its window, and everything arrives once it reads again. */
static void
test_receiver_stops_reading(void)
{
	static uint8_t msg[65536];
	struct pair p;
	struct dp_msg *m;
	unsigned int sent = 0, got = 0;

	pair_open(&p, NULL);
	while (sent < 200 && dp_conn_send(p.a, 3, msg, sizeof(msg), 0, p.now, NULL) == 0)
		sent++;
	pump(&p, 3000);
	CU_ASSERT(dp_conn_stats_now(p.b).bytes_delivered <= p.cfg.chan_window);
	CU_ASSERT(dp_conn_memory(p.b) < p.cfg.chan_window + (256u << 10));
	for (int round = 0; round < 50 && got < sent; round++) {
		while ((m = dp_conn_recv(p.b)) != NULL) {
			got++;
			dp_conn_msg_release(p.b, m);
		}
		pump(&p, 500);
	}
	CU_ASSERT_EQUAL(got, sent);
	pair_close(&p);
}

static void
test_expiry(void)
{
	struct pair p;
	uint8_t msg[100] = { 0 };
	struct dp_conn_event ev;
	uint64_t id_short, id_long;
	unsigned int expired = 0, delivered = 0;
	struct dp_msg *m;

	pair_open(&p, NULL);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, 100, 5 * MS, p.now, &id_short), 0);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, 100, 50 * MS, p.now, &id_long), 0);
	p.now += 10 * MS; /* nothing was sent yet: the first one's TTL passes */
	CU_ASSERT(dp_conn_next_wakeup(p.a) <= p.now);
	pump(&p, 500);
	while (dp_conn_poll_event(p.a, &ev))
		expired += ev.type == DP_EV_EXPIRED && ev.chan == 1 && ev.id == id_short;
	while ((m = dp_conn_recv(p.b)) != NULL) {
		delivered++;
		CU_ASSERT_EQUAL(m->id, 0); /* wire ids have no hole */
		dp_conn_msg_release(p.b, m);
	}
	CU_ASSERT_EQUAL(expired, 1);
	CU_ASSERT_EQUAL(delivered, 1);
	CU_ASSERT_EQUAL(dp_conn_stats_now(p.a).msgs_expired, 1);
	pair_close(&p);
}

static void
datagram_channel(struct dp_conn_config *cfg)
{
	cfg->chan[4].kind = DP_CHAN_DATAGRAM;
}

static void
test_datagrams(void)
{
	struct pair p;
	uint8_t msg[1500] = { 9 };
	struct dp_conn_event ev;
	unsigned int lost = 0, got = 0;
	struct dp_msg *m;

	pair_open(&p, datagram_channel);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 4, msg, 1500, 0, p.now, NULL), -EMSGSIZE);
	for (int i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(dp_conn_send(p.a, 4, msg, 100, 0, p.now, NULL), 0);
	pump(&p, 100);
	while ((m = dp_conn_recv(p.b)) != NULL) {
		got++;
		dp_conn_msg_release(p.b, m);
	}
	CU_ASSERT_EQUAL(got, 5);
	for (int i = 0; i < 50; i++) /* past the pacing of the first flight */
		pump(&p, 1);
	/* three datagrams vanish; later traffic gets through, and its ACKs reveal the loss */
	p.drop_a_to_b = true;
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(dp_conn_send(p.a, 4, msg, 100, 0, p.now, NULL), 0);
		pump(&p, 1);
	}
	p.drop_a_to_b = false;
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, 100, 0, p.now, NULL), 0);
		pump(&p, 1);
	}
	pump(&p, 3000);
	while (dp_conn_poll_event(p.a, &ev))
		lost += ev.type == DP_EV_DATAGRAM_LOST;

	CU_ASSERT_EQUAL(lost, 3);
	CU_ASSERT_EQUAL(dp_conn_stats_now(p.a).datagrams_lost, 3);
	pair_close(&p);
}

/* dp_conn_ping: the next packet carries a PING even with nothing else to say, and the peer
 * answers it. */
static void
test_ping_on_demand(void)
{
	struct pair p;
	uint8_t buf[SL_MAX_PAYLOAD];
	uint64_t pn;
	int n;

	pair_open(&p, NULL);
	while (dp_conn_output(p.a, p.now, buf, sizeof(buf), &pn) > 0) /* initial credit */
		;
	CU_ASSERT_EQUAL(dp_conn_output(p.a, p.now, buf, sizeof(buf), &pn), 0);
	dp_conn_ping(p.a);
	n = dp_conn_output(p.a, p.now, buf, sizeof(buf), &pn);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(buf[0], SL_FRAME_PING);
	CU_ASSERT_EQUAL(dp_conn_stats_now(p.a).pings_sent, 1);
	CU_ASSERT_EQUAL(dp_conn_input(p.b, pn, buf, (size_t)n, p.now), 0);
	n = dp_conn_output(p.b, p.now, buf, sizeof(buf), &pn);
	CU_ASSERT(n > 0 && memchr(buf, SL_FRAME_PONG, (size_t)n) != NULL);
	pair_close(&p);
}

static void
test_graceful_close(void)
{
	static uint8_t msg[100000];
	struct pair p;
	struct dp_conn_event ev;
	bool a_closed = false, b_closed = false;
	unsigned int got = 0;
	struct dp_msg *m;

	pair_open(&p, NULL);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, sizeof(msg), 0, p.now, NULL), 0);
	dp_conn_close(p.a, true, SL_CLOSE_NONE, p.now);
	CU_ASSERT_EQUAL(dp_conn_state(p.a), DP_CONN_DRAINING);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, 1, 0, p.now, NULL), -EPIPE);
	pump(&p, 1000);
	while ((m = dp_conn_recv(p.b)) != NULL) {
		got++;
		dp_conn_msg_release(p.b, m);
	}
	while (dp_conn_poll_event(p.a, &ev))
		a_closed = a_closed || (ev.type == DP_EV_CLOSED && !ev.by_peer);
	while (dp_conn_poll_event(p.b, &ev))
		b_closed = b_closed ||
			   (ev.type == DP_EV_CLOSED && ev.by_peer && ev.reason == SL_CLOSE_NONE);
	CU_ASSERT_EQUAL(got, 1);
	CU_ASSERT(a_closed && b_closed);
	CU_ASSERT(dp_conn_state(p.a) == DP_CONN_CLOSED && dp_conn_state(p.b) == DP_CONN_CLOSED);
	pair_close(&p);
}

static void
test_abortive_close(void)
{
	struct pair p;
	uint8_t msg[10] = { 0 };
	struct dp_conn_event ev;
	uint16_t reason = 0;

	pair_open(&p, NULL);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, 10, 0, p.now, NULL), 0);
	dp_conn_close(p.a, false, SL_CLOSE_APPLICATION, p.now);
	CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, 10, 0, p.now, NULL), -EPIPE);
	pump(&p, 100);
	while (dp_conn_poll_event(p.b, &ev))
		if (ev.type == DP_EV_CLOSED && ev.by_peer)
			reason = ev.reason;
	CU_ASSERT_EQUAL(reason, SL_CLOSE_APPLICATION);
	CU_ASSERT_PTR_NULL(dp_conn_recv(p.b)); /* the queued message went with the abort */
	pair_close(&p);
}

static void
short_keepalive(struct dp_conn_config *cfg)
{
	cfg->keepalive_ns = 100 * MS;
	cfg->idle_timeout_ns = 500 * MS;
}

/* Both sides keep the connection alive with PINGs; when one side goes silent, the other
 * first reports it unresponsive, then closes on the idle timeout. */
static void
test_keepalive_and_idle(void)
{
	struct pair p;
	struct dp_conn_event ev;
	bool unresponsive = false, idle = false;

	pair_open(&p, short_keepalive);
	for (int i = 0; i < 400; i++)
		pump(&p, 1);
	CU_ASSERT(dp_conn_stats_now(p.a).pings_sent >= 2);
	CU_ASSERT_EQUAL(dp_conn_state(p.a), DP_CONN_OPEN);
	p.drop_a_to_b = true; /* b hears nothing any more */
	for (int i = 0; i < 3000 && dp_conn_state(p.b) == DP_CONN_OPEN; i++)
		pump(&p, 1);
	while (dp_conn_poll_event(p.b, &ev)) {
		unresponsive = unresponsive || ev.type == DP_EV_UNRESPONSIVE;
		idle = idle || (ev.type == DP_EV_CLOSED && ev.reason == SL_CLOSE_IDLE);
	}
	CU_ASSERT(idle);
	CU_ASSERT_EQUAL(dp_conn_state(p.b), DP_CONN_CLOSED);
	(void)unresponsive; /* depends on PTO vs idle timing; the simulator checks the bound */
	pair_close(&p);
}

/* Seven busy channels with priorities 0..6 share the packets in proportion to priority + 1
 * (deficit round robin), every channel gets a share, and nothing stalls. */
static void
test_priority_shares(void)
{
	static uint8_t msg[1000];
	struct pair p;
	uint8_t buf[SL_MAX_PAYLOAD];
	uint64_t bytes[8] = { 0 }, pn, total = 0;
	int n;

	pair_open(&p, NULL);
	pump(&p, 5); /* credit exchanged */
	for (int ch = 1; ch <= 7; ch++)
		for (int i = 0; i < 200; i++)
			CU_ASSERT_EQUAL_FATAL(
				dp_conn_send(p.a, (uint8_t)ch, msg, sizeof(msg), 0, p.now, NULL),
				0);
	/* every packet a sends is tallied and handed to b at once; b's answers go straight
	 * back; time moves 1 ms whenever a has to wait */
	for (int k = 0; k < 5000 && total < 300 * 1000; k++) {
		struct dp_frame f;
		struct dp_ack_ranges a;
		uint8_t back[SL_MAX_PAYLOAD];
		size_t off = 0;
		int m;

		n = dp_conn_output(p.a, p.now, buf, sizeof(buf), &pn);
		if (n <= 0) {
			p.now += MS;
			dp_conn_tick(p.a, p.now);
			dp_conn_tick(p.b, p.now);
		} else {
			while (dp_frame_parse(buf, (size_t)n, &off, &f, &a) > 0)
				if (f.type == SL_FRAME_DATA) {
					bytes[f.data.chan] += f.data.len;
					total += f.data.len;
				}
			dp_conn_input(p.b, pn, buf, (size_t)n, p.now);
		}
		while ((m = dp_conn_output(p.b, p.now, back, sizeof(back), &pn)) > 0)
			dp_conn_input(p.a, pn, back, (size_t)m, p.now);
	}
	CU_ASSERT(total >= 100000);
	for (int ch = 1; ch <= 7; ch++) {
		double share = (double)bytes[ch] / (double)total, want = ch / 28.0;

		if (share < want * 0.7 || share > want * 1.3)
			fprintf(stderr, "channel %d: share %.3f, expected %.3f\n", ch, share, want);
		CU_ASSERT(share >= want * 0.7 && share <= want * 1.3);
	}
	pair_close(&p);
}

/* --- protocol violations ----------------------------------------------------------------- */

struct violation {
	const char *what;
	enum dp_conn_drop drop;
	uint16_t reason; /* SL_CLOSE_*, or 0xffff: not fatal */
};

static int
feed(struct dp_conn *c, uint64_t pn, const uint8_t *buf, size_t len)
{
	return dp_conn_input(c, pn, buf, len, 2000 * MS);
}

static size_t
build_violation(int i, uint8_t *buf, size_t cap)
{
	static const uint8_t data[64];
	struct dp_ack_ranges a = { .n = 1, .r = { { 0, 5 } } };

	switch (i) {
	case 0: /* an ACK for packets never sent */
		return dp_frame_put_ack(buf, cap, &a);
	case 1: /* a channel that does not exist */
		return dp_frame_put_data(buf, cap, 12, 0, 0, 64, 0, data, 64);
	case 2: /* larger than max_message */
		return dp_frame_put_data(buf, cap, 1, 0, 0, (2u << 20), 0, data, 64);
	case 3: /* beyond the initial credit */
		return dp_frame_put_data(buf, cap, 1, 0, 1u << 20, 64, 0, data, 64);
	case 4: /* message 0 cannot start anywhere but offset 0 */
		return dp_frame_put_data(buf, cap, 1, 0, 100, 64, 0, data, 64);
	case 5: /* ids cannot run ahead of bytes */
		return dp_frame_put_data(buf, cap, 1, 50, 10, 64, 0, data, 64);
	case 6: /* a datagram on a reliable channel */
		return dp_frame_put_datagram(buf, cap, 1, 0, data, 10);
	case 7: /* unknown frame type */
		buf[0] = 0x7e;
		return 16;
	default: /* malformed: truncated PING */
		buf[0] = SL_FRAME_PING;
		return 5;
	}
}

static void
test_violations_close(void)
{
	static const struct violation v[] = {
		{ "ack of unsent", DP_CONN_DROP_ACK_UNSENT, SL_CLOSE_PROTOCOL },
		{ "bad channel", DP_CONN_DROP_BAD_CHANNEL, SL_CLOSE_PROTOCOL },
		{ "too large", DP_CONN_DROP_TOO_LARGE, SL_CLOSE_PROTOCOL },
		{ "beyond credit", DP_CONN_DROP_FLOW_CONTROL, SL_CLOSE_FLOW_CONTROL },
		{ "bad base", DP_CONN_DROP_BAD_OFFSET, SL_CLOSE_PROTOCOL },
		{ "ids ahead of bytes", DP_CONN_DROP_BAD_OFFSET, SL_CLOSE_PROTOCOL },
		{ "datagram on reliable", DP_CONN_DROP_BAD_CHANNEL, SL_CLOSE_PROTOCOL },
		{ "unknown frame", DP_CONN_DROP_UNKNOWN_FRAME, SL_CLOSE_PROTOCOL },
		{ "malformed", DP_CONN_DROP_MALFORMED, SL_CLOSE_PROTOCOL },
	};
	struct dp_conn_config cfg;

	dp_conn_config_defaults(&cfg);
	for (size_t i = 0; i < RTE_DIM(v); i++) {
		struct dp_conn *c = dp_conn_create(&cfg, 0);
		uint8_t buf[256] = { 0 }, out[SL_MAX_PAYLOAD];
		size_t n = build_violation((int)i, buf, sizeof(buf));
		struct dp_conn_event ev = { 0 };
		struct dp_frame f;
		struct dp_ack_ranges a;
		uint64_t pn;
		size_t off = 0;
		int w;

		CU_ASSERT_EQUAL(feed(c, 0, buf, n), -EPROTO);
		CU_ASSERT_EQUAL(dp_conn_stats_now(c).drops[v[i].drop], 1);
		CU_ASSERT_EQUAL(dp_conn_state(c), DP_CONN_CLOSED);
		CU_ASSERT(dp_conn_poll_event(c, &ev) && ev.type == DP_EV_CLOSED &&
			  ev.reason == v[i].reason && !ev.by_peer);
		/* the CLOSE frame with that reason goes out */
		w = dp_conn_output(c, 2000 * MS, out, sizeof(out), &pn);
		CU_ASSERT(w > 0 && dp_frame_parse(out, (size_t)w, &off, &f, &a) == 1 &&
			  f.type == SL_FRAME_CLOSE && f.close.reason == v[i].reason);
		/* and nothing more is accepted */
		CU_ASSERT_EQUAL(feed(c, 1, buf, n), 0);
		CU_ASSERT_EQUAL(dp_conn_stats_now(c).drops[DP_CONN_DROP_AFTER_CLOSE], 1);
		if (dp_conn_stats_now(c).drops[v[i].drop] != 1)
			fprintf(stderr, "%s: not counted as %s\n", v[i].what,
				dp_conn_drop_name(v[i].drop));
		dp_conn_destroy(c);
	}
}

/* Harmless oddities are counted, not fatal. */
static void
test_benign_oddities(void)
{
	struct dp_conn_config cfg;
	struct dp_conn *c;
	uint8_t buf[64];
	size_t n;

	dp_conn_config_defaults(&cfg);
	c = dp_conn_create(&cfg, 0);
	n = dp_frame_put_credit(buf, sizeof(buf), SL_FRAME_MAX_DATA, 0, 1u << 30);
	CU_ASSERT_EQUAL(feed(c, 0, buf, n), 0);
	n = dp_frame_put_credit(buf, sizeof(buf), SL_FRAME_MAX_DATA, 0, 1u << 20);
	CU_ASSERT_EQUAL(feed(c, 1, buf, n), 0);
	CU_ASSERT_EQUAL(dp_conn_stats_now(c).drops[DP_CONN_DROP_CREDIT_BACKWARDS], 1);
	CU_ASSERT_EQUAL(feed(c, 1, buf, n), 0); /* same packet number again */
	CU_ASSERT_EQUAL(dp_conn_stats_now(c).drops[DP_CONN_DROP_DUPLICATE], 1);
	n = dp_frame_put_ping(buf, sizeof(buf), SL_FRAME_PING, 7);
	CU_ASSERT_EQUAL(feed(c, 2, buf, n), 0);
	CU_ASSERT_EQUAL(dp_conn_state(c), DP_CONN_OPEN);
	dp_conn_destroy(c);
}

static void
test_config_validation(void)
{
	struct dp_conn_config cfg;

	dp_conn_config_defaults(&cfg);
	CU_ASSERT_PTR_NULL(dp_conn_config_check(&cfg));
	cfg.max_payload = 100;
	CU_ASSERT_PTR_NOT_NULL(dp_conn_config_check(&cfg));
	CU_ASSERT_PTR_NULL(dp_conn_create(&cfg, 0));
	dp_conn_config_defaults(&cfg);
	cfg.chan_window = cfg.max_message - 1;
	CU_ASSERT_PTR_NOT_NULL(dp_conn_config_check(&cfg));
	dp_conn_config_defaults(&cfg);
	cfg.chan[0].kind = DP_CHAN_DATAGRAM;
	CU_ASSERT_PTR_NOT_NULL(dp_conn_config_check(&cfg));
	dp_conn_config_defaults(&cfg);
	cfg.chan[3].priority = 8;
	CU_ASSERT_PTR_NOT_NULL(dp_conn_config_check(&cfg));
	dp_conn_config_defaults(&cfg);
	cfg.max_message = 16u << 20; /* 16 MiB messages need 16 MiB windows and queues */
	CU_ASSERT_PTR_NOT_NULL(dp_conn_config_check(&cfg));
	cfg.chan_window = cfg.conn_window = 32u << 20;
	for (int i = 0; i < cfg.n_channels; i++)
		cfg.chan[i].queue_limit = 32u << 20;
	CU_ASSERT_PTR_NULL(dp_conn_config_check(&cfg));
}

/* dp_conn_send_room(): sends that fit the room are never refused, whatever their sizes; with
 * no room, even one byte is refused; the room comes back as the peer acknowledges. */
static void
test_send_room(void)
{
	static uint8_t msg[20000];
	uint64_t rng = 5, sent = 0, got = 0;
	struct pair p;
	struct dp_msg *m;

	pair_open(&p, small_unsent);
	CU_ASSERT_EQUAL(dp_conn_send_room(p.a, 0 + 20), 0); /* no such channel */
	for (unsigned int round = 0; round < 30; round++) {
		uint32_t room = dp_conn_send_room(p.a, 1);

		CU_ASSERT(round == 0 || room > 0);
		while (room > 0) {
			uint32_t len = 1 + (uint32_t)(sl_test_mix64(&rng) % sizeof(msg));

			if (len > room)
				len = room;
			CU_ASSERT_EQUAL_FATAL(dp_conn_send(p.a, 1, msg, len, 0, p.now, NULL), 0);
			sent++;
			CU_ASSERT_EQUAL(dp_conn_send_room(p.a, 1), room - len);
			room -= len;
		}
		CU_ASSERT_EQUAL(dp_conn_send(p.a, 1, msg, 1, 0, p.now, NULL), -ENOBUFS);
		pump(&p, 200);
		while ((m = dp_conn_recv(p.b)) != NULL) {
			got++;
			dp_conn_msg_release(p.b, m);
		}
	}
	pump(&p, 2000);
	while ((m = dp_conn_recv(p.b)) != NULL) {
		got++;
		dp_conn_msg_release(p.b, m);
	}
	CU_ASSERT_EQUAL(got, sent);
	dp_conn_close(p.a, false, SL_CLOSE_APPLICATION, p.now);
	CU_ASSERT_EQUAL(dp_conn_send_room(p.a, 1), 0); /* closed */
	pair_close(&p);
}

static CU_TestInfo cases[] = {
	{ "send room: never refused within it", test_send_room },
	{ "messages of every size arrive byte-exact, in order per channel",
	  test_messages_in_order },
	{ "a 16 MiB message arrives whole, one byte more is refused", test_16mib_message },
	{ "small messages share packets", test_small_messages_share_packets },
	{ "backpressure: -ENOBUFS then writable", test_backpressure },
	{ "unsent limit: refused early per channel, then writable", test_unsent_limit },
	{ "receiver stops reading: bounded, then complete", test_receiver_stops_reading },
	{ "TTL expiry before first transmission", test_expiry },
	{ "datagrams delivered, losses reported", test_datagrams },
	{ "PING on demand, answered", test_ping_on_demand },
	{ "graceful close drains first", test_graceful_close },
	{ "abortive close with a reason", test_abortive_close },
	{ "keepalive PINGs and the idle timeout", test_keepalive_and_idle },
	{ "priorities share packets by weight", test_priority_shares },
	{ "protocol violations: counted, closed with a reason", test_violations_close },
	{ "benign oddities: counted, not fatal", test_benign_oddities },
	{ "configuration validation", test_config_validation },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("conn", cases)
