/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the telemetry endpoints of discovery, /sluice/discovery and /sluice/book
 * (cp_telemetry_disc.c), and of the lcores, /sluice/lcores (cp_telemetry_lcore.c). Called
 * under the control thread's lock (cp_telemetry.c). */
#ifndef CP_TELEMETRY_DISC_H
#define CP_TELEMETRY_DISC_H

#include <rte_telemetry.h>

struct cp_main;

/* Register /sluice/discovery and /sluice/book (once, by cp_telemetry_register()): 0 or -errno. */
int cp_telemetry_disc_register(void);
/* Register /sluice/lcores (once, by cp_telemetry_register()): 0 or -errno. */
int cp_telemetry_lcore_register(void);

/* Register /sluice/relay (cp_telemetry_relay.c): 0 or -errno. */
int cp_telemetry_relay_register(void);

/* Run fn on the appliance the endpoints describe, under both locks; -ENODEV when there is
 * none (cp_telemetry.c). */
int cp_telemetry_with_app(int (*fn)(struct cp_main *a, const char *params, struct rte_tel_data *d),
			  const char *params, struct rte_tel_data *d);

#endif /* CP_TELEMETRY_DISC_H */
