/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: libFuzzer target — peer exchange: arbitrary control messages from a few peers into
 * one node's cp_pex, between requests of its own, answers and new sessions.
 *
 * The input is a sequence of records, each starting with an op byte:
 *     op & 0x03        the peer (one of 4)
 *     (op >> 2) & 0x03 0: a message from it follows: u8 len_hi, u8 len_lo, then len bytes
 *                      1: we ask it (cp_pex_getaddr)
 *                      2: we answer it if an answer is due (a small book of our own)
 *                      3: a new session with it (outbound if op & 0x10)
 *     op >> 5          the clock moves on by that many quarter intervals first
 * The real-time clock is fixed; peers advertise SL_CAP_PEX.
 *
 * Built only with -Dfuzz=true under clang. Invariants checked after every message: exactly one
 * verdict counted; every entry received is accepted or rejected under one reason; the action
 * is DISCONNECT_BAD exactly when the peer is bad, and a bad peer stays bad for its session;
 * every accepted entry obeys the rules (port, class, not ours, no duplicate, last_seen within
 * skew and age); what we send is as long as the message says.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cp_pex.h"
#include "fuzz.h"
#include "sl_wire.h"

#define PEERS	4
#define WALL_S	1700000000ull
#define SELF_IP 0xc6120001u /* 198.18.0.1 */

#define check fuzz_check

static void
node(struct cp_pex *px)
{
	struct cp_pex_config cfg;

	cp_pex_config_defaults(&cfg);
	cfg.classes |= CP_PEX_CLASS(CP_ADDR_BENCHMARK);
	cfg.has_self_id = true;
	memset(cfg.self_id, 0xaa, SL_KEY_LEN);
	cfg.n_self = 1;
	cfg.self[0].ip = SELF_IP;
	cfg.self[0].port = 4790;
	check(cp_pex_init(px, &cfg) == 0, "config");
}

static uint64_t
sum(const uint64_t *v, unsigned int n)
{
	uint64_t t = 0;

	for (unsigned int i = 0; i < n; i++)
		t += v[i];
	return t;
}

/* The entries the node took obey its rules. */
static void
check_taken(const struct cp_pex *px, const struct cp_pex_result *r)
{
	const struct cp_pex_config *cfg = &px->cfg;

	check(r->n <= r->claimed && r->n <= SL_PEX_MAX_ADDRS, "taken <= claimed");
	for (unsigned int i = 0; i < r->n; i++) {
		const struct cp_addr *a = &r->addrs[i];

		check(a->port != 0, "port");
		check(cfg->classes & CP_PEX_CLASS(cp_addr_classify(a->ip)), "class");
		check(!(a->ip == SELF_IP && a->port == 4790), "our address");
		check(!(a->flags & CP_ADDR_F_HAS_ID) || memcmp(a->id, cfg->self_id, SL_KEY_LEN),
		      "our id");
		check(a->last_seen != 0 && a->last_seen <= WALL_S + cfg->max_skew_s &&
			      a->last_seen >= WALL_S - cfg->max_age_s,
		      "last_seen");
		for (unsigned int k = 0; k < i; k++)
			check(r->addrs[k].ip != a->ip || r->addrs[k].port != a->port, "duplicate");
	}
}

static void
receive(struct cp_pex *px, struct cp_pex_peer *p, const uint8_t *msg, size_t len, uint64_t now)
{
	uint64_t before = sum(px->st.msgs, CP_PEX_VERDICT_COUNT);
	bool was_bad = p->bad;
	struct cp_pex_result r;
	enum cp_pex_verdict v;

	v = cp_pex_receive(px, p, msg, len, now, WALL_S * 1000000000ull, &r);
	check(v == r.verdict && (unsigned int)v < CP_PEX_VERDICT_COUNT, "verdict");
	check(sum(px->st.msgs, CP_PEX_VERDICT_COUNT) == before + 1, "one verdict per message");
	check(px->st.entries_received ==
		      px->st.entries_accepted + sum(px->st.rejected, CP_PEX_REJECT_COUNT),
	      "entries add up");
	check((r.action == CP_PEX_ACT_DISCONNECT_BAD) == p->bad, "bad <=> disconnect");
	check(!was_bad || p->bad, "bad stays bad");
	check(v == CP_PEX_ADDR || r.n == 0, "entries only from an answer");
	check_taken(px, &r);
}

static void
answer(struct cp_pex *px, struct cp_pex_peer *p)
{
	static const struct cp_addr book[3] = {
		{ .ip = 0xc6120102u, .port = 1, .last_seen = WALL_S },
		{ .ip = 0x08080808u, .port = 2, .last_seen = WALL_S, .flags = CP_ADDR_F_HAS_ID },
		{ .ip = 0xc6130000u, .port = 3 },
	};
	uint8_t buf[SL_CONTROL_MSG_MAX];
	bool due = p->answer_due;
	int n = cp_pex_addr_answer(px, p, book, 3, buf, sizeof(buf));

	check(due ? n >= (int)SL_CTL_ADDR_LEN(0) : n == -ENOENT, "answer when due");
	if (n > 0)
		check((size_t)n == ((size_t)buf[2] << 8 | buf[3]), "answer length");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cp_pex_peer peers[PEERS];
	uint8_t buf[SL_CTL_GETADDR_LEN];
	struct cp_pex px;
	uint64_t now = 1000000000ull;
	size_t off = 0;

	node(&px);
	for (unsigned int i = 0; i < PEERS; i++)
		cp_pex_peer_init(&peers[i], i & 1, SL_CAP_PEX, now);
	while (off < size) {
		uint8_t op = data[off++];
		struct cp_pex_peer *p = &peers[op & 0x03];
		size_t len;

		now += (uint64_t)(op >> 5) * (px.cfg.interval_ns / 4);
		switch ((op >> 2) & 0x03) {
		case 0:
			if (off + 2 > size)
				return 0;
			len = (size_t)data[off] << 8 | data[off + 1];
			off += 2;
			len = len < size - off ? len : size - off;
			receive(&px, p, data + off, len, now);
			off += len;
			break;
		case 1:
			(void)!cp_pex_getaddr(&px, p, now, buf, sizeof(buf));
			break;
		case 2:
			answer(&px, p);
			break;
		default:
			cp_pex_peer_init(p, op & 0x10, SL_CAP_PEX, now);
		}
	}
	return 0;
}
