/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: libsluice's receive side against the fake appliance — rx delivery and release in
 * random order with padding at the arena's end (against a reference: rx_released is always
 * the first message still held, or the end of the last one seen), copying receive, a replaced
 * session, waking (another thread posts; the epoll-style calls), hostile descriptors and ring
 * indices from the appliance, the appliance going away, and discovery events (with the kinds
 * and types a newer appliance may add). Cases listed in test_libsluice.c.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_libsluice.h"

#define RX_ARENA (64u << 10) /* api_fake_defaults() */

static uint64_t
unit_up(uint64_t len)
{
	return (len + 63) & ~63ull;
}

/* --- random delivery and release ---------------------------------------------------------- */

struct rx_msg {
	uint64_t pos, seed;
	uint32_t len;
	struct sluice_event ev; /* held: as polled */
};

struct rx_model {
	struct rx_msg pend[64]; /* delivered, not polled yet (FIFO) */
	unsigned int ph, pn;
	struct rx_msg held[64]; /* polled, not released */
	unsigned int nh;
	uint64_t last_end; /* the end of the last message polled, on a unit */
	uint64_t next;	   /* the end of the last message delivered */
	unsigned int pads; /* messages that skipped to the arena's start */
	uint64_t count;
};

static void
rx_deliver(struct api_fake *f, struct rx_model *m, uint64_t *rng, uint8_t *buf)
{
	for (unsigned int k = sl_test_mix64(rng) % 6; k > 0 && m->pn < 64; k--) {
		uint64_t r = sl_test_mix64(rng);
		struct rx_msg *p = &m->pend[(m->ph + m->pn) % 64];

		p->len = r % 3 == 0 ? 1 + (uint32_t)(r >> 8) % 100 : 1 + (uint32_t)(r >> 8) % 9000;
		p->seed = ++m->count * 7919;
		fill(buf, p->len, p->seed);
		if (api_fake_deliver(f, 0, 0, CONN_A, 3, buf, p->len, &p->pos) == -ENOBUFS)
			return;
		if (p->pos != m->next) {
			CU_ASSERT_EQUAL(p->pos % RX_ARENA, 0);
			m->pads++;
		}
		m->next = p->pos + unit_up(p->len);
		m->pn++;
	}
}

static void
rx_take(struct sluice *s, struct rx_model *m, uint8_t *buf)
{
	struct sluice_event ev[16];
	int n;

	while ((n = sluice_poll(s, ev, 16)) > 0)
		for (int i = 0; i < n; i++) {
			struct rx_msg *p = &m->pend[m->ph++ % 64];

			CU_ASSERT_FATAL(m->pn-- > 0);
			CU_ASSERT_EQUAL_FATAL(ev[i].type, SLUICE_MESSAGE);
			CU_ASSERT_EQUAL(ev[i].chan, 3);
			CU_ASSERT_EQUAL_FATAL(ev[i].len, p->len);
			fill(buf, p->len, p->seed);
			CU_ASSERT_EQUAL_FATAL(memcmp(ev[i].data, buf, p->len), 0);
			p->ev = ev[i];
			m->held[m->nh++] = *p;
			m->last_end = p->pos + unit_up(p->len);
		}
	CU_ASSERT_EQUAL(n, 0);
}

/* What rx_released must be: the first message held, or the end of the last one seen. */
static uint64_t
rx_expected(const struct rx_model *m)
{
	uint64_t e = m->last_end;

	for (unsigned int i = 0; i < m->nh; i++)
		if (m->held[i].pos < e)
			e = m->held[i].pos;
	return e;
}

static void
rx_release(struct api_fake *f, struct sluice *s, struct rx_model *m, unsigned int k, uint64_t *rng)
{
	for (; k > 0 && m->nh > 0; k--) {
		unsigned int i = (unsigned int)(sl_test_mix64(rng) % m->nh);

		sluice_release(s, &m->held[i].ev);
		m->held[i] = m->held[--m->nh];
		CU_ASSERT_EQUAL_FATAL(api_fake_rx_released(f, 0, 0), rx_expected(m));
	}
}

