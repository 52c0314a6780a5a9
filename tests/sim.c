/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: deterministic discrete-event network simulator (see sim.h): PRNG, event heap, links.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_limits.h"

#include "sim.h"
#include "sl_test.h"

/* Events at one instant, and events in all, beyond which time is taken not to advance. */
#define SIM_MAX_SAME_INSTANT 2000000u
#define SIM_MAX_EVENTS	     400000000ull
#define SIM_DUP_DELAY_NS     (100 * SIM_US)

struct sim_ev {
	uint64_t at, seq; /* time, then insertion order: a total, deterministic order */
	sim_fn *fn;
	void *arg, *data;
	uint64_t tag;
};

struct sim {
	uint64_t now, seq, events, seed;
	uint64_t max_events; /* SIM_STUCK beyond this many events in all */
	struct sim_rng rng;  /* seeds the links */
	struct sim_ev *heap;
	size_t n, cap;
	struct sim_link *links;
};

struct sim_link {
	struct sim *sim;
	struct sim_link *next; /* the sim's list */
	struct sim_link_config cfg;
	struct sim_rng rng; /* this link's own stream: other links' traffic does not shift it */
	sim_deliver_fn *deliver;
	void *arg;
	double burst_p;	     /* probability that a loss burst starts at a departing packet */
	uint32_t burst_left; /* packets the current burst still takes */
	bool burst_ended;    /* the packet after a burst is never lost at random */
	uint32_t burst_run;  /* consecutive random losses so far */
	uint64_t busy_until; /* the serializer is busy until then */
	uint64_t ser_rem;    /* remainder of bits * 1e9 / bandwidth, carried along a burst */
	uint64_t cut_from;   /* UINT64_MAX: not cut */
	uint64_t *finish;    /* ring of serialization end times of the packets held */
	uint32_t q_head, q_n;
	struct sim_link_stats st;
};

/* --- PRNG --------------------------------------------------------------------------------- */

uint64_t
sim_mix64(uint64_t *state)
{
	return sl_test_mix64(state);
}

void
sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = sim_mix64(&seed);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
sim_rng_next(struct sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t
sim_rng_below(struct sim_rng *r, uint64_t n)
{
	/* Lemire's multiply-shift; the bias (< n / 2^64) is far below anything a test sees. */
	return n == 0 ? 0 : (uint64_t)(((unsigned __int128)sim_rng_next(r) * n) >> 64);
}

double
sim_rng_unit(struct sim_rng *r)
{
	return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53;
}

bool
sim_rng_chance(struct sim_rng *r, double p)
{
	if (p <= 0)
		return false;
	return p >= 1 || sim_rng_unit(r) < p;
}

/* --- event heap --------------------------------------------------------------------------- */

static bool
ev_before(const struct sim_ev *a, const struct sim_ev *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void
heap_up(struct sim_ev *h, size_t i)
{
	struct sim_ev e = h[i];

	while (i > 0 && ev_before(&e, &h[(i - 1) / 2])) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = e;
}

static void
heap_down(struct sim_ev *h, size_t n, size_t i)
{
	struct sim_ev e = h[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && ev_before(&h[c + 1], &h[c]))
			c++;
		if (!ev_before(&h[c], &e))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = e;
}

int
sim_at(struct sim *s, uint64_t at_ns, sim_fn *fn, void *arg, void *data, uint64_t tag)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		struct sim_ev *h = realloc(s->heap, cap * sizeof(*h));

		if (h == NULL)
			return -ENOMEM;
		s->heap = h;
		s->cap = cap;
	}
	s->heap[s->n] = (struct sim_ev){
		.at = at_ns < s->now ? s->now : at_ns,
		.seq = s->seq++,
		.fn = fn,
		.arg = arg,
		.data = data,
		.tag = tag,
	};
	heap_up(s->heap, s->n++);
	return 0;
}

static struct sim_ev
heap_pop(struct sim *s)
{
	struct sim_ev top = s->heap[0];

	s->heap[0] = s->heap[--s->n];
	if (s->n > 0)
		heap_down(s->heap, s->n, 0);
	return top;
}

/* --- the simulator ------------------------------------------------------------------------ */

struct sim *
sim_create(uint64_t seed)
{
	struct sim *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->seed = seed;
	s->max_events = SIM_MAX_EVENTS;
	sim_rng_seed(&s->rng, seed);
	return s;
}

void
sim_destroy(struct sim *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->heap[i].data);
	free(s->heap);
	while (s->links != NULL) {
		struct sim_link *l = s->links;

		s->links = l->next;
		free(l->finish);
		free(l);
	}
	free(s);
}

uint64_t
sim_now(const struct sim *s)
{
	return s->now;
}

uint64_t
sim_seed(const struct sim *s)
{
	return s->seed;
}

uint64_t
sim_events(const struct sim *s)
{
	return s->events;
}

void
sim_set_event_limit(struct sim *s, uint64_t max_events)
{
	s->max_events = max_events;
}

