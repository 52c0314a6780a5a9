/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: one scenario of the discovery simulator (tests/sim_disc.h) from the command line;
 * its figures as one JSON object on stdout. perf/sim_discovery.py runs the report's scenarios
 * with it. Virtual time; the wall time and peak resident memory of the run are reported too.
 *
 * usage: sim_discovery [options]   (--help lists them; every value has a default)
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "sim_disc.h"

enum opt_kind { O_U16, O_U32, O_U64, O_SEC, O_MS, O_DBL, O_FLAG };

struct opt {
	const char *name;
	enum opt_kind kind;
	size_t off;
	const char *doc;
};

#define C(field) offsetof(struct sim_disc_config, field)

static const struct opt opts[] = {
	{ "seed", O_U64, C(seed), "every random choice" },
	{ "nodes", O_U32, C(nodes), "honest nodes (seeds not counted)" },
	{ "seeds", O_U32, C(seeds), "seed-mode nodes" },
	{ "per-group", O_U32, C(per_group), "honest nodes per /16 on average" },
	{ "outbound", O_U32, C(outbound), "outbound target" },
	{ "inbound", O_U32, C(inbound), "inbound cap of honest nodes" },
	{ "seed-inbound", O_U32, C(seed_inbound), "inbound cap of seeds" },
	{ "book-low", O_U32, C(book_low), "ask again while the book holds fewer" },
	{ "pex-max", O_U16, C(pex_max_addrs), "entries honest nodes ask for" },
	{ "new-buckets", O_U32, C(book.new_buckets), "book: new buckets" },
	{ "tried-buckets", O_U32, C(book.tried_buckets), "book: tried buckets" },
	{ "bucket-size", O_U32, C(book.bucket_size), "book: slots per bucket" },
	{ "per-source-group", O_U32, C(book.new_per_source_group),
	  "book: new buckets per source group" },
	{ "tried-per-group", O_U32, C(book.tried_per_group), "book: tried buckets per group" },
	{ "max-refs", O_U32, C(book.max_new_refs), "book: new buckets one address may sit in" },
	{ "flat", O_FLAG, C(book.bucketing), "bucketing off (flat tables)" },
	{ "join-window", O_SEC, C(join_window_ns), "seconds over which the nodes join" },
	{ "duration", O_SEC, C(duration_ns), "seconds of virtual time" },
	{ "churn", O_DBL, C(churn_per_min), "fraction of honest nodes leaving per minute" },
	{ "rtt-min", O_MS, C(rtt_min_ns), "ms" },
	{ "rtt-max", O_MS, C(rtt_max_ns), "ms" },
	{ "dial-fail", O_SEC, C(dial_fail_ns), "seconds until a failed dial is reported" },
	{ "attacker-share", O_DBL, C(attacker_share), "share of all addresses" },
	{ "attacker-groups", O_U32, C(attacker_groups), "its /16s" },
	{ "attacker-dials", O_U32, C(attacker_dials), "sessions each attacker node keeps" },
	{ "attacker-start", O_SEC, C(attacker_start_ns), "seconds: when the attacker comes up" },
	{ "attacker-spam", O_SEC, C(attacker_spam_ns),
	  "seconds between unsolicited ADDRs (0: none)" },
	{ "sample", O_SEC, C(sample_ns), "seconds between samples" },
	{ "max-events", O_U64, C(max_events), "stop after this many events (0: no bound)" },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: sim_discovery [--series] [--OPTION VALUE]...\n");
	for (size_t i = 0; i < RTE_DIM(opts); i++)
		fprintf(f, "  --%-18s %s\n", opts[i].name, opts[i].doc);
}

