/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tests: configurations written as text and loaded (conf_text.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_text.h"
#include "sl_test.h"

void
tmpdir_make(char dir[64])
{
	snprintf(dir, 64, "/tmp/sluice-test-conf-XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
}

void
write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	CU_ASSERT_FATAL(fclose(f) == 0);
	CU_ASSERT_FATAL(chmod(path, mode) == 0);
}

void
print_errors(const char *what, const struct conf_errors *errs)
{
	fprintf(stderr, "\n%s: %u problem(s)\n", what, errs->n);
	conf_errors_print(errs, stderr);
}

struct conf *
load_text(const char *text, struct conf_errors *errs, char dir[64])
{
	char path[128];
	struct conf *c;

	tmpdir_make(dir);
	snprintf(path, sizeof(path), "%s/c.json", dir);
	write_text(path, text, 0644);
	c = conf_load(path, errs);
	unlink(path);
	rmdir(dir);
	return c;
}

bool
error_matches(const struct conf_error *e, const char *where, const char *substr)
{
	size_t wl = strlen(e->where), l = strlen(where);

	if (where[0] == ':' ? (wl < l || strcmp(e->where + wl - l, where) != 0)
			    : strcmp(e->where, where) != 0)
		return false;
	return strstr(e->message, substr) != NULL;
}

bool
has_error(const struct conf_errors *errs, const char *where, const char *substr)
{
	for (unsigned int i = 0; i < errs->n && i < CONF_MAX_ERRORS; i++) {
		if (error_matches(&errs->e[i], where, substr))
			return true;
	}
	return false;
}
