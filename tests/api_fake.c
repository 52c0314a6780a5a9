/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tests: the fake appliance's control thread — a SOCK_SEQPACKET server answering the
 * requests of sl_api.h (see api_fake.h for what each does).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "api_fake.h"

#define MAX_CLIENTS	     8
#define SL_CLOSE_APPLICATION 5 /* common/sl_wire.h */

/* What to do once the reply went out. */
enum after { AFTER_NONE, AFTER_UP, AFTER_FAIL, AFTER_DOWN, AFTER_CLOSE };

struct client {
	int fd;
	int app; /* -1 until it attached */
};

struct reply {
	int32_t status;
	size_t len;
	uint8_t body[SL_API_MAX_PACKET - sizeof(struct sl_api_rep_hdr)];
	int fds[4], n_fds;
	enum after after;
	unsigned int node;
};

void
api_fake_defaults(struct api_fake_cfg *cfg)
{
	*cfg = (struct api_fake_cfg){
		.n_lanes = 2,
		.ring_slots = 64,
		.tx_arena_bytes = 64 << 10,
		.rx_arena_bytes = 64 << 10,
		.max_message = 4096,
		.initial_credit = 16 << 10,
		.chans = 0x00fe,
		.version = SL_API_VERSION,
		.max_apps = API_FAKE_MAX_APPS,
	};
}

/* --- attach ------------------------------------------------------------------------------- */

static void
app_rings(struct api_fake_app *a)
{
	uint32_t slots = a->hdr.ring_slots, sz = sizeof(struct sl_api_desc);

	sl_ring_attach(&a->events, (struct sl_ring_shm *)(a->shm + a->hdr.events_ring), slots, sz,
		       true);
	for (uint32_t i = 0; i < a->hdr.n_lanes; i++) {
		struct api_fake_lane *l = &a->lane[i];
		const struct sl_api_lane_layout *o = &a->hdr.lane[i];

		sl_ring_attach(&l->tx, (struct sl_ring_shm *)(a->shm + o->tx_ring), slots, sz,
			       false);
		sl_ring_attach(&l->rx, (struct sl_ring_shm *)(a->shm + o->rx_ring), slots, sz,
			       true);
		l->tx_arena = a->shm + o->tx_arena;
		l->rx_arena = a->shm + o->rx_arena;
	}
}

/* The shared memory: a sealed memfd laid out by sl_api_layout(); -1 on failure. */
static int
app_memory(struct api_fake *f, struct api_fake_app *a)
{
	struct sl_api_sizes sz = { f->cfg.n_lanes, f->cfg.ring_slots, f->cfg.tx_arena_bytes,
				   f->cfg.rx_arena_bytes };
	int fd;

	a->size = sl_api_layout(&sz, &a->hdr);
	fd = a->size ? memfd_create("sluice-api-fake", MFD_CLOEXEC | MFD_ALLOW_SEALING) : -1;
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)a->size) < 0 ||
	    (a->shm = mmap(NULL, a->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
		    MAP_FAILED ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		close(fd);
		return -1;
	}
	memcpy(a->shm, &a->hdr, sizeof(a->hdr));
	app_rings(a);
	return fd;
}

static void
attach_reply(struct api_fake *f, struct api_fake_app *a, unsigned int idx, struct reply *r)
{
	struct sl_api_attach_rep rep = { .app_id = idx + 1,
					 .max_message = f->cfg.max_message,
					 .shm_size = a->size };

	memset(rep.node, 0xa5, sizeof(rep.node));
	for (uint32_t c = 1; c < SL_API_MAX_CHAN; c++)
		if (f->cfg.chans & (1u << c))
			rep.chan[c] = (struct sl_api_chan_info){ .kind = 1,
								 .queue_limit = 1 << 20,
								 .initial_credit =
									 f->cfg.initial_credit };
	if (f->cfg.hostile & API_FAKE_BIG_SIZE)
		rep.shm_size += 4096;
	if (f->cfg.hostile & API_FAKE_BAD_MAGIC)
		((struct sl_api_shm_hdr *)a->shm)->magic ^= 1;
	if (f->cfg.hostile & API_FAKE_BAD_LAYOUT)
		((struct sl_api_shm_hdr *)a->shm)->lane[0].rx_arena = a->size - 64;
	memcpy(r->body, &rep, sizeof(rep));
	r->len = sizeof(rep);
}

