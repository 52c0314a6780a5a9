/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: drop reason names and counter sums (see dp_drop.h).
 */
#include <errno.h>
#include <string.h>

#include "dp_drop.h"

static const char *const drop_names[] = {
#define DP_DROP_NAME(name, str) [DP_DROP_##name] = str,
	DP_DROPS(DP_DROP_NAME)
#undef DP_DROP_NAME
};

static_assert(RTE_DIM(drop_names) == DP_DROP_COUNT, "a name for every reason");

const char *
dp_drop_name(enum dp_drop_reason why)
{
	return (unsigned int)why < DP_DROP_COUNT ? drop_names[why] : "unknown";
}

int
dp_drop_from_name(const char *s)
{
	for (int i = 0; i < DP_DROP_COUNT; i++)
		if (strcmp(drop_names[i], s) == 0)
			return i;
	return -1;
}

enum dp_drop_reason
dp_drop_from_errno(int err)
{
	switch (err) {
	case -EBADMSG:
		return DP_DROP_DATA_BAD_SIZE;
	case -ENOKEY:
		return DP_DROP_DATA_UNKNOWN_SESSION;
	case -EKEYEXPIRED:
		return DP_DROP_DATA_KEY_EXPIRED;
	case -EALREADY:
		return DP_DROP_DATA_REPLAY;
	case -EPERM:
		return DP_DROP_DATA_DECRYPT_FAILED;
	default:
		return DP_DROP_NO_MBUF;
	}
}

void
dp_drop_add(struct dp_drop_counters *sum, const struct dp_drop_counters *c)
{
	for (unsigned int i = 0; i < DP_DROP_COUNT; i++)
		sum->n[i] += c->n[i];
}

uint64_t
dp_drop_total(const struct dp_drop_counters *c)
{
	uint64_t t = 0;

	for (unsigned int i = 0; i < DP_DROP_COUNT; i++)
		t += c->n[i];
	return t;
}
