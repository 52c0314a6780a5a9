/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the session-resumption cache (see cp_resume.h).
 *
 * Two sl_lru tables of the same capacity, kept in step: `nodes` (node id -> the entry, its
 * recency order is the order of storing, so a full cache gives up the entry stored longest
 * ago) and `tickets` (ticket -> node id, the responder's index). Every node entry has exactly
 * one ticket entry and the other way round, so `tickets` never evicts on its own.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cp_resume.h"
#include "sl_lru_keyed.h"

struct node_entry {
	uint8_t node_id[SL_KEY_LEN]; /* the key */
	uint8_t ticket[SL_RESUME_TICKET_LEN];
	uint8_t secret[SL_KEY_LEN];
	uint64_t not_after_ns;
};

struct ticket_entry {
	uint8_t ticket[SL_RESUME_TICKET_LEN]; /* the key */
	uint8_t node_id[SL_KEY_LEN];
};

static_assert(offsetof(struct node_entry, node_id) == 0, "the key comes first");
static_assert(offsetof(struct ticket_entry, ticket) == 0, "the key comes first");

struct cp_resume {
	struct sl_lru *nodes, *tickets;
	uint64_t lifetime_ns;
	struct cp_resume_stats st;
	void (*wipe_hook)(const void *mem, size_t len, void *arg);
	void *hook_arg;
};

struct cp_resume *
cp_resume_create(const struct cp_resume_config *cfg)
{
	struct cp_resume *c = calloc(1, sizeof(*c));
	uint32_t cap = cfg->capacity ? cfg->capacity : SL_RESUME_CACHE_DEFAULT;

	if (c == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	c->lifetime_ns = cfg->lifetime_ns ? cfg->lifetime_ns : SL_RESUME_LIFETIME_NS;
	c->nodes = sl_lru_keyed_create(cap, sizeof(struct node_entry), SL_KEY_LEN);
	if (c->nodes != NULL)
		c->tickets =
			sl_lru_keyed_create(cap, sizeof(struct ticket_entry), SL_RESUME_TICKET_LEN);
	if (c->tickets == NULL) {
		int err = errno; /* from the table: EINVAL for a capacity out of range, ENOMEM */

		sl_lru_destroy(c->nodes);
		free(c);
		errno = err;
		return NULL;
	}
	return c;
}

static void
wiped(const struct cp_resume *c, const void *mem, size_t len)
{
	if (c->wipe_hook != NULL)
		c->wipe_hook(mem, len, c->hook_arg);
}

/* Remove a node entry and its ticket entry, zeroing both. */
static void
drop(struct cp_resume *c, struct node_entry *e)
{
	struct ticket_entry *t = sl_lru_find(c->tickets, e->ticket);

	if (t != NULL) {
		sodium_memzero(t->node_id, sizeof(t->node_id));
		sl_lru_remove(c->tickets, t); /* zeroes the whole entry */
		wiped(c, t, sizeof(*t));
	}
	sodium_memzero(e->secret, sizeof(e->secret)); /* not left to the table alone */
	sl_lru_remove(c->nodes, e);
	wiped(c, e, sizeof(*e));
}

void
cp_resume_destroy(struct cp_resume *c)
{
	struct node_entry *e;

	if (c == NULL)
		return;
	while ((e = sl_lru_oldest(c->nodes)) != NULL)
		drop(c, e);
	sl_lru_destroy(c->nodes);
	sl_lru_destroy(c->tickets);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

static bool
expired(const struct node_entry *e, uint64_t now_ns)
{
	return now_ns >= e->not_after_ns;
}

/* Make room for one more node entry (and its ticket): the oldest goes. */
static void
make_room(struct cp_resume *c)
{
	if (!sl_lru_full(c->nodes))
		return;
	drop(c, sl_lru_oldest(c->nodes));
	c->st.evicted++;
}

int
cp_resume_put(struct cp_resume *c, const uint8_t node_id[SL_KEY_LEN],
	      const struct cp_hs_resumption *r, uint64_t now_ns)
{
	uint64_t cap = now_ns + c->lifetime_ns;
	uint64_t not_after = r->not_after_ns != 0 ? RTE_MIN(r->not_after_ns, cap) : cap;
	struct node_entry *e = sl_lru_find(c->nodes, node_id);
	struct ticket_entry *t;

	if (e != NULL) {
		drop(c, e);
		c->st.replaced++;
	}
	if (now_ns >= not_after)
		return -ETIME;
	t = sl_lru_find(c->tickets, r->ticket);
	if (t != NULL) /* another node's entry with the same ticket: 2^-128, but never two */
		drop(c, sl_lru_find(c->nodes, t->node_id));
	make_room(c);
	e = sl_lru_insert(c->nodes, node_id, NULL);
	memcpy(e->ticket, r->ticket, sizeof(e->ticket));
	memcpy(e->secret, r->secret, sizeof(e->secret));
	e->not_after_ns = not_after;
	t = sl_lru_insert(c->tickets, r->ticket, NULL);
	memcpy(t->node_id, node_id, SL_KEY_LEN);
	c->st.stored++;
	return 0;
}

/* Copy a usable entry out, or wipe an expired one. 0, -ETIME. */
static int
hand_out(struct cp_resume *c, struct node_entry *e, uint64_t now_ns, struct cp_resume_ticket *out)
{
	if (expired(e, now_ns)) {
		drop(c, e);
		c->st.expired++;
		c->st.missed++;
		return -ETIME;
	}
	memcpy(out->node_id, e->node_id, sizeof(out->node_id));
	memcpy(out->ticket, e->ticket, sizeof(out->ticket));
	memcpy(out->secret, e->secret, sizeof(out->secret));
	out->not_after_ns = e->not_after_ns;
	return 0;
}

int
cp_resume_take(struct cp_resume *c, const uint8_t node_id[SL_KEY_LEN], uint64_t now_ns,
	       struct cp_resume_ticket *out)
{
	struct node_entry *e = sl_lru_find(c->nodes, node_id);
	int rc;

	memset(out, 0, sizeof(*out));
	if (e == NULL) {
		c->st.missed++;
		return -ENOENT;
	}
	rc = hand_out(c, e, now_ns, out);
	if (rc == 0) {
		drop(c, e); /* one use, whatever comes of it */
		c->st.taken++;
	}
	return rc;
}

int
cp_resume_find(struct cp_resume *c, const uint8_t ticket[SL_RESUME_TICKET_LEN], uint64_t now_ns,
	       struct cp_resume_ticket *out)
{
	const struct ticket_entry *t = sl_lru_find(c->tickets, ticket);
	struct node_entry *e = t != NULL ? sl_lru_find(c->nodes, t->node_id) : NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (e == NULL) {
		c->st.missed++;
		return -ENOENT;
	}
	rc = hand_out(c, e, now_ns, out);
	c->st.found += rc == 0;
	return rc;
}

void
cp_resume_forget(struct cp_resume *c, const uint8_t node_id[SL_KEY_LEN])
{
	struct node_entry *e = sl_lru_find(c->nodes, node_id);

	if (e == NULL)
		return;
	drop(c, e);
	c->st.forgotten++;
}

uint32_t
cp_resume_expire(struct cp_resume *c, uint64_t now_ns)
{
	struct node_entry *e = sl_lru_oldest(c->nodes), *next;
	uint32_t n = 0;

	for (; e != NULL; e = next) {
		next = sl_lru_newer(c->nodes, e);
		if (expired(e, now_ns)) {
			drop(c, e);
			n++;
		}
	}
	c->st.expired += n;
	return n;
}

uint32_t
cp_resume_count(const struct cp_resume *c)
{
	return sl_lru_count(c->nodes);
}

const struct cp_resume_stats *
cp_resume_stats(const struct cp_resume *c)
{
	return &c->st;
}

void
cp_resume_ticket_wipe(struct cp_resume_ticket *t)
{
	sodium_memzero(t, sizeof(*t));
}

void
cp_resume_set_wipe_hook(struct cp_resume *c, void (*hook)(const void *, size_t, void *), void *arg)
{
	c->wipe_hook = hook;
	c->hook_arg = arg;
}
