/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the appliance's log lines (docs/operations.md, "Logs").
 *
 * cp_log_open() gives DPDK's log library a stream (rte_openlog_stream) that writes each line
 * to stderr behind a stable prefix:
 *
 *   ts=2026-12-08T10:00:00.123Z level=info sluice: NodeConnected peer=b ...
 *
 * ts: the wall clock, UTC, RFC 3339 with milliseconds; level: emerg, alert, crit, error,
 * warning, notice, info, debug (the message's rte_log level). Every module, EAL and the
 * drivers log through it, so every line of a running appliance has the prefix; a message of
 * several lines gets it on each, and a line is written with one write(2).
 *
 * Threads: any thread may log (the stream keeps each thread's unfinished line apart);
 * cp_log_open() belongs to the main thread before rte_eal_init(), cp_log_close() to the main
 * thread after rte_eal_cleanup().
 */
#ifndef CP_LOG_H
#define CP_LOG_H

/* 0, or -errno (the log stays DPDK's default). */
int cp_log_open(void);
void cp_log_close(void);

#endif /* CP_LOG_H */
