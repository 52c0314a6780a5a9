/* SPDX-License-Identifier: BSD-3-Clause
 * sluicectl: the read-only views, from the appliance's telemetry (docs/operations.md lists
 * the endpoints and their fields):
 *   show   /sluice/info, /sluice/ports, /sluice/peers: the node, then each peer, like `wg show`
 *   drops  /sluice/drops: the counters that are not zero (--json: all of them)
 *   apps   /sluice/apps: the attached applications and what the interface counted
 * Telemetry dictionaries are keyed by names ("0", "b", "key_0123abcd"); each entry carries
 * what it needs, so --json turns them into arrays.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

#define MAX_QUERIES 3

/* Ask the appliance the commands cmds[0..n): CTL_OK with out[] filled, else every out[] NULL
 * and the reason printed. */
static int
ask(const struct ctl *ctl, const char *const *cmds, json_t **out, unsigned int n)
{
	struct ctl_tel t;
	int rc = ctl_tel_open(ctl, &t);
	unsigned int i;

	for (i = 0; i < n; i++)
		out[i] = NULL;
	for (i = 0; rc == CTL_OK && i < n; i++)
		if ((out[i] = ctl_tel_query(&t, cmds[i])) == NULL)
			rc = CTL_UNREACHABLE;
	ctl_tel_close(&t);
	for (i = 0; rc != CTL_OK && i < n; i++) {
		json_decref(out[i]);
		out[i] = NULL;
	}
	return rc;
}

/* The entries of a telemetry dictionary that are objects, as an array (a new reference). */
static json_t *
entries(const json_t *dict)
{
	json_t *arr = json_array(), *v;
	const char *key;

	json_object_foreach ((json_t *)dict, key, v)
		if (json_is_object(v))
			json_array_append(arr, v);
	return arr;
}

/* --- show --------------------------------------------------------------------------------- */

static void
show_port(const json_t *p)
{
	printf("  port %s: %s, udp %s, mac %s, mtu %s, %s\n", ctl_get_str(p, "name"),
	       ctl_get_str(p, "ipv4"), ctl_get_str(p, "udp_port"), ctl_get_str(p, "mac"),
	       ctl_get_str(p, "mtu"), ctl_get_str(p, "state"));
	if (json_object_get(p, "gateway") != NULL)
		printf("    gateway: %s\n", ctl_get_str(p, "gateway"));
	printf("    device: %s\n", ctl_get_str(p, "device"));
}

static void
show_node(const json_t *info, const json_t *ports)
{
	char up[64];
	const char *key;
	json_t *p;

	ctl_fmt_duration(up, sizeof(up), ctl_get_u64(info, "uptime_ms"));
	printf("node: %s\n", ctl_get_str(info, "public_key"));
	printf("  network: %s (id %s)\n", ctl_get_str(info, "network"),
	       ctl_get_str(info, "network_id"));
	printf("  sluice %s, %s for %s, %s lcore(s)\n", ctl_get_str(info, "version"),
	       ctl_get_str(info, "state"), up, ctl_get_str(info, "lcores"));
	printf("  sessions: %s live, %s handshake(s) in progress, %s peer(s) configured\n",
	       ctl_get_str(info, "sessions_live"), ctl_get_str(info, "handshakes_pending"),
	       ctl_get_str(info, "peers_configured"));
	json_object_foreach ((json_t *)ports, key, p)
		if (json_is_object(p))
			show_port(p);
}

static void
show_session(const json_t *p)
{
	char a[48], b[48];

	ctl_fmt_duration(a, sizeof(a), ctl_get_u64(p, "connected_ms"));
	printf("  state: connected for %s (%s, lcore %s)\n", a, ctl_get_str(p, "role"),
	       ctl_get_str(p, "lcore"));
	ctl_fmt_duration(a, sizeof(a), ctl_get_u64(p, "last_handshake_ms"));
	printf("  latest handshake: %s ago\n", a);
	if (json_object_get(p, "bytes_in") == NULL) {
		printf("  transfer: not known yet (the lcores report every 0.5 s)\n");
		return;
	}
	ctl_fmt_bytes(a, sizeof(a), ctl_get_u64(p, "bytes_in"));
	ctl_fmt_bytes(b, sizeof(b), ctl_get_u64(p, "bytes_out"));
	printf("  transfer: %s received, %s sent (%s messages in, %s out)\n", a, b,
	       ctl_get_str(p, "msgs_in"), ctl_get_str(p, "msgs_out"));
	ctl_fmt_rtt(a, sizeof(a), ctl_get_u64(p, "rtt_us"));
	ctl_fmt_rtt(b, sizeof(b), ctl_get_u64(p, "rtt_min_us"));
	printf("  rtt: %s (min %s), %s retransmitted, %s packets lost\n", a, b,
	       ctl_get_str(p, "retransmits"), ctl_get_str(p, "pkts_lost"));
	printf("  channels: %s\n", ctl_get_str(p, "channels")[0] != '\0'
					   ? ctl_get_str(p, "channels")
					   : "none used yet");
}

