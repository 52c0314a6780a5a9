/* SPDX-License-Identifier: BSD-3-Clause
 * sluice discovery: peer exchange, GETADDR / ADDR (cp_pex.h). */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>

#include "cp_pex.h"
#include "sl_wire.h"

#define NS_PER_S 1000000000ull

/* --- names ---------------------------------------------------------------------------------- */

static const char *const verdict_names[] = {
#define CP_PEX_VERDICT_NAME(e, name, doc) [CP_PEX_##e] = name,
	CP_PEX_VERDICTS(CP_PEX_VERDICT_NAME)
#undef CP_PEX_VERDICT_NAME
};

static const char *const verdict_docs[] = {
#define CP_PEX_VERDICT_DOC(e, name, doc) [CP_PEX_##e] = doc,
	CP_PEX_VERDICTS(CP_PEX_VERDICT_DOC)
#undef CP_PEX_VERDICT_DOC
};

static const char *const reject_names[] = {
#define CP_PEX_REJECT_NAME(e, name, doc) [CP_PEX_REJ_##e] = name,
	CP_PEX_REJECTS(CP_PEX_REJECT_NAME)
#undef CP_PEX_REJECT_NAME
};

static const char *const reject_docs[] = {
#define CP_PEX_REJECT_DOC(e, name, doc) [CP_PEX_REJ_##e] = doc,
	CP_PEX_REJECTS(CP_PEX_REJECT_DOC)
#undef CP_PEX_REJECT_DOC
};

const char *
cp_pex_verdict_name(enum cp_pex_verdict v)
{
	return (unsigned int)v < CP_PEX_VERDICT_COUNT ? verdict_names[v] : "?";
}

const char *
cp_pex_verdict_doc(enum cp_pex_verdict v)
{
	return (unsigned int)v < CP_PEX_VERDICT_COUNT ? verdict_docs[v] : "?";
}

const char *
cp_pex_reject_name(enum cp_pex_reject j)
{
	return (unsigned int)j < CP_PEX_REJECT_COUNT ? reject_names[j] : "?";
}

const char *
cp_pex_reject_doc(enum cp_pex_reject j)
{
	return (unsigned int)j < CP_PEX_REJECT_COUNT ? reject_docs[j] : "?";
}

const char *
cp_pex_action_name(enum cp_pex_action a)
{
	static const char *const names[] = {
		[CP_PEX_ACT_NONE] = "none",
		[CP_PEX_ACT_ANSWER] = "answer",
		[CP_PEX_ACT_ANSWER_CLOSE] = "answer_close",
		[CP_PEX_ACT_CLOSE] = "close",
		[CP_PEX_ACT_DISCONNECT_BAD] = "disconnect_bad",
	};

	return (unsigned int)a < RTE_DIM(names) ? names[a] : "?";
}

/* --- configuration and state ---------------------------------------------------------------- */

void
cp_pex_config_defaults(struct cp_pex_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->enabled = true;
	cfg->max_addrs = SL_PEX_MAX_ADDRS;
	cfg->classes = CP_PEX_CLASS(CP_ADDR_ROUTABLE);
	cfg->interval_ns = SL_PEX_INTERVAL_NS;
	cfg->max_skew_s = SL_PEX_MAX_SKEW_S;
	cfg->max_age_s = SL_PEX_MAX_AGE_S;
	cfg->ban_score = SL_PEX_BAN_SCORE;
	cfg->score_decay = SL_PEX_SCORE_DECAY;
}

static bool
config_valid(const struct cp_pex_config *cfg)
{
	return cfg->max_addrs >= 1 && cfg->max_addrs <= SL_PEX_MAX_ADDRS && cfg->classes != 0 &&
	       (cfg->classes & ~CP_PEX_CLASSES_ALLOWED) == 0 && cfg->interval_ns > 0 &&
	       cfg->ban_score > 0 && cfg->max_age_s > 0 && cfg->max_skew_s < cfg->max_age_s &&
	       cfg->n_self <= SL_HS_MAX_ADDRS;
}

int
cp_pex_init(struct cp_pex *px, const struct cp_pex_config *cfg)
{
	if (!config_valid(cfg))
		return -EINVAL;
	memset(px, 0, sizeof(*px));
	px->cfg = *cfg;
	return 0;
}