static void
req_attach(struct api_fake *f, struct client *c, const void *body, size_t len, struct reply *r)
{
	struct sl_api_attach at;
	struct api_fake_app *a = &f->app[f->n_apps];
	unsigned int live = 0;
	int memfd;

	for (unsigned int i = 0; i < f->n_apps; i++)
		live += f->app[i].live;
	if (len < sizeof(at) || c->app >= 0) {
		r->status = -EINVAL;
		return;
	}
	memcpy(&at, body, sizeof(at));
	if (at.version != f->cfg.version) {
		r->status = -EPROTO;
		return;
	}
	if (live >= f->cfg.max_apps || f->n_apps == API_FAKE_MAX_APPS) {
		r->status = -EUSERS;
		return;
	}
	memfd = app_memory(f, a);
	a->efd = memfd < 0 ? -1 : eventfd(0, EFD_CLOEXEC);
	if (a->efd < 0) {
		r->status = -ENOMEM;
		return;
	}
	a->live = true;
	a->sock = c->fd;
	c->app = (int)f->n_apps;
	attach_reply(f, a, f->n_apps++, r);
	if (!(f->cfg.hostile & API_FAKE_NO_FDS)) {
		r->fds[r->n_fds++] = memfd;
		r->fds[r->n_fds++] = dup(a->efd);
	} else {
		close(memfd);
	}
	if (f->cfg.hostile & API_FAKE_EXTRA_FDS) {
		r->fds[r->n_fds++] = dup(a->efd);
		r->fds[r->n_fds++] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
}

/* The attachment is gone: its memory, its eventfd, its channels, its sessions. */
static void
app_gone(struct api_fake *f, unsigned int idx)
{
	struct api_fake_app *a = &f->app[idx];

	if (!a->live)
		return;
	munmap(a->shm, a->size);
	close(a->efd);
	a->live = false;
	for (uint32_t ch = 0; ch < SL_API_MAX_CHAN; ch++)
		if (f->owner[ch] == idx + 1)
			f->owner[ch] = 0;
	for (unsigned int i = 0; i < API_FAKE_MAX_CONNS; i++)
		if (f->conn[i].app == idx)
			f->conn[i].up = false;
}

/* --- the other requests ------------------------------------------------------------------- */

static int32_t
req_register(struct api_fake *f, const struct client *c, const void *body, size_t len, bool reg)
{
	struct sl_api_chan b;
	uint8_t me = (uint8_t)(c->app + 1);

	if (len < sizeof(b) || c->app < 0)
		return -EINVAL;
	memcpy(&b, body, sizeof(b));
	if (b.chan == 0 || b.chan >= SL_API_MAX_CHAN || !(f->cfg.chans & (1u << b.chan)))
		return -EINVAL;
	if (!reg)
		return f->owner[b.chan] == me ? (f->owner[b.chan] = 0) : -ENOENT;
	if (f->owner[b.chan] == me)
		return -EALREADY;
	if (f->owner[b.chan] != 0)
		return -EBUSY;
	f->owner[b.chan] = me;
	return 0;
}

static int
node_index(const struct api_fake *f, const uint8_t id[SL_API_NODE_LEN])
{
	for (unsigned int i = 0; i < f->n_nodes; i++)
		if (memcmp(f->node[i].id, id, SL_API_NODE_LEN) == 0)
			return (int)i;
	return -1;
}

static void
add_node(struct api_fake *f, const uint8_t id[SL_API_NODE_LEN], uint32_t ip, uint16_t port)
{
	struct api_fake_node *n = &f->node[f->n_nodes++];

	memset(n, 0, sizeof(*n));
	memcpy(n->id, id, SL_API_NODE_LEN);
	n->ip = ip;
	n->port = port;
}

static void
req_connect(struct api_fake *f, const void *body, size_t len, struct reply *r)
{
	static const uint8_t zero[SL_API_NODE_LEN];
	struct sl_api_connect b;
	int i;

	if (len < sizeof(b) || (memcpy(&b, body, sizeof(b)), !memcmp(b.node, zero, sizeof(zero)))) {
		r->status = -EINVAL;
		return;
	}
	i = node_index(f, b.node);
	if (i < 0 && b.ip == 0) {
		r->status = -EDESTADDRREQ;
		return;
	}
	if (i < 0 && f->n_nodes == API_FAKE_MAX_NODES) {
		r->status = -ENOSPC;
		return;
	}
	if (i < 0) {
		add_node(f, b.node, b.ip, b.port);
		i = (int)f->n_nodes - 1;
	}
	r->node = (unsigned int)i;
	if (!f->node[i].up)
		r->after = b.node[0] == 0xff ? AFTER_FAIL : AFTER_UP;
}

static void
req_disconnect(struct api_fake *f, const void *body, size_t len, struct reply *r)
{
	struct sl_api_node b;
	int i = -1;

	if (len >= sizeof(b)) {
		memcpy(&b, body, sizeof(b));
		i = node_index(f, b.node);
	}
	if (i < 0) {
		r->status = -ENOENT;
		return;
	}
	r->node = (unsigned int)i;
	if (f->node[i].up)
		r->after = AFTER_DOWN;
}

static void
req_nodes(struct api_fake *f, const void *body, size_t len, struct reply *r)
{
	struct sl_api_nodes_req q = { 0 };
	struct sl_api_nodes_rep rep = { .total = f->n_nodes };
	struct sl_api_node_info e;

	if (len >= sizeof(q))
		memcpy(&q, body, sizeof(q));
	for (uint32_t i = q.start; i < f->n_nodes && rep.n < SL_API_MAX_NODES; i++, rep.n++) {
		const struct api_fake_node *n = &f->node[i];

		e = (struct sl_api_node_info){ .ip = n->ip,
					       .port = n->port,
					       .conn = n->conn,
					       .state = n->up ? SL_API_NODE_CONNECTED
							      : SL_API_NODE_WAITING,
					       .rtt_ns = 1000 + i,
					       .now_ns = 5000000000ull,
					       .last_handshake_ns = n->up ? 4000000000ull : 0 };
		memcpy(e.node, n->id, SL_API_NODE_LEN);
		memcpy(r->body + sizeof(rep) + rep.n * sizeof(e), &e, sizeof(e));
	}
	memcpy(r->body, &rep, sizeof(rep));
	r->len = sizeof(rep) + rep.n * sizeof(e);
}

static void
handle(struct api_fake *f, struct client *c, const struct sl_api_req_hdr *h, const void *body,
       size_t len, struct reply *r)
{
	if (c->app < 0 && h->type != SL_API_ATTACH) {
		r->status = -EPROTO;
		return;
	}
	switch (h->type) {
	case SL_API_ATTACH:
		req_attach(f, c, body, len, r);
		break;
	case SL_API_DETACH:
		r->after = AFTER_CLOSE;
		break;
	case SL_API_REGISTER:
	case SL_API_UNREGISTER:
		r->status = req_register(f, c, body, len, h->type == SL_API_REGISTER);
		break;
	case SL_API_CONNECT:
		req_connect(f, body, len, r);
		break;
	case SL_API_DISCONNECT:
		req_disconnect(f, body, len, r);
		break;
	case SL_API_NODES:
		req_nodes(f, body, len, r);
		break;
	default:
		r->status = -EINVAL;
	}
}

/* --- the server --------------------------------------------------------------------------- */

static void
send_reply(int fd, const struct sl_api_req_hdr *h, const struct reply *r)
{
	uint8_t buf[SL_API_MAX_PACKET];
	struct sl_api_rep_hdr rh = { .type = h->type, .seq = h->seq, .status = r->status };
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(r->fds))];
	} cbuf;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(rh) + r->len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	memcpy(buf, &rh, sizeof(rh));
	memcpy(buf + sizeof(rh), r->body, r->len);
	if (r->n_fds > 0) {
		mh.msg_control = cbuf.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)r->n_fds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)r->n_fds);
		memcpy(CMSG_DATA(cm), r->fds, sizeof(int) * (size_t)r->n_fds);
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
		perror("api_fake: sendmsg");
	for (int i = 0; i < r->n_fds; i++)
		close(r->fds[i]); /* the fake's copies */
}

