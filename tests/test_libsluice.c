/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: libsluice against a fake appliance (tests/api_fake.h) in the same process — attach
 * and detach (file descriptors all closed, the extra ones too), the version check and hostile
 * attach replies, registration conflicts across attachments, connect / disconnect / nodes,
 * send errors, credit (-ENOBUFS, one WANT, WRITABLE), a full lane (-ENOBUFS, WRITABLE once
 * the lcore took its descriptors), the tx arena wrapping under random sizes against a naive
 * reference (every byte the lcore takes is what was sent, in order), rx delivery with releases
 * in random order and padding at the arena's end (rx_released is exactly the first message
 * still held), a replaced session whose old NODE_DOWN comes late, sluice_wait() woken by a
 * descriptor another thread posts, and hostile descriptors from the appliance (refused, never
 * read, counted); discovery events (each kind's fields; types and kinds of a newer appliance
 * skipped and counted, the attachment going on); sluice_flush() (it returns once the lcore took
 * every send, times out, sees the appliance go) and node ids as text (a table of edge cases, random
 * round trips against libsodium's base64 and hex).
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "test_libsluice.h"

/* --- helpers ------------------------------------------------------------------------------ */

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d != NULL && readdir(d) != NULL)
		n++;
	if (d != NULL)
		closedir(d);
	return n;
}

void
node_id(uint8_t id[SLUICE_NODE_LEN], uint8_t k)
{
	memset(id, 0x30 + k, SLUICE_NODE_LEN);
	id[1] = k;
}

/* Bytes of a message made from seed (the reference regenerates them). */
void
fill(uint8_t *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = sl_test_mix64(&seed);

		memcpy(p + i, &v, len - i < 8 ? len - i : 8);
	}
}

struct sluice *
attach(struct api_fake *f)
{
	int err = 1;
	struct sluice *s = sluice_attach(api_fake_path(f), "test", &err);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(err, 0);
	return s;
}

/* The next event, waiting for it if needed (1), or 0. */
int
next_event(struct sluice *s, struct sluice_event *ev)
{
	int n = sluice_poll(s, ev, 1);

	if (n == 0 && sluice_wait(s, WAIT_MS) == 1)
		n = sluice_poll(s, ev, 1);
	return n;
}

/* Node k up on lane as conn (posted by the fake lcore, seen by the application). */
void
up(struct api_fake *f, struct sluice *s, uint8_t k, unsigned int lane, uint32_t conn)
{
	struct sluice_event ev;
	uint8_t id[SLUICE_NODE_LEN];

	node_id(id, k);
	CU_ASSERT_EQUAL_FATAL(api_fake_node_up(f, 0, lane, conn, id), 0);
	CU_ASSERT_EQUAL_FATAL(next_event(s, &ev), 1);
	CU_ASSERT_EQUAL(ev.type, SLUICE_NODE_CONNECTED);
	CU_ASSERT_EQUAL(memcmp(ev.node, id, sizeof(id)), 0);
}

struct api_fake *
start_default(void)
{
	struct api_fake_cfg cfg;

	api_fake_defaults(&cfg);
	return api_fake_start(&cfg);
}

void
world_start(struct world *w, const struct api_fake_cfg *cfg, uint8_t k, unsigned int lane,
	    uint32_t conn)
{
	w->f = cfg ? api_fake_start(cfg) : start_default();
	w->s = attach(w->f);
	node_id(w->id, k);
	if (k != 0)
		up(w->f, w->s, k, lane, conn);
}

void
world_end(struct world *w)
{
	sluice_detach(w->s);
	api_fake_stop(w->f);
}

/* --- attach ------------------------------------------------------------------------------- */

static void
test_attach_detach(void)
{
	int fds = count_fds(), err = 0;
	struct world w;
	uint8_t self[SLUICE_NODE_LEN];

	world_start(&w, NULL, 0, 0, 0);
	memset(self, 0xa5, sizeof(self));
	CU_ASSERT_EQUAL(memcmp(sluice_self(w.s), self, sizeof(self)), 0);
	CU_ASSERT_EQUAL(sluice_max_message(w.s), 4096);
	CU_ASSERT(sluice_fd(w.s) >= 0);
	CU_ASSERT_EQUAL(sluice_wait(w.s, 0), 0);
	sluice_detach(w.s);
	sluice_detach(NULL);
	w.s = attach(w.f); /* again, after a detach */
	sluice_detach(w.s);
	CU_ASSERT_PTR_NULL(sluice_attach("/nonexistent/api.sock", "x", &err));
	CU_ASSERT_EQUAL(err, -ENOENT);
	api_fake_stop(w.f);
	CU_ASSERT_EQUAL(count_fds(), fds);
}

