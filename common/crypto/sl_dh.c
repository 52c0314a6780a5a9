/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: X25519 (see sl_dh.h).
 */
#include <errno.h>

#include <sodium.h>

#include "sl_dh.h"

void
sl_dh_keygen(uint8_t priv[SL_KEY_LEN], uint8_t pub[SL_KEY_LEN])
{
	/* A clamped random scalar never maps the base point to zero. */
	do {
		randombytes_buf(priv, SL_KEY_LEN);
	} while (crypto_scalarmult_base(pub, priv) != 0);
}

int
sl_dh_pubkey(uint8_t pub[SL_KEY_LEN], const uint8_t priv[SL_KEY_LEN])
{
	return crypto_scalarmult_base(pub, priv) == 0 ? 0 : -EINVAL;
}

int
sl_dh(uint8_t shared[SL_KEY_LEN], const uint8_t priv[SL_KEY_LEN], const uint8_t pub[SL_KEY_LEN])
{
	/* libsodium computes the product and returns -1 when it is the all-zero value, which is
	 * what a low-order public key gives; the output is not trustworthy then. */
	if (crypto_scalarmult(shared, priv, pub) != 0) {
		sodium_memzero(shared, SL_KEY_LEN);
		return -EKEYREJECTED;
	}
	return 0;
}

bool
sl_dh_pub_usable(const uint8_t pub[SL_KEY_LEN])
{
	/* Clamping makes any scalar a multiple of 8, and the order of a low-order point divides
	 * 8: exactly those points give zero, whatever the scalar. */
	static const uint8_t scalar[SL_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	uint8_t out[SL_KEY_LEN];
	bool ok = crypto_scalarmult(out, scalar, pub) == 0;

	sodium_memzero(out, sizeof(out));
	return ok;
}
