/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: keeps the lcores off a memif port before DPDK's memif driver unmaps the rings of a
 * peer that went away.
 *
 * The bug it works around (drivers/net/memif of DPDK 22.11, unchanged in DPDK's main branch of
 * July 2026): when the peer of a memif port disconnects — it exited, or was killed — the EAL
 * interrupt thread runs memif_intr_handler() -> memif_disconnect() (memif_socket.c), which
 * clears the port's CONNECTED flag and then, without waiting for anyone, calls
 * memif_free_regions() (rte_eth_memif.c): munmap() of every shared region, rte_free() of its
 * descriptor, regions[i] = NULL. eth_memif_tx() / eth_memif_rx() test the flag once, at entry,
 * and then use the rings and buffers of those regions for the whole burst; a burst that began
 * before the flag was cleared and still runs when the regions go crashes (SIGSEGV in
 * eth_memif_tx() storing ring->head into the unmapped ring: 8 runs in 102 here, a sender at full
 * speed whose memif server is killed). The driver raises no link-state event, so nothing
 * outside it learns of the disconnect in time (docs/operations.md, Known limitations).
 *
 * What it does: the executable defines munmap() (exported, so the driver's call binds to it;
 * see meson.build). Armed, it looks at each guarded port when munmap() is called on the EAL
 * interrupt thread: a port whose link is down (memif_disconnect() marked it down before
 * unmapping) gets DRV_PORT_PAUSE_GONE in its pause flags, and the call waits for an RCU grace
 * period of the lcores — every lcore has left any burst it was in and will see the flag —
 * before the real munmap() runs. The lcores leave a port alone while any pause flag is set;
 * the control thread clears DRV_PORT_PAUSE_GONE once the port's link is up again. Any other
 * munmap() (another thread, or the guard disarmed) goes straight through; on the interrupt
 * thread it costs a link-status read per guarded port.
 *
 * Who calls what: drv_memif_guard_arm() / drv_memif_guard_disarm(): main thread, before the
 * lcores start and after they stopped (disarm waits for a munmap() in progress). munmap():
 * any thread. drv_memif_guard_pauses(): any thread.
 */
#ifndef DRV_MEMIF_GUARD_H
#define DRV_MEMIF_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"

struct rte_rcu_qsbr;

/* Pause flags of a port (one byte per port, shared with the lcores, which treat any non-zero
 * value as "neither poll nor send"). Set and cleared with atomic or/and: two threads write. */
#define DRV_PORT_PAUSE_RESTART 0x1 /* the control thread restarts the port */
#define DRV_PORT_PAUSE_GONE    0x2 /* the guard: the memif peer left, its rings are unmapped */

struct drv_memif_guard {
	struct rte_rcu_qsbr *rcu; /* the lcores that poll and send on the ports */
	volatile uint8_t *paused; /* n_ports pause flags, DRV_PORT_PAUSE_* */
	unsigned int n_ports;
	uint16_t port_id[CONF_MAX_PORTS];
	bool guarded[CONF_MAX_PORTS];	  /* memif ports */
	const char *name[CONF_MAX_PORTS]; /* for the log */
};

/* Arm the guard with a copy of g. -ENOTSUP (logged) when munmap() does not bind to the
 * guard's (the executable does not export it): then it cannot help. */
int drv_memif_guard_arm(const struct drv_memif_guard *g);
void drv_memif_guard_disarm(void);
/* Ports paused by the guard since the start. */
uint64_t drv_memif_guard_pauses(void);

#endif /* DRV_MEMIF_GUARD_H */
