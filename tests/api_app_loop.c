/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the command loop of the test applications and their common commands (api_app.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_app.h"

#define MAX_ARGS 12

/* --- output ----------------------------------------------------------------------------------- */

void
app_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* --- small things ----------------------------------------------------------------------------- */

uint64_t
app_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool
app_node(const char *hex, uint8_t node[SLUICE_NODE_LEN])
{
	if (strlen(hex) != 2 * SLUICE_NODE_LEN)
		return false;
	for (unsigned int i = 0; i < SLUICE_NODE_LEN; i++)
		if (sscanf(hex + 2 * i, "%2hhx", &node[i]) != 1)
			return false;
	return true;
}

const char *
app_hex8(const uint8_t node[SLUICE_NODE_LEN])
{
	static char out[9];

	snprintf(out, sizeof(out), "%02x%02x%02x%02x", node[0], node[1], node[2], node[3]);
	return out;
}

const char *
app_event_name(enum sluice_event_type t)
{
	static const char *const names[] = {
		[SLUICE_MESSAGE] = "message",
		[SLUICE_NODE_CONNECTED] = "connected",
		[SLUICE_NODE_CONNECT_FAILED] = "connect_failed",
		[SLUICE_NODE_DISCONNECTED] = "disconnected",
		[SLUICE_WRITABLE] = "writable",
		[SLUICE_EXPIRED] = "expired",
		[SLUICE_DATAGRAM_LOST] = "datagram_lost",
		[SLUICE_SEND_FAILED] = "send_failed",
	};

	return (unsigned int)t < sizeof(names) / sizeof(names[0]) && names[t] ? names[t] : "?";
}

bool
app_attached(struct app *a)
{
	if (a->s == NULL)
		app_fail("not attached");
	return a->s != NULL;
}

/* --- stdin ------------------------------------------------------------------------------------ */

/* A complete line out of the buffer, if there is one. */
static bool
take_line(struct app *a, char *line, size_t cap)
{
	char *nl = memchr(a->in, '\n', a->in_len);
	size_t n;

	if (nl == NULL)
		return false;
	n = (size_t)(nl - a->in);
	snprintf(line, cap, "%.*s", (int)n, a->in);
	memmove(a->in, nl + 1, a->in_len - n - 1);
	a->in_len -= n + 1;
	return true;
}

int
app_line(struct app *a, char *line, size_t cap, int timeout_ms)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	ssize_t n;

	if (take_line(a, line, cap))
		return 1;
	if (a->eof || a->in_len == sizeof(a->in))
		return -1;
	if (poll(&p, 1, timeout_ms) <= 0)
		return 0;
	n = read(STDIN_FILENO, a->in + a->in_len, sizeof(a->in) - a->in_len);
	if (n <= 0) {
		a->eof = true;
		return -1;
	}
	a->in_len += (size_t)n;
	return take_line(a, line, cap) ? 1 : 0;
}

/* --- events ----------------------------------------------------------------------------------- */

static void
log_event(struct app *a, const struct sluice_event *ev)
{
	if (a->n_log == APP_LOG_MAX) {
		a->log_lost++;
		return;
	}
	a->log[a->n_log] = *ev;
	a->log[a->n_log].data = NULL;
	a->n_log++;
}

int
app_pump(struct app *a, app_event_fn fn, void *arg)
{
	struct sluice_event ev[64];
	int n = sluice_poll(a->s, ev, 64);

	for (int i = 0; i < n; i++) {
		if (fn != NULL && fn(arg, &ev[i]))
			continue;
		if (ev[i].type == SLUICE_MESSAGE) {
			a->stray++;
			sluice_release(a->s, &ev[i]);
		} else {
			log_event(a, &ev[i]);
		}
	}
	return n;
}

void
app_sleep(struct app *a, bool watch_stdin)
{
	struct pollfd p[2] = { { .fd = sluice_fd(a->s), .events = POLLIN },
			       { .fd = STDIN_FILENO, .events = POLLIN } };

	if (!watch_stdin) {
		sluice_wait(a->s, APP_WAIT_SLICE_MS);
		return;
	}
	if (sluice_wait_prepare(a->s) != 0)
		return; /* events are there, or the appliance is gone (the next call says so) */
	if (poll(p, 2, sluice_wait_timeout(a->s, APP_WAIT_SLICE_MS)) < 0 && errno != EINTR)
		perror("poll");
	sluice_wait_done(a->s);
}

/* --- common commands -------------------------------------------------------------------------- */

static void
cmd_attach(struct app *a, int argc, char **argv)
{
	int err = 0;

	(void)argc;
	if (a->s != NULL) {
		app_fail("attached already");
		return;
	}
	a->s = sluice_attach(a->sock, argv[1], &err);
	if (a->s == NULL) {
		app_ok("rc=%d", err);
		return;
	}
	a->max_message = sluice_max_message(a->s);
	app_ok("rc=0 max_message=%u self=%s", a->max_message, app_hex8(sluice_self(a->s)));
}

