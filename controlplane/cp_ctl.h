/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the control thread's session logic — who this node talks to, handshakes in and out,
 * session slots on the dataplane lcores, rekeys, reconnects.
 *
 * A *node* is a peer identity (static public key): a configured peer, or a node that
 * connected to us. A node has at most one live session, owned by one dataplane lcore in one
 * slot; its connection id is sl_connid(lcore, slot, generation).
 *
 * Configured peers are dialled with Noise IK and kept connected: an attempt resends a fresh
 * initiation every retry_ns until handshake_timeout_ns, then waits (exponential back-off with
 * jitter, backoff_min_ns doubling to backoff_max_ns) and tries again. An address without a key
 * (a keyless seed, cp_ctl_connect_addr()) is dialled the same way with Noise XX until the
 * answer names its node, which is then known by key and redialled with IK. Nodes that dial us
 * use IK or XX. When both sides dial each other at once, the initiation of the node with the lower
 * public key wins (the other abandons its own); when two sessions with one node complete
 * anyway, both sides keep the one initiated by the lower key if the first is younger than
 * SL_HS_CROSSING_NS (sl_limits.h: the two crossed), else the newer replaces the older (the
 * peer restarted). Rekeys are IK
 * handshakes with SL_HS_F_REKEY that keep the session (docs/protocol.md, 5.3).
 *
 * The control channel (channel 0 of every session, reliable and in order) carries messages
 * between the control threads of two nodes: cp_ctl_control_send() posts one to the session's
 * lcore (DP_CMD_CONTROL_SEND), and the lcore's DP_EVT_CONTROL comes back through
 * cp_ctl_event() to ops.control with the sender's key. Delivery is best effort under overload:
 * what the lcores could not hand over is counted there (dp_drop.h, control_*), never waited for.
 *
 * I/O goes through struct cp_ctl_ops, so the logic runs the same against the dataplane rings
 * (cp_main.c) and against an in-memory harness (tests/test_ctl.c). Time is injected (now_ns
 * monotonic, wall_ns the real-time clock for handshake timestamps).
 *
 * Threading: create and destroy on any thread while no other uses it; everything that changes
 * state (cp_ctl_handshake, _event, _tick, _kick, _close_all, _control_send, _connect,
 * _disconnect) on one thread only, the control
 * thread — debug builds check it (the first of those calls binds the thread, SL_ASSERT_OWNER).
 * The read-only queries (cp_ctl_stats, _admission_stats, _sessions, _foreach_node,
 * _foreach_addr_dial, _pubkey)
 * may run on another thread that holds the lock the control thread holds while it changes
 * state (cp_main's mutex, for telemetry).
 */
#ifndef CP_CTL_H
#define CP_CTL_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "conf.h"
#include "cp_admission.h"
#include "cp_handshake.h"
#include "dp_cmd.h"

/* Where a handshake message came from or goes to. */
struct cp_endpoint {
	uint8_t port;	/* local port index */
	uint8_t mac[6]; /* next hop */
	uint32_t ip;	/* host order */
	uint16_t udp_port;
	/* the relay circuit (our end's id at the relay) when ip:udp_port is a relay that carries
	 * the messages (sl_relay_hdr, docs/protocol.md 17); 0: direct */
	uint32_t via;
};

enum cp_note_type {
	CP_NOTE_CONNECTED,	/* a session with the node is open */
	CP_NOTE_CONNECT_FAILED, /* an attempt to reach a node we keep gave up (keyless: pub NULL) */
	CP_NOTE_DISCONNECTED,	/* its session closed */
	CP_NOTE_REKEYED,	/* new keys for a live session */
	CP_NOTE_UNRESPONSIVE,	/* the session's peer stopped answering */
	CP_NOTE_REPLACED_ENDED, /* a replaced session ended, messages undelivered */
	/* an inbound handshake refused by peers_only (reason "policy"): no session, no slot, no
	 * node was made; for the log only (pub, ip, udp_port, via: the initiator; name "") */
	CP_NOTE_REFUSED,
	CP_NOTE_COUNT
};

/* Something an operator wants in the log. Pointers are valid during the call only. */
struct cp_note {
	enum cp_note_type type;
	const char *name;   /* configured peer name, or "" */
	const uint8_t *pub; /* the node's static key; NULL for a keyless dial's CONNECT_FAILED */
	uint32_t ip;
	uint16_t udp_port;
	bool initiator;	    /* CONNECTED, REKEYED: we started the handshake */
	uint32_t connid;    /* CONNECTED, REKEYED, DISCONNECTED: our connection id */
	const char *reason; /* CONNECT_FAILED: why; DISCONNECTED: the close reason's name */
	bool by_peer;	    /* DISCONNECTED: the peer closed */
	/* DISCONNECTED (once the lcore reported the end; 0 for a replacement, noted before it),
	 * REPLACED_ENDED: messages and bytes the session never got acknowledged */
	uint64_t undelivered, undelivered_bytes;
	uint32_t attempts;    /* CONNECT_FAILED: failures in a row */
	uint64_t retry_in_ns; /* CONNECT_FAILED: next attempt */
	/* CONNECTED, REKEYED: what the node's handshake said of itself */
	uint64_t capabilities;		/* SL_CAP_* bits (and any a later version sets) */
	uint8_t n_addrs;		/* listen addresses it advertised ... */
	const struct cp_hs_addr *addrs; /* ... (ip, udp_port above: where it is dialled) */
	bool learned;			/* its key was learned by a keyless dial of ours (XX) */
	uint32_t via; /* CONNECTED, REKEYED: the session goes through a relay on this circuit
		       * (ip, udp_port are the relay's) */
};

struct cp_ctl_ops {
	/* Post a command to lcore (SESSION_OPEN, KEYPAIR_ADD, SESSION_CLOSE). 0, or -errno: the
	 * command did not go and ownership of its keypair stays with the caller. */
	int (*command)(void *arg, unsigned int lcore, const struct dp_cmd *cmd);
	/* Send a handshake message (len bytes) to an endpoint. */
	void (*send)(void *arg, const struct cp_endpoint *to, const void *msg, size_t len);
	/* The local port and next-hop MAC for ip: 0; -EAGAIN while it is being resolved (the
	 * callee asks the network, and calls cp_ctl_kick() when an answer comes); -ENETUNREACH
	 * without a route. */
	int (*resolve)(void *arg, uint32_t ip, uint8_t *port, uint8_t mac[6]);
	void (*note)(void *arg, const struct cp_note *n);
	/* A message on the control channel from the node with static key pub (len bytes,
	 * 1..SL_CONTROL_MSG_MAX; valid during the call only). May be NULL: then counted only. */
	void (*control)(void *arg, const uint8_t pub[SL_KEY_LEN], const void *msg, size_t len);
};

struct cp_ctl_config {
	struct cp_hs_config hs;	  /* identity, network, versions, advertised addresses */
	uint8_t suite;		  /* SL_SUITE_* of our initiations */
	unsigned int n_lcores;	  /* dataplane lcores that own sessions */
	uint32_t slots_per_lcore; /* session slots on each (<= SL_CONNID_MAX_SLOTS) */
	uint32_t max_sessions;	  /* sessions in all, handshakes in progress included */
	uint32_t max_pending_xx;  /* XX answers waiting for the finishing message */
	uint32_t max_addr_dials;  /* keyless dials at once (cp_ctl_connect_addr) */
	uint64_t handshake_timeout_ns;
	uint64_t retry_ns; /* resend an initiation this often */
	uint64_t backoff_min_ns, backoff_max_ns;
	/* Session resumption (cp_hs_resume.h): node ids whose last session's secret is kept,
	 * 0: none (every dial is a full handshake, every resumption is rejected); and how long
	 * a secret stays good (0: SL_RESUME_LIFETIME_NS). */
	uint32_t resume_cache;
	uint64_t resume_lifetime_ns;
	struct cp_admission_config admission;
	unsigned int n_peers;
	const struct conf_peer *peers; /* kept by reference: must outlive the control */
	/* Peer policy: false (the default), anyone who knows our key and network may start a
	 * session with us. True, a handshake we answer (IK, XX, resumption, direct or through a
	 * relay) must come from a configured peer, a node we dial or keep connected
	 * (cp_ctl_connect, a keyless dial that learned it), a node with a live session, or a key
	 * of inbound_allow (discovery.inbound); anyone else is refused once its key is
	 * authenticated, before any slot or session (refused_by_reason[CP_HS_POLICY], a
	 * CP_NOTE_REFUSED). Our own dials are not affected. */
	bool peers_only;
	unsigned int n_inbound_allow;
	const uint8_t (*inbound_allow)[SL_KEY_LEN]; /* by reference, like peers */
};

/* The defaults for everything but identity and peers; then override from a conf. */
void cp_ctl_config_defaults(struct cp_ctl_config *cfg);
/* Fill cfg from a validated configuration and the node's private key. */
void cp_ctl_config_from_conf(struct cp_ctl_config *cfg, const struct conf *c,
			     const uint8_t static_priv[SL_KEY_LEN]);

/* Counters of the control thread. */
#define CP_CTL_COUNTERS(X)                                                            \
	X(initiations_sent, "initiations sent (retries included)")                    \
	X(initiations_received, "initiations received and admitted")                  \
	X(answers_received, "answers and finishing messages received")                \
	X(sessions_opened, "sessions opened")                                         \
	X(sessions_closed, "sessions closed")                                         \
	X(rekeys, "keys renewed")                                                     \
	X(rekeys_refused, "rekeys the peer did not know (it had restarted)")          \
	X(connect_failures, "connection attempts that gave up")                       \
	X(collisions, "initiations ignored: ours wins (lower key)")                   \
	X(duplicates, "second sessions discarded (the other one stays)")              \
	X(replaced, "sessions replaced by a newer one with the same peer")            \
	X(unmatched, "answers or cookies for no handshake of ours")                   \
	X(refused, "handshakes refused (see refused_by_reason)")                      \
	X(no_slot, "handshakes dropped: every session slot taken")                    \
	X(pending_full, "XX initiations dropped: too many waiting for their finish")  \
	X(cookies_received, "cookie replies taken")                                   \
	X(command_failures, "commands the dataplane could not take")                  \
	X(slot_double_release, "slots released twice (a bug: always 0)")              \
	X(table_pressure, "initiations that needed a cookie: session table 3/4 full") \
	X(control_sent, "control messages posted to a session's lcore")               \
	X(control_received, "control messages received and handed on")                \
	X(control_stale, "control messages from no current session: dropped")         \
	X(control_ring_full, "control messages not sent: command ring full")          \
	X(addr_dials, "keyless dial attempts (XX), resends not counted")              \
	X(keys_learned, "sessions keyless dials opened: node key learned")            \
	X(stale_initiations, "initiations older than the handshake timeout: not answered") \
	X(resumes_sent, "resumption initiations sent (resends included)")                  \
	X(resumed, "sessions opened by a resumption, either side")                         \
	X(resume_fallbacks, "our resumptions the peer rejected: a full handshake followed")  \
	X(resume_rejected, "resumption initiations we could not resume: rejected")         \
	X(moved, "peers of live sessions that moved: rekeys and redials follow them")      \
	X(moved_stale, "moves reported for a session that is no longer live: ignored")

struct cp_ctl_stats {
#define CP_CTL_FIELD(name, doc) uint64_t name;
	CP_CTL_COUNTERS(CP_CTL_FIELD)
#undef CP_CTL_FIELD
	uint64_t refused_by_reason[CP_HS_REASON_COUNT];
	/* Slots now: a live session; a handshake in progress (our dials, XX answers waiting for
	 * their finish). Slots of sessions closing are neither: cp_ctl_sessions() counts all. */
	uint32_t sessions_live, handshakes_pending;
};

enum cp_node_state {
	CP_NODE_WAITING,   /* configured: next attempt after a back-off */
	CP_NODE_RESOLVING, /* configured: waiting for the next hop's MAC */
	CP_NODE_DIALING,   /* configured: our initiation is out */
	CP_NODE_CONNECTED, /* a session is live */
};

const char *cp_node_state_name(enum cp_node_state s);
/* "idle_timeout", "replaced", ... for an SL_CLOSE_* reason. */
const char *cp_close_reason_name(uint16_t reason);

/* A node as telemetry shows it. */
struct cp_node_info {
	char name[CONF_NAME_LEN];
	uint8_t pub[SL_KEY_LEN];
	int peer; /* configured peer index, or -1 */
	enum cp_node_state state;
	/* Where it is dialled: the address we dialled, or for a node that dialled us the listen
	 * address it advertised on the IP its packets come from (else their source). */
	uint32_t ip;
	uint16_t udp_port;
	uint32_t connid, remote_id; /* CONNECTED */
	unsigned int lcore;
	bool initiator;		    /* we started the live session's first handshake */
	uint64_t connected_ns;	    /* when the live session opened */
	uint64_t last_handshake_ns; /* when its keys were last made (open or rekey) */
	uint64_t connects, disconnects, failures, rekeys;
	uint64_t moves; /* its live sessions' peer moved (another address, port or next hop) */
	uint32_t via;	/* CONNECTED through a relay: the circuit (ip, udp_port: the relay's) */
	uint32_t attempts; /* failed attempts in a row */
	char last_error[48];
	/* from its last handshake */
	uint64_t capabilities; /* SL_CAP_* */
	uint8_t n_addrs;
	struct cp_hs_addr addrs[SL_HS_MAX_ADDRS]; /* its advertised listen addresses */
	bool learned; /* its key was learned by a keyless dial of ours (Noise XX) */
	/* control messages with it, all its sessions (a node that is not a configured peer is
	 * forgotten, counters and all, when its session ends) */
	uint64_t control_sent, control_received;
};

struct cp_ctl;

/* NULL with errno set (EINVAL bad configuration, ENOMEM). */
struct cp_ctl *cp_ctl_create(const struct cp_ctl_config *cfg, const struct cp_ctl_ops *ops,
			     void *arg, uint64_t now_ns);
/* Frees the control's state; sessions on the lcores are the dataplane's to free. */
void cp_ctl_destroy(struct cp_ctl *ctl);

const uint8_t *cp_ctl_pubkey(const struct cp_ctl *ctl);

/* A handshake message received from `from`. backlog: handshake messages still queued
 * behind it (admission switches to cookies under load). */
void cp_ctl_handshake(struct cp_ctl *ctl, const struct cp_endpoint *from, const uint8_t *msg,
		      size_t len, uint32_t backlog, uint64_t now_ns, uint64_t wall_ns);

/* May this handshake message still be answered? False (counted in stale_initiations) for an
 * initiation that may have waited longer than the handshake timeout before now: since_ns is
 * the earliest it can have arrived (the receive queue it came from was last found empty then).
 * Its initiator has given it up; answering would open a session nobody completes, or replace
 * a good one, once for every initiation a stopped process finds queued when it wakes. Other
 * messages are always fresh here (answers are matched to our own handshake state). */
bool cp_ctl_initiation_fresh(struct cp_ctl *ctl, const uint8_t *msg, size_t len, uint64_t since_ns,
			     uint64_t now_ns);

/* Dial the node with static key pub at ip:port (host order; ip 0: the address it is known at)
 * and keep it connected, like a configured peer, until cp_ctl_disconnect(). 0 when it is being
 * dialled or already connected (CONNECTED or CONNECT_FAILED notes follow); -EINVAL our own key,
 * a low-order key, or a port of 0 with an address; -EDESTADDRREQ no address known; -ENOMEM. */
int cp_ctl_connect(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN], uint32_t ip, uint16_t port,
		   uint64_t now_ns);
