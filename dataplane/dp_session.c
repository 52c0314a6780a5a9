/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the sessions of one dataplane lcore — open, receive, run the engine and the
 * services, encrypt into transmit mbufs, close (see dp_lcore.h). Owner lcore only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "dp_lcore_pvt.h"
#include "sl_wire.h"

RTE_LOG_REGISTER(dp_session_logtype, sluice.dp.session, INFO);
#define SES_LOG(level, ...) rte_log(RTE_LOG_##level, dp_session_logtype, "session: " __VA_ARGS__)

/* The session in this slot of the lcore, or NULL (empty, or beyond max_sessions). */
static struct dp_session *
session_in_slot(const struct dp_lcore *lc, uint32_t slot)
{
	return slot < lc->rt->cfg->limits.max_sessions ? lc->slots[slot] : NULL;
}

/* --- open and close ----------------------------------------------------------------------- */

int
dp_session_open(struct dp_lcore *lc, const struct dp_cmd *cmd)
{
	const struct conf *cfg = lc->rt->cfg;
	struct dp_session *s;

	DP_ASSERT_LCORE(lc);
	if (cmd->slot >= cfg->limits.max_sessions || lc->slots[cmd->slot] != NULL)
		return -EEXIST;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->conn = dp_conn_create(&cfg->engine, lc->now);
	if (s->conn == NULL || dp_svc_init(&s->svc, &cfg->services, cmd->peer) != 0) {
		dp_conn_destroy(s->conn);
		free(s);
		return -ENOMEM;
	}
	dp_keyset_init(&s->ks);
	s->ks.retire = dp_lcore_retire_keypair;
	s->ks.retire_arg = lc;
	if (cmd->kp->initiator)
		dp_conn_ping(s->conn); /* the responder sends nothing until it hears the new keys */
	dp_keyset_install(&s->ks, cmd->kp);
	sl_theap_node_init(&s->timer);
	s->slot = cmd->slot;
	s->peer = cmd->peer;
	s->port = cmd->port;
	memcpy(&s->mac, cmd->mac, sizeof(s->mac));
	s->ip = cmd->ip;
	s->udp_port = cmd->udp_port;
	s->via = cmd->via;
	s->opened_ns = lc->now;
	s->connid = cmd->kp->local_id;
	memcpy(s->node, cmd->node, sizeof(s->node));
	lc->slots[cmd->slot] = s;
	lc->n_sessions++;
	dp_api_session_open(lc, s);
	dp_session_wake(lc, s);
	return 0;
}

void
dp_session_add_keypair(struct dp_lcore *lc, const struct dp_cmd *cmd)
{
	struct dp_session *s = session_in_slot(lc, cmd->slot);

	DP_ASSERT_LCORE(lc);
	if (s == NULL || s->closing) { /* closed meanwhile: the control thread hears of it */
		dp_lcore_retire_keypair(cmd->kp, lc);
		return;
	}
	if (cmd->kp->initiator)
		dp_conn_ping(s->conn);
	dp_keyset_install(&s->ks, cmd->kp);
	s->rekey_asked = false;
	dp_session_wake(lc, s);
}

void
dp_session_close(struct dp_lcore *lc, const struct dp_cmd *cmd)
{
	struct dp_session *s = session_in_slot(lc, cmd->slot);

	DP_ASSERT_LCORE(lc);
	if (s == NULL)
		return;
	dp_conn_close(s->conn, cmd->graceful, cmd->reason, lc->now);
	dp_session_wake(lc, s);
}

/* Count what the session's engine leaves undone (into *u, the lcore's totals and its
 * services), fold its service counters into the lcore's and free it. */
