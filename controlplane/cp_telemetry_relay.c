/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the telemetry of relaying — /sluice/relay: the relay's counters, reservations and
 * circuits with what each forwarded each way (read from the dataplane's forwarding table), and
 * the peers this node reaches through relays. Called by cp_telemetry.c under the control
 * thread's lock. */
#include <stdio.h>
#include <stdlib.h>

#include <rte_telemetry.h>

#include "cp_main.h"
#include "cp_relay.h"
#include "cp_telemetry_disc.h"

static void
relay_counters(struct rte_tel_data *d, const struct cp_relay_stats *st)
{
	struct rte_tel_data *refused = rte_tel_data_alloc(), *ended = rte_tel_data_alloc();

#define RELAY_TEL(name, doc) rte_tel_data_add_dict_u64(d, #name, st->name);
	CP_RELAY_COUNTERS(RELAY_TEL)
#undef RELAY_TEL
	rte_tel_data_add_dict_u64(d, "reservations", st->reservations);
	rte_tel_data_add_dict_u64(d, "circuits", st->circuits);
	if (refused == NULL || ended == NULL) {
		rte_tel_data_free(refused), rte_tel_data_free(ended);
		return;
	}
	rte_tel_data_start_dict(refused), rte_tel_data_start_dict(ended);
	for (unsigned int s = 1; s < SL_RELAY_STATUS_COUNT; s++) {
		rte_tel_data_add_dict_u64(refused, cp_relay_status_name(s), st->refused_by[s]);
		rte_tel_data_add_dict_u64(ended, cp_relay_status_name(s), st->ended_by[s]);
	}
	rte_tel_data_add_dict_container(d, "refused_by", refused, 0);
	rte_tel_data_add_dict_container(d, "ended_by", ended, 0);
}

struct walk {
	struct rte_tel_data *d;
	unsigned int n;
};

static int
circuit_entry(void *arg, const struct cp_relay_circuit_info *ci)
{
	struct walk *w = arg;
	struct rte_tel_data *c;
	char key[24], a[45], b[45];

	if (w->n >= RTE_TEL_MAX_DICT_ENTRIES || (c = rte_tel_data_alloc()) == NULL)
		return 1;
	w->n++;
	snprintf(key, sizeof(key), "%08x_%08x", ci->id_a, ci->id_b);
	conf_key_to_base64(ci->a, a);
	conf_key_to_base64(ci->b, b);
	rte_tel_data_start_dict(c);
	rte_tel_data_add_dict_string(c, "a", a);
	rte_tel_data_add_dict_string(c, "b", b);
	rte_tel_data_add_dict_u64(c, "age_ms", ci->age_ns / 1000000);
	rte_tel_data_add_dict_u64(c, "limit_s", ci->limit_s);
	rte_tel_data_add_dict_u64(c, "limit_bytes", ci->limit_bytes);
	rte_tel_data_add_dict_u64(c, "pkts_ab", ci->pkts_ab);
	rte_tel_data_add_dict_u64(c, "bytes_ab", ci->bytes_ab);
	rte_tel_data_add_dict_u64(c, "pkts_ba", ci->pkts_ba);
	rte_tel_data_add_dict_u64(c, "bytes_ba", ci->bytes_ba);
	rte_tel_data_add_dict_container(w->d, key, c, 0);
	return 0;
}

static int
use_entry(void *arg, const struct cp_relay_use_info *ui)
{
	struct walk *w = arg;
	struct rte_tel_data *c;
	const char *st = cp_relay_status_name(ui->last_status);

	if (w->n >= RTE_TEL_MAX_DICT_ENTRIES || (c = rte_tel_data_alloc()) == NULL)
		return 1;
	w->n++;
	rte_tel_data_start_dict(c);
	rte_tel_data_add_dict_string(c, "relay", ui->relay);
	rte_tel_data_add_dict_string(c, "state", ui->state);
	rte_tel_data_add_dict_u64(c, "circuit", ui->circuit);
	rte_tel_data_add_dict_string(c, "last_status", st != NULL ? st : "unknown");
	rte_tel_data_add_dict_u64(c, "refusals", ui->refusals);
	rte_tel_data_add_dict_u64(c, "losses", ui->losses);
	rte_tel_data_add_dict_container(w->d, ui->peer, c, 0);
	return 0;
}

static int
relay(struct cp_main *a, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *circuits = rte_tel_data_alloc(), *uses = rte_tel_data_alloc();
	struct walk wc = { .d = circuits }, wu = { .d = uses };
	struct cp_totals *t = malloc(sizeof(*t));

	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "enabled", a->cfg->relay.enabled);
	if (t != NULL) {
		cp_main_totals(a, t);
		rte_tel_data_add_dict_u64(d, "forwarded_pkts", t->relay_pkts);
		rte_tel_data_add_dict_u64(d, "forwarded_bytes", t->relay_bytes);
		free(t);
	}
	relay_counters(d, cp_relay_stats(a->relay));
	if (circuits == NULL || uses == NULL) {
		rte_tel_data_free(circuits), rte_tel_data_free(uses);
		return 0;
	}
	rte_tel_data_start_dict(circuits), rte_tel_data_start_dict(uses);
	cp_relay_foreach_circuit(a->relay, a->now_ns, circuit_entry, &wc);
	cp_relay_foreach_use(a->relay, use_entry, &wu);
	rte_tel_data_add_dict_container(d, "circuit_list", circuits, 0);
	rte_tel_data_add_dict_container(d, "via", uses, 0);
	return 0;
}

static int
tel_relay(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return cp_telemetry_with_app(relay, params, d);
}

int
cp_telemetry_relay_register(void)
{
	return rte_telemetry_register_cmd(
		"/sluice/relay", tel_relay,
		"Relaying: counters, circuits (at most 256) with what each forwarded, and the "
		"peers reached through relays. No parameters");
}
