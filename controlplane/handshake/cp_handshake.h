/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the sluice handshake — Noise IK (the initiator knows the responder's static key, as
 * in id@ip:port) or Noise XX (it does not), carried in the messages of sl_wire.h.
 *
 *   IK:  initiator --SL_MSG_IK_INIT-->  responder       XX:  --SL_MSG_XX_INIT-->
 *        initiator <--SL_MSG_IK_RESP--  responder            <--SL_MSG_XX_RESP--
 *                                                            --SL_MSG_XX_FINISH-->
 *
 * Every message carries mac1/mac2 (cp_admission.h); this module writes them on the way out and
 * checks mac1 of answers on the way in. The responder's admission decision (mac1, cookies, rate
 * limit) is taken by the caller with cp_admission_check() before calling the read functions
 * here, which are the first to spend a Diffie-Hellman.
 *
 * The Noise prologue is a fixed label followed by the first message's header, which binds the
 * header (type, suite, sender id) to the handshake.
 *
 * Payloads (struct sl_hs_payload) are validated strictly: reserved bytes zero, no unknown flag,
 * address count in range, a well-formed channel set, same network id, overlapping version
 * range, the same channel set as ours; and, from initiators, a timestamp newer than any seen
 * before from that identity (cp_hs_stamps.h). A refused peer gets a reason (enum
 * cp_hs_reason). A responder that refuses on network, version or channel set can still write
 * its answer (cp_hs_reason_answered()), so the initiator learns the reason from the
 * responder's own payload. Capability bits are passed on as they are: this build knows
 * SL_CAP_*, a later one may set more, and whoever uses a capability tests its bit.
 *
 * Every completed handshake leaves both sides the same resumption secret and ticket
 * (cp_hs_session.resume); a later reconnection may use them instead of IK (cp_hs_resume.h).
 *
 * Control thread only. Time is injected; nothing here reads a clock.
 */
#ifndef CP_HANDSHAKE_H
#define CP_HANDSHAKE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "cp_admission.h"
#include "cp_noise.h"
#include "sl_wire.h"

struct cp_hs_stamps;

#define CP_HS_REASONS(X)                     \
	X(NONE, "none")                      \
	X(MALFORMED, "malformed")            \
	X(BAD_MAC1, "bad_mac1")              \
	X(DECRYPT, "decrypt_failed")         \
	X(LOW_ORDER, "low_order_key")        \
	X(VERSION, "incompatible_version")   \
	X(NETWORK, "wrong_network")          \
	X(REPLAY, "replayed_initiation")     \
	X(SELF, "own_identity")              \
	X(WRONG_PEER, "unexpected_identity") \
	X(STATE, "unexpected_message")       \
	X(CHANNELS, "channel_set_mismatch") \
	X(NO_TICKET, "unknown_ticket")       \
	X(TICKET_EXPIRED, "ticket_expired")  \
	X(RESUME_REFUSED, "resume_refused")  \
	X(POLICY, "policy")

enum cp_hs_reason {
#define CP_HS_REASON_ENUM(name, str) CP_HS_##name,
	CP_HS_REASONS(CP_HS_REASON_ENUM)
#undef CP_HS_REASON_ENUM
		CP_HS_REASON_COUNT
};

const char *cp_hs_reason_name(enum cp_hs_reason r);
/* A refusal the responder still answers, so that the initiator reports the same reason:
 * NETWORK, VERSION, CHANNELS (the peer is who it says; the two nodes do not fit). */
bool cp_hs_reason_answered(enum cp_hs_reason r);

/* A listen address (host order). */
struct cp_hs_addr {
	uint32_t ip;
	uint16_t port;
};

/* This node, as every handshake presents it. */
struct cp_hs_config {
	uint8_t static_priv[SL_KEY_LEN];
	uint64_t network_id;
	uint64_t capabilities;	      /* SL_CAP_* */
	uint8_t version, min_version; /* defaults SL_PROTO_VERSION, SL_PROTO_MIN_VERSION */
	uint8_t n_addrs;
	struct cp_hs_addr addrs[SL_HS_MAX_ADDRS];
	/* The channel set (sl_hs_payload): bit i of chan_used, channel i exists; of chan_datagram,
	 * it is a datagram channel. Bit 0 of chan_used is always set (the control channel, which
	 * is reliable); chan_datagram must be a subset of chan_used. */
	uint16_t chan_used, chan_datagram;
	uint32_t tstamp_capacity;   /* identities remembered for anti-replay */
	uint64_t cookie_max_age_ns; /* how long a received cookie is used (SL_COOKIE_ROTATE_NS) */
	/* Who may start a handshake with us (NULL: anyone). Asked as a responder, once Noise has
	 * authenticated the initiator's static key (IK and resumption initiations, XX finishing
	 * messages) and before its timestamp is recorded or any answer written: false refuses it
	 * with CP_HS_POLICY and nothing is sent back. Our own dials are never asked about. */
	bool (*peer_allowed)(void *arg, const uint8_t pub[SL_KEY_LEN]);
	void *peer_allowed_arg;
};

