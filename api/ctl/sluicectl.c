/* SPDX-License-Identifier: BSD-3-Clause
 * sluicectl: the command line (see ctl.h for what each command asks, docs/operations.md for
 * its output and exit statuses).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const struct command {
	const char *name;
	bool takes_arg;
	int (*run)(const struct ctl *ctl, const char *arg);
} commands[] = {
	{ "show", false, ctl_show },	   { "peers", false, ctl_peers },
	{ "connect", true, ctl_connect },  { "disconnect", true, ctl_disconnect },
	{ "drops", false, ctl_drops },	   { "apps", false, ctl_apps },
	{ "metrics", false, ctl_metrics },
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: sluicectl [-c CONFIG] [-s SOCKET] [-p PREFIX] [--json] [COMMAND [ARG]]\n"
		"\n"
		"Where the appliance is (-s and -p win over what CONFIG says):\n"
		"  -c, --config FILE    its configuration: api.socket and eal.file_prefix\n"
		"  -s, --socket PATH    its application socket (api.socket)\n"
		"  -p, --prefix PREFIX  its EAL file prefix (eal.file_prefix, default "
		"\"sluice\"),\n"
		"                       which names its telemetry socket\n"
		"  -j, --json           one JSON document on stdout, for scripts\n"
		"  -h, --help\n"
		"\n"
		"Commands (show when none is given):\n"
		"  show                    the node and its ports, then each peer      "
		"(telemetry)\n"
		"  peers                   the nodes the appliance knows        (application "
		"socket)\n"
		"  connect NODE[@IP:PORT]  dial NODE at IP:PORT, else at its known address   "
		"(idem)\n"
		"  disconnect NODE         close the session with NODE, stop dialling it     "
		"(idem)\n"
		"  drops                   drop and refusal counters                   "
		"(telemetry)\n"
		"  apps                    attached applications                       "
		"(telemetry)\n"
		"  metrics                 counters and gauges in Prometheus' text format "
		"(telemetry)\n"
		"NODE: the 44 characters of base64 that `sluice pubkey` prints, or 64 hex digits.\n"
		"\n"
		"Exit status: 0 done; 1 bad usage or input; 2 the appliance is unreachable;\n"
		"3 the appliance refused the request.\n");
}

/* Options into ctl; the index of the first operand, or -1 (usage printed) / -2 (--help). */
static int
options(int argc, char **argv, struct ctl *ctl, const char **config)
{
	static const struct option longs[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "c:s:p:jh", longs, NULL)) != -1) {
		const char *too_long = NULL;

		if (o == 'c')
			*config = optarg;
		else if (o == 's' && strlen(optarg) >= sizeof(ctl->socket))
			too_long = "the socket path";
		else if (o == 's')
			strcpy(ctl->socket, optarg);
		else if (o == 'p' && strlen(optarg) >= sizeof(ctl->prefix))
			too_long = "the file prefix";
		else if (o == 'p')
			strcpy(ctl->prefix, optarg);
		else if (o == 'j')
			ctl->json = true;
		else if (o == 'h')
			return -2;
		else
			return -1; /* getopt said what */
		if (too_long != NULL) {
			fprintf(stderr, "sluicectl: %s is too long: \"%s\"\n", too_long,
				ctl_esc(optarg));
			return -1;
		}
	}
	return optind;
}

static const struct command *
find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	struct ctl ctl = { .json = false };
	const char *config = NULL, *name = "show", *arg = NULL;
	const struct command *cmd;
	int first = options(argc, argv, &ctl, &config), rc;

	if (first < 0) {
		usage(first == -2 ? stdout : stderr);
		return first == -2 ? CTL_OK : CTL_USAGE;
	}
	if (first < argc)
		name = argv[first++];
	if (first < argc)
		arg = argv[first++];
	cmd = find(name);
	if (cmd == NULL || cmd->takes_arg != (arg != NULL) || first < argc) {
		if (cmd == NULL)
			fprintf(stderr, "sluicectl: no command \"%s\"\n", ctl_esc(name));
		else
			fprintf(stderr, "sluicectl: %s takes %s\n", cmd->name,
				cmd->takes_arg ? "one argument (a node)" : "no argument");
		usage(stderr);
		return CTL_USAGE;
	}
	rc = config != NULL ? ctl_cfg_read(&ctl, config) : CTL_OK;
	if (rc != CTL_OK)
		return rc;
	if (ctl.prefix[0] == '\0')
		strcpy(ctl.prefix, "sluice");
	return cmd->run(&ctl, arg);
}
