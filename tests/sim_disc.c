/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the discovery simulator (sim_disc.h) — the world: configuration, addresses and
 * identities, nodes joining and leaving, the event queue and the run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_disc_pvt.h"
#include "sl_test.h"

void
sim_disc_config_defaults(struct sim_disc_config *c)
{
	memset(c, 0, sizeof(*c));
	c->seed = 1;
	c->nodes = 200;
	c->seeds = 4;
	c->per_group = 4;
	c->outbound = 8;
	c->inbound = 32;
	c->seed_inbound = 1000;
	c->book_low = 1000;
	c->pex_max_addrs = SL_PEX_MAX_ADDRS;
	cp_book_config_defaults(&c->book);
	c->book.bucket_size = 4;
	c->book.max_bans = 128;
	c->join_window_ns = 60 * SIM_DISC_NS;
	c->duration_ns = 600 * SIM_DISC_NS;
	c->churn_per_min = 0.01;
	c->rtt_min_ns = 10 * SIM_DISC_MS;
	c->rtt_max_ns = 200 * SIM_DISC_MS;
	c->dial_fail_ns = 5 * SIM_DISC_NS;
	c->attacker_groups = 16;
	c->attacker_dials = 8;
	c->attacker_spam_ns = 30 * SIM_DISC_NS;
	c->sample_ns = SIM_DISC_NS;
}

static bool
config_ok(const struct sim_disc_config *c)
{
	return c->nodes >= 2 && c->seeds >= 1 && c->per_group >= 1 && c->outbound >= 1 &&
	       c->inbound >= 1 && c->seed_inbound >= 1 && c->duration_ns > 0 && c->sample_ns > 0 &&
	       c->rtt_min_ns > 0 && c->rtt_max_ns >= c->rtt_min_ns &&
	       c->dial_fail_ns > c->rtt_max_ns && c->churn_per_min >= 0 && c->churn_per_min <= 1 &&
	       c->attacker_share >= 0 && c->attacker_share <= 0.9 && c->attacker_groups >= 1 &&
	       c->attacker_groups <= 4096 && c->pex_max_addrs >= 1 &&
	       c->pex_max_addrs <= SL_PEX_MAX_ADDRS;
}

/* --- randomness, time, digest ---------------------------------------------------------------- */

uint64_t
sd_rand(struct sim_disc *w)
{
	return sl_test_mix64(&w->rng);
}

uint64_t
sd_wall(const struct sim_disc *w)
{
	return SD_WALL0 + w->now / SIM_DISC_NS;
}

void
sd_digest(struct sim_disc *w, uint64_t x)
{
	uint64_t s = w->digest ^ x;

	w->digest = sl_test_mix64(&s);
}

/* --- events ---------------------------------------------------------------------------------- */

struct sd_event *
sd_event_new(struct sim_disc *w, uint8_t type, uint32_t a, uint32_t gen)
{
	struct sd_event *e = w->free_ev;

	if (e != NULL) {
		w->free_ev = (struct sd_event *)e->msg;
	} else {
		e = malloc(sizeof(*e));
		if (e == NULL) {
			w->nomem = true;
			return NULL;
		}
	}
	memset(e, 0, sizeof(*e));
	sl_theap_node_init(&e->hn);
	e->type = type;
	e->a = a;
	e->gen = gen;
	return e;
}

static void
event_free(struct sim_disc *w, struct sd_event *e)
{
	free(e->msg);
	e->msg = (uint8_t *)w->free_ev;
	w->free_ev = e;
}

void
sd_schedule(struct sim_disc *w, struct sd_event *e, uint64_t at)
{
	if (e == NULL)
		return;
	if (sl_theap_set(&w->heap, &e->hn, at < w->now ? w->now : at) != 0)
		w->nomem = true;
}

/* --- the tables: address -> node, identity -> node ------------------------------------------- */

static uint32_t
hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (uint32_t)x;
}

static uint64_t
id_key(const uint8_t id[SL_KEY_LEN])
{
	uint64_t k;

	memcpy(&k, id, sizeof(k));
	return k;
}

static void
tab_put(uint32_t *tab, uint32_t mask, uint64_t key, uint32_t idx)
{
	uint32_t i = hash64(key) & mask;

	while (tab[i] != SD_NONE)
		i = (i + 1) & mask;
	tab[i] = idx;
}

static uint64_t
addr_key(uint32_t ip, uint16_t port)
{
	return (uint64_t)ip << 16 | port;
}

