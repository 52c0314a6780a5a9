/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: per-session keys and the data packet format built on them.
 *
 * A keypair is what one completed handshake produces: a send key, a receive key, the next
 * packet number to send, the anti-replay window of what was received, and the two
 * connection ids. A keyset holds up to three keypairs per peer, so rekeying loses nothing:
 *   cur   sends and receives;
 *   prev  the keypair cur replaced, kept to receive packets still in flight under it;
 *   next  a responder's new keypair: it receives, and becomes cur (cur moving to prev) when
 *         the first packet authenticated under it arrives — only then does the responder know
 *         the initiator has the same keys, so it keeps sending under the old cur until then.
 *
 * Expanded keys: a keypair keeps only its two raw 32-byte keys. The AEAD key schedules (ipsec-mb
 * GCM key data is 1 KiB a key) live in a per-thread cache of DP_KEYPAIR_CACHE entries indexed by
 * the keypair's unique tag, filled the first time a thread seals or opens with that keypair
 * and again after another keypair took the entry. An idle session therefore costs its raw keys
 * only; a busy one finds its schedules in the cache. An entry is wiped when its keypair is
 * destroyed on the thread that holds it (the owner lcore) and when the thread releases its
 * cache (dp_keypair_thread_release, before it exits).
 *
 * Data packet (dp_data.h): struct sl_data_hdr (type, receiver connection id, packet number),
 * then the AEAD ciphertext of the payload, then the tag. The header is the associated data and
 * the packet number, big-endian after four zero bytes, is the nonce. Sealing writes the header;
 * opening takes it decoded once by dp_data_rx_decode() (struct dp_data_rx), never the bytes.
 *
 * Threading: a keyset and its keypairs belong to the peer's owner lcore; every function that
 * takes a keyset, and seal / open / next_pn, is owner lcore only. dp_keypair_create() may run
 * on any thread (the control plane builds a keypair from a finished handshake and posts it to
 * the owner). A keyset hands the keypairs it pushes out to its retire hook (the appliance frees
 * them after an RCU grace period, on the owner lcore) or destroys them at once.
 *
 * Time is injected: every now_ns is a monotonic clock in nanoseconds. No DPDK runtime.
 */
#ifndef DP_KEYPAIR_H
#define DP_KEYPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "sl_aead.h"
#include "dp_data.h"
#include "dp_replay.h"
#include "sl_limits.h"
#include "sl_wire.h"

/* When to start a new handshake and when a keypair becomes unusable. Times are keypair ages;
 * message counts are packet numbers. */
struct dp_key_limits {
	uint64_t rekey_after_ns;   /* initiator starts a rekey (the responder never does on time) */
	uint64_t reject_after_ns;  /* keypair neither sends nor receives */
	uint64_t rekey_after_msgs; /* either side starts a rekey */
	uint64_t reject_after_msgs; /* packet numbers at or above this are never used or accepted */
};

/* The defaults of sl_limits.h. */
void dp_key_limits_init(struct dp_key_limits *lim);

/* Rekeying must start before the matching hard limit, and the hard limits must be non-zero. */
bool dp_key_limits_valid(const struct dp_key_limits *lim) __rte_warn_unused_result;

struct dp_keypair_counters {
	uint64_t tx_packets, tx_bytes; /* sealed; payload bytes */
	uint64_t rx_packets, rx_bytes; /* authenticated and accepted; payload bytes */
};

/* Entries of each thread's cache of expanded keys (a power of two). */
#define DP_KEYPAIR_CACHE 1024

/* Fields are read-only outside dp_keypair.c. */
struct dp_keypair {
	struct dp_replay replay; /* packet numbers received under recv */
	uint64_t next_pn;	 /* next packet number to send */
	uint64_t created_ns;
	uint32_t local_id;  /* our receiver connection id: peers put it in their headers */
	uint32_t remote_id; /* the peer's receiver connection id: we put it in ours */
	enum sl_aead_alg alg;
	bool initiator; /* we started the handshake that made this keypair */
	struct dp_keypair_counters counters;
	uint64_t tag; /* unique among all keypairs of the process: its cache entry's key */
	uint8_t send_key[SL_KEY_LEN], recv_key[SL_KEY_LEN]; /* raw; schedules in the cache */
};

