/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the simulator's verifying application (see sim_app.h).
 *
 * Message i of channel c: its length is the first draw of a PRNG seeded from (seed, c, i);
 * its first 8 bytes carry i (masked with a value derived from (seed, c)) so the receiver
 * knows which message it got whatever id the engine gave it; the rest are the next draws.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_app.h"

#define MSG_HDR 8 /* bytes carrying the sender's index */

struct stream {
	struct sim_stream_config cfg;
	struct sim_msg *msg;
	uint32_t next; /* next message to submit */
	bool blocked;  /* -ENOBUFS: waiting for DP_EV_WRITABLE */
	bool any_sent, any_delivered;
	bool may_expire;    /* some message has a time to live */
	uint64_t first_id;  /* dp_conn_send id of message 0 */
	uint64_t last_idx;  /* sender index of the last message delivered */
	uint64_t last_rxid; /* receiver's id of it */
};

struct sim_traffic {
	struct sim_ep *tx, *rx;
	uint64_t seed;
	struct stream s[SL_MAX_CHANNELS];
	unsigned int n;
	int by_chan[SL_MAX_CHANNELS]; /* stream index, -1: none */
	uint8_t *scratch;	      /* the message being submitted */
	uint64_t accounted;	      /* delivered + expired + refused */
	struct sim_traffic_errors err;
	struct sim_traffic_stats st;
};

/* --- message content ---------------------------------------------------------------------- */

static void
msg_rng(struct sim_rng *r, uint64_t seed, uint8_t chan, uint64_t i)
{
	uint64_t x = seed ^ ((uint64_t)chan << 56) ^ (i * 0xd1342543de82ef95ull);

	sim_rng_seed(r, sim_mix64(&x));
}

static uint64_t
index_mask(uint64_t seed, uint8_t chan)
{
	uint64_t x = ~seed ^ chan;

	return sim_mix64(&x);
}

uint32_t
sim_msg_length(uint64_t seed, uint8_t chan, uint64_t i, uint32_t min_len, uint32_t max_len)
{
	struct sim_rng r;

	msg_rng(&r, seed, chan, i);
	return min_len + (uint32_t)sim_rng_below(&r, (uint64_t)max_len - min_len + 1);
}

/* Writes (buf != NULL) or compares (cmp != NULL) message i's bytes; false on a mismatch. */
static bool
msg_bytes(uint64_t seed, uint8_t chan, uint64_t i, uint8_t *buf, const uint8_t *cmp, uint32_t len)
{
	struct sim_rng r;
	uint32_t off = 0;

	msg_rng(&r, seed, chan, i);
	(void)sim_rng_next(&r); /* the length */
	while (off < len) {
		uint64_t v =
			off == 0 && len >= MSG_HDR ? i ^ index_mask(seed, chan) : sim_rng_next(&r);
		uint8_t b[8];
		uint32_t k = len - off < 8 ? len - off : 8;

		for (int j = 0; j < 8; j++)
			b[j] = (uint8_t)(v >> (8 * j));
		if (buf != NULL)
			memcpy(buf + off, b, k);
		else if (memcmp(cmp + off, b, k) != 0)
			return false;
		off += k;
	}
	return true;
}

void
sim_msg_fill(uint64_t seed, uint8_t chan, uint64_t i, uint8_t *buf, uint32_t len)
{
	(void)msg_bytes(seed, chan, i, buf, NULL, len);
}

bool
sim_msg_check(uint64_t seed, uint8_t chan, uint64_t i, const uint8_t *buf, uint32_t len)
{
	return msg_bytes(seed, chan, i, NULL, buf, len);
}

/* The sender's index carried by a delivered message. */
static bool
msg_index(uint64_t seed, uint8_t chan, const uint8_t *buf, uint32_t len, uint64_t *i)
{
	uint64_t v = 0;

	if (len < MSG_HDR)
		return false;
	for (int j = 0; j < 8; j++)
		v |= (uint64_t)buf[j] << (8 * j);
	*i = v ^ index_mask(seed, chan);
	return true;
}

/* --- life cycle --------------------------------------------------------------------------- */

static bool
stream_ok(const struct sim_stream_config *c, const int *by_chan)
{
	return c->chan < SL_MAX_CHANNELS && by_chan[c->chan] < 0 && c->n_msgs > 0 &&
	       c->min_len >= MSG_HDR && c->min_len <= c->max_len;
}

