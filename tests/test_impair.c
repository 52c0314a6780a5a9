/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the impairment stage under EAL — loss, duplication, corruption and reordering rates
 * over 100,000 packets for fixed seeds; every packet accounted for (delivered once, lost, or
 * delivered twice); exact repeatability for a seed; corruption flips exactly one payload bit
 * and keeps the UDP checksum valid (checked by the naive reference); holds released by a later
 * burst, by time and by flush; no mbuf left behind after destroy. Outages: the schedule's
 * cursor against a naive reference over random schedules and clocks; a stage frees and counts
 * every packet received during an outage, and only then.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>

#include "dp_impair.h"
#include "net_frames.h"
#include "sl_eal_test.h"

#define BURST 32
#define CAP   (2 * BURST)
#define HOLD  DP_IMPAIR_HOLD_NS

static struct rte_mempool *pool;

static const struct dp_net_if a = {
	.mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x0a } },
	.ip = 0xc612000a,
	.prefix_len = 24,
	.udp_port = 5000,
	.mtu = 1500,
};
static const struct dp_net_if b = {
	.mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x0b } },
	.ip = 0xc612000b,
	.prefix_len = 24,
	.udp_port = 4789,
	.mtu = 1500,
};

#define POOL_BASELINE() unsigned int baseline_ = rte_mempool_in_use_count(pool)
#define POOL_CHECK()	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), baseline_)

/* Packet seq: a UDP datagram whose sequence number sits in the headers (IPv4 id, UDP source
 * port), where corruption never goes, and whose payload is a pattern of seq. */
static void
seq_frame(struct frame *f, uint32_t seq)
{
	frame_udp(f, &a, &b, 48 + seq % 17);
	put16(f->b + AT_IP_ID, (uint16_t)(seq >> 16));
	put16(f->b + AT_UDP_SPORT, (uint16_t)seq);
	for (uint16_t i = 0; i < get16(f->b + AT_UDP_LEN) - 8; i++)
		f->b[AT_PAY + i] = (uint8_t)(seq * 31 + i);
	frame_fix_ip(f);
	frame_fix_l4(f);
}

static uint32_t
seq_of(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	return (uint32_t)get16(p + AT_IP_ID) << 16 | get16(p + AT_UDP_SPORT);
}

/* Bits by which two frames differ, the UDP checksum left out. */
static unsigned int
bits_apart(const struct frame *x, const struct frame *y)
{
	unsigned int bits = 0;

	if (x->len != y->len)
		return 1000;
	for (uint16_t i = 0; i < x->len; i++)
		if (i != AT_UDP_CK && i != AT_UDP_CK + 1)
			bits += (unsigned int)__builtin_popcount(x->b[i] ^ y->b[i]);
	return bits;
}

/* Bits by which m differs from the frame seq was sent as (UDP checksum left out). */
static unsigned int
bits_changed(const struct rte_mbuf *m, uint32_t seq)
{
	struct frame sent, got;

	seq_frame(&sent, seq);
	frame_from_mbuf(m, &got);
	return bits_apart(&sent, &got);
}