uint64_t
cp_pex_capabilities(const struct cp_pex *px)
{
	return px->cfg.enabled ? SL_CAP_PEX : 0;
}

void
cp_pex_peer_init(struct cp_pex_peer *peer, bool outbound, uint64_t caps, uint64_t now_ns)
{
	memset(peer, 0, sizeof(*peer));
	peer->outbound = outbound;
	peer->caps = caps;
	peer->next_id = 1;
	peer->decayed_ns = now_ns;
}

bool
cp_pex_ask_on_connect(const struct cp_pex *px, const struct cp_pex_peer *peer)
{
	return px->cfg.enabled && peer->outbound && (peer->caps & SL_CAP_PEX) != 0;
}

/* --- encoding ------------------------------------------------------------------------------- */

static void
hdr_init(struct sl_ctl_hdr *h, uint8_t type, size_t len)
{
	memset(h, 0, sizeof(*h));
	h->type = type;
	h->version = SL_CTL_VERSION;
	h->len = rte_cpu_to_be_16((uint16_t)len);
}

int
cp_pex_getaddr(struct cp_pex *px, struct cp_pex_peer *peer, uint64_t now_ns, uint8_t *buf,
	       size_t len)
{
	struct sl_ctl_getaddr m;

	if (!px->cfg.enabled || (peer->caps & SL_CAP_PEX) == 0)
		return -EOPNOTSUPP;
	if (len < sizeof(m))
		return -ENOSPC;
	if (peer->requests > 0 && now_ns < peer->asked_ns + px->cfg.interval_ns) {
		px->st.requests_not_due++;
		return -EAGAIN;
	}
	if (peer->outstanding)
		px->st.requests_unanswered++;
	hdr_init(&m.hdr, SL_CTL_GETADDR, sizeof(m));
	m.req_id = rte_cpu_to_be_32(peer->next_id);
	m.max = rte_cpu_to_be_16(px->cfg.max_addrs);
	m.reserved = 0;
	memcpy(buf, &m, sizeof(m));
	peer->req_id = peer->next_id++;
	peer->req_max = px->cfg.max_addrs;
	peer->outstanding = true;
	peer->asked_ns = now_ns;
	peer->requests++;
	px->st.requests_sent++;
	return (int)sizeof(m);
}

static void
entry_encode(uint8_t *out, const struct cp_addr *a)
{
	struct sl_pex_entry e;

	memset(&e, 0, sizeof(e));
	if (a->flags & CP_ADDR_F_HAS_ID) {
		memcpy(e.id, a->id, SL_KEY_LEN);
		e.flags = SL_PEX_F_HAS_ID;
	}
	e.ip = rte_cpu_to_be_32(a->ip);
	e.port = rte_cpu_to_be_16(a->port);
	e.last_seen = rte_cpu_to_be_64(a->last_seen);
	memcpy(out, &e, sizeof(e));
}

int
cp_pex_addr_answer(struct cp_pex *px, struct cp_pex_peer *peer, const struct cp_addr *entries,
		   unsigned int n, uint8_t *buf, size_t len)
{
	struct sl_ctl_addr m;

	if (!peer->answer_due)
		return -ENOENT;
	if (n > peer->ans_max)
		n = peer->ans_max;
	if (len < SL_CTL_ADDR_LEN(n))
		return -ENOSPC;
	hdr_init(&m.hdr, SL_CTL_ADDR, SL_CTL_ADDR_LEN(n));
	m.req_id = rte_cpu_to_be_32(peer->ans_id);
	m.count = rte_cpu_to_be_16((uint16_t)n);
	m.reserved = 0;
	memcpy(buf, &m, sizeof(m));
	for (unsigned int i = 0; i < n; i++)
		entry_encode(buf + SL_CTL_ADDR_LEN(i), &entries[i]);
	peer->answer_due = false;
	px->st.answers_sent++;
	px->st.entries_sent += n;
	return (int)SL_CTL_ADDR_LEN(n);
}

/* --- misbehaviour --------------------------------------------------------------------------- */

