/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: loadgen's command line — the options after "--" (described in loadgen.c and by
 * --help) and the EAL arguments before it, to which the port's device is added.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "conf.h"
#include "loadgen.h"

void
lg_usage(FILE *f)
{
	fputs("usage: loadgen [EAL args] -- --port DEV --ip A.B.C.D/LEN --target IP:PORT\n"
	      "               --target-key KEY --network NAME [options]\n"
	      "  --port DEV          device string (added to EAL as --vdev / -a)\n"
	      "  --ip A.B.C.D/LEN    our address (ARP is answered for it)\n"
	      "  --udp-port N        our UDP port, shared by all sessions (4789)\n"
	      "  --target IP:PORT    the appliance\n"
	      "  --target-key KEY    its public key (base64)\n"
	      "  --network NAME      its network name\n"
	      "  --suite S           aesgcm | chachapoly (aesgcm)\n"
	      "  --sessions N        sessions to establish (1000); flood: identities (256)\n"
	      "  --inflight K        handshakes in progress at once (32, <= 4096)\n"
	      "  --timeout-ms T      resend an unanswered message after T ms (1000)\n"
	      "  --retries R         attempts per session (10)\n"
	      "  --setup-limit S     stop establishing after S seconds (600)\n"
	      "  --hold S            hold the sessions S seconds; 0: until SIGINT/SIGTERM (0)\n"
	      "  --rate R            at most R initiations per second; 0: no cap (0)\n"
	      "  --flood S           flood mode: initiations for S seconds\n"
	      "  --replay            flood: re-send pre-built initiations (no DH per message)\n"
	      "  --mbufs N           port pool size (8191)\n"
	      "exit status: 0; 1 error; 3 some sessions were not established\n",
	      f);
}

static int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
parse_ip(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*ip = ntohl(a.s_addr);
	return 0;
}

