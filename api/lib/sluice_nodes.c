/* SPDX-License-Identifier: BSD-3-Clause
 * libsluice: the node table — node id -> node (its current session, lane, credit per channel)
 * and session (conn) -> node, each an open-addressing index over a pool of entries.
 *
 * A node has an entry from its first NODE_UP until no session names it. A session stays in
 * the conn index from its NODE_UP to its NODE_DOWN even when a newer session of the same node
 * replaced it (sessions of one node may live on different lanes, so the new NODE_UP can come
 * before the old NODE_DOWN): its last messages still name the node, and its NODE_DOWN then
 * leaves the new session alone.
 *
 * The hashes are keyed with a random seed: node ids come from peers, so nobody can aim many
 * at one probe chain.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "sluice_pvt.h"

#define NONE UINT32_MAX

struct lsl_index_ops {
	uint64_t (*hash_of)(const struct sluice *s, uint32_t v); /* of entry v's key */
	bool (*is)(const struct sluice *s, uint32_t v, const void *key);
};

/* --- hashing ------------------------------------------------------------------------------ */

#define K0 0xa0761d6478bd642full /* wyhash's constants */
#define K1 0xe7037ed1a0b428dbull

/* A 64x64 -> 128-bit multiply folded to 64 bits (wyhash's "mum"): every input bit reaches
 * every output bit; keyed with the seed, it keeps chains short against chosen keys. */
static uint64_t
mum(uint64_t a, uint64_t b)
{
	unsigned __int128 m = (unsigned __int128)a * b;

	return (uint64_t)m ^ (uint64_t)(m >> 64);
}

static uint64_t
hash_id(uint64_t seed, const uint8_t id[SL_API_NODE_LEN])
{
	uint64_t h = seed, a, b;

	for (size_t i = 0; i < SL_API_NODE_LEN; i += 2 * sizeof(a)) {
		memcpy(&a, id + i, sizeof(a));
		memcpy(&b, id + i + sizeof(a), sizeof(b));
		h = mum(a ^ h ^ K0, b ^ K1);
	}
	return mum(h, seed ^ K1);
}

static uint64_t
hash_conn(uint64_t seed, uint32_t conn)
{
	return mum(seed ^ conn ^ K0, K1);
}

/* --- pool: entries that keep their index -------------------------------------------------- */

static void *
pool_at(const struct lsl_pool *p, uint32_t i)
{
	return p->e + (size_t)i * p->esz;
}

static uint32_t
pool_alloc(struct lsl_pool *p)
{
	uint32_t i;

	if (p->n_free > 0) {
		i = p->free[--p->n_free];
	} else {
		if (p->n == p->cap) {
			uint32_t cap = p->cap ? p->cap * 2 : 16;
			uint8_t *e = cap > p->cap ? realloc(p->e, (size_t)cap * p->esz) : NULL;
			uint32_t *f = e ? realloc(p->free, (size_t)cap * sizeof(*f)) : NULL;

			if (e != NULL)
				p->e = e;
			if (f == NULL)
				return NONE;
			p->free = f;
			p->cap = cap;
		}
		i = p->n++;
	}
	memset(pool_at(p, i), 0, p->esz);
	return i;
}

static void
pool_put(struct lsl_pool *p, uint32_t i)
{
	p->free[p->n_free++] = i;
}

/* --- index: open addressing over pool entries --------------------------------------------- */

static int
index_init(struct lsl_index *x, uint32_t cap)
{
	x->slot = calloc(cap, sizeof(*x->slot));
	x->mask = cap - 1;
	x->n = 0;
	return x->slot ? 0 : -ENOMEM;
}

/* The slot holding key, or the empty slot where it would go. */
static uint32_t
index_probe(const struct sluice *s, const struct lsl_index *x, const struct lsl_index_ops *ops,
	    uint64_t h, const void *key)
{
	uint32_t i = (uint32_t)h & x->mask;

	while (x->slot[i] != 0 && !ops->is(s, x->slot[i] - 1, key))
		i = (i + 1) & x->mask;
	return i;
}

static uint32_t
index_find(const struct sluice *s, const struct lsl_index *x, const struct lsl_index_ops *ops,
	   uint64_t h, const void *key)
{
	uint32_t v = x->slot[index_probe(s, x, ops, h, key)];

	return v ? v - 1 : NONE;
}

