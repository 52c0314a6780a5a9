/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: sluicectl's parts that need no appliance (api/ctl/ctl.h) — reading api.socket and
 * eal.file_prefix from configuration files (comment lines, what the command line already set,
 * wrong types, syntax errors, duplicate keys), the telemetry socket's path, and the telemetry
 * client against a fake telemetry server in a thread (a greeting, then canned answers: a good
 * one, a command it does not know, something that is not JSON, an answer longer than the
 * greeting allows, the connection closed); and the printing helpers (escaping, sizes,
 * durations, round trips) against tables.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "sl_test.h"

/* --- configuration ------------------------------------------------------------------------ */

static char cfg_path[64];

static int
read_cfg(struct ctl *ctl, const char *text)
{
	FILE *f;

	snprintf(cfg_path, sizeof(cfg_path), "/tmp/test_sluicectl-%d.json", (int)getpid());
	f = fopen(cfg_path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	return ctl_cfg_read(ctl, cfg_path);
}

static void
test_cfg(void)
{
	struct ctl ctl = { .json = false };

	CU_ASSERT_EQUAL(read_cfg(&ctl, "// a comment line\n{\n  // another\n"
				       "  \"eal\": { \"file_prefix\": \"node-a\" },\n"
				       "  \"api\": { \"socket\": \"/run/a.sock\", \"mode\": \"0600\" }\n}\n"),
			CTL_OK);
	CU_ASSERT_STRING_EQUAL(ctl.socket, "/run/a.sock");
	CU_ASSERT_STRING_EQUAL(ctl.prefix, "node-a");
	/* the command line (already set) wins */
	strcpy(ctl.socket, "/given.sock");
	ctl.prefix[0] = '\0';
	CU_ASSERT_EQUAL(read_cfg(&ctl, "{\"api\": {\"socket\": \"/x.sock\"}}"), CTL_OK);
	CU_ASSERT_STRING_EQUAL(ctl.socket, "/given.sock");
	CU_ASSERT_STRING_EQUAL(ctl.prefix, ""); /* no eal section: left to the default */
	memset(&ctl, 0, sizeof(ctl));
	CU_ASSERT_EQUAL(read_cfg(&ctl, "{\"network\": \"n\"}"), CTL_OK); /* no api section */
	CU_ASSERT_STRING_EQUAL(ctl.socket, "");
	CU_ASSERT_EQUAL(read_cfg(&ctl, "{\"api\": {\"socket\": 3}}"), CTL_USAGE);
	CU_ASSERT_EQUAL(read_cfg(&ctl, "{\"api\": {\"socket\": \"\"}}"), CTL_USAGE);
	CU_ASSERT_EQUAL(read_cfg(&ctl, "{\"eal\": {\"file_prefix\": [1]}}"), CTL_USAGE);
	CU_ASSERT_EQUAL(read_cfg(&ctl, "{\"api\": {\"socket\": \"/a\",}}"), CTL_USAGE);
	CU_ASSERT_EQUAL(read_cfg(&ctl, "{\"api\": 1, \"api\": 2}"), CTL_USAGE);
	CU_ASSERT_EQUAL(read_cfg(&ctl, "[]"), CTL_USAGE);
	CU_ASSERT_EQUAL(read_cfg(&ctl, "{} // not a whole line"), CTL_USAGE);
	unlink(cfg_path);
	CU_ASSERT_EQUAL(ctl_cfg_read(&ctl, cfg_path), CTL_USAGE); /* no such file */
}

/* --- the telemetry client ----------------------------------------------------------------- */

#define FAKE_PREFIX_FMT "test-sluicectl-%d"

struct fake_tel {
	int listen_fd;
	char dir[PATH_MAX], path[CTL_PATH_LEN];
	const char *greeting;
	const char *const *answers; /* one per command, NULL: close the connection */
	pthread_t thread;
};

static void *
fake_serve(void *arg)
{
	struct fake_tel *f = arg;
	char cmd[256];
	int fd = accept(f->listen_fd, NULL, NULL);

	if (fd < 0)
		return NULL;
	send(fd, f->greeting, strlen(f->greeting), 0);
	for (const char *const *a = f->answers; *a != NULL; a++)
		if (recv(fd, cmd, sizeof(cmd), 0) <= 0 || send(fd, *a, strlen(*a), 0) < 0)
			break;
	close(fd);
	return NULL;
}

/* A fake telemetry socket where ctl_tel_path() puts the socket of ctl's prefix. */
static void
fake_start(struct fake_tel *f, struct ctl *ctl, const char *greeting, const char *const *answers)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(ctl->prefix, sizeof(ctl->prefix), FAKE_PREFIX_FMT, (int)getpid());
	CU_ASSERT_EQUAL_FATAL(ctl_tel_path(f->path, sizeof(f->path), ctl->prefix), 0);
	snprintf(f->dir, sizeof(f->dir), "%.*s", (int)(strrchr(f->path, '/') - f->path), f->path);
	mkdir(f->dir, 0700); /* its parent (the runtime directory) may have to be made too */
	if (access(f->dir, F_OK) != 0) {
		char parent[PATH_MAX];

		snprintf(parent, sizeof(parent), "%.*s", (int)(strrchr(f->dir, '/') - f->dir), f->dir);
		mkdir(parent, 0700);
		mkdir(f->dir, 0700);
	}
	unlink(f->path);
	strcpy(sa.sun_path, f->path);
	f->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	CU_ASSERT_FATAL(f->listen_fd >= 0);
	CU_ASSERT_EQUAL_FATAL(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CU_ASSERT_EQUAL_FATAL(listen(f->listen_fd, 1), 0);
	f->greeting = greeting;
	f->answers = answers;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&f->thread, NULL, fake_serve, f), 0);
}

