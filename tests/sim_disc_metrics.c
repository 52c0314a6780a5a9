/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the discovery simulator's figures (sim_disc.h): samples of convergence and eclipse
 * while it runs; at the end, the graph of live honest nodes (components, an exact diameter by
 * a BFS from every node of the largest one, in-degrees), eclipse, the books' attacker share.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_disc_pvt.h"

bool
sd_at_target(const struct sim_disc *w, const struct sd_node *n)
{
	return cp_pool_stats(cp_disc_pool(n->d))->outbound >= w->cfg.outbound;
}

/* n's outbound peers (sessions it dialled, open at its side) and how many are the attacker's. */
static void
outbound_of(const struct sim_disc *w, const struct sd_node *n, uint32_t *out, uint32_t *att)
{
	*out = *att = 0;
	for (uint32_t i = 0; i < n->n_sess; i++) {
		const struct sd_sess *s = sd_sess_at(w, n->sess_of[i]);

		if (s->node[0] != n->idx)
			continue;
		(*out)++;
		if (w->nodes[s->node[1]]->kind == SD_ATTACKER)
			(*att)++;
	}
}

void
sd_sample(struct sim_disc *w)
{
	struct sim_disc_sample x = { .t_ns = w->now, .live = w->n_live };

	for (uint32_t i = 0; i < w->n_live; i++) {
		const struct sd_node *n = w->nodes[w->live[i]];
		uint32_t out, att;

		x.at_target += sd_at_target(w, n);
		outbound_of(w, n, &out, &att);
		x.with_out += out > 0;
		x.eclipsed += out > 0 && att == out;
	}
	if (w->n_samples == w->cap_samples) {
		uint32_t cap = w->cap_samples ? 2 * w->cap_samples : 1024;
		struct sim_disc_sample *v = realloc(w->samples, cap * sizeof(*v));

		if (v == NULL) {
			w->nomem = true;
			return;
		}
		w->samples = v, w->cap_samples = cap;
	}
	w->samples[w->n_samples++] = x;
	sd_digest(w, (uint64_t)x.at_target << 32 | x.eclipsed);
}

/* --- convergence ----------------------------------------------------------------------------- */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
convergence(const struct sim_disc *w, struct sim_disc_metrics *m)
{
	uint64_t *t = malloc((w->n_nodes + 1) * sizeof(*t));
	uint32_t n = 0, at = 0;

	m->t99_ns = UINT64_MAX;
	for (uint32_t i = 0; i < w->n_samples; i++) {
		const struct sim_disc_sample *x = &w->samples[i];

		if (x->t_ns >= w->cfg.join_window_ns && x->live > 0 &&
		    x->at_target >= 0.99 * x->live) {
			m->t99_ns = x->t_ns;
			break;
		}
	}
	for (uint32_t i = 0; i < w->n_live; i++)
		at += sd_at_target(w, w->nodes[w->live[i]]);
	m->at_target_end = w->n_live ? (double)at / w->n_live : 0;
	for (uint32_t i = 0; t != NULL && i < w->n_nodes; i++) {
		const struct sd_node *x = w->nodes[i];

		if (x->kind == SD_HONEST && x->target_ns != 0)
			t[n++] = x->target_ns - x->joined_ns;
	}
	m->reached = n;
	if (t != NULL && n > 0) {
		qsort(t, n, sizeof(*t), cmp_u64);
		m->to_target_p50_ns = t[n / 2];
		m->to_target_p99_ns = t[(uint32_t)(0.99 * (n - 1))];
		m->to_target_max_ns = t[n - 1];
	}
	free(t);
}

/* --- the graph ------------------------------------------------------------------------------- */

struct sd_graph {
	uint32_t n, *off, *adj, *cid; /* cid: node index -> compact index (SD_NONE: not in it) */
	uint32_t *comp, *seen, *dist, *queue; /* comp: component label of each node */
	uint32_t comp_big;		      /* the largest component's label */
};

/* Is s an edge of the graph: open at both sides, between live honest nodes whose pools both
 * keep it (not a refused session lingering to answer a request)? */
static bool
edge(const struct sim_disc *w, const struct sd_sess *s)
{
	const struct sd_node *a = w->nodes[s->node[0]], *b = w->nodes[s->node[1]];

	return s->state[0] == SD_END_OPEN && s->state[1] == SD_END_OPEN && a->live && b->live &&
	       a->kind == SD_HONEST && b->kind == SD_HONEST &&
	       cp_pool_has(cp_disc_pool(a->d), b->id) && cp_pool_has(cp_disc_pool(b->d), a->id);
}