/* Forgive score_decay points per whole interval since the last decay. */
static void
decay(const struct cp_pex_config *cfg, struct cp_pex_peer *peer, uint64_t now_ns)
{
	uint64_t k, forgiven;

	if (now_ns < peer->decayed_ns + cfg->interval_ns)
		return;
	k = (now_ns - peer->decayed_ns) / cfg->interval_ns;
	peer->decayed_ns += k * cfg->interval_ns;
	forgiven = k > UINT32_MAX ? UINT64_MAX : k * cfg->score_decay;
	peer->score = forgiven >= peer->score ? 0 : peer->score - (uint32_t)forgiven;
}

/* Add this message's points; a peer that reaches the ban score is bad for good, and an answer
 * that made it so gives the book nothing. */
static void
penalise(struct cp_pex *px, struct cp_pex_peer *peer, struct cp_pex_result *r)
{
	peer->score = r->points > UINT32_MAX - peer->score ? UINT32_MAX : peer->score + r->points;
	if (!peer->bad && peer->score >= px->cfg.ban_score) {
		peer->bad = true;
		px->st.peers_bad++;
	}
	if (!peer->bad)
		return;
	r->action = CP_PEX_ACT_DISCONNECT_BAD;
	peer->answer_due = false;
	px->st.rejected[CP_PEX_REJ_BAD_PEER] += r->n;
	r->n = 0;
}

/* --- decoding: the header ------------------------------------------------------------------- */

static bool
known_type(uint8_t type)
{
	return type == SL_CTL_GETADDR || type == SL_CTL_ADDR;
}

/* The verdict the header alone gives, or CP_PEX_VERDICT_COUNT to read on. */
static enum cp_pex_verdict
check_hdr(const uint8_t *p, size_t len)
{
	struct sl_ctl_hdr h;

	if (len < sizeof(h))
		return CP_PEX_MALFORMED;
	if (len > SL_CONTROL_MSG_MAX)
		return CP_PEX_OVERSIZED;
	memcpy(&h, p, sizeof(h));
	if (h.version != SL_CTL_VERSION || !known_type(h.type))
		return CP_PEX_UNKNOWN;
	if (rte_be_to_cpu_16(h.len) != len || h.reserved != 0)
		return CP_PEX_MALFORMED;
	return CP_PEX_VERDICT_COUNT;
}

/* --- decoding: GETADDR ---------------------------------------------------------------------- */

/* May we answer a request now? Otherwise the points it costs in *pts. */
static bool
may_answer(const struct cp_pex *px, const struct cp_pex_peer *peer, uint64_t now_ns, uint32_t *pts)
{
	const struct cp_pex_config *cfg = &px->cfg;
	uint64_t spacing = cfg->interval_ns - cfg->interval_ns / SL_PEX_JITTER_DIV;

	*pts = SL_PEX_PTS_EARLY_REQUEST;
	if (!cfg->enabled)
		return false;
	if (peer->answers > 0 && (cfg->seed_mode || now_ns < peer->answered_ns + spacing))
		return false;
	*pts = 0;
	return !peer->bad;
}

static enum cp_pex_verdict
on_getaddr(struct cp_pex *px, struct cp_pex_peer *peer, const uint8_t *p, size_t len,
	   uint64_t now_ns, struct cp_pex_result *r)
{
	struct sl_ctl_getaddr m;
	uint16_t max;

	if (len != sizeof(m))
		return CP_PEX_MALFORMED;
	memcpy(&m, p, sizeof(m));
	max = rte_be_to_cpu_16(m.max);
	if (m.reserved != 0 || max == 0 || max > SL_PEX_MAX_ADDRS)
		return CP_PEX_MALFORMED;
	if (!may_answer(px, peer, now_ns, &r->points))
		return CP_PEX_GETADDR_REFUSED;
	peer->answer_due = true;
	peer->ans_id = rte_be_to_cpu_32(m.req_id);
	peer->ans_max = RTE_MIN(max, px->cfg.max_addrs);
	peer->answered_ns = now_ns;
	peer->answers++;
	r->want = peer->ans_max;
	r->action = px->cfg.seed_mode ? CP_PEX_ACT_ANSWER_CLOSE : CP_PEX_ACT_ANSWER;
	return CP_PEX_GETADDR;
}