static void
test_attach_refused(void)
{
	char longpath[200];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int err = 0, fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	CU_ASSERT_PTR_NULL(sluice_attach(longpath, "x", &err));
	CU_ASSERT_EQUAL(err, -ENAMETOOLONG);
	/* a socket that was bound and is no longer listened on */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/sluice-refused-%d.sock", getpid());
	unlink(sa.sun_path);
	CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	CU_ASSERT_PTR_NULL(sluice_attach(sa.sun_path, "x", &err));
	CU_ASSERT_EQUAL(err, -ECONNREFUSED);
	unlink(sa.sun_path);
}

/* An appliance that speaks another version, or only so many applications. */
static void
test_version_and_limit(void)
{
	struct api_fake_cfg cfg;
	struct api_fake *f;
	struct sluice *s;
	int err = 0;

	api_fake_defaults(&cfg);
	cfg.version = SL_API_VERSION + 1;
	f = api_fake_start(&cfg);
	CU_ASSERT_PTR_NULL(sluice_attach(api_fake_path(f), "x", &err));
	CU_ASSERT_EQUAL(err, -EPROTO);
	api_fake_stop(f);
	cfg.version = SL_API_VERSION;
	cfg.max_apps = 1;
	f = api_fake_start(&cfg);
	s = attach(f);
	CU_ASSERT_PTR_NULL(sluice_attach(api_fake_path(f), "y", &err));
	CU_ASSERT_EQUAL(err, -EUSERS);
	sluice_detach(s);
	api_fake_stop(f);
}

static void
test_hostile_attach(void)
{
	static const unsigned int refused[] = { API_FAKE_BAD_MAGIC, API_FAKE_BIG_SIZE,
						API_FAKE_NO_FDS, API_FAKE_BAD_LAYOUT };
	int fds = count_fds(), err;
	struct api_fake_cfg cfg;
	struct api_fake *f;

	api_fake_defaults(&cfg);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		cfg.hostile = refused[i];
		f = api_fake_start(&cfg);
		err = 0;
		CU_ASSERT_PTR_NULL(sluice_attach(api_fake_path(f), "x", &err));
		CU_ASSERT_EQUAL(err, -EPROTO);
		api_fake_stop(f);
		CU_ASSERT_EQUAL(count_fds(), fds); /* the memfd and eventfd were closed */
	}
	cfg.hostile = API_FAKE_EXTRA_FDS; /* accepted; the two extra descriptors closed */
	f = api_fake_start(&cfg);
	sluice_detach(attach(f));
	api_fake_stop(f);
	CU_ASSERT_EQUAL(count_fds(), fds);
}

/* --- requests ----------------------------------------------------------------------------- */

static void
test_register(void)
{
	struct api_fake *f = start_default();
	struct sluice *a = attach(f), *b = attach(f);

	CU_ASSERT_EQUAL(sluice_register(a, 3), 0);
	CU_ASSERT_EQUAL(sluice_register(a, 3), -EALREADY);
	CU_ASSERT_EQUAL(sluice_register(b, 3), -EBUSY);
	CU_ASSERT_EQUAL(sluice_register(a, 0), -EINVAL);
	CU_ASSERT_EQUAL(sluice_register(a, 9), -EINVAL); /* not a channel of the appliance */
	CU_ASSERT_EQUAL(sluice_register(a, 16), -EINVAL);
	CU_ASSERT_EQUAL(sluice_unregister(b, 3), -ENOENT);
	CU_ASSERT_EQUAL(sluice_unregister(a, 3), 0);
	CU_ASSERT_EQUAL(sluice_register(b, 3), 0);
	CU_ASSERT_EQUAL(sluice_register(a, 4), 0);
	sluice_detach(a); /* its registrations go with it */
	CU_ASSERT_EQUAL(sluice_register(b, 4), 0);
	sluice_detach(b);
	api_fake_stop(f);
}