/* "a.b.c.d/len" or "a.b.c.d:port" */
static int
parse_ip_suffix(const char *s, char sep, uint64_t max, uint32_t *ip, uint64_t *suffix)
{
	char buf[64];
	const char *p = strchr(s, sep);

	if (p == NULL || (size_t)(p - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(p - s));
	buf[p - s] = '\0';
	if (parse_ip(buf, ip) != 0 || parse_u64(p + 1, max, suffix) != 0)
		return -EINVAL;
	return 0;
}

enum {
	OPT_PORT = 256,
	OPT_IP,
	OPT_UDP_PORT,
	OPT_TARGET,
	OPT_TARGET_KEY,
	OPT_NETWORK,
	OPT_SUITE,
	OPT_SESSIONS,
	OPT_INFLIGHT,
	OPT_TIMEOUT,
	OPT_RETRIES,
	OPT_SETUP,
	OPT_HOLD,
	OPT_RATE,
	OPT_FLOOD,
	OPT_REPLAY,
	OPT_MBUFS,
	OPT_HELP,
};

static const struct option long_opts[] = {
	{ "port", required_argument, NULL, OPT_PORT },
	{ "ip", required_argument, NULL, OPT_IP },
	{ "udp-port", required_argument, NULL, OPT_UDP_PORT },
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "target-key", required_argument, NULL, OPT_TARGET_KEY },
	{ "network", required_argument, NULL, OPT_NETWORK },
	{ "suite", required_argument, NULL, OPT_SUITE },
	{ "sessions", required_argument, NULL, OPT_SESSIONS },
	{ "inflight", required_argument, NULL, OPT_INFLIGHT },
	{ "timeout-ms", required_argument, NULL, OPT_TIMEOUT },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "setup-limit", required_argument, NULL, OPT_SETUP },
	{ "hold", required_argument, NULL, OPT_HOLD },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "flood", required_argument, NULL, OPT_FLOOD },
	{ "replay", no_argument, NULL, OPT_REPLAY },
	{ "mbufs", required_argument, NULL, OPT_MBUFS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* Numeric options: range-checked, then stored. Returns 0 or -EINVAL. */
static int
parse_num_opt(struct lg_opts *o, int c, const char *arg)
{
	static const struct {
		uint64_t min, max;
	} range[] = {
		[OPT_SESSIONS - OPT_SESSIONS] = { 1, SL_CONNID_MAX_SLOTS * 4 },
		[OPT_INFLIGHT - OPT_SESSIONS] = { 1, MAX_INFLIGHT },
		[OPT_TIMEOUT - OPT_SESSIONS] = { 1, 600000 },
		[OPT_RETRIES - OPT_SESSIONS] = { 1, 255 },
		[OPT_SETUP - OPT_SESSIONS] = { 1, 86400 },
		[OPT_HOLD - OPT_SESSIONS] = { 0, 86400 * 7 },
		[OPT_RATE - OPT_SESSIONS] = { 0, 100000000 },
		[OPT_FLOOD - OPT_SESSIONS] = { 1, 86400 },
		[OPT_REPLAY - OPT_SESSIONS] = { 0, 0 },
		[OPT_MBUFS - OPT_SESSIONS] = { 512, 1048575 },
	};
	unsigned int i = (unsigned int)(c - OPT_SESSIONS);
	uint64_t v;

	if (parse_u64(arg, range[i].max, &v) != 0 || v < range[i].min)
		return -EINVAL;
	switch (c) {
	case OPT_SESSIONS:
		o->sessions = (uint32_t)v;
		break;
	case OPT_INFLIGHT:
		o->inflight = (uint32_t)v;
		break;
	case OPT_TIMEOUT:
		o->timeout_ns = v * MS;
		break;
	case OPT_RETRIES:
		o->retries = (uint32_t)v;
		break;
	case OPT_SETUP:
		o->setup_limit_ns = v * SEC;
		break;
	case OPT_HOLD:
		o->hold_ns = v * SEC;
		break;
	case OPT_RATE:
		o->rate = v;
		break;
	case OPT_FLOOD:
		o->flood_ns = v * SEC;
		o->flood = true;
		break;
	default:
		o->mbufs = (uint32_t)v;
		break;
	}
	return 0;
}

/* One option; returns 0 or -EINVAL. */
static int
parse_opt(struct lg_opts *o, int c, const char *arg)
{
	uint64_t v = 0;

	switch (c) {
	case OPT_PORT:
		o->port_dev = arg;
		return strlen(arg) < CONF_DEVICE_LEN ? 0 : -EINVAL;
	case OPT_IP:
		if (parse_ip_suffix(arg, '/', 32, &o->ip, &v) != 0 || v == 0)
			return -EINVAL;
		o->prefix_len = (uint8_t)v;
		return 0;
	case OPT_UDP_PORT:
		if (parse_u64(arg, 65535, &v) != 0 || v == 0)
			return -EINVAL;
		o->udp_port = (uint16_t)v;
		return 0;
	case OPT_TARGET:
		if (parse_ip_suffix(arg, ':', 65535, &o->target_ip, &v) != 0 || v == 0)
			return -EINVAL;
		o->target_port = (uint16_t)v;
		return 0;
	case OPT_TARGET_KEY:
		return conf_key_from_base64(arg, o->target_pub) == 0 ? 0 : -EINVAL;
	case OPT_NETWORK:
		o->network = arg;
		return strlen(arg) >= 1 && strlen(arg) <= 63 ? 0 : -EINVAL;
	case OPT_SUITE:
		if (strcmp(arg, "aesgcm") == 0)
			o->suite = SL_SUITE_AESGCM_SHA256;
		else if (strcmp(arg, "chachapoly") == 0)
			o->suite = SL_SUITE_CHACHAPOLY_BLAKE2B;
		else
			return -EINVAL;
		return 0;
	case OPT_REPLAY:
		o->replay = true;
		return 0;
	default:
		return c >= OPT_SESSIONS && c <= OPT_MBUFS ? parse_num_opt(o, c, arg) : -EINVAL;
	}
}

static void
opts_defaults(struct lg_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->udp_port = 4789;
	o->suite = SL_SUITE_AESGCM_SHA256;
	o->sessions = 1000;
	o->inflight = 32;
	o->retries = 10;
	o->mbufs = 8191;
	o->timeout_ns = 1000 * MS;
	o->setup_limit_ns = 600 * SEC;
}

/* Returns 0, 1 for --help (done), or -EINVAL with a message printed. */
int
lg_parse_args(struct lg_opts *o, int argc, char **argv)
{
	bool sessions_set = false;
	int c;

	opts_defaults(o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (c == OPT_HELP) {
			lg_usage(stdout);
			return 1;
		}
		sessions_set |= c == OPT_SESSIONS;
		if (c == '?' || parse_opt(o, c, optarg) != 0) {
			if (c != '?')
				fprintf(stderr, "loadgen: bad value for --%s: '%s'\n",
					long_opts[c - OPT_PORT].name, optarg ? optarg : "");
			lg_usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc || o->port_dev == NULL || o->ip == 0 || o->target_ip == 0 ||
	    o->network == NULL || sodium_is_zero(o->target_pub, SL_KEY_LEN)) {
		fprintf(stderr, "loadgen: --port, --ip, --target, --target-key and --network are "
				"required (and nothing else may follow)\n");
		lg_usage(stderr);
		return -EINVAL;
	}
	if (o->flood && !sessions_set)
		o->sessions = 256;
	return 0;
}

/* EAL arguments: ours up to "--", then the device. Returns argc or -ENOSPC. */
int
lg_eal_args(char **argv, int n_eal, const char *dev, char **out, int max, char *buf, size_t len)
{
	int n = 0;

	if (n_eal + 2 > max)
		return -ENOSPC;
	for (int i = 0; i < n_eal; i++)
		out[n++] = argv[i];
	if (snprintf(buf, len, "%s%s", strncmp(dev, "net_", 4) == 0 ? "--vdev=" : "-a", dev) >=
	    (int)len)
		return -ENOSPC;
	out[n++] = buf;
	out[n] = NULL;
	return n;
}