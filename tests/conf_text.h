/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tests: configurations written as text and loaded — what test_conf.c and
 * test_conf_api.c share.
 */
#ifndef CONF_TEXT_H
#define CONF_TEXT_H

#include <stdbool.h>
#include <sys/types.h>

#include "conf.h"

/* A configuration with only what is required: a network, a key file, one port. */
#define MINIMAL_PORT "{ \"name\": \"p0\", \"device\": \"net_null0\", \"ipv4\": \"198.18.0.1/24\" }"
#define MINIMAL_HEAD                                                                   \
	"{ \"network\": \"sluice-demo\", \"identity\": { \"key_file\": \"k.key\" },\n" \
	"  \"ports\": [ " MINIMAL_PORT " ]"
#define MINIMAL MINIMAL_HEAD " }\n"

/* A fresh directory under /tmp for files a test writes. */
void tmpdir_make(char dir[64]);
/* Write text to path with mode (asserted). */
void write_text(const char *path, const char *text, mode_t mode);
void print_errors(const char *what, const struct conf_errors *errs);
/* Load text as <dir>/c.json (dir is left for the caller to compare paths with). */
struct conf *load_text(const char *text, struct conf_errors *errs, char dir[64]);
/* Is e at where with substr in its message? where: a JSON path (exact), or ":line:column"
 * (the end of a syntax error's position). */
bool error_matches(const struct conf_error *e, const char *where, const char *substr);
/* Is one of errs? */
bool has_error(const struct conf_errors *errs, const char *where, const char *substr);

#endif /* CONF_TEXT_H */
