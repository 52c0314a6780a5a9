/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: a well-behaved test application (api_app.h): libsluice's public API only, linked to
 * libsluice.so like any application. Its data commands move numbered messages whose every byte
 * the receiver checks (api_app_msg.c):
 *
 *   transfer NODE COUNT MYSEED PEERSEED CHANS SIZE
 *       COUNT messages to NODE on each of CHANS ("1,2"), and COUNT from it on each, at once;
 *       busy-polls while it can send, sluice_wait() when every channel waits for WRITABLE
 *   stream NODE CHAN COUNT SEED SIZE       send only; answers "progress" and "mark" (WRITABLE
 *                                          events after the mark are counted apart) meanwhile
 *   hold NODE CHAN K SEED SIZE             receive K messages and keep them, unreleased
 *   recv NODE CHAN COUNT SEED SIZE         receive COUNT (the held ones first), releasing each
 *   echo NODE CHAN INFLIGHT SEED SIZE      send to an echo service and check what comes back,
 *                                          INFLIGHT at most, until "stop"; answers "progress"
 * SIZE: "N" bytes each, or "rN" sizes drawn from 1..N (the first ones at the edges).
 * Replies: ok sent= sent_bytes= recv= recv_bytes= nobufs= writable= writable_after_mark=
 * A message out of order, of the wrong length or with a wrong byte fails the command.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_app.h"
#include "api_app_msg.h"

#define MAX_CHANS 4
#define TX_BURST  32
#define MAX_HELD  1024

struct tx_side {
	struct app_stream st;
	uint32_t next, count, len;
	bool blocked, ready;
	uint8_t buf[APP_MSG_MAX];
};

struct rx_side {
	struct app_stream st;
	uint32_t next, count;
};

struct xfer {
	struct app *a;
	uint8_t node[SLUICE_NODE_LEN];
	struct tx_side tx[MAX_CHANS];
	struct rx_side rx[MAX_CHANS];
	unsigned int n_tx, n_rx;
	uint32_t inflight; /* echo: at most this many sent and not back; 0: no limit */
	uint32_t hold;	   /* hold: keep messages until this many are held */
	bool watch_stdin, echo, marked, failed;
	uint64_t sent_bytes, recv_bytes, nobufs, writable, writable_after_mark;
	char why[200];
	uint8_t scratch[APP_MSG_MAX];
};

/* Messages kept by hold, in order; recv takes them first. */
static struct sluice_event held[MAX_HELD];
static unsigned int n_held;

static void
fail(struct xfer *x, const char *why)
{
	if (!x->failed)
		snprintf(x->why, sizeof(x->why), "%s", why);
	x->failed = true;
}

/* --- receiving -------------------------------------------------------------------------------- */

static struct rx_side *
rx_of(struct xfer *x, uint8_t chan)
{
	for (unsigned int i = 0; i < x->n_rx; i++)
		if (x->rx[i].st.chan == chan)
			return &x->rx[i];
	return NULL;
}

static void
rx_check(struct xfer *x, struct rx_side *r, const struct sluice_event *ev)
{
	char why[160];

	if (r->next >= r->count) {
		snprintf(why, sizeof(why), "chan %u: a message beyond the %u expected", r->st.chan,
			 r->count);
		fail(x, why);
	} else if (!app_msg_check(&r->st, r->next, ev->data, ev->len, x->scratch, why,
				  sizeof(why))) {
		fail(x, why);
	}
	r->next++;
	x->recv_bytes += ev->len;
}

static bool
on_event(void *arg, const struct sluice_event *ev)
{
	struct xfer *x = arg;
	struct rx_side *r;

	if (memcmp(ev->node, x->node, SLUICE_NODE_LEN) != 0)
		return false;
	if (ev->type == SLUICE_MESSAGE && (r = rx_of(x, ev->chan)) != NULL) {
		rx_check(x, r, ev);
		if (x->hold != 0 && n_held < MAX_HELD)
			held[n_held++] = *ev;
		else
			sluice_release(x->a->s, ev);
		return true;
	}
	if (ev->type == SLUICE_WRITABLE) {
		for (unsigned int i = 0; i < x->n_tx; i++)
			if (x->tx[i].st.chan == ev->chan)
				x->tx[i].blocked = false;
		x->writable++;
		x->writable_after_mark += x->marked;
		return true;
	}
	if (ev->type == SLUICE_NODE_DISCONNECTED)
		fail(x, "the node disconnected");
	return false;
}

