/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: sl_lru tables (common/sl_lru.h) keyed by SipHash-2-4 under a random seed, for keys
 * that remote parties choose (source addresses, static keys): without the seed nobody can tell
 * which chain a key lands on, so nobody can make one chain long. sl_lru itself takes its hash
 * as a parameter because common/ sees no libsodium; this is the hash every such table uses.
 *
 * Any thread (libsodium's generator is thread-safe); the table made belongs to the caller's.
 */
#ifndef SL_LRU_KEYED_H
#define SL_LRU_KEYED_H

#include <stddef.h>
#include <stdint.h>

#include "sl_lru.h"

/* SipHash-2-4 (libsodium's crypto_shorthash) of key under seed, as a number; the hash of
 * sl_lru_keyed_create()'s tables. */
uint64_t sl_lru_keyed_hash(const void *key, size_t len, const uint8_t seed[SL_LRU_SEED_LEN]);

/* sl_lru_create() with sl_lru_keyed_hash() under a fresh random seed (see sl_lru_conf for the
 * ranges). NULL with errno EINVAL or ENOMEM. */
struct sl_lru *sl_lru_keyed_create(uint32_t capacity, uint32_t entry_size, uint32_t key_len);

#endif /* SL_LRU_KEYED_H */
