/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: one node's discovery (cp_disc.h) — its state, sessions and peer exchange.
 * Dialing, seed mode and the periodic work are in cp_disc_tick.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cp_disc_pvt.h"

#define NS_PER_S 1000000000ull

void
cp_disc_config_defaults(struct cp_disc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cp_book_config_defaults(&cfg->book);
	cp_pex_config_defaults(&cfg->pex);
	cp_pool_config_defaults(&cfg->pool);
	cfg->max_dialing = 3;
	cfg->dial_interval_ns = 500000000ull;
	cfg->dial_timeout_ns = 10 * NS_PER_S;
	cfg->crawl_interval_ns = 2 * NS_PER_S;
	cfg->seed_linger_ns = 2 * NS_PER_S;
	cfg->book_low = 1000;
	cfg->save_interval_ns = 60 * NS_PER_S;
}

static bool
config_ok(const struct cp_disc_config *cfg, const struct cp_disc_ops *ops)
{
	return ops != NULL && ops->dial != NULL && ops->close != NULL && ops->send != NULL &&
	       cfg->max_dialing >= 1 && cfg->max_dialing <= CP_DISC_MAX_DIALING &&
	       cfg->dial_interval_ns > 0 && cfg->dial_timeout_ns > 0 &&
	       cfg->crawl_interval_ns > 0 && cfg->save_interval_ns > 0 &&
	       (cfg->n_seeds == 0 || cfg->seeds != NULL);
}

static int
make_parts(struct cp_disc *d, const uint8_t key[SL_KEY_LEN], uint64_t rng_seed)
{
	struct cp_pool_config pool = d->cfg.pool;
	struct cp_pex_config pex = d->cfg.pex;

	pex.seed_mode = d->cfg.seed_mode;
	if (d->cfg.seed_mode) /* a seed's outbound sessions are its crawl's */
		pool.max_outbound = d->cfg.max_dialing;
	if (cp_pex_init(&d->pex, &pex) != 0)
		return -EINVAL;
	d->pool = cp_pool_create(&pool);
	if (d->pool == NULL)
		return -errno;
	d->book = cp_book_create(&d->cfg.book, key, rng_seed);
	if (d->book == NULL)
		return -errno;
	/* one entry per pool entry, and room for the refused sessions departing */
	d->n_sess = pool.max_inbound + pool.max_outbound + pool.max_unconditional +
		    pool.max_persistent + CP_DISC_MAX_DEPARTING;
	d->sess = calloc(d->n_sess, sizeof(d->sess[0]));
	return d->sess == NULL ? -ENOMEM : 0;
}

struct cp_disc *
cp_disc_create(const struct cp_disc_config *cfg, const struct cp_disc_ops *ops, void *arg,
	       const uint8_t key[SL_KEY_LEN], uint64_t rng_seed)
{
	struct cp_disc *d;
	int rc;

	if (!config_ok(cfg, ops)) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->cfg = *cfg;
	d->ops = *ops;
	d->arg = arg;
	rc = make_parts(d, key, rng_seed);
	if (rc != 0) {
		cp_disc_destroy(d);
		errno = -rc;
		return NULL;
	}
	return d;
}

void
cp_disc_destroy(struct cp_disc *d)
{
	if (d == NULL)
		return;
	cp_book_destroy(d->book);
	cp_pool_destroy(d->pool);
	free(d->sess);
	free(d);
}

void
cp_disc_handoff(struct cp_disc *d)
{
	cp_book_handoff(d->book);
}

int
cp_disc_load(struct cp_disc *d, char *why, size_t why_len)
{
	if (d->cfg.book_path == NULL)
		return -ENOENT;
	return cp_book_load(d->book, d->cfg.book_path, why, why_len);
}

void
cp_disc_event(struct cp_disc *d, enum cp_disc_event_type type, const uint8_t *id, uint32_t n,
	      int err)
{
	struct cp_disc_event e = { .type = type, .id = id, .n = n, .err = err };

	if (d->ops.event != NULL)
		d->ops.event(d->arg, &e);
}

