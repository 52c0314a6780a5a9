/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: loadgen — the sessions (handshake, first data packet, acknowledgements) and the
 * flood of initiations (see loadgen.c for what they do and why).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sl_dh.h"
#include "dp_frame.h"
#include "loadgen.h"

/* --- pacing --------------------------------------------------------------------------------- */

/* May one more initiation go now (--rate)? */
bool
lg_rate_take(struct lg *g)
{
	if (g->o.rate == 0)
		return true;
	if (g->now > g->tokens_ns) {
		g->tokens += lg_secs(g->now - g->tokens_ns) * (double)g->o.rate;
		if (g->tokens > RTE_MAX(1.0, (double)g->o.rate / 100)) /* 10 ms of burst */
			g->tokens = RTE_MAX(1.0, (double)g->o.rate / 100);
		g->tokens_ns = g->now;
	}
	if (g->tokens < 1.0)
		return false;
	g->tokens -= 1.0;
	return true;
}

/* --- sessions: data packets ----------------------------------------------------------------- */

static void
seal_send(struct lg *g, struct lg_sess *s, const uint8_t *plain, size_t len)
{
	uint8_t *p;
	uint16_t pkt_len = (uint16_t)(len + DP_DATA_OVERHEAD);
	struct rte_mbuf *m = lg_udp_alloc(g, pkt_len, &p);

	if (m == NULL)
		return;
	if (dp_keypair_seal(g->mgr, s->kp, g->now, &g->lim, plain, len, p) != pkt_len) {
		rte_pktmbuf_free(m);
		g->st.tx_dropped++;
		return;
	}
	lg_udp_send(g, m, pkt_len);
}

static void
send_ping(struct lg *g, struct lg_sess *s)
{
	uint8_t plain[PLAIN_MAX];
	size_t n = dp_frame_put_ping(plain, sizeof(plain), SL_FRAME_PING, s->kp->next_pn);

	seal_send(g, s, plain, n);
	g->st.pings_sent++;
}

/* Record packet number pn; fill *a with what to acknowledge: the range it joins, and pn
 * itself apart when it lies below the range (a rare late packet). */
static void
ack_note(struct lg_sess *s, uint64_t pn, struct dp_ack_ranges *a)
{
	memset(a, 0, sizeof(*a));
	if (!s->acked || pn > s->ack_hi + 1) {
		s->ack_lo = s->ack_hi = pn;
		s->acked = true;
	} else if (pn == s->ack_hi + 1) {
		s->ack_hi = pn;
	} else if (s->ack_lo > 0 && pn == s->ack_lo - 1) {
		s->ack_lo = pn;
	}
	a->n = 1;
	a->r[0].lo = s->ack_lo;
	a->r[0].hi = s->ack_hi;
	if (s->ack_lo > 0 && pn < s->ack_lo - 1) {
		a->n = 2;
		a->r[1].lo = a->r[1].hi = pn;
	}
}

/* Frames of an authenticated packet: answer PINGs; does it ask for an ACK? */
static bool
read_frames(const uint8_t *plain, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	struct dp_ack_ranges ack;
	struct dp_frame f;
	size_t off = 0;
	bool eliciting = false;

	while (dp_frame_parse(plain, len, &off, &f, &ack) == 1) {
		eliciting |= dp_frame_ack_eliciting(f.type);
		if (f.type == SL_FRAME_PING)
			*out_len += dp_frame_put_ping(out + *out_len, cap - *out_len, SL_FRAME_PONG,
						      f.token);
	}
	return eliciting;
}

static void session_up(struct lg *g, struct lg_sess *s);

void
lg_on_data(struct lg *g, const uint8_t *pkt, size_t len)
{
	uint8_t plain[2048], out[PLAIN_MAX];
	struct dp_ack_ranges a;
	struct dp_data_rx rx;
	struct lg_sess *s;
	size_t n_out = 0;
	int n;

	if (dp_data_rx_decode(pkt, len, &rx) != 0) {
		g->st.data_bad++;
		return;
	}
	if (g->sess == NULL || rx.receiver >= g->o.sessions || g->sess[rx.receiver].kp == NULL ||
	    rx.plain_len > sizeof(plain)) {
		g->st.rx_other++;
		return;
	}
	s = &g->sess[rx.receiver];
	n = dp_keypair_open(g->mgr, s->kp, g->now, &g->lim, &rx, plain);
	if (n < 0) {
		g->st.data_bad++;
		return;
	}
	g->st.data_rx++;
	if (s->state == LG_CONFIRM)
		session_up(g, s);
	ack_note(s, rx.pn, &a);
	/* PONGs first: the ACK then takes what room is left */
	if (!read_frames(plain, (size_t)n, out, sizeof(out), &n_out))
		return;
	n_out += dp_frame_put_ack(out + n_out, sizeof(out) - n_out, &a);
	seal_send(g, s, out, n_out);
	g->st.acks_sent++;
}

