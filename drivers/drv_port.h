/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: setting up the ports of the configuration — any DPDK ethdev: a PCI NIC, or a virtual
 * device given as a vdev string (net_memif, net_af_packet, net_tap, net_pcap, net_ring,
 * net_null...).
 *
 * drv_eal_args() turns the configuration into EAL arguments (devices included: a vdev string
 * becomes --vdev, a PCI address -a); after rte_eal_init() drv_port_open() finds each device's
 * port id by name, creates its mbuf pool, configures the queues and starts it.
 *
 * Main thread only (startup and shutdown).
 */
#ifndef DRV_PORT_H
#define DRV_PORT_H

#include <stdint.h>

#include <rte_ether.h>

#include "conf.h"

struct rte_mempool;

struct drv_port {
	const struct conf_port *cfg;
	uint16_t port_id;
	uint16_t n_rxq, n_txq;
	struct rte_mempool *pool;
	struct rte_ether_addr mac;
	bool started;
	/* mbufs the driver takes at queue setup and never gives back, not even when it closes: the
	 * fill rings of net_af_xdp (drv_port_keeps_fill_ring); 0 for every other kind */
	unsigned int kept_by_driver;
	/* mbufs not back in the pool when it closed, less kept_by_driver: leaks */
	unsigned int in_use_at_close;
};

/* EAL arguments for cfg into argv (at most max entries, strings owned by the caller's buffer
 * buf of buf_len bytes). Returns argc, or -ENOSPC. argv[0] is prog. */
int drv_eal_args(const struct conf *cfg, const char *prog, char **argv, int max, char *buf,
		 size_t buf_len);

/* The ethdev name of a device string: "net_memif0" for "net_memif0,role=server,...", the
 * address for a PCI device. */
void drv_device_name(const char *device, char *name, size_t len);

/* Is this a memif port (see drv_memif_guard.h)? */
bool drv_port_is_memif(const struct conf_port *cfg);

/* Is this an AF_XDP port (net_af_xdp)? Its driver (DPDK 22.11) fills each receive queue's
 * fill ring with mbufs of the port's pool when the queue is set up, keeps it full, and loses
 * those mbufs when it closes (it drops the umem without freeing them): they are counted in
 * kept_by_driver, not as leaks. Its zero-copy transmit holds each mbuf until the kernel
 * completes it and frees completed ones only in a later transmit call: drv_port_close() calls
 * it, empty, until they are back. */
bool drv_port_keeps_fill_ring(const struct conf_port *cfg);

/* Does this port connect to a peer only when it starts (a memif client), so that it must be
 * restarted to reconnect after its peer went away? */
bool drv_port_reconnects(const struct conf_port *cfg);

/* Open, configure and start one port with n_txq transmit queues (one per lcore). 0, or -errno
 * with the reason logged; -ENOTCONN for a port that reconnects (drv_port_reconnects) whose
 * peer is not there yet: it is configured and left stopped, for the caller to start later. */
int drv_port_open(struct drv_port *p, const struct conf_port *cfg, uint16_t n_txq,
		  unsigned int index);
void drv_port_close(struct drv_port *p);

/* Stop the port if it runs and start it again (a port that reconnects: see
 * drv_port_reconnects). 0 when it started. Nothing may poll the port meanwhile. */
int drv_port_restart(struct drv_port *p);

#endif /* DRV_PORT_H */
