/* SPDX-License-Identifier: BSD-3-Clause
 * libsluice: attach and detach — the SL_API_ATTACH round trip, the shared memory (a memfd)
 * and the eventfd it brings, the layout's checks, each lane's ring handles and state; the
 * accessors and sluice_strerror().
 *
 * The appliance writes the layout at the start of the shared memory; libsluice copies it out
 * once, checks the copy (sl_api_layout_check(): every part inside the mapping) and uses only
 * the copy, so a header rewritten later changes nothing. The application produces on the tx
 * rings and consumes the rx rings and the events ring.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice_pvt.h"

/* The request; on success the memfd in *memfd and the eventfd in s->efd. */
static int
attach_request(struct sluice *s, const char *name, int *memfd)
{
	struct sl_api_attach a = { .version = SL_API_VERSION };
	int fds[2], n, len;

	if (name != NULL)
		memcpy(a.name, name, strnlen(name, sizeof(a.name) - 1));
	len = lsl_ctl_call(s, SL_API_ATTACH, &a, sizeof(a), fds, 2, &n);
	if (len < 0)
		return len;
	if ((size_t)len < sizeof(s->rep) || n < 2) {
		for (int i = 0; i < n; i++)
			close(fds[i]);
		return -EPROTO;
	}
	memcpy(&s->rep, s->ctl_buf + sizeof(struct sl_api_rep_hdr), sizeof(s->rep));
	s->efd = fds[1]; /* closed with s */
	/* the appliance makes it non-blocking; made sure of here, so that resetting it after a
	 * wait is one read() that never blocks (sluice_wait_done()) */
	if (fcntl(s->efd, F_SETFL, fcntl(s->efd, F_GETFL) | O_NONBLOCK) < 0) {
		close(fds[0]);
		return -EPROTO;
	}
	*memfd = fds[0];
	return 0;
}

/* sluice_fd(): readable when the appliance wrote the eventfd, and for good once it closed the
 * control socket (exited or crashed), so an application's own loop wakes for both. */
static int
attach_wait_set(struct sluice *s)
{
	struct epoll_event ev = { .events = EPOLLIN };

	s->wfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->wfd < 0)
		return -errno;
	if (epoll_ctl(s->wfd, EPOLL_CTL_ADD, s->efd, &ev) < 0)
		return -errno;
	ev.events = EPOLLRDHUP; /* and always EPOLLHUP / EPOLLERR; never its replies */
	if (epoll_ctl(s->wfd, EPOLL_CTL_ADD, s->sock, &ev) < 0)
		return -errno;
	return 0;
}

