/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: comment lines of configuration files (see sl_jsonc.h).
 */
#include "sl_jsonc.h"

void
sl_json_blank_comments(char *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		if (i + 1 < len && buf[i] == '/' && buf[i + 1] == '/') {
			while (i < len && buf[i] != '\n' && buf[i] != '\r')
				buf[i++] = ' ';
		}
		while (i < len && buf[i] != '\n')
			i++;
		i++;
	}
}
