/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the discovery simulator's attacker (sim_disc.h): nodes at the attacker's addresses
 * that accept every session, answer every GETADDR with attacker addresses only, keep sessions
 * to random honest nodes so that those learn their addresses, crawl the seeds once, and send
 * unsolicited ADDRs. They speak the wire format through cp_pex's own encoder: an unsolicited
 * ADDR is the answer to a request nobody on that session made (a scratch pair of cp_pex
 * makes it), so it is exactly what a peer would receive from a hostile node.
 */
#include <errno.h>
#include <string.h>

#include "sim_disc_pvt.h"

#define SD_ATTACK_TICK_NS (2 * SIM_DISC_NS)

int
sd_attack_setup(struct sim_disc *w)
{
	struct cp_pex_config pc;

	cp_pex_config_defaults(&pc);
	if (cp_pex_init(&w->att_px, &pc) != 0 || cp_pex_init(&w->forge_asker, &pc) != 0 ||
	    cp_pex_init(&w->forge_answerer, &pc) != 0)
		return -EINVAL;
	return 0;
}

/* Up to want attacker addresses (distinct, seen just now) into w->entries: how many. */
static unsigned int
fill_entries(struct sim_disc *w, unsigned int want)
{
	unsigned int n = want < w->n_att ? want : w->n_att;
	uint32_t start = (uint32_t)(sd_rand(w) % w->n_att);

	if (n > SL_PEX_MAX_ADDRS)
		n = SL_PEX_MAX_ADDRS;
	for (unsigned int k = 0; k < n; k++)
		sd_addr_of(w, w->nodes[w->att[(start + k) % w->n_att]], &w->entries[k]);
	return n;
}

/* An ADDR full of attacker addresses that answers no request on s, sent from side. */
static void
spam_one(struct sim_disc *w, struct sd_sess *s, int side)
{
	struct cp_pex_peer asker, me;
	uint8_t req[SL_CTL_GETADDR_LEN];
	unsigned int n;
	int len;

	cp_pex_peer_init(&asker, true, SL_CAP_PEX, w->now);
	cp_pex_peer_init(&me, false, SL_CAP_PEX, w->now);
	len = cp_pex_getaddr(&w->forge_asker, &asker, w->now, req, sizeof(req));
	if (len < 0 || cp_pex_receive(&w->forge_answerer, &me, req, (size_t)len, w->now,
				      sd_wall(w) * SIM_DISC_NS, &w->res) != CP_PEX_GETADDR)
		return;
	n = fill_entries(w, w->res.want);
	len = cp_pex_addr_answer(&w->forge_answerer, &me, w->entries, n, w->buf, sizeof(w->buf));
	if (len > 0)
		sd_send(w, s, side, w->buf, (size_t)len);
}

void
sd_attack_spam(struct sim_disc *w)
{
	for (uint32_t i = 0; i < w->n_att; i++) {
		struct sd_node *n = w->nodes[w->att[i]];

		for (uint32_t k = 0; k < n->n_sess; k++) {
			struct sd_sess *s = sd_sess_at(w, n->sess_of[k]);

			spam_one(w, s, s->node[0] == n->idx ? 0 : 1);
		}
	}
}

void
sd_attack_opened(struct sim_disc *w, struct sd_node *n, struct sd_sess *s, int side)
{
	(void)n;
	cp_pex_peer_init(&s->apex, side == 0, SL_CAP_PEX, w->now);
	if (side == 0 && w->cfg.attacker_spam_ns > 0)
		spam_one(w, s, side);
}

void
sd_attack_control(struct sim_disc *w, struct sd_node *n, struct sd_sess *s, int side,
		  const uint8_t *msg, size_t len)
{
	struct cp_pex_result *r = &w->res;
	unsigned int k;
	int out;

	(void)n;
	if (cp_pex_receive(&w->att_px, &s->apex, msg, len, w->now, sd_wall(w) * SIM_DISC_NS, r) !=
		    CP_PEX_GETADDR ||
	    (r->action != CP_PEX_ACT_ANSWER && r->action != CP_PEX_ACT_ANSWER_CLOSE))
		return;
	k = fill_entries(w, r->want);
	out = cp_pex_addr_answer(&w->att_px, &s->apex, w->entries, k, w->buf, sizeof(w->buf));
	if (out > 0)
		sd_send(w, s, side, w->buf, (size_t)out);
}

void
sd_attack_lost(struct sim_disc *w, struct sd_node *n, const struct sd_sess *s, int side)
{
	if (side == 0 && s->node[1] != SD_NONE && w->nodes[s->node[1]]->kind != SD_SEED &&
	    n->dialing > 0)
		n->dialing--;
}

/* Dial the seeds once, keep attacker_dials sessions to random honest nodes. */
void
sd_attack_tick(struct sim_disc *w, struct sd_node *n)
{
	struct cp_addr a;

	if (!n->crawled) {
		n->crawled = true;
		for (uint32_t i = 0; i < w->cfg.seeds; i++)
			sd_dial(w, n, &w->seed_addrs[i]);
	}
	for (uint32_t k = 0;
	     n->dialing < w->cfg.attacker_dials && k < 2 * w->cfg.attacker_dials && w->n_live > 0;
	     k++) {
		struct sd_node *t = w->nodes[w->live[sd_rand(w) % w->n_live]];

		if (sd_sess_between(w, n, t->idx, NULL) != NULL)
			continue;
		sd_addr_of(w, t, &a);
		sd_dial(w, n, &a);
		n->dialing++;
	}
	sd_schedule(w, &n->tick, w->now + SD_ATTACK_TICK_NS);
}
