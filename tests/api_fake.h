/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tests: a fake appliance for libsluice — plain C, no DPDK, in the test's process.
 *
 * Control thread (api_fake.c): a SOCK_SEQPACKET server in a thread of its own that answers
 * the requests of sl_api.h with canned but checkable behaviour:
 *   ATTACH      a memfd laid out by sl_api_layout() and an eventfd (or the hostile variants
 *               of struct api_fake_cfg); -EPROTO for another version, -EUSERS beyond max_apps
 *   REGISTER    one owner per channel across attachments (-EINVAL, -EBUSY, -EALREADY);
 *               UNREGISTER -ENOENT when the attachment does not serve it; detach drops them
 *   CONNECT     -EINVAL an all-zero id, -EDESTADDRREQ ip 0 for a node it does not know; a
 *               node whose id starts with 0xff gets CONNECT_FAILED (events ring), any other
 *               NODE_UP on lane id[1] % n_lanes, after the reply
 *   DISCONNECT  -ENOENT unknown; else NODE_DOWN (SL_CLOSE_APPLICATION) on the node's lane
 *   NODES       the nodes it knows, paged by SL_API_MAX_NODES
 * Lcore role (api_fake_lcore.c), called by the test thread: consume the SEND and WANT
 * descriptors of a lane and check them as the appliance would (placement in the arena,
 * session, channel, credit), deliver messages into the rx arena by its rules (respecting
 * rx_released, which it checks too), post any descriptor, wake a sleeping application.
 *
 * Everything the server thread and the test share is under one mutex, so the test may post
 * on a ring the server thread also posts on (connect's NODE_UP) without breaking SPSC.
 * Attachments are numbered 0, 1, ... in the order they attached.
 */
#ifndef API_FAKE_H
#define API_FAKE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "sl_api.h"

#define API_FAKE_MAX_APPS  4
#define API_FAKE_MAX_NODES 160
#define API_FAKE_MAX_CONNS 64

/* Hostile attach replies (api_fake_cfg.hostile). */
#define API_FAKE_BAD_MAGIC  0x01 /* the shared memory's magic is wrong */
#define API_FAKE_BIG_SIZE   0x02 /* the reply's shm_size is larger than the memfd */
#define API_FAKE_NO_FDS	    0x04 /* the reply carries no file descriptor */
#define API_FAKE_EXTRA_FDS  0x08 /* two file descriptors more than the two expected */
#define API_FAKE_BAD_LAYOUT 0x10 /* lane 0's rx arena runs past the end of the memory */

struct api_fake_cfg {
	uint32_t n_lanes, ring_slots;
	uint64_t tx_arena_bytes, rx_arena_bytes;
	uint32_t max_message;
	uint32_t initial_credit; /* of every channel that exists */
	uint16_t chans;		 /* the channels that exist: bit per channel (not 0) */
	uint32_t version;	 /* the API version it speaks */
	uint32_t max_apps;
	unsigned int hostile; /* API_FAKE_* */
};

/* What the lcore took from a tx ring. */
struct api_fake_sent {
	uint8_t type; /* SL_API_D_SEND or SL_API_D_WANT */
	uint8_t chan;
	uint32_t conn;
	uint32_t len;
	uint64_t pos;
};

struct api_fake_lane {
	struct sl_ring tx, rx;
	uint8_t *tx_arena, *rx_arena;
	uint64_t tx_last_end; /* where the last SEND ended (they must not go backwards) */
	uint64_t rx_next;     /* where the next message may start */
	uint64_t rx_seen;     /* rx_released as last read */
};

struct api_fake_app {
	bool live;
	int sock, efd;
	uint8_t *shm;
	uint64_t size;
	struct sl_api_shm_hdr hdr;
	struct api_fake_lane lane[SL_API_MAX_LANES];
	struct sl_ring events;
	uint64_t wakes;	 /* eventfd writes */
	uint64_t errors; /* what the application did against the rules */
};

struct api_fake_node {
	uint8_t id[SL_API_NODE_LEN];
	uint32_t ip;
	uint16_t port;
	bool up;
	uint32_t conn;
	uint32_t lane;
};

struct api_fake_conn {
	bool up;
	uint32_t conn, lane, app;
	uint64_t posted[SL_API_MAX_CHAN], limit[SL_API_MAX_CHAN];
};

struct api_fake {
	struct api_fake_cfg cfg;
	char dir[64], path[80];
	int listen_fd, stop_fd;
	pthread_t thread;
	pthread_mutex_t lock;
	struct api_fake_app app[API_FAKE_MAX_APPS];
	unsigned int n_apps;		/* attachments so far (indices are never reused) */
	uint8_t owner[SL_API_MAX_CHAN]; /* app index + 1 serving each channel */
	struct api_fake_node node[API_FAKE_MAX_NODES];
	unsigned int n_nodes;
	struct api_fake_conn conn[API_FAKE_MAX_CONNS];
	uint32_t next_conn;
	uint64_t next_id;
};

/* Sane defaults: 2 lanes of 64 slots, 64 KiB arenas, 4096-byte messages, channels 1..7 with a
 * credit of 16 KiB. */
void api_fake_defaults(struct api_fake_cfg *cfg);
/* Start the server on a socket of its own (api_fake_path()); NULL on failure. */
struct api_fake *api_fake_start(const struct api_fake_cfg *cfg);
const char *api_fake_path(const struct api_fake *f);
/* Stop the thread, close and unmap everything, remove the socket. */
void api_fake_stop(struct api_fake *f);
/* A node the fake knows (NODES lists it, CONNECT with ip 0 reaches it). */
void api_fake_add_node(struct api_fake *f, const uint8_t id[SL_API_NODE_LEN], uint32_t ip,
		       uint16_t port);

/* api_fake_lcore.c — the lcore role (any thread; under the fake's lock) */
/* A session up: NODE_UP on app's lane, credit tracked from the channels' initial credit. */
int api_fake_node_up(struct api_fake *f, unsigned int app, unsigned int lane, uint32_t conn,
		     const uint8_t id[SL_API_NODE_LEN]);
int api_fake_node_down(struct api_fake *f, unsigned int app, unsigned int lane, uint32_t conn,
		       uint16_t reason);
int api_fake_credit(struct api_fake *f, unsigned int app, unsigned int lane, uint32_t conn,
		    uint8_t chan, uint64_t limit);
/* Post any descriptor on app's lane (rx ring) or, lane < 0, its events ring; wake it if it
 * sleeps. 0, or -ENOBUFS (ring full). */
int api_fake_post(struct api_fake *f, unsigned int app, int lane, const struct sl_api_desc *d);
/* Take one descriptor from app's lane's tx ring: 1 (out filled, a SEND's bytes copied to buf,
 * which holds max_message), 0 none, -EPROTO one the appliance would refuse (counted in
 * app.errors, taken anyway). */
int api_fake_take(struct api_fake *f, unsigned int app, unsigned int lane,
		  struct api_fake_sent *out, uint8_t *buf);
/* Deliver a message: its bytes into the rx arena where the rules put it, then MSG. 0 with
 * *pos, -ENOBUFS (the arena or ring is full until the application releases), -EPROTO (the
 * application published an impossible rx_released). */
int api_fake_deliver(struct api_fake *f, unsigned int app, unsigned int lane, uint32_t conn,
		     uint8_t chan, const void *data, uint32_t len, uint64_t *pos);
uint64_t api_fake_rx_released(struct api_fake *f, unsigned int app, unsigned int lane);
/* The application's sleep flag, as the appliance reads it: set at all / its bits. */
bool api_fake_sleeping(struct api_fake *f, unsigned int app);
uint64_t api_fake_sleep_flag(struct api_fake *f, unsigned int app);

#endif /* API_FAKE_H */
