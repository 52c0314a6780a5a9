/* SPDX-License-Identifier: BSD-3-Clause
 * sluicectl: printing — the appliance's strings escaped, sizes and ages for people, JSON for
 * scripts.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "sl_escape.h"

#define ESC_BUFS 16 /* strings one printf may take */
#define ESC_LEN	 512

const char *
ctl_esc(const char *s)
{
	static char buf[ESC_BUFS][ESC_LEN];
	static unsigned int next;
	char *out = buf[next++ % ESC_BUFS];

	if (s == NULL)
		return "-";
	return sl_escape(out, ESC_LEN, s, strlen(s));
}

void
ctl_fmt_bytes(char *out, size_t len, uint64_t bytes)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(out, len, "%" PRIu64 " B", bytes);
		return;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, len, "%.2f %s", v, unit[u]);
}

/* ", 2 minutes" appended when n is not 0 (and "1 minute" without the s). */
static size_t
age_part(char *out, size_t len, size_t at, uint64_t n, const char *what)
{
	int k;

	if (n == 0 || at >= len)
		return at;
	k = snprintf(out + at, len - at, "%s%" PRIu64 " %s%s", at > 0 ? ", " : "", n, what,
		     n == 1 ? "" : "s");
	return k < 0 ? at : at + (size_t)k;
}

void
ctl_fmt_duration(char *out, size_t len, uint64_t ms)
{
	uint64_t s = ms / 1000;
	size_t at = 0;

	if (s == 0) {
		snprintf(out, len, "less than a second");
		return;
	}
	out[0] = '\0';
	at = age_part(out, len, at, s / 86400, "day");
	at = age_part(out, len, at, s / 3600 % 24, "hour");
	at = age_part(out, len, at, s / 60 % 60, "minute");
	(void)age_part(out, len, at, s % 60, "second");
}

void
ctl_fmt_rtt(char *out, size_t len, uint64_t us)
{
	if (us < 1000)
		snprintf(out, len, "%" PRIu64 " us", us);
	else
		snprintf(out, len, "%.2f ms", (double)us / 1000);
}

const char *
ctl_get_str(const json_t *o, const char *key)
{
	static char num[ESC_BUFS][24];
	static unsigned int next;
	const json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		return ctl_esc(json_string_value(v));
	if (json_is_integer(v)) {
		char *b = num[next++ % ESC_BUFS];

		snprintf(b, sizeof(num[0]), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return b;
	}
	return "-";
}

uint64_t
ctl_get_u64(const json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v > 0 ? (uint64_t)v : 0;
}

int
ctl_json_print(json_t *doc)
{
	int rc = doc != NULL ? json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_ENSURE_ASCII) : -1;

	json_decref(doc);
	if (rc != 0 || fputc('\n', stdout) == EOF) {
		fprintf(stderr, "sluicectl: cannot write the JSON output\n");
		return CTL_USAGE;
	}
	return CTL_OK;
}

static bool
listed(const char *const *names, const char *name)
{
	for (; names != NULL && *names != NULL; names++)
		if (strcmp(*names, name) == 0)
			return true;
	return false;
}

unsigned int
ctl_print_nonzero(const json_t *o, const char *indent, const char *const *skip)
{
	const char *name;
	json_t *v;
	unsigned int zero = 0;

	json_object_foreach ((json_t *)o, name, v) {
		if (!json_is_integer(v) || listed(skip, name))
			continue;
		if (json_integer_value(v) == 0)
			zero++;
		else
			printf("%s%s %" JSON_INTEGER_FORMAT "\n", indent, ctl_esc(name),
			       json_integer_value(v));
	}
	return zero;
}
