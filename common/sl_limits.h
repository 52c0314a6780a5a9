/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: protocol constants and limits, in one place.
 *
 * Values that an operator may change (rekey interval, rate limits, load threshold) have their
 * default here and are overridden through the configuration; the rest are protocol constants.
 */
#ifndef SL_LIMITS_H
#define SL_LIMITS_H

#include <assert.h>
#include <stdint.h>

/* --- protocol identity ------------------------------------------------------------------- */
#define SL_PROTO_VERSION     1 /* version this build speaks */
#define SL_PROTO_MIN_VERSION 1 /* oldest version this build accepts */

/* --- key material ------------------------------------------------------------------------ */
#define SL_KEY_LEN	    32 /* X25519 keys, AEAD keys, chaining keys of SHA-256 */
#define SL_TAG_LEN	    16 /* AEAD tag */
#define SL_NONCE_LEN	    12 /* AEAD nonce (96 bits) */
#define SL_MAC_LEN	    16 /* mac1 / mac2 / cookie */
#define SL_COOKIE_NONCE_LEN 24 /* XChaCha20-Poly1305 nonce of a cookie reply */
#define SL_HASH_MAX_LEN	    64 /* largest Noise HASHLEN (BLAKE2b) */

/* --- session keys (defaults; see conf) ---------------------------------------------------- */
#define SL_REKEY_AFTER_TIME_NS	 (120ull * 1000000000ull) /* initiator starts a new handshake */
#define SL_REJECT_AFTER_TIME_NS	 (180ull * 1000000000ull) /* keypair unusable after this */
#define SL_REKEY_AFTER_MESSAGES	 (1ull << 60)
#define SL_REJECT_AFTER_MESSAGES (UINT64_MAX - (1ull << 13)) /* hard limit, packet numbers */
#define SL_KEEP_PREVIOUS_TIME_NS SL_REJECT_AFTER_TIME_NS

static_assert(SL_REKEY_AFTER_TIME_NS < SL_REJECT_AFTER_TIME_NS,
	      "rekey must start before the keypair expires");
static_assert(SL_REKEY_AFTER_MESSAGES < SL_REJECT_AFTER_MESSAGES,
	      "rekey must start before the message limit");

/* --- anti-replay window ------------------------------------------------------------------- */
#define SL_REPLAY_WORD_BITS 64
#define SL_REPLAY_WINDOW    2048 /* packets accepted behind the highest seen */
/* One spare word so the window can slide by whole words (RFC 6479). */
#define SL_REPLAY_WORDS (SL_REPLAY_WINDOW / SL_REPLAY_WORD_BITS + 1)

static_assert(SL_REPLAY_WINDOW % SL_REPLAY_WORD_BITS == 0, "window is whole words");
static_assert(SL_REPLAY_WINDOW >= 2048, "the design requires at least 2048 packets");

/* --- handshake admission (defaults; see conf) -------------------------------------------- */
#define SL_COOKIE_ROTATE_NS	   (120ull * 1000000000ull) /* cookie secret lifetime */
#define SL_RATELIMIT_PER_SEC	   20			    /* handshakes per source per second */
#define SL_RATELIMIT_BURST	   5			    /* bucket depth */
#define SL_RATELIMIT_TABLE_DEFAULT 4096			    /* sources tracked at once */
#define SL_UNDER_LOAD_PENDING	   64 /* pending handshakes that switch cookies on */
/* The global handshake budget: initiations admitted without a cookie, all sources together.
 * Beyond it every initiation must first prove its source address with a cookie round trip,
 * so spoofed sources cannot fill the handshake table whatever their number. */
#define SL_HS_BUDGET_PER_SEC 1000
#define SL_HS_BUDGET_BURST   100

/* A node's session with a peer, initiated by the node, that is younger than this when an
 * initiation of that peer arrives is kept (the two handshakes crossed: the lower static key's
 * wins); an older one gives way to the new handshake (the peer restarted). A crossed initiation
 * was sent before the peer answered ours — it stops dialling when it answers — so it reaches us
 * after our session completed only if it was reordered behind that answer: the window bounds
 * that reordering, not a handshake's duration. Longer, a peer that restarts soon after
 * connecting is ignored until it passes (it was the handshake timeout, 5 s: a restarted peer
 * waited up to 4.4 s, perf/hs_restart.py). Shorter than the dial retry (1 s), so a restarted
 * peer's first initiation after its restart is never the one ignored. */
