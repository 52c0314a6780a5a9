/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: the address book's insides, shared by its four files and nobody else:
 * cp_book_table.c (hashing, entries, slots), cp_book.c (the rules: add / good / bad / ban),
 * cp_book_select.c (pick, sample, queries) and cp_book_file.c (save, load). Not for other
 * modules (tests may look): use cp_book.h.
 *
 * Layout. Entries live in one array that grows by doubling up to one per slot of the
 * configuration (plus one in passing) and are named by index, never by pointer (the array
 * moves when it grows: cp_bk_entry_new() is the only call that may move it). A free list reuses
 * indices. Two chained hash tables over the same entries find them by (ip, port) and by id;
 * all[] lists the live entries densely (sampling, walking, saving).
 * Each table (new, tried) is an array of slots (bucket * bucket_size + position) holding an
 * entry index or BK_NONE, with the occupied slots also listed densely in occ[] (pos[] maps a
 * slot back to its place there), so a random occupied slot is one draw away.
 * A new entry knows the new slots it sits in (slot[0..refs)); a tried entry its tried_slot.
 * No live entry matches an active ban: a ban drops the entries it matches, and cp_book_add()
 * and cp_book_good() refuse banned addresses (so sampling need not look at the bans).
 *
 * Same thread rules as cp_book.h.
 */
#ifndef CP_BOOK_PVT_H
#define CP_BOOK_PVT_H

#include <stdbool.h>
#include <stdint.h>

#include "cp_book.h"
#include "sl_debug.h"

#define BK_NONE UINT32_MAX

struct bk_entry {
	struct cp_addr addr;
	uint64_t last_try, last_success, bad_until, rtt_ns;
	uint32_t src_ip, attempts, successes;
	uint32_t next_addr;		 /* (ip, port) chain; the free list when not live */
	uint32_t next_id;		 /* id chain (entries with an id) */
	uint32_t all_pos;		 /* index in all[] */
	uint32_t tried_slot;		 /* BK_NONE: not in tried */
	uint32_t slot[CP_BOOK_MAX_REFS]; /* new slots, refs of them */
	uint8_t refs, bad_count;
	bool live;
};

struct bk_table {
	uint32_t n_slots, n_occ;
	uint32_t *slot; /* entry index or BK_NONE */
	uint32_t *pos;	/* slot -> its index in occ[] (valid when occupied) */
	uint32_t *occ;	/* the occupied slots, n_occ of them */
};

struct bk_ban {
	struct cp_addr addr; /* ip, port, flags and id; last_seen unused */
	uint64_t until;
};

struct cp_book {
	struct cp_book_config cfg;
	struct cp_book_stats stats;
	uint8_t key[SL_KEY_LEN];
	uint64_t k_place[2], k_index[2]; /* SipHash keys: bucket placement, hash tables */
	uint64_t rng;			 /* SplitMix64 state */
	struct bk_table new_t, tried_t;
	struct bk_entry *e;
	uint32_t e_cap, e_used, e_free, e_max;
	uint32_t *all, n_all;
	uint32_t *head_addr, *head_id, head_mask;
	struct bk_ban *bans;
	uint32_t n_bans;
	struct sl_owner owner;
};

#define BK_E(b, i) (&(b)->e[(i)])

static inline bool
cp_bk_has_id(const struct cp_addr *a)
{
	return (a->flags & CP_ADDR_F_HAS_ID) != 0;
}

/* --- cp_book_table.c: mechanics --------------------------------------------------------------- */
/* SipHash-2-4 of n 64-bit words (the same as of their 8n little-endian bytes). */
uint64_t cp_bk_siphash(const uint64_t k[2], const uint64_t *m, unsigned int n);
uint64_t cp_bk_le64(const uint8_t *p); /* 8 bytes, little-endian */
uint64_t cp_bk_rand(struct cp_book *b);
uint32_t cp_bk_below(struct cp_book *b, uint32_t n); /* uniform in [0, n), n > 0 */

