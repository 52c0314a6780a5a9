/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the transmit queue of one lcore on one port — control packets ahead of data.
 *
 * Data packets are batched (DP_TXQ_DATA, a burst) and what the port does not take stays queued
 * (the sessions wait for room, dp_lcore_tx_room). Control packets — handshake messages, cookie
 * replies and ARP packets the control thread sends (DP_CMD_TX) — have a small queue of their
 * own, and every flush offers them to the port first: data leaves only once no control packet
 * waits. So a handshake answer is never dropped or held because data filled the batch (a
 * sender at full speed keeps it full), and it enters the port's ring ahead of every data
 * packet not yet in it.
 *
 * Header-only, so the flush inlines with the port's burst function; the burst function is a
 * parameter so that tests/test_txq.c drives the same code with a port of its own.
 *
 * Owner lcore only (no locking).
 */
#ifndef DP_TXQ_H
#define DP_TXQ_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>

struct rte_mbuf;

#define DP_TXQ_DATA 32 /* data packets per burst */
#define DP_TXQ_CTL  32 /* control packets waiting, at most */

struct dp_txq {
	uint16_t port_id, queue_id;
	uint16_t n;	/* data packets waiting */
	uint16_t n_ctl; /* control packets waiting (sent first) */
	struct rte_mbuf *pkts[DP_TXQ_DATA];
	struct rte_mbuf *ctl[DP_TXQ_CTL];
};

/* rte_eth_tx_burst's signature: how many of the n packets the port took (from the first). */
typedef uint16_t (*dp_txq_burst_fn)(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **pkts,
				    uint16_t n);

/* Offer v[0..*n) to the port; what it did not take moves to the front. Returns what it took. */
static inline uint16_t
dp_txq_offer(const struct dp_txq *q, dp_txq_burst_fn burst, struct rte_mbuf **v, uint16_t *n)
{
	uint16_t sent;

	if (*n == 0)
		return 0;
	sent = burst(q->port_id, q->queue_id, v, *n);
	if (sent < *n)
		memmove(v, v + sent, (size_t)(*n - sent) * sizeof(v[0]));
	*n = (uint16_t)(*n - sent);
	return sent;
}

/* Hand the waiting packets to the port: control packets first, data only if none is left
 * waiting. Returns how many the port took. */
static inline uint16_t
dp_txq_flush(struct dp_txq *q, dp_txq_burst_fn burst)
{
	uint16_t sent = 0;

	if (unlikely(q->n_ctl != 0)) {
		sent = dp_txq_offer(q, burst, q->ctl, &q->n_ctl);
		if (q->n_ctl != 0)
			return sent;
	}
	return (uint16_t)(sent + dp_txq_offer(q, burst, q->pkts, &q->n));
}

/* Is there room for one more data packet (without flushing)? */
static inline bool
dp_txq_data_room(const struct dp_txq *q)
{
	return q->n < DP_TXQ_DATA;
}

/* Queue a data packet; the caller checked dp_txq_data_room(). Is the batch now full? */
static inline bool
dp_txq_push_data(struct dp_txq *q, struct rte_mbuf *m)
{
	q->pkts[q->n++] = m;
	return q->n == DP_TXQ_DATA;
}

/* Queue a control packet ahead of the data. false: its queue is full (the caller drops it). */
static inline bool
dp_txq_push_ctl(struct dp_txq *q, struct rte_mbuf *m)
{
	if (q->n_ctl == DP_TXQ_CTL)
		return false;
	q->ctl[q->n_ctl++] = m;
	return true;
}

/* Take every waiting packet out of the queue (into v, control packets first; v has room for
 * DP_TXQ_CTL + DP_TXQ_DATA). Returns how many. */
static inline uint16_t
dp_txq_take_all(struct dp_txq *q, struct rte_mbuf **v)
{
	uint16_t k = q->n_ctl;

	memcpy(v, q->ctl, (size_t)q->n_ctl * sizeof(v[0]));
	memcpy(v + k, q->pkts, (size_t)q->n * sizeof(v[0]));
	k = (uint16_t)(k + q->n);
	q->n = q->n_ctl = 0;
	return k;
}

#endif /* DP_TXQ_H */
