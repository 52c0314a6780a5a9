/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: the layout cp_disc.c and cp_disc_tick.c share (not for other modules). */
#ifndef CP_DISC_PVT_H
#define CP_DISC_PVT_H

#include "cp_disc.h"
#include "sl_wire.h"

#define CP_DISC_MAX_DIALING 16

/* A session the pool kept. */
struct disc_sess {
	bool used;
	bool outbound;
	bool departing;	     /* refused by the pool: answers once, then closes */
	struct cp_addr addr; /* where it can be dialled, with its identity */
	uint64_t opened_ns;
	uint64_t close_at_ns; /* seed mode: close it then (0: never) */
	struct cp_pex_peer pex;
};

/* A dial in flight. */
struct disc_dial {
	bool used;
	struct cp_addr a;
	uint64_t deadline_ns;
};

struct cp_disc {
	struct cp_disc_config cfg;
	struct cp_disc_ops ops;
	void *arg;
	struct cp_book *book;
	struct cp_pex pex;
	struct cp_pool *pool;
	struct cp_disc_stats st;
	uint64_t next_dial_ns, next_save_ns, next_seen_ns;
	uint32_t next_seed;
	bool stranded; /* outbound wanted, and the last dial found nothing to dial */
	uint32_t n_sess;
	struct disc_sess *sess;
	struct disc_dial dial[CP_DISC_MAX_DIALING];
	struct cp_pex_result res;
	struct cp_addr sample[SL_PEX_MAX_ADDRS];
	uint8_t msg[SL_CONTROL_MSG_MAX];
};

struct disc_sess *cp_disc_sess_find(const struct cp_disc *d, const uint8_t id[SL_KEY_LEN]);
void cp_disc_ask(struct cp_disc *d, struct disc_sess *x, uint64_t now_ns);
int cp_disc_send(struct cp_disc *d, const uint8_t id[SL_KEY_LEN], const uint8_t *msg, int len);
void cp_disc_event(struct cp_disc *d, enum cp_disc_event_type type, const uint8_t *id, uint32_t n,
		   int err);

#endif /* CP_DISC_PVT_H */
