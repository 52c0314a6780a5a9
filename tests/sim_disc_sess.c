/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the discovery simulator's sessions (sim_disc.h): dials, handshakes that open each
 * side in turn, control messages and closes in order per direction, and the cp_disc ops of
 * honest and seed nodes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_disc_pvt.h"
#include "sl_test.h"

/* --- latency --------------------------------------------------------------------------------- */

uint64_t
sd_rtt(const struct sim_disc *w, uint32_t a, uint32_t b)
{
	uint64_t span = w->cfg.rtt_max_ns - w->cfg.rtt_min_ns + 1;
	uint64_t s = w->cfg.seed ^ ((uint64_t)(a < b ? a : b) << 32 | (a < b ? b : a));

	return w->cfg.rtt_min_ns + sl_test_mix64(&s) % span;
}

/* A delivery towards side `to` of s, one way from now, after everything sent before it. */
static uint64_t
ordered(struct sd_sess *s, int to, uint64_t now)
{
	uint64_t at = now + s->rtt_ns / 2;

	if (at <= s->last_at[to])
		at = s->last_at[to] + 1;
	s->last_at[to] = at;
	return at;
}

/* --- session slots --------------------------------------------------------------------------- */

static struct sd_sess *
sess_alloc(struct sim_disc *w)
{
	struct sd_sess *s;
	uint32_t i, gen;

	if (w->free_sess != SD_NONE) {
		i = w->free_sess;
		w->free_sess = sd_sess_at(w, i)->next_free;
	} else {
		if (w->n_sess == w->n_blk * SD_SESS_BLK) {
			struct sd_sess **v = realloc(w->sess_blk, (w->n_blk + 1) * sizeof(*v));

			if (v == NULL || (v[w->n_blk] = calloc(SD_SESS_BLK, sizeof(**v))) == NULL) {
				if (v != NULL)
					w->sess_blk = v;
				w->nomem = true;
				return NULL;
			}
			w->sess_blk = v;
			w->n_blk++;
		}
		i = w->n_sess++;
	}
	s = sd_sess_at(w, i);
	gen = s->gen + 1;
	memset(s, 0, sizeof(*s));
	s->idx = i;
	s->gen = gen;
	s->used = true;
	s->next_free = SD_NONE;
	return s;
}

static void
sess_maybe_free(struct sim_disc *w, struct sd_sess *s)
{
	if (s->state[0] != SD_END_DONE || s->state[1] != SD_END_DONE)
		return;
	s->used = false;
	s->gen++;
	s->next_free = w->free_sess;
	w->free_sess = s->idx;
}

static int
list_add(struct sim_disc *w, struct sd_node *n, uint32_t si)
{
	if (n->n_sess == n->cap_sess) {
		uint32_t cap = n->cap_sess ? 2 * n->cap_sess : 16;
		uint32_t *v = realloc(n->sess_of, cap * sizeof(*v));

		if (v == NULL) {
			w->nomem = true;
			return -ENOMEM;
		}
		n->sess_of = v, n->cap_sess = cap;
	}
	n->sess_of[n->n_sess++] = si;
	return 0;
}

static void
list_del(struct sd_node *n, uint32_t si)
{
	for (uint32_t i = 0; i < n->n_sess; i++)
		if (n->sess_of[i] == si) {
			n->sess_of[i] = n->sess_of[--n->n_sess];
			return;
		}
}

struct sd_sess *
sd_sess_between(struct sim_disc *w, const struct sd_node *a, uint32_t b, int *side)
{
	for (uint32_t i = 0; i < a->n_sess; i++) {
		struct sd_sess *s = sd_sess_at(w, a->sess_of[i]);
		int me = s->node[0] == a->idx ? 0 : 1;

		if (s->node[1 - me] == b) {
			if (side != NULL)
				*side = me;
			return s;
		}
	}
	return NULL;
}

/* --- sending and closing --------------------------------------------------------------------- */

void
sd_send(struct sim_disc *w, struct sd_sess *s, int from, const void *msg, size_t len)
{
	int to = 1 - from;
	struct sd_event *e;

	if (s->state[to] == SD_END_DONE || len == 0 || len > SL_CONTROL_MSG_MAX)
		return; /* lost with the session, as on the wire */
	e = sd_event_new(w, SD_EV_MSG, s->idx, s->gen);
	if (e == NULL)
		return;
	e->msg = malloc(len);
	if (e->msg == NULL) {
		w->nomem = true;
		free(e);
		return;
	}
	memcpy(e->msg, msg, len);
	e->len = (uint16_t)len;
	e->end = (uint8_t)to;
	w->messages++;
	w->msg_bytes += len;
	sd_schedule(w, e, ordered(s, to, w->now));
}

