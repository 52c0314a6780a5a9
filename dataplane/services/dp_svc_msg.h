/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the built-in services' messages (sl_wire.h, "service messages") — building and
 * checking them, and the CRC32C of their headers.
 *
 * A message of 32 bytes (SL_SVC_HDR_LEN) or more is a header — magic, version, flags, length,
 * CRC32C over sequence number and send time, sequence number, send time — and a payload; a
 * shorter one is payload alone, with an implied sequence number. Every payload byte is a
 * function of (sequence number, offset): 8-byte little-endian words in an arithmetic sequence
 * from a per-message base, so filling and checking cost an add per word and a receiver checks
 * all of it without storing anything.
 *
 * Plain C, stateless: any thread.
 */
#ifndef DP_SVC_MSG_H
#define DP_SVC_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "sl_wire.h"

/* CRC32C (Castagnoli) continuing from crc (start with 0). */
uint32_t dp_svc_crc32c(uint32_t crc, const void *buf, size_t len);

/* Write message seq of len bytes (len >= 1): header (if len >= SL_SVC_HDR_LEN) and payload. */
void dp_svc_msg_build(uint8_t *buf, uint32_t len, uint64_t seq, uint64_t sent_ns);

/* What dp_svc_msg_check() read from a message. */
struct dp_svc_msg_info {
	bool has_hdr;	  /* false: headerless (shorter than the header) */
	uint8_t flags;	  /* header flags (0 when headerless) */
	uint64_t seq;	  /* from the header, or the implied one */
	uint64_t sent_ns; /* from the header, or 0 */
};

/* Check every byte of a received message. implied_seq is the sequence number a headerless
 * message is taken to have. true if the message is intact. */
bool dp_svc_msg_check(const uint8_t *buf, uint32_t len, uint64_t implied_seq,
		      struct dp_svc_msg_info *info) __rte_warn_unused_result;

#endif /* DP_SVC_MSG_H */
