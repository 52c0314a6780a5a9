/* SPDX-License-Identifier: BSD-3-Clause
 * sluicectl metrics: the appliance's telemetry in Prometheus' text exposition format
 * (version 0.0.4), for node_exporter's textfile collector or any scraper that reads a file:
 *
 *   # HELP sluice_peer_packets_received_total Packets received in the current session
 *   # TYPE sluice_peer_packets_received_total counter
 *   sluice_peer_packets_received_total{node="Abim+MEhso6i...=",name="b"} 17
 *
 * From /sluice/info, /sluice/lcores, /sluice/peers, /sluice/drops, /sluice/discovery and
 * /sluice/apps, asked on one telemetry connection; nothing is printed unless every answer
 * came (a scraper then keeps the previous file). docs/operations.md lists the families.
 *
 * Samples are gathered per family first and printed family by family, each after its one
 * HELP and TYPE line, so that a family's samples stay together whatever order telemetry
 * listed them in; a series (name and labels) given twice is printed once. Counters end in
 * _total; the per-session counters of a peer start again at 0 with each session (a counter
 * reset, which Prometheus' rate() handles).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define NAME_LEN   128
#define HELP_LEN   192
#define LABELS_LEN 512

struct family {
	char name[NAME_LEN];
	const char *type; /* "counter" or "gauge" */
	char help[HELP_LEN];
	char *lines; /* its samples, "name{labels} value\n" each */
	size_t len, cap;
};

struct prom {
	struct family *fam;
	unsigned int n, cap;
	bool oom;
};

/* --- the exposition ----------------------------------------------------------------------- */

/* The family called name, created with type and help the first time. */
static struct family *
family(struct prom *p, const char *name, const char *type, const char *help)
{
	struct family *f;

	for (unsigned int i = 0; i < p->n; i++)
		if (strcmp(p->fam[i].name, name) == 0)
			return &p->fam[i];
	if (p->n == p->cap) {
		unsigned int cap = p->cap ? 2 * p->cap : 64;
		struct family *nf = realloc(p->fam, cap * sizeof(*nf));

		if (nf == NULL)
			return NULL;
		p->fam = nf;
		p->cap = cap;
	}
	f = &p->fam[p->n++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->help, sizeof(f->help), "%s", help);
	f->type = type;
	return f;
}

/* Whether f already has the series whose line starts with head ("name{labels} "). */
static bool
has_series(const struct family *f, const char *head, size_t hl)
{
	for (size_t at = 0; at < f->len;) {
		const char *eol = memchr(f->lines + at, '\n', f->len - at);

		if (strncmp(f->lines + at, head, hl) == 0)
			return true;
		at = (size_t)(eol - f->lines) + 1;
	}
	return false;
}

static void
append(struct prom *p, struct family *f, const char *line, size_t n)
{
	if (f->len + n + 1 > f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 1024;
		char *nb;

		while (cap < f->len + n + 1)
			cap *= 2;
		nb = realloc(f->lines, cap);
		if (nb == NULL) {
			p->oom = true;
			return;
		}
		f->lines = nb;
		f->cap = cap;
	}
	memcpy(f->lines + f->len, line, n);
	f->len += n;
	f->lines[f->len] = '\0';
}

/* One sample: value is already text (an integer, or a float from fmt_seconds()). */
static void
sample(struct prom *p, const char *name, const char *type, const char *help, const char *labels,
       const char *value)
{
	struct family *f = family(p, name, type, help);
	char line[NAME_LEN + LABELS_LEN + 48];
	int hl;

	if (f == NULL) {
		p->oom = true;
		return;
	}
	hl = snprintf(line, sizeof(line), "%s%s%s%s ", name, labels[0] ? "{" : "", labels,
		      labels[0] ? "}" : "");
	if (hl < 0 || (size_t)hl >= sizeof(line) - 40 || has_series(f, line, (size_t)hl))
		return;
	snprintf(line + hl, sizeof(line) - (size_t)hl, "%s\n", value);
	append(p, f, line, strlen(line));
}

