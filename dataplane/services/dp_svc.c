/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the built-in services (echo, sink, source) on one session — see dp_svc.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp_svc.h"
#include "dp_svc_msg.h"

#define TOKEN_UNIT 1000000000ull /* one message, in rate-per-nanosecond units */

struct svc_echo {
	struct dp_msg **held; /* ring of delivered messages not yet returned, oldest first */
	uint32_t head, n, cap;
};

struct svc_sink {
	uint64_t expect; /* next sequence number */
};

struct svc_source {
	uint64_t count;		 /* 0: unbounded */
	uint64_t rate;		 /* messages/s, 0: unlimited */
	uint32_t min, max;	 /* sizes, clamped */
	uint64_t seed;		 /* sizes are a function of (seed, seq) */
	uint64_t next_seq;	 /* next to send */
	uint64_t echo_next;	 /* next echo expected */
	uint32_t in_flight;	 /* sent and not echoed yet, at most (0: no limit) */
	uint64_t tokens, cap;	 /* token bucket, TOKEN_UNIT per message */
	uint64_t last_ns;	 /* when the bucket was last filled */
	uint8_t *buf;		 /* max bytes: the message being built */
	struct sl_hist *rtt; /* expect_echo only */
	bool started;		 /* polled once: the bucket fills from then on */
	bool stopped;		 /* the engine refused for good */
};

struct dp_svc_inst {
	uint8_t type; /* enum dp_svc_type */
	uint8_t chan;
	bool blocked; /* a send said -ENOBUFS: wait for DP_EV_WRITABLE */
	struct dp_svc_counters cnt;
	uint64_t first_ns, last_ns; /* first and last activity (see struct dp_svc_stats) */
	union {
		struct svc_echo echo;
		struct svc_sink sink;
		struct svc_source src;
	};
};

/* Activity at now: the first one starts the service's active period, each one ends it. */
static inline void
svc_active(struct dp_svc_inst *in, uint64_t now)
{
	if (in->first_ns == 0)
		in->first_ns = now;
	in->last_ns = now;
}

static const struct dp_svc_def *
svc_conf(const struct dp_svc *svc, unsigned int idx)
{
	return &svc->cfg->svc[idx];
}

/* --- configuration -------------------------------------------------------------------------- */
static const char *
check_one(const struct dp_svc_config *cfg, unsigned int i)
{
	const struct dp_svc_def *s = &cfg->svc[i];

	if (s->channel == SL_CONTROL_CHANNEL)
		return "services cannot use channel 0 (the control plane's)";
	if (s->channel >= cfg->n_channels)
		return "the service's channel is not configured";
	if (s->type != DP_SVC_SOURCE)
		return NULL;
	if (s->peer >= cfg->n_peers)
		return "a source's peer must be a configured peer";
	if (s->max_size != 0 && s->min_size > s->max_size)
		return "a source's min_size is above its max_size";
	if (s->max_size > cfg->max_message || s->min_size > cfg->max_message)
		return "a source's message size is above max_message";
	return NULL;
}

static const char *
check_pair(const struct dp_svc_def *a, const struct dp_svc_def *b)
{
	bool a_src = a->type == DP_SVC_SOURCE, b_src = b->type == DP_SVC_SOURCE;

	if (a->channel != b->channel)
		return NULL;
	if (!a_src && !b_src)
		return "two echo/sink services on one channel";
	if (a_src && b_src && a->peer == b->peer)
		return "two sources towards one peer on one channel";
	return NULL;
}

const char *
dp_svc_type_name(enum dp_svc_type type)
{
	switch (type) {
	case DP_SVC_ECHO:
		return "echo";
	case DP_SVC_SINK:
		return "sink";
	case DP_SVC_SOURCE:
		return "source";
	default:
		return "?";
	}
}

const char *
dp_svc_conf_check(const struct dp_svc_config *cfg, unsigned int *which)
{
	const char *why = NULL;
	unsigned int i, j;

	if (cfg->n > DP_SVC_MAX)
		return "too many services";
	for (i = 0; i < cfg->n && why == NULL; i++) {
		why = check_one(cfg, i);
		for (j = 0; j < i && why == NULL; j++)
			why = check_pair(&cfg->svc[j], &cfg->svc[i]);
	}
	if (why != NULL && which != NULL)
		*which = i - 1;
	return why;
}

