/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: frame codec — every frame type round trips; ACK ranges against a naive reference;
 * a table of malformed frames, each rejected; range sets against a bitmap.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_frame.h"
#include "dp_rangeset.h"
#include "sl_test.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int
parse_one(const uint8_t *buf, size_t len, struct dp_frame *f, struct dp_ack_ranges *a, size_t *off)
{
	*off = 0;
	return dp_frame_parse(buf, len, off, f, a);
}

static void
test_round_trip(void)
{
	uint8_t buf[2048], payload[1000];
	struct dp_frame f;
	struct dp_ack_ranges a;
	size_t off, n;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	n = dp_frame_put_ping(buf, sizeof(buf), SL_FRAME_PING, 0x1122334455667788ull);
	CU_ASSERT_EQUAL(n, sizeof(struct sl_frame_ping));
	CU_ASSERT_EQUAL(parse_one(buf, n, &f, &a, &off), 1);
	CU_ASSERT(f.type == SL_FRAME_PING && f.token == 0x1122334455667788ull && off == n);

	n = dp_frame_put_data(buf, sizeof(buf), 3, 77, 1 << 20, 5000, 4000, payload, 1000);
	CU_ASSERT_EQUAL(n, sizeof(struct sl_frame_data) + 1000);
	CU_ASSERT_EQUAL(parse_one(buf, n, &f, &a, &off), 1);
	CU_ASSERT(f.data.chan == 3 && f.data.msg_id == 77 && f.data.msg_base == 1 << 20);
	CU_ASSERT(f.data.msg_len == 5000 && f.data.offset == 4000 && f.data.len == 1000);
	CU_ASSERT(f.data.last && memcmp(f.data.data, payload, 1000) == 0);
	n = dp_frame_put_data(buf, sizeof(buf), 3, 77, 0, 5000, 0, payload, 1000);
	CU_ASSERT(parse_one(buf, n, &f, &a, &off) == 1 && !f.data.last);

	n = dp_frame_put_datagram(buf, sizeof(buf), 9, 123456, payload, 10);
	CU_ASSERT(parse_one(buf, n, &f, &a, &off) == 1 && f.dgram.chan == 9 &&
		  f.dgram.seq == 123456 && f.dgram.len == 10);
	n = dp_frame_put_credit(buf, sizeof(buf), SL_FRAME_MAX_CHAN, 4, 1ull << 40);
	CU_ASSERT(parse_one(buf, n, &f, &a, &off) == 1 && f.credit.chan == 4 &&
		  f.credit.max == 1ull << 40);
	n = dp_frame_put_credit(buf, sizeof(buf), SL_FRAME_MAX_CHAN_DEFAULT, 4, 1ull << 22);
	CU_ASSERT(parse_one(buf, n, &f, &a, &off) == 1 && f.type == SL_FRAME_MAX_CHAN_DEFAULT &&
		  f.credit.chan == 0 && f.credit.max == 1ull << 22);
	buf[1] = 3; /* only MAX_CHAN names a channel */
	CU_ASSERT_EQUAL(parse_one(buf, n, &f, &a, &off), -EBADMSG);
	n = dp_frame_put_close(buf, sizeof(buf), true, SL_CLOSE_IDLE);
	CU_ASSERT(parse_one(buf, n, &f, &a, &off) == 1 && f.close.graceful &&
		  f.close.reason == SL_CLOSE_IDLE);
	/* nothing fits in too small a buffer */
	CU_ASSERT_EQUAL(dp_frame_put_data(buf, 40, 0, 0, 0, 100, 0, payload, 100), 0);
	CU_ASSERT_EQUAL(dp_frame_put_close(buf, 7, false, 0), 0);
}

/* Random sets of acknowledged packet numbers: encode the newest ranges, decode, compare. */
static void
test_ack_ranges_random(void)
{
	unsigned int mismatches = 0;

	for (int round = 0; round < 2000; round++) {
		struct dp_ack_ranges in = { .ack_delay_ns = (rnd() % 100000) * 1000 }, out;
		uint64_t hi = 1000 + rnd() % 1000000;
		uint8_t buf[512];
		size_t off = 0, n;
		struct dp_frame f;

		in.n = (uint8_t)(1 + rnd() % (SL_MAX_ACK_RANGES + 1));
		for (unsigned int i = 0; i < in.n; i++) {
			uint64_t len = rnd() % 5, gap = (i == 0) ? 0 : 1 + rnd() % 4;

			hi -= gap;
			in.r[i].hi = hi;
			in.r[i].lo = hi - len;
			hi = in.r[i].lo - 1;
		}
		n = dp_frame_put_ack(buf, sizeof(buf), &in);
		if (dp_frame_parse(buf, n, &off, &f, &out) != 1 || out.n != in.n ||
		    out.ack_delay_ns != in.ack_delay_ns ||
		    memcmp(out.r, in.r, in.n * sizeof(in.r[0])) != 0)
			mismatches++;
	}
	CU_ASSERT_EQUAL(mismatches, 0);
}

