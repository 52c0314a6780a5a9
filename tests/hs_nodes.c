/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: test nodes for the handshake and admission tests (see hs_nodes.h).
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "sl_dh.h"
#include "hs_nodes.h"
#include "sl_test.h"

const uint8_t suites[N_SUITES] = { SL_SUITE_AESGCM_SHA256, SL_SUITE_CHACHAPOLY_BLAKE2B };

static void
node_init_cfg(struct node *n, struct cp_hs_config *cfg, uint32_t ip)
{
	struct cp_admission_config acfg;

	sl_dh_keygen(cfg->static_priv, n->pub);
	n->ctx = cp_hs_ctx_create(cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n->ctx);
	CU_ASSERT_EQUAL(memcmp(cp_hs_ctx_pubkey(n->ctx), n->pub, SL_KEY_LEN), 0);
	cp_admission_config_defaults(&acfg);
	n->adm = cp_admission_create(n->pub, &acfg, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n->adm);
	n->src.ip = ip;
	n->src.port = 4789;
	sodium_memzero(cfg->static_priv, sizeof(cfg->static_priv));
}

void
node_init_chan(struct node *n, uint64_t network, uint8_t version, uint8_t min_version,
	       uint16_t chan_used, uint16_t chan_datagram, uint32_t ip)
{
	struct cp_hs_config cfg = {
		.network_id = network,
		.capabilities = SL_CAP_RELAY | SL_CAP_PEX,
		.version = version,
		.min_version = min_version,
		.n_addrs = 2,
		.addrs = { { ip, 4789 }, { ip + 1, 4790 } },
		.chan_used = chan_used,
		.chan_datagram = chan_datagram,
	};

	node_init_cfg(n, &cfg, ip);
}

void
node_init_ver(struct node *n, uint64_t network, uint8_t version, uint8_t min_version, uint32_t ip)
{
	node_init_chan(n, network, version, min_version, 0x00ff, 0, ip);
}

void
node_init(struct node *n, uint32_t ip)
{
	node_init_ver(n, NET, SL_PROTO_VERSION, SL_PROTO_MIN_VERSION, ip);
}

void
node_fini(struct node *n)
{
	cp_admission_destroy(n->adm);
	cp_hs_ctx_destroy(n->ctx);
	memset(n, 0, sizeof(*n));
}

/* Responder side of an IK initiation: admission, then the handshake. */
int
recv_ik_init(struct node *r, const struct node *from, const void *msg, size_t len,
	     struct cp_hs_pending *p, uint32_t id, uint64_t now, struct sl_msg_ik_resp *out,
	     struct cp_hs_session *s)
{
	struct sl_msg_cookie reply;
	enum cp_admit v =
		cp_admission_check(r->adm, msg, len, false, true, 4, &from->src, 0, now, &reply);

	if (v != CP_ADMIT_ACCEPT)
		return -EACCES;
	return cp_hs_ik_respond(r->ctx, p, msg, len, id, now, out, s);
}

/* The three XX messages between a and b; 0 when both sides hold a session. */
int
run_xx(struct node *a, struct node *b, uint8_t suite, struct cp_hs_session *sa,
       struct cp_hs_session *sb, int *stage)
{
	static struct cp_hs_pending pa, pb;
	struct sl_msg_xx_init m1;
	struct sl_msg_xx_resp m2;
	struct sl_msg_xx_finish m3;
	struct sl_msg_cookie reply;
	int rc;

	*stage = 1;
	rc = cp_hs_xx_start(a->ctx, &pa, suite, 0x01000001, NULL, 0, &m1);
	if (rc == 0 && cp_admission_check(b->adm, (uint8_t *)&m1, sizeof(m1), true, true, 4,
					  &a->src, 0, 0, &reply) != CP_ADMIT_ACCEPT)
		rc = -EACCES;
	if (rc == 0 && (*stage = 2) &&
	    (rc = cp_hs_xx_respond(b->ctx, &pb, (uint8_t *)&m1, sizeof(m1), 0x02000002, &m2)) == 0)
		*stage = 3;
	if (rc == 0)
		rc = cp_hs_xx_finish(a->ctx, &pa, (uint8_t *)&m2, sizeof(m2), 7 * SEC, NULL, 0, &m3,
				     sa);
	if (rc == 0 && (*stage = 4) &&
	    cp_admission_check(b->adm, (uint8_t *)&m3, sizeof(m3), false, false, 4, &a->src, 0, 0,
			       &reply) != CP_ADMIT_ACCEPT)
		rc = -EACCES;
	if (rc == 0)
		rc = cp_hs_xx_complete(b->ctx, &pb, (uint8_t *)&m3, sizeof(m3), 0, sb);
	return rc;
}
