/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: discovery in the appliance (cp_discovery.h) — cp_disc wired to cp_ctl. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_log.h>
#include <sodium.h>

#include "cp_api.h"
#include "cp_discovery.h"
#include "sl_escape.h"

RTE_LOG_REGISTER(cp_disc_logtype, sluice.cp.discovery, INFO);
#define LOG(level, ...) rte_log(RTE_LOG_##level, cp_disc_logtype, "discovery: " __VA_ARGS__)

#define DISC_NS_PER_S 1000000000ull /* not DPDK's NS_PER_S (an int; rte_cycles.h via cp_api.h) */
#define MAX_QUEUE     256	    /* closes and given-up dials waiting for the next tick */

enum act_type { ACT_CLOSE, ACT_STOP_DIAL, ACT_STOP_ADDR };

struct act {
	uint8_t pub[SL_KEY_LEN]; /* first: 4-byte aligned, as cp_ctl's hash of keys wants */
	enum act_type type;
	uint16_t reason;
	uint32_t ip;
	uint16_t port;
};

struct cp_discovery {
	const struct conf *cfg;
	struct cp_ctl *ctl;
	struct cp_api *api; /* NULL: no application hears of events */
	struct cp_disc *disc;
	uint64_t now_ns;
	uint32_t loaded;
	uint32_t n_act;
	uint64_t act_dropped; /* the queue was full: counted, the action lost */
	struct act act[MAX_QUEUE];
	struct cp_addr seeds[CONF_MAX_SEEDS];
};

static uint64_t
wall_s(void)
{
	return (uint64_t)time(NULL);
}

static void
defer(struct cp_discovery *x, const struct act *a)
{
	if (x->n_act == MAX_QUEUE) {
		x->act_dropped++;
		return;
	}
	x->act[x->n_act++] = *a;
}

/* --- cp_disc's ops ---------------------------------------------------------------------------- */

static int
op_dial(void *arg, const struct cp_addr *a)
{
	struct cp_discovery *x = arg;

	if (a->flags & CP_ADDR_F_HAS_ID)
		return cp_ctl_connect(x->ctl, a->id, a->ip, a->port, x->now_ns);
	return cp_ctl_connect_addr(x->ctl, a->ip, a->port, x->now_ns);
}

static void
op_close(void *arg, const uint8_t id[SL_KEY_LEN], uint16_t reason)
{
	struct act a = { .type = ACT_CLOSE, .reason = reason };

	memcpy(a.pub, id, SL_KEY_LEN);
	defer(arg, &a);
}

static int
op_send(void *arg, const uint8_t id[SL_KEY_LEN], const void *msg, size_t len)
{
	struct cp_discovery *x = arg;

	return cp_ctl_control_send(x->ctl, id, msg, len);
}

/* The event for applications (sl_api.h's kinds). */
static void
tell_apps(struct cp_discovery *x, const struct cp_disc_event *e)
{
	switch (e->type) {
	case CP_DISC_ADDR_LEARNED:
		cp_api_discovery(x->api, SL_API_DISC_ADDR_LEARNED, e->id, e->n);
		break;
	case CP_DISC_PEER_BAD:
		cp_api_discovery(x->api, SL_API_DISC_PEER_BAD, e->id, 0);
		break;
	case CP_DISC_BOOK_SAVED:
		cp_api_discovery(x->api, SL_API_DISC_BOOK_SAVED, NULL, e->n);
		break;
	case CP_DISC_BOOK_FAILED:
		cp_api_discovery(x->api, SL_API_DISC_BOOK_FAILED, NULL, (uint32_t)-e->err);
		break;
	}
}

static void
op_event(void *arg, const struct cp_disc_event *e)
{
	struct cp_discovery *x = arg;
	char key[45] = "-";

	tell_apps(x, e);
	if (e->id != NULL)
		conf_key_to_base64(e->id, key);
	if (e->type == CP_DISC_PEER_BAD)
		LOG(NOTICE, "PeerBad node=%s reason=peer_exchange\n", key);
	else if (e->type == CP_DISC_BOOK_FAILED)
		LOG(WARNING, "BookSaveFailed error=%s\n", strerror(-e->err));
	else if (e->type == CP_DISC_ADDR_LEARNED)
		LOG(DEBUG, "AddrLearned from=%s count=%u\n", key, e->n);
}

static const struct cp_disc_ops disc_ops = {
	.dial = op_dial, .close = op_close, .send = op_send, .event = op_event
};

/* --- configuration ---------------------------------------------------------------------------- */