static void
test_connect(void)
{
	struct world w;
	struct sluice_event ev;

	world_start(&w, NULL, 0, 0, 0);
	memset(w.id, 0, sizeof(w.id));
	CU_ASSERT_EQUAL(sluice_connect(w.s, w.id, 0, 0), -EINVAL);
	node_id(w.id, 5);
	CU_ASSERT_EQUAL(sluice_connect(w.s, w.id, 0, 0), -EDESTADDRREQ);
	CU_ASSERT_EQUAL(sluice_disconnect(w.s, w.id), -ENOENT);
	CU_ASSERT_EQUAL(sluice_connect(w.s, w.id, 0x0a000005, 51820), 0);
	CU_ASSERT_EQUAL_FATAL(next_event(w.s, &ev), 1);
	CU_ASSERT_EQUAL(ev.type, SLUICE_NODE_CONNECTED);
	CU_ASSERT_EQUAL(memcmp(ev.node, w.id, sizeof(w.id)), 0);
	CU_ASSERT_EQUAL(ev.ip, 0x0a000002);
	CU_ASSERT_EQUAL(ev.port, 51820);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 1, "hi", 2, 0), 0);
	CU_ASSERT_EQUAL(sluice_disconnect(w.s, w.id), 0);
	CU_ASSERT_EQUAL_FATAL(next_event(w.s, &ev), 1);
	CU_ASSERT_EQUAL(ev.type, SLUICE_NODE_DISCONNECTED);
	CU_ASSERT_EQUAL(ev.reason, 5);
	CU_ASSERT_EQUAL(ev.undelivered, 3);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 1, "hi", 2, 0), -ENOTCONN);
	memset(w.id, 0xff, sizeof(w.id)); /* the fake cannot reach it */
	CU_ASSERT_EQUAL(sluice_connect(w.s, w.id, 0x0a000009, 1), 0);
	CU_ASSERT_EQUAL_FATAL(next_event(w.s, &ev), 1);
	CU_ASSERT_EQUAL(ev.type, SLUICE_NODE_CONNECT_FAILED);
	CU_ASSERT_EQUAL(ev.reason, SLUICE_FAIL_UNREACHABLE);
	CU_ASSERT_EQUAL(memcmp(ev.node, w.id, sizeof(w.id)), 0);
	world_end(&w);
}

/* More nodes than one reply holds: the list comes in pages. */
static void
test_nodes(void)
{
	struct world w;
	struct sluice_node_info *info = calloc(150, sizeof(*info));
	unsigned int total = 0;

	world_start(&w, NULL, 0, 0, 0);
	for (unsigned int i = 0; i < 130; i++) {
		memset(w.id, 0, sizeof(w.id));
		w.id[0] = 1;
		w.id[2] = (uint8_t)i;
		api_fake_add_node(w.f, w.id, 0x0a000000 + i, (uint16_t)(1000 + i));
	}
	CU_ASSERT_EQUAL(sluice_nodes(w.s, info, 150, &total), 130);
	CU_ASSERT_EQUAL(total, 130);
	for (unsigned int i = 0; i < 130; i++) {
		CU_ASSERT_EQUAL(info[i].node[2], i);
		CU_ASSERT_EQUAL(info[i].ip, 0x0a000000 + i);
		CU_ASSERT_EQUAL(info[i].port, 1000 + i);
		CU_ASSERT_EQUAL(info[i].state, 0);
		CU_ASSERT_EQUAL(info[i].last_handshake_age_ns, 0);
	}
	CU_ASSERT_EQUAL(sluice_nodes(w.s, info, 10, &total), 10);
	CU_ASSERT_EQUAL(sluice_nodes(w.s, NULL, 0, &total), 0);
	CU_ASSERT_EQUAL(total, 130);
	CU_ASSERT_EQUAL(sluice_connect(w.s, w.id, 0, 0), 0); /* known: no address needed */
	CU_ASSERT_EQUAL(sluice_nodes(w.s, info, 150, NULL), 130);
	CU_ASSERT_EQUAL(info[129].state, 3);
	CU_ASSERT_EQUAL(info[129].last_handshake_age_ns, 1000000000ull);
	free(info);
	world_end(&w);
}

