/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the identity, eal and limits sections of a configuration (see conf_pvt.h). Ports and
 * peers are in conf_net.c; channels and the engine settings in conf_engine.c; lcores and
 * services in conf_refs.c.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "conf_pvt.h"

#define MS_NS  1000000ull
#define SEC_NS 1000000000ull

/* --- identity ------------------------------------------------------------------------------ */

bool
conf_resolve_path(struct conf_ctx *x, const char *file, const char *where, const char *what,
		  char *out, size_t size)
{
	const char *slash = strrchr(x->file, '/');
	int dir_len = slash == NULL ? 0 : (int)(slash - x->file + 1);
	int n;

	if (file[0] == '/')
		dir_len = 0;
	n = snprintf(out, size, "%.*s%s", dir_len, x->file, file);
	if (n >= 0 && (size_t)n < size)
		return true;
	conf_error(x, where,
		   "%s's path (from the configuration's directory) is longer than %zu characters",
		   what, size - 1);
	return false;
}

/* A relative key file is relative to the directory of the configuration file. */
static void
resolve_key_file(struct conf_ctx *x, const char *file, const char *where)
{
	conf_resolve_path(x, file, where, "the key file", x->c->key_file, sizeof(x->c->key_file));
}

void
conf_identity(struct conf_ctx *x, const json_t *v, const char *path)
{
	static const char *const keys[] = { "key_file", NULL };
	char where[CONF_WHERE_LEN], file[CONF_PATH_LEN];
	const json_t *kf;

	if (v == NULL || !conf_is(x, v, path, JSON_OBJECT))
		return;
	conf_check_keys(x, v, path, keys);
	kf = conf_member(x, v, path, "key_file", "a string (the private key file)");
	conf_path_key(where, path, "key_file");
	if (kf != NULL && conf_string(x, kf, where, sizeof(file) - 1, file, sizeof(file)))
		resolve_key_file(x, file, where);
}

/* --- eal ----------------------------------------------------------------------------------- */

static void
core_set(uint64_t set[], unsigned int id)
{
	set[id / 64] |= 1ull << (id % 64);
}

static bool
core_isset(const uint64_t set[], unsigned int id)
{
	return (set[id / 64] >> (id % 64)) & 1;
}

/* A decimal lcore id without leading zeros at *s; advances *s. -1 if none, -2 if too large. */
static int
core_number(const char **s)
{
	const char *p = *s;
	long n = 0;

	if (*p < '0' || *p > '9')
		return -1;
	if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (*p++ - '0');
		if (n >= CONF_LCORE_LIMIT)
			return -2;
	}
	*s = p;
	return (int)n;
}

const char *
conf_parse_cores(const char *s, uint64_t set[CONF_LCORE_LIMIT / 64])
{
	int lo, hi;

	memset(set, 0, CONF_LCORE_LIMIT / 8);
	do {
		lo = hi = core_number(&s);
		if (lo >= 0 && *s == '-') {
			s++;
			hi = core_number(&s);
		}
		if (lo == -2 || hi == -2)
			return "lcore ids go up to 127";
		if (lo < 0 || hi < 0)
			return "expected a number (no leading zeros) or a range a-b";
		if (hi < lo)
			return "a range must go upwards (a-b with a <= b)";
		for (int id = lo; id <= hi; id++) {
			if (core_isset(set, (unsigned int)id))
				return "an lcore id is listed twice";
			core_set(set, (unsigned int)id);
		}
	} while (*s++ == ',');
	return s[-1] == '\0' ? NULL : "unexpected character (expected digits, '-' and ',')";
}

static void
eal_cores(struct conf_ctx *x, const json_t *v, const char *path)
{
	struct conf_eal *e = &x->c->eal;
	char where[CONF_WHERE_LEN];
	const char *why;

	snprintf(e->cores, sizeof(e->cores), "0");
	if (!conf_opt_string(x, v, path, "cores", sizeof(e->cores) - 1, e->cores, sizeof(e->cores)))
		return;
	why = conf_parse_cores(e->cores, x->cores);
	if (why != NULL) {
		conf_error(x, conf_path_key(where, path, "cores"),
			   "\"%s\": %s (a list like \"0\", \"0,1\" or \"0-3\")", e->cores, why);
		return;
	}
	x->cores_ok = true;
}

