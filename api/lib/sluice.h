/* SPDX-License-Identifier: BSD-3-Clause
 * libsluice: send messages to nodes and hear about nodes through a running sluice appliance.
 *
 *   struct sluice *s = sluice_attach("/run/sluice/api.sock", "my-app", &err);
 *   sluice_register(s, 3);                               serve channel 3
 *   sluice_connect(s, node, 0, 0);                       dial a node the appliance knows
 *   sluice_send(s, node, 3, buf, len, 0);                0, -ENOBUFS, -ENOTCONN, -EMSGSIZE
 *   n = sluice_poll(s, ev, 32);                          messages and notifications, in order
 *   ... ev[i].data is in shared memory: sluice_release(s, &ev[i]) when done with it
 *   sluice_wait(s, -1);                                  block (or epoll sluice_fd(s))
 *   sluice_detach(s);
 *
 * An attachment (struct sluice) is used by one thread at a time: no call here is thread-safe
 * for the same attachment; several attachments (one per thread) are independent. Data calls
 * (send, poll, release) make no system call; requests (register, connect, disconnect, nodes)
 * are a round trip on the control socket. Every int-returning call returns 0 (or a count) or a
 * negative errno; docs/api.md lists the errors of each.
 *
 * Ordering: messages and notifications that concern one session come in the order they
 * happened (NodeConnected before its first message, its last message before NodeDisconnected).
 * Sessions owned by different dataplane lcores of the appliance are independent of each other.
 *
 * Memory: a received message's bytes stay valid until it is released; an application that
 * holds them stops the appliance from delivering more to it on that lcore (the peer then sees
 * -ENOBUFS, and nothing is lost).
 *
 * A broken appliance: everything the appliance writes into the shared memory is checked before
 * it is used; a descriptor that breaks the rules (a message outside the arena, an unknown
 * session) is skipped and counted (sluice_stats.appliance_errors), and a ring whose index is
 * impossible makes data calls return -EPROTO from then on: detach.
 */
#ifndef SLUICE_H
#define SLUICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLUICE_NODE_LEN	     32 /* a node id: the node's X25519 static public key */
#define SLUICE_NODE_TEXT_LEN 45 /* a node id in base64 (as `sluice pubkey` prints it) + NUL */

struct sluice;

enum sluice_event_type {
	SLUICE_MESSAGE = 1,	    /* node, chan, data, len, time_ns, id: release it */
	SLUICE_NODE_CONNECTED,	    /* node, ip, port: a session is up */
	SLUICE_NODE_CONNECT_FAILED, /* node, reason (enum sluice_fail) */
	SLUICE_NODE_DISCONNECTED,   /* node, reason (an SL_CLOSE_* code), by_peer, undelivered */
	SLUICE_WRITABLE,	    /* node, chan: a send refused with -ENOBUFS may be retried */
	SLUICE_EXPIRED,		    /* node, chan, id: a message reached its TTL unsent */
	SLUICE_DATAGRAM_LOST,	    /* node, chan, id: a datagram was lost */
	SLUICE_SEND_FAILED,	    /* node, chan, len: a message sent as its session ended */
	/* Discovery (the appliance's address book and peer exchange); each also carries
	 * undelivered: discovery events the appliance dropped for this attachment before this
	 * one (its events ring was half full). */
	SLUICE_DISC_ADDR_LEARNED, /* node (the peer that told us), count: addresses it added */
	SLUICE_DISC_PEER_BAD,	  /* node broke peer exchange: closed and marked bad */
	SLUICE_DISC_BOOK_SAVED,	  /* the address book was saved: count entries */
	SLUICE_DISC_BOOK_FAILED,  /* saving the address book failed: reason = the errno */
};
/* Later versions add event types (at the end): an application ignores those it does not
 * know. An appliance newer than this library may post events this library does not know:
 * it skips them (counted in sluice_stats.appliance_errors) and carries on. */

enum sluice_fail {
	SLUICE_FAIL_TIMEOUT = 1, /* no answer within the handshake timeout */
	SLUICE_FAIL_REFUSED,	 /* the node refused */
	SLUICE_FAIL_UNREACHABLE, /* no route or no address */
	SLUICE_FAIL_NO_SLOT,	 /* the appliance has no session slot free */
};

