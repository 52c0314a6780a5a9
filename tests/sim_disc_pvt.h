/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the discovery simulator's insides, shared by sim_disc.c (the world, its events and
 * nodes), sim_disc_sess.c (sessions, and the cp_disc ops of honest nodes),
 * sim_disc_attack.c (attacker nodes) and sim_disc_metrics.c (samples, graph, eclipse).
 *
 * Nodes are never reused: one that leaves stays in nodes[] (live false, its cp_disc
 * destroyed) so its address keeps failing dials. Sessions are slots of sess[] named by index,
 * with a generation that changes when a slot is freed: an event for a freed session is
 * ignored. A node lists the sessions open at its end (sess_of[]).
 */
#ifndef SIM_DISC_PVT_H
#define SIM_DISC_PVT_H

#include <stdbool.h>
#include <stdint.h>

#include "cp_disc.h"
#include "sim_disc.h"
#include "sl_theap.h"
#include "sl_wire.h"

#define SD_NONE	    UINT32_MAX
#define SD_PORT	    4790
#define SD_WALL0    1700000000ull /* UNIX time at virtual time 0 */
#define SD_SESS_BLK 4096

enum sd_kind { SD_HONEST, SD_SEED, SD_ATTACKER };
enum sd_end { SD_END_NONE, SD_END_OPEN, SD_END_DONE }; /* one side of a session */

enum sd_ev_type {
	SD_EV_TICK,   /* node a: its cp_disc asked to be called (attacker: its own timer) */
	SD_EV_JOIN,   /* node a joins */
	SD_EV_INIT,   /* session a: the dial reaches the dialled node */
	SD_EV_RESP,   /* session a: the answer reaches the dialler */
	SD_EV_FAIL,   /* session a: the dial is reported failed */
	SD_EV_MSG,    /* session a: a control message reaches side `end` */
	SD_EV_CLOSE,  /* session a: the other side's close reaches side `end` */
	SD_EV_CHURN,  /* a node leaves, a newcomer joins */
	SD_EV_SAMPLE, /* a sample of convergence and eclipse */
	SD_EV_SPAM,   /* attacker nodes send unsolicited ADDRs */
};

/* The heap hands back &hn: it must stay the first member. */
struct sd_event {
	struct sl_theap_node hn;
	uint8_t type, end;
	uint16_t len;
	uint32_t a, gen;
	uint8_t *msg; /* SD_EV_MSG: malloc'd; the free list's link when unused */
};

struct sd_node {
	uint8_t id[SL_KEY_LEN];
	uint32_t ip;
	uint32_t idx;
	uint8_t kind;
	bool live;
	bool joined; /* has been live (honest, seed) */
	struct sim_disc *w;
	struct cp_disc *d;    /* honest and seed nodes while live */
	struct sd_event tick; /* embedded: never freed */
	uint32_t *sess_of;    /* sessions open at this node's side */
	uint32_t n_sess, cap_sess;
	uint32_t live_pos; /* place in w->live (honest nodes while live) */
	uint64_t joined_ns;
	uint64_t target_ns; /* first time at the outbound target; 0: not yet */
	uint32_t dialing;   /* attacker: its dials in flight or open */
	bool crawled;	    /* attacker: has dialled the seeds */
};

struct sd_sess {
	uint32_t idx;	  /* its place in the world's blocks */
	uint32_t node[2]; /* [0] the dialler, [1] the dialled (SD_NONE: nobody there) */
	uint32_t gen;
	uint32_t next_free;
	uint8_t state[2]; /* enum sd_end */
	bool used;
	uint64_t rtt_ns;
	uint64_t last_at[2]; /* the last delivery scheduled towards each side (keeps order) */
	struct cp_addr dialed;
	struct cp_pex_peer apex; /* the attacker side's peer-exchange state, if any */
};

struct sd_deferred {
	uint32_t node, peer; /* node hears that its session with peer closed */
};

struct sd_counts {
	uint64_t dials, dials_failed, addrs_added, refused, evicted, peers_bad;
	uint64_t unsolicited, wrong_request;
};

