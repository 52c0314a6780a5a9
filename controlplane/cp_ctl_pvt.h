/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: control-thread internals shared by cp_ctl.c (nodes, slots, timers, dataplane
 * events), cp_ctl_hs.c (handshake messages in and out), cp_ctl_req.c (connect, disconnect) and
 * cp_ctl_chan.c (the control channel).
 */
#ifndef CP_CTL_PVT_H
#define CP_CTL_PVT_H

#include <string.h>

#include <intel-ipsec-mb.h>
#include <rte_byteorder.h>

#include "cp_ctl.h"
#include "sl_debug.h"
#include "sl_theap.h"

struct rte_hash;

/* A session slot's life. Only cp_ctl_slot_alloc() takes a slot out of FREE (into the state its
 * caller names, never FREE) and only cp_ctl_slot_release() puts it back, from any other state:
 * so every path that took a slot can give it back, whatever it did in between.
 *   FREE -> DIALING | RESERVED | XDIAL                  cp_ctl_slot_alloc()
 *   RESERVED -> XX (an answer went out) | LIVE           cp_ctl_hs.c
 *   DIALING -> LIVE;  XX -> RESERVED (finished) -> LIVE  cp_ctl_hs.c
 *   XDIAL -> LIVE                                        cp_ctl_xdial.c
 *   LIVE -> CLOSING                                      cp_ctl_close_session(), close_all
 *   any but FREE -> FREE                                 cp_ctl_slot_release()
 * RESERVED never outlives the call that set it; XX lasts until the finishing message or the
 * handshake timeout (cp_ctl_xx_expire()). */
enum cp_slot_state {
	CP_SLOT_FREE = 0,
	CP_SLOT_DIALING,  /* reserved by our initiation (node) */
	CP_SLOT_RESERVED, /* taken by a handshake being answered; nothing on the lcore yet */
	CP_SLOT_XX,	  /* our XX answer waits for the finishing message (xx) */
	CP_SLOT_LIVE,	  /* a session on the lcore (node, or NULL once replaced) */
	CP_SLOT_CLOSING,  /* close sent; free on DP_EVT_CLOSED */
	CP_SLOT_XDIAL,	  /* reserved by our keyless (XX) initiation (xd) */
};

struct cp_node;
struct cp_xx;
struct cp_xdial;

struct cp_slot {
	union {
		struct cp_node *node; /* DIALING, LIVE (NULL: nobody's any more), CLOSING */
		struct cp_xx *xx;     /* XX */
		struct cp_xdial *xd;  /* XDIAL */
	};
	uint8_t state;	  /* enum cp_slot_state */
	uint8_t gen;	  /* generation of the connection id in use */
	uint32_t open_id; /* LIVE, CLOSING: the connection id the session was opened with (the
			   * lcore's name for it in control messages, whatever rekeys did since) */
};

/* A responder's XX handshake waiting for its finishing message. */
struct cp_xx {
	struct cp_hs_pending *hs;
	struct sl_theap_node timer; /* gives up at the deadline */
	struct cp_endpoint from;
	unsigned int lcore;
	uint32_t slot;
};

/* A keyless dial: ip:port dialled with Noise XX, whose answer names the node (cp_ctl_xdial.c).
 * One per address, in a table of max_addr_dials; it ends when its session opens. */
struct cp_xdial {
	bool used;
	enum cp_node_state state; /* WAITING, RESOLVING or DIALING (our initiation is out) */
	uint32_t ip;		  /* the address dialled (host order) */
	uint16_t port;
	struct cp_endpoint ep; /* resolved */
	struct cp_hs_pending *hs;
	unsigned int lcore; /* DIALING: the slot reserved for the session */
	uint32_t slot, local_id;
	uint64_t deadline_ns;
	struct cp_cookie cookie;
	uint64_t backoff_base_ns, backoff_ns;
	uint32_t attempts;
	uint64_t failures;
	char last_error[48];
	struct sl_theap_node timer; /* next resend, deadline, back-off end or resolve attempt */
};

