/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: setting up and tearing down what the dataplane lcores share — ports, lcore
 * contexts, rings, RCU (see dp_lcore.h). Main thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dp_lcore_pvt.h"
#include "dp_impair.h"
#include "drv_memif_guard.h"
#include "sl_clock.h"

struct sl_clock sl_clock; /* sl_clock_init() at startup, read-only afterwards */

RTE_LOG_REGISTER(dp_runtime_logtype, sluice.dp.runtime, INFO);
#define RT_LOG(level, ...) rte_log(RTE_LOG_##level, dp_runtime_logtype, "runtime: " __VA_ARGS__)

static int
open_ports(struct dp_runtime *rt)
{
	const struct conf *cfg = rt->cfg;

	for (unsigned int i = 0; i < cfg->n_ports; i++) {
		const struct conf_port *cp = &cfg->ports[i];
		struct dp_net_if *nif = &rt->nif[i];
		int rc = drv_port_open(&rt->ports[i], cp, (uint16_t)cfg->n_lcores, i);

		if (rc == -ENOTCONN) /* a memif client before its server: the control restarts it */
			rt->port_paused[i] = DRV_PORT_PAUSE_RESTART;
		else if (rc != 0)
			return rc;
		rt->n_ports = i + 1;
		nif->mac = rt->ports[i].mac;
		nif->ip = cp->ipv4;
		nif->prefix_len = cp->prefix_len;
		nif->udp_port = cp->udp_port;
		nif->gateway = cp->gateway;
		nif->mtu = cp->mtu;
	}
	return 0;
}

static struct rte_ring *
ring(const char *what, unsigned int i, unsigned int esize, unsigned int count, unsigned int flags)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "sl_%s%u", what, i);
	return esize ? rte_ring_create_elem(name, esize, count, (int)rte_socket_id(), flags)
		     : rte_ring_create(name, count, (int)rte_socket_id(), flags);
}

static int
make_dq(struct dp_runtime *rt, struct dp_lcore *lc)
{
	char name[RTE_RING_NAMESIZE];
	struct rte_rcu_qsbr_dq_parameters p = {
		.name = name,
		.size = 4096,
		.esize = sizeof(struct dp_keypair *),
		.trigger_reclaim_limit = 256,
		.max_reclaim_size = 64,
		.v = rt->rcu,
	};

	snprintf(name, sizeof(name), "sl_dq%u", lc->index);
	p.free_fn = dp_lcore_free_keypairs;
	lc->dq = rte_rcu_qsbr_dq_create(&p);
	return lc->dq == NULL ? -ENOMEM : 0;
}

static int
make_lcore(struct dp_runtime *rt, unsigned int i)
{
	const struct conf_lcore *cl = &rt->cfg->lcores[i];
	struct dp_lcore *lc = rte_zmalloc("sluice_lcore", sizeof(*lc), RTE_CACHE_LINE_SIZE);

	if (lc == NULL)
		return -ENOMEM;
	rt->lcores[i] = lc;
	lc->rt = rt;
	lc->index = i;
	lc->lcore_id = cl->lcore;
	lc->idle = cl->idle;
	sl_theap_init(&lc->timers);
	lc->slots = rte_zmalloc("sluice_slots", rt->cfg->limits.max_sessions * sizeof(*lc->slots),
				RTE_CACHE_LINE_SIZE);
	lc->cmd_ring =
		ring("cmd", i, sizeof(struct dp_cmd), DP_RING_SIZE, RING_F_SP_ENQ | RING_F_SC_DEQ);
	lc->evt_ring =
		ring("evt", i, sizeof(struct dp_evt), DP_RING_SIZE, RING_F_SP_ENQ | RING_F_SC_DEQ);
	lc->handoff = ring("hand", i, 0, DP_HANDOFF_SIZE, RING_F_SC_DEQ);
	if (lc->slots == NULL || !lc->cmd_ring || !lc->evt_ring || !lc->handoff ||
	    dp_relay_lcore_init(lc) != 0)
		return -ENOMEM;
	/* lcore i sends on queue i of every port */
	for (unsigned int p = 0; p < rt->n_ports; p++) {
		lc->txq[p].port_id = rt->ports[p].port_id;
		lc->txq[p].queue_id = (uint16_t)i;
		dp_outage_init(&lc->outage[p], &rt->cfg->ports[p].impair, rt->ports_started_ns);
	}
	lc->n_rxq = cl->n_rx;
	for (unsigned int k = 0; k < cl->n_rx; k++) {
		const struct conf_port *cp = &rt->cfg->ports[cl->rx[k].port];

		lc->rxq[k].port = cl->rx[k].port;
		lc->rxq[k].queue = cl->rx[k].queue;
		if (cp->impair.enabled) {
			lc->rxq[k].impair = dp_impair_create(
				&cp->impair, rt->ports[cl->rx[k].port].pool, rt->ports_started_ns);
			if (lc->rxq[k].impair == NULL)
				return -ENOMEM;
		}
	}
	return make_dq(rt, lc);
}

/* The application interface before anything attaches: the built-in services own their
 * channels, the control thread channel 0 (marked as a service's: applications can neither
 * register nor send on it; the lcores hand its messages to the control thread, dp_session.c),
 * nobody the others. */