/* --- decoding: ADDR entries ----------------------------------------------------------------- */

static bool
entry_malformed(const struct sl_pex_entry *e)
{
	static const uint8_t zero[SL_KEY_LEN];
	bool id_zero = memcmp(e->id, zero, SL_KEY_LEN) == 0;

	if ((e->flags & ~SL_PEX_F_HAS_ID) != 0 || e->reserved != 0)
		return true;
	return (e->flags & SL_PEX_F_HAS_ID) ? id_zero : !id_zero;
}

static bool
is_self(const struct cp_pex_config *cfg, const struct cp_addr *a)
{
	if (cfg->has_self_id && (a->flags & CP_ADDR_F_HAS_ID) &&
	    memcmp(a->id, cfg->self_id, SL_KEY_LEN) == 0)
		return true;
	for (unsigned int i = 0; i < cfg->n_self; i++)
		if (a->ip == cfg->self[i].ip && a->port == cfg->self[i].port)
			return true;
	return false;
}

static bool
is_duplicate(const struct cp_addr *a, const struct cp_addr *seen, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (seen[i].ip == a->ip && seen[i].port == a->port)
			return true;
	return false;
}

static void
entry_decode(const struct sl_pex_entry *e, struct cp_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (e->flags & SL_PEX_F_HAS_ID) {
		memcpy(a->id, e->id, SL_KEY_LEN);
		a->flags = CP_ADDR_F_HAS_ID;
	}
	a->ip = rte_be_to_cpu_32(e->ip);
	a->port = rte_be_to_cpu_16(e->port);
	a->last_seen = rte_be_to_cpu_64(e->last_seen);
}

/* Why entry e is dropped (the first rule it breaks), or CP_PEX_REJECT_COUNT: a, decoded, is
 * taken. seen[0..n) are the entries taken before it. */
static enum cp_pex_reject
entry_check(const struct cp_pex_config *cfg, const struct sl_pex_entry *e, struct cp_addr *a,
	    const struct cp_addr *seen, unsigned int n, uint64_t wall_s)
{
	if (entry_malformed(e))
		return CP_PEX_REJ_ENTRY_MALFORMED;
	entry_decode(e, a);
	if (a->port == 0)
		return CP_PEX_REJ_PORT;
	if ((cfg->classes & CP_PEX_CLASS(cp_addr_classify(a->ip))) == 0)
		return CP_PEX_REJ_CLASS;
	if (is_self(cfg, a))
		return CP_PEX_REJ_SELF;
	if (is_duplicate(a, seen, n))
		return CP_PEX_REJ_DUPLICATE;
	if (a->last_seen > wall_s + cfg->max_skew_s)
		return CP_PEX_REJ_FUTURE;
	if (a->last_seen == 0 ||
	    (wall_s > cfg->max_age_s && a->last_seen < wall_s - cfg->max_age_s))
		return CP_PEX_REJ_STALE;
	return CP_PEX_REJECT_COUNT;
}

/* Points for the dropped entries of one answer: one for each an honest peer never sends. */
static uint32_t
entry_points(const uint32_t *why)
{
	uint32_t pts = why[CP_PEX_REJ_ENTRY_MALFORMED] + why[CP_PEX_REJ_PORT] +
		       why[CP_PEX_REJ_CLASS] + why[CP_PEX_REJ_DUPLICATE] + why[CP_PEX_REJ_FUTURE];

	if (why[CP_PEX_REJ_SELF] > SL_HS_MAX_ADDRS)
		pts += why[CP_PEX_REJ_SELF] - SL_HS_MAX_ADDRS;
	return pts * SL_PEX_PTS_BAD_ENTRY;
}

static void
take_entries(struct cp_pex *px, const uint8_t *p, unsigned int count, uint64_t wall_ns,
	     struct cp_pex_result *r)
{
	uint32_t why[CP_PEX_REJECT_COUNT] = { 0 };
	uint64_t wall_s = wall_ns / NS_PER_S;
	struct sl_pex_entry e;