static int
set_opt(struct sim_disc_config *c, const struct opt *o, const char *v)
{
	char *end;
	double d = strtod(v, &end);
	uint8_t *p = (uint8_t *)c + o->off;

	if (o->kind == O_FLAG) {
		*(bool *)p = false;
		return 0;
	}
	if (end == v || *end != '\0' || d < 0)
		return -EINVAL;
	switch (o->kind) {
	case O_U16:
		*(uint16_t *)p = (uint16_t)d;
		break;
	case O_U32:
		*(uint32_t *)p = (uint32_t)d;
		break;
	case O_U64:
		*(uint64_t *)p = strtoull(v, NULL, 0);
		break;
	case O_SEC:
		*(uint64_t *)p = (uint64_t)(d * SIM_DISC_NS);
		break;
	case O_MS:
		*(uint64_t *)p = (uint64_t)(d * SIM_DISC_MS);
		break;
	case O_DBL:
		*(double *)p = d;
		break;
	case O_FLAG:
		break;
	}
	return 0;
}

static double
s_of(uint64_t ns)
{
	return ns == UINT64_MAX ? -1 : (double)ns / SIM_DISC_NS;
}

static void
print_config(const struct sim_disc_config *c)
{
	const struct cp_book_config *b = &c->book;

	printf("\"config\": {\"seed\": %" PRIu64 ", \"nodes\": %u, \"seeds\": %u, "
	       "\"per_group\": %u, \"outbound\": %u, \"inbound\": %u, \"seed_inbound\": %u, ",
	       c->seed, c->nodes, c->seeds, c->per_group, c->outbound, c->inbound, c->seed_inbound);
	printf("\"book_low\": %u, \"pex_max_addrs\": %u, \"bucketing\": %s, \"new_buckets\": %u, "
	       "\"tried_buckets\": %u, \"bucket_size\": %u, \"per_source_group\": %u, "
	       "\"tried_per_group\": %u, \"max_new_refs\": %u, \"max_bans\": %u, ",
	       c->book_low, c->pex_max_addrs, b->bucketing ? "true" : "false", b->new_buckets,
	       b->tried_buckets, b->bucket_size, b->new_per_source_group, b->tried_per_group,
	       b->max_new_refs, b->max_bans);
	printf("\"join_window_s\": %g, \"duration_s\": %g, \"churn_per_min\": %g, "
	       "\"rtt_ms\": [%g, %g], \"dial_fail_s\": %g, ",
	       s_of(c->join_window_ns), s_of(c->duration_ns), c->churn_per_min,
	       (double)c->rtt_min_ns / SIM_DISC_MS, (double)c->rtt_max_ns / SIM_DISC_MS,
	       s_of(c->dial_fail_ns));
	printf("\"attacker_share\": %g, \"attacker_groups\": %u, \"attacker_dials\": %u, "
	       "\"attacker_spam_s\": %g, \"attacker_start_s\": %g}",
	       c->attacker_share, c->attacker_groups, c->attacker_dials, s_of(c->attacker_spam_ns),
	       s_of(c->attacker_start_ns));
}

