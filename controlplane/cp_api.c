/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the control socket — listening, attaching an application (its shared memory and
 * eventfd), detaching it (see cp_api.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_rcu_qsbr.h>

#include "cp_api_pvt.h"
#include "sl_escape.h"

RTE_LOG_REGISTER(cp_api_logtype, sluice.cp.api, INFO);

#define MIN_ARENA (1u << 20)
/* Discovery events post only while an events ring has more than this many free slots. */
#define DISC_RING_SHARE (DP_API_RING_SLOTS / 2)

_Static_assert(DISC_RING_SHARE > 0 && DISC_RING_SHARE < DP_API_RING_SLOTS,
	       "discovery events leave room for CONNECT_FAILED, and have some of their own");

/* --- the socket ----------------------------------------------------------------------------- */

/* A socket file left by an appliance that did not stop cleanly is removed; anything else at
 * the path is not touched. */
static int
clear_stale(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	return unlink(path) == 0 ? 0 : -errno;
}

static int
listen_on(const struct conf_api *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc = clear_stale(c->socket);

	if (rc != 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, c->socket, sizeof(sa.sun_path) - 1);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(c->socket, c->mode) != 0 ||
	    (c->has_group && chown(c->socket, (uid_t)-1, c->gid) != 0) || listen(fd, 16) != 0) {
		rc = -errno;
		close(fd);
		unlink(c->socket);
		return rc;
	}
	return fd;
}

struct cp_api *
cp_api_create(struct cp_main *m)
{
	const struct conf_api *c = &m->cfg->api;
	struct cp_api *a = calloc(1, sizeof(*a));
	int fd;

	if (a == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	fd = listen_on(c);
	if (fd < 0) {
		API_LOG(ERR, "cannot listen on %s: %s\n", c->socket, strerror(-fd));
		free(a);
		errno = -fd;
		return NULL;
	}
	a->m = m;
	a->rt = m->dp;
	a->listen_fd = fd;
	snprintf(a->path, sizeof(a->path), "%s", c->socket);
	for (unsigned int i = 0; i < DP_API_MAX_APPS; i++)
		a->app[i].fd = -1;
	API_LOG(INFO, "listening on %s (mode %04o, at most %u applications)\n", a->path, c->mode,
		c->max_apps);
	return a;
}

/* --- replies and events --------------------------------------------------------------------- */

bool
cp_api_reply(struct cp_api *a, unsigned int i, const struct sl_api_req_hdr *req, int status,
	     const void *body, size_t len, const int *fds, unsigned int n_fds)
{
	uint8_t buf[SL_API_MAX_PACKET];
	struct sl_api_rep_hdr h = { .type = req->type, .seq = req->seq, .status = status };
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(h) + len };
	union {
		char b[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (sizeof(h) + len > sizeof(buf))
		return false;
	memcpy(buf, &h, sizeof(h));
	if (len > 0)
		memcpy(buf + sizeof(h), body, len);
	if (n_fds > 0) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.b;
		msg.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, n_fds * sizeof(int));
	}
	a->st.requests++;
	/* an application that does not read its replies is not waited for */
	return sendmsg(a->app[i].fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)iov.iov_len;
}

bool
cp_api_post_event(struct cp_api *a, unsigned int i, const struct sl_api_desc *d)
{
	struct dp_api_app *da = &a->rt->api.app[i];
	struct sl_api_shared_word *sleeping;
	const uint64_t one = 1;

	if (sl_ring_enqueue(&a->app[i].events, d, 1) != 1) {
		cp_api_detach(a, i, "its event ring stayed full");
		return false;
	}
	sleeping = (struct sl_api_shared_word *)(da->shm + da->layout.sleeping);
	atomic_thread_fence(memory_order_seq_cst); /* pairs with libsluice's before it sleeps */
	if (atomic_load_explicit(&sleeping->v, memory_order_relaxed) != 0 &&
	    write(da->eventfd, &one, sizeof(one)) != sizeof(one))
		API_LOG(DEBUG, "application %u: eventfd write failed\n", i);
	return true;
}

