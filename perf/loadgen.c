/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: loadgen — many sessions with one sluice appliance from one DPDK process, each under
 * an identity of its own, or a flood of handshake initiations (perf rig, sections 8 and 9).
 *
 *   loadgen [EAL args] -- --port DEV --ip A.B.C.D/LEN --target IP:PORT --target-key KEY
 *                         --network NAME [options]
 *
 * EAL args: e.g. -l 1 --no-huge -m 512 --no-pci --file-prefix lg-$$ (--port's device is added
 * as --vdev, or -a for a PCI address, so it is not repeated here).
 *
 * Options (after --):
 *   --port DEV          the device: net_memif0,role=client,id=0,socket=/tmp/x.sock, ...
 *   --ip A.B.C.D/LEN    the loadgen's address (it answers ARP for it)
 *   --udp-port N        the loadgen's UDP port, shared by every session (4789)
 *   --target IP:PORT    the appliance (on-link: resolved by ARP)
 *   --target-key KEY    the appliance's public key, base64 (what `sluice pubkey` prints)
 *   --network NAME      the appliance's network name (its id is derived as sluice does)
 *   --suite S           aesgcm (default) or chachapoly
 *   --sessions N        sessions mode: establish N sessions (1000); flood: identities (256)
 *   --inflight K        sessions mode: handshakes in progress at once (32, at most 4096)
 *   --timeout-ms T      sessions mode: resend after T ms without an answer (1000)
 *   --retries R         sessions mode: attempts per session before it fails (10)
 *   --setup-limit S     sessions mode: stop establishing after S seconds (600)
 *   --hold S            sessions mode: hold the sessions S seconds, 0: until SIGINT/SIGTERM (0)
 *   --rate R            at most R initiations a second (sessions: new handshakes), 0: no cap
 *   --flood S           flood mode: send initiations for S seconds
 *   --replay            flood: re-send P pre-built initiations (no DH on our side, max rate)
 *                       instead of a fresh one (new ephemeral key, new timestamp) each time
 *   --mbufs N           mbufs of the port's pool (8191)
 *
 * Sessions mode. N X25519 identities; for each a complete Noise IK handshake (the project's
 * cp_handshake initiator), then the first data packet with a PING sealed under the new keypair
 * (dp_keypair), which moves the appliance's keypair from `next` to `cur`. A session counts as
 * established when a data packet from the appliance authenticates under its keypair (the
 * appliance answers the PING): both ends then hold it. Unanswered initiations and PINGs are
 * sent again after --timeout-ms; a cookie reply is consumed and the initiation sent again at
 * once with mac2 (all identities share one address, so one cookie serves them all). Every
 * ack-eliciting packet from the appliance is acknowledged (else its loss recovery would declare
 * us unresponsive); nothing else is ever sent, so with `keepalive_ms: 0` and
 * `idle_timeout_ms: 0` the sessions stay idle. The loadgen does not rekey: the appliance's
 * keypairs expire 180 s after the handshake; the sessions stay open, keyless.
 *
 * Appliance configuration for N sessions: limits.max_sessions >= N (plus its own peers),
 * limits.handshakes_per_sec and handshake_burst high (every identity comes from one address),
 * keepalive_ms 0, idle_timeout_ms 0.
 *
 * Flood mode. IK initiations with valid mac1, from P identities in turn, as fast as the port
 * takes them (or --rate). Handshakes are not completed: an answer is counted, never confirmed
 * (the appliance keeps at most P unconfirmed sessions: a new one from the same identity
 * replaces the old). Cookie replies are consumed like a real client at a real address would,
 * and later initiations carry mac2, so what stops the flood is the appliance's per-source rate
 * limit, not the cookie round trip.
 *
 * Output (stdout):
 *   loadgen: established=N failed=F seconds=T handshakes_per_s=H      once all are up
 *   loadgen: flood sent=S answered=A cookies=C seconds=T pps=P
 *   loadgen: summary ...                                              at exit
 * and progress on stderr at most once a second.
 * Exit: 0; 1 on an error; 3 when some sessions could not be established.
 *
 * Files: this one (port, ARP, receive loop, phases, main); loadgen_opts.c (the command line);
 * loadgen_hs.c (handshakes, data packets, flood); loadgen.h (shared state). perf/rig_scale.py
 * drives it.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "conf.h"
