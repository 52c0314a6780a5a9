/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: systemd's service notifications (sd_notify(3)) without libsystemd: one datagram
 * of "KEY=value" lines to the socket $NOTIFY_SOCKET names — a path, or an abstract name
 * written with a leading '@' — when the service manager set it (Type=notify), nothing
 * otherwise.
 *
 *   READY=1     on the control thread's first round: the ports are up, telemetry's endpoints
 *               are registered (both before the control thread starts)
 *   STATUS=...  live sessions and handshakes, at most once a second, when it changed
 *   WATCHDOG=1  every half of $WATCHDOG_USEC (WatchdogSec=), from the control thread: a
 *               control thread that stops turning is restarted by systemd
 *   STOPPING=1  a stop began (a signal, --duration, every source done)
 *
 * cp_notify_open() and cp_notify_close() belong to the main thread, before the control thread
 * starts and after it ended; cp_notify_tick() and cp_notify_stopping() to the control thread
 * only. A send never blocks (a full socket drops the message, counted in `dropped`).
 */
#ifndef CP_NOTIFY_H
#define CP_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

struct cp_notify {
	int fd; /* -1: no service manager listens */
	struct sockaddr_un sa;
	socklen_t sa_len;
	bool ready;		   /* READY=1 sent */
	uint64_t watchdog_ns;	   /* $WATCHDOG_USEC for this process, 0: no watchdog */
	uint64_t next_watchdog_ns; /* the next WATCHDOG=1 */
	uint64_t next_status_ns;   /* the earliest next STATUS= */
	char status[96];	   /* the last STATUS= sent */
	uint64_t sent, dropped;
};

/* From the environment: $NOTIFY_SOCKET, $WATCHDOG_USEC (and $WATCHDOG_PID, which must be
 * this process when set). 0 (n->fd -1 when there is no $NOTIFY_SOCKET), or -errno for a
 * variable that is set but unusable (a relative path, a name too long, a bad number). */
int cp_notify_open(struct cp_notify *n);
void cp_notify_close(struct cp_notify *n);

/* Send msg ("READY=1\nSTATUS=..."): 0, -EAGAIN when the socket is full, -errno. A no-op
 * returning 0 without a service manager. */
int cp_notify_send(struct cp_notify *n, const char *msg);

/* Each round of the control thread: READY=1 (with a first STATUS=) the first time;
 * WATCHDOG=1 when due; STATUS= when the numbers changed and a second passed since the last.
 * counts() gives the live sessions and handshakes in progress; it is called only when a
 * STATUS= may go (at most once a second, never without a service manager): counting them
 * walks every session slot. */
void cp_notify_tick(struct cp_notify *n, uint64_t now_ns,
		    void (*counts)(void *arg, uint32_t *sessions, uint32_t *handshakes),
		    void *arg);
/* STOPPING=1, once. */
void cp_notify_stopping(struct cp_notify *n, const char *why);

#endif /* CP_NOTIFY_H */