/* --- attach --------------------------------------------------------------------------------- */

static uint64_t
pow2_at_least(uint64_t v)
{
	uint64_t p = MIN_ARENA;

	while (p < v)
		p <<= 1;
	return p;
}

/* The memfd, mapped, laid out; the lcores' view of it in da. 0 or -errno. */
static int
make_shm(struct cp_api *a, struct cp_api_app *app, struct dp_api_app *da)
{
	struct sl_api_sizes sz = {
		.n_lanes = a->rt->n_lcores,
		.ring_slots = DP_API_RING_SLOTS,
		/* a message never wraps: two of the largest always fit */
		.tx_arena_bytes = pow2_at_least(2ull * a->rt->api.max_message + 64),
		.rx_arena_bytes = pow2_at_least(2ull * a->rt->api.max_message + 64),
	};
	uint64_t size = sl_api_layout(&sz, &da->layout);
	void *p;

	if (size == 0)
		return -EINVAL;
	app->memfd = memfd_create("sluice-app", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (app->memfd < 0)
		return -errno;
	/* sealed at its size: the application cannot shrink it under the lcores (SIGBUS) */
	if (ftruncate(app->memfd, (off_t)size) != 0 ||
	    fcntl(app->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0 ||
	    (p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, app->memfd, 0)) ==
		    MAP_FAILED) {
		int rc = -errno;

		close(app->memfd);
		return rc;
	}
	da->shm = p;
	da->shm_size = size;
	memcpy(p, &da->layout, sizeof(da->layout)); /* zero-filled: every ring starts empty */
	sl_ring_attach(&app->events, (struct sl_ring_shm *)(da->shm + da->layout.events_ring),
		       DP_API_RING_SLOTS, sizeof(struct sl_api_desc), true);
	app->has_shm = true;
	return 0;
}

static void
attach_reply(struct cp_api *a, unsigned int i, const struct sl_api_req_hdr *req)
{
	const struct dp_conn_config *e = &a->m->cfg->engine;
	struct dp_api_app *da = &a->rt->api.app[i];
	struct sl_api_attach_rep rep = { .app_id = i, .max_message = a->rt->api.max_message };
	int fds[2] = { a->app[i].memfd, da->eventfd };

	rep.shm_size = da->shm_size;
	memcpy(rep.node, cp_ctl_pubkey(a->m->ctl), SL_API_NODE_LEN);
	for (unsigned int c = 0; c < e->n_channels && c < SL_API_MAX_CHAN; c++) {
		struct sl_api_chan_info *ci = &rep.chan[c];

		ci->kind = (uint8_t)e->chan[c].kind;
		ci->queue_limit = e->chan[c].queue_limit;
		ci->unsent_limit = e->unsent_limit;
		ci->initial_credit = e->unsent_limit != 0 && e->unsent_limit < ci->queue_limit
					     ? e->unsent_limit
					     : ci->queue_limit;
	}
	if (!cp_api_reply(a, i, req, 0, &rep, sizeof(rep), fds, 2)) {
		cp_api_detach(a, i, "the attach reply could not be sent");
		return;
	}
	da->gen = ++a->gen;
	dp_lcore_api_reset(a->rt, i); /* no lcore has a lane for this slot now */
	atomic_store_explicit(&da->state, DP_API_LIVE, memory_order_release);
	atomic_fetch_or_explicit(&a->rt->api.used, 1ull << i, memory_order_release);
	a->st.attached++;
}

static unsigned int
live_apps(const struct cp_api *a)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < DP_API_MAX_APPS; i++)
		n += a->app[i].has_shm && a->app[i].state == CP_API_ATTACHED;
	return n;
}

