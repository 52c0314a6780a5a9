/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: every structure that goes on the wire, in one header.
 *
 * Rules: fixed-size structs, explicit (big-endian, network) byte order, no enums in wire
 * structs, sizes and key offsets checked at compile time. docs/protocol.md describes each
 * message; keep the two in step.
 */
#ifndef SL_WIRE_H
#define SL_WIRE_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_common.h>

#include "sl_limits.h"

/* --- first byte of every sluice UDP payload ---------------------------------------------- */
#define SL_MSG_IK_INIT	 1 /* Noise IK message 1 (initiator knows responder's static key) */
#define SL_MSG_IK_RESP	 2 /* Noise IK message 2 */
#define SL_MSG_COOKIE	 3 /* cookie reply: responder under load */
#define SL_MSG_DATA	 4 /* transport data: header + AEAD(frames) */
#define SL_MSG_XX_INIT	 5 /* Noise XX message 1 (responder's key unknown) */
#define SL_MSG_XX_RESP	 6 /* Noise XX message 2 */
#define SL_MSG_XX_FINISH 7 /* Noise XX message 3 */
/* Session resumption (section 3.7 of docs/protocol.md). */
#define SL_MSG_RESUME_INIT   8	/* Noise NNpsk0 message 1, naming a resumption ticket */
#define SL_MSG_RESUME_RESP   9	/* Noise NNpsk0 message 2 */
#define SL_MSG_RESUME_REJECT 10 /* the responder cannot resume: the initiator falls back to IK */
/* Relaying (section 17 of docs/protocol.md): a message of types 1..10 wrapped in a relay header
 * travels between two nodes through a relay that forwards it without reading it. */
#define SL_MSG_RELAY_TO	  11 /* to a relay: forward the message inside on circuit `circuit` */
#define SL_MSG_RELAY_FROM 12 /* from a relay: the message inside came on circuit `circuit` */

/* --- cipher suites (second byte of handshake messages) ------------------------------------ */
#define SL_SUITE_AESGCM_SHA256	    1 /* Noise_*_25519_AESGCM_SHA256 (default) */
#define SL_SUITE_CHACHAPOLY_BLAKE2B 2 /* Noise_*_25519_ChaChaPoly_BLAKE2b */

/* IPv4 listen address as advertised in a handshake payload. */
struct sl_wire_addr4 {
	rte_be32_t ip;
	rte_be16_t port;
	uint8_t reserved[2]; /* zero */
} __rte_packed;

/* Handshake payload, encrypted inside every Noise message that carries one. */
struct sl_hs_payload {
	uint8_t version;     /* protocol version the sender speaks */
	uint8_t min_version; /* oldest version the sender accepts */
	uint8_t n_addrs;     /* valid entries in addrs[] */
	uint8_t flags;	     /* SL_HS_F_*; unknown bits refused */
	rte_be32_t
		sender; /* sender's connection id: equals the message header's (authenticates it) */
	rte_be64_t network_id;
	rte_be64_t capabilities; /* SL_CAP_* bits */
	rte_be64_t timestamp;	 /* initiator: strictly increasing per identity (anti-replay) */
	struct sl_wire_addr4 addrs[SL_HS_MAX_ADDRS];
	/* The sender's channel set: both sides must have the same one (a frame on a channel the
	 * receiver lacks, or of the other kind, ends the session), so a mismatch is refused here.
	 */
	rte_be16_t chan_used;	  /* bit i: channel i exists; bit 0 (the control channel) always */
	rte_be16_t chan_datagram; /* of those, the datagram channels; the others are reliable */
	uint8_t reserved[4];	  /* zero */
} __rte_packed;

/* Handshake flags. REKEY: the initiator already has a session with the responder and this
 * handshake renews its keys (the session keeps its engine state). The responder sets it in its
 * answer only if it agrees, i.e. it has that session too; otherwise both start a new session. */
#define SL_HS_F_REKEY 0x01
#define SL_HS_F_KNOWN SL_HS_F_REKEY

#define SL_CAP_RELAY  (1ull << 0) /* node forwards messages for others */
#define SL_CAP_GOSSIP (1ull << 1) /* node re-broadcasts gossip */
#define SL_CAP_PEX    (1ull << 2) /* node answers get-addr */

/* The two MACs that end every handshake message (admission, before any DH). */
struct sl_msg_macs {
	uint8_t mac1[SL_MAC_LEN]; /* keyed by the receiver's public key (or the network id) */
	uint8_t mac2[SL_MAC_LEN]; /* zero, or keyed by a cookie the receiver handed out */
} __rte_packed;