static struct dp_impair *
make(uint64_t seed, double loss, double reorder, double dup, double corrupt)
{
	struct conf_impair cfg = { .enabled = true,
				   .seed = seed,
				   .loss = loss,
				   .reorder = reorder,
				   .duplicate = dup,
				   .corrupt = corrupt };
	struct dp_impair *imp = dp_impair_create(&cfg, pool, 0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(imp);
	return imp;
}

/* What came out of the stage, packet by packet. */
struct tally {
	uint32_t n_out;
	uint32_t *seqs;	    /* seq of each packet out, in order */
	uint8_t *times;	    /* times each seq came out */
	uint32_t corrupted; /* packets out with one bit changed */
	uint32_t bad;	    /* packets out changed otherwise, or with a bad checksum */
	uint32_t inversions;
};

static void
tally_one(struct tally *t, struct rte_mbuf *m)
{
	uint32_t seq = seq_of(m);
	unsigned int bits = bits_changed(m, seq);
	struct frame f;

	frame_from_mbuf(m, &f);
	if (bits == 1)
		t->corrupted++;
	if (bits > 1 || get16(f.b + AT_UDP_CK) != ref_udp_cksum(&f) || !ref_ip_ok(&f))
		t->bad++;
	if (t->n_out > 0 && seq < t->seqs[t->n_out - 1])
		t->inversions++;
	t->seqs[t->n_out++] = seq;
	t->times[seq]++;
	rte_pktmbuf_free(m);
}

/* Push total packets through imp in bursts of BURST, 1 us apart, then flush. */
static void
run(struct dp_impair *imp, uint32_t total, struct tally *t, struct dp_drop_counters *drops)
{
	struct rte_mbuf *pkts[CAP];
	struct frame f;
	uint64_t now = 1000000;
	uint16_t in, out;

	memset(t, 0, sizeof(*t));
	t->seqs = calloc(2 * total, sizeof(*t->seqs));
	t->times = calloc(total, 1);
	CU_ASSERT_FATAL(t->seqs != NULL && t->times != NULL);
	for (uint32_t seq = 0; seq < total; seq += in, now += 1000) {
		in = (uint16_t)RTE_MIN((uint32_t)BURST, total - seq);
		for (uint16_t i = 0; i < in; i++) {
			seq_frame(&f, seq + i);
			pkts[i] = frame_to_mbuf(&f, pool);
			CU_ASSERT_PTR_NOT_NULL_FATAL(pkts[i]);
		}
		out = dp_impair_rx(imp, pkts, in, CAP, now, drops);
		CU_ASSERT_FATAL(out <= CAP);
		for (uint16_t i = 0; i < out; i++)
			tally_one(t, pkts[i]);
	}
	while ((out = dp_impair_flush(imp, pkts, CAP)) > 0)
		for (uint16_t i = 0; i < out; i++)
			tally_one(t, pkts[i]);
}

static void
tally_free(struct tally *t)
{
	free(t->seqs);
	free(t->times);
}

/* observed count within 5 standard deviations of n * p (squared: no libm) */
static bool
near(uint64_t observed, uint64_t n, double p)
{
	double mean = (double)n * p, var = (double)n * p * (1 - p);
	double d = (double)observed - mean;

	if (d * d > 25 * var + 1) {
		printf("\n  observed %lu, expected %.0f, variance %.0f ", (unsigned long)observed,
		       mean, var);
		return false;
	}
	return true;
}

static void
test_rates(void)
{
	static const uint64_t seeds[] = { 1, 42, 0xdeadbeef };
	const uint32_t total = 100000;
	POOL_BASELINE();

	for (size_t s = 0; s < RTE_DIM(seeds); s++) {
		struct dp_impair *imp = make(seeds[s], 0.05, 0.05, 0.01, 0.01);
		struct dp_drop_counters drops = { 0 };
		struct dp_impair_stats st;
		uint32_t once = 0, twice = 0, never = 0;
		struct tally t;

		run(imp, total, &t, &drops);
		dp_impair_get_stats(imp, &st);
		printf("\n  seed %lu: lost %lu, duplicated %lu, corrupted %lu, reordered %lu ",
		       (unsigned long)seeds[s], (unsigned long)st.lost,
		       (unsigned long)st.duplicated, (unsigned long)st.corrupted,
		       (unsigned long)st.reordered);
		for (uint32_t i = 0; i < total; i++) {
			never += t.times[i] == 0;
			once += t.times[i] == 1;
			twice += t.times[i] == 2;
		}
		CU_ASSERT_EQUAL(never + once + twice, total); /* never three times */
		CU_ASSERT(st.seen == total && never == st.lost && twice == st.duplicated);
		CU_ASSERT_EQUAL(t.n_out, total - st.lost + st.duplicated);
		CU_ASSERT(near(st.lost, total, 0.05));
		CU_ASSERT(near(st.duplicated + st.dup_skipped, total - st.lost, 0.01));
		CU_ASSERT(near(st.corrupted, total - st.lost, 0.01));
		CU_ASSERT(near(st.reordered, total - st.lost, 0.05));
		CU_ASSERT(st.dup_skipped < st.duplicated / 10);
		CU_ASSERT(t.corrupted == st.corrupted && t.bad == 0); /* duplicates stay intact */
		CU_ASSERT(t.inversions > 0 && st.released_by_time == 0);
		CU_ASSERT(drops.n[DP_DROP_IMPAIR_LOSS] == st.lost &&
			  drops.n[DP_DROP_IMPAIR_CORRUPT] == st.corrupted);
		CU_ASSERT_EQUAL(dp_drop_total(&drops), st.lost + st.corrupted);
		CU_ASSERT_EQUAL(dp_impair_held(imp), 0);
		tally_free(&t);
		dp_impair_destroy(imp);
	}
	POOL_CHECK();
}

/* The same seed gives the same packets in the same order with the same bits; another does
 * not. */
static void
test_repeatable(void)
{
	struct tally t[3];
	POOL_BASELINE();

	for (int i = 0; i < 3; i++) {
		struct dp_impair *imp = make(i < 2 ? 7 : 8, 0.1, 0.1, 0.05, 0.05);

		run(imp, 20000, &t[i], NULL);
		dp_impair_destroy(imp);
	}
	CU_ASSERT_EQUAL(t[0].n_out, t[1].n_out);
	CU_ASSERT(memcmp(t[0].seqs, t[1].seqs, t[0].n_out * sizeof(uint32_t)) == 0);
	CU_ASSERT(t[0].corrupted == t[1].corrupted && t[0].inversions == t[1].inversions);
	CU_ASSERT(t[0].n_out != t[2].n_out ||
		  memcmp(t[0].seqs, t[2].seqs, t[0].n_out * sizeof(uint32_t)) != 0);
	for (int i = 0; i < 3; i++)
		tally_free(&t[i]);
	POOL_CHECK();
}

/* Bursts of one packet through a stage of pure probability; returns packets out. */
static uint16_t
one(struct dp_impair *imp, uint32_t seq, uint64_t now, struct rte_mbuf **pkts, uint16_t cap)
{
	struct frame f;

	seq_frame(&f, seq);
	pkts[0] = frame_to_mbuf(&f, pool);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pkts[0]);
	return dp_impair_rx(imp, pkts, 1, cap, now, NULL);
}

