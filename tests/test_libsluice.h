/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: what test_libsluice.c (attach, requests, send) and test_libsluice_rx.c (receive,
 * wait, hostile appliance) share: helpers over the fake appliance, and the cases.
 */
#ifndef TEST_LIBSLUICE_H
#define TEST_LIBSLUICE_H

#include "api_fake.h"
#include "sl_test.h"
#include "sluice.h"

#define WAIT_MS 30000	    /* generous: a wait that should end at once */
#define CONN_A	0x00000101u /* sessions the tests bring up (lane in the top byte) */
#define CONN_B	0x01000102u

/* A fake appliance, an attachment to it (app 0), and perhaps a node's session. */
struct world {
	struct api_fake *f;
	struct sluice *s;
	uint8_t id[SLUICE_NODE_LEN]; /* node k's */
};

/* Start a world: the fake with cfg (NULL: api_fake_defaults()), attached; when k is not 0,
 * node k's session conn up on lane and seen (NODE_CONNECTED). */
void world_start(struct world *w, const struct api_fake_cfg *cfg, uint8_t k, unsigned int lane,
		 uint32_t conn);
/* Detach and stop the fake. */
void world_end(struct world *w);
/* A fake appliance with the defaults of api_fake_defaults(). */
struct api_fake *start_default(void);
/* Attach to it (asserted). */
struct sluice *attach(struct api_fake *f);
/* The id of test node k (never all zero, never 0xff first: the fake dials it). */
void node_id(uint8_t id[SLUICE_NODE_LEN], uint8_t k);
/* len bytes made from seed: the reference regenerates them. */
void fill(uint8_t *p, size_t len, uint64_t seed);
/* The next event, waiting for it if needed: 1, or 0 (none within WAIT_MS). */
int next_event(struct sluice *s, struct sluice_event *ev);
/* Node k's session conn up on lane (app 0), the application has seen NODE_CONNECTED. */
void up(struct api_fake *f, struct sluice *s, uint8_t k, unsigned int lane, uint32_t conn);

/* test_libsluice_rx.c */
void test_rx_random(void);
void test_recv_copy(void);
void test_replaced_session(void);
void test_wait_thread(void);
void test_wait_fd(void);
void test_wait_fd_appliance_gone(void);
void test_hostile_rx(void);
void test_broken_ring(void);
void test_appliance_gone(void);
void test_discovery_events(void);
void test_discovery_future(void);

#endif /* TEST_LIBSLUICE_H */
