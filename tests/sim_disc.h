/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: a deterministic control-plane simulator for discovery at internet scale — thousands
 * of nodes, each running the appliance's own discovery (cp_disc: the address book, peer
 * exchange and the pool), connected by a model of the network, with churn and an attacker.
 *
 * The model (one thread, virtual time in ns, every random choice from the seed):
 * - Nodes. `nodes` honest nodes join at times uniform over [0, join_window); `seeds` seed-mode
 *   nodes are up from the start and never leave. Every node has a random 32-byte identity and
 *   a routable IPv4 address: honest nodes spread over nodes / per_group random /16s, so about
 *   per_group nodes share a /16. Each node's cp_disc has the seeds in its configuration.
 * - Sessions. A dial of a live node reaches it after half the pair's round trip (RTT drawn
 *   per pair, uniform in [rtt_min, rtt_max]): the responder's side opens then (its cp_disc
 *   decides whether to keep it); the dialler's side opens one round trip after the dial. A
 *   dial of a dead or unknown address, or with an identity that is not the node's (IK to the
 *   wrong key), is reported failed dial_fail_ns after it started. One session per pair: a
 *   dial between two nodes that have one open at either side fails half a round trip after it
 *   arrives (duplicate resolution; the first to open wins). Control messages and closes
 *   travel one way in half the round trip, in order per session and direction. A session
 *   closes when a side closes it (the other side hears of it half a round trip later) or
 *   when a node leaves. A close that cp_disc asks for is reported back to it (cp_disc_closed)
 *   once the call that asked has returned; cp_disc_tick() runs when it asked to.
 * - Churn. From join_window on, honest nodes leave at random, churn_per_min x live honest
 *   nodes per minute (intervals uniform in [0.5, 1.5] x the mean); each one that leaves is
 *   replaced at once by a newcomer: a new identity at a new address with an empty book.
 * - The attacker. attacker_share of all addresses (honest nodes + attacker: the attacker holds
 *   nodes * share / (1 - share) addresses) are live attacker nodes, concentrated in
 *   attacker_groups /16s, up from attacker_start_ns (each within 2 s of it). They accept every
 *   session, answer every GETADDR with as many entries as asked for, all attacker addresses
 *   seen just now, keep attacker_dials sessions to random honest nodes (and dial the seeds
 *   once), so honest nodes learn their listen addresses, and send an unsolicited ADDR full of
 *   attacker addresses on every session they dialled when it opens and on every session every
 *   attacker_spam_ns (0: never), which peer exchange drops, counts and punishes.
 * - The book of every honest and seed node is cfg.book (bucketing on or off for the whole
 *   run); honest nodes ask for pex_max_addrs entries.
 *
 * Metrics (struct sim_disc_metrics): convergence (fraction of honest nodes at their outbound
 * target over time, the first time it reaches 99 %, per-node time from join to target), the
 * graph of sessions open at both ends among live honest nodes (connected, components,
 * diameter — exact, a BFS from every node — mean distance, in-degree histogram), and eclipse
 * (honest nodes whose outbound peers are all attacker nodes, the attacker's share of outbound
 * peers and of the books), plus a digest of the whole run: the same configuration gives the
 * same digest, bit for bit.
 *
 * Threading: a world belongs to the thread that created it. Bounded: the run stops at
 * duration_ns of virtual time, or when max_events have run.
 */
#ifndef SIM_DISC_H
#define SIM_DISC_H

#include <stdbool.h>
#include <stdint.h>

#include "cp_book.h"

#define SIM_DISC_NS	   1000000000ull
#define SIM_DISC_MS	   1000000ull
#define SIM_DISC_INDEG_MAX 64 /* the histogram's last bin counts in-degrees >= this */