static void
test_hold_release(void)
{
	const uint16_t big = DP_IMPAIR_HOLD_MAX + 3;
	struct rte_mbuf *pkts[DP_IMPAIR_HOLD_MAX + 3];
	struct dp_impair_stats st;
	struct dp_impair *imp = make(3, 0, 1.0, 0, 0);
	struct frame f;
	POOL_BASELINE();

	/* every packet held; a later burst releases the earlier one behind itself */
	CU_ASSERT_EQUAL(one(imp, 0, 0, pkts, 1), 0);
	CU_ASSERT_EQUAL(dp_impair_held(imp), 1);
	CU_ASSERT_EQUAL(one(imp, 1, 10, pkts, 1), 1);
	CU_ASSERT_EQUAL(seq_of(pkts[0]), 0);
	rte_pktmbuf_free(pkts[0]);
	/* idle polls: nothing until seq 1 has waited HOLD, then it comes out */
	CU_ASSERT_EQUAL(dp_impair_rx(imp, pkts, 0, 1, 10 + HOLD - 1, NULL), 0);
	CU_ASSERT_EQUAL(dp_impair_rx(imp, pkts, 0, 1, 10 + HOLD, NULL), 1);
	CU_ASSERT_EQUAL(seq_of(pkts[0]), 1);
	rte_pktmbuf_free(pkts[0]);
	dp_impair_get_stats(imp, &st);
	CU_ASSERT(st.reordered == 2 && st.released_by_time == 1);
	/* the queue is bounded: beyond DP_IMPAIR_HOLD_MAX, packets pass */
	for (uint16_t i = 0; i < big; i++) {
		seq_frame(&f, 100u + i);
		pkts[i] = frame_to_mbuf(&f, pool);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pkts[i]);
	}
	CU_ASSERT_EQUAL(dp_impair_rx(imp, pkts, big, big, 20 * HOLD, NULL), 3);
	for (uint16_t i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(seq_of(pkts[i]), 100u + DP_IMPAIR_HOLD_MAX + i);
		rte_pktmbuf_free(pkts[i]);
	}
	CU_ASSERT_EQUAL(dp_impair_held(imp), DP_IMPAIR_HOLD_MAX);
	/* flush in pieces, oldest first */
	CU_ASSERT_EQUAL(dp_impair_flush(imp, pkts, 5), 5);
	for (uint16_t i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(seq_of(pkts[i]), 100u + i);
		rte_pktmbuf_free(pkts[i]);
	}
	/* destroy frees the rest */
	CU_ASSERT_EQUAL(dp_impair_held(imp), DP_IMPAIR_HOLD_MAX - 5);
	dp_impair_destroy(imp);
	POOL_CHECK();
}