static void
api_init(struct dp_runtime *rt, const struct conf *cfg)
{
	rt->api.max_apps = cfg->api.enabled ? cfg->api.max_apps : 0;
	rt->api.max_message = cfg->engine.max_message;
	for (unsigned int c = 0; c < SL_MAX_CHANNELS; c++)
		atomic_init(&rt->api.owner[c], DP_API_OWNER_NONE);
	atomic_init(&rt->api.owner[SL_CONTROL_CHANNEL], DP_API_OWNER_SERVICE);
	for (unsigned int i = 0; i < cfg->services.n; i++)
		atomic_init(&rt->api.owner[cfg->services.svc[i].channel], DP_API_OWNER_SERVICE);
}

/* Keep the lcores off a memif port whose peer leaves, before the driver unmaps its rings. */
static void
arm_memif_guard(struct dp_runtime *rt)
{
	struct drv_memif_guard g = {
		.rcu = rt->rcu,
		.paused = rt->port_paused,
		.n_ports = rt->n_ports,
	};
	bool any = false;

	for (unsigned int p = 0; p < rt->n_ports; p++) {
		g.port_id[p] = rt->ports[p].port_id;
		g.guarded[p] = drv_port_is_memif(&rt->cfg->ports[p]);
		g.name[p] = rt->cfg->ports[p].name;
		any |= g.guarded[p];
	}
	rt->memif_guarded = any && drv_memif_guard_arm(&g) == 0;
}

int
dp_runtime_init(struct dp_runtime *rt, const struct conf *cfg)
{
	size_t sz;
	int rc;

	memset(rt, 0, sizeof(*rt));
	rt->cfg = cfg;
	dp_key_limits_init(&rt->key_limits);
	rt->key_limits.rekey_after_ns = cfg->limits.rekey_after_ns;
	api_init(rt, cfg);
	rc = open_ports(rt);
	if (rc != 0)
		return rc;
	rt->ports_started_ns = sl_now_ns();
	sz = rte_rcu_qsbr_get_memsize(cfg->n_lcores);
	rt->rcu = rte_zmalloc("sluice_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (rt->rcu == NULL || rte_rcu_qsbr_init(rt->rcu, cfg->n_lcores) != 0)
		return -ENOMEM;
	for (unsigned int i = 0; i < cfg->n_lcores; i++) {
		rt->n_lcores = i + 1;
		rc = make_lcore(rt, i);
		if (rc != 0) {
			RT_LOG(ERR, "lcore %u: setup failed: %s\n", cfg->lcores[i].lcore,
				strerror(-rc));
			return rc;
		}
	}
	arm_memif_guard(rt);
	return 0;
}

/* Messages left in the rings when the loops stopped still own mbufs and keypairs. */
static void
drain_rings(struct dp_lcore *lc)
{
	struct dp_cmd c;
	struct dp_evt e;

	while (lc->cmd_ring != NULL && rte_ring_dequeue_elem(lc->cmd_ring, &c, sizeof(c)) == 0) {
		if (c.type == DP_CMD_TX)
			rte_pktmbuf_free(c.m);
		if (c.type == DP_CMD_SESSION_OPEN || c.type == DP_CMD_KEYPAIR_ADD)
			dp_keypair_destroy(c.kp);
		if (c.type == DP_CMD_CONTROL_SEND)
			free(c.msg);
	}
	while (lc->evt_ring != NULL && rte_ring_dequeue_elem(lc->evt_ring, &e, sizeof(e)) == 0) {
		if (e.type == DP_EVT_HANDSHAKE || e.type == DP_EVT_ARP)
			rte_pktmbuf_free(e.m);
		if (e.type == DP_EVT_CONTROL)
			free(e.msg);
	}
}

static void
free_lcore(struct dp_lcore *lc)
{
	struct rte_mbuf *m;

	drain_rings(lc);

	if (lc->dq != NULL)
		rte_rcu_qsbr_dq_delete(lc->dq); /* every lcore is offline: frees what waits */
	for (unsigned int k = 0; k < lc->n_rxq; k++)
		dp_impair_destroy(lc->rxq[k].impair);
	while (lc->handoff != NULL && rte_ring_dequeue(lc->handoff, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(lc->handoff);
	rte_ring_free(lc->cmd_ring);
	rte_ring_free(lc->evt_ring);
	sl_theap_fini(&lc->timers);
	dp_relay_lcore_fini(lc);
	rte_free(lc->slots);
	rte_free(lc);
}

void
dp_runtime_fini(struct dp_runtime *rt)
{
	for (unsigned int i = 0; i < rt->n_lcores; i++)
		if (rt->lcores[i] != NULL)
			free_lcore(rt->lcores[i]);
	rt->n_lcores = 0;
	if (rt->memif_guarded)
		drv_memif_guard_disarm();
	rt->memif_guarded = false;
	rte_free(rt->rcu);
	rt->rcu = NULL;
	rt->mbufs_in_use = 0;
	for (unsigned int i = 0; i < rt->n_ports; i++) {
		drv_port_close(&rt->ports[i]);
		rt->mbufs_in_use += rt->ports[i].in_use_at_close;
	}
	rt->n_ports = 0;
}

struct rte_ring *
dp_lcore_cmd_ring(const struct dp_runtime *rt, unsigned int i)
{
	return rt->lcores[i]->cmd_ring;
}

struct rte_ring *
dp_lcore_evt_ring(const struct dp_runtime *rt, unsigned int i)
{
	return rt->lcores[i]->evt_ring;
}

const struct dp_drop_counters *
dp_lcore_drops(const struct dp_runtime *rt, unsigned int i)
{
	return &rt->lcores[i]->drops;
}