int
dp_svc_init(struct dp_svc *svc, const struct dp_svc_config *cfg, unsigned int peer_index)
{
	memset(svc, 0, sizeof(*svc));
	svc->wakeup = UINT64_MAX;
	if (dp_svc_conf_check(cfg, NULL) != NULL)
		return -EINVAL;
	svc->cfg = cfg;
	for (unsigned int i = 0; i < cfg->n; i++) {
		const struct dp_svc_def *s = &cfg->svc[i];

		if (s->type != DP_SVC_SOURCE) {
			svc->plain[s->channel] = (uint8_t)(i + 1);
		} else if (s->peer == peer_index) {
			svc->src_mask |= (uint16_t)(1u << i);
			if (s->expect_echo)
				svc->echo_src[s->channel] = (uint8_t)(i + 1);
		}
	}
	if (svc->src_mask != 0)
		svc->wakeup = 0; /* the sources start at the first poll */
	return 0;
}

/* --- instances ------------------------------------------------------------------------------ */
static uint64_t
mix64(uint64_t z)
{
	z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ z >> 27) * 0x94d049bb133111ebull;
	return z ^ z >> 31;
}

static int
source_setup(struct dp_svc *svc, unsigned int idx, struct svc_source *src)
{
	const struct dp_svc_def *s = svc_conf(svc, idx);
	uint64_t burst;

	src->count = s->count;
	src->rate = RTE_MIN(s->rate, DP_SVC_MAX_RATE);
	src->in_flight = s->expect_echo ? s->in_flight : 0;
	src->min = RTE_MAX(s->min_size, 1u);
	src->max = RTE_MAX(s->max_size, src->min);
	src->max = RTE_MIN(src->max, svc->cfg->max_message);
	src->min = RTE_MIN(src->min, src->max);
	src->seed = mix64(0x736c756963650000ull ^ (uint64_t)idx << 24 ^ (uint64_t)s->peer << 8 ^
			  s->channel);
	burst = RTE_MAX(src->rate * DP_SVC_BURST_NS / 1000000000ull, 2ull);
	src->cap = burst * TOKEN_UNIT;
	src->tokens = TOKEN_UNIT; /* the first message leaves at once */
	src->buf = malloc(src->max);
	if (src->buf == NULL)
		return -ENOMEM;
	if (s->expect_echo) {
		src->rtt = calloc(1, sizeof(*src->rtt));
		if (src->rtt == NULL) {
			free(src->buf);
			return -ENOMEM;
		}
	}
	return 0;
}

/* The state of service idx, created on first use; NULL when out of memory. */
static struct dp_svc_inst *
inst_get(struct dp_svc *svc, unsigned int idx)
{
	const struct dp_svc_def *s = svc_conf(svc, idx);
	struct dp_svc_inst *in;

	if (svc->inst == NULL) {
		svc->inst = calloc(svc->cfg->n, sizeof(*svc->inst));
		if (svc->inst == NULL)
			return NULL;
	}
	if (svc->inst[idx] != NULL)
		return svc->inst[idx];
	in = calloc(1, sizeof(*in));
	if (in == NULL)
		return NULL;
	in->type = (uint8_t)s->type;
	in->chan = s->channel;
	if (s->type == DP_SVC_SOURCE && source_setup(svc, idx, &in->src) != 0) {
		free(in);
		return NULL;
	}
	svc->inst[idx] = in;
	return in;
}

static void
echo_drop_held(struct dp_svc_inst *in, struct dp_conn *conn)
{
	struct svc_echo *e = &in->echo;

	for (; e->n > 0; e->n--, e->head = (e->head + 1) & (e->cap - 1)) {
		in->cnt.dropped++;
		if (conn != NULL)
			dp_conn_msg_release(conn, e->held[e->head]);
	}
	free(e->held);
	e->held = NULL;
	e->head = e->cap = 0;
}

static void
inst_free(struct dp_svc_inst *in, struct dp_conn *conn)
{
	if (in->type == DP_SVC_ECHO)
		echo_drop_held(in, conn);
	if (in->type == DP_SVC_SOURCE) {
		free(in->src.buf);
		free(in->src.rtt);
	}
	free(in);
}

