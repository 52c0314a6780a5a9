/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the discovery section of a configuration — seeds, seed mode, the address book file,
 * the connection caps, the inbound policy and peer exchange (see conf_pvt.h and
 * docs/configuration.md).
 *
 *   "discovery": { "seeds": [ "<key>@198.18.0.1:4789", "198.18.0.2:4789" ],
 *                  "seed_mode": false, "book": "book.dat", "save_interval_s": 60,
 *                  "max_inbound": 32, "max_outbound": 8, "inbound": "open",
 *                  "pex": { "interval_s": 30, "max_addrs": 64, "allow": [ "benchmark" ] } }
 *
 * Absent, nothing of it applies: the node dials its configured peers and nobody else, as it
 * did before the section existed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "conf_pvt.h"

#define DAY_S 86400u

/* seeds[i]: an endpoint like a peer's, and not the same as an earlier seed's. */
static void
seed_entry(struct conf_ctx *x, const json_t *v, const char *where, unsigned int i)
{
	struct conf_discovery *d = &x->c->discovery;
	struct conf_seed *sd = &d->seeds[i];
	char s[128];
	int key = 0;

	if (!conf_string(x, v, where, sizeof(s) - 1, s, sizeof(s)))
		return;
	if (!conf_endpoint(x, where, s, sd->pub, &key, &sd->ip, &sd->port) || key < 0)
		return;
	sd->has_key = key > 0;
	conf_endpoint_reachable(x, where, sd->ip);
	for (unsigned int j = 0; sd->has_key && j < x->c->n_peers; j++)
		if (memcmp(x->c->peers[j].pub, sd->pub, SL_KEY_LEN) == 0) {
			conf_error(x, where,
				   "the public key of peers[%u] (\"%s\"): a configured peer is "
				   "dialled already",
				   j, x->c->peers[j].name);
			return;
		}
	for (unsigned int j = 0; j < i; j++) {
		const struct conf_seed *o = &d->seeds[j];

		if (o->ip == sd->ip && o->port == sd->port) {
			conf_error(x, where, "the same address as discovery.seeds[%u]", j);
			return;
		}
		if (o->has_key && sd->has_key && memcmp(o->pub, sd->pub, SL_KEY_LEN) == 0) {
			conf_error(x, where, "the same public key as discovery.seeds[%u]", j);
			return;
		}
	}
}

static void
discovery_seeds(struct conf_ctx *x, const json_t *v, const char *path)
{
	char where[CONF_WHERE_LEN], item[CONF_WHERE_LEN];
	const json_t *sv = json_object_get(v, "seeds");

	conf_path_key(where, path, "seeds");
	if (sv == NULL || !conf_array(x, sv, where, 0, CONF_MAX_SEEDS))
		return;
	x->c->discovery.n_seeds = (unsigned int)json_array_size(sv);
	for (unsigned int i = 0; i < x->c->discovery.n_seeds; i++)
		seed_entry(x, json_array_get(sv, i), conf_path_index(item, where, i), i);
}

/* "book": a file in a directory that exists (the file itself is made at the first save). */
static void
discovery_book(struct conf_ctx *x, const json_t *v, const char *path)
{
	struct conf_discovery *d = &x->c->discovery;
	char where[CONF_WHERE_LEN], file[CONF_PATH_LEN] = "", dir[CONF_PATH_LEN];
	struct stat st;
	char *slash;

	if (json_object_get(v, "book") == NULL ||
	    !conf_opt_string(x, v, path, "book", sizeof(file) - 1, file, sizeof(file)))
		return; /* absent: the book lives in memory only */
	conf_path_key(where, path, "book");
	if (!conf_resolve_path(x, file, where, "the address book", d->book, sizeof(d->book)))
		return;
	snprintf(dir, sizeof(dir), "%s", d->book);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir ? 1 : 0] = '\0';
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		conf_error(x, where, "%s: its directory %s %s", d->book, dir,
			   stat(dir, &st) != 0 ? "does not exist" : "is not a directory");
	else if (stat(d->book, &st) == 0 && !S_ISREG(st.st_mode))
		conf_error(x, where, "%s exists and is not a regular file", d->book);
}

