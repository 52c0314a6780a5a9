/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: what the parts of fuzz_api share — the dataplane around dp_api (fuzz_api_world.c: one
 * lcore, its sessions, their peers) and the two applications (fuzz_api_app.c: ALICE, who keeps
 * the contract of api/sl_api.h, and MALLORY, who does not). fuzz_api.c reads the input and
 * checks the invariants; its header comment is the reference.
 *
 * Messages carry their own description, so whoever receives one can check it byte by byte:
 * struct fa_msg, then the pattern fa_byte() of its sequence number and offset.
 */
#ifndef FUZZ_API_H
#define FUZZ_API_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "dp_lcore_pvt.h"
#include "sl_api.h"

#define FA_SLOTS     4	 /* session slots of the lcore (limits.max_sessions) */
#define FA_CHANS     5	 /* channels 0..4 (the configuration's) */
#define FA_ALICE_REL 1	 /* ALICE's reliable channel */
#define FA_ALICE_DG  2	 /* ALICE's datagram channel */
#define FA_FREE_CHAN 3	 /* MALLORY may register it */
#define FA_NOBODY    4	 /* nobody serves it, unless MALLORY registers it */
#define FA_MAX_DGRAM 900 /* largest datagram ALICE and the peers send (one packet) */
#define FA_MS	     1000000ull
#define FA_ROUND_NS  100000ull /* a polling round: the wire's latency */

#define FA_FROM_PEER  0x50454552u /* "PEER" */
#define FA_FROM_ALICE 0x414c4943u /* "ALIC" */

struct fa_msg {
	uint32_t magic; /* who wrote it */
	uint8_t slot, chan, pad[2];
	uint32_t seq; /* 1, 2, ... per session, channel and sender */
	uint32_t len; /* of the whole message */
};

/* Byte i of message seq (i >= sizeof(struct fa_msg)). */
static inline uint8_t
fa_byte(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131u + i * 7u + (i >> 8));
}

/* Write a message of len bytes (at least sizeof(struct fa_msg)) into buf. */
void fa_msg_write(uint8_t *buf, uint32_t magic, uint8_t slot, uint8_t chan, uint32_t seq,
		  uint32_t len);
/* Is buf[len] a message from `magic` on slot/chan, whole and intact? Its seq in *seq. */
bool fa_msg_ok(const uint8_t *buf, uint32_t len, uint32_t magic, uint8_t slot, uint8_t chan,
	       uint32_t *seq);

/* --- the dataplane (fuzz_api_world.c) --------------------------------------------------------- */

struct fa_sess {
	struct dp_session *s; /* NULL: the slot is empty */
	struct dp_conn *peer;
	uint8_t gen;		       /* of its connection ids */
	uint32_t peer_sent[FA_CHANS];  /* the peer's last message queued, per channel */
	uint32_t peer_got[FA_CHANS];   /* ALICE's last message the peer received */
	uint32_t alice_sent[FA_CHANS]; /* ALICE's last message posted for this session */
	uint32_t alice_gen;	       /* her attachment when it opened (0: none, or not serving) */
	bool peer_stalled;	       /* the peer's application reads nothing (its window fills) */
};

struct fa_world {
	struct conf *cfg;
	struct dp_runtime *rt;
	struct dp_lcore *lc;
	struct fa_sess sess[FA_SLOTS];
};

extern struct fa_world W;

/* Once: the configuration, the runtime's and the lcore's memory. */
void fa_world_init(void);
/* For each input: an empty lcore at 1 s; fa_world_stop() frees every session and lane. */
void fa_world_start(void);
void fa_world_stop(void);
/* One polling round of the lcore, as dp_lcore_main runs it: what the wire brings, the peers,
 * the applications' lanes, the sessions that have work, the end of the round; it takes
 * FA_ROUND_NS. */
void fa_world_round(void);
/* The clock moves on by ns. */
void fa_world_wait(uint64_t ns);
/* Open a session in slot (0, or -EEXIST); close one: by the peer or this side, gracefully or
 * not (its session ends when the engine says it closed). */
