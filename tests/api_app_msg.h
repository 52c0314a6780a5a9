/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the numbered messages of the test applications (api_app.c) — every length and byte a
 * function of (seed, channel, sequence number), so the receiver checks each message against
 * what it must be without being told.
 *
 * A message of 16 bytes or more starts with a header: its sequence number, length, channel
 * and a checksum of the rest; a message that is not what it must be is then told apart as one
 * out of order (lost, duplicated, reordered: another sequence number), cut, or corrupt (its
 * checksum). The rest, and messages under 16 bytes, are SplitMix64 output.
 */
#ifndef API_APP_MSG_H
#define API_APP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APP_MSG_MAX 65536 /* the largest message the test applications make */

/* One stream of messages: a channel's, from one sender. */
struct app_stream {
	uint64_t seed;
	uint8_t chan;
	uint32_t fixed; /* every message this long, or 0: */
	uint32_t max;	/* lengths drawn from 1..max, log-uniform (the first ones at the edges) */
};

/* size: "N" (fixed) or "rN" (random up to N); bounded by max_message and APP_MSG_MAX. */
bool app_stream_init(struct app_stream *st, uint64_t seed, uint8_t chan, const char *size,
		     uint32_t max_message);

/* Message seq of the stream into buf (APP_MSG_MAX bytes): its length. */
uint32_t app_msg_make(const struct app_stream *st, uint32_t seq, uint8_t *buf);

/* Is (data, len) message seq of the stream? scratch: APP_MSG_MAX bytes. If not, why says
 * what is wrong with it. */
bool app_msg_check(const struct app_stream *st, uint32_t seq, const uint8_t *data, uint32_t len,
		   uint8_t *scratch, char *why, size_t cap);

#endif /* API_APP_MSG_H */
