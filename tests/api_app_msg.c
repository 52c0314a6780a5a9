/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the test applications' numbered messages (api_app_msg.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_app_msg.h"
#include "sl_test.h"

#define HDR_LEN 16

struct msg_hdr {
	uint32_t seq;
	uint32_t len;
	uint8_t chan;
	uint8_t pad[3];
	uint32_t sum;
};

_Static_assert(sizeof(struct msg_hdr) == HDR_LEN, "a 16-byte header");

/* Lengths at the edges come first: one byte, the largest, around the header and a cache line. */
static const uint32_t edges[] = { 1, APP_MSG_MAX, 15, 16, 17, 63, 64, 65, 4096, APP_MSG_MAX - 1 };

bool
app_stream_init(struct app_stream *st, uint64_t seed, uint8_t chan, const char *size,
		uint32_t max_message)
{
	bool random = size[0] == 'r';
	unsigned long n = strtoul(size + random, NULL, 10);

	if (n > max_message)
		n = max_message;
	if (n > APP_MSG_MAX)
		n = APP_MSG_MAX;
	memset(st, 0, sizeof(*st));
	st->seed = seed;
	st->chan = chan;
	st->fixed = random ? 0 : (uint32_t)n;
	st->max = (uint32_t)n;
	return n > 0 && chan > 0;
}

static uint64_t
msg_state(const struct app_stream *st, uint32_t seq)
{
	uint64_t s = st->seed ^ (uint64_t)st->chan << 56 ^ (uint64_t)seq << 20;

	return sl_test_mix64(&s);
}

static uint32_t
msg_len(const struct app_stream *st, uint32_t seq)
{
	uint64_t s = msg_state(st, seq) ^ 0x6c656e;
	uint64_t r = sl_test_mix64(&s);
	uint32_t e, lo, len;

	if (st->fixed != 0)
		return st->fixed;
	if (seq < sizeof(edges) / sizeof(edges[0]))
		len = edges[seq];
	else {
		e = 1 +
		    (uint32_t)(r % 16); /* lengths in [2^(e-1), 2^e]: about as many of each order */
		lo = 1u << (e - 1);
		len = lo + (uint32_t)((r >> 8) % (lo + 1));
	}
	return len < st->max ? len : st->max;
}

static uint32_t
checksum(const uint8_t *p, uint32_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len;

	for (uint32_t i = 0; i < len; i += 8) { /* FNV-1a over 64-bit words */
		uint64_t w = 0;

		memcpy(&w, p + i, len - i < 8 ? len - i : 8);
		h = (h ^ w) * 0x100000001b3ull;
	}
	return (uint32_t)(h ^ h >> 32);
}

uint32_t
app_msg_make(const struct app_stream *st, uint32_t seq, uint8_t *buf)
{
	uint32_t len = msg_len(st, seq);
	uint64_t s = msg_state(st, seq);

	for (uint32_t i = 0; i < len; i += 8) {
		uint64_t v = sl_test_mix64(&s);

		memcpy(buf + i, &v, len - i < 8 ? len - i : 8);
	}
	if (len >= HDR_LEN) {
		struct msg_hdr h = { .seq = seq, .len = len, .chan = st->chan };

		h.sum = checksum(buf + HDR_LEN, len - HDR_LEN);
		memcpy(buf, &h, sizeof(h));
	}
	return len;
}

bool
app_msg_check(const struct app_stream *st, uint32_t seq, const uint8_t *data, uint32_t len,
	      uint8_t *scratch, char *why, size_t cap)
{
	uint32_t want = app_msg_make(st, seq, scratch);
	struct msg_hdr h;

	if (len == want && memcmp(data, scratch, len) == 0)
		return true;
	if (len < HDR_LEN) {
		snprintf(why, cap, "chan %u seq %u: %u bytes, want %u (or other bytes)", st->chan,
			 seq, len, want);
		return false;
	}
	memcpy(&h, data, sizeof(h));
	if (h.seq != seq || h.chan != st->chan)
		snprintf(why, cap,
			 "chan %u: seq %u (chan %u) where seq %u was due: lost, "
			 "duplicated or reordered",
			 st->chan, h.seq, h.chan, seq);
	else if (h.len != len || len != want)
		snprintf(why, cap, "chan %u seq %u: %u bytes, header says %u, want %u", st->chan,
			 seq, len, h.len, want);
	else if (checksum(data + HDR_LEN, len - HDR_LEN) != h.sum)
		snprintf(why, cap, "chan %u seq %u: corrupt (checksum)", st->chan, seq);
	else
		snprintf(why, cap, "chan %u seq %u: bytes differ", st->chan, seq);
	return false;
}
