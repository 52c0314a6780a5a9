/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: channels, and the reliable engine's settings derived from limits, channels and
 * ports (struct dp_conn_config), checked by the engine itself. See conf_pvt.h.
 */
#include <stdio.h>
#include <string.h>

#include "conf_pvt.h"

#define MS_NS		  1000000ull
#define CONF_MIN_CONN_WIN (16u << 20) /* the engine's default connection window */
#define CONF_MAX_QUEUE	  (1u << 30)

uint32_t
conf_max_payload(const struct conf *c)
{
	uint32_t mtu = SL_ETH_MTU;

	for (unsigned int i = 0; i < c->n_ports; i++) {
		if (i == 0 || c->ports[i].mtu < mtu)
			mtu = c->ports[i].mtu;
	}
	return mtu - SL_IPV4_UDP_OVERHEAD - SL_RELAY_HDR_LEN - SL_DATA_OVERHEAD;
}

/* --- channels ------------------------------------------------------------------------------ */

static const char *const kind_names[] = { "reliable", "datagram", NULL };

/* A channel's queue must take one message: a whole one (reliable) or one packet (datagram). */
static void
channel_queue(struct conf_ctx *x, const char *path, const struct dp_chan_config *ch)
{
	const struct conf *c = x->c;
	char where[CONF_WHERE_LEN];

	conf_path_key(where, path, "queue_bytes");
	if (ch->kind == DP_CHAN_RELIABLE && ch->queue_limit < c->limits.max_message)
		conf_error(x, where,
			   "%u is less than limits.max_message (%u): a reliable "
			   "channel's queue must hold one whole message",
			   ch->queue_limit, c->limits.max_message);
	else if (ch->kind == DP_CHAN_DATAGRAM && ch->queue_limit < conf_max_payload(c))
		conf_error(x, where, "%u is less than one packet (%u bytes of frames)",
			   ch->queue_limit, conf_max_payload(c));
}

/* The "id" of channels[i]: 1..15, not seen before. 0 if it is not usable. */
static unsigned int
channel_id(struct conf_ctx *x, const json_t *v, const char *path, unsigned int i)
{
	char where[CONF_WHERE_LEN];
	uint64_t id;

	if (conf_member(x, v, path, "id", "an integer 1..15") == NULL ||
	    !conf_opt_uint(x, v, path, "id", 1, SL_MAX_CHANNELS - 1, &id))
		return 0;
	if (x->chan_known[id]) {
		conf_error(x, conf_path_key(where, path, "id"),
			   "channel %u is already defined by channels[%d]", (unsigned int)id,
			   x->chan_index[id]);
		return 0;
	}
	x->chan_known[id] = true;
	x->chan_index[id] = (int)i;
	return (unsigned int)id;
}

static void
channel_entry(struct conf_ctx *x, const json_t *v, const char *path, unsigned int i)
{
	static const char *const keys[] = {
		"id", "kind", "priority", "queue_bytes", "ttl_ms", NULL
	};
	struct dp_conn_config *e = &x->c->engine;
	struct dp_chan_config ch = { .kind = DP_CHAN_RELIABLE };
	uint64_t ttl_ms = 0, prio = 0;
	unsigned int id;
	int kind = 0;
	bool ok;

	if (!conf_is(x, v, path, JSON_OBJECT))
		return;
	conf_check_keys(x, v, path, keys);
	id = channel_id(x, v, path, i);
	ok = conf_opt_choice(x, v, path, "kind", kind_names, &kind);
	ch.kind = kind == 0 ? DP_CHAN_RELIABLE : DP_CHAN_DATAGRAM;
	conf_opt_uint(x, v, path, "priority", 0, 7, &prio);
	ch.priority = (uint8_t)prio;
	ch.queue_limit = x->c->limits.queue_bytes;
	ok &= conf_opt_u32(x, v, path, "queue_bytes", 1, CONF_MAX_QUEUE, &ch.queue_limit);
	conf_opt_uint(x, v, path, "ttl_ms", 0, 86400000, &ttl_ms);
	ch.ttl_ns = ttl_ms * MS_NS;
	if (ok)
		channel_queue(x, path, &ch);
	if (id == 0)
		return;
	e->chan[id] = ch;
	if (id >= e->n_channels)
		e->n_channels = (uint8_t)(id + 1);
}

