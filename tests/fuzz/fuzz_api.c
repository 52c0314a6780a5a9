/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: libFuzzer target — the application interface's shared memory, as the dataplane reads
 * it: descriptors on an application's tx ring, its ring indices, rx_released and its sleep flag
 * (dataplane/dp_api.c, dp_api_rx.c; the contract: api/sl_api.h), next to the messages sessions
 * deliver into the applications' rx arenas.
 *
 * The world (fuzz_api.h): one lcore that owns up to 4 sessions, each talking to its peer's
 * engine over a perfect wire; two applications on the lcore's lane — ALICE (slot 0) keeps the
 * contract as libsluice does and serves channels 1 (reliable) and 2 (datagram); MALLORY (slot 1)
 * does anything, on channel 3 or any channel she registers. Limits are small (messages of
 * 4 KiB, channel queues of 16 KiB, rings of 64 descriptors, arenas of 64 KiB) so that credit,
 * holding, full rings and the notification backlog are reached. Time is virtual.
 *
 * At the start ALICE is attached and serves her channels, and a session is open in slot 0. The
 * input is a sequence of records (at most MAX_RECORDS):
 *     u8 op, u8 arg, u8 len, then len bytes
 * op >> 4: milliseconds that pass first; then one polling round of the lcore follows the record.
 * (op & 0x0f) % 11:
 *   0 ALICE sends on slot arg & 3's session, channel arg & 4 ? 2 : 1, the bytes' first two
 *     (little-endian) as its length (16..4096; datagrams up to 900); a WANT instead when that
 *     is beyond her credit
 *   1 ALICE releases the messages she holds whose bit is set in the bytes (arg & 1: all)
 *   2 ALICE posts a WANT for slot arg & 3, channel arg & 4 ? 2 : 1
 *   3 ALICE detaches, or attaches again and registers her channels
 *   4 MALLORY posts a descriptor: a SEND of slot arg & 3's session on channel 3 with the bytes
 *     written over it (up to 64); arg & 4: into the ring's next slot and published, whatever
 *     the lcore took (else through the ring, if it has room)
 *   5 MALLORY writes a shared word (arg & 7): 0 her tx ring's head, 1 her rx ring's tail,
 *     2 rx_released, 3 her sleep flag (the value: the bytes' first eight, little-endian),
 *     4 the indices the lcore writes (tx tail, rx head), 5 she reads her rx ring and releases
 *     all she read, 6-7 bytes into her tx arena (at the value's offset)
 *   6 MALLORY registers channel arg & 15 (arg & 0x10: unregisters), with the control
 *     thread's rules
 *   7 MALLORY attaches, or detaches
 *   8 the peer of slot arg & 3 sends on channel 1 + (arg >> 2 & 3) a message of the length
 *     the bytes say (as for 0); arg & 0x10: instead its application stops reading, or reads
 *     again (a stalled reader's window fills, and the session's messages stay unsent)
 *   9 slot arg & 3: a session opens, or the open one closes (arg & 4: by the peer; arg & 8:
 *     gracefully)
 *  10 (arg & 15) + 1 rounds, a millisecond apart
 * An application whose lane the lcore stopped (a protocol error) is detached, as the control
 * thread does.
 *
 * Invariants (abort() on violation): no crash, leak or sanitizer report — each shared memory is
 * a heap block of exactly its size, so the lcore reading or writing a byte outside it is one;
 * ALICE sees only descriptors the contract allows: of the lane's sessions she was told of, on
 * her channels, NODE_UP first and NODE_DOWN last, credit that never shrinks, SEND_FAILED only
 * for a session that ended, every message where the rx arena rules put it (sl_api.h) and byte
 * for byte what the peer sent, in order on her reliable channel and from its first message for
 * a session opened while she served it; a message she holds is never overwritten; after each
 * round every descriptor she posted was taken, each SEND either sent or refused for an ended
 * session, none over her credit, nothing counted against her (bad descriptors, sessions,
 * channels, protocol errors); what she sends reaches the peer intact and in order; an ended
 * session holds nothing for the applications; a departed application's lane is closed after
 * one round. At the end, if ALICE stayed attached throughout, she releases everything and the
 * world runs (at most FINAL_ROUNDS rounds, a millisecond apart) until every message of her
 * reliable channel has arrived both ways on every live session: none is lost or stuck
 * (held messages are woken when she makes room, whatever MALLORY does).
 *
 * Built only with -Dfuzz=true under clang (make fuzz). No EAL: dp_api needs none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include "fuzz.h"
#include "fuzz_api.h"

#define MAX_RECORDS  64
#define FINAL_ROUNDS 3000

enum {
	A_SEND,
	A_RELEASE,
	A_WANT,
	A_ATTACH,
	M_DESC,
	M_POKE,
	M_CHAN,
	M_ATTACH,
	PEER,
	SESSION,
	ROUNDS,
	KINDS
};

static bool alice_steady; /* attached all along: the end checks that nothing was lost */

/* ALICE attaches and serves her channels: true if she got both (MALLORY may have taken one
 * while she was away). */
static bool
alice_attach(void)
{
	int rel, dg;

	fa_app_attach(&alice);
	rel = fa_app_register(&alice, FA_ALICE_REL);
	dg = fa_app_register(&alice, FA_ALICE_DG);
	return rel == 0 && dg == 0;
}

/* A message length from the bytes: 16..max (100 without bytes). */
static uint32_t
length(const uint8_t *b, size_t n, uint32_t max)
{
	uint32_t v = n >= 2 ? (uint32_t)(b[0] | b[1] << 8) : 100;

	return sizeof(struct fa_msg) + v % (max - sizeof(struct fa_msg) + 1);
}

static uint32_t
max_len(uint8_t chan)
{
	return chan == FA_ALICE_DG ? FA_MAX_DGRAM : W.cfg->engine.max_message;
}

/* One round, and what follows it: departures that the round saw finish, ALICE checks and
 * reads, a broken lane's application is detached (it departs after the next round). */
static void
round_and_checks(void)
{
	fa_world_round();
	fa_app_after_round(&alice);
	fa_app_after_round(&mallory);
	fa_alice_check_counters();
	fa_alice_read();
	if (mallory.attached && dp_lcore_api_broken(W.rt, 0, mallory.idx))
		fa_app_detach(&mallory); /* as cp_api.c's check_lanes */
}

static void
toggle(struct fa_app *a)
{
	if (a->attached) {
		fa_app_detach(a);
		if (a == &alice)
			alice_steady = false;
	} else if (a == &alice) {
		(void)alice_attach();
	} else {
		fa_app_attach(a);
		(void)fa_app_register(a, FA_FREE_CHAN);
	}
}

static void
session(uint8_t arg)
{
	unsigned int slot = arg & 3;

	if (W.sess[slot].s == NULL)
		(void)fa_sess_open(slot);
	else
		fa_sess_close(slot, arg & 4, arg & 8);
}

static void
record(uint8_t op, uint8_t arg, const uint8_t *b, size_t n)
{
	uint8_t chan = arg & 4 ? FA_ALICE_DG : FA_ALICE_REL;

	switch ((op & 0x0f) % KINDS) {
	case A_SEND:
		fa_alice_send(arg & 3, chan, length(b, n, max_len(chan)));
		break;
	case A_RELEASE:
		fa_alice_release(b, n, arg & 1);
		break;
	case A_WANT:
		fa_alice_want(arg & 3, chan);
		break;
	case A_ATTACH:
		toggle(&alice);
		break;
	case M_DESC:
		fa_mallory_desc(arg & 3, b, n, arg & 4);
		break;
	case M_POKE:
		fa_mallory_poke(arg & 7, b, n);
		break;
	case M_CHAN:
		(void)(arg & 0x10 ? fa_app_unregister(&mallory, arg & 15)
				  : fa_app_register(&mallory, arg & 15));
		break;
	case M_ATTACH:
		toggle(&mallory);
		break;
	case PEER:
		chan = (uint8_t)(1 + ((arg >> 2) & 3));
		if (arg & 0x10)
			W.sess[arg & 3].peer_stalled = !W.sess[arg & 3].peer_stalled;
		else
			(void)fa_peer_send(arg & 3, chan, length(b, n, max_len(chan)));
		break;
	case SESSION:
		session(arg);
		break;
	default:
		for (unsigned int k = 0; k < (arg & 15u); k++) {
			fa_world_wait(FA_MS);
			round_and_checks();
		}
		fa_world_wait(FA_MS);
		break;
	}
}

/* Every peer reads again, ALICE makes room, and the world runs until every message of hers
 * arrived, both ways. */
static void
settle(void)
{
	unsigned int r;

	for (unsigned int i = 0; i < FA_SLOTS; i++)
		W.sess[i].peer_stalled = false;
	for (r = 0; r < FINAL_ROUNDS && !fa_alice_all_delivered(); r++) {
		fa_alice_release(NULL, 0, true);
		fa_world_wait(FA_MS);
		round_and_checks();
	}
	fuzz_check(fa_alice_all_delivered(), "every message of ALICE's reliable channel arrives, "
					     "both ways (none lost or stuck)");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	fa_world_start();
	fa_apps_start();
	fuzz_check(alice_attach(), "ALICE serves her channels");
	alice_steady = true;
	(void)fa_sess_open(0);
	round_and_checks();
	for (unsigned int i = 0; i < MAX_RECORDS && off + 3 <= size; i++) {
		const uint8_t *r = data + off;
		size_t n = RTE_MIN((size_t)r[2], size - off - 3);

		fa_world_wait((r[0] >> 4) * FA_MS);
		record(r[0], r[1], r + 3, n);
		round_and_checks();
		off += 3 + n;
	}
	if (alice_steady)
		settle();
	fa_world_stop();
	fa_alice_read(); /* the NODE_DOWNs of the sessions freed */
	for (unsigned int i = 0; i < FA_SLOTS && alice.attached; i++)
		fuzz_check(alice.told[i] == 0, "every session she heard of ended with NODE_DOWN");
	fa_apps_stop();
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* an application's lane stopping is a warning in the log: here it happens every input */
	rte_log_set_level_pattern("sluice.*", RTE_LOG_ERR);
	fa_world_init();
	fa_app_init(&alice, 0);
	fa_app_init(&mallory, 1);
	return 0;
}