#include "cp_handshake.h"
#include "dp_keypair.h"
#include "dp_net.h"
#include "drv_port.h"
#include "loadgen.h"
#include "sl_clock.h"

volatile sig_atomic_t lg_quit;

static void
on_signal(int sig)
{
	(void)sig;
	lg_quit = 1;
}

uint64_t
lg_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

double
lg_secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* --- the port ------------------------------------------------------------------------------- */

static int
port_up(struct lg *g)
{
	struct conf_port *c = &g->pcfg;
	uint64_t deadline = sl_now_ns() + LINK_WAIT_NS;
	struct rte_eth_link link;
	int rc;

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "lg0");
	snprintf(c->device, sizeof(c->device), "%s", g->o.port_dev);
	c->ipv4 = g->o.ip;
	c->prefix_len = g->o.prefix_len;
	c->udp_port = g->o.udp_port;
	c->mtu = 1500;
	c->rx_queues = c->tx_queues = 1;
	c->rx_desc = c->tx_desc = 1024;
	c->mbufs = g->o.mbufs;
	rc = drv_port_open(&g->port, c, 1, 0);
	while (rc == -ENOTCONN && !lg_quit &&
	       sl_now_ns() < deadline) { /* memif: wait for the server */
		rte_delay_ms(100);
		rc = drv_port_restart(&g->port);
	}
	if (rc != 0)
		return rc == -ENOTCONN ? -ETIMEDOUT : rc;
	do {
		if (rte_eth_link_get_nowait(g->port.port_id, &link) == 0 && link.link_status)
			return 0;
		rte_delay_ms(10);
	} while (!lg_quit && sl_now_ns() < deadline);
	return -ETIMEDOUT;
}

static void
tx_flush(struct lg *g)
{
	unsigned int sent = 0;

	for (int tries = 0; sent < g->n_tx && tries < 8; tries++)
		sent += rte_eth_tx_burst(g->port.port_id, 0, g->tx + sent,
					 (uint16_t)(g->n_tx - sent));
	g->st.tx_pkts += sent;
	g->st.tx_dropped += g->n_tx - sent;
	rte_pktmbuf_free_bulk(g->tx + sent, g->n_tx - sent);
	g->n_tx = 0;
}

static void
tx_queue(struct lg *g, struct rte_mbuf *m)
{
	g->tx[g->n_tx++] = m;
	if (g->n_tx == TX_BURST)
		tx_flush(g);
}

/* A fresh mbuf with room for len bytes of sluice payload; NULL when the pool is empty. */
struct rte_mbuf *
lg_udp_alloc(struct lg *g, uint16_t len, uint8_t **payload)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->port.pool);

	if (m == NULL) {
		g->st.tx_dropped++;
		return NULL;
	}
	*payload = (uint8_t *)rte_pktmbuf_append(m, len);
	return m;
}

void
lg_udp_send(struct lg *g, struct rte_mbuf *m, uint16_t len)
{
	if (dp_net_build_udp(&g->nif, m, &g->target_mac, g->o.target_ip, g->o.target_port, len,
			     g->ip_id++, 0) != 0) {
		rte_pktmbuf_free(m);
		g->st.tx_dropped++;
		return;
	}
	tx_queue(g, m);
}

void
lg_send_payload(struct lg *g, const void *msg, uint16_t len)
{
	uint8_t *p;
	struct rte_mbuf *m = lg_udp_alloc(g, len, &p);

	if (m == NULL)
		return;
	memcpy(p, msg, len);
	lg_udp_send(g, m, len);
}

static void
arp_request(struct lg *g)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->port.pool);

	if (m == NULL)
		return;
	if (dp_net_arp_request(&g->nif, m, g->o.target_ip) != 0) {
		rte_pktmbuf_free(m);
		return;
	}
	tx_queue(g, m);
}

