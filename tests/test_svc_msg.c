/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: built-in services tests, the parts without engines — the service message format
 * (CRC-32C, build and check, every byte covered) and merging statistics. The services between
 * two engines are in test_svc.c; the histogram in their statistics is tested in test_hist.c.
 */
#include <string.h>

#include "dp_svc_msg.h"
#include "dp_svc_stats.h"
#include "sl_test.h"

/* --- the message format --------------------------------------------------------------------- */
static void
test_crc32c(void)
{
	static const char check[] = "123456789";

	CU_ASSERT_EQUAL(dp_svc_crc32c(0, check, 9), 0xe3069283u); /* the CRC-32C check value */
	CU_ASSERT_EQUAL(dp_svc_crc32c(dp_svc_crc32c(0, check, 4), check + 4, 5), 0xe3069283u);
	CU_ASSERT_EQUAL(dp_svc_crc32c(0, check, 0), 0);
}

static void
test_msg_roundtrip(void)
{
	static const uint32_t lens[] = { 1, 7, 8, 9, 31, 32, 33, 40, 1000, 16384 };
	static uint8_t buf[16384], again[16384];
	struct dp_svc_msg_info info;

	for (size_t i = 0; i < RTE_DIM(lens); i++) {
		uint32_t len = lens[i];
		uint64_t seq = 1000 + i;

		dp_svc_msg_build(buf, len, seq, 777);
		CU_ASSERT(dp_svc_msg_check(buf, len, seq, &info));
		CU_ASSERT_EQUAL(info.seq, seq);
		CU_ASSERT_EQUAL(info.has_hdr, len >= SL_SVC_HDR_LEN);
		CU_ASSERT_EQUAL(info.sent_ns, len >= SL_SVC_HDR_LEN ? 777 : 0);
		dp_svc_msg_build(again, len, seq, 777);
		CU_ASSERT_EQUAL(memcmp(buf, again, len), 0); /* deterministic */
		if (len >= 8) /* a headerless message is checked against the implied number */
			CU_ASSERT_EQUAL(dp_svc_msg_check(buf, len, seq + 1, &info),
					len >= SL_SVC_HDR_LEN);
	}
	/* the header, in network byte order */
	dp_svc_msg_build(buf, 100, 0x0102030405060708ull, 5);
	CU_ASSERT_EQUAL(memcmp(buf, "SLSV\x02\x00\x00\x00\x00\x00\x00\x64", 12), 0);
	CU_ASSERT_EQUAL(memcmp(buf + 16, "\x01\x02\x03\x04\x05\x06\x07\x08", 8), 0);
	/* the echo flag is outside the checksum */
	((struct sl_svc_hdr *)buf)->flags |= SL_SVC_ECHOED;
	CU_ASSERT(dp_svc_msg_check(buf, 100, 0, &info));
	CU_ASSERT_EQUAL(info.flags, SL_SVC_ECHOED);
}

/* The payload, against a naive reference: after the header, 8-byte little-endian word i of
 * message seq is base(seq) + i * K, base a 64-bit mix of seq (the last word cut short), for
 * every length up to 300 (vector loop, scalar words and the partial tail). */
static uint64_t
ref_base(uint64_t seq)
{
	uint64_t s = (seq - 1) * 0x9e3779b97f4a7c15ull + 0x736c7569636521ull; /* the mix adds K */

	return sl_test_mix64(&s);
}

static void
test_payload_reference(void)
{
	uint8_t buf[300 + SL_SVC_HDR_LEN];
	unsigned int bad = 0;

	for (uint32_t len = SL_SVC_HDR_LEN; len <= sizeof(buf); len++) {
		uint64_t seq = 5 + len;

		dp_svc_msg_build(buf, len, seq, 1);
		for (uint32_t off = 0; off < len - SL_SVC_HDR_LEN; off++) {
			uint64_t w = ref_base(seq) + (off / 8) * 0x9e3779b97f4a7c15ull;

			bad += buf[SL_SVC_HDR_LEN + off] != (uint8_t)(w >> (8 * (off % 8)));
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* Any changed byte makes the message fail its check. */
static void
test_msg_every_byte_matters(void)
{
	uint8_t buf[300];
	struct dp_svc_msg_info info;
	unsigned int missed = 0;

	for (uint32_t len = 1; len <= sizeof(buf); len += 37) {
		dp_svc_msg_build(buf, len, 9, 1234);
		for (uint32_t i = 0; i < len; i++) {
			buf[i] ^= 0x80;
			missed += dp_svc_msg_check(buf, len, 9, &info);
			buf[i] ^= 0x80;
		}
		CU_ASSERT(dp_svc_msg_check(buf, len, 9, &info));
		if (len > SL_SVC_HDR_LEN) /* a truncated message: length mismatch */
			CU_ASSERT(!dp_svc_msg_check(buf, len - 1, 9, &info));
	}
	CU_ASSERT_EQUAL(missed, 0);
}

/* --- statistics ----------------------------------------------------------------------------- */
static void
test_stats_merge(void)
{
	static struct dp_svc_stats x, y;

	memset(&x, 0, sizeof(x));
	memset(&y, 0, sizeof(y));
	x.cnt.lost = 2;
	x.sources = 1;
	sl_hist_record(&x.rtt, 5000);
	y.cnt.lost = 3;
	y.cnt.send_blocked = 7;
	y.sources = y.sources_done = 1;
	sl_hist_record(&y.rtt, 100);
	x.first_ns = 50;
	x.last_ns = 90;
	y.first_ns = 20;
	y.last_ns = 60;
	dp_svc_stats_merge(&x, &y);
	CU_ASSERT(x.first_ns == 20 && x.last_ns == 90);
	CU_ASSERT_EQUAL(x.cnt.lost, 5);
	CU_ASSERT_EQUAL(x.cnt.send_blocked, 7);
	CU_ASSERT_EQUAL(x.sources, 2);
	CU_ASSERT_EQUAL(x.sources_done, 1);
	CU_ASSERT_EQUAL(x.rtt.count, 2);
	CU_ASSERT_EQUAL(x.rtt.min, 100);
	CU_ASSERT_EQUAL(x.rtt.max, 5000);
}

static CU_TestInfo cases[] = {
	{ "crc32c", test_crc32c },
	{ "msg_roundtrip", test_msg_roundtrip },
	{ "msg_every_byte_matters", test_msg_every_byte_matters },
	{ "payload pattern against a naive reference", test_payload_reference },
	{ "stats_merge", test_stats_merge },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("svc_msg", cases)
