/* SPDX-License-Identifier: BSD-3-Clause
 * sluice-rpc: requests and responses over a sluice appliance, and their round trips.
 *
 *   sluice-rpc -s SOCKET [-c CHANNEL] server
 *   sluice-rpc -s SOCKET [-c CHANNEL] [-n COUNT] [-z SIZE] [-w WINDOW] client NODE[@IP:PORT]
 *
 * A request is a message: an 8-byte request number, then SIZE - 8 bytes made from it. The
 * server answers each request with a response carrying the same bytes back, to the node that
 * sent it, on the same channel (default 2). The client keeps up to WINDOW requests in flight
 * (default 1: one round trip at a time), checks that every response is the request it
 * answers, byte for byte, and prints the round trips:
 *
 *   sluice-rpc: 1000 requests, 1000 responses, 64000 bytes checked; round trip us: min 41
 *   p50 63 p99 120 max 410
 *
 * The server runs until SIGINT or SIGTERM and then prints how many requests it answered.
 * Exit status: 0, or 1 with a message (a bad response, the node gone, usage).
 *
 * Two ways to hold a message, both shown here: the server answers from the request's bytes
 * in shared memory (SLUICE_MESSAGE, then sluice_release()) and copies a request only when its
 * response cannot go now (-ENOBUFS), into a queue sent in order after SLUICE_WRITABLE.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ex_common.h"

#define TIMEOUT_MS 30000 /* the client gives up when responses stop coming for this long */

/* --- server ------------------------------------------------------------------------------- */

/* A response that could not go yet: the request's bytes, copied. */
struct pending {
	struct pending *next;
	uint8_t node[SLUICE_NODE_LEN];
	uint32_t len;
	uint8_t data[];
};

struct server {
	struct sluice *s;
	uint8_t chan;
	bool blocked;		      /* a send was refused: WRITABLE follows */
	struct pending *head, **tail; /* responses waiting, in order */
	uint64_t answered, dropped;
};

static void
queue(struct server *sv, const struct sluice_event *ev)
{
	struct pending *p = malloc(sizeof(*p) + ev->len);

	if (p == NULL)
		errx(1, "out of memory");
	memcpy(p->node, ev->node, SLUICE_NODE_LEN);
	p->len = ev->len;
	memcpy(p->data, ev->data, ev->len);
	p->next = NULL;
	*sv->tail = p;
	sv->tail = &p->next;
}

/* Send a response: true when it went or never will (its node left), false: try again later. */
static bool
respond(struct server *sv, const uint8_t *node, const void *data, uint32_t len)
{
	int rc = sluice_send(sv->s, node, sv->chan, data, len, 0);

	if (rc == -ENOBUFS) {
		sv->blocked = true;
		return false;
	}
	if (rc == 0)
		sv->answered++;
	else
		sv->dropped++; /* -ENOTCONN: the client left */
	return true;
}

/* Send the queued responses, oldest first, while the appliance takes them. */
static void
send_queued(struct server *sv)
{
	while (sv->head != NULL && !sv->blocked) {
		struct pending *p = sv->head;

		if (!respond(sv, p->node, p->data, p->len))
			return;
		sv->head = p->next;
		if (sv->head == NULL)
			sv->tail = &sv->head;
		free(p);
	}
}

static void
serve(struct sluice *s, uint8_t chan)
{
	struct server sv = { .s = s, .chan = chan };
	struct sluice_event ev[32];

	sv.tail = &sv.head;
	while (!ex_stop) {
		int n = sluice_poll(s, ev, 32);

		for (int i = 0; i < n; i++) {
			if (ev[i].type == SLUICE_WRITABLE)
				sv.blocked = false;
			if (ev[i].type != SLUICE_MESSAGE)
				continue;
			/* in order: straight from shared memory unless others wait before it */
			if (sv.head != NULL || sv.blocked ||
			    !respond(&sv, ev[i].node, ev[i].data, ev[i].len))
				queue(&sv, &ev[i]);
			sluice_release(s, &ev[i]);
		}
		if (n < 0)
			errx(1, "poll: %s", sluice_strerror(n));
		send_queued(&sv);
		if (n == 0 && sluice_wait(s, -1) == -ECONNRESET)
			errx(1, "the appliance went away");
	}
	while (sv.head != NULL) { /* responses that never went */
		struct pending *p = sv.head;

		sv.head = p->next;
		free(p);
		sv.dropped++;
	}
	printf("sluice-rpc server: %" PRIu64 " requests answered, %" PRIu64
	       " responses dropped (their node left, or we stopped first)\n",
	       sv.answered, sv.dropped);
}

/* --- client ------------------------------------------------------------------------------- */

struct client {
	struct sluice *s;
	uint8_t node[SLUICE_NODE_LEN];
	uint8_t chan;
	uint32_t size, window;
	uint64_t count, sent, answered, bytes;
	bool blocked;
	uint64_t *sent_ns; /* per request; 0 once answered */
	uint64_t *rtt_ns;  /* per response, in arrival order */
	uint8_t *msg;	   /* one request */
};

/* Request k's bytes: its number, then bytes made from it (the check regenerates them). */
static void
make_request(uint8_t *p, uint32_t size, uint64_t k)
{
	memcpy(p, &k, sizeof(k));
	for (uint32_t i = sizeof(k); i < size; i++)
		p[i] = (uint8_t)(k * 131 + i * 7);
}

