/* SPDX-License-Identifier: BSD-3-Clause
 * libsluice internals, shared by its files and not installed: the attachment (struct sluice),
 * its lanes, the node table.
 *
 *   sluice_ctl.c     the control socket: one request, its reply (and file descriptors)
 *   sluice_attach.c  attach (the shared memory and its checks), detach, accessors, errors
 *   sluice_nodes.c   node id -> node, session (conn) -> node; credit per channel
 *   sluice_tx.c      send: credit, the lane's tx ring and arena, WANT, room watching
 *   sluice_rx.c      poll: descriptors -> events, their checks; release of the rx arena
 *   sluice_wait.c    the sleep flag, the eventfd, sluice_wait(), sluice_flush()
 *   sluice_text.c    node ids as text (base64, hex)
 *
 * Threading: an attachment is used by one thread at a time (sluice.h); nothing here locks.
 * Everything read from the shared memory is copied before it is checked, and checked before
 * it is used: the appliance is not trusted to keep to sl_api.h.
 */
#ifndef SLUICE_PVT_H
#define SLUICE_PVT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sl_api.h"
#include "sluice.h"

#define LSL_RX_BURST	   32	/* descriptors read from one ring per sluice_poll() */
#define LSL_CTL_TIMEOUT_MS 5000 /* the longest a request waits for its reply */
#define LSL_ROOM_POLL_MS   1	/* how often sluice_wait() looks at a lane a send waits for */
#define LSL_UNIT	   64	/* rx arena unit: messages start on one, release marks them */
#define LSL_MAX_FDS	   8	/* file descriptors one control reply may carry (others: closed) */

_Static_assert(LSL_UNIT == SL_RING_LINE, "rx messages start on a cache line (sl_api.h)");
_Static_assert(SLUICE_NODE_LEN == SL_API_NODE_LEN, "a node id is the same on both sides");
/* libsluice.so.0's ABI: struct sluice_event keeps its size and its fields' places (count sits
 * in what was padding), and event types are only added at the end. */
_Static_assert(sizeof(struct sluice_event) == 104, "struct sluice_event's size is ABI");
_Static_assert(offsetof(struct sluice_event, count) == 84, "count fills the old padding");
_Static_assert(offsetof(struct sluice_event, priv) == 88, "priv stays where it was");
_Static_assert(SLUICE_SEND_FAILED == 8 && SLUICE_DISC_ADDR_LEARNED == 9,
	       "event types are only added at the end");
_Static_assert(LSL_RX_BURST <= 64, "a burst of descriptors is copied onto the stack");

/* --- node table (sluice_nodes.c) ---------------------------------------------------------- */

/* An open-addressing index of entries of a pool (uint32 values) by the hash of their key:
 * linear probing, backward-shift deletion, doubled at 3/4 full. What the key is, is the
 * caller's (struct lsl_index_ops); only memory limits its size. */
struct lsl_index {
	uint32_t *slot; /* 0 empty, else value + 1 */
	uint32_t mask;	/* capacity - 1 */
	uint32_t n;
};

/* A growable array of fixed-size entries that keep their index (a stack of free ones). */
struct lsl_pool {
	uint8_t *e;
	uint32_t *free;
	uint32_t esz, n, cap, n_free; /* n: entries ever handed out (the high-water mark) */
};

/* A peer node, from its first NODE_UP until its last session ended. */
struct lsl_node {
	uint8_t id[SL_API_NODE_LEN];
	uint32_t conn;	 /* the current session (when connected) */
	uint32_t refs;	 /* sessions (struct lsl_conn) naming this node */
	uint8_t lane;	 /* the current session's lane */
	bool connected;	 /* conn is up */
	bool used;	 /* the entry is in the table */
	uint16_t wanted; /* channels refused for credit whose WANT is posted */
	uint16_t room;	 /* channels refused for room in the lane's ring or arena */
	uint64_t posted[SL_API_MAX_CHAN]; /* bytes posted on the current session */
	uint64_t limit[SL_API_MAX_CHAN];  /* the credit granted on it (absolute) */
};

/* A session the appliance reported up and not yet down. */
struct lsl_conn {
	uint32_t conn;
	uint32_t node; /* index in the node pool */
	uint32_t lane;
};

/* --- lanes -------------------------------------------------------------------------------- */

