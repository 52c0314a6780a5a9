/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: configuration loading — every example in conf/ loads and the examples agree with one
 * another (keys, addresses); every broken configuration in tests/conf/ is rejected with the
 * expected JSON path and message, and with that one problem only; several problems are all
 * reported; comment lines keep syntax error positions; defaults and the derived engine
 * settings; key files (round trip, permissions, contents); base64; the network id.
 */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "conf.h"
#include "conf_pvt.h"
#include "conf_test_paths.h"
#include "conf_text.h"
#include "sl_dh.h"
#include "sl_test.h"

#define MS  1000000ull
#define SEC 1000000000ull

/* --- the examples -------------------------------------------------------------------------- */

static void
test_examples_load(void)
{
	struct conf_errors errs;
	glob_t g;
	size_t i;

	CU_ASSERT_FATAL(glob(CONF_EXAMPLES_DIR "/*.json", 0, NULL, &g) == 0);
	CU_ASSERT(g.gl_pathc >= 7);
	for (i = 0; i < g.gl_pathc; i++) {
		struct conf *c = conf_load(g.gl_pathv[i], &errs);

		if (c == NULL)
			print_errors(g.gl_pathv[i], &errs);
		CU_ASSERT(c != NULL);
		CU_ASSERT_EQUAL(errs.n, 0);
		if (c != NULL) /* relative key files resolved against the (absolute) directory */
			CU_ASSERT(c->key_file[0] == '/');
		conf_free(c);
	}
	globfree(&g);
}

static struct conf *
load_example(const char *name)
{
	char path[512];
	struct conf_errors errs;
	struct conf *c;

	snprintf(path, sizeof(path), "%s/example-%s.json", CONF_EXAMPLES_DIR, name);
	c = conf_load(path, &errs);
	if (c == NULL)
		print_errors(path, &errs);
	CU_ASSERT_FATAL(c != NULL);
	return c;
}

/* The public key of a demo node, from its private key file (and its .pub must agree). */
static void
demo_pub(const char *node, uint8_t pub[SL_KEY_LEN])
{
	char path[512], b64[45], line[64] = "";
	uint8_t priv[SL_KEY_LEN];
	const char *why;
	FILE *f;

	/* git does not keep mode 0600: give the demo keys their mode back before reading */
	snprintf(path, sizeof(path), "%s/keys/%s.key", CONF_EXAMPLES_DIR, node);
	CU_ASSERT_FATAL(chmod(path, 0600) == 0);
	CU_ASSERT_FATAL(conf_read_key(path, priv, &why) == 0);
	CU_ASSERT_FATAL(sl_dh_pubkey(pub, priv) == 0);
	sodium_memzero(priv, sizeof(priv));
	snprintf(path, sizeof(path), "%s/keys/%s.pub", CONF_EXAMPLES_DIR, node);
	f = fopen(path, "r");
	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT(fgets(line, sizeof(line), f) != NULL);
	fclose(f);
	conf_key_to_base64(pub, b64);
	CU_ASSERT(strncmp(line, b64, 44) == 0);
}

/* from's peer `name` is node `to` (its key and the address of its port `port`). */
static void
assert_peer(const struct conf *from, const char *name, const struct conf *to, unsigned int port,
	    const char *to_node)
{
	uint8_t pub[SL_KEY_LEN];
	int i = conf_peer_index(from, name);

	CU_ASSERT_FATAL(i >= 0);
	demo_pub(to_node, pub);
	CU_ASSERT(memcmp(from->peers[i].pub, pub, SL_KEY_LEN) == 0);
	CU_ASSERT_EQUAL(from->peers[i].ip, to->ports[port].ipv4);
	CU_ASSERT_EQUAL(from->peers[i].port, to->ports[port].udp_port);
}