/* Map the memfd (closed here either way), copy the layout out and check it. */
static int
attach_map(struct sluice *s, int memfd)
{
	uint64_t size = s->rep.shm_size;
	struct stat st;
	void *p;

	if (fstat(memfd, &st) < 0 || !S_ISREG(st.st_mode) || size < sizeof(s->hdr) ||
	    size > SIZE_MAX || (uint64_t)st.st_size < size) {
		close(memfd);
		return -EPROTO;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	close(memfd);
	if (p == MAP_FAILED)
		return -errno;
	s->shm = p;
	s->shm_size = size;
	memcpy(&s->hdr, s->shm, sizeof(s->hdr));
	return sl_api_layout_check(&s->hdr, size);
}

static int
lane_init(struct sluice *s, struct lsl_lane *l, const struct sl_api_lane_layout *o)
{
	uint32_t slots = s->hdr.ring_slots;

	sl_ring_attach(&l->tx, (struct sl_ring_shm *)(s->shm + o->tx_ring), slots,
		       sizeof(struct sl_api_desc), true);
	sl_ring_attach(&l->rx, (struct sl_ring_shm *)(s->shm + o->rx_ring), slots,
		       sizeof(struct sl_api_desc), false);
	l->tx_arena = s->shm + o->tx_arena;
	l->tx_size = s->hdr.tx_arena_bytes;
	l->rx_arena = s->shm + o->rx_arena;
	l->rx_size = s->hdr.rx_arena_bytes;
	l->rx_released = (_Atomic uint64_t *)(s->shm + o->rx_released);
	l->rx_rel = atomic_load_explicit(l->rx_released, memory_order_relaxed);
	l->rx_next = l->rx_rel;
	l->rx_umask = l->rx_size / LSL_UNIT - 1;
	/* a fresh attachment: nothing posted yet, a release position on a unit */
	if (l->tx.mine != l->tx.theirs || l->rx_rel % LSL_UNIT != 0 || l->rx_size / LSL_UNIT < 64)
		return -EPROTO;
	l->tx_start = calloc(slots, sizeof(*l->tx_start));
	l->rx_map = calloc(l->rx_size / LSL_UNIT / 64, sizeof(*l->rx_map));
	return l->tx_start && l->rx_map ? 0 : -ENOMEM;
}

static int
attach_lanes(struct sluice *s)
{
	int rc = 0;

	s->n_lanes = s->hdr.n_lanes;
	s->sleeping = (_Atomic uint64_t *)(s->shm + s->hdr.sleeping);
	sl_ring_attach(&s->events, (struct sl_ring_shm *)(s->shm + s->hdr.events_ring),
		       s->hdr.ring_slots, sizeof(struct sl_api_desc), false);
	s->max_message = s->rep.max_message;
	if (s->max_message > s->hdr.tx_arena_bytes)
		s->max_message = (uint32_t)s->hdr.tx_arena_bytes;
	if (s->max_message == 0)
		return -EPROTO;
	for (uint32_t i = 0; i < s->n_lanes && rc == 0; i++)
		rc = lane_init(s, &s->lane[i], &s->hdr.lane[i]);
	return rc;
}

static void
sluice_free(struct sluice *s)
{
	for (uint32_t i = 0; i < SL_API_MAX_LANES; i++) {
		free(s->lane[i].tx_start);
		free(s->lane[i].rx_map);
	}
	lsl_nodes_free(s);
	if (s->shm != NULL)
		munmap(s->shm, s->shm_size);
	if (s->wfd >= 0)
		close(s->wfd);
	if (s->efd >= 0)
		close(s->efd);
	if (s->sock >= 0)
		close(s->sock);
	free(s);
}

struct sluice *
sluice_attach(const char *socket_path, const char *name, int *err)
{
	struct sluice *s = calloc(1, sizeof(*s));
	int rc = -ENOMEM, memfd = -1;

	if (s != NULL) {
		s->sock = -1;
		s->efd = -1;
		s->wfd = -1;
		rc = lsl_ctl_open(socket_path, &s->sock);
		if (rc == 0)
			rc = attach_request(s, name, &memfd);
		if (rc == 0)
			rc = attach_wait_set(s);
		if (rc == 0) {
			rc = attach_map(s, memfd);
			memfd = -1; /* closed there */
		}
		if (memfd >= 0)
			close(memfd);
		if (rc == 0)
			rc = attach_lanes(s);
		if (rc == 0)
			rc = lsl_nodes_init(s);
		if (rc < 0) {
			sluice_free(s);
			s = NULL;
		}
	}
	if (err != NULL)
		*err = rc;
	return s;
}

void
sluice_detach(struct sluice *s)
{
	if (s == NULL)
		return;
	/* Best effort: the appliance also cleans up when the socket closes. */
	(void)lsl_ctl_call(s, SL_API_DETACH, NULL, 0, NULL, 0, NULL);
	sluice_free(s);
}

const uint8_t *
sluice_self(const struct sluice *s)
{
	return s->rep.node;
}

uint32_t
sluice_max_message(const struct sluice *s)
{
	return s->max_message;
}

void
sluice_get_stats(const struct sluice *s, struct sluice_stats *st)
{
	*st = s->st;
}

static const struct {
	int err;
	const char *text;
} texts[] = {
	{ ENOTCONN, "ENOTCONN: no session with that node is up" },
	{ ENOBUFS, "ENOBUFS: no room towards that node now; SLUICE_WRITABLE follows" },
	{ EMSGSIZE, "EMSGSIZE: message empty or larger than sluice_max_message()" },
	{ EINVAL, "EINVAL: not a channel (or node) the appliance accepts" },
	{ EBUSY, "EBUSY: another application or a built-in service serves that channel" },
	{ EALREADY, "EALREADY: this attachment serves that channel already" },
	{ ENOENT, "ENOENT: no such socket, node or registration" },
	{ EACCES, "EACCES: not allowed to use the appliance's socket" },
	{ ECONNREFUSED, "ECONNREFUSED: no appliance listening on that socket" },
	{ ECONNRESET, "ECONNRESET: the appliance closed the control socket" },
	{ EPIPE, "EPIPE: the appliance closed the control socket" },
	{ EUSERS, "EUSERS: the appliance has as many applications as it takes" },
	{ EPROTO, "EPROTO: the appliance broke the protocol or speaks another version" },
	{ EDESTADDRREQ, "EDESTADDRREQ: no address given or known for that node" },
	{ ENOSPC, "ENOSPC: the appliance has no room for another node" },
	{ ETIMEDOUT, "ETIMEDOUT: the appliance did not answer in time" },
	{ ENAMETOOLONG, "ENAMETOOLONG: socket path too long" },
	{ ENOMEM, "ENOMEM: out of memory" },
	{ EINTR, "EINTR: interrupted by a signal" },
};

const char *
sluice_strerror(int err)
{
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].err == -err)
			return texts[i].text;
	return err == 0 ? "success" : "unknown error";
}
