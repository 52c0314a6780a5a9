/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: CUnit harness shared by every test program.
 *
 * Each tests/test_<module>.c lists its cases in a CU_TestInfo array and ends with
 * SL_TEST_MAIN("module", cases). The program exits non-zero if any assertion failed.
 */
#ifndef SL_TEST_H
#define SL_TEST_H

#include <stddef.h>
#include <stdint.h>

#include <CUnit/Basic.h>

int sl_test_run(const char *suite, CU_TestInfo *cases);

/* SplitMix64: the next value of a 64-bit counter-based generator whose state is *s (tests'
 * deterministic randomness, and seeds for the simulator's generator). */
static inline uint64_t
sl_test_mix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ z >> 27) * 0x94d049bb133111ebull;
	return z ^ z >> 31;
}

/* CRC-32C (Castagnoli, reflected), bit by bit: a reference independent of the code under test
 * (the address book file's checksum). */
static inline uint32_t
sl_test_crc32c(const uint8_t *p, size_t len)
{
	uint32_t c = ~0u;

	while (len--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? c >> 1 ^ 0x82f63b78u : c >> 1;
	}
	return ~c;
}

#define SL_TEST_MAIN(name, cases)                \
	int main(void)                           \
	{                                        \
		return sl_test_run(name, cases); \
	}

#endif /* SL_TEST_H */
