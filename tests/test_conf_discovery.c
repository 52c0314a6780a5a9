/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the discovery section of a configuration and the per-peer discovery keys — absent,
 * nothing changes; every key parsed, with its default; every wrong value refused with its JSON
 * path, the only problem found (a table); our own key as a seed or in the allow-list refused
 * once the identity is known; the top-level peers_only, which works with discovery.inbound.
 * The broken files in tests/conf/ (discovery-*.json) are checked by
 * test_conf with the others.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "conf.h"
#include "conf_text.h"
#include "sl_dh.h"
#include "sl_test.h"

#define KEY_B "jrlNMIJECJweqCnOx26aZ7nVs2sVROlDjGgluSwVbGE="
#define KEY_C "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define ZERO  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

/* MINIMAL with more top-level members (text starting with ", "). */
static struct conf *
load_with(const char *more, struct conf_errors *errs)
{
	char text[4096], dir[64];

	snprintf(text, sizeof(text), "%s%s }\n", MINIMAL_HEAD, more);
	return load_text(text, errs, dir);
}

/* Without the section: no discovery, and the peers keep today's behaviour. */
static void
test_absent(void)
{
	struct conf_errors errs;
	struct conf *c = load_with(", \"peers\": [ { \"name\": \"b\", \"endpoint\": "
				   "\"" KEY_B "@198.18.0.2:4789\" } ]",
				   &errs);

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT(!c->discovery.enabled);
	CU_ASSERT_EQUAL(c->discovery.n_seeds, 0);
	CU_ASSERT(c->peers[0].persistent && !c->peers[0].unconditional);
	conf_free(c);
}

static void
test_every_key(void)
{
	static const char more[] =
		", \"peers\": [ { \"name\": \"b\", \"endpoint\": \"198.18.0.2:4789\","
		"    \"public_key\": \"" KEY_B
		"\", \"persistent\": false, \"unconditional\": true } ],"
		"  \"discovery\": { \"seeds\": [ \"" KEY_C
		"@198.18.0.3:4790\", \"198.18.0.4:4789\" ],"
		"    \"seed_mode\": true, \"book\": \"addr.book\", \"save_interval_s\": 5,"
		"    \"max_inbound\": 10, \"max_outbound\": 3, \"inbound\": [ \"" KEY_B "\" ],"
		"    \"pex\": { \"interval_s\": 2, \"max_addrs\": 16,"
		"             \"allow\": [ \"benchmark\", \"loopback\" ] } }";
	struct conf_errors errs;
	const struct conf_discovery *d;
	uint8_t kc[SL_KEY_LEN];
	struct conf *c = load_with(more, &errs);

	if (c == NULL)
		print_errors("every key", &errs);
	CU_ASSERT_FATAL(c != NULL);
	d = &c->discovery;
	CU_ASSERT(d->enabled && d->seed_mode);
	CU_ASSERT_EQUAL_FATAL(d->n_seeds, 2);
	CU_ASSERT_FATAL(conf_key_from_base64(KEY_C, kc) == 0);
	CU_ASSERT(d->seeds[0].has_key && memcmp(d->seeds[0].pub, kc, SL_KEY_LEN) == 0);
	CU_ASSERT(d->seeds[0].ip == 0xc6120003 && d->seeds[0].port == 4790);
	CU_ASSERT(!d->seeds[1].has_key && d->seeds[1].ip == 0xc6120004 && d->seeds[1].port == 4789);
	CU_ASSERT(strncmp(d->book, "/tmp/sluice-test-conf-", 22) == 0);
	CU_ASSERT(strcmp(d->book + strlen(d->book) - 10, "/addr.book") == 0);
	CU_ASSERT(d->save_interval_s == 5 && d->max_inbound == 10 && d->max_outbound == 3);
	CU_ASSERT(!d->inbound_open && d->n_inbound_allow == 1);
	CU_ASSERT(memcmp(d->inbound_allow[0], c->peers[0].pub, SL_KEY_LEN) == 0);
	CU_ASSERT(d->pex.interval_s == 2 && d->pex.max_addrs == 16);
	CU_ASSERT_EQUAL(d->pex.allow, CONF_PEX_ALLOW_BENCHMARK | CONF_PEX_ALLOW_LOOPBACK);
	CU_ASSERT(!c->peers[0].persistent && c->peers[0].unconditional);
	conf_free(c);
}

