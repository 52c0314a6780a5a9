/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the appliance's monotonic clock in nanoseconds, from the TSC.
 *
 * sl_clock_init() once after rte_eal_init(); then sl_now_ns() from any thread (lcores, the
 * control thread): a multiply and a shift, no system call. The plain-C modules never read a
 * clock; their callers pass sl_now_ns().
 */
#ifndef SL_CLOCK_H
#define SL_CLOCK_H

#include <stdint.h>

#include <rte_cycles.h>

struct sl_clock {
	uint64_t tsc0;
	uint64_t mult; /* ns per tick, 32.32 fixed point */
};

extern struct sl_clock sl_clock;

static inline void
sl_clock_init(void)
{
	sl_clock.tsc0 = rte_rdtsc();
	sl_clock.mult = (uint64_t)(((unsigned __int128)1000000000u << 32) / rte_get_tsc_hz());
}

static inline uint64_t
sl_now_ns(void)
{
	uint64_t t = rte_rdtsc() - sl_clock.tsc0;

	/* start at one second so that "never happened" (0) is always in the past */
	return (uint64_t)(((unsigned __int128)t * sl_clock.mult) >> 32) + 1000000000u;
}

#endif /* SL_CLOCK_H */
