/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: escaping untrusted text for printing (sl_escape.h) — a table of cases, truncation at
 * every capacity, and random strings against a deliberately naive reference.
 */
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "sl_escape.h"
#include "sl_test.h"

static void
test_table(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
		{ "plain text, 0-9 ~", 17, "plain text, 0-9 ~" },
		{ "\x1b[31mred", 8, "\\x1b[31mred" },
		{ "two\nlines\r", 10, "two\\x0alines\\x0d" },
		{ "back\\slash", 10, "back\\\\slash" },
		{ "nul\0inside", 10, "nul\\x00inside" },
		{ "\x7f\x80\xff", 3, "\\x7f\\x80\\xff" },
		{ "caf\xc3\xa9", 5, "caf\\xc3\\xa9" }, /* UTF-8 is escaped too: bytes, not text */
		{ "\t", 1, "\\x09" },
		{ "", 0, "" },
	};
	char out[128];

	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		CU_ASSERT_PTR_EQUAL(sl_escape(out, sizeof(out), cases[i].in, cases[i].len), out);
		CU_ASSERT_STRING_EQUAL(out, cases[i].out);
	}
}

/* Output that does not fit is cut between escapes: every prefix is a whole number of them. */
static void
test_truncation(void)
{
	const char in[] = "a\x1b\\b";
	const char *want[] = { "",	 "a",	   "a",		 "a",	       "a",
			       "a\\x1b", "a\\x1b", "a\\x1b\\\\", "a\\x1b\\\\b" };

	for (size_t cap = 1; cap < RTE_DIM(want) + 1; cap++) {
		char out[16];

		memset(out, 'Z', sizeof(out));
		sl_escape(out, cap, in, sizeof(in) - 1);
		CU_ASSERT_STRING_EQUAL(out, want[cap - 1]);
		CU_ASSERT(strlen(out) < cap);
	}
}

static void
test_inplace(void)
{
	char s[16] = "x\ny";

	sl_escape_inplace(s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "x\\x0ay");
	strcpy(s, "\n\n\n\n");
	sl_escape_inplace(s, 10); /* two escapes fit in 9 characters */
	CU_ASSERT_STRING_EQUAL(s, "\\x0a\\x0a");
}

/* The reference: one byte at a time with snprintf, no table. */
static void
naive(char *out, const unsigned char *in, size_t len)
{
	*out = '\0';
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\\')
			strcat(out, "\\\\");
		else if (in[i] >= ' ' && in[i] <= '~')
			strncat(out, (const char *)&in[i], 1);
		else
			sprintf(out + strlen(out), "\\x%02x", in[i]);
	}
}

static void
test_random(void)
{
	uint64_t seed = 7;

	for (unsigned int round = 0; round < 2000; round++) {
		unsigned char in[64];
		char got[4 * sizeof(in) + 1], want[4 * sizeof(in) + 1];
		size_t len = sl_test_mix64(&seed) % sizeof(in);

		for (size_t i = 0; i < len; i++)
			in[i] = (unsigned char)sl_test_mix64(&seed);
		naive(want, in, len);
		sl_escape(got, sizeof(got), (const char *)in, len);
		CU_ASSERT_STRING_EQUAL(got, want);
		for (size_t i = 0; got[i] != '\0'; i++)
			CU_ASSERT(got[i] >= ' ' && got[i] <= '~');
	}
}

static CU_TestInfo cases[] = {
	{ "escapes by case", test_table },
	{ "cut between escapes at every capacity", test_truncation },
	{ "in place", test_inplace },
	{ "random bytes against a naive reference", test_random },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("escape", cases)
