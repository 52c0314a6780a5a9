/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: dataplane lcore internals, shared by dp_lcore.c (loop, receive, commands) and
 * dp_session.c (sessions). Owner lcore only.
 */
#ifndef DP_LCORE_PVT_H
#define DP_LCORE_PVT_H

#include <rte_debug.h>
#include <rte_ether.h>
#include <rte_lcore.h>

#include "dp_api.h"
#include "dp_conn.h"
#include "dp_lcore.h"
#include "dp_cmd.h"
#include "dp_impair.h"
#include "dp_relay.h"
#include "dp_svc.h"
#include "dp_txq.h"

struct dp_rxq {
	uint8_t port; /* index into rt->ports */
	uint16_t queue;
	struct dp_impair *impair; /* tests: loss, reordering, duplication, corruption */
	/* when a poll last left the queue empty: whatever it holds now arrived after that (a
	 * process stopped for a while finds old packets there; the control thread needs to know) */
	uint64_t drained_ns;
};

/* One peer session, owned by one lcore. */
struct dp_session {
	struct dp_conn *conn;
	struct dp_keyset ks;
	struct sl_theap_node timer;
	struct dp_session *next_busy; /* on the lcore's list of sessions with work to do */
	uint32_t slot;
	uint16_t peer; /* configured peer index or DP_PEER_NONE */
	uint8_t port;
	bool busy;
	bool rekey_asked;
	bool closing; /* closed: freed once its CLOSE frame left */
	bool closed_by_peer;
	bool moved_untold; /* its peer moved and the control thread has not been told yet */
	uint16_t close_reason;
	struct rte_ether_addr mac;
	uint32_t ip;
	uint16_t udp_port;
	uint32_t via; /* the relay circuit the peer is reached on (ip: the relay's); 0: direct */
	uint64_t opened_ns;
	uint64_t pkts_in, pkts_out, bytes_in, bytes_out;
	struct dp_svc svc;
	uint32_t connid;		  /* at open: the handle applications know it by */
	uint64_t api_told;		  /* applications told of it (NODE_UP), a bit each */
	struct dp_api_sess *api;	  /* NULL until an application needs it */
	uint8_t node[SL_API_NODE_LEN]; /* the peer's static public key */
};

struct dp_lcore {
	struct dp_runtime *rt;
	unsigned int index; /* owner bits of connection ids */
	unsigned int lcore_id;
	enum conf_idle idle;
	IMB_MGR *mgr;
	struct rte_ring *cmd_ring, *evt_ring, *handoff;
	struct rte_rcu_qsbr_dq *dq; /* keypairs waiting for the grace period */
	uint32_t dq_pending;	    /* how many, at most (reclaim only when some wait) */
	unsigned int n_rxq;
	struct dp_rxq rxq[CONF_MAX_RXQ];
	struct dp_txq txq[CONF_MAX_PORTS];
	struct dp_outage outage[CONF_MAX_PORTS]; /* each port's outages, for the transmit side */
	struct dp_session **slots; /* SL_CONNID_MAX_SLOTS entries, allocated at start */
	uint32_t n_sessions;
	struct sl_theap timers;
	struct dp_session *busy; /* sessions with work to do this round */
	struct dp_relay_end *relay; /* circuit ends (dp_relay.h); NULL: relaying is off */
	uint64_t relay_pkts, relay_bytes;
	uint16_t ip_id;
	uint64_t now;
	uint64_t rx_since; /* the packets being received arrived no earlier (dp_rxq.drained_ns) */
	uint64_t rx_pkts, tx_pkts, handoffs, empty_polls;
	uint64_t busy_cycles; /* TSC cycles of the rounds that found work */
	struct dp_svc_stats svc_closed[DP_SVC_MAX]; /* services of sessions already freed */
	/* what those sessions left undone, per channel (dp_conn_undelivered) */
	struct dp_undelivered undelivered[SL_MAX_CHANNELS];
	uint8_t scratch[SL_MAX_PAYLOAD];		   /* frames of the packet being built */
	struct dp_api_lane *api_lane[DP_API_MAX_APPS];	   /* attached applications */
	uint64_t api_lanes;				   /* a bit per lane open */
	struct dp_api_counters api_cnt[DP_API_MAX_APPS];  /* per application slot */
	struct dp_api_lcore_stats api_stats;
	struct dp_drop_counters drops;
} __rte_cache_aligned;