static void
test_defaults(void)
{
	struct conf_errors errs;
	const struct conf_discovery *d;
	struct conf *c = load_with(", \"discovery\": {}", &errs);

	CU_ASSERT_FATAL(c != NULL);
	d = &c->discovery;
	CU_ASSERT(d->enabled && !d->seed_mode && d->n_seeds == 0 && d->book[0] == '\0');
	CU_ASSERT(d->save_interval_s == 60 && d->max_inbound == 32 && d->max_outbound == 8);
	CU_ASSERT(d->inbound_open && d->n_inbound_allow == 0);
	CU_ASSERT(d->pex.interval_s == 30 && d->pex.max_addrs == 64 && d->pex.allow == 0);
	conf_free(c);
	/* "open" said explicitly, an empty allow-list (nobody may dial us) */
	c = load_with(", \"discovery\": { \"inbound\": \"open\" }", &errs);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT(c->discovery.inbound_open);
	conf_free(c);
	c = load_with(", \"discovery\": { \"inbound\": [] }", &errs);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT(!c->discovery.inbound_open && c->discovery.n_inbound_allow == 0);
	conf_free(c);
}

/* Each row: one wrong value, the one problem reported (where, part of the message). */
static void
test_refused(void)
{
	static const struct {
		const char *more, *where, *message;
	} rows[] = {
		{ ", \"discovery\": { \"seeds\": [ \"198.18.0.2\" ] }", "discovery.seeds[0]",
		  "\"198.18.0.2\" is not an endpoint" },
		{ ", \"peers_only\": 1", "peers_only", "expected true or false, got an integer" },
		{ ", \"discovery\": { \"seeds\": [ \"198.18.0.2:0\" ] }", "discovery.seeds[0]",
		  "not an endpoint" },
		{ ", \"discovery\": { \"seeds\": [ \"224.0.0.1:4789\" ] }", "discovery.seeds[0]",
		  "is a multicast address" },
		{ ", \"discovery\": { \"seeds\": [ \"0.0.0.0:4789\" ] }", "discovery.seeds[0]",
		  "is in 0.0.0.0/8" },
		{ ", \"discovery\": { \"seeds\": [ \"255.255.255.255:4789\" ] }",
		  "discovery.seeds[0]", "broadcast" },
		{ ", \"discovery\": { \"seeds\": [ \"198.18.0.255:4789\" ] }", "discovery.seeds[0]",
		  "is the broadcast address of ports[0]'s subnet" },
		{ ", \"discovery\": { \"seeds\": [ \"198.18.0.1:4789\" ] }", "discovery.seeds[0]",
		  "is the address of ports[0]" },
		{ ", \"discovery\": { \"seeds\": [ \"10.0.0.1:4789\" ] }", "discovery.seeds[0]",
		  "is on no port's subnet" },
		{ ", \"discovery\": { \"seeds\": [ \"" ZERO "@198.18.0.2:4789\" ] }",
		  "discovery.seeds[0]", "low-order point" },
		{ ", \"discovery\": { \"seeds\": [ \"abc@198.18.0.2:4789\" ] }",
		  "discovery.seeds[0]", "not 44 characters of base64" },
		{ ", \"discovery\": { \"seeds\": [ \"198.18.0.2:4789\", \"" KEY_B
		  "@198.18.0.2:4789\" ] }",
		  "discovery.seeds[1]", "the same address as discovery.seeds[0]" },
		{ ", \"discovery\": { \"seeds\": [ \"" KEY_B "@198.18.0.2:4789\", \"" KEY_B
		  "@198.18.0.3:4789\" ] }",
		  "discovery.seeds[1]", "the same public key as discovery.seeds[0]" },
		{ ", \"peers\": [ { \"name\": \"b\", \"endpoint\": \"" KEY_B
		  "@198.18.0.2:4789\" } ],"
		  " \"discovery\": { \"seeds\": [ \"" KEY_B "@198.18.0.3:4789\" ] }",
		  "discovery.seeds[0]", "the public key of peers[0] (\"b\")" },
		{ ", \"discovery\": { \"seeds\": \"198.18.0.2:4789\" }", "discovery.seeds",
		  "expected an array" },
		{ ", \"discovery\": { \"seeds\": [ 7 ] }", "discovery.seeds[0]",
		  "expected a string" },
		{ ", \"discovery\": { \"seed_mode\": 1 }", "discovery.seed_mode", "expected" },
		{ ", \"discovery\": { \"save_interval_s\": 0 }", "discovery.save_interval_s", "" },
		{ ", \"discovery\": { \"max_outbound\": 2000 }", "discovery.max_outbound", "" },
		{ ", \"limits\": { \"max_sessions\": 16 }, \"discovery\": { \"max_inbound\": 10, "
		  "\"max_outbound\": 8 }",
		  "discovery.max_inbound", "(18) is more than limits.max_sessions (16)" },
		{ ", \"discovery\": { \"inbound\": \"closed\" }", "discovery.inbound",
		  "expected \"open\" or an array of public keys" },
		{ ", \"discovery\": { \"inbound\": [ \"xyz\" ] }", "discovery.inbound[0]",
		  "not a public key" },
		{ ", \"discovery\": { \"inbound\": [ \"" ZERO "\" ] }", "discovery.inbound[0]",
		  "low-order point" },
		{ ", \"discovery\": { \"inbound\": [ \"" KEY_B "\", \"" KEY_B "\" ] }",
		  "discovery.inbound[1]", "the same key as discovery.inbound[0]" },
		{ ", \"discovery\": { \"book\": \"/nonexistent/dir/book\" }", "discovery.book",
		  "its directory /nonexistent/dir does not exist" },
		{ ", \"discovery\": { \"book\": \"/tmp\" }", "discovery.book",
		  "/tmp exists and is not a regular file" },
		{ ", \"discovery\": { \"book\": \"\" }", "discovery.book", "" },
		{ ", \"discovery\": { \"pex\": { \"max_addrs\": 65 } }", "discovery.pex.max_addrs",
		  "" },
		{ ", \"discovery\": { \"pex\": { \"interval_s\": 0 } }", "discovery.pex.interval_s",
		  "" },
		{ ", \"discovery\": { \"pex\": { \"allow\": [ \"public\" ] } }",
		  "discovery.pex.allow[0]", "\"public\" is not one of" },
		{ ", \"discovery\": { \"pex\": { \"allow\": [ \"private\", \"private\" ] } }",
		  "discovery.pex.allow[1]", "\"private\" is already in the list" },
		{ ", \"discovery\": { \"pex\": { \"every\": 1 } }", "discovery.pex.every",
		  "unknown key" },
		{ ", \"discovery\": { \"pex\": 30 }", "discovery.pex", "expected an object" },
		{ ", \"discovery\": { \"seeds_\": [] }", "discovery.seeds_", "unknown key" },
		{ ", \"discovery\": [ ]", "discovery", "expected an object" },
		{ ", \"peers\": [ { \"name\": \"b\", \"endpoint\": \"" KEY_B "@198.18.0.2:4789\","
		  " \"persistent\": \"yes\" } ]",
		  "peers[0].persistent", "expected" },
		{ ", \"peers\": [ { \"name\": \"b\", \"endpoint\": \"" KEY_B "@198.18.0.2:4789\","
		  " \"unconditional\": 0 } ]",
		  "peers[0].unconditional", "expected" },
	};
	struct conf_errors errs;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct conf *c = load_with(rows[i].more, &errs);
		bool ok = c == NULL && errs.n == 1 &&
			  error_matches(&errs.e[0], rows[i].where, rows[i].message);

		if (!ok) {
			fprintf(stderr, "\nrow %zu: want %s: ...%s...\n", i, rows[i].where,
				rows[i].message);
			print_errors(rows[i].more, &errs);
		}
		CU_ASSERT(ok);
		conf_free(c);
	}
}

