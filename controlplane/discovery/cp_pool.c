/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: the connection pool's policy (cp_pool.h). A flat array of entries: the
 * pool holds at most CP_POOL_MAX_PEERS, and every question is asked once per session event,
 * so a linear scan costs less than keeping an index right. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cp_pool.h"

struct pool_entry {
	uint8_t id[SL_KEY_LEN];
	uint32_t group;
	unsigned int flags;
	uint64_t since_s;
	bool used;
};

struct cp_pool {
	struct cp_pool_config cfg;
	struct cp_pool_stats st;
	uint32_t capacity, used;
	struct pool_entry e[];
};

void
cp_pool_config_defaults(struct cp_pool_config *cfg)
{
	*cfg = (struct cp_pool_config){
		.max_inbound = 32,
		.max_outbound = 8,
		.max_unconditional = 16,
		.max_persistent = 16,
		.inbound_open = true,
	};
}

const char *
cp_pool_verdict_name(enum cp_pool_verdict v)
{
	switch (v) {
	case CP_POOL_ACCEPT:
		return "accept";
	case CP_POOL_EVICT:
		return "evict";
	case CP_POOL_REFUSE_POLICY:
		return "not on the inbound allow-list";
	case CP_POOL_REFUSE_FULL:
		return "connection pool full";
	}
	return "?";
}

struct cp_pool *
cp_pool_create(const struct cp_pool_config *cfg)
{
	uint64_t cap = (uint64_t)cfg->max_inbound + cfg->max_outbound + cfg->max_unconditional +
		       cfg->max_persistent;
	struct cp_pool *p;

	if (cap == 0 || cap > CP_POOL_MAX_PEERS || (cfg->n_allow > 0 && cfg->allow == NULL)) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p) + cap * sizeof(p->e[0]));
	if (p == NULL)
		return NULL;
	p->cfg = *cfg;
	p->capacity = (uint32_t)cap;
	return p;
}

void
cp_pool_destroy(struct cp_pool *p)
{
	free(p);
}

static struct pool_entry *
find(const struct cp_pool *p, const uint8_t id[SL_KEY_LEN])
{
	for (uint32_t i = 0; i < p->capacity; i++)
		if (p->e[i].used && memcmp(p->e[i].id, id, SL_KEY_LEN) == 0)
			return (struct pool_entry *)&p->e[i];
	return NULL;
}

static bool
allowed(const struct cp_pool *p, const uint8_t id[SL_KEY_LEN])
{
	if (p->cfg.inbound_open)
		return true;
	for (uint32_t i = 0; i < p->cfg.n_allow; i++)
		if (memcmp(p->cfg.allow[i], id, SL_KEY_LEN) == 0)
			return true;
	return false;
}

static bool
evictable(const struct pool_entry *e)
{
	return e->used &&
	       !(e->flags & (CP_POOL_F_OUTBOUND | CP_POOL_F_PERSISTENT | CP_POOL_F_UNCONDITIONAL));
}

/* Inbound peers (unconditional ones aside) in group; evictable ones only if asked. */
static uint32_t
inbound_in_group(const struct cp_pool *p, uint32_t group, bool only_evictable)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < p->capacity; i++) {
		const struct pool_entry *e = &p->e[i];

		if (!e->used || e->group != group || (e->flags & CP_POOL_F_OUTBOUND) ||
		    (e->flags & CP_POOL_F_UNCONDITIONAL))
			continue;
		if (!only_evictable || evictable(e))
			n++;
	}
	return n;
}

/* The youngest evictable inbound peer of the group with the most of them; NULL if none. */
static const struct pool_entry *
worst_inbound(const struct cp_pool *p, uint32_t *group_count)
{
	const struct pool_entry *worst = NULL;
	uint32_t worst_n = 0;

	for (uint32_t i = 0; i < p->capacity; i++) {
		const struct pool_entry *e = &p->e[i];
		uint32_t n;

		if (!evictable(e))
			continue;
		n = inbound_in_group(p, e->group, true);
		if (worst == NULL || n > worst_n || (n == worst_n && e->since_s > worst->since_s)) {
			worst = e;
			worst_n = n;
		}
	}
	*group_count = worst == NULL ? 0 : inbound_in_group(p, worst->group, false);
	return worst;
}

static enum cp_pool_verdict
admit_inbound_full(const struct cp_pool *p, uint32_t group, unsigned int flags,
		   uint8_t victim[SL_KEY_LEN])
{
	uint32_t victim_group_n;
	const struct pool_entry *w = worst_inbound(p, &victim_group_n);

	if (w == NULL)
		return CP_POOL_REFUSE_FULL;
	if (!(flags & CP_POOL_F_PERSISTENT) &&
	    inbound_in_group(p, group, false) + 1 >= victim_group_n)
		return CP_POOL_REFUSE_FULL;
	memcpy(victim, w->id, SL_KEY_LEN);
	return CP_POOL_EVICT;
}

