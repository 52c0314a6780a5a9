/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: peer exchange (cp_pex.h).
 *
 * Messages are built here byte by byte at the offsets docs/protocol.md gives (8.1, 8.2), not
 * with the module's encoder, so the two check each other. Cases: configuration checks; the
 * wire bytes of both messages; encode/decode round trips (table); every entry rejection with
 * its counter and points (table); every whole-message verdict (table); the hostile peer of
 * issue 13 (unsolicited answers, 10,000 claimed entries, our own, unroutable and duplicate
 * addresses) up to DISCONNECT_BAD; rate limits and decay on an injected clock; seed mode; and
 * random and mutated messages against a deliberately naive reference.
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>

#include "cp_pex.h"
#include "pex_msgs.h"
#include "sl_test.h"
#include "sl_wire.h"

/* --- configuration -------------------------------------------------------------------------- */

/* Spoil one field of a valid configuration (case i); returns what it did, NULL past the end. */
static const char *
spoil(struct cp_pex_config *c, unsigned int i)
{
	switch (i) {
	case 0:
		c->max_addrs = 0;
		return "max_addrs 0";
	case 1:
		c->max_addrs = SL_PEX_MAX_ADDRS + 1;
		return "max_addrs 65";
	case 2:
		c->classes = 0;
		return "no class";
	case 3:
		c->classes |= CP_PEX_CLASS(CP_ADDR_MULTICAST);
		return "multicast";
	case 4:
		c->classes |= CP_PEX_CLASS(CP_ADDR_RESERVED);
		return "reserved";
	case 5:
		c->interval_ns = 0;
		return "interval 0";
	case 6:
		c->ban_score = 0;
		return "ban score 0";
	case 7:
		c->max_age_s = 0;
		return "max_age 0";
	case 8:
		c->max_skew_s = c->max_age_s;
		return "skew >= age";
	case 9:
		c->n_self = SL_HS_MAX_ADDRS + 1;
		return "5 own addresses";
	default:
		return NULL;
	}
}

static void
test_config(void)
{
	struct cp_pex_config cfg;
	struct cp_pex px;
	const char *what;

	cp_pex_config_defaults(&cfg);
	CU_ASSERT_EQUAL(cp_pex_init(&px, &cfg), 0);
	CU_ASSERT_EQUAL(px.cfg.interval_ns, SL_PEX_INTERVAL_NS);
	CU_ASSERT_EQUAL(px.cfg.classes, CP_PEX_CLASS(CP_ADDR_ROUTABLE));
	CU_ASSERT_EQUAL(cp_pex_capabilities(&px), SL_CAP_PEX);
	cfg.classes = CP_PEX_CLASSES_ALLOWED;
	CU_ASSERT_EQUAL(cp_pex_init(&px, &cfg), 0);
	for (unsigned int i = 0; cp_pex_config_defaults(&cfg), (what = spoil(&cfg, i)); i++) {
		if (cp_pex_init(&px, &cfg) != -EINVAL)
			printf("\n  %s accepted", what);
		CU_ASSERT_EQUAL(cp_pex_init(&px, &cfg), -EINVAL);
	}
	cp_pex_config_defaults(&cfg);
	cfg.enabled = false;
	CU_ASSERT_EQUAL(cp_pex_init(&px, &cfg), 0);
	CU_ASSERT_EQUAL(cp_pex_capabilities(&px), 0);
}

static void
test_ask_on_connect(void)
{
	struct cp_pex px, off;
	struct cp_pex_config cfg;
	struct cp_pex_peer p;
	uint8_t buf[16];

	node(&px);
	cfg_test(&cfg);
	cfg.enabled = false;
	CU_ASSERT_EQUAL_FATAL(cp_pex_init(&off, &cfg), 0);
	cp_pex_peer_init(&p, true, SL_CAP_PEX | SL_CAP_RELAY, 0);
	CU_ASSERT_TRUE(cp_pex_ask_on_connect(&px, &p));
	CU_ASSERT_FALSE(cp_pex_ask_on_connect(&off, &p));
	CU_ASSERT_EQUAL(cp_pex_getaddr(&off, &p, 0, buf, sizeof(buf)), -EOPNOTSUPP);
	cp_pex_peer_init(&p, false, SL_CAP_PEX, 0); /* inbound: not on connect (may later) */
	CU_ASSERT_FALSE(cp_pex_ask_on_connect(&px, &p));
	CU_ASSERT_EQUAL(cp_pex_getaddr(&px, &p, 0, buf, sizeof(buf)), 16);
	cp_pex_peer_init(&p, true, SL_CAP_RELAY, 0); /* no PEX bit: never asked */
	CU_ASSERT_FALSE(cp_pex_ask_on_connect(&px, &p));
	CU_ASSERT_EQUAL(cp_pex_getaddr(&px, &p, 0, buf, sizeof(buf)), -EOPNOTSUPP);
	cp_pex_peer_init(&p, true, SL_CAP_PEX, 0);
	CU_ASSERT_EQUAL(cp_pex_getaddr(&px, &p, 0, buf, 15), -ENOSPC);
	CU_ASSERT_EQUAL(px.st.requests_sent, 1);
}

/* --- wire bytes and round trips -------------------------------------------------------------- */