static void
drop_client(struct api_fake *f, struct client *c)
{
	pthread_mutex_lock(&f->lock);
	if (c->app >= 0)
		app_gone(f, (unsigned int)c->app);
	pthread_mutex_unlock(&f->lock);
	close(c->fd);
	c->fd = -1;
}

/* What a request asked for once its reply is out: sessions come up or go down. */
static void
after_reply(struct api_fake *f, struct client *c, const struct reply *r)
{
	struct api_fake_node *n = &f->node[r->node];
	struct sl_api_desc d = { .type = SL_API_D_CONNECT_FAILED,
				 .reason = SL_API_FAIL_UNREACHABLE };

	switch (r->after) {
	case AFTER_UP:
		n->lane = n->id[1] % f->cfg.n_lanes;
		n->conn = n->lane << 24 | ++f->next_conn;
		n->up = api_fake_node_up(f, (unsigned int)c->app, n->lane, n->conn, n->id) == 0;
		break;
	case AFTER_FAIL:
		memcpy(d.node.node, n->id, SL_API_NODE_LEN);
		(void)api_fake_post(f, (unsigned int)c->app, -1, &d);
		break;
	case AFTER_DOWN:
		n->up = false;
		(void)api_fake_node_down(f, (unsigned int)c->app, n->lane, n->conn,
					 SL_CLOSE_APPLICATION);
		break;
	case AFTER_CLOSE:
		drop_client(f, c);
		break;
	case AFTER_NONE:
		break;
	}
}

