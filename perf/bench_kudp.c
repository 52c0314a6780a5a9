/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: kernel UDP baseline — what an application gets from ordinary kernel sockets on the
 * same machine, the number sluice is compared against. Loopback only (127.0.0.1, ports the
 * kernel picks); each measurement builds its own pair of connected UDP sockets and threads.
 *
 *   tput      A sender thread calls sendmmsg flat out for -t seconds, batches of 32
 *             datagrams; a receiver thread calls recvmmsg (batches of 32, MSG_WAITFORONE) and
 *             keeps counting for a short drain after the sender stops (until the socket has
 *             been quiet for 20 ms, at most 250 ms). Send and receive buffers are made large
 *             (SO_*BUFFORCE when allowed). A message bigger than the chunk (-c, default 1472:
 *             a 1500-byte MTU less IPv4 and UDP headers) goes out as consecutive datagrams of
 *             at most chunk bytes; msgs_received = datagrams_received / dgrams_per_msg,
 *             rounded down. With -a, every datagram is sealed on its own with libsodium
 *             (AES-256-GCM or ChaCha20-Poly1305 IETF): an 8-byte little-endian counter, the
 *             ciphertext, a 16-byte tag; the nonce is 4 zero bytes and that counter. The
 *             receiver opens every datagram and counts auth_failures, which must be 0.
 *   pingpong  One datagram of size bytes in flight: the client sends, an echo thread
 *             receives and sends it back, the client receives it; each round trip is timed
 *             with CLOCK_MONOTONIC. The first 1000 round trips are a warm-up and not
 *             recorded; then up to -n round trips, the whole run bounded by -t seconds.
 *             poll=blocking uses blocking recv (what an application sees); -B adds
 *             poll=busy, non-blocking recv in a spin loop on both sides (the kindest case
 *             for kernel sockets).
 *
 * Output: one line per measurement on stdout, "kudp " then key=value pairs.
 *   tput:     datagrams_sent, datagrams_received, drops (sent - received: what the kernel
 *             dropped, nearly always at a full receive buffer), msgs_received, seconds (the
 *             sender's interval; the drain counts against it), msgs_per_s, goodput_bps
 *             (message payload bits received per second: headers, counter and tag excluded),
 *             auth_failures, the effective sndbuf/rcvbuf, and pin (the CPUs of the sender
 *             and the receiver, or "none" with fewer than 2 CPUs available).
 *   pingpong: rounds (recorded), lost (replies not back within 500 ms), percentiles of the
 *             round-trip time in ns, the sample at index ceil(p * rounds) - 1 once sorted
 *             (left out when -t ran out during the warm-up and rounds=0).
 * Numbers are only as quiet as the machine: the two threads share the CPUs with everything
 * else. Exit status: 0, 1 on a system error or an authentication failure, 2 on bad options.
 *
 * Files: this one (options, sockets and threads, AEAD, tput, main); bench_kudp_pingpong.c
 * (pingpong); bench_kudp.h (what both use).
 */
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench_kudp.h"
#include "bench_util.h"

#define BATCH		32 /* datagrams per sendmmsg / recvmmsg */
#define CTR_LEN		8  /* counter carried in each sealed datagram */
#define NONCE_LEN	12 /* 4 zero bytes, then the counter */
#define TAG_LEN		16
#define AEAD_OVERHEAD	(CTR_LEN + TAG_LEN)
#define MAX_CHUNK	(UDP_MAX_PAYLOAD - AEAD_OVERHEAD)
#define DEF_CHUNK	1472 /* 1500-byte MTU - 20 (IPv4) - 8 (UDP) */
#define MAX_MSG		(64u << 20)
#define MAX_SECONDS	600.0
#define SOCK_BUF	(16 << 20) /* asked for; the kernel may give less (and doubles it) */
#define RX_QUIET_MS	20	   /* drain: stop once nothing arrived for this long ... */
#define RX_DRAIN_MAX_MS 250	   /* ... or this long after the sender stopped */
#define TX_TIMEOUT_MS	100	   /* a blocked sendmmsg returns to look at the clock */

_Static_assert(NONCE_LEN == 4 + CTR_LEN, "nonce is 4 zero bytes and the counter");
_Static_assert(TAG_LEN == crypto_aead_aes256gcm_ABYTES, "AES-256-GCM tag");
_Static_assert(TAG_LEN == crypto_aead_chacha20poly1305_ietf_ABYTES, "ChaCha20-Poly1305 tag");
_Static_assert(NONCE_LEN == crypto_aead_aes256gcm_NPUBBYTES, "AES-256-GCM nonce");
_Static_assert(NONCE_LEN == crypto_aead_chacha20poly1305_ietf_NPUBBYTES, "ChaCha20 nonce");
_Static_assert(DEF_CHUNK <= MAX_CHUNK, "default chunk fits a sealed datagram");

static const char *prog = "bench_kudp";

/* --- options ---------------------------------------------------------------------------- */

static const char *const aead_names[AEAD_COUNT] = { "none", "aes256gcm", "chacha20poly1305" };

static int
usage(void)
{
	fprintf(stderr,
		"usage: %s tput [-t S] [-s SIZES] [-a none|aes256gcm|chacha20poly1305|all] "
		"[-c CHUNK]\n"
		"       %s pingpong [-n ROUNDS] [-t S] [-s SIZES] [-B]\n"
		"       %s -V\n"
		"  -t  seconds per measurement, > 0 and <= %.0f (tput 1.0, pingpong 2.0)\n"
		"  -s  comma-separated message sizes in bytes (tput 64,256,1400,16384,1048576 up "
		"to %u;\n"
		"      pingpong 64,1024 up to %d)\n"
		"  -a  per-datagram AEAD (default none)\n"
		"  -c  largest datagram payload, 1..%d (default %d)\n"
		"  -n  recorded round trips, after %d of warm-up (default %d)\n"
		"  -B  also measure with busy-polling non-blocking receives\n"
		"  -V  print the libsodium version and exit\n",
		prog, prog, prog, MAX_SECONDS, MAX_MSG, UDP_MAX_PAYLOAD, MAX_CHUNK, DEF_CHUNK,
		PP_WARMUP, PP_DEF_ROUNDS);
	return -1;
}

static bool
parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && s[0] != '-' && *v >= lo && *v <= hi;
}

