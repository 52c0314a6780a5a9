/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: CUnit harness shared by every test program.
 *
 * Each tests/test_<module>.c lists its cases in a CU_TestInfo array and ends with
 * SL_TEST_MAIN("module", cases). The program exits non-zero if any assertion failed.
 */
#ifndef SL_TEST_H
#define SL_TEST_H

#include <CUnit/Basic.h>

int sl_test_run(const char *suite, CU_TestInfo *cases);

#define SL_TEST_MAIN(name, cases)                \
	int main(void)                           \
	{                                        \
		return sl_test_run(name, cases); \
	}

#endif /* SL_TEST_H */
