/* SPDX-License-Identifier: BSD-3-Clause
 * What the examples share (ex_common.h).
 */
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ex_common.h"


volatile sig_atomic_t ex_stop;

static void
on_signal(int sig)
{
	(void)sig;
	ex_stop = 1;
}

void
ex_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

struct sluice *
ex_attach(const char *socket_path, const char *name, uint8_t chan)
{
	int err = 0, rc;
	struct sluice *s = sluice_attach(socket_path, name, &err);

	if (s == NULL)
		errx(1, "attach to %s: %s", socket_path, sluice_strerror(err));
	rc = sluice_register(s, chan);
	if (rc < 0)
		errx(1, "serve channel %u: %s", chan, sluice_strerror(rc));
	return s;
}

/* "NODE@A.B.C.D:PORT" or "NODE": the node, and the address (0 when none is given). */
static void
parse_target(const char *target, uint8_t node[SLUICE_NODE_LEN], uint32_t *ip, uint16_t *port)
{
	char text[128], *at, *colon;
	struct in_addr in;

	if (strlen(target) >= sizeof(text))
		errx(1, "%.40s...: not a node", target);
	strcpy(text, target);
	*ip = 0;
	*port = 0;
	if ((at = strchr(text, '@')) != NULL) {
		*at = '\0';
		colon = strrchr(at + 1, ':');
		if (colon == NULL)
			errx(1, "%s: give NODE@A.B.C.D:PORT", target);
		*colon = '\0';
		if (inet_pton(AF_INET, at + 1, &in) != 1 || atoi(colon + 1) <= 0 ||
		    atoi(colon + 1) > 65535)
			errx(1, "%s: give NODE@A.B.C.D:PORT", target);
		*ip = ntohl(in.s_addr);
		*port = (uint16_t)atoi(colon + 1);
	}
	if (sluice_node_from_text(text, node) != 0)
		errx(1, "%s: not a node id (base64 as `sluice pubkey` prints it, or 64 hex digits)",
		     text);
}

void
ex_connect(struct sluice *s, const char *target, uint8_t node[SLUICE_NODE_LEN], int timeout_ms)
{
	uint64_t deadline = ex_now_ns() + (uint64_t)timeout_ms * 1000000;
	struct sluice_event ev;
	uint32_t ip;
	uint16_t port;
	int rc;

	parse_target(target, node, &ip, &port);
	rc = sluice_connect(s, node, ip, port);
	if (rc < 0)
		errx(1, "connect %s: %s", target, sluice_strerror(rc));
	/* A session that is up already is announced too: NODE_CONNECTED comes either way.
	 * Events of other nodes that come meanwhile are not ours to keep. */
	while (!ex_stop && ex_now_ns() < deadline) {
		while (sluice_recv(s, &ev, NULL, 0) == 1) {
			if (memcmp(ev.node, node, SLUICE_NODE_LEN) != 0)
				continue;
			if (ev.type == SLUICE_NODE_CONNECTED)
				return;
			if (ev.type == SLUICE_NODE_CONNECT_FAILED)
				errx(1, "connect %s: failed (reason %u)", target, ev.reason);
		}
		if (sluice_wait(s, 100) == -ECONNRESET)
			errx(1, "the appliance went away");
	}
	errx(1, "connect %s: %s", target, ex_stop ? "interrupted" : "not connected in time");
}

bool
ex_wait(struct sluice *s, int fd, int timeout_ms)
{
	struct pollfd p[2] = {
		{ .fd = sluice_fd(s), .events = POLLIN },
		{ .fd = fd, .events = POLLIN }, /* poll() skips a negative fd */
	};
	int rc;

	rc = sluice_wait_prepare(s);
	if (rc == -ECONNRESET)
		errx(1, "the appliance went away");
	if (rc == 1)
		return false; /* events are there already: do not sleep */
	/* while a send waits for room in a lane, look every millisecond (sluice.h) */
	rc = poll(p, 2, sluice_wait_timeout(s, timeout_ms));
	sluice_wait_done(s);
	if (rc < 0)
		return false; /* EINTR: ex_stop tells */
	/* the appliance going away wakes sluice_fd(): the next sluice_wait_prepare() says so */
	return fd >= 0 && (p[1].revents & (POLLIN | POLLHUP)) != 0;
}

uint64_t
ex_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
