/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the api section of a configuration (conf/conf_api.c) — what it defaults to, what it
 * takes, and each way it is refused with the path of the problem. The defaults are checked
 * after the stack was filled with "0600" (the text of a mode), because mode and group were
 * once parsed from an uninitialised buffer when their keys were absent: a stack that held
 * "0600" there made the socket's group gid 600, other garbage refused the configuration.
 */
#include <string.h>

#include "conf_text.h"
#include "sl_test.h"

#define WITH_API(api) MINIMAL_HEAD ", \"api\": " api " }\n"

/* Fill a stretch of the stack with "0600\0" over and over: what conf_load() finds there
 * where it reads a buffer it did not write. */
static void __attribute__((noinline)) dirty_stack(void)
{
	volatile char buf[16384];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = "0600"[i % 5 < 4 ? i % 5 : 4];
}

static struct conf *
load(const char *text, struct conf_errors *errs)
{
	char dir[64];

	dirty_stack();
	return load_text(text, errs, dir);
}

static void
test_api_defaults(void)
{
	struct conf_errors errs;
	struct conf *c = load(WITH_API("{ \"socket\": \"/run/sluice/a.sock\" }"), &errs);

	if (c == NULL)
		print_errors("api defaults", &errs);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT(c->api.enabled);
	CU_ASSERT_STRING_EQUAL(c->api.socket, "/run/sluice/a.sock");
	CU_ASSERT_EQUAL(c->api.mode, 0660);
	CU_ASSERT(!c->api.has_group); /* the process's group, not one read from garbage */
	CU_ASSERT_EQUAL(c->api.max_apps, 16);
	conf_free(c);
	c = load(MINIMAL, &errs); /* no section: no interface */
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT(!c->api.enabled);
	conf_free(c);
}

static void
test_api_given(void)
{
	struct conf_errors errs;
	struct conf *c = load(WITH_API("{ \"socket\": \"/tmp/a.sock\", \"mode\": \"0600\", "
				       "\"group\": \"0\", \"max_apps\": 4 }"),
			      &errs);

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(c->api.mode, 0600);
	CU_ASSERT(c->api.has_group && c->api.gid == 0);
	CU_ASSERT_EQUAL(c->api.max_apps, 4);
	conf_free(c);
}

static void
test_api_refused(void)
{
	static const struct {
		const char *api, *where, *says;
	} cases[] = {
		{ "{ \"socket\": \"a.sock\" }", "api.socket", "an absolute path" },
		{ "{ \"mode\": \"0600\" }", "api.socket", "missing" },
		{ "{ \"socket\": \"/a\", \"mode\": \"0666\" }", "api.mode", "every local user" },
		{ "{ \"socket\": \"/a\", \"mode\": \"0460\" }", "api.mode", "0600 at least" },
		{ "{ \"socket\": \"/a\", \"mode\": \"06x0\" }", "api.mode", "is not a mode" },
		{ "{ \"socket\": \"/a\", \"group\": \"no-such-group-here\" }", "api.group",
		  "no group" },
		{ "{ \"socket\": \"/a\", \"max_apps\": 0 }", "api.max_apps", "" },
		{ "{ \"socket\": \"/a\", \"max_apps\": 65 }", "api.max_apps", "" },
		{ "{ \"socket\": \"/a\", \"sockets\": 1 }", "api.sockets", "" },
	};
	struct conf_errors errs;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		struct conf *c;

		snprintf(text, sizeof(text), WITH_API("%s"), cases[i].api);
		c = load(text, &errs);
		CU_ASSERT_PTR_NULL(c);
		conf_free(c);
		if (!has_error(&errs, cases[i].where, cases[i].says)) {
			print_errors(cases[i].api, &errs);
			CU_FAIL("not refused where expected");
		}
	}
}

static CU_TestInfo cases[] = {
	{ "api: defaults (mode, group, max_apps), no section", test_api_defaults },
	{ "api: every key given", test_api_given },
	{ "api: each problem refused at its path", test_api_refused },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("conf_api", cases)
