/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the sections that use what the others define — lcores (which lcore polls which rx
 * queue of which port) and services (on channels, towards peers). See conf_pvt.h.
 */
#include <stdio.h>
#include <string.h>

#include "conf_pvt.h"

/* --- lcores -------------------------------------------------------------------------------- */

static const char *const idle_names[] = { "adaptive", "busy", NULL };

static bool
core_in_eal(const struct conf_ctx *x, unsigned int id)
{
	return (x->cores[id / 64] >> (id % 64)) & 1;
}

/* lcores[li].rx[ri] = { "port": name, "queue": n } */
static void
lcore_rxq(struct conf_ctx *x, const json_t *v, const char *path, unsigned int li)
{
	static const char *const keys[] = { "port", "queue", NULL };
	struct conf_lcore *lc = &x->c->lcores[li];
	char where[CONF_WHERE_LEN], name[CONF_NAME_LEN];
	const json_t *pv, *qv;
	uint64_t q;
	int p;

	if (!conf_is(x, v, path, JSON_OBJECT))
		return;
	conf_check_keys(x, v, path, keys);
	pv = conf_member(x, v, path, "port", "a port name");
	qv = conf_member(x, v, path, "queue", "an rx queue number");
	if (pv == NULL || !conf_name(x, pv, conf_path_key(where, path, "port"), name))
		return;
	p = conf_port_index(x->c, name);
	if (p < 0) {
		conf_error(x, where, "no port named \"%s\"", name);
		return;
	}
	if (qv == NULL || !conf_uint(x, qv, conf_path_key(where, path, "queue"), 0,
				     x->c->ports[p].rx_queues - 1u, &q))
		return;
	if (x->rxq_owner[p][q] >= 0) {
		conf_error(x, path, "port %s rx queue %u is already polled by lcores[%d]", name,
			   (unsigned int)q, x->rxq_owner[p][q]);
		return;
	}
	x->rxq_owner[p][q] = (int)li;
	lc->rx[lc->n_rx].port = (uint8_t)p;
	lc->rx[lc->n_rx].queue = (uint16_t)q;
	lc->n_rx++;
}

static void
lcore_id(struct conf_ctx *x, const json_t *v, const char *path, unsigned int li)
{
	char where[CONF_WHERE_LEN];
	uint64_t id;

	if (conf_member(x, v, path, "lcore", "an lcore id") == NULL ||
	    !conf_opt_uint(x, v, path, "lcore", 0, CONF_LCORE_LIMIT - 1, &id))
		return;
	x->c->lcores[li].lcore = (unsigned int)id;
	conf_path_key(where, path, "lcore");
	for (unsigned int j = 0; j < li; j++) {
		if (x->c->lcores[j].lcore == id) {
			conf_error(x, where, "lcore %u is already listed at lcores[%u]",
				   (unsigned int)id, j);
			return;
		}
	}
	if (x->cores_ok && !core_in_eal(x, (unsigned int)id))
		conf_error(x, where, "lcore %u is not in eal.cores (\"%s\")", (unsigned int)id,
			   x->c->eal.cores);
}

static void
lcore_entry(struct conf_ctx *x, const json_t *v, const char *path, unsigned int li)
{
	static const char *const keys[] = { "lcore", "rx", "idle", NULL };
	struct conf_lcore *lc = &x->c->lcores[li];
	char where[CONF_WHERE_LEN], item[CONF_WHERE_LEN];
	const json_t *rx;
	int idle = CONF_IDLE_ADAPTIVE;

	lc->lcore = UINT32_MAX; /* matches no other until parsed */
	if (!conf_is(x, v, path, JSON_OBJECT))
		return;
	conf_check_keys(x, v, path, keys);
	lcore_id(x, v, path, li);
	conf_opt_choice(x, v, path, "idle", idle_names, &idle);
	lc->idle = idle == 0 ? CONF_IDLE_ADAPTIVE : CONF_IDLE_BUSY;
	rx = conf_member(x, v, path, "rx", "an array of {\"port\", \"queue\"}");
	conf_path_key(where, path, "rx");
	if (rx == NULL || !conf_array(x, rx, where, 1, CONF_MAX_RXQ))
		return;
	for (size_t i = 0; i < json_array_size(rx); i++)
		lcore_rxq(x, json_array_get(rx, i), conf_path_index(item, where, i), li);
}

/* No lcores section: the lowest core of eal.cores (EAL's main lcore) polls everything. */
static void
lcores_default(struct conf_ctx *x, const char *path)
{
	struct conf *c = x->c;
	struct conf_lcore *lc = &c->lcores[0];
	unsigned int p, q, total = 0;

	for (p = 0; p < c->n_ports; p++)
		total += c->ports[p].rx_queues;
	if (total > CONF_MAX_RXQ) {
		conf_error(x, path,
			   "missing: the ports have %u rx queues, more than the %u one "
			   "lcore can poll: list the lcores",
			   total, CONF_MAX_RXQ);
		return;
	}
	c->n_lcores = 1;
	lc->idle = CONF_IDLE_ADAPTIVE;
	for (lc->lcore = 0; x->cores_ok && !core_in_eal(x, lc->lcore); lc->lcore++)
		;
	for (p = 0; p < c->n_ports; p++) {
		for (q = 0; q < c->ports[p].rx_queues; q++) {
			lc->rx[lc->n_rx].port = (uint8_t)p;
			lc->rx[lc->n_rx].queue = (uint16_t)q;
			lc->n_rx++;
			x->rxq_owner[p][q] = 0;
		}
	}
}

