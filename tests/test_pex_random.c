/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: peer exchange against random and mutated messages (cp_pex.h).
 *
 * Random bytes, valid messages with random entries, and both after random mutations (bit
 * flips, header bytes, truncation, extension, a header len made to fit): every one is counted
 * under exactly one verdict, and that verdict, the entries taken, each rejection's reason and
 * the points are those of a deliberately naive reference that reads the bytes at the offsets
 * of docs/protocol.md (8.1, 8.2). A second run keeps one node and a few peers for a long
 * random conversation and checks the invariants only. Seeded: a failure repeats.
 */
#include <string.h>

#include <rte_common.h>

#include "pex_msgs.h"
#include "sl_test.h"
#include "sl_wire.h"

#define ROUNDS	  50000
#define BUF	  8192
#define NOT_TAKEN (-1)

static uint64_t rng = 0x7065780a;

static unsigned int
rnd(unsigned int n)
{
	return (unsigned int)(sl_test_mix64(&rng) % n);
}

/* --- the reference -------------------------------------------------------------------------- */

/* What the peer looks like to the reference (on a node with PEX on, not a seed). */
struct ref_peer {
	bool outstanding; /* our request req_id for req_max entries waits for its answer */
	bool answered;	  /* we answered it a moment ago */
	uint32_t req_id;
	unsigned int req_max;
};

static enum cp_pex_verdict
ref_verdict(const uint8_t *b, size_t len, const struct ref_peer *p)
{
	unsigned int n;

	if (len < 8)
		return CP_PEX_MALFORMED;
	if (len > 4096)
		return CP_PEX_OVERSIZED;
	if (b[1] != 1 || (b[0] != 1 && b[0] != 2))
		return CP_PEX_UNKNOWN;
	if (get16(b + 2) != len || get32(b + 4) != 0)
		return CP_PEX_MALFORMED;
	if (b[0] == 1) {
		if (len != 16 || get16(b + 14) != 0 || get16(b + 12) < 1 || get16(b + 12) > 64)
			return CP_PEX_MALFORMED;
		return p->answered ? CP_PEX_GETADDR_REFUSED : CP_PEX_GETADDR;
	}
	if (len < 16 || get16(b + 14) != 0)
		return CP_PEX_MALFORMED;
	n = get16(b + 12);
	if (n > 64)
		return CP_PEX_OVERSIZED;
	if (len != 16 + 48 * n)
		return CP_PEX_MALFORMED;
	if (!p->outstanding)
		return CP_PEX_UNSOLICITED;
	if (get32(b + 8) != p->req_id)
		return CP_PEX_WRONG_REQUEST;
	return n > p->req_max ? CP_PEX_OVERSIZED : CP_PEX_ADDR;
}

