/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: relaying in the control plane (docs/protocol.md, section 17) — both roles.
 *
 * The relay (configuration section "relay"): nodes reserve their place (RESERVE: granted while
 * their session with us lives, within max_reservations, if the allow-list lets them); a node
 * asks for a circuit to a node with a reservation (CIRCUIT_REQ); we check it, take two slots of
 * the dataplane's forwarding table (dp_relay.h) on the lcores that own the two nodes' sessions,
 * tell the destination (CIRCUIT_OPEN) and answer the asker (CIRCUIT_ANS). Every refusal has its
 * status in the answer. A circuit ends (CIRCUIT_END to both ends, its slots cleared) when it
 * reaches its time limit, when an end reaches the byte limit (DP_EVT_RELAY_LIMIT), when our
 * session with either end closes, or when an end asks. Its forwarding follows the ends: once
 * a second, an end whose session moved (another address or port) is set up again.
 *
 * A node that uses relays (the peers' "via" and "relay_reserve"): once its session with a relay
 * is up, it reserves there if told to, and asks it for a circuit to each peer configured
 * "via" it; with the circuit, cp_ctl dials that peer through it (cp_ctl_connect_via); a
 * refusal is logged with its reason and asked again after a back-off (1 s doubling to 60 s);
 * an ended circuit closes the session on it and is asked for again. As a destination, it keeps
 * the circuits relays it reserved at open to it: a relayed handshake is accepted only on one of
 * those, from that relay's address (cp_relay_accepts).
 *
 * Threading: the control thread (cp_main's lock); telemetry reads under the same lock.
 */
#ifndef CP_RELAY_H
#define CP_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "cp_ctl.h"

struct cp_relay;
struct dp_runtime;

#define CP_RELAY_COUNTERS(X)                                                                  \
	X(reserve_granted, "reservations granted (relay)")                                    \
	X(reserve_refused, "reservations refused (relay)")                                    \
	X(circuits_opened, "circuits set up (relay)")                                         \
	X(circuits_refused, "circuit requests refused (relay; by reason below)")              \
	X(circuits_ended, "circuits ended (relay; by reason below)")                          \
	X(ends_moved, "circuit ends set up again: their node moved (relay)")                  \
	X(requests_sent, "circuit requests sent (user)")                                      \
	X(requests_refused, "our circuit requests refused (user)")                            \
	X(circuits_granted, "circuits granted to us (user)")                                  \
	X(circuits_lost, "circuits we used that ended (user)")                                \
	X(circuits_offered, "circuits relays opened to us (destination)")                     \
	X(reservations_held, "reservations relays granted us (user)")                         \
	X(reservations_refused, "reservations relays refused us (user)")                      \
	X(hs_unknown_circuit, "relayed handshake messages on no circuit of ours: dropped")    \
	X(msgs_malformed, "relay control messages malformed: ignored")                        \
	X(msgs_unexpected, "relay control messages we did not ask for, or not ours: ignored") \
	X(send_failed, "relay control messages we could not send")

struct cp_relay_stats {
#define CP_RELAY_FIELD(name, doc) uint64_t name;
	CP_RELAY_COUNTERS(CP_RELAY_FIELD)
#undef CP_RELAY_FIELD
	uint64_t refused_by[SL_RELAY_STATUS_COUNT]; /* relay: refusals by status */
	uint64_t ended_by[SL_RELAY_STATUS_COUNT];   /* relay: ends by status */
	uint32_t reservations, circuits;	    /* relay: now */
};

/* "ok", "no_reservation", ... for an SL_RELAY_* status; NULL for an unknown one. */
const char *cp_relay_status_name(unsigned int status);

/* NULL with errno set. rt: the forwarding tables' counters (telemetry), may be NULL. */
struct cp_relay *cp_relay_create(const struct conf *cfg, struct cp_ctl *ctl,
				 const struct dp_runtime *rt);
void cp_relay_destroy(struct cp_relay *r);

/* Every note of cp_ctl (sessions up and down). */
void cp_relay_note(struct cp_relay *r, const struct cp_note *n, uint64_t now_ns);
/* A control message of a relay type (SL_CTL_RESERVE .. SL_CTL_CIRCUIT_END) from pub. */
void cp_relay_control(struct cp_relay *r, const uint8_t pub[SL_KEY_LEN], const void *msg,
		      size_t len, uint64_t now_ns);
/* Is this control message type one of relaying's? */
bool cp_relay_msg_type(uint8_t type);
/* DP_EVT_RELAY_LIMIT from an lcore. */
void cp_relay_limit(struct cp_relay *r, uint32_t end_id, uint64_t now_ns);
/* A handshake message came through a relay on circuit from->via: may cp_ctl have it? (Counted
 * in hs_unknown_circuit when not.) */
bool cp_relay_accepts(struct cp_relay *r, const struct cp_endpoint *from);
/* Timers: circuit time limits, requests to repeat, ends to follow. */
void cp_relay_tick(struct cp_relay *r, uint64_t now_ns);
/* Stopping: every circuit ends (CLOSED). */
void cp_relay_stop(struct cp_relay *r, uint64_t now_ns);

const struct cp_relay_stats *cp_relay_stats(const struct cp_relay *r);

/* Telemetry: a circuit as the relay sees it. */
struct cp_relay_circuit_info {
	uint8_t a[SL_KEY_LEN], b[SL_KEY_LEN]; /* the asker, the destination */
	uint32_t id_a, id_b;		      /* their ends' ids */
	uint64_t age_ns, limit_s, limit_bytes;
	uint64_t pkts_ab, bytes_ab, pkts_ba, bytes_ba; /* forwarded, from a to b and back */
};
int cp_relay_foreach_circuit(const struct cp_relay *r, uint64_t now_ns,
			     int (*fn)(void *arg, const struct cp_relay_circuit_info *c),
			     void *arg);

/* Telemetry: a peer of ours reached through a relay. */
struct cp_relay_use_info {
	const char *peer, *relay; /* configured names */
	const char *state;	  /* "waiting", "asked", "open" */
	uint32_t circuit;	  /* open: our end */
	unsigned int last_status; /* SL_RELAY_* of the last answer or end */
	uint64_t refusals, losses;
};
int cp_relay_foreach_use(const struct cp_relay *r,
			 int (*fn)(void *arg, const struct cp_relay_use_info *u), void *arg);

#endif /* CP_RELAY_H */
