/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: configuration loading — every example in conf/ loads and the examples agree with one
 * another (keys, addresses); every broken configuration in tests/conf/ is rejected with the
 * expected JSON path and message, and with that one problem only; several problems are all
 * reported; comment lines keep syntax error positions; conf_parse() of a text gives what
 * conf_load() of its file gives; defaults and the derived engine settings; the network id.
 * Key files, the identity and base64 are test_conf_keys.c.
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

/* A file's whole contents into a heap buffer (no NUL added); *len its size. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n = -1; /* clang: set only when the first checks pass */

	CU_ASSERT_FATAL(f != NULL && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	CU_ASSERT_FATAL(buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* conf_parse() on a file's text gives what conf_load() gives on the file: the same
 * configuration for every example, the same problems for every broken one. */
static void
test_parse_text(void)
{
	const char *const dirs[] = { CONF_EXAMPLES_DIR "/*.json", CONF_BROKEN_DIR "/*.json" };
	struct conf_errors el, ep;

	for (size_t d = 0; d < RTE_DIM(dirs); d++) {
		glob_t g;

		CU_ASSERT_FATAL(glob(dirs[d], 0, NULL, &g) == 0);
		for (size_t i = 0; i < g.gl_pathc; i++) {
			size_t len;
			char *text = slurp(g.gl_pathv[i], &len);
			struct conf *a = conf_load(g.gl_pathv[i], &el);
			struct conf *b = conf_parse(g.gl_pathv[i], text, len, &ep);

			CU_ASSERT_EQUAL(a == NULL, b == NULL);
			CU_ASSERT(a == NULL || b == NULL || memcmp(a, b, sizeof(*a)) == 0);
			CU_ASSERT(memcmp(&el, &ep, sizeof(el)) == 0);
			conf_free(a);
			conf_free(b);
			free(text);
		}
		globfree(&g);
	}
}

/* The text is len bytes, not a C string: what follows is not read, a NUL inside is a syntax
 * error; the name stands for the file in positions and key paths; too long is refused. */
static void
test_parse_buffer(void)
{
	static const char text[] = MINIMAL "garbage";
	struct conf_errors errs;
	struct conf *c;
	char *big;

	c = conf_parse("etc/s.json", text, strlen(MINIMAL), &errs);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_STRING_EQUAL(c->path, "etc/s.json");
	CU_ASSERT_STRING_EQUAL(c->key_file, "etc/k.key");
	conf_free(c);
	CU_ASSERT(conf_parse("etc/s.json", text, strlen(text), &errs) == NULL);
	CU_ASSERT(errs.n == 1 && error_matches(&errs.e[0], "etc/s.json:3:1", "near 'garbage'"));
	CU_ASSERT(conf_parse("etc/s.json", MINIMAL, sizeof(MINIMAL) /* its NUL */, &errs) == NULL);
	CU_ASSERT(errs.n == 1 && strncmp(errs.e[0].where, "etc/s.json:3:", 13) == 0);
	CU_ASSERT(conf_parse("mem", "{}", 0, &errs) == NULL);
	CU_ASSERT(errs.n == 1 && strncmp(errs.e[0].where, "mem:", 4) == 0);
	big = calloc(1, (4u << 20) + 1);
	CU_ASSERT_FATAL(big != NULL);
	CU_ASSERT(conf_parse("big", big, (4u << 20) + 1, &errs) == NULL);
	CU_ASSERT(errs.n == 1 && error_matches(&errs.e[0], "big", "at most 4194304 bytes"));
	free(big);
}

/* --- what a valid configuration gives ------------------------------------------------------ */

static void
assert_defaults_engine(const struct conf *c)
{
	const struct dp_conn_config *e = &c->engine;

	CU_ASSERT_EQUAL(e->max_payload, 1432); /* 1500 - 28 - 8 (relay header) - 32 */
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
	CU_ASSERT(c->telemetry && !c->peers_only);
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
	CU_ASSERT_EQUAL(c->limits.resume_cache, SL_RESUME_CACHE_DEFAULT);
	CU_ASSERT_EQUAL(c->limits.resume_lifetime_ns, 600 * SEC);
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
		"\"unsent_bytes\": 0, \"resume_cache\": 0, \"resume_lifetime_s\": 30 },\n"
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
	CU_ASSERT_EQUAL(e->max_payload, 1280 - 68);
	CU_ASSERT(c->limits.resume_cache == 0 && c->limits.resume_lifetime_ns == 30 * SEC);
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
	{ "a text gives what its file gives", test_parse_text },
	{ "a text is a buffer, with a name", test_parse_buffer },
	{ "defaults of a minimal config", test_defaults },
	{ "engine settings derived", test_engine_derived },
	{ "default lcore", test_default_lcore },
	{ "engine check mapped to a path", test_engine_where },
	{ "cores and ipv4 parsers", test_parsers },
	{ "network id known answers", test_network_id },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("conf", cases)