int
cp_disc_save(struct cp_disc *d)
{
	int rc;

	if (d->cfg.book_path == NULL)
		return -EINVAL;
	rc = cp_book_save(d->book, d->cfg.book_path);
	if (rc == 0) {
		d->st.saves++;
		cp_disc_event(d, CP_DISC_BOOK_SAVED, NULL, cp_book_size(d->book), 0);
	} else {
		d->st.save_failures++;
		cp_disc_event(d, CP_DISC_BOOK_FAILED, NULL, 0, rc);
	}
	return rc;
}

int
cp_disc_add(struct cp_disc *d, const struct cp_addr *a, uint64_t wall_s)
{
	return cp_book_add(d->book, a, a->ip, wall_s);
}

/* --- sessions --------------------------------------------------------------------------------- */

struct disc_sess *
cp_disc_sess_find(const struct cp_disc *d, const uint8_t id[SL_KEY_LEN])
{
	for (uint32_t i = 0; i < d->n_sess; i++)
		if (d->sess[i].used && memcmp(d->sess[i].addr.id, id, SL_KEY_LEN) == 0)
			return &d->sess[i];
	return NULL;
}

static struct disc_sess *
sess_new(struct cp_disc *d)
{
	for (uint32_t i = 0; i < d->n_sess; i++)
		if (!d->sess[i].used)
			return &d->sess[i];
	return NULL;
}

/* Where the node can be dialled: its first advertised listen address if it gave one (the
 * packets' source port may be a translation's), else where its packets come from. */
static void
dialable(const struct cp_disc_session *s, struct cp_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (s->n_listen > 0 && s->listen[0].ip != 0 && s->listen[0].port != 0) {
		a->ip = s->listen[0].ip;
		a->port = s->listen[0].port;
	} else {
		a->ip = s->ip;
		a->port = s->port;
	}
	memcpy(a->id, s->id, SL_KEY_LEN);
	a->flags = CP_ADDR_F_HAS_ID;
}

/* The dial this session answers, if any: same identity, or the address dialled without one. */
static void
dial_done(struct cp_disc *d, const struct cp_disc_session *s, const struct cp_addr *a)
{
	for (uint32_t i = 0; i < CP_DISC_MAX_DIALING; i++) {
		struct disc_dial *x = &d->dial[i];
		bool same_id =
			(x->a.flags & CP_ADDR_F_HAS_ID) && memcmp(x->a.id, s->id, SL_KEY_LEN) == 0;
		bool same_addr = (x->a.ip == s->ip && x->a.port == s->port) ||
				 (x->a.ip == a->ip && x->a.port == a->port);

		if (x->used && (same_id || same_addr)) {
			x->used = false;
			d->st.dialing--;
		}
	}
}

static uint32_t
departing(const struct cp_disc *d)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < d->n_sess; i++)
		n += d->sess[i].used && d->sess[i].departing;
	return n;
}

/* A session the pool refused: closed at once, or — an inbound peer of a full pool that speaks
 * peer exchange, while few are departing — kept for seed_linger_ns to answer its request. */
static void
refuse(struct cp_disc *d, const struct cp_disc_session *s, const struct cp_addr *a,
       enum cp_pool_verdict v, uint64_t now_ns)
{
	struct disc_sess *x;

	d->st.refused++;
	if (v != CP_POOL_REFUSE_FULL || s->outbound || !(s->caps & SL_CAP_PEX) ||
	    cp_disc_sess_find(d, s->id) != NULL || departing(d) >= CP_DISC_MAX_DEPARTING ||
	    (x = sess_new(d)) == NULL) {
		d->ops.close(d->arg, s->id, SL_CLOSE_REFUSED);
		return;
	}
	memset(x, 0, sizeof(*x));
	x->used = x->departing = true;
	x->addr = *a;
	x->opened_ns = now_ns;
	x->close_at_ns = now_ns + d->cfg.seed_linger_ns;
	cp_pex_peer_init(&x->pex, false, s->caps, now_ns);
}