void
cp_api_attach(struct cp_api *a, unsigned int i, const struct sl_api_req_hdr *req, const void *body,
	      size_t len)
{
	struct cp_api_app *app = &a->app[i];
	struct dp_api_app *da = &a->rt->api.app[i];
	struct sl_api_attach at;
	int rc;

	if (len != sizeof(at) || app->has_shm) {
		a->st.bad_requests++;
		cp_api_detach(a, i, "a malformed or second ATTACH");
		return;
	}
	memcpy(&at, body, sizeof(at));
	at.name[SL_API_NAME_LEN - 1] = '\0';
	sl_escape(app->name, sizeof(app->name), at.name, strlen(at.name));
	if (at.version != SL_API_VERSION) {
		a->st.refused_version++;
		cp_api_reply(a, i, req, -EPROTO, NULL, 0, NULL, 0);
		cp_api_detach(a, i, "another interface version");
		return;
	}
	if (live_apps(a) >= a->m->cfg->api.max_apps) {
		a->st.refused_full++;
		cp_api_reply(a, i, req, -EUSERS, NULL, 0, NULL, 0);
		cp_api_detach(a, i, "api.max_apps reached");
		return;
	}
	da->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rc = da->eventfd < 0 ? -errno : make_shm(a, app, da);
	if (rc != 0) {
		API_LOG(ERR, "application %s: %s\n", app->name, strerror(-rc));
		cp_api_reply(a, i, req, rc, NULL, 0, NULL, 0);
		cp_api_detach(a, i, "no shared memory");
		return;
	}
	API_LOG(INFO, "application \"%s\" attached (pid %d uid %u gid %u): slot %u\n", app->name,
		(int)app->pid, (unsigned int)app->uid, (unsigned int)app->gid, i);
	attach_reply(a, i, req);
}

/* --- detach --------------------------------------------------------------------------------- */

void
cp_api_detach(struct cp_api *a, unsigned int i, const char *why)
{
	struct cp_api_app *app = &a->app[i];
	struct dp_api_app *da = &a->rt->api.app[i];

	if (app->state != CP_API_ATTACHED)
		return;
	for (unsigned int c = 0; c < SL_MAX_CHANNELS; c++) /* nobody serves its channels now */
		if (atomic_load_explicit(&a->rt->api.owner[c], memory_order_relaxed) == i)
			atomic_store_explicit(&a->rt->api.owner[c], DP_API_OWNER_NONE,
					      memory_order_release);
	if (app->fd >= 0)
		close(app->fd);
	app->fd = -1;
	API_LOG(INFO, "application \"%s\" (slot %u) detached: %s\n", app->name, i, why);
	app->state = CP_API_DETACHING;
	if (!app->has_shm)
		return; /* never attached (refused, or gone first): it never reached the lcores */
	a->st.detached++;
	atomic_store_explicit(&da->state, DP_API_GONE, memory_order_release);
	app->rcu_token = rte_rcu_qsbr_start(a->rt->rcu);
}

/* Once no lcore can be inside the application's memory: unmap it, free the slot. */
static void
detach_finish(struct cp_api *a, unsigned int i, bool lcores_stopped)
{
	struct cp_api_app *app = &a->app[i];
	struct dp_api_app *da = &a->rt->api.app[i];

	if (app->has_shm && !lcores_stopped &&
	    rte_rcu_qsbr_check(a->rt->rcu, app->rcu_token, false) != 1)
		return;
	if (app->has_shm) {
		munmap(da->shm, da->shm_size);
		close(app->memfd);
		close(da->eventfd);
		da->shm = NULL;
	}
	atomic_store_explicit(&da->state, DP_API_FREE, memory_order_release);
	atomic_fetch_and_explicit(&a->rt->api.used, ~(1ull << i), memory_order_release);
	memset(app, 0, sizeof(*app));
	app->fd = -1;
}

void
cp_api_destroy(struct cp_api *a)
{
	if (a == NULL)
		return;
	for (unsigned int i = 0; i < DP_API_MAX_APPS; i++) {
		cp_api_detach(a, i, "the appliance stops");
		if (a->app[i].state == CP_API_DETACHING)
			detach_finish(a, i, true);
	}
	close(a->listen_fd);
	unlink(a->path);
	free(a);
}

/* --- the loop ------------------------------------------------------------------------------- */

/* A slot for a new connection: a free one, else the one of the connection that has waited
 * longest without attaching (it is closed): connections that never attach cannot keep the
 * table full and every application out. -1: every slot is attached or still detaching. */