/* The module's encodings, byte for byte at the documented offsets. */
static void
test_wire_bytes(void)
{
	static const uint8_t getaddr[16] = { 0x01, 0x01, 0x00, 0x10, 0,	   0,	 0, 0,
					     0x00, 0x00, 0x00, 0x01, 0x00, 0x40, 0, 0 };
	struct cp_addr a = { .ip = IP(198, 18, 7, 9), .port = 0x1234, .last_seen = 0x0102030405 };
	struct cp_pex_peer asker, answerer;
	struct cp_pex px, py;
	struct cp_pex_result r;
	uint8_t buf[256], ref[256];
	struct raw e = { .ip = a.ip, .port = a.port, .last_seen = a.last_seen };

	node(&px);
	node(&py);
	cp_pex_peer_init(&asker, true, SL_CAP_PEX, 0);
	CU_ASSERT_EQUAL_FATAL(cp_pex_getaddr(&px, &asker, 0, buf, sizeof(buf)), 16);
	CU_ASSERT_EQUAL(memcmp(buf, getaddr, 16), 0);
	cp_pex_peer_init(&answerer, false, SL_CAP_PEX, 0);
	CU_ASSERT_EQUAL(cp_pex_receive(&py, &answerer, buf, 16, 0, WALL, &r), CP_PEX_GETADDR);
	CU_ASSERT_EQUAL_FATAL(cp_pex_addr_answer(&py, &answerer, &a, 1, buf, sizeof(buf)), 64);
	CU_ASSERT_EQUAL(put_addr(ref, 1, &e, 1), 64);
	CU_ASSERT_EQUAL(memcmp(buf, ref, 64), 0);
	a.flags = CP_ADDR_F_HAS_ID;
	memset(a.id, 0x5c, SL_KEY_LEN);
	e.flags = SL_PEX_F_HAS_ID;
	e.id_byte = 0x5c;
	CU_ASSERT_EQUAL(cp_pex_receive(&py, &answerer, getaddr, 16, INTERVAL, WALL, &r),
			CP_PEX_GETADDR);
	CU_ASSERT_EQUAL_FATAL(cp_pex_addr_answer(&py, &answerer, &a, 1, buf, sizeof(buf)), 64);
	put_addr(ref, 1, &e, 1);
	CU_ASSERT_EQUAL(memcmp(buf, ref, 64), 0);
}

/* Ask with one node, answer with another, take the answer with the first. */
static void
test_roundtrip(void)
{
	static const struct {
		uint16_t ask_max, answer_max; /* the two nodes' max_addrs */
		unsigned int given;	      /* entries the answerer's book hands over */
		unsigned int sent;	      /* entries the answer carries */
	} t[] = {
		{ 64, 64, 0, 0 },   { 64, 64, 1, 1 },	{ 64, 64, 7, 7 },   { 64, 64, 64, 64 },
		{ 64, 64, 80, 64 }, { 10, 64, 64, 10 }, { 64, 10, 64, 10 }, { 1, 1, 5, 1 },
	};
	struct cp_addr book[80];

	for (unsigned int i = 0; i < RTE_DIM(book); i++) {
		struct raw g = good(i);

		book[i] = (struct cp_addr){ .ip = g.ip,
					    .port = g.port,
					    .last_seen = g.last_seen,
					    .flags = i % 3 ? CP_ADDR_F_HAS_ID : 0 };
		if (book[i].flags)
			memset(book[i].id, g.id_byte, SL_KEY_LEN);
	}
	for (unsigned int i = 0; i < RTE_DIM(t); i++) {
		struct cp_pex px, py;
		struct cp_pex_peer to_y, to_x;
		struct cp_pex_result r;
		uint8_t buf[SL_CONTROL_MSG_MAX];
		int n;

		node(&px);
		node(&py);
		px.cfg.max_addrs = t[i].ask_max;
		py.cfg.max_addrs = t[i].answer_max;
		cp_pex_peer_init(&to_y, true, SL_CAP_PEX, 0);
		cp_pex_peer_init(&to_x, false, SL_CAP_PEX, 0);
		n = cp_pex_getaddr(&px, &to_y, 0, buf, sizeof(buf));
		CU_ASSERT_EQUAL_FATAL(cp_pex_receive(&py, &to_x, buf, n, 0, WALL, &r),
				      CP_PEX_GETADDR);
		CU_ASSERT_EQUAL(r.action, CP_PEX_ACT_ANSWER);
		CU_ASSERT_EQUAL(r.want, RTE_MIN(t[i].ask_max, t[i].answer_max));
		n = cp_pex_addr_answer(&py, &to_x, book, t[i].given, buf, sizeof(buf));
		CU_ASSERT_EQUAL_FATAL(n, (int)SL_CTL_ADDR_LEN(t[i].sent));
		CU_ASSERT_EQUAL(cp_pex_addr_answer(&py, &to_x, book, 1, buf, sizeof(buf)), -ENOENT);
		CU_ASSERT_EQUAL_FATAL(cp_pex_receive(&px, &to_y, buf, n, 0, WALL, &r), CP_PEX_ADDR);
		CU_ASSERT_EQUAL(r.action, CP_PEX_ACT_NONE);
		CU_ASSERT_EQUAL(r.points, 0);
		CU_ASSERT_EQUAL_FATAL(r.n, t[i].sent);
		for (unsigned int k = 0; k < r.n; k++)
			CU_ASSERT_EQUAL(memcmp(&r.addrs[k], &book[k], sizeof(book[k])), 0);
		CU_ASSERT_EQUAL(py.st.entries_sent, t[i].sent);
		CU_ASSERT_EQUAL(px.st.entries_accepted, t[i].sent);
		CU_ASSERT_FALSE(to_y.outstanding);
	}
}