/* Build a keypair from a handshake's output. alg must take a 32-byte key
 * (SL_AEAD_AES256_GCM or SL_AEAD_CHACHA20_POLY1305). The raw keys are copied; the caller still
 * owns and must wipe its copies. Returns NULL with errno set: EINVAL for a bad algorithm or
 * argument, ENOMEM. */
struct dp_keypair *dp_keypair_create(enum sl_aead_alg alg, const uint8_t send_key[SL_KEY_LEN],
				     const uint8_t recv_key[SL_KEY_LEN], uint32_t local_id,
				     uint32_t remote_id, bool initiator, uint64_t now_ns);

/* Zero every byte of the keypair (keys, window, ids), and its entry in this thread's cache if
 * it has one, and free it. NULL is a no-op. */
void dp_keypair_destroy(struct dp_keypair *kp);

/* Wipe and free this thread's cache of expanded keys (before the thread exits; it is made
 * again if the thread seals or opens later). */
void dp_keypair_thread_release(void);

/* Does this thread's cache hold the expanded keys of the keypair with this tag? (tests) */
bool dp_keypair_cached(uint64_t tag);

/* Test hook: if set, called with each keypair after it has been wiped and just before its
 * memory is freed. Production code never sets it. Not thread-safe. */
void dp_keypair_set_release_hook(void (*hook)(const struct dp_keypair *kp, void *arg), void *arg);

/* May this keypair still seal a packet: younger than reject_after_ns and its next packet
 * number below reject_after_msgs? */
bool dp_keypair_can_send(const struct dp_keypair *kp, uint64_t now_ns,
			 const struct dp_key_limits *lim);

/* May this keypair still open packets: younger than reject_after_ns? (Packet numbers at or
 * above reject_after_msgs are refused one by one when opened.) */
bool dp_keypair_can_receive(const struct dp_keypair *kp, uint64_t now_ns,
			    const struct dp_key_limits *lim);

/* Should a new handshake start: next packet number at rekey_after_msgs, or, on the
 * initiator's side only, older than rekey_after_ns? */
bool dp_keypair_needs_rekey(const struct dp_keypair *kp, uint64_t now_ns,
			    const struct dp_key_limits *lim);

/* Take the next packet number. 0, or -EKEYEXPIRED when the keypair may no longer send. */
int dp_keypair_next_pn(struct dp_keypair *kp, uint64_t now_ns, const struct dp_key_limits *lim,
		       uint64_t *pn) __rte_warn_unused_result;

/* Seal len bytes of plain into a data packet at out (len + DP_DATA_OVERHEAD bytes): header
 * with the next packet number and the peer's receiver id, ciphertext, tag. plain may be
 * out + sizeof(struct sl_data_hdr) (in place); otherwise the two must not overlap.
 * Returns the packet length, or
 *   -EMSGSIZE     len > DP_DATA_MAX_PLAIN
 *   -EKEYEXPIRED  the keypair may no longer send (rekey first)
 *   -ENOMEM       this thread's key cache could not be made
 */
int dp_keypair_seal(IMB_MGR *mgr, struct dp_keypair *kp, uint64_t now_ns,
		    const struct dp_key_limits *lim, const uint8_t *plain, size_t len,
		    uint8_t *out) __rte_warn_unused_result;

/* Open the data packet rx (decoded by dp_data_rx_decode; its header bytes rx->pkt are the
 * associated data) into plain (rx->plain_len bytes). plain may be
 * rx->pkt + sizeof(struct sl_data_hdr) (in place); otherwise the two must not overlap.
 * The replay window is consulted before decryption and updated only after the tag verified.
 * Returns the payload length, or one negative errno per drop reason (the appliance maps them
 * with dp_drop_from_errno, dp_drop.h):
 *   -EBADMSG      malformed: reserved bytes set (the framing was checked by the decode)
 *   -ENOKEY       the receiver id is not this keypair's
 *   -EKEYEXPIRED  the keypair is too old, or the packet number is at the hard limit
 *   -EALREADY     replayed, or too far behind the window to tell
 *   -EPERM        authentication failed (plain is zeroed)
 *   -ENOMEM       this thread's key cache could not be made
 * On any error nothing in the keypair changes and no unauthenticated byte is in plain. */