static int
take_slot(struct cp_api *a)
{
	int oldest = -1;

	for (unsigned int i = 0; i < DP_API_MAX_APPS; i++) {
		const struct cp_api_app *app = &a->app[i];

		if (app->state == CP_API_FREE)
			return (int)i;
		if (app->state == CP_API_ATTACHED && !app->has_shm &&
		    (oldest < 0 || app->attached_ns < a->app[oldest].attached_ns))
			oldest = (int)i;
	}
	if (oldest >= 0) {
		a->st.refused_full++;
		cp_api_detach(a, (unsigned int)oldest, "every slot taken, and it had not attached");
		detach_finish(a, (unsigned int)oldest, true); /* no memory to wait for */
	}
	return oldest;
}

static void
accept_one(struct cp_api *a, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int i = take_slot(a);
	struct cp_api_app *app = i >= 0 ? &a->app[i] : NULL;

	if (app == NULL || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		a->st.refused_full++; /* every slot is attached or still detaching */
		close(fd);
		return;
	}
	app->state = CP_API_ATTACHED;
	app->fd = fd;
	app->pid = cred.pid;
	app->uid = cred.uid;
	app->gid = cred.gid;
	app->attached_ns = a->m->now_ns;
	snprintf(app->name, sizeof(app->name), "pid %d", (int)cred.pid);
}

/* What application i sent; false once its socket is gone. A socket in error is detached: it
 * would stay readable, and the control thread's idle wait (cp_api_pollfds()) return at once. */
