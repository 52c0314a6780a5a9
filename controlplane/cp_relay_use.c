/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: relaying in the control plane — a node that uses relays (circuits to peers
 * configured "via" a relay, reservations at relays) and a destination of circuits (see
 * cp_relay.h). Control thread only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_log.h>

#include "cp_relay_pvt.h"

RTE_LOG_REGISTER(cp_relay_use_logtype, sluice.cp.relay_use, INFO);
#define RU_LOG(level, ...) rte_log(RTE_LOG_##level, cp_relay_use_logtype, "relay: " __VA_ARGS__)

static const struct conf_peer *
peer(const struct cp_relay *r, uint16_t i)
{
	return &r->cfg->peers[i];
}

static const char *
status_str(unsigned int status)
{
	const char *s = cp_relay_status_name(status);

	return s != NULL ? s : "unknown";
}

int
cp_relay_use_init(struct cp_relay *r)
{
	const struct conf *c = r->cfg;

	r->use = calloc(RTE_MAX(c->n_peers, 1u), sizeof(*r->use));
	r->rsv = calloc(RTE_MAX(c->n_peers, 1u), sizeof(*r->rsv));
	if (r->use == NULL || r->rsv == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < c->n_peers; i++) {
		if (c->peers[i].has_via) {
			struct cp_relay_use *u = &r->use[r->n_use++];

			u->peer = (uint16_t)i;
			u->relay = c->peers[i].via;
			u->backoff_ns = CP_RELAY_BACKOFF_MIN;
		}
		if (c->peers[i].relay_reserve)
			r->rsv[r->n_rsv++].peer = (uint16_t)i;
	}
	return 0;
}

void
cp_relay_use_fini(struct cp_relay *r)
{
	free(r->use);
	free(r->rsv);
	r->use = NULL;
	r->rsv = NULL;
}

/* --- out ------------------------------------------------------------------------------------- */

static void
send_reserve(struct cp_relay *r, struct cp_relay_rsv *v)
{
	struct sl_ctl_reserve m = { 0 };

	v->req_id = ++r->next_req;
	v->state = CP_RSV_ASKED;
	cp_relay_hdr(&m.hdr, SL_CTL_RESERVE, sizeof(m));
	m.req_id = rte_cpu_to_be_32(v->req_id);
	cp_relay_send(r, peer(r, v->peer)->pub, &m, sizeof(m));
}

static void
send_request(struct cp_relay *r, struct cp_relay_use *u)
{
	struct sl_ctl_circuit_req m = { 0 };

	u->req_id = ++r->next_req;
	u->state = CP_USE_ASKED;
	cp_relay_hdr(&m.hdr, SL_CTL_CIRCUIT_REQ, sizeof(m));
	m.req_id = rte_cpu_to_be_32(u->req_id);
	memcpy(m.node, peer(r, u->peer)->pub, SL_KEY_LEN);
	cp_relay_send(r, peer(r, u->relay)->pub, &m, sizeof(m));
	r->st.requests_sent++;
}

/* Ask again after the back-off (doubling up to its maximum). */
static void
use_wait(struct cp_relay_use *u, uint64_t now_ns)
{
	u->state = CP_USE_WAITING;
	u->next_ns = now_ns + u->backoff_ns;
	u->backoff_ns = RTE_MIN(u->backoff_ns * 2, CP_RELAY_BACKOFF_MAX);
}

/* --- notes ----------------------------------------------------------------------------------- */

/* Our session with relay peer index k is up: reserve there, ask for the circuits through it. */
static void
relay_up(struct cp_relay *r, uint16_t k, uint64_t now_ns)
{
	for (unsigned int i = 0; i < r->n_rsv; i++)
		if (r->rsv[i].peer == k)
			send_reserve(r, &r->rsv[i]);
	for (unsigned int i = 0; i < r->n_use; i++) {
		struct cp_relay_use *u = &r->use[i];

		if (u->relay == k && u->state == CP_USE_WAITING) {
			u->backoff_ns = CP_RELAY_BACKOFF_MIN;
			u->next_ns = now_ns; /* now: the tick sends it */
		}
	}
}