void
test_rx_random(void)
{
	struct world w;
	struct rx_model *m = calloc(1, sizeof(*m));
	uint8_t *buf = malloc(9000);
	uint64_t rng = 7;
	struct sluice_stats st;

	world_start(&w, NULL, 3, 0, CONN_A);
	for (int round = 0; round < 4000; round++) {
		rx_deliver(w.f, m, &rng, buf);
		rx_take(w.s, m, buf);
		rx_release(w.f, w.s, m, (unsigned int)(sl_test_mix64(&rng) % (m->nh + 1)), &rng);
	}
	rx_release(w.f, w.s, m, 64, &rng);
	CU_ASSERT_EQUAL(api_fake_rx_released(w.f, 0, 0), m->last_end);
	CU_ASSERT(m->pads > 10);
	CU_ASSERT(m->count > 5000);
	CU_ASSERT_EQUAL(w.f->app[0].errors, 0);
	sluice_get_stats(w.s, &st);
	CU_ASSERT_EQUAL(st.release_errors, 0);
	CU_ASSERT_EQUAL(st.appliance_errors, 0);
	free(buf);
	free(m);
	world_end(&w);
}

void
test_recv_copy(void)
{
	struct world w;
	struct sluice_event ev;
	char buf[8];
	uint64_t pos;

	world_start(&w, NULL, 3, 0, CONN_A);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(api_fake_deliver(w.f, 0, 0, CONN_A, 3, "hello world", 11, &pos), 0);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL_FATAL(sluice_recv(w.s, &ev, buf, 5), 1);
		CU_ASSERT_EQUAL(ev.type, SLUICE_MESSAGE);
		CU_ASSERT_EQUAL(ev.len, 11);
		CU_ASSERT_PTR_EQUAL(ev.data, (const uint8_t *)buf);
		CU_ASSERT_EQUAL(memcmp(buf, "hello", 5), 0);
		CU_ASSERT_EQUAL(api_fake_rx_released(w.f, 0, 0), 64u * (i + 1));
	}
	CU_ASSERT_EQUAL(sluice_recv(w.s, &ev, buf, sizeof(buf)), 0);
	sluice_release(w.s, &ev); /* not a message it holds */
	world_end(&w);
}

/* A new session of node 4 on lane 1 comes up before the old one on lane 0 ends. */
void
test_replaced_session(void)
{
	struct world w;
	struct sluice_event ev;
	struct api_fake_sent sent;
	struct sluice_stats st;
	uint8_t buf[64];
	uint64_t pos;

	world_start(&w, NULL, 4, 0, CONN_A);
	up(w.f, w.s, 4, 1, CONN_B);
	CU_ASSERT_EQUAL(api_fake_deliver(w.f, 0, 0, CONN_A, 3, "late", 4, &pos), 0);
	CU_ASSERT_EQUAL_FATAL(next_event(w.s, &ev), 1); /* the old session's last message */
	CU_ASSERT_EQUAL(ev.type, SLUICE_MESSAGE);
	CU_ASSERT_EQUAL(memcmp(ev.node, w.id, sizeof(w.id)), 0);
	sluice_release(w.s, &ev);
	CU_ASSERT_EQUAL(api_fake_credit(w.f, 0, 0, CONN_A, 1, 1 << 30), 0); /* the old one's */
	CU_ASSERT_EQUAL(api_fake_node_down(w.f, 0, 0, CONN_A, 7), 0);
	CU_ASSERT_EQUAL(sluice_poll(w.s, &ev, 1), 0); /* nothing to report: node 4 is up */
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 1, "new", 3, 0), 0);
	CU_ASSERT_EQUAL(api_fake_take(w.f, 0, 0, &sent, buf), 0);
	CU_ASSERT_EQUAL_FATAL(api_fake_take(w.f, 0, 1, &sent, buf), 1);
	CU_ASSERT_EQUAL(sent.conn, CONN_B);
	CU_ASSERT_EQUAL(api_fake_node_down(w.f, 0, 1, CONN_B, 4), 0);
	CU_ASSERT_EQUAL_FATAL(next_event(w.s, &ev), 1);
	CU_ASSERT_EQUAL(ev.type, SLUICE_NODE_DISCONNECTED);
	CU_ASSERT_EQUAL(ev.reason, 4);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 1, "new", 3, 0), -ENOTCONN);
	sluice_get_stats(w.s, &st);
	CU_ASSERT_EQUAL(st.appliance_errors, 0);
	CU_ASSERT_EQUAL(w.f->app[0].errors, 0);
	world_end(&w);
}

