/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: helpers shared by the benchmarks (see bench_util.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

static int
usage(const char *prog, unsigned int def_reps, unsigned long def_work)
{
	fprintf(stderr,
		"usage: %s [-n reps] [-m work] [-V]\n"
		"  -n  timed repetitions, 1..%d (default %u); the median is reported\n"
		"  -m  packets or handshakes per repetition (default %lu)\n"
		"  -V  print the versions of the libraries measured and exit\n",
		prog, BENCH_MAX_REPS, def_reps, def_work);
	return -1;
}

int
bench_parse_opts(int argc, char **argv, struct bench_opts *o, unsigned int def_reps,
		 unsigned long def_work)
{
	char *end;
	int c;

	o->reps = def_reps;
	o->work = def_work;
	o->version = false;
	while ((c = getopt(argc, argv, "n:m:V")) != -1) {
		switch (c) {
		case 'n':
			o->reps = (unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->reps == 0 || o->reps > BENCH_MAX_REPS)
				return usage(argv[0], def_reps, def_work);
			break;
		case 'm':
			o->work = strtoul(optarg, &end, 10);
			if (*end != '\0' || o->work == 0)
				return usage(argv[0], def_reps, def_work);
			break;
		case 'V':
			o->version = true;
			break;
		default:
			return usage(argv[0], def_reps, def_work);
		}
	}
	return optind == argc ? 0 : usage(argv[0], def_reps, def_work);
}

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
bench_median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
