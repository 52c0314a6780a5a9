/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the control thread of the appliance (see cp_main.h).
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_arp.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "cp_api.h"
#include "cp_discovery.h"
#include "cp_main.h"
#include "cp_relay.h"
#include "cp_arp.h"
#include "cp_notify.h"
#include "sl_aead.h"
#include "dp_net.h"
#include "sl_clock.h"
#include "sl_lru_keyed.h"
#include "sl_repeat.h"

RTE_LOG_REGISTER(cp_main_logtype, sluice.cp.main, INFO);
#define CTL_LOG(level, ...) rte_log(RTE_LOG_##level, cp_main_logtype, "sluice: " __VA_ARGS__)

#define MS		  UINT64_C(1000000)
#define SNAPSHOT_NS	  (500 * MS)
#define ARP_TICK_NS	  (100 * MS)
#define DRAIN_NS	  (3000 * MS) /* graceful close of every session at shutdown, at most */
#define IDLE_SLEEP_NS	  200000      /* nothing to do: the control thread sleeps this long */
#define IDLE_LONG_NS	  1000000     /* ... and this long after IDLE_LONG_AFTER idle rounds */
#define IDLE_LONG_AFTER	  50
#define SNAP_SESSIONS_MAX 4096 /* sessions per lcore a snapshot lists one by one */
#define REPEATS_MAX	  1024 /* nodes and addresses whose repeated log lines are counted */

/* ConnectFailed for one node (or keyless address) and reason: at most 3 lines a minute. A
 * peer that is down fails every dial (1 s doubling to 60 s), and discovery dials many. */
static const struct sl_repeat_rule connect_failed_rule = { .burst = 3, .window_ns = 60000 * MS };

static uint64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --- to the dataplane ----------------------------------------------------------------------- */

static_assert(CP_CTL_CLOSE_BATCH * 4 <= DP_RING_SIZE, "shutdown closes: a quarter of a ring");

static int
op_command(void *arg, unsigned int lcore, const struct dp_cmd *cmd)
{
	struct cp_main *a = arg;
	struct rte_ring *r = dp_lcore_cmd_ring(a->dp, lcore);

	/* the lcore empties its ring every round: a full ring is a moment, not a state; but a
	 * control message is not worth waiting for (its sender hears -ENOBUFS) */
	for (unsigned int spins = 0;
	     rte_ring_sp_enqueue_elem(r, (void *)(uintptr_t)cmd, sizeof(*cmd)) != 0; spins++) {
		if (a->dp->quit || spins > 10000000 || cmd->type == DP_CMD_CONTROL_SEND)
			return -ENOBUFS;
		rte_pause();
	}
	return 0;
}

/* Lcore 0 transmits what the control thread sends (each lcore has a queue on every port). */
static void
tx_mbuf(struct cp_main *a, uint8_t port, struct rte_mbuf *m)
{
	struct dp_cmd c = { .type = DP_CMD_TX, .port = port, .m = m };

	if (op_command(a, 0, &c) != 0)
		rte_pktmbuf_free(m);
}

static void
op_send(void *arg, const struct cp_endpoint *to, const void *msg, size_t len)
{
	struct cp_main *a = arg;
	struct rte_ether_addr dst; /* aligned, unlike the endpoint's bytes */
	struct sl_relay_hdr rh = { .type = SL_MSG_RELAY_TO };
	size_t hl = to->via != 0 ? sizeof(rh) : 0; /* through a relay: on our end of the circuit */
	struct rte_mbuf *m;
	uint8_t *p;

	if (to->port >= a->dp->n_ports)
		return;
	memcpy(dst.addr_bytes, to->mac, sizeof(dst.addr_bytes));
	m = rte_pktmbuf_alloc(a->dp->ports[to->port].pool);
	if (m == NULL) {
		a->tx_no_mbuf++;
		return;
	}
	rh.circuit = rte_cpu_to_be_32(to->via);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(hl + len));
	if (p != NULL) {
		memcpy(p, &rh, hl);
		memcpy(p + hl, msg, len);
	}
	if (p == NULL || dp_net_build_udp(&a->dp->nif[to->port], m, &dst, to->ip, to->udp_port,
					  (uint16_t)(hl + len), a->ip_id++, 0) != 0) {
		a->tx_build_failed++;
		rte_pktmbuf_free(m);
		return;
	}
	tx_mbuf(a, to->port, m);
}

