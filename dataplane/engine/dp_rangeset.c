/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: sets of byte ranges (see dp_rangeset.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp_rangeset.h"

void
dp_rs_free_heap(struct dp_rangeset *rs)
{
	free(rs->v);
	dp_rs_init(rs);
}

static int
grow(struct dp_rangeset *rs)
{
	uint32_t cap = rs->cap * 2;
	struct dp_range *v = malloc(cap * sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	memcpy(v, rs->v, rs->n * sizeof(*v));
	if (rs->v != rs->inl)
		free(rs->v);
	rs->v = v;
	rs->cap = cap;
	return 0;
}

/* Index of the first range whose hi >= lo (the first one [lo, ...) can touch). */
static uint32_t
first_touching(const struct dp_rangeset *rs, uint32_t lo)
{
	uint32_t a = 0, b = rs->n;

	while (a < b) {
		uint32_t m = (a + b) / 2;

		if (rs->v[m].hi < lo)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

int
dp_rs_add_slow(struct dp_rangeset *rs, uint32_t lo, uint32_t hi)
{
	uint32_t i, j;

	if (lo >= hi)
		return 0;
	i = first_touching(rs, lo);
	/* ranges i .. j-1 overlap or touch [lo, hi) */
	for (j = i; j < rs->n && rs->v[j].lo <= hi; j++) {
		lo = RTE_MIN(lo, rs->v[j].lo);
		hi = RTE_MAX(hi, rs->v[j].hi);
	}
	if (j == i) { /* insert a new range at i */
		if (rs->n == rs->cap && grow(rs) != 0)
			return -ENOMEM;
		memmove(&rs->v[i + 1], &rs->v[i], (rs->n - i) * sizeof(rs->v[0]));
		rs->n++;
	} else if (j > i + 1) { /* collapse i .. j-1 into i */
		memmove(&rs->v[i + 1], &rs->v[j], (rs->n - j) * sizeof(rs->v[0]));
		rs->n -= j - i - 1;
	}
	rs->v[i].lo = lo;
	rs->v[i].hi = hi;
	return 0;
}

int
dp_rs_remove(struct dp_rangeset *rs, uint32_t lo, uint32_t hi)
{
	uint32_t i = first_touching(rs, lo + 1 > lo ? lo + 1 : lo);

	if (lo >= hi)
		return 0;
	while (i < rs->n && rs->v[i].lo < hi) {
		struct dp_range *r = &rs->v[i];

		if (r->lo < lo && r->hi > hi) { /* split */
			if (rs->n == rs->cap && grow(rs) != 0)
				return -ENOMEM;
			r = &rs->v[i];
			memmove(&rs->v[i + 1], r, (rs->n - i) * sizeof(*r));
			rs->n++;
			rs->v[i].hi = lo;
			rs->v[i + 1].lo = hi;
			return 0;
		}
		if (r->lo >= lo && r->hi <= hi) { /* swallowed */
			memmove(r, r + 1, (rs->n - i - 1) * sizeof(*r));
			rs->n--;
			continue;
		}
		if (r->lo < lo)
			r->hi = lo;
		else
			r->lo = hi;
		i++;
	}
	return 0;
}

bool
dp_rs_covers_slow(const struct dp_rangeset *rs, uint32_t lo, uint32_t hi)
{
	uint32_t i;

	if (lo >= hi)
		return true;
	i = first_touching(rs, lo);
	return i < rs->n && rs->v[i].lo <= lo && rs->v[i].hi >= hi;
}

bool
dp_rs_first_gap(const struct dp_rangeset *rs, uint32_t lo, uint32_t hi, struct dp_range *gap)
{
	uint32_t i = first_touching(rs, lo);

	for (; i < rs->n && lo < hi; i++) {
		if (rs->v[i].lo > lo)
			break;
		lo = RTE_MAX(lo, rs->v[i].hi);
	}
	if (lo >= hi)
		return false;
	gap->lo = lo;
	gap->hi = i < rs->n ? RTE_MIN(hi, rs->v[i].lo) : hi;
	return true;
}
