/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the kernel UDP baseline's shared parts (perf/bench_kudp.c: options, sockets and
 * threads, tput, main; perf/bench_kudp_pingpong.c: pingpong). What the modes measure and
 * print is described in bench_kudp.c.
 */
#ifndef BENCH_KUDP_H
#define BENCH_KUDP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define UDP_MAX_PAYLOAD 65507 /* IPv4 */
#define MAX_SIZES	16
#define PP_WARMUP	1000
#define PP_DEF_ROUNDS	20000
#define PP_MAX_ROUNDS	10000000
#define PP_REPLY_MS	500 /* a reply later than this is counted lost */
#define PP_ECHO_WAKE_MS 50  /* the blocking echo thread looks at the stop flag this often */
#define NS_PER_MS	1000000ull
#define NS_PER_S	1000000000ull

enum aead_kind { AEAD_NONE, AEAD_AES256GCM, AEAD_CHACHA20POLY1305, AEAD_COUNT };

struct opts {
	double seconds;
	size_t sizes[MAX_SIZES];
	unsigned int n_sizes;
	bool aead[AEAD_COUNT]; /* tput: which to run, in this order */
	size_t chunk;	       /* tput */
	unsigned long rounds;  /* pingpong */
	bool busy;	       /* pingpong: add the busy-poll variant */
};

/* bench_kudp.c: sockets and threads */

/* Print "bench_kudp: what: strerror(err)" on stderr; returns -err. */
int kudp_sys_fail(const char *what, int err);

/* Two UDP sockets on 127.0.0.1, each connected to the other. Returns 0 or -errno. */
int kudp_udp_pair(int fd[2]);

/* SO_RCVTIMEO / SO_SNDTIMEO of ms. Returns 0 or -errno. */
int kudp_sock_timeout(int fd, int opt, unsigned int ms);

/* " pin=A,B" or " pin=none", and the end of the line. */
void kudp_print_pin(const int cpu[2]);

/* Both threads of a measurement wait here until both exist; returns true to run. */
bool kudp_wait_go(atomic_int *go);

/* Run a and b on the two CPUs and wait for both. Returns 0 or -errno. */
int kudp_run_pair(void *(*a)(void *), void *(*b)(void *), void *arg, atomic_int *go,
		  const int cpu[2]);

/* bench_kudp_pingpong.c: every size of o, blocking then (with -B) busy-polling. Returns 0 or
 * -errno. */
int kudp_mode_pingpong(const struct opts *o, const int cpu[2]);

#endif /* BENCH_KUDP_H */