void
dp_svc_fini(struct dp_svc *svc, struct dp_conn *conn)
{
	if (svc->inst != NULL) {
		for (unsigned int i = 0; i < svc->cfg->n; i++)
			if (svc->inst[i] != NULL)
				inst_free(svc->inst[i], conn);
		free(svc->inst);
	}
	memset(svc, 0, sizeof(*svc));
	svc->wakeup = UINT64_MAX;
}

/* --- source --------------------------------------------------------------------------------- */
static bool
source_sent_all(const struct svc_source *src)
{
	return src->count != 0 && src->next_seq >= src->count;
}

/* As many messages out, not echoed yet, as allowed. */
static bool
source_window_full(const struct svc_source *src)
{
	return src->in_flight != 0 && src->next_seq - src->echo_next >= src->in_flight;
}

static bool
source_done(const struct svc_source *src)
{
	return source_sent_all(src) && (src->rtt == NULL || src->echo_next >= src->count);
}

static uint32_t
source_size(const struct svc_source *src, uint64_t seq)
{
	uint64_t span = (uint64_t)(src->max - src->min) + 1;

	return src->min +
	       (uint32_t)((mix64(src->seed + seq * 0x9e3779b97f4a7c15ull) >> 32) * span >> 32);
}

static void
source_refill(struct svc_source *src, uint64_t now)
{
	uint64_t dt = now > src->last_ns ? now - src->last_ns : 0;

	if (dt >= src->cap / src->rate + 1)
		src->tokens = src->cap;
	else
		src->tokens = RTE_MIN(src->cap, src->tokens + dt * src->rate);
	src->last_ns = RTE_MAX(now, src->last_ns);
}

/* Queue message next_seq. 0, or the engine's error. */
static int
source_send_one(struct dp_svc_inst *in, struct dp_conn *conn, uint64_t now)
{
	struct svc_source *src = &in->src;
	uint32_t len = source_size(src, src->next_seq);
	int rc;

	dp_svc_msg_build(src->buf, len, src->next_seq, now);
	rc = dp_conn_send(conn, in->chan, src->buf, len, 0, now, NULL);
	if (rc == 0) {
		if (in->first_ns == 0 || src->rtt == NULL)
			svc_active(in, now);
		src->next_seq++;
		in->cnt.msgs_sent++;
		in->cnt.bytes_sent += len;
	} else if (rc == -ENOBUFS) {
		in->blocked = true;
		in->cnt.send_blocked++;
	} else if (rc == -EPIPE) {
		src->stopped = true; /* the connection is closing: nothing was lost */
	} else if (rc != -ENOMEM) {  /* -ENOMEM: try again at the next poll */
		src->stopped = true; /* a size the channel can never take */
		in->cnt.dropped++;
	}
	return rc;
}

static void
source_poll(struct dp_svc_inst *in, struct dp_conn *conn, uint64_t now)
{
	struct svc_source *src = &in->src;

	if (!src->started) {
		src->started = true;
		src->last_ns = now; /* the bucket starts filling at the first poll */
	}
	for (unsigned int n = 0; n < DP_SVC_POLL_BATCH; n++) {
		if (in->blocked || src->stopped || source_sent_all(src) || source_window_full(src))
			return;
		if (src->rate != 0) {
			source_refill(src, now);
			if (src->tokens < TOKEN_UNIT)
				return;
		}
		if (source_send_one(in, conn, now) != 0)
			return;
		if (src->rate != 0)
			src->tokens -= TOKEN_UNIT;
	}
}

static uint64_t
source_wakeup(const struct dp_svc_inst *in)
{
	const struct svc_source *src = &in->src;

	if (in->blocked || src->stopped || source_sent_all(src) || source_window_full(src))
		return UINT64_MAX;
	if (src->rate == 0 || src->tokens >= TOKEN_UNIT)
		return 0;
	return src->last_ns + (TOKEN_UNIT - src->tokens + src->rate - 1) / src->rate;
}

