/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: test nodes for the handshake and admission tests — a handshake context plus an
 * admission gate, and the receive paths a control plane runs.
 */
#ifndef SL_TEST_HS_NODES_H
#define SL_TEST_HS_NODES_H

#include "cp_admission.h"
#include "cp_handshake.h"

#define SEC 1000000000ull
#define NET 0x736c75696365ull

#define N_SUITES 2
extern const uint8_t suites[N_SUITES]; /* both cipher suites */

struct node {
	struct cp_hs_ctx *ctx;
	struct cp_admission *adm;
	uint8_t pub[SL_KEY_LEN];
	struct cp_src src; /* where its packets come from */
};

/* Advertising addresses ip:4789 and ip+1:4790, capabilities RELAY | PEX, channels 0..7
 * reliable (node_init_chan: the channel set given). */
void node_init_ver(struct node *n, uint64_t network, uint8_t version, uint8_t min_version,
		   uint32_t ip);
void node_init_chan(struct node *n, uint64_t network, uint8_t version, uint8_t min_version,
		    uint16_t chan_used, uint16_t chan_datagram, uint32_t ip);
void node_init(struct node *n, uint32_t ip);
void node_fini(struct node *n);

/* Responder side of an IK initiation: admission (not under load), then the handshake.
 * -EACCES if admission refused it. */
int recv_ik_init(struct node *r, const struct node *from, const void *msg, size_t len,
		 struct cp_hs_pending *p, uint32_t id, uint64_t now, struct sl_msg_ik_resp *out,
		 struct cp_hs_session *s);

/* The three XX messages from a to b, admission included; 0 when both hold a session.
 * *stage tells how far it got (1 start, 2 respond, 3 finish, 4 complete). */
int run_xx(struct node *a, struct node *b, uint8_t suite, struct cp_hs_session *sa,
	   struct cp_hs_session *sb, int *stage);

#endif /* SL_TEST_HS_NODES_H */