/* --- send --------------------------------------------------------------------------------- */

static void
test_send_errors(void)
{
	struct world w;
	uint8_t buf[4097] = { 0 };

	world_start(&w, NULL, 0, 0, 0);
	node_id(w.id, 1);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 1, buf, 10, 0), -ENOTCONN);
	up(w.f, w.s, 1, 0, CONN_A);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 1, buf, 0, 0), -EMSGSIZE);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 1, buf, 4097, 0), -EMSGSIZE);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 0, buf, 10, 0), -EINVAL);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 8, buf, 10, 0), -EINVAL); /* not a channel */
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 16, buf, 10, 0), -EINVAL);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 1, buf, 4096, 0), 0);
	for (int e = 1; e < 200; e++)
		CU_ASSERT_STRING_NOT_EQUAL(sluice_strerror(-e), "");
	CU_ASSERT_STRING_EQUAL(sluice_strerror(-ENOBUFS),
			       "ENOBUFS: no room towards that node now; SLUICE_WRITABLE follows");
	world_end(&w);
}

static void
test_credit(void)
{
	struct world w;
	struct sluice_stats st;
	struct api_fake_sent sent;
	struct sluice_event ev;
	uint8_t buf[4096];
	int n;

	world_start(&w, NULL, 1, 0, CONN_A); /* credit: 16 KiB a channel */
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 2, buf, 4096, 0), 0);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 2, buf, 1, 0), -ENOBUFS);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 2, buf, 1, 0), -ENOBUFS);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 3, buf, 1, 0), 0); /* another channel has its own */
	for (n = 0; api_fake_take(w.f, 0, 0, &sent, buf) == 1; n++)
		CU_ASSERT_EQUAL(sent.type, n == 4 ? SL_API_D_WANT : SL_API_D_SEND);
	CU_ASSERT_EQUAL(n, 6); /* one WANT for two refusals */
	CU_ASSERT_EQUAL(api_fake_credit(w.f, 0, 0, CONN_A, 2, 16384), 0); /* no room yet */
	CU_ASSERT_EQUAL(sluice_wait(w.s, WAIT_MS), 1);
	CU_ASSERT_EQUAL(sluice_poll(w.s, &ev, 1), 0);
	CU_ASSERT_EQUAL(api_fake_credit(w.f, 0, 0, CONN_A, 2, 20000), 0);
	CU_ASSERT_EQUAL_FATAL(next_event(w.s, &ev), 1);
	CU_ASSERT_EQUAL(ev.type, SLUICE_WRITABLE);
	CU_ASSERT_EQUAL(ev.chan, 2);
	CU_ASSERT_EQUAL(memcmp(ev.node, w.id, sizeof(w.id)), 0);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 2, buf, 3616, 0), 0);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 2, buf, 1, 0), -ENOBUFS);
	sluice_get_stats(w.s, &st);
	CU_ASSERT_EQUAL(st.send_nobufs, 3);
	CU_ASSERT_EQUAL(st.msgs_sent, 6);
	CU_ASSERT_EQUAL(st.send_noroom, 0);
	while (api_fake_take(w.f, 0, 0, &sent, buf) == 1)
		;
	CU_ASSERT_EQUAL(w.f->app[0].errors, 0); /* never beyond the credit */
	world_end(&w);
}

/* A full lane: -ENOBUFS, no WANT, WRITABLE once the lcore took what was posted before; an
 * application asleep meanwhile says it waits for room, and the lcore that drains the lane wakes
 * it (its eventfd), not before. */