static void
sample_u64(struct prom *p, const char *name, const char *type, const char *help, const char *labels,
	   uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	sample(p, name, type, help, labels, num);
}

/* v units as seconds ("0.000125"), from micro- or milliseconds or cycles. */
static void
sample_ratio(struct prom *p, const char *name, const char *help, const char *labels, uint64_t v,
	     uint64_t per_second, bool counter)
{
	char num[40];

	snprintf(num, sizeof(num), "%.9g", per_second ? (double)v / (double)per_second : 0.0);
	sample(p, name, counter ? "counter" : "gauge", help, labels, num);
}

/* A label value with \, " and newline escaped, as the format wants. */
static size_t
escape_value(char *out, size_t len, const char *v)
{
	size_t n = 0;

	for (; *v != '\0' && n + 3 < len; v++) {
		if (*v == '\\' || *v == '"' || *v == '\n') {
			out[n++] = '\\';
			out[n++] = *v == '\n' ? 'n' : *v;
		} else {
			out[n++] = *v;
		}
	}
	out[n] = '\0';
	return n;
}

/* labels: "k1=\"v1\",k2=\"v2\"" from NULL-terminated key, value pairs. */
static const char *
labels(char out[LABELS_LEN], ...)
{
	size_t n = 0;
	const char *k;
	va_list ap;

	out[0] = '\0';
	va_start(ap, out);
	while ((k = va_arg(ap, const char *)) != NULL && n + 8 < LABELS_LEN) {
		const char *v = va_arg(ap, const char *);

		n += (size_t)snprintf(out + n, LABELS_LEN - n, "%s%s=\"", n ? "," : "", k);
		n += escape_value(out + n, LABELS_LEN - n - 2, v != NULL ? v : "");
		n += (size_t)snprintf(out + n, LABELS_LEN - n, "\"");
	}
	va_end(ap);
	return out;
}

/* "sluice_" prefix key suffix, with anything a metric name may not hold turned into '_'
 * (telemetry's keys hold only letters, digits and '_' already). */
static const char *
metric_name(char out[NAME_LEN], const char *prefix, const char *key, const char *suffix)
{
	size_t n = (size_t)snprintf(out, NAME_LEN, "sluice_%s", prefix);

	for (; *key != '\0' && n + 1 < NAME_LEN; key++) {
		char c = *key;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_';

		out[n++] = ok ? c : '_';
	}
	snprintf(out + n, NAME_LEN - n, "%s", suffix);
	return out;
}

static bool
listed(const char *const *names, const char *name)
{
	for (; *names != NULL; names++)
		if (strcmp(*names, name) == 0)
			return true;
	return false;
}

/* Every number of a flat telemetry dictionary as sluice_<prefix><key>_total (a counter), or
 * sluice_<prefix><key> (a gauge) when the key is in gauges; keys starting with by_prefix
 * become one family <by_name> with label by_label (e.g. refused_<reason>). */
struct flat {
	const char *prefix, *where;
	const char *const *gauges;
	const char *by_prefix, *by_name, *by_label, *by_help;
};

static void
flat_dict(struct prom *p, const json_t *d, const struct flat *how, const char *lbl)
{
	char name[NAME_LEN], help[HELP_LEN], l[LABELS_LEN];
	const char *key;
	json_t *v;

	json_object_foreach ((json_t *)d, key, v) {
		size_t bl = how->by_prefix ? strlen(how->by_prefix) : 0;
		bool gauge = how->gauges != NULL && listed(how->gauges, key);

		if (!json_is_integer(v))
			continue;
		if (bl > 0 && strncmp(key, how->by_prefix, bl) == 0) {
			snprintf(l, sizeof(l), "%s%s%s=\"%s\"", lbl, lbl[0] ? "," : "",
				 how->by_label, key + bl);
			sample_u64(p, how->by_name, "counter", how->by_help, l,
				   ctl_get_u64(d, key));
			continue;
		}
		metric_name(name, how->prefix, key, gauge ? "" : "_total");
		snprintf(help, sizeof(help), "%s: %s (telemetry %s)", gauge ? "Now" : "Count", key,
			 how->where);
		sample_u64(p, name, gauge ? "gauge" : "counter", help, lbl, ctl_get_u64(d, key));
	}
}