/* Too many seeds: the array's bound. */
static void
test_seed_count(void)
{
	char more[8192];
	size_t used = (size_t)snprintf(more, sizeof(more), ", \"discovery\": { \"seeds\": [ ");
	struct conf_errors errs;
	struct conf *c;

	for (unsigned int i = 0; i <= CONF_MAX_SEEDS; i++)
		used += (size_t)snprintf(more + used, sizeof(more) - used, "%s\"198.18.0.%u:4789\"",
					 i == 0 ? "" : ", ", i + 2);
	snprintf(more + used, sizeof(more) - used, " ] }");
	CU_ASSERT(load_with(more, &errs) == NULL);
	CU_ASSERT(errs.n == 1 &&
		  error_matches(&errs.e[0], "discovery.seeds", "has 65 elements, at most 64"));
	/* 64 is fine */
	used = (size_t)snprintf(more, sizeof(more), ", \"discovery\": { \"seeds\": [ ");
	for (unsigned int i = 0; i < CONF_MAX_SEEDS; i++)
		used += (size_t)snprintf(more + used, sizeof(more) - used, "%s\"198.18.0.%u:4789\"",
					 i == 0 ? "" : ", ", i + 2);
	snprintf(more + used, sizeof(more) - used, " ] }");
	c = load_with(more, &errs);
	if (c == NULL)
		print_errors("64 seeds", &errs);
	CU_ASSERT(c != NULL && c->discovery.n_seeds == CONF_MAX_SEEDS);
	conf_free(c);
}

