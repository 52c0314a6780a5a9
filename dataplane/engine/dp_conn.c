/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the reliable engine — configuration, lifecycle, channels (made on first use), events,
 * the application's side (send, receive, release), closing, timers and statistics
 * (see dp_conn.h).
 *
 * The engine is split by direction. Receive side: dp_conn_in.c (frames in and their dispatch,
 * acknowledged and lost packets resolved) and dp_chan_in.c (what that means for a channel's
 * sent messages; reassembly, delivery, credit given back). Send side: dp_conn_out.c
 * (scheduling, packet assembly, the record of what each packet carried) and dp_chan_out.c (the
 * send queue, retransmissions, DATA/DATAGRAM frames). dp_conn_pvt.h holds what they share.
 *
 * Owner thread only: a connection and everything in it belongs to one thread and nothing here
 * is thread-safe; its configuration is shared read-only (dp_conn.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dp_conn_pvt.h"

#define MS  1000000ull
#define SEC 1000000000ull

static const char *const drop_names[] = {
#define DP_CONN_DROP_NAME(name, str) [DP_CONN_DROP_##name] = str,
	DP_CONN_DROPS(DP_CONN_DROP_NAME)
#undef DP_CONN_DROP_NAME
};

const char *
dp_conn_drop_name(enum dp_conn_drop d)
{
	return (unsigned int)d < DP_CONN_DROP_COUNT ? drop_names[d] : "unknown";
}

/* --- configuration -------------------------------------------------------------------------- */

void
dp_conn_config_defaults(struct dp_conn_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_payload = SL_DEFAULT_PAYLOAD;
	cfg->max_message = SL_DEFAULT_MAX_MESSAGE;
	cfg->conn_window = 16u << 20;
	cfg->chan_window = 4u << 20;
	cfg->max_ack_delay_ns = 25 * MS;
	cfg->ack_every = 2;
	cfg->idle_timeout_ns = 30 * SEC;
	cfg->keepalive_ns = 10 * SEC;
	cfg->max_ptos = 6;
	cfg->initial_rtt_ns = SL_INITIAL_RTT_NS;
	cfg->cc = DP_CC_CUBIC;
	cfg->pacing = true;
	cfg->n_channels = 8;
	for (unsigned int i = 0; i < cfg->n_channels; i++) {
		cfg->chan[i].kind = DP_CHAN_RELIABLE;
		cfg->chan[i].priority = i == SL_CONTROL_CHANNEL ? 7 : (uint8_t)(i - 1);
		cfg->chan[i].queue_limit = 8u << 20;
	}
}

static const char *
check_channel(const struct dp_conn_config *cfg, const struct dp_chan_config *ch)
{
	switch (ch->kind) {
	case DP_CHAN_UNUSED:
		return NULL;
	case DP_CHAN_RELIABLE:
		if (ch->queue_limit < cfg->max_message)
			return "chan[].queue_limit: must hold max_message";
		break;
	case DP_CHAN_DATAGRAM:
		if (ch->queue_limit < cfg->max_payload)
			return "chan[].queue_limit: must hold one packet";
		break;
	default:
		return "chan[].kind: unknown";
	}
	return ch->priority > 7 ? "chan[].priority: 0..7" : NULL;
}

const char *
dp_conn_config_check(const struct dp_conn_config *cfg)
{
	if (cfg->max_payload < SL_MIN_PAYLOAD || cfg->max_payload > SL_MAX_PAYLOAD)
		return "max_payload: out of range (512..9000)";
	if (cfg->max_message == 0 || cfg->max_message > SL_MAX_MESSAGE)
		return "max_message: out of range (1..64 MiB)";
	if (cfg->chan_window < cfg->max_message || cfg->chan_window < DP_INITIAL_CHAN_CREDIT)
		return "chan_window: must hold max_message and at least 64 KiB";
	if (cfg->conn_window < cfg->chan_window || cfg->conn_window < DP_INITIAL_CONN_CREDIT)
		return "conn_window: must be at least chan_window and 256 KiB";
	if (cfg->conn_window > (1u << 31))
		return "conn_window: at most 2 GiB";
	if (cfg->max_ack_delay_ns > SEC || cfg->ack_every == 0)
		return "max_ack_delay_ns / ack_every: delay at most 1 s, ack_every at least 1";
	if (cfg->max_ptos == 0 || cfg->initial_rtt_ns == 0)
		return "max_ptos / initial_rtt_ns: must be positive";
	if (cfg->cc != DP_CC_NEWRENO && cfg->cc != DP_CC_CUBIC)
		return "cc: unknown algorithm";
	if (cfg->n_channels == 0 || cfg->n_channels > SL_MAX_CHANNELS)
		return "n_channels: 1..16";
	if (cfg->chan[SL_CONTROL_CHANNEL].kind != DP_CHAN_RELIABLE)
		return "chan[0]: the control channel must be reliable";
	for (unsigned int i = 0; i < cfg->n_channels; i++) {
		const char *why = check_channel(cfg, &cfg->chan[i]);

		if (why != NULL)
			return why;
	}
	return NULL;
}

int
dp_conn_config_validate(const struct dp_conn_config *cfg)
{
	return dp_conn_config_check(cfg) == NULL ? 0 : -EINVAL;
}

/* --- lifecycle ------------------------------------------------------------------------------ */

struct dp_conn *
dp_conn_create(const struct dp_conn_config *cfg, uint64_t now_ns)
{
	struct dp_conn *c;

	if (dp_conn_config_validate(cfg) != 0) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	c->cfg = cfg;
	c->state = DP_CONN_OPEN;
	dp_recovery_init(&c->rec, cfg->cc, cfg->max_payload + DP_PKT_OVERHEAD, cfg->pacing,
			 cfg->initial_rtt_ns, cfg->max_ack_delay_ns, now_ns);
	dp_ack_init(&c->ack);
	c->tx_conn_max = DP_INITIAL_CONN_CREDIT;
	c->rx_conn_advertised = DP_INITIAL_CONN_CREDIT;
	c->conn_credit_dirty = cfg->conn_window > DP_INITIAL_CONN_CREDIT;
	c->chan_default_dirty = cfg->chan_window > DP_INITIAL_CHAN_CREDIT;
	c->tx_chan_default = DP_INITIAL_CHAN_CREDIT;
	c->last_recv_ns = c->last_send_ns = now_ns;
	c->next_expiry_ns = UINT64_MAX;
	c->heap = sizeof(*c);
	return c;
}

void
dp_conn_ping(struct dp_conn *c)
{
	if (c->state == DP_CONN_OPEN)
		c->ping_due = true;
}

static void
drop_delivered(struct dp_conn *c)
{
	struct dp_imsg *im;

	while ((im = c->dq_head) != NULL) {
		c->dq_head = im->next;
		dp_chan_release(c, im);
	}
	c->dq_tail = NULL;
}

void
dp_conn_destroy(struct dp_conn *c)
{
	if (c == NULL)
		return;
	drop_delivered(c);
	for (unsigned int i = 0; i < c->cfg->n_channels; i++) {
		if (dp_chan_at(c, i) != NULL) {
			dp_chan_drop_queue(c, c->chans[i]);
			dp_chan_drop_rx(c, c->chans[i]);
		}
	}
	dp_conn_refs_fini(c); /* frees messages only packets in flight still held */
	for (unsigned int i = 0; i < c->cfg->n_channels; i++)
		free(dp_chan_at(c, i));
	free(c->chans);
	dp_recovery_fini(&c->rec);
	free(c->ev);
	free(c);
}

enum dp_conn_state
dp_conn_state(const struct dp_conn *c)
{
	return c->state;
}

static_assert(offsetof(struct dp_conn_stats, drops) == offsetof(struct dp_conn_counters, drops),
	      "the stats start with the counters");

void
dp_conn_get_stats(const struct dp_conn *c, struct dp_conn_stats *out)
{
	memcpy(out, &c->cnt, sizeof(c->cnt));
	out->pkts_lost = c->rec.stats.lost;
	out->ptos = c->rec.stats.ptos;
	out->rtt_smoothed_ns = c->rec.rtt.smoothed_ns;
	out->rtt_min_ns = dp_rtt_sampled(&c->rec.rtt) ? c->rec.rtt.min_ns : 0;
	out->rtt_var_ns = c->rec.rtt.var_ns;
	out->rtt_latest_ns = c->rec.rtt.latest_ns;
	out->cwnd = c->rec.cc.cwnd;
	out->bytes_in_flight = c->rec.bytes_in_flight;
	out->channels = 0;
	for (unsigned int i = 0; c->chans != NULL && i < c->cfg->n_channels; i++)
		if (c->chans[i] != NULL)
			out->channels |= 1u << i;
}

void
dp_conn_undelivered(const struct dp_conn *c, struct dp_conn_undelivered *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < c->cfg->n_channels; i++)
		if (dp_chan_at(c, i) != NULL)
			dp_chan_tx_undelivered(c->chans[i], &out->chan[i]);
	dp_conn_dgrams_in_flight(c, out);
	dp_chan_rx_undelivered(c, out);
	for (unsigned int i = 0; i < SL_MAX_CHANNELS; i++)
		dp_undelivered_add(&out->total, &out->chan[i]);
}

