/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: anti-replay sliding window (see dp_replay.h).
 */
#include <string.h>

#include "dp_replay.h"

static_assert(SL_REPLAY_WORDS * SL_REPLAY_WORD_BITS >= SL_REPLAY_WINDOW + SL_REPLAY_WORD_BITS,
	      "the ring needs one spare word beyond the window");

static inline uint64_t
word_of(uint64_t pn)
{
	return pn / SL_REPLAY_WORD_BITS;
}

/* The ring is indexed modulo SL_REPLAY_WORDS, which need not be a power of two: the spare
 * word keeps the memory at window + 64 bits rather than rounding up to twice the window. */
static inline unsigned int
slot_of(uint64_t word)
{
	return (unsigned int)(word % SL_REPLAY_WORDS);
}

static inline uint64_t
bit_of(uint64_t pn)
{
	return 1ull << (pn % SL_REPLAY_WORD_BITS);
}

void
dp_replay_init(struct dp_replay *r)
{
	memset(r, 0, sizeof(*r));
}

bool
dp_replay_check(const struct dp_replay *r, uint64_t pn, uint64_t limit)
{
	if (pn >= limit)
		return false;
	if (pn > r->top)
		return true;
	if (r->top - pn > SL_REPLAY_WINDOW)
		return false;
	return (r->bitmap[slot_of(word_of(pn))] & bit_of(pn)) == 0;
}

/* Move the highest accepted packet number up to pn, clearing the words that enter the
 * window. Words skipped entirely are cleared too, but never more than the whole ring. */
static void
slide(struct dp_replay *r, uint64_t pn)
{
	uint64_t cur = word_of(r->top);
	uint64_t n = word_of(pn) - cur;

	if (n > SL_REPLAY_WORDS)
		n = SL_REPLAY_WORDS;
	for (uint64_t i = 1; i <= n; i++)
		r->bitmap[slot_of(cur + i)] = 0;
	r->top = pn;
}

bool
dp_replay_update(struct dp_replay *r, uint64_t pn, uint64_t limit)
{
	if (!dp_replay_check(r, pn, limit))
		return false;
	if (pn > r->top)
		slide(r, pn);
	r->bitmap[slot_of(word_of(pn))] |= bit_of(pn);
	return true;
}