/* Our own key as a seed or in the allow-list: refused once the key file is read. */
static void
test_own_key(void)
{
	uint8_t priv[SL_KEY_LEN], pub[SL_KEY_LEN], got[SL_KEY_LEN];
	char dir[64], path[128], text[2048], b64[45];
	struct conf_errors errs;
	struct conf *c;

	sl_dh_keygen(priv, pub);
	conf_key_to_base64(pub, b64);
	tmpdir_make(dir);
	snprintf(path, sizeof(path), "%s/k.key", dir);
	CU_ASSERT_FATAL(conf_write_key(path, priv) == 0);
	snprintf(text, sizeof(text),
		 "%s, \"discovery\": { \"seeds\": [ \"198.18.0.3:4789\", \"%s@198.18.0.2:4789\" ],"
		 " \"inbound\": [ \"%s\", \"%s\" ] } }\n",
		 MINIMAL_HEAD, b64, KEY_B, b64);
	snprintf(path, sizeof(path), "%s/c.json", dir);
	write_text(path, text, 0644);
	c = conf_load(path, &errs);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(conf_check_identity(c, got, &errs), -EINVAL);
	CU_ASSERT_EQUAL(errs.n, 2);
	CU_ASSERT(has_error(&errs, "discovery.seeds[1]", "a node cannot be its own seed"));
	CU_ASSERT(has_error(&errs, "discovery.inbound[1]", "this node's own public key"));
	CU_ASSERT(sodium_is_zero(got, sizeof(got)));
	conf_free(c);
	unlink(path);
	snprintf(path, sizeof(path), "%s/k.key", dir);
	unlink(path);
	rmdir(dir);
	sodium_memzero(priv, sizeof(priv));
}

/* peers_only (top level, but it decides who may dial in, with discovery.inbound): false by
 * default; true parsed; a warning when it lets nobody in (no peers, no inbound keys). */
static void
test_peers_only(void)
{
	static const struct {
		const char *more;
		bool want;
		unsigned int warnings;
	} rows[] = {
		{ "", false, 0 },
		{ ", \"peers_only\": false", false, 0 },
		{ ", \"peers_only\": true", true, 1 },
		{ ", \"peers_only\": true, \"discovery\": { \"inbound\": \"open\" }", true, 1 },
		{ ", \"peers_only\": true, \"discovery\": { \"inbound\": [ \"" KEY_B "\" ] }", true,
		  0 },
		{ ", \"peers_only\": true, \"peers\": [ { \"name\": \"b\", \"endpoint\": \"" KEY_B
		  "@198.18.0.2:4789\" } ]",
		  true, 0 },
	};
	struct conf_errors errs;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct conf *c = load_with(rows[i].more, &errs);

		CU_ASSERT_FATAL(c != NULL);
		CU_ASSERT_EQUAL(c->peers_only, rows[i].want);
		CU_ASSERT_EQUAL(errs.n_warnings, rows[i].warnings);
		if (rows[i].warnings > 0)
			CU_ASSERT(error_matches(&errs.w[0], "peers_only", "dials in is refused"));
		conf_free(c);
	}
}

static CU_TestInfo cases[] = {
	{ "absent: no discovery, peers persistent", test_absent },
	{ "every key parsed", test_every_key },
	{ "defaults", test_defaults },
	{ "every wrong value refused at its path", test_refused },
	{ "at most 64 seeds", test_seed_count },
	{ "our own key as a seed or allowed inbound", test_own_key },
	{ "peers_only: default, parsed, warned when it lets nobody in", test_peers_only },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("conf_discovery", cases)