size_t
dp_conn_memory(const struct dp_conn *c)
{
	return c->heap + dp_recovery_memory(&c->rec) + c->ev_cap * sizeof(*c->ev) +
	       c->ref_cap * sizeof(struct dp_ref);
}
/* --- channels ------------------------------------------------------------------------------- */

struct dp_chan *
dp_chan_get_slow(struct dp_conn *c, uint8_t id)
{
	struct dp_chan *ch;

	if (id >= c->cfg->n_channels || c->cfg->chan[id].kind == DP_CHAN_UNUSED)
		return NULL;
	if (c->chans == NULL) {
		c->chans = calloc(c->cfg->n_channels, sizeof(*c->chans));
		if (c->chans == NULL)
			return NULL;
		c->heap += c->cfg->n_channels * sizeof(*c->chans);
	}
	if (c->chans[id] != NULL)
		return c->chans[id];
	ch = calloc(1, sizeof(*ch));
	if (ch == NULL)
		return NULL;
	ch->id = id;
	ch->peer_max = DP_INITIAL_CHAN_CREDIT;
	/* what the peer may send before hearing from this channel: the default credit, once our
	 * MAX_CHAN_DEFAULT has gone out */
	ch->rx_advertised = c->chan_default_dirty ? DP_INITIAL_CHAN_CREDIT : c->cfg->chan_window;
	c->chans[id] = ch;
	if (dp_chan_reliable(c, ch) && c->cfg->chan_window > ch->rx_advertised)
		dp_chan_owe_credit(c, ch);
	c->heap += sizeof(*ch);
	return ch;
}

