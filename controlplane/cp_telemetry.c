/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: telemetry endpoints, from the control thread's state and the lcores' latest
 * statistics snapshots (see cp_main.h, docs/operations.md). The final summary is cp_summary.c.
 *
 *   /sluice/info      identity, network, uptime, sessions
 *   /sluice/peers     every node: state, addresses, ids, counters, its session's statistics;
 *                     with a parameter (a peer name or the start of a key), that node only
 *   /sluice/drops     every drop counter: dataplane reasons (summed over lcores), control
 *                     thread, admission, ARP
 *   /sluice/services  every configured service: counters and round-trip percentiles
 *   /sluice/channels  every configured channel: what the sessions that ended left undone
 *                     (undelivered, discarded, ...: dp_conn_undelivered)
 *   /sluice/apps      attached applications and what the application interface counted
 *   /sluice/ports     every port: name, device, address, UDP port, MAC, MTU, state
 *   /sluice/dials     every keyless dial in progress (an address without a key: a seed)
 *   /sluice/lcores    every lcore's own counters and drops (cp_telemetry_lcore.c)
 *
 * DPDK's telemetry thread calls these; they take the control thread's lock.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_telemetry.h>

#include "cp_api.h"
#include "cp_main.h"
#include "cp_arp.h"
#include "drv_memif_guard.h"
#include "sl_hist.h"
#include "cp_resume.h"
#include "cp_telemetry_disc.h"

#define NS_PER_US UINT64_C(1000)

static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cp_main *tel_app; /* the appliance the endpoints describe, NULL when none */

/* "a.b.c.d", then suffix (may be ""). */
static void
ip4_str(char *out, size_t len, uint32_t ip, const char *suffix)
{
	snprintf(out, len, "%u.%u.%u.%u%s", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
		 ip & 0xff, suffix);
}

static void
ip_str(char *out, size_t len, uint32_t ip, uint16_t port)
{
	char p[8];

	snprintf(p, sizeof(p), ":%u", port);
	ip4_str(out, len, ip, p);
}

/* "1,3,7": the channels of a bit mask. */
static void
chan_list(char *out, size_t len, uint32_t mask)
{
	size_t n = 0;

	out[0] = '\0';
	for (unsigned int k = 0; k < SL_MAX_CHANNELS && n < len; k++)
		if (mask & (1u << k))
			n += (size_t)snprintf(out + n, len - n, "%s%u", n > 0 ? "," : "", k);
}

int
cp_telemetry_with_app(int (*fn)(struct cp_main *a, const char *params, struct rte_tel_data *d),
		      const char *params, struct rte_tel_data *d)
{
	int rc = -ENODEV;

	pthread_mutex_lock(&tel_lock);
	if (tel_app != NULL) {
		pthread_mutex_lock(&tel_app->lock);
		rc = fn(tel_app, params, d);
		pthread_mutex_unlock(&tel_app->lock);
	}
	pthread_mutex_unlock(&tel_lock);
	return rc;
}

/* --- /sluice/info --------------------------------------------------------------------------- */

static int
info(struct cp_main *a, const char *params, struct rte_tel_data *d)
{
	const struct cp_ctl_stats *st = cp_ctl_stats(a->ctl);
	char key[45], netid[24];

	(void)params;
	conf_key_to_base64(cp_ctl_pubkey(a->ctl), key);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", SLUICE_VERSION);
	rte_tel_data_add_dict_string(d, "public_key", key);
	rte_tel_data_add_dict_string(d, "network", a->cfg->network);
	/* a string: as a number, half the ids are beyond what int64 JSON parsers take */
	snprintf(netid, sizeof(netid), "0x%016" PRIx64, a->cfg->network_id);
	rte_tel_data_add_dict_string(d, "network_id", netid);
	rte_tel_data_add_dict_u64(d, "uptime_ms", (a->now_ns - a->started_ns) / 1000000);
	rte_tel_data_add_dict_u64(d, "lcores", a->dp->n_lcores);
	rte_tel_data_add_dict_u64(d, "ports", a->dp->n_ports);
	rte_tel_data_add_dict_u64(d, "peers_configured", a->cfg->n_peers);
	rte_tel_data_add_dict_u64(d, "sessions_live", st->sessions_live);
	rte_tel_data_add_dict_u64(d, "handshakes_pending", st->handshakes_pending);
	rte_tel_data_add_dict_u64(d, "snapshots", a->snaps_done);
	if (cp_control_stats(&a->control)->observed_ip != 0) { /* how the last HELLO saw us */
		const struct cp_control_stats *cs = cp_control_stats(&a->control);
		char seen[32];

		ip_str(seen, sizeof(seen), cs->observed_ip, cs->observed_port);
		rte_tel_data_add_dict_string(d, "observed_addr", seen);
	}
	rte_tel_data_add_dict_string(d, "state", a->done ? "stopped" : "running");
	return 0;
}