static void
test_examples_agree(void)
{
	struct conf *a = load_example("two-node-a"), *b = load_example("two-node-b");
	struct conf *ta = load_example("three-node-a"), *tr = load_example("three-node-r");
	struct conf *tb = load_example("three-node-b");

	assert_peer(a, "b", b, 0, "b");
	assert_peer(b, "a", a, 0, "a");
	assert_peer(ta, "r", tr, 0, "r");
	assert_peer(tb, "r", tr, 1, "r");
	assert_peer(tr, "a", ta, 0, "a");
	assert_peer(tr, "b", tb, 0, "b");
	CU_ASSERT_STRING_EQUAL(a->key_file, CONF_EXAMPLES_DIR "/keys/a.key");
	CU_ASSERT_EQUAL(a->network_id, tr->network_id);
	/* the demo: A's source expects R's echo, B's source feeds R's sink */
	CU_ASSERT_EQUAL(ta->services.svc[0].type, DP_SVC_SOURCE);
	CU_ASSERT(ta->services.svc[0].expect_echo);
	CU_ASSERT_EQUAL(tr->services.svc[0].type, DP_SVC_ECHO);
	CU_ASSERT_EQUAL(tr->services.svc[0].channel, ta->services.svc[0].channel);
	CU_ASSERT_EQUAL(tr->services.svc[1].type, DP_SVC_SINK);
	CU_ASSERT_EQUAL(tr->services.svc[1].channel, tb->services.svc[0].channel);
	CU_ASSERT_EQUAL(tb->suite, SL_SUITE_CHACHAPOLY_BLAKE2B);
	conf_free(a);
	conf_free(b);
	conf_free(ta);
	conf_free(tr);
	conf_free(tb);
}

/* --- broken configurations ----------------------------------------------------------------
 * Each .json file in tests/conf says what must be wrong with it in comment lines:
 *   // expect: <where>: <part of the message>
 * where is a JSON path, or ":line:column" for a syntax error. The load must fail with exactly
 * those problems, in that order. */

#define MAX_EXPECT 16

struct expect {
	char where[CONF_WHERE_LEN];
	char message[256];
};

