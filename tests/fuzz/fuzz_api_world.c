/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: fuzz_api's dataplane — one lcore (index 0) as dp_lcore.c and dp_session.c run it,
 * without ports, keys or services: its sessions' engines talk to the peers' engines over a
 * wire that delivers every packet one round (100 us) later, and every round calls what
 * dp_lcore_main calls of the application interface (dp_api_poll, the sessions' deliveries and
 * dp_api_session_run, dp_api_round_end) in the same order. What this file does in dp_session.c's
 * place is marked "as dp_session.c".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_api.h"

struct fa_world W;

/* Small limits, so that credit, holding and flow control are reached by a few messages; rings
 * of the applications come from fuzz_api_app.c. */
static const char config[] =
	"{ \"network\": \"fuzz\", \"identity\": { \"key_file\": \"k.key\" },\n"
	"  \"ports\": [ { \"name\": \"p0\", \"device\": \"net_null0\",\n"
	"               \"ipv4\": \"198.18.0.1/24\" } ],\n"
	"  \"limits\": { \"max_message\": 4096, \"queue_bytes\": 16384, \"unsent_bytes\": 8192,\n"
	"              \"window_bytes\": 65536, \"max_sessions\": 4 },\n"
	"  \"channels\": [ { \"id\": 1, \"kind\": \"reliable\" },\n"
	"                { \"id\": 2, \"kind\": \"datagram\" },\n"
	"                { \"id\": 3, \"kind\": \"reliable\" },\n"
	"                { \"id\": 4, \"kind\": \"reliable\" } ],\n"
	"  \"api\": { \"socket\": \"/tmp/fuzz-api.sock\", \"max_apps\": 2 } }\n";

void
fa_msg_write(uint8_t *buf, uint32_t magic, uint8_t slot, uint8_t chan, uint32_t seq, uint32_t len)
{
	struct fa_msg h = { .magic = magic, .slot = slot, .chan = chan, .seq = seq, .len = len };

	memcpy(buf, &h, sizeof(h));
	for (uint32_t i = sizeof(h); i < len; i++)
		buf[i] = fa_byte(seq, i);
}

bool
fa_msg_ok(const uint8_t *buf, uint32_t len, uint32_t magic, uint8_t slot, uint8_t chan,
	  uint32_t *seq)
{
	struct fa_msg h;

	if (len < sizeof(h))
		return false;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != magic || h.slot != slot || h.chan != chan || h.len != len)
		return false;
	for (uint32_t i = sizeof(h); i < len; i++)
		if (buf[i] != fa_byte(h.seq, i))
			return false;
	*seq = h.seq;
	return true;
}

/* --- the wire --------------------------------------------------------------------------------- */

/* The wire: what an engine sends arrives at the start of the next round (ROUND_NS later); a
 * packet for a session that ended meanwhile is lost, as is one beyond WIRE_MAX in a round. */
#define WIRE_MAX 256

struct pkt {
	uint32_t connid; /* the session's, at either end */
	bool to_peer;
	uint16_t len;
	uint64_t pn;
	uint8_t buf[SL_MAX_PAYLOAD];
};

static struct pkt wire_q[2][WIRE_MAX];
static unsigned int wire_n[2], wire_cur; /* wire_q[wire_cur]: sent in this round */

static void
wire(struct dp_conn *from, const struct dp_session *s, bool to_peer)
{
	static uint8_t lost[SL_MAX_PAYLOAD];
	uint64_t pn;
	int n;

	for (;;) {
		struct pkt *p =
			wire_n[wire_cur] < WIRE_MAX ? &wire_q[wire_cur][wire_n[wire_cur]] : NULL;

		n = dp_conn_output(from, W.lc->now, p != NULL ? p->buf : lost, sizeof(lost), &pn);
		if (n <= 0)
			return;
		if (p == NULL)
			continue;
		p->connid = s->connid; /* (fields one by one: the bytes are in p->buf already) */
		p->to_peer = to_peer;
		p->len = (uint16_t)n;
		p->pn = pn;
		wire_n[wire_cur]++;
	}
}