/* A small buffer holds fewer ranges: the newest are kept. */
static void
test_ack_truncation(void)
{
	struct dp_ack_ranges in = { .n = 10 }, out;
	uint8_t buf[64];
	size_t off = 0, n;
	struct dp_frame f;

	for (unsigned int i = 0; i < 10; i++) {
		in.r[i].hi = 1000 - i * 10;
		in.r[i].lo = in.r[i].hi - 3;
	}
	n = dp_frame_put_ack(buf, sizeof(buf), &in);
	CU_ASSERT_EQUAL(n, sizeof(struct sl_frame_ack) + 5 * sizeof(struct sl_ack_range));
	CU_ASSERT_EQUAL(dp_frame_parse(buf, n, &off, &f, &out), 1);
	CU_ASSERT_EQUAL(out.n, 6);
	CU_ASSERT_EQUAL(memcmp(out.r, in.r, 6 * sizeof(in.r[0])), 0);
	CU_ASSERT_EQUAL(dp_frame_put_ack(buf, 10, &in), 0);
}

enum mutation {
	M_NONE,
	M_TRUNCATE, /* cut the last byte */
	M_BYTE,	    /* set byte at `at` to `val` */
	M_WORD,	    /* set the 8 bytes from `at` to `val` */
};

struct bad_case {
	const char *what;
	uint8_t type; /* which valid frame to start from */
	enum mutation m;
	size_t at;
	uint8_t val;
	int want;
};

/* Build a valid frame of `type` into buf. */
static size_t
valid_frame(uint8_t type, uint8_t *buf, size_t cap)
{
	static const uint8_t data[64] = { 1 };
	struct dp_ack_ranges a = { .n = 2, .r = { { 90, 100 }, { 50, 80 } } };

	switch (type) {
	case SL_FRAME_PING:
		return dp_frame_put_ping(buf, cap, type, 5);
	case SL_FRAME_ACK:
		return dp_frame_put_ack(buf, cap, &a);
	case SL_FRAME_DATA:
		return dp_frame_put_data(buf, cap, 1, 2, 3, 64, 0, data, 64);
	case SL_FRAME_DATAGRAM:
		return dp_frame_put_datagram(buf, cap, 1, 2, data, 64);
	case SL_FRAME_MAX_DATA:
		return dp_frame_put_credit(buf, cap, type, 0, 1000);
	default:
		return dp_frame_put_close(buf, cap, false, 1);
	}
}

static void
test_malformed_table(void)
{
	static const struct bad_case cases[] = {
		{ "valid ping", SL_FRAME_PING, M_NONE, 0, 0, 1 },
		{ "ping truncated", SL_FRAME_PING, M_TRUNCATE, 0, 0, -EBADMSG },
		{ "ping reserved", SL_FRAME_PING, M_BYTE, 3, 1, -EBADMSG },
		{ "valid ack", SL_FRAME_ACK, M_NONE, 0, 0, 1 },
		{ "ack truncated range", SL_FRAME_ACK, M_TRUNCATE, 0, 0, -EBADMSG },
		{ "ack too many ranges", SL_FRAME_ACK, M_BYTE, 1, SL_MAX_ACK_RANGES + 1, -EBADMSG },
		{ "ack reserved", SL_FRAME_ACK, M_BYTE, 2, 1, -EBADMSG },
		{ "ack first range > largest", SL_FRAME_ACK, M_BYTE, 16, 1, -EBADMSG },
		{ "ack gap below zero", SL_FRAME_ACK, M_BYTE, 24, 0x7f, -EBADMSG },
		{ "ack range below zero", SL_FRAME_ACK, M_BYTE, 28, 0x7f, -EBADMSG },
		{ "valid data", SL_FRAME_DATA, M_NONE, 0, 0, 1 },
		{ "data truncated", SL_FRAME_DATA, M_TRUNCATE, 0, 0, -EBADMSG },
		{ "data unknown flag", SL_FRAME_DATA, M_BYTE, 1, 0x03, -EBADMSG },
		{ "data last flag missing", SL_FRAME_DATA, M_BYTE, 1, 0x00, -EBADMSG },
		{ "data reserved0", SL_FRAME_DATA, M_BYTE, 3, 1, -EBADMSG },
		{ "data reserved1", SL_FRAME_DATA, M_BYTE, 7, 1, -EBADMSG },
		{ "data zero length", SL_FRAME_DATA, M_BYTE, 5, 0, -EBADMSG },
		{ "data length past buffer", SL_FRAME_DATA, M_BYTE, 5, 65, -EBADMSG },
		{ "data offset past message", SL_FRAME_DATA, M_BYTE, 12, 1, -EBADMSG },
		{ "data end past message", SL_FRAME_DATA, M_BYTE, 15, 1, -EBADMSG },
		{ "data base overflow", SL_FRAME_DATA, M_WORD, 24, 0xff, -EBADMSG },
		{ "valid datagram", SL_FRAME_DATAGRAM, M_NONE, 0, 0, 1 },
		{ "datagram zero length", SL_FRAME_DATAGRAM, M_BYTE, 3, 0, -EBADMSG },
		{ "datagram past buffer", SL_FRAME_DATAGRAM, M_TRUNCATE, 0, 0, -EBADMSG },
		{ "valid max_data", SL_FRAME_MAX_DATA, M_NONE, 0, 0, 1 },
		{ "max_data with channel", SL_FRAME_MAX_DATA, M_BYTE, 1, 1, -EBADMSG },
		{ "credit reserved", SL_FRAME_MAX_DATA, M_BYTE, 5, 1, -EBADMSG },
		{ "valid close", SL_FRAME_CLOSE, M_NONE, 0, 0, 1 },
		{ "close unknown flag", SL_FRAME_CLOSE, M_BYTE, 1, 2, -EBADMSG },
		{ "close reserved", SL_FRAME_CLOSE, M_BYTE, 7, 1, -EBADMSG },
		{ "unknown type", SL_FRAME_CLOSE, M_BYTE, 0, 0x42, -ENOTSUP },
		{ "padding not zero", SL_FRAME_CLOSE, M_BYTE, 0, 0, -EBADMSG },
	};
	unsigned int wrong = 0;

	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		uint8_t buf[256];
		size_t n = valid_frame(cases[i].type, buf, sizeof(buf)), off;
		struct dp_frame f;
		struct dp_ack_ranges a;
		int rc;

		if (cases[i].m == M_TRUNCATE)
			n--;
		else if (cases[i].m == M_BYTE)
			buf[cases[i].at] = cases[i].val;
		else if (cases[i].m == M_WORD)
			memset(buf + cases[i].at, cases[i].val, 8);
		rc = parse_one(buf, n, &f, &a, &off);
		if (rc != cases[i].want) {
			fprintf(stderr, "%s: got %d, want %d\n", cases[i].what, rc, cases[i].want);
			wrong++;
		}
	}
	CU_ASSERT_EQUAL(wrong, 0);
}