static void
test_answer_errors(void)
{
	struct cp_addr a = { .ip = IP(198, 18, 0, 9), .port = 1 };
	struct cp_pex_peer p;
	struct cp_pex_result r;
	struct cp_pex px;
	uint8_t buf[128];

	node(&px);
	cp_pex_peer_init(&p, false, SL_CAP_PEX, 0);
	CU_ASSERT_EQUAL(cp_pex_addr_answer(&px, &p, &a, 1, buf, sizeof(buf)), -ENOENT);
	put_getaddr(buf, 77, 2);
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, buf, 16, 0, WALL, &r), CP_PEX_GETADDR);
	CU_ASSERT_EQUAL(r.want, 2);
	CU_ASSERT_EQUAL(cp_pex_addr_answer(&px, &p, &a, 1, buf, 63), -ENOSPC);
	CU_ASSERT_EQUAL(cp_pex_addr_answer(&px, &p, &a, 1, buf, 64), 64);
	CU_ASSERT_EQUAL(get32(buf + 8), 77); /* the request id, echoed */
	CU_ASSERT_EQUAL(px.st.answers_sent, 1);
}

/* --- entry rejections ----------------------------------------------------------------------- */

static void
test_entry_rejections(void)
{
	static const struct {
		const char *what;
		struct raw e;
		int reason; /* CP_PEX_REJECT_COUNT: accepted */
		uint32_t points;
	} t[] = {
/* entry fields: id byte, flags, reserved, ip, port, last_seen */
#define E(id, fl, res, ip, port, seen) { (id), (fl), (res), (ip), (port), (seen) }
#define BIP			       IP(198, 18, 5, 5)
#define NOW			       (WALL_S - 60)
		{ "good", E(9, 1, 0, BIP, 7, NOW), CP_PEX_REJECT_COUNT, 0 },
		{ "good without id", E(0, 0, 0, BIP, 7, NOW), CP_PEX_REJECT_COUNT, 0 },
		{ "unknown flag", E(9, 3, 0, BIP, 7, NOW), CP_PEX_REJ_ENTRY_MALFORMED, 1 },
		{ "reserved byte", E(9, 1, 1, BIP, 7, NOW), CP_PEX_REJ_ENTRY_MALFORMED, 1 },
		{ "id without flag", E(9, 0, 0, BIP, 7, NOW), CP_PEX_REJ_ENTRY_MALFORMED, 1 },
		{ "flag without id", E(0, 1, 0, BIP, 7, NOW), CP_PEX_REJ_ENTRY_MALFORMED, 1 },
		{ "port 0", E(9, 1, 0, BIP, 0, NOW), CP_PEX_REJ_PORT, 1 },
		{ "reserved 240/4", E(9, 1, 0, IP(240, 1, 2, 3), 7, NOW), CP_PEX_REJ_CLASS, 1 },
		{ "private, not taken", E(9, 1, 0, IP(10, 0, 0, 1), 7, NOW), CP_PEX_REJ_CLASS, 1 },
		{ "loopback, not taken", E(9, 1, 0, IP(127, 0, 0, 1), 7, NOW), CP_PEX_REJ_CLASS,
		  1 },
		{ "multicast", E(9, 1, 0, IP(224, 0, 0, 1), 7, NOW), CP_PEX_REJ_CLASS, 1 },
		{ "unspecified", E(9, 1, 0, 0, 7, NOW), CP_PEX_REJ_CLASS, 1 },
		{ "routable", E(9, 1, 0, IP(8, 8, 8, 8), 7, NOW), CP_PEX_REJECT_COUNT, 0 },
		{ "our id", E(SELF_ID, 1, 0, BIP, 7, NOW), CP_PEX_REJ_SELF, 0 },
		{ "our address", E(9, 1, 0, SELF_IP, SELF_PORT, NOW), CP_PEX_REJ_SELF, 0 },
		{ "our address, no id", E(0, 0, 0, SELF_IP, SELF_PORT, NOW), CP_PEX_REJ_SELF, 0 },
		{ "our ip, another port", E(9, 1, 0, SELF_IP, 1, NOW), CP_PEX_REJECT_COUNT, 0 },
		{ "ip:port of the first", E(9, 1, 0, IP(198, 18, 1, 0), 5000, NOW),
		  CP_PEX_REJ_DUPLICATE, 1 },
		{ "ip of the first, another port", E(9, 1, 0, IP(198, 18, 1, 0), 5001, NOW),
		  CP_PEX_REJECT_COUNT, 0 },
		{ "skew at the limit", E(9, 1, 0, BIP, 7, WALL_S + SL_PEX_MAX_SKEW_S),
		  CP_PEX_REJECT_COUNT, 0 },
		{ "from the future", E(9, 1, 0, BIP, 7, WALL_S + SL_PEX_MAX_SKEW_S + 1),
		  CP_PEX_REJ_FUTURE, 1 },
		{ "age at the limit", E(9, 1, 0, BIP, 7, WALL_S - SL_PEX_MAX_AGE_S),
		  CP_PEX_REJECT_COUNT, 0 },
		{ "too old", E(9, 1, 0, BIP, 7, WALL_S - SL_PEX_MAX_AGE_S - 1), CP_PEX_REJ_STALE,
		  0 },
		{ "never seen", E(9, 1, 0, BIP, 7, 0), CP_PEX_REJ_STALE, 0 },
		{ "port 0 and reserved: the first rule", E(9, 1, 0, IP(240, 0, 0, 1), 0, NOW),
		  CP_PEX_REJ_PORT, 1 },
#undef E
#undef BIP
#undef NOW
	};

	for (unsigned int i = 0; i < RTE_DIM(t); i++) {
		struct raw e[2] = { good(0), t[i].e };
		struct cp_pex_result r;
		struct cp_pex_peer p;
		struct cp_pex px;
		uint8_t buf[128];
		size_t len;
		bool ok = t[i].reason == CP_PEX_REJECT_COUNT;

		node(&px);
		len = put_addr(buf, asked(&px, &p, 0), e, 2);
		CU_ASSERT_EQUAL_FATAL(cp_pex_receive(&px, &p, buf, len, 0, WALL, &r), CP_PEX_ADDR);
		if (r.n != (ok ? 2 : 1) || r.points != t[i].points)
			printf("\n  %s: %u taken, %u points", t[i].what, r.n, r.points);
		CU_ASSERT_EQUAL(r.n, ok ? 2 : 1);
		CU_ASSERT_EQUAL(r.points, t[i].points);
		CU_ASSERT_EQUAL(p.score, t[i].points);
		CU_ASSERT_EQUAL(rejected_total(&px.st), ok ? 0 : 1);
		if (!ok)
			CU_ASSERT_EQUAL(px.st.rejected[t[i].reason], 1);
		check_entry_sums(&px.st);
	}
}

