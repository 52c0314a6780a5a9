/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the application interface's contract — the control socket's messages and the shared
 * memory an application and the appliance exchange messages through. Both sides include this
 * header: the appliance (controlplane/cp_api.c, dataplane/dp_api.c) and libsluice (api/lib).
 * docs/api.md explains it; this header is the reference for every size and field.
 *
 * Everything is local to one host: fields are in host byte order, with fixed sizes and
 * explicit padding, checked below.
 *
 * Control: a Unix domain socket of type SOCK_SEQPACKET (one request or reply per packet). The
 * application sends a request (struct sl_api_req_hdr + body), the appliance answers each with a
 * reply (struct sl_api_rep_hdr + body) carrying the request's seq. SL_API_ATTACH comes first;
 * its reply carries two file descriptors (SCM_RIGHTS), in this order: the shared memory (a
 * memfd of at least shm_size bytes) and an eventfd the appliance writes when it puts something
 * for an application that sleeps. libsluice closes any further descriptor.
 *
 * Data: the shared memory holds, per dataplane lcore (a "lane"), a ring of descriptors and a
 * byte arena each way, and one ring of events from the control thread. The lcore that owns a
 * peer's session moves that peer's messages: an application posts a message for a session on
 * the lane of the session's owner (the owner lcore is in the session's connection id), and
 * receives that session's messages and events on the same lane, in order.
 *
 *   lane i:  tx ring  (application -> lcore i)  SL_API_D_SEND, SL_API_D_WANT
 *            tx arena (written by the application): the bytes of the messages it sends
 *            rx ring  (lcore i -> application)  messages, node up / down, credit, expiry...
 *            rx arena (written by lcore i): the bytes of the messages it delivers
 *            rx_released (written by the application): how far it released the rx arena
 *   events:  ring (control thread -> application)  SL_API_D_CONNECT_FAILED, SL_API_D_DISCOVERY
 *
 * Growing the events ring: a later appliance may post descriptor types on the events ring,
 * and kinds of SL_API_D_DISCOVERY, that this header does not name, without a new
 * SL_API_VERSION. An application skips a type or kind it does not know and carries on (every
 * libsluice does: it counts it in appliance_errors and never breaks the attachment for it);
 * the appliance never needs an application to understand one. The lane rings do not grow
 * this way: an unknown type there is the appliance's error.
 *
 * Waiting: an application that wants to block sets its sleep flag (shared memory), checks its
 * rings once more, then waits on the eventfd; a producer (an lcore, the control thread) that
 * publishes a descriptor and then finds the flag set writes the eventfd. Both sides order the
 * flag and the ring index with sequentially consistent fences, so a wake-up is never missed
 * and a busy application costs the appliance no system call. An lcore may wait a little before
 * it wakes a sleeper, while it keeps finding work (a batch of messages is worth a context
 * switch, one is not), but never past a polling round without work. The flag's bits
 * (SL_API_SLEEP_*): EVENTS, set by every sleeper; ROOM, also set while a send waits for room in
 * a tx ring or arena: an lcore that has taken every descriptor of its lane's tx ring wakes such
 * a sleeper (taking descriptors publishes nothing the application would otherwise hear of).
 *
 * Arenas are byte rings addressed by positions that only grow (offset = pos % arena size); a
 * message never wraps: its producer skips to the next multiple of the arena size instead.
 * The tx arena frees in ring order: the bytes of a SEND are free once lcore i consumed its
 * descriptor. The rx arena frees as the application releases messages, in any order:
 * libsluice publishes in rx_released the position below which every message is released.
 *
 * Rx arena rules (lcore i writes, the application reads): every message starts on a cache line
 * (pos % 64 == 0, the previous message's end rounded up to 64, or the next multiple of the
 * arena size when it would not fit before the end: the skipped bytes are padding). The
 * application publishes in rx_released a position that only grows and never passes the first
 * message it still holds; the lcore writes only below rx_released + arena size, and an
 * impossible rx_released (backwards, or beyond what was written) is a protocol error.
 * Tx arena rules (the application writes, lcore i reads): a SEND's bytes lie inside the arena
 * without wrapping ((pos % size) + len <= size) and 1 <= len <= max_message; the lcore checks
 * only that, copies the bytes into its engine, and takes the descriptor. (One exception, below:
 * a SEND within credit the engine cannot take yet stays in the ring, and what follows it.)
 * Sessions: a SEND's conn must name a session of this lane (owner lcore i, a slot in range);
 * one that ended (its generation is gone) comes back as SL_API_D_SEND_FAILED, anything else
 * impossible is counted against the application and dropped.
 *
 * Send credit, per session and channel: an application may post bytes up to a limit the lcore
 * grants (SL_API_D_CREDIT: an absolute byte count), starting at the channel's initial credit
 * (the attach reply) when the session comes up: a SEND of len bytes may be posted while the
 * bytes posted on that session and channel, this one included, stay within the limit. Within
 * its credit a message is always taken by the engine, so the lcore never has to hold or refuse
 * what the application posted — when the channel changed hands (its previous owner detached or
 * unregistered it) while the engine still held that owner's unsent bytes, the new owner's
 * initial credit may exceed what the engine takes at first: such a SEND waits at the head of
 * the tx ring until the engine has drained enough, and is taken then; beyond it libsluice's send returns -ENOBUFS at once, without a
 * system call, and posts one WANT; the lcore answers it with a CREDIT as soon as the channel
 * has room for a quarter of its window more than granted, or has all its room back (at once if
 * it has when the lcore takes the WANT; never a message's worth at a time, which would wake a
 * sleeping sender per message), and that CREDIT turns into a Writable notification.
 *
 * Trust: the appliance never believes the shared memory. It keeps the layout it made in its own
 * memory, copies each descriptor out before checking it (ring indices, channel, session, the
 * bytes' place inside the arena, credit), and counts every refusal against the application.
 */
#ifndef SL_API_H
#define SL_API_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_api_ring.h"

#define SL_API_VERSION	  1
#define SL_API_MAGIC	  0x534c4150u /* "SLAP" */
#define SL_API_MAX_LANES  16	      /* dataplane lcores (CONF_MAX_LCORES) */
#define SL_API_NAME_LEN	  32	      /* an application's name, NUL included */
#define SL_API_NODE_LEN	  32	      /* a node id: its X25519 static public key */
#define SL_API_MAX_CHAN	  16	      /* channel ids 0..15 (SL_MAX_CHANNELS); 0 is reserved */
#define SL_API_MAX_NODES  64	      /* entries in one SL_API_NODES reply */
#define SL_API_MAX_PACKET 8192	      /* the largest control packet either way */

/* --- descriptors (64 bytes, one cache line) ---------------------------------------------- */

enum sl_api_desc_type {
	/* application -> lcore (tx ring) */
	SL_API_D_SEND = 1, /* a message: conn, chan, pos, len, ttl_ns */
	SL_API_D_WANT,	   /* send refused: tell me (CREDIT) as soon as conn/chan has room */
	/* lcore -> application (rx ring) */
	SL_API_D_MSG = 16,	/* a message: conn, chan, pos, len, time_ns, id */
	SL_API_D_NODE_UP,	/* a session with node is up: conn, node, ip, port */
	SL_API_D_NODE_DOWN,	/* the session conn ended: reason, by_peer, undelivered */
	SL_API_D_CREDIT,	/* conn/chan may take bytes up to limit */
	SL_API_D_EXPIRED,	/* message id on conn/chan reached its TTL unsent */
	SL_API_D_DATAGRAM_LOST, /* datagram id on conn/chan was lost */
	SL_API_D_SEND_FAILED,	/* a SEND for a session that had ended: conn, chan, len */
	/* control thread -> application (event ring) */
	SL_API_D_CONNECT_FAILED = 32, /* node could not be reached: reason */
	SL_API_D_DISCOVERY, /* discovery: reason (enum sl_api_disc), node, count, missed */
};

struct sl_api_desc {
	uint8_t type; /* enum sl_api_desc_type */
	uint8_t chan;
	uint16_t reason; /* NODE_DOWN: SL_CLOSE_*; CONNECT_FAILED: enum sl_api_fail;
			    DISCOVERY: enum sl_api_disc */
	uint32_t conn;	 /* the session: its connection id on the appliance (owner lcore, slot) */
	union {
		struct {	      /* SEND, MSG, EXPIRED, DATAGRAM_LOST, SEND_FAILED */
			uint64_t pos; /* arena position of the bytes (SEND, MSG) */
			uint32_t len; /* bytes */
			uint32_t pad;
			uint64_t ttl_ns;  /* SEND: time to live (0: the channel's) */
			uint64_t time_ns; /* MSG: arrival, the appliance's clock (sl_now_ns) */
			uint64_t id;	  /* MSG, EXPIRED, DATAGRAM_LOST: the message's id */
		} msg;
		struct { /* NODE_UP, NODE_DOWN, CONNECT_FAILED */
			uint8_t node[SL_API_NODE_LEN];
			uint32_t ip; /* NODE_UP: the peer's address */
			uint16_t port;
			uint8_t by_peer; /* NODE_DOWN: the peer closed */
			uint8_t pad;
			uint32_t undelivered; /* NODE_DOWN: messages sent and never acknowledged */
		} node;
		struct {		/* CREDIT */
			uint64_t limit; /* absolute bytes the application may have posted */
		} credit;
		struct {			       /* DISCOVERY */
			uint8_t node[SL_API_NODE_LEN]; /* or zero (enum sl_api_disc) */
			uint32_t count;	 /* ADDR_LEARNED: addresses; BOOK_SAVED: entries;
					    BOOK_FAILED: the errno (positive) */
			uint32_t missed; /* discovery events not posted to this application since
					    the last one it was (its events ring was too full) */
			uint8_t pad[8];
		} disc;
	};
	uint8_t pad[8];
};

_Static_assert(sizeof(struct sl_api_desc) == 64, "a descriptor is one cache line");
_Static_assert(offsetof(struct sl_api_desc, msg) == 8, "union after the common header");
_Static_assert(sizeof(((struct sl_api_desc *)0)->node) <= 48, "node fits the union");
_Static_assert(SL_API_D_DISCOVERY == 33, "descriptor types are part of the contract");
_Static_assert(sizeof(((struct sl_api_desc *)0)->disc) == 48, "disc fills the union");
_Static_assert(offsetof(struct sl_api_desc, disc.node) == 8, "disc's node where node's is");
_Static_assert(offsetof(struct sl_api_desc, disc.count) == 40, "disc.count");
_Static_assert(offsetof(struct sl_api_desc, disc.missed) == 44, "disc.missed");

/* Why an SL_API_D_CONNECT_FAILED (reason). */
enum sl_api_fail {
	SL_API_FAIL_TIMEOUT = 1, /* no answer within the handshake timeout */
	SL_API_FAIL_REFUSED,	 /* the node refused (network, version, identity) */
	SL_API_FAIL_UNREACHABLE, /* no route or no address for it */
	SL_API_FAIL_NO_SLOT,	 /* the appliance has no session slot free */
};

/* What an SL_API_D_DISCOVERY tells (reason). Later appliances may add kinds: an application
 * skips one it does not know (see "Growing the events ring" above). */
enum sl_api_disc {
	SL_API_DISC_ADDR_LEARNED = 1, /* node (the peer that told us) gave count new addresses */
	SL_API_DISC_PEER_BAD,	      /* node broke peer exchange: closed and marked bad */
	SL_API_DISC_BOOK_SAVED,	      /* the address book was saved: count entries; node zero */
	SL_API_DISC_BOOK_FAILED,      /* saving it failed: count = errno (positive); node zero */
};

/* --- shared memory ------------------------------------------------------------------------ */

/* Offsets (from the start of the shared memory) of one lane's parts. */
struct sl_api_lane_layout {
	uint64_t tx_ring, tx_arena, rx_ring, rx_arena, rx_released;
};

/* The start of the shared memory, written by the appliance before it hands the memory over.
 * The application reads the layout from here; the appliance never reads it back. */
struct sl_api_shm_hdr {
	uint32_t magic;	  /* SL_API_MAGIC */
	uint32_t version; /* SL_API_VERSION */
	uint64_t size;	  /* bytes of the whole mapping */
	uint32_t n_lanes;
	uint32_t ring_slots;			 /* capacity of every ring (a power of two) */
	uint64_t tx_arena_bytes, rx_arena_bytes; /* per lane, powers of two */
	uint64_t events_ring;			 /* control thread -> application */
	uint64_t sleeping;			 /* offset of the application's sleep flag */
	struct sl_api_lane_layout lane[SL_API_MAX_LANES];
};

/* The sleep flag's bits (see "Waiting"): 0 is awake. */
#define SL_API_SLEEP_EVENTS 1u /* asleep: wake it for a descriptor published for it */
#define SL_API_SLEEP_ROOM   2u /* and a send waits for room: wake it when a tx ring is drained */

/* rx_released and the sleep flag: each alone on a cache line the application writes. */
struct sl_api_shared_word {
	_Alignas(SL_RING_LINE) _Atomic uint64_t v;
};

_Static_assert(sizeof(struct sl_api_shared_word) == SL_RING_LINE, "one line");

/* The sizes of one application's shared memory. */
struct sl_api_sizes {
	uint32_t n_lanes;
	uint32_t ring_slots;
	uint64_t tx_arena_bytes, rx_arena_bytes;
};

/* Lay out the shared memory for these sizes: fills hdr (layout, magic, version, size) and
 * returns the total size, or 0 if a size is not a power of two or out of range. */
uint64_t sl_api_layout(const struct sl_api_sizes *sz, struct sl_api_shm_hdr *hdr);

/* An application's check of the header it mapped: 0, or -EPROTO naming nothing (a bad magic,
 * version, or a part outside size bytes). */
int sl_api_layout_check(const struct sl_api_shm_hdr *hdr, uint64_t size);

/* --- control socket ----------------------------------------------------------------------- */

enum sl_api_req_type {
	SL_API_ATTACH = 1, /* body: struct sl_api_attach -> reply: struct sl_api_attach_rep */
	SL_API_DETACH,	   /* no body -> no body; the socket then closes */
	SL_API_REGISTER,   /* body: struct sl_api_chan -> no body */
	SL_API_UNREGISTER, /* body: struct sl_api_chan -> no body */
	SL_API_CONNECT,	   /* body: struct sl_api_connect -> no body (then NODE_UP or
			      CONNECT_FAILED tell how it went) */
	SL_API_DISCONNECT, /* body: struct sl_api_node -> no body */
	SL_API_NODES,	   /* body: struct sl_api_nodes_req -> struct sl_api_nodes_rep */
};

struct sl_api_req_hdr {
	uint16_t type; /* enum sl_api_req_type */
	uint16_t pad;
	uint32_t seq; /* echoed in the reply */
};

struct sl_api_rep_hdr {
	uint16_t type; /* the request's */
	uint16_t pad;
	uint32_t seq;
	int32_t status; /* 0 or -errno (docs/api.md lists each request's) */
	uint32_t pad2;
};

_Static_assert(sizeof(struct sl_api_req_hdr) == 8, "request header");
_Static_assert(sizeof(struct sl_api_rep_hdr) == 16, "reply header");

struct sl_api_attach {
	uint32_t version;	    /* SL_API_VERSION */
	char name[SL_API_NAME_LEN]; /* for logs and sluicectl apps; NUL-terminated */
};

/* One channel's send limits, for credit: the engine takes a message while its channel holds
 * less than queue_limit bytes queued (counting the message) and, when unsent_limit is not
 * zero, less than unsent_limit bytes never sent. */
struct sl_api_chan_info {
	uint8_t kind; /* 0 unused, 1 reliable, 2 datagram (dp_conn.h) */
	uint8_t pad[3];
	uint32_t queue_limit;
	uint32_t unsent_limit;
	uint32_t initial_credit; /* what a new session grants on this channel */
};

struct sl_api_attach_rep {
	uint32_t app_id;
	uint32_t max_message;
	uint8_t node[SL_API_NODE_LEN]; /* this appliance's node id */
	uint64_t shm_size;	       /* bytes to map from the memfd */
	struct sl_api_chan_info chan[SL_API_MAX_CHAN];
};

struct sl_api_chan {
	uint8_t chan;
	uint8_t pad[7];
};

struct sl_api_node {
	uint8_t node[SL_API_NODE_LEN];
};

struct sl_api_connect {
	uint8_t node[SL_API_NODE_LEN];
	uint32_t ip; /* 0: the appliance's configured or known address for node */
	uint16_t port;
	uint16_t pad;
};

struct sl_api_nodes_req {
	uint32_t start; /* the first entry wanted (for more than SL_API_MAX_NODES) */
	uint32_t pad;
};

enum sl_api_node_state {
	SL_API_NODE_WAITING = 0, /* a configured or requested node between attempts */
	SL_API_NODE_RESOLVING,
	SL_API_NODE_DIALING,
	SL_API_NODE_CONNECTED,
};

struct sl_api_node_info {
	uint8_t node[SL_API_NODE_LEN];
	uint32_t ip;
	uint16_t port;
	uint8_t state; /* enum sl_api_node_state */
	uint8_t initiator;
	uint32_t conn; /* CONNECTED: the session's connection id */
	uint32_t pad;
	uint64_t rtt_ns; /* smoothed round trip (0: no sample yet) */
	uint64_t bytes_in, bytes_out, msgs_in, msgs_out;
	uint64_t last_handshake_ns; /* appliance clock */
	uint64_t now_ns;	    /* the appliance's clock when the reply was made */
};

struct sl_api_nodes_rep {
	uint32_t total; /* nodes the appliance knows */
	uint32_t n;	/* entries that follow */
	struct sl_api_node_info e[];
};

_Static_assert(sizeof(struct sl_api_rep_hdr) + sizeof(struct sl_api_nodes_rep) +
			       SL_API_MAX_NODES * sizeof(struct sl_api_node_info) <=
		       SL_API_MAX_PACKET,
	       "a full nodes reply fits one control packet");
_Static_assert(sizeof(struct sl_api_rep_hdr) + sizeof(struct sl_api_attach_rep) <=
		       SL_API_MAX_PACKET,
	       "the attach reply fits one control packet");

#endif /* SL_API_H */