#define SL_HS_CROSSING_NS (250ull * 1000000ull)

/* --- session resumption (defaults; see controlplane/handshake/cp_resume.h) -------------------
 * A resumption secret is good for this long after the full handshake (IK or XX, both static
 * keys authenticated) that began its chain: a resumed session's own secret inherits the expiry
 * of the one it used, so at least one full handshake per lifetime re-proves the static keys. */
#define SL_RESUME_LIFETIME_NS	(600ull * 1000000000ull)
#define SL_RESUME_CACHE_DEFAULT 4096 /* node ids a cache remembers */

static_assert(SL_RESUME_LIFETIME_NS > SL_REKEY_AFTER_TIME_NS,
	      "a secret must outlive a session's rekey interval, so a rekey can resume");

/* --- handshake payload -------------------------------------------------------------------- */
#define SL_HS_MAX_ADDRS	  4  /* listen addresses carried in a handshake payload */
#define SL_HS_PAYLOAD_LEN 72 /* fixed size of struct sl_hs_payload */

/* --- connection ids ----------------------------------------------------------------------- */
/* A receiver connection id carries its owner lcore in the top bits, so any lcore finds the
 * owner without a lookup; then the session's slot on that lcore; then a generation that tells
 * the keypairs of one session apart across rekeys:
 *   | owner (6) | slot (18) | generation (8) | */
#define SL_CONNID_OWNER_SHIFT 26
#define SL_CONNID_SLOT_SHIFT  8
#define SL_CONNID_MAX_OWNERS  (1u << (32 - SL_CONNID_OWNER_SHIFT))
#define SL_CONNID_MAX_SLOTS   (1u << (SL_CONNID_OWNER_SHIFT - SL_CONNID_SLOT_SHIFT))
#define SL_CONNID_GEN_MASK    ((1u << SL_CONNID_SLOT_SHIFT) - 1)

static inline uint32_t
sl_connid(uint32_t owner, uint32_t slot, uint32_t gen)
{
	return owner << SL_CONNID_OWNER_SHIFT | slot << SL_CONNID_SLOT_SHIFT |
	       (gen & SL_CONNID_GEN_MASK);
}

static inline uint32_t
sl_connid_owner(uint32_t id)
{
	return id >> SL_CONNID_OWNER_SHIFT;
}

static inline uint32_t
sl_connid_slot(uint32_t id)
{
	return (id >> SL_CONNID_SLOT_SHIFT) & (SL_CONNID_MAX_SLOTS - 1);
}

static_assert(SL_CONNID_MAX_SLOTS >= 200000, "100,000 sessions fit on one lcore");

/* --- reliable engine --------------------------------------------------------------------- */
#define SL_ETH_MTU          1500
#define SL_IPV4_UDP_OVERHEAD 28 /* IPv4 header without options + UDP header */
#define SL_DATA_OVERHEAD    32 /* sl_data_hdr (16) + AEAD tag (16) */
/* sl_relay_hdr: in front of a packet relayed for others. The appliance keeps room for it in
 * every packet (conf_max_payload), so a session's packets fit its MTU whichever path they
 * take, direct or through a relay. */
#define SL_RELAY_HDR_LEN    8
/* Frame bytes per packet on a 1500-byte Ethernet MTU: 1500 - 28 - 32. */
#define SL_DEFAULT_PAYLOAD  (SL_ETH_MTU - SL_IPV4_UDP_OVERHEAD - SL_DATA_OVERHEAD)
#define SL_MIN_PAYLOAD      512  /* smallest frame space per packet (IPv4 minimum MTU 576) */
#define SL_MAX_PAYLOAD      9000 /* jumbo frames */
#define SL_MAX_CHANNELS     16   /* channel 0 is the control plane's */
#define SL_CONTROL_CHANNEL  0
#define SL_DEFAULT_MAX_MESSAGE (1u << 20)  /* 1 MiB */
#define SL_MAX_MESSAGE      (64u << 20)    /* largest configurable message: 64 MiB */
#define SL_MAX_ACK_RANGES   32   /* extra ranges in one ACK frame */
#define SL_PACKET_THRESHOLD 3    /* RFC 9002 kPacketThreshold */
#define SL_TIME_THRESHOLD_NUM 9  /* RFC 9002 kTimeThreshold = 9/8 */
#define SL_TIME_THRESHOLD_DEN 8
#define SL_GRANULARITY_NS   1000000ull /* RFC 9002 kGranularity, 1 ms */
#define SL_INITIAL_RTT_NS   (333ull * 1000000ull) /* RFC 9002 kInitialRtt */
#define SL_PERSISTENT_CONGESTION_THRESHOLD 3