struct cp_node {
	struct cp_node_info info; /* name, key, state, endpoint, session ids, counters */
	bool pub_in_hash;
	bool wanted;	       /* kept connected: a configured peer, or asked (cp_ctl_connect) */
	bool closing;	       /* its session is closing (no new dial until it closed) */
	bool dial_asked;       /* asked to connect while closing: dial once closed, no back-off */
	struct cp_endpoint ep; /* where its session sends */
	uint32_t dial_via;     /* dialled through a relay on this circuit (cp_ctl_connect_via) */
	uint32_t slot;	       /* DIALING / CONNECTED: the slot on info.lcore */
	/* our handshake in progress (dial or rekey) */
	struct cp_hs_pending *hs;
	bool hs_rekey;
	bool hs_resume; /* the dial tries a resumption first (cp_ctl_resume.c) */
	struct sl_msg_resume_init resume_msg; /* hs_resume: the initiation, sent again as is */
	bool rekey_retry; /* a rekey timed out: the timer tries again */
	uint32_t hs_local_id;
	uint64_t hs_deadline_ns, hs_next_ns;
	struct cp_cookie cookie;
	uint64_t backoff_base_ns, backoff_ns; /* doubling from backoff_min_ns; with jitter */
	struct sl_theap_node timer;	      /* next retry, back-off end or resolve attempt */
};

struct cp_ctl {
	struct cp_ctl_config cfg;
	struct cp_ctl_ops ops;
	void *arg;
	struct cp_hs_ctx *hs;
	struct cp_admission *adm;
	struct rte_hash *by_pub;
	struct cp_node *peers; /* n_peers configured nodes */
	struct cp_slot *slots[CONF_MAX_LCORES];
	uint32_t *free_slots[CONF_MAX_LCORES]; /* stack of free slot numbers per lcore */
	uint32_t n_free[CONF_MAX_LCORES];
	uint32_t n_used; /* slots not free, all lcores */
	uint32_t n_xx;
	struct sl_theap timers;	       /* nodes */
	struct sl_theap xx_timers;     /* XX answers waiting for their finish */
	struct sl_theap xd_timers;     /* keyless dials */
	struct cp_xdial *xd;	       /* max_addr_dials keyless dials */
	uint32_t n_xd;		       /* of them used */
	struct cp_hs_pending *scratch; /* a responder's read, or a copy an answer is tried on */
	struct cp_resume *resume;      /* last sessions' resumption secrets; NULL: resumption off */
	uint64_t resume_expire_ns;     /* next sweep of expired secrets */
	bool stopping;
	uint64_t rng; /* jitter */
	struct cp_ctl_stats st;
	struct sl_owner thread; /* the control thread: bound by its first call (debug builds) */
};

/* A big-endian 32-bit field of a received message (no alignment assumed). */
static inline uint32_t
cp_ctl_be32_at(const uint8_t *p)
{
	rte_be32_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_32(v);
}

/* cp_ctl_conf.c */
/* NULL if cp_ctl_create() can take cfg, else what is wrong with it. */
const char *cp_ctl_config_problem(const struct cp_ctl_config *cfg);

/* cp_ctl_req.c */
/* cp_ctl_connect(): keep the node connected, dialled at ip:port
 * (0: where it is known) from `at` on. */
int cp_ctl_want(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN], uint32_t ip, uint16_t port,
		uint64_t at);

/* cp_ctl.c */
/* A free slot, now in `state` (DIALING or RESERVED), with its next generation; UINT32_MAX if
 * none (max_sessions reached or every slot taken). */
uint32_t cp_ctl_slot_alloc(struct cp_ctl *ctl, enum cp_slot_state state, unsigned int *lcore);
/* Back to FREE from any other state. A slot that is already free is a bug: counted in
 * slot_double_release (and an assertion in debug builds), never freed twice. */
