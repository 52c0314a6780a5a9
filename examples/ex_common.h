/* SPDX-License-Identifier: BSD-3-Clause
 * What the examples share: attaching to the appliance, naming and dialling a node, stopping
 * on a signal, waiting for events. Only libsluice's public API (sluice.h).
 */
#ifndef EX_COMMON_H
#define EX_COMMON_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <sluice.h>

/* Set by SIGINT and SIGTERM (ex_signals()); the handler does nothing else. */
extern volatile sig_atomic_t ex_stop;

/* Catch SIGINT and SIGTERM without SA_RESTART, so a blocking call returns EINTR at once. */
void ex_signals(void);

/* Attach as name and serve channel chan: messages on it come to us. Exits with a message on
 * failure. */
struct sluice *ex_attach(const char *socket_path, const char *name, uint8_t chan);

/* target: NODE or NODE@A.B.C.D:PORT (NODE in base64 or hex). Asks the appliance to dial it
 * (nothing to do when a session is up already) and waits, up to timeout_ms, for its
 * NODE_CONNECTED; node gets its id. Exits with a message on failure. */
void ex_connect(struct sluice *s, const char *target, uint8_t node[SLUICE_NODE_LEN],
		int timeout_ms);

/* Wait until the attachment may have events, fd (-1: none) is readable, a signal comes or
 * timeout_ms (-1: none) passes — with poll() on sluice_fd(), the pattern of an application
 * that has descriptors of its own. Returns true when fd is readable. The appliance going away
 * wakes the wait too (sluice_fd() becomes readable): it exits with a message. */
bool ex_wait(struct sluice *s, int fd, int timeout_ms);

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t ex_now_ns(void);

#endif /* EX_COMMON_H */