static void
full_lane(uint32_t ring_slots, uint32_t msg_len, int fit)
{
	struct api_fake_cfg cfg;
	struct world w;
	struct api_fake_sent sent;
	struct sluice_event ev;
	struct sluice_stats st;
	struct pollfd p = { .events = POLLIN };
	uint8_t buf[4096] = { 0 };

	api_fake_defaults(&cfg);
	cfg.ring_slots = ring_slots;
	cfg.initial_credit = 1u << 30;
	world_start(&w, &cfg, 1, 1, CONN_B);
	for (int i = 0; i < fit; i++)
		CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 1, buf, msg_len, 0), 0);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 1, buf, msg_len, 0), -ENOBUFS);
	CU_ASSERT_EQUAL(sluice_wait_timeout(w.s, -1), 1);
	CU_ASSERT_EQUAL(sluice_wait(w.s, 0), 0);
	p.fd = sluice_fd(w.s);
	CU_ASSERT_EQUAL(sluice_wait_prepare(w.s), 0); /* asleep, waiting for room */
	CU_ASSERT_EQUAL(api_fake_sleep_flag(w.f, 0), SL_API_SLEEP_EVENTS | SL_API_SLEEP_ROOM);
	CU_ASSERT_EQUAL(api_fake_take(w.f, 0, 1, &sent, buf), 1);
	CU_ASSERT_EQUAL(sluice_poll(w.s, &ev, 1), 0); /* not all taken yet */
	for (int i = 1; i < fit; i++) {
		CU_ASSERT_EQUAL(poll(&p, 1, 0), 0); /* not woken before the lane is drained */
		CU_ASSERT_EQUAL(api_fake_take(w.f, 0, 1, &sent, buf), 1);
		CU_ASSERT_EQUAL(sent.type, SL_API_D_SEND);
	}
	CU_ASSERT_EQUAL(poll(&p, 1, 0), 1); /* drained: woken */
	CU_ASSERT_EQUAL(w.f->app[0].wakes, 1);
	sluice_wait_done(w.s);
	CU_ASSERT_EQUAL(api_fake_sleep_flag(w.f, 0), 0);
	CU_ASSERT_EQUAL(sluice_wait_prepare(w.s), 1); /* the room is back: do not wait */
	CU_ASSERT_EQUAL(api_fake_take(w.f, 0, 1, &sent, buf), 0); /* no WANT */
	CU_ASSERT_EQUAL(sluice_wait(w.s, WAIT_MS), 1);
	CU_ASSERT_EQUAL_FATAL(sluice_poll(w.s, &ev, 1), 1);
	CU_ASSERT_EQUAL(ev.type, SLUICE_WRITABLE);
	CU_ASSERT_EQUAL(ev.chan, 1);
	CU_ASSERT_EQUAL(sluice_wait_timeout(w.s, -1), -1);
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 1, buf, msg_len, 0), 0);
	sluice_get_stats(w.s, &st);
	CU_ASSERT_EQUAL(st.send_noroom, 1);
	CU_ASSERT_EQUAL(st.send_nobufs, 0);
	world_end(&w);
}

static void
test_full_lane(void)
{
	full_lane(16, 100, 16);	 /* the ring is full */
	full_lane(64, 4096, 16); /* the arena is full: 16 x 4 KiB = 64 KiB */
	full_lane(64, 4000, 16); /* the 17th would wrap: it needs the arena's start free */
}

/* Random sizes through the tx arena against a naive reference: a FIFO of what was sent. */
struct tx_ref {
	uint32_t len[64];
	uint64_t seed[64];
	unsigned int head, n;
};

static uint32_t
random_len(uint64_t *rng, uint32_t max)
{
	uint64_t r = sl_test_mix64(rng);

	switch (r % 4) {
	case 0:
		return 1 + (uint32_t)(r >> 8) % 64;
	case 1:
		return max - (uint32_t)(r >> 8) % 64;
	default:
		return 1 + (uint32_t)(r >> 8) % max;
	}
}

/* The lcore takes up to k descriptors; each must be the reference's oldest. */
static void
tx_take(struct api_fake *f, struct tx_ref *ref, unsigned int k, uint8_t *got, uint8_t *want)
{
	struct api_fake_sent sent;

	while (k-- > 0 && api_fake_take(f, 0, 0, &sent, got) == 1) {
		unsigned int i = ref->head % 64;

		CU_ASSERT_FATAL(ref->n > 0);
		CU_ASSERT_EQUAL_FATAL(sent.len, ref->len[i]);
		fill(want, sent.len, ref->seed[i]);
		CU_ASSERT_EQUAL_FATAL(memcmp(got, want, sent.len), 0);
		ref->head++;
		ref->n--;
	}
}