/* --- waking ------------------------------------------------------------------------------- */

/* Another thread: once the application sleeps, node 9 comes up on lane 1. */
static void *
waker(void *arg)
{
	struct api_fake *f = arg;
	uint8_t id[SLUICE_NODE_LEN];

	for (int i = 0; i < WAIT_MS && !api_fake_sleeping(f, 0); i++)
		usleep(1000);
	node_id(id, 9);
	(void)api_fake_node_up(f, 0, 1, CONN_B, id);
	return NULL;
}

void
test_wait_thread(void)
{
	struct world w;
	struct sluice_event ev;
	pthread_t t;

	world_start(&w, NULL, 0, 0, 0);
	CU_ASSERT_EQUAL(sluice_wait(w.s, 0), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, waker, w.f), 0);
	CU_ASSERT_EQUAL(sluice_wait(w.s, WAIT_MS), 1);
	pthread_join(t, NULL);
	CU_ASSERT_FALSE(api_fake_sleeping(w.f, 0));
	CU_ASSERT_EQUAL_FATAL(sluice_poll(w.s, &ev, 1), 1);
	CU_ASSERT_EQUAL(ev.type, SLUICE_NODE_CONNECTED);
	CU_ASSERT_EQUAL(w.f->app[0].wakes, 1); /* it slept: the eventfd woke it */
	world_end(&w);
}

/* An application blocked on sluice_fd() in its own loop wakes when the appliance goes away
 * (nothing writes the eventfd then: the control socket's hang-up does it), and is told. */
void
test_wait_fd_appliance_gone(void)
{
	struct world w;
	struct pollfd p = { .events = POLLIN };

	world_start(&w, NULL, 0, 0, 0);
	p.fd = sluice_fd(w.s);
	CU_ASSERT_EQUAL(sluice_wait_prepare(w.s), 0);
	CU_ASSERT_EQUAL(poll(&p, 1, 0), 0); /* asleep: nothing yet */
	api_fake_stop(w.f);
	CU_ASSERT_EQUAL(poll(&p, 1, WAIT_MS), 1);
	sluice_wait_done(w.s);
	CU_ASSERT_EQUAL(sluice_wait_prepare(w.s), -ECONNRESET);
	CU_ASSERT_EQUAL(poll(&p, 1, 0), 1); /* and stays readable: the application detaches */
	CU_ASSERT_EQUAL(sluice_wait(w.s, WAIT_MS), -ECONNRESET);
	sluice_detach(w.s);
}

void
test_wait_fd(void)
{
	struct world w;
	struct pollfd p = { .events = POLLIN };
	struct sluice_event ev;
	pthread_t t;

	world_start(&w, NULL, 0, 0, 0);
	p.fd = sluice_fd(w.s);
	CU_ASSERT_EQUAL(sluice_wait_timeout(w.s, 50), 50);
	CU_ASSERT_EQUAL(sluice_wait_prepare(w.s), 0);
	CU_ASSERT_TRUE(api_fake_sleeping(w.f, 0));
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, waker, w.f), 0);
	CU_ASSERT_EQUAL(poll(&p, 1, WAIT_MS), 1);
	sluice_wait_done(w.s);
	pthread_join(t, NULL);
	CU_ASSERT_FALSE(api_fake_sleeping(w.f, 0));
	CU_ASSERT_EQUAL(poll(&p, 1, 0), 0);	      /* reset by sluice_wait_done() */
	CU_ASSERT_EQUAL(sluice_wait_prepare(w.s), 1); /* the descriptor is there: do not wait */
	CU_ASSERT_EQUAL_FATAL(sluice_poll(w.s, &ev, 1), 1);
	CU_ASSERT_EQUAL(ev.type, SLUICE_NODE_CONNECTED);
	world_end(&w);
}