struct sim_disc_config {
	uint64_t seed;
	uint32_t nodes;		/* honest nodes at the start (seeds not counted) */
	uint32_t seeds;		/* seed-mode nodes, >= 1 */
	uint32_t per_group;	/* honest nodes per /16 on average */
	uint32_t outbound;	/* the outbound target (pool max_outbound) */
	uint32_t inbound;	/* pool max_inbound of honest nodes */
	uint32_t seed_inbound;	/* pool max_inbound of seeds */
	uint32_t book_low;	/* cp_disc book_low */
	uint16_t pex_max_addrs; /* entries honest nodes ask for (cp_pex max_addrs) */
	struct cp_book_config book;
	uint64_t join_window_ns;
	uint64_t duration_ns;
	double churn_per_min; /* fraction of live honest nodes leaving per minute */
	uint64_t rtt_min_ns, rtt_max_ns;
	uint64_t dial_fail_ns;
	double attacker_share;	  /* of all addresses, in [0, 0.9] */
	uint32_t attacker_groups; /* /16s the attacker's addresses are in */
	uint32_t attacker_dials;  /* sessions each attacker node keeps to honest nodes */
	uint64_t attacker_spam_ns;
	uint64_t attacker_start_ns; /* the attacker's nodes come up then (within 2 s) */
	uint64_t sample_ns;	    /* convergence and eclipse sampled this often */
	uint64_t max_events;	    /* 0: no bound */
};

/* Defaults: 200 nodes, 4 seeds, 4 per /16, outbound 8, inbound 32, seeds 1000 inbound;
 * book_low 1000, 64 entries asked for; the book of cp_book_config_defaults() with 4 slots per
 * bucket and 128 bans (CometBFT's bucket counts and per-group shares, 256 x 4 new + 64 x 4
 * tried = 1,280 addresses, a sixteenth of the default: 10,000 books fit in about 2 GiB); join
 * window 60 s, 10 minutes, churn 1 %/min; RTT 10-200 ms, failed dials 5 s; no attacker (when
 * there is one: 16 /16s, up from the start, 8 dials, spam every 30 s); a sample every second. */
void sim_disc_config_defaults(struct sim_disc_config *c);

/* One sample of the run. */
struct sim_disc_sample {
	uint64_t t_ns;
	uint32_t live;	    /* live honest nodes */
	uint32_t at_target; /* of those, at their outbound target */
	uint32_t with_out;  /* of those, with at least one outbound peer */
	uint32_t eclipsed;  /* of those, with only attacker outbound peers */
};

struct sim_disc_metrics {
	/* population */
	uint32_t honest_live, attackers, joined, left;
	/* convergence */
	uint64_t t99_ns;      /* first sample at >= 99 % at target; UINT64_MAX: never */
	double at_target_end; /* fraction at target at the end */
	uint32_t reached;     /* honest nodes that ever reached their target */
	uint64_t to_target_p50_ns, to_target_p99_ns, to_target_max_ns; /* join -> target */
	/* graph of live honest nodes (sessions open at both ends) */
	uint32_t g_nodes, g_edges, g_components, g_largest;
	bool g_connected;
	uint32_t g_outside;	   /* nodes outside the largest component */
	uint64_t g_outside_age_ns; /* the longest any of those has been up */
	uint32_t g_diameter;	   /* of the largest component, exact (BFS from every node) */
	double g_mean_dist; /* mean shortest path over ordered pairs of the largest component */
	uint32_t indeg_max;
	double indeg_mean;
	uint32_t indeg_hist[SIM_DISC_INDEG_MAX + 1];
	uint32_t outdeg_min, outdeg_max;
	/* eclipse */
	uint32_t with_out, eclipsed;
	double eclipsed_frac;	   /* eclipsed / with_out */
	double attacker_out_frac;  /* attacker share of all outbound sessions of honest nodes */
	double book_attacker_frac; /* attacker share of all book entries of honest nodes */
	uint64_t attacker_book_entries, book_entries;
	/* activity (sums over honest nodes, those that left included) */
	uint64_t events, dials, dials_failed, sessions, messages, msg_bytes;
	uint64_t pex_unsolicited, pex_wrong_request, peers_bad, addrs_added, refused, evicted;
	uint64_t digest;
	bool truncated; /* stopped by max_events */
};

struct sim_disc;

/* NULL with errno EINVAL (a value out of range) or ENOMEM. */
struct sim_disc *sim_disc_create(const struct sim_disc_config *c);
void sim_disc_destroy(struct sim_disc *w);

/* Run to duration_ns (or max_events): 0, or -ENOMEM (the world is unusable then). */
int sim_disc_run(struct sim_disc *w);

/* The figures at the current time (the graph and the books are walked now). */
void sim_disc_metrics(struct sim_disc *w, struct sim_disc_metrics *m);

/* The samples so far (valid until the next run or destroy). */
const struct sim_disc_sample *sim_disc_samples(const struct sim_disc *w, uint32_t *n);

#endif /* SIM_DISC_H */