/* Dial the node with static key pub through a relay: relay is where the relay is (its
 * address, port and next hop, as its own session's endpoint), via our end of the circuit it
 * gave us for the node. Then kept connected like cp_ctl_connect(), always through that
 * circuit, until cp_ctl_forget()/cp_ctl_disconnect() or another cp_ctl_connect_via(). A live
 * session is left as it is. 0; -EINVAL as cp_ctl_connect(), or via 0; -ENOMEM. */
int cp_ctl_connect_via(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN],
		       const struct cp_endpoint *relay, uint32_t via, uint64_t now_ns);
/* The live session with the node: where it sends (the endpoint, via included) and its lcore.
 * 0, or -ENOTCONN (none, or closing). */
int cp_ctl_session_of(const struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN],
		      struct cp_endpoint *ep, unsigned int *lcore);
/* Post a command to an lcore through ops.command (the relay's forwarding table). 0 or
 * -errno. */
int cp_ctl_post(struct cp_ctl *ctl, unsigned int lcore, const struct dp_cmd *cmd);

/* Dial ip:port (host order) without knowing the key of the node there: Noise XX, whose answer
 * names it. The address is dialled like a configured peer (a fresh initiation every retry_ns
 * until handshake_timeout_ns, then back-off doubling from backoff_min_ns to backoff_max_ns,
 * with jitter; CONNECT_FAILED notes without a key) until a session opens. Then the keyless dial
 * ends: the node it reached is known by its key, kept connected as cp_ctl_connect() would,
 * and dialled at ip:port with IK from then on; its CONNECTED note has `learned` set. If the
 * node already has a session, the two are resolved as any two sessions with one node are.
 * An answer with our own key (the address is ours) ends the dial for good: CONNECT_FAILED
 * "own_identity". At most max_addr_dials addresses are dialled at once; an XX answer for none
 * of them is counted in `unmatched`.
 * 0 when it is being dialled, or a node known at ip:port is (then with IK, cp_ctl_connect());
 * -EINVAL ip or port 0, or one of our own listen addresses; -ENOSPC max_addr_dials addresses
 * dialled already. */