/* --- a hostile appliance ------------------------------------------------------------------ */

static struct sl_api_desc
msg_desc(uint32_t conn, uint8_t chan, uint64_t pos, uint32_t len)
{
	struct sl_api_desc d = { .type = SL_API_D_MSG, .chan = chan, .conn = conn };

	d.msg.pos = pos;
	d.msg.len = len;
	return d;
}

/* Post d and poll: nothing may come of it but one more appliance error. */
static void
refused(struct api_fake *f, struct sluice *s, int lane, struct sl_api_desc d)
{
	struct sluice_stats a, b;
	struct sluice_event ev;

	sluice_get_stats(s, &a);
	CU_ASSERT_EQUAL_FATAL(api_fake_post(f, 0, lane, &d), 0);
	CU_ASSERT_EQUAL(sluice_poll(s, &ev, 1), 0);
	sluice_get_stats(s, &b);
	CU_ASSERT_EQUAL(b.appliance_errors, a.appliance_errors + 1);
}

void
test_hostile_rx(void)
{
	struct world w;
	struct sluice_event held, ev;
	struct sluice_stats st;
	struct sl_api_desc d = { .type = 99, .conn = CONN_A };
	static const uint8_t bytes[100] = "held";
	uint64_t pos;

	world_start(&w, NULL, 6, 0, CONN_A);
	CU_ASSERT_EQUAL(api_fake_deliver(w.f, 0, 0, CONN_A, 3, bytes, sizeof(bytes), &pos), 0);
	CU_ASSERT_EQUAL_FATAL(sluice_poll(w.s, &held, 1), 1);	   /* [0, 128) held */
	refused(w.f, w.s, 0, msg_desc(CONN_A, 3, RX_ARENA, 200));  /* over the held message */
	refused(w.f, w.s, 0, msg_desc(CONN_A, 3, 1ull << 60, 10)); /* far outside */
	refused(w.f, w.s, 0, msg_desc(CONN_A, 3, 130, 10));	   /* not on a unit */
	refused(w.f, w.s, 0, msg_desc(CONN_A, 3, 128, 0));	   /* empty */
	refused(w.f, w.s, 0, msg_desc(CONN_A, 3, 128, RX_ARENA));  /* wraps */
	refused(w.f, w.s, 0, msg_desc(CONN_A, 3, 64, 10));	   /* before the expected place */
	refused(w.f, w.s, 0, msg_desc(CONN_A, 3, 192, 10));	   /* a gap not to the start */
	refused(w.f, w.s, 0, msg_desc(CONN_A + 1, 3, 128, 10));	   /* no such session: released */
	refused(w.f, w.s, 0, msg_desc(CONN_A, 0, 192, 10));	   /* channel 0: released */
	refused(w.f, w.s, 1, msg_desc(CONN_A, 3, 0, 10));	   /* CONN_A is not on lane 1 */
	refused(w.f, w.s, 0, d);				   /* unknown type */
	d.type = SL_API_D_CREDIT;
	d.conn = 77;
	refused(w.f, w.s, 0, d); /* credit for no session */
	d.type = SL_API_D_NODE_DOWN;
	refused(w.f, w.s, 0, d);
	d.type = SL_API_D_MSG;
	refused(w.f, w.s, -1, d); /* the events ring carries no messages */
	CU_ASSERT_EQUAL(api_fake_node_up(w.f, 0, 0, CONN_A, held.node), 0);
	CU_ASSERT_EQUAL(sluice_poll(w.s, &ev, 1), 0); /* up twice */
	CU_ASSERT_EQUAL(api_fake_rx_released(w.f, 0, 0), 0);
	sluice_release(w.s, &held);
	CU_ASSERT_EQUAL(api_fake_rx_released(w.f, 0, 0), 256); /* over the two released at once */
	sluice_release(w.s, &held);
	ev = held;
	ev.priv[1] ^= 0x100;
	sluice_release(w.s, &ev);
	sluice_get_stats(w.s, &st);
	CU_ASSERT_EQUAL(st.appliance_errors, 15);
	CU_ASSERT_EQUAL(st.release_errors, 2);
	w.f->app[0].lane[0].rx_next = 256; /* the fake lcore goes on where libsluice expects */
	CU_ASSERT_EQUAL(api_fake_deliver(w.f, 0, 0, CONN_A, 3, "fine", 4, &pos), 0);
	CU_ASSERT_EQUAL_FATAL(sluice_poll(w.s, &ev, 1), 1);
	CU_ASSERT_EQUAL(memcmp(ev.data, "fine", 4), 0);
	world_end(&w);
}