/* The "// expect:" lines of a file; their number. */
static unsigned int
read_expect(const char *path, struct expect want[MAX_EXPECT])
{
	static const char tag[] = "// expect: ";
	char line[512], *sep;
	unsigned int n = 0;
	FILE *f = fopen(path, "r");

	CU_ASSERT_FATAL(f != NULL);
	while (fgets(line, sizeof(line), f) != NULL && n < MAX_EXPECT) {
		if (strncmp(line, tag, strlen(tag)) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		sep = strstr(line + strlen(tag), ": ");
		CU_ASSERT_FATAL(sep != NULL);
		*sep = '\0';
		snprintf(want[n].where, sizeof(want[n].where), "%.127s", line + strlen(tag));
		snprintf(want[n].message, sizeof(want[n].message), "%.255s", sep + 2);
		n++;
	}
	fclose(f);
	return n;
}

static void
check_broken(const char *path)
{
	struct expect want[MAX_EXPECT];
	struct conf_errors errs;
	unsigned int n = read_expect(path, want);
	struct conf *c = conf_load(path, &errs);
	bool ok = c == NULL && errs.n == n && n > 0;

	for (unsigned int i = 0; ok && i < n; i++)
		ok = error_matches(&errs.e[i], want[i].where, want[i].message);
	if (!ok) {
		fprintf(stderr, "\n%s: expected %u problem(s):\n", path, n);
		for (unsigned int i = 0; i < n; i++)
			fprintf(stderr, "  %s: ...%s...\n", want[i].where, want[i].message);
		print_errors(path, &errs);
	}
	CU_ASSERT(n > 0);
	CU_ASSERT(ok);
	conf_free(c);
}

static void
test_broken(void)
{
	glob_t g;

	CU_ASSERT_FATAL(glob(CONF_BROKEN_DIR "/*.json", 0, NULL, &g) == 0);
	CU_ASSERT(g.gl_pathc >= 25);
	for (size_t i = 0; i < g.gl_pathc; i++)
		check_broken(g.gl_pathv[i]);
	globfree(&g);
}

/* A file that breaks several rules: all of them reported (the file lists 8). */
static void
test_several_problems(void)
{
	struct conf_errors errs;

	CU_ASSERT(conf_load(CONF_BROKEN_DIR "/several-problems.json", &errs) == NULL);
	CU_ASSERT_EQUAL(errs.n, 8);
	CU_ASSERT(has_error(&errs, "services[0].type", "\"mirror\" is not one of"));
}

/* More problems than are kept: all counted, the first CONF_MAX_ERRORS kept, the rest summed. */
static void
test_error_cap(void)
{
	char text[4096], dir[64], *out = NULL;
	struct conf_errors errs;
	size_t len = 0, used;
	FILE *f;

	used = (size_t)snprintf(text, sizeof(text),
				"{ \"network\": \"n\", "
				"\"identity\": { \"key_file\": \"k\" }, \"ports\": [ %s ]",
				MINIMAL_PORT);
	for (int i = 0; i < 40; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, ", \"k%d\": %d", i, i);
	snprintf(text + used, sizeof(text) - used, " }\n");
	CU_ASSERT(load_text(text, &errs, dir) == NULL);
	CU_ASSERT_EQUAL(errs.n, 40);
	CU_ASSERT_STRING_EQUAL(errs.e[31].where, "k31");
	f = open_memstream(&out, &len);
	CU_ASSERT_FATAL(f != NULL);
	conf_errors_print(&errs, f);
	fclose(f);
	CU_ASSERT(strstr(out, "k0: unknown key (expected one of: network,") == out);
	CU_ASSERT(strstr(out, "\n... and 8 more problems\n") != NULL);
	free(out);
	/* errs may be NULL */
	CU_ASSERT(load_text(text, NULL, dir) == NULL);
}

/* Comment lines of every shape before a syntax error: the reported line and column are those
 * of the file, counted with the comments. */
static void
test_comment_positions(void)
{
	static const char *const comments[] = {
		"// plain\n",
		"\t\t// indented with tabs, { \"braces\": [ and quotes\n",
		"    //\n",
		"// unicode: é ü — they are blanked byte by byte\n",
		"//// more slashes\n",
		"\n",
	};
	char text[2048], dir[64], want[32];
	struct conf_errors errs;

	for (unsigned int k = 0; k <= 6; k++) {
		size_t used = (size_t)snprintf(text, sizeof(text), "{\n");

		for (unsigned int i = 0; i < k; i++)
			used += (size_t)snprintf(text + used, sizeof(text) - used, "%s",
						 comments[i % 6]);
		/* line k + 2: the error is the token `nope` at column 13 (a tab is one) */
		snprintf(text + used, sizeof(text) - used, "\t\"network\": nope,\n}\n");
		CU_ASSERT(load_text(text, &errs, dir) == NULL);
		snprintf(want, sizeof(want), ":%u:13", k + 2);
		if (errs.n != 1 || !error_matches(&errs.e[0], want, "invalid token"))
			print_errors(want, &errs);
		CU_ASSERT_EQUAL(errs.n, 1);
		CU_ASSERT(error_matches(&errs.e[0], want, "invalid token near 'nope'"));
	}
	/* the file is named in the position */
	CU_ASSERT(strncmp(errs.e[0].where, "/tmp/sluice-test-conf-", 22) == 0);
}

/* Comments inside arrays and objects, between any two lines, are fine. */
static void
test_comments_anywhere(void)
{
	static const char text[] =
		"// head\n{\n// a\n\"network\":\n// b\n\"n\",\n"
		"\"identity\": {\n// c\n\"key_file\": \"k\" },\n"
		"\"ports\": [\n// d\n" MINIMAL_PORT "\n// e\n]\n// f\n}\n// tail\n";
	struct conf_errors errs;
	char dir[64];
	struct conf *c = load_text(text, &errs, dir);

	if (c == NULL)
		print_errors("comments anywhere", &errs);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_STRING_EQUAL(c->network, "n");
	conf_free(c);
}

static void
test_missing_file(void)
{
	struct conf_errors errs;

	CU_ASSERT(conf_load("/nonexistent/sluice.json", &errs) == NULL);
	CU_ASSERT_EQUAL(errs.n, 1);
	CU_ASSERT(error_matches(&errs.e[0], "/nonexistent/sluice.json", "cannot open"));
	CU_ASSERT(conf_load("/tmp", &errs) == NULL);
	CU_ASSERT(error_matches(&errs.e[0], "/tmp", "not a regular file (a directory)"));
}

/* A FIFO is refused at once (opening it used to wait for a writer forever). */
static void
test_fifo(void)
{
	struct conf_errors errs;
	char dir[64], path[128];

	tmpdir_make(dir);
	snprintf(path, sizeof(path), "%s/fifo.json", dir);
	CU_ASSERT_FATAL(mkfifo(path, 0600) == 0);
	CU_ASSERT(conf_load(path, &errs) == NULL);
	CU_ASSERT(errs.n == 1 && error_matches(&errs.e[0], path, "not a regular file (a FIFO)"));
	unlink(path);
	rmdir(dir);
}

/* Whoever may write the configuration controls a root process: writable by others is refused,
 * by the group accepted with a warning, and an owner-only file has neither. */
static void
test_file_mode(void)
{
	static const struct {
		mode_t mode;
		bool loads;
		unsigned int warnings;
	} cases[] = { { 0600, true, 0 },
		      { 0644, true, 0 },
		      { 0664, true, 1 },
		      { 0646, false, 0 },
		      { 0666, false, 0 } };
	struct conf_errors errs;
	char dir[64], path[128];

	tmpdir_make(dir);
	snprintf(path, sizeof(path), "%s/c.json", dir);
	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		struct conf *c;

		write_text(path, MINIMAL, cases[i].mode);
		c = conf_load(path, &errs);
		CU_ASSERT_EQUAL(c != NULL, cases[i].loads);
		CU_ASSERT_EQUAL(errs.n_warnings, cases[i].warnings);
		if (cases[i].warnings > 0)
			CU_ASSERT(error_matches(&errs.w[0], path, "writable by its group"));
		if (!cases[i].loads)
			CU_ASSERT(errs.n == 1 &&
				  error_matches(&errs.e[0], path, "writable by others"));
		conf_free(c);
	}
	unlink(path);
	rmdir(dir);
}

