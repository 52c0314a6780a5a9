/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: a hash table of fixed capacity whose entries also form a recency list, so that the
 * least recently used entry is the one that gives way when the table is full. One structure for
 * every table keyed by what remote parties send: the ARP cache (cp_arp), per-source rate limits
 * (cp_ratelimit), handshake timestamps per identity (cp_hs_stamps).
 *
 * Entries belong to the caller: `entry_size` bytes each (the sizeof of its struct), the key
 * first (`key_len` bytes compared with memcmp, so they must hold no padding). The table keeps
 * them in one pool made at creation, 64-byte aligned (an entry whose struct asks for up to 64
 * bytes of alignment is aligned), and never moves one: a pointer it returns stays valid until
 * that entry is removed or evicted. Its own links (hash chain, recency list, a 32-bit tag of
 * the hash) live in a separate array, so a chain walk reads 16 bytes per entry and compares
 * keys only when the tags agree.
 *
 * Recency changes only when the caller says so: sl_lru_insert() makes the new entry the
 * newest, sl_lru_touch() makes an entry the newest again; sl_lru_find() leaves the order alone
 * (a read-only look stays read-only). When the table is full, sl_lru_insert() evicts the
 * oldest entry; a caller that must not lose entries (or must release what an entry owns)
 * checks sl_lru_full() and deals with sl_lru_oldest() itself first.
 *
 * The hash is a parameter, with a 16-byte seed the table keeps (and wipes on destroy). Why not
 * built in: this is common/, layer 0, which sees no libsodium, and the table itself needs no
 * cryptography. A table keyed by remote input must use a keyed hash under a random seed
 * (sl_hash_short(), SipHash-2-4, in common/crypto/sl_hash.h, with randombytes_buf() for the
 * seed) so that nobody can aim keys at one chain; a table of trusted keys may use anything.
 *
 * Entries are zero but for their key when inserted, and wiped when removed or evicted and when
 * the table is destroyed.
 *
 * Costs: chain heads are the capacity rounded up to a power of two (load at most 1): find and
 * remove walk one chain, insert and touch are O(1) (plus one hash for insert and find).
 * Memory: capacity * (entry_size + 16) + 4 * heads bytes, all allocated by sl_lru_create().
 *
 * Threading: none inside; a table belongs to one thread (in sluice, the control thread).
 * Plain C, no DPDK runtime.
 */
#ifndef SL_LRU_H
#define SL_LRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_LRU_SEED_LEN	      16
#define SL_LRU_MAX_CAPACITY   (1u << 24)
#define SL_LRU_MAX_ENTRY_SIZE (1u << 16)

struct sl_lru_conf {
	uint32_t capacity;   /* entries, 1..SL_LRU_MAX_CAPACITY */
	uint32_t entry_size; /* bytes of an entry, 1..SL_LRU_MAX_ENTRY_SIZE */
	uint32_t key_len;    /* bytes of the key at the start of an entry, 1..entry_size */
	/* hash of a key of len bytes under seed; equal keys must hash alike */
	uint64_t (*hash)(const void *key, size_t len, const uint8_t seed[SL_LRU_SEED_LEN]);
	uint8_t seed[SL_LRU_SEED_LEN]; /* copied; random for a keyed hash */
};

struct sl_lru;

/* An empty table. NULL with errno EINVAL (a value out of range, no hash) or ENOMEM. */
struct sl_lru *sl_lru_create(const struct sl_lru_conf *conf);

/* Wipes the entries and the seed and frees everything. NULL is a no-op. */
void sl_lru_destroy(struct sl_lru *t);

/* The entry whose key is key (key_len bytes), or NULL. Recency unchanged. */
void *sl_lru_find(const struct sl_lru *t, const void *key);

/* A new entry for key, which must not be in the table: zero but for its key, the newest.
 * When the table is full the oldest entry is evicted first, and *evicted (may be NULL) says
 * so. Never fails. */
void *sl_lru_insert(struct sl_lru *t, const void *key, bool *evicted);

/* Make entry the newest. */
void sl_lru_touch(struct sl_lru *t, void *entry);

/* Take entry out of the table (and wipe it). Any other entry pointer stays valid, so a walk
 * may remove the entry it stands on once it has the next one. */
void sl_lru_remove(struct sl_lru *t, void *entry);

/* The recency list: oldest and newest entries (NULL when empty), and the neighbours of one
 * (NULL at the ends). Walk oldest to newest with sl_lru_newer(), or back with sl_lru_older(). */
void *sl_lru_oldest(const struct sl_lru *t);
void *sl_lru_newest(const struct sl_lru *t);
void *sl_lru_newer(const struct sl_lru *t, const void *entry);
void *sl_lru_older(const struct sl_lru *t, const void *entry);

/* Entries held now; whether that is the capacity (the next insert evicts); the capacity. */
uint32_t sl_lru_count(const struct sl_lru *t);
bool sl_lru_full(const struct sl_lru *t);
uint32_t sl_lru_capacity(const struct sl_lru *t);

#endif /* SL_LRU_H */