void
conf_channels(struct conf_ctx *x, const json_t *v, const char *path)
{
	struct dp_conn_config *e = &x->c->engine;
	char item[CONF_WHERE_LEN];
	unsigned int i;

	/* channel 0 is the control plane's; without a section, channels 1..7 as the engine's
	 * defaults have them; every queue takes limits.queue_bytes */
	dp_conn_config_defaults(e);
	for (i = 0; i < SL_MAX_CHANNELS; i++)
		x->chan_index[i] = -1;
	for (i = 0; i < e->n_channels; i++) {
		e->chan[i].queue_limit = x->c->limits.queue_bytes;
		x->chan_known[i] = true;
	}
	if (v == NULL || !conf_array(x, v, path, 0, SL_MAX_CHANNELS - 1))
		return;
	for (i = 1; i < SL_MAX_CHANNELS; i++) {
		memset(&e->chan[i], 0, sizeof(e->chan[i])); /* DP_CHAN_UNUSED */
		x->chan_known[i] = false;
	}
	e->n_channels = 1;
	for (i = 0; i < json_array_size(v); i++)
		channel_entry(x, json_array_get(v, i), conf_path_index(item, path, i), i);
}

/* --- the engine ---------------------------------------------------------------------------- */

/* The first used channel that fails the engine's check on its own. */
static int
failing_channel(const struct dp_conn_config *cfg)
{
	struct dp_conn_config one;

	for (unsigned int id = 1; id < cfg->n_channels; id++) {
		if (cfg->chan[id].kind == DP_CHAN_UNUSED)
			continue;
		one = *cfg;
		for (unsigned int j = 1; j < id; j++)
			one.chan[j].kind = DP_CHAN_UNUSED;
		one.n_channels = (uint8_t)(id + 1);
		if (dp_conn_config_check(&one) != NULL)
			return (int)id;
	}
	return -1;
}

const char *
conf_engine_where(const struct conf_ctx *x, const char *why, char buf[CONF_WHERE_LEN])
{
	static const struct {
		const char *field, *path;
	} map[] = {
		{ "max_payload", "ports" },
		{ "max_message", "limits.max_message" },
		{ "chan_window", "limits.window_bytes" },
		{ "conn_window", "limits.window_bytes" },
		{ "n_channels", "channels" },
		{ "chan[0]", "limits.queue_bytes" },
	};
	int id;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strncmp(why, map[i].field, strlen(map[i].field)) == 0)
			return map[i].path;
	}
	if (strncmp(why, "chan[]", 6) != 0)
		return "limits";
	id = failing_channel(&x->c->engine);
	if (id < 0 || x->chan_index[id] < 0)
		return "channels";
	snprintf(buf, CONF_WHERE_LEN, "channels[%d]%s", x->chan_index[id],
		 strstr(why, "queue_limit") != NULL ? ".queue_bytes"
		 : strstr(why, "priority") != NULL  ? ".priority"
		 : strstr(why, "kind") != NULL	    ? ".kind"
						    : "");
	return buf;
}

void
conf_engine(struct conf_ctx *x)
{
	struct conf *c = x->c;
	struct dp_conn_config *e = &c->engine;
	char where[CONF_WHERE_LEN];
	const char *why;

	e->max_payload = conf_max_payload(c);
	e->max_message = c->limits.max_message;
	e->chan_window = c->limits.window_bytes;
	e->conn_window = 4 * c->limits.window_bytes;
	if (e->conn_window < CONF_MIN_CONN_WIN)
		e->conn_window = CONF_MIN_CONN_WIN;
	e->idle_timeout_ns = c->limits.idle_timeout_ns;
	e->keepalive_ns = c->limits.keepalive_ns;
	e->unsent_limit = c->limits.unsent_bytes;
	e->chan[SL_CONTROL_CHANNEL].queue_limit = c->limits.queue_bytes;
	why = dp_conn_config_check(e);
	if (why != NULL)
		conf_error(x, conf_engine_where(x, why, where),
			   "the reliable engine refuses these settings: %s", why);
}