/* --- /sluice/peers -------------------------------------------------------------------------- */

static void
add_session(struct rte_tel_data *c, const struct dp_session_stats *s)
{
	char chans[3 * SL_MAX_CHANNELS + 1];

	rte_tel_data_add_dict_u64(c, "pkts_in", s->pkts_in);
	rte_tel_data_add_dict_u64(c, "pkts_out", s->pkts_out);
	rte_tel_data_add_dict_u64(c, "bytes_in", s->bytes_in);
	rte_tel_data_add_dict_u64(c, "bytes_out", s->bytes_out);
	rte_tel_data_add_dict_u64(c, "msgs_in", s->msgs_in);
	rte_tel_data_add_dict_u64(c, "msgs_out", s->msgs_out);
	rte_tel_data_add_dict_u64(c, "retransmits", s->retransmits);
	rte_tel_data_add_dict_u64(c, "pkts_lost", s->pkts_lost);
	rte_tel_data_add_dict_u64(c, "rtt_us", s->rtt_ns / NS_PER_US);
	rte_tel_data_add_dict_u64(c, "rtt_min_us", s->rtt_min_ns / NS_PER_US);
	rte_tel_data_add_dict_u64(c, "cwnd", s->cwnd);
	chan_list(chans, sizeof(chans), s->channels);
	rte_tel_data_add_dict_string(c, "channels", chans);
}

/* The dictionary key of a node. Telemetry takes only letters, digits and '_' in names, so a
 * configured peer is its name with anything else turned into '_' (and its index appended when
 * that changed the name, so two peers never share a key); any other node is "key_" and the
 * first 6 bytes of its public key in hex. The real name is the entry's "name". */
