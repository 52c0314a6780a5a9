/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: two reliable-engine connections, a and b, joined by a perfect in-memory wire on
 * which every packet arrives 1 ms after it was sent (unit tests of the engine; the lossy
 * network is the simulator's, sim.h).
 */
#ifndef CONN_PAIR_H
#define CONN_PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_conn.h"

#define MS 1000000ull

struct pair {
	struct dp_conn_config cfg;
	struct dp_conn *a, *b;
	uint64_t now;
	bool drop_a_to_b; /* lose everything a sends */
	unsigned int pkts;
	unsigned int in_flight; /* packets on the wire between pump() calls */
};

/* Both connections with the default configuration, changed by tweak if given. */
void pair_open(struct pair *p, void (*tweak)(struct dp_conn_config *));
void pair_close(struct pair *p);
/* Run both connections, 1 ms per step, until nothing is in flight and neither has anything
 * due within 50 ms (or `steps` steps passed). */
void pump(struct pair *p, unsigned int steps);
/* A test pattern of len bytes for seed. */
void fill(uint8_t *buf, size_t len, uint32_t seed);

#endif /* CONN_PAIR_H */
