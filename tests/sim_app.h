/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: reliable-engine endpoints on simulated links (sim.h), and a verifying application.
 *
 * An endpoint wraps one struct dp_conn and drives it the way a dataplane lcore does: whenever
 * it runs (its wakeup is due, a packet arrived, or the application has something due) it
 * ticks the engine if dp_conn_next_wakeup() has passed, lets the application poll events,
 * receive and send, then calls dp_conn_output() until it returns 0 and puts every packet on
 * its outgoing link (bytes copied, the packet number travelling with them; nothing is
 * encrypted: a corrupted packet is dropped by the link as the AEAD would drop it). Its next
 * run is scheduled at the earlier of the engine's wakeup and the application's next due time.
 * Arrivals go to dp_conn_input() with the packet's number.
 *
 * Traffic is one direction of application messages, tx endpoint to rx endpoint, in streams
 * (one per channel). Message i of a channel has a length and content derived from (seed,
 * channel, i) alone, so the receiver checks every byte without a stored copy. The sender
 * submits message i at start + i * gap, or as soon as the channel takes it again after
 * -ENOBUFS (it waits for DP_EV_WRITABLE). The receiver, unless paused, takes every delivered
 * message, checks channel, id, length and bytes, exactly-once and per-channel order, and
 * releases it. Expiry events are checked against what was sent. Every message ends up
 * delivered or expired, never both, never twice; sim_traffic_verify() counts the rest.
 */
#ifndef SIM_APP_H
#define SIM_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_conn.h"
#include "sim.h"

/* --- endpoints ---------------------------------------------------------------------------- */

struct sim_ep;
struct sim_traffic;

struct sim_ep_stats {
	uint64_t runs, ticks, pkts_out, pkts_in;
	uint64_t input_errors; /* dp_conn_input() returned non-zero */
	int last_input_error;
	uint64_t pn_reused;	 /* a packet number not above the previous one */
	uint64_t output_runaway; /* one run produced an absurd number of packets */
	uint64_t events[DP_EV_CLOSED + 1];
	uint64_t unresponsive_at; /* first DP_EV_UNRESPONSIVE; UINT64_MAX: none */
	uint64_t closed_at;	  /* first DP_EV_CLOSED; UINT64_MAX: none */
	uint16_t close_reason;
	bool closed_by_peer;
	size_t max_memory;	/* largest dp_conn_memory() seen after a run */
	uint64_t max_memory_at; /* when */
};

/* NULL with errno set (the engine's EINVAL / ENOMEM). The config must outlive the endpoint. */
struct sim_ep *sim_ep_create(struct sim *s, const char *name, const struct dp_conn_config *cfg);
void sim_ep_destroy(struct sim_ep *ep);

/* Links a -> b (ab) and b -> a (ba), created on a's sim. Returns 0 or -errno. */
int sim_ep_connect(struct sim_ep *a, struct sim_ep *b, const struct sim_link_config *ab,
		   const struct sim_link_config *ba);

/* Run the endpoint now (also its first run: call it once at time 0). */
void sim_ep_run(struct sim_ep *ep);

/* The receiving application stops taking delivered messages (paused) or starts again (and
 * the endpoint runs at once). */
void sim_ep_pause(struct sim_ep *ep, bool paused);

/* The endpoint vanishes now: it never runs, ticks, sends or takes a packet again, and its
 * outgoing link loses everything leaving from now on. */
void sim_ep_vanish(struct sim_ep *ep);

struct dp_conn *sim_ep_conn(const struct sim_ep *ep);
struct sim_link *sim_ep_link(const struct sim_ep *ep); /* outgoing */
struct sim *sim_ep_sim(const struct sim_ep *ep);
const struct sim_ep_stats *sim_ep_stats(const struct sim_ep *ep);
const char *sim_ep_name(const struct sim_ep *ep);

/* --- traffic ------------------------------------------------------------------------------ */

struct sim_stream_config {
	uint8_t chan;
	uint32_t n_msgs;
	uint32_t min_len, max_len; /* message length uniform in [min_len, max_len] */
	uint64_t start_ns, gap_ns; /* message i is due at start_ns + i * gap_ns */
	uint64_t ttl_ns;	   /* passed to dp_conn_send (0: the channel's default) ... */
	uint32_t ttl_every;	   /* ... for messages i with i % ttl_every == 0 (0: all) */
};

