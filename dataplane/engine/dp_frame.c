/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: frame encoding and decoding (see dp_frame.h).
 */
#include <errno.h>
#include <string.h>

#include "dp_frame.h"

static bool
zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static int
parse_ping(const uint8_t *p, size_t avail, struct dp_frame *f, size_t *used)
{
	struct sl_frame_ping w;

	if (avail < sizeof(w))
		return -EBADMSG;
	memcpy(&w, p, sizeof(w));
	if (!zero(w.reserved, sizeof(w.reserved)))
		return -EBADMSG;
	f->token = rte_be_to_cpu_64(w.token);
	*used = sizeof(w);
	return 1;
}

/* Ranges going down from largest; any that would run below packet number 0 is malformed. */
static int
parse_ack(const uint8_t *p, size_t avail, struct dp_ack_ranges *a, size_t *used)
{
	struct sl_frame_ack w;
	struct sl_ack_range r;
	uint64_t largest, first;

	if (avail < sizeof(w))
		return -EBADMSG;
	memcpy(&w, p, sizeof(w));
	largest = rte_be_to_cpu_64(w.largest);
	first = rte_be_to_cpu_64(w.first_range);
	if (w.reserved != 0 || w.n_ranges > SL_MAX_ACK_RANGES || first > largest ||
	    avail < sizeof(w) + w.n_ranges * sizeof(r))
		return -EBADMSG;
	a->ack_delay_ns = (uint64_t)rte_be_to_cpu_32(w.ack_delay_us) * 1000;
	a->r[0].hi = largest;
	a->r[0].lo = largest - first;
	a->n = 1;
	for (unsigned int i = 0; i < w.n_ranges; i++) {
		uint64_t prev_lo = a->r[a->n - 1].lo, gap, len, hi;

		memcpy(&r, p + sizeof(w) + i * sizeof(r), sizeof(r));
		gap = rte_be_to_cpu_32(r.gap);
		len = rte_be_to_cpu_32(r.len);
		if (prev_lo < gap + 2)
			return -EBADMSG;
		hi = prev_lo - gap - 2;
		if (hi < len)
			return -EBADMSG;
		a->r[a->n].hi = hi;
		a->r[a->n].lo = hi - len;
		a->n++;
	}
	*used = sizeof(w) + w.n_ranges * sizeof(r);
	return 1;
}

static int
parse_data(const uint8_t *p, size_t avail, struct dp_frame *f, size_t *used)
{
	struct sl_frame_data w;
	uint32_t end;

	if (avail < sizeof(w))
		return -EBADMSG;
	memcpy(&w, p, sizeof(w));
	f->data.chan = w.channel;
	f->data.last = (w.flags & SL_DATA_LAST) != 0;
	f->data.len = rte_be_to_cpu_16(w.length);
	f->data.msg_len = rte_be_to_cpu_32(w.msg_len);
	f->data.offset = rte_be_to_cpu_32(w.offset);
	f->data.msg_id = rte_be_to_cpu_64(w.msg_id);
	f->data.msg_base = rte_be_to_cpu_64(w.msg_base);
	f->data.data = p + sizeof(w);
	end = f->data.offset + f->data.len; /* both < 2^32 and len < 2^16: checked below */
	if ((w.flags & ~SL_DATA_LAST) != 0 || w.reserved0 != 0 || w.reserved1 != 0 ||
	    f->data.len == 0 || avail - sizeof(w) < f->data.len)
		return -EBADMSG;
	if (f->data.offset > f->data.msg_len || f->data.msg_len - f->data.offset < f->data.len)
		return -EBADMSG;
	if (f->data.last != (end == f->data.msg_len))
		return -EBADMSG;
	if (f->data.msg_base > UINT64_MAX - f->data.msg_len)
		return -EBADMSG;
	*used = sizeof(w) + f->data.len;
	return 1;
}

static int
parse_datagram(const uint8_t *p, size_t avail, struct dp_frame *f, size_t *used)
{
	struct sl_frame_datagram w;

	if (avail < sizeof(w))
		return -EBADMSG;
	memcpy(&w, p, sizeof(w));
	f->dgram.chan = w.channel;
	f->dgram.len = rte_be_to_cpu_16(w.length);
	f->dgram.seq = rte_be_to_cpu_32(w.seq);
	f->dgram.data = p + sizeof(w);
	if (f->dgram.len == 0 || avail - sizeof(w) < f->dgram.len)
		return -EBADMSG;
	*used = sizeof(w) + f->dgram.len;
	return 1;
}

static int
parse_credit(const uint8_t *p, size_t avail, struct dp_frame *f, size_t *used)
{
	struct sl_frame_credit w;

	if (avail < sizeof(w))
		return -EBADMSG;
	memcpy(&w, p, sizeof(w));
	if (!zero(w.reserved, sizeof(w.reserved)) ||
	    (w.type != SL_FRAME_MAX_CHAN && w.channel != 0))
		return -EBADMSG;
	f->credit.chan = w.channel;
	f->credit.max = rte_be_to_cpu_64(w.max);
	*used = sizeof(w);
	return 1;
}

