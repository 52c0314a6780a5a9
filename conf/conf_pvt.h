/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: configuration internals shared by conf*.c (and tests/test_conf.c).
 *
 * One conf_load() is one struct conf_ctx: the configuration being filled, the errors found so
 * far, and what one section learned that a later one checks against (the set of EAL cores, the
 * rx queue owners). Sections are parsed in order (see conf_node.c); each one reports every
 * problem it finds through conf_error() and keeps going with the default, so one run finds them
 * all.
 *
 * Value checkers (conf_uint() ...) take a JSON value and the path that names it; the conf_opt_*
 * helpers take an object, its path and a key, and leave *out untouched when the key is absent
 * (the caller stores the default first).
 */
#ifndef CONF_PVT_H
#define CONF_PVT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "conf.h"

#define CONF_WHERE_LEN	 sizeof(((struct conf_error *)0)->where)
#define CONF_LCORE_LIMIT 128 /* lcore ids 0..127 (RTE_MAX_LCORE of the default build) */

/* What conf_load() is working on. */
struct conf_ctx {
	struct conf *c;
	struct conf_errors *errs;
	const char *file;			     /* the path given to conf_load() */
	bool cores_ok;				     /* eal.cores parsed: cores[] is meaningful */
	uint64_t cores[CONF_LCORE_LIMIT / 64];	     /* eal.cores as a set of lcore ids */
	bool ports_ok;				     /* every port parsed without error */
	bool chan_known[SL_MAX_CHANNELS];	     /* channel ids that exist (0 included) */
	int chan_index[SL_MAX_CHANNELS];	     /* channels[] index of each id, or -1 */
	int rxq_owner[CONF_MAX_PORTS][CONF_MAX_RXQ]; /* index into lcores[], or -1 */
};

/* --- errors and paths (conf.c, conf_json.c) --------------------------------------------- */

/* Record one problem: where is a JSON path or file:line:column. Both are escaped
 * (sl_escape.h) as they are stored: they may quote the file. */