/* --- what a valid configuration gives ------------------------------------------------------ */

static void
assert_defaults_engine(const struct conf *c)
{
	const struct dp_conn_config *e = &c->engine;

	CU_ASSERT_EQUAL(e->max_payload, 1440);
	CU_ASSERT_EQUAL(e->max_message, 1u << 20);
	CU_ASSERT_EQUAL(e->chan_window, 4u << 20);
	CU_ASSERT_EQUAL(e->conn_window, 16u << 20);
	CU_ASSERT_EQUAL(e->idle_timeout_ns, 30 * SEC);
	CU_ASSERT_EQUAL(e->keepalive_ns, 10 * SEC);
	CU_ASSERT_EQUAL(e->unsent_limit, 256u << 10);
	CU_ASSERT_EQUAL(e->n_channels, 8);
	CU_ASSERT_EQUAL(e->chan[0].kind, DP_CHAN_RELIABLE);
	CU_ASSERT_EQUAL(e->chan[0].priority, 7);
	for (unsigned int i = 1; i < 8; i++) {
		CU_ASSERT_EQUAL(e->chan[i].kind, DP_CHAN_RELIABLE);
		CU_ASSERT_EQUAL(e->chan[i].priority, i - 1);
		CU_ASSERT_EQUAL(e->chan[i].queue_limit, 8u << 20);
	}
	CU_ASSERT(dp_conn_config_check(e) == NULL);
}

static void
test_defaults(void)
{
	struct conf_errors errs;
	char dir[64], key[128];
	struct conf *c = load_text(MINIMAL, &errs, dir);

	CU_ASSERT_FATAL(c != NULL);
	snprintf(key, sizeof(key), "%s/k.key", dir);
	CU_ASSERT_STRING_EQUAL(c->key_file, key);
	CU_ASSERT_EQUAL(c->network_id, 0xd315aed1981a5849ull);
	CU_ASSERT_EQUAL(c->suite, SL_SUITE_AESGCM_SHA256);
	CU_ASSERT(c->telemetry);
	CU_ASSERT_STRING_EQUAL(c->eal.cores, "0");
	CU_ASSERT_EQUAL(c->eal.memory_mb, 256);
	CU_ASSERT_STRING_EQUAL(c->eal.file_prefix, "sluice");
	CU_ASSERT(!c->eal.huge && !c->eal.pci && c->eal.n_extra == 0);
	CU_ASSERT_EQUAL(c->n_ports, 1);
	CU_ASSERT_EQUAL(c->ports[0].ipv4, 0xc6120001);
	CU_ASSERT_EQUAL(c->ports[0].prefix_len, 24);
	CU_ASSERT_EQUAL(c->ports[0].gateway, 0);
	CU_ASSERT_EQUAL(c->ports[0].udp_port, 4789);
	CU_ASSERT_EQUAL(c->ports[0].mtu, 1500);
	CU_ASSERT(c->ports[0].rx_queues == 1 && c->ports[0].tx_queues == 1);
	CU_ASSERT(c->ports[0].rx_desc == 1024 && c->ports[0].tx_desc == 1024);
	CU_ASSERT_EQUAL(c->ports[0].mbufs, 8191);
	CU_ASSERT(!c->ports[0].impair.enabled);
	CU_ASSERT_EQUAL(c->n_lcores, 1);
	CU_ASSERT(c->lcores[0].lcore == 0 && c->lcores[0].n_rx == 1);
	CU_ASSERT_EQUAL(c->lcores[0].idle, CONF_IDLE_ADAPTIVE);
	CU_ASSERT_EQUAL(c->limits.max_message, 1u << 20);
	CU_ASSERT_EQUAL(c->limits.queue_bytes, 8u << 20);
	CU_ASSERT_EQUAL(c->limits.window_bytes, 4u << 20);
	CU_ASSERT_EQUAL(c->limits.unsent_bytes, 256u << 10);
	CU_ASSERT_EQUAL(c->limits.handshake_timeout_ns, 5 * SEC);
	CU_ASSERT_EQUAL(c->limits.rekey_after_ns, 120 * SEC);
	CU_ASSERT_EQUAL(c->limits.max_sessions, 65536);
	CU_ASSERT(c->limits.handshakes_per_sec == 20 && c->limits.handshake_burst == 5);
	CU_ASSERT(c->n_peers == 0 && c->services.n == 0);
	assert_defaults_engine(c);
	conf_free(c);
}

