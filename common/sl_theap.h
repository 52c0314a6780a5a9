/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: a binary min-heap of timers, for the sessions of one lcore.
 *
 * Each session embeds a struct sl_theap_node; sl_theap_set() moves a node to a new time in
 * O(log n) (inserting it if it was not in the heap), sl_theap_remove() takes it out. The
 * array grows on demand. Plain C, one thread.
 */
#ifndef SL_THEAP_H
#define SL_THEAP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#define SL_THEAP_NONE UINT32_MAX

struct sl_theap_node {
	uint64_t at;  /* when it is due */
	uint32_t idx; /* position in the heap, SL_THEAP_NONE when not in it */
};

struct sl_theap {
	struct sl_theap_node **v;
	uint32_t n, cap;
};

void sl_theap_init(struct sl_theap *h);
void sl_theap_fini(struct sl_theap *h);

static inline void
sl_theap_node_init(struct sl_theap_node *node)
{
	node->at = UINT64_MAX;
	node->idx = SL_THEAP_NONE;
}

/* Schedule node at `at` (UINT64_MAX takes it out). 0, or -ENOMEM (node unchanged). */
int sl_theap_set(struct sl_theap *h, struct sl_theap_node *node,
		 uint64_t at) __rte_warn_unused_result;
void sl_theap_remove(struct sl_theap *h, struct sl_theap_node *node);

/* The earliest node, or NULL. */
static inline struct sl_theap_node *
sl_theap_top(const struct sl_theap *h)
{
	return h->n > 0 ? h->v[0] : NULL;
}

#endif /* SL_THEAP_H */
