/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the ports as the control thread watches them (see cp_port.h).
 */
#include <string.h>

#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_rcu_qsbr.h>

#include "cp_port.h"
#include "drv_memif_guard.h"
#include "drv_port.h"

RTE_LOG_REGISTER(cp_port_logtype, sluice.cp.port, INFO);
#define PORT_LOG(level, ...) rte_log(RTE_LOG_##level, cp_port_logtype, "sluice: " __VA_ARGS__)

#define MS		UINT64_C(1000000)
#define RESTART_NS	(1000 * MS)  /* a memif client down this long is restarted, and again */
#define ANSWER_NS	(10000 * MS) /* ... unless its server has not answered yet (restart_wait) */
#define LINK_CHECK_NS	(100 * MS)   /* how often the links are looked at (announce) */
#define ANNOUNCE_NUM	2	     /* gratuitous ARPs when a port's link comes up ... */
#define ANNOUNCE_GAP_NS (1000 * MS)  /* ... this far apart */

static void
pause_set(struct cp_port *w, unsigned int p, uint8_t why)
{
	__atomic_fetch_or(&w->dp->port_paused[p], why, __ATOMIC_SEQ_CST);
}

static void
pause_clear(struct cp_port *w, unsigned int p, uint8_t why)
{
	__atomic_fetch_and(&w->dp->port_paused[p], (uint8_t)~why, __ATOMIC_SEQ_CST);
}

static bool
link_up(const struct cp_port *w, unsigned int p)
{
	struct rte_eth_link link;

	return rte_eth_link_get_nowait(w->dp->ports[p].port_id, &link) != 0 ||
	       link.link_status == RTE_ETH_LINK_UP;
}

/* --- memif client ports: restarts ---------------------------------------------------------- */

/* Keep the lcores off the port, restart it, let them back if it connected; if not, try again
 * RESTART_NS later. A restart whose server is not there costs a failed connect() on a local
 * socket, so it is tried every second: a wait doubling to 8 s (as it did) kept a client from a
 * server that had come back for up to 8 s more, most of a restart's recovery time. */
static void
restart_port(struct cp_port *w, unsigned int p, uint64_t now)
{
	struct drv_port *port = &w->dp->ports[p];

	if ((w->dp->port_paused[p] & DRV_PORT_PAUSE_RESTART) == 0) {
		PORT_LOG(WARNING, "port %s: link down, restarting it until its peer is back\n",
			 port->cfg->name);
		pause_set(w, p, DRV_PORT_PAUSE_RESTART);
		rte_rcu_qsbr_synchronize(w->dp->rcu, RTE_QSBR_THRID_INVALID);
	}
	w->restarts++;
	if (drv_port_restart(port) == 0) {
		PORT_LOG(INFO, "port %s: restarted, connected to its peer's socket\n",
			 port->cfg->name);
		w->down_since[p] = 0;
		w->unanswered[p] = true;
		pause_clear(w, p, DRV_PORT_PAUSE_RESTART | DRV_PORT_PAUSE_GONE);
		return;
	}
	w->down_since[p] = now;
	w->unanswered[p] = false;
}

/* How long a memif client port stays down before it is restarted (again): RESTART_NS, but
 * ANSWER_NS after a restart that connected to the server's socket and heard nothing back yet.
 * The server answers a connection with its hello, the client then maps its regions, and a
 * server that drops the connection after that makes the guard pause the port
 * (DRV_PORT_PAUSE_GONE, when the client unmaps them): so GONE after a restart means "answered".
 * Not answered, the connection is left alone: closing one that the server has not accepted
 * yet trips a bug of DPDK 22.11's memif server — memif_listener_handler() fails to send its
 * hello (EPIPE), and its error path frees the control channel whose interrupt callback stays
 * registered, so the server's interrupt thread then uses freed memory: a panic in epoll_ctl(),
 * or a listener that never answers anyone again (docs/operations.md, Known limitations). A
 * server stalled for more than a second on a loaded machine was enough for a restart every
 * RESTART_NS to do it (test_perturb.py, kill_past_idle). The answer takes milliseconds;
 * ANSWER_NS is for a server that went away before answering. Without the guard nothing tells
 * an answer, so every restart waits RESTART_NS as before. */
static uint64_t
restart_wait(const struct cp_port *w, unsigned int p)
{
	bool answered = (w->dp->port_paused[p] & DRV_PORT_PAUSE_GONE) != 0;

	return w->unanswered[p] && !answered && w->dp->memif_guarded ? ANSWER_NS : RESTART_NS;
}

/* A port the memif guard paused (its peer left) is given back to the lcores once its link is
 * up again: a memif server's peer reconnected, or a client port restarted (whose pause flags
 * the restart cleared: this only says so). */