static void
session_free(struct dp_lcore *lc, struct dp_session *s, struct dp_conn_undelivered *u)
{
	DP_ASSERT_OWNER(lc, s);
	dp_conn_undelivered(s->conn, u);
	for (unsigned int ch = 0; ch < SL_MAX_CHANNELS; ch++)
		dp_undelivered_add(&lc->undelivered[ch], &u->chan[ch]);
	dp_svc_on_undelivered(&s->svc, u);
	dp_api_session_close(lc, s, s->closing ? s->close_reason : SL_CLOSE_SHUTDOWN,
			     s->closed_by_peer, (uint32_t)RTE_MIN(u->total.undelivered, UINT32_MAX));
	for (unsigned int i = 0; i < lc->rt->cfg->services.n; i++)
		dp_svc_stats_add(&s->svc, i, &lc->svc_closed[i]);
	dp_svc_fini(&s->svc, s->conn);
	dp_conn_destroy(s->conn);
	dp_keyset_clear(&s->ks);
	sl_theap_remove(&lc->timers, &s->timer);
	if (s->busy) { /* woken again while it was being processed: off the list first */
		struct dp_session **pp = &lc->busy;

		while (*pp != NULL && *pp != s)
			pp = &(*pp)->next_busy;
		if (*pp == s)
			*pp = s->next_busy;
	}
	lc->slots[s->slot] = NULL;
	lc->n_sessions--;
	free(s);
}

void
dp_session_free_all(struct dp_lcore *lc)
{
	struct dp_conn_undelivered u;
	uint32_t n = 0;

	for (uint32_t i = 0; i < lc->rt->cfg->limits.max_sessions; i++) {
		if (lc->slots[i] == NULL)
			continue;
		session_free(lc, lc->slots[i], &u);
		/* between two sessions this lcore holds nothing: say so, so that the keypairs
		 * retired so far pass their grace period and the defer queue drains */
		if (++n % 64 == 0)
			rte_rcu_qsbr_quiescent(lc->rt->rcu, lc->index);
	}
	lc->busy = NULL;
}

/* --- receive ------------------------------------------------------------------------------ */

/* Tell the control thread where the session's peer is now (its rekeys go there), if the
 * event ring has room; else the next authenticated packet tries again. */
static void
session_tell_moved(struct dp_lcore *lc, struct dp_session *s)
{
	struct dp_evt ev = {
		.type = DP_EVT_MOVED,
		.port = s->port,
		.slot = s->slot,
		.ip = s->ip,
		.udp_port = s->udp_port,
		.connid = s->connid,
		.via = s->via,
	};

	memcpy(ev.mac, &s->mac, sizeof(ev.mac));
	s->moved_untold = !dp_lcore_event_try(lc, &ev);
}

/* The peer may move (another address or port, a new next hop, onto or off a relay's circuit):
 * follow authenticated packets, and tell the control thread. */
static void
session_follow_peer(struct dp_lcore *lc, struct dp_session *s, const struct dp_net_pkt *pkt,
		    uint8_t port)
{
	bool moved = s->moved_untold;

	if (s->ip != pkt->src_ip || s->udp_port != pkt->src_port || s->port != port ||
	    s->via != pkt->circuit) {
		s->ip = pkt->src_ip;
		s->udp_port = pkt->src_port;
		s->port = port;
		s->via = pkt->circuit;
		moved = true;
	}
	if (!rte_is_same_ether_addr(&s->mac, &pkt->src_mac)) {
		rte_ether_addr_copy(&pkt->src_mac, &s->mac);
		moved = true;
	}
	if (unlikely(moved))
		session_tell_moved(lc, s);
}

void
dp_session_rx(struct dp_lcore *lc, struct rte_mbuf *m, const struct dp_net_pkt *pkt, uint8_t port)
{
	const struct dp_data_rx *rx = &pkt->data;
	/* decrypted in place: the payload replaces the ciphertext, after the header */
	uint8_t *plain = rte_pktmbuf_mtod_offset(m, uint8_t *,
						 pkt->payload_off + sizeof(struct sl_data_hdr));
	struct dp_session *s = session_in_slot(lc, sl_connid_slot(rx->receiver));
	int n;

	if (s == NULL) {
		dp_drop_count(&lc->drops, DP_DROP_DATA_UNKNOWN_SESSION, 1);
		goto out;
	}
	DP_ASSERT_OWNER(lc, s);
	RTE_ASSERT(sl_connid_owner(rx->receiver) == lc->index); /* handed to its owner */
	n = dp_keyset_open(lc->mgr, &s->ks, lc->now, &lc->rt->key_limits, rx, plain);
	if (n < 0) {
		dp_drop_count(&lc->drops, dp_drop_from_errno(n), 1);
		goto out;
	}
	s->pkts_in++;
	s->bytes_in += pkt->payload_len;
	session_follow_peer(lc, s, pkt, port);
	/* protocol errors close the connection: events tell */
	(void)dp_conn_input(s->conn, rx->pn, plain, (size_t)n, lc->now);
	dp_session_wake(lc, s);
out:
	rte_pktmbuf_free(m);
}

