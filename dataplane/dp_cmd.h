/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the fixed-size messages between the control thread and the dataplane lcores.
 *
 * Each lcore has one single-producer/single-consumer ring of commands from the control thread
 * and one of events to it (rte_ring with fixed-size elements). Ownership of anything a pointer
 * in a message refers to (an mbuf, a keypair, a statistics buffer) moves with the message.
 *
 * Session slots are allocated by the control thread only; the lcore that owns a slot creates,
 * runs and frees the session in it, and tells the control thread when the slot is free again.
 *
 * The control channel (channel 0 of every session) runs between the control thread and the
 * session's owner lcore: DP_CMD_CONTROL_SEND queues a message on it, DP_EVT_CONTROL brings one
 * that arrived. Both carry the bytes in a malloc'd buffer (msg, len <= SL_CONTROL_MSG_MAX) that
 * whoever dequeues the ring message frees with free(), and the session's connection id at open
 * (connid), so that neither ever reaches another session that took the same slot. Delivery to
 * the control thread is best effort: the engine has acknowledged a message before the lcore
 * hands it on, so one the control thread has no room for is dropped and counted
 * (control_queue_full, dp_drop.h), never waited for.
 */
#ifndef DP_CMD_H
#define DP_CMD_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include "dp_svc.h"

struct rte_mbuf;
struct dp_keypair;

#define DP_PEER_NONE 0xffff /* a session with a node that is not a configured peer */

/* --- control thread -> lcore ------------------------------------------------------------ */
enum dp_cmd_type {
	DP_CMD_SESSION_OPEN = 1, /* create the session in slot with its first keypair */
	DP_CMD_KEYPAIR_ADD,	 /* a rekeyed keypair for the session in slot */
	DP_CMD_SESSION_CLOSE,	 /* close the session in slot (reason, graceful) and free it */
	DP_CMD_TX,		 /* transmit m on port (handshake answers, ARP) */
	DP_CMD_STATS,		 /* fill stats with the lcore's sessions and counters */
	DP_CMD_CONTROL_SEND,	 /* send msg on channel 0 of the session in slot, if it is connid */
	DP_CMD_RELAY_SET,	 /* set up (or change) the circuit end connid in slot (dp_relay.h) */
	DP_CMD_RELAY_CLEAR,	 /* clear the circuit end connid in slot */
};

struct dp_cmd {
	uint8_t type;
	uint8_t port;	 /* port index (TX, SESSION_OPEN) */
	uint16_t peer;	 /* configured peer index or DP_PEER_NONE (SESSION_OPEN) */
	uint32_t slot;	 /* session slot on this lcore */
	uint16_t reason; /* SL_CLOSE_* (SESSION_CLOSE) */
	bool graceful;	 /* SESSION_CLOSE */
	uint8_t mac[6];	 /* next hop of the peer (RELAY_SET: of the other end's node) */
	uint32_t ip;	 /* peer address, host order (RELAY_SET: the other end's node) */
	uint16_t udp_port;
	uint32_t via; /* SESSION_OPEN: the relay circuit the peer is reached on (0: direct) */
	uint64_t rtt_ns;	  /* the handshake's round trip, a hint for the engine */
	/* CONTROL_SEND: the session's connection id at open; RELAY_SET, RELAY_CLEAR: the end's id */
	uint32_t connid;
	uint32_t out_id;	  /* RELAY_SET: the other end's id */
	uint32_t src_ip;	  /* RELAY_SET: where the end's own node sends from */
	uint16_t src_port;
	uint64_t limit_bytes;	  /* RELAY_SET: 0, or the bytes the end may forward */
	uint16_t len;		  /* CONTROL_SEND: bytes at msg */
	uint8_t node[SL_KEY_LEN]; /* SESSION_OPEN: the peer's static public key */
	struct dp_keypair *kp;	  /* SESSION_OPEN, KEYPAIR_ADD */
	struct rte_mbuf *m;	  /* TX */
	struct dp_stats *stats;	  /* STATS */
	uint8_t *msg;		  /* CONTROL_SEND: malloc'd, freed by the lcore */
};

