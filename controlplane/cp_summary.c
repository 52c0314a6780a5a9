/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the summary an appliance prints on stdout when it stops (cp_main_summary, cp_main.h):
 * sessions, packets, busy cycles, each service's counters and round-trip percentiles, what the
 * channels left undelivered, and every drop reason that counted something. Tests and the perf
 * rig parse it (tests/integration/sl_integ.py parse_summary).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "cp_main.h"
#include "cp_relay.h"
#include "sl_hist.h"

#define NS_PER_US UINT64_C(1000)

static void
summary_service(FILE *f, const struct conf *cfg, unsigned int i, const struct dp_svc_stats *s)
{
	const struct dp_svc_def *sv = &cfg->services.svc[i];

	fprintf(f, "sluice: service=%u type=%s channel=%u", i, dp_svc_type_name(sv->type), sv->channel);
	if (sv->type == DP_SVC_SOURCE)
		fprintf(f, " peer=%s done=%u/%u", cfg->peers[sv->peer].name, s->sources_done,
			s->sources);
#define SVC_SUM(field, doc) fprintf(f, " %s=%" PRIu64, #field, s->cnt.field);
	DP_SVC_COUNTERS(SVC_SUM)
#undef SVC_SUM
	fprintf(f, " active_us=%" PRIu64, (s->last_ns - s->first_ns) / NS_PER_US);
	if (s->rtt.count > 0)
		fprintf(f,
			" rtt_p50_us=%" PRIu64 " rtt_p99_us=%" PRIu64 " rtt_p999_us=%" PRIu64
			" rtt_max_us=%" PRIu64,
			sl_hist_percentile(&s->rtt, 50) / NS_PER_US,
			sl_hist_percentile(&s->rtt, 99) / NS_PER_US,
			sl_hist_percentile(&s->rtt, 99.9) / NS_PER_US, s->rtt.max / NS_PER_US);
	if (s->rtt.count > 0) /* the same in ns: sub-microsecond round trips exist */
		fprintf(f,
			" rtt_min_ns=%" PRIu64 " rtt_p50_ns=%" PRIu64 " rtt_p99_ns=%" PRIu64
			" rtt_p999_ns=%" PRIu64 " rtt_max_ns=%" PRIu64,
			s->rtt.min, sl_hist_percentile(&s->rtt, 50),
			sl_hist_percentile(&s->rtt, 99), sl_hist_percentile(&s->rtt, 99.9),
			s->rtt.max);
	fputc('\n', f);
}

static void
summary_fields(FILE *f, const struct dp_undelivered *u)
{
#define UNDEL_SUM(field, doc) fprintf(f, " %s=%" PRIu64, #field, u->field);
	DP_UNDELIVERED_FIELDS(UNDEL_SUM)
#undef UNDEL_SUM
	fputc('\n', f);
}

/* The totals over channels, then a line for each channel with anything to say. */
static void
summary_undelivered(FILE *f, const struct cp_totals *t)
{
	static const struct dp_undelivered none;
	struct dp_undelivered all = { 0 };

	for (unsigned int ch = 0; ch < SL_MAX_CHANNELS; ch++)
		dp_undelivered_add(&all, &t->undelivered[ch]);
	fprintf(f, "sluice: channels");
	summary_fields(f, &all);
	for (unsigned int ch = 0; ch < SL_MAX_CHANNELS; ch++) {
		if (memcmp(&t->undelivered[ch], &none, sizeof(none)) == 0)
			continue;
		fprintf(f, "sluice: channel=%u", ch);
		summary_fields(f, &t->undelivered[ch]);
	}
}

/* What relaying did: forwarded for others (a relay), circuits asked for (a user of relays). */
static void
summary_relay(FILE *f, const struct cp_main *a, const struct cp_totals *t)
{
	const struct cp_relay_stats *rs = cp_relay_stats(a->relay);

	fprintf(f,
		"sluice: relay forwarded_pkts=%" PRIu64 " forwarded_bytes=%" PRIu64
		" circuits_opened=%" PRIu64 " circuits_refused=%" PRIu64 " circuits_ended=%" PRIu64
		" circuits_granted=%" PRIu64 " requests_refused=%" PRIu64 " circuits_lost=%" PRIu64
		"\n",
		t->relay_pkts, t->relay_bytes, rs->circuits_opened, rs->circuits_refused,
		rs->circuits_ended, rs->circuits_granted, rs->requests_refused, rs->circuits_lost);
}

void
cp_main_summary(struct cp_main *a, FILE *f)
{
	const struct cp_ctl_stats *st;
	struct cp_totals *t = malloc(sizeof(*t));
	uint64_t total = 0;

	if (t == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	cp_main_totals(a, t);
	st = cp_ctl_stats(a->ctl);
	fprintf(f,
		"sluice: summary uptime_ms=%" PRIu64 " sessions_opened=%" PRIu64
		" sessions_closed=%" PRIu64 " connect_failures=%" PRIu64 " refused=%" PRIu64
		" rekeys=%" PRIu64 " rx_pkts=%" PRIu64 " tx_pkts=%" PRIu64 " handoffs=%" PRIu64
		" busy_cycles=%" PRIu64 " tsc_hz=%" PRIu64 "\n",
		(a->now_ns - a->started_ns) / 1000000, st->sessions_opened, st->sessions_closed,
		st->connect_failures, st->refused, st->rekeys, t->rx_pkts, t->tx_pkts, t->handoffs,
		t->busy_cycles, rte_get_tsc_hz());
	for (unsigned int i = 0; i < a->cfg->services.n; i++)
		summary_service(f, a->cfg, i, &t->svc[i]);
	summary_undelivered(f, t);
	summary_relay(f, a, t);
	for (unsigned int r = 0; r < DP_DROP_COUNT; r++)
		total += t->drops[r];
	fprintf(f, "sluice: drops total=%" PRIu64, total);
	for (unsigned int r = 0; r < DP_DROP_COUNT; r++)
		if (t->drops[r] != 0)
			fprintf(f, " %s=%" PRIu64, dp_drop_name(r), t->drops[r]);
	fputc('\n', f);
	pthread_mutex_unlock(&a->lock);
	free(t);
}
