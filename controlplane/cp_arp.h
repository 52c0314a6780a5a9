/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the control plane's ARP cache — IPv4 address to MAC, resolution with retries,
 * expiry and a fixed capacity.
 *
 * States of an entry:
 *   INCOMPLETE  a request went out, no answer yet: another every retry_ns, max_requests in all
 *               (the first included), then FAILED.
 *   REACHABLE   the MAC was learned less than reachable_ns ago.
 *   STALE       learned longer ago: the MAC is still used, and the next cp_arp_want() sends a
 *               fresh request (PROBE).
 *   PROBE       a stale MAC being confirmed: still used while requests go out as for
 *               INCOMPLETE; no answer after max_requests means FAILED.
 *   FAILED      no answer: nothing is sent to the address and no request goes out for
 *               failed_hold_ns (one retry interval); then the entry is dropped and the next use
 *               starts afresh. Longer would outlast what failed: a neighbour that stopped
 *               answering during an outage of the link was unreachable after the link came
 *               back, for the whole hold-down (it was 20 s), and so was every dial to it. The
 *               users (dials) pace themselves with back-off; the hold-down does not need to.
 * A full cache evicts its least recently used entry (lookups, wants and learning count as use).
 *
 * Learning follows RFC 826: an ARP packet addressed to us (a reply, or a request for our
 * address) creates or refreshes the sender's entry (cp_arp_learn); any other ARP packet, such
 * as a gratuitous announcement, only refreshes an entry that exists (cp_arp_update, the merge
 * rule). The caller checks that the sender is on-link before teaching the cache.
 *
 * Use:
 *   to send to next hop ip   r = cp_arp_lookup(arp, ip, now, mac);
 *                            if (cp_arp_want(arp, ip, now)) send an ARP request for ip;
 *                            r == CP_ARP_FOUND: send to mac; otherwise wait or drop (no_route)
 *   every 100 ms or so       cp_arp_tick(arp, now, cb, ctx): cb sends the retries and hears of
 *                            failures
 *   ARP packets              cp_arp_learn() / cp_arp_update()
 *
 * Plain C, no DPDK runtime. Time is injected (monotonic nanoseconds). Control thread only.
 */
#ifndef CP_ARP_H
#define CP_ARP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#define CP_ARP_MAC_LEN 6

/* Defaults (cp_arp_conf_init). */
#define CP_ARP_CAPACITY_DEFAULT 1024
#define CP_ARP_RETRY_NS		(1ull * 1000000000ull)	/* between requests */
#define CP_ARP_MAX_REQUESTS	3			/* requests before FAILED */
#define CP_ARP_REACHABLE_NS	(60ull * 1000000000ull) /* a learned MAC is fresh this long */
#define CP_ARP_FAILED_HOLD_NS	CP_ARP_RETRY_NS		/* quiet time after a failure */
#define CP_ARP_MAX_CAPACITY	(1u << 20)

struct cp_arp_conf {
	uint32_t capacity;	 /* entries, 1..CP_ARP_MAX_CAPACITY */
	uint64_t retry_ns;	 /* > 0 */
	uint32_t max_requests;	 /* 1..255 */
	uint64_t reachable_ns;	 /* > 0 */
	uint64_t failed_hold_ns; /* may be 0 */
};

enum cp_arp_state {
	CP_ARP_ST_NONE = 0, /* no entry */
	CP_ARP_ST_INCOMPLETE,
	CP_ARP_ST_REACHABLE,
	CP_ARP_ST_STALE,
	CP_ARP_ST_PROBE,
	CP_ARP_ST_FAILED,
};

/* What cp_arp_lookup() says about an address. */
enum cp_arp_result {
	CP_ARP_MISS = 0, /* nothing known: cp_arp_want() starts resolving */
	CP_ARP_FOUND,	 /* *mac is usable (REACHABLE, STALE, PROBE) */
	CP_ARP_PENDING,	 /* being resolved (INCOMPLETE) */
	CP_ARP_FAILED,	 /* did not answer; in hold-down */
};