static_assert(SL_DEFAULT_PAYLOAD == 1440, "1500-byte MTU leaves 1440 bytes of frames");
static_assert(SL_DEFAULT_MAX_MESSAGE <= SL_MAX_MESSAGE && SL_MAX_MESSAGE >= (16u << 20),
	      "at least 16 MiB messages must be configurable");

/* --- control channel (channel 0) and peer exchange (defaults; see conf) -------------------- */
/* The largest control message (channel 0, between the control threads of two nodes), header
 * included. Every node takes one this large: the configuration refuses a limits.max_message
 * below it (conf_node.c), and it goes between the control thread and the lcores in one piece
 * (16-bit lengths in struct dp_cmd / dp_evt). Longer ones are refused when sent
 * (cp_ctl_control_send: -EMSGSIZE) and dropped, counted, when received (control_too_large). */
#define SL_CONTROL_MSG_MAX 4096
/* Peer exchange: entries in one ADDR answer, at most (what a node asks for and sends by
 * default, too). */
#define SL_PEX_MAX_ADDRS 64
/* A node asks one peer for addresses at most once per interval and answers one peer at most
 * once per interval; the answering side allows 1/SL_PEX_JITTER_DIV of it for delivery jitter. */
#define SL_PEX_INTERVAL_NS (30ull * 1000000000ull)
#define SL_PEX_JITTER_DIV  8
/* An entry's last_seen may be ahead of our clock by this much; older than max_age it is stale
 * (Bitcoin's addrman horizon: 30 days). */
#define SL_PEX_MAX_SKEW_S 600ull
#define SL_PEX_MAX_AGE_S  (30ull * 24 * 3600)
/* Misbehaviour: points per offence, forgiven SL_PEX_SCORE_DECAY per interval; a peer whose
 * score reaches SL_PEX_BAN_SCORE is disconnected and marked bad. */
#define SL_PEX_BAN_SCORE	 100
#define SL_PEX_SCORE_DECAY	 10
#define SL_PEX_PTS_MALFORMED	 50 /* a control message breaking the format */
#define SL_PEX_PTS_OVERSIZED	 50 /* an answer longer than the maximum or than asked for */
#define SL_PEX_PTS_UNSOLICITED	 25 /* an answer with no request of ours outstanding */
#define SL_PEX_PTS_WRONG_REQUEST 25 /* an answer to another request id than ours */
#define SL_PEX_PTS_EARLY_REQUEST 10 /* a request before the interval, or one we do not serve */
#define SL_PEX_PTS_BAD_ENTRY	 1  /* an entry no honest peer sends (see cp_pex.h) */

static_assert(SL_CONTROL_MSG_MAX <= SL_DEFAULT_MAX_MESSAGE,
	      "the engine's default message limit takes any control message");
static_assert(SL_CONTROL_MSG_MAX <= UINT16_MAX, "a control message's length fits 16 bits");
static_assert(SL_PEX_MAX_ADDRS > 0 && SL_PEX_MAX_ADDRS <= 0xffff, "entry counts are 16 bits");
static_assert(SL_PEX_SCORE_DECAY < SL_PEX_PTS_UNSOLICITED &&
		      SL_PEX_SCORE_DECAY < SL_PEX_PTS_WRONG_REQUEST,
	      "one bad answer per interval still adds up");
static_assert(2 * SL_PEX_MAX_ADDRS * SL_PEX_PTS_BAD_ENTRY - 2 * SL_PEX_SCORE_DECAY >=
		      SL_PEX_BAN_SCORE,
	      "two answers of nothing but junk, one interval apart, reach the ban score");
static_assert(SL_PEX_PTS_MALFORMED * 2 >= SL_PEX_BAN_SCORE &&
		      SL_PEX_PTS_OVERSIZED * 2 >= SL_PEX_BAN_SCORE,
	      "two broken or oversized messages disconnect");
static_assert(SL_PEX_MAX_SKEW_S < SL_PEX_MAX_AGE_S, "skew within the horizon");

#endif /* SL_LIMITS_H */
