/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tests: the world test_ctl and fuzz_handshake run in — cp_ctl instances joined by an
 * in-memory network (messages delivered in order at the next step) and a model of the
 * dataplane (session slots holding the keypairs the control posts; a close reaches the peer's
 * matching session), in virtual time, one millisecond per step. What is sent to an address no
 * node has is captured for the test, which plays the parties outside the world (struct dialer).
 * The model checks what the control asks of it with CUnit assertions: run it inside a test.
 */
#ifndef CTL_WORLD_H
#define CTL_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "cp_control.h"
#include "cp_ctl.h"
#include "cp_relay.h"
#include "dp_keypair.h"

#define MS     1000000ull
#define SEC    1000000000ull
#define WALL0  1700000000000000000ull
#define MAXN   4
#define LCORES 2
#define SLOTS  8
#define NET_ID 0x5eed5eed5eed5eedull

struct mslot {
	bool open;
	bool closing;
	uint16_t peer;
	uint16_t close_reason;
	unsigned int n_kp;
	struct dp_keypair *kp[8]; /* the latest keys of its session: older ones are dropped */
	/* control messages queued on the session (its engine's channel 0), carried to the
	 * peer's matching session once it is open */
	unsigned int n_out;
	struct dp_cmd out[16];
};

struct hnode {
	struct cp_ctl *ctl;
	struct cp_ctl_config cfg;
	uint8_t priv[SL_KEY_LEN], pub[SL_KEY_LEN];
	uint32_t ip;
	unsigned int n_peers;
	struct conf_peer peers[MAXN];
	struct mslot slots[LCORES][SLOTS];
	struct {
		struct dp_evt ev;
		unsigned int lcore;
	} evq[64];
	unsigned int n_evq;
	bool offline;	  /* everything sent to it is lost */
	uint32_t backlog; /* handshakes "queued" (admission under load) */
	unsigned int notes[CP_NOTE_COUNT];
	struct cp_note last_fail;
	char last_fail_reason[48];
	struct cp_note last_conn; /* the last CONNECTED note (pointers not kept) */
	uint8_t last_conn_pub[SL_KEY_LEN];
	struct cp_hs_addr last_conn_addrs[SL_HS_MAX_ADDRS];
	char last_disc_reason[48];
	uint64_t fail_at[16], fail_retry[16];
	unsigned int n_fail;
	unsigned int closes[SL_CLOSE_REASON_COUNT];
	/* the control channel: sends the model dataplane carried to the peer's session (and
	 * the last one's bytes), sends it found no session for, messages ops.control got */
	unsigned int ctl_cmds, ctl_cmd_stale;
	struct dp_cmd last_ctl_cmd; /* msg: NULL (freed); the bytes are in last_ctl_bytes */
	uint8_t last_ctl_bytes[SL_CONTROL_MSG_MAX];
	bool refuse_control; /* ops.command refuses DP_CMD_CONTROL_SEND (a full ring) */
	unsigned int n_ctl_rx;
	uint8_t ctl_rx_pub[SL_KEY_LEN];
	uint8_t ctl_rx[SL_CONTROL_MSG_MAX];
	size_t ctl_rx_len;
	/* control messages: when greet is set, cp_control gets the notes and messages */
	bool greet;
	struct cp_control cc;
	/* relaying (test_ctl_relay): when set, it gets the notes, the relay control messages and
	 * a tick every step; the forwarding table's commands are counted */
	struct cp_relay *relay;
	unsigned int relay_set, relay_clear;
	struct dp_cmd last_relay_set;
};

/* Messages on the wire, delivered in order at the next pump step. */
struct wmsg {
	int to; /* node index, or -1: captured for the test (an address no node has) */
	struct cp_endpoint from;
	uint32_t to_ip; /* the address it was sent to */
	size_t len;
	uint8_t buf[256];
};

/* A handshake party outside the world: its own handshake context, a pending handshake, and an
 * endpoint where no node is (what is sent to it is captured). */
struct dialer {
	struct cp_hs_ctx *ctx;
	struct cp_hs_pending *p;
	uint8_t pub[SL_KEY_LEN];
	struct cp_endpoint ep;
};

struct find {
	const uint8_t *pub;
	struct cp_node_info info;
	bool found;
	unsigned int count;
};

extern struct hnode nodes[MAXN];
extern uint64_t now;
extern struct wmsg wire[512];
extern unsigned int n_wire;
extern struct wmsg captured[16];
extern unsigned int n_captured;
extern const struct cp_ctl_ops world_ops;

const struct dp_key_limits *limits(void);
/* Queue an event for h's control (delivered at the next step). A DP_EVT_CONTROL's msg becomes
 * the world's (freed once delivered, or when the node goes). */
void push_event(struct hnode *h, unsigned int lcore, const struct dp_evt *ev);
struct dp_keypair *latest(const struct mslot *s);
void close_slot(struct hnode *h, unsigned int lcore, uint32_t slot, uint16_t reason, bool by_peer);
void add_peer(unsigned int i, unsigned int j);
void node_start(unsigned int i, void (*tweak)(struct cp_ctl_config *));
void node_crash(unsigned int i);
/* A new world of n nodes with new keys (nodes[0] < nodes[1] < ...); world_restart(): the same
 * with the keys of the last one (no Diffie-Hellman key generation, for a fuzz target). */
void world_reset(unsigned int n);
void world_restart(void);
void world_end(void);
void step(void);
void run_for(uint64_t ns);
/* run_for(), skipping at once the milliseconds in which nothing happens (no message on the
 * wire, no event or control message waiting, no timer due): the same world, in less work. */
void leap_for(uint64_t ns);
/* priv: its static key, or NULL for a new one; network: its network id (NET_ID: the world's). */
void dialer_init(struct dialer *d, const uint8_t *priv, uint64_t network);
void dialer_fini(struct dialer *d);
int find_cb(void *arg, const struct cp_node_info *info);
struct find view(unsigned int i, unsigned int j);
bool seal_open(struct dp_keypair *a, struct dp_keypair *b);
bool connected(unsigned int i, unsigned int j);
unsigned int open_slots(const struct hnode *h);
const struct cp_ctl_stats *stats(unsigned int i);

#endif /* CTL_WORLD_H */
