/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: relaying in the control plane — the relay's side: reservations, circuits and their
 * forwarding state, limits (see cp_relay.h; the side of a node that uses relays is in
 * cp_relay_use.c). Control thread only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_log.h>

#include "cp_relay_pvt.h"
#include "dp_relay.h"

RTE_LOG_REGISTER(cp_relay_logtype, sluice.cp.relay, INFO);
#define RL_LOG(level, ...) rte_log(RTE_LOG_##level, cp_relay_logtype, "relay: " __VA_ARGS__)

static const char *const status_names[SL_RELAY_STATUS_COUNT] = {
	[SL_RELAY_OK] = "ok",
	[SL_RELAY_DISABLED] = "relay_disabled",
	[SL_RELAY_NOT_ALLOWED] = "not_allowed",
	[SL_RELAY_NO_RESERVATION] = "no_reservation",
	[SL_RELAY_UNKNOWN_DEST] = "unknown_destination",
	[SL_RELAY_TOO_MANY] = "too_many_circuits",
	[SL_RELAY_RESERVATIONS_FULL] = "reservations_full",
	[SL_RELAY_BAD_REQUEST] = "bad_request",
	[SL_RELAY_NO_RESOURCES] = "no_resources",
	[SL_RELAY_BYTES_LIMIT] = "bytes_limit",
	[SL_RELAY_TIME_LIMIT] = "time_limit",
	[SL_RELAY_PEER_GONE] = "peer_gone",
	[SL_RELAY_CLOSED] = "closed",
};

const char *
cp_relay_status_name(unsigned int status)
{
	return status < SL_RELAY_STATUS_COUNT ? status_names[status] : NULL;
}

bool
cp_relay_msg_type(uint8_t type)
{
	return type >= SL_CTL_RESERVE && type <= SL_CTL_CIRCUIT_END;
}

/* --- messages ------------------------------------------------------------------------------- */

void
cp_relay_hdr(struct sl_ctl_hdr *h, uint8_t type, size_t len)
{
	h->type = type;
	h->version = SL_CTL_VERSION;
	h->len = rte_cpu_to_be_16((uint16_t)len);
	h->reserved = 0;
}

bool
cp_relay_hdr_ok(const void *msg, size_t len, size_t want)
{
	struct sl_ctl_hdr h;

	if (len != want)
		return false;
	memcpy(&h, msg, sizeof(h));
	return h.version == SL_CTL_VERSION && rte_be_to_cpu_16(h.len) == len && h.reserved == 0;
}

void
cp_relay_send(struct cp_relay *r, const uint8_t pub[SL_KEY_LEN], const void *msg, size_t len)
{
	if (cp_ctl_control_send(r->ctl, pub, msg, len) != 0)
		r->st.send_failed++;
}

static void
send_end(struct cp_relay *r, const uint8_t pub[SL_KEY_LEN], uint32_t circuit, unsigned int status)
{
	struct sl_ctl_circuit_end m = {
		.circuit = rte_cpu_to_be_32(circuit),
		.status = rte_cpu_to_be_16((uint16_t)status),
	};

	cp_relay_hdr(&m.hdr, SL_CTL_CIRCUIT_END, sizeof(m));
	cp_relay_send(r, pub, &m, sizeof(m));
}

/* --- the forwarding table's slots ------------------------------------------------------------ */

static int
slots_init(struct cp_relay *r)
{
	r->slots_per_lcore = r->cfg->relay.max_circuits * 2;
	for (unsigned int l = 0; l < r->n_lcores; l++) {
		r->free_slots[l] = calloc(r->slots_per_lcore, sizeof(uint32_t));
		r->gen[l] = calloc(r->slots_per_lcore, 1);
		r->slot_circ[l] = calloc(r->slots_per_lcore, sizeof(uint32_t));
		if (r->free_slots[l] == NULL || r->gen[l] == NULL || r->slot_circ[l] == NULL)
			return -ENOMEM;
		for (uint32_t i = 0; i < r->slots_per_lcore; i++)
			r->free_slots[l][i] = r->slots_per_lcore - 1 - i;
		r->n_free[l] = r->slots_per_lcore;
	}
	return 0;
}