/* A node that takes private and loopback addresses (a LAN, one machine) keeps them. */
static void
test_classes_configurable(void)
{
	struct raw e[3] = { good(0), good(1), good(2) };
	struct cp_pex_result r;
	struct cp_pex_peer p;
	struct cp_pex px;
	uint8_t buf[256];
	size_t len;

	e[1].ip = IP(10, 1, 2, 3);
	e[2].ip = IP(127, 0, 0, 2);
	node(&px);
	px.cfg.classes |= CP_PEX_CLASS(CP_ADDR_PRIVATE) | CP_PEX_CLASS(CP_ADDR_LOOPBACK);
	len = put_addr(buf, asked(&px, &p, 0), e, 3);
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, buf, len, 0, WALL, &r), CP_PEX_ADDR);
	CU_ASSERT_EQUAL(r.n, 3);
	node(&px);
	px.cfg.classes = CP_PEX_CLASS(CP_ADDR_ROUTABLE); /* the default: benchmark dropped too */
	len = put_addr(buf, asked(&px, &p, 0), e, 3);
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, buf, len, 0, WALL, &r), CP_PEX_ADDR);
	CU_ASSERT_EQUAL(r.n, 0);
	CU_ASSERT_EQUAL(px.st.rejected[CP_PEX_REJ_CLASS], 3);
}

/* --- whole-message verdicts ----------------------------------------------------------------- */

struct edit {
	uint16_t off;
	uint8_t val;
	bool on;
};

#define ED(o, v)               \
	{                      \
		(o), (v), true \
	}

struct vcase {
	const char *what;
	uint8_t base; /* 1: a valid GETADDR, 2: a valid ADDR of 2 entries answering our request */
	int len;      /* 0: as built; else the message's length, the header's len set to it */
	struct edit ed[2]; /* then these bytes */
	bool unasked;	   /* no request of ours outstanding */
	enum cp_pex_verdict v;
	uint32_t points;
};