static void
print_metrics(const struct sim_disc_metrics *m)
{
	printf("\"metrics\": {\"honest_live\": %u, \"attackers\": %u, \"joined\": %u, \"left\": "
	       "%u, "
	       "\"t99_s\": %g, \"at_target_end\": %.6f, \"reached\": %u, "
	       "\"to_target_s\": {\"p50\": %g, \"p99\": %g, \"max\": %g}, "
	       "\"graph\": {\"nodes\": %u, \"edges\": %u, \"components\": %u, \"largest\": %u, "
	       "\"connected\": %s, \"outside_largest\": %u, "
	       "\"outside_max_age_s\": %g, \"diameter\": %u, \"diameter_exact\": true, "
	       "\"mean_distance\": %.4f, \"indeg_max\": %u, \"indeg_mean\": %.4f, "
	       "\"outdeg_min\": %u, \"outdeg_max\": %u, \"indeg_hist\": [",
	       m->honest_live, m->attackers, m->joined, m->left, s_of(m->t99_ns), m->at_target_end,
	       m->reached, s_of(m->to_target_p50_ns), s_of(m->to_target_p99_ns),
	       s_of(m->to_target_max_ns), m->g_nodes, m->g_edges, m->g_components, m->g_largest,
	       m->g_connected ? "true" : "false", m->g_outside, s_of(m->g_outside_age_ns),
	       m->g_diameter, m->g_mean_dist, m->indeg_max, m->indeg_mean, m->outdeg_min,
	       m->outdeg_max);
	for (int i = 0; i <= SIM_DISC_INDEG_MAX; i++)
		printf("%s%u", i ? ", " : "", m->indeg_hist[i]);
	printf("]}, \"eclipse\": {\"with_out\": %u, \"eclipsed\": %u, \"eclipsed_frac\": %.6f, "
	       "\"attacker_out_frac\": %.6f, \"book_attacker_frac\": %.6f, \"book_entries\": "
	       "%" PRIu64 "}, \"activity\": {\"events\": %" PRIu64 ", \"dials\": %" PRIu64
	       ", \"dials_failed\": %" PRIu64 ", \"sessions\": %" PRIu64 ", \"messages\": %" PRIu64
	       ", \"msg_bytes\": %" PRIu64 ", \"pex_unsolicited\": %" PRIu64
	       ", \"pex_wrong_request\": %" PRIu64 ", \"peers_bad\": %" PRIu64
	       ", \"addrs_added\": %" PRIu64 ", \"refused\": %" PRIu64 ", \"evicted\": %" PRIu64
	       "}, \"digest\": \"%016" PRIx64 "\", \"truncated\": %s}",
	       m->with_out, m->eclipsed, m->eclipsed_frac, m->attacker_out_frac,
	       m->book_attacker_frac, m->book_entries, m->events, m->dials, m->dials_failed,
	       m->sessions, m->messages, m->msg_bytes, m->pex_unsolicited, m->pex_wrong_request,
	       m->peers_bad, m->addrs_added, m->refused, m->evicted, m->digest,
	       m->truncated ? "true" : "false");
}

static void
print_series(const struct sim_disc *w)
{
	uint32_t n;
	const struct sim_disc_sample *x = sim_disc_samples(w, &n);

	printf(", \"series\": {\"columns\": [\"t_s\", \"live\", \"at_target\", \"with_out\", "
	       "\"eclipsed\"], \"rows\": [");
	for (uint32_t i = 0; i < n; i++)
		printf("%s[%g, %u, %u, %u, %u]", i ? ", " : "", s_of(x[i].t_ns), x[i].live,
		       x[i].at_target, x[i].with_out, x[i].eclipsed);
	printf("]}");
}

static int
parse(int argc, char **argv, struct sim_disc_config *c, bool *series)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t k;

		if (strcmp(a, "--series") == 0) {
			*series = true;
			continue;
		}
		if (strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(0);
		}
		for (k = 0; k < RTE_DIM(opts); k++)
			if (strncmp(a, "--", 2) == 0 && strcmp(a + 2, opts[k].name) == 0)
				break;
		if (k == RTE_DIM(opts) || (opts[k].kind != O_FLAG && i + 1 >= argc) ||
		    set_opt(c, &opts[k], opts[k].kind == O_FLAG ? "" : argv[++i]) != 0) {
			fprintf(stderr, "sim_discovery: bad option or value: %s\n", a);
			usage(stderr);
			return -EINVAL;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sim_disc_config c;
	struct sim_disc_metrics m;
	struct timespec t0, t1;
	struct rusage ru;
	bool series = false;
	struct sim_disc *w;

	sim_disc_config_defaults(&c);
	if (parse(argc, argv, &c, &series) != 0)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	w = sim_disc_create(&c);
	if (w == NULL) {
		fprintf(stderr, "sim_discovery: %s\n", strerror(errno));
		return 1;
	}
	if (sim_disc_run(w) != 0) {
		fprintf(stderr, "sim_discovery: out of memory\n");
		sim_disc_destroy(w);
		return 1;
	}
	sim_disc_metrics(w, &m);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &ru);
	printf("{");
	print_config(&c);
	printf(", ");
	print_metrics(&m);
	if (series)
		print_series(w);
	printf(", \"wall_s\": %.3f, \"max_rss_kib\": %ld}\n",
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, ru.ru_maxrss);
	sim_disc_destroy(w);
	return 0;
}
