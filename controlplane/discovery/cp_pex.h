/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: peer exchange — the GETADDR / ADDR control messages (sl_wire.h; sections
 * 8.1 and 8.2 of docs/protocol.md) and the rules of who may ask whom, how often, and what an
 * answer may hold.
 *
 * This module decodes, validates and encodes; it keeps no address book. The control thread
 * (the glue) owns a struct cp_pex per node (configuration and counters) and a struct
 * cp_pex_peer per session, and acts on what cp_pex_receive() returns:
 *   - on connect: cp_pex_ask_on_connect() -> cp_pex_getaddr() -> send on channel 0;
 *   - a GETADDR the rules allow (action ANSWER): sample up to r->want addresses of the book,
 *     cp_pex_addr_answer() -> send; in seed mode (ANSWER_CLOSE) close the session shortly after;
 *   - an ADDR answering our request: add r->addrs[0..r->n) to the book (each entry already
 *     checked: class, port, our own, duplicate, last_seen); seed mode (CLOSE): close, the crawl
 *     of that peer is done;
 *   - DISCONNECT_BAD: the peer's misbehaviour score reached the ban score: close the session
 *     and mark the peer bad in the book.
 * Every message passed to cp_pex_receive() is counted under exactly one verdict
 * (enum cp_pex_verdict); every entry of an ADDR it did not accept, under exactly one reason
 * (enum cp_pex_reject).
 * Channel 0 will carry other control messages too (the relay's): the glue dispatches on the
 * type byte (struct sl_ctl_hdr) and gives cp_pex_receive() GETADDR, ADDR and every type no
 * module knows, which it counts as unknown_type and ignores.
 *
 * Misbehaviour: each offence adds points (SL_PEX_PTS_* in sl_limits.h) to the peer's score and
 * the score falls by score_decay points per interval. Entries an honest peer never sends cost
 * a point each (a class we do not take, port 0, a duplicate in the answer, last_seen in the
 * future, a malformed entry), and so do our own addresses beyond the SL_HS_MAX_ADDRS an honest
 * book may hold; too old entries and up to SL_HS_MAX_ADDRS of our own cost nothing (an honest
 * peer learns our address from us).
 *
 * Time: now_ns is the monotonic clock (rate limits, decay), wall_ns the real-time clock
 * (last_seen is UNIX seconds). Nothing here reads a clock.
 * Threading: control thread only; a struct cp_pex and its peers have one caller at a time.
 * No allocation: both structs are plain values the caller embeds.
 */
#ifndef CP_PEX_H
#define CP_PEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "cp_addr.h"
#include "sl_limits.h"

/* What one control message was: exactly one per cp_pex_receive(). Names are telemetry keys. */
#define CP_PEX_VERDICTS(X)                                                                         \
	X(GETADDR, "getaddr", "requests answered")                                                 \
	X(GETADDR_REFUSED, "getaddr_refused",                                                      \
	  "requests not answered: within the interval, a second one to a seed, PEX off, peer bad") \
	X(ADDR, "addr", "answers to our request taken (entries checked one by one)")               \
	X(UNSOLICITED, "addr_unsolicited", "answers with no request of ours outstanding")          \
	X(WRONG_REQUEST, "addr_wrong_request", "answers to a request id that is not ours")         \
	X(OVERSIZED, "oversized",                                                                  \
	  "messages over SL_CONTROL_MSG_MAX, answers with more entries than the maximum or asked")     \
	X(MALFORMED, "malformed", "messages whose length, fields or reserved bytes are wrong")     \
	X(UNKNOWN, "unknown_type", "control messages of a type or version we do not know: ignored")

enum cp_pex_verdict {
#define CP_PEX_VERDICT_ENUM(e, name, doc) CP_PEX_##e,
	CP_PEX_VERDICTS(CP_PEX_VERDICT_ENUM)
#undef CP_PEX_VERDICT_ENUM
		CP_PEX_VERDICT_COUNT
};

/* Why one ADDR entry was dropped: the first rule it broke, in this order. */
#define CP_PEX_REJECTS(X)                                                                        \
	X(ENTRY_MALFORMED, "entry_malformed",                                                    \
	  "unknown flags, reserved bytes, id without its flag")                                  \
	X(PORT, "port_zero", "port 0")                                                           \
	X(CLASS, "class", "address of a class this node does not take (reserved, private, ...)") \
	X(SELF, "self", "our own identity or one of our listen addresses")                       \
	X(DUPLICATE, "duplicate", "an ip:port seen earlier in the same answer")                  \
	X(FUTURE, "future", "last_seen ahead of our clock by more than max_skew")                \
	X(STALE, "stale", "last_seen 0 or older than max_age")                                   \
	X(BAD_PEER, "bad_peer", "valid entries of the answer that made its sender bad")

enum cp_pex_reject {
#define CP_PEX_REJECT_ENUM(e, name, doc) CP_PEX_REJ_##e,
	CP_PEX_REJECTS(CP_PEX_REJECT_ENUM)
#undef CP_PEX_REJECT_ENUM
		CP_PEX_REJECT_COUNT
};

/* The other counters of a node's peer exchange. */
#define CP_PEX_COUNTERS(X)                                                                     \
	X(requests_sent, "GETADDRs sent")                                                      \
	X(requests_not_due, "GETADDRs not sent: one went to that peer within the interval")    \
	X(requests_unanswered, "GETADDRs replaced by a newer one before their answer came")    \
	X(answers_sent, "ADDRs sent")                                                          \
	X(entries_sent, "entries in those")                                                    \
	X(entries_received, "entries in the ADDRs taken")                                      \
	X(entries_accepted, "of those, handed to the address book (the rest: entry_rejected)") \
	X(peers_bad, "peers whose misbehaviour reached the ban score")

/* What the glue does next. */
enum cp_pex_action {
	CP_PEX_ACT_NONE,
	CP_PEX_ACT_ANSWER,	   /* sample up to r->want addresses, cp_pex_addr_answer(), send */
	CP_PEX_ACT_ANSWER_CLOSE,   /* seed mode: the same, then close the session shortly after */
	CP_PEX_ACT_CLOSE,	   /* seed mode: the crawled peer answered; close the session */
	CP_PEX_ACT_DISCONNECT_BAD, /* close the session and mark the peer bad */
};

#define CP_PEX_CLASS(c) (1u << (c)) /* a bit of cp_pex_config.classes */
/* The classes a node may be configured to take: routable addresses, and for test networks the
 * benchmarking range 198.18.0.0/15 (benchmark), a LAN's (private) or one machine's (loopback).
 * Unspecified, reserved, multicast and broadcast addresses are never taken. */
#define CP_PEX_CLASSES_ALLOWED                                            \
	(CP_PEX_CLASS(CP_ADDR_ROUTABLE) | CP_PEX_CLASS(CP_ADDR_PRIVATE) | \
	 CP_PEX_CLASS(CP_ADDR_BENCHMARK) | CP_PEX_CLASS(CP_ADDR_LOOPBACK))

struct cp_pex_config {
	bool enabled;	    /* advertise SL_CAP_PEX, ask and answer (default true) */
	bool seed_mode;	    /* answer each session's first request, then close it */
	uint16_t max_addrs; /* entries asked for and sent, 1..SL_PEX_MAX_ADDRS (64) */
	uint32_t classes;   /* CP_PEX_CLASS bits taken, within CP_PEX_CLASSES_ALLOWED (routable) */
	uint64_t interval_ns; /* one request, one answer per peer per interval (30 s) */
	uint64_t max_skew_s;  /* SL_PEX_MAX_SKEW_S */
	uint64_t max_age_s;   /* SL_PEX_MAX_AGE_S */
	uint32_t ban_score;   /* SL_PEX_BAN_SCORE */
	uint32_t score_decay; /* points forgiven per interval (SL_PEX_SCORE_DECAY) */
	bool has_self_id;     /* self_id holds our static public key */
	uint8_t self_id[SL_KEY_LEN];
	uint8_t n_self; /* our listen addresses, 0..SL_HS_MAX_ADDRS */
	struct {
		uint32_t ip; /* host order */
		uint16_t port;
	} self[SL_HS_MAX_ADDRS];
};

struct cp_pex_stats {
	uint64_t msgs[CP_PEX_VERDICT_COUNT];	/* messages received, by verdict */
	uint64_t rejected[CP_PEX_REJECT_COUNT]; /* ADDR entries dropped, by reason */
#define CP_PEX_STATS_FIELD(name, doc) uint64_t name;
	CP_PEX_COUNTERS(CP_PEX_STATS_FIELD)
#undef CP_PEX_STATS_FIELD
};

/* One node's peer exchange: embed it; cp_pex_init() it. */
struct cp_pex {
	struct cp_pex_config cfg;
	struct cp_pex_stats st;
};

/* One session's peer-exchange state: embed it in the session; cp_pex_peer_init() at connect. */
struct cp_pex_peer {
	uint64_t caps;	      /* the peer's SL_CAP_* (its handshake payload) */
	uint64_t asked_ns;    /* when our last request left (valid if requests) */
	uint64_t answered_ns; /* when we last agreed to answer it (valid if answers) */
	uint64_t decayed_ns;  /* when the score was last decayed */
	uint32_t score;	      /* misbehaviour points */
	uint32_t next_id;     /* id of our next request */
	uint32_t req_id;      /* our outstanding request's id (valid if outstanding) */
	uint32_t ans_id;      /* the request the pending answer echoes (valid if answer_due) */
	uint32_t requests;    /* requests sent on this session */
	uint32_t answers;     /* requests of its we agreed to answer */
	uint16_t req_max;     /* entries our outstanding request asked for */
	uint16_t ans_max;     /* entries the pending answer may carry */
	bool outbound;	      /* we dialled it */
	bool outstanding;     /* a request of ours waits for its answer */
	bool answer_due;      /* cp_pex_addr_answer() may run once */
	bool bad;	      /* the score reached the ban score */
};

/* What cp_pex_receive() found. */
struct cp_pex_result {
	enum cp_pex_verdict verdict;
	enum cp_pex_action action;
	uint8_t type;	  /* the message's type byte (0 if shorter than one) */
	uint16_t want;	  /* ANSWER*: entries the answer may carry */
	uint16_t claimed; /* ADDR: entries the message held */
	uint16_t n;	  /* ADDR: entries accepted, in addrs[] */
	uint32_t points;  /* misbehaviour points this message cost */
	struct cp_addr addrs[SL_PEX_MAX_ADDRS]; /* ADDR: the accepted entries, in message order */
};

/* The defaults of sl_limits.h; enabled, routable addresses only, no identity of our own. */
void cp_pex_config_defaults(struct cp_pex_config *cfg);

/* Check cfg and start px with zero counters: 0, or -EINVAL (max_addrs, classes outside
 * CP_PEX_CLASSES_ALLOWED, zero interval, ban score or max_age, skew >= max_age, n_self). */
int cp_pex_init(struct cp_pex *px, const struct cp_pex_config *cfg) __rte_warn_unused_result;

/* The capability bits to advertise in the handshake payload: SL_CAP_PEX if enabled. */
uint64_t cp_pex_capabilities(const struct cp_pex *px);

/* A new session: outbound if we dialled it; caps from the peer's handshake payload. */
void cp_pex_peer_init(struct cp_pex_peer *peer, bool outbound, uint64_t caps, uint64_t now_ns);

/* Ask this peer on connect? PEX enabled, we dialled it, and it advertises SL_CAP_PEX. */
bool cp_pex_ask_on_connect(const struct cp_pex *px, const struct cp_pex_peer *peer);

/* Write a GETADDR for cfg.max_addrs entries into buf. Returns its length, or -EAGAIN (a request
 * went to this peer within the interval), -EOPNOTSUPP (PEX is off here, or the peer does not
 * advertise SL_CAP_PEX), -ENOSPC (len < SL_CTL_GETADDR_LEN). A request still unanswered is
 * replaced (requests_unanswered). */
int cp_pex_getaddr(struct cp_pex *px, struct cp_pex_peer *peer, uint64_t now_ns, uint8_t *buf,
		   size_t len) __rte_warn_unused_result;

/* Write the ADDR answering the peer's request that cp_pex_receive() allowed (action ANSWER*):
 * the first min(n, r->want) of entries (the book's sample; entries without CP_ADDR_F_HAS_ID go
 * without an identity). Returns its length, or -ENOENT (no answer due), -ENOSPC (buf too small
 * for them). Once per allowed request. */
int cp_pex_addr_answer(struct cp_pex *px, struct cp_pex_peer *peer, const struct cp_addr *entries,
		       unsigned int n, uint8_t *buf, size_t len) __rte_warn_unused_result;

/* Take one whole control message from the peer: classify it, check it against the rules and
 * the peer's state, count it, fill r. Returns r->verdict (every input gives exactly one). */
enum cp_pex_verdict cp_pex_receive(struct cp_pex *px, struct cp_pex_peer *peer, const void *msg,
				   size_t len, uint64_t now_ns, uint64_t wall_ns,
				   struct cp_pex_result *r) __rte_warn_unused_result;

/* Telemetry names and descriptions ("?" out of range). */
const char *cp_pex_verdict_name(enum cp_pex_verdict v);
const char *cp_pex_verdict_doc(enum cp_pex_verdict v);
const char *cp_pex_reject_name(enum cp_pex_reject j);
const char *cp_pex_reject_doc(enum cp_pex_reject j);
const char *cp_pex_action_name(enum cp_pex_action a);

#endif /* CP_PEX_H */