/* --- sessions: handshakes ------------------------------------------------------------------- */

static void
flight_release(struct lg *g, struct lg_sess *s)
{
	struct lg_flight *fl = s->fl;

	if (fl == NULL)
		return;
	cp_hs_pending_wipe(&fl->hs);
	cp_hs_ctx_destroy(fl->ctx);
	fl->ctx = NULL;
	fl->idx = UINT32_MAX;
	s->fl = NULL;
	g->n_flying--;
}

static void
session_up(struct lg *g, struct lg_sess *s)
{
	s->state = LG_UP;
	g->st.established++;
	flight_release(g, s);
}

static void
session_failed(struct lg *g, struct lg_sess *s)
{
	s->state = LG_FAILED;
	g->st.failed++;
	flight_release(g, s);
	dp_keypair_destroy(s->kp);
	s->kp = NULL;
}

static void
send_initiation(struct lg *g, struct lg_sess *s)
{
	struct lg_flight *fl = s->fl;
	struct sl_msg_ik_init m;
	int rc = cp_hs_ik_start(fl->ctx, &fl->hs, g->o.target_pub, g->o.suite, fl->idx, 0,
				lg_wall_ns(), g->cookie.valid ? &g->cookie : NULL, g->now, &m);

	fl->deadline_ns = g->now + g->o.timeout_ns;
	if (rc != 0) {
		fprintf(stderr, "loadgen: session %u: cannot start a handshake: %s\n", fl->idx,
			cp_hs_reason_name(fl->hs.reason));
		session_failed(g, s);
		return;
	}
	lg_send_payload(g, &m, sizeof(m));
	g->st.initiations++;
}

/* Start the handshake of the next session (a free flight is there). */
static int
session_start(struct lg *g, struct lg_flight *fl)
{
	uint32_t idx = g->next_idx++;
	struct lg_sess *s = &g->sess[idx];
	struct cp_hs_config cfg = {
		.network_id = conf_network_id(g->o.network),
		.version = SL_PROTO_VERSION,
		.min_version = SL_PROTO_MIN_VERSION,
		.tstamp_capacity = 1, /* we never answer initiations */
	};

	memcpy(cfg.static_priv, s->priv, SL_KEY_LEN);
	fl->ctx = cp_hs_ctx_create(&cfg);
	sodium_memzero(cfg.static_priv, sizeof(cfg.static_priv));
	if (fl->ctx == NULL)
		return -errno;
	fl->idx = idx;
	s->fl = fl;
	s->state = LG_HANDSHAKE;
	s->attempts = 1;
	g->n_flying++;
	send_initiation(g, s);
	return 0;
}

void
lg_on_ik_resp(struct lg *g, const uint8_t *msg, size_t len)
{
	uint32_t idx = rte_be_to_cpu_32(((const struct sl_msg_ik_resp *)msg)->receiver);
	struct cp_hs_session hs;
	struct lg_sess *s;
	int rc;

	if (idx >= g->o.sessions || g->sess[idx].state != LG_HANDSHAKE) {
		g->st.rx_other++; /* late or duplicate */
		return;
	}
	s = &g->sess[idx];
	/* on a copy: a damaged answer must not spoil the handshake */
	memcpy(g->scratch, &s->fl->hs, sizeof(*g->scratch));
	rc = cp_hs_ik_finish(s->fl->ctx, g->scratch, msg, len, &hs);
	if (rc != 0) {
		g->st.bad_answers++;
		if (rc == -ECONNREFUSED) { /* the appliance said why: network or version */
			if (g->st.refused++ == 0)
				fprintf(stderr, "loadgen: refused by the appliance: %s\n",
					cp_hs_reason_name(g->scratch->reason));
			session_failed(g, s);
		}
		cp_hs_pending_wipe(g->scratch);
		return;
	}
	cp_hs_pending_wipe(g->scratch);
	g->st.answers++;
	s->kp = dp_keypair_create(cp_hs_suite_aead(hs.suite), hs.send_key, hs.recv_key, hs.local_id,
				  hs.remote_id, true, g->now);
	cp_hs_session_wipe(&hs);
	if (s->kp == NULL) {
		session_failed(g, s);
		return;
	}
	s->state = LG_CONFIRM;
	s->attempts = 1;
	s->fl->deadline_ns = g->now + g->o.timeout_ns;
	send_ping(g, s);
}

