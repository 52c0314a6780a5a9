/* SPDX-License-Identifier: BSD-3-Clause
 * libsluice: node ids as text — the 44 characters of standard base64 that `sluice keygen` and
 * `sluice pubkey` print (and configurations hold), or 64 hex digits.
 *
 * Strict: a text is one of the two forms whole (no spaces, no missing padding), and base64
 * must be canonical (the last character's two unused bits zero), so one id has one base64
 * text. Any thread; no state.
 */
#include <errno.h>
#include <string.h>

#include "sluice.h"

#define B64_DATA_CHARS 43 /* 32 bytes = 256 bits = 42 characters of 6 bits and 4 bits more */

_Static_assert(SLUICE_NODE_TEXT_LEN == B64_DATA_CHARS + 2, "43 characters, '=' and the NUL");

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The 6-bit value of a base64 character, or -1. */
static int
b64_value(char ch)
{
	const char *p = ch != '\0' ? strchr(b64, ch) : NULL;

	return p != NULL ? (int)(p - b64) : -1;
}

static int
hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int
from_hex(const char *text, uint8_t node[SLUICE_NODE_LEN])
{
	for (size_t i = 0; i < SLUICE_NODE_LEN; i++) {
		int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		node[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int
from_base64(const char *text, uint8_t node[SLUICE_NODE_LEN])
{
	uint32_t acc = 0;
	unsigned int bits = 0;
	size_t n = 0;

	if (text[B64_DATA_CHARS] != '=')
		return -EINVAL;
	for (size_t i = 0; i < B64_DATA_CHARS; i++) {
		int v = b64_value(text[i]);

		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			node[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* 43 * 6 = 258 bits: the 2 left over must be zero, or another text means the same id */
	return (acc & ((1u << bits) - 1)) == 0 ? 0 : -EINVAL;
}

int
sluice_node_from_text(const char *text, uint8_t node[SLUICE_NODE_LEN])
{
	uint8_t tmp[SLUICE_NODE_LEN];
	size_t len = text != NULL ? strnlen(text, 2 * SLUICE_NODE_LEN + 1) : 0;
	int rc = -EINVAL;

	if (len == 2 * SLUICE_NODE_LEN)
		rc = from_hex(text, tmp);
	else if (len == SLUICE_NODE_TEXT_LEN - 1)
		rc = from_base64(text, tmp);
	if (rc == 0)
		memcpy(node, tmp, sizeof(tmp));
	return rc;
}

char *
sluice_node_to_text(const uint8_t node[SLUICE_NODE_LEN], char out[SLUICE_NODE_TEXT_LEN])
{
	uint32_t acc = 0;
	unsigned int bits = 0;
	size_t n = 0;

	for (size_t i = 0; i < SLUICE_NODE_LEN; i++) {
		acc = acc << 8 | node[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[n++] = b64[(acc >> bits) & 63];
		}
	}
	out[n++] = b64[(acc << (6 - bits)) & 63]; /* 4 bits left, 2 zero bits appended */
	out[n++] = '=';
	out[n] = '\0';
	return out;
}
