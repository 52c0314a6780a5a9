/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the handshake's internals shared by its message families — IK and XX
 * (cp_handshake.c) and resumption (cp_hs_resume.c). Not for other modules: they use
 * cp_handshake.h and cp_hs_resume.h.
 *
 * Control thread only, like everything in the handshake.
 */
#ifndef CP_HANDSHAKE_PVT_H
#define CP_HANDSHAKE_PVT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cp_handshake.h"

#define CP_HS_HDR_LEN 8 /* type, suite, reserved, sender: bound into every prologue */

struct cp_hs_ctx {
	struct cp_hs_config cfg;
	uint8_t pub[SL_KEY_LEN];
	uint8_t mac1_self[SL_KEY_LEN]; /* mac1 key of messages addressed to us */
	uint8_t mac1_anon[SL_KEY_LEN];
	uint8_t cookie_anon[SL_KEY_LEN];
	struct cp_hs_stamps *tstamps;
	uint64_t last_ts;
};

static inline uint32_t
cp_hs_read_be32(const uint8_t *p)
{
	rte_be32_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_32(v);
}

/* Wipe the Noise state, record why, return rc. */
int cp_hs_refuse(struct cp_hs_pending *p, enum cp_hs_reason r, int rc);

/* A fresh pending state for one role and message family. */
void cp_hs_pending_begin(struct cp_hs_pending *p, bool initiator, bool xx, uint8_t suite,
			 uint32_t local_id);

/* The 8 bytes every handshake message starts with. */
void cp_hs_write_header(uint8_t *msg, uint8_t type, uint8_t suite, uint32_t sender);

/* Size, type, reserved bytes and a known suite of a received message. */
bool cp_hs_header_ok(const uint8_t *msg, size_t len, size_t want_len, uint8_t type);

/* Write the next Noise message with a payload of plen bytes into exactly out_len bytes. */
int cp_hs_noise_write(struct cp_hs_pending *p, const void *payload, size_t plen, uint8_t *out,
		      size_t out_len);

/* Read a Noise message whose payload must be exactly plen bytes; refuses on failure. */
int cp_hs_noise_read(struct cp_hs_pending *p, const uint8_t *in, size_t in_len, void *payload,
		     size_t plen);

/* The payload rules once p->peer.pub holds the peer's authenticated identity: not ourselves,
 * well-formed, the header's sender id, then network and version (-ECONNREFUSED with the
 * Noise state left usable, so an IK responder can still answer). Fills p->peer. */
int cp_hs_check_peer(struct cp_hs_ctx *ctx, struct cp_hs_pending *p,
		     const struct sl_hs_payload *pl);

/* A responder's policy (cp_hs_config.peer_allowed) after the payload rules returned rc: asked
 * only when p->peer.pub is the initiator's authenticated key (rc 0, or a refusal the responder
 * would answer). Refused: CP_HS_POLICY, -EACCES (nothing is answered); else rc unchanged. */
int cp_hs_check_policy(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, int rc);

/* mac1 (and mac2 with a cookie) of an outgoing message; remembers mac1 in p->sent_mac1. */
void cp_hs_sign(struct cp_hs_ctx *ctx, struct cp_hs_pending *p, uint8_t *msg, size_t len,
		const uint8_t *mac1_key, const struct cp_cookie *cookie, uint64_t now_ns);

/* Answers must carry our mac1 and no mac2 (we hand out no cookies to responders). */
bool cp_hs_answer_macs_ok(const uint8_t *msg, size_t len, const uint8_t mac1_key[SL_KEY_LEN]);

/* Split into session keys and the resumption secret; p's Noise state is wiped. */
int cp_hs_complete(struct cp_hs_pending *p, struct cp_hs_session *s);

#endif /* CP_HANDSHAKE_PVT_H */