static bool
read_requests(struct cp_api *a, unsigned int i)
{
	uint8_t buf[SL_API_MAX_PACKET];

	for (unsigned int k = 0; k < 16 && a->app[i].fd >= 0; k++) {
		ssize_t n = recv(a->app[i].fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return true;
		if (n < 0) {
			cp_api_detach(a, i, "its socket failed");
			return false;
		}
		if (n == 0) {
			cp_api_detach(a, i, "its socket closed");
			return false;
		}
		if ((size_t)n > sizeof(buf) || !cp_api_request(a, i, buf, (size_t)n)) {
			a->st.bad_requests++;
			cp_api_detach(a, i, "a request that makes no sense");
			return false;
		}
	}
	return true;
}

/* An application whose lane an lcore had to stop is detached. */
static void
check_lanes(struct cp_api *a, unsigned int i)
{
	for (unsigned int l = 0; l < a->rt->n_lcores; l++)
		if (a->rt->lcores[l] != NULL && dp_lcore_api_broken(a->rt, l, i)) {
			a->st.protocol_errors++; /* its own counters go with it */
			cp_api_detach(a, i, "it broke the shared-memory protocol");
			return;
		}
}

/* New connections; how many. accept() failing for want of a resource (descriptors, memory)
 * leaves the connection queued and the socket readable: it is retried at the control thread's
 * idle pace rather than woken for (cp_api_pollfds()), which would spin. */
static unsigned int
accept_all(struct cp_api *a)
{
	unsigned int n = 0;
	int fd;

	while ((fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		accept_one(a, fd);
		n++;
	}
	a->accept_failing =
		errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM;
	return n;
}

unsigned int
cp_api_poll(struct cp_api *a, uint64_t now_ns)
{
	unsigned int work;

	(void)now_ns;
	work = accept_all(a);
	for (unsigned int i = 0; i < DP_API_MAX_APPS; i++) {
		struct cp_api_app *app = &a->app[i];

		if (app->state == CP_API_ATTACHED) {
			read_requests(a, i);
			if (app->has_shm && app->state == CP_API_ATTACHED)
				check_lanes(a, i);
		}
		if (app->state == CP_API_DETACHING)
			detach_finish(a, i, false);
	}
	return work;
}

unsigned int
cp_api_pollfds(const struct cp_api *a, struct pollfd *fds, unsigned int max)
{
	unsigned int n = 0;

	if (max > 0 && !a->accept_failing)
		fds[n++] = (struct pollfd){ .fd = a->listen_fd, .events = POLLIN };
	for (unsigned int i = 0; i < DP_API_MAX_APPS && n < max; i++)
		if (a->app[i].state == CP_API_ATTACHED && a->app[i].fd >= 0)
			fds[n++] = (struct pollfd){ .fd = a->app[i].fd, .events = POLLIN };
	return n;
}

void
cp_api_note(struct cp_api *a, const struct cp_note *n)
{
	struct sl_api_desc d = { .type = SL_API_D_CONNECT_FAILED };

	if (a == NULL || n->type != CP_NOTE_CONNECT_FAILED || n->pub == NULL)
		return; /* a keyless dial has no node id to tell applications about */
	memcpy(d.node.node, n->pub, SL_API_NODE_LEN);
	d.reason =
		strcmp(n->reason, "handshake_timeout") == 0 ? SL_API_FAIL_TIMEOUT
		: strcmp(n->reason, "no_free_slot") == 0    ? SL_API_FAIL_NO_SLOT
		: strcmp(n->reason, "no_route") == 0 || strcmp(n->reason, "address_unresolved") == 0
			? SL_API_FAIL_UNREACHABLE
			: SL_API_FAIL_REFUSED;
	for (unsigned int i = 0; i < DP_API_MAX_APPS; i++)
		if (a->app[i].state == CP_API_ATTACHED && a->app[i].has_shm)
			cp_api_post_event(a, i, &d);
}

/* Post d (a DISCOVERY) to application i while its events ring is less than half full; else
 * count it as missed. */
static void
post_discovery(struct cp_api *a, unsigned int i, struct sl_api_desc *d)
{
	struct cp_api_app *app = &a->app[i];
	int room = sl_ring_free_slots(&app->events, DP_API_RING_SLOTS);

	if (room >= 0 && room <= DISC_RING_SHARE) { /* < 0: cp_api_post_event() detaches */
		if (app->disc_missed < UINT32_MAX)
			app->disc_missed++;
		app->disc_dropped++;
		a->st.disc_dropped++;
		return;
	}
	d->disc.missed = app->disc_missed;
	if (cp_api_post_event(a, i, d)) {
		app->disc_missed = 0;
		a->st.disc_posted++;
	}
}

void
cp_api_discovery(struct cp_api *a, uint16_t kind, const uint8_t *node, uint32_t count)
{
	struct sl_api_desc d = { .type = SL_API_D_DISCOVERY, .reason = kind };

	if (a == NULL)
		return;
	if (node != NULL)
		memcpy(d.disc.node, node, SL_API_NODE_LEN);
	d.disc.count = count;
	for (unsigned int i = 0; i < DP_API_MAX_APPS; i++)
		if (a->app[i].state == CP_API_ATTACHED && a->app[i].has_shm)
			post_discovery(a, i, &d);
}

const struct cp_api_stats *
cp_api_stats(const struct cp_api *a)
{
	return &a->st;
}

int
cp_api_foreach(const struct cp_api *a, int (*fn)(void *arg, const struct cp_api_app_info *),
	       void *arg)
{
	for (unsigned int i = 0; i < DP_API_MAX_APPS; i++) {
		const struct cp_api_app *app = &a->app[i];
		struct cp_api_app_info info = { .idx = i };
		int rc;

		if (app->state != CP_API_ATTACHED || !app->has_shm)
			continue;
		memcpy(info.name, app->name, sizeof(info.name));
		info.pid = app->pid;
		info.uid = app->uid;
		info.gid = app->gid;
		info.attached_ns = app->attached_ns;
		info.disc_dropped = app->disc_dropped;
		for (unsigned int c = 0; c < SL_MAX_CHANNELS; c++)
			if (atomic_load_explicit(&a->rt->api.owner[c], memory_order_relaxed) == i)
				info.channels |= (uint16_t)(1u << c);
		dp_lcore_api_counters(a->rt, i, &info.cnt);
		if ((rc = fn(arg, &info)) != 0)
			return rc;
	}
	return 0;
}
