/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the control thread's log lines of refused inbound handshakes (see cp_main.h).
 */
#include <stdio.h>
#include <string.h>

#include <rte_log.h>

#include "cp_main.h"
#include "sl_repeat.h"

extern int cp_main_logtype; /* sluice.cp.main, registered in cp_main.c */

#define MS UINT64_C(1000000)

/* InboundRefused for one node and reason: once a minute. A refused node redials every second
 * or so, and a node nobody configured may keep doing so for as long as it runs. */
static const struct sl_repeat_rule refused_rule = { .burst = 1, .window_ns = 60000 * MS };

void
cp_main_log_refused(struct cp_main *a, const struct cp_note *n)
{
	static const char tag[] = "InboundRefused/";
	uint8_t k[SL_REPEAT_KEY_LEN] = { 0 };
	uint32_t h = 2166136261u, left_out = 0; /* FNV-1a of the tag and reason */
	char key[45] = "-", more[32] = "";

	if (n->pub == NULL)
		return;
	memcpy(k, n->pub, 12);
	for (const char *c = tag; *c != '\0'; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	for (const char *c = n->reason; c != NULL && *c != '\0'; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	memcpy(k + 12, &h, sizeof(h));
	if (a->repeats != NULL &&
	    !sl_repeat_allow(a->repeats, &refused_rule, k, a->now_ns, &left_out))
		return;
	if (left_out != 0)
		snprintf(more, sizeof(more), " suppressed=%u", left_out);
	conf_key_to_base64(n->pub, key);
	rte_log(RTE_LOG_WARNING, cp_main_logtype,
		"sluice: InboundRefused key=%.12s reason=%s addr=%u.%u.%u.%u:%u via=%08x%s\n", key,
		n->reason, n->ip >> 24, (n->ip >> 16) & 0xff, (n->ip >> 8) & 0xff, n->ip & 0xff,
		n->udp_port, n->via, more);
}