struct sluice_event {
	enum sluice_event_type type;
	uint8_t node[SLUICE_NODE_LEN];
	uint8_t chan;
	uint8_t by_peer;      /* DISCONNECTED */
	uint16_t reason;      /* DISCONNECTED, CONNECT_FAILED, DISC_BOOK_FAILED */
	uint32_t len;	      /* MESSAGE, SEND_FAILED */
	const uint8_t *data;  /* MESSAGE: in shared memory until sluice_release() */
	uint64_t time_ns;     /* MESSAGE: arrival on the appliance (its monotonic clock) */
	uint64_t id;	      /* MESSAGE, EXPIRED, DATAGRAM_LOST */
	uint32_t ip;	      /* CONNECTED: the node's IPv4 address, host order */
	uint16_t port;	      /* CONNECTED */
	uint32_t undelivered; /* DISCONNECTED: messages sent and never acknowledged; DISC_*:
				 discovery events dropped before this one */
	uint32_t count;	      /* DISC_ADDR_LEARNED: addresses; DISC_BOOK_SAVED: entries */
	uint64_t priv[2];     /* libsluice's: where the message lies */
};
/* The same session's events keep their order. A NODE_CONNECTED for a node that is already
 * connected means a new session replaced the old one (on another lcore, perhaps): its credit
 * starts afresh, and the old session's end is not reported. */

/* Attach to the appliance listening on socket_path (its config's api.socket); name appears in
 * its logs and in `sluicectl apps`. NULL with *err (may be NULL) set to -errno: -ENOENT no
 * socket there, -EACCES not allowed, -ECONNREFUSED no appliance listening, -EUSERS its
 * api.max_apps reached, -EPROTO a version it does not speak or shared memory that breaks the
 * layout rules, -ENAMETOOLONG a path longer than a Unix socket takes, -ETIMEDOUT no answer
 * within 5 s, -ENOMEM. name is cut to 31 bytes. */
struct sluice *sluice_attach(const char *socket_path, const char *name, int *err);

/* Detach and free (also what happens when the process exits): registrations are dropped and
 * received messages not yet released go back. Messages sent that the appliance has not taken
 * yet are dropped: sluice_flush() first to keep them. NULL is a no-op. */
void sluice_detach(struct sluice *s);

/* Block until the appliance has taken every message sent so far into its sessions (from where
 * they are delivered whatever the application does next, detach included), at most timeout_ms
 * (-1: no limit). 0; -ETIMEDOUT; -EINTR a signal came; -ECONNRESET the appliance closed the
 * control socket; -EPROTO the attachment is broken. It looks every millisecond (the appliance
 * says nothing when it takes messages). */
int sluice_flush(struct sluice *s, int timeout_ms);

/* This node's id (the appliance's public key). */
const uint8_t *sluice_self(const struct sluice *s);
/* The largest message the appliance takes (never more than a lane's tx arena holds). */
uint32_t sluice_max_message(const struct sluice *s);

/* Requests (register, unregister, connect, disconnect, nodes) are a round trip on the control
 * socket; besides the errors listed with each they return -ETIMEDOUT (no answer within 5 s),
 * -ECONNRESET or -EPIPE (the appliance closed the socket) and -EPROTO (an answer that breaks the
 * protocol). */

/* Serve channel chan (1..15): its messages come to this attachment. -EINVAL not a channel the
 * appliance has; -EBUSY another application or a built-in service serves it; -EALREADY this
 * attachment does already. */
int sluice_register(struct sluice *s, uint8_t chan);
/* Stop serving chan. -EINVAL not a channel; -ENOENT this attachment does not serve it. */
int sluice_unregister(struct sluice *s, uint8_t chan);

/* Dial node (at ip:port, host order, or at its configured address when ip is 0). 0 when the
 * dial started or a session is already up (NODE_CONNECTED or NODE_CONNECT_FAILED follows for a
 * dial). -EINVAL a node id that can never be dialled (ours, all zero, low order); -EDESTADDRREQ
 * ip 0 and no address known; -ENOSPC no room for another node. */
int sluice_connect(struct sluice *s, const uint8_t node[SLUICE_NODE_LEN], uint32_t ip,
		   uint16_t port);
/* Close the session with node (NODE_DISCONNECTED follows) and stop dialling it. -ENOENT: no
 * such node. */
int sluice_disconnect(struct sluice *s, const uint8_t node[SLUICE_NODE_LEN]);

struct sluice_node_info {
	uint8_t node[SLUICE_NODE_LEN];
	uint32_t ip;
	uint16_t port;
	uint8_t state; /* 0 waiting, 1 resolving, 2 dialing, 3 connected */
	uint8_t initiator;
	uint64_t rtt_ns;
	uint64_t bytes_in, bytes_out, msgs_in, msgs_out;
	uint64_t last_handshake_age_ns; /* 0: no handshake yet */
};

/* The nodes the appliance knows (ConnectedNodes: state 3), at most max of them; returns how
 * many were written, *total (may be NULL) how many there are (max 0 and out NULL: only that).
 * More than 64 take one round trip per 64. */
int sluice_nodes(struct sluice *s, struct sluice_node_info *out, unsigned int max,
		 unsigned int *total);