#define SL_SEALED(n) ((n) + SL_TAG_LEN)

struct sl_msg_ik_init {
	uint8_t type;  /* SL_MSG_IK_INIT */
	uint8_t suite; /* SL_SUITE_* */
	rte_be16_t reserved;
	rte_be32_t sender; /* initiator's receiver connection id */
	uint8_t ephemeral[SL_KEY_LEN];
	uint8_t static_enc[SL_SEALED(SL_KEY_LEN)];
	uint8_t payload_enc[SL_SEALED(SL_HS_PAYLOAD_LEN)];
	struct sl_msg_macs macs;
} __rte_packed;

struct sl_msg_ik_resp {
	uint8_t type; /* SL_MSG_IK_RESP */
	uint8_t suite;
	rte_be16_t reserved;
	rte_be32_t sender;   /* responder's receiver connection id */
	rte_be32_t receiver; /* initiator's sender id, echoed */
	uint8_t ephemeral[SL_KEY_LEN];
	uint8_t payload_enc[SL_SEALED(SL_HS_PAYLOAD_LEN)];
	struct sl_msg_macs macs;
} __rte_packed;

/* The responder answers an XX initiation before it knows who sent it, so the initiation is
 * padded to the size of the answer: sluice never amplifies. */
#define SL_XX_INIT_PAD 140

struct sl_msg_xx_init {
	uint8_t type; /* SL_MSG_XX_INIT */
	uint8_t suite;
	rte_be16_t reserved;
	rte_be32_t sender;
	uint8_t ephemeral[SL_KEY_LEN];
	uint8_t padding[SL_XX_INIT_PAD]; /* Noise payload of message 1 (cleartext): all zero */
	struct sl_msg_macs macs;
} __rte_packed;

struct sl_msg_xx_resp {
	uint8_t type; /* SL_MSG_XX_RESP */
	uint8_t suite;
	rte_be16_t reserved;
	rte_be32_t sender;
	rte_be32_t receiver;
	uint8_t ephemeral[SL_KEY_LEN];
	uint8_t static_enc[SL_SEALED(SL_KEY_LEN)];
	uint8_t payload_enc[SL_SEALED(SL_HS_PAYLOAD_LEN)];
	struct sl_msg_macs macs;
} __rte_packed;

struct sl_msg_xx_finish {
	uint8_t type; /* SL_MSG_XX_FINISH */
	uint8_t suite;
	rte_be16_t reserved;
	rte_be32_t sender;
	rte_be32_t receiver;
	uint8_t static_enc[SL_SEALED(SL_KEY_LEN)];
	uint8_t payload_enc[SL_SEALED(SL_HS_PAYLOAD_LEN)];
	struct sl_msg_macs macs;
} __rte_packed;

/* Session resumption (docs/protocol.md 3.7): every completed handshake leaves both sides a
 * resumption secret and a ticket that names it; a reconnection within the secret's lifetime
 * runs Noise NNpsk0 with that secret as the psk (one Diffie-Hellman a side instead of IK's
 * four). A ticket is used once. */
#define SL_RESUME_TICKET_LEN 16

struct sl_msg_resume_init {
	uint8_t type;  /* SL_MSG_RESUME_INIT */
	uint8_t suite; /* SL_SUITE_* */
	rte_be16_t reserved;
	rte_be32_t sender;		      /* initiator's receiver connection id */
	uint8_t ticket[SL_RESUME_TICKET_LEN]; /* names the resumption secret at the responder */
	uint8_t ephemeral[SL_KEY_LEN];
	uint8_t payload_enc[SL_SEALED(SL_HS_PAYLOAD_LEN)];
	struct sl_msg_macs macs;
} __rte_packed;

struct sl_msg_resume_resp {
	uint8_t type; /* SL_MSG_RESUME_RESP */
	uint8_t suite;
	rte_be16_t reserved;
	rte_be32_t sender;   /* responder's receiver connection id */
	rte_be32_t receiver; /* initiator's sender id, echoed */
	uint8_t ephemeral[SL_KEY_LEN];
	uint8_t payload_enc[SL_SEALED(SL_HS_PAYLOAD_LEN)];
	struct sl_msg_macs macs;
} __rte_packed;

/* The responder has no usable secret for the ticket (unknown, expired, used, or the
 * initiation does not authenticate under it): the initiator starts a full IK handshake at once
 * instead of waiting for its retry timer. Not authenticated — it cannot be, the responder does
 * not know who sent the ticket — but it echoes the initiation's mac1, which only someone who saw
 * the initiation knows; and all it can cause is the full handshake dropping the initiation
 * would cause too. */