static void
index_put(const struct sluice *s, struct lsl_index *x, const struct lsl_index_ops *ops, uint32_t v)
{
	uint32_t i = (uint32_t)ops->hash_of(s, v) & x->mask;

	while (x->slot[i] != 0)
		i = (i + 1) & x->mask;
	x->slot[i] = v + 1;
	x->n++;
}

static int
index_add(const struct sluice *s, struct lsl_index *x, const struct lsl_index_ops *ops, uint32_t v)
{
	if ((uint64_t)(x->n + 1) * 4 > (uint64_t)(x->mask + 1) * 3) {
		struct lsl_index old = *x;

		if (old.mask >= UINT32_MAX / 2 || index_init(x, (old.mask + 1) * 2) < 0) {
			*x = old;
			return -ENOMEM;
		}
		for (uint32_t i = 0; i <= old.mask; i++)
			if (old.slot[i] != 0)
				index_put(s, x, ops, old.slot[i] - 1);
		free(old.slot);
	}
	index_put(s, x, ops, v);
	return 0;
}

/* Remove key (present), shifting back the entries after it that probed past its slot. */
static void
index_remove(const struct sluice *s, struct lsl_index *x, const struct lsl_index_ops *ops,
	     uint64_t h, const void *key)
{
	uint32_t i = index_probe(s, x, ops, h, key);

	x->slot[i] = 0;
	for (uint32_t j = (i + 1) & x->mask; x->slot[j] != 0; j = (j + 1) & x->mask) {
		uint32_t home = (uint32_t)ops->hash_of(s, x->slot[j] - 1) & x->mask;

		if (((j - home) & x->mask) >= ((j - i) & x->mask)) {
			x->slot[i] = x->slot[j];
			x->slot[j] = 0;
			i = j;
		}
	}
	x->n--;
}

/* --- the two indices ---------------------------------------------------------------------- */

static struct lsl_node *
node_at(const struct sluice *s, uint32_t v)
{
	return pool_at(&s->nodes, v);
}

static struct lsl_conn *
conn_at(const struct sluice *s, uint32_t v)
{
	return pool_at(&s->conns, v);
}

static uint64_t
node_hash_of(const struct sluice *s, uint32_t v)
{
	return hash_id(s->seed, node_at(s, v)->id);
}

static bool
node_is(const struct sluice *s, uint32_t v, const void *key)
{
	return memcmp(node_at(s, v)->id, key, SL_API_NODE_LEN) == 0;
}

static uint64_t
conn_hash_of(const struct sluice *s, uint32_t v)
{
	return hash_conn(s->seed, conn_at(s, v)->conn);
}

static bool
conn_is(const struct sluice *s, uint32_t v, const void *key)
{
	return conn_at(s, v)->conn == *(const uint32_t *)key;
}

static const struct lsl_index_ops node_ops = { node_hash_of, node_is };
static const struct lsl_index_ops conn_ops = { conn_hash_of, conn_is };

/* --- the node table ----------------------------------------------------------------------- */

int
lsl_nodes_init(struct sluice *s)
{
	struct timespec ts;

	if (getrandom(&s->seed, sizeof(s->seed), GRND_NONBLOCK) != sizeof(s->seed)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s->seed = mum((uint64_t)ts.tv_nsec ^ K0, (uint64_t)(uintptr_t)s ^ K1);
	}
	s->nodes.esz = sizeof(struct lsl_node);
	s->conns.esz = sizeof(struct lsl_conn);
	if (index_init(&s->by_id, 16) < 0 || index_init(&s->by_conn, 16) < 0)
		return -ENOMEM;
	return 0;
}

void
lsl_nodes_free(struct sluice *s)
{
	free(s->nodes.e);
	free(s->nodes.free);
	free(s->conns.e);
	free(s->conns.free);
	free(s->by_id.slot);
	free(s->by_conn.slot);
}

struct lsl_node *
lsl_node_find(struct sluice *s, const uint8_t id[SL_API_NODE_LEN])
{
	uint32_t v = index_find(s, &s->by_id, &node_ops, hash_id(s->seed, id), id);

	return v == NONE ? NULL : node_at(s, v);
}

struct lsl_node *
lsl_node_at(struct sluice *s, uint32_t i)
{
	struct lsl_node *n;

	if (i >= s->nodes.n)
		return NULL;
	n = node_at(s, i);
	return n->used ? n : NULL;
}