static void
serve(struct api_fake *f, struct client *c)
{
	uint8_t buf[SL_API_MAX_PACKET];
	struct sl_api_req_hdr h;
	struct reply *r;
	ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

	if (n < (ssize_t)sizeof(h)) {
		drop_client(f, c);
		return;
	}
	memcpy(&h, buf, sizeof(h));
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		abort();
	pthread_mutex_lock(&f->lock);
	handle(f, c, &h, buf + sizeof(h), (size_t)n - sizeof(h), r);
	pthread_mutex_unlock(&f->lock);
	send_reply(c->fd, &h, r);
	pthread_mutex_lock(&f->lock);
	after_reply(f, c, r);
	pthread_mutex_unlock(&f->lock);
	free(r);
}

static void
accept_client(struct api_fake *f, struct client *cl)
{
	int fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	for (int i = 0; fd >= 0 && i < MAX_CLIENTS; i++)
		if (cl[i].fd < 0) {
			cl[i] = (struct client){ .fd = fd, .app = -1 };
			return;
		}
	if (fd >= 0)
		close(fd);
}

static void *
server(void *arg)
{
	struct api_fake *f = arg;
	struct client cl[MAX_CLIENTS];

	for (int i = 0; i < MAX_CLIENTS; i++)
		cl[i].fd = -1;
	for (;;) {
		struct pollfd p[2 + MAX_CLIENTS] = { { .fd = f->stop_fd, .events = POLLIN },
						     { .fd = f->listen_fd, .events = POLLIN } };

		for (int i = 0; i < MAX_CLIENTS; i++)
			p[2 + i] = (struct pollfd){ .fd = cl[i].fd, .events = POLLIN };
		if (poll(p, 2 + MAX_CLIENTS, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents & POLLIN)
			accept_client(f, cl);
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (cl[i].fd >= 0 && p[2 + i].revents)
				serve(f, &cl[i]);
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (cl[i].fd >= 0)
			drop_client(f, &cl[i]);
	return NULL;
}

static int
fake_listen(struct api_fake *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(f->dir, sizeof(f->dir), "/tmp/sluice-api-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/api.sock", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	f->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(f->listen_fd, 8) < 0)
		return -1;
	return 0;
}

struct api_fake *
api_fake_start(const struct api_fake_cfg *cfg)
{
	struct api_fake *f = calloc(1, sizeof(*f));
	pthread_mutexattr_t ma;

	if (f == NULL)
		return NULL;
	f->cfg = *cfg;
	f->listen_fd = -1;
	f->stop_fd = eventfd(0, EFD_CLOEXEC);
	/* recursive: the server thread takes it around a request and its lcore-role aftermath */
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&f->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	if (f->stop_fd < 0 || fake_listen(f) < 0 || pthread_create(&f->thread, NULL, server, f)) {
		perror("api_fake_start");
		abort();
	}
	return f;
}

const char *
api_fake_path(const struct api_fake *f)
{
	return f->path;
}

void
api_fake_stop(struct api_fake *f)
{
	uint64_t one = 1;

	if (write(f->stop_fd, &one, sizeof(one)) != sizeof(one))
		abort();
	pthread_join(f->thread, NULL);
	for (unsigned int i = 0; i < f->n_apps; i++)
		app_gone(f, i);
	close(f->listen_fd);
	close(f->stop_fd);
	unlink(f->path);
	rmdir(f->dir);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

void
api_fake_add_node(struct api_fake *f, const uint8_t id[SL_API_NODE_LEN], uint32_t ip, uint16_t port)
{
	pthread_mutex_lock(&f->lock);
	if (f->n_nodes < API_FAKE_MAX_NODES)
		add_node(f, id, ip, port);
	pthread_mutex_unlock(&f->lock);
}
