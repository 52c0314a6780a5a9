/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: discovery in the appliance — cp_disc (the address book, peer exchange and the pool,
 * controlplane/discovery/) wired to the session logic (cp_ctl) and the configuration.
 *
 * cp_main creates one when the configuration has a discovery section and hands it: every note
 * of cp_ctl (cp_discovery_note), every control message that is not a HELLO
 * (cp_discovery_control), and a tick each control round. cp_disc's decisions become cp_ctl
 * calls: dial a node (cp_ctl_connect, keyed) or an address (cp_ctl_connect_addr, keyless),
 * close a session with a reason, send a control message. Dials and closes it decides inside a
 * note of cp_ctl are queued and carried out at the next tick, never from inside cp_ctl.
 *
 * Nodes it dialled are dialled once: a failure or the end of their session gives the dial up
 * (cp_ctl would otherwise keep them connected like a configured peer); configured peers keep
 * cp_ctl's behaviour (persistent unless configured otherwise) and enter the pool as persistent
 * or unconditional ones. Seeds are dialled by cp_disc only while the address book has nothing
 * better (cp_ctl's own seed dialling is not used).
 *
 * Its events (cp_disc's op event) are logged and, when cp_main set an application interface,
 * posted to the attached applications. An ADDR_LEARNED comes only with an answer to a request
 * of ours (cp_pex refuses unsolicited ones), so at most one per peer per PEX interval: they
 * need no rate limit of their own here; cp_api bounds what they take of each events ring.
 *
 * Threading: the control thread, under cp_main's lock; telemetry reads under the same lock.
 */
#ifndef CP_DISCOVERY_H
#define CP_DISCOVERY_H

#include <stdint.h>

#include "conf.h"
#include "cp_ctl.h"
#include "cp_disc.h"

struct cp_discovery;
struct cp_api;

/* NULL with errno set (logged by the caller). Loads the book file if the configuration names
 * one (a missing file is an empty book; a corrupt one is set aside and reported). */
struct cp_discovery *cp_discovery_create(const struct conf *cfg, struct cp_ctl *ctl,
					 uint64_t now_ns);
/* Saves the book (if it has a file) and frees everything. NULL is accepted. */
void cp_discovery_destroy(struct cp_discovery *x);
/* x passes from the thread that created it to the control thread, or back after the control
 * thread ended (cp_main_start, cp_main_join). NULL is accepted. */
void cp_discovery_handoff(struct cp_discovery *x);

/* Where its events (address learned, peer bad, book saved or not) go besides the log and the
 * counters: the application interface (cp_api_discovery), or nowhere (NULL: no api section,
 * or the interface is going away). x NULL is accepted. */
void cp_discovery_set_api(struct cp_discovery *x, struct cp_api *api);

void cp_discovery_note(struct cp_discovery *x, const struct cp_note *n);
void cp_discovery_control(struct cp_discovery *x, const uint8_t pub[SL_KEY_LEN], const void *msg,
			  size_t len);
void cp_discovery_tick(struct cp_discovery *x, uint64_t now_ns);

const struct cp_disc *cp_discovery_disc(const struct cp_discovery *x);
/* Entries loaded from the book file at start. */
uint32_t cp_discovery_loaded(const struct cp_discovery *x);

#endif /* CP_DISCOVERY_H */
