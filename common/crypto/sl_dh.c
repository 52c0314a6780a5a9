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
