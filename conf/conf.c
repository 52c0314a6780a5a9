/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: loading a configuration file — reading, comment lines, JSON syntax errors, the top
 * level and the order of the sections (see conf.h; the sections are in conf_node.c,
 * conf_net.c and conf_engine.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_pvt.h"
#include "sl_escape.h"
#include "sl_jsonc.h"

#define CONF_MAX_FILE (4u << 20) /* a configuration is a few KiB; refuse anything huge */

static void __attribute__((format(printf, 3, 0)))
record(struct conf_error *e, const char *where, const char *fmt, va_list ap)
{
	snprintf(e->where, sizeof(e->where), "%s", where);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	sl_escape_inplace(e->where, sizeof(e->where));
	sl_escape_inplace(e->message, sizeof(e->message));
}

void
conf_error(struct conf_ctx *x, const char *where, const char *fmt, ...)
{
	va_list ap;

	if (x->errs->n++ >= CONF_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	record(&x->errs->e[x->errs->n - 1], where, fmt, ap);
	va_end(ap);
}

void
conf_warning(struct conf_ctx *x, const char *where, const char *fmt, ...)
{
	va_list ap;

	if (x->errs->n_warnings >= CONF_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	record(&x->errs->w[x->errs->n_warnings++], where, fmt, ap);
	va_end(ap);
}

void
conf_errors_print(const struct conf_errors *errs, void *stream)
{
	FILE *f = stream;
	unsigned int kept = errs->n < CONF_MAX_ERRORS ? errs->n : CONF_MAX_ERRORS;

	for (unsigned int i = 0; i < kept; i++)
		fprintf(f, "%s: %s\n", errs->e[i].where, errs->e[i].message);
	if (errs->n > kept)
		fprintf(f, "... and %u more problems\n", errs->n - kept);
	for (unsigned int i = 0; i < errs->n_warnings; i++)
		fprintf(f, "%s: warning: %s\n", errs->w[i].where, errs->w[i].message);
}

static const char *
file_kind(mode_t m)
{
	return S_ISDIR(m)    ? "a directory"
	       : S_ISFIFO(m) ? "a FIFO"
	       : S_ISSOCK(m) ? "a socket"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
			     : "not a file";
}

/* The configuration decides what a root process loads and talks to: whoever may write it
 * controls the appliance. Writable by others is refused; writable by the group, accepted with
 * a warning (like wg-quick's). */
static bool
mode_ok(struct conf_ctx *x, const char *path, mode_t m)
{
	if (m & S_IWOTH) {
		conf_error(x, path,
			   "writable by others (mode %04o): anyone on this machine could change "
			   "what the appliance runs; chmod o-w it",
			   (unsigned int)(m & 07777));
		return false;
	}
	if (m & S_IWGRP)
		conf_warning(x, path,
			     "writable by its group (mode %04o): every member can change what the "
			     "appliance runs; chmod g-w it unless that is meant",
			     (unsigned int)(m & 07777));
	return true;
}

/* A configuration is a few KiB: anything over CONF_MAX_FILE is refused before it is read. */
static bool
size_ok(struct conf_ctx *x, const char *name, uint64_t size)
{
	if (size <= CONF_MAX_FILE)
		return true;
	conf_error(x, name, "%llu bytes: a configuration is at most %u bytes",
		   (unsigned long long)size, CONF_MAX_FILE);
	return false;
}

/* The whole file into a NUL-terminated heap buffer, or NULL after reporting why. */
static char *
read_file(struct conf_ctx *x, const char *path, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		conf_error(x, path, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		conf_error(x, path, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_error(x, path, "not a regular file (%s)", file_kind(st.st_mode));
		goto out;
	}
	if (!mode_ok(x, path, st.st_mode) || !size_ok(x, path, (uint64_t)st.st_size))
		goto out;
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		conf_error(x, path, "out of memory");
		goto out;
	}
	*len = 0;
	while ((n = read(fd, buf + *len, (size_t)st.st_size - *len)) > 0)
		*len += (size_t)n;
	if (n < 0) {
		conf_error(x, path, "cannot read: %s", strerror(errno));
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[*len] = '\0';
out:
	close(fd);
	return buf;
}

/* Number of characters (not bytes) of a UTF-8 string. */
static size_t
utf8_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

/* jansson points at the last character of the token it stopped at, and names it: "... near
 * 'tok'". Move the column to the token's first character, where an editor should go. */
static int
token_start_column(const json_error_t *e)
{
	const char *near = strstr(e->text, " near '");
	size_t len, chars;

	if (near == NULL || strstr(e->text, "near end of file") != NULL)
		return e->column > 0 ? e->column : 1;
	near += strlen(" near '");
	len = strlen(near);
	if (len < 2 || near[len - 1] != '\'' || strlen(e->text) >= sizeof(e->text) - 1)
		return e->column > 0 ? e->column : 1;
	chars = utf8_chars(near, len - 1);
	if (chars == 0 || (size_t)e->column < chars)
		return e->column > 0 ? e->column : 1;
	return e->column - (int)chars + 1;
}

/* "file:line:column: message"; the tail of the file name if the whole does not fit. */
static void
syntax_error(struct conf_ctx *x, const json_error_t *e)
{
	char pos[32], where[CONF_WHERE_LEN];
	size_t flen = strlen(x->file), plen;
	const char *file = x->file;

	plen = (size_t)snprintf(pos, sizeof(pos), ":%d:%d", e->line, token_start_column(e));
	if (flen + plen >= sizeof(where))
		file += flen + plen + 3 - (sizeof(where) - 1);
	snprintf(where, sizeof(where), "%s%s%s", file == x->file ? "" : "...", file, pos);
	if (json_error_code(e) == json_error_duplicate_key) {
		/* jansson says: duplicate object key near '"name"' */
		const char *near = strstr(e->text, "near '");
		int len = near == NULL ? 0 : (int)strlen(near) - (int)strlen("near ''");

		conf_error(x, where, "duplicate key %.*s: a key may appear only once in an object",
			   len > 0 ? len : 0, near != NULL ? near + strlen("near '") : "");
		return;
	}
	if (strstr(e->text, "near '/'") != NULL)
		conf_error(x, where,
			   "%s (a comment is a whole line whose first non-blank "
			   "characters are //)",
			   e->text);
	else
		conf_error(x, where, "%s", e->text);
}

/* JSON text never holds a NUL byte, and jansson would take one between tokens for the end of
 * the text ("near end of file"): name it, where it is. True if there is none. */
static bool
no_nul_byte(struct conf_ctx *x, const char *buf, size_t len)
{
	const char *nul = memchr(buf, '\0', len), *line = buf;
	char where[CONF_WHERE_LEN];
	unsigned int n = 1;

	if (nul == NULL)
		return true;
	for (const char *p = buf; p < nul; p++)
		if (*p == '\n') {
			n++;
			line = p + 1;
		}
	snprintf(where, sizeof(where), "%s:%u:%zu", x->file, n,
		 utf8_chars(line, (size_t)(nul - line)) + 1);
	conf_error(x, where, "a NUL byte (0x00): a configuration is UTF-8 text");
	return false;
}

/* The JSON of a configuration's text (buf[len], NUL-terminated; its comment lines are blanked
 * in place), or NULL after reporting a NUL byte or the syntax error. */
static json_t *
parse_text(struct conf_ctx *x, char *buf, size_t len)
{
	json_error_t err;
	json_t *root;

	if (!no_nul_byte(x, buf, len))
		return NULL;
	sl_json_blank_comments(buf, len);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL)
		syntax_error(x, &err);
	return root;
}

static const char *const top_keys[] = {
	"network", "suite",    "identity",  "eal", "ports",	"lcores", "limits",	"channels",
	"peers",   "services", "telemetry", "api", "discovery", "relay",  "peers_only", NULL,
};

static const char *const suite_names[] = { "aesgcm-sha256", "chachapoly-blake2b", NULL };

/* network, suite, telemetry, peers_only: the scalars of the top level. */
static void
top_scalars(struct conf_ctx *x, const json_t *root)
{
	struct conf *c = x->c;
	int suite = 0;
	const json_t *v;

	v = conf_member(x, root, "", "network", "a string (the network's name)");
	if (v != NULL &&
	    conf_string(x, v, "network", sizeof(c->network) - 1, c->network, sizeof(c->network)))
		c->network_id = conf_network_id(c->network);
	conf_opt_choice(x, root, "", "suite", suite_names, &suite);
	c->suite = suite == 0 ? SL_SUITE_AESGCM_SHA256 : SL_SUITE_CHACHAPOLY_BLAKE2B;
	c->telemetry = true;
	conf_opt_bool(x, root, "", "telemetry", &c->telemetry);
	conf_opt_bool(x, root, "", "peers_only", &c->peers_only);
}

/* peers_only with nobody it lets in: valid (a node that only dials out, or is told whom to
 * dial by applications), but more likely a mistake. */
static void
peers_only_check(struct conf_ctx *x)
{
	const struct conf *c = x->c;

	if (c->peers_only && c->n_peers == 0 &&
	    (!c->discovery.enabled || c->discovery.n_inbound_allow == 0))
		conf_warning(x, "peers_only",
			     "no peers, no discovery.inbound keys: whoever dials in is refused");
}

/* Every section, in an order where each one only looks back at sections already done. */
static void
top_level(struct conf_ctx *x, const json_t *root)
{
	if (!json_is_object(root)) {
		conf_error(x, "(top level)", "expected an object, got %s", conf_type_name(root));
		return;
	}
	conf_check_keys(x, root, "", top_keys);
	top_scalars(x, root);
	conf_identity(x, conf_member(x, root, "", "identity", "an object (the key file)"),
		      "identity");
	conf_eal(x, json_object_get(root, "eal"), "eal");
	conf_limits(x, json_object_get(root, "limits"), "limits");
	conf_ports(x, conf_member(x, root, "", "ports", "an array of at least one port"), "ports");
	conf_channels(x, json_object_get(root, "channels"), "channels");
	conf_lcores(x, json_object_get(root, "lcores"), "lcores");
	conf_peers(x, json_object_get(root, "peers"), "peers");
	conf_services(x, json_object_get(root, "services"), "services");
	conf_api(x, json_object_get(root, "api"), "api");
	conf_discovery(x, json_object_get(root, "discovery"), "discovery");
	conf_relay(x, json_object_get(root, "relay"), "relay");
	peers_only_check(x);
	if (x->errs->n == 0) {
		conf_engine(x);
		conf_services_bind(x->c);
	}
}

/* Start a conf_load() or conf_parse() of `name`: *errs emptied, *x set up with a new
 * configuration to fill. NULL after reporting when out of memory. */
static struct conf *
begin(struct conf_ctx *x, struct conf_errors *errs, const char *name)
{
	memset(errs, 0, sizeof(*errs));
	memset(x, 0, sizeof(*x));
	x->errs = errs;
	x->file = name;
	x->c = calloc(1, sizeof(*x->c));
	if (x->c == NULL) {
		conf_error(x, name, "out of memory");
		return NULL;
	}
	if (strlen(name) >= sizeof(x->c->path))
		conf_error(x, name, "path longer than %zu characters", sizeof(x->c->path) - 1);
	snprintf(x->c->path, sizeof(x->c->path), "%s", name);
	return x->c;
}

/* Parse and check the text (NULL: it could not be had, which was reported); then the
 * configuration, or NULL if anything was wrong. buf is the caller's to free. */
static struct conf *
finish(struct conf_ctx *x, char *buf, size_t len)
{
	json_t *root = buf == NULL ? NULL : parse_text(x, buf, len);

	if (root != NULL) {
		top_level(x, root);
		json_decref(root);
	}
	if (x->errs->n > 0) {
		conf_free(x->c);
		return NULL;
	}
	return x->c;
}

struct conf *
conf_load(const char *path, struct conf_errors *errs)
{
	struct conf_errors local;
	struct conf_ctx x;
	struct conf *c;
	size_t len = 0;
	char *buf;

	if (begin(&x, errs != NULL ? errs : &local, path) == NULL)
		return NULL;
	buf = read_file(&x, path, &len);
	c = finish(&x, buf, len);
	free(buf);
	return c;
}

struct conf *
conf_parse(const char *name, const char *text, size_t len, struct conf_errors *errs)
{
	struct conf_errors local;
	struct conf_ctx x;
	char *buf = NULL;
	struct conf *c;

	if (begin(&x, errs != NULL ? errs : &local, name) == NULL)
		return NULL;
	if (size_ok(&x, name, len)) {
		/* a copy: comment lines are blanked in place, and the parser wants a NUL after */
		buf = malloc(len + 1);
		if (buf == NULL)
			conf_error(&x, name, "out of memory");
		else if (len > 0)
			memcpy(buf, text, len);
		if (buf != NULL)
			buf[len] = '\0';
	}
	c = finish(&x, buf, len);
	free(buf);
	return c;
}

void
conf_free(struct conf *c)
{
	free(c);
}
