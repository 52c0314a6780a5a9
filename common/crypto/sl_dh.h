/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: X25519 (libsodium) with the checks the handshake relies on.
 * Any thread.
 */
#ifndef SL_DH_H
#define SL_DH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "sl_limits.h"

/* Fresh key pair from the system CSPRNG. */
void sl_dh_keygen(uint8_t priv[SL_KEY_LEN], uint8_t pub[SL_KEY_LEN]);

/* Public key of a private key. Returns 0, or -EINVAL if the result is degenerate. */
int sl_dh_pubkey(uint8_t pub[SL_KEY_LEN], const uint8_t priv[SL_KEY_LEN]) __rte_warn_unused_result;

/* shared = X25519(priv, pub). Returns 0, or -EKEYREJECTED when the shared secret is all zeros
 * (pub is a low-order point): the caller must abort the handshake; shared is zeroed then. */
int sl_dh(uint8_t shared[SL_KEY_LEN], const uint8_t priv[SL_KEY_LEN],
	  const uint8_t pub[SL_KEY_LEN]) __rte_warn_unused_result;

/* Can pub ever make a shared secret? false for the low-order points (the all-zero key among
 * them), with which every X25519 gives zero: a configuration must not name such a peer. */
bool sl_dh_pub_usable(const uint8_t pub[SL_KEY_LEN]) __rte_warn_unused_result;

#endif /* SL_DH_H */
