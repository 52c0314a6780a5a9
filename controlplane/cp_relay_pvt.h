/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: relaying internals shared by cp_relay.c (the relay, and what both roles share) and
 * cp_relay_use.c (a node that uses relays, and a destination of circuits). Control thread.
 */
#ifndef CP_RELAY_PVT_H
#define CP_RELAY_PVT_H

#include <stdbool.h>
#include <stdint.h>

#include "cp_relay.h"
#include "sl_wire.h"

#define CP_RELAY_MAX_OFFERED 256 /* circuits relays opened to us, remembered at once */
#define CP_RELAY_BACKOFF_MIN (1ull * 1000000000ull)
#define CP_RELAY_BACKOFF_MAX (60ull * 1000000000ull)
#define CP_RELAY_FOLLOW_NS   1000000000ull /* ends are checked against their sessions this often */

/* A reservation a node holds with us (the relay). */
struct cp_relay_res {
	bool used;
	uint8_t pub[SL_KEY_LEN];
	uint64_t since_ns;
};

/* One end of a circuit at the relay: its slot in the forwarding table and its node. */
struct cp_relay_end {
	uint32_t id;
	unsigned int lcore;
	uint32_t slot;
	struct cp_endpoint ep; /* where its node's session is, as set up in the dataplane */
};

struct cp_relay_circ {
	bool used;
	uint8_t a[SL_KEY_LEN], b[SL_KEY_LEN]; /* the asker, the destination */
	struct cp_relay_end ea, eb;
	uint64_t opened_ns, deadline_ns; /* deadline UINT64_MAX: no time limit */
	uint64_t limit_bytes;
};

/* A configured peer reached through a relay (its "via"), as this node uses it. */
enum cp_relay_use_state { CP_USE_WAITING, CP_USE_ASKED, CP_USE_OPEN };

struct cp_relay_use {
	uint16_t peer, relay; /* configured peer indexes */
	enum cp_relay_use_state state;
	bool dial_pending;  /* open: cp_ctl_connect_via() at the next tick */
	bool close_pending; /* the circuit ended: the session on it goes at the next tick */
	uint32_t req_id, circuit, old_circuit;
	unsigned int last_status;
	uint64_t refusals, losses;
	uint64_t next_ns, backoff_ns; /* waiting: ask again then */
};

/* A reservation this node keeps at a relay (the peer's "relay_reserve"). */
enum cp_relay_rsv_state { CP_RSV_NONE, CP_RSV_ASKED, CP_RSV_HELD, CP_RSV_REFUSED };

struct cp_relay_rsv {
	uint16_t peer;
	enum cp_relay_rsv_state state;
	uint32_t req_id;
	unsigned int last_status;
};

/* A circuit a relay opened to us: relayed handshakes come on it. */
struct cp_relay_offer {
	bool used;
	bool close_pending; /* ended: the session on it goes at the next tick */
	uint8_t relay[SL_KEY_LEN], origin[SL_KEY_LEN];
	uint32_t circuit;
	uint32_t relay_ip;
	uint16_t relay_port;
	uint64_t since_ns;
};

struct cp_relay {
	const struct conf *cfg;
	struct cp_ctl *ctl;
	const struct dp_runtime *rt;
	unsigned int n_lcores;
	/* the relay */
	struct cp_relay_res *res;   /* max_reservations */
	struct cp_relay_circ *circ; /* max_circuits */
	uint32_t slots_per_lcore;
	uint32_t *free_slots[CONF_MAX_LCORES]; /* stack of free forwarding slots per lcore */
	uint32_t n_free[CONF_MAX_LCORES];
	uint8_t *gen[CONF_MAX_LCORES];	      /* generation of each slot's id */
	uint32_t *slot_circ[CONF_MAX_LCORES]; /* slot -> circuit index */
	uint64_t next_follow_ns;
	/* a user of relays, and a destination */
	struct cp_relay_use *use;
	unsigned int n_use;
	struct cp_relay_rsv *rsv;
	unsigned int n_rsv;
	struct cp_relay_offer offer[CP_RELAY_MAX_OFFERED];
	bool offers_to_close; /* some offer's close_pending is set */
	uint32_t next_req;
	struct cp_relay_stats st;
};

/* cp_relay.c */
/* Send a control message to pub; counted when it cannot go. */
void cp_relay_send(struct cp_relay *r, const uint8_t pub[SL_KEY_LEN], const void *msg, size_t len);
void cp_relay_hdr(struct sl_ctl_hdr *h, uint8_t type, size_t len);
/* The header of a received relay message is right for its type and length. */
bool cp_relay_hdr_ok(const void *msg, size_t len, size_t want);

/* cp_relay_use.c */
int cp_relay_use_init(struct cp_relay *r);
void cp_relay_use_fini(struct cp_relay *r);
void cp_relay_use_note(struct cp_relay *r, const struct cp_note *n, uint64_t now_ns);
void cp_relay_use_tick(struct cp_relay *r, uint64_t now_ns);
/* RESERVE_ANS, CIRCUIT_ANS, CIRCUIT_OPEN, CIRCUIT_END from a relay. */
void cp_relay_use_control(struct cp_relay *r, const uint8_t pub[SL_KEY_LEN], const uint8_t *msg,
			  size_t len, uint64_t now_ns);
bool cp_relay_use_accepts(struct cp_relay *r, const struct cp_endpoint *from);

#endif /* CP_RELAY_PVT_H */
