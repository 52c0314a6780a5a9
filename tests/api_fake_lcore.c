/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tests: the fake appliance's lcore role — what a dataplane lcore does with an
 * application's lane: take SEND and WANT descriptors (checked as the appliance checks them:
 * the bytes inside the arena without wrapping, a session of this lane, a channel that exists,
 * the credit), deliver messages into the rx arena by its rules, post descriptors and wake an
 * application that sleeps. Every function takes the fake's lock.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "api_fake.h"

#define PEER_IP	  0x0a000002u
#define PEER_PORT 51820

static struct api_fake_conn *
conn_find(struct api_fake *f, unsigned int app, uint32_t conn)
{
	for (unsigned int i = 0; i < API_FAKE_MAX_CONNS; i++)
		if (f->conn[i].up && f->conn[i].app == app && f->conn[i].conn == conn)
			return &f->conn[i];
	return NULL;
}

/* A producer published (why: SL_API_SLEEP_EVENTS), or drained a tx ring (SL_API_SLEEP_ROOM):
 * if the application sleeps with that bit set, write its eventfd (sl_api.h, Waiting). */
static void
wake(struct api_fake_app *a, uint64_t why)
{
	_Atomic uint64_t *sleeping = (_Atomic uint64_t *)(a->shm + a->hdr.sleeping);
	uint64_t one = 1;

	atomic_thread_fence(memory_order_seq_cst);
	if ((atomic_load_explicit(sleeping, memory_order_relaxed) & why) &&
	    write(a->efd, &one, sizeof(one)) == sizeof(one))
		a->wakes++;
}

static int
post_locked(struct api_fake *f, unsigned int app, int lane, const struct sl_api_desc *d)
{
	struct api_fake_app *a = &f->app[app];
	struct sl_ring *r = lane < 0 ? &a->events : &a->lane[lane].rx;

	if (!a->live || sl_ring_enqueue(r, d, 1) != 1)
		return -ENOBUFS;
	wake(a, SL_API_SLEEP_EVENTS);
	return 0;
}

int
api_fake_post(struct api_fake *f, unsigned int app, int lane, const struct sl_api_desc *d)
{
	int rc;

	pthread_mutex_lock(&f->lock);
	rc = post_locked(f, app, lane, d);
	pthread_mutex_unlock(&f->lock);
	return rc;
}

static void
conn_up(struct api_fake *f, struct api_fake_conn *c, unsigned int app, unsigned int lane,
	uint32_t conn)
{
	*c = (struct api_fake_conn){ .up = true, .conn = conn, .lane = lane, .app = app };
	for (uint32_t ch = 1; ch < SL_API_MAX_CHAN; ch++)
		if (f->cfg.chans & (1u << ch))
			c->limit[ch] = f->cfg.initial_credit;
}

