/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the program.
 *
 *   sluice --config FILE [--duration SEC] [--exit-when-done] [--log-level LEVEL] [-- EAL...]
 *   sluice --check-config FILE
 *   sluice keygen [FILE]          a new private key: to FILE (mode 0600) or stdout
 *   sluice pubkey [FILE]          the public key of a private key (FILE or stdin)
 *   sluice --version | --help
 *   sluice -h                     the same as --help
 *
 * Running: load and validate the configuration and the key (nothing starts on any error),
 * start EAL from the configuration, open the ports, start the control thread and the polling
 * lcores (the main lcore polls too when it is in the configuration), run until SIGINT/SIGTERM,
 * --duration, or (--exit-when-done) every configured source finished; then close every
 * session gracefully, stop the lcores, print a summary and release everything.
 * Exit status: 0; 1 bad usage, configuration or key; 2 startup failed; 3 --exit-when-done
 * but the sources did not finish.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <intel-ipsec-mb.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_version.h>
#include <sodium.h>

#include "conf.h"
#include "cp_log.h"
#include "cp_main.h"
#include "cp_notify.h"
#include "sl_dh.h"
#include "dp_lcore.h"
#include "drv_port.h"
#include "sl_clock.h"
#include "sl_revision.h"

/* The program's own lines while it runs (cp_log.h); usage and --check-config print plainly. */
RTE_LOG_REGISTER(sluice_logtype, sluice.main, INFO);
#define MAIN_LOG(level, ...) rte_log(RTE_LOG_##level, sluice_logtype, "sluice: " __VA_ARGS__)

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: sluice --config FILE [--duration SEC] [--exit-when-done] "
		   "[--log-level LEVEL] [-- EAL arguments]\n"
		   "       sluice --check-config FILE\n"
		   "       sluice keygen [FILE]\n"
		   "       sluice pubkey [FILE]\n"
		   "       sluice --version | --help | -h\n");
}

static void
help(void)
{
	usage(stdout);
	printf("\n"
	       "  --config FILE       run the appliance the JSON configuration describes\n"
	       "                      (docs/configuration.md) until SIGINT or SIGTERM\n"
	       "  --duration SEC      stop after SEC seconds (more than 0)\n"
	       "  --exit-when-done    stop once every configured source has finished\n"
	       "  --log-level LEVEL   DPDK log level for sluice's log types (e.g. debug)\n"
	       "  -- EAL arguments    passed to DPDK's EAL after the configuration's own\n"
	       "  --check-config FILE validate the configuration and its key file, start nothing\n"
	       "  keygen [FILE]       a new private key to FILE (mode 0600, never replaced) or to\n"
	       "                      standard output; with FILE, its public key is printed\n"
	       "  pubkey [FILE]       the public key of the private key in FILE or on stdin\n"
	       "  --version           sluice's version and git revision, and the DPDK, ipsec-mb\n"
	       "                      and libsodium it runs with\n"
	       "  --help, -h          this text\n"
	       "\n"
	       "exit status: 0 done; 1 bad usage, configuration or key; 2 startup failed;\n"
	       "             3 --exit-when-done, but the sources did not finish\n");
}

static void
version(void)
{
	printf("sluice %s (%s)\n%s\nintel-ipsec-mb %s\nlibsodium %s\n", SLUICE_VERSION,
	       SL_REVISION, rte_version(), imb_get_version_str(), sodium_version_string());
}

/* --- keys ----------------------------------------------------------------------------------- */

static int
cmd_keygen(const char *path)
{
	uint8_t priv[SL_KEY_LEN], pub[SL_KEY_LEN];
	char b64[45];
	int rc;

	sl_dh_keygen(priv, pub);
	if (path == NULL) {
		conf_key_to_base64(priv, b64);
		printf("%s\n", b64);
		sodium_memzero(b64, sizeof(b64));
		sodium_memzero(priv, sizeof(priv));
		return 0;
	}
	rc = conf_write_key(path, priv);
	sodium_memzero(priv, sizeof(priv));
	if (rc != 0) {
		fprintf(stderr, "sluice: %s: %s\n", path,
			rc == -EEXIST ? "exists (not replaced)" : strerror(-rc));
		return 1;
	}
	conf_key_to_base64(pub, b64);
	printf("%s\n", b64); /* the public key, to give to peers */
	return 0;
}