/* Our session with relay peer index k closed: its circuits and reservations are gone. */
static void
relay_down(struct cp_relay *r, uint16_t k, uint64_t now_ns)
{
	for (unsigned int i = 0; i < r->n_rsv; i++)
		if (r->rsv[i].peer == k)
			r->rsv[i].state = CP_RSV_NONE;
	for (unsigned int i = 0; i < r->n_use; i++) {
		struct cp_relay_use *u = &r->use[i];

		if (u->relay != k)
			continue;
		if (u->state == CP_USE_OPEN) {
			u->old_circuit = u->circuit;
			u->close_pending = true;
			r->st.circuits_lost++;
			u->losses++;
		}
		u->state = CP_USE_WAITING;
		u->next_ns = UINT64_MAX; /* until the relay is back */
	}
	for (unsigned int i = 0; i < CP_RELAY_MAX_OFFERED; i++)
		if (r->offer[i].used && memcmp(r->offer[i].relay, peer(r, k)->pub, SL_KEY_LEN) == 0)
			r->offer[i].close_pending = r->offers_to_close = true;
	(void)now_ns;
}

void
cp_relay_use_note(struct cp_relay *r, const struct cp_note *n, uint64_t now_ns)
{
	for (uint16_t k = 0; k < r->cfg->n_peers; k++) {
		if (memcmp(peer(r, k)->pub, n->pub, SL_KEY_LEN) != 0)
			continue;
		if (n->type == CP_NOTE_CONNECTED)
			relay_up(r, k, now_ns);
		else if (n->type == CP_NOTE_DISCONNECTED)
			relay_down(r, k, now_ns);
		return;
	}
}

/* --- in -------------------------------------------------------------------------------------- */

static struct cp_relay_rsv *
rsv_of(struct cp_relay *r, const uint8_t relay[SL_KEY_LEN])
{
	for (unsigned int i = 0; i < r->n_rsv; i++)
		if (memcmp(peer(r, r->rsv[i].peer)->pub, relay, SL_KEY_LEN) == 0)
			return &r->rsv[i];
	return NULL;
}

static void
reserve_ans_in(struct cp_relay *r, const uint8_t pub[SL_KEY_LEN], const uint8_t *msg, size_t len)
{
	struct cp_relay_rsv *v = rsv_of(r, pub);
	struct sl_ctl_reserve m;

	if (!cp_relay_hdr_ok(msg, len, sizeof(m))) {
		r->st.msgs_malformed++;
		return;
	}
	memcpy(&m, msg, sizeof(m));
	if (v == NULL || v->state != CP_RSV_ASKED || rte_be_to_cpu_32(m.req_id) != v->req_id) {
		r->st.msgs_unexpected++;
		return;
	}
	v->last_status = rte_be_to_cpu_16(m.status);
	if (v->last_status == SL_RELAY_OK) {
		v->state = CP_RSV_HELD;
		r->st.reservations_held++;
		RU_LOG(INFO, "ReservationHeld relay=%s\n", peer(r, v->peer)->name);
	} else {
		v->state = CP_RSV_REFUSED;
		r->st.reservations_refused++;
		RU_LOG(WARNING, "ReservationRefused relay=%s reason=%s\n", peer(r, v->peer)->name,
		       status_str(v->last_status));
	}
}

static void
circuit_ans_in(struct cp_relay *r, const uint8_t pub[SL_KEY_LEN], const uint8_t *msg, size_t len,
	       uint64_t now_ns)
{
	struct sl_ctl_circuit_ans m;
	struct cp_relay_use *u = NULL;

	if (!cp_relay_hdr_ok(msg, len, sizeof(m))) {
		r->st.msgs_malformed++;
		return;
	}
	memcpy(&m, msg, sizeof(m));
	for (unsigned int i = 0; i < r->n_use && u == NULL; i++)
		if (r->use[i].state == CP_USE_ASKED &&
		    r->use[i].req_id == rte_be_to_cpu_32(m.req_id) &&
		    memcmp(peer(r, r->use[i].relay)->pub, pub, SL_KEY_LEN) == 0)
			u = &r->use[i];
	if (u == NULL || m.reserved != 0) {
		r->st.msgs_unexpected++;
		return;
	}
	u->last_status = rte_be_to_cpu_16(m.status);
	if (u->last_status == SL_RELAY_OK && m.circuit != 0) {
		u->state = CP_USE_OPEN;
		u->circuit = rte_be_to_cpu_32(m.circuit);
		u->dial_pending = true;
		u->backoff_ns = CP_RELAY_BACKOFF_MIN;
		r->st.circuits_granted++;
		RU_LOG(INFO, "CircuitGranted peer=%s relay=%s circuit=%08x\n",
		       peer(r, u->peer)->name, peer(r, u->relay)->name, u->circuit);
		return;
	}
	r->st.requests_refused++;
	u->refusals++;
	RU_LOG(WARNING, "RelayRefused peer=%s relay=%s reason=%s retry_in_ms=%" PRIu64 "\n",
	       peer(r, u->peer)->name, peer(r, u->relay)->name, status_str(u->last_status),
	       u->backoff_ns / 1000000);
	use_wait(u, now_ns);
}

