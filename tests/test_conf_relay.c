/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: relaying in a configuration — the relay section (absent: off; every key with its
 * default) and the peers' "via" and "relay_reserve": a peer reached through a relay needs no
 * endpoint, names a peer that is reached directly; every wrong value refused with its JSON path,
 * the only problem found (a table).
 */
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "conf_text.h"
#include "sl_test.h"

#define KEY_B "jrlNMIJECJweqCnOx26aZ7nVs2sVROlDjGgluSwVbGE="
#define KEY_C "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define KEY_R "EyQ8Lxf9v/i8K8NhA9P9X7/wNInf5+52P0nn72l2BV8="

#define PEER_R "{ \"name\": \"r\", \"endpoint\": \"" KEY_R "@198.18.0.9:4789\" }"

static struct conf *
load_with(const char *more, struct conf_errors *errs)
{
	char text[4096], dir[64];

	snprintf(text, sizeof(text), "%s%s }\n", MINIMAL_HEAD, more);
	return load_text(text, errs, dir);
}

static void
test_absent(void)
{
	struct conf_errors errs;
	struct conf *c = load_with("", &errs);

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT(!c->relay.enabled);
	CU_ASSERT(c->relay.max_circuits == 64 && c->relay.circuit_bytes == 1ull << 30);
	conf_free(c);
	c = load_with(", \"relay\": {}", &errs);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT(c->relay.enabled && c->relay.n_allow == 0);
	CU_ASSERT(c->relay.max_circuits == 64 && c->relay.max_circuits_per_node == 8);
	CU_ASSERT(c->relay.max_reservations == 64 && c->relay.circuit_seconds == 3600);
	conf_free(c);
	c = load_with(", \"relay\": { \"enabled\": false }", &errs);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT(!c->relay.enabled);
	conf_free(c);
}

static void
test_every_key(void)
{
	static const char more[] =
		", \"peers\": [ { \"name\": \"b\", \"public_key\": \"" KEY_B "\", \"via\": \"r\" },"
		"  " PEER_R ","
		"  { \"name\": \"c\", \"endpoint\": \"" KEY_C "@198.18.0.3:4789\","
		"    \"relay_reserve\": true } ],"
		"  \"relay\": { \"max_circuits\": 100, \"max_circuits_per_node\": 2,"
		"    \"max_reservations\": 5, \"circuit_seconds\": 0, \"circuit_bytes\": 65536,"
		"    \"allow\": [ \"" KEY_B "\", \"" KEY_C "\" ] }";
	struct conf_errors errs;
	const struct conf_relay *r;
	struct conf *c = load_with(more, &errs);

	if (c == NULL)
		print_errors("every key", &errs);
	CU_ASSERT_FATAL(c != NULL);
	r = &c->relay;
	CU_ASSERT(r->enabled && r->max_circuits == 100 && r->max_circuits_per_node == 2);
	CU_ASSERT(r->max_reservations == 5 && r->circuit_seconds == 0);
	CU_ASSERT(r->circuit_bytes == 65536 && r->n_allow == 2);
	CU_ASSERT(memcmp(r->allow[0], c->peers[0].pub, SL_KEY_LEN) == 0);
	CU_ASSERT(memcmp(r->allow[1], c->peers[2].pub, SL_KEY_LEN) == 0);
	CU_ASSERT(c->peers[0].has_via && c->peers[0].via == 1);
	CU_ASSERT(c->peers[0].ip == 0 && c->peers[0].port == 0);
	CU_ASSERT(!c->peers[1].has_via && !c->peers[1].relay_reserve);
	CU_ASSERT(!c->peers[2].has_via && c->peers[2].relay_reserve);
	conf_free(c);
}

static void
test_refused(void)
{
	static const struct {
		const char *more, *where, *message;
	} rows[] = {
		{ ", \"peers\": [ { \"name\": \"b\", \"public_key\": \"" KEY_B
		  "\", \"via\": \"x\" } ]",
		  "peers[0].via", "no peer named \"x\"" },
		{ ", \"peers\": [ { \"name\": \"b\", \"public_key\": \"" KEY_B
		  "\", \"via\": \"b\" } ]",
		  "peers[0].via", "cannot be its own relay" },
		{ ", \"peers\": [ " PEER_R ", { \"name\": \"b\", \"public_key\": \"" KEY_B
		  "\", \"via\": \"r\" }, { \"name\": \"c\", \"public_key\": \"" KEY_C
		  "\", \"via\": \"b\" } ]",
		  "peers[2].via", "is itself reached through a relay" },
		{ ", \"peers\": [ " PEER_R ", { \"name\": \"b\", \"public_key\": \"" KEY_B
		  "\", \"via\": \"r\", \"relay_reserve\": true } ]",
		  "peers[1].relay_reserve", "not at one behind \"via\"" },
		{ ", \"peers\": [ { \"name\": \"b\", \"public_key\": \"" KEY_B "\" } ]",
		  "peers[0].endpoint", "missing" },
		{ ", \"peers\": [ " PEER_R ", { \"name\": \"b\", \"via\": \"r\" } ]",
		  "peers[1].public_key", "missing" },
		{ ", \"peers\": [ " PEER_R ", { \"name\": \"b\", \"public_key\": \"" KEY_B
		  "\", \"via\": 1 } ]",
		  "peers[1].via", "expected a string" },
		{ ", \"relay\": { \"max_circuits\": 0 }", "relay.max_circuits", "" },
		{ ", \"relay\": { \"max_circuits\": 4, \"max_circuits_per_node\": 5 }",
		  "relay.max_circuits_per_node", "5 is more than max_circuits (4)" },
		{ ", \"relay\": { \"max_reservations\": 0 }", "relay.max_reservations", "" },
		{ ", \"relay\": { \"circuit_seconds\": -1 }", "relay.circuit_seconds", "" },
		{ ", \"relay\": { \"allow\": [] }", "relay.allow", "" },
		{ ", \"relay\": { \"allow\": [ \"xyz\" ] }", "relay.allow[0]", "not a public key" },
		{ ", \"relay\": { \"allow\": [ \"" KEY_B "\", \"" KEY_B "\" ] }", "relay.allow[1]",
		  "the same key as relay.allow[0]" },
		{ ", \"relay\": { \"circuits\": 1 }", "relay.circuits", "unknown key" },
		{ ", \"relay\": true", "relay", "expected an object" },
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

static CU_TestInfo cases[] = {
	{ "absent: off; {}: every default", test_absent },
	{ "every key parsed, via resolved", test_every_key },
	{ "every wrong value refused at its path", test_refused },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("conf_relay", cases)