void
sd_close_side(struct sim_disc *w, struct sd_sess *s, int side)
{
	int other = 1 - side;
	struct sd_event *e;

	if (s->state[side] == SD_END_OPEN)
		list_del(w->nodes[s->node[side]], s->idx);
	s->state[side] = SD_END_DONE;
	if (s->state[other] != SD_END_DONE && s->node[other] != SD_NONE) {
		e = sd_event_new(w, SD_EV_CLOSE, s->idx, s->gen);
		if (e != NULL) {
			e->end = (uint8_t)other;
			sd_schedule(w, e, ordered(s, other, w->now));
		}
	}
	sess_maybe_free(w, s);
}

/* node hears, once the current cp_disc call has returned, that its session with peer closed */
static void
defer_closed(struct sim_disc *w, uint32_t node, uint32_t peer)
{
	if (w->n_defer == w->cap_defer) {
		uint32_t cap = w->cap_defer ? 2 * w->cap_defer : 64;
		struct sd_deferred *v = realloc(w->defer, cap * sizeof(*v));

		if (v == NULL) {
			w->nomem = true;
			return;
		}
		w->defer = v, w->cap_defer = cap;
	}
	w->defer[w->n_defer++] = (struct sd_deferred){ .node = node, .peer = peer };
}

void
sd_run_deferred(struct sim_disc *w)
{
	for (uint32_t i = 0; i < w->n_defer; i++) {
		struct sd_node *n = w->nodes[w->defer[i].node];

		if (n->live && n->d != NULL)
			cp_disc_closed(n->d, w->nodes[w->defer[i].peer]->id, w->now, sd_wall(w));
	}
	w->n_defer = 0;
}

/* --- the ops of honest and seed nodes -------------------------------------------------------- */

static int
op_dial(void *arg, const struct cp_addr *a)
{
	struct sd_node *n = arg;

	sd_dial(n->w, n, a);
	return n->w->nomem ? -ENOMEM : 0;
}

static void
op_close(void *arg, const uint8_t id[SL_KEY_LEN], uint16_t reason)
{
	struct sd_node *n = arg, *peer = sd_node_by_id(n->w, id);
	struct sd_sess *s;
	int side;

	(void)reason;
	if (peer == NULL)
		return;
	s = sd_sess_between(n->w, n, peer->idx, &side);
	if (s == NULL)
		return;
	sd_close_side(n->w, s, side);
	defer_closed(n->w, n->idx, peer->idx);
}

static int
op_send(void *arg, const uint8_t id[SL_KEY_LEN], const void *msg, size_t len)
{
	struct sd_node *n = arg, *peer = sd_node_by_id(n->w, id);
	struct sd_sess *s;
	int side;

	if (peer == NULL)
		return -ENOTCONN;
	s = sd_sess_between(n->w, n, peer->idx, &side);
	if (s == NULL)
		return -ENOTCONN;
	sd_send(n->w, s, side, msg, len);
	return 0;
}

const struct cp_disc_ops sd_ops = {
	.dial = op_dial,
	.close = op_close,
	.send = op_send,
	.event = NULL,
};

/* --- dials and handshakes -------------------------------------------------------------------- */

void
sd_dial(struct sim_disc *w, struct sd_node *from, const struct cp_addr *a)
{
	struct sd_node *to = sd_node_by_addr(w, a->ip, a->port);
	struct sd_sess *s = sess_alloc(w);
	bool wrong_id;
	struct sd_event *e;

	if (s == NULL)
		return;
	s->node[0] = from->idx;
	s->node[1] = to != NULL ? to->idx : SD_NONE;
	s->dialed = *a;
	wrong_id = to != NULL && (a->flags & CP_ADDR_F_HAS_ID) &&
		   memcmp(a->id, to->id, SL_KEY_LEN) != 0;
	if (to == NULL || !to->live || wrong_id || to == from) {
		e = sd_event_new(w, SD_EV_FAIL, s->idx, s->gen);
		sd_schedule(w, e, w->now + w->cfg.dial_fail_ns);
		return;
	}
	s->rtt_ns = sd_rtt(w, from->idx, to->idx);
	e = sd_event_new(w, SD_EV_INIT, s->idx, s->gen);
	sd_schedule(w, e, w->now + s->rtt_ns / 2);
}

/* What n's cp_disc learns of the session s it is side `side` of. */
static void
disc_opened(struct sim_disc *w, struct sd_node *n, struct sd_sess *s, int side)
{
	const struct sd_node *peer = w->nodes[s->node[1 - side]];
	struct cp_disc_session info;

	memset(&info, 0, sizeof(info));
	memcpy(info.id, peer->id, SL_KEY_LEN);
	info.ip = peer->ip;
	info.port = SD_PORT;
	info.outbound = side == 0;
	info.caps = SL_CAP_PEX;
	info.n_listen = 1;
	sd_addr_of(w, peer, &info.listen[0]);
	info.rtt_ns = s->rtt_ns;
	(void)cp_disc_opened(n->d, &info, w->now, sd_wall(w));
	if (n->kind == SD_HONEST && n->target_ns == 0 &&
	    cp_pool_stats(cp_disc_pool(n->d))->outbound >= w->cfg.outbound)
		n->target_ns = w->now > 0 ? w->now : 1;
}