static int
cmd_pubkey(const char *path)
{
	uint8_t priv[SL_KEY_LEN], pub[SL_KEY_LEN];
	char line[128], b64[45];
	const char *why = NULL;
	int rc;

	if (path != NULL) {
		rc = conf_read_key(path, priv, &why);
	} else if (fgets(line, sizeof(line), stdin) == NULL) {
		rc = -EINVAL;
		why = "nothing on standard input";
	} else {
		line[strcspn(line, "\r\n")] = '\0';
		rc = conf_key_from_base64(line, priv);
		why = "not a key: expected 44 characters of base64";
		sodium_memzero(line, sizeof(line));
	}
	if (rc == 0)
		rc = sl_dh_pubkey(pub, priv);
	sodium_memzero(priv, sizeof(priv));
	if (rc != 0) {
		fprintf(stderr, "sluice: %s: %s\n", path != NULL ? path : "stdin",
			why != NULL ? why : strerror(-rc));
		return 1;
	}
	conf_key_to_base64(pub, b64);
	printf("%s\n", b64);
	return 0;
}

/* --- configuration -------------------------------------------------------------------------- */

static struct conf *
load(const char *path)
{
	struct conf_errors *errs = calloc(1, sizeof(*errs));
	struct conf *c;

	if (errs == NULL)
		return NULL;
	c = conf_load(path, errs);
	if (c == NULL) {
		conf_errors_print(errs, stderr);
		fprintf(stderr, "sluice: %s: %u problem%s, nothing started\n", path, errs->n,
			errs->n == 1 ? "" : "s");
	} else {
		conf_errors_print(errs, stderr); /* warnings only */
	}
	free(errs);
	return c;
}

/* The key file the configuration names, checked against it (conf_check_identity()). */
static int
identity(const struct conf *c, uint8_t priv[SL_KEY_LEN])
{
	struct conf_errors *errs = calloc(1, sizeof(*errs));
	int rc;

	if (errs == NULL)
		return -ENOMEM;
	rc = conf_check_identity(c, priv, errs);
	if (rc != 0) {
		conf_errors_print(errs, stderr);
		fprintf(stderr, "sluice: %s: %u problem%s, nothing started\n", c->path, errs->n,
			errs->n == 1 ? "" : "s");
	}
	free(errs);
	return rc;
}

static int
cmd_check(const char *path)
{
	uint8_t priv[SL_KEY_LEN];
	struct conf *c = load(path);

	if (c == NULL)
		return 1;
	if (identity(c, priv) != 0) {
		conf_free(c);
		return 1;
	}
	sodium_memzero(priv, sizeof(priv));
	printf("%s: ok (%u ports, %u lcores, %u peers, %u services)\n", path, c->n_ports,
	       c->n_lcores, c->n_peers, c->services.n);
	conf_free(c);
	return 0;
}

/* --- running -------------------------------------------------------------------------------- */

struct run_opts {
	const char *config;
	const char *log_level;
	char **eal_argv; /* after "--": more EAL arguments, after the configuration's */
	int eal_argc;
	struct cp_main_options main;
};

static int
start_eal(const struct conf *c, const struct run_opts *o)
{
	static char buf[8192];
	char *argv[CONF_MAX_EAL_ARGS + CONF_MAX_PORTS + 64];
	int argc = drv_eal_args(c, "sluice", argv, (int)RTE_DIM(argv) - 2, buf, sizeof(buf));

	if (argc < 0 || argc + o->eal_argc > (int)RTE_DIM(argv) - 2) {
		MAIN_LOG(ERR, "EAL arguments do not fit\n");
		return -1;
	}
	for (int i = 0; i < o->eal_argc; i++)
		argv[argc++] = o->eal_argv[i];
	argv[argc] = NULL;
	if (o->log_level != NULL) {
		static char lvl[160];

		snprintf(lvl, sizeof(lvl), "--log-level=%s", o->log_level);
		argv[argc++] = lvl;
		argv[argc] = NULL;
	}
	if (rte_eal_init(argc, argv) < 0) {
		/* EAL said why above; its errno is not always set (a file prefix in use by another
		 * process is the usual cause when the same configuration runs twice) */
		MAIN_LOG(ERR, "EAL initialisation failed%s%s\n", rte_errno ? ": " : "",
			 rte_errno ? rte_strerror(rte_errno) : "");
		return -1;
	}
	return 0;
}

/* Start the polling loops on the worker lcores; run the main lcore's here if it polls. */
static void
run_lcores(struct dp_runtime *dp)
{
	bool main_polls = false;

	for (unsigned int i = 0; i < dp->n_lcores; i++) {
		unsigned int id = dp->cfg->lcores[i].lcore;

		if (id == rte_get_main_lcore())
			main_polls = true;
		else if (rte_eal_remote_launch(dp_lcore_main, dp, id) != 0)
			dp->quit = 1;
	}
	if (main_polls) {
		dp_lcore_main(dp);
	} else {
		while (!dp->quit)
			usleep(10000);
	}
	rte_eal_mp_wait_lcore();
}