/* What was sent in the last round arrives (as dp_session_rx: the session has work). */
static void
arrive(void)
{
	unsigned int q = wire_cur;

	wire_cur ^= 1; /* what is sent from now on */
	for (unsigned int i = 0; i < wire_n[q]; i++) {
		const struct pkt *p = &wire_q[q][i];
		struct fa_sess *fs = &W.sess[sl_connid_slot(p->connid)];

		if (fs->s == NULL || fs->s->connid != p->connid)
			continue;
		(void)dp_conn_input(p->to_peer ? fs->peer : fs->s->conn, p->pn, p->buf, p->len,
				    W.lc->now);
		if (!p->to_peer)
			dp_session_wake(W.lc, fs->s);
	}
	wire_n[q] = 0;
}

/* --- set up ----------------------------------------------------------------------------------- */

void
fa_world_init(void)
{
	struct conf_errors errs;

	W.cfg = conf_parse("fuzz_api.json", config, sizeof(config) - 1, &errs);
	if (W.cfg == NULL) {
		conf_errors_print(&errs, stderr);
		abort();
	}
	fuzz_check(W.cfg->limits.max_sessions == FA_SLOTS && W.cfg->engine.n_channels == FA_CHANS,
		   "the configuration's sessions and channels");
	W.rt = calloc(1, sizeof(*W.rt));
	W.lc = aligned_alloc(RTE_CACHE_LINE_SIZE,
			     RTE_ALIGN_CEIL(sizeof(*W.lc), RTE_CACHE_LINE_SIZE));
	fuzz_check(W.rt != NULL && W.lc != NULL, "memory");
	memset(W.lc, 0, sizeof(*W.lc)); /* once: about 480 KiB, most of it not the interface's */
	W.rt->cfg = W.cfg;
	W.rt->n_lcores = 1;
	W.rt->lcores[0] = W.lc;
	W.lc->rt = W.rt;
}

/* Everything of the runtime and the lcore that dp_api.c and dp_api_rx.c use, as new. */
void
fa_world_start(void)
{
	struct dp_api *api = &W.rt->api;
	struct dp_lcore *lc = W.lc;

	/* as dp_runtime.c's api_init: the control channel is a service's, nobody has the others */
	memset(api, 0, sizeof(*api));
	api->max_apps = W.cfg->api.max_apps;
	api->max_message = W.cfg->engine.max_message;
	for (unsigned int c = 0; c < SL_MAX_CHANNELS; c++)
		atomic_init(&api->owner[c], DP_API_OWNER_NONE);
	atomic_init(&api->owner[SL_CONTROL_CHANNEL], DP_API_OWNER_SERVICE);
	fuzz_check(lc->api_lanes == 0, "no lane left from the last input");
	lc->slots = calloc(FA_SLOTS, sizeof(lc->slots[0]));
	fuzz_check(lc->slots != NULL, "memory");
	lc->n_sessions = 0;
	lc->busy = NULL;
	lc->now = 1000 * FA_MS;
	memset(lc->api_cnt, 0, sizeof(lc->api_cnt));
	memset(&lc->api_stats, 0, sizeof(lc->api_stats));
	memset(W.sess, 0, sizeof(W.sess));
	wire_n[0] = wire_n[1] = 0;
}

/* --- sessions, as dp_session.c ---------------------------------------------------------------- */

