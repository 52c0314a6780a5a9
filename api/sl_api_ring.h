/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: a single-producer single-consumer ring of fixed-size slots in memory shared between
 * two processes (the appliance and an application), without locks or system calls.
 *
 * The shared part (struct sl_ring_shm) holds the two indices, each on a cache line of its own,
 * and the slots; each side keeps a private handle (struct sl_ring) with its cached view of the
 * other side's index, so a burst touches the shared index lines once. Indices run freely and
 * wrap at 2^32; the capacity is a power of two.
 *
 * The other side is not trusted. A consumer checks that the producer's index is within
 * capacity of its own before it reads a slot (sl_ring_peek() fails with -EPROTO otherwise), and
 * copies every slot out before it looks at it, so a producer that rewrites a slot after
 * publishing it changes nothing the consumer validated. A producer likewise refuses a consumer
 * index that runs ahead of what it produced. A side that sees -EPROTO must stop using the ring.
 *
 * Memory order: the producer writes the slots, then publishes its index with release semantics;
 * the consumer reads the index with acquire semantics, then the slots. The same the other way
 * for freeing slots. (C11 atomics on a shared mapping: lock-free 32-bit operations on x86-64
 * and aarch64.)
 *
 * Threading: one producer thread and one consumer thread per ring (each in its own process or
 * not). Plain C, no DPDK, no state beyond the shared memory and the two handles.
 */
#ifndef SL_API_RING_H
#define SL_API_RING_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SL_RING_LINE 64

struct sl_ring_shm {
	_Alignas(SL_RING_LINE) _Atomic uint32_t head; /* written by the producer: slots filled */
	_Alignas(SL_RING_LINE) _Atomic uint32_t tail; /* written by the consumer: slots freed */
	_Alignas(SL_RING_LINE) uint8_t slots[];	      /* capacity x slot_size bytes */
};

_Static_assert(sizeof(struct sl_ring_shm) == 2 * SL_RING_LINE, "two index lines");

/* One side's private view of a ring. */
struct sl_ring {
	struct sl_ring_shm *shm;
	uint32_t mask;	    /* capacity - 1 */
	uint32_t slot_size; /* bytes */
	uint32_t mine;	    /* the index this side owns (head: producer, tail: consumer) */
	uint32_t theirs;    /* the other side's index as last read */
};

/* Bytes of shared memory a ring of capacity slots of slot_size bytes takes. */
static inline size_t
sl_ring_bytes(uint32_t capacity, uint32_t slot_size)
{
	return sizeof(struct sl_ring_shm) + (size_t)capacity * slot_size;
}

/* Set up the shared part (the side that creates the memory, once); its capacity (a power of
 * two) and slot size are the layout's, given to sl_ring_attach() by both sides. */
static inline void
sl_ring_init_shm(struct sl_ring_shm *shm)
{
	atomic_store_explicit(&shm->head, 0, memory_order_relaxed);
	atomic_store_explicit(&shm->tail, 0, memory_order_relaxed);
}

/* A handle for the producer (producer true) or the consumer side, starting from the indices
 * the shared memory holds now. */
static inline void
sl_ring_attach(struct sl_ring *r, struct sl_ring_shm *shm, uint32_t capacity, uint32_t slot_size,
	       bool producer)
{
	r->shm = shm;
	r->mask = capacity - 1;
	r->slot_size = slot_size;
	if (producer) {
		r->mine = atomic_load_explicit(&shm->head, memory_order_relaxed);
		r->theirs = atomic_load_explicit(&shm->tail, memory_order_acquire);
	} else {
		r->mine = atomic_load_explicit(&shm->tail, memory_order_relaxed);
		r->theirs = atomic_load_explicit(&shm->head, memory_order_acquire);
	}
}

static inline void *
sl_ring_slot(const struct sl_ring *r, uint32_t idx)
{
	return r->shm->slots + (size_t)(idx & r->mask) * r->slot_size;
}

/* --- producer ----------------------------------------------------------------------------- */

/* Free slots, at least n if possible (the consumer's index is read again only when the cached
 * one shows fewer than n). -EPROTO if the consumer's index is impossible. */
static inline int
sl_ring_free_slots(struct sl_ring *r, uint32_t n)
{
	uint32_t used = r->mine - r->theirs;

	if (r->mask + 1 - used < n) {
		uint32_t t = atomic_load_explicit(&r->shm->tail, memory_order_acquire);

		if (r->mine - t > r->mask + 1) /* ahead of what was produced */
			return -EPROTO;
		r->theirs = t;
		used = r->mine - t;
	}
	return (int)(r->mask + 1 - used);
}

/* Copy up to n slots from src (n x slot_size bytes) into the ring and publish them. Returns how
 * many went in (0 when full), or -EPROTO. */
static inline int
sl_ring_enqueue(struct sl_ring *r, const void *src, uint32_t n)
{
	int room = sl_ring_free_slots(r, n);

	if (room < 0)
		return room;
	if ((uint32_t)room < n)
		n = (uint32_t)room;
	for (uint32_t i = 0; i < n; i++)
		memcpy(sl_ring_slot(r, r->mine + i), (const uint8_t *)src + (size_t)i * r->slot_size,
		       r->slot_size);
	r->mine += n;
	atomic_store_explicit(&r->shm->head, r->mine, memory_order_release);
	return (int)n;
}

/* The consumer's index as last seen: slots below it are free again (the producer of a byte
 * arena frees the bytes of the slots the consumer has taken). */
static inline uint32_t
sl_ring_consumed(struct sl_ring *r)
{
	uint32_t t = atomic_load_explicit(&r->shm->tail, memory_order_acquire);

	if (r->mine - t <= r->mask + 1)
		r->theirs = t;
	return r->theirs;
}

/* --- consumer ----------------------------------------------------------------------------- */

/* Copy up to n filled slots into dst without taking them. Returns how many (0 when empty), or
 * -EPROTO when the producer's index is impossible. */
static inline int
sl_ring_peek(struct sl_ring *r, void *dst, uint32_t n)
{
	uint32_t avail = r->theirs - r->mine;

	if (avail < n) {
		uint32_t h = atomic_load_explicit(&r->shm->head, memory_order_acquire);

		if (h - r->mine > r->mask + 1)
			return -EPROTO;
		r->theirs = h;
		avail = h - r->mine;
	}
	if (avail < n)
		n = avail;
	for (uint32_t i = 0; i < n; i++)
		memcpy((uint8_t *)dst + (size_t)i * r->slot_size, sl_ring_slot(r, r->mine + i),
		       r->slot_size);
	return (int)n;
}

/* Free the n oldest slots (after sl_ring_peek() returned at least n). */
static inline void
sl_ring_take(struct sl_ring *r, uint32_t n)
{
	r->mine += n;
	atomic_store_explicit(&r->shm->tail, r->mine, memory_order_release);
}

/* Peek and take at once. */
static inline int
sl_ring_dequeue(struct sl_ring *r, void *dst, uint32_t n)
{
	int got = sl_ring_peek(r, dst, n);

	if (got > 0)
		sl_ring_take(r, (uint32_t)got);
	return got;
}

/* Is the ring empty as far as the consumer knows now (reads the producer's index)? */
static inline bool
sl_ring_empty(struct sl_ring *r)
{
	return atomic_load_explicit(&r->shm->head, memory_order_acquire) == r->mine;
}

#endif /* SL_API_RING_H */