int cp_ctl_connect_addr(struct cp_ctl *ctl, uint32_t ip, uint16_t port, uint64_t now_ns);
/* Give up the keyless dial of ip:port (not the node it reached: cp_ctl_disconnect()). 0, or
 * -ENOENT. */
int cp_ctl_disconnect_addr(struct cp_ctl *ctl, uint32_t ip, uint16_t port, uint64_t now_ns);

/* Stop keeping the node connected (configured peers too, until cp_ctl_connect()): its dial is
 * given up and its session closed gracefully (SL_CLOSE_APPLICATION). 0, or -ENOENT. */
int cp_ctl_disconnect(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN], uint64_t now_ns);
/* Stop keeping the node connected, as cp_ctl_disconnect(), but leave a live session alone
 * (discovery: a dial that failed, a node whose session ended). 0, or -ENOENT. */
int cp_ctl_forget(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN], uint64_t now_ns);
/* Close the node's live session gracefully, telling the peer reason (SL_CLOSE_*), and nothing
 * else (a node kept connected is redialled). 0, or -ENOTCONN (no live session). */
int cp_ctl_close(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN], uint16_t reason,
		 uint64_t now_ns);

/* An event from lcore (DP_EVT_REKEY, DP_EVT_UNRESPONSIVE, DP_EVT_CLOSED, DP_EVT_CONTROL). A
 * DP_EVT_CONTROL's buffer stays the caller's (read during the call: ops.control). */
