/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: frame encoding and decoding (formats in sl_wire.h).
 *
 * The decoder is the first code to touch a peer's decrypted bytes: it checks everything that
 * can be checked without connection state (sizes, reserved bytes, ranges that would underflow,
 * flags that contradict lengths) and never reads past the buffer. Semantic checks (does the
 * channel exist, is the data within credit) belong to the connection.
 *
 * Plain C, no state; any thread.
 */
#ifndef DP_FRAME_H
#define DP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>

#include "sl_wire.h"

/* Acknowledged packet numbers, decoded: ranges of inclusive [lo, hi], r[0] holding the largest,
 * going down, disjoint and not adjacent. */
struct dp_ack_range {
	uint64_t lo, hi;
};

struct dp_ack_ranges {
	uint64_t ack_delay_ns;
	uint8_t n; /* 1 .. SL_MAX_ACK_RANGES + 1 */
	struct dp_ack_range r[SL_MAX_ACK_RANGES + 1];
};

/* One decoded frame. Pointers point into the packet buffer. */
struct dp_frame {
	uint8_t type; /* SL_FRAME_* */
	union {
		uint64_t token; /* PING, PONG */
		struct {
			uint8_t chan;
			bool last;
			uint16_t len;
			uint32_t msg_len;
			uint32_t offset;
			uint64_t msg_id;
			uint64_t msg_base;
			const uint8_t *data;
		} data;
		struct {
			uint8_t chan;
			uint16_t len;
			uint32_t seq;
			const uint8_t *data;
		} dgram;
		struct {
			uint8_t chan; /* MAX_CHAN */
			uint64_t max;
		} credit;
		struct {
			bool graceful;
			uint16_t reason;
		} close;
	};
};

/* Decode the frame at buf + *off (len bytes in the buffer). Returns 1 and advances *off past
 * it; 0 at the end of the frames (end of buffer, or only PADDING left); -EBADMSG for a
 * malformed frame; -ENOTSUP for an unknown frame type. An ACK is decoded into *ack. */
int dp_frame_parse(const uint8_t *buf, size_t len, size_t *off, struct dp_frame *f,
		   struct dp_ack_ranges *ack) __rte_warn_unused_result;

/* Does a frame of this type require the receiver to acknowledge the packet? */
static inline bool
dp_frame_ack_eliciting(uint8_t type)
{
	return type != SL_FRAME_ACK && type != SL_FRAME_PADDING && type != SL_FRAME_CLOSE;
}

/* Encoders: each writes one frame at p (cap bytes available) and returns its size, or 0 if it
 * does not fit. */
size_t dp_frame_put_ping(uint8_t *p, size_t cap, uint8_t type, uint64_t token);
/* Writes as many ranges as fit (newest first); returns 0 if not even the first fits. */
size_t dp_frame_put_ack(uint8_t *p, size_t cap, const struct dp_ack_ranges *a);
/* Header of a DATA frame followed by len bytes copied from data (inline: one or more per
 * packet on the send path). The header's fields are stored straight into the packet: a header
 * assembled on the stack and copied over would be read back with wide loads spanning narrow
 * stores, which stalls store forwarding. */
static inline size_t
dp_frame_put_data(uint8_t *p, size_t cap, uint8_t chan, uint64_t msg_id, uint64_t msg_base,
		  uint32_t msg_len, uint32_t offset, const uint8_t *data, uint16_t len)
{
	struct sl_frame_data *w = (struct sl_frame_data *)p;

	if (cap < sizeof(*w) + len)
		return 0;
	w->type = SL_FRAME_DATA;
	w->flags = offset + len == msg_len ? SL_DATA_LAST : 0;
	w->channel = chan;
	w->reserved0 = 0;
	w->length = rte_cpu_to_be_16(len);
	w->reserved1 = 0;
	w->msg_len = rte_cpu_to_be_32(msg_len);
	w->offset = rte_cpu_to_be_32(offset);
	w->msg_id = rte_cpu_to_be_64(msg_id);
	w->msg_base = rte_cpu_to_be_64(msg_base);
	memcpy(p + sizeof(*w), data, len);
	return sizeof(*w) + len;
}

size_t dp_frame_put_datagram(uint8_t *p, size_t cap, uint8_t chan, uint32_t seq,
			     const uint8_t *data, uint16_t len);
size_t dp_frame_put_credit(uint8_t *p, size_t cap, uint8_t type, uint8_t chan, uint64_t max);
size_t dp_frame_put_close(uint8_t *p, size_t cap, bool graceful, uint16_t reason);

#endif /* DP_FRAME_H */
