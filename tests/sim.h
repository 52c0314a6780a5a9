/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: a deterministic discrete-event network simulator for the reliable engine's tests.
 *
 * Time is virtual (uint64 nanoseconds, starting at 0) and advances only from event to event;
 * nothing here reads a clock. Every random decision comes from a seeded PRNG (xoshiro256**,
 * seeded through splitmix64), and events due at the same instant run in the order they were
 * scheduled, so a run is a pure function of its seed and its configuration.
 *
 * A link carries packets one way. Its model, in the order a packet meets it:
 *   1. queue      drop-tail, queue_limit packets (the one being serialized included); a packet
 *                 offered to a full queue is a queue drop.
 *   2. serializer packets leave one after another at bandwidth_bps; a packet occupies the
 *                 serializer for wire_bytes * 8 / bandwidth, with the sub-nanosecond remainder
 *                 carried to the next packet of a back-to-back burst, so the long-run rate is
 *                 exact. Wire bytes = frame bytes + SL_DATA_OVERHEAD (sluice header + AEAD tag)
 *                 + SL_IPV4_UDP_OVERHEAD + SIM_ETH_OVERHEAD (Ethernet header): what a 1500-MTU
 *                 Ethernet link really carries per sluice packet (preamble and FCS left out).
 *   3. the wire   at the moment the packet leaves the serializer ("departure"):
 *                 - black hole: departing inside a black-hole window, it is lost;
 *                 - random loss, bursty: a burst starts with probability p; it loses this
 *                   packet and the next k-1 departing ones, k uniform in 1..max_burst (mean
 *                   B = (1+max_burst)/2); the packet after a burst is never lost at random, so
 *                   no run of losses is longer than max_burst. p = loss / (B (1 - loss)) makes
 *                   the long-run fraction of departing packets lost equal `loss` (which can
 *                   reach B / (B + 1) this way; loss = 1 loses everything);
 *                 - corruption: with probability `corrupt`, one bit of the copy is flipped and
 *                   the receiver drops the packet as its AEAD would (tag failure): counted as
 *                   corrupted on arrival, never handed to the receiver;
 *                 - reordering: with probability `reorder`, extra delay uniform in
 *                   (0, reorder_delay_ns], so packets behind it overtake it;
 *                 - duplication: with probability `duplicate`, a second copy arrives
 *                   uniform (0, dup_delay_ns] after the first (it takes no bandwidth: the
 *                   network duplicated it past the bottleneck).
 *   4. propagation: arrival = departure + delay_ns (+ reordering delay).
 * A link cut (sim_link_cut) is a black hole from a time on, for a vanishing peer.
 */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_ETH_OVERHEAD 14 /* Ethernet II header */
#define SIM_NS_PER_SEC	 1000000000ull
#define SIM_MS		 1000000ull
#define SIM_US		 1000ull

/* --- PRNG: xoshiro256**, seeded through splitmix64 ---------------------------------------- */

struct sim_rng {
	uint64_t s[4];
};

/* One splitmix64 step: a good 64-bit mix of a counter, usable to derive seeds. */
uint64_t sim_mix64(uint64_t *state);
void sim_rng_seed(struct sim_rng *r, uint64_t seed);
uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform in [0, n); 0 when n is 0. */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n);
/* Uniform in [0, 1). */
double sim_rng_unit(struct sim_rng *r);
/* True with probability p (false for p <= 0, true for p >= 1). */
bool sim_rng_chance(struct sim_rng *r, double p);

/* --- the event loop ----------------------------------------------------------------------- */

struct sim;

/* An event: fn(arg, data, tag) at its time. If data is not NULL the event owns it (malloc'd):
 * fn takes it over, or sim_destroy() frees it if the event never ran. */
typedef void sim_fn(void *arg, void *data, uint64_t tag);

/* NULL on ENOMEM. The seed drives every random decision of the links made from this sim. */
struct sim *sim_create(uint64_t seed);
/* Frees the links and every pending event's data. */
void sim_destroy(struct sim *s);

uint64_t sim_now(const struct sim *s);
uint64_t sim_seed(const struct sim *s);
/* Events run so far. */
uint64_t sim_events(const struct sim *s);
/* sim_run() gives up (SIM_STUCK) once this many events have run in all: a bound on wall time
 * whatever the code under test does (default 400 million). */
void sim_set_event_limit(struct sim *s, uint64_t max_events);