/* An ARP request for ip from the port (for the port's own address: a gratuitous one, an
 * announcement). Whether it went to the lcores. */
static bool
send_arp(struct cp_main *a, uint8_t port, uint32_t ip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(a->dp->ports[port].pool);

	if (m == NULL) {
		a->tx_no_mbuf++;
		return false;
	}
	if (dp_net_arp_request(&a->dp->nif[port], m, ip) != 0) {
		a->tx_build_failed++;
		rte_pktmbuf_free(m);
		return false;
	}
	tx_mbuf(a, port, m);
	return true;
}

static void
send_arp_request(struct cp_main *a, uint8_t port, uint32_t ip)
{
	a->arp_requests += send_arp(a, port, ip);
}

/* cp_port's announcements: a gratuitous ARP request for the port's own address. */
static bool
announce(void *arg, uint8_t port)
{
	struct cp_main *a = arg;

	return send_arp(a, port, a->dp->nif[port].ip);
}

/* The port a destination is on (on-link first, then through a gateway) and its next hop. */
static int
route(const struct cp_main *a, uint32_t ip, uint8_t *port, uint32_t *next_hop)
{
	for (int pass = 0; pass < 2; pass++)
		for (unsigned int p = 0; p < a->dp->n_ports; p++) {
			const struct dp_net_if *nif = &a->dp->nif[p];

			if ((pass == 0) != dp_net_on_link(nif, ip))
				continue;
			*next_hop = dp_net_next_hop(nif, ip);
			if (*next_hop != 0) {
				*port = (uint8_t)p;
				return 0;
			}
		}
	return -ENETUNREACH;
}

static int
op_resolve(void *arg, uint32_t ip, uint8_t *port, uint8_t mac[6])
{
	struct cp_main *a = arg;
	uint32_t nh;
	enum cp_arp_result r;

	if (route(a, ip, port, &nh) != 0)
		return -ENETUNREACH;
	r = cp_arp_lookup(a->arp[*port], nh, a->now_ns, mac);
	if (cp_arp_want(a->arp[*port], nh, a->now_ns))
		send_arp_request(a, *port, nh);
	return r == CP_ARP_FOUND ? 0 : -EAGAIN;
}

/* The ConnectFailed line, unless the same node and reason filled its share this minute; the
 * next one written says how many were left out (suppressed=). */
