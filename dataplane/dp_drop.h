/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: why the dataplane dropped a packet — one X-macro, one counter per reason per lcore.
 *
 * DP_DROPS(X) is the single list: it generates enum dp_drop_reason (DP_DROP_<NAME>), the names
 * dp_drop_name() returns (the strings telemetry's /sluice/drops shows) and the size of the
 * per-lcore counter block. Add a reason here and everything follows.
 *
 * Counters: each lcore owns one struct dp_drop_counters (cache-aligned, in its lcore context)
 * and is the only writer; readers (telemetry on the control thread) sum the lcores' blocks with
 * dp_drop_add() and may see a count a few packets old, never a torn one (aligned 64-bit
 * stores). The reliable engine's per-connection reasons are separate (DP_CONN_DROPS in
 * dp_conn.h).
 *
 * Plain C: no DPDK runtime.
 *
 * Reasons:
 *   -- Ethernet
 *   eth_too_short          shorter than an Ethernet header
 *   eth_not_for_us         dst MAC not ours (nor broadcast ARP)
 *   eth_bad_source         src MAC broadcast, multicast, all zero or ours: nothing we may
 *                          answer (an echo or handshake answer would go to the whole segment)
 *   eth_unknown_type       neither IPv4 nor ARP
 *   vlan                   802.1Q / 802.1ad tagged (or stripped)
 *   multi_segment          chained mbuf that could not be made flat
 *   -- ARP
 *   arp_malformed          short, not Ethernet/IPv4, bad op/sender
 *   arp_not_for_us         target is not our address
 *   -- IPv4 (RFC 791, RFC 1122)
 *   ipv4_too_short         frame shorter than a 20-byte header
 *   ipv4_bad_version       version != 4
 *   ipv4_bad_ihl           header length < 20
 *   ipv4_options           header length > 20: options unsupported
 *   ipv4_bad_checksum      header checksum
 *   ipv4_bad_length        total length < 20 or beyond the frame
 *   ipv4_fragment          MF set or offset != 0
 *   ipv4_ttl_zero          TTL 0
 *   ipv4_not_for_us        destination is not our address
 *   ipv4_bad_source        zero, broadcast, multicast, ours...
 *   ipv4_unknown_proto     neither UDP nor ICMP
 *   -- UDP (RFC 768)
 *   udp_too_short          IPv4 payload shorter than a UDP header
 *   udp_bad_length         UDP length != IPv4 payload length
 *   udp_bad_checksum       non-zero checksum that does not verify
 *   udp_wrong_port         not our UDP port
 *   -- ICMP (RFC 792)
 *   icmp_malformed         shorter than an echo header
 *   icmp_bad_checksum      over the whole ICMP message
 *   icmp_not_echo          anything but an echo request (8/0)
 *   icmp_too_big           echo request larger than the port's MTU: no reply could leave
 *   -- sluice messages (sl_wire.h)
 *   sluice_too_short       shorter than its type's minimum
 *   sluice_unknown_type    first byte not an SL_MSG_*
 *   data_unknown_session   no keypair for the receiver id
 *   data_bad_size          data packet of impossible size
 *   data_decrypt_failed    AEAD tag did not verify
 *   data_replay            packet number seen or too old
 *   data_key_expired       keypair past its reject limits
 *   -- relaying (sl_relay_hdr; dataplane/dp_relay.h)
 *   relay_malformed        relay header with reserved bytes set or circuit 0, or wrapping
 *                          no message (a relay header, an unknown type, too short)
 *   relay_unknown_circuit  RELAY_TO for a circuit this node does not forward (none, ended)
 *   relay_bad_source       RELAY_TO from another address than the circuit end's
 *   relay_limit            the circuit carried its byte limit
 *   relay_too_big          larger than the outgoing port's MTU
 *   -- queues and resources
 *   handshake_queue_full   ring to the control plane full
 *   handoff_queue_full     ring to the owner lcore full
 *   tx_queue_full          the port did not take it
 *   port_down              the port is being reconnected (a memif client whose server left)
 *   no_mbuf                mempool empty
 *   no_route               destination not on-link and no gateway, or no ARP entry
 *   -- control channel (channel 0; messages, not packets: dp_cmd.h)
 *   control_too_large      received, longer than SL_CONTROL_MSG_MAX
 *   control_queue_full     received, the event ring to the control thread had no room to
 *                          spare (the engine had acknowledged it: best effort, counted)
 *   control_no_memory      received, no memory for its copy
 *   control_send_stale     to send, but the session is gone (closed, or its slot reused)
 *   control_send_refused   to send, refused by the engine (channel 0's queue full, closing)
 *   -- impairment stage (tests; dataplane/dp_impair.h)
 *   impair_loss            dropped on purpose
 *   impair_corrupt         one bit flipped (delivered, then dropped)
 *   impair_outage_rx       received during an outage of the port (ports[].impair.outages)
 *   impair_outage_tx       to be sent on a port during one of its outages
 */
#ifndef DP_DROP_H
#define DP_DROP_H

#include <assert.h>
#include <stdint.h>

#include <rte_common.h>

#define DP_DROPS(X)                                     \
	X(ETH_TOO_SHORT, "eth_too_short")               \
	X(ETH_NOT_FOR_US, "eth_not_for_us")             \
	X(ETH_BAD_SOURCE, "eth_bad_source")             \
	X(ETH_UNKNOWN_TYPE, "eth_unknown_type")         \
	X(VLAN, "vlan")                                 \
	X(MULTI_SEGMENT, "multi_segment")               \
	X(ARP_MALFORMED, "arp_malformed")               \
	X(ARP_NOT_FOR_US, "arp_not_for_us")             \
	X(IPV4_TOO_SHORT, "ipv4_too_short")             \
	X(IPV4_BAD_VERSION, "ipv4_bad_version")         \
	X(IPV4_BAD_IHL, "ipv4_bad_ihl")                 \
	X(IPV4_OPTIONS, "ipv4_options")                 \
	X(IPV4_BAD_CHECKSUM, "ipv4_bad_checksum")       \
	X(IPV4_BAD_LENGTH, "ipv4_bad_length")           \
	X(IPV4_FRAGMENT, "ipv4_fragment")               \
	X(IPV4_TTL_ZERO, "ipv4_ttl_zero")               \
	X(IPV4_NOT_FOR_US, "ipv4_not_for_us")           \
	X(IPV4_BAD_SOURCE, "ipv4_bad_source")           \
	X(IPV4_UNKNOWN_PROTO, "ipv4_unknown_proto")     \
	X(UDP_TOO_SHORT, "udp_too_short")               \
	X(UDP_BAD_LENGTH, "udp_bad_length")             \
	X(UDP_BAD_CHECKSUM, "udp_bad_checksum")         \
	X(UDP_WRONG_PORT, "udp_wrong_port")             \
	X(ICMP_MALFORMED, "icmp_malformed")             \
	X(ICMP_BAD_CHECKSUM, "icmp_bad_checksum")       \
	X(ICMP_NOT_ECHO, "icmp_not_echo")               \
	X(ICMP_TOO_BIG, "icmp_too_big")                 \
	X(SLUICE_TOO_SHORT, "sluice_too_short")         \
	X(SLUICE_UNKNOWN_TYPE, "sluice_unknown_type")   \
	X(DATA_UNKNOWN_SESSION, "data_unknown_session") \
	X(DATA_BAD_SIZE, "data_bad_size")               \
	X(DATA_DECRYPT_FAILED, "data_decrypt_failed")   \
	X(DATA_REPLAY, "data_replay")                   \
	X(DATA_KEY_EXPIRED, "data_key_expired")         \
	X(RELAY_MALFORMED, "relay_malformed")           \
	X(RELAY_UNKNOWN_CIRCUIT, "relay_unknown_circuit") \
	X(RELAY_BAD_SOURCE, "relay_bad_source")         \
	X(RELAY_LIMIT, "relay_limit")                   \
	X(RELAY_TOO_BIG, "relay_too_big")               \
	X(HANDSHAKE_QUEUE_FULL, "handshake_queue_full") \
	X(HANDOFF_QUEUE_FULL, "handoff_queue_full")     \
	X(TX_QUEUE_FULL, "tx_queue_full")               \
	X(TX_CTL_QUEUE_FULL, "tx_ctl_queue_full")       \
	X(PORT_DOWN, "port_down")                       \
	X(NO_MBUF, "no_mbuf")                           \
	X(NO_ROUTE, "no_route")                         \
	X(CONTROL_TOO_LARGE, "control_too_large")       \
	X(CONTROL_QUEUE_FULL, "control_queue_full")     \
	X(CONTROL_NO_MEMORY, "control_no_memory")       \
	X(CONTROL_SEND_STALE, "control_send_stale")     \
	X(CONTROL_SEND_REFUSED, "control_send_refused") \
	X(IMPAIR_LOSS, "impair_loss")                   \
	X(IMPAIR_CORRUPT, "impair_corrupt")             \
	X(IMPAIR_OUTAGE_RX, "impair_outage_rx")         \
	X(IMPAIR_OUTAGE_TX, "impair_outage_tx")

enum dp_drop_reason {
#define DP_DROP_ENUM(name, str) DP_DROP_##name,
	DP_DROPS(DP_DROP_ENUM)
#undef DP_DROP_ENUM
		DP_DROP_COUNT
};

/* Room for reasons in fixed-size messages that carry a counter block (dp_cmd.h). */
#define DP_DROP_MAX 64
static_assert(DP_DROP_COUNT <= DP_DROP_MAX, "drop reasons fit the counter messages");

/* One lcore's counters. Owner lcore writes, anyone reads. */
struct dp_drop_counters {
	uint64_t n[DP_DROP_COUNT];
} __rte_cache_aligned;

/* "eth_too_short" etc.; "unknown" for a value out of range. */
const char *dp_drop_name(enum dp_drop_reason why);

/* The reason named s, or -1. */
int dp_drop_from_name(const char *s);

/* The reason for a negative errno a data-path stage returned: the one place where the keys
 * layer's errors (dp_keypair.h: one errno per reason) become drop reasons.
 *   -EBADMSG      data_bad_size         malformed data packet
 *   -ENOKEY       data_unknown_session  no keypair for the receiver id (or no key to send)
 *   -EKEYEXPIRED  data_key_expired      keypair past its reject limits
 *   -EALREADY     data_replay           replayed or too old
 *   -EPERM        data_decrypt_failed   the tag did not verify
 *   anything else no_mbuf               no memory or no room (-ENOMEM, -ENOSPC, -EMSGSIZE...)
 * Any thread. */
enum dp_drop_reason dp_drop_from_errno(int err);

/* Owner lcore only. */
static inline void
dp_drop_count(struct dp_drop_counters *c, enum dp_drop_reason why, uint64_t n)
{
	c->n[why] += n;
}

/* sum += one lcore's block (telemetry, tests). */
void dp_drop_add(struct dp_drop_counters *sum, const struct dp_drop_counters *c);

/* Every drop in the block. */
uint64_t dp_drop_total(const struct dp_drop_counters *c);

#endif /* DP_DROP_H */