struct sl_msg_resume_reject {
	uint8_t type; /* SL_MSG_RESUME_REJECT */
	uint8_t reserved[3];
	rte_be32_t receiver;	  /* sender id of the initiation refused */
	uint8_t mac1[SL_MAC_LEN]; /* that initiation's mac1 */
} __rte_packed;

/* Sent instead of a handshake answer when the responder is under load. Never larger than the
 * smallest message that can trigger it. */
struct sl_msg_cookie {
	uint8_t type; /* SL_MSG_COOKIE */
	uint8_t reserved[3];
	rte_be32_t receiver; /* sender id of the message that triggered it */
	uint8_t nonce[SL_COOKIE_NONCE_LEN];
	uint8_t cookie_enc[SL_SEALED(SL_MAC_LEN)];
} __rte_packed;

/* Relay header, in front of an end-to-end message (types 1..10, never another relay header).
 * `circuit` is the relay's id of one end of a circuit: the sender's end in RELAY_TO (the relay
 * checks that the packet comes from the address that end was set up for), the receiver's end in
 * RELAY_FROM (which the receiver answers on). The relay rewrites the outer Ethernet, IPv4 and UDP
 * headers and this one, and nothing after it: the message inside is authenticated end to end
 * (a data packet by its AEAD, a handshake by Noise), so a relay can drop it but not change it
 * undetected. */
struct sl_relay_hdr {
	uint8_t type; /* SL_MSG_RELAY_TO or SL_MSG_RELAY_FROM */
	uint8_t reserved[3]; /* zero */
	rte_be32_t circuit;  /* never 0 */
} __rte_packed;

/* Transport data: this header is the AEAD associated data; the packet number is the nonce. */
struct sl_data_hdr {
	uint8_t type; /* SL_MSG_DATA */
	uint8_t reserved[3];
	rte_be32_t receiver; /* receiver connection id: owner lcore | slot */
	rte_be64_t pn;	     /* packet number, never reused under one key */
} __rte_packed;

/* --- frames: the plaintext of a data packet -------------------------------------------------
 * A data packet's plaintext is a sequence of frames, each starting with its type byte. Frames
 * are never split across packets. A receiver drops a packet with an unknown frame type or a
 * frame that does not fit, and counts it. */
#define SL_FRAME_PADDING	  0x00 /* one byte of nothing; only at the end of a packet */
#define SL_FRAME_PING		  0x01 /* asks for a PONG (and an ACK) */
#define SL_FRAME_PONG		  0x02 /* answers a PING, echoing its token */
#define SL_FRAME_ACK		  0x03 /* packet numbers received */
#define SL_FRAME_DATA		  0x04 /* fragment of a message on a reliable channel */
#define SL_FRAME_DATAGRAM	  0x05 /* whole message on an unreliable channel */
#define SL_FRAME_MAX_DATA	  0x06 /* connection-level flow-control credit */
#define SL_FRAME_MAX_CHAN	  0x07 /* channel-level flow-control credit */
#define SL_FRAME_CLOSE		  0x08 /* the connection ends */
#define SL_FRAME_MAX_CHAN_DEFAULT 0x09 /* channel credit for every channel without its own */

struct sl_frame_ping { /* PING and PONG */
	uint8_t type;
	uint8_t reserved[7];
	rte_be64_t token; /* PONG echoes the PING's */
} __rte_packed;

/* ACK: largest packet number received, first_range packets below it also received, then
 * n_ranges struct sl_ack_range going down. Each range: gap = packets missing between the
 * previous range's smallest and this range's largest, minus one; len = packets in the range
 * minus one. (next_largest = prev_smallest - gap - 2; smallest = largest - len.) */
struct sl_frame_ack {
	uint8_t type;
	uint8_t n_ranges; /* 0..SL_MAX_ACK_RANGES */
	rte_be16_t reserved;
	rte_be32_t ack_delay_us; /* time the largest waited at the receiver before this ACK */
	rte_be64_t largest;
	rte_be64_t first_range;
} __rte_packed;

struct sl_ack_range {
	rte_be32_t gap;
	rte_be32_t len;
} __rte_packed;

/* DATA: bytes [offset, offset + length) of message msg_id, msg_len bytes long, on a reliable
 * channel. Message ids count up from 0 per channel; msg_base is where the message starts in the
 * channel's byte stream (the sum of the lengths of the messages before it), which is what
 * channel credit is counted in. */
#define SL_DATA_LAST 0x01 /* flags: this fragment ends the message (offset + length == msg_len) */