/* Explicit channels, two MTUs, a larger window, no idle timeout, absolute key path. */
static void
test_engine_derived(void)
{
	static const char text[] =
		"{ \"network\": \"n\", \"identity\": { \"key_file\": \"/etc/sluice/k\" },\n"
		"  \"ports\": [ { \"name\": \"a\", \"device\": \"net_null0\", \"ipv4\": "
		"\"198.18.0.1/24\","
		"                \"mtu\": 9000 },\n"
		"               { \"name\": \"b\", \"device\": \"net_null1\", \"ipv4\": "
		"\"198.18.1.1/24\","
		"                \"mtu\": 1280, \"impair\": { \"seed\": 9, \"loss\": 0.05,\n"
		"                \"outages\": [ { \"after_ms\": 0, \"for_ms\": 10 },\n"
		"                               { \"after_ms\": 10, \"for_ms\": 86400000 } ] } } "
		"],\n"
		"  \"limits\": { \"window_bytes\": 8388608, \"idle_timeout_ms\": 0,"
		"               \"keepalive_ms\": 2500, \"queue_bytes\": 2097152, "
		"\"unsent_bytes\": 0 },\n"
		"  \"channels\": [ { \"id\": 5, \"kind\": \"datagram\", \"priority\": 2, "
		"\"ttl_ms\": 5 },"
		"                  { \"id\": 2 } ] }\n";
	struct conf_errors errs;
	char dir[64];
	struct conf *c = load_text(text, &errs, dir);
	const struct dp_conn_config *e;

	if (c == NULL)
		print_errors("engine", &errs);
	CU_ASSERT_FATAL(c != NULL);
	e = &c->engine;
	CU_ASSERT_STRING_EQUAL(c->key_file, "/etc/sluice/k");
	CU_ASSERT_EQUAL(e->max_payload, 1280 - 60);
	CU_ASSERT_EQUAL(e->chan_window, 8u << 20);
	CU_ASSERT_EQUAL(e->conn_window, 32u << 20);
	CU_ASSERT_EQUAL(e->idle_timeout_ns, 0);
	CU_ASSERT_EQUAL(e->keepalive_ns, 2500 * MS);
	CU_ASSERT_EQUAL(e->unsent_limit, 0);
	CU_ASSERT_EQUAL(e->n_channels, 6);
	CU_ASSERT(e->chan[0].kind == DP_CHAN_RELIABLE && e->chan[0].priority == 7);
	CU_ASSERT_EQUAL(e->chan[0].queue_limit, 2u << 20);
	CU_ASSERT(e->chan[1].kind == DP_CHAN_UNUSED && e->chan[3].kind == DP_CHAN_UNUSED);
	CU_ASSERT(e->chan[4].kind == DP_CHAN_UNUSED);
	CU_ASSERT(e->chan[2].kind == DP_CHAN_RELIABLE && e->chan[2].priority == 0);
	CU_ASSERT_EQUAL(e->chan[2].queue_limit, 2u << 20);
	CU_ASSERT(e->chan[5].kind == DP_CHAN_DATAGRAM && e->chan[5].priority == 2);
	CU_ASSERT_EQUAL(e->chan[5].ttl_ns, 5 * MS);
	CU_ASSERT(c->ports[1].impair.enabled && c->ports[1].impair.seed == 9);
	CU_ASSERT_DOUBLE_EQUAL(c->ports[1].impair.loss, 0.05, 1e-12);
	CU_ASSERT_EQUAL(c->ports[1].impair.n_outages, 2);
	CU_ASSERT(c->ports[1].impair.outages[0].after_ms == 0 &&
		  c->ports[1].impair.outages[0].for_ms == 10);
	CU_ASSERT(c->ports[1].impair.outages[1].after_ms == 10 &&
		  c->ports[1].impair.outages[1].for_ms == 86400000);
	CU_ASSERT(!c->ports[0].impair.enabled && c->ports[0].impair.n_outages == 0);
	/* the default lcore polls both ports */
	CU_ASSERT(c->n_lcores == 1 && c->lcores[0].n_rx == 2);
	CU_ASSERT(c->lcores[0].rx[1].port == 1 && c->lcores[0].rx[1].queue == 0);
	CU_ASSERT(dp_conn_config_check(e) == NULL);
	conf_free(c);
}