static bool
parse_sizes(const char *arg, size_t max, struct opts *o)
{
	char buf[256], *save = NULL, *tok;
	unsigned long v;

	if (strlen(arg) >= sizeof(buf))
		return false;
	strcpy(buf, arg);
	o->n_sizes = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (o->n_sizes == MAX_SIZES || !parse_ulong(tok, 1, max, &v))
			return false;
		o->sizes[o->n_sizes++] = v;
	}
	return o->n_sizes > 0;
}

static bool
parse_aead(const char *arg, struct opts *o)
{
	memset(o->aead, 0, sizeof(o->aead));
	if (strcmp(arg, "all") == 0) {
		for (int a = 0; a < AEAD_COUNT; a++)
			o->aead[a] = true;
		return true;
	}
	for (int a = 0; a < AEAD_COUNT; a++) {
		if (strcmp(arg, aead_names[a]) == 0) {
			o->aead[a] = true;
			return true;
		}
	}
	return false;
}

static bool
parse_seconds(const char *arg, double *s)
{
	char *end;

	*s = strtod(arg, &end);
	return end != arg && *end == '\0' && *s > 0 && *s <= MAX_SECONDS;
}

/* Options of one mode; argv[0] is the mode. Returns 0, 1 after -V, or -1 after usage. */
static int
parse_opts(int argc, char **argv, bool tput, struct opts *o)
{
	const char *sizes = tput ? "64,256,1400,16384,1048576" : "64,1024";
	unsigned long v;
	bool ok = true;
	int c;

	*o = (struct opts){ .seconds = tput ? 1.0 : 2.0,
			    .chunk = DEF_CHUNK,
			    .rounds = PP_DEF_ROUNDS };
	o->aead[AEAD_NONE] = true;
	parse_sizes(sizes, MAX_MSG, o);
	optind = 1;
	opterr = 0; /* usage() says it all */
	while (ok && (c = getopt(argc, argv, tput ? "t:s:a:c:V" : "n:t:s:BV")) != -1) {
		switch (c) {
		case 't':
			ok = parse_seconds(optarg, &o->seconds);
			break;
		case 's':
			ok = parse_sizes(optarg, tput ? MAX_MSG : UDP_MAX_PAYLOAD, o);
			break;
		case 'a':
			ok = parse_aead(optarg, o);
			break;
		case 'c':
			ok = parse_ulong(optarg, 1, MAX_CHUNK, &v);
			o->chunk = v;
			break;
		case 'n':
			ok = parse_ulong(optarg, 1, PP_MAX_ROUNDS, &o->rounds);
			break;
		case 'B':
			o->busy = true;
			break;
		case 'V':
			return 1;
		default:
			ok = false;
		}
	}
	return ok && optind == argc ? 0 : usage();
}

