/* SPDX-License-Identifier: BSD-3-Clause
 * libsluice: the control socket (SOCK_SEQPACKET, one request or reply per packet, sl_api.h) and
 * the requests that are nothing but a round trip: register, unregister, connect, disconnect,
 * nodes.
 *
 * A reply answers the request whose seq it carries. One that answers an older request (whose
 * caller gave up waiting) is dropped; anything else unexpected is -EPROTO. File descriptors
 * that come with a reply are kept only where the caller asked for them, and closed otherwise.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sluice_pvt.h"

#define REQ_BODY_MAX 64 /* the largest request body (struct sl_api_attach) */

_Static_assert(sizeof(struct sl_api_attach) <= REQ_BODY_MAX, "attach fits");
_Static_assert(sizeof(struct sl_api_connect) <= REQ_BODY_MAX, "connect fits");

int
lsl_ctl_open(const char *path, int *fd_out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	int fd, rc;

	if (len >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}

static int
ctl_send(int fd, uint16_t type, uint32_t seq, const void *body, size_t len)
{
	uint8_t buf[sizeof(struct sl_api_req_hdr) + REQ_BODY_MAX];
	struct sl_api_req_hdr h = { .type = type, .seq = seq };
	ssize_t n;

	if (len > REQ_BODY_MAX)
		return -EMSGSIZE;
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), body, len);
	do
		n = send(fd, buf, sizeof(h) + len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(h) + len ? 0 : -EPROTO;
}

/* Wait until the socket has something, at most the control timeout. */
static int
ctl_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int rc;

	do
		rc = poll(&p, 1, LSL_CTL_TIMEOUT_MS);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -errno;
	return rc == 0 ? -ETIMEDOUT : 0;
}

static void
close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/* The descriptors of a received message: the first want into fds, the others closed. */
static int
take_fds(struct msghdr *mh, int *fds, int want)
{
	int n = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (n < want)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

/* One packet into s->ctl_buf: its length, or -errno (-ECONNRESET when the appliance closed). */
static int
ctl_recv(struct sluice *s, int *fds, int want, int *n_fds)
{
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * LSL_MAX_FDS)];
	} cbuf;
	struct iovec iov = { .iov_base = s->ctl_buf, .iov_len = sizeof(s->ctl_buf) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf.b,
			     .msg_controllen = sizeof(cbuf.b) };
	ssize_t n;
	int rc = ctl_readable(s->sock);

	*n_fds = 0;
	if (rc < 0)
		return rc;
	do
		n = recvmsg(s->sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	*n_fds = take_fds(&mh, fds, want);
	if (n == 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		close_fds(fds, *n_fds);
		*n_fds = 0;
		return n == 0 ? -ECONNRESET : -EPROTO;
	}
	return (int)n;
}

/* Check a reply's header against the request: 1 it is the answer, 0 an older one (drop it),
 * or -errno (its status, or -EPROTO). */
static int
ctl_match(const struct sluice *s, int len, uint16_t type)
{
	struct sl_api_rep_hdr h;

	if ((size_t)len < sizeof(h))
		return -EPROTO;
	memcpy(&h, s->ctl_buf, sizeof(h));
	if (h.seq != s->seq)
		return (int32_t)(s->seq - h.seq) > 0 ? 0 : -EPROTO;
	if (h.type != type || h.status > 0 || h.status < -4095)
		return -EPROTO;
	return h.status < 0 ? h.status : 1;
}

int
lsl_ctl_call(struct sluice *s, uint16_t type, const void *body, size_t len, int *fds, int want_fds,
	     int *n_fds)
{
	int got = 0, rc, scratch[1], n = 0;

	if (fds == NULL) {
		fds = scratch;
		want_fds = 0;
	}
	rc = ctl_send(s->sock, type, ++s->seq, body, len);
	for (rc = rc < 0 ? rc : 0; rc == 0;) {
		got = ctl_recv(s, fds, want_fds, &n);
		rc = got < 0 ? got : ctl_match(s, got, type);
		if (rc <= 0) {
			close_fds(fds, n);
			n = 0;
		}
	}
	if (n_fds != NULL)
		*n_fds = n;
	return rc < 0 ? rc : got - (int)sizeof(struct sl_api_rep_hdr);
}

/* A request whose reply has no body (one that has one anyway is read as far as needed). */
static int
ctl_simple(struct sluice *s, uint16_t type, const void *body, size_t len)
{
	int rc = lsl_ctl_call(s, type, body, len, NULL, 0, NULL);

	return rc < 0 ? rc : 0;
}