static enum cp_pool_verdict
admit(struct cp_disc *d, const struct cp_disc_session *s, const struct cp_addr *a, uint64_t now_ns)
{
	unsigned int flags = s->pool_flags | (s->outbound ? CP_POOL_F_OUTBOUND : 0);
	uint8_t victim[SL_KEY_LEN];
	enum cp_pool_verdict v = cp_pool_admit(d->pool, s->id, cp_addr_group(s->ip), flags, victim);
	struct disc_sess *old;

	if (v == CP_POOL_REFUSE_FULL || v == CP_POOL_REFUSE_POLICY) {
		refuse(d, s, a, v, now_ns);
		return v;
	}
	if (v == CP_POOL_EVICT) {
		d->st.evicted++;
		(void)cp_pool_closed(d->pool, victim);
		old = cp_disc_sess_find(d, victim);
		if (old != NULL)
			old->used = false;
		d->ops.close(d->arg, victim, SL_CLOSE_REFUSED);
	}
	(void)cp_pool_opened(d->pool, s->id, cp_addr_group(s->ip), flags, 0);
	return v;
}

/* The book hears of the node: a connection that worked (outbound), or the address an inbound
 * node says it listens at (told by itself). */
static void
book_opened(struct cp_disc *d, const struct cp_disc_session *s, const struct cp_addr *a,
	    uint64_t wall_s)
{
	struct cp_addr seen = *a;

	seen.last_seen = wall_s;
	if (s->outbound)
		cp_book_good(d->book, &seen, s->rtt_ns, wall_s);
	else
		(void)cp_book_add(d->book, &seen, seen.ip, wall_s);
}

enum cp_pool_verdict
cp_disc_opened(struct cp_disc *d, const struct cp_disc_session *s, uint64_t now_ns, uint64_t wall_s)
{
	struct disc_sess *x = cp_disc_sess_find(d, s->id);
	enum cp_pool_verdict v;
	struct cp_addr a;

	dialable(s, &a);
	dial_done(d, s, &a);
	v = admit(d, s, &a, now_ns);
	if (v != CP_POOL_ACCEPT && v != CP_POOL_EVICT)
		return v;
	if (x == NULL)
		x = sess_new(d);
	if (x == NULL) { /* cannot happen: one entry per pool entry and per departing session */
		(void)cp_pool_closed(d->pool, s->id);
		d->ops.close(d->arg, s->id, SL_CLOSE_INTERNAL);
		return CP_POOL_REFUSE_FULL;
	}
	memset(x, 0, sizeof(*x));
	x->used = true;
	x->addr = a;
	x->outbound = s->outbound;
	x->opened_ns = now_ns;
	if (d->cfg.seed_mode) /* a seed holds no long-lived session */
		x->close_at_ns = now_ns + 4 * d->cfg.seed_linger_ns;
	cp_pex_peer_init(&x->pex, s->outbound, s->caps, now_ns);
	book_opened(d, s, &a, wall_s);
	if (s->outbound)
		d->st.opened_outbound++;
	else
		d->st.opened_inbound++;
	if (cp_pex_ask_on_connect(&d->pex, &x->pex))
		cp_disc_ask(d, x, now_ns);
	return v;
}

void
cp_disc_closed(struct cp_disc *d, const uint8_t id[SL_KEY_LEN], uint64_t now_ns, uint64_t wall_s)
{
	struct disc_sess *x = cp_disc_sess_find(d, id);

	(void)now_ns;
	if (x == NULL) {
		d->st.untracked++;
		return;
	}
	cp_book_seen(d->book, &x->addr, wall_s);
	if (!x->departing)
		(void)cp_pool_closed(d->pool, id);
	memset(x, 0, sizeof(*x));
}

void
cp_disc_dial_failed(struct cp_disc *d, const struct cp_addr *a, uint64_t now_ns, uint64_t wall_s)
{
	(void)now_ns, (void)wall_s;
	for (uint32_t i = 0; i < CP_DISC_MAX_DIALING; i++) {
		struct disc_dial *x = &d->dial[i];

		if (x->used && x->a.ip == a->ip && x->a.port == a->port) {
			x->used = false;
			d->st.dialing--;
			d->st.dials_failed++;
			return;
		}
	}
	d->st.reports_late++;
}

/* --- peer exchange ---------------------------------------------------------------------------- */

