/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the api section of a configuration (conf/conf_api.c) — what it defaults to and what
 * it takes (the ways it is refused are broken configurations: tests/conf/api-*.json). The
 * defaults are checked after the stack was filled with "0600" (the text of a mode), because
 * mode and group were once parsed from an uninitialised buffer when their keys were absent:
 * a stack that held digits there would have made them the socket's mode or group, other
 * garbage refused the configuration.
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

static CU_TestInfo cases[] = {
	{ "api: defaults (mode, group, max_apps), no section", test_api_defaults },
	{ "api: every key given", test_api_given },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("conf_api", cases)