/* --- sockets and threads ---------------------------------------------------------------- */

int
kudp_sys_fail(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(err));
	return -err;
}

static int
udp_bound(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return kudp_sys_fail("socket", errno);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		int err = errno;

		close(fd);
		return kudp_sys_fail("bind 127.0.0.1:0", err);
	}
	return fd;
}

/* Two UDP sockets on 127.0.0.1, each connected to the other. Returns 0 or -errno. */
int
kudp_udp_pair(int fd[2])
{
	struct sockaddr_in a[2];
	socklen_t len;
	int rc = 0;

	fd[0] = udp_bound();
	fd[1] = fd[0] < 0 ? -1 : udp_bound();
	for (int i = 0; i < 2 && rc == 0; i++) {
		if (fd[i] < 0) {
			rc = fd[i];
			break;
		}
		len = sizeof(a[i]);
		if (getsockname(fd[i], (struct sockaddr *)&a[i], &len) != 0)
			rc = kudp_sys_fail("getsockname", errno);
	}
	for (int i = 0; i < 2 && rc == 0; i++)
		if (connect(fd[i], (struct sockaddr *)&a[1 - i], sizeof(a[1 - i])) != 0)
			rc = kudp_sys_fail("connect", errno);
	if (rc != 0) {
		for (int i = 0; i < 2; i++)
			if (fd[i] >= 0)
				close(fd[i]);
	}
	return rc;
}

/* Ask for a big buffer, past net.core.[rw]mem_max if we may; return what we got. */
static int
sock_buf(int fd, int force_opt, int opt)
{
	int v = SOCK_BUF;
	socklen_t len = sizeof(v);

	if (setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof(v)) != 0)
		setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
	if (getsockopt(fd, SOL_SOCKET, opt, &v, &len) != 0)
		v = -1;
	return v;
}

int
kudp_sock_timeout(int fd, int opt, unsigned int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)) != 0)
		return kudp_sys_fail("setsockopt timeout", errno);
	return 0;
}

/* The first two CPUs this process may run on, or -1, -1 with fewer than two. */
static void
pick_cpus(int cpu[2])
{
	cpu_set_t set;
	int n = 0;

	cpu[0] = cpu[1] = -1;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpu[n++] = c;
	if (n < 2)
		cpu[0] = cpu[1] = -1;
}

void
kudp_print_pin(const int cpu[2])
{
	if (cpu[0] < 0)
		printf(" pin=none\n");
	else
		printf(" pin=%d,%d\n", cpu[0], cpu[1]);
}