static void
send_requests(struct client *c)
{
	while (!c->blocked && c->sent < c->count && c->sent - c->answered < c->window) {
		int rc;

		make_request(c->msg, c->size, c->sent);
		c->sent_ns[c->sent] = ex_now_ns();
		rc = sluice_send(c->s, c->node, c->chan, c->msg, c->size, 0);
		if (rc == -ENOBUFS) {
			c->blocked = true; /* WRITABLE follows */
			return;
		}
		if (rc < 0)
			errx(1, "send: %s", sluice_strerror(rc));
		c->sent++;
	}
}

/* A response: it must be a request we sent and have not seen answered, byte for byte. */
static void
check_response(struct client *c, const struct sluice_event *ev)
{
	uint64_t k;

	if (ev->len != c->size)
		errx(1, "a response of %u bytes (requests have %u)", ev->len, c->size);
	memcpy(&k, ev->data, sizeof(k));
	if (k >= c->sent || c->sent_ns[k] == 0)
		errx(1, "a response to request %" PRIu64 ", which is not waiting", k);
	make_request(c->msg, c->size, k);
	if (memcmp(c->msg, ev->data, c->size) != 0)
		errx(1, "the response to request %" PRIu64 " differs from it", k);
	c->rtt_ns[c->answered++] = ex_now_ns() - c->sent_ns[k];
	c->sent_ns[k] = 0;
	c->bytes += ev->len;
}

static void
client_events(struct client *c)
{
	struct sluice_event ev[32];
	int n = sluice_poll(c->s, ev, 32);

	if (n < 0)
		errx(1, "poll: %s", sluice_strerror(n));
	for (int i = 0; i < n; i++) {
		bool ours = memcmp(ev[i].node, c->node, SLUICE_NODE_LEN) == 0;

		if (ev[i].type == SLUICE_MESSAGE) {
			if (ours && ev[i].chan == c->chan)
				check_response(c, &ev[i]);
			sluice_release(c->s, &ev[i]);
		} else if (ours && ev[i].type == SLUICE_WRITABLE) {
			c->blocked = false;
		} else if (ours && ev[i].type == SLUICE_NODE_DISCONNECTED) {
			errx(1, "the node left after %" PRIu64 " responses", c->answered);
		}
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
report(struct client *c)
{
	uint64_t *r = c->rtt_ns, n = c->answered;

	qsort(r, n, sizeof(*r), cmp_u64);
	printf("sluice-rpc: %" PRIu64 " requests, %" PRIu64 " responses, %" PRIu64
	       " bytes checked; round trip us: min %" PRIu64 " p50 %" PRIu64 " p99 %" PRIu64
	       " max %" PRIu64 "\n",
	       c->sent, n, c->bytes, r[0] / 1000, r[n / 2] / 1000, r[n * 99 / 100] / 1000,
	       r[n - 1] / 1000);
}

static void
call(struct client *c)
{
	uint64_t last = ex_now_ns();

	c->sent_ns = calloc(c->count, sizeof(uint64_t));
	c->rtt_ns = calloc(c->count, sizeof(uint64_t));
	c->msg = malloc(c->size);
	if (c->sent_ns == NULL || c->rtt_ns == NULL || c->msg == NULL)
		errx(1, "out of memory");
	while (c->answered < c->count && !ex_stop) {
		uint64_t before = c->answered;

		send_requests(c);
		client_events(c);
		if (c->answered != before)
			last = ex_now_ns();
		else if (ex_now_ns() - last > (uint64_t)TIMEOUT_MS * 1000000)
			errx(1, "no response for %d s (%" PRIu64 " of %" PRIu64 ")",
			     TIMEOUT_MS / 1000, c->answered, c->count);
		else
			(void)ex_wait(c->s, -1, 100);
	}
	if (c->answered < c->count)
		errx(1, "interrupted after %" PRIu64 " responses", c->answered);
	report(c);
	free(c->sent_ns);
	free(c->rtt_ns);
	free(c->msg);
}

/* --- command line ------------------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr, "usage: sluice-rpc -s SOCKET [-c CHANNEL] server\n"
			"       sluice-rpc -s SOCKET [-c CHANNEL] [-n COUNT] [-z SIZE] [-w WINDOW] "
			"client NODE[@A.B.C.D:PORT]\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	struct client c = { .chan = 2, .count = 1000, .size = 64, .window = 1 };
	const char *sock = NULL;
	int o;

	while ((o = getopt(argc, argv, "s:c:n:z:w:")) != -1) {
		if (o == 's')
			sock = optarg;
		else if (o == 'c')
			c.chan = (uint8_t)atoi(optarg);
		else if (o == 'n')
			c.count = strtoull(optarg, NULL, 10);
		else if (o == 'z')
			c.size = (uint32_t)atoi(optarg);
		else if (o == 'w')
			c.window = (uint32_t)atoi(optarg);
		else
			usage();
	}
	if (sock == NULL || optind >= argc || c.count == 0 || c.size < 8 || c.window == 0)
		usage();
	ex_signals();
	c.s = ex_attach(sock, "sluice-rpc", c.chan);
	if (strcmp(argv[optind], "server") == 0 && optind + 1 == argc) {
		serve(c.s, c.chan);
	} else if (strcmp(argv[optind], "client") == 0 && optind + 2 == argc) {
		if (c.size > sluice_max_message(c.s))
			errx(1, "-z %u: above the largest message (%u)", c.size,
			     sluice_max_message(c.s));
		ex_connect(c.s, argv[optind + 1], c.node, 10000);
		call(&c);
	} else {
		usage();
	}
	sluice_detach(c.s);
	return 0;
}
