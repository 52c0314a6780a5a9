/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: per-source token buckets for handshake admission.
 *
 * Each IPv4 source address gets a bucket of `burst` tokens that refills at `per_sec` tokens
 * a second; a handshake message is admitted if its source's bucket holds a token, which it
 * spends. The table of buckets has a fixed capacity and is keyed by SipHash under a random
 * secret, so a sender cannot aim its addresses at one chain. A bucket that has refilled
 * completely is indistinguishable from a fresh one and may be reclaimed at any time.
 *
 * When the table is full, a new source takes the slot of the least recently seen source if
 * that source's bucket has refilled; otherwise the new source is denied (fail closed) and
 * counted in table_full. cp_ratelimit_gc() reclaims every refilled bucket.
 *
 * All arithmetic is integer: credit is kept in billionths of a token, so a bucket earns
 * exactly per_sec credit per nanosecond and a token costs 10^9.
 *
 * Threading: control thread only. Time is injected (monotonic nanoseconds). No DPDK runtime.
 */
#ifndef CP_RATELIMIT_H
#define CP_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "sl_limits.h"

#define CP_RATELIMIT_MAX_PER_SEC  1000000000u /* one token a nanosecond */
#define CP_RATELIMIT_MAX_BURST	  1000000u
#define CP_RATELIMIT_MAX_CAPACITY (1u << 24)

struct cp_ratelimit_conf {
	uint32_t per_sec;  /* tokens a second, 1..CP_RATELIMIT_MAX_PER_SEC */
	uint32_t burst;	   /* bucket depth, 1..CP_RATELIMIT_MAX_BURST */
	uint32_t capacity; /* sources tracked at once, 1..CP_RATELIMIT_MAX_CAPACITY */
};

struct cp_ratelimit_stats {
	uint64_t allowed;
	uint64_t denied;     /* all denials, including table_full */
	uint64_t table_full; /* new sources denied because no slot could be reclaimed */
	uint64_t reclaimed;  /* refilled buckets dropped to make room or by gc */
	uint32_t entries;    /* sources tracked now */
};

struct cp_ratelimit;

/* Defaults of sl_limits.h: SL_RATELIMIT_PER_SEC, SL_RATELIMIT_BURST,
 * SL_RATELIMIT_TABLE_DEFAULT. */
void cp_ratelimit_conf_init(struct cp_ratelimit_conf *conf);

/* conf NULL means the defaults. Returns NULL with errno set: EINVAL for a value out of
 * range, ENOMEM. */
struct cp_ratelimit *cp_ratelimit_create(const struct cp_ratelimit_conf *conf);

/* Frees the table and wipes its hash secret. NULL is a no-op. */
void cp_ratelimit_destroy(struct cp_ratelimit *rl);

/* Admit one handshake message from src (IPv4 address, host byte order, in the low 32 bits; the
 * admission puts a relay circuit above it: each circuit through a relay is a source of its own)
 * at now_ns? Spends a token if so. A clock that steps back earns no credit. */
bool cp_ratelimit_allow(struct cp_ratelimit *rl, uint64_t src,
			uint64_t now_ns) __rte_warn_unused_result;

/* Drop every source whose bucket is full at now_ns. Returns how many were dropped. Costs one
 * pass over the table: call it from a timer, not per packet. */
unsigned int cp_ratelimit_gc(struct cp_ratelimit *rl, uint64_t now_ns);

void cp_ratelimit_get_stats(const struct cp_ratelimit *rl, struct cp_ratelimit_stats *st);

#endif /* CP_RATELIMIT_H */
