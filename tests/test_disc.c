/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: one node's discovery (cp_disc) in a small world of nodes that dial, open
 * and close sessions and pass control messages instantly (virtual time, 100 ms steps):
 * - twelve nodes, each told of one seed only, all reach their outbound target and learn every
 *   other node; with the seed in seed mode too, and the seed then holds no session;
 * - a peer that sends unsolicited and junk answers is closed (misbehaved) and marked bad;
 * - the pool's refusals close sessions (refused); dials nobody reports time out;
 * - the book is saved periodically and a new node loads it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_common.h>

#include "cp_disc.h"
#include "sl_test.h"
#include "sl_wire.h"

#define MAX_NODES 16
#define STEP_NS	  100000000ull
#define PORT	  4790

struct wnode {
	struct cp_disc *d;
	struct cp_addr addr; /* with id */
	bool alive, silent;  /* silent: its dials are never reported */
	uint64_t closes[SL_CLOSE_REASON_COUNT];
};

enum ev_type { EV_DIAL, EV_CLOSE, EV_SEND };

struct ev {
	enum ev_type type;
	int from;
	struct cp_addr a; /* DIAL: whom; CLOSE, SEND: a.id */
	uint16_t reason;
	size_t len;
	uint8_t msg[SL_CONTROL_MSG_MAX];
};

static struct wnode w[MAX_NODES];
static int n_nodes;
static bool linked[MAX_NODES][MAX_NODES];
static struct ev *queue;
static int q_head, q_tail;
static uint64_t now_ns, wall_s;
#define QUEUE_LEN 4096

static void
push(const struct ev *e)
{
	CU_ASSERT_FATAL(q_tail - q_head < QUEUE_LEN);
	queue[q_tail++ % QUEUE_LEN] = *e;
}

static int
w_dial(void *arg, const struct cp_addr *a)
{
	struct ev e = { .type = EV_DIAL, .from = (int)(intptr_t)arg, .a = *a };

	if (!w[e.from].silent)
		push(&e);
	return 0;
}

static void
w_close(void *arg, const uint8_t id[SL_KEY_LEN], uint16_t reason)
{
	struct ev e = { .type = EV_CLOSE, .from = (int)(intptr_t)arg, .reason = reason };

	memcpy(e.a.id, id, SL_KEY_LEN);
	push(&e);
}

static int
w_send(void *arg, const uint8_t id[SL_KEY_LEN], const void *msg, size_t len)
{
	struct ev e = { .type = EV_SEND, .from = (int)(intptr_t)arg, .len = len };

	memcpy(e.a.id, id, SL_KEY_LEN);
	memcpy(e.msg, msg, len);
	push(&e);
	return 0;
}

static const struct cp_disc_ops ops = { .dial = w_dial, .close = w_close, .send = w_send };

static int
by_id(const uint8_t id[SL_KEY_LEN])
{
	for (int i = 0; i < n_nodes; i++)
		if (memcmp(w[i].addr.id, id, SL_KEY_LEN) == 0)
			return i;
	return -1;
}

static int
by_addr(const struct cp_addr *a)
{
	for (int i = 0; i < n_nodes; i++)
		if (w[i].addr.ip == a->ip && w[i].addr.port == a->port)
			return i;
	return -1;
}

static void
session_of(int peer, bool outbound, struct cp_disc_session *s)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->id, w[peer].addr.id, SL_KEY_LEN);
	s->ip = w[peer].addr.ip;
	s->port = PORT;
	s->outbound = outbound;
	s->caps = SL_CAP_PEX;
	s->n_listen = 1;
	s->listen[0] = w[peer].addr;
}

static void
run_dial(const struct ev *e)
{
	int j = by_addr(&e->a), i = e->from;
	struct cp_disc_session s;

	if (j < 0 || !w[j].alive || linked[i][j] ||
	    ((e->a.flags & CP_ADDR_F_HAS_ID) && memcmp(e->a.id, w[j].addr.id, SL_KEY_LEN))) {
		cp_disc_dial_failed(w[i].d, &e->a, now_ns, wall_s);
		return;
	}
	linked[i][j] = linked[j][i] = true;
	session_of(j, true, &s);
	cp_disc_opened(w[i].d, &s, now_ns, wall_s);
	if (w[j].d != NULL) {
		session_of(i, false, &s);
		cp_disc_opened(w[j].d, &s, now_ns, wall_s);
	}
}

static void
run_close(const struct ev *e)
{
	int j = by_id(e->a.id), i = e->from;

	if (j < 0 || !linked[i][j])
		return;
	linked[i][j] = linked[j][i] = false;
	w[i].closes[e->reason]++;
	cp_disc_closed(w[i].d, w[j].addr.id, now_ns, wall_s);
	if (w[j].d != NULL)
		cp_disc_closed(w[j].d, w[i].addr.id, now_ns, wall_s);
}