/* --- events --------------------------------------------------------------------------------- */

/* A slot for a new event, or NULL if memory ran out (the counters still tell). */
static struct dp_conn_event *
event_slot(struct dp_conn *c)
{
	struct dp_conn_event *ev;

	if (c->ev_n == c->ev_cap) {
		uint32_t cap = c->ev_cap ? c->ev_cap * 2 : 8;
		struct dp_conn_event *v = malloc(cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		for (uint32_t i = 0; i < c->ev_n; i++)
			v[i] = c->ev[(c->ev_head + i) % c->ev_cap];
		free(c->ev);
		c->ev = v;
		c->ev_cap = cap;
		c->ev_head = 0;
	}
	ev = &c->ev[(c->ev_head + c->ev_n++) % c->ev_cap];
	memset(ev, 0, sizeof(*ev));
	return ev;
}

void
dp_conn_event_push(struct dp_conn *c, enum dp_conn_event_type type, uint8_t chan, uint64_t id)
{
	struct dp_conn_event *ev = event_slot(c);

	if (ev != NULL) {
		ev->type = type;
		ev->chan = chan;
		ev->id = id;
	}
}

bool
dp_conn_poll_event(struct dp_conn *c, struct dp_conn_event *ev)
{
	if (c->ev_n == 0)
		return false;
	*ev = c->ev[c->ev_head];
	c->ev_head = (c->ev_head + 1) % c->ev_cap;
	c->ev_n--;
	if (c->ev_n == 0) { /* an idle connection keeps no event buffer */
		free(c->ev);
		c->ev = NULL;
		c->ev_cap = c->ev_head = 0;
	}
	return true;
}

/* --- application side ----------------------------------------------------------------------- */

int
dp_conn_send(struct dp_conn *c, uint8_t chan, const void *data, size_t len, uint64_t ttl_ns,
	     uint64_t now_ns, uint64_t *msg_id)
{
	struct dp_chan *ch;
	uint64_t ttl, expires;
	int rc;

	if (c->state != DP_CONN_OPEN)
		return -EPIPE;
	if (chan >= c->cfg->n_channels || c->cfg->chan[chan].kind == DP_CHAN_UNUSED || len == 0)
		return -EINVAL;
	if (len > c->cfg->max_message ||
	    (c->cfg->chan[chan].kind == DP_CHAN_DATAGRAM &&
	     len > c->cfg->max_payload - sizeof(struct sl_frame_datagram)))
		return -EMSGSIZE;
	ch = dp_chan_get(c, chan);
	if (ch == NULL)
		return -ENOMEM;
	ttl = ttl_ns ? ttl_ns : dp_chan_cfg(c, ch)->ttl_ns;
	expires = ttl ? now_ns + ttl : 0;
	rc = dp_chan_enqueue(c, ch, data, (uint32_t)len, expires, msg_id);
	if (rc != 0)
		return rc;
	c->cnt.msgs_sent++;
	if (expires != 0 && expires < c->next_expiry_ns)
		c->next_expiry_ns = expires;
	return 0;
}

uint32_t
dp_conn_send_room(const struct dp_conn *c, uint8_t chan)
{
	const struct dp_chan *ch;
	uint32_t qlim, ulim = c->cfg->unsent_limit, queued = 0, unsent = 0, room;

	if (c->state != DP_CONN_OPEN || chan >= c->cfg->n_channels ||
	    c->cfg->chan[chan].kind == DP_CHAN_UNUSED)
		return 0;
	ch = dp_chan_at(c, chan);
	if (ch != NULL) {
		queued = ch->queued;
		unsent = ch->unsent_bytes;
	}
	/* dp_chan_enqueue(): queued + len <= queue_limit, and unsent < unsent_limit before it */
	qlim = c->cfg->chan[chan].queue_limit;
	room = queued < qlim ? qlim - queued : 0;
	if (ulim != 0)
		room = unsent < ulim ? RTE_MIN(room, ulim - unsent) : 0;
	return room;
}

struct dp_msg *
dp_conn_recv(struct dp_conn *c)
{
	struct dp_imsg *im = c->dq_head;

	if (im == NULL)
		return NULL;
	c->dq_head = im->next;
	if (c->dq_head == NULL)
		c->dq_tail = NULL;
	return &im->m;
}

void
dp_conn_msg_release(struct dp_conn *c, struct dp_msg *m)
{
	dp_chan_release(c, container_of(m, struct dp_imsg, m));
}

static void
enter_closed(struct dp_conn *c, uint16_t reason, bool by_peer, bool send_close)
{
	struct dp_conn_event *ev;

	/* nothing more is sent, resent or expired; the queues stay as they are until
	 * dp_conn_destroy(), so that dp_conn_undelivered() can count what they hold */
	c->state = DP_CONN_CLOSED;
	c->close_reason = reason;
	c->close_pending = send_close;
	c->closed_by_peer = by_peer;
	ev = event_slot(c);
	if (ev != NULL) {
		ev->type = DP_EV_CLOSED;
		ev->reason = reason;
		ev->by_peer = by_peer;
	}
}

void
dp_conn_close(struct dp_conn *c, bool graceful, uint16_t reason, uint64_t now_ns)
{
	(void)now_ns;
	if (c->state == DP_CONN_CLOSED)
		return;
	if (graceful) {
		c->state = DP_CONN_DRAINING;
		c->close_reason = reason;
		c->close_graceful = true;
		return;
	}
	enter_closed(c, reason, false, true);
}

int
dp_conn_fail(struct dp_conn *c, enum dp_conn_drop why, uint16_t reason)
{
	c->cnt.drops[why]++;
	if (c->state != DP_CONN_CLOSED)
		enter_closed(c, reason, false, true);
	return -EPROTO;
}

/* The graceful close is complete once every reliable message has been acknowledged. */
bool
dp_conn_drained(const struct dp_conn *c)
{
	for (unsigned int i = 0; i < c->cfg->n_channels; i++)
		if (dp_chan_at(c, i) != NULL && c->chans[i]->head != NULL)
			return false;
	return true;
}

void
dp_conn_enter_closed(struct dp_conn *c, uint16_t reason, bool by_peer, bool send_close)
{
	enter_closed(c, reason, by_peer, send_close);
}

/* --- timers --------------------------------------------------------------------------------- */

/* A keepalive PING is only needed while nothing ack-eliciting is in flight (otherwise the
 * probe timeout watches the peer) and until one is owed. */
static bool
keepalive_armed(const struct dp_conn *c)
{
	return c->cfg->keepalive_ns != 0 && !c->ping_due && c->rec.eliciting_in_flight == 0;
}

/* Buffers dp_conn_trim() would release (it does once nothing is in flight): an idle
 * connection keeps only its fixed state. */
static bool
trimmable(const struct dp_conn *c)
{
	const struct dp_recovery *r = &c->rec;

	return r->bytes_in_flight == 0 &&
	       ((c->refs != NULL && c->ref_head == c->ref_tail) || (r->ring != NULL && r->n == 0) ||
		(r->lost != NULL && r->lost_n == 0));
}

uint64_t
dp_conn_next_wakeup(const struct dp_conn *c)
{
	uint64_t t;

	if (c->state == DP_CONN_CLOSED)
		return c->close_pending ? 0 : UINT64_MAX;
	t = RTE_MIN(dp_recovery_timer(&c->rec), dp_ack_deadline(&c->ack));
	t = RTE_MIN(t, c->next_expiry_ns);
	if (c->cfg->idle_timeout_ns != 0)
		t = RTE_MIN(t, c->last_recv_ns + c->cfg->idle_timeout_ns);
	if (keepalive_armed(c))
		t = RTE_MIN(t, c->last_send_ns + c->cfg->keepalive_ns);
	if (trimmable(c)) { /* without keepalives and idle timeout nothing else would wake it */
		uint64_t last = RTE_MAX(c->last_send_ns, c->last_recv_ns);

		t = RTE_MIN(t, last + DP_CONN_TRIM_NS);
	}
	if (dp_conn_has_data(c) && dp_cc_window_open(&c->rec.cc, c->rec.bytes_in_flight,
						     c->cfg->max_payload + DP_PKT_OVERHEAD))
		t = RTE_MIN(t, c->rec.cc.pace_next_ns);
	return t;
}

static void
expire_all(struct dp_conn *c, uint64_t now_ns)
{
	uint64_t next = UINT64_MAX;

	for (unsigned int i = 0; i < c->cfg->n_channels; i++)
		if (dp_chan_at(c, i) != NULL)
			next = RTE_MIN(next, dp_chan_expire(c, c->chans[i], now_ns));
	c->next_expiry_ns = next;
}

void
dp_conn_tick(struct dp_conn *c, uint64_t now_ns)
{
	const struct dp_recovery_cb cb = { dp_conn_on_acked, dp_conn_on_lost, c };

	if (c->state == DP_CONN_CLOSED)
		return;
	if (dp_conn_idle_expired(c, now_ns)) {
		enter_closed(c, SL_CLOSE_IDLE, false, true);
		return;
	}
	if (dp_recovery_timer(&c->rec) <= now_ns) {
		dp_recovery_on_timer(&c->rec, now_ns, &cb);
		if (c->rec.pto_count >= c->cfg->max_ptos && !c->unresponsive_reported) {
			c->unresponsive_reported = true;
			dp_conn_event_push(c, DP_EV_UNRESPONSIVE, 0, 0);
		}
	}
	if (c->next_expiry_ns <= now_ns)
		expire_all(c, now_ns);
	if (keepalive_armed(c) && now_ns - c->last_send_ns >= c->cfg->keepalive_ns)
		c->ping_due = true;
	if (c->rec.bytes_in_flight == 0)
		dp_conn_trim(c);
}
