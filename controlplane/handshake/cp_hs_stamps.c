/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: newest handshake timestamp per identity (see cp_hs_stamps.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cp_hs_stamps.h"

#define PROBE 8 /* slots examined per lookup */

struct tstamp_entry {
	uint8_t pub[SL_KEY_LEN];
	uint64_t ts;
	uint64_t updated_ns;
	bool used;
};

struct cp_hs_stamps {
	struct tstamp_entry *slots;
	uint32_t mask;
	uint32_t count;
	uint64_t evictions;
	uint8_t key[crypto_shorthash_KEYBYTES];
};

struct cp_hs_stamps *
cp_hs_stamps_create(uint32_t capacity)
{
	struct cp_hs_stamps *t;
	uint32_t n = PROBE;

	if (capacity == 0 || capacity > (1u << 30)) {
		errno = EINVAL;
		return NULL;
	}
	while (n < capacity)
		n <<= 1;
	t = calloc(1, sizeof(*t));
	if (t != NULL)
		t->slots = calloc(n, sizeof(*t->slots));
	if (t == NULL || t->slots == NULL) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->mask = n - 1;
	crypto_shorthash_keygen(t->key);
	return t;
}

void
cp_hs_stamps_destroy(struct cp_hs_stamps *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t);
}

static uint32_t
bucket(const struct cp_hs_stamps *t, const uint8_t pub[SL_KEY_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint32_t v;

	crypto_shorthash(h, pub, SL_KEY_LEN, t->key);
	memcpy(&v, h, sizeof(v));
	return v & t->mask;
}

/* The slot holding pub, else a free slot, else the stalest slot of the neighbourhood. */
static struct tstamp_entry *
find_slot(struct cp_hs_stamps *t, const uint8_t pub[SL_KEY_LEN], bool *found)
{
	uint32_t b = bucket(t, pub);
	struct tstamp_entry *free_slot = NULL, *stalest = NULL;

	for (uint32_t i = 0; i < PROBE; i++) {
		struct tstamp_entry *e = &t->slots[(b + i) & t->mask];

		if (e->used && memcmp(e->pub, pub, SL_KEY_LEN) == 0) {
			*found = true;
			return e;
		}
		if (!e->used && free_slot == NULL)
			free_slot = e;
		if (e->used && (stalest == NULL || e->updated_ns < stalest->updated_ns))
			stalest = e;
	}
	*found = false;
	return free_slot != NULL ? free_slot : stalest;
}

bool
cp_hs_stamps_fresh(struct cp_hs_stamps *t, const uint8_t pub[SL_KEY_LEN], uint64_t ts, uint64_t now_ns)
{
	bool found;
	struct tstamp_entry *e = find_slot(t, pub, &found);

	if (found && ts <= e->ts)
		return false;
	if (!found) {
		if (e->used)
			t->evictions++;
		else
			t->count++;
		memcpy(e->pub, pub, SL_KEY_LEN);
		e->used = true;
	}
	e->ts = ts;
	e->updated_ns = now_ns;
	return true;
}

uint32_t
cp_hs_stamps_count(const struct cp_hs_stamps *t)
{
	return t->count;
}

uint64_t
cp_hs_stamps_evictions(const struct cp_hs_stamps *t)
{
	return t->evictions;
}