static void
cmd_detach(struct app *a, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	sluice_detach(a->s);
	a->s = NULL;
	a->n_log = 0;
	app_ok("rc=0");
}

static void
cmd_chan(struct app *a, int argc, char **argv)
{
	uint8_t chan = (uint8_t)atoi(argv[1]);

	(void)argc;
	if (!app_attached(a))
		return;
	app_ok("rc=%d", strcmp(argv[0], "register") == 0 ? sluice_register(a->s, chan)
							 : sluice_unregister(a->s, chan));
}

static void
cmd_connect(struct app *a, int argc, char **argv)
{
	uint8_t node[SLUICE_NODE_LEN];
	struct in_addr ip = { 0 };

	(void)argc;
	if (!app_attached(a))
		return;
	if (!app_node(argv[1], node) || inet_pton(AF_INET, argv[2], &ip) != 1) {
		app_fail("usage: connect NODE IP PORT");
		return;
	}
	app_ok("rc=%d", sluice_connect(a->s, node, ntohl(ip.s_addr), (uint16_t)atoi(argv[3])));
}

static void
cmd_disconnect(struct app *a, int argc, char **argv)
{
	uint8_t node[SLUICE_NODE_LEN];

	(void)argc;
	if (!app_attached(a))
		return;
	if (!app_node(argv[1], node)) {
		app_fail("usage: disconnect NODE");
		return;
	}
	app_ok("rc=%d", sluice_disconnect(a->s, node));
}

static void
cmd_nodes(struct app *a, int argc, char **argv)
{
	struct sluice_node_info info[64];
	uint8_t node[SLUICE_NODE_LEN];
	unsigned int total = 0, connected = 0;
	int n;

	if (!app_attached(a))
		return;
	if (argc > 1 && !app_node(argv[1], node)) {
		app_fail("usage: node NODE");
		return;
	}
	n = sluice_nodes(a->s, info, 64, &total);
	if (n < 0) {
		app_ok("rc=%d", n);
		return;
	}
	for (int i = 0; i < n; i++) {
		connected += info[i].state == 3;
		if (argc > 1 && memcmp(info[i].node, node, SLUICE_NODE_LEN) == 0) {
			app_ok("rc=0 found=1 state=%u ip=%u port=%u initiator=%u msgs_in=%lu "
			       "msgs_out=%lu",
			       info[i].state, info[i].ip, info[i].port, info[i].initiator,
			       (unsigned long)info[i].msgs_in, (unsigned long)info[i].msgs_out);
			return;
		}
	}
	if (argc > 1)
		app_ok("rc=0 found=0");
	else
		app_ok("rc=0 total=%u connected=%u", total, connected);
}

struct expect {
	enum sluice_event_type type;
	uint8_t node[SLUICE_NODE_LEN];
	int chan; /* -1: any */
	bool found;
	struct sluice_event ev;
};

static bool
matches(const struct expect *x, const struct sluice_event *ev)
{
	return ev->type == x->type && memcmp(ev->node, x->node, SLUICE_NODE_LEN) == 0 &&
	       (x->chan < 0 || ev->chan == x->chan);
}

static bool
expect_event(void *arg, const struct sluice_event *ev)
{
	struct expect *x = arg;

	if (x->found || !matches(x, ev))
		return false;
	x->found = true;
	x->ev = *ev;
	return true;
}

/* Take the first logged event that matches x out of the log. */
static bool
expect_logged(struct app *a, struct expect *x)
{
	for (unsigned int i = 0; i < a->n_log; i++) {
		if (!matches(x, &a->log[i]))
			continue;
		x->found = true;
		x->ev = a->log[i];
		memmove(&a->log[i], &a->log[i + 1], (a->n_log - i - 1) * sizeof(a->log[0]));
		a->n_log--;
		return true;
	}
	return false;
}

static enum sluice_event_type
event_type(const char *name)
{
	for (int t = SLUICE_MESSAGE; t <= SLUICE_SEND_FAILED; t++)
		if (strcmp(app_event_name((enum sluice_event_type)t), name) == 0)
			return (enum sluice_event_type)t;
	return 0;
}