/* --- transmit ----------------------------------------------------------------------------- */

/* A relayed session's packets start with the relay header: to the relay, on our end of the
 * circuit. Returns the bytes written (0 for a direct session). */
static uint16_t
session_relay_hdr(const struct dp_session *s, uint8_t *out)
{
	struct sl_relay_hdr h = { .type = SL_MSG_RELAY_TO };

	if (s->via == 0)
		return 0;
	h.circuit = rte_cpu_to_be_32(s->via);
	memcpy(out, &h, sizeof(h));
	return sizeof(h);
}

/* Encrypt the frames of packet pn straight into a transmit mbuf and queue it. */
static void
session_tx_packet(struct dp_lcore *lc, struct dp_session *s, uint64_t pn, size_t n)
{
	const struct dp_runtime *rt = lc->rt;
	struct rte_mbuf *m = rte_pktmbuf_alloc(rt->ports[s->port].pool);
	uint16_t len = (uint16_t)(n + DP_DATA_OVERHEAD + (s->via != 0 ? SL_RELAY_HDR_LEN : 0));
	uint8_t *out;
	int rc;

	DP_ASSERT_OWNER(lc, s);
	if (m == NULL) {
		dp_drop_count(&lc->drops, DP_DROP_NO_MBUF, 1); /* the engine will resend it */
		return;
	}
	out = (uint8_t *)rte_pktmbuf_append(m, len);
	if (out != NULL)
		out += session_relay_hdr(s, out);
	rc = out == NULL ? -ENOSPC
			 : dp_keypair_seal_pn(lc->mgr, s->ks.cur, pn, lc->now, &rt->key_limits,
					      lc->scratch, n, out);
	if (rc > 0)
		rc = dp_net_build_udp(&rt->nif[s->port], m, &s->mac, s->ip, s->udp_port, len,
				      lc->ip_id++, DP_NET_F_NO_UDP_CKSUM);
	if (rc != 0) {
		dp_drop_count(&lc->drops, dp_drop_from_errno(rc), 1);
		rte_pktmbuf_free(m);
		return;
	}
	s->pkts_out++;
	s->bytes_out += len;
	dp_lcore_tx(lc, s->port, m);
}

/* Build, seal and queue the engine's packets while the port has room. */
static void
session_output(struct dp_lcore *lc, struct dp_session *s)
{
	uint64_t pn;
	int n;

	DP_ASSERT_OWNER(lc, s);
	if (s->ks.cur == NULL) {
		/* A responder waits for the initiator's first packet before it sends. Closed before
		 * that, it has no key to say so: let the engine finish its close unsent. */
		if (dp_conn_state(s->conn) == DP_CONN_OPEN)
			return;
		while (dp_conn_output(s->conn, lc->now, lc->scratch, sizeof(lc->scratch), &pn) > 0)
			;
		return;
	}
	while (dp_lcore_tx_room(lc, s->port)) {
		n = dp_conn_output(s->conn, lc->now, lc->scratch, sizeof(lc->scratch), &pn);
		if (n <= 0)
			return;
		session_tx_packet(lc, s, pn, (size_t)n);
	}
	dp_session_wake(lc, s); /* the port is busy: build the rest when it has room */
}

/* --- the control channel ---------------------------------------------------------------- */

/* A message on channel 0 goes to the control thread, copied (DP_EVT_CONTROL); the engine's
 * buffer is released at once. Too long for a control message, or no memory: counted. */
static void
session_control_in(struct dp_lcore *lc, struct dp_session *s, struct dp_msg *m)
{
	struct dp_evt ev = {
		.type = DP_EVT_CONTROL,
		.slot = s->slot,
		.connid = s->connid,
		.len = (uint16_t)m->len,
	};

	DP_ASSERT_OWNER(lc, s);
	if (m->len > SL_CONTROL_MSG_MAX) {
		dp_drop_count(&lc->drops, DP_DROP_CONTROL_TOO_LARGE, 1);
	} else if ((ev.msg = malloc(m->len)) == NULL) {
		dp_drop_count(&lc->drops, DP_DROP_CONTROL_NO_MEMORY, 1);
	} else {
		memcpy(ev.msg, m->data, m->len);
		dp_lcore_event(lc, &ev); /* counted there if the ring has no room */
	}
	dp_conn_msg_release(s->conn, m);
}

