/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the memif guard (drivers/drv_memif_guard.h) — an unmap on the EAL interrupt thread,
 * where DPDK's memif driver unmaps a departed peer's rings, waits until no lcore can still be
 * in a burst, and the port is paused first. A stand-in lcore (a thread registered with the
 * RCU state) is "inside a burst" on a mapping when an EAL alarm (which runs on the interrupt
 * thread) unmaps it: the unmap must not complete before the lcore reports a quiescent state,
 * and the lcore must find the port paused and the mapping still there. The same with the guard
 * disarmed shows the unmap does not wait (the bug). A port whose link is up, or an unmap on
 * another thread, pauses nothing. The port is a net_null device (its link is down until
 * started, like a memif port whose peer left).
 */
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <rte_alarm.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>

#include "drv_memif_guard.h"
#include "sl_eal_test.h"

#define BURST_MS 50 /* how long the stand-in lcore stays in its "burst" after the unmap began */

static struct rte_mempool *pool;

static struct {
	struct rte_rcu_qsbr *rcu;
	volatile uint8_t paused[1];
	uint16_t port_id;
	uint8_t *map;
	/* set by the interrupt thread */
	int started, done, rc;
	/* set by the stand-in lcore */
	int in_burst, saw_done, saw_paused, release;
} w;

static void
sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int
load(const int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void
store(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* What memif_disconnect() does last, on the interrupt thread. */
static void
unmap_on_intr_thread(void *arg)
{
	(void)arg;
	store(&w.started, 1);
	w.rc = munmap(w.map, 4096);
	store(&w.done, 1);
}

/* An lcore inside a burst on the mapping when the unmap begins; it stays there BURST_MS, then
 * reports a quiescent state (and keeps reporting them until released). */
static void *
lcore(void *arg)
{
	(void)arg;
	rte_rcu_qsbr_thread_register(w.rcu, 0);
	rte_rcu_qsbr_thread_online(w.rcu, 0);
	store(&w.in_burst, 1);
	while (!load(&w.started))
		rte_pause();
	sleep_ms(BURST_MS);
	store(&w.saw_done, load(&w.done));
	store(&w.saw_paused, w.paused[0]);
	if (!w.saw_done)
		w.map[100] = 1; /* still mapped: the guard holds the unmap */
	while (!load(&w.release)) {
		rte_rcu_qsbr_quiescent(w.rcu, 0);
		rte_pause();
	}
	rte_rcu_qsbr_thread_offline(w.rcu, 0);
	rte_rcu_qsbr_thread_unregister(w.rcu, 0);
	return NULL;
}

static void
world_up(bool link_up)
{
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct rte_eth_conf conf = { 0 };

	memset(&w, 0, sizeof(w));
	w.rcu = rte_zmalloc("guard_rcu", sz, RTE_CACHE_LINE_SIZE);
	CU_ASSERT_FATAL(w.rcu != NULL && rte_rcu_qsbr_init(w.rcu, 1) == 0);
	CU_ASSERT_FATAL(rte_eth_dev_get_port_by_name("net_null0", &w.port_id) == 0);
	if (link_up) {
		CU_ASSERT_FATAL(rte_eth_dev_configure(w.port_id, 1, 1, &conf) == 0);
		CU_ASSERT_FATAL(
			rte_eth_rx_queue_setup(w.port_id, 0, 64, SOCKET_ID_ANY, NULL, pool) == 0);
		CU_ASSERT_FATAL(rte_eth_tx_queue_setup(w.port_id, 0, 64, SOCKET_ID_ANY, NULL) == 0);
		CU_ASSERT_FATAL(rte_eth_dev_start(w.port_id) == 0);
	}
	w.map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CU_ASSERT_FATAL(w.map != MAP_FAILED);
}

static void
world_down(void)
{
	rte_eth_dev_stop(w.port_id);
	rte_free(w.rcu);
}

static void
arm(void)
{
	struct drv_memif_guard g = { .rcu = w.rcu, .paused = w.paused, .n_ports = 1 };

	g.port_id[0] = w.port_id;
	g.guarded[0] = true;
	g.name[0] = "guarded0";
	CU_ASSERT_EQUAL_FATAL(drv_memif_guard_arm(&g), 0); /* munmap is the program's */
}

/* The stand-in lcore is in its burst, then the interrupt thread unmaps; back when done. */
static void
race(void)
{
	pthread_t t;

	CU_ASSERT_FATAL(pthread_create(&t, NULL, lcore, NULL) == 0);
	while (!load(&w.in_burst))
		rte_pause();
	CU_ASSERT_FATAL(rte_eal_alarm_set(1, unmap_on_intr_thread, NULL) == 0);
	while (!load(&w.done))
		sleep_ms(1);
	store(&w.release, 1);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(w.rc, 0);
}

static void
test_unmap_waits_for_the_lcores(void)
{
	uint64_t before = drv_memif_guard_pauses();

	world_up(false);
	arm();
	race();
	drv_memif_guard_disarm();
	CU_ASSERT_EQUAL(w.saw_done, 0); /* the unmap waited for the lcore's quiescent state */
	CU_ASSERT_EQUAL(w.saw_paused, DRV_PORT_PAUSE_GONE); /* and the port was paused first */
	CU_ASSERT_EQUAL(w.paused[0], DRV_PORT_PAUSE_GONE); /* until the control thread resumes it */
	CU_ASSERT_EQUAL(drv_memif_guard_pauses(), before + 1);
	world_down();
}

/* The bug, as the driver has it: nothing holds the unmap. */
static void
test_disarmed_unmap_does_not_wait(void)
{
	world_up(false);
	race();
	CU_ASSERT_EQUAL(w.saw_done, 1);
	CU_ASSERT_EQUAL(w.saw_paused, 0);
	world_down();
}

static void
test_link_up_pauses_nothing(void)
{
	world_up(true);
	arm();
	race();
	drv_memif_guard_disarm();
	CU_ASSERT_EQUAL(w.saw_done, 1);
	CU_ASSERT_EQUAL(w.paused[0], 0);
	world_down();
}

static void
test_other_threads_pass_through(void)
{
	world_up(false);
	arm();
	CU_ASSERT_EQUAL(munmap(w.map, 4096), 0); /* the main thread: not the interrupt thread */
	drv_memif_guard_disarm();
	CU_ASSERT_EQUAL(w.paused[0], 0);
	world_down();
}

/* The port: a net_null device, not started (link down). */
static void
test_setup(void)
{
	CU_ASSERT_EQUAL_FATAL(rte_eal_hotplug_add("vdev", "net_null0", ""), 0);
}

static CU_TestInfo cases[] = {
	{ "setup: a port", test_setup },
	{ "an unmap on the interrupt thread waits for the lcores, port paused",
	  test_unmap_waits_for_the_lcores },
	{ "disarmed, the unmap does not wait (the driver's bug)",
	  test_disarmed_unmap_does_not_wait },
	{ "a port whose link is up is not paused", test_link_up_pauses_nothing },
	{ "an unmap on another thread passes through", test_other_threads_pass_through },
	CU_TEST_INFO_NULL,
};

int
main(void)
{
	return sl_eal_test_main("memif_guard", cases, &pool);
}