static void
test_corrupt_every_packet(void)
{
	struct dp_drop_counters drops = { 0 };
	struct dp_impair *imp = make(11, 0, 0, 0, 1.0);
	struct rte_mbuf *pkts[1];
	struct frame f, got;
	POOL_BASELINE();

	for (uint32_t seq = 0; seq < 3000; seq++) {
		bool no_cksum = seq % 3 == 0; /* stays without one */

		seq_frame(&f, seq);
		if (no_cksum)
			put16(f.b + AT_UDP_CK, 0);
		pkts[0] = frame_to_mbuf(&f, pool);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pkts[0]);
		CU_ASSERT_EQUAL_FATAL(dp_impair_rx(imp, pkts, 1, 1, seq, &drops), 1);
		frame_from_mbuf(pkts[0], &got);
		CU_ASSERT_EQUAL(bits_apart(&f, &got), 1);
		CU_ASSERT_EQUAL(get16(got.b + AT_UDP_CK), no_cksum ? 0 : ref_udp_cksum(&got));
		rte_pktmbuf_free(pkts[0]);
	}
	/* not IPv4/UDP, or no payload: nothing to corrupt, nothing counted */
	frame_arp(&f, &a, &b, 1);
	pkts[0] = frame_to_mbuf(&f, pool);
	CU_ASSERT_EQUAL(dp_impair_rx(imp, pkts, 1, 1, 0, &drops), 1);
	CU_ASSERT(memcmp(rte_pktmbuf_mtod(pkts[0], void *), f.b, f.len) == 0);
	rte_pktmbuf_free(pkts[0]);
	frame_udp(&f, &a, &b, 0);
	pkts[0] = frame_to_mbuf(&f, pool);
	CU_ASSERT_EQUAL(dp_impair_rx(imp, pkts, 1, 1, 0, &drops), 1);
	CU_ASSERT(memcmp(rte_pktmbuf_mtod(pkts[0], void *), f.b, f.len) == 0);
	rte_pktmbuf_free(pkts[0]);
	CU_ASSERT_EQUAL(drops.n[DP_DROP_IMPAIR_CORRUPT], 3000);
	dp_impair_destroy(imp);
	POOL_CHECK();
}

/* Loss 1: nothing out, every mbuf back. Duplicate 1: as many copies as room and mbufs allow. */
static void
test_loss_and_duplicates(void)
{
	struct dp_drop_counters drops = { 0 };
	struct rte_mbuf *pkts[CAP];
	struct dp_impair_stats st;
	struct rte_mempool *tiny;
	struct dp_impair *imp;
	struct frame f;
	POOL_BASELINE();

	imp = make(5, 1.0, 0, 0, 0);
	for (uint16_t i = 0; i < BURST; i++) {
		seq_frame(&f, i);
		pkts[i] = frame_to_mbuf(&f, pool);
	}
	CU_ASSERT_EQUAL(dp_impair_rx(imp, pkts, BURST, CAP, 0, &drops), 0);
	CU_ASSERT_EQUAL(drops.n[DP_DROP_IMPAIR_LOSS], BURST);
	dp_impair_destroy(imp);
	POOL_CHECK();

	tiny = rte_pktmbuf_pool_create("tiny", 8, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tiny);
	for (int round = 0; round < 3; round++) {
		uint16_t cap = round == 0 ? BURST : round == 1 ? BURST + 5 : CAP, n;
		struct conf_impair cfg = { .seed = 9, .duplicate = 1.0 };

		imp = dp_impair_create(&cfg, round == 2 ? tiny : pool, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(imp);
		for (uint16_t i = 0; i < BURST; i++) {
			seq_frame(&f, i);
			pkts[i] = frame_to_mbuf(&f, pool);
		}
		n = dp_impair_rx(imp, pkts, BURST, cap, 0, NULL);
		/* no room; room for 5; room for all but only 8 mbufs */
		CU_ASSERT_EQUAL(n, BURST + (round == 0 ? 0 : round == 1 ? 5 : 8));
		for (uint16_t i = 0; i < n; i++) {
			CU_ASSERT_EQUAL(seq_of(pkts[i]), i < BURST ? i : i - BURST);
			rte_pktmbuf_free(pkts[i]);
		}
		dp_impair_get_stats(imp, &st);
		CU_ASSERT(st.duplicated == (uint64_t)n - BURST && st.dup_skipped == 2u * BURST - n);
		dp_impair_destroy(imp);
	}
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(tiny), 0);
	rte_mempool_free(tiny);
	POOL_CHECK();
}