/* recv: the messages hold kept come first, in order. */
static void
take_held(struct xfer *x)
{
	for (unsigned int i = 0; i < n_held; i++) {
		struct rx_side *r = rx_of(x, held[i].chan);

		if (r == NULL)
			fail(x, "a held message of another channel");
		else
			rx_check(x, r, &held[i]);
		sluice_release(x->a->s, &held[i]);
	}
	n_held = 0;
}

/* --- sending ---------------------------------------------------------------------------------- */

static int
tx_step(struct xfer *x, struct tx_side *t)
{
	for (int k = 0; k < TX_BURST && !t->blocked && t->next < t->count; k++) {
		int rc;

		if (x->inflight && t->next - x->rx[0].next >= x->inflight)
			break;
		if (!t->ready) {
			t->len = app_msg_make(&t->st, t->next, t->buf);
			t->ready = true;
		}
		rc = sluice_send(x->a->s, x->node, t->st.chan, t->buf, t->len, 0);
		if (rc == -ENOBUFS) {
			t->blocked = true;
			x->nobufs++;
			break;
		}
		if (rc < 0) {
			char why[80];

			snprintf(why, sizeof(why), "sluice_send: %s", sluice_strerror(rc));
			fail(x, why);
			return rc;
		}
		t->ready = false;
		t->next++;
		x->sent_bytes += t->len;
	}
	return 0;
}

/* Could a send go now? */
static bool
can_send(const struct xfer *x)
{
	for (unsigned int i = 0; i < x->n_tx; i++) {
		const struct tx_side *t = &x->tx[i];

		if (!t->blocked && t->next < t->count &&
		    !(x->inflight && t->next - x->rx[0].next >= x->inflight))
			return true;
	}
	return false;
}

/* --- the loop --------------------------------------------------------------------------------- */

static uint32_t
total(const struct xfer *x, bool tx)
{
	uint32_t n = 0;

	for (unsigned int i = 0; i < (tx ? x->n_tx : x->n_rx); i++)
		n += tx ? x->tx[i].next : x->rx[i].next;
	return n;
}

static bool
done(const struct xfer *x)
{
	if (x->hold != 0)
		return n_held >= x->hold;
	for (unsigned int i = 0; i < x->n_tx; i++)
		if (x->tx[i].next < x->tx[i].count)
			return false;
	for (unsigned int i = 0; i < x->n_rx; i++)
		if (x->rx[i].next < x->rx[i].count)
			return false;
	return true;
}

static void
progress(const struct xfer *x, const char *extra)
{
	bool blocked = x->n_tx > 0;

	for (unsigned int i = 0; i < x->n_tx; i++)
		blocked = blocked && x->tx[i].blocked && x->tx[i].next < x->tx[i].count;
	app_say("progress sent=%u recv=%u blocked=%d nobufs=%lu writable=%lu%s", total(x, true),
		total(x, false), blocked, (unsigned long)x->nobufs, (unsigned long)x->writable,
		extra);
}

/* A line on stdin while a long command runs. */
static void
control(struct xfer *x)
{
	char line[APP_LINE_MAX];

	if (app_line(x->a, line, sizeof(line), 0) != 1)
		return;
	if (strcmp(line, "mark") == 0) {
		x->marked = true;
		progress(x, " marked=1");
	} else if (strcmp(line, "stop") == 0) {
		for (unsigned int i = 0; i < x->n_tx; i++)
			x->tx[i].count = x->tx[i].next;
		if (x->echo)
			x->rx[0].count = x->tx[0].count;
	} else {
		progress(x, "");
	}
}