/* 0 inbound, 1 outbound, 2 unconditional: which count a session is in. */
static unsigned int
side_of(unsigned int flags)
{
	if (flags & CP_POOL_F_UNCONDITIONAL)
		return 2;
	return flags & CP_POOL_F_OUTBOUND ? 1 : 0;
}

static enum cp_pool_verdict
verdict(const struct cp_pool *p, const uint8_t id[SL_KEY_LEN], uint32_t group, unsigned int flags,
	uint8_t victim[SL_KEY_LEN])
{
	const struct pool_entry *known = find(p, id);

	/* The node's new session replaces its old one on the same side; a change of side is
	 * judged like a newcomer on the new side. */
	if (known != NULL && side_of(known->flags) == side_of(flags))
		return CP_POOL_ACCEPT;
	if (known == NULL && p->used == p->capacity) /* only persistent peers beyond the caps */
		return CP_POOL_REFUSE_FULL;
	if (flags & CP_POOL_F_UNCONDITIONAL)
		return p->st.unconditional < p->cfg.max_unconditional ? CP_POOL_ACCEPT
								      : CP_POOL_REFUSE_FULL;
	if (flags & CP_POOL_F_OUTBOUND)
		return p->st.outbound < p->cfg.max_outbound || (flags & CP_POOL_F_PERSISTENT)
			       ? CP_POOL_ACCEPT
			       : CP_POOL_REFUSE_FULL;
	if (!(flags & CP_POOL_F_PERSISTENT) && !allowed(p, id))
		return CP_POOL_REFUSE_POLICY;
	if (p->st.inbound < p->cfg.max_inbound)
		return CP_POOL_ACCEPT;
	return admit_inbound_full(p, group, flags, victim);
}

enum cp_pool_verdict
cp_pool_admit(struct cp_pool *p, const uint8_t id[SL_KEY_LEN], uint32_t group, unsigned int flags,
	      uint8_t victim[SL_KEY_LEN])
{
	enum cp_pool_verdict v = verdict(p, id, group, flags, victim);

	if (v == CP_POOL_REFUSE_POLICY)
		p->st.refused_policy++;
	else if (v == CP_POOL_REFUSE_FULL)
		p->st.refused_full++;
	else if (v == CP_POOL_EVICT)
		p->st.evicted++;
	return v;
}

static uint32_t *
side(struct cp_pool *p, unsigned int flags)
{
	if (flags & CP_POOL_F_UNCONDITIONAL)
		return &p->st.unconditional;
	return flags & CP_POOL_F_OUTBOUND ? &p->st.outbound : &p->st.inbound;
}

static struct pool_entry *
free_entry(struct cp_pool *p)
{
	for (uint32_t i = 0; i < p->capacity; i++)
		if (!p->e[i].used)
			return &p->e[i];
	return NULL;
}

int
cp_pool_opened(struct cp_pool *p, const uint8_t id[SL_KEY_LEN], uint32_t group, unsigned int flags,
	       uint64_t now_s)
{
	struct pool_entry *e = find(p, id);
	bool known = e != NULL;

	if (known)
		(*side(p, e->flags))--;
	else if ((e = free_entry(p)) == NULL)
		return -ENOSPC;
	else
		p->used++;
	*e = (struct pool_entry){ .group = group, .flags = flags, .used = true };
	memcpy(e->id, id, SL_KEY_LEN);
	e->since_s = now_s;
	(*side(p, flags))++;
	if (known)
		return -EEXIST;
	if (flags & CP_POOL_F_OUTBOUND)
		p->st.accepted_outbound++;
	else
		p->st.accepted_inbound++;
	return 0;
}

int
cp_pool_closed(struct cp_pool *p, const uint8_t id[SL_KEY_LEN])
{
	struct pool_entry *e = find(p, id);

	if (e == NULL)
		return -ENOENT;
	(*side(p, e->flags))--;
	memset(e, 0, sizeof(*e));
	p->used--;
	p->st.closed++;
	return 0;
}

bool
cp_pool_has(const struct cp_pool *p, const uint8_t id[SL_KEY_LEN])
{
	return find(p, id) != NULL;
}

uint32_t
cp_pool_outbound_wanted(const struct cp_pool *p)
{
	return p->st.outbound >= p->cfg.max_outbound ? 0 : p->cfg.max_outbound - p->st.outbound;
}

bool
cp_pool_group_taken(const struct cp_pool *p, uint32_t group)
{
	for (uint32_t i = 0; i < p->capacity; i++) {
		const struct pool_entry *e = &p->e[i];

		if (e->used && e->group == group && (e->flags & CP_POOL_F_OUTBOUND) &&
		    !(e->flags & CP_POOL_F_UNCONDITIONAL))
			return true;
	}
	return false;
}

const struct cp_pool_stats *
cp_pool_stats(const struct cp_pool *p)
{
	return &p->st;
}