static void
resume_port(struct cp_port *w, unsigned int p)
{
	pause_clear(w, p, DRV_PORT_PAUSE_GONE);
	PORT_LOG(INFO, "port %s: link to its peer back\n", w->dp->ports[p].cfg->name);
}

/* Every round while a port waits for its peer (a resumed port is soon in use again), every
 * RESTART_NS / 2 otherwise. */
static void
supervise(struct cp_port *w, uint64_t now)
{
	bool waiting = false;

	for (unsigned int p = 0; p < w->dp->n_ports; p++) {
		uint8_t paused = w->dp->port_paused[p];

		if (!drv_port_is_memif(w->dp->ports[p].cfg))
			continue;
		if ((paused & DRV_PORT_PAUSE_RESTART) == 0 && link_up(w, p)) {
			w->down_since[p] = 0;
			if ((paused & DRV_PORT_PAUSE_GONE) != 0 || w->unanswered[p])
				resume_port(w, p);
			w->unanswered[p] = false;
			continue;
		}
		waiting |= paused != 0;
		if (!drv_port_reconnects(w->dp->ports[p].cfg))
			continue;
		if (w->down_since[p] == 0)
			w->down_since[p] = now;
		else if (now - w->down_since[p] >= restart_wait(w, p))
			restart_port(w, p, now);
	}
	w->next_check = waiting ? now : now + RESTART_NS / 2;
}

/* --- links coming up: announcements -------------------------------------------------------- */

/* RFC 5227 2.3, ARP Announcement: when a port's link comes up — at start, a memif peer back, a
 * port restarted — tell the segment which MAC the port's address has now, ANNOUNCE_NUM times
 * ANNOUNCE_GAP_NS apart (a gratuitous ARP request). A restarted appliance may have a new MAC
 * (a memif port gets a random one at every start); neighbours that know its address take the
 * new one at once (cp_arp_update, the merge rule). Without it they kept sending to the old MAC
 * for up to CP_ARP_REACHABLE_NS (60 s) unless the appliance happened to ARP for their own
 * address — which it does not when it dials an address they no longer have (a peer that came
 * back at another address): then neither reached the other for a minute. */
static void
announce_links(struct cp_port *w, uint64_t now)
{
	if (now < w->next_link_check)
		return;
	w->next_link_check = now + LINK_CHECK_NS;
	for (unsigned int p = 0; p < w->dp->n_ports; p++) {
		bool up = w->dp->port_paused[p] == 0 && link_up(w, p);

		if (up && !w->link_was_up[p]) {
			w->announce_left[p] = ANNOUNCE_NUM;
			w->announce_at[p] = now;
		}
		w->link_was_up[p] = up;
		if (!up || w->announce_left[p] == 0 || now < w->announce_at[p])
			continue;
		w->announcements += w->announce(w->arg, (uint8_t)p);
		w->announce_left[p]--;
		w->announce_at[p] = now + ANNOUNCE_GAP_NS;
	}
}

/* --- impairment outages -------------------------------------------------------------------- */

/* A line when an outage of a port's impairment schedule begins and one when it ends (the
 * lcores cut the link on their own clock reads, within a polling round of these). */
static void
watch_outages(struct cp_port *w, uint64_t now)
{
	for (unsigned int p = 0; p < w->dp->n_ports; p++) {
		const struct conf_impair *im = &w->cfg->ports[p].impair;
		int on = dp_outage_on(&w->outage[p], now) ? (int)w->outage[p].next : -1;

		if (on == w->outage_on[p])
			continue;
		if (w->outage_on[p] >= 0)
			PORT_LOG(INFO, "port %s: outage %d of %u over, link back\n",
				 w->cfg->ports[p].name, w->outage_on[p] + 1, im->n_outages);
		if (on >= 0)
			PORT_LOG(INFO, "port %s: outage %d of %u, link cut both ways for %u ms\n",
				 w->cfg->ports[p].name, on + 1, im->n_outages,
				 im->outages[on].for_ms);
		w->outage_on[p] = on;
	}
}

/* --- the interface ------------------------------------------------------------------------- */

void
cp_port_init(struct cp_port *w, struct dp_runtime *dp, const struct conf *cfg,
	     cp_port_announce_fn announce_fn, void *arg)
{
	memset(w, 0, sizeof(*w));
	w->dp = dp;
	w->cfg = cfg;
	w->announce = announce_fn;
	w->arg = arg;
	for (unsigned int p = 0; p < dp->n_ports; p++) {
		dp_outage_init(&w->outage[p], &cfg->ports[p].impair, dp->ports_started_ns);
		w->outage_on[p] = -1;
	}
}

void
cp_port_round(struct cp_port *w, uint64_t now)
{
	if (now >= w->next_check)
		supervise(w, now);
	announce_links(w, now);
	watch_outages(w, now);
}
