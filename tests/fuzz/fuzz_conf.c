/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: libFuzzer target — configuration text into the loader and its whole validation,
 * conf_parse() (what conf_load() runs on a file's contents).
 *
 * The input is the text of a configuration file, as it is (comment lines, any bytes, NULs).
 * Invariants, abort() on violation: no crash, leak or sanitizer report; the result is either a
 * configuration and no error, or NULL and at least one error; every error and warning kept has
 * its `where` and `message` NUL-terminated inside its array and made of printable ASCII only
 * (text quoted from the file is escaped: sl_escape.h), so printing one is always one safe line;
 * an accepted configuration has a port and an engine configuration the engine accepts.
 *
 * Built only with -Dfuzz=true under clang (make fuzz).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"

static bool
printable(const char *s, size_t size)
{
	const char *end = memchr(s, '\0', size);

	if (end == NULL)
		return false;
	for (; s < end; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

static void
check_problems(const struct conf_error *e, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		fuzz_check(printable(e[i].where, sizeof(e[i].where)),
			   "where: printable ASCII + NUL");
		fuzz_check(printable(e[i].message, sizeof(e[i].message)),
			   "message: printable ASCII + NUL");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_errors errs;
	struct conf *c = conf_parse("fuzz/sluice.json", (const char *)data, size, &errs);

	fuzz_check((c != NULL) == (errs.n == 0), "a configuration, or at least one error");
	fuzz_check(errs.n_warnings <= CONF_MAX_WARNINGS, "warnings kept");
	check_problems(errs.e, errs.n < CONF_MAX_ERRORS ? errs.n : CONF_MAX_ERRORS);
	check_problems(errs.w, errs.n_warnings);
	if (c != NULL) {
		fuzz_check(c->n_ports >= 1 && c->n_ports <= CONF_MAX_PORTS, "one port at least");
		fuzz_check(dp_conn_config_check(&c->engine) == NULL,
			   "the engine takes its settings");
	}
	conf_free(c);
	return 0;
}
