/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the built-in services' statistics (see dp_svc_stats.h).
 */
#include "dp_svc_stats.h"

void
dp_svc_stats_merge(struct dp_svc_stats *dst, const struct dp_svc_stats *src)
{
#define DP_SVC_CNT_ADD(name, what) dst->cnt.name += src->cnt.name;
	DP_SVC_COUNTERS(DP_SVC_CNT_ADD)
#undef DP_SVC_CNT_ADD
	dst->sources += src->sources;
	dst->sources_done += src->sources_done;
	dp_svc_span_add(dst, src->first_ns, src->last_ns);
	sl_hist_merge(&dst->rtt, &src->rtt);
}
