/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: relaying in a configuration — the relay section (relaying for others) and what the
 * peers say of relays ("via", "relay_reserve"); see conf_pvt.h and docs/configuration.md.
 *
 *   "relay": { "enabled": true, "max_circuits": 64, "max_circuits_per_node": 8,
 *              "max_reservations": 64, "circuit_seconds": 3600,
 *              "circuit_bytes": 1073741824, "allow": [ "<public key>", ... ] }
 *   "peers": [ { "name": "r", "endpoint": "<key>@198.18.1.1:51820", "relay_reserve": true },
 *              { "name": "b", "public_key": "<key>", "via": "r" } ]
 */
#include <string.h>

#include "conf_pvt.h"

#define DAY_S 86400u

/* "allow": the keys of the only nodes that may reserve and ask for circuits. */
static void
relay_allow(struct conf_ctx *x, const json_t *v, const char *path)
{
	struct conf_relay *r = &x->c->relay;
	char where[CONF_WHERE_LEN];
	const json_t *av = json_object_get(v, "allow");

	conf_path_key(where, path, "allow");
	if (av == NULL || !conf_array(x, av, where, 1, CONF_MAX_RELAY_ALLOW))
		return;
	r->n_allow = (unsigned int)json_array_size(av);
	conf_key_list(x, av, where, r->allow);
}

static void
relay_section(struct conf_ctx *x, const json_t *v, const char *path)
{
	static const char *const keys[] = {
		"enabled",
		"max_circuits",
		"max_circuits_per_node",
		"max_reservations",
		"circuit_seconds",
		"circuit_bytes",
		"allow",
		NULL,
	};
	struct conf_relay *r = &x->c->relay;
	char where[CONF_WHERE_LEN];

	memset(r, 0, sizeof(*r));
	r->max_circuits = 64;
	r->max_circuits_per_node = 8;
	r->max_reservations = 64;
	r->circuit_seconds = 3600;
	r->circuit_bytes = 1ull << 30;
	if (v == NULL || !conf_is(x, v, path, JSON_OBJECT))
		return;
	conf_check_keys(x, v, path, keys);
	r->enabled = true;
	conf_opt_bool(x, v, path, "enabled", &r->enabled);
	conf_opt_u32(x, v, path, "max_circuits", 1, 65536, &r->max_circuits);
	if (conf_opt_u32(x, v, path, "max_circuits_per_node", 1, 65536,
			 &r->max_circuits_per_node) &&
	    r->max_circuits_per_node > r->max_circuits)
		conf_error(x, conf_path_key(where, path, "max_circuits_per_node"),
			   "%u is more than max_circuits (%u)", r->max_circuits_per_node,
			   r->max_circuits);
	conf_opt_u32(x, v, path, "max_reservations", 1, 65536, &r->max_reservations);
	conf_opt_u32(x, v, path, "circuit_seconds", 0, 30 * DAY_S, &r->circuit_seconds);
	conf_opt_uint(x, v, path, "circuit_bytes", 0, 1ull << 50, &r->circuit_bytes);
	relay_allow(x, v, path);
}

/* each circuit takes two of the forwarding table's slots on every lcore, ids like connection
 * ids: the largest max_circuits fits */
static_assert(2u * 65536 <= SL_CONNID_MAX_SLOTS, "relay.max_circuits fits the circuit ids");

/* peers[i].via: the name of another peer with an endpoint of its own, reached directly. */
static void
peer_via(struct conf_ctx *x, unsigned int i)
{
	struct conf_peer *pe = &x->c->peers[i];
	char path[CONF_WHERE_LEN], where[CONF_WHERE_LEN];
	int k;

	conf_path_key(where, conf_path_index(path, "peers", i), "via");
	k = conf_peer_index(x->c, pe->via_name);
	if (k < 0) {
		conf_error(x, where, "no peer named \"%s\"", pe->via_name);
		return;
	}
	if ((unsigned int)k == i) {
		conf_error(x, where, "a peer cannot be its own relay");
		return;
	}
	if (x->c->peers[k].via_name[0] != '\0' || x->c->peers[k].port == 0) {
		conf_error(x, where,
			   "peers[%d] (\"%s\") is itself reached through a relay: a relay needs an "
			   "endpoint and no \"via\"",
			   k, pe->via_name);
		return;
	}
	pe->has_via = true;
	pe->via = (uint16_t)k;
}

/* After the peers: their relays resolved, and "relay_reserve" only where it can be kept. */
static void
relay_peers(struct conf_ctx *x)
{
	char path[CONF_WHERE_LEN], where[CONF_WHERE_LEN];

	for (unsigned int i = 0; i < x->c->n_peers; i++) {
		const struct conf_peer *pe = &x->c->peers[i];

		if (pe->via_name[0] != '\0')
			peer_via(x, i);
		if (pe->relay_reserve && pe->via_name[0] != '\0')
			conf_error(x,
				   conf_path_key(where, conf_path_index(path, "peers", i),
						 "relay_reserve"),
				   "a reservation is kept at a relay this node reaches directly, "
				   "not at one behind \"via\"");
	}
}

void
conf_relay(struct conf_ctx *x, const json_t *v, const char *path)
{
	relay_section(x, v, path);
	relay_peers(x);
}