static void
eal_file_prefix(struct conf_ctx *x, const json_t *v, const char *path)
{
	struct conf_eal *e = &x->c->eal;
	char where[CONF_WHERE_LEN];

	snprintf(e->file_prefix, sizeof(e->file_prefix), "sluice");
	if (!conf_opt_string(x, v, path, "file_prefix", sizeof(e->file_prefix) - 1, e->file_prefix,
			     sizeof(e->file_prefix)))
		return;
	if (strspn(e->file_prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_-") != strlen(e->file_prefix))
		conf_error(x, conf_path_key(where, path, "file_prefix"),
			   "\"%s\": only letters, digits, '_' and '-'", e->file_prefix);
}

/* EAL options that the eal keys produce: passing them again would contradict the keys. */
static const struct {
	const char *opt, *key;
} eal_owned[] = {
	{ "-l", "cores" },
	{ "--lcores", "cores" },
	{ "-c", "cores" },
	{ "--main-lcore", "cores" },
	{ "-m", "memory_mb" },
	{ "--socket-mem", "memory_mb" },
	{ "--file-prefix", "file_prefix" },
	{ "--no-huge", "hugepages" },
	{ "--no-pci", "pci" },
};

/* The configuration is read by a root process: an option in it must not load code, create a
 * device outside `ports`, or write a file the operator did not name in a port. These are the
 * EAL options it may carry (with "=value" where they take one); anything else belongs on the
 * command line after "--", where the operator types it. */
static const char *const eal_allowed[] = {
	"--log-level=",	    "--syslog=",	   "--huge-dir=",
	"--huge-unlink",    "--in-memory",	   "--single-file-segments",
	"--legacy-mem",	    "--match-allocations", "--iova-mode=",
	"--base-virtaddr=", "--socket-limit=",	   "--no-hpet",
	"--no-shconf",	    "--no-telemetry",	   "--telemetry",
	"--vfio-intr=",
};

/* Options refused with a reason of their own. */
static const struct {
	const char *opt, *why;
} eal_refused[] = {
	{ "-d", "loads a shared object as root" },
	{ "--driver-path", "loads a shared object as root" },
	{ "--vdev", "creates a device: declare it in ports" },
	{ "-a", "selects a PCI device: declare it in ports" },
	{ "--allow", "selects a PCI device: declare it in ports" },
	{ "-b", "hides a PCI device: not a configuration option" },
	{ "--block", "hides a PCI device: not a configuration option" },
	{ "--trace", "writes trace files: pass it on the command line after --" },
	{ "--trace-dir", "writes trace files: pass it on the command line after --" },
};

/* arg is opt, "opt=value", or for a one-letter option "-Xvalue". */
static bool
eal_is(const char *arg, const char *opt)
{
	size_t n = strlen(opt);

	return strncmp(arg, opt, n) == 0 &&
	       (arg[n] == '\0' || arg[n] == '=' || (opt[1] != '-' && n == 2));
}

/* NULL if arg may stand in eal.extra_args, else why not (written to buf when composed). */
static const char *
eal_arg_refused(const char *arg, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < RTE_DIM(eal_owned); i++)
		if (eal_is(arg, eal_owned[i].opt)) {
			snprintf(buf, len, "is set by eal.%s: use that key instead",
				 eal_owned[i].key);
			return buf;
		}
	for (i = 0; i < RTE_DIM(eal_refused); i++)
		if (eal_is(arg, eal_refused[i].opt))
			return eal_refused[i].why;
	for (i = 0; i < RTE_DIM(eal_allowed); i++) {
		size_t n = strlen(eal_allowed[i]);
		bool value = eal_allowed[i][n - 1] == '=';

		if (value ? strncmp(arg, eal_allowed[i], n) == 0 && arg[n] != '\0'
			  : strcmp(arg, eal_allowed[i]) == 0)
			return NULL;
	}
	return "is not an EAL option a configuration may carry (docs/configuration.md lists "
	       "them; others go on the command line after --)";
}

static void
eal_extra_args(struct conf_ctx *x, const json_t *v, const char *path)
{
	struct conf_eal *e = &x->c->eal;
	char where[CONF_WHERE_LEN], item[CONF_WHERE_LEN], buf[96];
	const json_t *a = json_object_get(v, "extra_args");
	const char *why;
	size_t i;

	conf_path_key(where, path, "extra_args");
	if (a == NULL || !conf_array(x, a, where, 0, CONF_MAX_EAL_ARGS))
		return;
	for (i = 0; i < json_array_size(a); i++) {
		conf_path_index(item, where, i);
		if (!conf_string(x, json_array_get(a, i), item, sizeof(e->extra[0]) - 1,
				 e->extra[e->n_extra], sizeof(e->extra[0])))
			continue;
		why = eal_arg_refused(e->extra[e->n_extra], buf, sizeof(buf));
		if (why != NULL) {
			conf_error(x, item, "\"%s\" %s", e->extra[e->n_extra], why);
			continue;
		}
		e->n_extra++;
	}
}

void
conf_eal(struct conf_ctx *x, const json_t *v, const char *path)
{
	static const char *const keys[] = { "cores", "memory_mb",  "file_prefix", "hugepages",
					    "pci",   "extra_args", NULL };
	struct conf_eal *e = &x->c->eal;

	/* an absent section (v == NULL) is an empty one: every key takes its default */
	e->memory_mb = 256;
	if (v != NULL && !conf_is(x, v, path, JSON_OBJECT))
		v = NULL;
	conf_check_keys(x, v, path, keys);
	eal_cores(x, v, path);
	conf_opt_u32(x, v, path, "memory_mb", 64, 65536, &e->memory_mb);
	eal_file_prefix(x, v, path);
	conf_opt_bool(x, v, path, "hugepages", &e->huge);
	conf_opt_bool(x, v, path, "pci", &e->pci);
	eal_extra_args(x, v, path);
}

/* --- limits -------------------------------------------------------------------------------- */

#define CONF_MIN_WINDOW	  (64u << 10)  /* the engine's initial channel credit */
#define CONF_MAX_WINDOW	  (512u << 20) /* 4 x window (the connection window) <= 2 GiB */
#define CONF_MAX_QUEUE	  (1u << 30)
#define CONF_MAX_TIMEOUT  86400000ull /* one day, in ms */
#define CONF_REKEY_MARGIN 30	      /* s between starting a rekey and the keypair's end */
#define CONF_MAX_REKEY_S  (SL_REJECT_AFTER_TIME_NS / SEC_NS - CONF_REKEY_MARGIN)

static_assert(CONF_MAX_REKEY_S >= SL_REKEY_AFTER_TIME_NS / SEC_NS, "the default rekey fits");
static_assert(4ull * CONF_MAX_WINDOW <= (1ull << 31), "the connection window stays <= 2 GiB");

/* Resumption: a cache of up to 2^20 node ids; a secret good for up to a day. */
#define CONF_MAX_RESUME_CACHE (1u << 20)
#define CONF_MAX_RESUME_S     86400u

static_assert(SL_RESUME_CACHE_DEFAULT <= CONF_MAX_RESUME_CACHE, "the default cache fits");
static_assert(SL_RESUME_LIFETIME_NS / SEC_NS <= CONF_MAX_RESUME_S, "the default lifetime fits");

static void
limits_defaults(struct conf_limits *l)
{
	l->max_message = SL_DEFAULT_MAX_MESSAGE;
	l->queue_bytes = 8u << 20;
	l->window_bytes = 4u << 20;
	l->unsent_bytes = 256u << 10;
	l->handshake_timeout_ns = 5 * SEC_NS;
	l->idle_timeout_ns = 30 * SEC_NS;
	l->keepalive_ns = 10 * SEC_NS;
	l->rekey_after_ns = SL_REKEY_AFTER_TIME_NS;
	l->max_sessions = 65536;
	l->handshakes_per_sec = SL_RATELIMIT_PER_SEC;
	l->handshake_burst = SL_RATELIMIT_BURST;
	l->resume_cache = SL_RESUME_CACHE_DEFAULT;
	l->resume_lifetime_ns = SL_RESUME_LIFETIME_NS;
}

/* A duration key in unit (ns per unit) into *ns. */
static bool
opt_duration(struct conf_ctx *x, const json_t *v, const char *path, const char *key, uint64_t min,
	     uint64_t max, uint64_t unit, uint64_t *ns)
{
	uint64_t n = *ns / unit;

	if (!conf_opt_uint(x, v, path, key, min, max, &n))
		return false;
	*ns = n * unit;
	return true;
}

/* The rules between limits; each is checked only when the keys it relates were valid. */
static void
limits_relations(struct conf_ctx *x, const char *path, const bool ok[3])
{
	const struct conf_limits *l = &x->c->limits;
	char where[CONF_WHERE_LEN];

	if (ok[0] && l->queue_bytes < l->max_message)
		conf_error(x, conf_path_key(where, path, "queue_bytes"),
			   "%u is less than max_message (%u): a queue must hold one message",
			   l->queue_bytes, l->max_message);
	if (ok[0] && l->window_bytes < l->max_message)
		conf_error(x, conf_path_key(where, path, "window_bytes"),
			   "%u is less than max_message (%u): the window must hold one message",
			   l->window_bytes, l->max_message);
	if (ok[1] && ok[2] && l->idle_timeout_ns != 0 && l->keepalive_ns >= l->idle_timeout_ns)
		conf_error(x, conf_path_key(where, path, "keepalive_ms"),
			   "%llu must be less than idle_timeout_ms (%llu), or the idle timeout "
			   "closes quiet connections before a keepalive is sent",
			   (unsigned long long)(l->keepalive_ns / MS_NS),
			   (unsigned long long)(l->idle_timeout_ns / MS_NS));
}

void
conf_limits(struct conf_ctx *x, const json_t *v, const char *path)
{
	static const char *const keys[] = {
		"max_message",		"queue_bytes",	      "window_bytes",	 "unsent_bytes",
		"handshake_timeout_ms", "idle_timeout_ms",    "keepalive_ms",	 "rekey_after_s",
		"max_sessions",		"handshakes_per_sec", "handshake_burst", "resume_cache",
		"resume_lifetime_s",	NULL
	};
	struct conf_limits *l = &x->c->limits;
	bool ok[3];

	limits_defaults(l);
	if (v == NULL || !conf_is(x, v, path, JSON_OBJECT))
		return;
	conf_check_keys(x, v, path, keys);
	/* every node takes any control message (channel 0: sl_limits.h) */
	ok[0] = conf_opt_u32(x, v, path, "max_message", SL_CONTROL_MSG_MAX, SL_MAX_MESSAGE,
			     &l->max_message);
	ok[0] &= conf_opt_u32(x, v, path, "queue_bytes", 1, CONF_MAX_QUEUE, &l->queue_bytes);
	ok[0] &= conf_opt_u32(x, v, path, "window_bytes", CONF_MIN_WINDOW, CONF_MAX_WINDOW,
			      &l->window_bytes);
	conf_opt_u32(x, v, path, "unsent_bytes", 0, CONF_MAX_QUEUE, &l->unsent_bytes);
	opt_duration(x, v, path, "handshake_timeout_ms", 100, 60000, MS_NS,
		     &l->handshake_timeout_ns);
	ok[1] = opt_duration(x, v, path, "idle_timeout_ms", 0, CONF_MAX_TIMEOUT, MS_NS,
			     &l->idle_timeout_ns);
	ok[2] = opt_duration(x, v, path, "keepalive_ms", 0, CONF_MAX_TIMEOUT, MS_NS,
			     &l->keepalive_ns);
	opt_duration(x, v, path, "rekey_after_s", 10, CONF_MAX_REKEY_S, SEC_NS, &l->rekey_after_ns);
	conf_opt_u32(x, v, path, "max_sessions", 1, SL_CONNID_MAX_SLOTS, &l->max_sessions);
	conf_opt_u32(x, v, path, "handshakes_per_sec", 1, 1000000, &l->handshakes_per_sec);
	conf_opt_u32(x, v, path, "handshake_burst", 1, 1000000, &l->handshake_burst);
	conf_opt_u32(x, v, path, "resume_cache", 0, CONF_MAX_RESUME_CACHE, &l->resume_cache);
	opt_duration(x, v, path, "resume_lifetime_s", 1, CONF_MAX_RESUME_S, SEC_NS,
		     &l->resume_lifetime_ns);
	limits_relations(x, path, ok);
}