static void
cmd_expect(struct app *a, int argc, char **argv)
{
	struct expect x = { .type = event_type(argv[1]), .chan = argc > 3 ? atoi(argv[3]) : -1 };
	uint64_t deadline = app_now_ms() + 1000 * (uint64_t)(argc > 4 ? atoi(argv[4]) : 30);
	int n = 0;

	if (!app_attached(a))
		return;
	if (x.type == 0 || x.type == SLUICE_MESSAGE || !app_node(argv[2], x.node)) {
		app_fail("usage: expect TYPE NODE [CHAN [SECONDS]] (TYPE not message)");
		return;
	}
	expect_logged(a, &x);
	while (!x.found && n >= 0 && app_now_ms() < deadline)
		if ((n = app_pump(a, expect_event, &x)) == 0)
			app_sleep(a, false);
	if (!x.found) {
		app_fail("no %s event for %s (poll %d)", argv[1], app_hex8(x.node), n);
		return;
	}
	app_ok("type=%s node=%s chan=%u reason=%u by_peer=%u undelivered=%u ip=%u port=%u len=%u",
	       argv[1], app_hex8(x.ev.node), x.ev.chan, x.ev.reason, x.ev.by_peer, x.ev.undelivered,
	       x.ev.ip, x.ev.port, x.ev.len);
}

static void
cmd_events(struct app *a, int argc, char **argv)
{
	char list[APP_LINE_MAX] = "";
	size_t at = 0;

	(void)argc;
	(void)argv;
	if (!app_attached(a))
		return;
	while (app_pump(a, NULL, NULL) > 0)
		;
	for (unsigned int i = 0; i < a->n_log && at < sizeof(list) - 40; i++)
		at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s:%s:%u", i ? "," : "",
				       app_event_name(a->log[i].type), app_hex8(a->log[i].node),
				       a->log[i].chan);
	app_ok("n=%u lost=%lu list=%s", a->n_log, (unsigned long)a->log_lost, list);
	a->n_log = 0;
}

static void
cmd_stats(struct app *a, int argc, char **argv)
{
	struct sluice_stats st;

	(void)argc;
	(void)argv;
	if (!app_attached(a))
		return;
	sluice_get_stats(a->s, &st);
	app_ok("msgs_sent=%lu bytes_sent=%lu msgs_recv=%lu bytes_recv=%lu send_nobufs=%lu "
	       "send_noroom=%lu send_failed=%lu events=%lu appliance_errors=%lu "
	       "release_errors=%lu stray=%lu",
	       (unsigned long)st.msgs_sent, (unsigned long)st.bytes_sent,
	       (unsigned long)st.msgs_recv, (unsigned long)st.bytes_recv,
	       (unsigned long)st.send_nobufs, (unsigned long)st.send_noroom,
	       (unsigned long)st.send_failed, (unsigned long)st.events,
	       (unsigned long)st.appliance_errors, (unsigned long)st.release_errors,
	       (unsigned long)a->stray);
}

static const struct app_cmd common[] = {
	{ "attach", 1, cmd_attach },   { "detach", 0, cmd_detach },
	{ "register", 1, cmd_chan },   { "unregister", 1, cmd_chan },
	{ "connect", 3, cmd_connect }, { "disconnect", 1, cmd_disconnect },
	{ "node", 1, cmd_nodes },      { "nodes", 0, cmd_nodes },
	{ "expect", 2, cmd_expect },   { "events", 0, cmd_events },
	{ "stats", 0, cmd_stats },     { NULL, 0, NULL },
};

/* --- the loop --------------------------------------------------------------------------------- */

static const struct app_cmd *
find(const struct app_cmd *cmds, const char *name)
{
	for (; cmds->name != NULL; cmds++)
		if (strcmp(cmds->name, name) == 0)
			return cmds;
	return NULL;
}

static void
run_line(struct app *a, char *line, const struct app_cmd *cmds)
{
	char *argv[MAX_ARGS], *save = NULL;
	const struct app_cmd *c;
	int argc = 0;

	for (char *t = strtok_r(line, " \t", &save); t != NULL && argc < MAX_ARGS;
	     t = strtok_r(NULL, " \t", &save))
		argv[argc++] = t;
	if (argc == 0)
		return;
	c = find(cmds, argv[0]);
	if (c == NULL)
		c = find(common, argv[0]);
	if (c == NULL)
		app_fail("unknown command %s", argv[0]);
	else if (argc - 1 < c->min_args)
		app_fail("%s: %d arguments at least", argv[0], c->min_args);
	else
		c->fn(a, argc, argv);
}

int
app_main(int argc, char **argv, const struct app_cmd *cmds)
{
	static struct app a;
	char line[APP_LINE_MAX];

	if (argc != 2) {
		fprintf(stderr, "usage: %s SOCKET (then commands on stdin, api_app.h)\n", argv[0]);
		return 2;
	}
	a.sock = argv[1];
	while (app_line(&a, line, sizeof(line), -1) == 1) {
		if (strcmp(line, "quit") == 0)
			break;
		run_line(&a, line, cmds);
	}
	sluice_detach(a.s);
	app_say("bye");
	return 0;
}