static int
parse_close(const uint8_t *p, size_t avail, struct dp_frame *f, size_t *used)
{
	struct sl_frame_close w;

	if (avail < sizeof(w))
		return -EBADMSG;
	memcpy(&w, p, sizeof(w));
	if ((w.flags & ~SL_CLOSE_GRACEFUL) != 0 || w.reserved != 0)
		return -EBADMSG;
	f->close.graceful = (w.flags & SL_CLOSE_GRACEFUL) != 0;
	f->close.reason = rte_be_to_cpu_16(w.reason);
	*used = sizeof(w);
	return 1;
}

int
dp_frame_parse(const uint8_t *buf, size_t len, size_t *off, struct dp_frame *f,
	       struct dp_ack_ranges *ack)
{
	const uint8_t *p = buf + *off;
	size_t avail = len - *off, used = 0;
	int rc;

	if (*off >= len)
		return 0;
	f->type = p[0];
	switch (f->type) {
	case SL_FRAME_PADDING: /* padding runs to the end of the packet */
		if (!zero(p, avail))
			return -EBADMSG;
		*off = len;
		return 0;
	case SL_FRAME_PING:
	case SL_FRAME_PONG:
		rc = parse_ping(p, avail, f, &used);
		break;
	case SL_FRAME_ACK:
		rc = parse_ack(p, avail, ack, &used);
		break;
	case SL_FRAME_DATA:
		rc = parse_data(p, avail, f, &used);
		break;
	case SL_FRAME_DATAGRAM:
		rc = parse_datagram(p, avail, f, &used);
		break;
	case SL_FRAME_MAX_DATA:
	case SL_FRAME_MAX_CHAN:
	case SL_FRAME_MAX_CHAN_DEFAULT:
		rc = parse_credit(p, avail, f, &used);
		break;
	case SL_FRAME_CLOSE:
		rc = parse_close(p, avail, f, &used);
		break;
	default:
		return -ENOTSUP;
	}
	if (rc > 0)
		*off += used;
	return rc;
}

/* --- encoders ------------------------------------------------------------------------------- */

size_t
dp_frame_put_ping(uint8_t *p, size_t cap, uint8_t type, uint64_t token)
{
	struct sl_frame_ping w = { .type = type, .token = rte_cpu_to_be_64(token) };

	if (cap < sizeof(w))
		return 0;
	memcpy(p, &w, sizeof(w));
	return sizeof(w);
}

/* Fields are stored straight into the packet (see dp_frame_put_data). */
size_t
dp_frame_put_ack(uint8_t *p, size_t cap, const struct dp_ack_ranges *a)
{
	struct sl_frame_ack *w = (struct sl_frame_ack *)p;
	struct sl_ack_range *r = (struct sl_ack_range *)(w + 1);
	uint64_t delay_us = a->ack_delay_ns / 1000;
	size_t fit;

	if (cap < sizeof(*w) || a->n == 0)
		return 0;
	fit = RTE_MIN((size_t)(a->n - 1), (cap - sizeof(*w)) / sizeof(*r));
	fit = RTE_MIN(fit, (size_t)SL_MAX_ACK_RANGES);
	w->type = SL_FRAME_ACK;
	w->n_ranges = (uint8_t)fit;
	w->reserved = 0;
	w->ack_delay_us = rte_cpu_to_be_32(delay_us > UINT32_MAX ? UINT32_MAX : (uint32_t)delay_us);
	w->largest = rte_cpu_to_be_64(a->r[0].hi);
	w->first_range = rte_cpu_to_be_64(a->r[0].hi - a->r[0].lo);
	for (size_t i = 1; i <= fit; i++) {
		r[i - 1].gap = rte_cpu_to_be_32((uint32_t)(a->r[i - 1].lo - a->r[i].hi - 2));
		r[i - 1].len = rte_cpu_to_be_32((uint32_t)(a->r[i].hi - a->r[i].lo));
	}
	return sizeof(*w) + fit * sizeof(*r);
}

size_t
dp_frame_put_datagram(uint8_t *p, size_t cap, uint8_t chan, uint32_t seq, const uint8_t *data,
		      uint16_t len)
{
	struct sl_frame_datagram w = {
		.type = SL_FRAME_DATAGRAM,
		.channel = chan,
		.length = rte_cpu_to_be_16(len),
		.seq = rte_cpu_to_be_32(seq),
	};

	if (cap < sizeof(w) + len)
		return 0;
	memcpy(p, &w, sizeof(w));
	memcpy(p + sizeof(w), data, len);
	return sizeof(w) + len;
}

size_t
dp_frame_put_credit(uint8_t *p, size_t cap, uint8_t type, uint8_t chan, uint64_t max)
{
	struct sl_frame_credit w = {
		.type = type,
		.channel = type == SL_FRAME_MAX_CHAN ? chan : 0,
		.max = rte_cpu_to_be_64(max),
	};

	if (cap < sizeof(w))
		return 0;
	memcpy(p, &w, sizeof(w));
	return sizeof(w);
}

size_t
dp_frame_put_close(uint8_t *p, size_t cap, bool graceful, uint16_t reason)
{
	struct sl_frame_close w = {
		.type = SL_FRAME_CLOSE,
		.flags = graceful ? SL_CLOSE_GRACEFUL : 0,
		.reason = rte_cpu_to_be_16(reason),
	};

	if (cap < sizeof(w))
		return 0;
	memcpy(p, &w, sizeof(w));
	return sizeof(w);
}
