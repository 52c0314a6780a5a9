/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the dataplane lcores — setup, the polling loop, receive classification, handoff,
 * commands and idle back-off (see dp_lcore.h; sessions are in dp_session.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dp_lcore_pvt.h"
#include "dp_impair.h"
#include "sl_clock.h"

RTE_LOG_REGISTER(dp_lcore_logtype, sluice.dp.lcore, INFO);
#define LC_LOG(level, ...) rte_log(RTE_LOG_##level, dp_lcore_logtype, "lcore: " __VA_ARGS__)

#define IDLE_SPINS    512   /* empty polls before the first sleep */
#define IDLE_SLEEP_NS 50000 /* then sleep this long between polls: bounded wake-up latency */

/* --- transmit ---------------------------------------------------------------------------- */

/* Drop every packet waiting for the port, counted as why. */
static void
tx_drop_all(struct dp_lcore *lc, struct dp_txq *q, enum dp_drop_reason why)
{
	struct rte_mbuf *v[DP_TXQ_CTL + DP_TXQ_DATA];
	unsigned int n = dp_txq_take_all(q, v);

	dp_drop_count(&lc->drops, why, n);
	rte_pktmbuf_free_bulk(v, n);
}

/* Hand the queued packets to the port, control packets first (dp_txq.h). What it does not take
 * stays queued for the next try (the NIC is busy: the sessions wait, see dp_lcore_tx_room), so
 * nothing is built in vain. A paused port takes nothing, and a port in an outage of its
 * impairment schedule sends nothing: what waits is dropped. */
static void
tx_flush(struct dp_lcore *lc, uint8_t port)
{
	struct dp_txq *q = &lc->txq[port];

	if (q->n == 0 && q->n_ctl == 0)
		return;
	if (unlikely(lc->rt->port_paused[port] != 0))
		tx_drop_all(lc, q, DP_DROP_PORT_DOWN);
	else if (unlikely(dp_outage_on(&lc->outage[port], lc->now)))
		tx_drop_all(lc, q, DP_DROP_IMPAIR_OUTAGE_TX);
	else
		lc->tx_pkts += dp_txq_flush(q, rte_eth_tx_burst);
}

bool
dp_lcore_tx_room(struct dp_lcore *lc, uint8_t port)
{
	struct dp_txq *q = &lc->txq[port];

	if (!dp_txq_data_room(q))
		tx_flush(lc, port);
	return dp_txq_data_room(q);
}

void
dp_lcore_tx(struct dp_lcore *lc, uint8_t port, struct rte_mbuf *m)
{
	DP_ASSERT_LCORE(lc);
	if (!dp_lcore_tx_room(lc, port)) {
		dp_drop_count(&lc->drops, DP_DROP_TX_QUEUE_FULL, 1);
		rte_pktmbuf_free(m);
		return;
	}
	if (dp_txq_push_data(&lc->txq[port], m))
		tx_flush(lc, port);
}

void
dp_lcore_tx_ctl(struct dp_lcore *lc, uint8_t port, struct rte_mbuf *m)
{
	struct dp_txq *q = &lc->txq[port];

	DP_ASSERT_LCORE(lc);
	if (!dp_txq_push_ctl(q, m)) {
		tx_flush(lc, port);
		if (!dp_txq_push_ctl(q, m)) {
			dp_drop_count(&lc->drops, DP_DROP_TX_CTL_QUEUE_FULL, 1);
			rte_pktmbuf_free(m);
			return;
		}
	}
	tx_flush(lc, port); /* now, ahead of the data waiting: it may leave the batch early */
}

/* --- to the control thread --------------------------------------------------------------- */

/* Control messages leave this much of the event ring to the events that must not be lost, so
 * that a peer flooding channel 0 never makes a session's end wait. */
#define CONTROL_EVT_RESERVE (DP_RING_SIZE / 4)

/* A control message (DP_EVT_CONTROL): best effort, never waited for; dropped and counted (its
 * buffer freed) when the ring has no room to spare. */
static void
control_event(struct dp_lcore *lc, const struct dp_evt *ev)
{
	if (rte_ring_free_count(lc->evt_ring) > CONTROL_EVT_RESERVE &&
	    rte_ring_sp_enqueue_elem(lc->evt_ring, (void *)(uintptr_t)ev, sizeof(*ev)) == 0)
		return;
	dp_drop_count(&lc->drops, DP_DROP_CONTROL_QUEUE_FULL, 1);
	free(ev->msg);
}

bool
dp_lcore_event_try(struct dp_lcore *lc, const struct dp_evt *ev)
{
	DP_ASSERT_LCORE(lc);
	return rte_ring_free_count(lc->evt_ring) > CONTROL_EVT_RESERVE &&
	       rte_ring_sp_enqueue_elem(lc->evt_ring, (void *)(uintptr_t)ev, sizeof(*ev)) == 0;
}

void
dp_lcore_event(struct dp_lcore *lc, const struct dp_evt *ev)
{
	DP_ASSERT_LCORE(lc); /* the event ring has one producer: this lcore */
	if (ev->type == DP_EVT_CONTROL) {
		control_event(lc, ev);
		return;
	}
	if (rte_ring_sp_enqueue_elem(lc->evt_ring, (void *)(uintptr_t)ev, sizeof(*ev)) == 0)
		return;
	/* the control thread is behind: handshake and ARP packets are dropped and counted;
	 * session events must not be lost, so wait for room (the ring is large) */
	if (ev->type == DP_EVT_HANDSHAKE || ev->type == DP_EVT_ARP) {
		dp_drop_count(&lc->drops, DP_DROP_HANDSHAKE_QUEUE_FULL, 1);
		rte_pktmbuf_free(ev->m);
		return;
	}
	while (rte_ring_sp_enqueue_elem(lc->evt_ring, (void *)(uintptr_t)ev, sizeof(*ev)) != 0 &&
	       !lc->rt->quit)
		rte_pause();
}

/* A handshake message or an ARP packet goes to the control thread with its mbuf (type:
 * DP_EVT_HANDSHAKE or DP_EVT_ARP). */
static void
packet_to_control(struct dp_lcore *lc, struct rte_mbuf *m, const struct dp_net_pkt *pkt,
		  uint8_t port, uint8_t type)
{
	struct dp_evt ev = {
		.type = type,
		.port = port,
		.ip = pkt->src_ip,
		.udp_port = pkt->src_port,
		.off = pkt->payload_off,
		.len = pkt->payload_len,
		.since_ns = lc->rx_since,
		.via = pkt->circuit,
		.m = m,
	};

	memcpy(ev.mac, &pkt->src_mac, sizeof(ev.mac));
	dp_lcore_event(lc, &ev);
}

/* --- receive ------------------------------------------------------------------------------ */

/* A data packet (or one to relay) for another lcore goes to its handoff ring
 * (multi-producer); one for an lcore that does not exist is dropped, counted as why. */
static void
handoff_to_owner(struct dp_lcore *lc, struct rte_mbuf *m, uint32_t owner, enum dp_drop_reason why)
{
	if (owner >= lc->rt->n_lcores) {
		dp_drop_count(&lc->drops, why, 1);
		rte_pktmbuf_free(m);
		return;
	}
	if (rte_ring_mp_enqueue(lc->rt->lcores[owner]->handoff, m) != 0) {
		dp_drop_count(&lc->drops, DP_DROP_HANDOFF_QUEUE_FULL, 1);
		rte_pktmbuf_free(m);
		return;
	}
	lc->handoffs++;
}

/* A data packet (to its session) or a packet to relay (to its circuit end), on its owner. */
static void
rx_owned(struct dp_lcore *lc, struct rte_mbuf *m, const struct dp_net_pkt *pkt, uint8_t port)
{
	if (pkt->msg_type == SL_MSG_RELAY_TO)
		dp_relay_forward(lc, m, pkt);
	else
		dp_session_rx(lc, m, pkt, port);
}

/* A sluice message: handshakes to the control thread; data packets (their header decoded by
 * dp_net_classify, its length checked there) to their owner lcore's session, packets to
 * relay to their circuit end's owner. */
static void
rx_sluice(struct dp_lcore *lc, struct rte_mbuf *m, const struct dp_net_pkt *pkt, uint8_t port)
{
	enum dp_drop_reason why = DP_DROP_DATA_UNKNOWN_SESSION;
	uint32_t owner;

	if (pkt->msg_type == SL_MSG_DATA) {
		owner = sl_connid_owner(pkt->data.receiver);
	} else if (pkt->msg_type == SL_MSG_RELAY_TO) {
		owner = sl_connid_owner(pkt->circuit);
		why = DP_DROP_RELAY_UNKNOWN_CIRCUIT;
	} else {
		packet_to_control(lc, m, pkt, port, DP_EVT_HANDSHAKE);
		return;
	}
	if (owner != lc->index) {
		m->port = port; /* the owner classifies it again on this port */
		handoff_to_owner(lc, m, owner, why);
	} else
		rx_owned(lc, m, pkt, port);
}

static void
rx_one(struct dp_lcore *lc, uint8_t port, struct rte_mbuf *m)
{
	enum dp_drop_reason why = DP_DROP_ETH_TOO_SHORT;
	struct dp_net_pkt pkt;

	switch (dp_net_classify(&lc->rt->nif[port], m, &pkt, &why)) {
	case DP_NET_SLUICE:
		rx_sluice(lc, m, &pkt, port);
		return;
	case DP_NET_ARP:
		packet_to_control(lc, m, &pkt, port, DP_EVT_ARP);
		return;
	case DP_NET_ICMP_ECHO:
		if (dp_net_icmp_echo_reply(&lc->rt->nif[port], m) == 0) {
			dp_lcore_tx(lc, port, m);
			return;
		}
		why = DP_DROP_ICMP_MALFORMED;
		break;
	default:
		break;
	}
	dp_drop_count(&lc->drops, why, 1);
	rte_pktmbuf_free(m);
}

static unsigned int
poll_rx(struct dp_lcore *lc)
{
	struct rte_mbuf *pkts[DP_BURST * 2];
	unsigned int total = 0;

	for (unsigned int i = 0; i < lc->n_rxq; i++) {
		struct dp_rxq *q = &lc->rxq[i];
		uint16_t n;

		if (lc->rt->port_paused[q->port]) {
			q->drained_ns = lc->now; /* being restarted: what comes after is new */
			continue;
		}
		n = rte_eth_rx_burst(lc->rt->ports[q->port].port_id, q->queue, pkts, DP_BURST);
		lc->rx_since = q->drained_ns;
		if (n < DP_BURST)
			q->drained_ns = lc->now;

		if (q->impair != NULL)
			n = dp_impair_rx(q->impair, pkts, n, RTE_DIM(pkts), lc->now, &lc->drops);
		for (uint16_t k = 0; k < n; k++)
			rx_one(lc, q->port, pkts[k]);
		total += n;
	}
	lc->rx_pkts += total;
	return total;
}

/* Data packets other lcores received for our sessions (or our circuit ends): classified again (cheap next to the
 * decryption that follows, and it keeps the handoff ring a ring of plain mbufs). */
static unsigned int
poll_handoff(struct dp_lcore *lc)
{
	struct rte_mbuf *pkts[DP_BURST];
	unsigned int n = rte_ring_sc_dequeue_burst(lc->handoff, (void **)pkts, DP_BURST, NULL);

	for (unsigned int k = 0; k < n; k++) {
		uint8_t port = (uint8_t)pkts[k]->port; /* the port index, set on receive */
		enum dp_drop_reason why;
		struct dp_net_pkt pkt;

		if (port >= lc->rt->n_ports ||
		    dp_net_classify(&lc->rt->nif[port], pkts[k], &pkt, &why) != DP_NET_SLUICE) {
			dp_drop_count(&lc->drops, DP_DROP_DATA_BAD_SIZE, 1);
			rte_pktmbuf_free(pkts[k]);
			continue;
		}
		rx_owned(lc, pkts[k], &pkt, port);
	}
	return n;
}

/* --- commands ----------------------------------------------------------------------------- */

static void
run_command(struct dp_lcore *lc, struct dp_cmd *c)
{
	struct dp_evt ev = { .type = DP_EVT_STATS_DONE, .stats = c->stats };

	switch (c->type) {
	case DP_CMD_SESSION_OPEN:
		if (dp_session_open(lc, c) != 0) {
			struct dp_evt closed = { .type = DP_EVT_CLOSED,
						 .slot = c->slot,
						 .reason = SL_CLOSE_INTERNAL };

			dp_lcore_retire_keypair(c->kp, lc);
			dp_lcore_event(lc, &closed);
		}
		break;
	case DP_CMD_KEYPAIR_ADD:
		dp_session_add_keypair(lc, c);
		break;
	case DP_CMD_SESSION_CLOSE:
		dp_session_close(lc, c);
		break;
	case DP_CMD_TX:
		if (c->port < lc->rt->n_ports)
			dp_lcore_tx_ctl(lc, c->port, c->m);
		else
			rte_pktmbuf_free(c->m);
		break;
	case DP_CMD_STATS:
		dp_session_stats(lc, c->stats);
		dp_lcore_event(lc, &ev);
		break;
	case DP_CMD_CONTROL_SEND:
		dp_session_control_send(lc, c);
		break;
	case DP_CMD_RELAY_SET:
		dp_relay_set(lc, c);
		break;
	case DP_CMD_RELAY_CLEAR:
		dp_relay_clear(lc, c);
		break;
	default:
		break;
	}
}

static unsigned int
poll_commands(struct dp_lcore *lc)
{
	struct dp_cmd cmds[8];
	unsigned int n = rte_ring_sc_dequeue_burst_elem(lc->cmd_ring, cmds, sizeof(cmds[0]),
							RTE_DIM(cmds), NULL);

	for (unsigned int i = 0; i < n; i++)
		run_command(lc, &cmds[i]);
	return n;
}

/* --- keys after the grace period ----------------------------------------------------------- */

void
dp_lcore_free_keypairs(void *arg, void *entries, unsigned int n)
{
	struct dp_keypair **v = entries;

	(void)arg;
	for (unsigned int i = 0; i < n; i++)
		dp_keypair_destroy(v[i]);
}

void
dp_lcore_retire_keypair(struct dp_keypair *kp, void *lcore)
{
	struct dp_lcore *lc = lcore;

	if (kp == NULL)
		return;
	if (rte_rcu_qsbr_dq_enqueue(lc->dq, &kp) == 0) {
		lc->dq_pending++;
		return;
	}
	/* the defer queue is full (many sessions closing at once): free what is past its grace
	 * period and try again; failing that, wait for a grace period here */
	rte_rcu_qsbr_dq_reclaim(lc->dq, UINT32_MAX, NULL, &lc->dq_pending, NULL);
	if (rte_rcu_qsbr_dq_enqueue(lc->dq, &kp) == 0) {
		lc->dq_pending++;
		return;
	}
	rte_rcu_qsbr_synchronize(lc->rt->rcu, lc->index);
	dp_keypair_destroy(kp);
}

void
dp_lcore_final_stats(struct dp_runtime *rt, unsigned int i, struct dp_stats *st)
{
	dp_session_stats(rt->lcores[i], st);
}

/* --- the loop ----------------------------------------------------------------------------- */

/* Nothing to do: spin a little, then sleep a little — never past the next session timer. */
static void
idle_backoff(struct dp_lcore *lc, unsigned int work)
{
	struct timespec nap = { .tv_nsec = IDLE_SLEEP_NS };
	uint64_t next, now;

	if (work != 0 || lc->idle == CONF_IDLE_BUSY) {
		lc->empty_polls = 0;
		return;
	}
	next = dp_session_next_timer(lc);
	now = sl_now_ns();
	if (next <= now) {
		lc->empty_polls = 0;
		return;
	}
	if (++lc->empty_polls < IDLE_SPINS) {
		rte_pause();
		return;
	}
	if (next - now < IDLE_SLEEP_NS)
		nap.tv_nsec = (long)(next - now);
	rte_rcu_qsbr_thread_offline(lc->rt->rcu, lc->index); /* sleeping is quiescent */
	nanosleep(&nap, NULL);
	rte_rcu_qsbr_thread_online(lc->rt->rcu, lc->index);
}

int
dp_lcore_main(void *arg)
{
	struct dp_runtime *rt = arg;
	struct dp_lcore *lc = NULL;

	for (unsigned int i = 0; i < rt->n_lcores; i++)
		if (rt->lcores[i]->lcore_id == rte_lcore_id())
			lc = rt->lcores[i];
	if (lc == NULL)
		return 0; /* an EAL lcore that polls nothing */
	lc->mgr = sl_aead_mgr_create();
	if (lc->mgr == NULL) {
		LC_LOG(ERR, "%u: no ipsec-mb manager\n", lc->index);
		rt->quit = 1;
		return -ENOMEM;
	}
	rte_rcu_qsbr_thread_register(rt->rcu, lc->index);
	rte_rcu_qsbr_thread_online(rt->rcu, lc->index);
	for (unsigned int i = 0; i < lc->n_rxq; i++)
		lc->rxq[i].drained_ns = sl_now_ns(); /* what the ports hold came after they started */
	LC_LOG(INFO, "%u: running on lcore %u, %u rx queues\n", lc->index, lc->lcore_id, lc->n_rxq);
	while (!rt->quit) {
		uint64_t t0 = rte_rdtsc();
		unsigned int work;

		lc->now = sl_now_ns();
		work = poll_rx(lc) + poll_handoff(lc) + poll_commands(lc) + dp_api_poll(lc);
		work += dp_session_run(lc);
		dp_api_round_end(lc, work);
		for (uint8_t p = 0; p < rt->n_ports; p++)
			tx_flush(lc, p);
		rte_rcu_qsbr_quiescent(rt->rcu, lc->index);
		if (lc->dq_pending > 0) /* (reclaiming logs a line at debug level on every call) */
			rte_rcu_qsbr_dq_reclaim(lc->dq, 64, NULL, &lc->dq_pending, NULL);
		if (work != 0) /* rounds that did something: the lcore's CPU cost of its traffic */
			lc->busy_cycles += rte_rdtsc() - t0;
		idle_backoff(lc, work);
	}
	dp_session_free_all(lc);
	dp_api_lcore_fini(lc);
	for (uint8_t p = 0; p < rt->n_ports; p++) {
		tx_flush(lc, p);
		/* what is left: the port is gone or stuck, these never leave */
		tx_drop_all(lc, &lc->txq[p], DP_DROP_TX_QUEUE_FULL);
	}
	rte_rcu_qsbr_thread_offline(rt->rcu, lc->index);
	rte_rcu_qsbr_thread_unregister(rt->rcu, lc->index);
	dp_keypair_thread_release(); /* the expanded keys of this lcore's sessions, wiped */
	sl_aead_mgr_free(lc->mgr);
	lc->mgr = NULL;
	return 0;
}