struct sl_frame_data {
	uint8_t type;
	uint8_t flags;
	uint8_t channel;
	uint8_t reserved0;
	rte_be16_t length;
	rte_be16_t reserved1;
	rte_be32_t msg_len;
	rte_be32_t offset;
	rte_be64_t msg_id;
	rte_be64_t msg_base;
} __rte_packed;

/* DATAGRAM: a whole message on an unreliable channel; seq counts up per channel. */
struct sl_frame_datagram {
	uint8_t type;
	uint8_t channel;
	rte_be16_t length;
	rte_be32_t seq;
} __rte_packed;

/* MAX_DATA / MAX_CHAN: the receiver will buffer up to this absolute byte offset (sum of channel
 * offsets for MAX_DATA, the channel's offset for MAX_CHAN). MAX_CHAN_DEFAULT: the offset every
 * channel may reach before it gets a MAX_CHAN of its own (sent once, at the start, so a channel
 * used later does not wait a round trip for credit). Credit never goes backwards. */
struct sl_frame_credit {
	uint8_t type;
	uint8_t channel; /* MAX_CHAN only; zero otherwise */
	uint8_t reserved[6];
	rte_be64_t max;
} __rte_packed;

#define SL_CLOSE_GRACEFUL 0x01 /* flags: the sender drained everything before closing */

struct sl_frame_close {
	uint8_t type;
	uint8_t flags;
	rte_be16_t reason; /* SL_CLOSE_* */
	rte_be32_t reserved;
} __rte_packed;

#define SL_CLOSE_NONE	      0 /* normal close */
#define SL_CLOSE_PROTOCOL     1 /* malformed or impossible frames */
#define SL_CLOSE_FLOW_CONTROL 2 /* data beyond the credit given */
#define SL_CLOSE_IDLE	      3 /* nothing heard for the idle timeout */
#define SL_CLOSE_UNRESPONSIVE 4 /* too many probe timeouts */
#define SL_CLOSE_APPLICATION  5 /* the application asked */
#define SL_CLOSE_INTERNAL     6 /* out of memory or similar */
#define SL_CLOSE_REPLACED     7 /* a newer session with the same peer took its place */
#define SL_CLOSE_SHUTDOWN     8 /* the appliance is stopping */
#define SL_CLOSE_REFUSED      9 /* the connection pool refused the session (full, policy) */
#define SL_CLOSE_MISBEHAVED   10 /* the peer broke the rules of peer exchange */
#define SL_CLOSE_DONE	      11 /* a seed or crawler is done with the session */
#define SL_CLOSE_REASON_COUNT 12 /* reasons this build names; others are shown as numbers */

/* --- service messages ------------------------------------------------------------------------
 * The messages of the built-in services (dataplane/dp_svc.h): a source sends them, a sink
 * verifies them, an echo service returns them with SL_SVC_ECHOED set. They are the application
 * payload of ordinary engine messages, not frames.
 *
 * A message of SL_SVC_HDR_LEN bytes or more is this header followed by the payload; `len` is
 * the whole message. checksum is CRC32C (Castagnoli, reflected, init and final xor ~0) over
 * bytes [offsetof(seq), SL_SVC_HDR_LEN): seq and sent_ns — the header fields not checked exactly
 * (magic, version, len are; flags the echo service changes). The payload is not summed: it is
 * checked word by word against its pattern.
 * A message shorter than the header carries no header at all: it is payload only, and its
 * sequence number is implied (the next one the receiver expects on that channel).
 *
 * Payload byte at payload offset o (0 = first byte after the header, or of a headerless
 * message) of the message with sequence number seq: byte (o % 8) of the little-endian encoding
 * of W(seq, o / 8) = B(seq) + (o / 8) * 0x9e3779b97f4a7c15 (mod 2^64), where B(s) is the
 * SplitMix64 finaliser of z = s * 0x9e3779b97f4a7c15 + 0x736c7569636521:
 *     z ^= z >> 30; z *= 0xbf58476d1ce4e5b9; z ^= z >> 27; z *= 0x94d049bb133111eb; z ^= z >> 31
 * so a receiver checks every byte without storing anything. */
#define SL_SVC_MAGIC   0x534c5356u /* "SLSV" */
#define SL_SVC_VERSION 2
#define SL_SVC_ECHOED  0x01 /* flags: returned by an echo service */

struct sl_svc_hdr {
	rte_be32_t magic;    /* SL_SVC_MAGIC */
	uint8_t version;     /* SL_SVC_VERSION */
	uint8_t flags;	     /* SL_SVC_ECHOED */
	rte_be16_t reserved; /* zero */
	rte_be32_t len;	     /* whole message, header included */
	rte_be32_t checksum; /* CRC32C of seq and sent_ns */
	rte_be64_t seq;	     /* per source and channel, from 0 */
	rte_be64_t sent_ns;  /* the source's clock when it queued the message (round trips) */
} __rte_packed;