/* Degrees (both directions) into off[], in-degrees into m. */
static void
degrees(const struct sim_disc *w, struct sd_graph *g, struct sim_disc_metrics *m)
{
	uint64_t in_sum = 0;

	m->outdeg_min = UINT32_MAX;
	for (uint32_t i = 0; i < w->n_live; i++) {
		const struct sd_node *n = w->nodes[w->live[i]];
		uint32_t in = 0, out = 0;

		for (uint32_t k = 0; k < n->n_sess; k++) {
			const struct sd_sess *s = sd_sess_at(w, n->sess_of[k]);

			if (!edge(w, s))
				continue;
			g->off[i + 1]++;
			if (s->node[1] == n->idx)
				in++;
			else
				out++;
		}
		in_sum += in;
		m->indeg_hist[in < SIM_DISC_INDEG_MAX ? in : SIM_DISC_INDEG_MAX]++;
		m->indeg_max = in > m->indeg_max ? in : m->indeg_max;
		m->outdeg_min = out < m->outdeg_min ? out : m->outdeg_min;
		m->outdeg_max = out > m->outdeg_max ? out : m->outdeg_max;
		m->g_edges += out;
	}
	m->indeg_mean = w->n_live ? (double)in_sum / w->n_live : 0;
	if (w->n_live == 0)
		m->outdeg_min = 0;
}

static void
fill_adj(const struct sim_disc *w, struct sd_graph *g)
{
	for (uint32_t i = 0; i < g->n; i++)
		g->off[i + 1] += g->off[i];
	for (uint32_t i = 0; i < g->n; i++) {
		const struct sd_node *n = w->nodes[w->live[i]];
		uint32_t p = g->off[i];

		for (uint32_t k = 0; k < n->n_sess; k++) {
			const struct sd_sess *s = sd_sess_at(w, n->sess_of[k]);

			if (edge(w, s))
				g->adj[p++] = g->cid[s->node[s->node[0] == n->idx ? 1 : 0]];
		}
	}
}

/* BFS from src, marking what it reaches with stamp in seen[]: its eccentricity; the
 * distances summed into *sum, the nodes reached counted into *count. */
static uint32_t
bfs(struct sd_graph *g, uint32_t src, uint32_t stamp, uint64_t *sum, uint32_t *count)
{
	uint32_t head = 0, tail = 0, ecc = 0;

	g->seen[src] = stamp;
	g->dist[src] = 0;
	g->queue[tail++] = src;
	while (head < tail) {
		uint32_t u = g->queue[head++];

		ecc = g->dist[u];
		*sum += g->dist[u];
		for (uint32_t p = g->off[u]; p < g->off[u + 1]; p++) {
			uint32_t v = g->adj[p];

			if (g->seen[v] != stamp) {
				g->seen[v] = stamp;
				g->dist[v] = g->dist[u] + 1;
				g->queue[tail++] = v;
			}
		}
	}
	*count = tail;
	return ecc;
}

/* Components (labels 1..), then an exact diameter and mean distance of the largest one: a
 * BFS from each of its nodes. */
static void
shape(struct sd_graph *g, struct sim_disc_metrics *m)
{
	uint32_t label = 0, big_label = 0, size, stamp;
	uint64_t sum = 0, pairs;

	for (uint32_t i = 0; i < g->n; i++) {
		if (g->seen[i] != 0)
			continue;
		(void)bfs(g, i, ++label, &sum, &size);
		if (size > m->g_largest)
			m->g_largest = size, big_label = label;
	}
	m->g_components = label;
	m->g_connected = g->n > 0 && label == 1;
	m->g_outside = g->n - m->g_largest;
	g->comp_big = big_label;
	memcpy(g->comp, g->seen, g->n * sizeof(uint32_t));
	sum = 0;
	stamp = label;
	for (uint32_t i = 0; i < g->n; i++) {
		if (g->comp[i] != big_label)
			continue;
		uint32_t ecc = bfs(g, i, ++stamp, &sum, &size);

		m->g_diameter = ecc > m->g_diameter ? ecc : m->g_diameter;
	}
	pairs = (uint64_t)m->g_largest * (m->g_largest > 0 ? m->g_largest - 1 : 0);
	m->g_mean_dist = pairs ? (double)sum / pairs : 0;
}