static const struct vcase vcases[] = {
	{ "valid GETADDR", 1, 0, {}, false, CP_PEX_GETADDR, 0 },
	{ "valid ADDR", 2, 0, {}, false, CP_PEX_ADDR, 0 },
	{ "empty", 2, -1, {}, false, CP_PEX_MALFORMED, 50 },
	{ "7 bytes", 2, 7, {}, false, CP_PEX_MALFORMED, 50 },
	{ "4097 bytes", 2, 4097, {}, false, CP_PEX_OVERSIZED, 50 },
	{ "type 0", 2, 0, { ED(0, 0) }, false, CP_PEX_UNKNOWN, 0 },
	{ "type 3 (a later message)", 2, 0, { ED(0, 3) }, false, CP_PEX_UNKNOWN, 0 },
	{ "type 9, its len wrong too", 2, 0, { ED(0, 9), ED(3, 1) }, false, CP_PEX_UNKNOWN, 0 },
	{ "version 2", 1, 0, { ED(1, 2) }, false, CP_PEX_UNKNOWN, 0 },
	{ "version 0", 2, 0, { ED(1, 0) }, false, CP_PEX_UNKNOWN, 0 },
	{ "header len short by one", 2, 0, { ED(3, 111) }, false, CP_PEX_MALFORMED, 50 },
	{ "header reserved", 1, 0, { ED(7, 1) }, false, CP_PEX_MALFORMED, 50 },
	{ "GETADDR of 17 bytes", 1, 17, {}, false, CP_PEX_MALFORMED, 50 },
	{ "GETADDR of 8 bytes", 1, 8, {}, false, CP_PEX_MALFORMED, 50 },
	{ "GETADDR max 0", 1, 0, { ED(13, 0) }, false, CP_PEX_MALFORMED, 50 },
	{ "GETADDR max 65", 1, 0, { ED(13, 65) }, false, CP_PEX_MALFORMED, 50 },
	{ "GETADDR max 256", 1, 0, { ED(12, 1), ED(13, 0) }, false, CP_PEX_MALFORMED, 50 },
	{ "GETADDR reserved", 1, 0, { ED(15, 1) }, false, CP_PEX_MALFORMED, 50 },
	{ "ADDR of 15 bytes", 2, 15, {}, false, CP_PEX_MALFORMED, 50 },
	{ "ADDR reserved", 2, 0, { ED(14, 0x80) }, false, CP_PEX_MALFORMED, 50 },
	{ "ADDR count 10,000", 2, 0, { ED(12, 0x27), ED(13, 0x10) }, false, CP_PEX_OVERSIZED, 50 },
	{ "ADDR count 65", 2, 0, { ED(13, 65) }, false, CP_PEX_OVERSIZED, 50 },
	{ "ADDR count 3, 2 present", 2, 0, { ED(13, 3) }, false, CP_PEX_MALFORMED, 50 },
	{ "ADDR count 1, 2 present", 2, 0, { ED(13, 1) }, false, CP_PEX_MALFORMED, 50 },
	{ "ADDR one byte more", 2, 16 + 96 + 1, {}, false, CP_PEX_MALFORMED, 50 },
	{ "ADDR unsolicited", 2, 0, {}, true, CP_PEX_UNSOLICITED, 25 },
	{ "ADDR unsolicited, 10,000 claimed",
	  2,
	  0,
	  { ED(12, 0x27), ED(13, 0x10) },
	  true,
	  CP_PEX_OVERSIZED,
	  50 },
	{ "ADDR wrong request id", 2, 0, { ED(11, 0x99) }, false, CP_PEX_WRONG_REQUEST, 25 },
};

static size_t
build_case(const struct vcase *c, uint8_t *buf, size_t cap, uint32_t req_id)
{
	struct raw e[2] = { good(0), good(1) };
	size_t len = c->base == 1 ? put_getaddr(buf, 5, 3) : put_addr(buf, req_id, e, 2);

	if (c->len != 0) {
		size_t want = c->len < 0 ? 0 : (size_t)c->len;

		if (want > len)
			memset(buf + len, 0, want - len);
		len = want;
		if (len >= 4 && len <= cap)
			put16(buf + 2, (uint16_t)len);
	}
	for (unsigned int i = 0; i < RTE_DIM(c->ed); i++)
		if (c->ed[i].on)
			buf[c->ed[i].off] = c->ed[i].val;
	return len;
}

static void
test_verdicts(void)
{
	for (unsigned int i = 0; i < RTE_DIM(vcases); i++) {
		const struct vcase *c = &vcases[i];
		uint8_t buf[SL_CONTROL_MSG_MAX + 64];
		struct cp_pex_result r;
		struct cp_pex_peer p;
		struct cp_pex px;
		uint32_t id;
		size_t len;

		node(&px);
		id = asked(&px, &p, 0);
		if (c->unasked)
			cp_pex_peer_init(&p, true, SL_CAP_PEX, 0);
		len = build_case(c, buf, sizeof(buf), id);
		CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, buf, len, 0, WALL, &r), c->v);
		if (r.verdict != c->v || r.points != c->points)
			printf("\n  %s: %s, %u points", c->what, cp_pex_verdict_name(r.verdict),
			       r.points);
		CU_ASSERT_EQUAL(r.verdict, c->v);
		CU_ASSERT_EQUAL(r.points, c->points);
		CU_ASSERT_EQUAL(px.st.msgs[c->v], 1);
		CU_ASSERT_EQUAL(verdicts_total(&px.st), 1);
		CU_ASSERT_EQUAL(p.score, c->points);
		if (c->v != CP_PEX_ADDR)
			CU_ASSERT_EQUAL(r.n, 0);
	}
	CU_ASSERT_STRING_EQUAL(cp_pex_verdict_name(CP_PEX_UNKNOWN), "unknown_type");
	CU_ASSERT_STRING_EQUAL(cp_pex_verdict_name(CP_PEX_VERDICT_COUNT), "?");
	CU_ASSERT_STRING_EQUAL(cp_pex_reject_name(CP_PEX_REJ_SELF), "self");
	CU_ASSERT_STRING_EQUAL(cp_pex_action_name(CP_PEX_ACT_DISCONNECT_BAD), "disconnect_bad");
	CU_ASSERT_PTR_NOT_NULL(cp_pex_verdict_doc(CP_PEX_ADDR));
	CU_ASSERT_PTR_NOT_NULL(cp_pex_reject_doc(CP_PEX_REJ_STALE));
}

/* An answer with more entries than we asked for: oversized, and the request is used up. */
static void
test_more_than_asked(void)
{
	struct raw e[11];
	struct cp_pex_result r;
	struct cp_pex_peer p;
	struct cp_pex px;
	uint8_t buf[1024];
	size_t len;
	uint32_t id;

	for (unsigned int i = 0; i < RTE_DIM(e); i++)
		e[i] = good(i);
	node(&px);
	px.cfg.max_addrs = 10;
	id = asked(&px, &p, 0);
	len = put_addr(buf, id, e, 11);
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, buf, len, 0, WALL, &r), CP_PEX_OVERSIZED);
	CU_ASSERT_EQUAL(r.claimed, 11);
	CU_ASSERT_FALSE(p.outstanding);
	len = put_addr(buf, id, e, 10); /* the same request answered again */
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, buf, len, 0, WALL, &r), CP_PEX_UNSOLICITED);
	CU_ASSERT_EQUAL(p.score, SL_PEX_PTS_OVERSIZED + SL_PEX_PTS_UNSOLICITED);
}