static void
test_tx_random(void)
{
	struct api_fake_cfg cfg;
	struct world w;
	struct sluice_event ev;
	struct tx_ref ref = { .n = 0 };
	uint8_t *msg = malloc(8192), *got = malloc(8192), *want = malloc(8192);
	uint64_t rng = 42, sent = 0;

	api_fake_defaults(&cfg);
	cfg.max_message = 8192;
	cfg.initial_credit = UINT32_MAX;
	world_start(&w, &cfg, 2, 0, CONN_A);
	while (sent < 20000) {
		unsigned int burst = 1 + sl_test_mix64(&rng) % 24;

		for (; burst > 0; burst--, sent++) {
			uint32_t len = random_len(&rng, 8192);
			uint64_t seed = sent * 1000003;
			int rc;

			fill(msg, len, seed);
			rc = sluice_send(w.s, w.id, 1, msg, len, 0);
			if (rc == -ENOBUFS) {
				CU_ASSERT_FATAL(ref.n > 0); /* an empty lane always has room */
				tx_take(w.f, &ref, 64, got, want);
				CU_ASSERT_EQUAL_FATAL(sluice_poll(w.s, &ev, 1), 1);
				CU_ASSERT_EQUAL(ev.type, SLUICE_WRITABLE);
				rc = sluice_send(w.s, w.id, 1, msg, len, 0);
			}
			CU_ASSERT_EQUAL_FATAL(rc, 0);
			ref.len[(ref.head + ref.n) % 64] = len;
			ref.seed[(ref.head + ref.n) % 64] = seed;
			ref.n++;
		}
		tx_take(w.f, &ref, (unsigned int)(sl_test_mix64(&rng) % 24), got, want);
	}
	tx_take(w.f, &ref, 64, got, want);
	CU_ASSERT_EQUAL(ref.n, 0);
	CU_ASSERT_EQUAL(w.f->app[0].errors, 0);
	free(msg);
	free(got);
	free(want);
	world_end(&w);
}

/* --- flush -------------------------------------------------------------------------------- */

/* Another thread: the lcore takes lane 0's descriptors 20 ms from now. */
static void *
late_taker(void *arg)
{
	struct api_fake *f = arg;
	struct api_fake_sent sent;
	uint8_t *buf = malloc(4096);

	usleep(20000);
	while (buf != NULL && api_fake_take(f, 0, 0, &sent, buf) == 1)
		;
	free(buf);
	return NULL;
}

static void
test_flush(void)
{
	struct world w;
	pthread_t t;
	uint8_t buf[100] = { 0 };

	world_start(&w, NULL, 1, 0, CONN_A);
	CU_ASSERT_EQUAL(sluice_flush(w.s, 0), 0); /* nothing sent */
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 1, buf, sizeof(buf), 0), 0);
	CU_ASSERT_EQUAL(sluice_flush(w.s, 0), -ETIMEDOUT);
	CU_ASSERT_EQUAL(sluice_flush(w.s, 5), -ETIMEDOUT);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, late_taker, w.f), 0);
	CU_ASSERT_EQUAL(sluice_flush(w.s, WAIT_MS), 0);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(w.f->app[0].errors, 0);
	/* the appliance leaves with a message not taken */
	CU_ASSERT_EQUAL(sluice_send(w.s, w.id, 1, buf, sizeof(buf), 0), 0);
	api_fake_stop(w.f);
	CU_ASSERT_EQUAL(sluice_flush(w.s, WAIT_MS), -ECONNRESET);
	sluice_detach(w.s);
}

/* --- node ids as text --------------------------------------------------------------------- */