static void
drain(void)
{
	while (q_head < q_tail) {
		struct ev *e = &queue[q_head++ % QUEUE_LEN];
		int j = by_id(e->a.id);

		if (e->type == EV_DIAL)
			run_dial(e);
		else if (e->type == EV_CLOSE)
			run_close(e);
		else if (j >= 0 && linked[e->from][j] && w[j].d != NULL)
			cp_disc_control(w[j].d, w[e->from].addr.id, e->msg, e->len, now_ns, wall_s);
	}
}

static void
run(uint64_t seconds)
{
	for (uint64_t k = 0; k < seconds * 10; k++) {
		now_ns += STEP_NS;
		if (k % 10 == 0)
			wall_s++;
		for (int i = 0; i < n_nodes; i++)
			if (w[i].d != NULL && w[i].alive)
				(void)cp_disc_tick(w[i].d, now_ns, wall_s);
		drain();
	}
}

/* Node i: id i+1 repeated, address 20.i.0.1 (a /16 of its own). */
static void
node_addr(int i, struct cp_addr *a)
{
	memset(a, 0, sizeof(*a));
	memset(a->id, i + 1, SL_KEY_LEN);
	a->flags = CP_ADDR_F_HAS_ID;
	a->ip = (20u << 24) | ((uint32_t)i << 16) | 1;
	a->port = PORT;
}

static void
base_config(int i, struct cp_disc_config *cfg)
{
	cp_disc_config_defaults(cfg);
	cfg->pool.max_outbound = 4;
	cfg->pool.max_inbound = 10;
	cfg->pex.has_self_id = true;
	memcpy(cfg->pex.self_id, w[i].addr.id, SL_KEY_LEN);
	cfg->pex.n_self = 1;
	cfg->pex.self[0].ip = w[i].addr.ip;
	cfg->pex.self[0].port = PORT;
}

static void
add_node(int i, const struct cp_disc_config *cfg)
{
	uint8_t key[SL_KEY_LEN];

	memset(key, 0x40 + i, sizeof(key));
	w[i].d = cp_disc_create(cfg, &ops, (void *)(intptr_t)i, key, 1000 + (uint64_t)i);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w[i].d);
	w[i].alive = true;
}

static void
world_start(int n)
{
	memset(w, 0, sizeof(w));
	memset(linked, 0, sizeof(linked));
	queue = calloc(QUEUE_LEN, sizeof(*queue));
	CU_ASSERT_PTR_NOT_NULL_FATAL(queue);
	q_head = q_tail = 0;
	now_ns = 0;
	wall_s = 1800000000;
	n_nodes = n;
	for (int i = 0; i < n; i++)
		node_addr(i, &w[i].addr);
}

static void
world_end(void)
{
	for (int i = 0; i < n_nodes; i++)
		cp_disc_destroy(w[i].d);
	free(queue);
}

static int
outbound_of(int i)
{
	return (int)cp_pool_stats(cp_disc_pool(w[i].d))->outbound;
}

static int
inbound_of(int i)
{
	return (int)cp_pool_stats(cp_disc_pool(w[i].d))->inbound;
}

/* Twelve nodes told of node 0 only. */
static void
bootstrap(bool seed_mode)
{
	struct cp_disc_config cfg;

	world_start(12);
	for (int i = 0; i < 12; i++) {
		base_config(i, &cfg);
		cfg.seed_mode = i == 0 && seed_mode;
		cfg.n_seeds = i == 0 ? 0 : 1;
		cfg.seeds = &w[0].addr;
		add_node(i, &cfg);
	}
	run(300);
	for (int i = 1; i < 12; i++) {
		const struct cp_disc_stats *st = cp_disc_stats(w[i].d);

		if (outbound_of(i) < 4 || cp_book_size(cp_disc_book(w[i].d)) < 10)
			printf("\n  node %d: %d outbound, book %u", i, outbound_of(i),
			       cp_book_size(cp_disc_book(w[i].d)));
		CU_ASSERT(outbound_of(i) >= 4);
		CU_ASSERT(cp_book_size(cp_disc_book(w[i].d)) >= 10); /* the others, seed aside */
		CU_ASSERT(st->seed_dials >= 1);
		CU_ASSERT(st->requests_sent >= 1);
		/* asked again only when due (not refused by cp_pex on every tick) */
		CU_ASSERT(cp_disc_pex_stats(w[i].d)->requests_not_due <= st->requests_sent);
		CU_ASSERT_EQUAL(st->peers_bad, 0);
	}
}

static void
test_bootstrap(void)
{
	bootstrap(false);
	/* the seed filled its inbound places before it dialled anyone: it learns the addresses of
	 * the others from its inbound peers and dials them, so it is connected to everyone */
	CU_ASSERT_EQUAL(outbound_of(0) + inbound_of(0), 11);
	CU_ASSERT(outbound_of(0) >= 1);
	world_end();
}

