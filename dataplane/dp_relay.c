/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the relay's forwarding table (see dp_relay.h). Owner lcore only, but for
 * dp_relay_read() and setup.
 */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_udp.h>

#include "dp_lcore_pvt.h"
#include "dp_relay.h"
#include "sl_wire.h"

static uint32_t
n_slots(const struct dp_runtime *rt)
{
	return rt->cfg->relay.enabled ? rt->cfg->relay.max_circuits * 2 : 0;
}

int
dp_relay_lcore_init(struct dp_lcore *lc)
{
	uint32_t n = n_slots(lc->rt);

	if (n == 0)
		return 0;
	lc->relay = rte_zmalloc("sluice_relay", n * sizeof(*lc->relay), RTE_CACHE_LINE_SIZE);
	return lc->relay == NULL ? -ENOMEM : 0;
}

void
dp_relay_lcore_fini(struct dp_lcore *lc)
{
	rte_free(lc->relay);
	lc->relay = NULL;
}

/* The end with this id on this lcore, or NULL. */
static struct dp_relay_end *
end_of(const struct dp_lcore *lc, uint32_t id)
{
	uint32_t slot = sl_connid_slot(id);
	struct dp_relay_end *e;

	if (lc->relay == NULL || slot >= n_slots(lc->rt))
		return NULL;
	e = &lc->relay[slot];
	return e->id == id ? e : NULL;
}

void
dp_relay_set(struct dp_lcore *lc, const struct dp_cmd *cmd)
{
	struct dp_relay_end *e;

	DP_ASSERT_LCORE(lc);
	if (lc->relay == NULL || cmd->slot >= n_slots(lc->rt) || cmd->connid == 0 ||
	    cmd->port >= lc->rt->n_ports)
		return;
	e = &lc->relay[cmd->slot];
	if (e->id != cmd->connid) { /* a new end: counters from zero */
		memset(e, 0, sizeof(*e));
		e->id = cmd->connid;
	}
	e->out_id = cmd->out_id;
	e->src_ip = cmd->src_ip;
	e->src_port = cmd->src_port;
	e->out_port = cmd->port;
	memcpy(&e->out_mac, cmd->mac, sizeof(e->out_mac));
	e->out_ip = cmd->ip;
	e->out_udp_port = cmd->udp_port;
	e->limit_bytes = cmd->limit_bytes;
}

void
dp_relay_clear(struct dp_lcore *lc, const struct dp_cmd *cmd)
{
	struct dp_relay_end *e;

	DP_ASSERT_LCORE(lc);
	e = end_of(lc, cmd->connid);
	if (e != NULL)
		memset(e, 0, sizeof(*e));
}

/* The end may forward len more bytes; if not, it stops for good and the control thread is
 * told (once: the event is waited for, like every session event). */
static bool
end_within_limit(struct dp_lcore *lc, struct dp_relay_end *e, uint32_t len)
{
	struct dp_evt ev = { .type = DP_EVT_RELAY_LIMIT };

	if (unlikely(e->exhausted))
		return false;
	if (e->limit_bytes == 0 || e->bytes + len <= e->limit_bytes)
		return true;
	e->exhausted = true;
	ev.slot = sl_connid_slot(e->id);
	ev.connid = e->id;
	dp_lcore_event(lc, &ev);
	return false;
}

/* Rewrite the packet in place for the other end: addressed from our port to its node, the
 * relay header turned around. Same length, so nothing moves. */
static void
rewrite(struct dp_lcore *lc, struct rte_mbuf *m, const struct dp_net_pkt *pkt,
	const struct dp_relay_end *e)
{
	const struct dp_net_if *nif = &lc->rt->nif[e->out_port];
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	struct sl_relay_hdr *rh =
		rte_pktmbuf_mtod_offset(m, struct sl_relay_hdr *, pkt->payload_off);

	rte_ether_addr_copy(&e->out_mac, &eth->dst_addr);
	rte_ether_addr_copy(&nif->mac, &eth->src_addr);
	ip->src_addr = rte_cpu_to_be_32(nif->ip);
	ip->dst_addr = rte_cpu_to_be_32(e->out_ip);
	ip->packet_id = rte_cpu_to_be_16(lc->ip_id++);
	ip->time_to_live = DP_NET_TTL;
	ip->type_of_service = 0;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(nif->udp_port);
	udp->dst_port = rte_cpu_to_be_16(e->out_udp_port);
	udp->dgram_cksum = 0; /* RFC 768: none; what it carries is authenticated end to end */
	rh->type = SL_MSG_RELAY_FROM;
	rh->circuit = rte_cpu_to_be_32(e->out_id);
}

void
dp_relay_forward(struct dp_lcore *lc, struct rte_mbuf *m, const struct dp_net_pkt *pkt)
{
	struct dp_relay_end *e = end_of(lc, pkt->circuit);
	enum dp_drop_reason why;
	uint32_t ip_len;

	DP_ASSERT_LCORE(lc);
	if (e == NULL) {
		why = DP_DROP_RELAY_UNKNOWN_CIRCUIT;
		goto drop;
	}
	if (pkt->src_ip != e->src_ip || pkt->src_port != e->src_port) {
		why = DP_DROP_RELAY_BAD_SOURCE;
		goto drop;
	}
	if (!end_within_limit(lc, e, pkt->payload_len)) {
		why = DP_DROP_RELAY_LIMIT;
		goto drop;
	}
	ip_len = (uint32_t)pkt->payload_len + sizeof(struct rte_ipv4_hdr) +
		 sizeof(struct rte_udp_hdr);
	if (ip_len > lc->rt->nif[e->out_port].mtu) {
		why = DP_DROP_RELAY_TOO_BIG;
		goto drop;
	}
	rewrite(lc, m, pkt, e);
	e->pkts++;
	e->bytes += pkt->payload_len;
	lc->relay_pkts++;
	lc->relay_bytes += pkt->payload_len;
	dp_lcore_tx(lc, e->out_port, m);
	return;
drop:
	dp_drop_count(&lc->drops, why, 1);
	rte_pktmbuf_free(m);
}

bool
dp_relay_read(const struct dp_runtime *rt, uint32_t id, uint64_t *pkts, uint64_t *bytes)
{
	uint32_t owner = sl_connid_owner(id);
	const struct dp_relay_end *e;

	if (owner >= rt->n_lcores)
		return false;
	e = end_of(rt->lcores[owner], id);
	if (e == NULL)
		return false;
	*pkts = __atomic_load_n(&e->pkts, __ATOMIC_RELAXED);
	*bytes = __atomic_load_n(&e->bytes, __ATOMIC_RELAXED);
	return true;
}