static void
test_node_text_table(void)
{
	static const struct {
		const char *text;
		int rc;
	} cases[] = {
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0 },
		{ "//////////////////////////////////////////8=", 0 }, /* 0xff..., last 2 bits 0 */
		{ "//////////////////////////////////////////8", -EINVAL },   /* no padding */
		{ "//////////////////////////////////////////9=", -EINVAL },  /* bits left over */
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", -EINVAL }, /* too long */
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-=", -EINVAL }, /* url-safe alphabet */
		{ " AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", -EINVAL },
		{ "0123456789abcdefABCDEF0123456789abcdef0123456789abcdef0123456789", 0 },
		{ "0123456789abcdefABCDEF0123456789abcdef0123456789abcdef012345678", -EINVAL },
		{ "0123456789abcdefABCDEF0123456789abcdef0123456789abcdef012345678g", -EINVAL },
		{ "0123456789abcdefABCDEF0123456789abcdef0123456789abcdef0123456789 ", -EINVAL },
		{ "", -EINVAL },
		{ NULL, -EINVAL },
	};
	uint8_t id[SLUICE_NODE_LEN], want[SLUICE_NODE_LEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(id, 0x5a, sizeof(id));
		CU_ASSERT_EQUAL(sluice_node_from_text(cases[i].text, id), cases[i].rc);
		if (cases[i].rc != 0) {
			memset(want, 0x5a, sizeof(want)); /* untouched */
			CU_ASSERT_EQUAL(memcmp(id, want, sizeof(id)), 0);
		}
	}
	CU_ASSERT_EQUAL(sluice_node_from_text(cases[7].text, id), 0);
	CU_ASSERT_EQUAL(id[0], 0x01);
	CU_ASSERT_EQUAL(id[6], 0xcd);
	CU_ASSERT_EQUAL(id[31], 0x89);
}

/* Random ids: to text and back, against libsodium's base64 and a hex printer. */
static void
test_node_text_random(void)
{
	uint64_t seed = 7;
	uint8_t id[SLUICE_NODE_LEN], back[SLUICE_NODE_LEN];
	char text[SLUICE_NODE_TEXT_LEN], ref[SLUICE_NODE_TEXT_LEN], hex[2 * SLUICE_NODE_LEN + 1];

	for (int round = 0; round < 2000; round++) {
		for (size_t i = 0; i < sizeof(id); i++)
			id[i] = (uint8_t)sl_test_mix64(&seed);
		CU_ASSERT_PTR_EQUAL(sluice_node_to_text(id, text), text);
		sodium_bin2base64(ref, sizeof(ref), id, sizeof(id), sodium_base64_VARIANT_ORIGINAL);
		CU_ASSERT_STRING_EQUAL(text, ref);
		CU_ASSERT_EQUAL(sluice_node_from_text(text, back), 0);
		CU_ASSERT_EQUAL(memcmp(id, back, sizeof(id)), 0);
		for (size_t i = 0; i < sizeof(id); i++)
			snprintf(hex + 2 * i, 3, round % 2 ? "%02x" : "%02X", id[i]);
		memset(back, 0, sizeof(back));
		CU_ASSERT_EQUAL(sluice_node_from_text(hex, back), 0);
		CU_ASSERT_EQUAL(memcmp(id, back, sizeof(id)), 0);
	}
}

static CU_TestInfo cases[] = {
	{ "attach and detach, descriptors closed", test_attach_detach },
	{ "attach refused: path, no listener", test_attach_refused },
	{ "another version, too many applications", test_version_and_limit },
	{ "hostile attach replies", test_hostile_attach },
	{ "register conflicts across attachments", test_register },
	{ "connect, disconnect, connect failed", test_connect },
	{ "nodes in pages", test_nodes },
	{ "send errors", test_send_errors },
	{ "credit: ENOBUFS, one WANT, WRITABLE", test_credit },
	{ "full lane: ENOBUFS, WRITABLE when taken", test_full_lane },
	{ "tx arena: random sizes vs reference", test_tx_random },
	{ "rx: random releases, padding", test_rx_random },
	{ "rx: recv copies and releases", test_recv_copy },
	{ "replaced session, late NODE_DOWN", test_replaced_session },
	{ "wait woken by another thread", test_wait_thread },
	{ "epoll style: prepare, fd, done", test_wait_fd },
	{ "epoll style: the appliance goes away, fd wakes", test_wait_fd_appliance_gone },
	{ "hostile descriptors refused", test_hostile_rx },
	{ "impossible ring index", test_broken_ring },
	{ "appliance gone", test_appliance_gone },
	{ "discovery events: each kind, its fields", test_discovery_events },
	{ "discovery: unknown types and kinds skipped", test_discovery_future },
	{ "flush: waits until the lcore took every send", test_flush },
	{ "node ids as text: table", test_node_text_table },
	{ "node ids as text: random round trips", test_node_text_random },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("libsluice", cases)
