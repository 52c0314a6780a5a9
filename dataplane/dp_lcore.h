/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the dataplane lcores — pinned polling loops that own sessions.
 *
 * Each dataplane lcore polls its receive queues, answers pings, hands handshake and ARP
 * packets to the control thread, decrypts data packets of the sessions it owns (and hands the
 * others to their owner's ring), runs the reliable engine and the built-in services of its
 * sessions, encrypts what they send straight into transmit mbufs and sends them in batches.
 * It takes commands from the control thread on its own ring and answers on another; it never
 * takes a lock. When idle it backs off (pause, then short sleeps) unless configured to busy
 * poll.
 *
 * Who calls what: dp_runtime_* on the main thread (startup, shutdown); dp_lcore_main() runs on its
 * lcore; everything else in dp_lcore.c and dp_session.c runs on the owner lcore only.
 */
#ifndef DP_LCORE_H
#define DP_LCORE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "conf.h"
#include "dp_api.h"
#include "dp_drop.h"
#include "dp_keypair.h"
#include "dp_net.h"
#include "sl_theap.h"
#include "drv_port.h"

struct rte_ring;
struct rte_rcu_qsbr;
struct rte_rcu_qsbr_dq;
struct rte_mbuf;
struct dp_impair;
struct dp_session;
struct dp_lcore;
struct dp_stats;

#define DP_BURST	32
#define DP_RING_SIZE	4096 /* commands / events per lcore ring */
#define DP_HANDOFF_SIZE 4096

/* What every lcore and the control thread share; read-only once the loops run, but quit. */
struct dp_runtime {
	const struct conf *cfg;
	unsigned int n_ports;
	struct drv_port ports[CONF_MAX_PORTS];
	struct dp_net_if nif[CONF_MAX_PORTS];
	unsigned int n_lcores;
	struct dp_lcore *lcores[CONF_MAX_LCORES];
	struct rte_rcu_qsbr
		*rcu; /* keypairs are freed after every lcore passed a quiescent point */
	struct dp_key_limits key_limits;
	volatile int quit;
	/* while non-zero the lcores neither poll nor send on the port: DRV_PORT_PAUSE_RESTART
	 * while the control thread restarts it (cp_port.c), DRV_PORT_PAUSE_GONE from the memif
	 * guard (drv_memif_guard.h) until the peer is back; set, then an RCU grace period before
	 * the port is touched; changed with atomic or/and (two threads write) */
	volatile uint8_t port_paused[CONF_MAX_PORTS];
	bool memif_guarded; /* the memif guard is armed with these ports */
	unsigned int mbufs_in_use; /* after dp_runtime_fini(): mbufs never returned (0 unless a leak) */
	struct dp_api api;	   /* attached applications (controlplane/cp_api.c) */
	/* sl_now_ns() once the ports started: their outages count from here
	 * (ports[].impair.outages, dp_impair.h) */
	uint64_t ports_started_ns;
};

/* Create ports, lcore contexts, rings and the RCU state for cfg. 0 or -errno (logged). */
int dp_runtime_init(struct dp_runtime *rt, const struct conf *cfg);
/* Free everything (after the loops stopped): sessions, rings, ports. */
void dp_runtime_fini(struct dp_runtime *rt);

/* The loop of one lcore (rte_eal_remote_launch), until rt->quit. */
int dp_lcore_main(void *rt);

/* Rings of lcore i, for the control thread. */
struct rte_ring *dp_lcore_cmd_ring(const struct dp_runtime *rt, unsigned int i);
struct rte_ring *dp_lcore_evt_ring(const struct dp_runtime *rt, unsigned int i);

/* Fill st (st->cap set) with lcore i's statistics, as DP_CMD_STATS would. Main thread, once
 * every loop has returned (dp_lcore_main): nothing writes them any more, and the sessions
 * freed as the loop ended, whose DP_EVT_CLOSED never went, are counted. */
void dp_lcore_final_stats(struct dp_runtime *rt, unsigned int i, struct dp_stats *st);

/* Drop counters of lcore i (written by it; a reader sees each counter whole). */
const struct dp_drop_counters *dp_lcore_drops(const struct dp_runtime *rt, unsigned int i);

#endif /* DP_LCORE_H */