/* A slot on lcore for circuit c, and its id (never 0: generations go 1..255). */
static bool
end_alloc(struct cp_relay *r, unsigned int lcore, uint32_t c, struct cp_relay_end *e)
{
	uint8_t *g;

	if (lcore >= r->n_lcores || r->n_free[lcore] == 0)
		return false;
	e->lcore = lcore;
	e->slot = r->free_slots[lcore][--r->n_free[lcore]];
	g = &r->gen[lcore][e->slot];
	*g = (uint8_t)(*g % 255 + 1);
	e->id = sl_connid(lcore, e->slot, *g);
	r->slot_circ[lcore][e->slot] = c;
	return true;
}

static void
end_release(struct cp_relay *r, struct cp_relay_end *e)
{
	struct dp_cmd cmd = { .type = DP_CMD_RELAY_CLEAR, .slot = e->slot, .connid = e->id };

	if (e->id == 0)
		return;
	(void)cp_ctl_post(r->ctl, e->lcore, &cmd);
	r->free_slots[e->lcore][r->n_free[e->lcore]++] = e->slot;
	e->id = 0;
}

/* Tell end `from`'s lcore to forward what comes from its node to `to`'s node. */
static int
end_post(struct cp_relay *r, const struct cp_relay_circ *c, const struct cp_relay_end *from,
	 const struct cp_relay_end *to)
{
	struct dp_cmd cmd = {
		.type = DP_CMD_RELAY_SET,
		.port = to->ep.port,
		.slot = from->slot,
		.connid = from->id,
		.out_id = to->id,
		.ip = to->ep.ip,
		.udp_port = to->ep.udp_port,
		.src_ip = from->ep.ip,
		.src_port = from->ep.udp_port,
		.limit_bytes = c->limit_bytes,
	};

	memcpy(cmd.mac, to->ep.mac, sizeof(cmd.mac));
	return cp_ctl_post(r->ctl, from->lcore, &cmd);
}

/* --- reservations ---------------------------------------------------------------------------- */

static bool
allowed(const struct cp_relay *r, const uint8_t pub[SL_KEY_LEN])
{
	const struct conf_relay *c = &r->cfg->relay;

	if (c->n_allow == 0)
		return true;
	for (unsigned int i = 0; i < c->n_allow; i++)
		if (memcmp(c->allow[i], pub, SL_KEY_LEN) == 0)
			return true;
	return false;
}

static struct cp_relay_res *
res_find(struct cp_relay *r, const uint8_t pub[SL_KEY_LEN])
{
	for (uint32_t i = 0; r->res != NULL && i < r->cfg->relay.max_reservations; i++)
		if (r->res[i].used && memcmp(r->res[i].pub, pub, SL_KEY_LEN) == 0)
			return &r->res[i];
	return NULL;
}

static unsigned int
res_grant(struct cp_relay *r, const uint8_t pub[SL_KEY_LEN], uint64_t now_ns)
{
	struct cp_endpoint ep;
	unsigned int lcore;

	if (!r->cfg->relay.enabled)
		return SL_RELAY_DISABLED;
	if (!allowed(r, pub))
		return SL_RELAY_NOT_ALLOWED;
	if (cp_ctl_session_of(r->ctl, pub, &ep, &lcore) != 0 || ep.via != 0)
		return SL_RELAY_BAD_REQUEST; /* only over a direct session */
	if (res_find(r, pub) != NULL)
		return SL_RELAY_OK; /* asked again: still held */
	for (uint32_t i = 0; i < r->cfg->relay.max_reservations; i++)
		if (!r->res[i].used) {
			r->res[i].used = true;
			memcpy(r->res[i].pub, pub, SL_KEY_LEN);
			r->res[i].since_ns = now_ns;
			r->st.reservations++;
			return SL_RELAY_OK;
		}
	return SL_RELAY_RESERVATIONS_FULL;
}

