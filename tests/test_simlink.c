/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: tests of the simulator itself (sim.h), with a trivial endpoint that records what
 * arrives: the PRNG, the event order, exact serialization and propagation, drop-tail queueing,
 * loss / burst / corruption / duplication / reordering frequencies for a fixed seed, exact
 * repeatability, and exact black-hole windows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sl_test.h"

#define PKT_LEN 1440
#define MBIT	1000000ull

/* --- a recording endpoint ----------------------------------------------------------------- */

struct arrival {
	uint64_t at, pn;
};

struct recorder {
	struct sim *sim;
	struct arrival *a;
	size_t n, cap;
	uint64_t hash; /* of every (time, pn, bytes) in arrival order */
};

static void
rec_deliver(void *arg, const struct sim_pkt *p)
{
	struct recorder *r = arg;
	uint64_t h = r->hash ^ sim_now(r->sim) ^ (p->pn << 20);

	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 4096;
		r->a = realloc(r->a, r->cap * sizeof(*r->a));
		CU_ASSERT_FATAL(r->a != NULL);
	}
	r->a[r->n++] = (struct arrival){ sim_now(r->sim), p->pn };
	for (uint32_t i = 0; i < p->len; i++)
		h = (h ^ p->data[i]) * 0x100000001b3ull;
	r->hash = sim_mix64(&h);
}

static void
rec_free(struct recorder *r)
{
	free(r->a);
	memset(r, 0, sizeof(*r));
}

/* Offer packet `tag` of PKT_LEN bytes (content derived from the number). */
static void
send_one(struct sim_link *l, uint64_t pn, uint32_t len)
{
	uint8_t buf[PKT_LEN];

	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(pn * 31 + i);
	CU_ASSERT_EQUAL(sim_link_send(l, pn, buf, len), 0);
}

/* A periodic source: sends packet number tag, then schedules tag + 1 after `gap`. */
struct source {
	struct sim *sim;
	struct sim_link *link;
	uint64_t count, gap_ns;
	uint32_t len;
};

static void
source_fire(void *arg, void *data, uint64_t tag)
{
	struct source *src = arg;

	(void)data;
	send_one(src->link, tag, src->len);
	if (tag + 1 < src->count)
		CU_ASSERT_EQUAL(sim_at(src->sim, sim_now(src->sim) + src->gap_ns, source_fire, src,
				       NULL, tag + 1),
				0);
}

/* --- PRNG and event order ----------------------------------------------------------------- */

static void
test_rng(void)
{
	struct sim_rng a, b;
	uint64_t hits = 0, below_max = 0;

	sim_rng_seed(&a, 42);
	sim_rng_seed(&b, 42);
	for (int i = 0; i < 1000; i++)
		CU_ASSERT_EQUAL(sim_rng_next(&a), sim_rng_next(&b));
	sim_rng_seed(&b, 43);
	CU_ASSERT_NOT_EQUAL(sim_rng_next(&a), sim_rng_next(&b));
	for (int i = 0; i < 100000; i++) {
		uint64_t v = sim_rng_below(&a, 7);
		double u = sim_rng_unit(&a);

		CU_ASSERT_FATAL(v < 7 && u >= 0 && u < 1);
		below_max += v == 6;
		hits += sim_rng_chance(&a, 0.25);
	}
	CU_ASSERT(below_max > 100000 / 7 - 600 && below_max < 100000 / 7 + 600);
	CU_ASSERT(hits > 25000 - 700 && hits < 25000 + 700);
	CU_ASSERT(!sim_rng_chance(&a, 0));
	CU_ASSERT(sim_rng_chance(&a, 1));
	CU_ASSERT_EQUAL(sim_rng_below(&a, 0), 0);
}

struct order_log {
	struct sim *sim;
	uint64_t tags[16], times[16];
	int n;
};

static void
order_fire(void *arg, void *data, uint64_t tag)
{
	struct order_log *o = arg;

	(void)data;
	o->times[o->n] = sim_now(o->sim);
	o->tags[o->n++] = tag;
	if (tag == 1) /* scheduling in the past runs now, after what is already due now */
		CU_ASSERT_EQUAL(sim_at(o->sim, 0, order_fire, o, NULL, 9), 0);
}