/* --- the appliance ------------------------------------------------------------------------ */

static void
node_metrics(struct prom *p, const json_t *info)
{
	char l[LABELS_LEN];

	labels(l, "version", json_string_value(json_object_get(info, "version")), "node",
	       json_string_value(json_object_get(info, "public_key")), "network",
	       json_string_value(json_object_get(info, "network")), NULL);
	sample_u64(p, "sluice_info", "gauge", "The appliance: its version, node key and network", l,
		   1);
	sample_ratio(p, "sluice_uptime_seconds", "Time since the appliance started", "",
		     ctl_get_u64(info, "uptime_ms"), 1000, false);
	sample_u64(p, "sluice_sessions", "gauge", "Live sessions", "",
		   ctl_get_u64(info, "sessions_live"));
	sample_u64(p, "sluice_handshakes_pending", "gauge", "Handshakes in progress", "",
		   ctl_get_u64(info, "handshakes_pending"));
	sample_u64(p, "sluice_peers_configured", "gauge", "Peers in the configuration", "",
		   ctl_get_u64(info, "peers_configured"));
	sample_u64(p, "sluice_lcores", "gauge", "Dataplane lcores", "",
		   ctl_get_u64(info, "lcores"));
	sample_u64(p, "sluice_ports", "gauge", "Ports", "", ctl_get_u64(info, "ports"));
	sample_u64(p, "sluice_stats_snapshots_total", "counter",
		   "Statistics snapshots the control thread took of the lcores (every 0.5 s)", "",
		   ctl_get_u64(info, "snapshots"));
}

static const struct {
	const char *key, *name, *help;
} lcore_counters[] = {
	{ "rx_pkts", "sluice_lcore_rx_packets_total", "Packets the lcore received" },
	{ "tx_pkts", "sluice_lcore_tx_packets_total", "Packets the lcore sent" },
	{ "rx_bursts_empty", "sluice_lcore_rx_empty_polls_total",
	  "Receive polls that found nothing" },
	{ "handoffs", "sluice_lcore_handoffs_total",
	  "Packets handed to the lcore that owns their session" },
};

static void
lcore_metrics(struct prom *p, const json_t *lcores)
{
	uint64_t hz = ctl_get_u64(lcores, "tsc_hz");
	const char *idx;
	json_t *lc, *v;

	json_object_foreach ((json_t *)lcores, idx, lc) {
		char l[LABELS_LEN], id[24], dl[LABELS_LEN];
		const char *key;

		if (!json_is_object(lc))
			continue;
		snprintf(id, sizeof(id), "%" PRIu64, ctl_get_u64(lc, "lcore"));
		labels(l, "lcore", id, NULL);
		for (size_t i = 0; i < sizeof(lcore_counters) / sizeof(lcore_counters[0]); i++)
			sample_u64(p, lcore_counters[i].name, "counter", lcore_counters[i].help, l,
				   ctl_get_u64(lc, lcore_counters[i].key));
		sample_ratio(p, "sluice_lcore_busy_seconds_total",
			     "Time the lcore spent in polling rounds that found work", l,
			     ctl_get_u64(lc, "busy_cycles"), hz, true);
		sample_u64(p, "sluice_lcore_sessions", "gauge", "Sessions the lcore owns", l,
			   ctl_get_u64(lc, "sessions"));
		json_object_foreach (lc, key, v)
			if (strncmp(key, "drop_", 5) == 0 && json_is_integer(v))
				sample_u64(
					p, "sluice_drops_total", "counter",
					"Packets the lcore dropped, by reason (docs/operations.md)",
					labels(dl, "lcore", id, "reason", key + 5, NULL),
					ctl_get_u64(lc, key));
	}
}