int dp_keypair_open(IMB_MGR *mgr, struct dp_keypair *kp, uint64_t now_ns,
		    const struct dp_key_limits *lim, const struct dp_data_rx *rx,
		    uint8_t *plain) __rte_warn_unused_result;

/* --- keysets ------------------------------------------------------------------------------ */

/* How a keyset gets rid of a keypair it pushes out: at once (NULL) or, in the appliance,
 * after an RCU grace period (the lcore's deferred-free queue). The callee owns kp. */
typedef void dp_keypair_retire_fn(struct dp_keypair *kp, void *arg);

struct dp_keyset {
	struct dp_keypair *cur;	 /* sends and receives */
	struct dp_keypair *prev; /* receives only: packets still in flight under the old keys */
	struct dp_keypair *next; /* responder's keypair awaiting its first packet; receives only */
	dp_keypair_retire_fn *retire; /* NULL: dp_keypair_destroy at once */
	void *retire_arg;
};

/* Empty keyset; keypairs pushed out are destroyed at once unless retire is set. */
void dp_keyset_init(struct dp_keyset *ks);

/* Take ownership of a new keypair. An initiator's becomes cur at once (cur moves to prev);
 * a responder's goes to next until dp_keyset_confirm(). Keypairs pushed out are destroyed. */
void dp_keyset_install(struct dp_keyset *ks, struct dp_keypair *kp);

/* The keypair whose local receiver id is local_id, in any slot, or NULL. */
struct dp_keypair *dp_keyset_lookup(const struct dp_keyset *ks, uint32_t local_id);

/* A packet authenticated under kp: if kp is next, it becomes cur, cur becomes prev and the
 * old prev is destroyed. Returns true if the slots rotated. */
bool dp_keyset_confirm(struct dp_keyset *ks, const struct dp_keypair *kp);

/* Destroy every keypair that can no longer receive (older than reject_after_ns). Returns how
 * many were destroyed. */
unsigned int dp_keyset_expire(struct dp_keyset *ks, uint64_t now_ns,
			      const struct dp_key_limits *lim);

/* Destroy all keypairs (each zeroed). */
void dp_keyset_clear(struct dp_keyset *ks);

/* Seal under an explicit packet number pn (the reliable engine owns the packet-number space):
 * pn must not be below the keypair's next packet number, which becomes pn + 1. Otherwise as
 * dp_keypair_seal(); -EINVAL for a pn already used. */
int dp_keypair_seal_pn(IMB_MGR *mgr, struct dp_keypair *kp, uint64_t pn, uint64_t now_ns,
		       const struct dp_key_limits *lim, const uint8_t *plain, size_t len,
		       uint8_t *out) __rte_warn_unused_result;

/* Seal with cur: -ENOKEY if there is none (a responder waits for the initiator's first
 * packet), else as dp_keypair_seal(). */
int dp_keyset_seal(IMB_MGR *mgr, struct dp_keyset *ks, uint64_t now_ns,
		   const struct dp_key_limits *lim, const uint8_t *plain, size_t len,
		   uint8_t *out) __rte_warn_unused_result;

/* Open rx with the keypair its receiver id names, then confirm it: -EBADMSG if reserved bytes
 * are set, -ENOKEY if no slot has that receiver id, else as dp_keypair_open(). */
int dp_keyset_open(IMB_MGR *mgr, struct dp_keyset *ks, uint64_t now_ns,
		   const struct dp_key_limits *lim, const struct dp_data_rx *rx,
		   uint8_t *plain) __rte_warn_unused_result;

#endif /* DP_KEYPAIR_H */