/* --- discovery events --------------------------------------------------------------------- */

static struct sl_api_desc
disc_desc(uint16_t kind, const uint8_t *node, uint32_t count, uint32_t missed)
{
	struct sl_api_desc d = { .type = SL_API_D_DISCOVERY, .reason = kind };

	if (node != NULL)
		memcpy(d.disc.node, node, SL_API_NODE_LEN);
	d.disc.count = count;
	d.disc.missed = missed;
	return d;
}

/* What each kind becomes: type, node, count, reason, undelivered. */
void
test_discovery_events(void)
{
	static const uint8_t zero[SLUICE_NODE_LEN];
	uint8_t peer[SLUICE_NODE_LEN], bad[SLUICE_NODE_LEN];

	node_id(peer, 3); /* before the table, which copies them */
	node_id(bad, 4);
	const struct {
		struct sl_api_desc d;
		enum sluice_event_type type;
		const uint8_t *node;
		uint32_t count, undelivered;
		uint16_t reason;
	} t[] = {
		{ disc_desc(SL_API_DISC_ADDR_LEARNED, peer, 17, 0), SLUICE_DISC_ADDR_LEARNED, peer,
		  17, 0, 0 },
		{ disc_desc(SL_API_DISC_PEER_BAD, bad, 0, 0), SLUICE_DISC_PEER_BAD, bad, 0, 0, 0 },
		{ disc_desc(SL_API_DISC_BOOK_SAVED, NULL, 1234, 3), SLUICE_DISC_BOOK_SAVED, zero,
		  1234, 3, 0 },
		{ disc_desc(SL_API_DISC_BOOK_FAILED, NULL, EACCES, 0), SLUICE_DISC_BOOK_FAILED,
		  zero, 0, 0, EACCES },
		{ disc_desc(SL_API_DISC_ADDR_LEARNED, peer, 1, UINT32_MAX),
		  SLUICE_DISC_ADDR_LEARNED, peer, 1, UINT32_MAX, 0 },
	};
	const unsigned int n = sizeof(t) / sizeof(t[0]);
	struct sluice_event ev[8];
	struct sluice_stats st;
	struct world w;

	world_start(&w, NULL, 0, 0, 0);
	for (unsigned int i = 0; i < n; i++)
		CU_ASSERT_EQUAL_FATAL(api_fake_post(w.f, 0, -1, &t[i].d), 0);
	CU_ASSERT_EQUAL_FATAL(sluice_poll(w.s, ev, 8), (int)n);
	for (unsigned int i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(ev[i].type, t[i].type);
		CU_ASSERT_EQUAL(memcmp(ev[i].node, t[i].node, SLUICE_NODE_LEN), 0);
		CU_ASSERT_EQUAL(ev[i].count, t[i].count);
		CU_ASSERT_EQUAL(ev[i].undelivered, t[i].undelivered);
		CU_ASSERT_EQUAL(ev[i].reason, t[i].reason);
		CU_ASSERT_EQUAL(ev[i].chan, 0);
		CU_ASSERT_EQUAL(ev[i].len, 0);
		CU_ASSERT_PTR_NULL(ev[i].data);
	}
	sluice_release(w.s, &ev[0]); /* not a message: ignored, counted */
	sluice_get_stats(w.s, &st);
	CU_ASSERT_EQUAL(st.appliance_errors, 0);
	CU_ASSERT_EQUAL(st.release_errors, 1);
	CU_ASSERT_EQUAL(st.events, n);
	world_end(&w);
}