/* Entries. cp_bk_entries_grow(): room for more (the first call sets the hash tables up), 0 or
 * -ENOMEM; it moves b->e. cp_bk_entry_new(): a live entry for a (in no table yet), or BK_NONE
 * (ENOMEM); may move b->e. cp_bk_entry_free(): an entry in no table back to the free list.
 * cp_bk_entry_drop(): out of every table, then freed. cp_bk_entry_set_id(): pin an id. */
int cp_bk_entries_grow(struct cp_book *b);
uint32_t cp_bk_entry_new(struct cp_book *b, const struct cp_addr *a, uint32_t src_ip);
void cp_bk_entry_free(struct cp_book *b, uint32_t idx);
void cp_bk_entry_drop(struct cp_book *b, uint32_t idx);
void cp_bk_entry_set_id(struct cp_book *b, uint32_t idx, const uint8_t id[SL_KEY_LEN]);
uint32_t cp_bk_find(const struct cp_book *b, uint32_t ip, uint16_t port);
uint32_t cp_bk_find_id(const struct cp_book *b, const uint8_t id[SL_KEY_LEN]);
uint32_t cp_bk_find_other_id(const struct cp_book *b, const uint8_t id[SL_KEY_LEN], uint32_t idx);

/* Slots. cp_bk_table_init(): n empty slots, 0 or -ENOMEM (cp_bk_table_free() either way).
 * cp_bk_tried_set() / cp_bk_new_ref_add(): idx into empty slot s (new: idx in no tried slot, with a
 * ref left). cp_bk_tbl_clear(): empty an occupied slot, nothing else. cp_bk_new_ref_drop(): empty
 * new slot s and free its entry if that was its last place (true then). */
int cp_bk_table_init(struct bk_table *t, uint32_t n);
void cp_bk_table_free(struct bk_table *t);
void cp_bk_tried_set(struct cp_book *b, uint32_t s, uint32_t idx);
void cp_bk_new_ref_add(struct cp_book *b, uint32_t s, uint32_t idx);
void cp_bk_tbl_clear(struct bk_table *t, uint32_t s);
bool cp_bk_new_ref_drop(struct cp_book *b, uint32_t s);
/* Where an address belongs (bucketing on): its tried slot, its new slot for source src. */
uint32_t cp_bk_tried_slot_of(const struct cp_book *b, uint32_t ip, uint16_t port);
uint32_t cp_bk_new_slot_of(const struct cp_book *b, uint32_t ip, uint16_t port, uint32_t src);
/* Is slot s a position addr may hold (bucketing on: its place in the slot's bucket)? */
bool cp_bk_slot_fits(const struct cp_book *b, bool tried, uint32_t s, uint32_t ip, uint16_t port);
/* Flat pools: a free slot of t if there is one, else a random occupied one. */
uint32_t cp_bk_flat_slot(struct cp_book *b, const struct bk_table *t);

/* --- cp_book.c: rules ------------------------------------------------------------------------- */
bool cp_bk_addr_valid(const struct cp_addr *a);
/* Not worth keeping: not seen for horizon_s, a last seen in the future, or failing (retries
 * without any success, max_failures since a success min_fail_s ago); never within a minute of
 * a try. Bitcoin's IsTerrible. */
bool cp_bk_stale(const struct cp_book *b, const struct bk_entry *e, uint64_t now_s);
bool cp_bk_is_bad(const struct bk_entry *e, uint64_t now_s);
/* Put idx into new for source src / into tried, as cp_book_add() / cp_book_good() would,
 * without stale-eviction (loading): 0, or -ENOSPC when its slot is taken. */
int cp_bk_load_new(struct cp_book *b, uint32_t idx, uint32_t src);
int cp_bk_load_tried(struct cp_book *b, uint32_t idx);
/* Record a ban of a until until_s (a ban is never shortened); drops nothing. */
void cp_bk_ban_put(struct cp_book *b, const struct cp_addr *a, uint64_t until_s);
void cp_bk_gauges(struct cp_book *b);

/* --- cp_book_select.c ------------------------------------------------------------------------- */
void cp_bk_info(const struct bk_entry *e, struct cp_book_info *info);

#endif /* CP_BOOK_PVT_H */