static void
test_bootstrap_seed_mode(void)
{
	int held = 0;

	bootstrap(true);
	for (int j = 1; j < 12; j++)
		held += linked[0][j];
	CU_ASSERT(held <= 1); /* a seed holds no long-lived session (one may just have come) */
	CU_ASSERT(cp_disc_stats(w[0].d)->seed_closes >= 11);
	CU_ASSERT(cp_disc_stats(w[0].d)->answers_sent >= 11);
	world_end();
}

/* An ADDR with n entries at 30.x.0.1 answering req_id. */
static size_t
addr_msg(uint8_t *buf, uint32_t req_id, unsigned int n)
{
	struct sl_ctl_addr *m = (struct sl_ctl_addr *)buf;
	struct sl_pex_entry *e = (struct sl_pex_entry *)(m + 1);
	size_t len = SL_CTL_ADDR_LEN(n);

	memset(buf, 0, len);
	m->hdr.type = SL_CTL_ADDR;
	m->hdr.version = SL_CTL_VERSION;
	m->hdr.len = rte_cpu_to_be_16((uint16_t)len);
	m->req_id = rte_cpu_to_be_32(req_id);
	m->count = rte_cpu_to_be_16((uint16_t)n);
	for (unsigned int i = 0; i < n; i++) {
		e[i].ip = rte_cpu_to_be_32((30u << 24) | (i << 16) | 1);
		e[i].port = rte_cpu_to_be_16(PORT);
		e[i].last_seen = rte_cpu_to_be_64(wall_s);
	}
	return len;
}

static void
test_hostile_peer(void)
{
	struct cp_disc_config cfg;
	struct cp_disc_session s;
	struct cp_book_info info;
	uint8_t buf[SL_CONTROL_MSG_MAX];

	world_start(2); /* node 1 is the hostile peer, driven by hand */
	base_config(0, &cfg);
	add_node(0, &cfg);
	w[1].alive = true;
	linked[0][1] = linked[1][0] = true;
	session_of(1, false, &s);
	CU_ASSERT_EQUAL(cp_disc_opened(w[0].d, &s, now_ns, wall_s), CP_POOL_ACCEPT);
	for (int k = 0; k < 4 && linked[0][1]; k++) {
		cp_disc_control(w[0].d, w[1].addr.id, buf, addr_msg(buf, 77, 3), now_ns, wall_s);
		drain();
	}
	CU_ASSERT_FALSE(linked[0][1]);
	CU_ASSERT_EQUAL(w[0].closes[SL_CLOSE_MISBEHAVED], 1);
	CU_ASSERT_EQUAL(cp_disc_stats(w[0].d)->peers_bad, 1);
	CU_ASSERT_EQUAL(cp_disc_stats(w[0].d)->addrs_added, 0); /* nothing unsolicited taken */
	CU_ASSERT(cp_disc_pex_stats(w[0].d)->msgs[CP_PEX_UNSOLICITED] >= 3);
	CU_ASSERT_EQUAL(cp_book_lookup(cp_disc_book(w[0].d), &w[1].addr, &info), 0);
	CU_ASSERT(info.bad_count == 1 && info.bad_until > wall_s);
	/* what it says after its session ended is not heard */
	cp_disc_control(w[0].d, w[1].addr.id, buf, addr_msg(buf, 1, 1), now_ns, wall_s);
	CU_ASSERT_EQUAL(cp_disc_stats(w[0].d)->untracked, 1);
	world_end();
}

static size_t
getaddr_msg(uint8_t *buf)
{
	struct sl_ctl_getaddr m = {
		.hdr = { .type = SL_CTL_GETADDR,
			 .version = SL_CTL_VERSION,
			 .len = rte_cpu_to_be_16(SL_CTL_GETADDR_LEN) },
		.req_id = rte_cpu_to_be_32(5),
		.max = rte_cpu_to_be_16(SL_PEX_MAX_ADDRS),
	};

	memcpy(buf, &m, sizeof(m));
	return sizeof(m);
}