int
fa_sess_open(unsigned int slot)
{
	struct fa_sess *fs = &W.sess[slot];
	struct dp_session *s;

	if (fs->s != NULL)
		return -EEXIST;
	s = calloc(1, sizeof(*s));
	fuzz_check(s != NULL, "memory");
	s->conn = dp_conn_create(&W.cfg->engine, W.lc->now);
	fs->peer = dp_conn_create(&W.cfg->engine, W.lc->now);
	fuzz_check(s->conn != NULL && fs->peer != NULL, "two engines");
	s->slot = slot;
	s->connid = sl_connid(0, slot, ++fs->gen);
	memset(s->node, 0xa0 + (int)slot, sizeof(s->node));
	s->ip = 0xc6120010 + slot;
	s->udp_port = 4789;
	s->opened_ns = W.lc->now;
	fs->s = s;
	memset(fs->peer_sent, 0, sizeof(fs->peer_sent));
	memset(fs->peer_got, 0, sizeof(fs->peer_got));
	memset(fs->alice_sent, 0, sizeof(fs->alice_sent));
	fs->alice_gen = alice.attached && alice.registered[FA_ALICE_REL] ? alice.gen : 0;
	W.lc->slots[slot] = s;
	W.lc->n_sessions++;
	dp_api_session_open(W.lc, s);
	dp_session_wake(W.lc, s);
	return 0;
}

/* As dp_session.c's session_free: the applications hear NODE_DOWN after its last message. */
static void
sess_free(struct fa_sess *fs)
{
	struct dp_session *s = fs->s, **pp = &W.lc->busy;
	struct dp_conn_undelivered u;

	dp_conn_undelivered(s->conn, &u);
	dp_api_session_close(W.lc, s, s->closing ? s->close_reason : SL_CLOSE_SHUTDOWN,
			     s->closed_by_peer, (uint32_t)RTE_MIN(u.total.undelivered, UINT32_MAX));
	fuzz_check(s->api == NULL && s->api_told == 0, "an ended session holds nothing for them");
	dp_conn_destroy(s->conn);
	while (*pp != NULL && *pp != s)
		pp = &(*pp)->next_busy;
	if (*pp == s)
		*pp = s->next_busy;
	W.lc->slots[s->slot] = NULL;
	W.lc->n_sessions--;
	free(s);
	dp_conn_destroy(fs->peer);
	fs->s = NULL;
	fs->peer = NULL;
}

void
fa_sess_close(unsigned int slot, bool by_peer, bool graceful)
{
	struct fa_sess *fs = &W.sess[slot];

	if (fs->s == NULL)
		return;
	dp_conn_close(by_peer ? fs->peer : fs->s->conn, graceful, SL_CLOSE_APPLICATION, W.lc->now);
	dp_session_wake(W.lc, fs->s);
}

bool
fa_sess_live(unsigned int slot, uint32_t conn)
{
	const struct dp_session *s = slot < FA_SLOTS ? W.sess[slot].s : NULL;

	return s != NULL && s->connid == conn && !s->closing &&
	       dp_conn_state(s->conn) == DP_CONN_OPEN;
}

int
fa_peer_send(unsigned int slot, uint8_t chan, uint32_t len)
{
	struct fa_sess *fs = &W.sess[slot];
	static uint8_t buf[1 << 16];
	int rc;

	if (fs->s == NULL)
		return -ENOENT;
	fa_msg_write(buf, FA_FROM_PEER, (uint8_t)slot, chan, fs->peer_sent[chan] + 1, len);
	rc = dp_conn_send(fs->peer, chan, buf, len, 0, W.lc->now, NULL);
	if (rc == 0)
		fs->peer_sent[chan]++;
	return rc;
}

/* --- a round ---------------------------------------------------------------------------------- */

/* As dp_session.c: messages go to the applications, or are counted and released. */
static void
sess_deliver(struct dp_session *s)
{
	struct dp_msg *m;

	while ((m = dp_conn_recv(s->conn)) != NULL) {
		if (dp_api_deliver(W.lc, s, m))
			continue;
		if (atomic_load_explicit(&W.rt->api.owner[m->chan], memory_order_relaxed) ==
		    DP_API_OWNER_NONE)
			W.lc->api_stats.no_owner[m->chan]++;
		dp_conn_msg_release(s->conn, m);
	}
}

