/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: CUnit harness (see sl_test.h).
 */
#include <stdio.h>

#include <sodium.h>

#include "sl_test.h"

int
sl_test_run(const char *suite, CU_TestInfo *cases)
{
	CU_SuiteInfo suites[] = {
		{ (char *)suite, NULL, NULL, NULL, NULL, cases },
		CU_SUITE_INFO_NULL,
	};
	unsigned int failed;

	if (sodium_init() < 0) {
		fprintf(stderr, "%s: sodium_init failed\n", suite);
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		fprintf(stderr, "%s: %s\n", suite, CU_get_error_msg());
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	if (CU_get_run_summary()->nTestsRun == 0)
		failed = 1;
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