/* An ARP packet for us: answer requests; learn the target's MAC. Frees m unless sent. */
static void
on_arp(struct lg *g, struct rte_mbuf *m, const struct dp_net_pkt *pkt)
{
	if (pkt->src_ip == g->o.target_ip) {
		g->target_mac = pkt->arp_sha;
		g->target_known = true;
	}
	if (pkt->arp_for_us && pkt->arp_op == RTE_ARP_OP_REQUEST &&
	    dp_net_arp_reply(&g->nif, m) == 0) {
		g->st.arp_replies++;
		tx_queue(g, m);
		return;
	}
	rte_pktmbuf_free(m);
}

/* --- receive -------------------------------------------------------------------------------- */

static void
on_sluice(struct lg *g, const uint8_t *p, size_t len, uint8_t type)
{
	switch (type) {
	case SL_MSG_IK_RESP:
		if (g->o.flood) {
			g->st.answers++;
			break;
		}
		lg_on_ik_resp(g, p, len);
		break;
	case SL_MSG_COOKIE:
		if (g->o.flood)
			lg_on_cookie_flood(g, p, len);
		else
			lg_on_cookie_sessions(g, p, len);
		break;
	case SL_MSG_DATA:
		lg_on_data(g, p, len);
		break;
	default:
		g->st.rx_other++;
		break;
	}
}

static unsigned int
rx_poll(struct lg *g)
{
	struct rte_mbuf *ms[RX_BURST];
	uint16_t n = rte_eth_rx_burst(g->port.port_id, 0, ms, RX_BURST);

	g->now = sl_now_ns();
	for (uint16_t i = 0; i < n; i++) {
		struct dp_net_pkt pkt;
		enum dp_drop_reason why;
		enum dp_net_kind k = dp_net_classify(&g->nif, ms[i], &pkt, &why);

		g->st.rx_pkts++;
		if (k == DP_NET_ARP) {
			on_arp(g, ms[i], &pkt);
			continue;
		}
		if (k == DP_NET_SLUICE && pkt.src_ip == g->o.target_ip)
			on_sluice(g,
				  rte_pktmbuf_mtod_offset(ms[i], const uint8_t *, pkt.payload_off),
				  pkt.payload_len, pkt.msg_type);
		else if (k == DP_NET_DROP)
			g->st.rx_drops++;
		else
			g->st.rx_other++;
		rte_pktmbuf_free(ms[i]);
	}
	return n;
}

/* --- phases --------------------------------------------------------------------------------- */

static int
resolve_target(struct lg *g)
{
	uint64_t deadline = sl_now_ns() + LINK_WAIT_NS, next = 0;

	while (!g->target_known && !lg_quit) {
		g->now = sl_now_ns();
		if (g->now >= deadline)
			return -EHOSTUNREACH;
		if (g->now >= next) {
			arp_request(g);
			next = g->now + ARP_RETRY_NS;
		}
		rx_poll(g);
		tx_flush(g);
	}
	return lg_quit ? -EINTR : 0;
}

static void
progress(struct lg *g, uint64_t *next)
{
	if (g->now < *next)
		return;
	*next = g->now + SEC;
	if (g->o.flood)
		fprintf(stderr,
			"loadgen: progress t=%.1f sent=%" PRIu64 " answered=%" PRIu64
			" cookies=%" PRIu64 " tx_dropped=%" PRIu64 "\n",
			lg_secs(g->now - g->t0), g->st.initiations, g->st.answers, g->st.cookies,
			g->st.tx_dropped);
	else
		fprintf(stderr,
			"loadgen: progress t=%.1f established=%" PRIu64
			" inflight=%u failed=%" PRIu64 " initiations=%" PRIu64 " cookies=%" PRIu64
			"\n",
			lg_secs(g->now - g->t0), g->st.established, g->n_flying, g->st.failed,
			g->st.initiations, g->st.cookies);
}

static void
idle_pause(unsigned int work)
{
	if (work == 0)
		rte_delay_us_sleep(50);
}