static void
log_connect_failed(struct cp_main *a, const struct cp_note *n, const char *who, const char *key)
{
	uint8_t k[SL_REPEAT_KEY_LEN] = { 0 };
	uint32_t h = 2166136261u, left_out = 0; /* FNV-1a of the reason */
	char more[32] = "";

	if (n->pub != NULL) {
		memcpy(k, n->pub, 12);
	} else {
		memcpy(k, &n->ip, sizeof(n->ip));
		memcpy(k + 4, &n->udp_port, sizeof(n->udp_port));
	}
	for (const char *c = n->reason; c != NULL && *c != '\0'; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	memcpy(k + 12, &h, sizeof(h));
	if (a->repeats != NULL &&
	    !sl_repeat_allow(a->repeats, &connect_failed_rule, k, a->now_ns, &left_out))
		return;
	if (left_out != 0)
		snprintf(more, sizeof(more), " suppressed=%u", left_out);
	CTL_LOG(WARNING,
		"ConnectFailed peer=%s key=%.12s addr=%u.%u.%u.%u:%u reason=%s attempts=%u "
		"retry_in_ms=%" PRIu64 "%s\n",
		who, key, n->ip >> 24, (n->ip >> 16) & 0xff, (n->ip >> 8) & 0xff, n->ip & 0xff,
		n->udp_port, n->reason, n->attempts, n->retry_in_ns / MS, more);
}

static void
op_note(void *arg, const struct cp_note *n)
{
	struct cp_main *a = arg;
	char key[45] = "-", who[CONF_NAME_LEN + 16], undel[64] = "";

	if (n->type == CP_NOTE_REFUSED) { /* peers_only: for the log, nobody else hears of it */
		cp_main_log_refused(a, n);
		return;
	}
	cp_api_note(a->api, n);
	cp_control_note(&a->control, n); /* a new session: HELLO */
	cp_relay_note(a->relay, n, a->now_ns);
	/* a session through a relay says nothing of where its node is: not the book's */
	if (a->disc != NULL && n->via == 0)
		cp_discovery_note(a->disc, n);
	if (n->pub != NULL)
		conf_key_to_base64(n->pub, key);
	if (n->undelivered != 0) /* never split: grep for the NodeDisconnected line */
		snprintf(undel, sizeof(undel),
			 " undelivered=%" PRIu64 " undelivered_bytes=%" PRIu64, n->undelivered,
			 n->undelivered_bytes);
	snprintf(who, sizeof(who), "%s", n->name[0] != '\0' ? n->name : "-");
	switch (n->type) {
	case CP_NOTE_CONNECTED:
		CTL_LOG(INFO,
			"NodeConnected peer=%s key=%.12s addr=%u.%u.%u.%u:%u connid=%08x role=%s "
			"caps=%#" PRIx64 "%s via=%08x\n",
			who, key, n->ip >> 24, (n->ip >> 16) & 0xff, (n->ip >> 8) & 0xff,
			n->ip & 0xff, n->udp_port, n->connid,
			n->initiator ? "initiator" : "responder", n->capabilities,
			n->learned ? " key_learned=xx" : "", n->via);
		break;
	case CP_NOTE_CONNECT_FAILED:
		log_connect_failed(a, n, who, key);
		break;
	case CP_NOTE_DISCONNECTED:
		CTL_LOG(INFO, "NodeDisconnected peer=%s key=%.12s connid=%08x reason=%s by=%s%s\n",
			who, key, n->connid, n->reason, n->by_peer ? "peer" : "us", undel);
		break;
	case CP_NOTE_REPLACED_ENDED:
		CTL_LOG(INFO, "ReplacedSessionEnded connid=%08x reason=%s by=%s%s\n", n->connid,
			n->reason, n->by_peer ? "peer" : "us", undel);
		break;
	case CP_NOTE_REFUSED:
	case CP_NOTE_COUNT:
		break;
	case CP_NOTE_REKEYED:
		CTL_LOG(INFO, "Rekeyed peer=%s key=%.12s connid=%08x role=%s\n", who, key,
			n->connid, n->initiator ? "initiator" : "responder");
		break;
	case CP_NOTE_UNRESPONSIVE:
		CTL_LOG(WARNING, "NodeUnresponsive peer=%s key=%.12s\n", who, key);
		break;
	}
}

static void
op_control(void *arg, const uint8_t pub[SL_KEY_LEN], const void *msg, size_t len)
{
	struct cp_main *a = arg;

	cp_control_input(&a->control, pub, msg, len);
}

/* Control messages cp_control leaves to others: relaying's, and peer exchange's. */
static void
control_other(void *arg, const uint8_t pub[SL_KEY_LEN], const void *msg, size_t len)
{
	struct cp_main *a = arg;

	if (len > 0 && cp_relay_msg_type(((const uint8_t *)msg)[0]))
		cp_relay_control(a->relay, pub, msg, len, a->now_ns);
	else if (a->disc != NULL)
		cp_discovery_control(a->disc, pub, msg, len);
	else
		cp_control_unclaimed(&a->control, msg, len);
}

static int
control_send(void *arg, const uint8_t pub[SL_KEY_LEN], const void *msg, size_t len)
{
	struct cp_main *a = arg;

	return cp_ctl_control_send(a->ctl, pub, msg, len);
}

static const struct cp_ctl_ops ctl_ops = {
	.command = op_command,
	.send = op_send,
	.resolve = op_resolve,
	.note = op_note,
	.control = op_control,
};

/* --- from the dataplane --------------------------------------------------------------------- */

static void
on_arp(struct cp_main *a, uint8_t port, struct rte_mbuf *m)
{
	enum dp_drop_reason why;
	struct dp_net_pkt pkt;
	const struct dp_net_if *nif;

	if (port >= a->dp->n_ports)
		goto out;
	nif = &a->dp->nif[port];
	if (dp_net_classify(nif, m, &pkt, &why) != DP_NET_ARP)
		goto out;
	a->arp_msgs++;
	if (pkt.arp_for_us) {
		if (dp_net_on_link(nif, pkt.src_ip) &&
		    cp_arp_learn(a->arp[port], pkt.src_ip, pkt.arp_sha.addr_bytes, a->now_ns) == 0)
			cp_ctl_kick(a->ctl, a->now_ns);
		if (pkt.arp_op == RTE_ARP_OP_REQUEST && dp_net_arp_reply(nif, m) == 0) {
			a->arp_replies++;
			tx_mbuf(a, port, m);
			return;
		}
	} else if (cp_arp_update(a->arp[port], pkt.src_ip, pkt.arp_sha.addr_bytes, a->now_ns)) {
		cp_ctl_kick(a->ctl, a->now_ns);
	}
out:
	rte_pktmbuf_free(m);
}

static void
on_handshake(struct cp_main *a, const struct dp_evt *ev, uint32_t backlog, uint64_t wall)
{
	struct cp_endpoint from = {
		.port = ev->port, .ip = ev->ip, .udp_port = ev->udp_port, .via = ev->via
	};
	struct rte_mbuf *m = ev->m;

	memcpy(from.mac, ev->mac, sizeof(from.mac));
	/* through a relay: only on a circuit of ours, from that relay */
	if (from.via != 0 && !cp_relay_accepts(a->relay, &from))
		goto out;
	if ((uint32_t)ev->off + ev->len <= rte_pktmbuf_data_len(m)) {
		const uint8_t *msg = rte_pktmbuf_mtod_offset(m, const uint8_t *, ev->off);

		a->hs_msgs++;
		if (cp_ctl_initiation_fresh(a->ctl, msg, ev->len, ev->since_ns, a->now_ns))
			cp_ctl_handshake(a->ctl, &from, msg, ev->len, backlog, a->now_ns, wall);
	}
out:
	rte_pktmbuf_free(m);
}

static void
on_stats(struct cp_main *a, unsigned int l, const struct dp_stats *st)
{
	for (uint8_t i = 0; i < 2; i++)
		if (a->snap[l][i] == st) {
			a->snap_cur[l] = i;
			a->snap_valid[l] = true;
		}
	a->snap_pending[l] = false;
	a->snaps_done++;
}

static unsigned int
poll_events(struct cp_main *a, uint64_t wall)
{
	unsigned int work = 0;

	for (unsigned int l = 0; l < a->dp->n_lcores; l++) {
		struct dp_evt evs[32];
		unsigned int left = 0;
		unsigned int n = rte_ring_sc_dequeue_burst_elem(
			dp_lcore_evt_ring(a->dp, l), evs, sizeof(evs[0]), RTE_DIM(evs), &left);

		for (unsigned int k = 0; k < n; k++) {
			switch (evs[k].type) {
			case DP_EVT_HANDSHAKE:
				on_handshake(a, &evs[k], left + n - k - 1, wall);
				break;
			case DP_EVT_ARP:
				on_arp(a, evs[k].port, evs[k].m);
				break;
			case DP_EVT_STATS_DONE:
				on_stats(a, l, evs[k].stats);
				break;
			case DP_EVT_RELAY_LIMIT:
				cp_relay_limit(a->relay, evs[k].connid, a->now_ns);
				break;
			case DP_EVT_CONTROL: /* its buffer is ours once dequeued */
				cp_ctl_event(a->ctl, l, &evs[k], a->now_ns, wall);
				free(evs[k].msg);
				break;
			default:
				cp_ctl_event(a->ctl, l, &evs[k], a->now_ns, wall);
				break;
			}
		}
		work += n;
	}
	return work;
}

/* --- statistics ----------------------------------------------------------------------------- */

static void
request_snapshots(struct cp_main *a)
{
	for (unsigned int l = 0; l < a->dp->n_lcores; l++) {
		struct dp_cmd c = { .type = DP_CMD_STATS };

		if (a->snap_pending[l])
			continue;
		c.stats = a->snap[l][a->snap_valid[l] ? a->snap_cur[l] ^ 1 : 0];
		c.stats->cap = a->snap_cap;
		if (op_command(a, l, &c) == 0)
			a->snap_pending[l] = true;
	}
}

void
cp_main_totals(struct cp_main *a, struct cp_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int l = 0; l < a->dp->n_lcores; l++) {
		const struct dp_stats *s;

		if (!a->snap_valid[l])
			continue;
		s = a->snap[l][a->snap_cur[l]];
		for (unsigned int r = 0; r < DP_DROP_COUNT; r++)
			t->drops[r] += s->drops[r];
		t->rx_pkts += s->rx_pkts;
		t->tx_pkts += s->tx_pkts;
		t->handoffs += s->handoffs;
		t->relay_pkts += s->relay_pkts;
		t->relay_bytes += s->relay_bytes;
		t->busy_cycles += s->busy_cycles;
		t->sessions += s->total;
		for (unsigned int i = 0; i < a->cfg->services.n; i++)
			dp_svc_stats_merge(&t->svc[i], &s->svc[i]);
		for (unsigned int ch = 0; ch < SL_MAX_CHANNELS; ch++)
			dp_undelivered_add(&t->undelivered[ch], &s->undelivered[ch]);
	}
}