/* Room for twice as many nodes as there are, every node put in again. */
static int
tab_grow(struct sim_disc *w)
{
	uint32_t n = (w->tab_mask + 1) * 2;
	uint32_t *a = malloc(n * sizeof(*a)), *d = malloc(n * sizeof(*d));

	if (a == NULL || d == NULL) {
		free(a), free(d);
		return -ENOMEM;
	}
	memset(a, 0xff, n * sizeof(*a));
	memset(d, 0xff, n * sizeof(*d));
	free(w->addr_tab), free(w->id_tab);
	w->addr_tab = a, w->id_tab = d, w->tab_mask = n - 1;
	for (uint32_t i = 0; i < w->n_nodes; i++) {
		tab_put(a, w->tab_mask, addr_key(w->nodes[i]->ip, SD_PORT), i);
		tab_put(d, w->tab_mask, id_key(w->nodes[i]->id), i);
	}
	return 0;
}

struct sd_node *
sd_node_by_addr(const struct sim_disc *w, uint32_t ip, uint16_t port)
{
	for (uint32_t i = hash64(addr_key(ip, port)) & w->tab_mask; w->addr_tab[i] != SD_NONE;
	     i = (i + 1) & w->tab_mask) {
		struct sd_node *n = w->nodes[w->addr_tab[i]];

		if (n->ip == ip && port == SD_PORT)
			return n;
	}
	return NULL;
}

struct sd_node *
sd_node_by_id(const struct sim_disc *w, const uint8_t id[SL_KEY_LEN])
{
	for (uint32_t i = hash64(id_key(id)) & w->tab_mask; w->id_tab[i] != SD_NONE;
	     i = (i + 1) & w->tab_mask) {
		struct sd_node *n = w->nodes[w->id_tab[i]];

		if (memcmp(n->id, id, SL_KEY_LEN) == 0)
			return n;
	}
	return NULL;
}

void
sd_addr_of(const struct sim_disc *w, const struct sd_node *n, struct cp_addr *a)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->id, n->id, SL_KEY_LEN);
	a->ip = n->ip;
	a->port = SD_PORT;
	a->flags = CP_ADDR_F_HAS_ID;
	a->last_seen = sd_wall(w);
}

/* --- addresses ------------------------------------------------------------------------------- */

/* n distinct /16s (top 16 bits) of routable space, none in used[] (which they join). */
static void
pick_groups(struct sim_disc *w, uint8_t *used, uint32_t *out, uint32_t n)
{
	for (uint32_t k = 0; k < n;) {
		uint32_t g = (uint32_t)(sd_rand(w) & 0xffff);

		if (used[g] || cp_addr_classify(g << 16 | 0x0101) != CP_ADDR_ROUTABLE ||
		    cp_addr_classify(g << 16 | 0xfefe) != CP_ADDR_ROUTABLE)
			continue;
		used[g] = 1;
		out[k++] = g;
	}
}

/* A routable address of group g no node has. */
static uint32_t
fresh_ip(struct sim_disc *w, uint32_t g)
{
	for (;;) {
		uint32_t ip = g << 16 | (uint32_t)(1 + sd_rand(w) % 0xfffe);

		if (cp_addr_classify(ip) == CP_ADDR_ROUTABLE &&
		    sd_node_by_addr(w, ip, SD_PORT) == NULL)
			return ip;
	}
}

/* --- nodes ----------------------------------------------------------------------------------- */