/* An echo of one of our messages came back. */
static void
source_on_echo(struct dp_svc_inst *in, const struct dp_msg *m, uint64_t now)
{
	struct svc_source *src = &in->src;
	struct dp_svc_msg_info info;

	in->cnt.msgs_recv++;
	in->cnt.bytes_recv += m->len;
	if (!dp_svc_msg_check(m->data, m->len, src->echo_next, &info) ||
	    info.seq >= src->next_seq || (info.has_hdr && info.sent_ns > now)) {
		in->cnt.corrupt++;
		src->echo_next += !info.has_hdr; /* it took the implied number */
		return;
	}
	if (info.seq < src->echo_next) {
		in->cnt.duplicated++;
		return;
	}
	in->cnt.lost += info.seq - src->echo_next;
	src->echo_next = info.seq + 1;
	in->cnt.msgs_verified++;
	svc_active(in, now);
	if (info.has_hdr && src->rtt != NULL)
		sl_hist_record(src->rtt, now - info.sent_ns);
}

/* --- sink ----------------------------------------------------------------------------------- */
static void
sink_on_message(struct dp_svc_inst *in, const struct dp_msg *m)
{
	struct svc_sink *k = &in->sink;
	struct dp_svc_msg_info info;

	in->cnt.msgs_recv++;
	in->cnt.bytes_recv += m->len;
	if (!dp_svc_msg_check(m->data, m->len, k->expect, &info)) {
		in->cnt.corrupt++;
		k->expect += !info.has_hdr;
		return;
	}
	if (info.seq < k->expect) {
		in->cnt.duplicated++;
		return;
	}
	in->cnt.lost += info.seq - k->expect;
	k->expect = info.seq + 1;
	in->cnt.msgs_verified++;
}

/* --- echo ----------------------------------------------------------------------------------- */
static bool
is_svc_msg(const struct dp_msg *m)
{
	const struct sl_svc_hdr *h = (const struct sl_svc_hdr *)m->data;

	return m->len >= SL_SVC_HDR_LEN && rte_be_to_cpu_32(h->magic) == SL_SVC_MAGIC &&
	       h->version == SL_SVC_VERSION;
}

/* Queue the return of m. 0, or the engine's error. */
static int
echo_send(struct dp_svc_inst *in, struct dp_conn *conn, struct dp_msg *m, uint64_t now)
{
	int rc;

	if (is_svc_msg(m))
		((struct sl_svc_hdr *)m->data)->flags |= SL_SVC_ECHOED;
	rc = dp_conn_send(conn, m->chan, m->data, m->len, 0, now, NULL);
	if (rc == 0) {
		in->cnt.msgs_echoed++;
		in->cnt.bytes_echoed += m->len;
	} else if (rc == -ENOBUFS) {
		in->blocked = true;
		in->cnt.send_blocked++;
	} else {
		in->cnt.dropped++;
	}
	return rc;
}

/* Keep m until it can be returned. false if the ring is full (or no memory). */
static bool
echo_hold(struct svc_echo *e, struct dp_msg *m)
{
	if (e->n == e->cap) {
		uint32_t cap = e->cap ? e->cap * 2 : 8;
		struct dp_msg **held;

		if (cap > DP_SVC_ECHO_MAX_HELD)
			return false;
		held = malloc(cap * sizeof(*held));
		if (held == NULL)
			return false;
		for (uint32_t i = 0; i < e->n; i++)
			held[i] = e->held[(e->head + i) & (e->cap - 1)];
		free(e->held);
		e->held = held;
		e->head = 0;
		e->cap = cap;
	}
	e->held[(e->head + e->n) & (e->cap - 1)] = m;
	e->n++;
	return true;
}

static bool
echo_on_message(struct dp_svc *svc, struct dp_svc_inst *in, struct dp_conn *conn, struct dp_msg *m,
		uint64_t now)
{
	int rc = -ENOBUFS;

	in->cnt.msgs_recv++;
	in->cnt.bytes_recv += m->len;
	if (svc->closed) {
		in->cnt.dropped++;
		return false;
	}
	if (in->echo.n == 0 && !in->blocked)
		rc = echo_send(in, conn, m, now);
	if (rc != -ENOBUFS)
		return false; /* returned, or dropped and counted */
	if (echo_hold(&in->echo, m))
		return true;
	in->cnt.dropped++;
	return false;
}