/* --- the hostile peer of issue 13 ------------------------------------------------------------ */

/* Answer with n entries made by mk(i); returns what the node made of it. */
static enum cp_pex_verdict
answer_with(struct cp_pex *px, struct cp_pex_peer *p, uint64_t now, struct raw (*mk)(unsigned int),
	    unsigned int n, struct cp_pex_result *r)
{
	uint8_t buf[SL_CONTROL_MSG_MAX];
	struct raw e[SL_PEX_MAX_ADDRS];
	size_t len;
	int w;

	for (unsigned int i = 0; i < n; i++)
		e[i] = mk(i);
	w = cp_pex_getaddr(px, p, now, buf, sizeof(buf));
	CU_ASSERT_EQUAL(w, 16);
	len = put_addr(buf, get32(buf + 8), e, n);
	return cp_pex_receive(px, p, buf, len, now, WALL, r);
}

static struct raw
unroutable(unsigned int i)
{
	struct raw e = good(i);

	e.ip = IP(240, 0, 0, 1) + i;
	return e;
}

static struct raw
ours(unsigned int i)
{
	struct raw e = good(i);

	e.id_byte = SELF_ID; /* our identity at 64 addresses */
	return e;
}

static struct raw
same(unsigned int i)
{
	(void)i;
	return good(0);
}

/* Two answers of one kind of junk, one interval apart: the second makes the peer bad, and
 * nothing of it reaches the book. */
static void
hostile_answers(struct raw (*mk)(unsigned int), enum cp_pex_reject why, unsigned int taken,
		uint32_t points)
{
	struct cp_pex_result r;
	struct cp_pex_peer p;
	struct cp_pex px;

	node(&px);
	cp_pex_peer_init(&p, true, SL_CAP_PEX, 0);
	CU_ASSERT_EQUAL(answer_with(&px, &p, 0, mk, SL_PEX_MAX_ADDRS, &r), CP_PEX_ADDR);
	CU_ASSERT_EQUAL(r.points, points);
	CU_ASSERT_EQUAL(r.action, CP_PEX_ACT_NONE);
	CU_ASSERT_EQUAL(r.n, taken);
	CU_ASSERT_EQUAL(px.st.rejected[why], SL_PEX_MAX_ADDRS - taken);
	CU_ASSERT_EQUAL(answer_with(&px, &p, INTERVAL, mk, SL_PEX_MAX_ADDRS, &r), CP_PEX_ADDR);
	CU_ASSERT_EQUAL(p.score, 2 * points - SL_PEX_SCORE_DECAY);
	CU_ASSERT_EQUAL(r.action, CP_PEX_ACT_DISCONNECT_BAD);
	CU_ASSERT_EQUAL(r.n, 0);
	CU_ASSERT_EQUAL(px.st.rejected[CP_PEX_REJ_BAD_PEER], taken);
	CU_ASSERT_EQUAL(px.st.peers_bad, 1);
	CU_ASSERT_EQUAL(px.st.entries_accepted, taken);
	check_entry_sums(&px.st);
}

static void
test_hostile_entries(void)
{
	hostile_answers(unroutable, CP_PEX_REJ_CLASS, 0, SL_PEX_MAX_ADDRS);
	hostile_answers(ours, CP_PEX_REJ_SELF, 0, SL_PEX_MAX_ADDRS - SL_HS_MAX_ADDRS);
	hostile_answers(same, CP_PEX_REJ_DUPLICATE, 1, SL_PEX_MAX_ADDRS - 1);
}

/* Unsolicited answers: dropped whole, each costs 25 points; the fourth disconnects. Later
 * messages keep saying so, and a request of a bad peer is not answered. */
static void
test_hostile_unsolicited(void)
{
	struct raw e[10];
	struct cp_pex_result r;
	struct cp_pex_peer p;
	struct cp_pex px;
	uint8_t buf[1024];
	size_t len;

	for (unsigned int i = 0; i < RTE_DIM(e); i++)
		e[i] = good(i);
	node(&px);
	cp_pex_peer_init(&p, false, SL_CAP_PEX, 0);
	len = put_addr(buf, 1, e, RTE_DIM(e));
	for (unsigned int i = 1; i <= 4; i++) {
		CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, buf, len, i, WALL, &r), CP_PEX_UNSOLICITED);
		CU_ASSERT_EQUAL(r.n, 0);
		CU_ASSERT_EQUAL(p.score, i * SL_PEX_PTS_UNSOLICITED);
		CU_ASSERT_EQUAL(r.action, i < 4 ? CP_PEX_ACT_NONE : CP_PEX_ACT_DISCONNECT_BAD);
	}
	CU_ASSERT_EQUAL(px.st.msgs[CP_PEX_UNSOLICITED], 4);
	CU_ASSERT_EQUAL(px.st.entries_received, 0); /* the book saw nothing */
	len = put_getaddr(buf, 1, 8);
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, buf, len, 5, WALL, &r), CP_PEX_GETADDR_REFUSED);
	CU_ASSERT_EQUAL(r.action, CP_PEX_ACT_DISCONNECT_BAD);
	CU_ASSERT_EQUAL(cp_pex_addr_answer(&px, &p, NULL, 0, buf, sizeof(buf)), -ENOENT);
	CU_ASSERT_EQUAL(px.st.peers_bad, 1);
}

