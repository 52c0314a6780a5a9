/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the impairment stage (see dp_impair.h).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_udp.h>

#include "dp_impair.h"

static_assert(RTE_IS_POWER_OF_2(DP_IMPAIR_HOLD_MAX), "hold queue is a ring");

struct held {
	struct rte_mbuf *m;
	uint64_t since_ns; /* when it was held */
	uint64_t burst;	   /* the burst it came in */
};

struct dp_impair {
	struct dp_outage outage;
	uint64_t rng;	/* splitmix64 state */
	uint64_t burst; /* bursts seen (calls with packets or without) */
	double loss, reorder, duplicate, corrupt;
	struct rte_mempool *mp;
	uint32_t head, tail; /* hold ring: entries [head, tail), free-running */
	struct held hold[DP_IMPAIR_HOLD_MAX];
	struct dp_impair_stats stats;
};

/* What happens to one packet. */
struct fate {
	bool lose, dup, corrupt, reorder;
	uint64_t bit; /* which payload bit, modulo the payload's bits */
};

/* splitmix64 (Steele, Lea, Flood 2014): a full-period 64-bit generator, any seed. */
static uint64_t
next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* true with probability p: 53 random bits as a uniform double in [0, 1) */
static bool
chance(uint64_t *s, double p)
{
	return (double)(next_rand(s) >> 11) * 0x1.0p-53 < p;
}

static struct fate
decide(struct dp_impair *imp)
{
	struct fate f;

	f.lose = chance(&imp->rng, imp->loss);
	f.corrupt = chance(&imp->rng, imp->corrupt);
	f.dup = chance(&imp->rng, imp->duplicate);
	f.reorder = chance(&imp->rng, imp->reorder);
	f.bit = next_rand(&imp->rng);
	return f;
}

static bool
prob_ok(double p)
{
	return isfinite(p) && p >= 0.0 && p <= 1.0;
}

/* --- outages ------------------------------------------------------------------------------ */

void
dp_outage_init(struct dp_outage *s, const struct conf_impair *cfg, uint64_t t0_ns)
{
	*s = (struct dp_outage){ .o = cfg->outages, .n = cfg->n_outages, .t0_ns = t0_ns };
}

int
dp_outage_at(struct dp_outage *s, uint64_t now_ns)
{
	uint64_t t = now_ns - s->t0_ns, ms = 1000000;

	if (now_ns < s->t0_ns)
		return -1;
	for (; s->next < s->n; s->next++) {
		const struct conf_outage *o = &s->o[s->next];

		if (t < o->after_ms * ms)
			return -1;
		if (t < (o->after_ms + (uint64_t)o->for_ms) * ms)
			return (int)s->next;
	}
	return -1;
}

/* --- the stage ---------------------------------------------------------------------------- */