static void
graph(const struct sim_disc *w, struct sim_disc_metrics *m)
{
	struct sd_graph g = { .n = w->n_live };

	g.off = calloc(g.n + 1, sizeof(uint32_t));
	g.cid = malloc(w->n_nodes * sizeof(uint32_t));
	g.comp = calloc(g.n + 1, sizeof(uint32_t));
	g.seen = calloc(g.n + 1, sizeof(uint32_t));
	g.dist = calloc(g.n + 1, sizeof(uint32_t));
	g.queue = calloc(g.n + 1, sizeof(uint32_t));
	if (g.off == NULL || g.cid == NULL || g.comp == NULL || g.seen == NULL || g.dist == NULL ||
	    g.queue == NULL)
		goto out;
	memset(g.cid, 0xff, w->n_nodes * sizeof(uint32_t));
	for (uint32_t i = 0; i < g.n; i++)
		g.cid[w->live[i]] = i;
	degrees(w, &g, m);
	g.adj = malloc((2 * (size_t)m->g_edges + 1) * sizeof(uint32_t));
	if (g.adj == NULL)
		goto out;
	fill_adj(w, &g);
	m->g_nodes = g.n;
	shape(&g, m);
	for (uint32_t i = 0; i < g.n; i++) {
		const struct sd_node *n = w->nodes[w->live[i]];

		if (g.comp[i] != g.comp_big && w->now - n->joined_ns > m->g_outside_age_ns)
			m->g_outside_age_ns = w->now - n->joined_ns;
	}
out:
	free(g.off), free(g.cid), free(g.comp), free(g.seen), free(g.dist), free(g.queue),
		free(g.adj);
}

/* --- eclipse --------------------------------------------------------------------------------- */

struct book_count {
	const struct sim_disc *w;
	uint64_t entries, attacker;
};

static void
count_entry(void *arg, const struct cp_book_info *info)
{
	struct book_count *c = arg;
	const struct sd_node *n = sd_node_by_addr(c->w, info->addr.ip, info->addr.port);

	c->entries++;
	c->attacker += n != NULL && n->kind == SD_ATTACKER;
}

static void
eclipse(const struct sim_disc *w, struct sim_disc_metrics *m)
{
	struct book_count bc = { .w = w };
	uint64_t out_all = 0, out_att = 0;

	for (uint32_t i = 0; i < w->n_live; i++) {
		const struct sd_node *n = w->nodes[w->live[i]];
		uint32_t out, att;

		outbound_of(w, n, &out, &att);
		out_all += out;
		out_att += att;
		m->with_out += out > 0;
		m->eclipsed += out > 0 && att == out;
		cp_book_walk(cp_disc_book(n->d), count_entry, &bc);
	}
	m->eclipsed_frac = m->with_out ? (double)m->eclipsed / m->with_out : 0;
	m->attacker_out_frac = out_all ? (double)out_att / out_all : 0;
	m->book_entries = bc.entries;
	m->attacker_book_entries = bc.attacker;
	m->book_attacker_frac = bc.entries ? (double)bc.attacker / bc.entries : 0;
}

/* --- activity -------------------------------------------------------------------------------- */

static void
activity(const struct sim_disc *w, struct sim_disc_metrics *m)
{
	struct sd_counts c = w->gone;

	for (uint32_t i = 0; i < w->n_nodes; i++) {
		const struct sd_node *n = w->nodes[i];
		const struct cp_disc_stats *st;
		const struct cp_pex_stats *px;

		if (n->d == NULL)
			continue;
		st = cp_disc_stats(n->d);
		px = cp_disc_pex_stats(n->d);
		c.dials += st->dials;
		c.dials_failed += st->dials_failed + st->dials_timed_out;
		c.addrs_added += st->addrs_added;
		c.refused += st->refused;
		c.evicted += st->evicted;
		c.peers_bad += st->peers_bad;
		c.unsolicited += px->msgs[CP_PEX_UNSOLICITED];
		c.wrong_request += px->msgs[CP_PEX_WRONG_REQUEST];
	}
	m->dials = c.dials;
	m->dials_failed = c.dials_failed;
	m->addrs_added = c.addrs_added;
	m->refused = c.refused;
	m->evicted = c.evicted;
	m->peers_bad = c.peers_bad;
	m->pex_unsolicited = c.unsolicited;
	m->pex_wrong_request = c.wrong_request;
	m->events = w->events;
	m->sessions = w->sessions;
	m->messages = w->messages;
	m->msg_bytes = w->msg_bytes;
}

void
sim_disc_metrics(struct sim_disc *w, struct sim_disc_metrics *m)
{
	memset(m, 0, sizeof(*m));
	m->honest_live = w->n_live;
	m->attackers = w->n_att;
	m->joined = (uint32_t)w->joined;
	m->left = (uint32_t)w->left;
	m->truncated = w->truncated;
	convergence(w, m);
	graph(w, m);
	eclipse(w, m);
	activity(w, m);
	m->digest = w->digest;
}