struct cp_hs_ctx;

/* NULL with errno set: EINVAL for a bad configuration, ENOMEM. */
struct cp_hs_ctx *cp_hs_ctx_create(const struct cp_hs_config *cfg);
void cp_hs_ctx_destroy(struct cp_hs_ctx *ctx);
const uint8_t *cp_hs_ctx_pubkey(const struct cp_hs_ctx *ctx);
const struct cp_hs_stamps *cp_hs_ctx_tstamps(const struct cp_hs_ctx *ctx);

/* Timestamp for a new initiation: wall_ns, but strictly above every earlier one. */
uint64_t cp_hs_next_timestamp(struct cp_hs_ctx *ctx, uint64_t wall_ns);

/* What a peer told us about itself. */
struct cp_hs_peerinfo {
	uint8_t pub[SL_KEY_LEN];
	uint32_t sender; /* its connection id, as the payload states it */
	uint8_t flags;	 /* SL_HS_F_* */
	uint8_t version; /* negotiated: the lower of both */
	uint64_t network_id;
	uint64_t capabilities; /* SL_CAP_* and any bits a later version defines */
	uint64_t timestamp;
	uint8_t n_addrs;
	struct cp_hs_addr addrs[SL_HS_MAX_ADDRS]; /* where it listens, as it says */
	uint16_t chan_used, chan_datagram; /* its channel set (equal to ours once accepted) */
};

/* What a completed handshake leaves for resuming it later (cp_hs_resume.h): a secret both sides
 * derived from the handshake's final chaining key, and the ticket that names it on the wire
 * (from the same derivation, so both sides hold the same ticket). The caller stores it in its
 * resumption cache (cp_resume_put) or wipes it with the session. */
struct cp_hs_resumption {
	uint8_t ticket[SL_RESUME_TICKET_LEN];
	uint8_t secret[SL_KEY_LEN];
	/* 0 after a full handshake (the cache makes it now + its lifetime); after a resumed one,
	 * the expiry of the secret it used: a chain of resumptions never outlives the full
	 * handshake that began it */
	uint64_t not_after_ns;
};

/* The outcome of a completed handshake: what the dataplane needs for a session. */
struct cp_hs_session {
	uint8_t suite; /* SL_SUITE_* */
	bool initiator;
	uint32_t local_id;  /* our receiver connection id */
	uint32_t remote_id; /* the peer's */
	uint8_t send_key[SL_KEY_LEN];
	uint8_t recv_key[SL_KEY_LEN];
	struct cp_hs_peerinfo peer;
	bool resumed; /* by a resumption handshake (NNpsk0), not IK or XX */
	struct cp_hs_resumption resume;
};

void cp_hs_session_wipe(struct cp_hs_session *s);

/* A handshake in progress (either role). Holds ipsec-mb key schedules: allocate it with
 * 64-byte alignment (aligned_alloc, rte_malloc). */
struct cp_hs_pending {
	struct cp_noise_hs noise;
	uint8_t msg_type; /* last message type sent or received */
	uint8_t suite;
	bool initiator;
	bool xx;
	bool resume;		      /* a resumption handshake (cp_hs_resume.h) */
	uint64_t resume_not_after_ns; /* resume: the expiry of the secret in use */
	uint32_t local_id, remote_id;
	uint8_t sent_mac1[SL_MAC_LEN]; /* of our last message: a cookie reply's associated data */
	uint8_t peer_pub[SL_KEY_LEN];  /* IK and resume initiator: whom we expect */
	struct cp_hs_peerinfo peer;    /* once the peer's payload has been read */
	enum cp_hs_reason reason;      /* why the last call failed */
};

void cp_hs_pending_wipe(struct cp_hs_pending *p);

/* The data-packet AEAD of a suite (SL_AEAD_NONE for an unknown suite). */
enum sl_aead_alg cp_hs_suite_aead(uint8_t suite);

