/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: assertions of debug builds — what a comment says about state and ownership, checked.
 *
 * Debug builds (meson --buildtype=debug: the ASan build `make test` runs) define SL_DEBUG; other
 * builds compile every macro here to nothing, so none of it costs a release build anything.
 *
 *   SL_ASSERT(cond)          abort with file:line and the condition when cond is false
 *   struct sl_owner          the thread an object belongs to: bound by the first call that
 *                            checks it, then every later check must come from that thread
 *   SL_ASSERT_OWNER(owner)   e.g. at the top of every control-thread-only entry point
 *   SL_OWNER_RELEASE(owner)  the object changes hands (built by one thread, then run by a
 *                            thread it starts): the next check binds it again. The hand-over
 *                            itself must order memory (pthread_create, pthread_join)
 *
 * The DPDK layers may use RTE_ASSERT as well (RTE_ENABLE_ASSERT is defined in the same builds);
 * these work in the plain-C layers, which must not call into the EAL.
 * Any thread; an sl_owner is checked by the thread that owns it (that is the point).
 */
#ifndef SL_DEBUG_H
#define SL_DEBUG_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef SL_DEBUG
#include <pthread.h>

#define SL_ASSERT(cond)                                                                          \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: %s: assertion failed: %s\n", __FILE__, __LINE__, \
				__func__, #cond);                                                \
			abort();                                                                 \
		}                                                                                \
	} while (0)

struct sl_owner {
	pthread_t thread;
	bool bound;
};

static inline void
sl_owner_check(struct sl_owner *o, const char *func)
{
	if (!o->bound) {
		o->thread = pthread_self();
		o->bound = true;
	} else if (!pthread_equal(o->thread, pthread_self())) {
		fprintf(stderr, "%s: called from a thread that does not own the object\n", func);
		abort();
	}
}

#define SL_ASSERT_OWNER(owner)	sl_owner_check(&(owner), __func__)
#define SL_OWNER_RELEASE(owner) ((owner).bound = false)

#else /* !SL_DEBUG */

#define SL_ASSERT(cond)		((void)0)
struct sl_owner {
	char unused; /* no state in release builds */
};
#define SL_ASSERT_OWNER(owner)	((void)0)
#define SL_OWNER_RELEASE(owner) ((void)(owner))

#endif /* SL_DEBUG */

#endif /* SL_DEBUG_H */
