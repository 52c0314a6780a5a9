/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the layout of an application's shared memory (see sl_api.h).
 */
#include <errno.h>
#include <string.h>

#include "sl_api.h"

#define SL_API_MIN_ARENA (64u << 10)
#define SL_API_MAX_ARENA (1ull << 32)
#define SL_API_MAX_SLOTS (1u << 16)

_Static_assert(SL_RING_LINE == 64, "cache line");

static int
pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static uint64_t
line_up(uint64_t v)
{
	return (v + SL_RING_LINE - 1) & ~(uint64_t)(SL_RING_LINE - 1);
}

/* Reserve n bytes at *at (cache-line aligned); returns where they start. */
static uint64_t
take(uint64_t *at, uint64_t n)
{
	uint64_t start = line_up(*at);

	*at = start + n;
	return start;
}

uint64_t
sl_api_layout(const struct sl_api_sizes *sz, struct sl_api_shm_hdr *hdr)
{
	uint64_t ring = sl_ring_bytes(sz->ring_slots, sizeof(struct sl_api_desc));
	uint64_t at = sizeof(*hdr);

	if (sz->n_lanes == 0 || sz->n_lanes > SL_API_MAX_LANES || !pow2(sz->ring_slots) ||
	    sz->ring_slots > SL_API_MAX_SLOTS || !pow2(sz->tx_arena_bytes) ||
	    !pow2(sz->rx_arena_bytes) || sz->tx_arena_bytes < SL_API_MIN_ARENA ||
	    sz->rx_arena_bytes < SL_API_MIN_ARENA || sz->tx_arena_bytes > SL_API_MAX_ARENA ||
	    sz->rx_arena_bytes > SL_API_MAX_ARENA)
		return 0;
	memset(hdr, 0, sizeof(*hdr));
	hdr->magic = SL_API_MAGIC;
	hdr->version = SL_API_VERSION;
	hdr->n_lanes = sz->n_lanes;
	hdr->ring_slots = sz->ring_slots;
	hdr->tx_arena_bytes = sz->tx_arena_bytes;
	hdr->rx_arena_bytes = sz->rx_arena_bytes;
	hdr->sleeping = take(&at, sizeof(struct sl_api_shared_word));
	hdr->events_ring = take(&at, ring);
	for (uint32_t i = 0; i < sz->n_lanes; i++) {
		struct sl_api_lane_layout *l = &hdr->lane[i];

		l->tx_ring = take(&at, ring);
		l->rx_ring = take(&at, ring);
		l->rx_released = take(&at, sizeof(struct sl_api_shared_word));
		l->tx_arena = take(&at, sz->tx_arena_bytes);
		l->rx_arena = take(&at, sz->rx_arena_bytes);
	}
	hdr->size = line_up(at);
	return hdr->size;
}

/* Is [off, off + len) inside size bytes and cache-line aligned? */
static int
inside(uint64_t off, uint64_t len, uint64_t size)
{
	return off % SL_RING_LINE == 0 && off <= size && len <= size - off;
}

int
sl_api_layout_check(const struct sl_api_shm_hdr *hdr, uint64_t size)
{
	uint64_t ring;

	if (size < sizeof(*hdr) || hdr->magic != SL_API_MAGIC || hdr->version != SL_API_VERSION ||
	    hdr->size != size || hdr->n_lanes == 0 || hdr->n_lanes > SL_API_MAX_LANES ||
	    !pow2(hdr->ring_slots) || hdr->ring_slots > SL_API_MAX_SLOTS ||
	    !pow2(hdr->tx_arena_bytes) || !pow2(hdr->rx_arena_bytes) ||
	    hdr->tx_arena_bytes > SL_API_MAX_ARENA || hdr->rx_arena_bytes > SL_API_MAX_ARENA)
		return -EPROTO;
	ring = sl_ring_bytes(hdr->ring_slots, sizeof(struct sl_api_desc));
	if (!inside(hdr->sleeping, sizeof(struct sl_api_shared_word), size) ||
	    !inside(hdr->events_ring, ring, size))
		return -EPROTO;
	for (uint32_t i = 0; i < hdr->n_lanes; i++) {
		const struct sl_api_lane_layout *l = &hdr->lane[i];

		if (!inside(l->tx_ring, ring, size) || !inside(l->rx_ring, ring, size) ||
		    !inside(l->rx_released, sizeof(struct sl_api_shared_word), size) ||
		    !inside(l->tx_arena, hdr->tx_arena_bytes, size) ||
		    !inside(l->rx_arena, hdr->rx_arena_bytes, size))
			return -EPROTO;
	}
	return 0;
}