static void
show_peer(const json_t *p)
{
	const json_t *err = json_object_get(p, "last_error");

	printf("\npeer: %s\n", ctl_get_str(p, "public_key"));
	printf("  name: %s%s\n", ctl_get_str(p, "name"),
	       strcmp(ctl_get_str(p, "configured"), "yes") == 0 ? " (configured)" : "");
	printf("  endpoint: %s\n", ctl_get_str(p, "addr"));
	if (strcmp(ctl_get_str(p, "state"), "connected") == 0)
		show_session(p);
	else
		printf("  state: %s (%s attempts)\n", ctl_get_str(p, "state"),
		       ctl_get_str(p, "attempts"));
	if (json_is_string(err) && json_string_length(err) > 0)
		printf("  last error: %s\n", ctl_esc(json_string_value(err)));
	printf("  sessions: %s opened, %s closed, %s failed dials, %s rekeys\n",
	       ctl_get_str(p, "connects"), ctl_get_str(p, "disconnects"),
	       ctl_get_str(p, "failures"), ctl_get_str(p, "rekeys"));
}

int
ctl_show(const struct ctl *ctl, const char *arg)
{
	static const char *const cmds[] = { "/sluice/info", "/sluice/ports", "/sluice/peers" };
	json_t *r[MAX_QUERIES], *v;
	const char *key;
	int rc = ask(ctl, cmds, r, 3);

	(void)arg;
	if (rc != CTL_OK)
		return rc;
	if (ctl->json) {
		json_object_set_new(r[0], "ports", entries(r[1]));
		rc = ctl_json_print(json_pack("{s:O, s:o, s:b}", "node", r[0], "peers",
					      entries(r[2]), "truncated",
					      json_object_get(r[2], "truncated") != NULL));
	} else {
		show_node(r[0], r[1]);
		json_object_foreach (r[2], key, v)
			if (json_is_object(v))
				show_peer(v);
		if (json_object_get(r[2], "truncated") != NULL)
			printf("\n(more peers than telemetry lists in one answer)\n");
	}
	for (unsigned int i = 0; i < 3; i++)
		json_decref(r[i]);
	return rc;
}

/* --- drops -------------------------------------------------------------------------------- */

int
ctl_drops(const struct ctl *ctl, const char *arg)
{
	static const char *const cmds[] = { "/sluice/drops" };
	static const char *const parts[] = { "dataplane", "control", "admission" };
	unsigned int zero = 0;
	json_t *d;
	int rc = ask(ctl, cmds, &d, 1);

	(void)arg;
	if (rc != CTL_OK || ctl->json)
		return rc != CTL_OK ? rc : ctl_json_print(d);
	for (unsigned int i = 0; i < 3; i++) {
		printf("%s:\n", parts[i]);
		zero += ctl_print_nonzero(json_object_get(d, parts[i]), "  ", NULL);
	}
	printf("packets: %s received, %s sent, %s handed to another lcore\n",
	       ctl_get_str(d, "rx_pkts"), ctl_get_str(d, "tx_pkts"), ctl_get_str(d, "handoffs"));
	printf("(%u counters at zero not shown; --json lists them all)\n", zero);
	json_decref(d);
	return CTL_OK;
}

/* --- apps --------------------------------------------------------------------------------- */

static json_t *
apps_doc(json_t *d)
{
	json_t *arr = json_array(), *v;
	const char *key;

	json_object_foreach (d, key, v)
		if (json_is_object(v) && strcmp(key, "interface") != 0) {
			json_object_set_new(v, "slot", json_string(key));
			json_array_append(arr, v);
		}
	v = json_object_get(d, "interface"); /* absent: no api section */
	return json_pack("{s:I, s:o, s:O}", "count", (json_int_t)json_array_size(arr), "apps", arr,
			 "interface", v != NULL ? v : json_null());
}

static void
show_app(const char *slot, const json_t *a)
{
	static const char *const shown[] = { "pid", "uid", "gid", NULL };
	const char *chans = ctl_get_str(a, "channels");

	printf("app %s: \"%s\", pid %s, uid %s, gid %s, channels %s\n", ctl_esc(slot),
	       ctl_get_str(a, "name"), ctl_get_str(a, "pid"), ctl_get_str(a, "uid"),
	       ctl_get_str(a, "gid"), chans[0] != '\0' ? chans : "none");
	ctl_print_nonzero(a, "  ", shown);
}

int
ctl_apps(const struct ctl *ctl, const char *arg)
{
	static const char *const cmds[] = { "/sluice/apps" };
	const json_t *iface;
	json_t *d, *doc, *v;
	const char *key;
	int rc = ask(ctl, cmds, &d, 1);

	(void)arg;
	if (rc != CTL_OK)
		return rc;
	doc = apps_doc(d);
	iface = json_object_get(doc, "interface");
	if (ctl->json) {
		json_decref(d);
		return ctl_json_print(doc);
	}
	if (iface == NULL || json_is_null(iface))
		printf("no application interface (the configuration has no api section)\n");
	else
		printf("apps: %s attached\n", ctl_get_str(doc, "count"));
	json_object_foreach (d, key, v)
		if (json_is_object(v) && strcmp(key, "interface") != 0)
			show_app(key, v);
	if (json_is_object(iface)) {
		printf("interface:\n");
		ctl_print_nonzero(iface, "  ", NULL);
	}
	json_decref(doc);
	json_decref(d);
	return CTL_OK;
}
