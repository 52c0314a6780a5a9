/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: two reliable-engine connections joined by a perfect in-memory wire, for the engine's
 * unit tests (see conn_pair.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_pair.h"
#include "sl_test.h"
void
pair_open(struct pair *p, void (*tweak)(struct dp_conn_config *))
{
	memset(p, 0, sizeof(*p));
	dp_conn_config_defaults(&p->cfg);
	if (tweak != NULL)
		tweak(&p->cfg);
	p->now = 1000 * MS;
	p->a = dp_conn_create(&p->cfg, p->now);
	p->b = dp_conn_create(&p->cfg, p->now);
	CU_ASSERT_FATAL(p->a != NULL && p->b != NULL);
}

void
pair_close(struct pair *p)
{
	dp_conn_destroy(p->a);
	dp_conn_destroy(p->b);
}

/* Packets in flight on the wire: each arrives 1 ms after it was sent (or, if its side is paused,
 * once that side runs again). Two buffers: what arrives in a step, and what is sent in it. */
struct wire_pkt {
	uint64_t pn;
	size_t len;
	bool to_b;
	uint8_t buf[SL_MAX_PAYLOAD];
};

#define WIRE_MAX 4096

static struct wire_pkt wire_bufs[2][WIRE_MAX];
static unsigned int wire_cur; /* wire_bufs[wire_cur]: on the wire now */

static bool
lost_on_the_way(struct pair *p, bool to_b)
{
	if (p->cut)
		return true;
	if (!to_b)
		return false;
	return p->drop_a_to_b ||
	       (p->loss_a_to_b_ppm != 0 && sl_test_mix64(&p->rng) % 1000000 < p->loss_a_to_b_ppm);
}

static unsigned int
emit(struct pair *p, struct dp_conn *from, bool to_b, struct wire_pkt *wire, unsigned int n)
{
	int len;

	while (n < WIRE_MAX && (len = dp_conn_output(from, p->now, wire[n].buf, sizeof(wire[n].buf),
						     &wire[n].pn)) > 0) {
		bool lost = lost_on_the_way(p, to_b);

		p->pkts++;
		if (getenv("DBG"))
			fprintf(stderr, "t=%llu %s pn=%llu len=%d%s\n",
				(unsigned long long)(p->now / MS), to_b ? "a>b" : "b>a",
				(unsigned long long)wire[n].pn, len, lost ? " dropped" : "");
		if (lost)
			continue;
		wire[n].len = (size_t)len;
		wire[n].to_b = to_b;
		n++;
	}
	return n;
}

/* The packets arriving now: taken by their side, or kept on the wire (next) for a paused one.
 * Returns how many were kept. */
static unsigned int
arrive(struct pair *p, struct wire_pkt *arriving, unsigned int k, struct wire_pkt *next)
{
	unsigned int kept = 0;

	for (unsigned int i = 0; i < k; i++) {
		struct wire_pkt *w = &arriving[i];
		int rc;

		if (p->cut)
			continue;
		if (w->to_b ? p->paused_b : p->paused_a) {
			next[kept].pn = w->pn;
			next[kept].len = w->len;
			next[kept].to_b = w->to_b;
			memcpy(next[kept].buf, w->buf, w->len);
			kept++;
			continue;
		}
		rc = dp_conn_input(w->to_b ? p->b : p->a, w->pn, w->buf, w->len, p->now);
		if (rc != 0 && getenv("DBG"))
			fprintf(stderr, "input rc %d\n", rc);
	}
	return kept;
}

/* One side's timers and output (nothing if paused); returns the new count on the wire. */
static unsigned int
run_side(struct pair *p, struct dp_conn *c, bool to_b, struct wire_pkt *next, unsigned int n)
{
	if (to_b ? p->paused_a : p->paused_b)
		return n;
	if (dp_conn_next_wakeup(c) <= p->now)
		dp_conn_tick(c, p->now);
	return emit(p, c, to_b, next, n);
}

static uint64_t
next_due(const struct pair *p)
{
	return RTE_MIN(p->paused_a ? UINT64_MAX : dp_conn_next_wakeup(p->a),
		       p->paused_b ? UINT64_MAX : dp_conn_next_wakeup(p->b));
}

/* Run both connections, 1 ms per step, until nothing is in flight but what waits for a paused
 * side and no running side has anything due within 50 ms (or `steps` steps passed). */
void
pump(struct pair *p, unsigned int steps)
{
	unsigned int n = p->in_flight;

	for (unsigned int s = 0; s < steps; s++) {
		struct wire_pkt *arriving = wire_bufs[wire_cur], *next = wire_bufs[wire_cur ^ 1];
		unsigned int k = n, kept;

		n = kept = arrive(p, arriving, k, next);
		n = run_side(p, p->a, true, next, n); /* what a sends now reaches b next step */
		n = run_side(p, p->b, false, next, n);
		wire_cur ^= 1;
		p->now += MS;
		if (n == kept && k == kept && next_due(p) > p->now + 50 * MS)
			break;
	}
	p->in_flight = n; /* still on the wire: delivered by the next call */
}

void
fill(uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((i * 31 + seed * 7) ^ (i >> 8));
}