/* Random bytes never make the parser read out of bounds (ASan watches) and each call either
 * consumes bytes or stops. */
static void
test_random_bytes(void)
{
	unsigned int frames = 0, errors = 0;

	for (int round = 0; round < 20000; round++) {
		size_t len = rnd() % 200, off = 0;
		uint8_t *buf = malloc(len + 1);
		struct dp_frame f;
		struct dp_ack_ranges a;
		int rc;

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)(i == 0 ? rnd() % 10 : rnd());
		while ((rc = dp_frame_parse(buf, len, &off, &f, &a)) > 0)
			frames++;
		errors += rc < 0;
		CU_ASSERT(off <= len);
		free(buf);
	}
	printf("\n  %u frames parsed, %u rejections\n", frames, errors);
	CU_ASSERT(errors > 0);
}

/* Range sets against a naive bitmap. */
static void
test_rangeset_random(void)
{
	enum { SPACE = 300 };
	unsigned int mismatches = 0;

	for (int round = 0; round < 300; round++) {
		struct dp_rangeset rs;
		uint8_t ref[SPACE] = { 0 };

		dp_rs_init(&rs);
		for (int op = 0; op < 60; op++) {
			uint32_t lo = (uint32_t)(rnd() % SPACE), hi = lo + (uint32_t)(rnd() % 40);
			struct dp_range g;
			bool covered = true;
			uint32_t want_lo = UINT32_MAX;

			hi = RTE_MIN(hi, (uint32_t)SPACE);
			if (rnd() % 3 == 0) {
				CU_ASSERT_EQUAL(dp_rs_remove(&rs, lo, hi), 0);
				memset(ref + lo, 0, hi - lo);
			} else {
				CU_ASSERT_EQUAL(dp_rs_add(&rs, lo, hi), 0);
				memset(ref + lo, 1, hi - lo);
			}
			lo = (uint32_t)(rnd() % SPACE);
			hi = RTE_MIN(lo + (uint32_t)(rnd() % 50), (uint32_t)SPACE);
			for (uint32_t i = lo; i < hi; i++) {
				covered = covered && ref[i];
				if (!ref[i] && want_lo == UINT32_MAX)
					want_lo = i;
			}
			mismatches += dp_rs_covers(&rs, lo, hi) != covered;
			if (dp_rs_first_gap(&rs, lo, hi, &g))
				mismatches += g.lo != want_lo || ref[g.lo] ||
					      (g.hi < hi && !ref[g.hi]) || g.hi <= g.lo;
			else
				mismatches += !covered;
			for (uint32_t i = 1; i < rs.n; i++) /* sorted, disjoint, not adjacent */
				mismatches += rs.v[i - 1].hi >= rs.v[i].lo;
		}
		dp_rs_fini(&rs);
	}
	CU_ASSERT_EQUAL(mismatches, 0);
}

static CU_TestInfo cases[] = {
	{ "every frame type round trips", test_round_trip },
	{ "ACK ranges: random sets encode and decode", test_ack_ranges_random },
	{ "ACK ranges: truncation keeps the newest", test_ack_truncation },
	{ "malformed frames rejected (table)", test_malformed_table },
	{ "random bytes: no overrun, progress or stop", test_random_bytes },
	{ "range sets vs a bitmap", test_rangeset_random },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("frame", cases)
