/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: the address book's mechanics (cp_book_pvt.h) — the keyed hash and the
 * random numbers, the entry array and its two hash tables, the slots of the new and tried
 * tables and where an address's slots are. What goes where and when is cp_book.c's business.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cp_book_pvt.h"

#define TAG_NEW_GROUP  1 /* hash inputs are tagged so that no two uses can collide */
#define TAG_NEW_BUCKET 2
#define TAG_TRIED_ADDR 3
#define TAG_TRIED_GRP  4
#define TAG_POS_NEW    5
#define TAG_POS_TRIED  6
#define TAG_INDEX_ADDR 7
#define FIRST_CAPACITY 64u

/* --- keyed hash, random numbers -------------------------------------------------------------- */

#define ROTL(x, n) (((x) << (n)) | ((x) >> (64 - (n))))

static inline void
sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13) ^ v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17) ^ v[2];
	v[2] = ROTL(v[2], 32);
}

static inline void
sip_block(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
}

uint64_t
cp_bk_siphash(const uint64_t k[2], const uint64_t *m, unsigned int n)
{
	uint64_t v[4] = { k[0] ^ 0x736f6d6570736575ull, k[1] ^ 0x646f72616e646f6dull,
			  k[0] ^ 0x6c7967656e657261ull, k[1] ^ 0x7465646279746573ull };

	for (unsigned int i = 0; i < n; i++)
		sip_block(v, m[i]);
	sip_block(v, (uint64_t)(n * 8) << 56);
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint64_t
cp_bk_le64(const uint8_t *p)
{
	uint64_t x = 0;

	for (int i = 7; i >= 0; i--)
		x = x << 8 | p[i];
	return x;
}

static uint64_t
hash3(const uint64_t k[2], uint64_t a, uint64_t b, uint64_t c)
{
	const uint64_t m[3] = { a, b, c };

	return cp_bk_siphash(k, m, 3);
}

uint64_t
cp_bk_rand(struct cp_book *b)
{
	uint64_t z = (b->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ z >> 27) * 0x94d049bb133111ebull;
	return z ^ z >> 31;
}

uint32_t
cp_bk_below(struct cp_book *b, uint32_t n)
{
	return (uint32_t)(((cp_bk_rand(b) >> 32) * n) >> 32);
}

/* --- hash tables of entries ------------------------------------------------------------------- */

static uint32_t
addr_hash(const struct cp_book *b, uint32_t ip, uint16_t port)
{
	return (uint32_t)hash3(b->k_index, TAG_INDEX_ADDR, ip, port) & b->head_mask;
}

static uint32_t
id_hash(const struct cp_book *b, const uint8_t id[SL_KEY_LEN])
{
	uint64_t m[SL_KEY_LEN / 8];

	for (unsigned int i = 0; i < SL_KEY_LEN / 8; i++)
		m[i] = cp_bk_le64(id + 8 * i);
	return (uint32_t)cp_bk_siphash(b->k_index, m, SL_KEY_LEN / 8) & b->head_mask;
}

uint32_t
cp_bk_find(const struct cp_book *b, uint32_t ip, uint16_t port)
{
	if (b->head_addr == NULL)
		return BK_NONE;
	for (uint32_t i = b->head_addr[addr_hash(b, ip, port)]; i != BK_NONE; i = b->e[i].next_addr)
		if (b->e[i].addr.ip == ip && b->e[i].addr.port == port)
			return i;
	return BK_NONE;
}

uint32_t
cp_bk_find_id(const struct cp_book *b, const uint8_t id[SL_KEY_LEN])
{
	if (b->head_id == NULL)
		return BK_NONE;
	for (uint32_t i = b->head_id[id_hash(b, id)]; i != BK_NONE; i = b->e[i].next_id)
		if (memcmp(b->e[i].addr.id, id, SL_KEY_LEN) == 0)
			return i;
	return BK_NONE;
}

/* An entry other than idx with this id, or BK_NONE. */
uint32_t
cp_bk_find_other_id(const struct cp_book *b, const uint8_t id[SL_KEY_LEN], uint32_t idx)
{
	for (uint32_t i = b->head_id[id_hash(b, id)]; i != BK_NONE; i = b->e[i].next_id)
		if (i != idx && memcmp(b->e[i].addr.id, id, SL_KEY_LEN) == 0)
			return i;
	return BK_NONE;
}

static void
link_addr(struct cp_book *b, uint32_t idx)
{
	struct bk_entry *e = BK_E(b, idx);
	uint32_t h = addr_hash(b, e->addr.ip, e->addr.port);

	e->next_addr = b->head_addr[h];
	b->head_addr[h] = idx;
}

static void
link_id(struct cp_book *b, uint32_t idx)
{
	struct bk_entry *e = BK_E(b, idx);
	uint32_t h = id_hash(b, e->addr.id);

	e->next_id = b->head_id[h];
	b->head_id[h] = idx;
}

static void
unlink_addr(struct cp_book *b, uint32_t idx)
{
	uint32_t *p = &b->head_addr[addr_hash(b, b->e[idx].addr.ip, b->e[idx].addr.port)];

	while (*p != idx)
		p = &b->e[*p].next_addr;
	*p = b->e[idx].next_addr;
}

static void
unlink_id(struct cp_book *b, uint32_t idx)
{
	uint32_t *p = &b->head_id[id_hash(b, b->e[idx].addr.id)];

	while (*p != idx)
		p = &b->e[*p].next_id;
	*p = b->e[idx].next_id;
}

/* Chain heads for cap entries (a power of two, at least cap): relink every live entry. */
static int
rehash(struct cp_book *b, uint32_t cap)
{
	uint32_t n = FIRST_CAPACITY;
	uint32_t *ha, *hi;

	while (n < cap)
		n <<= 1;
	ha = malloc(n * sizeof(*ha));
	hi = malloc(n * sizeof(*hi));
	if (ha == NULL || hi == NULL) {
		free(ha);
		free(hi);
		return -ENOMEM;
	}
	memset(ha, 0xff, n * sizeof(*ha));
	memset(hi, 0xff, n * sizeof(*hi));
	free(b->head_addr);
	free(b->head_id);
	b->head_addr = ha;
	b->head_id = hi;
	b->head_mask = n - 1;
	for (uint32_t i = 0; i < b->n_all; i++) {
		link_addr(b, b->all[i]);
		if (cp_bk_has_id(&b->e[b->all[i]].addr))
			link_id(b, b->all[i]);
	}
	return 0;
}

int
cp_bk_entries_grow(struct cp_book *b)
{
	uint32_t cap = b->e_cap ? b->e_cap * 2 : FIRST_CAPACITY;
	void *p;

	if (cap > b->e_max)
		cap = b->e_max;
	if (cap <= b->e_cap)
		return -ENOMEM;
	p = realloc(b->e, (size_t)cap * sizeof(*b->e));
	if (p == NULL)
		return -ENOMEM;
	b->e = p;
	p = realloc(b->all, (size_t)cap * sizeof(*b->all));
	if (p == NULL)
		return -ENOMEM;
	b->all = p;
	if (cap > b->head_mask + 1 || b->head_addr == NULL)
		if (rehash(b, cap) < 0)
			return -ENOMEM;
	b->e_cap = cap;
	return 0;
}

uint32_t
cp_bk_entry_new(struct cp_book *b, const struct cp_addr *a, uint32_t src_ip)
{
	struct bk_entry *e;
	uint32_t idx;

	if (b->e_free != BK_NONE) {
		idx = b->e_free;
		b->e_free = b->e[idx].next_addr;
	} else {
		if (b->e_used == b->e_cap && cp_bk_entries_grow(b) < 0)
			return BK_NONE;
		idx = b->e_used++;
	}
	e = BK_E(b, idx);
	memset(e, 0, sizeof(*e));
	e->addr = *a;
	if (!cp_bk_has_id(a))
		memset(e->addr.id, 0, SL_KEY_LEN);
	e->src_ip = src_ip;
	e->tried_slot = BK_NONE;
	e->live = true;
	e->all_pos = b->n_all;
	b->all[b->n_all++] = idx;
	link_addr(b, idx);
	if (cp_bk_has_id(a))
		link_id(b, idx);
	return idx;
}

void
cp_bk_entry_free(struct cp_book *b, uint32_t idx)
{
	struct bk_entry *e = BK_E(b, idx);
	uint32_t last = b->all[--b->n_all];

	unlink_addr(b, idx);
	if (cp_bk_has_id(&e->addr))
		unlink_id(b, idx);
	b->all[e->all_pos] = last;
	b->e[last].all_pos = e->all_pos;
	memset(e, 0, sizeof(*e));
	e->next_addr = b->e_free;
	b->e_free = idx;
}

void
cp_bk_entry_set_id(struct cp_book *b, uint32_t idx, const uint8_t id[SL_KEY_LEN])
{
	struct bk_entry *e = BK_E(b, idx);

	if (cp_bk_has_id(&e->addr))
		unlink_id(b, idx);
	memcpy(e->addr.id, id, SL_KEY_LEN);
	e->addr.flags |= CP_ADDR_F_HAS_ID;
	link_id(b, idx);
}

/* --- slots ------------------------------------------------------------------------------------ */

static void
tbl_set(struct bk_table *t, uint32_t s, uint32_t idx)
{
	SL_ASSERT(t->slot[s] == BK_NONE);
	t->slot[s] = idx;
	t->pos[s] = t->n_occ;
	t->occ[t->n_occ++] = s;
}

void
cp_bk_tbl_clear(struct bk_table *t, uint32_t s)
{
	uint32_t p = t->pos[s], last = t->occ[--t->n_occ];

	t->occ[p] = last;
	t->pos[last] = p;
	t->slot[s] = BK_NONE;
}

void
cp_bk_tried_set(struct cp_book *b, uint32_t s, uint32_t idx)
{
	tbl_set(&b->tried_t, s, idx);
	b->e[idx].tried_slot = s;
}

void
cp_bk_new_ref_add(struct cp_book *b, uint32_t s, uint32_t idx)
{
	struct bk_entry *e = BK_E(b, idx);

	SL_ASSERT(e->refs < CP_BOOK_MAX_REFS && e->tried_slot == BK_NONE);
	tbl_set(&b->new_t, s, idx);
	e->slot[e->refs++] = s;
}

/* Empty new slot s; its entry is freed if that was its last place. True if it was freed. */
bool
cp_bk_new_ref_drop(struct cp_book *b, uint32_t s)
{
	uint32_t idx = b->new_t.slot[s];
	struct bk_entry *e = BK_E(b, idx);
	unsigned int i = 0;

	while (e->slot[i] != s)
		i++;
	e->slot[i] = e->slot[--e->refs];
	cp_bk_tbl_clear(&b->new_t, s);
	if (e->refs > 0 || e->tried_slot != BK_NONE)
		return false;
	cp_bk_entry_free(b, idx);
	return true;
}

void
cp_bk_entry_drop(struct cp_book *b, uint32_t idx)
{
	struct bk_entry *e = BK_E(b, idx);

	if (e->tried_slot != BK_NONE) {
		cp_bk_tbl_clear(&b->tried_t, e->tried_slot);
		e->tried_slot = BK_NONE;
	}
	while (e->refs > 1)
		cp_bk_tbl_clear(&b->new_t, e->slot[--e->refs]);
	if (e->refs == 0 || !cp_bk_new_ref_drop(b, e->slot[0]))
		cp_bk_entry_free(b, idx);
}

static uint32_t
pos_in(const struct cp_book *b, uint64_t tag, uint32_t bucket, uint32_t ip, uint16_t port)
{
	uint64_t h = hash3(b->k_place, tag, bucket, (uint64_t)ip << 16 | port);

	return bucket * b->cfg.bucket_size + (uint32_t)(h % b->cfg.bucket_size);
}

uint32_t
cp_bk_new_slot_of(const struct cp_book *b, uint32_t ip, uint16_t port, uint32_t src)
{
	uint64_t src_group = cp_addr_group(src);
	uint64_t h = hash3(b->k_place, TAG_NEW_GROUP, cp_addr_group(ip), src_group);
	uint64_t h2 = hash3(b->k_place, TAG_NEW_BUCKET, src_group, h % b->cfg.new_per_source_group);

	return pos_in(b, TAG_POS_NEW, (uint32_t)(h2 % b->cfg.new_buckets), ip, port);
}

uint32_t
cp_bk_tried_slot_of(const struct cp_book *b, uint32_t ip, uint16_t port)
{
	uint64_t h = hash3(b->k_place, TAG_TRIED_ADDR, ip, port);
	uint64_t h2 =
		hash3(b->k_place, TAG_TRIED_GRP, cp_addr_group(ip), h % b->cfg.tried_per_group);

	return pos_in(b, TAG_POS_TRIED, (uint32_t)(h2 % b->cfg.tried_buckets), ip, port);
}

bool
cp_bk_slot_fits(const struct cp_book *b, bool tried, uint32_t s, uint32_t ip, uint16_t port)
{
	uint32_t n = tried ? b->tried_t.n_slots : b->new_t.n_slots;

	if (s >= n)
		return false;
	if (!b->cfg.bucketing)
		return true;
	return pos_in(b, tried ? TAG_POS_TRIED : TAG_POS_NEW, s / b->cfg.bucket_size, ip, port) ==
	       s;
}

/* Flat pools: a free slot if there is one, else a random occupied one. */
uint32_t
cp_bk_flat_slot(struct cp_book *b, const struct bk_table *t)
{
	uint32_t s = 0;

	if (t->n_occ == t->n_slots)
		return t->occ[cp_bk_below(b, t->n_occ)];
	for (int k = 0; k < 16; k++) {
		s = cp_bk_below(b, t->n_slots);
		if (t->slot[s] == BK_NONE)
			return s;
	}
	while (t->slot[s] != BK_NONE)
		s = s + 1 == t->n_slots ? 0 : s + 1;
	return s;
}

int
cp_bk_table_init(struct bk_table *t, uint32_t n)
{
	t->n_slots = n;
	t->n_occ = 0;
	t->slot = malloc(n * sizeof(uint32_t));
	t->pos = malloc(n * sizeof(uint32_t));
	t->occ = malloc(n * sizeof(uint32_t));
	if (t->slot == NULL || t->pos == NULL || t->occ == NULL)
		return -ENOMEM;
	memset(t->slot, 0xff, n * sizeof(uint32_t));
	return 0;
}

void
cp_bk_table_free(struct bk_table *t)
{
	free(t->slot);
	free(t->pos);
	free(t->occ);
}