static int
stream_init(struct sim_traffic *t, const struct sim_stream_config *c, unsigned int k)
{
	const struct dp_conn_config *cfg = sim_ep_config(t->tx);
	struct stream *st = &t->s[k];

	if (!stream_ok(c, t->by_chan))
		return -EINVAL;
	st->cfg = *c;
	st->msg = calloc(c->n_msgs, sizeof(*st->msg));
	if (st->msg == NULL)
		return -ENOMEM;
	st->may_expire = c->ttl_ns != 0 || cfg->chan[c->chan].ttl_ns != 0;
	t->by_chan[c->chan] = (int)k;
	t->st.msgs += c->n_msgs;
	return 0;
}

struct sim_traffic *
sim_traffic_create(struct sim_ep *tx, struct sim_ep *rx, uint64_t seed,
		   const struct sim_stream_config *streams, unsigned int n_streams)
{
	struct sim_traffic *t = calloc(1, sizeof(*t));
	uint32_t max_len = 0;

	if (t == NULL)
		return NULL;
	t->tx = tx;
	t->rx = rx;
	t->seed = seed;
	t->st.first_sent_at = UINT64_MAX;
	for (unsigned int c = 0; c < SL_MAX_CHANNELS; c++)
		t->by_chan[c] = -1;
	for (unsigned int k = 0; k < n_streams && k < SL_MAX_CHANNELS; k++, t->n++) {
		int rc = stream_init(t, &streams[k], k);

		if (rc != 0 || n_streams > SL_MAX_CHANNELS) {
			sim_traffic_destroy(t);
			errno = rc ? -rc : EINVAL;
			return NULL;
		}
		if (streams[k].max_len > max_len)
			max_len = streams[k].max_len;
	}
	t->scratch = malloc(max_len ? max_len : 1);
	if (t->scratch == NULL) {
		sim_traffic_destroy(t);
		return NULL;
	}
	sim_ep_attach(tx, rx, t);
	return t;
}

void
sim_traffic_destroy(struct sim_traffic *t)
{
	if (t == NULL)
		return;
	for (unsigned int k = 0; k < SL_MAX_CHANNELS; k++)
		free(t->s[k].msg);
	free(t->scratch);
	free(t);
}

/* --- sending ------------------------------------------------------------------------------ */

static uint64_t
msg_due(const struct stream *st, uint32_t i)
{
	return st->cfg.start_ns + (uint64_t)i * st->cfg.gap_ns;
}

static uint64_t
msg_ttl(const struct stream *st, uint32_t i)
{
	uint32_t every = st->cfg.ttl_every ? st->cfg.ttl_every : 1;

	return i % every == 0 ? st->cfg.ttl_ns : 0;
}

static void
record_sent(struct sim_traffic *t, struct stream *st, uint32_t i, uint64_t id, uint64_t now)
{
	struct sim_msg *m = &st->msg[i];
	uint64_t ttl = msg_ttl(st, i);

	if (ttl == 0)
		ttl = sim_ep_config(t->tx)->chan[st->cfg.chan].ttl_ns;
	m->sent_at = now;
	m->id = id;
	m->ttl_ns = ttl;
	m->state = SIM_MSG_QUEUED;
	if (!st->any_sent)
		st->first_id = id;
	else if (id != st->first_id + i)
		t->err.id_gap++;
	st->any_sent = true;
	t->st.sent++;
	if (now < t->st.first_sent_at)
		t->st.first_sent_at = now;
}

/* Offer message st->next. Returns 0 (accepted or refused for good) or -ENOBUFS. */
static int
submit_one(struct sim_traffic *t, struct stream *st, uint64_t now)
{
	uint32_t i = st->next;
	uint32_t len = sim_msg_length(t->seed, st->cfg.chan, i, st->cfg.min_len, st->cfg.max_len);
	uint64_t id = 0;
	int rc;

	sim_msg_fill(t->seed, st->cfg.chan, i, t->scratch, len);
	st->msg[i].len = len;
	rc = dp_conn_send(sim_ep_conn(t->tx), st->cfg.chan, t->scratch, len, msg_ttl(st, i), now,
			  &id);
	if (rc == -ENOBUFS) {
		st->blocked = true;
		t->st.enobufs++;
		return rc;
	}
	st->next++;
	if (rc != 0) {
		st->msg[i].state = SIM_MSG_REFUSED;
		t->err.refused++;
		t->accounted++;
		return 0;
	}
	record_sent(t, st, i, id, now);
	return 0;
}

