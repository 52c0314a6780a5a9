/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: a binary min-heap of timers (see sl_theap.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "sl_theap.h"

void
sl_theap_init(struct sl_theap *h)
{
	h->v = NULL;
	h->n = h->cap = 0;
}

void
sl_theap_fini(struct sl_theap *h)
{
	for (uint32_t i = 0; i < h->n; i++)
		h->v[i]->idx = SL_THEAP_NONE;
	free(h->v);
	sl_theap_init(h);
}

static inline void
place(struct sl_theap *h, uint32_t i, struct sl_theap_node *node)
{
	h->v[i] = node;
	node->idx = i;
}

static void
sift_up(struct sl_theap *h, uint32_t i)
{
	struct sl_theap_node *node = h->v[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (h->v[parent]->at <= node->at)
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, node);
}

static void
sift_down(struct sl_theap *h, uint32_t i)
{
	struct sl_theap_node *node = h->v[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1]->at < h->v[c]->at)
			c++;
		if (h->v[c]->at >= node->at)
			break;
		place(h, i, h->v[c]);
		i = c;
	}
	place(h, i, node);
}

void
sl_theap_remove(struct sl_theap *h, struct sl_theap_node *node)
{
	uint32_t i = node->idx;
	struct sl_theap_node *last;

	if (i == SL_THEAP_NONE)
		return;
	node->idx = SL_THEAP_NONE;
	last = h->v[--h->n];
	if (last == node)
		return;
	place(h, i, last);
	sift_up(h, i);
	sift_down(h, last->idx);
}

int
sl_theap_set(struct sl_theap *h, struct sl_theap_node *node, uint64_t at)
{
	uint64_t before = node->at;

	if (at == UINT64_MAX) {
		sl_theap_remove(h, node);
		node->at = at;
		return 0;
	}
	if (node->idx == SL_THEAP_NONE) {
		if (h->n == h->cap) {
			uint32_t cap = h->cap ? h->cap * 2 : 64;
			struct sl_theap_node **v = realloc(h->v, cap * sizeof(*v));

			if (v == NULL)
				return -ENOMEM;
			h->v = v;
			h->cap = cap;
		}
		node->at = at;
		place(h, h->n++, node);
		sift_up(h, node->idx);
		return 0;
	}
	node->at = at;
	if (at < before)
		sift_up(h, node->idx);
	else
		sift_down(h, node->idx);
	return 0;
}