int
api_fake_node_up(struct api_fake *f, unsigned int app, unsigned int lane, uint32_t conn,
		 const uint8_t id[SL_API_NODE_LEN])
{
	struct sl_api_desc d = { .type = SL_API_D_NODE_UP, .conn = conn };
	int rc = -ENOSPC;

	d.node.ip = PEER_IP;
	d.node.port = PEER_PORT;
	memcpy(d.node.node, id, SL_API_NODE_LEN);
	pthread_mutex_lock(&f->lock);
	for (unsigned int i = 0; i < API_FAKE_MAX_CONNS && rc == -ENOSPC; i++)
		if (!f->conn[i].up) {
			conn_up(f, &f->conn[i], app, lane, conn);
			rc = post_locked(f, app, (int)lane, &d);
		}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

int
api_fake_node_down(struct api_fake *f, unsigned int app, unsigned int lane, uint32_t conn,
		   uint16_t reason)
{
	struct sl_api_desc d = { .type = SL_API_D_NODE_DOWN, .reason = reason, .conn = conn };
	struct api_fake_conn *c;
	int rc;

	d.node.undelivered = 3;
	pthread_mutex_lock(&f->lock);
	c = conn_find(f, app, conn);
	if (c != NULL)
		c->up = false;
	rc = post_locked(f, app, (int)lane, &d);
	pthread_mutex_unlock(&f->lock);
	return rc;
}

int
api_fake_credit(struct api_fake *f, unsigned int app, unsigned int lane, uint32_t conn,
		uint8_t chan, uint64_t limit)
{
	struct sl_api_desc d = { .type = SL_API_D_CREDIT, .chan = chan, .conn = conn };
	struct api_fake_conn *c;
	int rc;

	d.credit.limit = limit;
	pthread_mutex_lock(&f->lock);
	c = conn_find(f, app, conn);
	if (c != NULL && chan < SL_API_MAX_CHAN && limit > c->limit[chan])
		c->limit[chan] = limit;
	rc = post_locked(f, app, (int)lane, &d);
	pthread_mutex_unlock(&f->lock);
	return rc;
}

/* The appliance's checks of a tx descriptor; a SEND's bytes copied to buf. 1 or -EPROTO. */
static int
check_tx(struct api_fake *f, unsigned int app, unsigned int lane, const struct sl_api_desc *d,
	 uint8_t *buf)
{
	struct api_fake_lane *l = &f->app[app].lane[lane];
	struct api_fake_conn *c = conn_find(f, app, d->conn);
	uint64_t size = f->cfg.tx_arena_bytes, off = d->msg.pos & (size - 1);

	if (c == NULL || c->lane != lane || d->chan == 0 || d->chan >= SL_API_MAX_CHAN ||
	    !(f->cfg.chans & (1u << d->chan)))
		return -EPROTO;
	if (d->type == SL_API_D_WANT)
		return 1;
	if (d->type != SL_API_D_SEND || d->msg.len == 0 || d->msg.len > f->cfg.max_message ||
	    off + d->msg.len > size || d->msg.pos < l->tx_last_end ||
	    c->posted[d->chan] + d->msg.len > c->limit[d->chan])
		return -EPROTO;
	memcpy(buf, l->tx_arena + off, d->msg.len);
	c->posted[d->chan] += d->msg.len;
	l->tx_last_end = d->msg.pos + d->msg.len;
	return 1;
}

int
api_fake_take(struct api_fake *f, unsigned int app, unsigned int lane, struct api_fake_sent *out,
	      uint8_t *buf)
{
	struct api_fake_lane *l = &f->app[app].lane[lane];
	struct sl_api_desc d;
	int rc;

	pthread_mutex_lock(&f->lock);
	rc = sl_ring_peek(&l->tx, &d, 1);
	if (rc == 1) {
		rc = check_tx(f, app, lane, &d, buf);
		if (rc < 0)
			f->app[app].errors++;
		sl_ring_take(&l->tx, 1);
		*out = (struct api_fake_sent){ .type = d.type,
					       .chan = d.chan,
					       .conn = d.conn,
					       .len = d.msg.len,
					       .pos = d.msg.pos };
		if (sl_ring_empty(&l->tx)) /* drained: a sleeper waiting for room hears of it */
			wake(&f->app[app], SL_API_SLEEP_ROOM);
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

/* Where a message of len bytes goes in lane l's rx arena, or UINT64_MAX (no room yet); -EPROTO
 * in *err when the application's rx_released is impossible. */
static uint64_t
rx_place(struct api_fake *f, struct api_fake_app *a, struct api_fake_lane *l, uint32_t len,
	 int *err)
{
	_Atomic uint64_t *rel_p =
		(_Atomic uint64_t *)(a->shm + a->hdr.lane[l - a->lane].rx_released);
	uint64_t rel = atomic_load_explicit(rel_p, memory_order_acquire);
	uint64_t size = f->cfg.rx_arena_bytes, p = l->rx_next, off = p & (size - 1);

	*err = 0;
	if (rel < l->rx_seen || rel > l->rx_next || rel % 64 != 0) {
		a->errors++;
		*err = -EPROTO;
		return UINT64_MAX;
	}
	l->rx_seen = rel;
	if (off + len > size)
		p += size - off;
	return p + len > rel + size ? UINT64_MAX : p;
}

int
api_fake_deliver(struct api_fake *f, unsigned int app, unsigned int lane, uint32_t conn,
		 uint8_t chan, const void *data, uint32_t len, uint64_t *pos)
{
	struct api_fake_app *a = &f->app[app];
	struct api_fake_lane *l = &a->lane[lane];
	struct sl_api_desc d = { .type = SL_API_D_MSG, .chan = chan, .conn = conn };
	int err;
	uint64_t p;

	pthread_mutex_lock(&f->lock);
	p = rx_place(f, a, l, len, &err);
	if (p == UINT64_MAX || sl_ring_free_slots(&l->rx, 1) < 1) {
		pthread_mutex_unlock(&f->lock);
		return err ? err : -ENOBUFS;
	}
	memcpy(l->rx_arena + (p & (f->cfg.rx_arena_bytes - 1)), data, len);
	d.msg.pos = p;
	d.msg.len = len;
	d.msg.time_ns = 1000000000ull + p;
	d.msg.id = ++f->next_id;
	(void)post_locked(f, app, (int)lane, &d);
	l->rx_next = p + ((len + 63) & ~63ull);
	*pos = p;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

uint64_t
api_fake_rx_released(struct api_fake *f, unsigned int app, unsigned int lane)
{
	struct api_fake_app *a = &f->app[app];

	return atomic_load_explicit((_Atomic uint64_t *)(a->shm + a->hdr.lane[lane].rx_released),
				    memory_order_acquire);
}

uint64_t
api_fake_sleep_flag(struct api_fake *f, unsigned int app)
{
	struct api_fake_app *a = &f->app[app];

	return atomic_load_explicit((_Atomic uint64_t *)(a->shm + a->hdr.sleeping),
				    memory_order_seq_cst);
}

bool
api_fake_sleeping(struct api_fake *f, unsigned int app)
{
	return api_fake_sleep_flag(f, app) != 0;
}