struct lsl_lane {
	/* tx: the application produces (sluice_tx.c) */
	struct sl_ring tx;
	uint8_t *tx_arena;
	uint64_t tx_size;
	uint64_t tx_pos;    /* where the next message may start (positions only grow) */
	uint64_t *tx_start; /* per tx ring slot: the arena position its descriptor's bytes start */
	uint32_t room_head; /* a refused send waits until the lcore took the slots below this */
	bool room_wait;	    /* a send was refused for room; WRITABLE once the lcore took them */
	bool room_emit;	    /* the lcore did: WRITABLE for each node's room bits on this lane */
	/* rx: the lcore produces, the application consumes (sluice_rx.c) */
	struct sl_ring rx;
	const uint8_t *rx_arena;
	uint64_t rx_size;
	_Atomic uint64_t *rx_released; /* shared: published release position */
	uint64_t rx_rel;	       /* its value as published */
	uint64_t rx_next;  /* where the next message may start (its predecessor's end) */
	uint64_t *rx_map;  /* a bit per 64-byte unit: released or padding */
	uint64_t rx_umask; /* units in the arena - 1 */
};

struct sluice {
	int sock; /* the control socket */
	int efd;  /* the eventfd the appliance writes to wake us */
	int wfd;  /* sluice_fd(): an epoll set of efd (readable) and sock (hang-up) */
	uint8_t *shm;
	uint64_t shm_size;
	struct sl_api_shm_hdr hdr;    /* a private copy of the layout, checked */
	struct sl_api_attach_rep rep; /* the attach reply */
	uint32_t max_message;	      /* the reply's, no larger than a tx arena */
	uint32_t seq;		      /* of the last request */
	_Atomic uint64_t *sleeping;   /* shared: the sleep flag */
	struct sl_ring events;	      /* control thread -> application */
	bool broken;		      /* a ring's index was impossible: -EPROTO from now on */
	uint32_t n_lanes, next_lane;  /* next_lane: the first polled by the next sluice_poll() */
	uint64_t seed;		      /* of the node table's hashes */
	struct lsl_pool nodes, conns;
	struct lsl_index by_id, by_conn;
	struct sluice_stats st;
	struct lsl_lane lane[SL_API_MAX_LANES];
	uint8_t ctl_buf[SL_API_MAX_PACKET]; /* one control reply */
};

/* sluice_ctl.c */
int lsl_ctl_open(const char *path, int *fd);
/* Send a request, wait for its reply: returns the reply body's length (in s->ctl_buf) or a
 * negative errno (the reply's status included). fds (may be NULL): up to want_fds received
 * descriptors, *n_fds how many; others are closed, and so are these unless it returns >= 0. */
int lsl_ctl_call(struct sluice *s, uint16_t type, const void *body, size_t len, int *fds,
		 int want_fds, int *n_fds);

/* sluice_nodes.c */
int lsl_nodes_init(struct sluice *s);
void lsl_nodes_free(struct sluice *s);
struct lsl_node *lsl_node_find(struct sluice *s, const uint8_t id[SL_API_NODE_LEN]);
struct lsl_node *lsl_node_at(struct sluice *s, uint32_t i); /* NULL: free or beyond */
/* The node of session conn, if that session is up on lane. */
struct lsl_node *lsl_node_by_conn(struct sluice *s, uint32_t conn, uint32_t lane);
/* NODE_UP on lane: 0, -EEXIST (conn is up already), -ENOMEM. */
int lsl_node_up(struct sluice *s, uint32_t lane, const struct sl_api_desc *d);
/* NODE_DOWN of conn on lane: 0 with the node's id copied, *current telling whether it was the
 * node's current session (else a replaced one ended: nothing to report); -ENOENT. */
int lsl_node_down(struct sluice *s, uint32_t lane, uint32_t conn, uint8_t id[SL_API_NODE_LEN],
		  bool *current);
/* CREDIT: raise chan's limit; true when that channel had a WANT out (WRITABLE follows). */
bool lsl_node_credit(struct lsl_node *n, uint8_t chan, uint64_t limit);

/* sluice_tx.c */
/* Lanes whose refused sends now have room: WRITABLE events, at most max. */
unsigned int lsl_tx_writable(struct sluice *s, struct sluice_event *ev, unsigned int max);
bool lsl_tx_room_ready(struct sluice *s); /* lsl_tx_writable() has something to say */
bool lsl_tx_room_waiting(const struct sluice *s);
bool lsl_tx_all_taken(struct sluice *s); /* the lcores consumed every descriptor posted */

/* sluice_rx.c */
bool lsl_rx_ready(struct sluice *s); /* a ring holds a descriptor, or the state is broken */

/* A ring's index was impossible: the attachment is broken (-EPROTO from now on). */
static inline int
lsl_broken(struct sluice *s)
{
	if (!s->broken)
		s->st.appliance_errors++;
	s->broken = true;
	return -EPROTO;
}

/* Fill ev as an event of type about node id and channel chan (the rest zero). */
static inline void
lsl_event_node(struct sluice_event *ev, enum sluice_event_type type,
	       const uint8_t id[SL_API_NODE_LEN], uint8_t chan)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	memcpy(ev->node, id, SL_API_NODE_LEN);
	ev->chan = chan;
}

#endif /* SLUICE_PVT_H */