/* No lcores section: the lowest core of eal.cores polls every queue, up to CONF_MAX_RXQ. */
static void
test_default_lcore(void)
{
	static const char fmt[] = "{ \"network\": \"n\", \"identity\": { \"key_file\": \"k\" },"
				  "  \"eal\": { \"cores\": \"3,2\" },\n"
				  "  \"ports\": [ { \"name\": \"a\", \"device\": \"net_null0\", "
				  "\"ipv4\": \"198.18.0.1/24\","
				  "                \"rx_queues\": %u },"
				  "               { \"name\": \"b\", \"device\": \"net_null1\", "
				  "\"ipv4\": \"198.18.1.1/24\","
				  "                \"rx_queues\": %u } ] }\n";
	struct conf_errors errs;
	char text[1024], dir[64];
	struct conf *c;

	snprintf(text, sizeof(text), fmt, 2, 3);
	c = load_text(text, &errs, dir);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT(c->n_lcores == 1 && c->lcores[0].lcore == 2 && c->lcores[0].n_rx == 5);
	CU_ASSERT(c->lcores[0].rx[4].port == 1 && c->lcores[0].rx[4].queue == 2);
	conf_free(c);
	snprintf(text, sizeof(text), fmt, 16, 1);
	CU_ASSERT(load_text(text, &errs, dir) == NULL);
	CU_ASSERT_EQUAL(errs.n, 1);
	CU_ASSERT(error_matches(&errs.e[0], "lcores", "the ports have 17 rx queues"));
}

/* A message of the engine's own check lands on the key that caused it. */
static void
test_engine_where(void)
{
	struct conf c;
	struct conf_ctx x = { .c = &c };
	char buf[CONF_WHERE_LEN];

	memset(&c, 0, sizeof(c));
	dp_conn_config_defaults(&c.engine);
	for (unsigned int i = 0; i < SL_MAX_CHANNELS; i++)
		x.chan_index[i] = -1;
	x.chan_index[3] = 1;
	c.engine.chan[3].queue_limit = 10;
	CU_ASSERT_STRING_EQUAL(conf_engine_where(&x, dp_conn_config_check(&c.engine), buf),
			       "channels[1].queue_bytes");
	c.engine.chan[3].queue_limit = 8u << 20;
	c.engine.chan[3].priority = 9;
	CU_ASSERT_STRING_EQUAL(conf_engine_where(&x, dp_conn_config_check(&c.engine), buf),
			       "channels[1].priority");
	c.engine.chan[3].priority = 1;
	c.engine.max_message = 0;
	CU_ASSERT_STRING_EQUAL(conf_engine_where(&x, dp_conn_config_check(&c.engine), buf),
			       "limits.max_message");
	c.engine.max_message = 1u << 20;
	c.engine.chan_window = 1000;
	CU_ASSERT_STRING_EQUAL(conf_engine_where(&x, dp_conn_config_check(&c.engine), buf),
			       "limits.window_bytes");
	CU_ASSERT_STRING_EQUAL(conf_engine_where(&x, "max_payload: out of range", buf), "ports");
}

static void
test_parsers(void)
{
	static const char *const good_cores[] = { "0", "0,1", "0-3", "0-1,4", "127", "5-5" };
	static const char *const bad_cores[] = { "",	",",   "0,",	"01", "1-",   "-1",   "3-1",
						 "128", "0,0", "0-2,1", "a",  "0 ,1", "1,2-x" };
	static const char *const bad_ip[] = { "1.2.3",	 "256.1.1.1", "01.2.3.4", "1..2.3",
					      "a.b.c.d", "-1.2.3.4",  "" };
	uint64_t set[CONF_LCORE_LIMIT / 64];
	const char *end;
	uint32_t ip;

	for (size_t i = 0; i < sizeof(good_cores) / sizeof(good_cores[0]); i++)
		CU_ASSERT(conf_parse_cores(good_cores[i], set) == NULL);
	CU_ASSERT(conf_parse_cores("0-1,4,127", set) == NULL);
	CU_ASSERT(set[0] == 0x13 && set[1] == 1ull << 63);
	for (size_t i = 0; i < sizeof(bad_cores) / sizeof(bad_cores[0]); i++) {
		if (conf_parse_cores(bad_cores[i], set) == NULL)
			fprintf(stderr, "\ncores \"%s\" accepted\n", bad_cores[i]);
		CU_ASSERT(conf_parse_cores(bad_cores[i], set) != NULL);
	}
	end = conf_parse_ipv4("198.18.255.0:1", &ip);
	CU_ASSERT(end != NULL && *end == ':' && ip == 0xc612ff00);
	CU_ASSERT(conf_parse_ipv4("0.0.0.0", &ip) != NULL && ip == 0);
	for (size_t i = 0; i < sizeof(bad_ip) / sizeof(bad_ip[0]); i++) {
		end = conf_parse_ipv4(bad_ip[i], &ip);
		CU_ASSERT(end == NULL || *end != '\0');
	}
}