static void
tel_name(char *out, size_t len, const struct cp_node_info *n)
{
	bool changed = false;
	size_t i;

	if (n->peer < 0) {
		snprintf(out, len, "key_%02x%02x%02x%02x%02x%02x", n->pub[0], n->pub[1], n->pub[2],
			 n->pub[3], n->pub[4], n->pub[5]);
		return;
	}
	for (i = 0; i + 1 < len && n->name[i] != '\0'; i++) {
		char ch = n->name[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '_';

		out[i] = ok ? ch : '_';
		changed = changed || !ok;
	}
	out[i] = '\0';
	if (changed)
		snprintf(out + i, len - i, "_%d", n->peer);
}

/* "a.b.c.d:p,...": the listen addresses a peer advertised. */
static void
listen_list(char *out, size_t len, const struct cp_node_info *n)
{
	size_t k = 0;

	out[0] = '\0';
	for (unsigned int i = 0; i < n->n_addrs && i < SL_HS_MAX_ADDRS && k < len; i++) {
		char one[24];

		ip_str(one, sizeof(one), n->addrs[i].ip, n->addrs[i].port);
		k += (size_t)snprintf(out + k, len - k, "%s%s", i > 0 ? "," : "", one);
	}
}

/* What a connected node told us about itself, and the control messages exchanged with it. */
static void
add_node_extras(struct rte_tel_data *c, const struct cp_node_info *n)
{
	char caps[24], addrs[SL_HS_MAX_ADDRS * 22 + 1];

	rte_tel_data_add_dict_u64(c, "control_sent", n->control_sent);
	rte_tel_data_add_dict_u64(c, "control_received", n->control_received);
	if (n->state != CP_NODE_CONNECTED)
		return;
	snprintf(caps, sizeof(caps), "0x%" PRIx64, n->capabilities);
	rte_tel_data_add_dict_string(c, "capabilities", caps);
	listen_list(addrs, sizeof(addrs), n);
	rte_tel_data_add_dict_string(c, "listen", addrs);
}

struct peers_walk {
	struct cp_main *a;
	struct rte_tel_data *d;
	const char *only;
	unsigned int n;
};

static int
peer_entry(void *arg, const struct cp_node_info *n)
{
	struct peers_walk *w = arg;
	struct rte_tel_data *c;
	const struct dp_session_stats *ss;
	char key[45], name[CONF_NAME_LEN + 8], addr[32];

	conf_key_to_base64(n->pub, key);
	if (w->only != NULL && w->only[0] != '\0' && strcmp(w->only, n->name) != 0 &&
	    strncmp(w->only, key, strlen(w->only)) != 0)
		return 0;
	tel_name(name, sizeof(name), n);
	if (++w->n >= RTE_TEL_MAX_DICT_ENTRIES) /* one entry left for "truncated" */
		return 1;
	c = rte_tel_data_alloc();
	if (c == NULL)
		return 1;
	rte_tel_data_start_dict(c);
	ip_str(addr, sizeof(addr), n->ip, n->udp_port);
	rte_tel_data_add_dict_string(c, "name", n->name);
	rte_tel_data_add_dict_string(c, "public_key", key);
	rte_tel_data_add_dict_string(c, "state", cp_node_state_name(n->state));
	rte_tel_data_add_dict_string(c, "addr", addr);
	rte_tel_data_add_dict_string(c, "configured", n->peer >= 0 ? "yes" : "no");
	rte_tel_data_add_dict_u64(c, "connects", n->connects);
	rte_tel_data_add_dict_u64(c, "disconnects", n->disconnects);
	rte_tel_data_add_dict_u64(c, "failures", n->failures);
	rte_tel_data_add_dict_u64(c, "attempts", n->attempts);
	rte_tel_data_add_dict_u64(c, "rekeys", n->rekeys);
	rte_tel_data_add_dict_u64(c, "moves", n->moves);
	rte_tel_data_add_dict_u64(c, "via", n->via); /* relay circuit, 0: direct */
	rte_tel_data_add_dict_string(c, "last_error", n->last_error);
	add_node_extras(c, n);
	rte_tel_data_add_dict_string(c, "key_learned", n->learned ? "xx" : "no");
	if (n->state == CP_NODE_CONNECTED) {
		rte_tel_data_add_dict_u64(c, "connid", n->connid);
		rte_tel_data_add_dict_u64(c, "remote_id", n->remote_id);
		rte_tel_data_add_dict_u64(c, "lcore", n->lcore);
		rte_tel_data_add_dict_string(c, "role", n->initiator ? "initiator" : "responder");
		rte_tel_data_add_dict_u64(c, "connected_ms",
					  (w->a->now_ns - n->connected_ns) / 1000000);
		rte_tel_data_add_dict_u64(c, "last_handshake_ms",
					  (w->a->now_ns - n->last_handshake_ns) / 1000000);
		ss = cp_main_session_stats(w->a, sl_connid_owner(n->connid),
					   sl_connid_slot(n->connid));
		if (ss != NULL)
			add_session(c, ss);
	}
	rte_tel_data_add_dict_container(w->d, name, c, 0);
	return 0;
}

static int
peers(struct cp_main *a, const char *params, struct rte_tel_data *d)
{
	struct peers_walk w = { .a = a, .d = d, .only = params };

	rte_tel_data_start_dict(d);
	if (cp_ctl_foreach_node(a->ctl, peer_entry, &w) != 0)
		rte_tel_data_add_dict_string(d, "truncated", "yes");
	return 0;
}

/* --- /sluice/dials -------------------------------------------------------------------------- */

static int
dial_entry(void *arg, const struct cp_addr_dial_info *di)
{
	struct peers_walk *w = arg;
	struct rte_tel_data *c;
	char name[40], addr[32];

	if (++w->n >= RTE_TEL_MAX_DICT_ENTRIES) /* one entry left for "truncated" */
		return 1;
	c = rte_tel_data_alloc();
	if (c == NULL)
		return 1;
	rte_tel_data_start_dict(c);
	ip_str(addr, sizeof(addr), di->ip, di->udp_port);
	snprintf(name, sizeof(name), "addr_%u_%u_%u_%u_%u", di->ip >> 24, (di->ip >> 16) & 0xff,
		 (di->ip >> 8) & 0xff, di->ip & 0xff, di->udp_port);
	rte_tel_data_add_dict_string(c, "addr", addr);
	rte_tel_data_add_dict_string(c, "state", cp_node_state_name(di->state));
	rte_tel_data_add_dict_u64(c, "attempts", di->attempts);
	rte_tel_data_add_dict_u64(c, "failures", di->failures);
	rte_tel_data_add_dict_string(c, "last_error", di->last_error);
	rte_tel_data_add_dict_container(w->d, name, c, 0);
	return 0;
}

static int
dials(struct cp_main *a, const char *params, struct rte_tel_data *d)
{
	struct peers_walk w = { .a = a, .d = d };

	(void)params;
	rte_tel_data_start_dict(d);
	if (cp_ctl_foreach_addr_dial(a->ctl, dial_entry, &w) != 0)
		rte_tel_data_add_dict_string(d, "truncated", "yes");
	return 0;
}

/* --- /sluice/drops -------------------------------------------------------------------------- */

/* The resumption cache (resume_cache_* keys), when resumption is on. */
static void
resume_counters(struct rte_tel_data *c, const struct cp_ctl *ctl)
{
	uint32_t entries;
	const struct cp_resume_stats *r = cp_ctl_resume_stats(ctl, &entries);

	if (r == NULL)
		return;
	rte_tel_data_add_dict_u64(c, "resume_cache_entries", entries);
	rte_tel_data_add_dict_u64(c, "resume_cache_stored", r->stored);
	rte_tel_data_add_dict_u64(c, "resume_cache_replaced", r->replaced);
	rte_tel_data_add_dict_u64(c, "resume_cache_evicted", r->evicted);
	rte_tel_data_add_dict_u64(c, "resume_cache_expired", r->expired);
	rte_tel_data_add_dict_u64(c, "resume_cache_missed", r->missed);
}

static struct rte_tel_data *
ctl_counters(struct cp_main *a)
{
	const struct cp_ctl_stats *st = cp_ctl_stats(a->ctl);
	const struct cp_control_stats *cs = cp_control_stats(&a->control);
	struct rte_tel_data *c = rte_tel_data_alloc();
	char name[64];

	if (c == NULL)
		return NULL;
	rte_tel_data_start_dict(c);
#define CP_CTL_TEL(field, doc) rte_tel_data_add_dict_u64(c, #field, st->field);
	CP_CTL_COUNTERS(CP_CTL_TEL)
#undef CP_CTL_TEL
#define CP_CONTROL_TEL(field, doc) rte_tel_data_add_dict_u64(c, #field, cs->field);
	CP_CONTROL_COUNTERS(CP_CONTROL_TEL)
#undef CP_CONTROL_TEL
	for (unsigned int r = 1; r < CP_HS_REASON_COUNT; r++) {
		snprintf(name, sizeof(name), "refused_%s", cp_hs_reason_name(r));
		rte_tel_data_add_dict_u64(c, name, st->refused_by_reason[r]);
	}
	resume_counters(c, a->ctl);
	rte_tel_data_add_dict_u64(c, "handshake_msgs", a->hs_msgs);
	rte_tel_data_add_dict_u64(c, "tx_no_mbuf", a->tx_no_mbuf);
	rte_tel_data_add_dict_u64(c, "tx_build_failed", a->tx_build_failed);
	rte_tel_data_add_dict_u64(c, "port_restarts", a->ports.restarts);
	rte_tel_data_add_dict_u64(c, "port_peer_gone", drv_memif_guard_pauses());
	return c;
}

static struct rte_tel_data *
admission_counters(struct cp_main *a)
{
	const struct cp_admission_stats *st = cp_ctl_admission_stats(a->ctl);
	struct rte_tel_data *c = rte_tel_data_alloc();
	struct cp_arp_stats as = { 0 };

	if (c == NULL)
		return NULL;
	for (unsigned int p = 0; p < a->dp->n_ports; p++) {
		struct cp_arp_stats one;

		cp_arp_get_stats(a->arp[p], &one);
		as.requests += one.requests;
		as.failed += one.failed;
		as.evicted += one.evicted;
		as.learned += one.learned;
		as.entries += one.entries;
	}
	rte_tel_data_start_dict(c);
	rte_tel_data_add_dict_u64(c, "accepted", st->accepted);
	rte_tel_data_add_dict_u64(c, "bad_length", st->bad_length);
	rte_tel_data_add_dict_u64(c, "bad_mac1", st->bad_mac1);
	rte_tel_data_add_dict_u64(c, "cookies_sent", st->cookies_sent);
	rte_tel_data_add_dict_u64(c, "ratelimited", st->ratelimited);
	rte_tel_data_add_dict_u64(c, "over_budget", st->over_budget);
	rte_tel_data_add_dict_u64(c, "arp_packets", a->arp_msgs);
	rte_tel_data_add_dict_u64(c, "arp_replies_sent", a->arp_replies);
	rte_tel_data_add_dict_u64(c, "arp_requests_sent", a->arp_requests);
	rte_tel_data_add_dict_u64(c, "arp_announcements_sent", a->ports.announcements);
	rte_tel_data_add_dict_u64(c, "arp_learned", as.learned);
	rte_tel_data_add_dict_u64(c, "arp_failed", as.failed);
	rte_tel_data_add_dict_u64(c, "arp_evicted", as.evicted);
	rte_tel_data_add_dict_u64(c, "arp_entries", as.entries);
	return c;
}

static int
drops(struct cp_main *a, const char *params, struct rte_tel_data *d)
{
	struct cp_totals *t = malloc(sizeof(*t));
	struct rte_tel_data *dp = rte_tel_data_alloc();
	struct rte_tel_data *ctl = ctl_counters(a), *adm = admission_counters(a);

	(void)params;
	if (t == NULL || dp == NULL || ctl == NULL || adm == NULL) {
		free(t);
		rte_tel_data_free(dp);
		rte_tel_data_free(ctl);
		rte_tel_data_free(adm);
		return -ENOMEM;
	}
	cp_main_totals(a, t);
	rte_tel_data_start_dict(dp);
	for (unsigned int r = 0; r < DP_DROP_COUNT; r++)
		rte_tel_data_add_dict_u64(dp, dp_drop_name(r), t->drops[r]);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_container(d, "dataplane", dp, 0);
	rte_tel_data_add_dict_container(d, "control", ctl, 0);
	rte_tel_data_add_dict_container(d, "admission", adm, 0);
	rte_tel_data_add_dict_u64(d, "rx_pkts", t->rx_pkts);
	rte_tel_data_add_dict_u64(d, "tx_pkts", t->tx_pkts);
	rte_tel_data_add_dict_u64(d, "handoffs", t->handoffs);
	rte_tel_data_add_dict_u64(d, "busy_cycles", t->busy_cycles);
	rte_tel_data_add_dict_u64(d, "tsc_hz", rte_get_tsc_hz());
	free(t);
	return 0;
}

/* --- /sluice/services ----------------------------------------------------------------------- */

static void
add_service(struct rte_tel_data *c, const struct conf *cfg, unsigned int i,
	    const struct dp_svc_stats *s)
{
	const struct dp_svc_def *sv = &cfg->services.svc[i];

	rte_tel_data_start_dict(c);
	rte_tel_data_add_dict_string(c, "type", dp_svc_type_name(sv->type));
	rte_tel_data_add_dict_u64(c, "channel", sv->channel);
	if (sv->type == DP_SVC_SOURCE) {
		rte_tel_data_add_dict_string(c, "peer", cfg->peers[sv->peer].name);
		rte_tel_data_add_dict_u64(c, "count", sv->count);
		rte_tel_data_add_dict_u64(c, "sources", s->sources);
		rte_tel_data_add_dict_u64(c, "sources_done", s->sources_done);
	}
#define SVC_TEL(field, doc) rte_tel_data_add_dict_u64(c, #field, s->cnt.field);
	DP_SVC_COUNTERS(SVC_TEL)
#undef SVC_TEL
	rte_tel_data_add_dict_u64(c, "active_us", (s->last_ns - s->first_ns) / NS_PER_US);
	if (s->rtt.count > 0) {
		rte_tel_data_add_dict_u64(c, "rtt_samples", s->rtt.count);
		rte_tel_data_add_dict_u64(c, "rtt_min_us", s->rtt.min / NS_PER_US);
		rte_tel_data_add_dict_u64(c, "rtt_p50_us",
					  sl_hist_percentile(&s->rtt, 50) / NS_PER_US);
		rte_tel_data_add_dict_u64(c, "rtt_p99_us",
					  sl_hist_percentile(&s->rtt, 99) / NS_PER_US);
		rte_tel_data_add_dict_u64(c, "rtt_p999_us",
					  sl_hist_percentile(&s->rtt, 99.9) / NS_PER_US);
		rte_tel_data_add_dict_u64(c, "rtt_max_us", s->rtt.max / NS_PER_US);
	}
}

/* d: entries "0" .. "n-1" from the lcores' latest snapshots, each filled by fill (which returns
 * false to leave it out). */
static int
totals_by_index(struct cp_main *a, struct rte_tel_data *d, unsigned int n,
		bool (*fill)(struct rte_tel_data *c, const struct cp_main *a,
			     const struct cp_totals *t, unsigned int i))
{
	struct cp_totals *t = malloc(sizeof(*t));
	char name[16];

	if (t == NULL)
		return -ENOMEM;
	cp_main_totals(a, t);
	rte_tel_data_start_dict(d);
	for (unsigned int i = 0; i < n; i++) {
		struct rte_tel_data *c = rte_tel_data_alloc();

		if (c == NULL)
			break;
		if (!fill(c, a, t, i)) {
			rte_tel_data_free(c);
			continue;
		}
		snprintf(name, sizeof(name), "%u", i);
		rte_tel_data_add_dict_container(d, name, c, 0);
	}
	free(t);
	return 0;
}

static bool
service_entry(struct rte_tel_data *c, const struct cp_main *a, const struct cp_totals *t,
	      unsigned int i)
{
	add_service(c, a->cfg, i, &t->svc[i]);
	return true;
}

static int
services(struct cp_main *a, const char *params, struct rte_tel_data *d)
{
	(void)params;
	return totals_by_index(a, d, a->cfg->services.n, service_entry);
}

/* --- /sluice/channels ----------------------------------------------------------------------- */

static const char *const chan_kinds[] = {
	[DP_CHAN_UNUSED] = "unused",
	[DP_CHAN_RELIABLE] = "reliable",
	[DP_CHAN_DATAGRAM] = "datagram",
};

static bool
channel_entry(struct rte_tel_data *c, const struct cp_main *a, const struct cp_totals *t,
	      unsigned int ch)
{
	const struct dp_chan_config *cc = &a->cfg->engine.chan[ch];
	const struct dp_undelivered *u = &t->undelivered[ch];

	if (cc->kind == DP_CHAN_UNUSED)
		return false;
	rte_tel_data_start_dict(c);
	rte_tel_data_add_dict_string(c, "kind", chan_kinds[cc->kind]);
#define CHAN_TEL(field, doc) rte_tel_data_add_dict_u64(c, #field, u->field);
	DP_UNDELIVERED_FIELDS(CHAN_TEL)
#undef CHAN_TEL
	return true;
}

static int
channels(struct cp_main *a, const char *params, struct rte_tel_data *d)
{
	(void)params;
	return totals_by_index(a, d, a->cfg->engine.n_channels, channel_entry);
}

/* --- /sluice/apps ---------------------------------------------------------------------------- */

static int
app_entry(void *arg, const struct cp_api_app_info *app)
{
	struct rte_tel_data *d = arg, *c = rte_tel_data_alloc();
	char name[16], chans[3 * SL_MAX_CHANNELS + 1];

	if (c == NULL)
		return 1;
	rte_tel_data_start_dict(c);
	rte_tel_data_add_dict_string(c, "name", app->name);
	rte_tel_data_add_dict_int(c, "pid", app->pid);
	rte_tel_data_add_dict_u64(c, "uid", app->uid);
	rte_tel_data_add_dict_u64(c, "gid", app->gid);
	chan_list(chans, sizeof(chans), app->channels);
	rte_tel_data_add_dict_string(c, "channels", chans);
#define APP_CNT(field, what) rte_tel_data_add_dict_u64(c, #field, app->cnt.field);
	DP_API_COUNTERS(APP_CNT)
#undef APP_CNT
	rte_tel_data_add_dict_u64(c, "disc_dropped", app->disc_dropped);
	snprintf(name, sizeof(name), "%u", app->idx);
	rte_tel_data_add_dict_container(d, name, c, 0);
	return 0;
}

/* The attached applications (one dict each, by slot), and what the interface counted. */
static int
apps(struct cp_main *a, const char *params, struct rte_tel_data *d)
{
	struct dp_api_lcore_stats ls;
	struct rte_tel_data *c;

	(void)params;
	rte_tel_data_start_dict(d);
	if (a->api == NULL)
		return 0;
	cp_api_foreach(a->api, app_entry, d);
	c = rte_tel_data_alloc();
	if (c == NULL)
		return 0;
	dp_lcore_api_stats(a->dp, &ls);
	rte_tel_data_start_dict(c);
#define API_CNT(field, what) rte_tel_data_add_dict_u64(c, #field, cp_api_stats(a->api)->field);
	CP_API_COUNTERS(API_CNT)
#undef API_CNT
	rte_tel_data_add_dict_u64(c, "dropped_app_gone", ls.dropped_app_gone);
	rte_tel_data_add_dict_u64(c, "dropped_closed", ls.dropped_closed);
	rte_tel_data_add_dict_u64(c, "dropped_no_memory", ls.no_memory);
	for (unsigned int k = 0; k < SL_MAX_CHANNELS; k++) {
		char key[24];

		snprintf(key, sizeof(key), "no_owner_chan%u", k);
		if (ls.no_owner[k] != 0)
			rte_tel_data_add_dict_u64(c, key, ls.no_owner[k]);
	}
	rte_tel_data_add_dict_container(d, "interface", c, 0);
	return 0;
}

/* --- /sluice/ports -------------------------------------------------------------------------- */

static void
add_port(struct rte_tel_data *c, const struct dp_runtime *dp, unsigned int i)
{
	const struct drv_port *p = &dp->ports[i];
	const struct conf_port *cfg = p->cfg;
	char addr[32], plen[8], mac[RTE_ETHER_ADDR_FMT_SIZE];

	rte_tel_data_start_dict(c);
	rte_tel_data_add_dict_string(c, "name", cfg->name);
	rte_tel_data_add_dict_string(c, "device", cfg->device);
	snprintf(plen, sizeof(plen), "/%u", cfg->prefix_len);
	ip4_str(addr, sizeof(addr), cfg->ipv4, plen);
	rte_tel_data_add_dict_string(c, "ipv4", addr);
	if (cfg->gateway != 0) {
		ip4_str(addr, sizeof(addr), cfg->gateway, "");
		rte_tel_data_add_dict_string(c, "gateway", addr);
	}
	rte_tel_data_add_dict_u64(c, "udp_port", cfg->udp_port);
	rte_tel_data_add_dict_u64(c, "mtu", cfg->mtu);
	rte_ether_format_addr(mac, sizeof(mac), &p->mac);
	rte_tel_data_add_dict_string(c, "mac", mac);
	/* paused: the lcores keep off it (a memif peer gone, or a restart under way) */
	rte_tel_data_add_dict_string(c, "state",
				     !p->started	       ? "stopped"
				     : dp->port_paused[i] != 0 ? "paused"
							       : "up");
}

static int
ports(struct cp_main *a, const char *params, struct rte_tel_data *d)
{
	char name[16];

	(void)params;
	rte_tel_data_start_dict(d);
	for (unsigned int i = 0; i < a->dp->n_ports; i++) {
		struct rte_tel_data *c = rte_tel_data_alloc();

		if (c == NULL)
			return -ENOMEM;
		add_port(c, a->dp, i);
		snprintf(name, sizeof(name), "%u", i);
		rte_tel_data_add_dict_container(d, name, c, 0);
	}
	return 0;
}

/* --- registration --------------------------------------------------------------------------- */

#define TEL_CB(fn)                                                                       \
	static int tel_##fn(const char *cmd, const char *params, struct rte_tel_data *d) \
	{                                                                                \
		(void)cmd;                                                               \
		return cp_telemetry_with_app(fn, params, d);                             \
	}
TEL_CB(info)
TEL_CB(peers)
TEL_CB(drops)
TEL_CB(services)
TEL_CB(channels)
TEL_CB(apps)
TEL_CB(ports)
TEL_CB(dials)

int
cp_telemetry_register(struct cp_main *a)
{
	static bool registered;
	int rc = 0;

	pthread_mutex_lock(&tel_lock);
	tel_app = a;
	if (!registered) {
		rc |= rte_telemetry_register_cmd(
			"/sluice/info", tel_info,
			"Identity, network, uptime and sessions. No parameters");
		rc |= rte_telemetry_register_cmd("/sluice/peers", tel_peers,
						 "Nodes and their sessions. Parameter: a peer name "
						 "or key prefix (optional)");
		rc |= rte_telemetry_register_cmd("/sluice/drops", tel_drops,
						 "Every drop and refusal counter (dataplane, "
						 "control, admission). No parameters");
		rc |= rte_telemetry_register_cmd(
			"/sluice/services", tel_services,
			"Built-in services: counters and round-trip percentiles. No parameters");
		rc |= rte_telemetry_register_cmd(
			"/sluice/channels", tel_channels,
			"Per channel, what ended sessions left undelivered "
			"or discarded. No parameters");
		rc |= rte_telemetry_register_cmd(
			"/sluice/apps", tel_apps,
			"Attached applications, their channels and counters, and what the "
			"application interface dropped. No parameters");
		rc |= rte_telemetry_register_cmd(
			"/sluice/ports", tel_ports,
			"Ports: name, device, address, UDP port, MAC, MTU, state. No parameters");
		rc |= rte_telemetry_register_cmd(
			"/sluice/dials", tel_dials,
			"Keyless dials in progress (addresses without a key). No parameters");
		rc |= cp_telemetry_disc_register();
		rc |= cp_telemetry_relay_register();
		rc |= cp_telemetry_lcore_register();
		registered = rc == 0;
	}
	pthread_mutex_unlock(&tel_lock);
	return rc == 0 ? 0 : -EINVAL;
}

void
cp_telemetry_unregister(void)
{
	pthread_mutex_lock(&tel_lock);
	tel_app = NULL;
	pthread_mutex_unlock(&tel_lock);
}