/* A newer appliance's events-ring types and discovery kinds: skipped and counted, the
 * attachment goes on; the lane rings do not grow that way. */
void
test_discovery_future(void)
{
	struct sl_api_desc future = { .type = SL_API_D_DISCOVERY + 7 };
	struct sluice_event ev[4];
	struct sluice_stats st;
	struct world w;

	world_start(&w, NULL, 5, 0, CONN_A);
	refused(w.f, w.s, -1, future);						   /* a type */
	refused(w.f, w.s, -1, disc_desc(SL_API_DISC_BOOK_FAILED + 1, w.id, 5, 0)); /* a kind */
	refused(w.f, w.s, -1, disc_desc(0, NULL, 0, 0));
	refused(w.f, w.s, -1, disc_desc(UINT16_MAX, NULL, 0, 0));
	refused(w.f, w.s, 0, disc_desc(SL_API_DISC_PEER_BAD, w.id, 0, 0)); /* on a lane */
	CU_ASSERT_EQUAL(api_fake_post(w.f, 0, -1, &future), 0);
	future = disc_desc(SL_API_DISC_PEER_BAD, w.id, 0, 0);
	CU_ASSERT_EQUAL(api_fake_post(w.f, 0, -1, &future), 0);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 3, "still", 5, 0), 0); /* not broken */
	CU_ASSERT_EQUAL_FATAL(sluice_poll(w.s, ev, 4), 1);	      /* the unknown one skipped */
	CU_ASSERT_EQUAL(ev[0].type, SLUICE_DISC_PEER_BAD);
	CU_ASSERT_EQUAL(memcmp(ev[0].node, w.id, SLUICE_NODE_LEN), 0);
	sluice_get_stats(w.s, &st);
	CU_ASSERT_EQUAL(st.appliance_errors, 6);
	world_end(&w);
}

/* A ring index the appliance could not have written: the attachment is broken. */
void
test_broken_ring(void)
{
	struct world w;
	struct api_fake_app *a;
	struct sl_ring_shm *rx, *tx;
	struct sluice_event ev;
	struct sluice_stats st;

	world_start(&w, NULL, 1, 1, CONN_B);
	a = &w.f->app[0];
	rx = (struct sl_ring_shm *)(a->shm + a->hdr.lane[0].rx_ring);
	tx = (struct sl_ring_shm *)(a->shm + a->hdr.lane[1].tx_ring);
	atomic_store(&tx->tail, 1000); /* consumed more than was produced */
	for (int i = 0; i < 64; i++)   /* taken on trust while the ring has room as last seen */
		CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 1, "x", 1, 0), 0);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 1, "x", 1, 0), -EPROTO);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 1, "x", 1, 0), -EPROTO);
	atomic_store(&rx->head, 1000); /* produced more than fits */
	CU_ASSERT_EQUAL(sluice_wait(w.s, WAIT_MS), 1);
	CU_ASSERT_EQUAL(sluice_poll(w.s, &ev, 1), -EPROTO);
	sluice_get_stats(w.s, &st);
	CU_ASSERT_EQUAL(st.appliance_errors, 1);
	world_end(&w);
}

void
test_appliance_gone(void)
{
	struct world w;
	int rc;

	world_start(&w, NULL, 0, 0, 0);
	api_fake_stop(w.f);
	CU_ASSERT_EQUAL(sluice_wait(w.s, WAIT_MS), -ECONNRESET);
	rc = sluice_register(w.s, 1);
	CU_ASSERT(rc == -EPIPE || rc == -ECONNRESET);
	sluice_detach(w.s);
}