/* Told to the cp_arp_tick() callback. */
enum cp_arp_event {
	CP_ARP_EV_REQUEST, /* send an ARP request for ip now */
	CP_ARP_EV_FAILED,  /* ip did not answer: what waited for it fails */
};

struct cp_arp_stats {
	uint64_t requests;    /* requests asked for (cp_arp_want and tick) */
	uint64_t learned;     /* entries created by cp_arp_learn */
	uint64_t refreshed;   /* existing entries confirmed (learn or update) */
	uint64_t mac_changed; /* of those, with a different MAC than before */
	uint64_t expired;     /* REACHABLE entries that went STALE */
	uint64_t failed;      /* resolutions that went FAILED */
	uint64_t evicted;     /* entries dropped to make room */
	uint32_t entries;     /* now */
};

struct cp_arp;

void cp_arp_conf_init(struct cp_arp_conf *conf);

/* conf NULL means the defaults. NULL with errno EINVAL (a value out of range) or ENOMEM. */
struct cp_arp *cp_arp_create(const struct cp_arp_conf *conf);
void cp_arp_destroy(struct cp_arp *arp);

/* The MAC of ip (host order) if usable: copied to mac (may be NULL) with CP_ARP_FOUND. */
enum cp_arp_result cp_arp_lookup(struct cp_arp *arp, uint32_t ip, uint64_t now_ns,
				 uint8_t mac[CP_ARP_MAC_LEN]) __rte_warn_unused_result;

/* Must an ARP request for ip go out now? Starts resolving an unknown address (a new INCOMPLETE
 * entry), refreshes a STALE one (PROBE), sends a retry that is due; false when a request is
 * already on its way, the MAC is fresh, or the address is in hold-down. The caller sends it. */
bool cp_arp_want(struct cp_arp *arp, uint32_t ip, uint64_t now_ns) __rte_warn_unused_result;

/* ip is at mac (an ARP packet addressed to us said so): create or refresh, REACHABLE.
 * 0, or -EINVAL for address 0 or a MAC that is zero, multicast or broadcast. */
int cp_arp_learn(struct cp_arp *arp, uint32_t ip, const uint8_t mac[CP_ARP_MAC_LEN],
		 uint64_t now_ns);

/* The merge rule: refresh ip's entry (REACHABLE, mac) only if there is one. Whether there
 * was. */
bool cp_arp_update(struct cp_arp *arp, uint32_t ip, const uint8_t mac[CP_ARP_MAC_LEN],
		   uint64_t now_ns);

/* Timers: retries due (cb EV_REQUEST), resolutions that ran out of requests (cb EV_FAILED),
 * expiry (REACHABLE -> STALE), hold-downs over (entry dropped). One pass over the cache.
 * cb may be NULL; it must not call back into the cache. Returns the requests asked for. */
unsigned int cp_arp_tick(struct cp_arp *arp, uint64_t now_ns,
			 void (*cb)(void *ctx, uint32_t ip, enum cp_arp_event ev), void *ctx);

/* The state of ip's entry as of now_ns (CP_ARP_ST_NONE without one); no side effects. */
enum cp_arp_state cp_arp_state(const struct cp_arp *arp, uint32_t ip, uint64_t now_ns);

/* Every entry, most recently used first (telemetry); fn must not change the cache. */
void cp_arp_foreach(const struct cp_arp *arp, uint64_t now_ns,
		    void (*fn)(void *ctx, uint32_t ip, const uint8_t mac[CP_ARP_MAC_LEN],
			       enum cp_arp_state st),
		    void *ctx);

const char *cp_arp_state_name(enum cp_arp_state st);

void cp_arp_get_stats(const struct cp_arp *arp, struct cp_arp_stats *st);

#endif /* CP_ARP_H */