static void
reserve_in(struct cp_relay *r, const uint8_t pub[SL_KEY_LEN], const uint8_t *msg, size_t len,
	   uint64_t now_ns)
{
	struct sl_ctl_reserve m;
	unsigned int status;

	if (!cp_relay_hdr_ok(msg, len, sizeof(m))) {
		r->st.msgs_malformed++;
		return;
	}
	memcpy(&m, msg, sizeof(m));
	if (m.status != 0 || m.reserved != 0) {
		r->st.msgs_malformed++;
		return;
	}
	status = res_grant(r, pub, now_ns);
	if (status == SL_RELAY_OK)
		r->st.reserve_granted++;
	else
		r->st.reserve_refused++;
	cp_relay_hdr(&m.hdr, SL_CTL_RESERVE_ANS, sizeof(m));
	m.status = rte_cpu_to_be_16((uint16_t)status);
	cp_relay_send(r, pub, &m, sizeof(m));
}

/* --- circuits -------------------------------------------------------------------------------- */

static void
circ_end(struct cp_relay *r, struct cp_relay_circ *c, unsigned int status, bool tell_a, bool tell_b)
{
	if (tell_a)
		send_end(r, c->a, c->ea.id, status);
	if (tell_b)
		send_end(r, c->b, c->eb.id, status);
	end_release(r, &c->ea);
	end_release(r, &c->eb);
	c->used = false;
	r->st.circuits--;
	r->st.circuits_ended++;
	r->st.ended_by[status]++;
	RL_LOG(INFO, "CircuitEnded reason=%s\n", status_names[status]);
}

static uint32_t
circuits_of(const struct cp_relay *r, const uint8_t pub[SL_KEY_LEN])
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < r->cfg->relay.max_circuits; i++)
		n += r->circ[i].used && memcmp(r->circ[i].a, pub, SL_KEY_LEN) == 0;
	return n;
}

static struct cp_relay_circ *
circ_free_entry(struct cp_relay *r, uint32_t *idx)
{
	for (uint32_t i = 0; i < r->cfg->relay.max_circuits; i++)
		if (!r->circ[i].used) {
			*idx = i;
			return &r->circ[i];
		}
	return NULL;
}

/* Why a circuit from a to b cannot be (SL_RELAY_*), or OK with both ends' sessions found. */
static unsigned int
circ_check(struct cp_relay *r, const uint8_t a[SL_KEY_LEN], const uint8_t b[SL_KEY_LEN],
	   struct cp_relay_end *ea, struct cp_relay_end *eb)
{
	if (!r->cfg->relay.enabled)
		return SL_RELAY_DISABLED;
	if (!allowed(r, a))
		return SL_RELAY_NOT_ALLOWED;
	if (memcmp(a, b, SL_KEY_LEN) == 0 || memcmp(b, cp_ctl_pubkey(r->ctl), SL_KEY_LEN) == 0 ||
	    cp_ctl_session_of(r->ctl, a, &ea->ep, &ea->lcore) != 0 || ea->ep.via != 0)
		return SL_RELAY_BAD_REQUEST;
	if (cp_ctl_session_of(r->ctl, b, &eb->ep, &eb->lcore) != 0 || eb->ep.via != 0)
		return SL_RELAY_UNKNOWN_DEST;
	if (res_find(r, b) == NULL)
		return SL_RELAY_NO_RESERVATION;
	if (r->st.circuits >= r->cfg->relay.max_circuits ||
	    circuits_of(r, a) >= r->cfg->relay.max_circuits_per_node)
		return SL_RELAY_TOO_MANY;
	return SL_RELAY_OK;
}

/* Set up the circuit in the dataplane; OK, or NO_RESOURCES (nothing left behind). */
static unsigned int
circ_open(struct cp_relay *r, const uint8_t a[SL_KEY_LEN], const uint8_t b[SL_KEY_LEN],
	  const struct cp_relay_end *ea, const struct cp_relay_end *eb, uint64_t now_ns,
	  struct cp_relay_circ **out)
{
	const struct conf_relay *rc = &r->cfg->relay;
	struct cp_relay_circ *c;
	uint32_t idx;