/* --- keys ---------------------------------------------------------------------------------- */

static void
test_key_round_trip(void)
{
	uint8_t key[SL_KEY_LEN], back[SL_KEY_LEN];
	char dir[64], path[128];
	const char *why = "unset";
	struct stat st;

	tmpdir_make(dir);
	snprintf(path, sizeof(path), "%s/node.key", dir);
	randombytes_buf(key, sizeof(key));
	CU_ASSERT_EQUAL(conf_write_key(path, key), 0);
	CU_ASSERT(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 45);
	CU_ASSERT_EQUAL(conf_read_key(path, back, &why), 0);
	CU_ASSERT(why == NULL);
	CU_ASSERT(memcmp(key, back, sizeof(key)) == 0);
	/* never overwrites */
	CU_ASSERT_EQUAL(conf_write_key(path, key), -EEXIST);
	/* read-only for the owner is fine */
	CU_ASSERT_FATAL(chmod(path, 0400) == 0);
	CU_ASSERT_EQUAL(conf_read_key(path, back, NULL), 0);
	unlink(path);
	CU_ASSERT_EQUAL(conf_read_key(path, back, &why), -ENOENT);
	CU_ASSERT(why != NULL);
	rmdir(dir);
}

static void
test_key_permissions(void)
{
	static const mode_t refused[] = { 0644, 0640, 0604, 0610, 0601, 0660, 0666 };
	uint8_t key[SL_KEY_LEN] = { 1 };
	char dir[64], path[128];
	const char *why;

	tmpdir_make(dir);
	snprintf(path, sizeof(path), "%s/node.key", dir);
	CU_ASSERT_FATAL(conf_write_key(path, key) == 0);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		CU_ASSERT_FATAL(chmod(path, refused[i]) == 0);
		why = NULL;
		CU_ASSERT_EQUAL(conf_read_key(path, key, &why), -EPERM);
		CU_ASSERT(why != NULL && strstr(why, "group or others") != NULL);
	}
	/* not a regular file */
	why = NULL;
	CU_ASSERT_EQUAL(conf_read_key(dir, key, &why), -EPERM);
	CU_ASSERT(why != NULL && strstr(why, "not a regular file") != NULL);
	unlink(path);
	rmdir(dir);
}

/* The identity a configuration names: the key file's problems with its path and the system's
 * reason, and a peer with this node's own key. */
static void
test_check_identity(void)
{
	uint8_t priv[SL_KEY_LEN] = { 0 }, pub[SL_KEY_LEN];
	struct conf c = { .n_peers = 2 };
	struct conf_errors errs;
	char dir[64];

	tmpdir_make(dir);
	snprintf(c.key_file, sizeof(c.key_file), "%s/node.key", dir);
	CU_ASSERT_EQUAL(conf_check_identity(&c, priv, &errs), -ENOENT);
	CU_ASSERT(errs.n == 1 && error_matches(&errs.e[0], "identity.key_file",
					       "node.key: cannot "
					       "open the key file: No such file or directory"));
	CU_ASSERT_FATAL(mkdir(c.key_file, 0700) == 0);
	CU_ASSERT_EQUAL(conf_check_identity(&c, priv, &errs), -EPERM);
	CU_ASSERT(error_matches(&errs.e[0], "identity.key_file", "not a regular file"));
	CU_ASSERT_FATAL(rmdir(c.key_file) == 0);
	sl_dh_keygen(priv, pub);
	CU_ASSERT_FATAL(conf_write_key(c.key_file, priv) == 0);
	CU_ASSERT_FATAL(chmod(c.key_file, 0640) == 0);
	CU_ASSERT_EQUAL(conf_check_identity(&c, priv, &errs), -EPERM);
	CU_ASSERT(error_matches(&errs.e[0], "identity.key_file", "accessible by group or others"));
	CU_ASSERT(sodium_is_zero(priv, sizeof(priv)));
	CU_ASSERT_FATAL(chmod(c.key_file, 0600) == 0);
	/* peers[1] is this node */
	snprintf(c.peers[1].name, sizeof(c.peers[1].name), "me");
	memcpy(c.peers[1].pub, pub, SL_KEY_LEN);
	CU_ASSERT_EQUAL(conf_check_identity(&c, priv, &errs), -EINVAL);
	CU_ASSERT(errs.n == 1 && error_matches(&errs.e[0], "peers[1]", "own public key"));
	c.peers[1].pub[0] ^= 1;
	CU_ASSERT_EQUAL(conf_check_identity(&c, priv, &errs), 0);
	CU_ASSERT_EQUAL(errs.n, 0);
	CU_ASSERT(!sodium_is_zero(priv, sizeof(priv)));
	unlink(c.key_file);
	rmdir(dir);
}