void
lg_on_cookie_sessions(struct lg *g, const uint8_t *msg, size_t len)
{
	uint32_t idx = rte_be_to_cpu_32(((const struct sl_msg_cookie *)msg)->receiver);
	struct lg_sess *s;

	if (idx >= g->o.sessions || g->sess[idx].state != LG_HANDSHAKE) {
		g->st.rx_other++;
		return;
	}
	s = &g->sess[idx];
	if (cp_hs_cookie_consume(s->fl->ctx, &s->fl->hs, (const struct sl_msg_cookie *)msg, len,
				 g->now, &g->cookie) != 0) {
		g->st.cookies_bad++;
		return;
	}
	g->st.cookies++;
	send_initiation(g, s); /* at once, with mac2 */
}

/* Flights whose deadline passed: send again or give up. */
void
lg_check_timeouts(struct lg *g)
{
	for (uint32_t i = 0; i < g->o.inflight; i++) {
		struct lg_flight *fl = &g->flights[i];
		struct lg_sess *s;

		if (fl->idx == UINT32_MAX || fl->deadline_ns > g->now)
			continue;
		s = &g->sess[fl->idx];
		if (s->attempts >= g->o.retries) {
			session_failed(g, s);
			continue;
		}
		s->attempts++;
		if (s->state == LG_HANDSHAKE) {
			send_initiation(g, s);
		} else {
			fl->deadline_ns = g->now + g->o.timeout_ns;
			send_ping(g, s);
		}
	}
}