void
cp_main_final_snapshot(struct cp_main *a)
{
	pthread_mutex_lock(&a->lock);
	for (unsigned int l = 0; l < a->dp->n_lcores; l++) {
		uint8_t b = a->snap_valid[l] ? a->snap_cur[l] ^ 1 : 0;

		a->snap[l][b]->cap = a->snap_cap;
		dp_lcore_final_stats(a->dp, l, a->snap[l][b]);
		a->snap_cur[l] = b;
		a->snap_valid[l] = true;
		a->snap_pending[l] = false;
	}
	pthread_mutex_unlock(&a->lock);
}

/* How many configured sources there are, and how many finished (sent their count; echoes
 * back if they expect them) in some session. */
static unsigned int
sources_done(struct cp_main *a, unsigned int *n_sources)
{
	struct cp_totals *t = malloc(sizeof(*t));
	unsigned int done = 0;

	*n_sources = 0;
	for (unsigned int i = 0; i < a->cfg->services.n; i++)
		*n_sources += a->cfg->services.svc[i].type == DP_SVC_SOURCE;
	if (t == NULL)
		return 0;
	cp_main_totals(a, t);
	for (unsigned int i = 0; i < a->cfg->services.n; i++)
		done += a->cfg->services.svc[i].type == DP_SVC_SOURCE && t->svc[i].sources_done > 0;
	free(t);
	return done;
}

