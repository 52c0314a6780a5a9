/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: peer-exchange messages byte by byte, and the test node (pex_msgs.h).
 */
#include <string.h>

#include <CUnit/CUnit.h>

#include "pex_msgs.h"
#include "sl_wire.h"

void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

void
put64(uint8_t *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, v & 0xffffffff);
}

uint32_t
get16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

uint32_t
get32(const uint8_t *p)
{
	return get16(p) << 16 | get16(p + 2);
}

uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

void
put_entry(uint8_t *p, const struct raw *e)
{
	memset(p, e->id_byte, 32);
	put32(p + 32, e->ip);
	put16(p + 36, e->port);
	p[38] = e->flags;
	p[39] = e->reserved;
	put64(p + 40, e->last_seen);
}

size_t
put_hdr(uint8_t *p, uint8_t type, size_t len)
{
	p[0] = type;
	p[1] = 1;
	put16(p + 2, (uint16_t)len);
	memset(p + 4, 0, 4);
	return len;
}

size_t
put_getaddr(uint8_t *p, uint32_t req_id, uint16_t max)
{
	put_hdr(p, 0x01, 16);
	put32(p + 8, req_id);
	put16(p + 12, max);
	put16(p + 14, 0);
	return 16;
}

size_t
put_addr(uint8_t *p, uint32_t req_id, const struct raw *e, unsigned int n)
{
	put_hdr(p, 0x02, 16 + 48 * n);
	put32(p + 8, req_id);
	put16(p + 12, (uint16_t)n);
	put16(p + 14, 0);
	for (unsigned int i = 0; i < n; i++)
		put_entry(p + 16 + 48 * i, &e[i]);
	return 16 + 48 * n;
}

struct raw
good(unsigned int i)
{
	return (struct raw){ .id_byte = (uint8_t)(i + 1),
			     .flags = SL_PEX_F_HAS_ID,
			     .ip = IP(198, 18, 1, 0) + i,
			     .port = 5000,
			     .last_seen = WALL_S - 60 };
}

void
cfg_test(struct cp_pex_config *cfg)
{
	cp_pex_config_defaults(cfg);
	cfg->classes |= CP_PEX_CLASS(CP_ADDR_BENCHMARK);
	cfg->has_self_id = true;
	memset(cfg->self_id, SELF_ID, SL_KEY_LEN);
	cfg->n_self = 1;
	cfg->self[0].ip = SELF_IP;
	cfg->self[0].port = SELF_PORT;
}

void
node(struct cp_pex *px)
{
	struct cp_pex_config cfg;

	cfg_test(&cfg);
	CU_ASSERT_EQUAL_FATAL(cp_pex_init(px, &cfg), 0);
}

uint32_t
asked(struct cp_pex *px, struct cp_pex_peer *peer, uint64_t now)
{
	uint8_t buf[64];

	cp_pex_peer_init(peer, true, SL_CAP_PEX, now);
	CU_ASSERT_EQUAL_FATAL(cp_pex_getaddr(px, peer, now, buf, sizeof(buf)), 16);
	return get32(buf + 8);
}

uint64_t
verdicts_total(const struct cp_pex_stats *st)
{
	uint64_t t = 0;

	for (unsigned int v = 0; v < CP_PEX_VERDICT_COUNT; v++)
		t += st->msgs[v];
	return t;
}

uint64_t
rejected_total(const struct cp_pex_stats *st)
{
	uint64_t t = 0;

	for (unsigned int j = 0; j < CP_PEX_REJECT_COUNT; j++)
		t += st->rejected[j];
	return t;
}

void
check_entry_sums(const struct cp_pex_stats *st)
{
	CU_ASSERT_EQUAL(st->entries_received, st->entries_accepted + rejected_total(st));
}