/* Return what was held, oldest first, until the engine refuses. */
static void
echo_flush(struct dp_svc_inst *in, struct dp_conn *conn, uint64_t now)
{
	struct svc_echo *e = &in->echo;

	while (e->n > 0 && !in->blocked) {
		struct dp_msg *m = e->held[e->head];

		if (echo_send(in, conn, m, now) == -ENOBUFS)
			return;
		dp_conn_msg_release(conn, m);
		e->head = (e->head + 1) & (e->cap - 1);
		e->n--;
	}
	if (e->n == 0) {
		free(e->held); /* an idle session holds nothing */
		e->held = NULL;
		e->head = e->cap = 0;
	}
}

/* --- the session's entry points ------------------------------------------------------------- */
static void
update_wakeup(struct dp_svc *svc)
{
	uint64_t w = UINT64_MAX;

	for (unsigned int i = 0; svc->cfg != NULL && i < svc->cfg->n; i++) {
		const struct dp_svc_inst *in = svc->inst ? svc->inst[i] : NULL;

		if (svc->closed)
			break;
		if (in == NULL)
			w = svc->src_mask & 1u << i ? 0 : w; /* a source not started yet */
		else if (in->type == DP_SVC_SOURCE)
			w = RTE_MIN(w, source_wakeup(in));
		else if (in->type == DP_SVC_ECHO && in->echo.n > 0 && !in->blocked)
			w = 0;
	}
	svc->wakeup = w;
}

/* Which service takes m (index + 1, 0: none). */
static unsigned int
dispatch(const struct dp_svc *svc, const struct dp_msg *m)
{
	if (m->chan >= SL_MAX_CHANNELS)
		return 0;
	if (is_svc_msg(m) && ((const struct sl_svc_hdr *)m->data)->flags & SL_SVC_ECHOED)
		return svc->echo_src[m->chan];
	if (svc->plain[m->chan] != 0 || m->len >= SL_SVC_HDR_LEN)
		return svc->plain[m->chan];
	return svc->echo_src[m->chan];
}

bool
dp_svc_on_message(struct dp_svc *svc, struct dp_conn *conn, struct dp_msg *m, uint64_t now_ns)
{
	unsigned int to = svc->cfg != NULL ? dispatch(svc, m) : 0;
	struct dp_svc_inst *in = to != 0 ? inst_get(svc, to - 1) : NULL;
	bool kept = false;

	if (in == NULL) {
		svc->unhandled++;
		return false;
	}
	if (in->type != DP_SVC_SOURCE)
		svc_active(in, now_ns);
	switch (in->type) {
	case DP_SVC_SINK:
		sink_on_message(in, m);
		break;
	case DP_SVC_SOURCE:
		source_on_echo(in, m, now_ns);
		if (in->src.in_flight != 0)
			update_wakeup(svc); /* room for the next message */
		break;
	case DP_SVC_ECHO:
		kept = echo_on_message(svc, in, conn, m, now_ns);
		if (kept)
			update_wakeup(svc);
		break;
	}
	return kept;
}

/* The instance of the service on chan that sent what an event is about: the source towards
 * this peer, else the echo service. */
static struct dp_svc_inst *
sender_on(const struct dp_svc *svc, uint8_t chan, struct dp_svc_inst **echo)
{
	struct dp_svc_inst *src = NULL;

	*echo = NULL;
	for (unsigned int i = 0; svc->inst != NULL && i < svc->cfg->n; i++) {
		struct dp_svc_inst *in = svc->inst[i];

		if (in == NULL || in->chan != chan)
			continue;
		if (in->type == DP_SVC_SOURCE)
			src = in;
		else if (in->type == DP_SVC_ECHO)
			*echo = in;
	}
	return src;
}

void
dp_svc_on_undelivered(struct dp_svc *svc, const struct dp_conn_undelivered *u)
{
	for (uint8_t ch = 0; svc->cfg != NULL && ch < SL_MAX_CHANNELS; ch++) {
		const struct dp_undelivered *c = &u->chan[ch];
		struct dp_svc_inst *src, *echo = NULL, *rx = NULL;
		unsigned int to = svc->plain[ch] != 0 ? svc->plain[ch] : svc->echo_src[ch];

		src = c->undelivered != 0 ? sender_on(svc, ch, &echo) : NULL;
		if (c->undelivered != 0 && (src != NULL || echo != NULL))
			(src != NULL ? src : echo)->cnt.undelivered += c->undelivered;
		if (c->delivered_unacked + c->discarded_acked != 0 && to != 0)
			rx = inst_get(svc, to - 1); /* made if need be: it may have got nothing */
		if (rx != NULL) {
			rx->cnt.delivered_unacked += c->delivered_unacked;
			rx->cnt.discarded_acked += c->discarded_acked;
		}
	}
}

