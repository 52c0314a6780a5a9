/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: helpers shared by the benchmarks in perf/ — clock, medians, common options.
 *
 * Benchmarks report; they never assert on a time. A benchmark exits non-zero only when the
 * code under test gives a wrong answer (a failed handshake, a ciphertext that differs).
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#define BENCH_MAX_REPS 101

/* Repetitions and work per repetition, from the command line. */
struct bench_opts {
	unsigned int reps;  /* timed repetitions; the median is reported */
	unsigned long work; /* packets or handshakes per repetition */
	bool version;	    /* -V: print library versions and exit */
};

/* Parse -n reps, -m work, -V. Returns 0, or -1 after printing a usage message. */
int bench_parse_opts(int argc, char **argv, struct bench_opts *o, unsigned int def_reps,
		     unsigned long def_work);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* Median of n values (n >= 1); v is sorted in place. */
double bench_median(double *v, unsigned int n);

#endif /* BENCH_UTIL_H */
