/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: a binary min-heap of timers, for the sessions of one lcore.
 *
 * Each session embeds a struct dp_theap_node; dp_theap_set() moves a node to a new time in
 * O(log n) (inserting it if it was not in the heap), dp_theap_remove() takes it out. The
 * array grows on demand. Plain C, one thread.
 */
#ifndef DP_THEAP_H
#define DP_THEAP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#define DP_THEAP_NONE UINT32_MAX

struct dp_theap_node {
	uint64_t at;  /* when it is due */
	uint32_t idx; /* position in the heap, DP_THEAP_NONE when not in it */
};

struct dp_theap {
	struct dp_theap_node **v;
	uint32_t n, cap;
};

void dp_theap_init(struct dp_theap *h);
void dp_theap_fini(struct dp_theap *h);

static inline void
dp_theap_node_init(struct dp_theap_node *node)
{
	node->at = UINT64_MAX;
	node->idx = DP_THEAP_NONE;
}

/* Schedule node at `at` (UINT64_MAX takes it out). 0, or -ENOMEM (node unchanged). */
int dp_theap_set(struct dp_theap *h, struct dp_theap_node *node,
		 uint64_t at) __rte_warn_unused_result;
void dp_theap_remove(struct dp_theap *h, struct dp_theap_node *node);

/* The earliest node, or NULL. */
static inline struct dp_theap_node *
dp_theap_top(const struct dp_theap *h)
{
	return h->n > 0 ? h->v[0] : NULL;
}

#endif /* DP_THEAP_H */