static void
on_closed(struct dp_svc *svc, struct dp_conn *conn)
{
	svc->closed = true;
	for (unsigned int i = 0; svc->inst != NULL && i < svc->cfg->n; i++)
		if (svc->inst[i] != NULL && svc->inst[i]->type == DP_SVC_ECHO)
			echo_drop_held(svc->inst[i], conn);
}

void
dp_svc_on_event(struct dp_svc *svc, struct dp_conn *conn, const struct dp_conn_event *ev,
		uint64_t now_ns)
{
	struct dp_svc_inst *src, *echo;

	RTE_SET_USED(now_ns);
	if (svc->cfg == NULL)
		return;
	switch (ev->type) {
	case DP_EV_WRITABLE:
		src = sender_on(svc, ev->chan, &echo);
		if (src != NULL)
			src->blocked = false;
		if (echo != NULL)
			echo->blocked = false;
		break;
	case DP_EV_EXPIRED:
	case DP_EV_DATAGRAM_LOST:
		src = sender_on(svc, ev->chan, &echo);
		if (src != NULL)
			src->cnt.expired++;
		else if (echo != NULL)
			echo->cnt.expired++;
		break;
	case DP_EV_CLOSED:
		on_closed(svc, conn);
		break;
	default:
		break;
	}
	update_wakeup(svc);
}

void
dp_svc_poll(struct dp_svc *svc, struct dp_conn *conn, uint64_t now_ns)
{
	if (svc->cfg == NULL || svc->closed)
		return;
	for (unsigned int i = 0; i < svc->cfg->n; i++) {
		struct dp_svc_inst *in;

		if (svc->src_mask & 1u << i) {
			in = inst_get(svc, i);
			if (in != NULL)
				source_poll(in, conn, now_ns);
		} else {
			in = svc->inst != NULL ? svc->inst[i] : NULL;
			if (in != NULL && in->type == DP_SVC_ECHO)
				echo_flush(in, conn, now_ns);
		}
	}
	update_wakeup(svc);
}

/* --- statistics ----------------------------------------------------------------------------- */
void
dp_svc_stats_add(const struct dp_svc *svc, unsigned int idx, struct dp_svc_stats *acc)
{
	const struct dp_svc_inst *in;

	if (svc->cfg == NULL || idx >= svc->cfg->n)
		return;
	if (svc->src_mask & 1u << idx)
		acc->sources++;
	in = svc->inst != NULL ? svc->inst[idx] : NULL;
	if (in == NULL)
		return;
#define DP_SVC_CNT_ADD(name, what) acc->cnt.name += in->cnt.name;
	DP_SVC_COUNTERS(DP_SVC_CNT_ADD)
#undef DP_SVC_CNT_ADD
	dp_svc_span_add(acc, in->first_ns, in->last_ns);
	if (in->type != DP_SVC_SOURCE)
		return;
	acc->sources_done += source_done(&in->src);
	if (in->src.rtt != NULL)
		sl_hist_merge(&acc->rtt, in->src.rtt);
}

size_t
dp_svc_memory(const struct dp_svc *svc)
{
	size_t n = sizeof(*svc);

	if (svc->inst == NULL)
		return n;
	n += svc->cfg->n * sizeof(*svc->inst);
	for (unsigned int i = 0; i < svc->cfg->n; i++) {
		const struct dp_svc_inst *in = svc->inst[i];

		if (in == NULL)
			continue;
		n += sizeof(*in);
		if (in->type == DP_SVC_ECHO)
			n += in->echo.cap * sizeof(*in->echo.held);
		if (in->type == DP_SVC_SOURCE)
			n += in->src.max + (in->src.rtt ? sizeof(*in->src.rtt) : 0);
	}
	return n;
}
