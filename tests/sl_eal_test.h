/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tests: EAL for test programs that need the DPDK runtime.
 *
 * EAL starts the way this machine allows (no hugepages, no PCI, one lcore, no telemetry, log
 * level error) under a file prefix of its own, test-<name>-<pid>, so test programs run in
 * parallel; the runtime directory EAL leaves behind is removed at the end.
 */
#ifndef SL_EAL_TEST_H
#define SL_EAL_TEST_H

#include <rte_mempool.h>

#include "sl_test.h"

/* Start EAL for the program `name` (its file prefix: test-<name>-<pid>): 0, or -1 after saying
 * why on stderr. sl_eal_test_stop() stops it and removes its runtime directory. */
int sl_eal_test_start(const char *name);
void sl_eal_test_stop(void);

/* Start EAL, create *pool (1023 mbufs of RTE_MBUF_DEFAULT_BUF_SIZE, no per-lcore cache, so
 * rte_mempool_in_use_count() is exact), run the cases, free the pool, stop EAL. Returns the
 * process exit status. */
int sl_eal_test_main(const char *name, CU_TestInfo *cases, struct rte_mempool **pool);

#endif /* SL_EAL_TEST_H */