static void
pex_config(const struct conf *c, const uint8_t self_id[SL_KEY_LEN], struct cp_pex_config *p)
{
	const struct conf_discovery *d = &c->discovery;

	p->interval_ns = (uint64_t)d->pex.interval_s * DISC_NS_PER_S;
	p->max_addrs = (uint16_t)d->pex.max_addrs;
	if (d->pex.allow & CONF_PEX_ALLOW_PRIVATE)
		p->classes |= CP_PEX_CLASS(CP_ADDR_PRIVATE);
	if (d->pex.allow & CONF_PEX_ALLOW_BENCHMARK)
		p->classes |= CP_PEX_CLASS(CP_ADDR_BENCHMARK);
	if (d->pex.allow & CONF_PEX_ALLOW_LOOPBACK)
		p->classes |= CP_PEX_CLASS(CP_ADDR_LOOPBACK);
	p->has_self_id = true;
	memcpy(p->self_id, self_id, SL_KEY_LEN);
	p->n_self = (uint8_t)RTE_MIN(c->n_ports, (unsigned int)SL_HS_MAX_ADDRS);
	for (unsigned int i = 0; i < p->n_self; i++) {
		p->self[i].ip = c->ports[i].ipv4;
		p->self[i].port = c->ports[i].udp_port;
	}
}

static void
pool_config(const struct conf *c, struct cp_pool_config *p)
{
	const struct conf_discovery *d = &c->discovery;

	p->max_inbound = d->max_inbound;
	p->max_outbound = d->max_outbound;
	p->inbound_open = d->inbound_open;
	p->n_allow = d->n_inbound_allow;
	p->allow = (const uint8_t(*)[SL_KEY_LEN])d->inbound_allow;
	p->max_persistent = c->n_peers;
	p->max_unconditional = 0;
	for (unsigned int i = 0; i < c->n_peers; i++)
		p->max_unconditional += c->peers[i].unconditional;
}

static void
disc_config(struct cp_discovery *x, struct cp_disc_config *dc)
{
	const struct conf_discovery *d = &x->cfg->discovery;

	cp_disc_config_defaults(dc);
	pex_config(x->cfg, cp_ctl_pubkey(x->ctl), &dc->pex);
	pool_config(x->cfg, &dc->pool);
	dc->seed_mode = d->seed_mode;
	for (unsigned int i = 0; i < d->n_seeds; i++) {
		struct cp_addr *s = &x->seeds[i];

		s->ip = d->seeds[i].ip;
		s->port = d->seeds[i].port;
		if (d->seeds[i].has_key) {
			memcpy(s->id, d->seeds[i].pub, SL_KEY_LEN);
			s->flags = CP_ADDR_F_HAS_ID;
		}
	}
	dc->n_seeds = d->n_seeds;
	dc->seeds = x->seeds;
	dc->book_path = d->book[0] != '\0' ? d->book : NULL;
	dc->save_interval_ns = (uint64_t)d->save_interval_s * DISC_NS_PER_S;
}

static void
load_book(struct cp_discovery *x)
{
	char why[160], esc[200];
	int rc = cp_disc_load(x->disc, why, sizeof(why));

	if (rc == 0) {
		x->loaded = cp_book_size(cp_disc_book(x->disc));
		LOG(INFO, "BookLoaded path=%s entries=%u\n", x->cfg->discovery.book, x->loaded);
	} else if (rc == -EBADMSG) {
		sl_escape(esc, sizeof(esc), why, strlen(why));
		LOG(WARNING, "BookCorrupt path=%s reason=\"%s\" (set aside; starting empty)\n",
		    x->cfg->discovery.book, esc);
	} else if (rc != -ENOENT) {
		LOG(WARNING, "BookUnreadable path=%s error=%s (starting empty)\n",
		    x->cfg->discovery.book, strerror(-rc));
	}
}

struct cp_discovery *
cp_discovery_create(const struct conf *cfg, struct cp_ctl *ctl, uint64_t now_ns)
{
	struct cp_discovery *x = calloc(1, sizeof(*x));
	struct cp_disc_config dc;
	uint8_t key[SL_KEY_LEN];
	uint64_t seed;

	if (x == NULL)
		return NULL;
	x->cfg = cfg;
	x->ctl = ctl;
	x->now_ns = now_ns;
	disc_config(x, &dc);
	randombytes_buf(key, sizeof(key));
	randombytes_buf(&seed, sizeof(seed));
	x->disc = cp_disc_create(&dc, &disc_ops, x, key, seed);
	sodium_memzero(key, sizeof(key));
	if (x->disc == NULL) {
		free(x);
		return NULL;
	}
	load_book(x);
	return x;
}

void
cp_discovery_handoff(struct cp_discovery *x)
{
	if (x != NULL)
		cp_disc_handoff(x->disc);
}