/* Start fn on a thread pinned to cpu from its first instruction (cpu < 0: not pinned). */
static int
spawn(pthread_t *t, void *(*fn)(void *), void *arg, int cpu)
{
	pthread_attr_t attr;
	cpu_set_t set;
	int rc;

	rc = pthread_attr_init(&attr);
	if (rc == 0 && cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		rc = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	if (rc == 0)
		rc = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return rc == 0 ? 0 : kudp_sys_fail("pthread_create", rc);
}

/* Both threads of a measurement wait here until both exist; -1 tells them to leave at once
 * (the second thread could not be started). Returns true to run. */
bool
kudp_wait_go(atomic_int *go)
{
	int g;

	while ((g = atomic_load(go)) == 0)
		sched_yield();
	return g > 0;
}

/* Run a and b on the two CPUs and wait for both. Returns 0 or -errno. */
int
kudp_run_pair(void *(*a)(void *), void *(*b)(void *), void *arg, atomic_int *go, const int cpu[2])
{
	pthread_t ta, tb;
	int rc;

	atomic_store(go, 0);
	rc = spawn(&ta, a, arg, cpu[0]);
	if (rc != 0)
		return rc;
	rc = spawn(&tb, b, arg, cpu[1]);
	atomic_store(go, rc == 0 ? 1 : -1);
	pthread_join(ta, NULL);
	if (rc == 0)
		pthread_join(tb, NULL);
	return rc;
}

/* --- per-datagram AEAD ------------------------------------------------------------------ */

/* Read-only once set up: the sender and the receiver share it. */
struct aead {
	crypto_aead_aes256gcm_state gcm; /* expanded key, AES-256-GCM */
	uint8_t key[crypto_aead_chacha20poly1305_ietf_KEYBYTES];
	enum aead_kind kind;
};

static void
aead_init(struct aead *a, enum aead_kind kind)
{
	a->kind = kind;
	randombytes_buf(a->key, sizeof(a->key));
	if (kind == AEAD_AES256GCM)
		crypto_aead_aes256gcm_beforenm(&a->gcm, a->key);
}

/* Datagram = counter (LE64) | ciphertext of pt | tag. Returns the datagram length. */
static size_t
aead_seal(const struct aead *a, uint8_t *dg, uint64_t ctr, const uint8_t *pt, size_t len)
{
	uint8_t nonce[NONCE_LEN] = { 0 };
	uint64_t le = htole64(ctr);

	memcpy(dg, &le, CTR_LEN);
	memcpy(nonce + 4, &le, CTR_LEN);
	if (a->kind == AEAD_AES256GCM)
		crypto_aead_aes256gcm_encrypt_detached_afternm(dg + CTR_LEN, dg + CTR_LEN + len,
							       NULL, pt, len, NULL, 0, NULL, nonce,
							       &a->gcm);
	else
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(dg + CTR_LEN, dg + CTR_LEN + len,
								   NULL, pt, len, NULL, 0, NULL,
								   nonce, a->key);
	return len + AEAD_OVERHEAD;
}

/* Open a datagram into pt. Returns true if it authenticated. */
static bool __attribute__((warn_unused_result))
aead_open(const struct aead *a, const uint8_t *dg, size_t dlen, uint8_t *pt)
{
	uint8_t nonce[NONCE_LEN] = { 0 };
	size_t len;

	if (dlen < AEAD_OVERHEAD)
		return false;
	len = dlen - AEAD_OVERHEAD;
	memcpy(nonce + 4, dg, CTR_LEN);
	if (a->kind == AEAD_AES256GCM)
		return crypto_aead_aes256gcm_decrypt_detached_afternm(pt, NULL, dg + CTR_LEN, len,
								      dg + CTR_LEN + len, NULL, 0,
								      nonce, &a->gcm) == 0;
	return crypto_aead_chacha20poly1305_ietf_decrypt_detached(pt, NULL, dg + CTR_LEN, len,
								  dg + CTR_LEN + len, NULL, 0,
								  nonce, a->key) == 0;
}

/* --- tput ------------------------------------------------------------------------------- */

/* BATCH datagram buffers of slot bytes, with the message headers pointing at them. */
struct batch {
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	uint8_t *buf;
	size_t slot;
};

static int
batch_init(struct batch *b, size_t slot)
{
	memset(b, 0, sizeof(*b));
	b->slot = slot;
	b->buf = malloc(BATCH * slot);
	if (b->buf == NULL)
		return kudp_sys_fail("malloc", ENOMEM);
	for (int i = 0; i < BATCH; i++) {
		b->iov[i] = (struct iovec){ .iov_base = b->buf + i * slot, .iov_len = slot };
		b->msg[i].msg_hdr.msg_iov = &b->iov[i];
		b->msg[i].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

/* One tput measurement. The sender writes tx_*, the receiver rx_*; main reads both after
 * joining the threads. */
struct tput {
	const struct aead *aead; /* NULL: plain datagrams */
	const uint8_t *payload;	 /* one message */
	size_t size, chunk;
	uint64_t dpm; /* datagrams per message */
	double seconds;
	int fd[2]; /* [0] sends, [1] receives */
	atomic_int go;
	atomic_bool tx_done;
	struct batch tx, rx;
	uint8_t *rx_pt; /* the receiver opens into this */
	uint64_t tx_dgrams, tx_ns;
	uint64_t rx_dgrams, rx_auth_failures;
	int tx_err, rx_err;
};

/* Datagrams k .. k + BATCH - 1 of the endless stream of messages. */
static void
tx_fill(struct tput *t, uint64_t k)
{
	for (int i = 0; i < BATCH; i++) {
		uint64_t piece = (k + i) % t->dpm;
		size_t off = piece * t->chunk;
		size_t len = t->size - off < t->chunk ? t->size - off : t->chunk;
		struct iovec *iov = &t->tx.iov[i];

		if (t->aead == NULL) {
			iov->iov_base = (void *)(t->payload + off);
			iov->iov_len = len;
		} else {
			iov->iov_base = t->tx.buf + i * t->tx.slot;
			iov->iov_len =
				aead_seal(t->aead, iov->iov_base, k + i, t->payload + off, len);
		}
	}
}

static void *
tput_sender(void *arg)
{
	struct tput *t = arg;
	uint64_t k = 0, t0, now, end;
	int n;

	if (!kudp_wait_go(&t->go))
		return NULL;
	t0 = now = bench_now_ns();
	end = t0 + (uint64_t)(t->seconds * NS_PER_S);
	while (now < end) {
		tx_fill(t, k);
		n = sendmmsg(t->fd[0], t->tx.msg, BATCH, 0);
		if (n > 0)
			k += (unsigned int)n;
		else if (errno != EAGAIN && errno != EINTR && errno != ENOBUFS) {
			t->tx_err = errno;
			break;
		}
		now = bench_now_ns();
	}
	t->tx_dgrams = k;
	t->tx_ns = now - t0;
	atomic_store(&t->tx_done, true);
	return NULL;
}

static void
rx_open_all(struct tput *t, int n)
{
	for (int i = 0; i < n; i++)
		if (!aead_open(t->aead, t->rx.iov[i].iov_base, t->rx.msg[i].msg_len, t->rx_pt))
			t->rx_auth_failures++;
}

/* Count until the sender has stopped and the socket has been quiet for RX_QUIET_MS, or
 * RX_DRAIN_MAX_MS after the sender stopped. */
static void *
tput_receiver(void *arg)
{
	struct tput *t = arg;
	uint64_t drain_end = 0;
	int n;

	if (!kudp_wait_go(&t->go))
		return NULL;
	for (;;) {
		n = recvmmsg(t->fd[1], t->rx.msg, BATCH, MSG_WAITFORONE, NULL);
		if (n > 0) {
			t->rx_dgrams += (unsigned int)n;
			if (t->aead != NULL)
				rx_open_all(t, n);
		} else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			if (atomic_load(&t->tx_done))
				break;
		} else {
			t->rx_err = errno;
			break;
		}
		if (drain_end == 0 && atomic_load(&t->tx_done))
			drain_end = bench_now_ns() + RX_DRAIN_MAX_MS * NS_PER_MS;
		else if (drain_end != 0 && bench_now_ns() > drain_end)
			break;
	}
	return NULL;
}

static void
tput_report(const struct tput *t, enum aead_kind kind, int sndbuf, int rcvbuf, const int cpu[2])
{
	uint64_t msgs = t->rx_dgrams / t->dpm;
	double s = (double)t->tx_ns / NS_PER_S;

	printf("kudp mode=tput aead=%s size=%zu chunk=%zu dgrams_per_msg=%lu datagrams_sent=%lu "
	       "datagrams_received=%lu drops=%ld msgs_received=%lu seconds=%.3f msgs_per_s=%.0f "
	       "goodput_bps=%.0f auth_failures=%lu sndbuf=%d rcvbuf=%d",
	       aead_names[kind], t->size, t->chunk, (unsigned long)t->dpm,
	       (unsigned long)t->tx_dgrams, (unsigned long)t->rx_dgrams,
	       (long)(t->tx_dgrams - t->rx_dgrams), (unsigned long)msgs, s, (double)msgs / s,
	       (double)msgs * (double)t->size * 8 / s, (unsigned long)t->rx_auth_failures, sndbuf,
	       rcvbuf);
	kudp_print_pin(cpu);
	fflush(stdout);
}

/* Sockets, buffers, threads of one measurement; everything released before returning. */
static int
tput_run(struct tput *t, enum aead_kind kind, const int cpu[2])
{
	size_t slot = t->chunk + AEAD_OVERHEAD;
	int rc, sndbuf, rcvbuf;

	t->dpm = (t->size + t->chunk - 1) / t->chunk;
	t->tx_dgrams = t->tx_ns = t->rx_dgrams = t->rx_auth_failures = 0;
	t->tx_err = t->rx_err = 0;
	atomic_store(&t->tx_done, false);
	rc = kudp_udp_pair(t->fd);
	if (rc != 0)
		return rc;
	sndbuf = sock_buf(t->fd[0], SO_SNDBUFFORCE, SO_SNDBUF);
	rcvbuf = sock_buf(t->fd[1], SO_RCVBUFFORCE, SO_RCVBUF);
	rc = kudp_sock_timeout(t->fd[0], SO_SNDTIMEO, TX_TIMEOUT_MS);
	if (rc == 0)
		rc = kudp_sock_timeout(t->fd[1], SO_RCVTIMEO, RX_QUIET_MS);
	if (rc == 0)
		rc = batch_init(&t->tx, slot);
	if (rc == 0)
		rc = batch_init(&t->rx, slot);
	if (rc == 0)
		rc = kudp_run_pair(tput_sender, tput_receiver, t, &t->go, cpu);
	if (rc == 0 && t->tx_err != 0)
		rc = kudp_sys_fail("sendmmsg", t->tx_err);
	if (rc == 0 && t->rx_err != 0)
		rc = kudp_sys_fail("recvmmsg", t->rx_err);
	if (rc == 0)
		tput_report(t, kind, sndbuf, rcvbuf, cpu);
	free(t->tx.buf);
	free(t->rx.buf);
	t->tx.buf = t->rx.buf = NULL;
	close(t->fd[0]);
	close(t->fd[1]);
	return rc;
}

static int
tput_sizes(struct tput *t, enum aead_kind kind, const struct opts *o, const int cpu[2])
{
	struct aead aead;
	int rc = 0;

	if (kind == AEAD_AES256GCM && !crypto_aead_aes256gcm_is_available()) {
		for (unsigned int i = 0; i < o->n_sizes; i++)
			printf("kudp mode=tput aead=%s size=%zu skipped=unavailable\n",
			       aead_names[kind], o->sizes[i]);
		return 0;
	}
	if (kind != AEAD_NONE)
		aead_init(&aead, kind);
	t->aead = kind == AEAD_NONE ? NULL : &aead;
	for (unsigned int i = 0; i < o->n_sizes && rc == 0; i++) {
		t->size = o->sizes[i];
		rc = tput_run(t, kind, cpu);
		if (rc == 0 && t->rx_auth_failures != 0) {
			fprintf(stderr, "%s: %s: %lu datagrams failed to authenticate\n", prog,
				aead_names[kind], (unsigned long)t->rx_auth_failures);
			rc = -EBADMSG;
		}
	}
	t->aead = NULL;
	sodium_memzero(&aead, sizeof(aead));
	return rc;
}

static int
mode_tput(const struct opts *o, const int cpu[2])
{
	size_t max = 0;
	uint8_t *payload, *pt;
	struct tput *t;
	int rc = 0;

	for (unsigned int i = 0; i < o->n_sizes; i++)
		max = o->sizes[i] > max ? o->sizes[i] : max;
	t = calloc(1, sizeof(*t));
	payload = malloc(max);
	pt = malloc(o->chunk);
	if (t == NULL || payload == NULL || pt == NULL) {
		rc = kudp_sys_fail("malloc", ENOMEM);
		goto out;
	}
	randombytes_buf(payload, max);
	t->payload = payload;
	t->chunk = o->chunk;
	t->seconds = o->seconds;
	t->rx_pt = pt;
	for (int a = 0; a < AEAD_COUNT && rc == 0; a++)
		if (o->aead[a])
			rc = tput_sizes(t, a, o, cpu);
out:
	if (pt != NULL)
		sodium_memzero(pt, o->chunk);
	free(pt);
	free(payload);
	free(t);
	return rc;
}

/* --- main ------------------------------------------------------------------------------- */

int
main(int argc, char **argv)
{
	struct opts o;
	int cpu[2], rc;
	bool tput = false;

	if (argc < 2) {
		usage();
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "%s: sodium_init failed\n", prog);
		return 1;
	}
	if (strcmp(argv[1], "-V") == 0 && argc == 2)
		rc = 1;
	else if ((tput = strcmp(argv[1], "tput") == 0) || strcmp(argv[1], "pingpong") == 0)
		rc = parse_opts(argc - 1, argv + 1, tput, &o);
	else
		rc = usage();
	if (rc < 0)
		return 2;
	if (rc > 0) {
		printf("kudp libsodium=%s\n", sodium_version_string());
		return 0;
	}
	pick_cpus(cpu);
	rc = tput ? mode_tput(&o, cpu) : kudp_mode_pingpong(&o, cpu);
	return rc == 0 ? 0 : 1;
}