static void
test_event_order(void)
{
	static const uint64_t at[] = { 50, 10, 50, 10, 30, 50 }; /* tags 0..5 */
	static const uint64_t want[] = { 1, 3, 9, 4, 0, 2, 5 };
	static const uint64_t want_t[] = { 10, 10, 10, 30, 50, 50, 50 };
	struct order_log o = { .sim = sim_create(1) };
	void *owned = malloc(64);

	CU_ASSERT_FATAL(o.sim != NULL);
	for (uint64_t i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(sim_at(o.sim, at[i], order_fire, &o, NULL, i), 0);
	/* never runs (beyond the deadline); its data is freed by sim_destroy */
	CU_ASSERT_EQUAL(sim_at(o.sim, 1000, order_fire, &o, owned, 77), 0);
	CU_ASSERT_EQUAL(sim_run(o.sim, 999, NULL, NULL), SIM_DEADLINE);
	CU_ASSERT_EQUAL(o.n, 7);
	for (int i = 0; i < 7 && i < o.n; i++) {
		CU_ASSERT_EQUAL(o.tags[i], want[i]);
		CU_ASSERT_EQUAL(o.times[i], want_t[i]);
	}
	CU_ASSERT_EQUAL(sim_now(o.sim), 50);
	CU_ASSERT_EQUAL(sim_events(o.sim), 7);
	sim_destroy(o.sim);
}

/* --- timing ------------------------------------------------------------------------------- */

static struct sim_link *
make_link(struct sim *s, const struct sim_link_config *cfg, struct recorder *r)
{
	struct sim_link *l;

	r->sim = s;
	l = sim_link_create(s, cfg, rec_deliver, r);
	CU_ASSERT_FATAL(l != NULL);
	return l;
}

/* Back-to-back packets on an idle link: packet i arrives at floor(bits(0..i) * 1e9 / bw) +
 * delay, whatever the bandwidth; sizes vary. */
static void
check_serialization(uint64_t bps, uint64_t delay_ns)
{
	struct sim_link_config cfg = { .bandwidth_bps = bps, .delay_ns = delay_ns };
	struct sim *s = sim_create(7);
	struct recorder r = { 0 };
	struct sim_link *l = make_link(s, &cfg, &r);
	unsigned __int128 bits = 0;
	unsigned int bad = 0;

	for (uint64_t i = 0; i < 3000; i++)
		send_one(l, i, 64 + (uint32_t)(i * 37 % (PKT_LEN - 63)));
	CU_ASSERT_EQUAL(sim_run(s, UINT64_MAX, NULL, NULL), SIM_IDLE);
	CU_ASSERT_EQUAL_FATAL(r.n, 3000);
	for (uint64_t i = 0; i < 3000; i++) {
		uint32_t len = 64 + (uint32_t)(i * 37 % (PKT_LEN - 63));

		bits += (unsigned __int128)sim_wire_bytes(len) * 8;
		bad += r.a[i].pn != i ||
		       r.a[i].at != (uint64_t)(bits * SIM_NS_PER_SEC / bps) + delay_ns;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(sim_link_stats(l)->wire_bytes, (uint64_t)(bits / 8));
	rec_free(&r);
	sim_destroy(s);
}

static void
test_serialization(void)
{
	/* 1514 wire bytes at 10 Mbit/s: exactly 1211.2 us per full packet */
	CU_ASSERT_EQUAL(sim_wire_bytes(PKT_LEN), 1514);
	CU_ASSERT_EQUAL(sim_serialization_ns(PKT_LEN, 10 * MBIT), 1211200);
	check_serialization(10 * MBIT, 15 * SIM_MS);
	check_serialization(7 * MBIT, 1);		 /* non-integer ns per packet */
	check_serialization(999999937ull, 750 * SIM_MS); /* a prime rate near 1 Gbit/s */
}

/* A packet offered to an idle link leaves after its own serialization time; with infinite
 * bandwidth it arrives exactly delay later. */
static void
test_delay(void)
{
	struct sim_link_config cfg = { .bandwidth_bps = 0, .delay_ns = 123456789 };
	struct sim *s = sim_create(3);
	struct recorder r = { 0 };
	struct source src = { s, make_link(s, &cfg, &r), 100, 3 * SIM_MS + 17, 100 };

	CU_ASSERT_EQUAL(sim_at(s, 5, source_fire, &src, NULL, 0), 0);
	CU_ASSERT_EQUAL(sim_run(s, UINT64_MAX, NULL, NULL), SIM_IDLE);
	CU_ASSERT_EQUAL_FATAL(r.n, 100);
	for (uint64_t i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(r.a[i].at, 5 + i * (3 * SIM_MS + 17) + 123456789);
	rec_free(&r);
	sim_destroy(s);

	/* idle 10 Mbit/s link, one packet every 10 ms: serialization + delay each */
	s = sim_create(3);
	cfg.bandwidth_bps = 10 * MBIT;
	src = (struct source){ s, make_link(s, &cfg, &r), 50, 10 * SIM_MS, PKT_LEN };
	CU_ASSERT_EQUAL(sim_at(s, 0, source_fire, &src, NULL, 0), 0);
	CU_ASSERT_EQUAL(sim_run(s, UINT64_MAX, NULL, NULL), SIM_IDLE);
	CU_ASSERT_EQUAL_FATAL(r.n, 50);
	for (uint64_t i = 0; i < 50; i++)
		CU_ASSERT_EQUAL(r.a[i].at, i * 10 * SIM_MS + 1211200 + 123456789);
	rec_free(&r);
	sim_destroy(s);
}

static void
send_burst_at(void *arg, void *data, uint64_t tag)
{
	struct sim_link *l = arg;

	(void)data;
	for (uint64_t i = 0; i < 5; i++)
		send_one(l, tag + i, PKT_LEN);
}

/* Drop-tail: 25 packets held (the one on the serializer included), the rest dropped; a slot
 * frees exactly when a packet's serialization ends. */
static void
test_queue(void)
{
	struct sim_link_config cfg = { .bandwidth_bps = 10 * MBIT,
				       .delay_ns = SIM_MS,
				       .queue_limit = 25 };
	struct sim *s = sim_create(5);
	struct recorder r = { 0 };
	struct sim_link *l = make_link(s, &cfg, &r);
	const struct sim_link_stats *st = sim_link_stats(l);

	for (uint64_t i = 0; i < 100; i++)
		send_one(l, i, PKT_LEN);
	CU_ASSERT_EQUAL(st->queue_drops, 75);
	/* at 3 serialization times, 3 have left: 3 of 5 fit; one ns before the 4th leaves, none;
	 * when it has left, one */
	CU_ASSERT_EQUAL(sim_at(s, 3 * 1211200, send_burst_at, l, NULL, 1000), 0);
	CU_ASSERT_EQUAL(sim_at(s, 4 * 1211200 - 1, send_burst_at, l, NULL, 2000), 0);
	CU_ASSERT_EQUAL(sim_at(s, 4 * 1211200, send_burst_at, l, NULL, 3000), 0);
	CU_ASSERT_EQUAL(sim_run(s, UINT64_MAX, NULL, NULL), SIM_IDLE);
	CU_ASSERT_EQUAL(st->offered, 115);
	CU_ASSERT_EQUAL(st->queue_drops, 75 + 2 + 5 + 4);
	CU_ASSERT_EQUAL(st->delivered, 25 + 3 + 1);
	CU_ASSERT_EQUAL_FATAL(r.n, 29);
	CU_ASSERT_EQUAL(r.a[24].pn, 24);
	CU_ASSERT_EQUAL(r.a[25].pn, 1000);
	CU_ASSERT_EQUAL(r.a[27].pn, 1002);
	CU_ASSERT_EQUAL(r.a[28].pn, 3000);
	CU_ASSERT_EQUAL(r.a[28].at, 29 * 1211200 + SIM_MS); /* never idle: back to back */
	rec_free(&r);
	sim_destroy(s);
}

/* --- impairments -------------------------------------------------------------------------- */

#define IMP_PKTS 200000u

struct imp_run {
	struct sim_link_stats st;
	uint64_t hash;
	uint64_t inversions;  /* arrivals behind a higher packet number already seen */
	uint64_t twice;	      /* packet numbers that arrived twice */
	uint64_t bad_dup_gap; /* a copy arriving more than dup_delay after the first */
};

static void
analyse_arrivals(const struct recorder *r, uint64_t dup_delay, struct imp_run *out)
{
	uint64_t *first = calloc(IMP_PKTS, sizeof(*first)), max_pn = 0;

	CU_ASSERT_FATAL(first != NULL);
	for (size_t i = 0; i < r->n; i++) {
		uint64_t pn = r->a[i].pn;

		CU_ASSERT_FATAL(pn < IMP_PKTS);
		if (first[pn] != 0) {
			out->twice++;
			out->bad_dup_gap += r->a[i].at - first[pn] > dup_delay;
			continue;
		}
		first[pn] = r->a[i].at;
		out->inversions += i > 0 && pn < max_pn;
		if (pn > max_pn)
			max_pn = pn;
	}
	free(first);
}

/* 200,000 packets of 200 bytes, one every 10 us, on an impaired link of infinite bandwidth. */
static void
run_impaired(uint64_t seed, const struct sim_link_config *cfg, struct imp_run *out)
{
	struct sim *s = sim_create(seed);
	struct recorder r = { 0 };
	struct source src = { s, make_link(s, cfg, &r), IMP_PKTS, 10 * SIM_US, 200 };

	memset(out, 0, sizeof(*out));
	CU_ASSERT_EQUAL(sim_at(s, 0, source_fire, &src, NULL, 0), 0);
	CU_ASSERT_EQUAL(sim_run(s, UINT64_MAX, NULL, NULL), SIM_IDLE);
	out->st = *sim_link_stats(src.link);
	out->hash = r.hash;
	analyse_arrivals(&r, cfg->dup_delay_ns, out);
	rec_free(&r);
	sim_destroy(s);
}

static bool
near(uint64_t num, uint64_t den, double want, double tol)
{
	double got = den ? (double)num / (double)den : -1;

	if (got < want - tol || got > want + tol)
		printf("\n    %llu / %llu = %.5f, want %.4f +- %.4f", (unsigned long long)num,
		       (unsigned long long)den, got, want, tol);
	return got >= want - tol && got <= want + tol;
}

static const struct sim_link_config impaired = {
	.delay_ns = 10 * SIM_MS,
	.loss = 0.02,
	.max_burst = 3,
	.reorder = 0.10,
	.reorder_delay_ns = 200 * SIM_US,
	.duplicate = 0.01,
	.dup_delay_ns = 50 * SIM_US,
	.corrupt = 0.02,
};

static void
test_impairment_rates(void)
{
	struct imp_run a;
	const struct sim_link_stats *st = &a.st;
	uint64_t kept;

	run_impaired(2024, &impaired, &a);
	kept = st->offered - st->lost;
	printf("\n    lost %llu (longest burst %llu), corrupted %llu, duplicated %llu, reordered "
	       "%llu, inversions %llu",
	       (unsigned long long)st->lost, (unsigned long long)st->max_burst_seen,
	       (unsigned long long)st->corrupted, (unsigned long long)st->duplicated,
	       (unsigned long long)st->reordered, (unsigned long long)a.inversions);
	CU_ASSERT_EQUAL(st->offered, IMP_PKTS);
	CU_ASSERT(near(st->lost, st->offered, 0.02, 0.002));
	CU_ASSERT_EQUAL(st->max_burst_seen, 3); /* bursts of up to 3, and 3 does happen */
	CU_ASSERT(near(st->corrupted, st->delivered + st->corrupted, 0.02, 0.002));
	CU_ASSERT(near(st->duplicated, kept, 0.01, 0.0015));
	CU_ASSERT(near(st->reordered, kept, 0.10, 0.004));
	/* every copy accounted for once */
	CU_ASSERT_EQUAL(st->offered + st->duplicated, st->queue_drops + st->lost + st->black_holed +
							      st->corrupted + st->delivered);
	CU_ASSERT_EQUAL(st->queue_drops + st->black_holed, 0);
	/* a delayed packet is overtaken by the ones sent within 200 us after it: ~20 each */
	CU_ASSERT(a.inversions > st->reordered / 2);
	CU_ASSERT(a.twice > 0 && a.twice <= st->duplicated);
	CU_ASSERT_EQUAL(a.bad_dup_gap, 0);
}

/* Independent loss (max_burst 1) at 10 %: no two random losses in a row. */
static void
test_single_losses(void)
{
	struct sim_link_config cfg = { .delay_ns = SIM_MS, .loss = 0.10, .max_burst = 1 };
	struct imp_run a;

	run_impaired(99, &cfg, &a);
	CU_ASSERT(near(a.st.lost, a.st.offered, 0.10, 0.003));
	CU_ASSERT_EQUAL(a.st.max_burst_seen, 1);
	CU_ASSERT_EQUAL(a.inversions, 0);
	cfg.loss = 1;
	run_impaired(99, &cfg, &a);
	CU_ASSERT_EQUAL(a.st.lost, IMP_PKTS);
}

static void
test_repeatable(void)
{
	struct imp_run a, b, c;

	run_impaired(77, &impaired, &a);
	run_impaired(77, &impaired, &b);
	run_impaired(78, &impaired, &c);
	CU_ASSERT_EQUAL(a.hash, b.hash);
	CU_ASSERT(memcmp(&a.st, &b.st, sizeof(a.st)) == 0);
	CU_ASSERT_EQUAL(a.inversions, b.inversions);
	CU_ASSERT_NOT_EQUAL(a.hash, c.hash);
	CU_ASSERT_NOT_EQUAL(a.st.lost, c.st.lost);
}

/* --- black holes -------------------------------------------------------------------------- */

static bool
in_hole_ms(uint64_t t_ms)
{
	return t_ms >= 3000 && (t_ms - 3000) % 5000 < 2000;
}

/* 2 s every 5 s from 3 s: a packet every ms for 20 s, each kept iff it left outside a hole. */
static void
test_black_hole(void)
{
	struct sim_link_config cfg = {
		.delay_ns = 5 * SIM_MS,
		.black_hole_start_ns = 3 * SIM_NS_PER_SEC,
		.black_hole_every_ns = 5 * SIM_NS_PER_SEC,
		.black_hole_len_ns = 2 * SIM_NS_PER_SEC,
	};
	struct sim *s = sim_create(11);
	struct recorder r = { 0 };
	struct source src = { s, make_link(s, &cfg, &r), 20000, SIM_MS, 100 };
	uint64_t want_kept = 0, bad = 0, k = 0;

	CU_ASSERT_EQUAL(sim_at(s, 0, source_fire, &src, NULL, 0), 0);
	CU_ASSERT_EQUAL(sim_run(s, UINT64_MAX, NULL, NULL), SIM_IDLE);
	for (uint64_t t = 0; t < 20000; t++) {
		CU_ASSERT_EQUAL(sim_link_in_black_hole(src.link, t * SIM_MS), in_hole_ms(t));
		if (in_hole_ms(t))
			continue;
		want_kept++;
		bad += k >= r.n || r.a[k].pn != t || r.a[k].at != t * SIM_MS + 5 * SIM_MS;
		k++;
	}
	CU_ASSERT_EQUAL(want_kept, 12000);
	CU_ASSERT_EQUAL(r.n, want_kept);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(sim_link_stats(src.link)->black_holed, 8000);
	CU_ASSERT(sim_link_in_black_hole(src.link, 3 * SIM_NS_PER_SEC));
	CU_ASSERT(!sim_link_in_black_hole(src.link, 3 * SIM_NS_PER_SEC - 1));
	CU_ASSERT(sim_link_in_black_hole(src.link, 5 * SIM_NS_PER_SEC - 1));
	CU_ASSERT(!sim_link_in_black_hole(src.link, 5 * SIM_NS_PER_SEC));
	rec_free(&r);
	sim_destroy(s);
}

/* The hole applies at departure, after serialization: of four back-to-back packets leaving at
 * 1, 2, 3 and 4 serialization times, a hole [2 ser, 3 ser) takes exactly the second. */
static void
test_black_hole_departure(void)
{
	struct sim_link_config cfg = {
		.bandwidth_bps = 10 * MBIT,
		.delay_ns = SIM_MS,
		.black_hole_start_ns = 2 * 1211200,
		.black_hole_len_ns = 1211200,
	};
	struct sim *s = sim_create(12);
	struct recorder r = { 0 };
	struct sim_link *l = make_link(s, &cfg, &r);

	for (uint64_t i = 0; i < 4; i++)
		send_one(l, i, PKT_LEN);
	CU_ASSERT_EQUAL(sim_run(s, UINT64_MAX, NULL, NULL), SIM_IDLE);
	CU_ASSERT_EQUAL_FATAL(r.n, 3);
	CU_ASSERT_EQUAL(r.a[0].pn, 0);
	CU_ASSERT_EQUAL(r.a[1].pn, 2);
	CU_ASSERT_EQUAL(r.a[1].at, 3 * 1211200 + SIM_MS);
	CU_ASSERT_EQUAL(r.a[2].pn, 3);
	CU_ASSERT_EQUAL(sim_link_stats(l)->black_holed, 1);
	rec_free(&r);
	sim_destroy(s);
}

/* A cut at 1 s: everything leaving from then on is lost. */
static void
test_cut(void)
{
	struct sim_link_config cfg = { .delay_ns = 2 * SIM_MS };
	struct sim *s = sim_create(13);
	struct recorder r = { 0 };
	struct source src = { s, make_link(s, &cfg, &r), 2000, SIM_MS, 100 };

	sim_link_cut(src.link, SIM_NS_PER_SEC);
	CU_ASSERT_EQUAL(sim_at(s, 0, source_fire, &src, NULL, 0), 0);
	CU_ASSERT_EQUAL(sim_run(s, UINT64_MAX, NULL, NULL), SIM_IDLE);
	CU_ASSERT_EQUAL_FATAL(r.n, 1000);
	CU_ASSERT_EQUAL(r.a[999].pn, 999);
	CU_ASSERT_EQUAL(sim_link_stats(src.link)->black_holed, 1000);
	rec_free(&r);
	sim_destroy(s);
}

static void
test_bad_config(void)
{
	struct sim_link_config cfg = { .loss = 1.5 };
	struct sim *s = sim_create(1);
	struct recorder r = { 0 };

	CU_ASSERT_PTR_NULL(sim_link_create(s, &cfg, rec_deliver, &r));
	cfg = (struct sim_link_config){ .corrupt = -0.1 };
	CU_ASSERT_PTR_NULL(sim_link_create(s, &cfg, rec_deliver, &r));
	sim_destroy(s);
}

struct spinner {
	struct sim *sim;
	uint64_t step; /* reschedule this much later */
};

static void
spin(void *arg, void *data, uint64_t tag)
{
	struct spinner *sp = arg;

	(void)data;
	CU_ASSERT_EQUAL(sim_at(sp->sim, sim_now(sp->sim) + sp->step, spin, sp, NULL, tag + 1), 0);
}

/* Code that keeps scheduling itself at the same instant, or crawls through time, ends the
 * run as SIM_STUCK instead of hanging it. */
static void
test_stuck(void)
{
	struct spinner sp = { .sim = sim_create(1), .step = 0 };

	CU_ASSERT_EQUAL(sim_at(sp.sim, 10, spin, &sp, NULL, 0), 0);
	CU_ASSERT_EQUAL(sim_run(sp.sim, UINT64_MAX, NULL, NULL), SIM_STUCK);
	CU_ASSERT_EQUAL(sim_now(sp.sim), 10);
	sim_destroy(sp.sim);
	sp = (struct spinner){ .sim = sim_create(1), .step = 1 };
	sim_set_event_limit(sp.sim, 1000);
	CU_ASSERT_EQUAL(sim_at(sp.sim, 0, spin, &sp, NULL, 0), 0);
	CU_ASSERT_EQUAL(sim_run(sp.sim, UINT64_MAX, NULL, NULL), SIM_STUCK);
	CU_ASSERT_EQUAL(sim_events(sp.sim), 1000);
	CU_ASSERT_EQUAL(sim_now(sp.sim), 999);
	sim_destroy(sp.sim);
}

static CU_TestInfo cases[] = {
	{ "PRNG: repeatable, in range, fair", test_rng },
	{ "events run in time order, ties in insertion order", test_event_order },
	{ "serialization matches the bandwidth exactly", test_serialization },
	{ "propagation delay is exact", test_delay },
	{ "drop-tail queue holds queue_limit packets", test_queue },
	{ "loss, bursts, corruption, duplication, reordering rates", test_impairment_rates },
	{ "independent losses never come two in a row", test_single_losses },
	{ "same seed, same run; another seed, another run", test_repeatable },
	{ "black-hole windows are exact", test_black_hole },
	{ "black holes apply at departure", test_black_hole_departure },
	{ "a cut link loses everything from then on", test_cut },
	{ "impossible probabilities are refused", test_bad_config },
	{ "a run that does not advance time stops as stuck", test_stuck },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("simlink", cases)
