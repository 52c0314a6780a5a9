/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: service messages (see dp_svc_msg.h) — CRC32C, the payload pattern, building and
 * checking messages.
 */
#include <string.h>

#include <rte_byteorder.h>

#include "dp_svc_msg.h"

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

/* --- CRC32C --------------------------------------------------------------------------------- */
#if defined(__SSE4_2__)
static uint32_t
crc32c_raw(uint32_t c, const uint8_t *p, size_t len)
{
	uint64_t c64 = c;

	for (; len >= 8; len -= 8, p += 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		c64 = _mm_crc32_u64(c64, w);
	}
	c = (uint32_t)c64;
	while (len-- > 0)
		c = _mm_crc32_u8(c, *p++);
	return c;
}
#else
#define CRC32C_POLY 0x82f63b78u /* reflected Castagnoli polynomial */

static uint32_t crc32c_table[256];

/* Filled before main(), so the lcores only ever read it. */
static void __attribute__((constructor)) crc32c_table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? c >> 1 ^ CRC32C_POLY : c >> 1;
		crc32c_table[i] = c;
	}
}

static uint32_t
crc32c_raw(uint32_t c, const uint8_t *p, size_t len)
{
	while (len-- > 0)
		c = crc32c_table[(c ^ *p++) & 0xff] ^ c >> 8;
	return c;
}
#endif

uint32_t
dp_svc_crc32c(uint32_t crc, const void *buf, size_t len)
{
	return ~crc32c_raw(~crc, buf, len);
}

/* --- payload pattern ------------------------------------------------------------------------
 * Word i of message seq is base(seq) + i * K (K odd): every word of a message differs, and
 * messages differ by their base. Filling and checking are vector adds, so the services cost
 * the lcores little next to the transport they measure. */
#define PATTERN_K 0x9e3779b97f4a7c15ull

static inline uint64_t
pattern_base(uint64_t seq)
{
	uint64_t z = seq * PATTERN_K + 0x736c7569636521ull;

	z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ z >> 27) * 0x94d049bb133111ebull;
	return z ^ z >> 31;
}

/* Four words at a time in two 16-byte vectors (GCC vector extensions): the compiler leaves a
 * loop of 64-bit inductions scalar, one 8-byte store or load per cycle at best. */
typedef uint64_t pattern_v __attribute__((vector_size(16)));

struct pattern_run {
	pattern_v a, b; /* words i .. i+3 */
	size_t i;
};

static inline struct pattern_run
pattern_start(uint64_t base)
{
	struct pattern_run r = { .a = { base, base + PATTERN_K }, .i = 0 };

	r.b = r.a + 2 * PATTERN_K;
	return r;
}

static inline void
pattern_next(struct pattern_run *r)
{
	r->a += 4 * PATTERN_K;
	r->b += 4 * PATTERN_K;
	r->i += 4;
}

static void
pattern_fill(uint8_t *p, size_t len, uint64_t seq)
{
	uint64_t base = pattern_base(seq), w;
	size_t words = len / 8;
	struct pattern_run r = pattern_start(base);

	if (RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN)
		for (; r.i + 4 <= words; pattern_next(&r)) {
			memcpy(p + r.i * 8, &r.a, 16);
			memcpy(p + r.i * 8 + 16, &r.b, 16);
		}
	for (size_t i = r.i; i < words; i++) {
		w = rte_cpu_to_le_64(base + i * PATTERN_K);
		memcpy(p + i * 8, &w, 8);
	}
	w = rte_cpu_to_le_64(base + words * PATTERN_K);
	memcpy(p + words * 8, &w, len % 8);
}

static bool
pattern_check(const uint8_t *p, size_t len, uint64_t seq)
{
	uint64_t base = pattern_base(seq), w, got, diff = 0;
	size_t words = len / 8;
	struct pattern_run r = pattern_start(base);
	pattern_v acc = { 0, 0 }, x, y;

	if (RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN)
		for (; r.i + 4 <= words; pattern_next(&r)) { /* no early exit */
			memcpy(&x, p + r.i * 8, 16);
			memcpy(&y, p + r.i * 8 + 16, 16);
			acc |= (x ^ r.a) | (y ^ r.b);
		}
	diff = acc[0] | acc[1];
	for (size_t i = r.i; i < words; i++) {
		memcpy(&got, p + i * 8, 8);
		diff |= got ^ rte_cpu_to_le_64(base + i * PATTERN_K);
	}
	w = rte_cpu_to_le_64(base + words * PATTERN_K);
	return diff == 0 && memcmp(p + words * 8, &w, len % 8) == 0;
}

/* --- messages ------------------------------------------------------------------------------- */
/* CRC32C of the sequence number and send time; the payload is checked word by word against
 * its pattern, which says more than a checksum of it would. */
static uint32_t
msg_checksum(const uint8_t *buf, uint32_t len)
{
	size_t from = offsetof(struct sl_svc_hdr, seq);

	(void)len;
	return dp_svc_crc32c(0, buf + from, SL_SVC_HDR_LEN - from);
}

void
dp_svc_msg_build(uint8_t *buf, uint32_t len, uint64_t seq, uint64_t sent_ns)
{
	struct sl_svc_hdr *h = (struct sl_svc_hdr *)buf;

	if (len < SL_SVC_HDR_LEN) {
		pattern_fill(buf, len, seq);
		return;
	}
	h->magic = rte_cpu_to_be_32(SL_SVC_MAGIC);
	h->version = SL_SVC_VERSION;
	h->flags = 0;
	h->reserved = 0;
	h->len = rte_cpu_to_be_32(len);
	h->seq = rte_cpu_to_be_64(seq);
	h->sent_ns = rte_cpu_to_be_64(sent_ns);
	pattern_fill(buf + SL_SVC_HDR_LEN, len - SL_SVC_HDR_LEN, seq);
	h->checksum = rte_cpu_to_be_32(msg_checksum(buf, len));
}

bool
dp_svc_msg_check(const uint8_t *buf, uint32_t len, uint64_t implied_seq,
		 struct dp_svc_msg_info *info)
{
	const struct sl_svc_hdr *h = (const struct sl_svc_hdr *)buf;

	memset(info, 0, sizeof(*info));
	if (len < SL_SVC_HDR_LEN) {
		info->seq = implied_seq;
		return pattern_check(buf, len, implied_seq);
	}
	info->has_hdr = true;
	info->flags = h->flags;
	info->seq = rte_be_to_cpu_64(h->seq);
	info->sent_ns = rte_be_to_cpu_64(h->sent_ns);
	if (rte_be_to_cpu_32(h->magic) != SL_SVC_MAGIC || h->version != SL_SVC_VERSION ||
	    (h->flags & ~SL_SVC_ECHOED) != 0 || h->reserved != 0 || rte_be_to_cpu_32(h->len) != len)
		return false;
	if (rte_be_to_cpu_32(h->checksum) != msg_checksum(buf, len))
		return false;
	return pattern_check(buf + SL_SVC_HDR_LEN, len - SL_SVC_HDR_LEN, info->seq);
}