static bool
chan_exists(const struct sluice *s, uint8_t chan)
{
	return chan > 0 && chan < SL_API_MAX_CHAN && s->rep.chan[chan].kind != 0;
}

/* REGISTER or UNREGISTER chan. */
static int
chan_request(struct sluice *s, uint16_t type, uint8_t chan)
{
	struct sl_api_chan b = { .chan = chan };

	if (!chan_exists(s, chan))
		return -EINVAL;
	return ctl_simple(s, type, &b, sizeof(b));
}

int
sluice_register(struct sluice *s, uint8_t chan)
{
	return chan_request(s, SL_API_REGISTER, chan);
}

int
sluice_unregister(struct sluice *s, uint8_t chan)
{
	return chan_request(s, SL_API_UNREGISTER, chan);
}

int
sluice_connect(struct sluice *s, const uint8_t node[SLUICE_NODE_LEN], uint32_t ip, uint16_t port)
{
	struct sl_api_connect b = { .ip = ip, .port = port };

	memcpy(b.node, node, sizeof(b.node));
	return ctl_simple(s, SL_API_CONNECT, &b, sizeof(b));
}

int
sluice_disconnect(struct sluice *s, const uint8_t node[SLUICE_NODE_LEN])
{
	struct sl_api_node b;

	memcpy(b.node, node, sizeof(b.node));
	return ctl_simple(s, SL_API_DISCONNECT, &b, sizeof(b));
}

/* The five counters, rtt_ns to msgs_out, lie in the same order on both sides: one copy. */
#define REL(t, f)    (offsetof(struct t, f) - offsetof(struct t, rtt_ns))
#define SAME_AT(f)   (REL(sluice_node_info, f) == REL(sl_api_node_info, f))
#define COUNTERS_LEN (REL(sluice_node_info, msgs_out) + sizeof(uint64_t))
_Static_assert(SAME_AT(bytes_in) && SAME_AT(bytes_out) && SAME_AT(msgs_in) && SAME_AT(msgs_out) &&
		       COUNTERS_LEN == 5 * sizeof(uint64_t),
	       "rtt_ns, bytes_in, bytes_out, msgs_in, msgs_out: adjacent, in this order");

static void
node_info(struct sluice_node_info *o, const struct sl_api_node_info *e)
{
	memset(o, 0, sizeof(*o));
	memcpy(o->node, e->node, sizeof(o->node));
	o->ip = e->ip;
	o->port = e->port;
	o->state = e->state;
	o->initiator = e->initiator;
	memcpy(&o->rtt_ns, &e->rtt_ns, COUNTERS_LEN);
	if (e->last_handshake_ns != 0) /* an age of 0 would read "never" */
		o->last_handshake_age_ns =
			e->now_ns > e->last_handshake_ns ? e->now_ns - e->last_handshake_ns : 1;
}

/* One page of the node list from start: entries copied into out[0..max), the count in the
 * reply (at most SL_API_MAX_NODES) or -errno. */
static int
nodes_page(struct sluice *s, uint32_t start, struct sluice_node_info *out, unsigned int max,
	   uint32_t *total)
{
	struct sl_api_nodes_req rq = { .start = start };
	struct sl_api_nodes_rep rep;
	int len = lsl_ctl_call(s, SL_API_NODES, &rq, sizeof(rq), NULL, 0, NULL);
	const uint8_t *at = s->ctl_buf + sizeof(struct sl_api_rep_hdr) + sizeof(rep);

	if (len < 0)
		return len;
	if ((size_t)len < sizeof(rep))
		return -EPROTO;
	memcpy(&rep, s->ctl_buf + sizeof(struct sl_api_rep_hdr), sizeof(rep));
	if (rep.n > SL_API_MAX_NODES ||
	    (size_t)len != sizeof(rep) + rep.n * sizeof(struct sl_api_node_info))
		return -EPROTO;
	for (uint32_t i = 0; i < rep.n && i < max; i++) {
		struct sl_api_node_info e;

		memcpy(&e, at + i * sizeof(e), sizeof(e));
		node_info(&out[i], &e);
	}
	*total = rep.total;
	return (int)rep.n;
}

int
sluice_nodes(struct sluice *s, struct sluice_node_info *out, unsigned int max, unsigned int *total)
{
	unsigned int got = 0;
	uint32_t all = 0;
	int n;

	do {
		n = nodes_page(s, got, max > got ? out + got : NULL, max - got, &all);
		if (n < 0)
			return n;
		got += (unsigned int)n < max - got ? (unsigned int)n : max - got;
	} while (n > 0 && got < max && got < all);
	if (total != NULL)
		*total = all;
	return (int)got;
}
