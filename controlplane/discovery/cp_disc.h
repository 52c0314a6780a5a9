/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: one node's discovery — the address book, peer exchange and the pool put
 * to work. It decides whom to dial, which sessions to keep, what to ask and answer on the
 * control channel, and when to save the book; its caller carries the decisions out.
 *
 * The caller (the appliance's control thread through cp_ctl, or a simulator) reports what
 * happens to sessions — cp_disc_opened(), cp_disc_closed(), cp_disc_dial_failed() — hands over
 * the peer-exchange messages received on channel 0 (cp_disc_control()), and calls
 * cp_disc_tick() when it asks to be called. cp_disc acts through struct cp_disc_ops: dial an
 * address (with Noise IK when the address has an identity, XX when not), close a session with
 * a reason, send a control message, tell of an event. ops may be called from inside every
 * cp_disc_* call above; they must not call back into cp_disc.
 *
 * What it does:
 * - Outbound: while the pool wants outbound sessions, at most max_dialing dials at a time, one
 *   new dial per dial_interval_ns: an address picked from the book (bias towards new
 *   addresses by cp_book_new_bias(), skipping nodes it is connected to or dialling, banned or
 *   bad ones, and network groups that already have an outbound peer — unless nothing else is
 *   left), or, while the book has nothing to offer, a seed. A dial that has neither opened nor
 *   failed after dial_timeout_ns is given up (the caller must not report it afterwards; if it
 *   does, it is counted as late and otherwise ignored).
 * - Sessions: every opened session goes through the pool (cp_pool_admit): refused ones are
 *   closed (SL_CLOSE_REFUSED) — an inbound peer of a full pool that speaks peer exchange after
 *   seed_linger_ns or once its request is answered (a full node still tells a newcomer whom
 *   else to try; at most CP_DISC_MAX_DEPARTING such at a time) — an evicted peer at once. An
 * outbound session's address is marked good in the book (with the identity learned); an inbound
 * peer's advertised listen address is added to the book as told by itself.
 * - Peer exchange: ask each new outbound peer that advertises SL_CAP_PEX (and again every
 *   interval while the book is small; inbound peers too while the node wants outbound
 *   sessions and knows no address it is not connected to); answer requests with a sample of
 *   the book; add the entries of answers to the book with the peer as their source; a peer
 *   whose misbehaviour reaches the ban score is closed and marked bad.
 * - Seed mode: no outbound target; dial one address of the book every crawl_interval_ns,
 *   ask it for addresses, and close once answered (or after seed_linger_ns); answer every
 *   inbound peer's request once and close seed_linger_ns later; hold no long-lived session.
 * - The book is saved to book_path every save_interval_ns and by cp_disc_save().
 *
 * Time: now_ns is the monotonic clock, wall_s the real-time clock in UNIX seconds (what the
 * book stores). Nothing here reads a clock. Threading: one thread owns a cp_disc (the control
 * thread; the simulator's thread). Plain C.
 */
#ifndef CP_DISC_H
#define CP_DISC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "cp_addr.h"
#include "cp_book.h"
#include "cp_pex.h"
#include "cp_pool.h"

/* Sessions the pool refused, kept for seed_linger_ns to answer the peer's GETADDR: at most
 * this many at a time. */
#define CP_DISC_MAX_DEPARTING 8

struct cp_disc_config {
	struct cp_book_config book;
	struct cp_pex_config pex; /* its seed_mode, self_id and self addresses are used as given */
	struct cp_pool_config pool;
	bool seed_mode;
	uint32_t n_seeds;
	const struct cp_addr *seeds; /* by reference: must outlive the cp_disc */
	uint32_t max_dialing;	     /* dials in flight at most (3) */
	uint64_t dial_interval_ns;   /* one new dial at most this often (500 ms) */
	uint64_t dial_timeout_ns;    /* a dial not reported by then is given up (10 s) */
	uint64_t crawl_interval_ns;  /* seed mode: one crawl dial this often (2 s) */
	uint64_t seed_linger_ns;     /* seed mode: a session is closed this long after use (2 s) */
	uint32_t book_low;	     /* ask peers again every interval while the book holds fewer
				      * addresses than this (1000) */
	const char *book_path;	     /* NULL: the book lives in memory only */
	uint64_t save_interval_ns;   /* 60 s */
};

/* The defaults of every part (cp_book, cp_pex, cp_pool) and the values in parentheses above. */
void cp_disc_config_defaults(struct cp_disc_config *cfg);

/* What the caller knows of a session that has just opened. */
struct cp_disc_session {
	uint8_t id[SL_KEY_LEN]; /* the node's static key (learned by XX for a keyless dial) */
	uint32_t ip;		/* where its packets come from (host order) */
	uint16_t port;
	bool outbound;		 /* we dialled it */
	unsigned int pool_flags; /* CP_POOL_F_PERSISTENT / _UNCONDITIONAL from the config */
	uint64_t caps;		 /* SL_CAP_* of its handshake payload */
	uint8_t n_listen;	 /* the listen addresses it advertised */
	struct cp_addr listen[SL_HS_MAX_ADDRS];
	uint64_t rtt_ns; /* 0 if unknown */
};

enum cp_disc_event_type {
	CP_DISC_ADDR_LEARNED, /* n addresses entered the book from one answer */
	CP_DISC_PEER_BAD,     /* a peer was closed and marked bad */
	CP_DISC_BOOK_SAVED,   /* the book was written (n entries) */
	CP_DISC_BOOK_FAILED,  /* a save failed (err) */
};

struct cp_disc_event {
	enum cp_disc_event_type type;
	const uint8_t *id; /* ADDR_LEARNED: from whom; PEER_BAD: who */
	uint32_t n;
	int err;
};

struct cp_disc_ops {
	/* Dial a: 0 (an opened or failed report follows), or -errno (counted; nothing follows). */
	int (*dial)(void *arg, const struct cp_addr *a);
	/* Close the session with node id, telling the peer reason (SL_CLOSE_*). */
	void (*close)(void *arg, const uint8_t id[SL_KEY_LEN], uint16_t reason);
	/* Send one control message on the session with node id: 0 or -errno (counted). */
	int (*send)(void *arg, const uint8_t id[SL_KEY_LEN], const void *msg, size_t len);
	/* Something an operator or an application wants to hear of (may be NULL). */
	void (*event)(void *arg, const struct cp_disc_event *e);
};

#define CP_DISC_COUNTERS(X)                                                          \
	X(dials, "dials started")                                                    \
	X(dials_refused, "dials the caller could not start")                         \
	X(dials_failed, "dials that failed")                                         \
	X(dials_timed_out, "dials given up: no report within dial_timeout")          \
	X(reports_late, "reports of dials already given up")                         \
	X(seed_dials, "dials of a seed (the book had nothing to offer)")             \
	X(crawl_dials, "seed mode: crawl dials")                                     \
	X(opened_outbound, "outbound sessions kept")                                 \
	X(opened_inbound, "inbound sessions kept")                                   \
	X(refused, "sessions closed at once: the pool refused them")                 \
	X(evicted, "inbound peers closed for a better newcomer")                     \
	X(requests_sent, "GETADDR sent")                                             \
	X(answers_sent, "ADDR sent")                                                 \
	X(addrs_added, "addresses from answers the book took (new or refreshed)")    \
	X(addrs_not_added, "addresses from answers the book did not take")           \
	X(peers_bad, "peers closed and marked bad for misbehaving in peer exchange") \
	X(seed_closes, "seed mode: sessions closed after use")                       \
	X(send_failures, "control messages the caller could not send")               \
	X(saves, "book saves")                                                       \
	X(save_failures, "book saves that failed")                                   \
	X(untracked, "session events for no session it knows (counted, ignored)")

struct cp_disc_stats {
#define CP_DISC_FIELD(name, doc) uint64_t name;
	CP_DISC_COUNTERS(CP_DISC_FIELD)
#undef CP_DISC_FIELD
	uint32_t dialing;
};

struct cp_disc;

/* NULL with errno set: EINVAL (a part's configuration refused, no dial/close/send op),
 * ENOMEM. key: the node's secret for the book's bucket placement (random, kept with the book:
 * a loaded book brings its own). rng_seed: every random choice. */
struct cp_disc *cp_disc_create(const struct cp_disc_config *cfg, const struct cp_disc_ops *ops,
			       void *arg, const uint8_t key[SL_KEY_LEN], uint64_t rng_seed);
void cp_disc_destroy(struct cp_disc *d);
/* d passes to another thread (one its owner starts or joins): cp_book_handoff(). */
void cp_disc_handoff(struct cp_disc *d);

/* Load the book from cfg.book_path: 0; -ENOENT no file (an empty book); -EBADMSG the file was
 * corrupt and set aside (why says how); another -errno. The book is unchanged on error. */
int cp_disc_load(struct cp_disc *d, char *why, size_t why_len) __rte_warn_unused_result;
/* Save the book to cfg.book_path now (at shutdown): 0, -EINVAL without a path, or -errno. */
int cp_disc_save(struct cp_disc *d);

/* A session opened. The pool's verdict: CP_POOL_ACCEPT or CP_POOL_EVICT (kept), or a refusal
 * (ops.close was called for it). */
enum cp_pool_verdict cp_disc_opened(struct cp_disc *d, const struct cp_disc_session *s,
				    uint64_t now_ns, uint64_t wall_s);
/* The session with id closed (whoever closed it). */
void cp_disc_closed(struct cp_disc *d, const uint8_t id[SL_KEY_LEN], uint64_t now_ns,
		    uint64_t wall_s);
/* A dial of a (as passed to ops.dial) failed. */
void cp_disc_dial_failed(struct cp_disc *d, const struct cp_addr *a, uint64_t now_ns,
			 uint64_t wall_s);
/* A GETADDR or ADDR (or unknown-type) control message from the peer with id. */
void cp_disc_control(struct cp_disc *d, const uint8_t id[SL_KEY_LEN], const void *msg, size_t len,
		     uint64_t now_ns, uint64_t wall_s);
/* Run what is due; returns when to be called next (monotonic ns). */
uint64_t cp_disc_tick(struct cp_disc *d, uint64_t now_ns, uint64_t wall_s);

/* Add an address the operator gave (a seed's, a configured peer's): source is itself. */
int cp_disc_add(struct cp_disc *d, const struct cp_addr *a, uint64_t wall_s);

uint64_t cp_disc_capabilities(const struct cp_disc *d); /* for the handshake payload */
const struct cp_disc_stats *cp_disc_stats(const struct cp_disc *d);
const struct cp_book *cp_disc_book(const struct cp_disc *d);
const struct cp_pool *cp_disc_pool(const struct cp_disc *d);
const struct cp_pex_stats *cp_disc_pex_stats(const struct cp_disc *d);

#endif /* CP_DISC_H */