#define SL_SVC_HDR_LEN 32

static_assert(sizeof(struct sl_svc_hdr) == SL_SVC_HDR_LEN, "service header size");
static_assert(offsetof(struct sl_svc_hdr, len) == 8, "service header layout");
static_assert(offsetof(struct sl_svc_hdr, seq) == 16, "service header layout");
static_assert(offsetof(struct sl_svc_hdr, sent_ns) == 24, "service header layout");
static_assert(SL_SVC_HDR_LEN <= SL_MIN_PAYLOAD, "a service header fits in one packet");

/* --- control messages: the messages of channel 0 ----------------------------------------------
 * Channel 0 (SL_CONTROL_CHANNEL) carries whole messages of the control plane, each at most
 * SL_CONTROL_MSG_MAX bytes, each starting with struct sl_ctl_hdr. A receiver ignores and counts a
 * message of a type or version it does not know (so newer nodes can add messages); it counts
 * as malformed one whose len differs from the message's length or whose reserved bytes are not
 * zero. Peer exchange (docs/protocol.md, 8.2): a node asks with GETADDR, the peer answers with
 * one ADDR echoing the request id; an ADDR that answers no request of ours is dropped. */
#define SL_CTL_GETADDR 0x01 /* asks the peer for addresses it knows */
#define SL_CTL_ADDR    0x02 /* answers one GETADDR */
#define SL_CTL_HELLO   0x03 /* each side's first control message on a new session */
/* Relaying (docs/protocol.md, 17.2): a node reserves its place at a relay, a node asks the relay
 * for a circuit to a node with a reservation, the relay tells that node, and either side of
 * a circuit hears when it ends. */
#define SL_CTL_RESERVE	    0x04 /* to a relay: keep me reachable through you */
#define SL_CTL_RESERVE_ANS  0x05 /* the relay's answer to one RESERVE */
#define SL_CTL_CIRCUIT_REQ  0x06 /* to a relay: a circuit to node `node`, please */
#define SL_CTL_CIRCUIT_ANS  0x07 /* the relay's answer to one CIRCUIT_REQ */
#define SL_CTL_CIRCUIT_OPEN 0x08 /* from a relay: node `node` reaches you on circuit `circuit` */
#define SL_CTL_CIRCUIT_END  0x09 /* the circuit ended (from the relay), or end it (to it) */
#define SL_CTL_VERSION 1    /* version of the control messages' layout */

struct sl_ctl_hdr {
	uint8_t type;	     /* SL_CTL_* */
	uint8_t version;     /* SL_CTL_VERSION */
	rte_be16_t len;	     /* whole message, header included */
	rte_be32_t reserved; /* zero */
} __rte_packed;

struct sl_ctl_getaddr {
	struct sl_ctl_hdr hdr; /* type SL_CTL_GETADDR, len 16 */
	rte_be32_t req_id;     /* chosen by the asker, echoed by the answer */
	rte_be16_t max;	       /* entries the asker takes, 1..SL_PEX_MAX_ADDRS */
	rte_be16_t reserved;   /* zero */
} __rte_packed;

#define SL_PEX_F_HAS_ID 0x01 /* entry flags: id[] is the node's static key (else all zero) */

/* One known node: where it listens, and when it was last known to be up. */
struct sl_pex_entry {
	uint8_t id[SL_KEY_LEN]; /* the node's static public key, or zero */
	rte_be32_t ip;		/* IPv4 address */
	rte_be16_t port;	/* UDP port, never 0 */
	uint8_t flags;		/* SL_PEX_F_*; other bits zero */
	uint8_t reserved;	/* zero */
	rte_be64_t last_seen;	/* UNIX time, seconds */
} __rte_packed;

struct sl_ctl_addr {
	struct sl_ctl_hdr hdr; /* type SL_CTL_ADDR, len 16 + 48 * count */
	rte_be32_t req_id;     /* the GETADDR's this answers */
	rte_be16_t count;    /* entries that follow, 0..min(the GETADDR's max, SL_PEX_MAX_ADDRS) */
	rte_be16_t reserved; /* zero */
} __rte_packed;		     /* then count struct sl_pex_entry */

/* HELLO: sent by each side once its session opens. observed: the address and UDP port the
 * receiver's packets come from, as the sender sees them (a node behind a translating router
 * learns how others reach it, as Bitcoin's version message tells addr_recv). */
