/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: untrusted text made safe to print.
 *
 * Anything printed that came from outside — configuration keys and values, names a peer or an
 * application supplies — goes through sl_escape() first, so it can neither move the terminal
 * (escape sequences) nor forge a second log line (a newline): every byte outside printable
 * ASCII is written as \xNN, and a backslash as \\ so an escape in the output is never
 * ambiguous. Printable ASCII is copied as it is.
 *
 * Plain C, any thread, no state.
 */
#ifndef SL_ESCAPE_H
#define SL_ESCAPE_H

#include <stddef.h>

/* Escape len bytes of src into dst (cap bytes, cap >= 1), always NUL-terminated; output that
 * does not fit is cut between escapes, never inside one. Returns dst. */
char *sl_escape(char *dst, size_t cap, const char *src, size_t len);

/* The same, in place: s (a NUL-terminated string in a buffer of cap bytes) is replaced by its
 * escaped form, cut to fit. */
void sl_escape_inplace(char *s, size_t cap);

#endif /* SL_ESCAPE_H */
