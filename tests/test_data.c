/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the data packet's header, decoded once (dp_data.h) — lengths at and around both
 * bounds, every type byte, each byte of the receiver id and of the packet number in its place,
 * reserved bytes recorded and not refused, and random headers against a naive byte-by-byte
 * reference. (That both opens refuse reserved bytes: test_keypair.c.)
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>

#include "dp_data.h"
#include "sl_test.h"

#define PLAIN	40 /* payload bytes of the packets built here */
#define PKT_LEN (PLAIN + DP_DATA_OVERHEAD)

/* A data header with the given fields, then plain_len bytes of ciphertext and a tag. */
static size_t
make_pkt(uint8_t *b, uint8_t type, const uint8_t reserved[3], uint32_t receiver, uint64_t pn,
	 size_t plain_len)
{
	struct sl_data_hdr h = { .type = type,
				 .receiver = rte_cpu_to_be_32(receiver),
				 .pn = rte_cpu_to_be_64(pn) };

	memcpy(h.reserved, reserved, sizeof(h.reserved));
	memcpy(b, &h, sizeof(h));
	memset(b + sizeof(h), 0xa5, plain_len + SL_TAG_LEN);
	return sizeof(h) + plain_len + SL_TAG_LEN;
}

/* Below the header and tag, the smallest, the largest, one more. */
static void
test_lengths(void)
{
	static uint8_t big[DP_DATA_OVERHEAD + DP_DATA_MAX_PLAIN + 1];
	static const uint8_t zero[3];
	struct dp_data_rx rx;

	make_pkt(big, SL_MSG_DATA, zero, 1, 2, DP_DATA_MAX_PLAIN + 1);
	for (size_t len = 0; len < DP_DATA_OVERHEAD; len++)
		CU_ASSERT_EQUAL(dp_data_rx_decode(big, len, &rx), -EBADMSG);
	CU_ASSERT_EQUAL(dp_data_rx_decode(big, DP_DATA_OVERHEAD, &rx), 0);
	CU_ASSERT_EQUAL(rx.plain_len, 0);
	CU_ASSERT_EQUAL(dp_data_rx_decode(big, DP_DATA_OVERHEAD + 1, &rx), 0);
	CU_ASSERT_EQUAL(rx.plain_len, 1);
	CU_ASSERT_EQUAL(dp_data_rx_decode(big, DP_DATA_OVERHEAD + DP_DATA_MAX_PLAIN, &rx), 0);
	CU_ASSERT_EQUAL(rx.plain_len, DP_DATA_MAX_PLAIN);
	CU_ASSERT_EQUAL(dp_data_rx_decode(big, sizeof(big), &rx), -EBADMSG);
}

/* Only SL_MSG_DATA is a data packet. */
static void
test_type(void)
{
	static const uint8_t zero[3];
	uint8_t b[PKT_LEN];
	size_t len = make_pkt(b, SL_MSG_DATA, zero, 7, 9, 0);
	struct dp_data_rx rx;

	for (unsigned int t = 0; t < 256; t++) {
		b[0] = (uint8_t)t;
		CU_ASSERT_EQUAL(dp_data_rx_decode(b, len, &rx), t == SL_MSG_DATA ? 0 : -EBADMSG);
	}
}

/* Every byte of the receiver id and of the packet number lands where it belongs (big-endian);
 * rx points at the packet. */
