/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the ports as the control thread watches them.
 *
 *   - a memif client port whose server went away (or is not there yet) is restarted — DPDK's
 *     memif client connects only when its port starts — every second until it connects, the
 *     lcores kept off it meanwhile (DRV_PORT_PAUSE_RESTART and an RCU grace period); but a
 *     restart that connected is left alone until the server answered, for up to 10 s
 *     (cp_port.c, restart_wait: closing an unanswered connection trips a bug of DPDK's memif
 *     server);
 *   - a memif port the guard paused when its peer left (DRV_PORT_PAUSE_GONE,
 *     drivers/drv_memif_guard.h) is given back to the lcores once its link is up (checked
 *     every round while a port waits, every half second otherwise);
 *   - when a port's link comes up, its address is announced twice, a second apart
 *     (gratuitous ARP, RFC 5227): neighbours that knew it under another MAC take the new one;
 *   - the outages of a port's impairment schedule (ports[].impair.outages) are logged when they
 *     begin and end.
 *
 * Who calls what: cp_port_init() on the main thread before the control thread starts;
 * cp_port_round() on the control thread only (every round of its loop). The counters are read
 * by telemetry under cp_main's lock, which the control thread holds around its rounds.
 */
#ifndef CP_PORT_H
#define CP_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "dp_impair.h"
#include "dp_lcore.h"

/* Send a gratuitous ARP request for the port's own address; whether it went to the lcores. */
typedef bool (*cp_port_announce_fn)(void *arg, uint8_t port);

struct cp_port {
	struct dp_runtime *dp;
	const struct conf *cfg;
	cp_port_announce_fn announce;
	void *arg;
	uint64_t restarts;	/* memif client port restarts tried */
	uint64_t announcements; /* gratuitous ARPs sent */
	uint64_t next_check, next_link_check;
	/* memif client ports: down since (0: up or just restarted), and restarted with a
	 * connection the server has not answered yet */
	uint64_t down_since[CONF_MAX_PORTS];
	bool unanswered[CONF_MAX_PORTS];
	/* announcements: the link as last seen, how many left, when the next */
	bool link_was_up[CONF_MAX_PORTS];
	uint8_t announce_left[CONF_MAX_PORTS];
	uint64_t announce_at[CONF_MAX_PORTS];
	/* the outage schedules, followed for the log lines; the outage logged as on, or -1 */
	struct dp_outage outage[CONF_MAX_PORTS];
	int outage_on[CONF_MAX_PORTS];
};

void cp_port_init(struct cp_port *w, struct dp_runtime *dp, const struct conf *cfg,
		  cp_port_announce_fn announce_fn, void *arg);
/* One round of the control loop at time now (ns, sl_now_ns). */
void cp_port_round(struct cp_port *w, uint64_t now);

#endif /* CP_PORT_H */