int
lg_start_more(struct lg *g)
{
	for (uint32_t i = 0; i < g->o.inflight && g->next_idx < g->o.sessions; i++) {
		int rc;

		if (g->flights[i].idx != UINT32_MAX)
			continue;
		if (!lg_rate_take(g))
			break;
		rc = session_start(g, &g->flights[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
lg_sessions_alloc(struct lg *g)
{
	size_t fl_size = RTE_ALIGN_CEIL(sizeof(struct lg_flight) * g->o.inflight, 64);

	g->sess = calloc(g->o.sessions, sizeof(*g->sess));
	g->flights = aligned_alloc(64, fl_size);
	g->scratch = aligned_alloc(64, RTE_ALIGN_CEIL(sizeof(*g->scratch), 64));
	if (g->sess == NULL || g->flights == NULL || g->scratch == NULL)
		return -ENOMEM;
	memset(g->flights, 0, fl_size);
	for (uint32_t i = 0; i < g->o.inflight; i++)
		g->flights[i].idx = UINT32_MAX;
	for (uint32_t i = 0; i < g->o.sessions; i++) {
		uint8_t pub[SL_KEY_LEN];

		sl_dh_keygen(g->sess[i].priv, pub);
	}
	return 0;
}

void
lg_sessions_free(struct lg *g)
{
	if (g->sess != NULL) {
		for (uint32_t i = 0; i < g->o.sessions; i++) {
			flight_release(g, &g->sess[i]);
			dp_keypair_destroy(g->sess[i].kp);
		}
		sodium_memzero(g->sess, sizeof(*g->sess) * g->o.sessions);
	}
	free(g->sess);
	free(g->flights);
	if (g->scratch != NULL)
		cp_hs_pending_wipe(g->scratch);
	free(g->scratch);
	g->scratch = NULL;
	g->sess = NULL;
	g->flights = NULL;
}

/* --- flood ---------------------------------------------------------------------------------- */

int
lg_flood_alloc(struct lg *g)
{
	uint32_t p = g->o.sessions;

	g->ctxs = calloc(p, sizeof(*g->ctxs));
	g->pool = calloc(p, sizeof(*g->pool));
	g->ring = calloc(FLOOD_RING, sizeof(*g->ring));
	g->ring_id = calloc(FLOOD_RING, sizeof(*g->ring_id));
	g->scratch = aligned_alloc(64, RTE_ALIGN_CEIL(sizeof(*g->scratch), 64));
	if (g->ctxs == NULL || g->pool == NULL || g->ring == NULL || g->ring_id == NULL ||
	    g->scratch == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < p; i++) {
		struct cp_hs_config cfg = {
			.network_id = conf_network_id(g->o.network),
			.version = SL_PROTO_VERSION,
			.min_version = SL_PROTO_MIN_VERSION,
			.tstamp_capacity = 1,
		};
		uint8_t pub[SL_KEY_LEN];

		sl_dh_keygen(cfg.static_priv, pub);
		g->ctxs[i] = cp_hs_ctx_create(&cfg);
		sodium_memzero(cfg.static_priv, sizeof(cfg.static_priv));
		if (g->ctxs[i] == NULL)
			return -ENOMEM;
		if (g->o.replay && cp_hs_ik_start(g->ctxs[i], g->scratch, g->o.target_pub,
						  g->o.suite, FLOOD_ID_BIT | i, 0, lg_wall_ns(),
						  NULL, g->now, &g->pool[i]) != 0)
			return -EINVAL;
	}
	cp_hs_pending_wipe(g->scratch);
	return 0;
}

void
lg_flood_free(struct lg *g)
{
	for (uint32_t i = 0; g->ctxs != NULL && i < g->o.sessions; i++)
		cp_hs_ctx_destroy(g->ctxs[i]);
	free(g->ctxs);
	free(g->pool);
	free(g->ring);
	free(g->ring_id);
	if (g->scratch != NULL)
		cp_hs_pending_wipe(g->scratch);
	free(g->scratch);
	g->scratch = NULL;
	g->ctxs = NULL;
	g->pool = NULL;
	g->ring = NULL;
	g->ring_id = NULL;
}

/* The next flood initiation into m. */
static int
flood_build(struct lg *g, struct sl_msg_ik_init *m)
{
	uint32_t i = (uint32_t)(g->flood_seq % g->o.sessions);
	uint32_t id = FLOOD_ID_BIT | (uint32_t)(g->flood_seq & 0x7fffffffu);
	const struct cp_cookie *ck = g->cookie.valid ? &g->cookie : NULL;

	if (g->o.replay) {
		*m = g->pool[i];
		id = FLOOD_ID_BIT | i;
		cp_macs_write((uint8_t *)m, sizeof(*m), g->mac1_key, ck, g->now,
			      SL_COOKIE_ROTATE_NS);
	} else if (cp_hs_ik_start(g->ctxs[i], g->scratch, g->o.target_pub, g->o.suite, id, 0,
				  lg_wall_ns(), ck, g->now, m) != 0) {
		return -EINVAL;
	}
	memcpy(g->ring[id % FLOOD_RING], m->macs.mac1, SL_MAC_LEN);
	g->ring_id[id % FLOOD_RING] = id;
	g->flood_seq++;
	return 0;
}

void
lg_on_cookie_flood(struct lg *g, const uint8_t *msg, size_t len)
{
	uint32_t id = rte_be_to_cpu_32(((const struct sl_msg_cookie *)msg)->receiver);

	if ((id & FLOOD_ID_BIT) == 0 || g->ring_id[id % FLOOD_RING] != id ||
	    cp_cookie_consume(&g->cookie, (const void *)msg, len, g->cookie_key,
			      g->ring[id % FLOOD_RING], g->now) != 0) {
		g->st.cookies_bad++;
		return;
	}
	g->st.cookies++;
}

/* Send what the port and --rate allow this round. */
int
lg_flood_send(struct lg *g)
{
	int sent = 0;

	for (unsigned int k = 0; k < TX_BURST && !lg_quit; k++) {
		struct sl_msg_ik_init m;

		if (!lg_rate_take(g))
			break;
		if (flood_build(g, &m) != 0)
			return -EINVAL;
		g->st.initiations++;
		lg_send_payload(g, &m, sizeof(m));
		sent++;
	}
	return sent;
}