/* A new node of kind in group g: identity, address, in the tables; not live yet. */
static struct sd_node *
node_new(struct sim_disc *w, uint8_t kind, uint32_t g)
{
	struct sd_node *n;

	if ((w->n_nodes + 1) * 2 > w->tab_mask + 1 && tab_grow(w) != 0)
		goto nomem;
	if (w->n_nodes == w->cap_nodes) {
		uint32_t cap = w->cap_nodes ? 2 * w->cap_nodes : 1024;
		struct sd_node **v = realloc(w->nodes, cap * sizeof(*v));

		if (v == NULL)
			goto nomem;
		w->nodes = v, w->cap_nodes = cap;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		goto nomem;
	for (int i = 0; i < SL_KEY_LEN; i += 8) {
		uint64_t x = sd_rand(w);

		memcpy(n->id + i, &x, 8);
	}
	n->ip = fresh_ip(w, g);
	n->idx = w->n_nodes;
	n->kind = kind;
	n->w = w;
	n->live_pos = SD_NONE;
	sl_theap_node_init(&n->tick.hn);
	n->tick.type = SD_EV_TICK;
	n->tick.a = n->idx;
	w->nodes[w->n_nodes++] = n;
	tab_put(w->addr_tab, w->tab_mask, addr_key(n->ip, SD_PORT), n->idx);
	tab_put(w->id_tab, w->tab_mask, id_key(n->id), n->idx);
	return n;
nomem:
	w->nomem = true;
	return NULL;
}

static struct cp_disc *
disc_new(struct sim_disc *w, struct sd_node *n)
{
	struct cp_disc_config c;
	uint8_t key[SL_KEY_LEN];

	cp_disc_config_defaults(&c);
	c.book = w->cfg.book;
	c.pool.max_outbound = w->cfg.outbound;
	c.pool.max_inbound = n->kind == SD_SEED ? w->cfg.seed_inbound : w->cfg.inbound;
	c.seed_mode = n->kind == SD_SEED;
	c.n_seeds = w->cfg.seeds;
	c.seeds = w->seed_addrs;
	c.book_low = w->cfg.book_low;
	c.pex.max_addrs = w->cfg.pex_max_addrs;
	c.pex.has_self_id = true;
	memcpy(c.pex.self_id, n->id, SL_KEY_LEN);
	c.pex.n_self = 1;
	c.pex.self[0].ip = n->ip;
	c.pex.self[0].port = SD_PORT;
	for (int i = 0; i < SL_KEY_LEN; i += 8) {
		uint64_t x = sd_rand(w);

		memcpy(key + i, &x, 8);
	}
	return cp_disc_create(&c, &sd_ops, n, key, sd_rand(w));
}

static void
node_join(struct sim_disc *w, struct sd_node *n)
{
	n->d = disc_new(w, n);
	if (n->d == NULL) {
		w->nomem = true;
		return;
	}
	n->live = true;
	n->joined = true;
	n->joined_ns = w->now;
	if (n->kind == SD_HONEST) {
		n->live_pos = w->n_live;
		w->live[w->n_live++] = n->idx;
		w->joined++;
	}
	sd_schedule(w, &n->tick, w->now);
}

static void
count_gone(struct sim_disc *w, const struct sd_node *n)
{
	const struct cp_disc_stats *st = cp_disc_stats(n->d);
	const struct cp_pex_stats *px = cp_disc_pex_stats(n->d);

	w->gone.dials += st->dials;
	w->gone.dials_failed += st->dials_failed + st->dials_timed_out;
	w->gone.addrs_added += st->addrs_added;
	w->gone.refused += st->refused;
	w->gone.evicted += st->evicted;
	w->gone.peers_bad += st->peers_bad;
	w->gone.unsolicited += px->msgs[CP_PEX_UNSOLICITED];
	w->gone.wrong_request += px->msgs[CP_PEX_WRONG_REQUEST];
}

/* n leaves: every session closes (its peers hear it half a round trip later). */
static void
node_leave(struct sim_disc *w, struct sd_node *n)
{
	uint32_t last;

	while (n->n_sess > 0) {
		struct sd_sess *s = sd_sess_at(w, n->sess_of[n->n_sess - 1]);

		sd_close_side(w, s, s->node[0] == n->idx ? 0 : 1);
	}
	count_gone(w, n);
	cp_disc_destroy(n->d);
	n->d = NULL;
	n->live = false;
	sl_theap_remove(&w->heap, &n->tick.hn);
	last = w->live[--w->n_live];
	w->live[n->live_pos] = last;
	w->nodes[last]->live_pos = n->live_pos;
	n->live_pos = SD_NONE;
	w->left++;
}

/* One leaves, a newcomer joins; the next churn event. */
static void
churn(struct sim_disc *w)
{
	double per_s = w->cfg.churn_per_min * w->n_live / 60.0;
	uint64_t mean_ns;
	struct sd_node *n;

	if (w->n_live > 1) {
		node_leave(w, w->nodes[w->live[sd_rand(w) % w->n_live]]);
		n = node_new(w, SD_HONEST, w->groups[sd_rand(w) % w->n_groups]);
		if (n != NULL)
			node_join(w, n);
	}
	if (per_s <= 0)
		return;
	mean_ns = (uint64_t)(SIM_DISC_NS / per_s);
	sd_schedule(w, &w->churn, w->now + mean_ns / 2 + sd_rand(w) % (mean_ns + 1));
}

/* --- the world ------------------------------------------------------------------------------- */

static int
make_seeds(struct sim_disc *w)
{
	w->seed_addrs = calloc(w->cfg.seeds, sizeof(*w->seed_addrs));
	w->seed_idx = calloc(w->cfg.seeds, sizeof(*w->seed_idx));
	if (w->seed_addrs == NULL || w->seed_idx == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < w->cfg.seeds; i++) {
		struct sd_node *n = node_new(w, SD_SEED, w->groups[sd_rand(w) % w->n_groups]);

		if (n == NULL)
			return -ENOMEM;
		sd_addr_of(w, n, &w->seed_addrs[i]);
		w->seed_idx[i] = n->idx;
	}
	for (uint32_t i = 0; i < w->cfg.seeds && !w->nomem; i++)
		node_join(w, w->nodes[w->seed_idx[i]]);
	return w->nomem ? -ENOMEM : 0;
}

static int
make_honest(struct sim_disc *w)
{
	for (uint32_t i = 0; i < w->cfg.nodes; i++) {
		struct sd_node *n = node_new(w, SD_HONEST, w->groups[sd_rand(w) % w->n_groups]);
		struct sd_event *e;
		uint64_t at;

		if (n == NULL)
			return -ENOMEM;
		at = w->cfg.join_window_ns ? sd_rand(w) % w->cfg.join_window_ns : 0;
		e = sd_event_new(w, SD_EV_JOIN, n->idx, 0);
		sd_schedule(w, e, at);
	}
	return w->nomem ? -ENOMEM : 0;
}

/* The attacker's nodes, in its few groups: each comes up at its first tick, within 2 s of
 * attacker_start_ns. */
static int
make_attackers(struct sim_disc *w)
{
	for (uint32_t i = 0; i < w->n_att; i++) {
		struct sd_node *n = node_new(w, SD_ATTACKER,
					     w->att_groups[sd_rand(w) % w->cfg.attacker_groups]);

		if (n == NULL)
			return -ENOMEM;
		w->att[i] = n->idx;
		sd_schedule(w, &n->tick, w->cfg.attacker_start_ns + sd_rand(w) % (2 * SIM_DISC_NS));
	}
	return sd_attack_setup(w);
}

static int
make_world(struct sim_disc *w, uint8_t *used)
{
	const struct sim_disc_config *c = &w->cfg;
	uint32_t n_att = (uint32_t)(c->nodes * c->attacker_share / (1 - c->attacker_share) + 0.5);

	w->n_groups = (c->nodes + c->per_group - 1) / c->per_group;
	w->groups = calloc(w->n_groups, sizeof(*w->groups));
	w->att_groups = calloc(c->attacker_groups, sizeof(*w->att_groups));
	w->live = calloc(c->nodes + 1, sizeof(*w->live)); /* churn keeps their number */
	w->att = calloc(n_att + 1, sizeof(*w->att));
	w->tab_mask = 1023;
	w->addr_tab = malloc(1024 * sizeof(uint32_t));
	w->id_tab = malloc(1024 * sizeof(uint32_t));
	if (w->groups == NULL || w->att_groups == NULL || w->live == NULL || w->att == NULL ||
	    w->addr_tab == NULL || w->id_tab == NULL)
		return -ENOMEM;
	memset(w->addr_tab, 0xff, 1024 * sizeof(uint32_t));
	memset(w->id_tab, 0xff, 1024 * sizeof(uint32_t));
	pick_groups(w, used, w->groups, w->n_groups);
	pick_groups(w, used, w->att_groups, c->attacker_groups);
	w->n_att = n_att;
	if (make_seeds(w) != 0 || make_honest(w) != 0 || make_attackers(w) != 0)
		return -ENOMEM;
	return 0;
}

static void
start_timers(struct sim_disc *w)
{
	w->churn.type = SD_EV_CHURN;
	w->sample.type = SD_EV_SAMPLE;
	w->spam.type = SD_EV_SPAM;
	sl_theap_node_init(&w->churn.hn);
	sl_theap_node_init(&w->sample.hn);
	sl_theap_node_init(&w->spam.hn);
	if (w->cfg.churn_per_min > 0)
		sd_schedule(w, &w->churn, w->cfg.join_window_ns);
	sd_schedule(w, &w->sample, w->cfg.sample_ns);
	if (w->n_att > 0 && w->cfg.attacker_spam_ns > 0)
		sd_schedule(w, &w->spam, w->cfg.attacker_start_ns + w->cfg.attacker_spam_ns);
}

struct sim_disc *
sim_disc_create(const struct sim_disc_config *c)
{
	struct sim_disc *w;
	uint8_t *used;
	int rc;

	if (!config_ok(c)) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	used = calloc(65536, 1);
	if (w == NULL || used == NULL) {
		free(w), free(used);
		errno = ENOMEM;
		return NULL;
	}
	w->cfg = *c;
	w->rng = c->seed;
	w->free_sess = SD_NONE;
	sl_theap_init(&w->heap);
	rc = make_world(w, used);
	free(used);
	if (rc == 0)
		start_timers(w);
	if (rc != 0 || w->nomem) {
		sim_disc_destroy(w);
		errno = ENOMEM;
		return NULL;
	}
	return w;
}

void
sim_disc_destroy(struct sim_disc *w)
{
	if (w == NULL)
		return;
	while (sl_theap_top(&w->heap) != NULL) {
		struct sd_event *e = (struct sd_event *)sl_theap_top(&w->heap);

		sl_theap_remove(&w->heap, &e->hn);
		if (e->type != SD_EV_TICK && e != &w->churn && e != &w->sample && e != &w->spam)
			event_free(w, e);
	}
	sl_theap_fini(&w->heap);
	while (w->free_ev != NULL) {
		struct sd_event *e = w->free_ev;

		w->free_ev = (struct sd_event *)e->msg;
		free(e);
	}
	for (uint32_t i = 0; i < w->n_nodes; i++) {
		cp_disc_destroy(w->nodes[i]->d);
		free(w->nodes[i]->sess_of);
		free(w->nodes[i]);
	}
	for (uint32_t i = 0; i < w->n_blk; i++)
		free(w->sess_blk[i]);
	free(w->nodes), free(w->sess_blk), free(w->addr_tab), free(w->id_tab), free(w->live);
	free(w->att), free(w->groups), free(w->att_groups), free(w->seed_addrs), free(w->seed_idx);
	free(w->defer), free(w->samples);
	free(w);
}

/* --- the run --------------------------------------------------------------------------------- */

static void
tick(struct sim_disc *w, struct sd_node *n)
{
	uint64_t next;

	if (n->kind == SD_ATTACKER) {
		n->live = true;
		sd_attack_tick(w, n);
		return;
	}
	if (!n->live)
		return;
	next = cp_disc_tick(n->d, w->now, sd_wall(w));
	sd_run_deferred(w);
	sd_schedule(w, &n->tick, next);
}

static void
dispatch(struct sim_disc *w, struct sd_event *e)
{
	switch (e->type) {
	case SD_EV_TICK:
		tick(w, w->nodes[e->a]);
		return;
	case SD_EV_JOIN:
		node_join(w, w->nodes[e->a]);
		break;
	case SD_EV_CHURN:
		churn(w);
		return;
	case SD_EV_SAMPLE:
		sd_sample(w);
		sd_schedule(w, &w->sample, w->now + w->cfg.sample_ns);
		return;
	case SD_EV_SPAM:
		sd_attack_spam(w);
		sd_schedule(w, &w->spam, w->now + w->cfg.attacker_spam_ns);
		return;
	default:
		sd_session_event(w, e);
		break;
	}
	event_free(w, e);
}

int
sim_disc_run(struct sim_disc *w)
{
	while (!w->nomem) {
		struct sl_theap_node *top = sl_theap_top(&w->heap);
		struct sd_event *e = (struct sd_event *)top;

		if (top == NULL || top->at > w->cfg.duration_ns)
			break;
		if (w->cfg.max_events != 0 && w->events >= w->cfg.max_events) {
			w->truncated = true;
			break;
		}
		sl_theap_remove(&w->heap, top);
		w->now = top->at;
		w->events++;
		sd_digest(w, w->now ^ (uint64_t)e->type << 56 ^ (uint64_t)e->a << 24);
		dispatch(w, e);
		sd_run_deferred(w);
	}
	if (!w->truncated && !w->nomem)
		w->now = w->cfg.duration_ns;
	return w->nomem ? -ENOMEM : 0;
}

const struct sim_disc_sample *
sim_disc_samples(const struct sim_disc *w, uint32_t *n)
{
	*n = w->n_samples;
	return w->samples;
}
