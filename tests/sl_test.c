/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: CUnit harness (see sl_test.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

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

void
sl_test_tmpdir(char dir[64], const char *name)
{
	snprintf(dir, 64, "/tmp/sluice-test-%s-XXXXXX", name);
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
}

void
sl_test_write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	CU_ASSERT_FATAL(fclose(f) == 0);
	CU_ASSERT_FATAL(chmod(path, mode) == 0);
}
