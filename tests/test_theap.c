/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: timer heap against a naive reference (random set/remove/pop sequences).
 */
#include <stdlib.h>

#include "sl_theap.h"
#include "sl_test.h"

#define N 500

static uint64_t state = 88172645463325252ull;

static uint64_t
rnd(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

/* The earliest time among the reference's scheduled nodes. */
static uint64_t
ref_min(const struct sl_theap_node *nodes, const bool *in)
{
	uint64_t m = UINT64_MAX;

	for (int i = 0; i < N; i++)
		if (in[i] && nodes[i].at < m)
			m = nodes[i].at;
	return m;
}

static void
test_random_against_reference(void)
{
	static struct sl_theap_node nodes[N];
	static bool in[N];
	struct sl_theap h;
	unsigned int bad = 0, count;

	sl_theap_init(&h);
	for (int i = 0; i < N; i++)
		sl_theap_node_init(&nodes[i]);
	for (int op = 0; op < 200000; op++) {
		int i = (int)(rnd() % N);
		struct sl_theap_node *top;

		switch (rnd() % 4) {
		case 0:
		case 1:
			CU_ASSERT_EQUAL_FATAL(sl_theap_set(&h, &nodes[i], rnd() % 100000), 0);
			in[i] = true;
			break;
		case 2:
			sl_theap_remove(&h, &nodes[i]);
			in[i] = false;
			break;
		default: /* pop the earliest, as an lcore does */
			top = sl_theap_top(&h);
			bad += (top ? top->at : UINT64_MAX) != ref_min(nodes, in);
			if (top != NULL) {
				in[top - nodes] = false;
				sl_theap_remove(&h, top);
			}
			break;
		}
		count = 0;
		for (int k = 0; k < N; k++)
			count += in[k];
		bad += count != h.n;
	}
	for (uint32_t k = 0; k < h.n; k++) /* heap property and back-pointers */
		bad += h.v[k]->idx != k || (k > 0 && h.v[(k - 1) / 2]->at > h.v[k]->at);
	CU_ASSERT_EQUAL(bad, 0);
	sl_theap_fini(&h);
	for (int i = 0; i < N; i++)
		CU_ASSERT_EQUAL(nodes[i].idx, SL_THEAP_NONE);
}

static void
test_unschedule(void)
{
	struct sl_theap h;
	struct sl_theap_node a, b;

	sl_theap_init(&h);
	sl_theap_node_init(&a);
	sl_theap_node_init(&b);
	CU_ASSERT_EQUAL(sl_theap_set(&h, &a, 10), 0);
	CU_ASSERT_EQUAL(sl_theap_set(&h, &b, 5), 0);
	CU_ASSERT_PTR_EQUAL(sl_theap_top(&h), &b);
	CU_ASSERT_EQUAL(sl_theap_set(&h, &b, UINT64_MAX), 0);
	CU_ASSERT_PTR_EQUAL(sl_theap_top(&h), &a);
	CU_ASSERT_EQUAL(h.n, 1);
	sl_theap_remove(&h, &b); /* not in the heap: nothing happens */
	sl_theap_remove(&h, &a);
	CU_ASSERT_PTR_NULL(sl_theap_top(&h));
	sl_theap_fini(&h);
}

static CU_TestInfo cases[] = {
	{ "random operations against a reference", test_random_against_reference },
	{ "unscheduling and removal", test_unschedule },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("theap", cases)