/* 10,000 addresses in one answer: as a 480,016-byte message, and as a 4 KiB one that claims
 * them. Each is oversized (50 points); the second disconnects. */
static void
test_hostile_oversized(void)
{
	static uint8_t big[SL_CTL_ADDR_LEN(10000)];
	struct cp_pex_result r;
	struct cp_pex_peer p;
	struct cp_pex px;
	uint32_t id;

	node(&px);
	id = asked(&px, &p, 0);
	for (unsigned int i = 0; i < 10000; i++) {
		struct raw e = good(i);

		put_entry(big + SL_CTL_ADDR_LEN(i), &e);
	}
	put_hdr(big, SL_CTL_ADDR, 0xffff & sizeof(big));
	put32(big + 8, id);
	put16(big + 12, 10000);
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, big, sizeof(big), 0, WALL, &r), CP_PEX_OVERSIZED);
	CU_ASSERT_EQUAL(r.action, CP_PEX_ACT_NONE);
	put16(big + 2, SL_CONTROL_MSG_MAX);
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, big, SL_CONTROL_MSG_MAX, 0, WALL, &r),
			CP_PEX_OVERSIZED);
	CU_ASSERT_EQUAL(r.claimed, 10000);
	CU_ASSERT_EQUAL(r.n, 0);
	CU_ASSERT_EQUAL(r.action, CP_PEX_ACT_DISCONNECT_BAD);
	CU_ASSERT_EQUAL(px.st.msgs[CP_PEX_OVERSIZED], 2);
	CU_ASSERT_EQUAL(px.st.entries_received, 0);
}

/* An honest peer whose answers carry a few entries we do not take (< score_decay each) and our
 * own addresses is never disconnected, however long the session. */
static struct raw
mostly_good(unsigned int i)
{
	struct raw e = good(i);

	if (i < SL_PEX_SCORE_DECAY - 1)
		e.ip = IP(10, 0, 0, 1) + i; /* private: not taken here */
	else if (i < SL_PEX_SCORE_DECAY - 1 + SL_HS_MAX_ADDRS)
		e.id_byte = SELF_ID;
	return e;
}

static void
test_honest_peer_stays(void)
{
	struct cp_pex_result r;
	struct cp_pex_peer p;
	struct cp_pex px;

	node(&px);
	cp_pex_peer_init(&p, true, SL_CAP_PEX, 0);
	for (unsigned int i = 0; i < 1000; i++) {
		CU_ASSERT_EQUAL_FATAL(answer_with(&px, &p, i * INTERVAL, mostly_good, 40, &r),
				      CP_PEX_ADDR);
		CU_ASSERT_EQUAL_FATAL(r.action, CP_PEX_ACT_NONE);
		CU_ASSERT_EQUAL(r.n, 40 - (SL_PEX_SCORE_DECAY - 1) - SL_HS_MAX_ADDRS);
	}
	CU_ASSERT(p.score < SL_PEX_SCORE_DECAY);
	CU_ASSERT_EQUAL(px.st.peers_bad, 0);
}

/* --- rate limits, decay, seed mode (an injected clock) ---------------------------------------- */

static void
test_request_rate(void)
{
	struct raw e = good(0);
	struct cp_pex_result r;
	struct cp_pex_peer p;
	struct cp_pex px;
	uint8_t buf[128];
	size_t len;

	node(&px);
	CU_ASSERT_EQUAL(asked(&px, &p, 100), 1);
	CU_ASSERT_EQUAL(cp_pex_getaddr(&px, &p, 100 + INTERVAL - 1, buf, sizeof(buf)), -EAGAIN);
	CU_ASSERT_EQUAL(cp_pex_getaddr(&px, &p, 99, buf, sizeof(buf)), -EAGAIN); /* clock back */
	CU_ASSERT_EQUAL(px.st.requests_not_due, 2);
	CU_ASSERT_EQUAL(cp_pex_getaddr(&px, &p, 100 + INTERVAL, buf, sizeof(buf)), 16);
	CU_ASSERT_EQUAL(get32(buf + 8), 2);
	CU_ASSERT_EQUAL(px.st.requests_unanswered, 1); /* the first was never answered */
	len = put_addr(buf, 1, &e, 1);		       /* a late answer to the first */
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, buf, len, 100 + INTERVAL, WALL, &r),
			CP_PEX_WRONG_REQUEST);
	CU_ASSERT_TRUE(p.outstanding);
	len = put_addr(buf, 2, &e, 1);
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, buf, len, 100 + INTERVAL, WALL, &r), CP_PEX_ADDR);
	CU_ASSERT_EQUAL(r.n, 1);
	CU_ASSERT_EQUAL(px.st.requests_sent, 2);
}