enum sim_result
sim_run(struct sim *s, uint64_t deadline_ns, bool (*done)(void *arg), void *arg)
{
	uint32_t same = 0;

	if (done != NULL && done(arg))
		return SIM_DONE;
	while (s->n > 0) {
		struct sim_ev ev;

		if (s->heap[0].at > deadline_ns)
			return SIM_DEADLINE;
		ev = heap_pop(s);
		same = ev.at == s->now ? same + 1 : 0;
		if (same > SIM_MAX_SAME_INSTANT || s->events >= s->max_events) {
			free(ev.data);
			return SIM_STUCK;
		}
		s->now = ev.at;
		s->events++;
		ev.fn(ev.arg, ev.data, ev.tag);
		if (done != NULL && done(arg))
			return SIM_DONE;
	}
	return SIM_IDLE;
}

const char *
sim_result_name(enum sim_result r)
{
	static const char *const names[] = {
		[SIM_DONE] = "done",
		[SIM_IDLE] = "idle (no event left)",
		[SIM_DEADLINE] = "deadline passed",
		[SIM_STUCK] = "stuck (time does not advance)",
	};

	return r <= SIM_STUCK ? names[r] : "?";
}

/* --- links: timing ------------------------------------------------------------------------ */

uint32_t
sim_wire_bytes(uint32_t frame_bytes)
{
	return frame_bytes + SL_DATA_OVERHEAD + SL_IPV4_UDP_OVERHEAD + SIM_ETH_OVERHEAD;
}

uint64_t
sim_serialization_ns(uint32_t frame_bytes, uint64_t bandwidth_bps)
{
	if (bandwidth_bps == 0)
		return 0;
	return (uint64_t)sim_wire_bytes(frame_bytes) * 8 * SIM_NS_PER_SEC / bandwidth_bps;
}

/* Forget packets whose serialization ended by now; true if the queue has room for one more. */
static bool
queue_admit(struct sim_link *l, uint64_t now)
{
	uint32_t limit = l->cfg.queue_limit;

	if (limit == 0)
		return true;
	while (l->q_n > 0 && l->finish[l->q_head] <= now) {
		l->q_head = (l->q_head + 1) % limit;
		l->q_n--;
	}
	return l->q_n < limit;
}

/* Put a packet of len frame bytes on the serializer; returns its departure time. */
static uint64_t
serialize(struct sim_link *l, uint64_t now, uint32_t len)
{
	uint64_t bps = l->cfg.bandwidth_bps, start = now, bits_ns, dep;

	if (bps == 0)
		return now;
	if (l->busy_until > now)
		start = l->busy_until;
	else
		l->ser_rem = 0; /* idle link: a new burst starts on a whole nanosecond */
	bits_ns = (uint64_t)sim_wire_bytes(len) * 8 * SIM_NS_PER_SEC + l->ser_rem;
	dep = start + bits_ns / bps;
	l->ser_rem = bits_ns % bps;
	l->busy_until = dep;
	if (l->cfg.queue_limit != 0)
		l->finish[(l->q_head + l->q_n++) % l->cfg.queue_limit] = dep;
	l->st.wire_bytes += sim_wire_bytes(len);
	return dep;
}

bool
sim_link_in_black_hole(const struct sim_link *l, uint64_t t)
{
	const struct sim_link_config *c = &l->cfg;
	uint64_t off;

	if (t >= l->cut_from)
		return true;
	if (c->black_hole_len_ns == 0 || t < c->black_hole_start_ns)
		return false;
	off = t - c->black_hole_start_ns;
	if (c->black_hole_every_ns != 0)
		off %= c->black_hole_every_ns;
	return off < c->black_hole_len_ns;
}

/* --- links: fate of a departing packet ---------------------------------------------------- */

/* The bursty random-loss decision for the next departing packet. */
static bool
random_loss(struct sim_link *l)
{
	bool lose = false;

	if (l->cfg.loss >= 1) {
		lose = true;
	} else if (l->burst_left > 0) {
		l->burst_left--;
		lose = true;
	} else if (l->burst_ended) {
		l->burst_ended = false; /* bursts never merge into a longer one */
	} else if (sim_rng_chance(&l->rng, l->burst_p)) {
		uint32_t max = l->cfg.max_burst > 1 ? l->cfg.max_burst : 1;

		l->burst_left = (uint32_t)sim_rng_below(&l->rng, max); /* k - 1, k in 1..max */
		lose = true;
	}
	if (lose && l->burst_left == 0)
		l->burst_ended = true;
	l->burst_run = lose ? l->burst_run + 1 : 0;
	if (l->burst_run > l->st.max_burst_seen)
		l->st.max_burst_seen = l->burst_run;
	return lose;
}

static struct sim_pkt *
pkt_copy(uint64_t pn, const void *data, uint32_t len)
{
	struct sim_pkt *p = malloc(sizeof(*p) + len);

	if (p == NULL)
		return NULL;
	p->pn = pn;
	p->len = len;
	p->corrupt = false;
	memcpy(p->data, data, len);
	return p;
}

static void
link_arrive(void *arg, void *data, uint64_t tag)
{
	struct sim_link *l = arg;
	struct sim_pkt *p = data;

	(void)tag;
	if (p->corrupt) {
		l->st.corrupted++; /* the receiver's AEAD rejects it: the engine never sees it */
	} else {
		l->st.delivered++;
		l->st.bytes_delivered += p->len;
		l->deliver(l->arg, p);
	}
	free(p);
}

