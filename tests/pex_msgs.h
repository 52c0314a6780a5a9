/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: peer-exchange messages built byte by byte at the offsets of docs/protocol.md
 * (8.1, 8.2) — independent of cp_pex's encoder, so the two check each other — and the test
 * node that test_pex and test_pex_random share: it takes benchmark addresses (the test
 * networks'), its identity is SELF_ID bytes and it listens at SELF_IP:SELF_PORT.
 */
#ifndef SL_TEST_PEX_MSGS_H
#define SL_TEST_PEX_MSGS_H

#include <stddef.h>
#include <stdint.h>

#include "cp_pex.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))
#define S	       1000000000ull
#define WALL_S	       1700000000ull /* the real-time clock of every case, in seconds */
#define WALL	       (WALL_S * S)
#define INTERVAL       SL_PEX_INTERVAL_NS
#define SELF_IP	       IP(198, 18, 0, 1)
#define SELF_PORT      4790
#define SELF_ID	       0xaa

void put16(uint8_t *p, uint16_t v);
void put32(uint8_t *p, uint32_t v);
void put64(uint8_t *p, uint64_t v);
uint32_t get16(const uint8_t *p);
uint32_t get32(const uint8_t *p);
uint64_t get64(const uint8_t *p);

/* A raw entry: id filled with id_byte (0: all zero), flags and reserved as given. */
struct raw {
	uint8_t id_byte, flags, reserved;
	uint32_t ip;
	uint16_t port;
	uint64_t last_seen;
};

void put_entry(uint8_t *p, const struct raw *e);
/* A control header of type and len (version 1, reserved zero). Returns len. */
size_t put_hdr(uint8_t *p, uint8_t type, size_t len);
/* Whole messages; they return their length. */
size_t put_getaddr(uint8_t *p, uint32_t req_id, uint16_t max);
size_t put_addr(uint8_t *p, uint32_t req_id, const struct raw *e, unsigned int n);

/* Good entry i: a benchmark address, an identity of bytes i + 1, seen a minute ago. */
struct raw good(unsigned int i);

/* The test node's configuration, and the node started with it. */
void cfg_test(struct cp_pex_config *cfg);
void node(struct cp_pex *px);
/* peer: a new outbound PEX peer that px has just asked at now. Returns the request's id. */
uint32_t asked(struct cp_pex *px, struct cp_pex_peer *peer, uint64_t now);

uint64_t verdicts_total(const struct cp_pex_stats *st);
uint64_t rejected_total(const struct cp_pex_stats *st);
/* Every entry received was either accepted or rejected under one reason. */
void check_entry_sums(const struct cp_pex_stats *st);

#endif /* SL_TEST_PEX_MSGS_H */