/* A relay we reserved at opens a circuit to us from node m.node. */
static void
circuit_open_in(struct cp_relay *r, const uint8_t pub[SL_KEY_LEN], const uint8_t *msg, size_t len,
		uint64_t now_ns)
{
	struct cp_relay_rsv *v = rsv_of(r, pub);
	struct sl_ctl_circuit_open m;
	struct cp_relay_offer *o = NULL, *oldest = &r->offer[0];
	struct cp_endpoint ep;
	unsigned int lcore;

	if (!cp_relay_hdr_ok(msg, len, sizeof(m))) {
		r->st.msgs_malformed++;
		return;
	}
	memcpy(&m, msg, sizeof(m));
	if (v == NULL || v->state != CP_RSV_HELD || m.circuit == 0 ||
	    cp_ctl_session_of(r->ctl, pub, &ep, &lcore) != 0) {
		r->st.msgs_unexpected++;
		return;
	}
	for (unsigned int i = 0; i < CP_RELAY_MAX_OFFERED && o == NULL; i++) {
		if (!r->offer[i].used)
			o = &r->offer[i];
		else if (r->offer[i].since_ns < oldest->since_ns)
			oldest = &r->offer[i];
	}
	if (o == NULL)
		o = oldest; /* full: the oldest offer is forgotten */
	memset(o, 0, sizeof(*o));
	o->used = true;
	memcpy(o->relay, pub, SL_KEY_LEN);
	memcpy(o->origin, m.node, SL_KEY_LEN);
	o->circuit = rte_be_to_cpu_32(m.circuit);
	o->relay_ip = ep.ip;
	o->relay_port = ep.udp_port;
	o->since_ns = now_ns;
	r->st.circuits_offered++;
	RU_LOG(INFO, "CircuitOffered relay=%s circuit=%08x\n", peer(r, v->peer)->name, o->circuit);
}

/* A relay ends a circuit of ours: one we use, or one it opened to us. */
static void
circuit_end_from_relay(struct cp_relay *r, const uint8_t pub[SL_KEY_LEN], const uint8_t *msg,
		       uint64_t now_ns)
{
	struct sl_ctl_circuit_end m;
	uint32_t id;

	memcpy(&m, msg, sizeof(m));
	id = rte_be_to_cpu_32(m.circuit);
	for (unsigned int i = 0; i < r->n_use; i++) {
		struct cp_relay_use *u = &r->use[i];

		if (u->state != CP_USE_OPEN || u->circuit != id ||
		    memcmp(peer(r, u->relay)->pub, pub, SL_KEY_LEN) != 0)
			continue;
		u->last_status = rte_be_to_cpu_16(m.status);
		u->old_circuit = u->circuit;
		u->close_pending = true;
		u->losses++;
		r->st.circuits_lost++;
		RU_LOG(WARNING, "CircuitEnded peer=%s relay=%s reason=%s\n", peer(r, u->peer)->name,
		       peer(r, u->relay)->name, status_str(u->last_status));
		u->backoff_ns = CP_RELAY_BACKOFF_MIN;
		use_wait(u, now_ns);
		return;
	}
	for (unsigned int i = 0; i < CP_RELAY_MAX_OFFERED; i++)
		if (r->offer[i].used && r->offer[i].circuit == id &&
		    memcmp(r->offer[i].relay, pub, SL_KEY_LEN) == 0) {
			r->offer[i].close_pending = r->offers_to_close = true;
			return;
		}
	r->st.msgs_unexpected++;
}

void
cp_relay_use_control(struct cp_relay *r, const uint8_t pub[SL_KEY_LEN], const uint8_t *msg,
		     size_t len, uint64_t now_ns)
{
	switch (msg[0]) {
	case SL_CTL_RESERVE_ANS:
		reserve_ans_in(r, pub, msg, len);
		break;
	case SL_CTL_CIRCUIT_ANS:
		circuit_ans_in(r, pub, msg, len, now_ns);
		break;
	case SL_CTL_CIRCUIT_OPEN:
		circuit_open_in(r, pub, msg, len, now_ns);
		break;
	case SL_CTL_CIRCUIT_END: /* checked by the caller */
		circuit_end_from_relay(r, pub, msg, now_ns);
		break;
	default: /* RESERVE or CIRCUIT_REQ to a node that does not relay */
		r->st.msgs_unexpected++;
		break;
	}
}

