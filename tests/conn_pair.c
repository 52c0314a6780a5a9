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

/* Packets in flight on the wire: each arrives 1 ms after it was sent. */
struct wire_pkt {
	uint64_t pn;
	size_t len;
	bool to_b;
	uint8_t buf[SL_MAX_PAYLOAD];
};

#define WIRE_MAX 4096

static struct wire_pkt wire[WIRE_MAX];

static unsigned int
emit(struct pair *p, struct dp_conn *from, bool to_b, unsigned int n)
{
	int len;

	while (n < WIRE_MAX && (len = dp_conn_output(from, p->now, wire[n].buf, sizeof(wire[n].buf),
						     &wire[n].pn)) > 0) {
		p->pkts++;
		if (getenv("DBG"))
			fprintf(stderr, "t=%llu %s pn=%llu len=%d%s\n",
				(unsigned long long)(p->now / MS), to_b ? "a>b" : "b>a",
				(unsigned long long)wire[n].pn, len,
				to_b && p->drop_a_to_b ? " dropped" : "");
		if (to_b && p->drop_a_to_b)
			continue;
		wire[n].len = (size_t)len;
		wire[n].to_b = to_b;
		n++;
	}
	return n;
}

/* Run both connections, 1 ms per step, until nothing is in flight and neither has anything
 * due within 50 ms (or `steps` steps passed). */
void
pump(struct pair *p, unsigned int steps)
{
	static struct wire_pkt arriving[WIRE_MAX];
	unsigned int n = p->in_flight;

	for (unsigned int s = 0; s < steps; s++) {
		unsigned int k = n;
		uint64_t next;

		memcpy(arriving, wire, k * sizeof(wire[0]));
		n = 0;
		for (unsigned int i = 0; i < k; i++) {
			int rc = dp_conn_input(arriving[i].to_b ? p->b : p->a, arriving[i].pn,
					       arriving[i].buf, arriving[i].len, p->now);

			if (rc != 0 && getenv("DBG"))
				fprintf(stderr, "input rc %d\n", rc);
		}
		if (dp_conn_next_wakeup(p->a) <= p->now)
			dp_conn_tick(p->a, p->now);
		if (dp_conn_next_wakeup(p->b) <= p->now)
			dp_conn_tick(p->b, p->now);
		n = emit(p, p->a, true, n);
		n = emit(p, p->b, false, n);
		next = RTE_MIN(dp_conn_next_wakeup(p->a), dp_conn_next_wakeup(p->b));
		p->now += MS;
		if (n == 0 && k == 0 && next > p->now + 50 * MS)
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