	c = circ_free_entry(r, &idx);
	if (c == NULL)
		return SL_RELAY_TOO_MANY;
	memset(c, 0, sizeof(*c));
	c->ea = *ea;
	c->eb = *eb;
	c->ea.id = c->eb.id = 0;
	if (!end_alloc(r, ea->lcore, idx, &c->ea) || !end_alloc(r, eb->lcore, idx, &c->eb)) {
		end_release(r, &c->ea);
		return SL_RELAY_NO_RESOURCES;
	}
	memcpy(c->a, a, SL_KEY_LEN);
	memcpy(c->b, b, SL_KEY_LEN);
	c->limit_bytes = rc->circuit_bytes;
	c->opened_ns = now_ns;
	c->deadline_ns = rc->circuit_seconds == 0 ? UINT64_MAX
						  : now_ns + rc->circuit_seconds * 1000000000ull;
	if (end_post(r, c, &c->ea, &c->eb) != 0 || end_post(r, c, &c->eb, &c->ea) != 0) {
		end_release(r, &c->ea);
		end_release(r, &c->eb);
		return SL_RELAY_NO_RESOURCES;
	}
	c->used = true;
	r->st.circuits++;
	r->st.circuits_opened++;
	*out = c;
	return SL_RELAY_OK;
}

static void
tell_destination(struct cp_relay *r, const struct cp_relay_circ *c)
{
	struct sl_ctl_circuit_open m = {
		.circuit = rte_cpu_to_be_32(c->eb.id),
		.limit_s = rte_cpu_to_be_32(r->cfg->relay.circuit_seconds),
		.limit_bytes = rte_cpu_to_be_64(c->limit_bytes),
	};

	cp_relay_hdr(&m.hdr, SL_CTL_CIRCUIT_OPEN, sizeof(m));
	memcpy(m.node, c->a, SL_KEY_LEN);
	cp_relay_send(r, c->b, &m, sizeof(m));
}

static void
circuit_req_in(struct cp_relay *r, const uint8_t pub[SL_KEY_LEN], const uint8_t *msg, size_t len,
	       uint64_t now_ns)
{
	struct sl_ctl_circuit_ans ans = { 0 };
	struct sl_ctl_circuit_req m;
	struct cp_relay_end ea, eb;
	struct cp_relay_circ *c = NULL;
	unsigned int status;

	if (!cp_relay_hdr_ok(msg, len, sizeof(m))) {
		r->st.msgs_malformed++;
		return;
	}
	memcpy(&m, msg, sizeof(m));
	if (m.reserved != 0) {
		r->st.msgs_malformed++;
		return;
	}
	status = circ_check(r, pub, m.node, &ea, &eb);
	if (status == SL_RELAY_OK)
		status = circ_open(r, pub, m.node, &ea, &eb, now_ns, &c);
	cp_relay_hdr(&ans.hdr, SL_CTL_CIRCUIT_ANS, sizeof(ans));
	ans.req_id = m.req_id;
	ans.status = rte_cpu_to_be_16((uint16_t)status);
	if (status == SL_RELAY_OK) {
		tell_destination(r, c); /* first: its circuit is known when the handshake comes */
		ans.circuit = rte_cpu_to_be_32(c->ea.id);
		ans.limit_s = rte_cpu_to_be_32(r->cfg->relay.circuit_seconds);
		ans.limit_bytes = rte_cpu_to_be_64(c->limit_bytes);
		RL_LOG(INFO, "CircuitOpened ends=%08x,%08x\n", c->ea.id, c->eb.id);
	} else {
		r->st.circuits_refused++;
		r->st.refused_by[status]++;
		RL_LOG(INFO, "CircuitRefused reason=%s\n", status_names[status]);
	}
	cp_relay_send(r, pub, &ans, sizeof(ans));
}

/* CIRCUIT_END from one of a circuit's ends: it is done with it. False if it names none. */
static bool
circuit_end_in(struct cp_relay *r, const uint8_t pub[SL_KEY_LEN], const uint8_t *msg)
{
	struct sl_ctl_circuit_end m;
	uint32_t id;

	memcpy(&m, msg, sizeof(m));
	id = rte_be_to_cpu_32(m.circuit);
	for (uint32_t i = 0; r->circ != NULL && i < r->cfg->relay.max_circuits; i++) {
		struct cp_relay_circ *c = &r->circ[i];

		if (!c->used)
			continue;
		if (c->ea.id == id && memcmp(c->a, pub, SL_KEY_LEN) == 0) {
			circ_end(r, c, SL_RELAY_CLOSED, false, true);
			return true;
		}
		if (c->eb.id == id && memcmp(c->b, pub, SL_KEY_LEN) == 0) {
			circ_end(r, c, SL_RELAY_CLOSED, true, false);
			return true;
		}
	}
	return false;
}

