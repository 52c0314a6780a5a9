/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: systemd's service notifications, written by hand (see cp_notify.h; the protocol is
 * sd_notify(3)'s: a datagram on an AF_UNIX socket, newline-separated assignments).
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cp_notify.h"

#define SEC_NS	   UINT64_C(1000000000)
#define STATUS_GAP SEC_NS /* STATUS= at most this often */

/* $WATCHDOG_USEC in ns, 0 when not set or meant for another process; -EINVAL when bad. */
static int64_t
watchdog_from_env(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	unsigned long long v;
	char *end;

	if (usec == NULL || usec[0] == '\0')
		return 0;
	if (pid != NULL && pid[0] != '\0' && strtoll(pid, NULL, 10) != (long long)getpid())
		return 0; /* sd_watchdog_enabled(3): for another process */
	errno = 0;
	v = strtoull(usec, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > UINT64_MAX / 1000)
		return -EINVAL;
	return (int64_t)(v * 1000);
}

static int
address(struct cp_notify *n, const char *path)
{
	size_t len = strlen(path);

	if ((path[0] != '/' && path[0] != '@') || len < 2 || len >= sizeof(n->sa.sun_path))
		return -EINVAL;
	memset(&n->sa, 0, sizeof(n->sa));
	n->sa.sun_family = AF_UNIX;
	memcpy(n->sa.sun_path, path, len);
	if (path[0] == '@') /* abstract: a leading NUL, and the length says where it ends */
		n->sa.sun_path[0] = '\0';
	n->sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
				(path[0] == '/' ? 1 : 0));
	return 0;
}

int
cp_notify_open(struct cp_notify *n)
{
	const char *path = getenv("NOTIFY_SOCKET");
	int64_t wd;
	int rc;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	if (path == NULL || path[0] == '\0')
		return 0;
	rc = address(n, path);
	wd = watchdog_from_env();
	if (rc == 0 && wd < 0)
		rc = (int)wd;
	if (rc != 0)
		return rc;
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->fd < 0)
		return -errno;
	n->watchdog_ns = (uint64_t)wd;
	return 0;
}

void
cp_notify_close(struct cp_notify *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}

int
cp_notify_send(struct cp_notify *n, const char *msg)
{
	if (n->fd < 0)
		return 0;
	if (sendto(n->fd, msg, strlen(msg), MSG_NOSIGNAL, (const struct sockaddr *)&n->sa,
		   n->sa_len) < 0) {
		n->dropped++;
		return -errno;
	}
	n->sent++;
	return 0;
}

static void
status_text(char *out, size_t len, uint32_t sessions, uint32_t handshakes)
{
	snprintf(out, len, "%" PRIu32 " session%s, %" PRIu32 " handshake%s in progress", sessions,
		 sessions == 1 ? "" : "s", handshakes, handshakes == 1 ? "" : "s");
}

static void
ready(struct cp_notify *n, uint64_t now_ns)
{
	char msg[sizeof(n->status) + 32];

	status_text(n->status, sizeof(n->status), 0, 0);
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", n->status);
	n->next_status_ns = now_ns + STATUS_GAP;
	n->next_watchdog_ns = now_ns + n->watchdog_ns / 2;
	n->ready = true;
	cp_notify_send(n, msg);
}

void
cp_notify_tick(struct cp_notify *n, uint64_t now_ns,
	       void (*counts)(void *arg, uint32_t *sessions, uint32_t *handshakes), void *arg)
{
	char now[sizeof(n->status)], msg[sizeof(n->status) + 8];
	uint32_t sessions, handshakes;

	if (n->fd < 0)
		return;
	if (!n->ready) {
		ready(n, now_ns);
		return;
	}
	if (n->watchdog_ns != 0 && now_ns >= n->next_watchdog_ns) {
		cp_notify_send(n, "WATCHDOG=1");
		n->next_watchdog_ns = now_ns + n->watchdog_ns / 2;
	}
	if (now_ns < n->next_status_ns)
		return;
	counts(arg, &sessions, &handshakes);
	status_text(now, sizeof(now), sessions, handshakes);
	if (strcmp(now, n->status) == 0)
		return;
	memcpy(n->status, now, sizeof(now));
	snprintf(msg, sizeof(msg), "STATUS=%s", now);
	cp_notify_send(n, msg);
	n->next_status_ns = now_ns + STATUS_GAP;
}

void
cp_notify_stopping(struct cp_notify *n, const char *why)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=stopping: %s", why);
	cp_notify_send(n, msg);
}