static void
test_create_rejects(void)
{
	static const double bad[] = { -0.1, 1.5, NAN, INFINITY };
	struct conf_impair cfg = { .seed = 1 };

	CU_ASSERT_PTR_NULL(dp_impair_create(NULL, pool, 0));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	for (size_t i = 0; i < RTE_DIM(bad); i++) {
		for (int field = 0; field < 4; field++) {
			struct conf_impair c = cfg;
			double *p[] = { &c.loss, &c.reorder, &c.duplicate, &c.corrupt };

			*p[field] = bad[i];
			rte_errno = 0;
			CU_ASSERT_PTR_NULL(dp_impair_create(&c, pool, 0));
			CU_ASSERT_EQUAL(rte_errno, EINVAL);
		}
	}
	cfg.duplicate = 0.1; /* duplicates need a pool */
	CU_ASSERT_PTR_NULL(dp_impair_create(&cfg, NULL, 0));
	cfg.duplicate = 0;
	cfg.loss = 1.0;
	dp_impair_destroy(dp_impair_create(&cfg, NULL, 0)); /* fine without */
	dp_impair_destroy(NULL);
}

/* --- outages ------------------------------------------------------------------------------ */

#define MS 1000000ull

/* The naive reference: the index of the outage on at t (ns after the start), or -1. */
static int
ref_outage(const struct conf_impair *cfg, uint64_t t)
{
	for (unsigned int i = 0; i < cfg->n_outages; i++) {
		const struct conf_outage *o = &cfg->outages[i];

		if (t >= o->after_ms * MS && t < (o->after_ms + (uint64_t)o->for_ms) * MS)
			return (int)i;
	}
	return -1;
}

/* A random valid schedule: up to CONF_MAX_OUTAGES outages of 1..50 ms, 0..50 ms apart. */
static void
random_schedule(struct conf_impair *cfg, uint64_t *rng)
{
	uint32_t at = 0;

	cfg->n_outages = (unsigned int)(sl_test_mix64(rng) % (CONF_MAX_OUTAGES + 1));
	for (unsigned int i = 0; i < cfg->n_outages; i++) {
		cfg->outages[i].after_ms = at + (uint32_t)(sl_test_mix64(rng) % 51);
		cfg->outages[i].for_ms = 1 + (uint32_t)(sl_test_mix64(rng) % 50);
		at = cfg->outages[i].after_ms + cfg->outages[i].for_ms;
	}
}

/* 2,000 random schedules, each read at increasing times (steps of 0..3 ms, sometimes a leap over
 * several outages, sometimes exactly an edge), from a start t0 and before it. */
static void
test_outage_schedule(void)
{
	uint64_t rng = 0x0ae7a9e5;
	static struct conf_impair cfg;

	for (int round = 0; round < 2000; round++) {
		uint64_t t0 = sl_test_mix64(&rng) % (1000 * MS), now = t0 - t0 / 2;
		struct dp_outage s;
		unsigned int on = 0;

		random_schedule(&cfg, &rng);
		dp_outage_init(&s, &cfg, t0);
		CU_ASSERT_FALSE(dp_outage_on(&s, now)); /* before the start: never */
		now = t0;
		while (now < t0 + 5000 * MS && s.next < s.n) {
			int want = ref_outage(&cfg, now - t0), got = dp_outage_at(&s, now);

			CU_ASSERT_EQUAL_FATAL(got, want);
			CU_ASSERT_EQUAL(dp_outage_on(&s, now), want >= 0);
			on += want >= 0;
			switch (sl_test_mix64(&rng) % 8) {
			case 0: /* onto the next edge: a start (on) or an end (off) */
				if (s.next < s.n) {
					const struct conf_outage *o = &cfg.outages[s.next];
					uint64_t start = t0 + o->after_ms * MS;

					now = now < start ? start : start + o->for_ms * MS;
				}
				break;
			case 1: /* a leap */
				now += sl_test_mix64(&rng) % (200 * MS);
				break;
			default:
				now += sl_test_mix64(&rng) % (3 * MS);
			}
		}
		CU_ASSERT(cfg.n_outages == 0 || on > 0 || s.next == s.n);
		CU_ASSERT_EQUAL(dp_outage_at(&s, UINT64_MAX / 2), -1); /* all over */
		CU_ASSERT_EQUAL(s.next, s.n);
	}
}