static void
test_answer_rate(void)
{
	const uint64_t spacing = INTERVAL - INTERVAL / SL_PEX_JITTER_DIV;
	struct cp_pex_result r;
	struct cp_pex_peer p;
	struct cp_pex px;
	uint8_t req[16];

	node(&px);
	cp_pex_peer_init(&p, false, SL_CAP_PEX, 0);
	put_getaddr(req, 9, 64);
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, req, 16, 5, WALL, &r), CP_PEX_GETADDR);
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, req, 16, 5 + spacing - 1, WALL, &r),
			CP_PEX_GETADDR_REFUSED);
	CU_ASSERT_EQUAL(r.points, SL_PEX_PTS_EARLY_REQUEST);
	CU_ASSERT_EQUAL(r.action, CP_PEX_ACT_NONE);
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, req, 16, 5 + spacing, WALL, &r), CP_PEX_GETADDR);
	CU_ASSERT_EQUAL(r.action, CP_PEX_ACT_ANSWER);
	CU_ASSERT_EQUAL(px.st.msgs[CP_PEX_GETADDR], 2);
	CU_ASSERT_EQUAL(px.st.msgs[CP_PEX_GETADDR_REFUSED], 1);
	/* a node with PEX off answers nobody, and a peer that asks anyway pays for it */
	node(&px);
	px.cfg.enabled = false;
	cp_pex_peer_init(&p, false, SL_CAP_PEX, 0);
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, req, 16, 0, WALL, &r), CP_PEX_GETADDR_REFUSED);
	CU_ASSERT_EQUAL(r.points, SL_PEX_PTS_EARLY_REQUEST);
}

static void
test_decay(void)
{
	struct cp_pex_result r;
	struct cp_pex_peer p;
	struct cp_pex px;
	uint8_t buf[16];

	node(&px);
	cp_pex_peer_init(&p, false, SL_CAP_PEX, 1000);
	put_addr(buf, 1, NULL, 0);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, buf, 16, 1000, WALL, &r),
				CP_PEX_UNSOLICITED);
	CU_ASSERT_EQUAL(p.score, 75);
	put_hdr(buf, 0x77, 8); /* unknown: costs nothing, but time passes */
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, buf, 8, 1000 + INTERVAL * 3 / 2, WALL, &r),
			CP_PEX_UNKNOWN);
	CU_ASSERT_EQUAL(p.score, 75 - SL_PEX_SCORE_DECAY);
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, buf, 8, 1000 + INTERVAL * 2, WALL, &r),
			CP_PEX_UNKNOWN);
	CU_ASSERT_EQUAL(p.score, 75 - 2 * SL_PEX_SCORE_DECAY); /* whole intervals: 1.5 + 0.5 */
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, buf, 8, 1000 + INTERVAL * 100, WALL, &r),
			CP_PEX_UNKNOWN);
	CU_ASSERT_EQUAL(p.score, 0);
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, buf, 8, 0, WALL, &r), CP_PEX_UNKNOWN); /* back */
	CU_ASSERT_EQUAL(p.score, 0);
}

/* A seed answers each session's first request and then closes it; its crawl closes a session
 * once the peer answered. */
static void
test_seed_mode(void)
{
	struct raw e = good(3);
	struct cp_pex_result r;
	struct cp_pex_peer p;
	struct cp_pex px;
	uint8_t buf[128];
	size_t len;

	node(&px);
	px.cfg.seed_mode = true;
	cp_pex_peer_init(&p, false, SL_CAP_PEX, 0);
	len = put_getaddr(buf, 4, 64);
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, buf, len, 0, WALL, &r), CP_PEX_GETADDR);
	CU_ASSERT_EQUAL(r.action, CP_PEX_ACT_ANSWER_CLOSE);
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, buf, len, 10 * INTERVAL, WALL, &r),
			CP_PEX_GETADDR_REFUSED);
	CU_ASSERT_EQUAL(r.action, CP_PEX_ACT_NONE);
	CU_ASSERT_EQUAL(cp_pex_addr_answer(&px, &p, NULL, 0, buf, sizeof(buf)), 16);
	CU_ASSERT_EQUAL(cp_pex_addr_answer(&px, &p, NULL, 0, buf, sizeof(buf)), -ENOENT);
	/* the crawl */
	len = put_addr(buf, asked(&px, &p, 0), &e, 1);
	CU_ASSERT_EQUAL(cp_pex_receive(&px, &p, buf, len, 0, WALL, &r), CP_PEX_ADDR);
	CU_ASSERT_EQUAL(r.action, CP_PEX_ACT_CLOSE);
	CU_ASSERT_EQUAL(r.n, 1);
}

static CU_TestInfo cases[] = {
	{ "configuration checks", test_config },
	{ "who is asked on connect (capability, direction)", test_ask_on_connect },
	{ "wire bytes of GETADDR and ADDR", test_wire_bytes },
	{ "round trips (table)", test_roundtrip },
	{ "answer errors", test_answer_errors },
	{ "entry rejections: reason, counter, points (table)", test_entry_rejections },
	{ "address classes are configurable", test_classes_configurable },
	{ "whole-message verdicts (table)", test_verdicts },
	{ "an answer with more than asked", test_more_than_asked },
	{ "hostile: unroutable, our own, duplicate entries", test_hostile_entries },
	{ "hostile: unsolicited answers", test_hostile_unsolicited },
	{ "hostile: 10,000 addresses in one answer", test_hostile_oversized },
	{ "an honest peer with a little junk stays", test_honest_peer_stays },
	{ "one request per peer per interval", test_request_rate },
	{ "one answer per peer per interval", test_answer_rate },
	{ "the score decays per interval", test_decay },
	{ "seed mode: one answer, then close", test_seed_mode },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("pex", cases)