void
dp_session_control_send(struct dp_lcore *lc, const struct dp_cmd *cmd)
{
	struct dp_session *s = session_in_slot(lc, cmd->slot);

	DP_ASSERT_LCORE(lc);
	if (s == NULL || s->connid != cmd->connid || s->closing) {
		dp_drop_count(&lc->drops, DP_DROP_CONTROL_SEND_STALE, 1);
	} else if (dp_conn_send(s->conn, SL_CONTROL_CHANNEL, cmd->msg, cmd->len, 0, lc->now,
				NULL) != 0) {
		dp_drop_count(&lc->drops, DP_DROP_CONTROL_SEND_REFUSED, 1);
	} else {
		dp_session_wake(lc, s);
	}
	free(cmd->msg);
}

/* --- running a session -------------------------------------------------------------------- */

/* Messages the engine delivered go to the control thread (channel 0), the applications or the
 * services; those none keeps are released. */
static void
session_deliver_messages(struct dp_lcore *lc, struct dp_session *s)
{
	struct dp_msg *m;

	DP_ASSERT_OWNER(lc, s);
	while ((m = dp_conn_recv(s->conn)) != NULL) {
		if (m->chan == SL_CONTROL_CHANNEL) {
			session_control_in(lc, s, m); /* the control thread's */
			continue;
		}
		if (dp_api_deliver(lc, s, m))
			continue; /* an application serves the channel */
		if (dp_svc_on_message(&s->svc, s->conn, m, lc->now))
			continue;
		if (atomic_load_explicit(&lc->rt->api.owner[m->chan], memory_order_relaxed) ==
		    DP_API_OWNER_NONE)
			lc->api_stats.no_owner[m->chan]++;
		dp_conn_msg_release(s->conn, m);
	}
}

/* Engine events go to the services; the control thread hears what concerns the session. */
static void
session_drain_events(struct dp_lcore *lc, struct dp_session *s)
{
	struct dp_conn_event ev;

	DP_ASSERT_OWNER(lc, s);
	while (dp_conn_poll_event(s->conn, &ev)) {
		struct dp_evt out = { .slot = s->slot, .ip = s->ip, .udp_port = s->udp_port };

		dp_svc_on_event(&s->svc, s->conn, &ev, lc->now);
		dp_api_engine_event(lc, s, &ev);
		if (ev.type == DP_EV_UNRESPONSIVE) {
			out.type = DP_EVT_UNRESPONSIVE;
			dp_lcore_event(lc, &out);
		} else if (ev.type == DP_EV_CLOSED) {
			s->closing = true;
			s->close_reason = ev.reason;
			s->closed_by_peer = ev.by_peer;
		}
	}
}

/* Ask the control thread for new keys when the current ones age (initiator side by time,
 * either side by count); drop keys that can no longer receive. */
static void
session_rekey_and_expire(struct dp_lcore *lc, struct dp_session *s)
{
	const struct dp_key_limits *lim = &lc->rt->key_limits;

	DP_ASSERT_OWNER(lc, s);
	if (s->ks.cur != NULL && !s->rekey_asked &&
	    dp_keypair_needs_rekey(s->ks.cur, lc->now, lim)) {
		struct dp_evt ev = { .type = DP_EVT_REKEY, .slot = s->slot };

		s->rekey_asked = true;
		dp_lcore_event(lc, &ev);
	}
	dp_keyset_expire(&s->ks, lc->now, lim);
}

/* One session's turn: engine timers, delivery, events, services, keys, output; then either
 * free it (closed) or set its timer. */