/* Schedule one copy's arrival, maybe corrupted. Returns 0 or -ENOMEM. */
static int
launch(struct sim_link *l, uint64_t at, uint64_t pn, const void *data, uint32_t len)
{
	struct sim_pkt *p = pkt_copy(pn, data, len);

	if (p == NULL)
		return -ENOMEM;
	if (sim_rng_chance(&l->rng, l->cfg.corrupt) && len > 0) {
		uint64_t bit = sim_rng_below(&l->rng, (uint64_t)len * 8);

		p->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		p->corrupt = true;
	}
	if (sim_at(l->sim, at, link_arrive, l, p, 0) != 0) {
		free(p);
		return -ENOMEM;
	}
	return 0;
}

/* A packet leaves the serializer at dep: decide its fate and schedule what arrives. */
static int
depart(struct sim_link *l, uint64_t dep, uint64_t pn, const void *data, uint32_t len)
{
	uint64_t at = dep + l->cfg.delay_ns;
	int rc;

	if (sim_link_in_black_hole(l, dep)) {
		l->st.black_holed++;
		return 0;
	}
	if (random_loss(l)) {
		l->st.lost++;
		return 0;
	}
	if (sim_rng_chance(&l->rng, l->cfg.reorder) && l->cfg.reorder_delay_ns > 0) {
		at += 1 + sim_rng_below(&l->rng, l->cfg.reorder_delay_ns);
		l->st.reordered++;
	}
	rc = launch(l, at, pn, data, len);
	if (rc == 0 && sim_rng_chance(&l->rng, l->cfg.duplicate)) {
		uint64_t gap = l->cfg.dup_delay_ns ? l->cfg.dup_delay_ns : SIM_DUP_DELAY_NS;

		l->st.duplicated++;
		rc = launch(l, at + 1 + sim_rng_below(&l->rng, gap), pn, data, len);
	}
	return rc;
}

int
sim_link_send(struct sim_link *l, uint64_t pn, const void *data, uint32_t len)
{
	uint64_t now = l->sim->now;

	l->st.offered++;
	l->st.bytes_offered += len;
	if (!queue_admit(l, now)) {
		l->st.queue_drops++;
		return 0;
	}
	return depart(l, serialize(l, now, len), pn, data, len);
}

/* --- links: life cycle -------------------------------------------------------------------- */

static bool
prob_ok(double p)
{
	return p >= 0 && p <= 1;
}

/* Burst start probability p giving a long-run loss fraction q with mean burst length b: a
 * cycle is a burst (b lost), the packet after it (kept), then (1 - p) / p kept on average
 * before the next burst starts, so q = b / (b + 1 + (1 - p) / p), p = q / (b (1 - q)). */
static double
burst_start_p(double q, uint32_t max_burst)
{
	double b = max_burst > 1 ? (1.0 + max_burst) / 2.0 : 1.0;

	if (q <= 0)
		return 0;
	return q >= b / (b + 1) ? 1 : q / (b * (1 - q));
}

struct sim_link *
sim_link_create(struct sim *s, const struct sim_link_config *cfg, sim_deliver_fn *deliver,
		void *arg)
{
	struct sim_link *l;

	if (!prob_ok(cfg->loss) || !prob_ok(cfg->reorder) || !prob_ok(cfg->duplicate) ||
	    !prob_ok(cfg->corrupt) || deliver == NULL) {
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	if (cfg->queue_limit != 0) {
		l->finish = calloc(cfg->queue_limit, sizeof(*l->finish));
		if (l->finish == NULL) {
			free(l);
			return NULL;
		}
	}
	l->sim = s;
	l->cfg = *cfg;
	l->deliver = deliver;
	l->arg = arg;
	l->cut_from = UINT64_MAX;
	l->burst_p = burst_start_p(cfg->loss, cfg->max_burst);
	sim_rng_seed(&l->rng, sim_rng_next(&s->rng));
	l->next = s->links;
	s->links = l;
	return l;
}

void
sim_link_cut(struct sim_link *l, uint64_t from_ns)
{
	l->cut_from = from_ns;
}

const struct sim_link_stats *
sim_link_stats(const struct sim_link *l)
{
	return &l->st;
}

const struct sim_link_config *
sim_link_config(const struct sim_link *l)
{
	return &l->cfg;
}

void
sim_link_print(const struct sim_link *l, const char *name)
{
	const struct sim_link_stats *st = &l->st;

	printf("    %s: offered %" PRIu64 ", queue drops %" PRIu64 ", lost %" PRIu64
	       " (longest burst %" PRIu64 "), black-holed %" PRIu64 ", corrupted %" PRIu64
	       ", duplicated %" PRIu64 ", reordered %" PRIu64 ", delivered %" PRIu64 " (%" PRIu64
	       " frame bytes)\n",
	       name, st->offered, st->queue_drops, st->lost, st->max_burst_seen, st->black_holed,
	       st->corrupted, st->duplicated, st->reordered, st->delivered, st->bytes_delivered);
}