struct sim_disc {
	struct sim_disc_config cfg;
	uint64_t now, rng, digest, events;
	struct sl_theap heap;
	struct sd_event *free_ev;
	struct sd_event churn, sample, spam; /* embedded: never freed */
	struct sd_node **nodes;
	uint32_t n_nodes, cap_nodes;
	struct sd_sess **sess_blk; /* blocks of SD_SESS_BLK: a session never moves */
	uint32_t n_sess, n_blk, free_sess;
	uint32_t *addr_tab, *id_tab, tab_mask; /* open addressing: node index or SD_NONE */
	uint32_t *live, n_live;		       /* live honest (not seed) nodes */
	uint32_t *att, n_att;		       /* attacker nodes */
	uint32_t *groups, n_groups;	       /* honest /16s (the group's top 16 bits) */
	uint32_t *att_groups;
	struct cp_addr *seed_addrs;
	uint32_t *seed_idx;
	struct sd_deferred *defer;
	uint32_t n_defer, cap_defer;
	struct cp_pex att_px, forge_asker, forge_answerer;
	struct cp_pex_result res;
	struct cp_addr entries[SL_PEX_MAX_ADDRS];
	uint8_t buf[SL_CONTROL_MSG_MAX];
	struct sim_disc_sample *samples;
	uint32_t n_samples, cap_samples;
	struct sd_counts gone; /* cp_disc counters of nodes that left */
	uint64_t sessions, messages, msg_bytes, joined, left;
	bool nomem, truncated;
};

static inline struct sd_sess *
sd_sess_at(const struct sim_disc *w, uint32_t i)
{
	return &w->sess_blk[i / SD_SESS_BLK][i % SD_SESS_BLK];
}

/* sim_disc.c */
uint64_t sd_rand(struct sim_disc *w);
uint64_t sd_wall(const struct sim_disc *w);
struct sd_event *sd_event_new(struct sim_disc *w, uint8_t type, uint32_t a, uint32_t gen);
void sd_schedule(struct sim_disc *w, struct sd_event *e, uint64_t at);
struct sd_node *sd_node_by_addr(const struct sim_disc *w, uint32_t ip, uint16_t port);
struct sd_node *sd_node_by_id(const struct sim_disc *w, const uint8_t id[SL_KEY_LEN]);
void sd_addr_of(const struct sim_disc *w, const struct sd_node *n, struct cp_addr *a);
void sd_digest(struct sim_disc *w, uint64_t x);

/* sim_disc_sess.c */
extern const struct cp_disc_ops sd_ops;
uint64_t sd_rtt(const struct sim_disc *w, uint32_t a, uint32_t b);
/* Start a dial from node `from` to a: its result follows as events. */
void sd_dial(struct sim_disc *w, struct sd_node *from, const struct cp_addr *a);
void sd_session_event(struct sim_disc *w, const struct sd_event *e);
/* Send msg on session s from side `from` (0 or 1). */
void sd_send(struct sim_disc *w, struct sd_sess *s, int from, const void *msg, size_t len);
/* Close session s at side `side` (the node's own decision, or it leaves). */
void sd_close_side(struct sim_disc *w, struct sd_sess *s, int side);
/* Run the closes reported to cp_disc after the call that made them. */
void sd_run_deferred(struct sim_disc *w);
/* The session between nodes a and b open at a's side, or NULL. */
struct sd_sess *sd_sess_between(struct sim_disc *w, const struct sd_node *a, uint32_t b, int *side);

/* sim_disc_attack.c */
int sd_attack_setup(struct sim_disc *w);
void sd_attack_tick(struct sim_disc *w, struct sd_node *n);
void sd_attack_opened(struct sim_disc *w, struct sd_node *n, struct sd_sess *s, int side);
void sd_attack_control(struct sim_disc *w, struct sd_node *n, struct sd_sess *s, int side,
		       const uint8_t *msg, size_t len);
/* n's session s (side: n's) closed, or its dial (side 0) failed. */
void sd_attack_lost(struct sim_disc *w, struct sd_node *n, const struct sd_sess *s, int side);
void sd_attack_spam(struct sim_disc *w);

/* sim_disc_metrics.c */
void sd_sample(struct sim_disc *w);
bool sd_at_target(const struct sim_disc *w, const struct sd_node *n);

#endif /* SIM_DISC_PVT_H */
