/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the memif guard (see drv_memif_guard.h).
 */
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <rte_log.h>
#include <rte_rcu_qsbr.h>

#include "drv_memif_guard.h"

RTE_LOG_REGISTER(drv_guard_logtype, sluice.drv.memif_guard, INFO);
#define GUARD_LOG(level, ...) rte_log(RTE_LOG_##level, drv_guard_logtype, "port: " __VA_ARGS__)

typedef int (*munmap_fn)(void *, size_t);

static munmap_fn real_munmap;		    /* the next munmap (libc's, or a sanitizer's) */
static struct drv_memif_guard guard;	    /* armed copy */
static const struct drv_memif_guard *armed; /* &guard while armed, else NULL */
static unsigned int in_guard;		    /* munmap() calls looking at the guard now */
static uint64_t pauses;

/* Resolved before main(), so no munmap() call of the program's own runs dlsym(); a call before
 * that (another constructor) takes the system call directly. */
static void __attribute__((constructor)) resolve_real_munmap(void)
{
	__atomic_store_n(&real_munmap, (munmap_fn)dlsym(RTLD_NEXT, "munmap"), __ATOMIC_RELEASE);
}

static bool
link_down(uint16_t port_id)
{
	struct rte_eth_link link;

	return rte_eth_link_get_nowait(port_id, &link) == 0 &&
	       link.link_status == RTE_ETH_LINK_DOWN;
}

/* On the interrupt thread, before an unmap: pause every guarded port whose link is down and
 * wait until no lcore can still be in a burst on it. */
static void
pause_gone_ports(const struct drv_memif_guard *g)
{
	unsigned int n = 0;

	for (unsigned int p = 0; p < g->n_ports; p++) {
		if (!g->guarded[p] || (g->paused[p] & DRV_PORT_PAUSE_GONE) != 0 ||
		    !link_down(g->port_id[p]))
			continue;
		__atomic_fetch_or(&g->paused[p], DRV_PORT_PAUSE_GONE, __ATOMIC_SEQ_CST);
		GUARD_LOG(WARNING,
			  "%s: memif peer gone, lcores kept off the port until it is back\n",
			  g->name[p]);
		n++;
	}
	if (n == 0)
		return;
	rte_rcu_qsbr_synchronize(g->rcu, RTE_QSBR_THRID_INVALID);
	__atomic_fetch_add(&pauses, n, __ATOMIC_RELAXED);
}

/* Exported from the executable (meson.build: --export-dynamic-symbol=munmap), so DPDK's
 * drivers, loaded later, bind their munmap() calls to this one. */
int
munmap(void *addr, size_t len)
{
	munmap_fn next = __atomic_load_n(&real_munmap, __ATOMIC_ACQUIRE);

	__atomic_fetch_add(&in_guard, 1, __ATOMIC_SEQ_CST);
	const struct drv_memif_guard *g = __atomic_load_n(&armed, __ATOMIC_SEQ_CST);

	if (g != NULL && rte_thread_is_intr())
		pause_gone_ports(g);
	__atomic_fetch_sub(&in_guard, 1, __ATOMIC_SEQ_CST);
	if (next != NULL)
		return next(addr, len);
	return (int)syscall(SYS_munmap, addr, len);
}

int
drv_memif_guard_arm(const struct drv_memif_guard *g)
{
	/* what a driver's munmap() binds to: the executable's, if it exports it */
	if ((munmap_fn)dlsym(RTLD_DEFAULT, "munmap") != munmap) {
		GUARD_LOG(WARNING, "memif guard: munmap is not the program's (not exported): a "
				   "memif peer that leaves mid-burst may crash this process\n");
		return -ENOTSUP;
	}
	guard = *g;
	__atomic_store_n(&armed, &guard, __ATOMIC_SEQ_CST);
	return 0;
}

void
drv_memif_guard_disarm(void)
{
	__atomic_store_n(&armed, NULL, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&in_guard, __ATOMIC_SEQ_CST) != 0)
		sched_yield();
}

uint64_t
drv_memif_guard_pauses(void)
{
	return __atomic_load_n(&pauses, __ATOMIC_RELAXED);
}
