/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: a node's address as discovery handles it, and what kind of IPv4 address
 * it is.
 *
 * A struct cp_addr is what peer exchange carries and the address book keeps: the node's
 * identity (its static public key) when known, and the IPv4 address and UDP port it can be
 * dialled at. An address without an identity (a seed given as "ip:port") is dialled with
 * Noise XX, which learns the identity; after that the address book pins it.
 *
 * Plain C, no state: every function may be called from any thread.
 */
#ifndef CP_ADDR_H
#define CP_ADDR_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_limits.h"

#define CP_ADDR_F_HAS_ID 0x01 /* id[] holds the node's static key */

struct cp_addr {
	uint8_t id[SL_KEY_LEN]; /* the node's static public key, if flags & CP_ADDR_F_HAS_ID */
	uint32_t ip;		/* host byte order */
	uint16_t port;		/* host byte order, never 0 */
	uint8_t flags;		/* CP_ADDR_F_* */
	uint64_t last_seen;	/* UNIX time (s) the node was last known to be up; 0: never */
};

/* Kinds of IPv4 address, for the rules on which addresses peer exchange accepts. */
enum cp_addr_class {
	CP_ADDR_ROUTABLE,    /* a public unicast address */
	CP_ADDR_UNSPECIFIED, /* 0.0.0.0/8 */
	CP_ADDR_LOOPBACK,    /* 127.0.0.0/8 */
	CP_ADDR_PRIVATE,     /* 10/8, 172.16/12, 192.168/16, 100.64/10 (shared), 169.254/16 */
	CP_ADDR_BENCHMARK,   /* 198.18.0.0/15 (RFC 2544; the test networks here) */
	CP_ADDR_RESERVED,    /* documentation, IETF, 240/4, and the rest of IANA's special list */
	CP_ADDR_MULTICAST,   /* 224.0.0.0/4 */
	CP_ADDR_BROADCAST,   /* 255.255.255.255 */
};

/* The class of ip (host order). */
enum cp_addr_class cp_addr_classify(uint32_t ip);
/* "routable", "private", ... */
const char *cp_addr_class_name(enum cp_addr_class c);

/* The network group of ip: the /16 it belongs to for a routable address (the unit of the
 * address book's bucketing and of the pool's outbound diversity, as in Bitcoin's addrman),
 * and one group per class for the others. */
uint32_t cp_addr_group(uint32_t ip);

/* Same node at the same place: same ip and port, and the same identity when both have one. */
bool cp_addr_same(const struct cp_addr *a, const struct cp_addr *b);

#endif /* CP_ADDR_H */