int
cp_disc_send(struct cp_disc *d, const uint8_t id[SL_KEY_LEN], const uint8_t *msg, int len)
{
	if (len < 0 || d->ops.send(d->arg, id, msg, (size_t)len) != 0) {
		d->st.send_failures++;
		return -1;
	}
	return 0;
}

void
cp_disc_ask(struct cp_disc *d, struct disc_sess *x, uint64_t now_ns)
{
	int len = cp_pex_getaddr(&d->pex, &x->pex, now_ns, d->msg, sizeof(d->msg));

	if (len == -EAGAIN || len == -EOPNOTSUPP)
		return;
	if (cp_disc_send(d, x->addr.id, d->msg, len) == 0)
		d->st.requests_sent++;
}

static void
answer(struct cp_disc *d, struct disc_sess *x, uint16_t want, uint64_t wall_s)
{
	unsigned int n = cp_book_sample(d->book, d->sample, want, wall_s);
	int len = cp_pex_addr_answer(&d->pex, &x->pex, d->sample, n, d->msg, sizeof(d->msg));

	if (cp_disc_send(d, x->addr.id, d->msg, len) == 0)
		d->st.answers_sent++;
}

static void
learn(struct cp_disc *d, const struct disc_sess *x, const struct cp_pex_result *r, uint64_t wall_s)
{
	uint32_t added = 0;

	for (unsigned int i = 0; i < r->n; i++) {
		if (cp_book_add(d->book, &r->addrs[i], x->addr.ip, wall_s) == 0)
			added++;
		else
			d->st.addrs_not_added++;
	}
	d->st.addrs_added += added;
	if (added > 0)
		cp_disc_event(d, CP_DISC_ADDR_LEARNED, x->addr.id, added, 0);
}

static void
misbehaved(struct cp_disc *d, struct disc_sess *x, uint64_t wall_s)
{
	uint8_t id[SL_KEY_LEN];

	memcpy(id, x->addr.id, SL_KEY_LEN);
	cp_book_bad(d->book, &x->addr, wall_s);
	d->st.peers_bad++;
	cp_disc_event(d, CP_DISC_PEER_BAD, id, 0, 0);
	d->ops.close(d->arg, id, SL_CLOSE_MISBEHAVED);
}

void
cp_disc_control(struct cp_disc *d, const uint8_t id[SL_KEY_LEN], const void *msg, size_t len,
		uint64_t now_ns, uint64_t wall_s)
{
	struct disc_sess *x = cp_disc_sess_find(d, id);
	struct cp_pex_result *r = &d->res;

	if (x == NULL) {
		d->st.untracked++;
		return;
	}
	if (cp_pex_receive(&d->pex, &x->pex, msg, len, now_ns, wall_s * NS_PER_S, r) == CP_PEX_ADDR)
		learn(d, x, r, wall_s);
	switch (r->action) {
	case CP_PEX_ACT_ANSWER:
		answer(d, x, r->want, wall_s);
		if (x->departing)
			x->close_at_ns = now_ns + 1; /* at the next tick (0 means never) */
		break;
	case CP_PEX_ACT_ANSWER_CLOSE:
		answer(d, x, r->want, wall_s);
		x->close_at_ns = now_ns + d->cfg.seed_linger_ns;
		break;
	case CP_PEX_ACT_CLOSE:
		x->close_at_ns = now_ns + 1; /* at the next tick (0 means never) */
		break;
	case CP_PEX_ACT_DISCONNECT_BAD:
		misbehaved(d, x, wall_s);
		break;
	case CP_PEX_ACT_NONE:
		break;
	}
}

/* --- reading ---------------------------------------------------------------------------------- */

uint64_t
cp_disc_capabilities(const struct cp_disc *d)
{
	return cp_pex_capabilities(&d->pex);
}

const struct cp_disc_stats *
cp_disc_stats(const struct cp_disc *d)
{
	return &d->st;
}

const struct cp_book *
cp_disc_book(const struct cp_disc *d)
{
	return d->book;
}

const struct cp_pool *
cp_disc_pool(const struct cp_disc *d)
{
	return d->pool;
}

const struct cp_pex_stats *
cp_disc_pex_stats(const struct cp_disc *d)
{
	return &d->pex.st;
}