void cp_ctl_event(struct cp_ctl *ctl, unsigned int lcore, const struct dp_evt *ev, uint64_t now_ns,
		  uint64_t wall_ns);

/* Send a control message (len bytes, 1..SL_CONTROL_MSG_MAX) to the node with static key pub on
 * the control channel of its live session: posted to the session's lcore, which queues it on
 * the engine (reliable, in order; what the lcore cannot queue is counted there,
 * control_send_stale / control_send_refused). 0; -ENOTCONN no live session with the node;
 * -EMSGSIZE len 0 or above SL_CONTROL_MSG_MAX; -ENOBUFS the lcore's command ring is full (try
 * again later); -ENOMEM. Control thread; may be called from ops.note (a CONNECTED note: the
 * session's open command is posted, so the message follows it). */
int cp_ctl_control_send(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN], const void *msg,
			size_t len);

/* Run what is due; returns when it next needs to run (UINT64_MAX: nothing scheduled). */
uint64_t cp_ctl_tick(struct cp_ctl *ctl, uint64_t now_ns, uint64_t wall_ns);

/* Addresses were resolved: nodes waiting for one try again at the next tick. */
void cp_ctl_kick(struct cp_ctl *ctl, uint64_t now_ns);

/* Stop dialling and close every session (graceful, SL_CLOSE_SHUTDOWN). The slots come back
 * with the lcores' DP_EVT_CLOSED events: cp_ctl_sessions() says how many are still held.
 * At most CP_CTL_CLOSE_BATCH closes per lcore per call, so that the lcores' command rings never
 * fill while their answers wait: false if some are left, call again after draining events. */