static void
test_pool_refusal_and_timeouts(void)
{
	struct cp_disc_config cfg;
	struct cp_disc_session s;
	uint8_t buf[SL_CONTROL_MSG_MAX];

	world_start(5);
	base_config(0, &cfg);
	cfg.pool.max_inbound = 1;
	cfg.pool.max_outbound = 1;
	add_node(0, &cfg);
	for (int j = 1; j < 5; j++)
		linked[0][j] = linked[j][0] = true, w[j].alive = true;
	session_of(1, false, &s);
	CU_ASSERT_EQUAL(cp_disc_opened(w[0].d, &s, now_ns, wall_s), CP_POOL_ACCEPT);
	/* from the same /16 (evens nothing out), without peer exchange: closed at once */
	session_of(2, false, &s);
	s.ip = w[1].addr.ip;
	s.caps = 0;
	CU_ASSERT_EQUAL(cp_disc_opened(w[0].d, &s, now_ns, wall_s), CP_POOL_REFUSE_FULL);
	drain();
	CU_ASSERT_EQUAL(w[0].closes[SL_CLOSE_REFUSED], 1);
	CU_ASSERT_FALSE(linked[0][2]);
	/* with peer exchange: its request is answered, then it is closed */
	session_of(4, false, &s);
	s.ip = w[1].addr.ip;
	CU_ASSERT_EQUAL(cp_disc_opened(w[0].d, &s, now_ns, wall_s), CP_POOL_REFUSE_FULL);
	drain();
	CU_ASSERT_TRUE(linked[0][4]);
	cp_disc_control(w[0].d, w[4].addr.id, buf, getaddr_msg(buf), now_ns, wall_s);
	CU_ASSERT_EQUAL(cp_disc_stats(w[0].d)->answers_sent, 1);
	run(1);
	CU_ASSERT_FALSE(linked[0][4]);
	CU_ASSERT_EQUAL(w[0].closes[SL_CLOSE_REFUSED], 2);
	CU_ASSERT_EQUAL(cp_disc_stats(w[0].d)->refused, 2);
	CU_ASSERT_EQUAL(cp_pool_stats(cp_disc_pool(w[0].d))->inbound, 1);
	/* a dial nobody reports is given up */
	w[0].silent = true;
	CU_ASSERT_EQUAL(cp_disc_add(w[0].d, &w[3].addr, wall_s), 0);
	linked[0][3] = linked[3][0] = false;
	run(12);
	CU_ASSERT(cp_disc_stats(w[0].d)->dials >= 1);
	CU_ASSERT(cp_disc_stats(w[0].d)->dials_timed_out >= 1);
	cp_disc_dial_failed(w[0].d, &w[2].addr, now_ns, wall_s); /* for no dial of its */
	CU_ASSERT_EQUAL(cp_disc_stats(w[0].d)->reports_late, 1);
	world_end();
}

static void
test_save_and_load(void)
{
	char path[] = "/tmp/sluice-test-disc-XXXXXX";
	struct cp_disc_config cfg;
	char why[128];
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	unlink(path);
	world_start(3);
	base_config(0, &cfg);
	cfg.book_path = path;
	cfg.save_interval_ns = 5 * 1000000000ull;
	add_node(0, &cfg);
	CU_ASSERT_EQUAL(cp_disc_load(w[0].d, why, sizeof(why)), -ENOENT);
	CU_ASSERT_EQUAL(cp_disc_add(w[0].d, &w[1].addr, wall_s), 0);
	CU_ASSERT_EQUAL(cp_disc_add(w[0].d, &w[2].addr, wall_s), 0);
	run(6);
	CU_ASSERT(cp_disc_stats(w[0].d)->saves >= 1);
	cp_disc_destroy(w[0].d);
	base_config(0, &cfg);
	cfg.book_path = path;
	add_node(0, &cfg);
	CU_ASSERT_EQUAL(cp_disc_load(w[0].d, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(cp_book_size(cp_disc_book(w[0].d)), 2);
	CU_ASSERT_EQUAL(cp_disc_save(w[0].d), 0);
	unlink(path);
	world_end();
}

static void
test_config(void)
{
	struct cp_disc_config cfg;

	cp_disc_config_defaults(&cfg);
	CU_ASSERT_PTR_NULL(cp_disc_create(&cfg, NULL, NULL, cfg.pex.self_id, 1));
	cfg.max_dialing = 0;
	errno = 0;
	CU_ASSERT_PTR_NULL(cp_disc_create(&cfg, &ops, NULL, cfg.pex.self_id, 1));
	CU_ASSERT_EQUAL(errno, EINVAL);
	cp_disc_config_defaults(&cfg);
	cfg.n_seeds = 1; /* without the array */
	CU_ASSERT_PTR_NULL(cp_disc_create(&cfg, &ops, NULL, cfg.pex.self_id, 1));
}

static CU_TestInfo cases[] = {
	{ "configuration refused", test_config },
	{ "twelve nodes from one seed: targets met, every node known", test_bootstrap },
	{ "the same with the seed in seed mode: it holds nothing", test_bootstrap_seed_mode },
	{ "a hostile peer: closed, marked bad, nothing taken", test_hostile_peer },
	{ "pool refusals close; unreported dials time out", test_pool_refusal_and_timeouts },
	{ "the book saved periodically, loaded by a new node", test_save_and_load },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("disc", cases)