void conf_error(struct conf_ctx *x, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Record something accepted that the operator should fix (escaped the same way). */
void conf_warning(struct conf_ctx *x, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "parent.key", or "key" when parent is empty. Returns buf. */
const char *conf_path_key(char buf[CONF_WHERE_LEN], const char *parent, const char *key);
/* "parent[i]". Returns buf. */
const char *conf_path_index(char buf[CONF_WHERE_LEN], const char *parent, size_t i);

/* --- value checks (conf_json.c): report and return false when the value is wrong --------- */

/* "an integer", "a string" ... for messages. */
const char *conf_type_name(const json_t *v);

bool conf_is(struct conf_ctx *x, const json_t *v, const char *where, json_type type);
bool conf_uint(struct conf_ctx *x, const json_t *v, const char *where, uint64_t min, uint64_t max,
	       uint64_t *out);
bool conf_number(struct conf_ctx *x, const json_t *v, const char *where, double min, double max,
		 double *out);
bool conf_bool(struct conf_ctx *x, const json_t *v, const char *where, bool *out);
/* A string of 1..max_len bytes with no control characters, copied into out[size]. */
bool conf_string(struct conf_ctx *x, const json_t *v, const char *where, size_t max_len, char *out,
		 size_t size);
/* The index of the string v in names[] (NULL-terminated), or -1 after reporting. */
int conf_choice(struct conf_ctx *x, const json_t *v, const char *where, const char *const names[]);
/* A name of 1..CONF_NAME_LEN-1 characters from [A-Za-z0-9_.-]. */
bool conf_name(struct conf_ctx *x, const json_t *v, const char *where, char out[CONF_NAME_LEN]);

/* --- members of an object ------------------------------------------------------------------ */

/* Report every key of obj that is not in keys[] (NULL-terminated). */
void conf_check_keys(struct conf_ctx *x, const json_t *obj, const char *path,
		     const char *const keys[]);
/* obj[key]; when absent and what is not NULL, reports "missing: <what> is required". */
json_t *conf_member(struct conf_ctx *x, const json_t *obj, const char *path, const char *key,
		    const char *what);

bool conf_opt_uint(struct conf_ctx *x, const json_t *obj, const char *path, const char *key,
		   uint64_t min, uint64_t max, uint64_t *out);
bool conf_opt_u32(struct conf_ctx *x, const json_t *obj, const char *path, const char *key,
		  uint32_t min, uint32_t max, uint32_t *out);
bool conf_opt_u16(struct conf_ctx *x, const json_t *obj, const char *path, const char *key,
		  uint16_t min, uint16_t max, uint16_t *out);
bool conf_opt_bool(struct conf_ctx *x, const json_t *obj, const char *path, const char *key,
		   bool *out);
bool conf_opt_number(struct conf_ctx *x, const json_t *obj, const char *path, const char *key,
		     double min, double max, double *out);
bool conf_opt_string(struct conf_ctx *x, const json_t *obj, const char *path, const char *key,
		     size_t max_len, char *out, size_t size);
/* *out keeps its value when key is absent. */
bool conf_opt_choice(struct conf_ctx *x, const json_t *obj, const char *path, const char *key,
		     const char *const names[], int *out);

/* An array of at most max elements (at least min); reports and returns false otherwise. */
bool conf_array(struct conf_ctx *x, const json_t *v, const char *where, size_t min, size_t max);

/* --- addresses (conf_net.c) ---------------------------------------------------------------- */

/* Dotted-quad IPv4 address at the start of s: four decimal numbers 0..255 without leading
 * zeros. Returns the first character after it, or NULL. */
const char *conf_parse_ipv4(const char *s, uint32_t *ip);
/* "a.b.c.d" into "buf" (at least 16 bytes). Returns buf. */
const char *conf_ipv4_str(uint32_t ip, char *buf);

/* An endpoint "a.b.c.d:port" or "<base64 key>@a.b.c.d:port" in s (modified), reported at
 * where: a host address (not 0/8, loopback, multicast, broadcast or reserved) and a port
 * 1..65535 into *ip and *port. *key: 0 no key, 1 a usable one (in pub), -1 an unusable one
 * (reported). True if the address is good. */
bool conf_endpoint(struct conf_ctx *x, const char *where, char *s, uint8_t pub[SL_KEY_LEN],
		   int *key, uint32_t *ip, uint16_t *port);
/* A key a handshake can complete with (not a low-order point); reported at where if not. */
bool conf_key_usable(struct conf_ctx *x, const char *where, const uint8_t pub[SL_KEY_LEN]);
/* The public keys (base64 strings) of the array arr at where, already checked to fit keys[]:
 * each a usable key, each once; every problem reported at where[i]. */
void conf_key_list(struct conf_ctx *x, const json_t *arr, const char *where,
		   uint8_t (*keys)[SL_KEY_LEN]);
/* An endpoint's address is not this node's (a port's address) nor a port subnet's network or
 * broadcast address, and some port reaches it (on its subnet, or it has a gateway). */
void conf_endpoint_reachable(struct conf_ctx *x, const char *where, uint32_t ip);
/* A path from the configuration, relative ones from the configuration file's directory, into
 * out[size]; reported at where (what: "the key file") if it does not fit. */
bool conf_resolve_path(struct conf_ctx *x, const char *file, const char *where, const char *what,
		       char *out, size_t size);

/* Index of the port or peer with that name, or -1. */
int conf_port_index(const struct conf *c, const char *name);
int conf_peer_index(const struct conf *c, const char *name);

/* Frame bytes per packet on the smallest MTU of the ports (1500 -> 1440). */
uint32_t conf_max_payload(const struct conf *c);

/* --- sections, in the order conf_load() runs them ------------------------------------------ */
void conf_identity(struct conf_ctx *x, const json_t *v, const char *path);
void conf_eal(struct conf_ctx *x, const json_t *v, const char *path);
void conf_limits(struct conf_ctx *x, const json_t *v, const char *path);
void conf_ports(struct conf_ctx *x, const json_t *v, const char *path);
void conf_channels(struct conf_ctx *x, const json_t *v, const char *path);
void conf_lcores(struct conf_ctx *x, const json_t *v, const char *path);
void conf_peers(struct conf_ctx *x, const json_t *v, const char *path);
void conf_services(struct conf_ctx *x, const json_t *v, const char *path);
/* conf_api.c */
void conf_api(struct conf_ctx *x, const json_t *v, const char *path);
/* conf_discovery.c; after peers and limits */
void conf_discovery(struct conf_ctx *x, const json_t *v, const char *path);
/* conf_relay.c; after peers: the relay section, and the peers' "via" resolved */
void conf_relay(struct conf_ctx *x, const json_t *v, const char *path);
/* What the services are checked against at run time (dp_svc_config): the engine's channels and
 * largest message, the number of peers. After conf_engine(). */
void conf_services_bind(struct conf *c);
/* limits + channels + ports -> c->engine, then dp_conn_config_check(). */
void conf_engine(struct conf_ctx *x);

/* The JSON path to blame for a dp_conn_config_check() message about c->engine. */
const char *conf_engine_where(const struct conf_ctx *x, const char *why, char buf[CONF_WHERE_LEN]);

/* Parse an EAL core list ("0", "0,1", "0-3", "0-1,4"): the set of lcore ids into set[]. NULL
 * on success, else what is wrong. */
const char *conf_parse_cores(const char *s, uint64_t set[CONF_LCORE_LIMIT / 64]);

#endif /* CONF_PVT_H */