struct dp_impair *
dp_impair_create(const struct conf_impair *cfg, struct rte_mempool *mp, uint64_t t0_ns)
{
	struct dp_impair *imp;

	if (cfg == NULL || !prob_ok(cfg->loss) || !prob_ok(cfg->reorder) ||
	    !prob_ok(cfg->duplicate) || !prob_ok(cfg->corrupt) ||
	    (cfg->duplicate > 0 && mp == NULL)) {
		rte_errno = EINVAL;
		return NULL;
	}
	imp = rte_zmalloc_socket("dp_impair", sizeof(*imp), RTE_CACHE_LINE_SIZE,
				 mp != NULL ? mp->socket_id : SOCKET_ID_ANY);
	if (imp == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	dp_outage_init(&imp->outage, cfg, t0_ns);
	imp->rng = cfg->seed;
	imp->loss = cfg->loss;
	imp->reorder = cfg->reorder;
	imp->duplicate = cfg->duplicate;
	imp->corrupt = cfg->corrupt;
	imp->mp = mp;
	return imp;
}

void
dp_impair_destroy(struct dp_impair *imp)
{
	if (imp == NULL)
		return;
	for (; imp->head != imp->tail; imp->head++)
		rte_pktmbuf_free(imp->hold[imp->head % DP_IMPAIR_HOLD_MAX].m);
	rte_free(imp);
}

unsigned int
dp_impair_held(const struct dp_impair *imp)
{
	return imp->tail - imp->head;
}

void
dp_impair_get_stats(const struct dp_impair *imp, struct dp_impair_stats *st)
{
	*st = imp->stats;
}

/* --- corruption ------------------------------------------------------------------------- */

/* RFC 1624 eqn. 3: a 16-bit one's complement checksum after a word went from old to new. */
static uint16_t
cksum_adjust(uint16_t cksum, uint16_t old, uint16_t new)
{
	uint32_t sum = (uint16_t)~cksum + (uint16_t)~old + (uint32_t) new;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Flip one bit of the UDP payload of an IPv4/UDP frame; keep a non-zero UDP checksum valid.
 * Returns whether a bit was flipped. */
static bool
corrupt_udp(struct rte_mbuf *m, uint64_t bit)
{
	const uint16_t l2 = sizeof(struct rte_ether_hdr);
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	uint16_t data_len = rte_pktmbuf_data_len(m), ihl, tot, pay_off, pay_len, at, shift;
	struct rte_udp_hdr *udp;
	uint8_t *p, old;

	if (!rte_pktmbuf_is_contiguous(m) || data_len < l2 + sizeof(*ip) ||
	    eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ip->next_proto_id != IPPROTO_UDP)
		return false;
	ihl = rte_ipv4_hdr_len(ip);
	tot = rte_be_to_cpu_16(ip->total_length);
	pay_off = l2 + ihl + sizeof(*udp);
	if (ihl < sizeof(*ip) || tot > data_len - l2 || l2 + tot <= pay_off)
		return false; /* not a UDP datagram with a payload inside the frame */
	udp = (struct rte_udp_hdr *)((uint8_t *)ip + ihl);
	pay_len = l2 + tot - pay_off;
	at = (uint16_t)(bit / 8 % pay_len);
	p = rte_pktmbuf_mtod_offset(m, uint8_t *, pay_off + at);
	old = *p;
	*p ^= (uint8_t)(1u << (bit % 8));
	if (udp->dgram_cksum != 0) {
		/* the payload starts at an even offset from the UDP header: byte `at` is the high
		 * half of its 16-bit word when `at` is even (the other half does not change) */
		uint16_t ck;

		shift = at % 2 == 0 ? 8 : 0;
		ck = cksum_adjust(rte_be_to_cpu_16(udp->dgram_cksum), (uint16_t)(old << shift),
				  (uint16_t)(*p << shift));
		udp->dgram_cksum = rte_cpu_to_be_16(ck == 0 ? 0xffff : ck); /* 0: no checksum */
	}
	return true;
}

/* --- holding back ----------------------------------------------------------------------- */

static bool
hold(struct dp_impair *imp, struct rte_mbuf *m, uint64_t now_ns)
{
	struct held *h;

	if (imp->tail - imp->head == DP_IMPAIR_HOLD_MAX)
		return false;
	h = &imp->hold[imp->tail++ % DP_IMPAIR_HOLD_MAX];
	h->m = m;
	h->since_ns = now_ns;
	h->burst = imp->burst;
	imp->stats.reordered++;
	return true;
}

/* Append to pkts[out..room) the held packets that may go now: those of earlier bursts when
 * packets arrived since (later_burst), and those that waited long enough. Oldest first. */
static uint16_t
release(struct dp_impair *imp, struct rte_mbuf **pkts, uint16_t out, uint16_t room,
	uint64_t now_ns, bool later_burst)
{
	while (imp->head != imp->tail && out < room) {
		struct held *h = &imp->hold[imp->head % DP_IMPAIR_HOLD_MAX];
		bool overtaken = later_burst && h->burst != imp->burst;

		if (!overtaken && now_ns - h->since_ns < DP_IMPAIR_HOLD_NS)
			break;
		imp->stats.released_by_time += !overtaken;
		pkts[out++] = h->m;
		imp->head++;
	}
	return out;
}

uint16_t
dp_impair_flush(struct dp_impair *imp, struct rte_mbuf **pkts, uint16_t cap)
{
	uint16_t n = 0;

	for (; imp->head != imp->tail && n < cap; imp->head++)
		pkts[n++] = imp->hold[imp->head % DP_IMPAIR_HOLD_MAX].m;
	return n;
}

/* --- the burst ---------------------------------------------------------------------------- */

static void
count(struct dp_drop_counters *drops, enum dp_drop_reason why)
{
	if (drops != NULL)
		dp_drop_count(drops, why, 1);
}

uint16_t
dp_impair_rx(struct dp_impair *imp, struct rte_mbuf **pkts, uint16_t n, uint16_t cap,
	      uint64_t now_ns, struct dp_drop_counters *drops)
{
	struct rte_mbuf *dups[DP_IMPAIR_DUP_MAX], *c;
	uint16_t out = 0, ndup = 0, arrived = n;

	cap = cap < n ? n : cap;
	imp->burst++;
	if (unlikely(n > 0 && dp_outage_on(&imp->outage, now_ns))) {
		rte_pktmbuf_free_bulk(pkts, n);
		imp->stats.outage_lost += n;
		if (drops != NULL)
			dp_drop_count(drops, DP_DROP_IMPAIR_OUTAGE_RX, n);
		n = 0;
	}
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct fate f = decide(imp);

		imp->stats.seen++;
		if (f.lose) {
			rte_pktmbuf_free(m);
			imp->stats.lost++;
			count(drops, DP_DROP_IMPAIR_LOSS);
			continue;
		}
		if (f.dup) {
			c = ndup < DP_IMPAIR_DUP_MAX && n + ndup < cap
				    ? rte_pktmbuf_copy(m, imp->mp, 0, UINT32_MAX)
				    : NULL;
			if (c != NULL)
				dups[ndup++] = c;
			imp->stats.duplicated += c != NULL;
			imp->stats.dup_skipped += c == NULL;
		}
		if (f.corrupt && corrupt_udp(m, f.bit)) {
			imp->stats.corrupted++;
			count(drops, DP_DROP_IMPAIR_CORRUPT);
		}
		if (!(f.reorder && hold(imp, m, now_ns)))
			pkts[out++] = m;
	}
	out = release(imp, pkts, out, cap - ndup, now_ns, arrived > 0);
	memcpy(&pkts[out], dups, ndup * sizeof(dups[0]));
	return out + ndup;
}
