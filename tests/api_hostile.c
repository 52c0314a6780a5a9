/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: a hostile test application (api_app.h). It attaches with libsluice, then breaks the
 * rules through libsluice's internals (sluice_pvt.h: its ring handles, arena positions, node
 * table, control socket), as a program that maps the memfd itself could. Each command does one
 * kind of misdeed and answers with how many it did, so the test can compare them with what the
 * appliance counted (/sluice/apps):
 *
 *   garbage K                  K descriptors of types the appliance does not take (bad_descriptor)
 *   badplace NODE CHAN         SENDs of length 0, above the maximum, across the arena's end, at
 *                              an absurd position (bad_descriptor)
 *   notowner NODE              SENDs on channels it does not serve: another application's, one
 *                              nobody serves, two that do not exist; a WANT (not_owner)
 *   badsession NODE CHAN       SENDs and a WANT naming sessions no lcore could own (bad_session),
 *                              and a SEND for an empty session slot (send_failed: it is told)
 *   overcredit NODE CHAN       its first sends on CHAN: the initial credit's worth and four
 *                              more, in one burst (over_credit: the four)
 *   flood N                    N rounds of REGISTER (served already), UNREGISTER, REGISTER
 *                              of channel 3, then registrations of channels it cannot have:
 *                              0, not configured (9), beyond 15, another application's (1)
 *   maxapps K                  more attachments, until refused (at most K); then detaches them
 *   malformed                  a request of an unknown type (bad_requests: it is detached)
 *   breakring                  a tx ring head the application could never have written
 *                              (protocol_errors: it is detached)
 *   breakreleased NODE CHAN    an rx_released beyond what was delivered, then a message to
 *                              have one delivered (protocol_errors: it is detached)
 *   hold NODE CHAN N SIZE      N messages sent (to an echo), everything received kept
 *   gone                       wait until the appliance closed its control socket
 * Everything goes to lane 0 (the test's appliances have one lcore).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_app.h"
#include "sluice_pvt.h"

/* Connection ids (common/sl_limits.h): | owner lcore (6) | slot (18) | generation (8) | */
#define CONNID(owner, slot) ((uint32_t)(owner) << 26 | (uint32_t)(slot) << 8)
#define MAX_SLOT	    ((1u << 18) - 1)
#define DRAIN_MS	    10000 /* the longest to wait for the lcore to take what was posted */

static struct lsl_lane *
lane0(struct app *a)
{
	return &a->s->lane[0];
}

/* Wait until the lcore took everything posted on lane 0 (the whole ring and arena free). */
static bool
drained(struct app *a)
{
	struct lsl_lane *l = lane0(a);
	uint64_t deadline = app_now_ms() + DRAIN_MS;

	while (sl_ring_consumed(&l->tx) != l->tx.mine)
		if (app_now_ms() > deadline)
			return false;
	return true;
}

/* Post n descriptors at once (one burst for the lcore); SENDs' bytes were placed already. */
static int
post(struct app *a, const struct sl_api_desc *d, uint32_t n)
{
	struct lsl_lane *l = lane0(a);

	for (uint32_t i = 0; i < n; i++)
		l->tx_start[(l->tx.mine + i) & l->tx.mask] = l->tx_pos;
	return sl_ring_enqueue(&l->tx, d, n);
}

/* A SEND of len bytes (filled with 0x5a) where the rules put it: at tx_pos, or at the next
 * start of the arena if it would not fit before the end. */
static struct sl_api_desc
placed(struct app *a, uint8_t chan, uint32_t conn, uint32_t len)
{
	struct lsl_lane *l = lane0(a);
	struct sl_api_desc d = { .type = SL_API_D_SEND, .chan = chan, .conn = conn };
	uint64_t p = l->tx_pos;

	if ((p & (l->tx_size - 1)) + len > l->tx_size)
		p += l->tx_size - (p & (l->tx_size - 1));
	memset(l->tx_arena + (p & (l->tx_size - 1)), 0x5a, len);
	d.msg.pos = p;
	d.msg.len = len;
	l->tx_pos = p + len;
	return d;
}

static struct lsl_node *
node_of(struct app *a, const char *hex)
{
	uint8_t id[SLUICE_NODE_LEN];
	struct lsl_node *n;

	if (!app_attached(a))
		return NULL;
	if (!app_node(hex, id) || (n = lsl_node_find(a->s, id)) == NULL || !n->connected) {
		app_fail("no session with %s (expect connected first)", hex);
		return NULL;
	}
	if (!drained(a)) {
		app_fail("the lcore does not take what was posted");
		return NULL;
	}
	return n;
}

static void
reply_posted(int rc, uint32_t n, const char *more)
{
	if (rc != (int)n)
		app_fail("posted %d of %u", rc, n);
	else
		app_ok("posted=%u%s", n, more);
}

/* --- descriptors ------------------------------------------------------------------------------ */

static void
cmd_garbage(struct app *a, int argc, char **argv)
{
	static const uint8_t types[] = { 0,
					 3,
					 15,
					 SL_API_D_MSG,
					 SL_API_D_NODE_UP,
					 SL_API_D_CREDIT,
					 SL_API_D_CONNECT_FAILED,
					 200,
					 255 };
	struct sl_api_desc d[64];
	uint32_t k = (uint32_t)atoi(argv[1]);

	(void)argc;
	if (!app_attached(a) || !drained(a))
		return;
	if (k > 64) {
		app_fail("at most 64");
		return;
	}
	memset(d, 0xa5, sizeof(d)); /* noise everywhere but the type */
	for (uint32_t i = 0; i < k; i++)
		d[i].type = types[i % sizeof(types)];
	reply_posted(post(a, d, k), k, "");
}

static void
cmd_badplace(struct app *a, int argc, char **argv)
{
	struct lsl_node *n = node_of(a, argv[1]);
	uint8_t chan = (uint8_t)atoi(argv[2]);
	struct sl_api_desc d[4];

	(void)argc;
	if (n == NULL)
		return;
	for (int i = 0; i < 4; i++)
		d[i] = (struct sl_api_desc){ .type = SL_API_D_SEND, .chan = chan, .conn = n->conn };
	d[0].msg.len = 0;			  /* empty */
	d[1].msg.len = a->s->rep.max_message + 1; /* too long */
	d[2].msg.pos = lane0(a)->tx_size - 10;	  /* across the arena's end */
	d[2].msg.len = 100;
	d[3].msg.pos = UINT64_MAX - 5; /* absurd, and across the end */
	d[3].msg.len = 64;
	reply_posted(post(a, d, 4), 4, "");
}

static void
cmd_notowner(struct app *a, int argc, char **argv)
{
	static const uint8_t chans[] = { 1, 2, SL_API_MAX_CHAN, 255 };
	struct lsl_node *n = node_of(a, argv[1]);
	struct sl_api_desc d[5];

	(void)argc;
	if (n == NULL)
		return;
	for (int i = 0; i < 4; i++)
		d[i] = placed(a, chans[i], n->conn, 100);
	d[4] = (struct sl_api_desc){ .type = SL_API_D_WANT, .chan = 1, .conn = n->conn };
	reply_posted(post(a, d, 5), 5, "");
}

static void
cmd_badsession(struct app *a, int argc, char **argv)
{
	struct lsl_node *n = node_of(a, argv[1]);
	uint8_t chan = (uint8_t)atoi(argv[2]);
	struct sl_api_desc d[4];
	uint32_t slot;

	(void)argc;
	if (n == NULL)
		return;
	slot = (n->conn >> 8) & MAX_SLOT;
	d[0] = placed(a, chan, CONNID(7, slot), 100);	  /* an lcore it does not have */
	d[1] = placed(a, chan, CONNID(0, MAX_SLOT), 100); /* beyond its session table */
	d[2] = (struct sl_api_desc){ .type = SL_API_D_WANT, .chan = chan, .conn = CONNID(7, 0) };
	d[3] = placed(a, chan, CONNID(0, slot + 1), 100); /* an empty slot: SEND_FAILED */
	reply_posted(post(a, d, 4), 4, " bad_session=3 send_failed=1");
}

static void
cmd_overcredit(struct app *a, int argc, char **argv)
{
	struct lsl_node *n = node_of(a, argv[1]);
	uint8_t chan = (uint8_t)atoi(argv[2]);
	uint32_t len = a->s->max_message, credit, ok, k;
	struct sl_api_desc d[32];
	char more[64];

	(void)argc;
	if (n == NULL)
		return;
	credit = a->s->rep.chan[chan].initial_credit;
	ok = credit / len;
	k = ok + 4;
	if (n->posted[chan] != 0 || k > 32 || (uint64_t)k * len > lane0(a)->tx_size) {
		app_fail("sent on %u already, or a credit of %u is too large for this", chan,
			 credit);
		return;
	}
	for (uint32_t i = 0; i < k; i++)
		d[i] = placed(a, chan, n->conn, len);
	n->posted[chan] += (uint64_t)ok * len; /* what the lcore takes: libsluice counts on */
	snprintf(more, sizeof(more), " accepted=%u over_credit=%u bytes=%lu", ok, k - ok,
		 (unsigned long)ok * len);
	reply_posted(post(a, d, k), k, more);
}

/* --- requests --------------------------------------------------------------------------------- */

static int
raw_register(struct app *a, uint16_t type, uint8_t chan)
{
	struct sl_api_chan b = { .chan = chan };
	int rc = lsl_ctl_call(a->s, type, &b, sizeof(b), NULL, 0, NULL);

	return rc < 0 ? rc : 0;
}

static void
cmd_flood(struct app *a, int argc, char **argv)
{
	static const uint8_t cannot[] = { 0, 9, SL_API_MAX_CHAN, 200, 255, 1 };
	uint32_t n = (uint32_t)atoi(argv[1]), ok = 0, requests = 0;
	int refused[sizeof(cannot)];

	(void)argc;
	if (!app_attached(a))
		return;
	for (uint32_t i = 0; i < n; i++, requests += 3) /* it serves 3 before and after */
		ok += raw_register(a, SL_API_REGISTER, 3) == -EALREADY &&
		      raw_register(a, SL_API_UNREGISTER, 3) == 0 &&
		      raw_register(a, SL_API_REGISTER, 3) == 0;
	for (size_t i = 0; i < sizeof(cannot); i++, requests++)
		refused[i] = raw_register(a, SL_API_REGISTER, cannot[i]);
	app_ok("requests=%u rounds_ok=%u chan0=%d chan9=%d chan16=%d chan200=%d chan255=%d "
	       "chan1=%d",
	       requests, ok, refused[0], refused[1], refused[2], refused[3], refused[4],
	       refused[5]);
}

static void
cmd_maxapps(struct app *a, int argc, char **argv)
{
	struct sluice *more[64];
	int k = atoi(argv[1]), n = 0, err = 0;

	(void)argc;
	while (n < k && n < 64 && (more[n] = sluice_attach(a->sock, "extra", &err)) != NULL)
		n++;
	app_ok("attached=%d rc=%d", n, n < k ? err : 0);
	while (n > 0)
		sluice_detach(more[--n]);
}

/* Connections that never attach, kept until rawclose. */
static int raw[128];
static int n_raw;

static void
cmd_rawconn(struct app *a, int argc, char **argv)
{
	int k = atoi(argv[1]), rc = 0;

	(void)argc;
	while (n_raw < k && n_raw < 128 && (rc = lsl_ctl_open(a->sock, &raw[n_raw])) == 0)
		n_raw++;
	app_ok("open=%d rc=%d", n_raw, rc);
}

/* How many of them the appliance closed, then close them all. */
static void
cmd_rawclose(struct app *a, int argc, char **argv)
{
	int closed = 0;

	(void)a;
	(void)argc;
	(void)argv;
	for (int i = 0; i < n_raw; i++) {
		struct pollfd p = { .fd = raw[i] };

		closed += poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
		close(raw[i]);
	}
	app_ok("closed_by_appliance=%d of=%d", closed, n_raw);
	n_raw = 0;
}

static void
cmd_malformed(struct app *a, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (app_attached(a))
		app_ok("rc=%d", lsl_ctl_call(a->s, 99, NULL, 0, NULL, 0, NULL));
}

/* --- the shared memory's indices -------------------------------------------------------------- */

static void
cmd_breakring(struct app *a, int argc, char **argv)
{
	struct lsl_lane *l;

	(void)argc;
	(void)argv;
	if (!app_attached(a))
		return;
	l = lane0(a);
	atomic_store_explicit(&l->tx.shm->head, l->tx.mine + l->tx.mask + 1 + 7,
			      memory_order_release);
	app_ok("head=%u tail=%u", l->tx.mine + l->tx.mask + 8, l->tx.mine);
}

static void
cmd_breakreleased(struct app *a, int argc, char **argv)
{
	struct lsl_node *n = node_of(a, argv[1]);
	uint8_t chan = (uint8_t)atoi(argv[2]);
	uint8_t byte = 1;
	int rc;

	(void)argc;
	if (n == NULL)
		return;
	atomic_store_explicit(lane0(a)->rx_released, lane0(a)->rx_rel + (1ull << 40),
			      memory_order_release);
	rc = sluice_send(a->s, n->id, chan, &byte, 1, 0);
	app_ok("rc=%d", rc);
}

/* Wait for the appliance to close the control socket (it detached us). */
static void
cmd_gone(struct app *a, int argc, char **argv)
{
	uint64_t deadline = app_now_ms() + 30000;
	struct pollfd p;

	(void)argc;
	(void)argv;
	if (!app_attached(a))
		return;
	p = (struct pollfd){ .fd = a->s->sock };
	while (app_now_ms() < deadline)
		if (poll(&p, 1, APP_WAIT_SLICE_MS) == 1 && (p.revents & (POLLHUP | POLLERR))) {
			app_ok("rc=%d", -ECONNRESET);
			return;
		}
	app_fail("the appliance kept the socket open");
}

/* --- holding what it receives ----------------------------------------------------------------- */

struct hold {
	const uint8_t *node;
	uint8_t chan;
	bool blocked;
	uint32_t kept;
};

static bool
keep(void *arg, const struct sluice_event *ev)
{
	struct hold *h = arg;

	if (ev->type == SLUICE_MESSAGE) {
		h->kept++; /* never released */
		return true;
	}
	if (ev->type == SLUICE_WRITABLE && ev->chan == h->chan &&
	    memcmp(ev->node, h->node, SLUICE_NODE_LEN) == 0)
		h->blocked = false;
	return ev->type == SLUICE_WRITABLE;
}

static void
cmd_hold(struct app *a, int argc, char **argv)
{
	static uint8_t buf[1u << 16];
	struct lsl_node *n = node_of(a, argv[1]);
	struct hold h = { .chan = (uint8_t)atoi(argv[2]) };
	uint32_t count = (uint32_t)atoi(argv[3]), len = (uint32_t)atoi(argv[4]), sent = 0;
	uint64_t deadline = app_now_ms() + 1000ull * APP_DEADLINE_S;

	(void)argc;
	if (n == NULL || len == 0 || len > sizeof(buf))
		return;
	h.node = n->id;
	memset(buf, 0x3c, len);
	while (sent < count && app_now_ms() < deadline) {
		int rc = sluice_send(a->s, n->id, h.chan, buf, len, 0);

		if (rc == 0)
			sent++;
		else if (rc == -ENOBUFS)
			h.blocked = true;
		else
			break;
		while (app_pump(a, keep, &h) > 0 || (h.blocked && app_now_ms() < deadline))
			if (h.blocked)
				app_sleep(a, false);
	}
	if (sent < count)
		app_fail("sent %u of %u", sent, count);
	else
		app_ok("sent=%u kept=%u", sent, h.kept);
}

static const struct app_cmd cmds[] = {
	{ "garbage", 1, cmd_garbage },
	{ "badplace", 2, cmd_badplace },
	{ "notowner", 1, cmd_notowner },
	{ "badsession", 2, cmd_badsession },
	{ "overcredit", 2, cmd_overcredit },
	{ "flood", 1, cmd_flood },
	{ "maxapps", 1, cmd_maxapps },
	{ "malformed", 0, cmd_malformed },
	{ "rawconn", 1, cmd_rawconn },
	{ "rawclose", 0, cmd_rawclose },
	{ "breakring", 0, cmd_breakring },
	{ "breakreleased", 2, cmd_breakreleased },
	{ "gone", 0, cmd_gone },
	{ "hold", 4, cmd_hold },
	{ NULL, 0, NULL },
};

int
main(int argc, char **argv)
{
	return app_main(argc, argv, cmds);
}
