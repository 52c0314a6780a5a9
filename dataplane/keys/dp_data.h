/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: a received data packet, its 16-byte header decoded once.
 *
 * Data packet (sl_wire.h, docs/protocol.md 5.2): struct sl_data_hdr (type, three reserved bytes,
 * receiver connection id, packet number), then the AEAD ciphertext of the payload, then the
 * tag. The header is the associated data; the packet number is the nonce.
 *
 * On receive the header is read once, as soon as the packet is known to be a data packet (the
 * appliance: dp_net_classify), into a struct dp_data_rx that travels with the packet; every
 * later stage reads it there instead of the bytes (as WireGuard's PACKET_CB): the owner lcore
 * and the session from the receiver id, the keypair (dp_keyset_open / dp_keypair_open) from the
 * receiver id and the packet number, the reliable engine from the packet number.
 *
 * Plain C, stateless; any thread. No DPDK runtime.
 */
#ifndef DP_DATA_H
#define DP_DATA_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>

#include "sl_limits.h"
#include "sl_wire.h"

/* Bytes a data packet adds to its payload: header and tag. */
#define DP_DATA_OVERHEAD (sizeof(struct sl_data_hdr) + SL_TAG_LEN)
/* Largest payload: the whole packet must fit in one IPv4 UDP datagram (65507 bytes). */
#define DP_DATA_MAX_PLAIN (65507 - DP_DATA_OVERHEAD)

static_assert(DP_DATA_OVERHEAD == SL_DATA_OVERHEAD, "one data overhead");
static_assert(DP_DATA_MAX_PLAIN <= UINT16_MAX, "a payload length fits plain_len");

/* A received data packet: what its header says, and where its bytes are. Written by
 * dp_data_rx_decode() only; pkt points into the caller's buffer and is valid as long as it is. */
struct dp_data_rx {
	const uint8_t *pkt; /* the packet: header (the AEAD's associated data), ciphertext, tag */
	uint64_t pn;	    /* packet number (host order): the nonce */
	uint32_t receiver;  /* receiver connection id (host order): one of our keypairs' local_id */
	uint16_t plain_len; /* bytes of ciphertext, and of payload once opened */
	bool reserved_set;  /* a reserved byte is not zero: malformed (see below) */
};

/* Decode the header of the data packet pkt of len bytes into rx. Checks the framing: len from
 * DP_DATA_OVERHEAD to DP_DATA_OVERHEAD + DP_DATA_MAX_PLAIN, type SL_MSG_DATA. Returns 0, or
 * -EBADMSG (rx then unspecified).
 *
 * Reserved bytes that are not zero are recorded in rx->reserved_set, not refused here: the
 * appliance counts a packet for no session as data_unknown_session before it counts it as
 * malformed (data_bad_size), and it only knows whether the session exists on the owner lcore.
 * dp_keyset_open() and dp_keypair_open() refuse such a packet with -EBADMSG before any key is
 * used. */
static inline __rte_warn_unused_result int
dp_data_rx_decode(const uint8_t *pkt, size_t len, struct dp_data_rx *rx)
{
	struct sl_data_hdr hdr;

	if (len < DP_DATA_OVERHEAD || len - DP_DATA_OVERHEAD > DP_DATA_MAX_PLAIN)
		return -EBADMSG;
	memcpy(&hdr, pkt, sizeof(hdr));
	if (hdr.type != SL_MSG_DATA)
		return -EBADMSG;
	rx->pkt = pkt;
	rx->pn = rte_be_to_cpu_64(hdr.pn);
	rx->receiver = rte_be_to_cpu_32(hdr.receiver);
	rx->plain_len = (uint16_t)(len - DP_DATA_OVERHEAD);
	rx->reserved_set = (hdr.reserved[0] | hdr.reserved[1] | hdr.reserved[2]) != 0;
	return 0;
}

#endif /* DP_DATA_H */
