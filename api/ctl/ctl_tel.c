/* SPDX-License-Identifier: BSD-3-Clause
 * sluicectl: DPDK's telemetry socket (version 2) — the same protocol scripts/sl_telemetry.py
 * speaks: a SOCK_SEQPACKET Unix socket; on connecting, the appliance sends a greeting
 * ({"version": ..., "pid": ..., "max_output_len": N}); then each packet we send is a command
 * ("/sluice/peers", or "/sluice/peers,b" with a parameter) and the answer is one packet of at
 * most N bytes: {"/sluice/peers": <value>}, the value null for a command it does not know.
 *
 * Everything that comes back is parsed with jansson and treated as untrusted: it is printed
 * only through ctl_esc() or as JSON that jansson writes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"

#define TEL_TIMEOUT_S	 5
#define TEL_GREETING_MAX 1024
#define TEL_REPLY_MAX	 (1u << 20) /* whatever the greeting says, never more than this */

int
ctl_tel_path(char *out, size_t len, const char *prefix)
{
	const char *run = getenv("XDG_RUNTIME_DIR");
	int n;

	if (getuid() == 0 || run == NULL || run[0] == '\0')
		run = getuid() == 0 ? "/var/run" : "/tmp";
	n = snprintf(out, len, "%s/dpdk/%s/dpdk_telemetry.v2", run, prefix);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* One packet, parsed: the JSON object, or NULL with the reason printed. */
static json_t *
tel_recv(struct ctl_tel *t, size_t max)
{
	char *buf = malloc(max + 1);
	json_error_t err;
	json_t *v = NULL;
	ssize_t n;

	if (buf == NULL) {
		fprintf(stderr, "sluicectl: out of memory\n");
		return NULL;
	}
	n = recv(t->fd, buf, max + 1, 0);
	if (n < 0)
		fprintf(stderr, "sluicectl: telemetry %s: %s\n", ctl_esc(t->path),
			errno == EAGAIN ? "no answer within 5 s" : strerror(errno));
	else if (n == 0)
		fprintf(stderr, "sluicectl: telemetry %s: the appliance closed the connection\n",
			ctl_esc(t->path));
	else if ((size_t)n > max)
		fprintf(stderr, "sluicectl: telemetry %s: an answer longer than %zu bytes\n",
			ctl_esc(t->path), max);
	else if ((v = json_loadb(buf, (size_t)n, 0, &err)) == NULL || !json_is_object(v))
		fprintf(stderr, "sluicectl: telemetry %s: not a JSON object: %s\n",
			ctl_esc(t->path), v == NULL ? ctl_esc(err.text) : "another type");
	if (v != NULL && !json_is_object(v)) {
		json_decref(v);
		v = NULL;
	}
	free(buf);
	return v;
}

static int
tel_connect(struct ctl_tel *t)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = TEL_TIMEOUT_S };

	if (strlen(t->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, t->path, strlen(t->path) + 1);
	t->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (t->fd < 0)
		return -errno;
	if (setsockopt(t->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(t->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(t->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;

		close(t->fd);
		t->fd = -1;
		return rc;
	}
	return 0;
}

int
ctl_tel_open(const struct ctl *ctl, struct ctl_tel *t)
{
	json_t *hello;
	json_int_t max;
	int rc;

	t->fd = -1;
	rc = ctl_tel_path(t->path, sizeof(t->path), ctl->prefix);
	if (rc == 0)
		rc = tel_connect(t);
	if (rc < 0) {
		fprintf(stderr, "sluicectl: no appliance with file prefix \"%s\" answers: %s: %s\n",
			ctl_esc(ctl->prefix), ctl_esc(t->path), strerror(-rc));
		return CTL_UNREACHABLE;
	}
	hello = tel_recv(t, TEL_GREETING_MAX);
	if (hello == NULL) {
		ctl_tel_close(t);
		return CTL_UNREACHABLE;
	}
	max = json_integer_value(json_object_get(hello, "max_output_len"));
	t->max_len = max > 0 && max <= TEL_REPLY_MAX ? (size_t)max : TEL_REPLY_MAX;
	json_decref(hello);
	return CTL_OK;
}

json_t *
ctl_tel_query(struct ctl_tel *t, const char *cmd)
{
	char key[64];
	json_t *reply, *v;

	snprintf(key, sizeof(key), "%.*s", (int)strcspn(cmd, ","), cmd);
	if (send(t->fd, cmd, strlen(cmd), MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "sluicectl: telemetry %s: %s: %s\n", ctl_esc(t->path), cmd,
			strerror(errno));
		return NULL;
	}
	reply = tel_recv(t, t->max_len);
	if (reply == NULL)
		return NULL;
	v = json_incref(json_object_get(reply, key));
	json_decref(reply);
	if (v == NULL || !json_is_object(v)) {
		fprintf(stderr,
			"sluicectl: telemetry %s: no answer to %s (an appliance without it, or not "
			"yet running)\n",
			ctl_esc(t->path), key);
		json_decref(v);
		return NULL;
	}
	return v;
}

void
ctl_tel_close(struct ctl_tel *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