/* Every rx queue has a poller, and every lcore has a tx queue of its own on every port. */
static void
lcores_cover(struct conf_ctx *x, const char *path)
{
	const struct conf *c = x->c;
	char where[CONF_WHERE_LEN];

	for (unsigned int p = 0; p < c->n_ports; p++) {
		const struct conf_port *port = &c->ports[p];

		for (unsigned int q = 0; q < port->rx_queues; q++) {
			if (x->rxq_owner[p][q] < 0)
				conf_error(x, path, "port %s rx queue %u is polled by no lcore",
					   port->name, q);
		}
		if (port->tx_queues < c->n_lcores) {
			snprintf(where, sizeof(where), "ports[%u].tx_queues", p);
			conf_error(x, where,
				   "%u is fewer than the %u lcores: each lcore sends on "
				   "a tx queue of its own",
				   port->tx_queues, c->n_lcores);
		}
	}
}

void
conf_lcores(struct conf_ctx *x, const json_t *v, const char *path)
{
	char item[CONF_WHERE_LEN];

	memset(x->rxq_owner, 0xff, sizeof(x->rxq_owner)); /* -1: nobody */
	if (v == NULL) {
		lcores_default(x, path);
	} else if (conf_array(x, v, path, 1, CONF_MAX_LCORES)) {
		x->c->n_lcores = (unsigned int)json_array_size(v);
		for (unsigned int i = 0; i < x->c->n_lcores; i++)
			lcore_entry(x, json_array_get(v, i), conf_path_index(item, path, i), i);
	}
	if (x->ports_ok && x->c->n_lcores > 0)
		lcores_cover(x, path);
}

/* --- services ------------------------------------------------------------------------------ */

static const char *const svc_names[] = { "echo", "sink", "source", NULL };
static const char *const source_keys[] = { "peer",	  "count",     "size", "rate",
					   "expect_echo", "in_flight", NULL };

/* "size": n, or { "min": a, "max": b } */
static void
service_size(struct conf_ctx *x, const json_t *v, const char *path, struct dp_svc_def *s)
{
	static const char *const keys[] = { "min", "max", NULL };
	uint32_t max_message = x->c->limits.max_message;
	char where[CONF_WHERE_LEN];
	uint64_t n;

	conf_path_key(where, path, "size");
	v = conf_member(x, v, path, "size", "a size in bytes, or {\"min\", \"max\"}");
	if (v == NULL)
		return;
	if (json_is_integer(v)) {
		if (conf_uint(x, v, where, 1, max_message, &n))
			s->min_size = s->max_size = (uint32_t)n;
		return;
	}
	if (!json_is_object(v)) {
		conf_error(x, where, "expected an integer or an object {\"min\", \"max\"}, got %s",
			   conf_type_name(v));
		return;
	}
	conf_check_keys(x, v, where, keys);
	if (conf_member(x, v, where, "min", "an integer") == NULL ||
	    conf_member(x, v, where, "max", "an integer") == NULL ||
	    !conf_opt_u32(x, v, where, "min", 1, max_message, &s->min_size) ||
	    !conf_opt_u32(x, v, where, "max", 1, max_message, &s->max_size))
		return;
	if (s->min_size > s->max_size)
		conf_error(x, where, "min (%u) is larger than max (%u)", s->min_size, s->max_size);
}

/* The keys only a source has. False if its peer is not known. */
static bool
service_source(struct conf_ctx *x, const json_t *v, const char *path, struct dp_svc_def *s)
{
	char where[CONF_WHERE_LEN], name[CONF_NAME_LEN];
	const json_t *pv;
	int peer = -1;

	pv = conf_member(x, v, path, "peer", "a peer name (where a source sends)");
	if (pv != NULL && conf_name(x, pv, conf_path_key(where, path, "peer"), name)) {
		peer = conf_peer_index(x->c, name);
		if (peer < 0)
			conf_error(x, where, "no peer named \"%s\"", name);
		else
			s->peer = (uint8_t)peer;
	}
	conf_opt_uint(x, v, path, "count", 0, INT64_MAX, &s->count);
	conf_opt_uint(x, v, path, "rate", 0, INT64_MAX, &s->rate);
	conf_opt_bool(x, v, path, "expect_echo", &s->expect_echo);
	conf_opt_u32(x, v, path, "in_flight", 0, 1000000, &s->in_flight);
	if (s->in_flight != 0 && !s->expect_echo)
		conf_error(x, conf_path_key(where, path, "in_flight"),
			   "needs \"expect_echo\": true (only echoes tell what is no longer in "
			   "flight)");
	service_size(x, v, path, s);
	return peer >= 0;
}

