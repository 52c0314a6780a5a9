/* SPDX-License-Identifier: BSD-3-Clause
 * sluicectl: look at a running appliance and tell it whom to connect to (docs/operations.md,
 * "sluicectl").
 *
 * Two ways in, each for what it is good at:
 *   the application socket (api.socket)   connect, disconnect, peers — libsluice, attached
 *        as "sluicectl" with no channel: requests the appliance answers with a status
 *   DPDK's telemetry socket (eal.file_prefix)   show, drops, apps, metrics — read-only
 *        views of what the control thread and the lcores count, which the application
 *        interface does not carry (names, ports, channels, drops, other applications)
 *
 *   ctl_cfg.c   where the appliance is: -c CONFIG (its api.socket and eal.file_prefix, read
 *               with jansson, none of the appliance's own layers), -s, -p
 *   ctl_tel.c   the telemetry client: SOCK_SEQPACKET, JSON replies parsed with jansson
 *   ctl_out.c   printing: escaping of the appliance's strings, sizes, ages, --json output
 *   ctl_view.c  show, drops, apps (telemetry)
 *   ctl_metrics.c  metrics: telemetry in Prometheus' text format
 *   ctl_node.c  peers, connect, disconnect (libsluice)
 *   sluicectl.c the command line
 *
 * One thread; nothing here is meant to be called from two.
 */
#ifndef CTL_H
#define CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Exit statuses (documented in docs/operations.md). */
enum ctl_status {
	CTL_OK = 0,
	CTL_USAGE = 1,	     /* bad usage or input: the message says what was wrong */
	CTL_UNREACHABLE = 2, /* no appliance answers on the socket */
	CTL_REFUSED = 3,     /* the appliance refused the request: its errno's text */
};

#define CTL_PATH_LEN   108 /* sizeof(sockaddr_un.sun_path) */
#define CTL_PREFIX_LEN 64

/* Where the appliance is, and how to print. */
struct ctl {
	char socket[CTL_PATH_LEN];   /* api.socket; "" when not known */
	char prefix[CTL_PREFIX_LEN]; /* eal.file_prefix ("sluice" unless told) */
	bool json;		     /* --json: one JSON document on stdout */
};

/* ctl_cfg.c */
/* Fill what ctl does not know yet (socket "", prefix "") from the configuration file path:
 * its api.socket and eal.file_prefix. 0, or CTL_USAGE with the reason printed. */
int ctl_cfg_read(struct ctl *ctl, const char *path);

/* ctl_tel.c */
/* A connection to DPDK's telemetry socket of the appliance. */
struct ctl_tel {
	int fd;
	size_t max_len; /* the longest reply, as the socket's greeting says */
	char path[CTL_PATH_LEN];
};

/* The telemetry socket of the appliance with file prefix prefix, as DPDK's EAL names it:
 * <runtime dir>/<prefix>/dpdk_telemetry.v2, the runtime directory being /var/run/dpdk for root
 * and $XDG_RUNTIME_DIR/dpdk (or /tmp/dpdk) for others. -ENAMETOOLONG when it does not fit. */
int ctl_tel_path(char *out, size_t len, const char *prefix);
/* Connect and read the greeting: CTL_OK, or CTL_UNREACHABLE with the reason printed. */
int ctl_tel_open(const struct ctl *ctl, struct ctl_tel *t);
/* Ask one command ("/sluice/peers"): its value (a new reference), or NULL with the reason
 * printed (the appliance is unreachable, or does not know the command). */
json_t *ctl_tel_query(struct ctl_tel *t, const char *cmd);
void ctl_tel_close(struct ctl_tel *t);

/* ctl_out.c */
/* s made safe to print (sl_escape: every byte outside printable ASCII as \xNN), in one of
 * 16 rotating static buffers: valid until the 16th call after (enough for one printf). NULL
 * prints as "-". */
const char *ctl_esc(const char *s);
/* "1.50 KiB" */
void ctl_fmt_bytes(char *out, size_t len, uint64_t bytes);
/* "3 seconds", "1 hour, 2 minutes", "less than a second" */
void ctl_fmt_duration(char *out, size_t len, uint64_t ms);
/* "120 us", "1.25 ms" */
void ctl_fmt_rtt(char *out, size_t len, uint64_t us);
/* A member of an object as text: a string escaped, a number printed, "-" when absent (in
 * rotating buffers, as ctl_esc()). */
const char *ctl_get_str(const json_t *o, const char *key);
uint64_t ctl_get_u64(const json_t *o, const char *key);
/* Print a JSON document (steals the reference) on stdout: CTL_OK, or CTL_USAGE when it cannot
 * be written. Non-ASCII is escaped (\uXXXX), so the output is plain ASCII. */
int ctl_json_print(json_t *doc);
/* Print every member of a flat object that is a non-zero number and not named in skip (NULL
 * terminated; may be NULL), "<indent>name value" a line; returns how many were zero. */
unsigned int ctl_print_nonzero(const json_t *o, const char *indent, const char *const *skip);

/* The commands: arg is the command's argument (NULL for those that take none); each returns
 * an exit status (enum ctl_status) with what went wrong printed on stderr. */
/* ctl_view.c (telemetry) */
int ctl_show(const struct ctl *ctl, const char *arg);
int ctl_drops(const struct ctl *ctl, const char *arg);
int ctl_apps(const struct ctl *ctl, const char *arg);
/* ctl_metrics.c (telemetry): Prometheus text exposition format 0.0.4 on stdout */
int ctl_metrics(const struct ctl *ctl, const char *arg);

/* ctl_node.c (the application socket) */
int ctl_peers(const struct ctl *ctl, const char *arg);
/* arg: NODE or NODE@A.B.C.D:PORT */
int ctl_connect(const struct ctl *ctl, const char *arg);
int ctl_disconnect(const struct ctl *ctl, const char *arg);

#endif /* CTL_H */