/* --- the loop ------------------------------------------------------------------------------- */

/* Why the appliance should stop now (logged, and told to systemd), or NULL. */
static const char *
stop_wanted(struct cp_main *a, uint64_t now)
{
	const char *why = NULL;

	if (a->opt.stop != NULL && *a->opt.stop) {
		why = "signal";
	} else if (a->opt.duration_ns != 0 && now - a->started_ns >= a->opt.duration_ns) {
		why = "--duration reached";
	} else if (a->opt.exit_when_done) { /* a node without sources runs until told to stop */
		unsigned int n, done = sources_done(a, &n);

		if (n > 0 && done == n)
			why = "every source is done";
	}
	if (why != NULL)
		CTL_LOG(INFO, "stopping: %s\n", why);
	else if (a->dp->quit != 0)
		why = "the lcores quit";
	if (why != NULL && a->opt.notify != NULL)
		cp_notify_stopping(a->opt.notify, why);
	return why;
}

/* After the sessions closed: one more snapshot of every lcore, for the summary. */
static void
last_snapshot(struct cp_main *a)
{
	uint64_t until = sl_now_ns() + 500 * MS;
	uint64_t want;

	for (unsigned int l = 0; l < a->dp->n_lcores; l++)
		while (a->snap_pending[l] && sl_now_ns() < until)
			poll_events(a, wall_ns());
	want = a->snaps_done + a->dp->n_lcores;
	request_snapshots(a);
	while (a->snaps_done < want && sl_now_ns() < until)
		poll_events(a, wall_ns());
}

/* --- rounds -------------------------------------------------------------------------------- */

struct arp_tick_ctx {
	struct cp_main *a;
	uint8_t port;
};

/* Retries of ARP requests; a failed resolution needs nothing here (the dial times out). */
static void
arp_tick_cb(void *ctx, uint32_t ip, enum cp_arp_event ev)
{
	const struct arp_tick_ctx *c = ctx;

	if (ev == CP_ARP_EV_REQUEST)
		send_arp_request(c->a, c->port, ip);
}

/* What systemd's STATUS= says (cp_notify_tick asks at most once a second: the count walks every
 * session slot, far too much for every round). */
static void
notify_counts(void *arg, uint32_t *sessions, uint32_t *handshakes)
{
	const struct cp_ctl_stats *st = cp_ctl_stats(((struct cp_main *)arg)->ctl);

	*sessions = st->sessions_live;
	*handshakes = st->handshakes_pending;
}

