/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: /sluice/lcores — each dataplane lcore's own counters from its latest statistics
 * snapshot (the ones /sluice/drops sums over every lcore): packets, handoffs, busy cycles,
 * sessions, and every drop reason ("drop_<reason>"). One flat dictionary per lcore, keyed
 * by its index in the configuration ("0", "1", ...); an lcore without a snapshot yet is left
 * out. Called by cp_telemetry.c's DPDK telemetry thread, under the control thread's lock.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_telemetry.h>

#include "cp_main.h"
#include "cp_telemetry_disc.h"

static void
lcore_entry(struct rte_tel_data *c, const struct cp_main *a, unsigned int l)
{
	const struct dp_stats *s = a->snap[l][a->snap_cur[l]];
	char name[64];

	rte_tel_data_start_dict(c);
	rte_tel_data_add_dict_u64(c, "lcore", a->cfg->lcores[l].lcore);
	rte_tel_data_add_dict_u64(c, "rx_pkts", s->rx_pkts);
	rte_tel_data_add_dict_u64(c, "tx_pkts", s->tx_pkts);
	rte_tel_data_add_dict_u64(c, "rx_bursts_empty", s->rx_bursts_empty);
	rte_tel_data_add_dict_u64(c, "handoffs", s->handoffs);
	rte_tel_data_add_dict_u64(c, "busy_cycles", s->busy_cycles);
	rte_tel_data_add_dict_u64(c, "sessions", s->total);
	for (unsigned int r = 0; r < DP_DROP_COUNT; r++) {
		snprintf(name, sizeof(name), "drop_%s", dp_drop_name(r));
		rte_tel_data_add_dict_u64(c, name, s->drops[r]);
	}
}

static int
lcores(struct cp_main *a, const char *params, struct rte_tel_data *d)
{
	char key[16];

	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "tsc_hz", rte_get_tsc_hz());
	for (unsigned int l = 0; l < a->dp->n_lcores; l++) {
		struct rte_tel_data *c;

		if (!a->snap_valid[l])
			continue;
		c = rte_tel_data_alloc();
		if (c == NULL)
			return -ENOMEM;
		lcore_entry(c, a, l);
		snprintf(key, sizeof(key), "%u", l);
		rte_tel_data_add_dict_container(d, key, c, 0);
	}
	return 0;
}

static int
tel_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return cp_telemetry_with_app(lcores, params, d);
}

int
cp_telemetry_lcore_register(void)
{
	return rte_telemetry_register_cmd("/sluice/lcores", tel_lcores,
					  "Each dataplane lcore's packets, handoffs, busy cycles, "
					  "sessions and drops. No parameters");
}