static void
side_opened(struct sim_disc *w, struct sd_sess *s, int side)
{
	struct sd_node *n = w->nodes[s->node[side]];

	s->state[side] = SD_END_OPEN;
	if (list_add(w, n, s->idx) != 0)
		return;
	if (n->kind == SD_ATTACKER)
		sd_attack_opened(w, n, s, side);
	else
		disc_opened(w, n, s, side);
}

static void
fail_later(struct sim_disc *w, struct sd_sess *s, uint64_t at)
{
	struct sd_event *e = sd_event_new(w, SD_EV_FAIL, s->idx, s->gen);

	sd_schedule(w, e, at);
}

/* The dial reaches side 1: it opens there, its answer goes back first. */
static void
on_init(struct sim_disc *w, struct sd_sess *s)
{
	struct sd_node *from = w->nodes[s->node[0]], *to = w->nodes[s->node[1]];
	struct sd_event *e;

	if (!from->live) {
		s->state[0] = s->state[1] = SD_END_DONE;
		sess_maybe_free(w, s);
		return;
	}
	if (!to->live) {
		fail_later(w, s, w->now + w->cfg.dial_fail_ns - s->rtt_ns / 2);
		return;
	}
	/* One session per pair: a dial between nodes that have one open at either side fails
	 * (the first to open wins), as duplicate resolution by node id would decide. */
	if (sd_sess_between(w, to, from->idx, NULL) != NULL ||
	    sd_sess_between(w, from, to->idx, NULL) != NULL) {
		fail_later(w, s, w->now + s->rtt_ns / 2);
		return;
	}
	w->sessions++;
	e = sd_event_new(w, SD_EV_RESP, s->idx, s->gen);
	sd_schedule(w, e, ordered(s, 0, w->now));
	side_opened(w, s, 1);
}

/* The answer reaches the dialler. */
static void
on_resp(struct sim_disc *w, struct sd_sess *s)
{
	struct sd_node *from = w->nodes[s->node[0]];

	if (s->state[0] != SD_END_NONE)
		return;
	if (!from->live || sd_sess_between(w, from, s->node[1], NULL) != NULL) {
		if (from->live && from->kind == SD_ATTACKER) /* a duplicate: it failed */
			sd_attack_lost(w, from, s, 0);
		else if (from->live)
			cp_disc_dial_failed(from->d, &s->dialed, w->now, sd_wall(w));
		sd_close_side(w, s, 0); /* the other side hears it */
		return;
	}
	side_opened(w, s, 0);
}

static void
on_fail(struct sim_disc *w, struct sd_sess *s)
{
	struct sd_node *from = w->nodes[s->node[0]];

	if (from->live && from->kind == SD_ATTACKER)
		sd_attack_lost(w, from, s, 0);
	else if (from->live)
		cp_disc_dial_failed(from->d, &s->dialed, w->now, sd_wall(w));
	s->state[0] = s->state[1] = SD_END_DONE;
	sess_maybe_free(w, s);
}

static void
on_msg(struct sim_disc *w, struct sd_sess *s, const struct sd_event *e)
{
	struct sd_node *n = w->nodes[s->node[e->end]];
	const struct sd_node *peer = w->nodes[s->node[1 - e->end]];

	if (s->state[e->end] != SD_END_OPEN)
		return;
	if (n->kind == SD_ATTACKER)
		sd_attack_control(w, n, s, e->end, e->msg, e->len);
	else
		cp_disc_control(n->d, peer->id, e->msg, e->len, w->now, sd_wall(w));
}

static void
on_close(struct sim_disc *w, struct sd_sess *s, int side)
{
	struct sd_node *n = w->nodes[s->node[side]];
	bool was_open = s->state[side] == SD_END_OPEN;

	if (s->state[side] == SD_END_DONE)
		return;
	if (was_open)
		list_del(n, s->idx);
	s->state[side] = SD_END_DONE;
	if (was_open && n->kind == SD_ATTACKER)
		sd_attack_lost(w, n, s, side);
	else if (was_open)
		cp_disc_closed(n->d, w->nodes[s->node[1 - side]]->id, w->now, sd_wall(w));
	sess_maybe_free(w, s);
}

void
sd_session_event(struct sim_disc *w, const struct sd_event *e)
{
	struct sd_sess *s;

	if (e->a >= w->n_sess)
		return;
	s = sd_sess_at(w, e->a);
	if (!s->used || s->gen != e->gen)
		return;
	switch (e->type) {
	case SD_EV_INIT:
		on_init(w, s);
		break;
	case SD_EV_RESP:
		on_resp(w, s);
		break;
	case SD_EV_FAIL:
		on_fail(w, s);
		break;
	case SD_EV_MSG:
		on_msg(w, s, e);
		break;
	case SD_EV_CLOSE:
		on_close(w, s, e->end);
		break;
	default:
		break;
	}
}