static void
control_round(struct cp_main *a, uint64_t *next_snap, uint64_t *next_arp, unsigned int *work)
{

	uint64_t wall = wall_ns();

	*work += poll_events(a, wall);
	if (a->api != NULL)
		*work += cp_api_poll(a->api, a->now_ns);
	cp_ctl_tick(a->ctl, a->now_ns, wall);
	cp_relay_tick(a->relay, a->now_ns);
	if (a->disc != NULL)
		cp_discovery_tick(a->disc, a->now_ns);
	if (a->now_ns >= *next_arp) {
		for (unsigned int p = 0; p < a->dp->n_ports; p++) {
			struct arp_tick_ctx c = { a, (uint8_t)p };

			cp_arp_tick(a->arp[p], a->now_ns, arp_tick_cb, &c);
		}
		*next_arp = a->now_ns + ARP_TICK_NS;
	}
	cp_port_round(&a->ports, a->now_ns);
	if (a->now_ns >= *next_snap) {
		request_snapshots(a);
		*next_snap = a->now_ns + SNAPSHOT_NS;
	}
	if (a->opt.notify != NULL)
		cp_notify_tick(a->opt.notify, a->now_ns, notify_counts, a);
}

/* Nothing to do: sleep for nap, or until an application's socket (a request, a new
 * application) becomes readable: a request is answered at once, not after the nap. */
static void
idle_wait(struct cp_main *a, const struct timespec *nap)
{
	struct pollfd fds[DP_API_MAX_APPS + 1];
	unsigned int n = a->api != NULL ? cp_api_pollfds(a->api, fds, RTE_DIM(fds)) : 0;

	if (n == 0)
		nanosleep(nap, NULL);
	else
		(void)ppoll(fds, n, nap, NULL); /* an error (EINTR) is one more round */
}

static void *
control_main(void *arg)
{
	struct cp_main *a = arg;
	uint64_t next_snap = 0, next_arp = 0, drain_until = 0;
	bool stopping = false, closing = false;
	unsigned int idle_rounds = 0;

	for (;;) {
		unsigned int work = 0;
		struct timespec nap = { .tv_nsec = IDLE_SLEEP_NS };

		pthread_mutex_lock(&a->lock);
		a->now_ns = sl_now_ns();
		control_round(a, &next_snap, &next_arp, &work);
		if (!stopping && stop_wanted(a, a->now_ns) != NULL) {
			stopping = closing = true;
			cp_relay_stop(a->relay, a->now_ns); /* its ends hear it before we close */
			drain_until = a->now_ns + DRAIN_NS;
		}
		if (closing) { /* in batches: the lcores' answers are drained between them */
			closing = !cp_ctl_close_all(a->ctl, a->now_ns);
			work++;
		}
		if (stopping && (cp_ctl_sessions(a->ctl) == 0 || a->now_ns >= drain_until)) {
			if (cp_ctl_sessions(a->ctl) != 0)
				CTL_LOG(WARNING, "%u sessions did not close in time\n",
					cp_ctl_sessions(a->ctl));
			last_snapshot(a);
			unsigned int n, done = sources_done(a, &n);

			a->sources_finished = done == n;
			pthread_mutex_unlock(&a->lock);
			break;
		}
		pthread_mutex_unlock(&a->lock);
		idle_rounds = work == 0 ? idle_rounds + 1 : 0;
		/* after a while of nothing, wake less often: each wake-up takes the CPU from a
		 * busy-polling lcore that shares the core (round-trip tails) */
		if (idle_rounds > IDLE_LONG_AFTER)
			nap.tv_nsec = IDLE_LONG_NS;
		if (work == 0)
			idle_wait(a, &nap);
	}
	sl_aead_thread_mgr_release(); /* the handshakes' AEAD manager of this thread */
	a->done = true;
	a->dp->quit = 1;
	return NULL;
}

/* --- setup ---------------------------------------------------------------------------------- */