static void
fake_stop(struct fake_tel *f)
{
	pthread_join(f->thread, NULL);
	close(f->listen_fd);
	unlink(f->path);
	rmdir(f->dir);
}

static const char greeting[] = "{\"version\": \"DPDK 22.11\", \"pid\": 1, \"max_output_len\": 120}";

static void
test_tel(void)
{
	static const char *const answers[] = {
		"{\"/sluice/info\": {\"public_key\": \"k\\u001b[2J\", \"uptime_ms\": 5}}",
		"{\"/sluice/nope\": null}",
		"not json at all",
		"{\"/sluice/peers\": {\"b\": {\"name\": \"0123456789012345678901234567890123456789"
		"0123456789012345678901234567890123456789012345678901234567890123456789\"}}}",
		NULL, /* then the connection closes */
	};
	struct fake_tel f;
	struct ctl_tel t;
	struct ctl ctl = { .json = false };
	json_t *v;

	fake_start(&f, &ctl, greeting, answers);
	CU_ASSERT_EQUAL_FATAL(ctl_tel_open(&ctl, &t), CTL_OK);
	CU_ASSERT_EQUAL(t.max_len, 120);
	v = ctl_tel_query(&t, "/sluice/info");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_STRING_EQUAL(ctl_get_str(v, "public_key"), "k\\x1b[2J"); /* escaped */
	CU_ASSERT_EQUAL(ctl_get_u64(v, "uptime_ms"), 5);
	CU_ASSERT_STRING_EQUAL(ctl_get_str(v, "uptime_ms"), "5");
	CU_ASSERT_STRING_EQUAL(ctl_get_str(v, "absent"), "-");
	json_decref(v);
	CU_ASSERT_PTR_NULL(ctl_tel_query(&t, "/sluice/nope"));	 /* null: unknown command */
	CU_ASSERT_PTR_NULL(ctl_tel_query(&t, "/sluice/drops"));	 /* not JSON */
	CU_ASSERT_PTR_NULL(ctl_tel_query(&t, "/sluice/peers,b")); /* longer than 120 bytes */
	CU_ASSERT_PTR_NULL(ctl_tel_query(&t, "/sluice/apps"));	 /* the connection closed */
	ctl_tel_close(&t);
	fake_stop(&f);
	/* nobody there now */
	CU_ASSERT_EQUAL(ctl_tel_open(&ctl, &t), CTL_UNREACHABLE);
}

static void
test_tel_path(void)
{
	char p[CTL_PATH_LEN];

	CU_ASSERT_EQUAL(ctl_tel_path(p, sizeof(p), "sluice"), 0);
	if (getuid() == 0)
		CU_ASSERT_STRING_EQUAL(p, "/var/run/dpdk/sluice/dpdk_telemetry.v2");
	CU_ASSERT_EQUAL(ctl_tel_path(p, 30, "sluice"), -ENAMETOOLONG);
}

/* --- printing ----------------------------------------------------------------------------- */

static void
test_fmt(void)
{
	static const struct {
		uint64_t v;
		const char *bytes, *duration, *rtt;
	} cases[] = {
		{ 0, "0 B", "less than a second", "0 us" },
		{ 999, "999 B", "less than a second", "999 us" },
		{ 1000, "1000 B", "1 second", "1.00 ms" },
		{ 1536, "1.50 KiB", "1 second", "1.54 ms" },
		{ 61000, "59.57 KiB", "1 minute, 1 second", "61.00 ms" },
		{ 3600000, "3.43 MiB", "1 hour", "3600.00 ms" },
		{ 90061000, "85.89 MiB", "1 day, 1 hour, 1 minute, 1 second", "90061.00 ms" },
		{ 1ull << 40, "1.00 TiB", "12725 days, 19 hours, 53 minutes, 47 seconds",
		  "1099511627.78 ms" },
	};
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctl_fmt_bytes(out, sizeof(out), cases[i].v);
		CU_ASSERT_STRING_EQUAL(out, cases[i].bytes);
		ctl_fmt_duration(out, sizeof(out), cases[i].v);
		CU_ASSERT_STRING_EQUAL(out, cases[i].duration);
		ctl_fmt_rtt(out, sizeof(out), cases[i].v);
		CU_ASSERT_STRING_EQUAL(out, cases[i].rtt);
	}
	ctl_fmt_duration(out, 12, 90061000); /* cut, never overrun */
	CU_ASSERT_EQUAL(strlen(out), 11);
}

static void
test_esc(void)
{
	const char *first = ctl_esc("a\x1b[31m\nb\\");

	CU_ASSERT_STRING_EQUAL(first, "a\\x1b[31m\\x0ab\\\\");
	CU_ASSERT_STRING_EQUAL(ctl_esc(NULL), "-");
	for (int i = 0; i < 14; i++)
		(void)ctl_esc("other");
	CU_ASSERT_STRING_EQUAL(first, "a\\x1b[31m\\x0ab\\\\"); /* still there 15 calls on */
}

static CU_TestInfo cases[] = {
	{ "configuration: api.socket, eal.file_prefix", test_cfg },
	{ "telemetry client against a fake server", test_tel },
	{ "telemetry socket path", test_tel_path },
	{ "sizes, durations, round trips", test_fmt },
	{ "escaping of the appliance's strings", test_esc },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("sluicectl", cases)