static bool
all_bytes(const uint8_t *p, uint8_t v)
{
	for (int i = 0; i < 32; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* Entry e's reason, or NOT_TAKEN; taken[0..n) are the entries taken before it. */
static int
ref_reason(const uint8_t *e, const uint8_t *const *taken, unsigned int n)
{
	uint32_t ip = get32(e + 32), port = get16(e + 36);
	uint64_t seen = get64(e + 40);
	enum cp_addr_class c = cp_addr_classify(ip);

	if (e[38] > 1 || e[39] != 0 || (e[38] == 1) == all_bytes(e, 0))
		return CP_PEX_REJ_ENTRY_MALFORMED;
	if (port == 0)
		return CP_PEX_REJ_PORT;
	if (c != CP_ADDR_ROUTABLE && c != CP_ADDR_BENCHMARK)
		return CP_PEX_REJ_CLASS;
	if ((e[38] == 1 && all_bytes(e, SELF_ID)) || (ip == SELF_IP && port == SELF_PORT))
		return CP_PEX_REJ_SELF;
	for (unsigned int i = 0; i < n; i++)
		if (get32(taken[i] + 32) == ip && get16(taken[i] + 36) == port)
			return CP_PEX_REJ_DUPLICATE;
	if (seen > WALL_S + SL_PEX_MAX_SKEW_S)
		return CP_PEX_REJ_FUTURE;
	if (seen == 0 || seen < WALL_S - SL_PEX_MAX_AGE_S)
		return CP_PEX_REJ_STALE;
	return NOT_TAKEN;
}

/* Check the entries of an ADDR the node took: the same ones taken, the same reasons, the same
 * points. */
static void
check_entries(const uint8_t *b, const struct cp_pex *px, const struct cp_pex_result *r)
{
	const uint8_t *taken[SL_PEX_MAX_ADDRS];
	uint64_t why[CP_PEX_REJECT_COUNT] = { 0 };
	unsigned int n = 0, count = get16(b + 12);
	uint32_t pts;

	for (unsigned int i = 0; i < count; i++) {
		const uint8_t *e = b + 16 + 48 * i;
		int j = ref_reason(e, taken, n);

		if (j == NOT_TAKEN)
			taken[n++] = e;
		else
			why[j]++;
	}
	pts = why[CP_PEX_REJ_ENTRY_MALFORMED] + why[CP_PEX_REJ_PORT] + why[CP_PEX_REJ_CLASS] +
	      why[CP_PEX_REJ_DUPLICATE] + why[CP_PEX_REJ_FUTURE];
	pts += why[CP_PEX_REJ_SELF] > SL_HS_MAX_ADDRS ? why[CP_PEX_REJ_SELF] - SL_HS_MAX_ADDRS : 0;
	CU_ASSERT_EQUAL_FATAL(r->n, n);
	for (unsigned int i = 0; i < n; i++) {
		CU_ASSERT_EQUAL_FATAL(r->addrs[i].ip, get32(taken[i] + 32));
		CU_ASSERT_EQUAL_FATAL(r->addrs[i].port, get16(taken[i] + 36));
		CU_ASSERT_EQUAL_FATAL(r->addrs[i].last_seen, get64(taken[i] + 40));
	}
	for (unsigned int j = 0; j < CP_PEX_REJECT_COUNT; j++)
		CU_ASSERT_EQUAL_FATAL(px->st.rejected[j], why[j]);
	CU_ASSERT_EQUAL_FATAL(r->points, pts);
}

/* --- the generator -------------------------------------------------------------------------- */

static struct raw
random_entry(void)
{
	static const uint32_t ips[] = { 0,
					IP(8, 8, 8, 8),
					IP(10, 1, 1, 1),
					IP(127, 0, 0, 1),
					IP(198, 19, 255, 255),
					IP(224, 0, 0, 1),
					IP(240, 0, 0, 1),
					IP(255, 255, 255, 255),
					SELF_IP };
	struct raw e = good(rnd(100));

	switch (rnd(12)) {
	case 0:
		e.port = (uint16_t)rnd(2);
		break;
	case 1:
		e.ip = ips[rnd(RTE_DIM(ips))];
		break;
	case 2:
		e.id_byte = SELF_ID;
		break;
	case 3:
		e.ip = SELF_IP;
		e.port = SELF_PORT;
		break;
	case 4:
		e.last_seen = WALL_S + SL_PEX_MAX_SKEW_S - 1 + rnd(3);
		break;
	case 5:
		e.last_seen = WALL_S - SL_PEX_MAX_AGE_S - 1 + rnd(3);
		break;
	case 6:
		e.last_seen = rnd(2) ? 0 : sl_test_mix64(&rng);
		break;
	case 7:
		e.flags = (uint8_t)rnd(4);
		break;
	case 8:
		e.reserved = (uint8_t)rnd(2);
		break;
	case 9:
		e.id_byte = 0;
		e.flags = (uint8_t)rnd(2);
		break;
	case 10:
		e = good(rnd(3));
		break; /* likely a duplicate */
	default:
		break;
	}
	return e;
}

static size_t
random_bytes(uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)sl_test_mix64(&rng);
	return len;
}

/* A message worth sending: random bytes, a GETADDR, an ADDR (mostly for req_id), or a
 * header with random contents. */
static size_t
message(uint8_t *b, uint32_t req_id)
{
	struct raw e[70];
	unsigned int n = rnd(8) ? rnd(SL_PEX_MAX_ADDRS + 1) : rnd(RTE_DIM(e) + 1);
	size_t len;

	switch (rnd(6)) {
	case 0:
		return random_bytes(b, rnd(8) ? rnd(64) : rnd(BUF));
	case 1:
		return put_getaddr(b, (uint32_t)sl_test_mix64(&rng), (uint16_t)rnd(70));
	case 2:
		len = 8 + rnd(4200);
		random_bytes(b, len);
		put_hdr(b, (uint8_t)rnd(4), len);
		b[1] = rnd(8) ? 1 : (uint8_t)rnd(256);
		return len;
	default:
		for (unsigned int i = 0; i < n; i++)
			e[i] = random_entry();
		return put_addr(b, rnd(8) ? req_id : (uint32_t)sl_test_mix64(&rng), e, n);
	}
}

static size_t
mutate(uint8_t *b, size_t len)
{
	switch (rnd(6)) {
	case 0:
		if (len)
			b[rnd(len)] ^= (uint8_t)(1u << rnd(8));
		break;
	case 1:
		if (len)
			b[rnd(RTE_MIN(len, (size_t)16))] = (uint8_t)sl_test_mix64(&rng);
		break;
	case 2:
		len = rnd(len + 1);
		break;
	case 3: {
		size_t more = RTE_MIN((size_t)rnd(100), BUF - len);
		random_bytes(b + len, more);
		len += more;
		break;
	}
	default:
		if (len >= 4)
			put16(b + 2, (uint16_t)len);
		break;
	}
	return len;
}

/* --- the runs ------------------------------------------------------------------------------- */

static void
test_against_reference(void)
{
	static uint8_t b[BUF];
	uint64_t seen[CP_PEX_VERDICT_COUNT] = { 0 };

	for (unsigned int round = 0; round < ROUNDS; round++) {
		struct cp_pex_result r;
		struct cp_pex_peer p;
		struct cp_pex px;
		struct ref_peer ref;
		enum cp_pex_verdict v;
		size_t len;

		node(&px);
		px.cfg.max_addrs = rnd(4) ? SL_PEX_MAX_ADDRS : 1 + rnd(SL_PEX_MAX_ADDRS);
		ref = (struct ref_peer){ .outstanding = rnd(10) > 0,
					 .answered = rnd(10) == 0,
					 .req_id = asked(&px, &p, 0),
					 .req_max = px.cfg.max_addrs };
		p.outstanding = ref.outstanding;
		if (ref.answered) {
			p.answers = 1;
			p.answered_ns = 0;
		}
		len = message(b, ref.req_id);
		for (unsigned int k = rnd(4); k > 0; k--)
			len = mutate(b, len);
		v = cp_pex_receive(&px, &p, b, len, 0, WALL, &r);
		CU_ASSERT_EQUAL_FATAL(v, r.verdict);
		CU_ASSERT_EQUAL_FATAL(verdicts_total(&px.st), 1);
		CU_ASSERT_EQUAL_FATAL(px.st.msgs[v], 1);
		if (v != ref_verdict(b, len, &ref))
			printf("\n  round %u: %s, the reference says %s", round,
			       cp_pex_verdict_name(v),
			       cp_pex_verdict_name(ref_verdict(b, len, &ref)));
		CU_ASSERT_EQUAL_FATAL(v, ref_verdict(b, len, &ref));
		if (v == CP_PEX_ADDR)
			check_entries(b, &px, &r);
		check_entry_sums(&px.st);
		seen[v]++;
	}
	/* the generator reaches every verdict, each often */
	for (unsigned int v = 0; v < CP_PEX_VERDICT_COUNT; v++) {
		if (seen[v] <= ROUNDS / 500)
			printf("\n  %s: %lu times", cp_pex_verdict_name(v), (unsigned long)seen[v]);
		CU_ASSERT(seen[v] > ROUNDS / 500);
	}
}

#define PEERS 4

/* One node, a few peers, a long random conversation with time passing: one verdict per
 * message, entries add up, the action says DISCONNECT_BAD exactly when the peer is bad, and a
 * bad peer stays bad. */
static void
test_long_conversation(void)
{
	static uint8_t b[BUF];
	struct cp_pex_peer peers[PEERS];
	struct cp_pex px;
	uint64_t now = 0;

	node(&px);
	for (unsigned int i = 0; i < PEERS; i++)
		cp_pex_peer_init(&peers[i], i % 2, SL_CAP_PEX, 0);
	for (unsigned int round = 0; round < ROUNDS; round++) {
		struct cp_pex_peer *p = &peers[rnd(PEERS)];
		struct cp_pex_result r;
		enum cp_pex_verdict v;
		bool was_bad = p->bad;
		size_t len;

		now += rnd(4) ? rnd(1000) : INTERVAL / (1 + rnd(4));
		if (rnd(4) == 0 && cp_pex_getaddr(&px, p, now, b, BUF) < 0)
			CU_ASSERT_FALSE_FATAL(p->requests == 0);
		len = message(b, p->req_id);
		for (unsigned int k = rnd(3); k > 0; k--)
			len = mutate(b, len);
		v = cp_pex_receive(&px, p, b, len, now, WALL, &r);
		CU_ASSERT_EQUAL_FATAL(v, r.verdict);
		CU_ASSERT_EQUAL_FATAL(verdicts_total(&px.st), round + 1);
		CU_ASSERT_EQUAL_FATAL(r.action == CP_PEX_ACT_DISCONNECT_BAD, p->bad);
		CU_ASSERT_FATAL(!was_bad || p->bad);
		CU_ASSERT_FATAL(r.n <= SL_PEX_MAX_ADDRS);
		if (r.action == CP_PEX_ACT_ANSWER)
			CU_ASSERT_FATAL(cp_pex_addr_answer(&px, p, NULL, 0, b, BUF) == 16);
		if (p->bad)
			cp_pex_peer_init(p, rnd(2), SL_CAP_PEX, now); /* a new session */
		check_entry_sums(&px.st);
	}
	CU_ASSERT(px.st.peers_bad > 0);
	CU_ASSERT(px.st.entries_accepted > 0);
}

static CU_TestInfo cases[] = {
	{ "random and mutated messages against a naive reference", test_against_reference },
	{ "a long random conversation: invariants", test_long_conversation },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("pex_random", cases)