int
cp_main_init(struct cp_main *a, struct dp_runtime *dp, const struct conf *cfg,
	     const uint8_t static_priv[SL_KEY_LEN], const struct cp_main_options *opt)
{
	struct cp_ctl_config cc;
	size_t sz;

	memset(a, 0, sizeof(*a));
	a->dp = dp;
	a->cfg = cfg;
	a->opt = *opt;
	pthread_mutex_init(&a->lock, NULL);
	for (unsigned int p = 0; p < dp->n_ports; p++) {
		a->arp[p] = cp_arp_create(NULL);
		if (a->arp[p] == NULL)
			return -ENOMEM;
	}
	cp_port_init(&a->ports, dp, cfg, announce, a);
	a->repeats = sl_lru_keyed_create(REPEATS_MAX, SL_REPEAT_ENTRY_SIZE, SL_REPEAT_KEY_LEN);
	if (a->repeats == NULL)
		return -ENOMEM;
	a->snap_cap = RTE_MIN(cfg->limits.max_sessions, (uint32_t)SNAP_SESSIONS_MAX);
	sz = sizeof(struct dp_stats) + a->snap_cap * sizeof(struct dp_session_stats);
	for (unsigned int l = 0; l < dp->n_lcores; l++)
		for (unsigned int i = 0; i < 2; i++) {
			a->snap[l][i] = rte_zmalloc("sluice_stats", sz, RTE_CACHE_LINE_SIZE);
			if (a->snap[l][i] == NULL)
				return -ENOMEM;
		}
	cp_ctl_config_from_conf(&cc, cfg, static_priv);
	cp_control_init(&a->control, control_send, a);
	a->started_ns = a->now_ns = sl_now_ns();
	a->ctl = cp_ctl_create(&cc, &ctl_ops, a, a->now_ns);
	memset(cc.hs.static_priv, 0, sizeof(cc.hs.static_priv));
	if (a->ctl == NULL) {
		CTL_LOG(ERR, "control: %s\n", strerror(errno));
		return -errno;
	}
	if (cfg->api.enabled && (a->api = cp_api_create(a)) == NULL)
		return -errno; /* logged */
	a->relay = cp_relay_create(cfg, a->ctl, dp);
	if (a->relay == NULL) {
		CTL_LOG(ERR, "relay: %s\n", strerror(errno));
		return -errno;
	}
	cp_control_forward(&a->control, control_other, a);
	if (cfg->discovery.enabled) {
		a->disc = cp_discovery_create(cfg, a->ctl, a->now_ns);
		if (a->disc == NULL) {
			CTL_LOG(ERR, "discovery: %s\n", strerror(errno));
			return -errno;
		}
		cp_discovery_set_api(a->disc, a->api); /* its events go to applications too */
	}
	return 0;
}

int
cp_main_start(struct cp_main *a)
{
	int rc;

	cp_discovery_handoff(a->disc); /* built here, run by the control thread */
	rc = rte_ctrl_thread_create(&a->thread, "sluice-ctl", NULL, control_main, a);
	if (rc != 0) {
		CTL_LOG(ERR, "control thread: %s\n", strerror(rc));
		return -rc;
	}
	a->running = true;
	return 0;
}

void
cp_main_join(struct cp_main *a)
{
	if (a->running) {
		pthread_join(a->thread, NULL);
		/* back to this thread: cp_main_fini saves the book */
		cp_discovery_handoff(a->disc);
	}
	a->running = false;
}

void
cp_main_fini(struct cp_main *a)
{
	cp_discovery_set_api(a->disc, NULL); /* its last save is logged, nobody is told */
	cp_api_destroy(a->api); /* the lcores stopped: nothing can be inside the memory */
	a->api = NULL;
	cp_discovery_destroy(a->disc); /* saves the address book */
	a->disc = NULL;
	cp_relay_destroy(a->relay);
	a->relay = NULL;
	cp_ctl_destroy(a->ctl);
	a->ctl = NULL;
	sl_lru_destroy(a->repeats);
	a->repeats = NULL;
	for (unsigned int p = 0; p < CONF_MAX_PORTS; p++) {
		cp_arp_destroy(a->arp[p]);
		a->arp[p] = NULL;
	}
	for (unsigned int l = 0; l < CONF_MAX_LCORES; l++)
		for (unsigned int i = 0; i < 2; i++) {
			rte_free(a->snap[l][i]);
			a->snap[l][i] = NULL;
		}
	pthread_mutex_destroy(&a->lock);
}

const struct dp_session_stats *
cp_main_session_stats(const struct cp_main *a, unsigned int lcore, uint32_t slot)
{
	const struct dp_stats *s;

	if (lcore >= a->dp->n_lcores || !a->snap_valid[lcore])
		return NULL;
	s = a->snap[lcore][a->snap_cur[lcore]];
	for (uint32_t i = 0; i < s->n; i++)
		if (s->s[i].slot == slot)
			return &s->s[i];
	return NULL;
}