/* The conn index entry of session conn, or NONE. */
static uint32_t
conn_find(const struct sluice *s, uint32_t conn)
{
	return index_find(s, &s->by_conn, &conn_ops, hash_conn(s->seed, conn), &conn);
}

struct lsl_node *
lsl_node_by_conn(struct sluice *s, uint32_t conn, uint32_t lane)
{
	uint32_t v = conn_find(s, conn);

	if (v == NONE || conn_at(s, v)->lane != lane)
		return NULL;
	return node_at(s, conn_at(s, v)->node);
}

/* The entry of node id, made if it is new: its index, or NONE (no memory). */
static uint32_t
node_get(struct sluice *s, const uint8_t id[SL_API_NODE_LEN])
{
	uint32_t v = index_find(s, &s->by_id, &node_ops, hash_id(s->seed, id), id);

	if (v != NONE)
		return v;
	v = pool_alloc(&s->nodes);
	if (v == NONE)
		return NONE;
	memcpy(node_at(s, v)->id, id, SL_API_NODE_LEN);
	node_at(s, v)->used = true;
	if (index_add(s, &s->by_id, &node_ops, v) < 0) {
		node_at(s, v)->used = false;
		pool_put(&s->nodes, v);
		return NONE;
	}
	return v;
}

/* Drop node v's entry when nothing needs it any more. */
static void
node_drop_unused(struct sluice *s, uint32_t v)
{
	struct lsl_node *n = node_at(s, v);

	if (n->refs != 0 || n->connected)
		return;
	index_remove(s, &s->by_id, &node_ops, hash_id(s->seed, n->id), n->id);
	n->used = false;
	pool_put(&s->nodes, v);
}

/* Node v's current session is now conn on lane, with each channel's initial credit. */
static void
node_session(struct sluice *s, uint32_t v, uint32_t conn, uint32_t lane)
{
	struct lsl_node *n = node_at(s, v);

	n->refs++;
	n->conn = conn;
	n->lane = (uint8_t)lane;
	n->connected = true;
	n->wanted = 0;
	n->room = 0;
	for (uint32_t c = 0; c < SL_API_MAX_CHAN; c++) {
		n->posted[c] = 0;
		n->limit[c] = s->rep.chan[c].initial_credit;
	}
}

int
lsl_node_up(struct sluice *s, uint32_t lane, const struct sl_api_desc *d)
{
	uint32_t v, c;

	if (conn_find(s, d->conn) != NONE)
		return -EEXIST;
	v = node_get(s, d->node.node);
	if (v == NONE)
		return -ENOMEM;
	c = pool_alloc(&s->conns);
	if (c != NONE) {
		*conn_at(s, c) = (struct lsl_conn){ .conn = d->conn, .node = v, .lane = lane };
		if (index_add(s, &s->by_conn, &conn_ops, c) == 0) {
			node_session(s, v, d->conn, lane);
			return 0;
		}
		pool_put(&s->conns, c);
	}
	node_drop_unused(s, v);
	return -ENOMEM;
}

int
lsl_node_down(struct sluice *s, uint32_t lane, uint32_t conn, uint8_t id[SL_API_NODE_LEN],
	      bool *current)
{
	uint32_t c = conn_find(s, conn), v;
	struct lsl_node *n;

	if (c == NONE || conn_at(s, c)->lane != lane)
		return -ENOENT;
	v = conn_at(s, c)->node;
	index_remove(s, &s->by_conn, &conn_ops, hash_conn(s->seed, conn), &conn);
	pool_put(&s->conns, c);
	n = node_at(s, v);
	n->refs--;
	memcpy(id, n->id, SL_API_NODE_LEN);
	*current = n->connected && n->conn == conn;
	if (*current) {
		n->connected = false;
		n->wanted = 0;
		n->room = 0;
	}
	node_drop_unused(s, v);
	return 0;
}

bool
lsl_node_credit(struct lsl_node *n, uint8_t chan, uint64_t limit)
{
	uint16_t bit = (uint16_t)(1u << chan);

	if (limit > n->limit[chan])
		n->limit[chan] = limit;
	/* A WANT is answered when there is room; a CREDIT that leaves none is not the answer. */
	if (!(n->wanted & bit) || n->limit[chan] <= n->posted[chan])
		return false;
	n->wanted &= (uint16_t)~bit;
	return true;
}