void cp_ctl_slot_release(struct cp_ctl *ctl, unsigned int lcore, uint32_t slot);
struct cp_slot *cp_ctl_slot(struct cp_ctl *ctl, uint32_t connid);
struct cp_node *cp_ctl_node_find(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN]);
struct cp_node *cp_ctl_node_get(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN]);
void cp_ctl_node_put(struct cp_ctl *ctl, struct cp_node *n);
void cp_ctl_schedule(struct cp_ctl *ctl, struct sl_theap_node *t, uint64_t at);
void cp_ctl_schedule_retry(struct cp_ctl *ctl, struct cp_node *n, uint64_t now_ns);
void cp_ctl_note(struct cp_ctl *ctl, enum cp_note_type type, const struct cp_node *n,
		 const char *reason, bool by_peer);
/* The note cp_ctl_note() would give, to add to before it goes. */
void cp_ctl_note_fill(struct cp_note *note, enum cp_note_type type, const struct cp_node *n,
		      const char *reason, bool by_peer);
/* Close the node's live session (its slot stays held until the lcore says it closed). */
void cp_ctl_close_session(struct cp_ctl *ctl, struct cp_node *n, uint16_t reason, bool graceful);
/* An attempt to reach a configured peer failed: back off and note it. */
void cp_ctl_dial_failed(struct cp_ctl *ctl, struct cp_node *n, const char *why, uint64_t now_ns);
void cp_ctl_hs_free(struct cp_node *n);
/* v give or take a quarter, at random. */
uint64_t cp_ctl_jitter(struct cp_ctl *ctl, uint64_t v);
static inline bool
cp_ctl_is_peer(const struct cp_node *n)
{
	return n->info.peer >= 0;
}
/* Dialled, and dialled again after its session ends, with back-off. */
static inline bool
cp_ctl_keep(const struct cp_node *n)
{
	return n->wanted;
}

/* cp_ctl_chan.c */
/* A DP_EVT_CONTROL from lcore: to ops.control if its session is still its node's. */
void cp_ctl_control_in(struct cp_ctl *ctl, unsigned int lcore, const struct dp_evt *ev);

/* cp_ctl_hs.c */
void cp_ctl_refused(struct cp_ctl *ctl, enum cp_hs_reason r);
/* Handshake state, 64-byte aligned (ipsec-mb key schedules); NULL if out of memory. */
struct cp_hs_pending *cp_ctl_pending_alloc(void);
/* A second session with n completed while n's is live: keep the live one (the two crossed,
 * and the lower key initiated it)? */
bool cp_ctl_keep_old(struct cp_ctl *ctl, const struct cp_node *n, bool new_by_us, uint64_t now_ns);
/* Open the session of a completed handshake in (lcore, slot), reserved for it; learned: its
 * key came from our keyless dial. False if the dataplane did not take it (hs wiped anyway). */
bool cp_ctl_open_session(struct cp_ctl *ctl, struct cp_node *n, unsigned int lcore, uint32_t slot,
			 struct cp_hs_session *hs, const struct cp_endpoint *ep, bool learned,
			 uint64_t now_ns);
/* n's live session gives way to a newer one. */
void cp_ctl_replace_session(struct cp_ctl *ctl, struct cp_node *n);
/* Give up our own dial of n (another handshake wins). */
void cp_ctl_abandon_dial(struct cp_ctl *ctl, struct cp_node *n);
/* Send a (new) initiation of the node's current dial or rekey. */
void cp_ctl_send_initiation(struct cp_ctl *ctl, struct cp_node *n, uint64_t now_ns,
			    uint64_t wall_ns);
/* Start dialling (or rekeying) a node whose endpoint is resolved. */
void cp_ctl_dial(struct cp_ctl *ctl, struct cp_node *n, bool rekey, uint64_t now_ns,
		 uint64_t wall_ns);
/* Forget a waiting XX answer (its slot is the caller's), or let it expire (slot freed). */
void cp_ctl_xx_free(struct cp_ctl *ctl, struct cp_xx *xx);
void cp_ctl_xx_expire(struct cp_ctl *ctl, struct cp_xx *xx);