enum sim_msg_state {
	SIM_MSG_UNSENT = 0,
	SIM_MSG_QUEUED, /* accepted by dp_conn_send */
	SIM_MSG_DELIVERED,
	SIM_MSG_EXPIRED,
	SIM_MSG_REFUSED, /* dp_conn_send failed with something else than -ENOBUFS */
};

struct sim_msg {
	uint64_t sent_at, done_at; /* accepted; delivered or reported expired */
	uint64_t id;
	uint64_t ttl_ns; /* effective: given or the channel's default */
	uint32_t len;
	uint8_t state; /* enum sim_msg_state */
	bool skipped;  /* a later id was delivered first: it must end up expired */
};

/* Violations, each a counter that must stay 0 (missing: only after sim_traffic_verify). */
struct sim_traffic_errors {
	uint64_t duplicate;    /* delivered twice */
	uint64_t out_of_order; /* a reliable channel delivered an id not above the last one */
	uint64_t bad_length, bad_bytes;
	uint64_t unknown;	    /* delivered on no stream's channel, or an id never sent */
	uint64_t bad_expiry;	    /* expired after delivery, twice, early, without TTL, unknown */
	uint64_t expired_delivered; /* delivered after it was reported expired */
	uint64_t id_gap;	    /* dp_conn_send ids not consecutive on a channel */
	uint64_t refused;	    /* dp_conn_send failed (not -ENOBUFS) */
	uint64_t missing;	    /* neither delivered nor expired at the end */
	uint64_t skipped_not_expired; /* jumped over by delivery but never expired */
};

struct sim_traffic_stats {
	uint64_t msgs, sent, delivered, expired, bytes_delivered;
	uint64_t enobufs, writable;
	uint64_t first_sent_at, last_done_at; /* UINT64_MAX / 0 until known */
};

/* Streams (up to SL_MAX_CHANNELS, one per channel) from tx to rx. The endpoints then act as
 * sender and receiver of it. NULL on ENOMEM or EINVAL. */
struct sim_traffic *sim_traffic_create(struct sim_ep *tx, struct sim_ep *rx, uint64_t seed,
				       const struct sim_stream_config *streams,
				       unsigned int n_streams);
void sim_traffic_destroy(struct sim_traffic *t);

/* Every message delivered or expired (or refused). For sim_run()'s done(). */
bool sim_traffic_done(void *traffic);

/* Count missing and skipped-but-not-expired messages (when complete is true), and return
 * the sum of all violations. */
uint64_t sim_traffic_verify(struct sim_traffic *t, bool complete);

const struct sim_traffic_errors *sim_traffic_errors(const struct sim_traffic *t);
const struct sim_traffic_stats *sim_traffic_stats(const struct sim_traffic *t);
const struct sim_msg *sim_traffic_msg(const struct sim_traffic *t, unsigned int stream, uint32_t i);

/* Application bytes delivered per second, over the time from the first message accepted to
 * the last delivery, as a fraction of bandwidth_bps. */
double sim_traffic_goodput(const struct sim_traffic *t, uint64_t bandwidth_bps);

/* Largest and mean delivery latency (done_at - sent_at) of a stream's delivered messages. */
uint64_t sim_traffic_max_latency(const struct sim_traffic *t, unsigned int stream, uint64_t *mean);

void sim_traffic_print(const struct sim_traffic *t);

/* The length and content of message i of channel chan, as the sender makes them. */
uint32_t sim_msg_length(uint64_t seed, uint8_t chan, uint64_t i, uint32_t min_len,
			uint32_t max_len);
void sim_msg_fill(uint64_t seed, uint8_t chan, uint64_t i, uint8_t *buf, uint32_t len);
bool sim_msg_check(uint64_t seed, uint8_t chan, uint64_t i, const uint8_t *buf, uint32_t len);

/* Internal hooks between endpoints and traffic (not for tests). sim_traffic_create attaches
 * the traffic to its endpoints; the endpoint calls the others; submit returns true if it sent
 * anything and lowers *next_due to when the next message is due. */
void sim_ep_attach(struct sim_ep *tx, struct sim_ep *rx, struct sim_traffic *t);
const struct dp_conn_config *sim_ep_config(const struct sim_ep *ep);
bool sim_traffic_submit(struct sim_traffic *t, uint64_t now, uint64_t *next_due);
void sim_traffic_on_msg(struct sim_traffic *t, const struct dp_msg *m, uint64_t now);
void sim_traffic_on_event(struct sim_traffic *t, const struct dp_conn_event *ev, uint64_t now);

#endif /* SIM_APP_H */
