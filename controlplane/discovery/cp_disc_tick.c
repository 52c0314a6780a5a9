/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: one node's periodic work (cp_disc.h) — dials (the book, then seeds; a
 * seed's crawl), dials that time out, a seed's closes, asking again while the book is small,
 * last-seen times of connected nodes, saving the book. */
#include <errno.h>
#include <string.h>

#include "cp_disc_pvt.h"

#define NS_PER_S 1000000000ull

struct skip_ctx {
	const struct cp_disc *d;
	bool diverse; /* skip groups that already have an outbound peer */
};

static bool
is_self(const struct cp_disc *d, const struct cp_addr *a)
{
	const struct cp_pex_config *c = &d->pex.cfg;

	if ((a->flags & CP_ADDR_F_HAS_ID) && c->has_self_id &&
	    memcmp(a->id, c->self_id, SL_KEY_LEN) == 0)
		return true;
	for (unsigned int i = 0; i < c->n_self; i++)
		if (c->self[i].ip == a->ip && c->self[i].port == a->port)
			return true;
	return false;
}

static bool
busy(const struct cp_disc *d, const struct cp_addr *a)
{
	for (uint32_t i = 0; i < CP_DISC_MAX_DIALING; i++)
		if (d->dial[i].used && cp_addr_same(&d->dial[i].a, a))
			return true;
	for (uint32_t i = 0; i < d->n_sess; i++)
		if (d->sess[i].used && cp_addr_same(&d->sess[i].addr, a))
			return true;
	return (a->flags & CP_ADDR_F_HAS_ID) && cp_disc_sess_find(d, a->id) != NULL;
}

static bool
skip(void *arg, const struct cp_addr *a)
{
	const struct skip_ctx *c = arg;

	if (is_self(c->d, a) || busy(c->d, a))
		return true;
	return c->diverse && cp_pool_group_taken(c->d->pool, cp_addr_group(a->ip));
}

static struct disc_dial *
dial_slot(struct cp_disc *d)
{
	for (uint32_t i = 0; i < d->cfg.max_dialing; i++)
		if (!d->dial[i].used)
			return &d->dial[i];
	return NULL;
}

/* Dial a through the caller: true if it took the dial. */
static bool
dial(struct cp_disc *d, struct disc_dial *slot, const struct cp_addr *a, uint64_t now_ns,
     uint64_t wall_s)
{
	if (d->ops.dial(d->arg, a) != 0) {
		d->st.dials_refused++;
		return false;
	}
	slot->used = true;
	slot->a = *a;
	slot->deadline_ns = now_ns + d->cfg.dial_timeout_ns;
	d->st.dialing++;
	d->st.dials++;
	cp_book_attempt(d->book, a, wall_s);
	return true;
}

/* The next seed that is neither connected nor being dialled, round robin. */
static const struct cp_addr *
next_seed(struct cp_disc *d)
{
	for (uint32_t k = 0; k < d->cfg.n_seeds; k++) {
		const struct cp_addr *s = &d->cfg.seeds[d->next_seed++ % d->cfg.n_seeds];

		if (!busy(d, s) && !is_self(d, s))
			return s;
	}
	return NULL;
}

/* One dial: an address of the book (other groups first), else a seed. */
static void
dial_one(struct cp_disc *d, uint64_t now_ns, uint64_t wall_s)
{
	struct disc_dial *slot = dial_slot(d);
	struct skip_ctx c = { .d = d, .diverse = !d->cfg.seed_mode };
	unsigned int bias = cp_book_new_bias(cp_pool_stats(d->pool)->outbound);
	const struct cp_addr *seed;
	struct cp_addr a;

	if (slot == NULL)
		return;
	d->stranded = false;
	if (cp_book_pick(d->book, bias, skip, &c, wall_s, &a) == 0 ||
	    (c.diverse &&
	     (c.diverse = false, cp_book_pick(d->book, bias, skip, &c, wall_s, &a)) == 0)) {
		if (dial(d, slot, &a, now_ns, wall_s) && d->cfg.seed_mode)
			d->st.crawl_dials++;
		return;
	}
	seed = next_seed(d);
	if (seed != NULL && dial(d, slot, seed, now_ns, wall_s))
		d->st.seed_dials++;
	else if (seed == NULL && d->st.dialing == 0)
		d->stranded = true; /* every address it knows is connected: ask inbound peers */
}