/* --- the gate for relayed handshakes --------------------------------------------------------- */

bool
cp_relay_use_accepts(struct cp_relay *r, const struct cp_endpoint *from)
{
	for (unsigned int i = 0; i < CP_RELAY_MAX_OFFERED; i++) {
		const struct cp_relay_offer *o = &r->offer[i];

		if (o->used && !o->close_pending && o->circuit == from->via &&
		    o->relay_ip == from->ip && o->relay_port == from->udp_port)
			return true;
	}
	for (unsigned int i = 0; i < r->n_use; i++) {
		const struct cp_relay_use *u = &r->use[i];
		const struct conf_peer *rp = peer(r, u->relay);
		struct cp_endpoint ep;
		unsigned int lcore;

		if (u->state == CP_USE_OPEN && u->circuit == from->via &&
		    cp_ctl_session_of(r->ctl, rp->pub, &ep, &lcore) == 0 && ep.ip == from->ip &&
		    ep.udp_port == from->udp_port)
			return true;
	}
	return false;
}

/* --- timers ---------------------------------------------------------------------------------- */

/* The session with node pub goes if it still runs on circuit `circuit`. */
static void
close_on(struct cp_relay *r, const uint8_t pub[SL_KEY_LEN], uint32_t circuit, uint64_t now_ns)
{
	struct cp_endpoint ep;
	unsigned int lcore;

	if (cp_ctl_session_of(r->ctl, pub, &ep, &lcore) == 0 && ep.via == circuit)
		(void)cp_ctl_close(r->ctl, pub, SL_CLOSE_DONE, now_ns);
}

static void
use_tick(struct cp_relay *r, struct cp_relay_use *u, uint64_t now_ns)
{
	const struct conf_peer *pp = peer(r, u->peer), *rp = peer(r, u->relay);
	struct cp_endpoint ep;
	unsigned int lcore;

	if (u->close_pending) {
		u->close_pending = false;
		(void)cp_ctl_forget(r->ctl, pp->pub, now_ns);
		close_on(r, pp->pub, u->old_circuit, now_ns);
	}
	if (u->dial_pending) {
		u->dial_pending = false;
		if (cp_ctl_session_of(r->ctl, rp->pub, &ep, &lcore) == 0 &&
		    cp_ctl_connect_via(r->ctl, pp->pub, &ep, u->circuit, now_ns) == 0)
			return;
		use_wait(u, now_ns); /* the relay went meanwhile */
		return;
	}
	if (u->state == CP_USE_WAITING && now_ns >= u->next_ns &&
	    cp_ctl_session_of(r->ctl, rp->pub, &ep, &lcore) == 0)
		send_request(r, u);
}

void
cp_relay_use_tick(struct cp_relay *r, uint64_t now_ns)
{
	for (unsigned int i = 0; i < r->n_use; i++)
		use_tick(r, &r->use[i], now_ns);
	if (!r->offers_to_close)
		return; /* (this runs every round of the control thread) */
	r->offers_to_close = false;
	for (unsigned int i = 0; i < CP_RELAY_MAX_OFFERED; i++) {
		struct cp_relay_offer *o = &r->offer[i];

		if (!o->used || !o->close_pending)
			continue;
		close_on(r, o->origin, o->circuit, now_ns);
		o->used = false;
	}
}

int
cp_relay_foreach_use(const struct cp_relay *r,
		     int (*fn)(void *arg, const struct cp_relay_use_info *u), void *arg)
{
	static const char *const states[] = { "waiting", "asked", "open" };

	for (unsigned int i = 0; i < r->n_use; i++) {
		const struct cp_relay_use *u = &r->use[i];
		struct cp_relay_use_info ui = {
			.peer = peer(r, u->peer)->name,
			.relay = peer(r, u->relay)->name,
			.state = states[u->state],
			.circuit = u->state == CP_USE_OPEN ? u->circuit : 0,
			.last_status = u->last_status,
			.refusals = u->refusals,
			.losses = u->losses,
		};
		int rc = fn(arg, &ui);

		if (rc != 0)
			return rc;
	}
	return 0;
}