static void
session_run_one(struct dp_lcore *lc, struct dp_session *s)
{
	uint64_t at;

	DP_ASSERT_OWNER(lc, s);
	if (dp_conn_next_wakeup(s->conn) <= lc->now)
		dp_conn_tick(s->conn, lc->now);
	session_deliver_messages(lc, s);
	session_drain_events(lc, s);
	if (dp_svc_next_wakeup(&s->svc) <= lc->now)
		dp_svc_poll(&s->svc, s->conn, lc->now);
	dp_api_session_run(lc, s);
	session_rekey_and_expire(lc, s);
	session_output(lc, s);
	session_drain_events(lc, s); /* a graceful close completes in session_output() */
	if (s->closing && dp_conn_state(s->conn) == DP_CONN_CLOSED) {
		struct dp_evt ev = { .type = DP_EVT_CLOSED,
				     .slot = s->slot,
				     .reason = s->close_reason,
				     .by_peer = s->closed_by_peer };
		struct dp_conn_undelivered u;

		session_free(lc, s, &u);
		ev.undelivered = u.total.undelivered;
		ev.undelivered_bytes = u.total.undelivered_bytes;
		dp_lcore_event(lc, &ev);
		return;
	}
	at = RTE_MIN(dp_conn_next_wakeup(s->conn), dp_svc_next_wakeup(&s->svc));
	if (sl_theap_set(&lc->timers, &s->timer, at) != 0)
		dp_session_wake(lc, s); /* no room for the timer: keep it busy */
}

unsigned int
dp_session_run(struct dp_lcore *lc)
{
	struct sl_theap_node *t;
	struct dp_session *s, *list;
	unsigned int work = 0;

	while ((t = sl_theap_top(&lc->timers)) != NULL && t->at <= lc->now) {
		s = container_of(t, struct dp_session, timer);
		sl_theap_remove(&lc->timers, t);
		dp_session_wake(lc, s);
	}
	list = lc->busy;
	lc->busy = NULL;
	while ((s = list) != NULL) {
		list = s->next_busy;
		s->busy = false;
		session_run_one(lc, s);
		work++;
	}
	return work;
}

/* When the next timer is due, UINT64_MAX if none (for idle sleeps). */
uint64_t
dp_session_next_timer(const struct dp_lcore *lc)
{
	const struct sl_theap_node *t = sl_theap_top(&lc->timers);

	return lc->busy != NULL ? 0 : t != NULL ? t->at : UINT64_MAX;
}

/* --- statistics --------------------------------------------------------------------------- */

static void
session_stats(const struct dp_session *s, struct dp_session_stats *o)
{
	struct dp_conn_stats st = dp_conn_stats_now(s->conn);

	o->slot = s->slot;
	o->peer = s->peer;
	o->ip = s->ip;
	o->udp_port = s->udp_port;
	o->via = s->via;
	o->opened_ns = s->opened_ns;
	o->pkts_in = s->pkts_in;
	o->pkts_out = s->pkts_out;
	o->bytes_in = s->bytes_in;
	o->bytes_out = s->bytes_out;
	o->msgs_in = st.msgs_delivered;
	o->msgs_out = st.msgs_sent;
	o->retransmits = st.frags_retransmitted;
	o->pkts_lost = st.pkts_lost;
	o->rtt_ns = st.rtt_smoothed_ns;
	o->rtt_min_ns = st.rtt_min_ns;
	o->cwnd = st.cwnd;
	o->channels = st.channels;
}

void
dp_session_stats(struct dp_lcore *lc, struct dp_stats *st)
{
	const struct conf *cfg = lc->rt->cfg;

	st->n = st->total = 0;
	for (unsigned int r = 0; r < DP_DROP_COUNT && r < RTE_DIM(st->drops); r++)
		st->drops[r] = lc->drops.n[r];
	st->rx_pkts = lc->rx_pkts;
	st->tx_pkts = lc->tx_pkts;
	st->handoffs = lc->handoffs;
	st->relay_pkts = lc->relay_pkts;
	st->relay_bytes = lc->relay_bytes;
	st->busy_cycles = lc->busy_cycles;
	for (unsigned int i = 0; i < cfg->services.n; i++)
		st->svc[i] = lc->svc_closed[i];
	memcpy(st->undelivered, lc->undelivered, sizeof(st->undelivered));
	for (uint32_t i = 0; i < cfg->limits.max_sessions; i++) {
		const struct dp_session *s = lc->slots[i];

		if (s == NULL)
			continue;
		for (unsigned int k = 0; k < cfg->services.n; k++)
			dp_svc_stats_add(&s->svc, k, &st->svc[k]);
		if (st->n < st->cap)
			session_stats(s, &st->s[st->n++]);
		st->total++;
	}
}