/* A datagram is one packet: a source on a datagram channel sends what fits. */
static void
service_fits(struct conf_ctx *x, const struct dp_svc_def *s, const char *path)
{
	uint32_t cap = conf_max_payload(x->c) - (uint32_t)sizeof(struct sl_frame_datagram);
	char where[CONF_WHERE_LEN];

	if (x->c->engine.chan[s->channel].kind == DP_CHAN_DATAGRAM && s->max_size > cap)
		conf_error(x, conf_path_key(where, path, "size"),
			   "%u bytes do not fit one packet: channel %u is a datagram channel and "
			   "takes at most %u bytes (smallest port MTU)",
			   s->max_size, s->channel, cap);
}

/* Who handles a channel must be clear: one echo or sink per channel (it takes every message
 * arriving there), and one source per peer and channel (the echoes it waits for, and the
 * sink's sequence numbers at the peer, are per peer and channel). */
static void
service_conflicts(struct conf_ctx *x, unsigned int i, const char *path)
{
	const struct dp_svc_def *s = &x->c->services.svc[i], *o;
	bool src = s->type == DP_SVC_SOURCE;
	char where[CONF_WHERE_LEN];

	conf_path_key(where, path, "channel");
	for (unsigned int j = 0; j < i; j++) {
		o = &x->c->services.svc[j];
		if (o->channel != s->channel || src != (o->type == DP_SVC_SOURCE))
			continue;
		if (!src) {
			conf_error(x, where,
				   "channel %u already has a%s %s service (services[%u]): "
				   "one echo or sink per channel",
				   s->channel, o->type == DP_SVC_ECHO ? "n" : "",
				   svc_names[o->type], j);
			return;
		}
		if (o->peer == s->peer) {
			conf_error(x, where,
				   "services[%u] is already a source towards peer %s on "
				   "channel %u",
				   j, x->c->peers[s->peer].name, s->channel);
			return;
		}
	}
}

static bool
service_channel(struct conf_ctx *x, const json_t *v, const char *path, struct dp_svc_def *s)
{
	char where[CONF_WHERE_LEN];
	uint64_t ch;

	if (conf_member(x, v, path, "channel", "a channel id") == NULL ||
	    !conf_opt_uint(x, v, path, "channel", 1, SL_MAX_CHANNELS - 1, &ch))
		return false;
	s->channel = (uint8_t)ch;
	if (!x->chan_known[ch]) {
		conf_error(x, conf_path_key(where, path, "channel"),
			   "channel %u is not configured (see channels)", s->channel);
		return false;
	}
	return true;
}

static void
service_entry(struct conf_ctx *x, const json_t *v, const char *path, unsigned int i)
{
	static const char *const keys[] = { "type", "channel",	   "peer",	"count", "size",
					    "rate", "expect_echo", "in_flight", NULL };
	struct dp_svc_def *s = &x->c->services.svc[i];
	char where[CONF_WHERE_LEN];
	const json_t *tv;
	bool channel_ok, peer_ok = true;
	int type = -1;

	if (!conf_is(x, v, path, JSON_OBJECT))
		return;
	conf_check_keys(x, v, path, keys);
	tv = conf_member(x, v, path, "type", "\"echo\", \"sink\" or \"source\"");
	if (tv != NULL)
		type = conf_choice(x, tv, conf_path_key(where, path, "type"), svc_names);
	channel_ok = service_channel(x, v, path, s);
	if (type < 0)
		return;
	s->type = (enum dp_svc_type)type;
	if (s->type == DP_SVC_SOURCE) {
		peer_ok = service_source(x, v, path, s);
	} else {
		for (size_t k = 0; source_keys[k] != NULL; k++) {
			if (json_object_get(v, source_keys[k]) != NULL)
				conf_error(x, conf_path_key(where, path, source_keys[k]),
					   "only a source service takes this key");
		}
	}
	if (!channel_ok)
		return;
	if (s->type == DP_SVC_SOURCE)
		service_fits(x, s, path);
	if (peer_ok)
		service_conflicts(x, i, path);
}

void
conf_services(struct conf_ctx *x, const json_t *v, const char *path)
{
	char item[CONF_WHERE_LEN];

	if (v == NULL || !conf_array(x, v, path, 0, DP_SVC_MAX))
		return;
	x->c->services.n = (unsigned int)json_array_size(v);
	for (unsigned int i = 0; i < x->c->services.n; i++)
		service_entry(x, json_array_get(v, i), conf_path_index(item, path, i), i);
}

void
conf_services_bind(struct conf *c)
{
	c->services.n_channels = c->engine.n_channels;
	c->services.max_message = c->engine.max_message;
	c->services.n_peers = c->n_peers;
}