/* --- lcore -> control thread ------------------------------------------------------------ */
enum dp_evt_type {
	DP_EVT_HANDSHAKE = 1, /* a handshake message (m) from ip:udp_port via mac on port */
	DP_EVT_ARP,	      /* an ARP packet (m) on port */
	DP_EVT_REKEY,	      /* the session in slot needs a new handshake (its keys age) */
	DP_EVT_UNRESPONSIVE,  /* the peer of the session in slot stopped answering */
	DP_EVT_CLOSED,	      /* the session in slot is closed and the slot free; reason, by_peer */
	DP_EVT_STATS_DONE,    /* the stats buffer of a DP_CMD_STATS is filled */
	DP_EVT_CONTROL,	      /* a message (msg, len) on channel 0 of the session in slot */
	DP_EVT_MOVED, /* the peer of the session in slot (connid at open) moved: its authenticated
		       * packets now come from ip:udp_port via mac on port (and circuit via) */
	DP_EVT_RELAY_LIMIT, /* the circuit end connid in slot reached its byte limit */
};

struct dp_evt {
	uint8_t type;
	uint8_t port;
	uint16_t reason; /* SL_CLOSE_* */
	bool by_peer;
	uint32_t slot;
	uint8_t mac[6];
	uint32_t ip;
	uint16_t udp_port;
	uint16_t off, len; /* HANDSHAKE: the sluice message inside m; CONTROL: bytes at msg */
	uint32_t connid;   /* CONTROL, MOVED: the session's connection id at open; RELAY_LIMIT:
			    * the circuit end's id */
	uint32_t via;	   /* HANDSHAKE, MOVED: the relay circuit it came on (0: direct) */
	uint64_t since_ns; /* HANDSHAKE: it arrived no earlier than this (sl_now_ns() clock) */
	struct rte_mbuf *m;
	struct dp_stats *stats;
	uint8_t *msg; /* CONTROL: malloc'd, freed by whoever dequeues the event */
	/* CLOSED: messages (and their bytes) the session's engine never got acknowledged, all
	 * channels together (dp_conn_undelivered) */
	uint64_t undelivered, undelivered_bytes;
};

/* Statistics of one session, as the control thread reports them. */
struct dp_session_stats {
	uint32_t slot;
	uint16_t peer;
	uint32_t ip;
	uint16_t udp_port;
	uint32_t via; /* the relay circuit its packets go on (0: direct) */
	uint64_t opened_ns;
	uint64_t pkts_in, pkts_out, bytes_in, bytes_out;
	uint64_t msgs_in, msgs_out;
	uint64_t retransmits, pkts_lost;
	uint64_t rtt_ns, rtt_min_ns;
	uint64_t cwnd;
	uint32_t channels; /* a bit per channel the session has opened */
};

/* A snapshot the control thread asks an lcore for (DP_CMD_STATS): the buffer is the control
 * thread's, sized for the sessions it knows; the lcore fills what fits and says how many it
 * had. */
struct dp_stats {
	uint32_t cap, n, total;
	uint64_t drops[64]; /* per-lcore drop counters (dp_drop.h), indexed by reason */
	uint64_t rx_pkts, tx_pkts, rx_bursts_empty, handoffs;
	uint64_t relay_pkts, relay_bytes; /* forwarded for circuits (dp_relay.h) */
	uint64_t busy_cycles;	     /* TSC cycles of polling rounds that found work */
	struct dp_svc_stats svc[16]; /* per configured service, summed over this lcore */
	/* per channel: what the sessions that ended on this lcore left undone */
	struct dp_undelivered undelivered[SL_MAX_CHANNELS];
	struct dp_session_stats s[]; /* cap entries */
};

#endif /* DP_CMD_H */