/* systemd's notification socket, when the service manager gave one (cp_notify.h). */
static int
notify_open(struct cp_notify *n)
{
	int rc = cp_notify_open(n);

	if (rc != 0)
		MAIN_LOG(ERR, "NOTIFY_SOCKET or WATCHDOG_USEC unusable: %s\n", strerror(-rc));
	return rc;
}

static int
run(struct run_opts *o)
{
	static struct dp_runtime dp;
	static struct cp_main cp;
	static struct cp_notify notify;
	uint8_t priv[SL_KEY_LEN];
	struct conf *c;
	int rc = cp_log_open(), status = 0;

	if (rc != 0)
		fprintf(stderr, "sluice: the log stream: %s (lines without ts= and level=)\n",
			strerror(-rc));
	c = load(o->config);
	if (c == NULL) {
		cp_log_close();
		return 1;
	}
	if (identity(c, priv) != 0 || notify_open(&notify) != 0) {
		sodium_memzero(priv, sizeof(priv));
		conf_free(c);
		cp_log_close();
		return 1;
	}
	o->main.notify = &notify;
	if (start_eal(c, o) != 0) {
		sodium_memzero(priv, sizeof(priv));
		conf_free(c);
		cp_log_close();
		return 2;
	}
	sl_clock_init();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = dp_runtime_init(&dp, c);
	if (rc == 0)
		rc = cp_main_init(&cp, &dp, c, priv, &o->main);
	sodium_memzero(priv, sizeof(priv));
	if (rc == 0 && c->telemetry && cp_telemetry_register(&cp) != 0)
		MAIN_LOG(ERR, "telemetry endpoints not registered\n");
	if (rc == 0)
		rc = cp_main_start(&cp);
	if (rc == 0) {
		run_lcores(&dp);
		cp_main_join(&cp);
		cp_main_final_snapshot(&cp);
		cp_main_summary(&cp, stdout);
		fflush(stdout);
		if (o->main.exit_when_done && !cp.sources_finished)
			status = 3;
	} else {
		MAIN_LOG(ERR, "startup failed: %s\n", strerror(-rc));
		status = 2;
	}
	cp_telemetry_unregister();
	cp_main_fini(&cp);
	dp_runtime_fini(&dp);
	if (rc == 0) /* every mbuf back in its pool once the ports closed */
		printf("sluice: exit mbufs_in_use=%u\n", dp.mbufs_in_use);
	rte_eal_cleanup();
	cp_notify_close(&notify);
	conf_free(c);
	cp_log_close();
	return status;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 'k' },
		{ "duration", required_argument, NULL, 'd' },
		{ "exit-when-done", no_argument, NULL, 'x' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_opts o = { .main = { .stop = &stop_requested } };
	const char *check = NULL;
	char *end;
	int opt;

	if (sodium_init() < 0) {
		fprintf(stderr, "sluice: libsodium failed to initialise\n");
		return 2;
	}
	if (argc >= 2 && (strcmp(argv[1], "keygen") == 0 || strcmp(argv[1], "pubkey") == 0)) {
		if (argc > 3) {
			fprintf(stderr, "sluice: %s takes at most one argument (FILE)\n", argv[1]);
			return 1;
		}
		return argv[1][0] == 'k' ? cmd_keygen(argc == 3 ? argv[2] : NULL)
					 : cmd_pubkey(argc == 3 ? argv[2] : NULL);
	}
	if (argc >= 2 && argv[1][0] != '-') {
		fprintf(stderr, "sluice: unknown command '%s' (commands: keygen [FILE], pubkey "
				"[FILE]; or options: sluice --help)\n",
			argv[1]);
		return 1;
	}
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o.config = optarg;
			break;
		case 'k':
			check = optarg;
			break;
		case 'd': {
			double s = strtod(optarg, &end);

			if (*end != '\0' || !(s > 0) || s > 1e6) {
				fprintf(stderr, "sluice: --duration: seconds, more than 0\n");
				return 1;
			}
			o.main.duration_ns = (uint64_t)(s * 1e9);
			break;
		}
		case 'x':
			o.main.exit_when_done = true;
			break;
		case 'l':
			o.log_level = optarg;
			break;
		case 'v':
			version();
			return 0;
		case 'h':
			help();
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") == 0 && o.config != NULL) {
		o.eal_argv = &argv[optind]; /* sluice --config F -- <EAL arguments> */
		o.eal_argc = argc - optind;
		optind = argc;
	}
	if (optind != argc) {
		fprintf(stderr, "sluice: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	if ((check == NULL) == (o.config == NULL)) {
		fprintf(stderr, "sluice: %s\n", check == NULL ? "nothing to do: --config FILE or "
								 "--check-config FILE"
							       : "--config and --check-config "
								 "exclude each other");
		usage(stderr);
		return 1;
	}
	return check != NULL ? cmd_check(check) : run(&o);
}