bool
sim_traffic_submit(struct sim_traffic *t, uint64_t now, uint64_t *next_due)
{
	bool sent = false;

	for (unsigned int k = 0; k < t->n; k++) {
		struct stream *st = &t->s[k];

		while (!st->blocked && st->next < st->cfg.n_msgs) {
			uint64_t due = msg_due(st, st->next);

			if (due > now) {
				if (due < *next_due)
					*next_due = due;
				break;
			}
			if (submit_one(t, st, now) != 0)
				break;
			sent = true;
		}
	}
	return sent;
}

/* --- receiving ---------------------------------------------------------------------------- */

/* Per-channel order: sender indexes strictly increasing (what is jumped over must expire),
 * and, on a channel where nothing can expire, receiver ids consecutive. */
static void
check_order(struct sim_traffic *t, struct stream *st, uint64_t i, uint64_t rxid)
{
	if (st->any_delivered && (i <= st->last_idx || rxid <= st->last_rxid)) {
		t->err.out_of_order++;
		return;
	}
	if (st->any_delivered && !st->may_expire && rxid != st->last_rxid + 1)
		t->err.out_of_order++;
	for (uint64_t j = st->any_delivered ? st->last_idx + 1 : 0; j < i; j++)
		st->msg[j].skipped = true;
	st->any_delivered = true;
	st->last_idx = i;
	st->last_rxid = rxid;
}

void
sim_traffic_on_msg(struct sim_traffic *t, const struct dp_msg *m, uint64_t now)
{
	int k = m->chan < SL_MAX_CHANNELS ? t->by_chan[m->chan] : -1;
	struct stream *st = k >= 0 ? &t->s[k] : NULL;
	struct sim_msg *rec;
	uint64_t i;

	if (st == NULL || !msg_index(t->seed, m->chan, m->data, m->len, &i) || i >= st->next) {
		t->err.unknown++;
		return;
	}
	rec = &st->msg[i];
	if (rec->state == SIM_MSG_DELIVERED || rec->state == SIM_MSG_EXPIRED) {
		if (rec->state == SIM_MSG_DELIVERED)
			t->err.duplicate++;
		else
			t->err.expired_delivered++;
		return;
	}
	check_order(t, st, i, m->id);
	if (m->len != rec->len)
		t->err.bad_length++;
	else if (!sim_msg_check(t->seed, m->chan, i, m->data, m->len))
		t->err.bad_bytes++;
	rec->state = SIM_MSG_DELIVERED;
	rec->done_at = now;
	t->st.delivered++;
	t->st.bytes_delivered += m->len;
	t->st.last_done_at = now;
	t->accounted++;
}

/* --- sender's events ---------------------------------------------------------------------- */

static void
on_expired(struct sim_traffic *t, struct stream *st, uint64_t id, uint64_t now)
{
	struct sim_msg *rec;

	if (!st->any_sent || id < st->first_id || id - st->first_id >= st->next) {
		t->err.bad_expiry++;
		return;
	}
	rec = &st->msg[id - st->first_id];
	if (rec->state != SIM_MSG_QUEUED || rec->ttl_ns == 0 || now < rec->sent_at + rec->ttl_ns) {
		t->err.bad_expiry++;
		if (rec->state != SIM_MSG_QUEUED)
			return;
	}
	rec->state = SIM_MSG_EXPIRED;
	rec->done_at = now;
	t->st.expired++;
	t->st.last_done_at = now > t->st.last_done_at ? now : t->st.last_done_at;
	t->accounted++;
}

void
sim_traffic_on_event(struct sim_traffic *t, const struct dp_conn_event *ev, uint64_t now)
{
	int k = ev->chan < SL_MAX_CHANNELS ? t->by_chan[ev->chan] : -1;

	if (ev->type == DP_EV_WRITABLE && k >= 0) {
		t->s[k].blocked = false;
		t->st.writable++;
	} else if (ev->type == DP_EV_EXPIRED) {
		if (k >= 0)
			on_expired(t, &t->s[k], ev->id, now);
		else
			t->err.bad_expiry++;
	}
}