int fa_sess_open(unsigned int slot);
void fa_sess_close(unsigned int slot, bool by_peer, bool graceful);
/* The peer of slot's session queues a message on chan: 0, or the engine's -errno. */
int fa_peer_send(unsigned int slot, uint8_t chan, uint32_t len);
/* Is the session in slot live (its engine open: not draining, closing or closed), with
 * connection id conn? */
bool fa_sess_live(unsigned int slot, uint32_t conn);

/* --- the applications (fuzz_api_app.c) -------------------------------------------------------- */

struct fa_held {
	uint64_t pos;
	uint32_t len;
};

struct fa_app {
	unsigned int idx; /* its slot in dp_api */
	uint32_t gen;	  /* of its attachment */
	bool attached;	  /* LIVE in dp_api */
	bool leaving;	  /* GONE: freed after the lcore's next round */
	uint8_t *shm;	  /* exactly its size: ASan sees any byte outside */
	uint64_t size;
	struct sl_api_shm_hdr hdr;
	struct sl_ring tx, rx; /* lane 0: producer of tx, consumer of rx */
	uint8_t *tx_arena, *rx_arena;
	struct sl_api_shared_word *released, *sleeping;
	uint64_t tx_pos;
	int eventfd;
	/* ALICE's books */
	bool registered[FA_CHANS];
	uint32_t told[FA_SLOTS]; /* connection id of the session up in each slot, 0: none */
	bool strict[FA_SLOTS];	 /* that session opened while she served her channels: she gets
				    every message of her reliable channel from the first */
	uint64_t granted[FA_SLOTS][FA_CHANS], posted[FA_SLOTS][FA_CHANS];
	uint32_t seq_in[FA_SLOTS][FA_CHANS];
	uint64_t rx_next, rx_rel;
	struct fa_held *held; /* messages it still holds, in arrival order */
	unsigned int n_held;
	struct fa_posted { /* what she posted, by tx ring index (& 63) */
		uint8_t type, chan, slot;
		uint32_t len;
	} posted_log[64];
	uint32_t tx_taken; /* the tx ring's tail as the lcore last left it */
	struct dp_api_counters seen;
};

extern struct fa_app alice, mallory;

void fa_app_init(struct fa_app *a, unsigned int idx);
/* For each input: both detached, their memory freed (fa_apps_stop, after fa_world_stop). */
void fa_apps_start(void);
void fa_apps_stop(void);
void fa_app_attach(struct fa_app *a);
/* As the control thread: its channels released, GONE; freed after the next round. */
void fa_app_detach(struct fa_app *a);
/* After a round: finish detachments. */
void fa_app_after_round(struct fa_app *a);
/* A channel request, with the control thread's rules (cp_api_req.c). 0 or -errno. */
int fa_app_register(struct fa_app *a, uint8_t chan);
int fa_app_unregister(struct fa_app *a, uint8_t chan);

/* ALICE: read and check everything its rx ring holds; release the held messages whose bit is
 * set in mask (all: every one); post a SEND (a WANT when beyond its credit) or a WANT. */
void fa_alice_read(void);
void fa_alice_release(const uint8_t *mask, size_t n, bool all);
void fa_alice_send(unsigned int slot, uint8_t chan, uint32_t len);
void fa_alice_want(unsigned int slot, uint8_t chan);
/* Its counters moved only as its descriptors say (after each round). */
void fa_alice_check_counters(void);
/* Every message ALICE and the peers queued on ALICE's reliable channel of a live session has
 * arrived. */
bool fa_alice_all_delivered(void);

/* MALLORY: a descriptor (a SEND of slot's session on channel 3, overwritten by the bytes);
 * the shared words and indices. */
void fa_mallory_desc(unsigned int slot, const uint8_t *b, size_t n, bool raw);
void fa_mallory_poke(unsigned int what, const uint8_t *b, size_t n);

#endif /* FUZZ_API_H */