/* --- events, notes and timers ---------------------------------------------------------------- */

void
cp_relay_limit(struct cp_relay *r, uint32_t end_id, uint64_t now_ns)
{
	unsigned int l = sl_connid_owner(end_id);
	uint32_t slot = sl_connid_slot(end_id);
	struct cp_relay_circ *c;

	(void)now_ns;
	if (r->circ == NULL || l >= r->n_lcores || slot >= r->slots_per_lcore)
		return;
	c = &r->circ[r->slot_circ[l][slot]];
	if (c->used && (c->ea.id == end_id || c->eb.id == end_id))
		circ_end(r, c, SL_RELAY_BYTES_LIMIT, true, true);
}

/* Our session with pub closed: its reservation goes, its circuits end. */
static void
relay_node_gone(struct cp_relay *r, const uint8_t pub[SL_KEY_LEN])
{
	struct cp_relay_res *res = res_find(r, pub);

	if (res != NULL) {
		res->used = false;
		r->st.reservations--;
	}
	for (uint32_t i = 0; r->circ != NULL && i < r->cfg->relay.max_circuits; i++) {
		struct cp_relay_circ *c = &r->circ[i];
		bool is_a, is_b;

		if (!c->used)
			continue;
		is_a = memcmp(c->a, pub, SL_KEY_LEN) == 0;
		is_b = memcmp(c->b, pub, SL_KEY_LEN) == 0;
		if (is_a || is_b)
			circ_end(r, c, SL_RELAY_PEER_GONE, !is_a, !is_b);
	}
}

void
cp_relay_note(struct cp_relay *r, const struct cp_note *n, uint64_t now_ns)
{
	if (n->pub == NULL)
		return;
	if (n->type == CP_NOTE_DISCONNECTED)
		relay_node_gone(r, n->pub);
	cp_relay_use_note(r, n, now_ns);
}

/* An end whose node's session moved (or whose next hop changed) is set up again. */
static void
follow_end(struct cp_relay *r, struct cp_relay_circ *c, struct cp_relay_end *e,
	   const uint8_t pub[SL_KEY_LEN])
{
	struct cp_endpoint ep;
	unsigned int lcore;

	if (cp_ctl_session_of(r->ctl, pub, &ep, &lcore) != 0)
		return; /* closing: its note ends the circuit */
	if (ep.ip == e->ep.ip && ep.udp_port == e->ep.udp_port && ep.port == e->ep.port &&
	    memcmp(ep.mac, e->ep.mac, sizeof(ep.mac)) == 0)
		return;
	e->ep = ep;
	(void)end_post(r, c, &c->ea, &c->eb);
	(void)end_post(r, c, &c->eb, &c->ea);
	r->st.ends_moved++;
}

static void
relay_tick(struct cp_relay *r, uint64_t now_ns)
{
	if (r->circ == NULL || now_ns < r->next_follow_ns)
		return;
	r->next_follow_ns = now_ns + CP_RELAY_FOLLOW_NS;
	for (uint32_t i = 0; i < r->cfg->relay.max_circuits; i++) {
		struct cp_relay_circ *c = &r->circ[i];

		if (!c->used)
			continue;
		if (now_ns >= c->deadline_ns) {
			circ_end(r, c, SL_RELAY_TIME_LIMIT, true, true);
			continue;
		}
		follow_end(r, c, &c->ea, c->a);
		follow_end(r, c, &c->eb, c->b);
	}
}

void
cp_relay_tick(struct cp_relay *r, uint64_t now_ns)
{
	relay_tick(r, now_ns);
	cp_relay_use_tick(r, now_ns);
}

