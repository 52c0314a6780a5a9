/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: sl_lru tables under SipHash-2-4 with a random seed (see sl_lru_keyed.h).
 */
#include <assert.h>
#include <string.h>

#include <sodium.h>

#include "sl_lru_keyed.h"

static_assert(SL_LRU_SEED_LEN == crypto_shorthash_KEYBYTES, "the seed is a SipHash key");
static_assert(crypto_shorthash_BYTES == sizeof(uint64_t), "SipHash-2-4 gives 64 bits");

uint64_t
sl_lru_keyed_hash(const void *key, size_t len, const uint8_t seed[SL_LRU_SEED_LEN])
{
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t h;

	crypto_shorthash(out, key, len, seed);
	memcpy(&h, out, sizeof(h));
	return h;
}

struct sl_lru *
sl_lru_keyed_create(uint32_t capacity, uint32_t entry_size, uint32_t key_len)
{
	struct sl_lru_conf conf = {
		.capacity = capacity,
		.entry_size = entry_size,
		.key_len = key_len,
		.hash = sl_lru_keyed_hash,
	};
	struct sl_lru *t;

	crypto_shorthash_keygen(conf.seed);
	t = sl_lru_create(&conf);
	sodium_memzero(conf.seed, sizeof(conf.seed)); /* the table keeps its own copy */
	return t;
}