/* Schedule fn at at_ns (>= now; an earlier time is taken as now). Returns 0 or -ENOMEM (data is
 * then not taken over). */
int sim_at(struct sim *s, uint64_t at_ns, sim_fn *fn, void *arg, void *data, uint64_t tag);

enum sim_result {
	SIM_DONE,     /* done() said so */
	SIM_IDLE,     /* no event left */
	SIM_DEADLINE, /* the next event lies beyond the deadline */
	SIM_STUCK,    /* too many events at one instant, or in all: time does not advance */
};

/* Run events in time order until done(arg) (checked after each event; may be NULL), the
 * queue is empty, or the next event is due after deadline_ns. */
enum sim_result sim_run(struct sim *s, uint64_t deadline_ns, bool (*done)(void *arg), void *arg);
const char *sim_result_name(enum sim_result r);

/* --- links -------------------------------------------------------------------------------- */

struct sim_link_config {
	uint64_t bandwidth_bps; /* 0: infinite (no serialization delay, no queueing) */
	uint64_t delay_ns;	/* one-way propagation delay */
	uint32_t queue_limit;	/* packets held, the one being serialized included; 0: no limit */
	double loss;		/* long-run fraction of departing packets lost at random */
	uint32_t max_burst;	/* random losses come in bursts of 1..max_burst (0 or 1: single) */
	double reorder;		/* probability of extra delay */
	uint64_t reorder_delay_ns; /* extra delay uniform in (0, reorder_delay_ns] */
	double duplicate;	   /* probability of a second copy */
	uint64_t dup_delay_ns; /* the copy arrives uniform (0, dup_delay_ns] later (0: 100 us) */
	double corrupt;	       /* probability that a packet is corrupted (and dropped on arrival) */
	/* black holes: [start + k * every, start + k * every + len) for k = 0, 1, ...; every 0:
	 * only k = 0; len 0: none */
	uint64_t black_hole_start_ns, black_hole_every_ns, black_hole_len_ns;
};

struct sim_link_stats {
	uint64_t offered, bytes_offered;     /* packets and frame bytes given to the link */
	uint64_t queue_drops;		     /* queue full */
	uint64_t wire_bytes;		     /* bytes serialized (wire size, queued packets) */
	uint64_t lost;			     /* random (bursty) loss */
	uint64_t black_holed;		     /* departed inside a black hole or after a cut */
	uint64_t corrupted;		     /* arrived corrupted, dropped as an AEAD failure */
	uint64_t duplicated;		     /* extra copies made */
	uint64_t reordered;		     /* packets given extra delay */
	uint64_t delivered, bytes_delivered; /* copies handed to the receiver, frame bytes */
	uint64_t max_burst_seen;	     /* longest run of consecutive random losses */
};

/* A packet on its way. Valid only during the deliver callback. */
struct sim_pkt {
	uint64_t pn;
	uint32_t len;
	bool corrupt;
	uint8_t data[];
};

typedef void sim_deliver_fn(void *arg, const struct sim_pkt *pkt);

/* A link owned by the sim (freed by sim_destroy). deliver(arg, pkt) runs at each intact
 * arrival. NULL on ENOMEM or EINVAL (probabilities outside [0, 1]). */
struct sim_link *sim_link_create(struct sim *s, const struct sim_link_config *cfg,
				 sim_deliver_fn *deliver, void *arg);

/* Offer a packet now (the bytes are copied). Returns 0, or -ENOMEM. A queue drop or a loss is
 * not an error: it only shows in the counters. */
int sim_link_send(struct sim_link *l, uint64_t pn, const void *data, uint32_t len);

/* From from_ns on, every packet departing is lost (black_holed). */
void sim_link_cut(struct sim_link *l, uint64_t from_ns);

/* Would a packet departing at t fall into a black hole or after the cut? */
bool sim_link_in_black_hole(const struct sim_link *l, uint64_t t);

const struct sim_link_stats *sim_link_stats(const struct sim_link *l);
const struct sim_link_config *sim_link_config(const struct sim_link *l);

/* Wire size of a packet of `frame_bytes`, and its serialization time in ns at bandwidth_bps
 * (rounded down; the link carries the remainder). */
uint32_t sim_wire_bytes(uint32_t frame_bytes);
uint64_t sim_serialization_ns(uint32_t frame_bytes, uint64_t bandwidth_bps);

/* One-line summary of a link's counters, for reports. */
void sim_link_print(const struct sim_link *l, const char *name);

#endif /* SIM_H */