struct sl_ctl_hello {
	struct sl_ctl_hdr hdr; /* type SL_CTL_HELLO, len 16 */
	rte_be32_t observed_ip;
	rte_be16_t observed_port;
	rte_be16_t reserved; /* zero */
} __rte_packed;

/* Relay status codes: the answer to a RESERVE or CIRCUIT_REQ (0: granted), and why a circuit
 * ended. Unknown values are shown as numbers. */
#define SL_RELAY_OK		  0
#define SL_RELAY_DISABLED	  1  /* this node does not relay */
#define SL_RELAY_NOT_ALLOWED	  2  /* the asker is not on the relay's allow-list */
#define SL_RELAY_NO_RESERVATION	  3  /* the destination holds no reservation here */
#define SL_RELAY_UNKNOWN_DEST	  4  /* the relay has no session with the destination */
#define SL_RELAY_TOO_MANY	  5  /* circuit limits reached (in all, or for the asker) */
#define SL_RELAY_RESERVATIONS_FULL 6 /* no room for another reservation */
#define SL_RELAY_BAD_REQUEST	  7  /* a circuit to the asker itself, or to the relay */
#define SL_RELAY_NO_RESOURCES	  8  /* no memory or no forwarding slot */
#define SL_RELAY_BYTES_LIMIT	  9  /* END: the circuit carried its byte limit */
#define SL_RELAY_TIME_LIMIT	  10 /* END: the circuit lasted its time limit */
#define SL_RELAY_PEER_GONE	  11 /* END: the relay's session with the other end closed */
#define SL_RELAY_CLOSED		  12 /* END: an end asked, or the relay is stopping */
#define SL_RELAY_STATUS_COUNT	  13

struct sl_ctl_reserve { /* RESERVE and RESERVE_ANS, len 16 */
	struct sl_ctl_hdr hdr;
	rte_be32_t req_id;   /* chosen by the asker, echoed by the answer */
	rte_be16_t status;   /* ANS: SL_RELAY_*; RESERVE: zero */
	rte_be16_t reserved; /* zero */
} __rte_packed;

struct sl_ctl_circuit_req { /* len 48 */
	struct sl_ctl_hdr hdr;
	rte_be32_t req_id;
	rte_be32_t reserved;	  /* zero */
	uint8_t node[SL_KEY_LEN]; /* the destination's static public key */
} __rte_packed;

struct sl_ctl_circuit_ans { /* len 32 */
	struct sl_ctl_hdr hdr;
	rte_be32_t req_id;	  /* the CIRCUIT_REQ's */
	rte_be16_t status;	  /* SL_RELAY_* */
	rte_be16_t reserved;	  /* zero */
	rte_be32_t circuit;	  /* OK: the asker's end, to send RELAY_TO on; else 0 */
	rte_be32_t limit_s;	  /* OK: the circuit ends after this long (0: no limit) */
	rte_be64_t limit_bytes;	  /* OK: ... or after this many bytes each way (0: no limit) */
} __rte_packed;

struct sl_ctl_circuit_open { /* len 56 */
	struct sl_ctl_hdr hdr;
	rte_be32_t circuit;	  /* the receiver's end */
	rte_be32_t limit_s;	  /* as in CIRCUIT_ANS */
	rte_be64_t limit_bytes;
	uint8_t node[SL_KEY_LEN]; /* who asked for it: the node that will handshake on it */
} __rte_packed;

struct sl_ctl_circuit_end { /* len 16 */
	struct sl_ctl_hdr hdr;
	rte_be32_t circuit;  /* the receiver's end (from the relay), the sender's (to it) */
	rte_be16_t status;   /* SL_RELAY_* why */
	rte_be16_t reserved; /* zero */
} __rte_packed;

#define SL_CTL_HDR_LEN	   8
#define SL_PEX_ENTRY_LEN   48
#define SL_CTL_GETADDR_LEN 16
#define SL_CTL_ADDR_LEN(n) (16 + SL_PEX_ENTRY_LEN * (size_t)(n))

/* --- compile-time checks ------------------------------------------------------------------ */
static_assert(sizeof(struct sl_wire_addr4) == 8, "addr4 size");
static_assert(sizeof(struct sl_hs_payload) == SL_HS_PAYLOAD_LEN, "payload size");
static_assert(offsetof(struct sl_hs_payload, network_id) == 8, "payload layout");
static_assert(offsetof(struct sl_hs_payload, timestamp) == 24, "payload layout");
static_assert(offsetof(struct sl_hs_payload, addrs) == 32, "payload layout");
static_assert(offsetof(struct sl_hs_payload, chan_used) == 64, "payload layout");
static_assert(offsetof(struct sl_hs_payload, reserved) == 68, "payload layout");
static_assert(SL_MAX_CHANNELS <= 16, "a channel set is a 16-bit mask");
static_assert(sizeof(struct sl_msg_macs) == 2 * SL_MAC_LEN, "macs size");