/* cp_ctl_policy.c (peers_only) */
/* cp_hs_config.peer_allowed: may the node with key pub start a session with us? (arg: ctl) */
bool cp_ctl_policy_allows(void *arg, const uint8_t pub[SL_KEY_LEN]);
/* A handshake from `from` refused for p->reason: counted; a policy refusal also noted
 * (CP_NOTE_REFUSED, with the initiator's key from p->peer.pub). */
void cp_ctl_refused_from(struct cp_ctl *ctl, const struct cp_hs_pending *p,
			 const struct cp_endpoint *from);

/* cp_ctl_resume.c (session resumption) */
int cp_ctl_resume_init(struct cp_ctl *ctl);
/* Remember the resumption secret of a session with pub that has just completed. */
void cp_ctl_resume_remember(struct cp_ctl *ctl, const uint8_t pub[SL_KEY_LEN],
			    const struct cp_hs_session *hs, uint64_t now_ns);
/* Send n's dial as a resumption (its first attempt, or the same initiation again); only for a
 * dial with n->hs_resume set (cp_ctl_dial() sets it only when the cache exists). False if no
 * resumption is possible (then n->hs_resume is false: send a full initiation). */
bool cp_ctl_resume_send(struct cp_ctl *ctl, struct cp_node *n, uint64_t now_ns, uint64_t wall_ns);
/* A resumption initiation (SL_MSG_RESUME_INIT): read, or rejected. True with ctl->scratch
 * holding the read initiation, to be answered like an IK one. */
bool cp_ctl_resume_read(struct cp_ctl *ctl, const struct cp_endpoint *from, const uint8_t *msg,
			size_t len, uint64_t now_ns);
/* SL_MSG_RESUME_REJECT: the dial it names falls back to a full handshake at once. */
void cp_ctl_resume_rejected(struct cp_ctl *ctl, const uint8_t *msg, size_t len, uint64_t now_ns,
			    uint64_t wall_ns);
/* The node whose handshake (dial or rekey) uses connection id `receiver` (cp_ctl_hs.c). */
struct cp_node *cp_ctl_dialer(struct cp_ctl *ctl, uint32_t receiver);

/* cp_ctl_xdial.c (keyless dials) */
int cp_ctl_xdial_init(struct cp_ctl *ctl);
void cp_ctl_xdial_fini(struct cp_ctl *ctl);
/* Run the keyless dials that are due. */
void cp_ctl_xdial_tick(struct cp_ctl *ctl, uint64_t now_ns, uint64_t wall_ns);
/* An XX answer (SL_MSG_XX_RESP): for a keyless dial of ours, or counted in unmatched. */
void cp_ctl_xdial_answer(struct cp_ctl *ctl, const uint8_t *msg, size_t len, uint64_t now_ns,
			 uint64_t wall_ns);
/* A cookie reply to a message whose sender id is a CP_SLOT_XDIAL slot's. */
void cp_ctl_xdial_cookie(struct cp_ctl *ctl, const uint8_t *msg, size_t len, uint64_t now_ns);
/* Stop: every keyless dial gives its slot back and waits (close_all). */
void cp_ctl_xdial_stop(struct cp_ctl *ctl, unsigned int lcore, uint32_t slot);
/* Addresses were resolved: keyless dials waiting for one try again. */
void cp_ctl_xdial_kick(struct cp_ctl *ctl, uint64_t now_ns);
/* cp_ctl_connect_addr(): the first attempt at `at`. */
int cp_ctl_xdial_add(struct cp_ctl *ctl, uint32_t ip, uint16_t port, uint64_t at);
/* A node at ip:port (where it is dialled), or NULL. */
struct cp_node *cp_ctl_node_at(struct cp_ctl *ctl, uint32_t ip, uint16_t port);

#endif /* CP_CTL_PVT_H */