/* A stage with one outage, 2 ms from 1 ms after t0: packets before and after pass (with the
 * probabilities of the stage: none), every one during it is freed and counted, including a burst
 * that arrives at its very first and last nanosecond; held packets from before it still come
 * out. */
static void
test_outage_stage(void)
{
	static struct conf_impair cfg = { .enabled = true, .seed = 4, .n_outages = 1 };
	const uint64_t t0 = 5 * MS, on = t0 + 1 * MS, off = on + 2 * MS;
	const uint64_t at[] = { 0, t0, on - 1, on, on + MS, off - 1, off, off + MS };
	struct dp_drop_counters drops = { 0 };
	struct rte_mbuf *pkts[CAP];
	struct dp_impair_stats st;
	struct dp_impair *imp;
	uint64_t lost = 0;
	struct frame f;
	uint32_t seq = 0;
	POOL_BASELINE();

	cfg.outages[0] = (struct conf_outage){ .after_ms = 1, .for_ms = 2 };
	imp = dp_impair_create(&cfg, pool, t0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(imp);
	for (size_t k = 0; k < RTE_DIM(at); k++) {
		bool cut = at[k] >= on && at[k] < off;
		uint16_t out;

		for (uint16_t i = 0; i < BURST; i++) {
			seq_frame(&f, seq++);
			pkts[i] = frame_to_mbuf(&f, pool);
			CU_ASSERT_PTR_NOT_NULL_FATAL(pkts[i]);
		}
		out = dp_impair_rx(imp, pkts, BURST, CAP, at[k], &drops);
		CU_ASSERT_EQUAL(out, cut ? 0 : BURST);
		for (uint16_t i = 0; i < out; i++) {
			CU_ASSERT_EQUAL(seq_of(pkts[i]), seq - BURST + i);
			rte_pktmbuf_free(pkts[i]);
		}
		lost += cut ? BURST : 0;
	}
	dp_impair_get_stats(imp, &st);
	CU_ASSERT(st.outage_lost == lost && lost == 3 * BURST);
	CU_ASSERT(st.seen == seq - lost && st.lost == 0);
	CU_ASSERT_EQUAL(drops.n[DP_DROP_IMPAIR_OUTAGE_RX], lost);
	CU_ASSERT_EQUAL(dp_drop_total(&drops), lost);
	dp_impair_destroy(imp);

	/* a packet held back before the outage is released during it (it arrived before), behind
	 * a later burst that the outage took */
	cfg.reorder = 1.0;
	imp = dp_impair_create(&cfg, pool, t0);
	CU_ASSERT_EQUAL(one(imp, 0, on - 1, pkts, 1), 0);
	CU_ASSERT_EQUAL(dp_impair_held(imp), 1);
	CU_ASSERT_EQUAL(one(imp, 1, on, pkts, 1), 1); /* freed; the held one comes out */
	CU_ASSERT_EQUAL(seq_of(pkts[0]), 0);
	rte_pktmbuf_free(pkts[0]);
	CU_ASSERT_EQUAL(dp_impair_held(imp), 0);
	dp_impair_destroy(imp);
	cfg.reorder = 0;
	POOL_CHECK();
}

static CU_TestInfo cases[] = {
	{ "rates over 100,000 packets, every packet accounted for", test_rates },
	{ "same seed, same packets", test_repeatable },
	{ "holds: released by a later burst, by time, by flush", test_hold_release },
	{ "corruption: one bit, checksum kept valid", test_corrupt_every_packet },
	{ "loss; duplicates limited by room and mbufs", test_loss_and_duplicates },
	{ "create rejects bad probabilities", test_create_rejects },
	{ "outage schedule against a naive reference", test_outage_schedule },
	{ "outage: every packet received during it freed and counted", test_outage_stage },
	CU_TEST_INFO_NULL,
};

int
main(void)
{
	return sl_eal_test_main("impair", cases, &pool);
}
