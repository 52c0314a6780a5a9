/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: untrusted text made safe to print (see sl_escape.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sl_escape.h"

static bool
printable(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\';
}

char *
sl_escape(char *dst, size_t cap, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		char esc[4];
		size_t n = 1;

		if (printable(c)) {
			esc[0] = (char)c;
		} else if (c == '\\') {
			esc[0] = esc[1] = '\\';
			n = 2;
		} else {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[c >> 4];
			esc[3] = hex[c & 15];
			n = 4;
		}
		if (o + n >= cap)
			break;
		memcpy(dst + o, esc, n);
		o += n;
	}
	dst[o] = '\0';
	return dst;
}

void
sl_escape_inplace(char *s, size_t cap)
{
	char tmp[1024];
	size_t len = strlen(s);

	if (len >= sizeof(tmp))
		len = sizeof(tmp) - 1;
	memcpy(tmp, s, len);
	sl_escape(s, cap, tmp, len);
}
