/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the control thread of the appliance — cp_ctl wired to the dataplane.
 *
 * It runs on a DPDK control thread (rte_ctrl_thread_create: not a polling lcore, so it may
 * sleep and take locks) and:
 *   - takes the lcores' events: handshake messages (to cp_ctl), ARP packets (answered and
 *     learned into a cp_arp cache per port), session events (to cp_ctl), control-channel
 *     messages (to cp_ctl, which hands them to cp_control), statistics buffers;
 *   - carries out cp_ctl's requests: commands on the lcores' rings, handshake packets built
 *     into mbufs and sent by lcore 0 ahead of its data (dp_txq.h), next hops resolved through
 *     ARP;
 *   - watches the ports every round (cp_port.h): restarts a memif client port whose server
 *     went away, gives a memif port the guard paused back to the lcores once its link is up,
 *     announces a port's address when its link comes up, logs impairment outages;
 *   - asks every lcore for a statistics snapshot every 500 ms, which telemetry and the final
 *     summary read (cp_telemetry.c);
 *   - stops the appliance cleanly: on request (a signal, --duration, or every source done with
 *     --exit-when-done) it closes every session gracefully, waits for them (at most 3 s), takes
 *     a last snapshot and then tells the lcores to quit.
 * Telemetry callbacks run on DPDK's telemetry thread; they and the control loop share the
 * state under one mutex.
 */
#ifndef CP_MAIN_H
#define CP_MAIN_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "cp_control.h"
#include "cp_ctl.h"
#include "cp_discovery.h"
#include "dp_lcore.h"
#include "dp_cmd.h"
#include "cp_port.h"

struct cp_arp;
struct cp_api;
struct cp_relay;
struct cp_notify;

struct cp_main_options {
	uint64_t duration_ns;	     /* stop by itself after this long (0: until a signal) */
	bool exit_when_done;	     /* stop once every configured source has finished */
	volatile sig_atomic_t *stop; /* set by the signal handler */
	struct cp_notify *notify;    /* systemd's notifications (cp_notify.h), or NULL */
};

/* Totals over every lcore (a snapshot). */
struct cp_totals {
	uint64_t drops[DP_DROP_COUNT];
	uint64_t rx_pkts, tx_pkts, handoffs;
	uint64_t relay_pkts, relay_bytes; /* forwarded for circuits */
	uint64_t busy_cycles; /* all lcores' */
	uint32_t sessions;
	struct dp_svc_stats svc[DP_SVC_MAX];
	/* per channel: what the sessions that ended left undone (dp_conn_undelivered) */
	struct dp_undelivered undelivered[SL_MAX_CHANNELS];
};

struct cp_main {
	struct dp_runtime *dp;
	const struct conf *cfg;
	struct cp_main_options opt;
	struct cp_ctl *ctl;
	struct cp_control control; /* the control messages (HELLO) on cp_ctl's control channel */
	struct cp_arp *arp[CONF_MAX_PORTS];
	struct cp_api *api; /* the control socket for applications (NULL: no api section) */
	struct cp_discovery *disc; /* NULL: no discovery section */
	struct cp_relay *relay;	   /* relaying, both roles (cp_relay.h) */
	struct sl_lru *repeats;	   /* log lines rate-limited by what they say (sl_repeat.h) */
	pthread_t thread;
	bool running;
	pthread_mutex_t lock; /* the control loop vs telemetry */
	uint64_t started_ns, now_ns;
	uint16_t ip_id;
	/* statistics snapshots: the lcore fills one buffer while the other is read */
	struct dp_stats *snap[CONF_MAX_LCORES][2];
	uint8_t snap_cur[CONF_MAX_LCORES]; /* the complete one */
	bool snap_pending[CONF_MAX_LCORES];
	bool snap_valid[CONF_MAX_LCORES];
	uint32_t snap_cap;
	uint64_t snaps_done;
	/* the control thread's own counters */
	uint64_t hs_msgs, arp_msgs, arp_replies, arp_requests, tx_no_mbuf, tx_build_failed;
	/* memif client restarts, paused ports given back, announcements, outage log lines */
	struct cp_port ports;
	bool done;	       /* the loop finished: sessions closed, lcores told to quit */
	bool sources_finished; /* at the end: every configured source had finished */
};

/* Set up the control (keys, cp_ctl, ARP caches, snapshot buffers). 0 or -errno (logged). */
int cp_main_init(struct cp_main *a, struct dp_runtime *dp, const struct conf *cfg,
		const uint8_t static_priv[SL_KEY_LEN], const struct cp_main_options *opt);
/* Start the control thread. */
int cp_main_start(struct cp_main *a);
/* Wait for the control thread to finish (after a stop request; it sets dp->quit). */
void cp_main_join(struct cp_main *a);
/* Main thread, once every lcore's loop has returned: a last snapshot of each, read directly,
 * so that the summary counts the sessions freed at the very end too. */
void cp_main_final_snapshot(struct cp_main *a);
void cp_main_fini(struct cp_main *a);

/* Sum the latest snapshots of every lcore (under the lock). */
void cp_main_totals(struct cp_main *a, struct cp_totals *t);
/* The final report: sessions, services, drops — one "key=value" line each. */
void cp_main_summary(struct cp_main *a, FILE *f);

/* The latest statistics of the session in (lcore, slot), or NULL (under the lock). */
const struct dp_session_stats *cp_main_session_stats(const struct cp_main *a, unsigned int lcore,
						     uint32_t slot);

/* A CP_NOTE_REFUSED (peers_only) as an InboundRefused warning, at most once per node and
 * reason a minute (cp_main_log.c). Control thread. */
void cp_main_log_refused(struct cp_main *a, const struct cp_note *n);

/* Telemetry endpoints /sluice/... for this appliance (cp_telemetry.c). */
int cp_telemetry_register(struct cp_main *a);
void cp_telemetry_unregister(void);

#endif /* CP_MAIN_H */