void
cp_relay_stop(struct cp_relay *r, uint64_t now_ns)
{
	(void)now_ns;
	for (uint32_t i = 0; r->circ != NULL && i < r->cfg->relay.max_circuits; i++)
		if (r->circ[i].used)
			circ_end(r, &r->circ[i], SL_RELAY_CLOSED, true, true);
}

void
cp_relay_control(struct cp_relay *r, const uint8_t pub[SL_KEY_LEN], const void *msg, size_t len,
		 uint64_t now_ns)
{
	const uint8_t *p = msg;

	if (len < sizeof(struct sl_ctl_hdr)) {
		r->st.msgs_malformed++;
		return;
	}
	switch (p[0]) {
	case SL_CTL_RESERVE:
		reserve_in(r, pub, p, len, now_ns);
		break;
	case SL_CTL_CIRCUIT_REQ:
		circuit_req_in(r, pub, p, len, now_ns);
		break;
	case SL_CTL_CIRCUIT_END:
		if (!cp_relay_hdr_ok(p, len, sizeof(struct sl_ctl_circuit_end))) {
			r->st.msgs_malformed++;
			break;
		}
		/* from an end to its relay, or from a relay to an end of its circuit */
		if (r->circ == NULL || !circuit_end_in(r, pub, p))
			cp_relay_use_control(r, pub, p, len, now_ns);
		break;
	default:
		cp_relay_use_control(r, pub, p, len, now_ns);
		break;
	}
}

bool
cp_relay_accepts(struct cp_relay *r, const struct cp_endpoint *from)
{
	if (cp_relay_use_accepts(r, from))
		return true;
	r->st.hs_unknown_circuit++;
	return false;
}

/* --- life ------------------------------------------------------------------------------------ */

struct cp_relay *
cp_relay_create(const struct conf *cfg, struct cp_ctl *ctl, const struct dp_runtime *rt)
{
	struct cp_relay *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->cfg = cfg;
	r->ctl = ctl;
	r->rt = rt;
	r->n_lcores = cfg->n_lcores;
	if (cfg->relay.enabled) {
		r->res = calloc(cfg->relay.max_reservations, sizeof(*r->res));
		r->circ = calloc(cfg->relay.max_circuits, sizeof(*r->circ));
		if (r->res == NULL || r->circ == NULL || slots_init(r) != 0)
			goto fail;
	}
	if (cp_relay_use_init(r) != 0)
		goto fail;
	return r;
fail:
	cp_relay_destroy(r);
	errno = ENOMEM;
	return NULL;
}

void
cp_relay_destroy(struct cp_relay *r)
{
	if (r == NULL)
		return;
	cp_relay_use_fini(r);
	for (unsigned int l = 0; l < CONF_MAX_LCORES; l++) {
		free(r->free_slots[l]);
		free(r->gen[l]);
		free(r->slot_circ[l]);
	}
	free(r->res);
	free(r->circ);
	free(r);
}

const struct cp_relay_stats *
cp_relay_stats(const struct cp_relay *r)
{
	return &r->st;
}

int
cp_relay_foreach_circuit(const struct cp_relay *r, uint64_t now_ns,
			 int (*fn)(void *arg, const struct cp_relay_circuit_info *c), void *arg)
{
	for (uint32_t i = 0; r->circ != NULL && i < r->cfg->relay.max_circuits; i++) {
		const struct cp_relay_circ *c = &r->circ[i];
		struct cp_relay_circuit_info ci = { 0 };
		int rc;

		if (!c->used)
			continue;
		memcpy(ci.a, c->a, SL_KEY_LEN);
		memcpy(ci.b, c->b, SL_KEY_LEN);
		ci.id_a = c->ea.id;
		ci.id_b = c->eb.id;
		ci.age_ns = now_ns - c->opened_ns;
		ci.limit_s = r->cfg->relay.circuit_seconds;
		ci.limit_bytes = c->limit_bytes;
		if (r->rt != NULL) {
			(void)dp_relay_read(r->rt, c->ea.id, &ci.pkts_ab, &ci.bytes_ab);
			(void)dp_relay_read(r->rt, c->eb.id, &ci.pkts_ba, &ci.bytes_ba);
		}
		if ((rc = fn(arg, &ci)) != 0)
			return rc;
	}
	return 0;
}