/* Send len bytes (1..sluice_max_message()) to node on channel chan, with a time to live
 * (0: the channel's). The bytes are copied; the call makes no system call.
 *   -EINVAL    chan is not a channel of the appliance (checked first)
 *   -EMSGSIZE  len is 0 or above the maximum
 *   -ENOTCONN  no session with node is up
 *   -ENOBUFS   no room now: SLUICE_WRITABLE (node, chan) follows when there is, unless the
 *              session ends or is replaced first (NODE_DISCONNECTED, NODE_CONNECTED)
 *   -EPROTO    the appliance broke the shared-memory protocol: detach
 * No room is one of two things, told apart only in sluice_stats: the channel's send credit
 * (the session may have posted at most the credit the appliance granted, counting this
 * message; libsluice then asks the appliance once to say when there is more, and its answer
 * is the WRITABLE), or room in the lane's descriptor ring or byte arena, which the appliance's
 * lcore frees as it takes messages, nearly at once while it runs; libsluice then watches the
 * lane itself (sluice_wait() looks every millisecond while a send waits for that, see
 * sluice_wait_timeout()) and reports WRITABLE once the lcore has taken everything that was
 * posted before the refusal. */
int sluice_send(struct sluice *s, const uint8_t node[SLUICE_NODE_LEN], uint8_t chan,
		const void *data, size_t len, uint64_t ttl_ns);

/* Up to max events, in order (see "Ordering"). 0 when there is nothing; -EPROTO when there
 * is nothing and the appliance broke the shared-memory protocol (see "A broken appliance").
 * Each call takes at most 32 descriptors from each ring, starting with another lane each
 * time, so no lane starves the others. */
int sluice_poll(struct sluice *s, struct sluice_event *ev, unsigned int max);

/* Give back a SLUICE_MESSAGE's bytes (once; any order). Anything else — an event that is not
 * a message, one released already — is ignored and counted (sluice_stats.release_errors). */
void sluice_release(struct sluice *s, const struct sluice_event *ev);

/* The next event, with a MESSAGE's bytes copied into buf (cap bytes) and released at once:
 * returns 1 with *ev filled (ev->data points into buf, ev->len the message's length, copied up
 * to cap), 0 when there is nothing, -EPROTO as sluice_poll(). */
int sluice_recv(struct sluice *s, struct sluice_event *ev, void *buf, size_t cap);

/* Block until an event may be there or timeout_ms passes (-1: no limit). 1: look (poll), 0:
 * timed out, -EINTR a signal came, -ECONNRESET the appliance closed the control socket. A
 * blocked application costs the appliance nothing.
 * How: it sets the sleep flag in the shared memory, makes that visible (a sequentially
 * consistent fence), looks at every ring once more, then waits on the eventfd, which a
 * producer writes when it has published a descriptor and then finds the flag set. */
int sluice_wait(struct sluice *s, int timeout_ms);

/* A file descriptor that becomes readable when sluice_wait() would return 1, and for good once
 * the appliance has closed the control socket (it exited or crashed), for an application's own
 * epoll loop: call sluice_wait_prepare() before waiting on it and sluice_wait_done() after
 * (they set and clear the flag that asks the appliance to wake it). sluice_wait_prepare()
 * returns 1 when events are already there (do not wait), 0 when the application may wait,
 * -ECONNRESET when the appliance is gone (detach: the descriptor will not stop being
 * readable). */
int sluice_fd(const struct sluice *s);
int sluice_wait_prepare(struct sluice *s);
void sluice_wait_done(struct sluice *s);
/* The timeout an application's own loop should give epoll_wait(): timeout_ms, or at most 1 ms
 * while a send refused for room in a lane's ring or arena waits (nothing writes the eventfd
 * when the lcore takes messages; see sluice_send()). */
int sluice_wait_timeout(const struct sluice *s, int timeout_ms);

/* What this attachment did and saw. */
struct sluice_stats {
	uint64_t msgs_sent, bytes_sent, msgs_recv, bytes_recv;
	uint64_t send_nobufs;	   /* sends refused for want of credit */
	uint64_t send_failed;	   /* SLUICE_SEND_FAILED events */
	uint64_t events;	   /* events sluice_poll() returned */
	uint64_t send_noroom;	   /* sends refused for room in a lane's tx ring or arena */
	uint64_t appliance_errors; /* what the appliance wrote and libsluice refused */
	uint64_t release_errors;   /* sluice_release() of something not held */
};
void sluice_get_stats(const struct sluice *s, struct sluice_stats *st);

/* A node id from text: 44 characters of standard base64 (what `sluice keygen` and `sluice
 * pubkey` print) or 64 hex digits, nothing else around them. 0, or -EINVAL (node untouched).
 * Any thread. */
int sluice_node_from_text(const char *text, uint8_t node[SLUICE_NODE_LEN]);
/* node as base64 into out (NUL-terminated); returns out. Any thread. */
char *sluice_node_to_text(const uint8_t node[SLUICE_NODE_LEN], char out[SLUICE_NODE_TEXT_LEN]);

/* "ENOBUFS ..." style text for a negative errno this library returns. */
const char *sluice_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_H */
