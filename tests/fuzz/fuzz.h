/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: what the fuzz targets share — libFuzzer's entry points, and the check of an invariant
 * (README.md lists each target's).
 */
#ifndef SL_FUZZ_H
#define SL_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant broken: say which, and abort() — a crash, which libFuzzer reports and keeps the
 * input of. */
static inline void
fuzz_check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

#endif /* SL_FUZZ_H */
