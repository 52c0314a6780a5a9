/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: configuration files are JSON with comment lines — a line whose first non-blank
 * characters are "//". The appliance (conf/) and sluicectl read them the same way.
 *
 * Plain C, any thread, no state.
 */
#ifndef SL_JSONC_H
#define SL_JSONC_H

#include <stddef.h>

/* Overwrite every comment line of buf (len bytes) with spaces up to its end, so a JSON parser
 * never sees them and every position (line:column of an error) stays where it is in the file.
 * A JSON string cannot span lines, so such a line is never inside one. */
void sl_json_blank_comments(char *buf, size_t len);

#endif /* SL_JSONC_H */
