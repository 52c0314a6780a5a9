/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: built-in services tests, the parts without engines — the service message format
 * (CRC-32C, build and check, every byte covered), the latency histogram against a
 * sorted-array reference, and merging statistics. The services between two engines are in
 * test_svc.c.
 */
#include <stdlib.h>
#include <string.h>

#include "dp_svc.h"
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

/* --- the latency histogram against a sorted array ------------------------------------------- */
static int
cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Nearest rank, naively: the same definition as the histogram's. */
static uint64_t
ref_percentile(const uint64_t *sorted, uint64_t n, double pct)
{
	double r = pct / 100.0 * (double)n;
	uint64_t rank = (uint64_t)r;

	if ((double)rank < r - 1e-9)
		rank++;
	return sorted[RTE_MAX(rank, 1ull) - 1];
}

#define HN 100000

static void
test_hist_reference(void)
{
	static const double pcts[] = { 0, 0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100 };
	static uint64_t v[HN];
	static struct dp_svc_hist h, h1, h2;
	uint64_t rng = 3;
	unsigned int bad = 0;

	for (int round = 0; round < 4; round++) {
		memset(&h, 0, sizeof(h));
		memset(&h1, 0, sizeof(h1));
		memset(&h2, 0, sizeof(h2));
		for (unsigned int i = 0; i < HN; i++) {
			/* roughly log-uniform 1 us..8 s, some below 300 ns, a few past 2^34 */
			uint64_t octave = 1000ull << sl_test_mix64(&rng) % 23;
			uint64_t x = octave + sl_test_mix64(&rng) % octave;

			if (i % 97 == 0)
				x = sl_test_mix64(&rng) % 300;
			if (round == 3 && i % 1001 == 0)
				x = (1ull << 35) + sl_test_mix64(&rng) % 1000;
			v[i] = x;
			dp_svc_hist_record(&h, x);
			dp_svc_hist_record(i % 2 ? &h1 : &h2, x);
		}
		qsort(v, HN, sizeof(v[0]), cmp_u64);
		CU_ASSERT_EQUAL(h.count, HN);
		CU_ASSERT_EQUAL(h.min, v[0]);
		CU_ASSERT_EQUAL(h.max, v[HN - 1]);
		for (size_t k = 0; k < RTE_DIM(pcts); k++) {
			uint64_t got = dp_svc_hist_percentile(&h, pcts[k]);
			uint64_t want = ref_percentile(v, HN, pcts[k]);
			uint64_t err = got > want ? got - want : want - got;

			/* within the bucket precision, except beyond the histogram's range */
			bad += err > want / 128 + 1 && want < (1ull << DP_SVC_HIST_MAX_BITS);
		}
		dp_svc_hist_merge(&h1, &h2);
		CU_ASSERT_EQUAL(memcmp(&h1, &h, sizeof(h)), 0);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void
test_hist_edges(void)
{
	static struct dp_svc_hist h;

	memset(&h, 0, sizeof(h));
	CU_ASSERT_EQUAL(dp_svc_hist_percentile(&h, 50), 0);
	dp_svc_hist_record(&h, 123456789);
	CU_ASSERT_EQUAL(dp_svc_hist_percentile(&h, 0), 123456789);
	CU_ASSERT_EQUAL(dp_svc_hist_percentile(&h, 50), 123456789);
	CU_ASSERT_EQUAL(dp_svc_hist_percentile(&h, 100), 123456789);
	for (uint64_t x = 0; x < 256; x++) { /* exact below 256 ns */
		memset(&h, 0, sizeof(h));
		dp_svc_hist_record(&h, x);
		dp_svc_hist_record(&h, x);
		dp_svc_hist_record(&h, 1000);
		CU_ASSERT_EQUAL(dp_svc_hist_percentile(&h, 50), x);
	}
	memset(&h, 0, sizeof(h));
	dp_svc_hist_record(&h, UINT64_MAX / 2);
	dp_svc_hist_record(&h, 1);
	CU_ASSERT_EQUAL(dp_svc_hist_percentile(&h, 100), UINT64_MAX / 2);
	CU_ASSERT_EQUAL(h.bucket[DP_SVC_HIST_BUCKETS - 1], 1);
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
	dp_svc_hist_record(&x.rtt, 5000);
	y.cnt.lost = 3;
	y.cnt.send_blocked = 7;
	y.sources = y.sources_done = 1;
	dp_svc_hist_record(&y.rtt, 100);
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
	{ "hist_reference", test_hist_reference },
	{ "hist_edges", test_hist_edges },
	{ "stats_merge", test_stats_merge },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("svc_msg", cases)