static_assert(sizeof(struct sl_msg_ik_init) == 208, "ik init size");
static_assert(offsetof(struct sl_msg_ik_init, sender) == 4, "ik init layout");
static_assert(offsetof(struct sl_msg_ik_init, ephemeral) == 8, "ik init layout");
static_assert(offsetof(struct sl_msg_ik_init, macs) == 176, "ik init layout");

static_assert(sizeof(struct sl_msg_ik_resp) == 164, "ik resp size");
static_assert(offsetof(struct sl_msg_ik_resp, receiver) == 8, "ik resp layout");
static_assert(offsetof(struct sl_msg_ik_resp, ephemeral) == 12, "ik resp layout");
static_assert(offsetof(struct sl_msg_ik_resp, macs) == 132, "ik resp layout");

static_assert(sizeof(struct sl_msg_xx_init) == 212, "xx init size");
static_assert(offsetof(struct sl_msg_xx_init, padding) == 40, "xx init layout");
static_assert(offsetof(struct sl_msg_xx_init, macs) == 180, "xx init layout");
static_assert(sizeof(struct sl_msg_xx_resp) == 212, "xx resp size");
static_assert(offsetof(struct sl_msg_xx_resp, macs) == 180, "xx resp layout");
static_assert(sizeof(struct sl_msg_xx_finish) == 180, "xx finish size");
static_assert(offsetof(struct sl_msg_xx_finish, macs) == 148, "xx finish layout");

static_assert(sizeof(struct sl_msg_resume_init) == 176, "resume init size");
static_assert(offsetof(struct sl_msg_resume_init, sender) == 4, "resume init layout");
static_assert(offsetof(struct sl_msg_resume_init, ticket) == 8, "resume init layout");
static_assert(offsetof(struct sl_msg_resume_init, ephemeral) == 24, "resume init layout");
static_assert(offsetof(struct sl_msg_resume_init, macs) == 144, "resume init layout");
static_assert(sizeof(struct sl_msg_resume_resp) == 164, "resume resp size");
static_assert(offsetof(struct sl_msg_resume_resp, receiver) == 8, "resume resp layout");
static_assert(offsetof(struct sl_msg_resume_resp, ephemeral) == 12, "resume resp layout");
static_assert(offsetof(struct sl_msg_resume_resp, macs) == 132, "resume resp layout");
static_assert(sizeof(struct sl_msg_resume_reject) == 24, "resume reject size");
static_assert(offsetof(struct sl_msg_resume_reject, receiver) == 4, "resume reject layout");
static_assert(offsetof(struct sl_msg_resume_reject, mac1) == 8, "resume reject layout");

static_assert(sizeof(struct sl_msg_cookie) == 64, "cookie size");
static_assert(offsetof(struct sl_msg_cookie, nonce) == 8, "cookie layout");
/* No amplification: an unauthenticated message is never answered with more bytes. */
static_assert(sizeof(struct sl_msg_cookie) <= sizeof(struct sl_msg_xx_init) &&
		      sizeof(struct sl_msg_cookie) <= sizeof(struct sl_msg_ik_init) &&
		      sizeof(struct sl_msg_cookie) <= sizeof(struct sl_msg_xx_finish) &&
		      sizeof(struct sl_msg_cookie) <= sizeof(struct sl_msg_resume_init),
	      "a cookie reply must never be larger than what triggers it");
static_assert(sizeof(struct sl_msg_xx_resp) <= sizeof(struct sl_msg_xx_init),
	      "an XX answer must never be larger than the initiation");
static_assert(sizeof(struct sl_msg_ik_resp) <= sizeof(struct sl_msg_ik_init),
	      "an IK answer must never be larger than the initiation");
static_assert(sizeof(struct sl_msg_resume_resp) <= sizeof(struct sl_msg_resume_init) &&
		      sizeof(struct sl_msg_resume_reject) <= sizeof(struct sl_msg_resume_init),
	      "a resumption answer or reject must never be larger than the initiation");

static_assert(sizeof(struct sl_relay_hdr) == SL_RELAY_HDR_LEN, "relay header size");
static_assert(offsetof(struct sl_relay_hdr, circuit) == 4, "relay header layout");
static_assert(sizeof(struct sl_data_hdr) == 16, "data header size");
static_assert(offsetof(struct sl_data_hdr, receiver) == 4, "data header layout");
static_assert(offsetof(struct sl_data_hdr, pn) == 8, "data header layout");
/* The type byte sits at the same place in every message so one load classifies a packet. */
static_assert(offsetof(struct sl_data_hdr, type) == 0 &&
		      offsetof(struct sl_msg_cookie, type) == 0 &&
		      offsetof(struct sl_msg_resume_reject, type) == 0,
	      "type first");

