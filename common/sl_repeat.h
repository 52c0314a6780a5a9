/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: rate limits for repeated log lines — of the lines that say the same thing (the
 * same key: e.g. a node and a reason), the first `burst` in each window are written, the
 * others counted, and the first one written after them says how many were left out.
 *
 * The state lives in an sl_lru table the caller makes with SL_REPEAT_ENTRY_SIZE and
 * SL_REPEAT_KEY_LEN (sl_lru_keyed_create() when the keys come from remote parties): when it
 * is full the least recently seen key gives way, and its count of left-out lines with it —
 * a key that comes back then starts afresh (it is written, never suppressed for longer).
 *
 * Plain C with the time passed in; the table belongs to one thread (in sluice, the control
 * thread).
 */
#ifndef SL_REPEAT_H
#define SL_REPEAT_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_lru.h"

#define SL_REPEAT_KEY_LEN 16

struct sl_repeat_entry {
	uint8_t key[SL_REPEAT_KEY_LEN];
	uint64_t window_start_ns;
	uint32_t written;    /* in this window */
	uint32_t suppressed; /* since the last one written */
};

#define SL_REPEAT_ENTRY_SIZE ((uint32_t)sizeof(struct sl_repeat_entry))

struct sl_repeat_rule {
	uint32_t burst;	    /* lines written per window, at least 1 */
	uint64_t window_ns; /* more than 0 */
};

/* Whether the line of key may be written at now_ns. When it may, *suppressed is how many of
 * key's lines were left out since its last one (0 mostly); when not, the line is counted. */
bool sl_repeat_allow(struct sl_lru *t, const struct sl_repeat_rule *rule,
		     const uint8_t key[SL_REPEAT_KEY_LEN], uint64_t now_ns, uint32_t *suppressed);

#endif /* SL_REPEAT_H */
