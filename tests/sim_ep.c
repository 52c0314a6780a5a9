/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: a reliable-engine endpoint driven by the simulator (see sim_app.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_app.h"

/* Packets one run may emit before the endpoint calls it a runaway output loop. */
#define EP_MAX_BURST (1u << 20)
/* Rounds of application step + output in one run (new sends, events raised by output). */
#define EP_MAX_ROUNDS 8

struct sim_ep {
	struct sim *sim;
	const char *name;
	const struct dp_conn_config *cfg;
	struct dp_conn *conn;
	struct sim_link *out;
	struct sim_traffic *tx, *rx; /* the traffic this endpoint sends, receives */
	uint64_t wake_at;	     /* earliest pending wakeup event; UINT64_MAX: none */
	uint64_t app_due;	     /* when the sending application next has a message due */
	uint64_t last_pn;
	bool sent_any, dead, paused;
	struct sim_ep_stats st;
	uint8_t buf[SL_MAX_PAYLOAD];
};

struct sim_ep *
sim_ep_create(struct sim *s, const char *name, const struct dp_conn_config *cfg)
{
	struct sim_ep *ep = calloc(1, sizeof(*ep));

	if (ep == NULL)
		return NULL;
	ep->conn = dp_conn_create(cfg, sim_now(s));
	if (ep->conn == NULL) {
		int err = errno;

		free(ep);
		errno = err;
		return NULL;
	}
	ep->sim = s;
	ep->name = name;
	ep->cfg = cfg;
	ep->wake_at = UINT64_MAX;
	ep->app_due = UINT64_MAX;
	ep->st.unresponsive_at = UINT64_MAX;
	ep->st.closed_at = UINT64_MAX;
	return ep;
}

void
sim_ep_destroy(struct sim_ep *ep)
{
	if (ep == NULL)
		return;
	dp_conn_destroy(ep->conn);
	free(ep);
}

/* --- driving the engine ------------------------------------------------------------------- */

static void
ep_note_event(struct sim_ep *ep, const struct dp_conn_event *ev, uint64_t now)
{
	if ((unsigned int)ev->type <= DP_EV_CLOSED)
		ep->st.events[ev->type]++;
	if (ev->type == DP_EV_UNRESPONSIVE && ep->st.unresponsive_at == UINT64_MAX)
		ep->st.unresponsive_at = now;
	if (ev->type == DP_EV_CLOSED && ep->st.closed_at == UINT64_MAX) {
		ep->st.closed_at = now;
		ep->st.close_reason = ev->reason;
		ep->st.closed_by_peer = ev->by_peer;
	}
}

/* The application's turn: events, delivered messages, messages due. True if it did anything. */
static bool
ep_app_step(struct sim_ep *ep, uint64_t now)
{
	struct dp_conn_event ev;
	struct dp_msg *m;
	bool busy = false;

	while (dp_conn_poll_event(ep->conn, &ev)) {
		ep_note_event(ep, &ev, now);
		if (ep->tx != NULL)
			sim_traffic_on_event(ep->tx, &ev, now);
		busy = true;
	}
	while (!ep->paused && (m = dp_conn_recv(ep->conn)) != NULL) {
		if (ep->rx != NULL)
			sim_traffic_on_msg(ep->rx, m, now);
		dp_conn_msg_release(ep->conn, m);
		busy = true;
	}
	ep->app_due = UINT64_MAX;
	if (ep->tx != NULL)
		busy |= sim_traffic_submit(ep->tx, now, &ep->app_due);
	return busy;
}

/* Every packet the engine will send now goes on the link. Returns how many. */
static uint32_t
ep_flush(struct sim_ep *ep, uint64_t now)
{
	uint32_t n = 0;
	uint64_t pn;
	int len;

	while ((len = dp_conn_output(ep->conn, now, ep->buf, sizeof(ep->buf), &pn)) > 0) {
		if (ep->sent_any && pn <= ep->last_pn)
			ep->st.pn_reused++;
		ep->sent_any = true;
		ep->last_pn = pn;
		ep->st.pkts_out++;
		if (ep->out != NULL)
			(void)sim_link_send(ep->out, pn, ep->buf, (uint32_t)len);
		if (++n >= EP_MAX_BURST) {
			ep->st.output_runaway++;
			break;
		}
	}
	return n;
}

static void ep_wake(void *arg, void *data, uint64_t tag);

/* Make sure the endpoint runs again at `at` (or earlier). */
static void
ep_schedule(struct sim_ep *ep, uint64_t at)
{
	if (at == UINT64_MAX || at >= ep->wake_at)
		return;
	if (sim_at(ep->sim, at, ep_wake, ep, NULL, 0) == 0)
		ep->wake_at = at < sim_now(ep->sim) ? sim_now(ep->sim) : at;
}

void
sim_ep_run(struct sim_ep *ep)
{
	uint64_t now = sim_now(ep->sim), next;
	size_t mem;

	if (ep->dead)
		return;
	ep->st.runs++;
	if (now >= dp_conn_next_wakeup(ep->conn)) {
		dp_conn_tick(ep->conn, now);
		ep->st.ticks++;
	}
	for (int round = 0; round < EP_MAX_ROUNDS; round++) {
		bool busy = ep_app_step(ep, now);

		if (ep_flush(ep, now) == 0 && !busy)
			break;
	}
	mem = dp_conn_memory(ep->conn);
	if (mem > ep->st.max_memory) {
		ep->st.max_memory = mem;
		ep->st.max_memory_at = now;
	}
	next = dp_conn_next_wakeup(ep->conn);
	ep_schedule(ep, next < ep->app_due ? next : ep->app_due);
}

static void
ep_wake(void *arg, void *data, uint64_t tag)
{
	struct sim_ep *ep = arg;

	(void)data;
	(void)tag;
	if (ep->wake_at != sim_now(ep->sim))
		return; /* superseded by an earlier wakeup, which rescheduled what is needed */
	ep->wake_at = UINT64_MAX;
	sim_ep_run(ep);
}

static void
ep_deliver(void *arg, const struct sim_pkt *p)
{
	struct sim_ep *ep = arg;
	int rc;

	if (ep->dead)
		return;
	ep->st.pkts_in++;
	rc = dp_conn_input(ep->conn, p->pn, p->data, p->len, sim_now(ep->sim));
	if (rc != 0) {
		ep->st.input_errors++;
		ep->st.last_input_error = rc;
	}
	sim_ep_run(ep);
}

/* --- set-up and control ------------------------------------------------------------------- */

int
sim_ep_connect(struct sim_ep *a, struct sim_ep *b, const struct sim_link_config *ab,
	       const struct sim_link_config *ba)
{
	a->out = sim_link_create(a->sim, ab, ep_deliver, b);
	if (a->out == NULL)
		return -errno;
	b->out = sim_link_create(a->sim, ba, ep_deliver, a);
	if (b->out == NULL)
		return -errno;
	return 0;
}

void
sim_ep_attach(struct sim_ep *tx, struct sim_ep *rx, struct sim_traffic *t)
{
	tx->tx = t;
	rx->rx = t;
}

void
sim_ep_pause(struct sim_ep *ep, bool paused)
{
	ep->paused = paused;
	if (!paused)
		sim_ep_run(ep);
}

void
sim_ep_vanish(struct sim_ep *ep)
{
	ep->dead = true;
	if (ep->out != NULL)
		sim_link_cut(ep->out, sim_now(ep->sim));
}

struct dp_conn *
sim_ep_conn(const struct sim_ep *ep)
{
	return ep->conn;
}

struct sim_link *
sim_ep_link(const struct sim_ep *ep)
{
	return ep->out;
}

struct sim *
sim_ep_sim(const struct sim_ep *ep)
{
	return ep->sim;
}

const struct sim_ep_stats *
sim_ep_stats(const struct sim_ep *ep)
{
	return &ep->st;
}

const struct dp_conn_config *
sim_ep_config(const struct sim_ep *ep)
{
	return ep->cfg;
}

const char *
sim_ep_name(const struct sim_ep *ep)
{
	return ep->name;
}
