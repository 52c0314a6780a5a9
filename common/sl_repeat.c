/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: rate limits for repeated log lines (see sl_repeat.h).
 */
#include <stddef.h>

#include "sl_repeat.h"

_Static_assert(offsetof(struct sl_repeat_entry, key) == 0, "the key first (sl_lru)");

bool
sl_repeat_allow(struct sl_lru *t, const struct sl_repeat_rule *rule,
		const uint8_t key[SL_REPEAT_KEY_LEN], uint64_t now_ns, uint32_t *suppressed)
{
	struct sl_repeat_entry *e = sl_lru_find(t, key);

	*suppressed = 0;
	if (e == NULL) {
		e = sl_lru_insert(t, key, NULL);
		e->window_start_ns = now_ns;
		e->written = 1;
		return true;
	}
	sl_lru_touch(t, e);
	if (now_ns - e->window_start_ns >= rule->window_ns) {
		*suppressed = e->suppressed;
		e->window_start_ns = now_ns;
		e->written = 1;
		e->suppressed = 0;
		return true;
	}
	if (e->written < rule->burst) {
		e->written++;
		*suppressed = e->suppressed;
		e->suppressed = 0;
		return true;
	}
	e->suppressed++;
	return false;
}