static void
test_key_contents(void)
{
	static const char *const bad[] = {
		"",
		"\n",
		"short\n",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",      /* 43: no padding */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n",   /* two newlines */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\r\n",   /* CR */
		" AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",    /* leading space */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n",     /* non-zero unused bits */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*=\n",     /* not base64 */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd-h8=\n",     /* URL-safe alphabet */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8AAAA=\n", /* 35 bytes */
	};
	uint8_t key[SL_KEY_LEN];
	char dir[64], path[128];
	const char *why;

	tmpdir_make(dir);
	snprintf(path, sizeof(path), "%s/node.key", dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(path, bad[i], 0600);
		why = NULL;
		CU_ASSERT_EQUAL(conf_read_key(path, key, &why), -EINVAL);
		CU_ASSERT(why != NULL && strstr(why, "44 characters") != NULL);
	}
	/* no newline at the end is fine */
	write_text(path, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 0600);
	CU_ASSERT_EQUAL(conf_read_key(path, key, NULL), 0);
	CU_ASSERT(key[0] == 0 && key[31] == 31);
	unlink(path);
	rmdir(dir);
}

static void
test_base64(void)
{
	uint8_t key[SL_KEY_LEN], back[SL_KEY_LEN];
	char b64[45];

	for (unsigned int i = 0; i < SL_KEY_LEN; i++)
		key[i] = (uint8_t)i;
	conf_key_to_base64(key, b64);
	CU_ASSERT_STRING_EQUAL(b64, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
	CU_ASSERT_EQUAL(conf_key_from_base64(b64, back), 0);
	CU_ASSERT(memcmp(key, back, sizeof(key)) == 0);
	memset(back, 0xaa, sizeof(back));
	CU_ASSERT_EQUAL(conf_key_from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=", back),
			-EINVAL);
	CU_ASSERT_EQUAL(back[0], 0xaa); /* untouched on failure */
	CU_ASSERT_EQUAL(
		conf_key_from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", back),
		-EINVAL);
	CU_ASSERT_EQUAL(conf_key_from_base64("", back), -EINVAL);
}

static void
test_network_id(void)
{
	/* BLAKE2b-256 of the name, first 8 bytes big-endian (computed independently with
	 * Python's hashlib.blake2b(name, digest_size=32)) */
	CU_ASSERT_EQUAL(conf_network_id("sluice-demo"), 0xd315aed1981a5849ull);
	CU_ASSERT_EQUAL(conf_network_id("sluice-prod"), 0xb6a7c96a7bfb9372ull);
	CU_ASSERT_EQUAL(conf_network_id(""), 0x0e5751c026e543b2ull);
}

static CU_TestInfo cases[] = {
	{ "every example in conf/ loads", test_examples_load },
	{ "the examples agree on keys and addresses", test_examples_agree },
	{ "each broken config: its paths and messages", test_broken },
	{ "several problems: all reported", test_several_problems },
	{ "more problems than kept: all counted", test_error_cap },
	{ "comment lines keep line:column", test_comment_positions },
	{ "comment lines anywhere", test_comments_anywhere },
	{ "missing or odd file", test_missing_file },
	{ "a FIFO is refused without waiting", test_fifo },
	{ "file writable by group or others", test_file_mode },
	{ "defaults of a minimal config", test_defaults },
	{ "engine settings derived", test_engine_derived },
	{ "default lcore", test_default_lcore },
	{ "engine check mapped to a path", test_engine_where },
	{ "cores and ipv4 parsers", test_parsers },
	{ "key write/read round trip", test_key_round_trip },
	{ "key file permissions", test_key_permissions },
	{ "key file contents", test_key_contents },
	{ "the identity: key file problems, own key as a peer", test_check_identity },
	{ "base64 keys", test_base64 },
	{ "network id known answers", test_network_id },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("conf", cases)