static_assert(sizeof(struct sl_frame_ping) == 16, "ping size");
static_assert(sizeof(struct sl_frame_ack) == 24, "ack size");
static_assert(offsetof(struct sl_frame_ack, largest) == 8, "ack layout");
static_assert(sizeof(struct sl_ack_range) == 8, "ack range size");
static_assert(sizeof(struct sl_frame_data) == 32, "data frame size");
static_assert(offsetof(struct sl_frame_data, msg_id) == 16, "data frame layout");
static_assert(offsetof(struct sl_frame_data, msg_base) == 24, "data frame layout");
static_assert(sizeof(struct sl_frame_datagram) == 8, "datagram frame size");
static_assert(sizeof(struct sl_frame_credit) == 16, "credit frame size");
static_assert(sizeof(struct sl_frame_close) == 8, "close frame size");
static_assert(sizeof(struct sl_frame_ack) + SL_MAX_ACK_RANGES * sizeof(struct sl_ack_range) <
		      SL_MIN_PAYLOAD,
	      "a full ACK fits in the smallest packet");

static_assert(sizeof(struct sl_ctl_hdr) == SL_CTL_HDR_LEN, "control header size");
static_assert(offsetof(struct sl_ctl_hdr, len) == 2, "control header layout");
static_assert(sizeof(struct sl_ctl_getaddr) == SL_CTL_GETADDR_LEN, "getaddr size");
static_assert(sizeof(struct sl_ctl_hello) == 16, "hello size");
static_assert(offsetof(struct sl_ctl_hello, observed_ip) == 8, "hello layout");
static_assert(offsetof(struct sl_ctl_hello, observed_port) == 12, "hello layout");
static_assert(offsetof(struct sl_ctl_getaddr, req_id) == 8, "getaddr layout");
static_assert(offsetof(struct sl_ctl_getaddr, max) == 12, "getaddr layout");
static_assert(sizeof(struct sl_pex_entry) == SL_PEX_ENTRY_LEN, "pex entry size");
static_assert(offsetof(struct sl_pex_entry, ip) == 32, "pex entry layout");
static_assert(offsetof(struct sl_pex_entry, port) == 36, "pex entry layout");
static_assert(offsetof(struct sl_pex_entry, flags) == 38, "pex entry layout");
static_assert(offsetof(struct sl_pex_entry, last_seen) == 40, "pex entry layout");
static_assert(sizeof(struct sl_ctl_addr) == SL_CTL_ADDR_LEN(0), "addr size");
static_assert(sizeof(struct sl_ctl_reserve) == 16, "reserve size");
static_assert(offsetof(struct sl_ctl_reserve, status) == 12, "reserve layout");
static_assert(sizeof(struct sl_ctl_circuit_req) == 48, "circuit request size");
static_assert(offsetof(struct sl_ctl_circuit_req, node) == 16, "circuit request layout");
static_assert(sizeof(struct sl_ctl_circuit_ans) == 32, "circuit answer size");
static_assert(offsetof(struct sl_ctl_circuit_ans, circuit) == 16, "circuit answer layout");
static_assert(offsetof(struct sl_ctl_circuit_ans, limit_bytes) == 24, "circuit answer layout");
static_assert(sizeof(struct sl_ctl_circuit_open) == 56, "circuit open size");
static_assert(offsetof(struct sl_ctl_circuit_open, node) == 24, "circuit open layout");
static_assert(sizeof(struct sl_ctl_circuit_end) == 16, "circuit end size");
static_assert(offsetof(struct sl_ctl_circuit_end, status) == 12, "circuit end layout");
static_assert(offsetof(struct sl_ctl_addr, req_id) == 8, "addr layout");
static_assert(offsetof(struct sl_ctl_addr, count) == 12, "addr layout");
static_assert(offsetof(struct sl_ctl_getaddr, hdr) == 0 && offsetof(struct sl_ctl_addr, hdr) == 0,
	      "every control message starts with the header");
static_assert(SL_CTL_ADDR_LEN(SL_PEX_MAX_ADDRS) <= SL_CONTROL_MSG_MAX,
	      "the largest ADDR fits in one control message");
static_assert(SL_CONTROL_MSG_MAX <= UINT16_MAX, "a control message's length fits its len field");

#endif /* SL_WIRE_H */
