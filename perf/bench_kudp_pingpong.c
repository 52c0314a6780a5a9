/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: kernel UDP baseline, pingpong mode — one datagram in flight between a client and an
 * echo thread over loopback, each round trip timed (see bench_kudp.c for the options and the
 * output).
 */
#include <endian.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_kudp.h"
#include "bench_util.h"

/* One pingpong measurement. The client fills samples; either side sets stop on leaving. */
struct pingpong {
	size_t size;
	bool busy;
	double seconds;
	unsigned long rounds;
	int fd[2]; /* [0] client, [1] echo */
	atomic_int go;
	atomic_bool stop;
	uint8_t *cli_buf, *echo_buf; /* UDP_MAX_PAYLOAD bytes each */
	uint64_t *samples;
	unsigned long n, lost;
	int cli_err, echo_err;
	const char *cli_what, *echo_what;
};

static void *
pp_echo(void *arg)
{
	struct pingpong *p = arg;
	int flags = p->busy ? MSG_DONTWAIT : 0;
	ssize_t n;

	if (!kudp_wait_go(&p->go))
		return NULL;
	while (!atomic_load_explicit(&p->stop, memory_order_relaxed)) {
		n = recv(p->fd[1], p->echo_buf, UDP_MAX_PAYLOAD, flags);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			p->echo_what = "recv";
			p->echo_err = errno;
			break;
		}
		if (send(p->fd[1], p->echo_buf, (size_t)n, 0) < 0 && errno != ENOBUFS) {
			p->echo_what = "send";
			p->echo_err = errno;
			break;
		}
	}
	atomic_store(&p->stop, true);
	return NULL;
}

/* Wait for the reply carrying seq (its first bytes). Returns 1 when it is in, 0 if it is
 * late (counted lost) or the echo side stopped, -errno on a socket error. */
static int
pp_wait_reply(struct pingpong *p, const uint8_t *seq, size_t seq_len, uint64_t t0)
{
	int flags = p->busy ? MSG_DONTWAIT : 0;
	unsigned int spins = 0;
	ssize_t n;

	for (;;) {
		n = recv(p->fd[0], p->cli_buf, UDP_MAX_PAYLOAD, flags);
		if (n >= (ssize_t)seq_len && memcmp(p->cli_buf, seq, seq_len) == 0)
			return 1;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (n < 0 && (!p->busy || ++spins % 256 == 0)) {
			if (bench_now_ns() - t0 > PP_REPLY_MS * NS_PER_MS)
				return 0;
			if (atomic_load_explicit(&p->stop, memory_order_relaxed))
				return 0;
		}
	}
}

static void *
pp_client(void *arg)
{
	struct pingpong *p = arg;
	size_t seq_len = p->size < sizeof(uint64_t) ? p->size : sizeof(uint64_t);
	uint64_t end, t0, t1 = 0, le;
	int rc;

	if (!kudp_wait_go(&p->go))
		return NULL;
	memset(p->cli_buf, 0x5a, p->size);
	end = bench_now_ns() + (uint64_t)(p->seconds * NS_PER_S);
	for (uint64_t i = 0; p->n < p->rounds && t1 < end; i++) {
		uint8_t seq[sizeof(uint64_t)];

		le = htole64(i);
		memcpy(seq, &le, sizeof(le));
		memcpy(p->cli_buf, seq, seq_len);
		t0 = bench_now_ns();
		if (send(p->fd[0], p->cli_buf, p->size, 0) < 0) {
			p->cli_what = "send";
			p->cli_err = errno;
			break;
		}
		rc = pp_wait_reply(p, seq, seq_len, t0);
		t1 = bench_now_ns();
		if (rc < 0) {
			p->cli_what = "recv";
			p->cli_err = -rc;
			break;
		}
		if (rc == 0 && atomic_load(&p->stop))
			break;
		if (rc == 0)
			p->lost++;
		else if (i >= PP_WARMUP)
			p->samples[p->n++] = t1 - t0;
	}
	atomic_store(&p->stop, true);
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The sample at index ceil(per_mille / 1000 * n) - 1 of the sorted samples, n >= 1. */
static uint64_t
pct(const uint64_t *v, unsigned long n, unsigned long per_mille)
{
	return v[(per_mille * n + 999) / 1000 - 1];
}

static void
pp_report(struct pingpong *p, const int cpu[2])
{
	printf("kudp mode=pingpong poll=%s size=%zu rounds=%lu lost=%lu",
	       p->busy ? "busy" : "blocking", p->size, p->n, p->lost);
	if (p->n > 0) {
		qsort(p->samples, p->n, sizeof(*p->samples), cmp_u64);
		printf(" p50_ns=%lu p99_ns=%lu p999_ns=%lu min_ns=%lu max_ns=%lu",
		       (unsigned long)pct(p->samples, p->n, 500),
		       (unsigned long)pct(p->samples, p->n, 990),
		       (unsigned long)pct(p->samples, p->n, 999), (unsigned long)p->samples[0],
		       (unsigned long)p->samples[p->n - 1]);
	}
	kudp_print_pin(cpu);
	fflush(stdout);
}

static int
pp_run(struct pingpong *p, const int cpu[2])
{
	int rc;

	p->n = p->lost = 0;
	p->cli_err = p->echo_err = 0;
	atomic_store(&p->stop, false);
	rc = kudp_udp_pair(p->fd);
	if (rc != 0)
		return rc;
	if (!p->busy)
		rc = kudp_sock_timeout(p->fd[0], SO_RCVTIMEO, PP_REPLY_MS);
	if (rc == 0 && !p->busy)
		rc = kudp_sock_timeout(p->fd[1], SO_RCVTIMEO, PP_ECHO_WAKE_MS);
	if (rc == 0)
		rc = kudp_run_pair(pp_client, pp_echo, p, &p->go, cpu);
	if (rc == 0 && p->cli_err != 0)
		rc = kudp_sys_fail(p->cli_what, p->cli_err);
	if (rc == 0 && p->echo_err != 0)
		rc = kudp_sys_fail(p->echo_what, p->echo_err);
	if (rc == 0)
		pp_report(p, cpu);
	close(p->fd[0]);
	close(p->fd[1]);
	return rc;
}

int
kudp_mode_pingpong(const struct opts *o, const int cpu[2])
{
	struct pingpong *p = calloc(1, sizeof(*p));
	int rc = 0;

	if (p == NULL)
		return kudp_sys_fail("malloc", ENOMEM);
	p->cli_buf = malloc(UDP_MAX_PAYLOAD);
	p->echo_buf = malloc(UDP_MAX_PAYLOAD);
	p->samples = malloc(o->rounds * sizeof(*p->samples));
	if (p->cli_buf == NULL || p->echo_buf == NULL || p->samples == NULL) {
		rc = kudp_sys_fail("malloc", ENOMEM);
		goto out;
	}
	p->seconds = o->seconds;
	p->rounds = o->rounds;
	for (int busy = 0; busy <= (int)o->busy && rc == 0; busy++) {
		p->busy = busy;
		for (unsigned int i = 0; i < o->n_sizes && rc == 0; i++) {
			p->size = o->sizes[i];
			rc = pp_run(p, cpu);
		}
	}
out:
	free(p->samples);
	free(p->echo_buf);
	free(p->cli_buf);
	free(p);
	return rc;
}