void
cp_discovery_destroy(struct cp_discovery *x)
{
	if (x == NULL)
		return;
	if (x->cfg->discovery.book[0] != '\0' && cp_disc_save(x->disc) == 0)
		LOG(INFO, "BookSaved path=%s entries=%u\n", x->cfg->discovery.book,
		    cp_book_size(cp_disc_book(x->disc)));
	cp_disc_destroy(x->disc);
	free(x);
}

/* --- notes of cp_ctl -------------------------------------------------------------------------- */

static const struct conf_peer *
configured(const struct cp_discovery *x, const uint8_t *pub)
{
	for (unsigned int i = 0; pub != NULL && i < x->cfg->n_peers; i++)
		if (memcmp(x->cfg->peers[i].pub, pub, SL_KEY_LEN) == 0)
			return &x->cfg->peers[i];
	return NULL;
}

static void
opened(struct cp_discovery *x, const struct cp_note *n)
{
	const struct conf_peer *p = configured(x, n->pub);
	struct cp_disc_session s = { .ip = n->ip, .port = n->udp_port };

	memcpy(s.id, n->pub, SL_KEY_LEN);
	s.outbound = n->initiator;
	s.caps = n->capabilities;
	if (p != NULL)
		s.pool_flags = (p->persistent ? CP_POOL_F_PERSISTENT : 0) |
			       (p->unconditional ? CP_POOL_F_UNCONDITIONAL : 0);
	s.n_listen = (uint8_t)RTE_MIN(n->n_addrs, (uint8_t)SL_HS_MAX_ADDRS);
	for (unsigned int i = 0; i < s.n_listen; i++) {
		s.listen[i].ip = n->addrs[i].ip;
		s.listen[i].port = n->addrs[i].port;
	}
	(void)cp_disc_opened(x->disc, &s, x->now_ns, wall_s());
}

/* A dial of ours that failed, or a node of ours whose session ended: cp_ctl is told to stop
 * keeping it (configured peers excepted). */
static void
give_up(struct cp_discovery *x, const struct cp_note *n)
{
	struct act a = { .type = n->pub != NULL ? ACT_STOP_DIAL : ACT_STOP_ADDR,
			 .ip = n->ip,
			 .port = n->udp_port };

	if (configured(x, n->pub) != NULL)
		return;
	if (n->pub != NULL)
		memcpy(a.pub, n->pub, SL_KEY_LEN);
	defer(x, &a);
}

void
cp_discovery_set_api(struct cp_discovery *x, struct cp_api *api)
{
	if (x != NULL)
		x->api = api;
}

void
cp_discovery_note(struct cp_discovery *x, const struct cp_note *n)
{
	struct cp_addr a = { .ip = n->ip, .port = n->udp_port };

	switch (n->type) {
	case CP_NOTE_CONNECTED:
		if (n->pub != NULL)
			opened(x, n);
		break;
	case CP_NOTE_DISCONNECTED:
		if (n->pub != NULL)
			cp_disc_closed(x->disc, n->pub, x->now_ns, wall_s());
		give_up(x, n);
		break;
	case CP_NOTE_CONNECT_FAILED:
		if (n->pub != NULL) {
			memcpy(a.id, n->pub, SL_KEY_LEN);
			a.flags = CP_ADDR_F_HAS_ID;
		}
		cp_disc_dial_failed(x->disc, &a, x->now_ns, wall_s());
		give_up(x, n);
		break;
	default:
		break;
	}
}

void
cp_discovery_control(struct cp_discovery *x, const uint8_t pub[SL_KEY_LEN], const void *msg,
		     size_t len)
{
	cp_disc_control(x->disc, pub, msg, len, x->now_ns, wall_s());
}

static void
run_queue(struct cp_discovery *x)
{
	for (uint32_t i = 0; i < x->n_act; i++) {
		const struct act *a = &x->act[i];

		if (a->type == ACT_CLOSE)
			(void)cp_ctl_close(x->ctl, a->pub, a->reason, x->now_ns);
		else if (a->type == ACT_STOP_DIAL)
			(void)cp_ctl_forget(x->ctl, a->pub, x->now_ns);
		else
			(void)cp_ctl_disconnect_addr(x->ctl, a->ip, a->port, x->now_ns);
	}
	x->n_act = 0;
}

void
cp_discovery_tick(struct cp_discovery *x, uint64_t now_ns)
{
	x->now_ns = now_ns;
	run_queue(x);
	(void)cp_disc_tick(x->disc, now_ns, wall_s());
	run_queue(x);
}

const struct cp_disc *
cp_discovery_disc(const struct cp_discovery *x)
{
	return x->disc;
}

uint32_t
cp_discovery_loaded(const struct cp_discovery *x)
{
	return x->loaded;
}
