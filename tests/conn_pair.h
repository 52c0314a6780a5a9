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
	bool drop_a_to_b;	  /* lose everything a sends */
	uint32_t loss_a_to_b_ppm; /* lose this share (per million) of what a sends, at random */
	uint64_t rng;		  /* sl_test_mix64 state of that loss */
	bool cut;		  /* nothing gets through: what is on the wire and what is sent */
	/* a paused side is not run (no input, timers or output), like a stopped process; what is
	 * sent to it waits on the wire and arrives once it runs again */
	bool paused_a, paused_b;
	unsigned int pkts;
	unsigned int in_flight; /* packets on the wire between pump() calls */
};

/* Both connections with the default configuration, changed by tweak if given. */
void pair_open(struct pair *p, void (*tweak)(struct dp_conn_config *));
void pair_close(struct pair *p);
/* Run both connections (those not paused), 1 ms per step, until nothing is in flight but what
 * waits for a paused side and no running side has anything due within 50 ms (or `steps` steps
 * passed). */
void pump(struct pair *p, unsigned int steps);
/* A test pattern of len bytes for seed. */
void fill(uint8_t *buf, size_t len, uint32_t seed);

#endif /* CONN_PAIR_H */