static void
sess_events(struct dp_session *s)
{
	struct dp_conn_event ev;

	while (dp_conn_poll_event(s->conn, &ev)) {
		dp_api_engine_event(W.lc, s, &ev);
		if (ev.type == DP_EV_CLOSED) {
			s->closing = true;
			s->close_reason = ev.reason;
			s->closed_by_peer = ev.by_peer;
		}
	}
}

/* As dp_session.c's session_run_one. */
static void
sess_run(struct fa_sess *fs)
{
	struct dp_session *s = fs->s;

	if (dp_conn_next_wakeup(s->conn) <= W.lc->now)
		dp_conn_tick(s->conn, W.lc->now);
	sess_deliver(s);
	sess_events(s);
	dp_api_session_run(W.lc, s);
	wire(s->conn, s, true);
	sess_events(s);
	if (s->closing && dp_conn_state(s->conn) == DP_CONN_CLOSED)
		sess_free(fs);
}

/* The peer: its timers, ALICE's messages checked (intact, in order on the reliable channel),
 * what it sends to the session. */
static void
peer_run(struct fa_sess *fs, unsigned int slot)
{
	struct dp_conn_event ev;
	struct dp_msg *m;
	uint32_t seq = 0;

	if (dp_conn_next_wakeup(fs->peer) <= W.lc->now)
		dp_conn_tick(fs->peer, W.lc->now);
	while (!fs->peer_stalled && (m = dp_conn_recv(fs->peer)) != NULL) {
		fuzz_check((m->chan != FA_ALICE_REL && m->chan != FA_ALICE_DG) ||
				   fa_msg_ok(m->data, m->len, FA_FROM_ALICE, (uint8_t)slot, m->chan,
					     &seq),
			   "what ALICE sent reaches the peer intact");
		if (m->chan == FA_ALICE_REL)
			fuzz_check(seq == fs->peer_got[m->chan] + 1, "ALICE's messages, in order");
		if (m->chan == FA_ALICE_REL || m->chan == FA_ALICE_DG)
			fs->peer_got[m->chan] = seq;
		dp_conn_msg_release(fs->peer, m);
	}
	while (dp_conn_poll_event(fs->peer, &ev))
		;
	wire(fs->peer, fs->s, false);
}

/* As dp_session_run: sessions whose timer is due, then every session with work. */
static void
sess_run_busy(void)
{
	struct dp_session *s, *list;

	for (unsigned int i = 0; i < FA_SLOTS; i++)
		if (W.sess[i].s != NULL && dp_conn_next_wakeup(W.sess[i].s->conn) <= W.lc->now)
			dp_session_wake(W.lc, W.sess[i].s);
	list = W.lc->busy;
	W.lc->busy = NULL;
	while ((s = list) != NULL) {
		list = s->next_busy;
		s->busy = false;
		sess_run(&W.sess[s->slot]);
	}
}

void
fa_world_round(void)
{
	unsigned int work;

	arrive();
	for (unsigned int i = 0; i < FA_SLOTS; i++)
		if (W.sess[i].s != NULL)
			peer_run(&W.sess[i], i);
	work = dp_api_poll(W.lc);
	sess_run_busy();
	dp_api_round_end(W.lc, work); /* as the lcore loop: the round's work decides the wakes */
	W.lc->now += FA_ROUND_NS;
}

void
fa_world_wait(uint64_t ns)
{
	W.lc->now += ns;
}

void
fa_world_stop(void)
{
	for (unsigned int i = 0; i < FA_SLOTS; i++)
		if (W.sess[i].s != NULL)
			sess_free(&W.sess[i]);
	W.lc->busy = NULL;
	dp_api_lcore_fini(W.lc);
	fuzz_check(W.lc->api_lanes == 0, "every lane closed");
	free(W.lc->slots);
	W.lc->slots = NULL;
}