static int
run_sessions(struct lg *g)
{
	uint64_t next_progress = 0, last_check = 0, deadline;
	int rc = lg_sessions_alloc(g);

	if (rc != 0)
		return rc;
	g->t0 = g->now = sl_now_ns();
	deadline = g->t0 + g->o.setup_limit_ns;
	while (!lg_quit && g->st.established + g->st.failed < g->o.sessions && g->now < deadline) {
		unsigned int work = rx_poll(g);

		rc = lg_start_more(g);
		if (rc != 0)
			return rc;
		if (g->now - last_check >= MS) {
			lg_check_timeouts(g);
			last_check = g->now;
		}
		work += g->n_tx;
		tx_flush(g);
		progress(g, &next_progress);
		idle_pause(work + (g->n_flying < g->o.inflight && g->next_idx < g->o.sessions));
	}
	printf("loadgen: established=%" PRIu64 " failed=%" PRIu64
	       " seconds=%.3f handshakes_per_s=%.0f\n",
	       g->st.established, g->o.sessions - g->st.established, lg_secs(g->now - g->t0),
	       (double)g->st.established / RTE_MAX(lg_secs(g->now - g->t0), 1e-9));
	fflush(stdout);
	return 0;
}

/* Held sessions are idle: after HOLD_IDLE_ROUNDS rounds without a packet the loadgen wakes
 * only every HOLD_NAP_US. Every wake-up takes the core from whatever shares it (in the rig,
 * the appliance whose transfer is being measured); 50-us naps were 20,000 a second. */
#define HOLD_IDLE_ROUNDS 200
#define HOLD_NAP_US	 5000

static void
hold(struct lg *g)
{
	uint64_t end = g->o.hold_ns ? sl_now_ns() + g->o.hold_ns : UINT64_MAX;
	unsigned int idle = 0;

	while (!lg_quit && g->now < end) {
		unsigned int work = rx_poll(g);

		work += g->n_tx;
		tx_flush(g);
		idle = work != 0 ? 0 : idle + 1;
		if (idle > HOLD_IDLE_ROUNDS)
			rte_delay_us_sleep(HOLD_NAP_US);
		else
			idle_pause(work);
	}
}

static int
run_flood(struct lg *g)
{
	uint64_t next_progress = 0, end, drain_end, t_sent, tx0 = g->st.tx_pkts, sent;
	int rc;

	g->now = sl_now_ns();
	rc = lg_flood_alloc(g);
	if (rc != 0)
		return rc;
	g->t0 = g->now = sl_now_ns();
	end = g->t0 + g->o.flood_ns;
	while (!lg_quit && g->now < end) {
		unsigned int work = rx_poll(g);

		rc = lg_flood_send(g);
		if (rc < 0)
			return rc;
		tx_flush(g);
		progress(g, &next_progress);
		idle_pause(work + (unsigned int)rc); /* a capped flood leaves the core alone */
	}
	tx_flush(g);
	t_sent = g->now - g->t0;
	sent = g->st.tx_pkts - tx0; /* initiations the port took (ARP answers aside: rare) */
	drain_end = g->now + FLOOD_DRAIN_NS; /* late answers and cookies */
	while (!lg_quit && g->now < drain_end) {
		idle_pause(rx_poll(g) + g->n_tx);
		tx_flush(g);
	}
	printf("loadgen: flood sent=%" PRIu64 " answered=%" PRIu64 " cookies=%" PRIu64
	       " seconds=%.3f pps=%.0f\n",
	       sent, g->st.answers, g->st.cookies, lg_secs(t_sent),
	       (double)sent / RTE_MAX(lg_secs(t_sent), 1e-9));
	fflush(stdout);
	return 0;
}

static void
summary(const struct lg *g)
{
	const struct lg_stats *s = &g->st;

	printf("loadgen: summary mode=%s established=%" PRIu64 " failed=%" PRIu64
	       " initiations=%" PRIu64 " answers=%" PRIu64 " bad_answers=%" PRIu64
	       " cookies=%" PRIu64 " cookies_bad=%" PRIu64 " pings=%" PRIu64 " data_rx=%" PRIu64
	       " data_bad=%" PRIu64 " acks=%" PRIu64 " arp_replies=%" PRIu64 " rx_pkts=%" PRIu64
	       " rx_drops=%" PRIu64 " rx_other=%" PRIu64 " tx_pkts=%" PRIu64 " tx_dropped=%" PRIu64
	       " seconds=%.3f\n",
	       g->o.flood ? "flood" : "sessions", s->established, s->failed, s->initiations,
	       s->answers, s->bad_answers, s->cookies, s->cookies_bad, s->pings_sent, s->data_rx,
	       s->data_bad, s->acks_sent, s->arp_replies, s->rx_pkts, s->rx_drops, s->rx_other,
	       s->tx_pkts, s->tx_dropped, lg_secs(sl_now_ns() - g->t0));
	fflush(stdout);
}