static bool
wants_dial(const struct cp_disc *d)
{
	if (d->st.dialing >= d->cfg.max_dialing)
		return false;
	if (d->cfg.seed_mode)
		return true;
	return cp_pool_outbound_wanted(d->pool) > d->st.dialing;
}

static void
expire_dials(struct cp_disc *d, uint64_t now_ns)
{
	for (uint32_t i = 0; i < CP_DISC_MAX_DIALING; i++) {
		struct disc_dial *x = &d->dial[i];

		if (x->used && now_ns >= x->deadline_ns) {
			x->used = false;
			d->st.dialing--;
			d->st.dials_timed_out++;
		}
	}
}

/* May this peer be asked again (one request per interval; cp_pex would refuse, and count, an
 * earlier one)? */
static bool
ask_due(const struct cp_disc *d, const struct disc_sess *x, uint64_t now_ns)
{
	return x->pex.requests == 0 || now_ns - x->pex.asked_ns >= d->pex.cfg.interval_ns;
}

/* Per session: a seed's close when due; asking again while the book is small (outbound peers;
 * inbound ones too while stranded: a node whose inbound places filled before it dialled anyone,
 * a seed say, knows only its inbound peers and would never learn an address to dial); last
 * seen. */
static void
sessions_due(struct cp_disc *d, uint64_t now_ns, uint64_t wall_s, bool seen)
{
	bool book_low = cp_book_size(d->book) < d->cfg.book_low;

	for (uint32_t i = 0; i < d->n_sess; i++) {
		struct disc_sess *x = &d->sess[i];

		if (!x->used)
			continue;
		if (x->close_at_ns != 0 && now_ns >= x->close_at_ns) {
			x->close_at_ns = 0;
			if (x->departing) {
				d->ops.close(d->arg, x->addr.id, SL_CLOSE_REFUSED);
				continue;
			}
			d->st.seed_closes++;
			d->ops.close(d->arg, x->addr.id, SL_CLOSE_DONE);
			continue;
		}
		if (book_low && !d->cfg.seed_mode && !x->departing && (x->outbound || d->stranded) &&
		    ask_due(d, x, now_ns))
			cp_disc_ask(d, x, now_ns);
		if (seen)
			cp_book_seen(d->book, &x->addr, wall_s);
	}
}

static uint64_t
next_due(const struct cp_disc *d, uint64_t now_ns)
{
	uint64_t next = d->next_dial_ns;

	if (d->cfg.book_path != NULL && d->next_save_ns < next)
		next = d->next_save_ns;
	for (uint32_t i = 0; i < CP_DISC_MAX_DIALING; i++)
		if (d->dial[i].used && d->dial[i].deadline_ns < next)
			next = d->dial[i].deadline_ns;
	for (uint32_t i = 0; i < d->n_sess; i++)
		if (d->sess[i].used && d->sess[i].close_at_ns != 0 && d->sess[i].close_at_ns < next)
			next = d->sess[i].close_at_ns;
	return next > now_ns ? next : now_ns + 1;
}

uint64_t
cp_disc_tick(struct cp_disc *d, uint64_t now_ns, uint64_t wall_s)
{
	bool seen = now_ns >= d->next_seen_ns;

	expire_dials(d, now_ns);
	sessions_due(d, now_ns, wall_s, seen);
	if (seen)
		d->next_seen_ns = now_ns + 60 * NS_PER_S;
	if (now_ns >= d->next_dial_ns) {
		d->next_dial_ns = now_ns + (d->cfg.seed_mode ? d->cfg.crawl_interval_ns
							     : d->cfg.dial_interval_ns);
		if (wants_dial(d))
			dial_one(d, now_ns, wall_s);
		else
			d->stranded = false;
	}
	if (d->cfg.book_path != NULL && now_ns >= d->next_save_ns) {
		if (d->next_save_ns != 0)
			(void)cp_disc_save(d);
		d->next_save_ns = now_ns + d->cfg.save_interval_ns;
	}
	return next_due(d, now_ns);
}