	for (unsigned int i = 0; i < count; i++) {
		enum cp_pex_reject j;

		memcpy(&e, p + SL_CTL_ADDR_LEN(i), sizeof(e));
		j = entry_check(&px->cfg, &e, &r->addrs[r->n], r->addrs, r->n, wall_s);
		if (j == CP_PEX_REJECT_COUNT) {
			r->n++;
			continue;
		}
		why[j]++;
		px->st.rejected[j]++;
	}
	r->points = entry_points(why);
	px->st.entries_received += count;
}

/* --- decoding: ADDR ------------------------------------------------------------------------- */

/* The verdict of an ADDR's own fields and of the request it answers. */
static enum cp_pex_verdict
check_addr(struct cp_pex_peer *peer, const uint8_t *p, size_t len, unsigned int *count)
{
	struct sl_ctl_addr m;

	if (len < sizeof(m))
		return CP_PEX_MALFORMED;
	memcpy(&m, p, sizeof(m));
	*count = rte_be_to_cpu_16(m.count);
	if (m.reserved != 0)
		return CP_PEX_MALFORMED;
	if (*count > SL_PEX_MAX_ADDRS)
		return CP_PEX_OVERSIZED;
	if (len != SL_CTL_ADDR_LEN(*count))
		return CP_PEX_MALFORMED;
	if (!peer->outstanding)
		return CP_PEX_UNSOLICITED;
	if (rte_be_to_cpu_32(m.req_id) != peer->req_id)
		return CP_PEX_WRONG_REQUEST;
	peer->outstanding = false; /* answered, well or not */
	return *count > peer->req_max ? CP_PEX_OVERSIZED : CP_PEX_ADDR;
}

static enum cp_pex_verdict
on_addr(struct cp_pex *px, struct cp_pex_peer *peer, const uint8_t *p, size_t len, uint64_t wall_ns,
	struct cp_pex_result *r)
{
	unsigned int count = 0;
	enum cp_pex_verdict v = check_addr(peer, p, len, &count);

	r->claimed = (uint16_t)count; /* a 16-bit field on the wire */
	if (v != CP_PEX_ADDR)
		return v;
	take_entries(px, p, count, wall_ns, r);
	if (px->cfg.seed_mode)
		r->action = CP_PEX_ACT_CLOSE;
	return CP_PEX_ADDR;
}

/* --- receiving ------------------------------------------------------------------------------ */

static uint32_t
verdict_points(enum cp_pex_verdict v)
{
	switch (v) {
	case CP_PEX_MALFORMED:
		return SL_PEX_PTS_MALFORMED;
	case CP_PEX_OVERSIZED:
		return SL_PEX_PTS_OVERSIZED;
	case CP_PEX_UNSOLICITED:
		return SL_PEX_PTS_UNSOLICITED;
	case CP_PEX_WRONG_REQUEST:
		return SL_PEX_PTS_WRONG_REQUEST;
	default:
		return 0; /* the others set their own (a refused request, an answer's entries) */
	}
}

static enum cp_pex_verdict
dispatch(struct cp_pex *px, struct cp_pex_peer *peer, const uint8_t *p, size_t len, uint64_t now_ns,
	 uint64_t wall_ns, struct cp_pex_result *r)
{
	enum cp_pex_verdict v = check_hdr(p, len);

	if (v != CP_PEX_VERDICT_COUNT)
		return v;
	if (p[0] == SL_CTL_GETADDR)
		return on_getaddr(px, peer, p, len, now_ns, r);
	return on_addr(px, peer, p, len, wall_ns, r);
}

enum cp_pex_verdict
cp_pex_receive(struct cp_pex *px, struct cp_pex_peer *peer, const void *msg, size_t len,
	       uint64_t now_ns, uint64_t wall_ns, struct cp_pex_result *r)
{
	const uint8_t *p = msg;

	r->action = CP_PEX_ACT_NONE;
	r->type = len > 0 ? p[0] : 0;
	r->want = r->claimed = r->n = 0;
	r->points = 0;
	decay(&px->cfg, peer, now_ns);
	r->verdict = dispatch(px, peer, p, len, now_ns, wall_ns, r);
	r->points += verdict_points(r->verdict);
	px->st.msgs[r->verdict]++;
	penalise(px, peer, r);
	px->st.entries_accepted += r->n;
	return r->verdict;
}
