/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: X25519 against all Wycheproof x25519 vectors, loaded at run time; the same vectors
 * decide which public keys sl_dh_pub_usable() must refuse (those giving a zero secret).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sl_dh.h"
#include "sl_test.h"
#include "vec.h"

#define X25519_VECTORS 518 /* tests in the file this project was written against */

struct x_tally {
	unsigned int ran, declared, valid, acceptable, acceptable_rejected, zero_refused;
	unsigned int zero_cases, failures;
};

static bool
run_one(const json_t *t, struct x_tally *x)
{
	const char *result = json_string_value(json_object_get(t, "result"));
	size_t pub_len = 0, priv_len = 0, shared_len = 0;
	uint8_t *pub = vec_hex(t, "public", &pub_len), *priv = vec_hex(t, "private", &priv_len);
	uint8_t *want = vec_hex(t, "shared", &shared_len);
	uint8_t got[SL_KEY_LEN];
	bool zero = vec_has_flag(t, "ZeroSharedSecret"), ok = false;
	int rc;

	if (result == NULL || pub == NULL || priv == NULL || want == NULL ||
	    priv_len != SL_KEY_LEN || shared_len != SL_KEY_LEN || pub_len != SL_KEY_LEN)
		goto out;
	rc = sl_dh(got, priv, pub);
	x->zero_cases += zero;
	/* a key that gives a zero secret with this private key gives it with every one */
	if (sl_dh_pub_usable(pub) == zero)
		goto out;
	if (zero) {
		/* must be refused, and nothing but zeros left in the output */
		ok = rc == -EKEYREJECTED && sodium_is_zero(got, sizeof(got));
		x->zero_refused += ok;
	} else if (strcmp(result, "valid") == 0) {
		x->valid++;
		ok = rc == 0 && memcmp(got, want, SL_KEY_LEN) == 0;
	} else if (strcmp(result, "acceptable") == 0) {
		x->acceptable++;
		ok = rc == -EKEYREJECTED || (rc == 0 && memcmp(got, want, SL_KEY_LEN) == 0);
		x->acceptable_rejected += rc != 0;
	} else { /* invalid */
		ok = rc != 0;
	}
out:
	free(pub);
	free(priv);
	free(want);
	return ok;
}

static void
test_wycheproof_x25519(void)
{
	json_t *root = vec_load("wycheproof/x25519_test.json"), *g, *t;
	struct x_tally x = { 0 };
	size_t gi, ti;

	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	x.declared = (unsigned int)json_integer_value(json_object_get(root, "numberOfTests"));
	json_array_foreach (json_object_get(root, "testGroups"), gi, g) {
		const char *curve = json_string_value(json_object_get(g, "curve"));

		CU_ASSERT(curve != NULL && strcmp(curve, "curve25519") == 0);
		json_array_foreach (json_object_get(g, "tests"), ti, t) {
			x.ran++;
			if (!run_one(t, &x)) {
				x.failures++;
				fprintf(stderr, "x25519: tcId %lld failed\n",
					json_integer_value(json_object_get(t, "tcId")));
			}
		}
	}
	json_decref(root);
	printf("\n  x25519: ran %u (valid %u, acceptable %u of which %u refused, zero-shared %u "
	       "of %u refused), %u failed\n",
	       x.ran, x.valid, x.acceptable, x.acceptable_rejected, x.zero_refused, x.zero_cases,
	       x.failures);
	CU_ASSERT_EQUAL(x.failures, 0);
	CU_ASSERT_EQUAL(x.ran, x.declared);
	CU_ASSERT(x.ran >= X25519_VECTORS);
	CU_ASSERT(x.zero_cases > 0);
	CU_ASSERT_EQUAL(x.zero_refused, x.zero_cases);
}

static void
test_keygen_agreement(void)
{
	uint8_t a[SL_KEY_LEN], ap[SL_KEY_LEN], b[SL_KEY_LEN], bp[SL_KEY_LEN], p2[SL_KEY_LEN];
	uint8_t s1[SL_KEY_LEN], s2[SL_KEY_LEN];

	for (int i = 0; i < 32; i++) {
		sl_dh_keygen(a, ap);
		sl_dh_keygen(b, bp);
		CU_ASSERT_EQUAL(sl_dh_pubkey(p2, a), 0);
		CU_ASSERT_EQUAL(memcmp(p2, ap, SL_KEY_LEN), 0);
		CU_ASSERT_EQUAL(sl_dh(s1, a, bp), 0);
		CU_ASSERT_EQUAL(sl_dh(s2, b, ap), 0);
		CU_ASSERT_EQUAL(memcmp(s1, s2, SL_KEY_LEN), 0);
		CU_ASSERT_NOT_EQUAL(memcmp(ap, bp, SL_KEY_LEN), 0);
	}
}

static CU_TestInfo cases[] = {
	{ "wycheproof x25519, all tests", test_wycheproof_x25519 },
	{ "keygen, public key and agreement", test_keygen_agreement },
	CU_TEST_INFO_NULL,
};

SL_TEST_MAIN("x25519", cases)