static void
run(struct xfer *x)
{
	uint64_t deadline = app_now_ms() + 1000ull * APP_DEADLINE_S;

	if (x->n_rx > 0 && x->hold == 0)
		take_held(x);
	while (!done(x) && !x->failed) {
		int n;

		for (unsigned int i = 0; i < x->n_tx; i++)
			if (tx_step(x, &x->tx[i]) < 0)
				break;
		n = app_pump(x->a, on_event, x);
		if (n < 0) {
			fail(x, sluice_strerror(n));
			break;
		}
		if (x->watch_stdin)
			control(x);
		if (n == 0 && !can_send(x))
			app_sleep(x->a, x->watch_stdin);
		if (app_now_ms() > deadline)
			fail(x, "deadline");
	}
	if (x->failed) {
		app_fail("%s (sent=%u recv=%u)", x->why, total(x, true), total(x, false));
		return;
	}
	app_ok("sent=%u sent_bytes=%lu recv=%u recv_bytes=%lu nobufs=%lu writable=%lu "
	       "writable_after_mark=%lu held=%u",
	       total(x, true), (unsigned long)x->sent_bytes, total(x, false),
	       (unsigned long)x->recv_bytes, (unsigned long)x->nobufs, (unsigned long)x->writable,
	       (unsigned long)x->writable_after_mark, n_held);
}

/* --- commands --------------------------------------------------------------------------------- */

static struct xfer *
xfer_new(struct app *a, const char *node)
{
	struct xfer *x;

	if (!app_attached(a))
		return NULL;
	x = calloc(1, sizeof(*x));
	if (x == NULL || !app_node(node, x->node)) {
		app_fail("%s", x == NULL ? "no memory" : "bad node id");
		free(x);
		return NULL;
	}
	x->a = a;
	return x;
}

static bool
add_side(struct xfer *x, bool tx, uint8_t chan, uint32_t count, uint64_t seed, const char *size)
{
	struct app_stream *st = tx ? &x->tx[x->n_tx].st : &x->rx[x->n_rx].st;

	if (!app_stream_init(st, seed, chan, size, x->a->max_message))
		return false;
	if (tx)
		x->tx[x->n_tx++].count = count;
	else
		x->rx[x->n_rx++].count = count;
	return true;
}

static void
cmd_transfer(struct app *a, int argc, char **argv)
{
	struct xfer *x = xfer_new(a, argv[1]);
	uint32_t count = (uint32_t)strtoul(argv[2], NULL, 10);
	uint64_t mine = strtoull(argv[3], NULL, 10), theirs = strtoull(argv[4], NULL, 10);
	char *save = NULL;
	bool ok = true;

	(void)argc;
	if (x == NULL)
		return;
	for (char *c = strtok_r(argv[5], ",", &save); c != NULL && ok && x->n_tx < MAX_CHANS;
	     c = strtok_r(NULL, ",", &save))
		ok = add_side(x, true, (uint8_t)atoi(c), count, mine, argv[6]) &&
		     add_side(x, false, (uint8_t)atoi(c), count, theirs, argv[6]);
	if (ok)
		run(x);
	else
		app_fail("bad channel or size");
	free(x);
}

/* stream, hold, recv, echo: NODE CHAN N SEED SIZE */
static void
cmd_one(struct app *a, int argc, char **argv)
{
	struct xfer *x = xfer_new(a, argv[1]);
	uint8_t chan = (uint8_t)atoi(argv[2]);
	uint32_t n = (uint32_t)strtoul(argv[3], NULL, 10);
	uint64_t seed = strtoull(argv[4], NULL, 10);
	bool tx = strcmp(argv[0], "stream") == 0, echo = strcmp(argv[0], "echo") == 0;
	bool ok;

	(void)argc;
	if (x == NULL)
		return;
	x->echo = echo;
	x->watch_stdin = tx || echo;
	x->hold = strcmp(argv[0], "hold") == 0 ? n : 0;
	x->inflight = echo ? n : 0;
	ok = tx || echo ? add_side(x, true, chan, tx ? n : UINT32_MAX, seed, argv[5]) : true;
	ok = ok &&
	     (tx || add_side(x, false, chan, echo || x->hold ? UINT32_MAX : n, seed, argv[5]));
	if (ok)
		run(x);
	else
		app_fail("bad channel or size");
	free(x);
}

static const struct app_cmd cmds[] = {
	{ "transfer", 6, cmd_transfer }, { "stream", 5, cmd_one }, { "hold", 5, cmd_one },
	{ "recv", 5, cmd_one },		 { "echo", 5, cmd_one },   { NULL, 0, NULL },
};

int
main(int argc, char **argv)
{
	return app_main(argc, argv, cmds);
}