/* Ownership, checked in debug builds (RTE_ENABLE_ASSERT), like lockdep_assert_held(): the
 * calling thread is lc's lcore, and s is a session lc owns (in lc's slot table at s->slot). */
#define DP_ASSERT_LCORE(lc) RTE_ASSERT(rte_lcore_id() == (lc)->lcore_id)
#define DP_ASSERT_OWNER(lc, s)                                                           \
	RTE_ASSERT(rte_lcore_id() == (lc)->lcore_id && (s)->slot < SL_CONNID_MAX_SLOTS && \
		   (lc)->slots[(s)->slot] == (s))

/* dp_lcore.c */
/* Queue data packet m for transmission on port (dropped and counted if the port's queue stays
 * full). */
void dp_lcore_tx(struct dp_lcore *lc, uint8_t port, struct rte_mbuf *m);
/* Send control packet m (handshake, ARP) on port ahead of every data packet waiting there
 * (dropped and counted only if DP_TXQ_CTL control packets already wait). */
void dp_lcore_tx_ctl(struct dp_lcore *lc, uint8_t port, struct rte_mbuf *m);
/* Can the port's transmit queue take another packet (after trying to flush it)? */
bool dp_lcore_tx_room(struct dp_lcore *lc, uint8_t port);
/* Post an event to the control thread. Packets (HANDSHAKE, ARP) and control messages (CONTROL)
 * are dropped and counted when the ring is full (CONTROL already when it is three quarters
 * full); other events wait for room. */
void dp_lcore_event(struct dp_lcore *lc, const struct dp_evt *ev);
/* The event if the ring has room for it beside what session events may need; false if not
 * (nothing queued: the caller tries again later). */
bool dp_lcore_event_try(struct dp_lcore *lc, const struct dp_evt *ev);
void dp_lcore_retire_keypair(struct dp_keypair *kp, void *lcore);
/* The RCU defer queue's free function: keypairs whose grace period passed. */
void dp_lcore_free_keypairs(void *arg, void *entries, unsigned int n);

/* dp_session.c */
int dp_session_open(struct dp_lcore *lc, const struct dp_cmd *cmd);
void dp_session_add_keypair(struct dp_lcore *lc, const struct dp_cmd *cmd);
void dp_session_close(struct dp_lcore *lc, const struct dp_cmd *cmd);
/* DP_CMD_CONTROL_SEND: queue cmd->msg on channel 0 of the session in cmd->slot if it is still
 * cmd->connid (else counted: control_send_stale; refused by the engine: control_send_refused);
 * frees cmd->msg either way. */
void dp_session_control_send(struct dp_lcore *lc, const struct dp_cmd *cmd);
/* A data packet for a session of this lcore, its header decoded in pkt->data (dp_net_classify);
 * opened in place in m, then m is freed. */
void dp_session_rx(struct dp_lcore *lc, struct rte_mbuf *m, const struct dp_net_pkt *pkt,
		   uint8_t port);
/* Run sessions that have work, and those whose timers are due. Returns work done. */
unsigned int dp_session_run(struct dp_lcore *lc);
void dp_session_stats(struct dp_lcore *lc, struct dp_stats *st);
void dp_session_free_all(struct dp_lcore *lc);
/* When the next timer is due (0: sessions are waiting now; UINT64_MAX: none). */
uint64_t dp_session_next_timer(const struct dp_lcore *lc);

static inline void
dp_session_wake(struct dp_lcore *lc, struct dp_session *s)
{
	if (!s->busy) {
		s->busy = true;
		s->next_busy = lc->busy;
		lc->busy = s;
	}
}

#endif /* DP_LCORE_PVT_H */