static const struct {
	const char *key, *name, *help;
} peer_counters[] = {
	{ "connects", "sluice_peer_sessions_opened_total", "Sessions opened with the node" },
	{ "disconnects", "sluice_peer_sessions_closed_total", "Sessions with the node closed" },
	{ "failures", "sluice_peer_connect_failures_total", "Dials of the node that gave up" },
	{ "rekeys", "sluice_peer_rekeys_total", "Key renewals of sessions with the node" },
	{ "moves", "sluice_peer_moves_total", "Times the node's address changed in a session" },
	{ "control_sent", "sluice_peer_control_sent_total", "Control messages sent to the node" },
	{ "control_received", "sluice_peer_control_received_total",
	  "Control messages received from the node" },
}, session_counters[] = {
	{ "pkts_in", "sluice_peer_packets_received_total", "Packets received in the session" },
	{ "pkts_out", "sluice_peer_packets_sent_total", "Packets sent in the session" },
	{ "bytes_in", "sluice_peer_bytes_received_total", "Bytes received in the session" },
	{ "bytes_out", "sluice_peer_bytes_sent_total", "Bytes sent in the session" },
	{ "msgs_in", "sluice_peer_messages_received_total", "Messages received in the session" },
	{ "msgs_out", "sluice_peer_messages_sent_total", "Messages sent in the session" },
	{ "retransmits", "sluice_peer_retransmits_total", "Retransmissions in the session" },
	{ "pkts_lost", "sluice_peer_packets_lost_total", "Packets the session declared lost" },
};

static void
peer_metrics(struct prom *p, const json_t *pe)
{
	char l[LABELS_LEN];
	size_t i;

	labels(l, "node", json_string_value(json_object_get(pe, "public_key")), "name",
	       json_string_value(json_object_get(pe, "name")), NULL);
	sample_u64(p, "sluice_peer_connected", "gauge", "1 while a session with the node is live",
		   l, strcmp(ctl_get_str(pe, "state"), "connected") == 0);
	for (i = 0; i < sizeof(peer_counters) / sizeof(peer_counters[0]); i++)
		sample_u64(p, peer_counters[i].name, "counter", peer_counters[i].help, l,
			   ctl_get_u64(pe, peer_counters[i].key));
	if (json_object_get(pe, "pkts_in") == NULL)
		return; /* no session, or its statistics not in a snapshot yet */
	for (i = 0; i < sizeof(session_counters) / sizeof(session_counters[0]); i++)
		sample_u64(p, session_counters[i].name, "counter", session_counters[i].help, l,
			   ctl_get_u64(pe, session_counters[i].key));
	sample_ratio(p, "sluice_peer_rtt_seconds", "Smoothed round-trip time of the session", l,
		     ctl_get_u64(pe, "rtt_us"), 1000000, false);
	sample_ratio(p, "sluice_peer_rtt_min_seconds", "Smallest round-trip time of the session", l,
		     ctl_get_u64(pe, "rtt_min_us"), 1000000, false);
	sample_u64(p, "sluice_peer_cwnd_bytes", "gauge", "Congestion window of the session", l,
		   ctl_get_u64(pe, "cwnd"));
}

static void
peers_metrics(struct prom *p, const json_t *peers)
{
	const char *key;
	json_t *v;

	json_object_foreach ((json_t *)peers, key, v)
		if (json_is_object(v))
			peer_metrics(p, v);
	sample_u64(p, "sluice_peers_truncated", "gauge",
		   "1 when telemetry listed only some of the nodes (at most 255)", "",
		   json_object_get(peers, "truncated") != NULL);
}