/* "inbound": "open", or the keys of the only nodes that may dial us. */
static void
discovery_inbound(struct conf_ctx *x, const json_t *v, const char *path)
{
	struct conf_discovery *d = &x->c->discovery;
	char where[CONF_WHERE_LEN];
	const json_t *iv = json_object_get(v, "inbound");

	conf_path_key(where, path, "inbound");
	if (iv == NULL)
		return;
	if (json_is_string(iv)) {
		if (strcmp(json_string_value(iv), "open") != 0)
			conf_error(x, where, "expected \"open\" or an array of public keys");
		return;
	}
	if (!conf_array(x, iv, where, 0, CONF_MAX_INBOUND_ALLOW))
		return;
	d->inbound_open = false;
	d->n_inbound_allow = (unsigned int)json_array_size(iv);
	conf_key_list(x, iv, where, d->inbound_allow);
}

/* "allow": address classes peer exchange accepts besides routable ones, each once. */
static void
pex_allow(struct conf_ctx *x, const json_t *v, const char *path, uint32_t *allow)
{
	static const char *const names[] = { "private", "benchmark", "loopback", NULL };
	char where[CONF_WHERE_LEN], item[CONF_WHERE_LEN];
	const json_t *av = json_object_get(v, "allow");

	conf_path_key(where, path, "allow");
	if (av == NULL || !conf_array(x, av, where, 0, 3))
		return;
	for (size_t i = 0; i < json_array_size(av); i++) {
		int k = conf_choice(x, json_array_get(av, i), conf_path_index(item, where, i),
				    names);

		if (k < 0)
			continue;
		if (*allow & (1u << k))
			conf_error(x, item, "\"%s\" is already in the list", names[k]);
		*allow |= 1u << k;
	}
}

static_assert(CONF_PEX_ALLOW_PRIVATE == 1u << 0 && CONF_PEX_ALLOW_BENCHMARK == 1u << 1 &&
		      CONF_PEX_ALLOW_LOOPBACK == 1u << 2,
	      "pex_allow(): bit k is names[k]");

static void
discovery_pex(struct conf_ctx *x, const json_t *v, const char *path)
{
	static const char *const keys[] = { "interval_s", "max_addrs", "allow", NULL };
	struct conf_pex *p = &x->c->discovery.pex;
	char where[CONF_WHERE_LEN];
	const json_t *pv = json_object_get(v, "pex");

	conf_path_key(where, path, "pex");
	if (pv == NULL || !conf_is(x, pv, where, JSON_OBJECT))
		return;
	conf_check_keys(x, pv, where, keys);
	conf_opt_u32(x, pv, where, "interval_s", 1, DAY_S, &p->interval_s);
	conf_opt_u32(x, pv, where, "max_addrs", 1, SL_PEX_MAX_ADDRS, &p->max_addrs);
	pex_allow(x, pv, where, &p->allow);
}

/* The caps must fit the session table (limits.max_sessions). */
static void
discovery_caps(struct conf_ctx *x, const json_t *v, const char *path)
{
	struct conf_discovery *d = &x->c->discovery;
	char where[CONF_WHERE_LEN];
	bool ok;

	ok = conf_opt_u32(x, v, path, "max_inbound", 0, 65536, &d->max_inbound);
	ok &= conf_opt_u32(x, v, path, "max_outbound", 0, 1024, &d->max_outbound);
	if (ok && (uint64_t)d->max_inbound + d->max_outbound > x->c->limits.max_sessions)
		conf_error(x, conf_path_key(where, path, "max_inbound"),
			   "max_inbound + max_outbound (%u) is more than limits.max_sessions (%u)",
			   d->max_inbound + d->max_outbound, x->c->limits.max_sessions);
}

void
conf_discovery(struct conf_ctx *x, const json_t *v, const char *path)
{
	static const char *const keys[] = {
		"seeds",   "seed_mode", "book", "save_interval_s", "max_inbound", "max_outbound",
		"inbound", "pex",	NULL,
	};
	struct conf_discovery *d = &x->c->discovery;

	memset(d, 0, sizeof(*d));
	d->save_interval_s = 60;
	d->max_inbound = 32;
	d->max_outbound = 8;
	d->inbound_open = true;
	d->pex.interval_s = 30;
	d->pex.max_addrs = 64;
	if (v == NULL || !conf_is(x, v, path, JSON_OBJECT))
		return; /* no section: no discovery */
	d->enabled = true;
	conf_check_keys(x, v, path, keys);
	discovery_seeds(x, v, path);
	conf_opt_bool(x, v, path, "seed_mode", &d->seed_mode);
	discovery_book(x, v, path);
	conf_opt_u32(x, v, path, "save_interval_s", 1, DAY_S, &d->save_interval_s);
	discovery_caps(x, v, path);
	discovery_inbound(x, v, path);
	discovery_pex(x, v, path);
}
