/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: port setup (see drv_port.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "drv_port.h"

RTE_LOG_REGISTER(drv_port_logtype, sluice.drv.port, INFO);
#define PORT_LOG(level, ...) rte_log(RTE_LOG_##level, drv_port_logtype, "port: " __VA_ARGS__)

#define POOL_CACHE 256
#define TX_REAP_MS 100 /* how long drv_port_close() waits for af_xdp's last transmissions */

void
drv_device_name(const char *device, char *name, size_t len)
{
	size_t n = strcspn(device, ",");

	if (n >= len)
		n = len - 1;
	memcpy(name, device, n);
	name[n] = '\0';
}

bool
drv_port_is_memif(const struct conf_port *cfg)
{
	return strncmp(cfg->device, "net_memif", 9) == 0;
}

bool
drv_port_keeps_fill_ring(const struct conf_port *cfg)
{
	return strncmp(cfg->device, "net_af_xdp", 10) == 0;
}

bool
drv_port_reconnects(const struct conf_port *cfg)
{
	return drv_port_is_memif(cfg) && strstr(cfg->device, "role=client") != NULL;
}

static bool
is_vdev(const char *device)
{
	return strncmp(device, "net_", 4) == 0 || strncmp(device, "eth_", 4) == 0;
}

struct argbuf {
	char **argv;
	int argc, max;
	char *buf;
	size_t len, used;
	int err;
};

/* Append prefix + value (a copy in the buffer) as one argument. */
static void
push(struct argbuf *a, const char *prefix, const char *value)
{
	size_t lp = strlen(prefix), lv = strlen(value);

	if (a->err != 0 || a->argc >= a->max - 1 || a->used + lp + lv + 1 > a->len) {
		a->err = -ENOSPC;
		return;
	}
	memcpy(a->buf + a->used, prefix, lp);
	memcpy(a->buf + a->used + lp, value, lv + 1);
	a->argv[a->argc++] = a->buf + a->used;
	a->used += lp + lv + 1;
}

int
drv_eal_args(const struct conf *cfg, const char *prog, char **argv, int max, char *buf,
	     size_t buf_len)
{
	struct argbuf a = { .argv = argv, .max = max, .buf = buf, .len = buf_len };
	char mem[16];

	snprintf(mem, sizeof(mem), "%u", cfg->eal.memory_mb);
	push(&a, "", prog);
	push(&a, "-l", cfg->eal.cores);
	push(&a, "-m", mem);
	push(&a, "--file-prefix=", cfg->eal.file_prefix);
	if (!cfg->eal.huge)
		push(&a, "--no-huge", "");
	if (!cfg->eal.pci)
		push(&a, "--no-pci", "");
	if (!cfg->telemetry)
		push(&a, "--no-telemetry", "");
	for (unsigned int i = 0; i < cfg->n_ports; i++)
		push(&a, is_vdev(cfg->ports[i].device) ? "--vdev=" : "-a", cfg->ports[i].device);
	for (unsigned int i = 0; i < cfg->eal.n_extra; i++)
		push(&a, "", cfg->eal.extra[i]);
	if (a.err != 0)
		return a.err;
	argv[a.argc] = NULL;
	return a.argc;
}

static int
make_pool(struct drv_port *p, unsigned int index)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	uint16_t room = RTE_MAX((uint16_t)RTE_MBUF_DEFAULT_DATAROOM,
				(uint16_t)(p->cfg->mtu + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN));

	snprintf(name, sizeof(name), "sluice_pool%u", index);
	p->pool = rte_pktmbuf_pool_create(name, p->cfg->mbufs, POOL_CACHE, 0,
					  room + RTE_PKTMBUF_HEADROOM, (int)rte_socket_id());
	if (p->pool == NULL) {
		PORT_LOG(ERR, "%s: cannot create a pool of %u mbufs: %s\n", p->cfg->name,
			 p->cfg->mbufs, rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

static int
configure(struct drv_port *p)
{
	struct rte_eth_conf conf = { .rxmode = { .mtu = p->cfg->mtu } };
	struct rte_eth_dev_info info;
	int rc = rte_eth_dev_info_get(p->port_id, &info);

	if (rc != 0)
		return rc;
	if (p->n_rxq > info.max_rx_queues || p->n_txq > info.max_tx_queues) {
		PORT_LOG(ERR, "%s: %u rx / %u tx queues asked, the device has %u / %u\n",
			 p->cfg->name, p->n_rxq, p->n_txq, info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}
	rc = rte_eth_dev_configure(p->port_id, p->n_rxq, p->n_txq, &conf);
	for (uint16_t q = 0; rc == 0 && q < p->n_rxq; q++)
		rc = rte_eth_rx_queue_setup(p->port_id, q, p->cfg->rx_desc,
					    rte_eth_dev_socket_id(p->port_id), NULL, p->pool);
	for (uint16_t q = 0; rc == 0 && q < p->n_txq; q++)
		rc = rte_eth_tx_queue_setup(p->port_id, q, p->cfg->tx_desc,
					    rte_eth_dev_socket_id(p->port_id), NULL);
	return rc;
}

int
drv_port_open(struct drv_port *p, const struct conf_port *cfg, uint16_t n_txq, unsigned int index)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	int rc;

	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	p->n_rxq = cfg->rx_queues;
	p->n_txq = RTE_MAX(n_txq, cfg->tx_queues);
	drv_device_name(cfg->device, name, sizeof(name));
	if (rte_eth_dev_get_port_by_name(name, &p->port_id) != 0) {
		PORT_LOG(ERR, "%s: no device %s (is it probed? device \"%s\")\n", cfg->name, name,
			 cfg->device);
		return -ENODEV;
	}
	rc = make_pool(p, index);
	if (rc == 0)
		rc = configure(p);
	if (rc == 0 && drv_port_keeps_fill_ring(cfg)) {
		/* nothing else has taken from the pool yet: what is out sits in the fill rings */
		p->kept_by_driver = rte_mempool_in_use_count(p->pool);
		PORT_LOG(INFO, "%s: %s keeps %u mbufs in its fill rings until the process exits\n",
			 cfg->name, name, p->kept_by_driver);
	}
	if (rc == 0 && rte_eth_dev_start(p->port_id) != 0) {
		if (drv_port_reconnects(cfg)) { /* configured; started once its peer is there */
			rte_eth_macaddr_get(p->port_id, &p->mac);
			PORT_LOG(WARNING, "%s: %s has no peer yet; it starts when it has one\n",
				 cfg->name, name);
			return -ENOTCONN;
		}
		rc = -EIO;
	}
	if (rc != 0) {
		PORT_LOG(ERR, "%s: setup failed: %s\n", cfg->name, rte_strerror(-rc));
		drv_port_close(p);
		return rc;
	}
	p->started = true;
	rte_eth_macaddr_get(p->port_id, &p->mac);
	PORT_LOG(INFO, "%s: %s port %u up, mac " RTE_ETHER_ADDR_PRT_FMT ", %u rx / %u tx queues\n",
		 cfg->name, name, p->port_id, RTE_ETHER_ADDR_BYTES(&p->mac), p->n_rxq, p->n_txq);
	return 0;
}

int
drv_port_restart(struct drv_port *p)
{
	if (p->started) {
		rte_eth_dev_stop(p->port_id);
		p->started = false;
	}
	if (rte_eth_dev_start(p->port_id) != 0)
		return -ENOTCONN;
	p->started = true;
	return 0;
}

/* net_af_xdp: an empty transmit call frees the mbufs whose transmission the kernel completed;
 * call it until only the fill rings' mbufs are out, or TX_REAP_MS passed (then the rest is
 * counted as a leak). The port must be started and nothing else may use its queues. */
static void
reap_tx(struct drv_port *p)
{
	uint64_t end = rte_get_timer_cycles() + rte_get_timer_hz() * TX_REAP_MS / 1000;

	while (rte_mempool_in_use_count(p->pool) > p->kept_by_driver) {
		for (uint16_t q = 0; q < p->n_txq; q++)
			rte_eth_tx_burst(p->port_id, q, NULL, 0);
		if (rte_get_timer_cycles() > end)
			break;
		rte_delay_us_sleep(100);
	}
}

/* What is still out of the pool once the device closed, less what the driver keeps for good:
 * a leak. Every other kind gives its descriptors' mbufs back when it stops or closes. */
static unsigned int
leaked(const struct drv_port *p)
{
	unsigned int out = p->pool != NULL ? rte_mempool_in_use_count(p->pool) : 0;

	if (out < p->kept_by_driver) { /* a driver that returns its fill rings after all */
		PORT_LOG(WARNING, "%s: %u mbufs out at close, fewer than the %u its driver kept\n",
			 p->cfg->name, out, p->kept_by_driver);
		return out;
	}
	return out - p->kept_by_driver;
}

void
drv_port_close(struct drv_port *p)
{
	if (p->cfg == NULL)
		return;
	if (p->started) {
		if (p->kept_by_driver != 0)
			reap_tx(p);
		rte_eth_dev_stop(p->port_id);
		p->started = false;
	}
	rte_eth_dev_close(p->port_id);
	p->in_use_at_close = leaked(p);
	if (p->in_use_at_close != 0)
		PORT_LOG(WARNING, "%s: %u mbufs not returned to the pool\n", p->cfg->name,
			 p->in_use_at_close);
	rte_mempool_free(p->pool);
	p->pool = NULL;
	p->cfg = NULL;
}
