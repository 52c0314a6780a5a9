/* SPDX-License-Identifier: BSD-3-Clause
 * sluice-cat: netcat over a sluice appliance.
 *
 *   sluice-cat -s SOCKET [-c CHANNEL] [-f FILE | -n] [-v] NODE[@A.B.C.D:PORT]
 *
 * Attaches to the appliance at SOCKET, serves CHANNEL (default 1), dials NODE and then, at the
 * same time:
 *   - sends each line of its input (stdin, or FILE with -f) to NODE on CHANNEL as one message,
 *     newline included (a line longer than the largest message goes as several);
 *   - writes the bytes of every message NODE sends on CHANNEL to stdout, as they are.
 * So `sluice-cat A < f` on one side and `sluice-cat -n B > g` on the other leave g equal to f.
 * At the end of its input it waits until the appliance has taken every message (sluice_flush)
 * and exits 0; -n reads no input and runs until SIGINT or SIGTERM, which end it cleanly too.
 *
 * How it waits: poll() on its input and on sluice_fd() (sluice_wait_prepare / _done around it,
 * ex_wait()), never a busy loop. How it sends: a refused send (-ENOBUFS: no credit or no room
 * now) is kept and tried again after the SLUICE_WRITABLE event that the refusal promises.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ex_common.h"

#define IN_BUF (64u << 10) /* input read but not sent yet */

struct cat {
	struct sluice *s;
	uint8_t node[SLUICE_NODE_LEN];
	uint8_t chan;
	bool verbose;
	bool blocked; /* a send was refused: wait for WRITABLE */
	int in;	      /* the input; -1 once it ended, or with -n (none) */
	bool eof;     /* the input ended: send what is left, then stop */
	size_t have;  /* bytes in buf */
	size_t max;   /* the longest message: min(sizeof buf, sluice_max_message()) */
	char buf[IN_BUF];
};

static void
write_all(const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err(1, "stdout");
		p += n;
		len -= (size_t)n;
	}
}

/* Everything the appliance has for us: NODE's messages to stdout, the rest noted. */
static void
drain(struct cat *c)
{
	struct sluice_event ev[32];
	int n;

	while ((n = sluice_poll(c->s, ev, 32)) > 0) {
		for (int i = 0; i < n; i++) {
			bool ours = memcmp(ev[i].node, c->node, SLUICE_NODE_LEN) == 0;

			if (ev[i].type == SLUICE_MESSAGE) {
				if (ours && ev[i].chan == c->chan)
					write_all(ev[i].data, ev[i].len);
				sluice_release(c->s, &ev[i]); /* the bytes were in shared memory */
			} else if (ev[i].type == SLUICE_WRITABLE && ours) {
				c->blocked = false;
			} else if (ev[i].type == SLUICE_NODE_DISCONNECTED && ours) {
				warnx("the session with the node ended (reason %u)", ev[i].reason);
			} else if (ev[i].type == SLUICE_NODE_CONNECTED && ours && c->verbose) {
				warnx("connected");
			}
		}
	}
	if (n < 0)
		errx(1, "poll: %s", sluice_strerror(n));
}

/* The length of the next message in buf: up to and with its newline, or max bytes, or (at the
 * end of the input) what is left; 0 when a line is still incomplete. */
static size_t
next_message(const struct cat *c)
{
	const char *nl = memchr(c->buf, '\n', c->have < c->max ? c->have : c->max);

	if (nl != NULL)
		return (size_t)(nl - c->buf) + 1;
	if (c->have >= c->max)
		return c->max;
	return c->eof ? c->have : 0;
}

/* Send what buf holds, line by line, until it is empty or a send is refused. */
static void
send_lines(struct cat *c)
{
	size_t len;

	while (!c->blocked && (len = next_message(c)) > 0) {
		int rc = sluice_send(c->s, c->node, c->chan, c->buf, len, 0);

		if (rc == -ENOBUFS) {
			c->blocked = true; /* WRITABLE follows */
			return;
		}
		if (rc < 0)
			errx(1, "send: %s", sluice_strerror(rc));
		memmove(c->buf, c->buf + len, c->have - len);
		c->have -= len;
	}
}

static void
read_input(struct cat *c)
{
	ssize_t n = read(c->in, c->buf + c->have, sizeof(c->buf) - c->have);

	if (n < 0 && errno != EINTR && errno != EAGAIN)
		err(1, "input");
	if (n == 0) {
		if (c->in != STDIN_FILENO)
			close(c->in);
		c->in = -1;
		c->eof = true; /* what is left goes as it is */
	}
	if (n > 0)
		c->have += (size_t)n;
}

static void
run(struct cat *c)
{
	while (!ex_stop) {
		drain(c);
		send_lines(c);
		if (c->eof && c->have == 0)
			return; /* everything sent (never with -n: it has no input to end) */
		/* read more only when there is room for it */
		if (ex_wait(c->s, c->have < sizeof(c->buf) ? c->in : -1, -1))
			read_input(c);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: sluice-cat -s SOCKET [-c CHANNEL] [-f FILE | -n] [-v] "
			"NODE[@A.B.C.D:PORT]\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	static struct cat c = { .chan = 1, .in = STDIN_FILENO };
	const char *sock = NULL, *file = NULL;
	bool listen_only = false;
	int o, rc;

	while ((o = getopt(argc, argv, "s:c:f:nv")) != -1) {
		if (o == 's')
			sock = optarg;
		else if (o == 'c')
			c.chan = (uint8_t)atoi(optarg);
		else if (o == 'f')
			file = optarg;
		else if (o == 'n')
			listen_only = true;
		else if (o == 'v')
			c.verbose = true;
		else
			usage();
	}
	if (sock == NULL || optind != argc - 1 || (file != NULL && listen_only))
		usage();
	if (file != NULL && (c.in = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		err(1, "%s", file);
	if (listen_only)
		c.in = -1;
	ex_signals();
	c.s = ex_attach(sock, "sluice-cat", c.chan);
	c.max = sluice_max_message(c.s) < sizeof(c.buf) ? sluice_max_message(c.s) : sizeof(c.buf);
	ex_connect(c.s, argv[optind], c.node, 10000);
	run(&c);
	rc = ex_stop ? 0 : sluice_flush(c.s, 10000); /* keep the last messages: see sluice.h */
	if (rc < 0)
		warnx("flush: %s", sluice_strerror(rc));
	sluice_detach(c.s);
	return rc < 0 ? 1 : 0;
}