#define CP_CTL_CLOSE_BATCH 1024 /* a quarter of DP_RING_SIZE (checked in cp_main.c) */
bool cp_ctl_close_all(struct cp_ctl *ctl, uint64_t now_ns);
uint32_t cp_ctl_sessions(const struct cp_ctl *ctl);

const struct cp_ctl_stats *cp_ctl_stats(const struct cp_ctl *ctl);
const struct cp_admission_stats *cp_ctl_admission_stats(const struct cp_ctl *ctl);
/* The resumption cache's counters and its size now; NULL if resumption is off. */
const struct cp_resume_stats *cp_ctl_resume_stats(const struct cp_ctl *ctl, uint32_t *entries);

/* Call fn for every node (configured peers first); stops early when fn returns non-zero. */
int cp_ctl_foreach_node(const struct cp_ctl *ctl,
			int (*fn)(void *arg, const struct cp_node_info *info), void *arg);

/* A keyless dial as telemetry shows it. */
struct cp_addr_dial_info {
	uint32_t ip;
	uint16_t udp_port;
	enum cp_node_state state; /* WAITING, RESOLVING or DIALING */
	uint32_t attempts;	  /* failed attempts in a row */
	uint64_t failures;
	char last_error[48];
};

/* Call fn for every keyless dial in progress; stops early when fn returns non-zero. */
int cp_ctl_foreach_addr_dial(const struct cp_ctl *ctl,
			     int (*fn)(void *arg, const struct cp_addr_dial_info *info), void *arg);

#endif /* CP_CTL_H */