static void
drops_metrics(struct prom *p, const json_t *drops)
{
	static const char *const ctl_gauges[] = { "resume_cache_entries", NULL };
	static const char *const adm_gauges[] = { "arp_entries", NULL };
	const struct flat ctl = {
		.prefix = "control_",
		.where = "/sluice/drops control",
		.gauges = ctl_gauges,
		.by_prefix = "refused_",
		.by_name = "sluice_control_refused_total",
		.by_label = "reason",
		.by_help = "Handshakes refused, by reason",
	};
	const struct flat adm = {
		.prefix = "admission_",
		.where = "/sluice/drops admission",
		.gauges = adm_gauges,
	};

	flat_dict(p, json_object_get(drops, "control"), &ctl, "");
	flat_dict(p, json_object_get(drops, "admission"), &adm, "");
}

static void
discovery_metrics(struct prom *p, const json_t *disc)
{
	static const char *const gauges[] = { "enabled",       "seed_mode", "book_size", "book_new",
					      "book_tried",    "loaded",    "outbound",	 "inbound",
					      "unconditional", "dialing",   NULL };
	static const char *const parts[] = { "book", "pool", "pex" };
	struct flat top = { .prefix = "discovery_",
			    .where = "/sluice/discovery",
			    .gauges = gauges };

	flat_dict(p, disc, &top, "");
	for (unsigned int i = 0; i < 3; i++) {
		char prefix[32], where[48];
		struct flat part = { .prefix = prefix, .where = where };

		snprintf(prefix, sizeof(prefix), "discovery_%s_", parts[i]);
		snprintf(where, sizeof(where), "/sluice/discovery %s", parts[i]);
		flat_dict(p, json_object_get(disc, parts[i]), &part, "");
	}
}

static void
apps_metrics(struct prom *p, const json_t *apps)
{
	const json_t *iface = json_object_get(apps, "interface");
	const struct flat api = { .prefix = "api_", .where = "/sluice/apps interface" };
	unsigned int n = 0;
	const char *key;
	json_t *v;

	if (!json_is_object(iface))
		return; /* no api section */
	json_object_foreach ((json_t *)apps, key, v)
		n += json_is_object(v) && strcmp(key, "interface") != 0;
	sample_u64(p, "sluice_apps_attached", "gauge", "Applications attached now", "", n);
	flat_dict(p, iface, &api, "");
}

/* --- the command -------------------------------------------------------------------------- */

static int
print_all(const struct prom *p)
{
	for (unsigned int i = 0; i < p->n; i++) {
		const struct family *f = &p->fam[i];

		if (f->len == 0)
			continue;
		printf("# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
		fwrite(f->lines, 1, f->len, stdout);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "sluicectl: cannot write the metrics\n");
		return CTL_USAGE;
	}
	return CTL_OK;
}

int
ctl_metrics(const struct ctl *ctl, const char *arg)
{
	static const char *const cmds[] = { "/sluice/info",  "/sluice/lcores",	  "/sluice/peers",
					    "/sluice/drops", "/sluice/discovery", "/sluice/apps" };
	enum { N = sizeof(cmds) / sizeof(cmds[0]) };
	json_t *r[N] = { NULL };
	struct prom p = { .fam = NULL };
	struct ctl_tel t;
	int rc = ctl_tel_open(ctl, &t);

	(void)arg;
	for (unsigned int i = 0; rc == CTL_OK && i < N; i++)
		if ((r[i] = ctl_tel_query(&t, cmds[i])) == NULL)
			rc = CTL_UNREACHABLE;
	ctl_tel_close(&t);
	if (rc == CTL_OK) {
		node_metrics(&p, r[0]);
		lcore_metrics(&p, r[1]);
		peers_metrics(&p, r[2]);
		drops_metrics(&p, r[3]);
		discovery_metrics(&p, r[4]);
		apps_metrics(&p, r[5]);
		if (p.oom)
			fprintf(stderr, "sluicectl: out of memory\n");
		rc = p.oom ? CTL_USAGE : print_all(&p);
	}
	for (unsigned int i = 0; i < p.n; i++)
		free(p.fam[i].lines);
	free(p.fam);
	for (unsigned int i = 0; i < N; i++)
		json_decref(r[i]);
	return rc;
}