/* --- results ------------------------------------------------------------------------------ */

bool
sim_traffic_done(void *traffic)
{
	const struct sim_traffic *t = traffic;

	return t->accounted >= t->st.msgs;
}

uint64_t
sim_traffic_verify(struct sim_traffic *t, bool complete)
{
	const struct sim_traffic_errors *e = &t->err;

	t->err.missing = 0;
	t->err.skipped_not_expired = 0;
	for (unsigned int k = 0; k < t->n && complete; k++) {
		const struct stream *st = &t->s[k];

		for (uint32_t i = 0; i < st->cfg.n_msgs; i++) {
			uint8_t state = st->msg[i].state;

			t->err.missing += state == SIM_MSG_UNSENT || state == SIM_MSG_QUEUED;
			t->err.skipped_not_expired +=
				st->msg[i].skipped && state != SIM_MSG_EXPIRED;
		}
	}
	return e->duplicate + e->out_of_order + e->bad_length + e->bad_bytes + e->unknown +
	       e->bad_expiry + e->expired_delivered + e->id_gap + e->refused + e->missing +
	       e->skipped_not_expired;
}

const struct sim_traffic_errors *
sim_traffic_errors(const struct sim_traffic *t)
{
	return &t->err;
}

const struct sim_traffic_stats *
sim_traffic_stats(const struct sim_traffic *t)
{
	return &t->st;
}

const struct sim_msg *
sim_traffic_msg(const struct sim_traffic *t, unsigned int stream, uint32_t i)
{
	if (stream >= t->n || i >= t->s[stream].cfg.n_msgs)
		return NULL;
	return &t->s[stream].msg[i];
}

double
sim_traffic_goodput(const struct sim_traffic *t, uint64_t bandwidth_bps)
{
	const struct sim_traffic_stats *st = &t->st;
	double secs;

	if (st->delivered == 0 || st->last_done_at <= st->first_sent_at || bandwidth_bps == 0)
		return 0;
	secs = (double)(st->last_done_at - st->first_sent_at) / (double)SIM_NS_PER_SEC;
	return (double)st->bytes_delivered * 8 / secs / (double)bandwidth_bps;
}

uint64_t
sim_traffic_max_latency(const struct sim_traffic *t, unsigned int stream, uint64_t *mean)
{
	uint64_t max = 0, sum = 0, n = 0;

	for (uint32_t i = 0; stream < t->n && i < t->s[stream].cfg.n_msgs; i++) {
		const struct sim_msg *m = &t->s[stream].msg[i];

		if (m->state != SIM_MSG_DELIVERED)
			continue;
		sum += m->done_at - m->sent_at;
		n++;
		if (m->done_at - m->sent_at > max)
			max = m->done_at - m->sent_at;
	}
	if (mean != NULL)
		*mean = n ? sum / n : 0;
	return max;
}

void
sim_traffic_print(const struct sim_traffic *t)
{
	const struct sim_traffic_stats *st = &t->st;
	const struct sim_traffic_errors *e = &t->err;

	printf("    %s -> %s: %" PRIu64 " messages, %" PRIu64 " sent, %" PRIu64
	       " delivered (%" PRIu64 " bytes), %" PRIu64 " expired; -ENOBUFS %" PRIu64
	       ", writable %" PRIu64 "\n",
	       sim_ep_name(t->tx), sim_ep_name(t->rx), st->msgs, st->sent, st->delivered,
	       st->bytes_delivered, st->expired, st->enobufs, st->writable);
	printf("    violations: duplicate %" PRIu64 ", out of order %" PRIu64 ", length %" PRIu64
	       ", bytes %" PRIu64 ", unknown %" PRIu64 ", bad expiry %" PRIu64
	       ", expired then delivered %" PRIu64 ", id gap %" PRIu64 ", refused %" PRIu64
	       ", missing %" PRIu64 ", skipped %" PRIu64 "\n",
	       e->duplicate, e->out_of_order, e->bad_length, e->bad_bytes, e->unknown,
	       e->bad_expiry, e->expired_delivered, e->id_gap, e->refused, e->missing,
	       e->skipped_not_expired);
}