static void
test_fields(void)
{
	static const uint8_t zero[3];
	uint8_t b[PKT_LEN];
	size_t len = make_pkt(b, SL_MSG_DATA, zero, 0x81020304, 0xf1e2d3c4b5a69788ull, PLAIN);
	struct dp_data_rx rx;

	CU_ASSERT_EQUAL_FATAL(dp_data_rx_decode(b, len, &rx), 0);
	CU_ASSERT(rx.pkt == b && rx.receiver == 0x81020304 && rx.pn == 0xf1e2d3c4b5a69788ull);
	CU_ASSERT(rx.plain_len == PLAIN && !rx.reserved_set);
	for (unsigned int i = 0; i < 12; i++) {
		memset(b + 4, 0, 12);
		b[4 + i] = 0xff;
		CU_ASSERT_EQUAL_FATAL(dp_data_rx_decode(b, len, &rx), 0);
		if (i < 4) {
			CU_ASSERT(rx.receiver == 0xffu << (8 * (3 - i)) && rx.pn == 0);
		} else {
			CU_ASSERT(rx.pn == 0xffull << (8 * (11 - i)) && rx.receiver == 0);
		}
	}
}

/* Each reserved bit: recorded, nothing else disturbed, the packet not refused here. */
static void
test_reserved(void)
{
	static const uint8_t zero[3];
	uint8_t b[PKT_LEN];
	size_t len = make_pkt(b, SL_MSG_DATA, zero, 5, 6, PLAIN);
	struct dp_data_rx rx;

	for (unsigned int bit = 0; bit < 24; bit++) {
		b[1 + bit / 8] = (uint8_t)(1u << (bit % 8));
		CU_ASSERT_EQUAL(dp_data_rx_decode(b, len, &rx), 0);
		CU_ASSERT(rx.reserved_set && rx.receiver == 5 && rx.pn == 6 &&
			  rx.plain_len == PLAIN);
		b[1 + bit / 8] = 0;
	}
	CU_ASSERT_EQUAL(dp_data_rx_decode(b, len, &rx), 0);
	CU_ASSERT_FALSE(rx.reserved_set);
}

/* The naive reference: byte by byte, as docs/protocol.md 5.2 draws the header. */
static bool
ref_decode(const uint8_t *p, size_t len, uint32_t *receiver, uint64_t *pn, bool *reserved)
{
	if (len < 32 || len > 65507 || p[0] != 4)
		return false;
	*reserved = p[1] != 0 || p[2] != 0 || p[3] != 0;
	*receiver = 0;
	for (int i = 4; i < 8; i++)
		*receiver = *receiver * 256 + p[i];
	*pn = 0;
	for (int i = 8; i < 16; i++)
		*pn = *pn * 256 + p[i];
	return true;
}

/* Random headers (type and reserved bytes biased towards valid) and lengths. */
static void
test_random_against_reference(void)
{
	uint64_t seed = 0x5eed;
	unsigned int ok = 0;

	for (int i = 0; i < 20000; i++) {
		uint8_t b[48];
		uint64_t r = sl_test_mix64(&seed);
		size_t len = (size_t)(r % sizeof(b));
		struct dp_data_rx rx;
		uint32_t receiver;
		uint64_t pn;
		bool reserved, want;

		for (size_t k = 0; k < sizeof(b); k += 8) {
			uint64_t v = sl_test_mix64(&seed);

			memcpy(b + k, &v, 8);
		}
		if (r & (1u << 8))
			b[0] = SL_MSG_DATA;
		if (r & (1u << 9))
			memset(b + 1, 0, 3);
		want = ref_decode(b, len, &receiver, &pn, &reserved);
		CU_ASSERT_EQUAL_FATAL(dp_data_rx_decode(b, len, &rx), want ? 0 : -EBADMSG);
		if (!want)
			continue;
		ok++;
		CU_ASSERT(rx.pkt == b && rx.receiver == receiver && rx.pn == pn &&
			  rx.reserved_set == reserved && rx.plain_len == len - 32);
	}
	CU_ASSERT(ok > 1000);
}

static CU_TestInfo cases[] = {
	{ "lengths at and around both bounds", test_lengths },
	{ "only the data type", test_type },
	{ "each byte of receiver id and packet number in its place", test_fields },
	{ "reserved bits recorded, not refused", test_reserved },
	{ "20,000 random headers against a byte-by-byte reference", test_random_against_reference },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("data", cases)