/* --- main ----------------------------------------------------------------------------------- */

static int
setup(struct lg *g)
{
	int rc = port_up(g);

	if (rc != 0) {
		fprintf(stderr, "loadgen: port %s: %s\n", g->o.port_dev, strerror(-rc));
		return rc;
	}
	g->nif.mac = g->port.mac;
	g->nif.ip = g->o.ip;
	g->nif.prefix_len = g->o.prefix_len;
	g->nif.udp_port = g->o.udp_port;
	g->nif.mtu = 1500;
	if (!dp_net_on_link(&g->nif, g->o.target_ip)) {
		fprintf(stderr, "loadgen: the target is not on the subnet of --ip\n");
		return -EINVAL;
	}
	g->mgr = sl_aead_thread_mgr();
	if (g->mgr == NULL) {
		fprintf(stderr, "loadgen: no ipsec-mb manager\n");
		return -ENOMEM;
	}
	dp_key_limits_init(&g->lim);
	cp_mac1_key_peer(g->mac1_key, g->o.target_pub);
	cp_cookie_key_peer(g->cookie_key, g->o.target_pub);
	rc = resolve_target(g);
	if (rc != 0)
		fprintf(stderr, "loadgen: target %u.%u.%u.%u: no ARP reply\n", g->o.target_ip >> 24,
			(g->o.target_ip >> 16) & 255, (g->o.target_ip >> 8) & 255,
			g->o.target_ip & 255);
	return rc;
}

static int
run(struct lg *g)
{
	int rc = setup(g);

	if (rc != 0)
		return rc;
	if (g->o.flood)
		return run_flood(g);
	rc = run_sessions(g);
	if (rc == 0)
		hold(g);
	return rc;
}

static void
teardown(struct lg *g)
{
	tx_flush(g);
	lg_sessions_free(g);
	lg_flood_free(g);
	dp_keypair_thread_release();
	sl_aead_thread_mgr_release();
	drv_port_close(&g->port);
	sodium_memzero(g->mac1_key, sizeof(g->mac1_key));
	sodium_memzero(g->cookie_key, sizeof(g->cookie_key));
	sodium_memzero(&g->cookie, sizeof(g->cookie));
}

int
main(int argc, char **argv)
{
	static struct lg g;
	char *eal_argv[128], devarg[CONF_DEVICE_LEN + 8];
	int n_eal = 0, rc, status;

	while (n_eal < argc && strcmp(argv[n_eal], "--") != 0)
		n_eal++;
	if (n_eal + 1 >= argc) {
		bool help = argc == 2 && strcmp(argv[1], "--help") == 0;

		lg_usage(help ? stdout : stderr);
		return help ? 0 : 1;
	}
	rc = lg_parse_args(&g.o, argc - n_eal, argv + n_eal);
	if (rc != 0)
		return rc > 0 ? 0 : 1;
	if (sodium_init() < 0)
		return 1;
	rc = lg_eal_args(argv, n_eal, g.o.port_dev, eal_argv, RTE_DIM(eal_argv), devarg,
			 sizeof(devarg));
	if (rc < 0 || rte_eal_init(rc, eal_argv) < 0) {
		fprintf(stderr, "loadgen: EAL initialisation failed\n");
		return 1;
	}
	sl_clock_init();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	g.t0 = sl_now_ns();
	rc = run(&g);
	/* a signal is a clean stop, whatever was done by then */
	status = rc != 0 && rc != -EINTR ? 1 : 0;
	if (status == 0 && !lg_quit && !g.o.flood && g.st.established < g.o.sessions)
		status = EXIT_INCOMPLETE;
	summary(&g);
	teardown(&g);
	rte_eal_cleanup();
	return status;
}