/* Map a suite to its Noise protocol; false for an unknown suite. */
bool cp_hs_suite_protocol(uint8_t suite, enum cp_noise_pattern pat, struct cp_noise_protocol *p);

/* --- initiator ------------------------------------------------------------------------------
 * cookie: the cookie this peer gave us recently, or NULL. flags: SL_HS_F_* for the payload
 * (SL_HS_F_REKEY to renew the keys of a session we have with peer_pub). Return 0 or -errno;
 * on failure p->reason says why. */
int cp_hs_ik_start(struct cp_hs_ctx *ctx, struct cp_hs_pending *p,
		   const uint8_t peer_pub[SL_KEY_LEN], uint8_t suite, uint32_t local_id,
		   uint8_t flags, uint64_t wall_ns, const struct cp_cookie *cookie, uint64_t now_ns,
		   struct sl_msg_ik_init *out) __rte_warn_unused_result;
int cp_hs_ik_finish(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const uint8_t *msg, size_t len,
		    struct cp_hs_session *s) __rte_warn_unused_result;

int cp_hs_xx_start(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, uint8_t suite, uint32_t local_id,
		   const struct cp_cookie *cookie, uint64_t now_ns,
		   struct sl_msg_xx_init *out) __rte_warn_unused_result;
/* Reads the XX answer, writes the finishing message and completes the session. */
int cp_hs_xx_finish(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const uint8_t *msg, size_t len,
		    uint64_t wall_ns, const struct cp_cookie *cookie, uint64_t now_ns,
		    struct sl_msg_xx_finish *out, struct cp_hs_session *s) __rte_warn_unused_result;

/* Take a cookie reply for pending handshake p (mac1 we sent is its associated data). */
int cp_hs_cookie_consume(struct cp_hs_ctx *ctx, const struct cp_hs_pending *p,
			 const struct sl_msg_cookie *reply, size_t len, uint64_t now_ns,
			 struct cp_cookie *cookie) __rte_warn_unused_result;

/* --- responder ------------------------------------------------------------------------------
 * Call only for messages cp_admission_check() accepted.
 * cp_hs_ik_respond reads an initiation and writes the answer; it returns 0 with a session,
 * -ECONNREFUSED when the peer was refused with a reason cp_hs_reason_answered() names (out
 * still holds an answer worth sending: it tells the initiator why), or another -errno with
 * nothing to send. */
int cp_hs_ik_respond(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const uint8_t *msg, size_t len,
		     uint32_t local_id, uint64_t now_ns, struct sl_msg_ik_resp *out,
		     struct cp_hs_session *s) __rte_warn_unused_result;

/* The same in two steps, for a responder that decides what the session is (a new one, or a
 * rekey of one it has: SL_HS_F_REKEY in the peer's flags) once it knows who initiated:
 * cp_hs_ik_read() reads and checks the initiation (0: p->peer is filled; -ECONNREFUSED with
 * a p->reason cp_hs_reason_answered() names: call cp_hs_ik_answer all the same, it writes the
 * answer that tells the initiator why and returns -ECONNREFUSED; else nothing to send).
 * cp_hs_ik_answer() writes the answer with our connection id and flags and completes s. */
int cp_hs_ik_read(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const uint8_t *msg, size_t len,
		  uint64_t now_ns) __rte_warn_unused_result;
int cp_hs_ik_answer(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, uint32_t local_id,
		    uint8_t flags, struct sl_msg_ik_resp *out,
		    struct cp_hs_session *s) __rte_warn_unused_result;

/* Read an XX initiation and write the answer; p stays pending for the finishing message.
 * The finishing message answers our own, which proves its source address: admit it with
 * pending = 0 (no cookie round trip) so a loaded responder still completes what it started. */
int cp_hs_xx_respond(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const uint8_t *msg, size_t len,
		     uint32_t local_id, struct sl_msg_xx_resp *out) __rte_warn_unused_result;
int cp_hs_xx_complete(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, const uint8_t *msg,
		      size_t len, uint64_t now_ns,
		      struct cp_hs_session *s) __rte_warn_unused_result;

/* Payload encoding, exposed for tests and tools. */
void cp_hs_payload_encode(const struct cp_hs_ctx *ctx, uint32_t sender, uint64_t timestamp,
			  uint8_t flags, struct sl_hs_payload *out);
enum cp_hs_reason cp_hs_payload_decode(const struct cp_hs_ctx *ctx, const struct sl_hs_payload *in,
				       struct cp_hs_peerinfo *info) __rte_warn_unused_result;

#endif /* CP_HANDSHAKE_H */
