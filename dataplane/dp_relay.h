/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the relay's forwarding table — circuits between two nodes, forwarded in the
 * dataplane without reading what they carry (docs/protocol.md, section 17).
 *
 * A circuit has two ends, one per node. Each end has an id (struct sl_relay_hdr.circuit),
 * laid out like a connection id: sl_connid(owner lcore, slot, generation), never 0. The lcore
 * that owns an end keeps, in the end's slot of its table, where packets sent on that end go:
 * a packet SL_MSG_RELAY_TO with the end's id, from the address the end was set up for, leaves
 * as SL_MSG_RELAY_FROM with the other end's id, to the other node — Ethernet, IPv4 and UDP
 * headers and the relay header rewritten in place, the message behind them untouched, same
 * length. Anything else is dropped and counted (dp_drop.h, relay_*).
 *
 * An end may have a byte limit: the first packet that would pass it is dropped, the end stops
 * forwarding and the control thread hears it (DP_EVT_RELAY_LIMIT) once.
 *
 * The control thread allocates the ends' slots and ids and sets ends up, changes and clears
 * them with DP_CMD_RELAY_SET / DP_CMD_RELAY_CLEAR (dp_cmd.h); the owner lcore alone writes its
 * table, counters included. dp_relay_read() lets another thread read an end's counters (each
 * counter is one aligned 64-bit store: possibly a few packets old, never torn).
 */
#ifndef DP_RELAY_H
#define DP_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

struct dp_lcore;
struct dp_runtime;
struct dp_cmd;
struct dp_net_pkt;
struct rte_mbuf;

/* One end of a circuit, in its owner lcore's table. */
struct dp_relay_end {
	uint32_t id;	 /* this end's id; 0: the slot is free */
	uint32_t out_id; /* the other end's id: the RELAY_FROM header's */
	uint32_t src_ip; /* where this end's node sends from (host order) */
	uint16_t src_port;
	uint8_t out_port; /* the port, next hop and address of the other end's node */
	bool exhausted;	  /* the byte limit was reached: nothing more is forwarded */
	struct rte_ether_addr out_mac;
	uint32_t out_ip;
	uint16_t out_udp_port;
	uint64_t limit_bytes; /* 0: no limit */
	uint64_t pkts, bytes; /* forwarded from this end (UDP payload bytes) */
};

/* Tables of cfg->relay.max_circuits * 2 slots on every lcore (none if relaying is off).
 * 0 or -ENOMEM. Main thread, at setup. */
int dp_relay_lcore_init(struct dp_lcore *lc);
void dp_relay_lcore_fini(struct dp_lcore *lc);

/* Owner lcore: DP_CMD_RELAY_SET (set up, or change where an end forwards: the counters stay
 * when the id is the same) and DP_CMD_RELAY_CLEAR (only if the slot still holds that id). */
void dp_relay_set(struct dp_lcore *lc, const struct dp_cmd *cmd);
void dp_relay_clear(struct dp_lcore *lc, const struct dp_cmd *cmd);

/* Owner lcore: a RELAY_TO packet classified by dp_net_classify() (pkt->circuit is one of its
 * ends; the source address is what is checked, not the port it came on). Forwarded, or dropped
 * and counted; m is consumed either way. */
void dp_relay_forward(struct dp_lcore *lc, struct rte_mbuf *m, const struct dp_net_pkt *pkt);

/* Any thread: the counters of end id (packets and bytes forwarded from it); false if that end
 * is not set up. */
bool dp_relay_read(const struct dp_runtime *rt, uint32_t id, uint64_t *pkts, uint64_t *bytes);

#endif /* DP_RELAY_H */
