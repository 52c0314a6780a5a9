/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tests: POISON / UNPOISON a memory region under AddressSanitizer (gcc's
 * __SANITIZE_ADDRESS__ or clang's __has_feature), so a read past the bytes a test hands over
 * is reported; no-ops in other builds.
 */
#ifndef SL_POISON_H
#define SL_POISON_H

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#endif /* SL_POISON_H */
