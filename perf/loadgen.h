/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: loadgen's shared state (perf/loadgen.c: port, main loop; perf/loadgen_opts.c: the
 * command line; perf/loadgen_hs.c: the sessions' handshakes and data packets, and the flood).
 * One thread: the EAL main lcore.
 */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "conf.h"
#include "cp_admission.h"
#include "cp_handshake.h"
#include "dp_keypair.h"
#include "dp_net.h"
#include "drv_port.h"

#define MS		1000000ull
#define SEC		1000000000ull
#define TX_BURST	32
#define RX_BURST	32
#define MAX_INFLIGHT	4096
#define FLOOD_RING	65536 /* mac1s of recent flood initiations, by sender id */
#define FLOOD_ID_BIT	0x80000000u
#define EXIT_INCOMPLETE 3
#define ARP_RETRY_NS	(200 * MS)
#define LINK_WAIT_NS	(15 * SEC)
#define FLOOD_DRAIN_NS	(500 * MS)
#define PLAIN_MAX	256

struct lg_opts {
	const char *port_dev, *network;
	uint32_t ip, target_ip; /* host order */
	uint8_t prefix_len;
	uint16_t udp_port, target_port;
	uint8_t target_pub[SL_KEY_LEN];
	uint8_t suite;
	uint32_t sessions, inflight, retries, mbufs;
	uint64_t timeout_ns, setup_limit_ns, hold_ns, flood_ns;
	uint64_t rate;
	bool flood, replay;
};

enum lg_state { LG_IDLE, LG_HANDSHAKE, LG_CONFIRM, LG_UP, LG_FAILED };

/* One handshake in progress; 64-byte aligned (cp_hs_pending holds key schedules). */
struct lg_flight {
	struct cp_hs_pending hs;
	struct cp_hs_ctx *ctx;
	uint32_t idx; /* session, UINT32_MAX when free */
	uint64_t deadline_ns;
};

struct lg_sess {
	uint8_t priv[SL_KEY_LEN];
	struct dp_keypair *kp;	 /* once the handshake completed */
	struct lg_flight *fl;	 /* while in progress */
	uint64_t ack_lo, ack_hi; /* received packet numbers, one range (valid once acked) */
	uint8_t state, attempts;
	bool acked;
};

struct lg_stats {
	uint64_t rx_pkts, tx_pkts, tx_dropped, rx_drops, rx_other, arp_replies;
	uint64_t initiations, answers, bad_answers, cookies, cookies_bad, refused;
	uint64_t data_rx, data_bad, acks_sent, pings_sent, established, failed;
};

struct lg {
	struct lg_opts o;
	struct conf_port pcfg;
	struct drv_port port;
	struct dp_net_if nif;
	struct rte_ether_addr target_mac;
	bool target_known;
	struct rte_mbuf *tx[TX_BURST];
	unsigned int n_tx;
	uint16_t ip_id;
	IMB_MGR *mgr;
	struct dp_key_limits lim;
	struct cp_cookie cookie; /* the appliance's latest cookie for our address */
	uint8_t mac1_key[SL_KEY_LEN], cookie_key[SL_KEY_LEN];
	uint64_t now, t0;
	struct lg_stats st;
	/* sessions mode */
	struct lg_sess *sess;
	struct lg_flight *flights;
	uint32_t n_flying, next_idx;
	struct cp_hs_pending *scratch;
	/* flood mode */
	struct cp_hs_ctx **ctxs;
	struct sl_msg_ik_init *pool;
	uint8_t (*ring)[SL_MAC_LEN];
	uint32_t *ring_id;
	uint64_t flood_seq;
	/* initiations allowed by --rate so far */
	double tokens;
	uint64_t tokens_ns;
};

extern volatile sig_atomic_t lg_quit; /* SIGINT / SIGTERM */

/* loadgen.c */
uint64_t lg_wall_ns(void);
double lg_secs(uint64_t ns);
struct rte_mbuf *lg_udp_alloc(struct lg *g, uint16_t len, uint8_t **payload);
void lg_udp_send(struct lg *g, struct rte_mbuf *m, uint16_t len);
void lg_send_payload(struct lg *g, const void *msg, uint16_t len);

/* loadgen_opts.c */
void lg_usage(FILE *f);
/* Options after "--" (argv[0] is the "--"). Returns 0, 1 for --help (done), or -EINVAL with a
 * message printed. */
int lg_parse_args(struct lg_opts *o, int argc, char **argv);
/* EAL arguments: ours up to "--", then the device. Returns argc or -ENOSPC. */
int lg_eal_args(char **argv, int n_eal, const char *dev, char **out, int max, char *buf,
		size_t len);

/* loadgen_hs.c */
bool lg_rate_take(struct lg *g);
void lg_on_data(struct lg *g, const uint8_t *pkt, size_t len);
void lg_on_ik_resp(struct lg *g, const uint8_t *msg, size_t len);
void lg_on_cookie_sessions(struct lg *g, const uint8_t *msg, size_t len);
void lg_check_timeouts(struct lg *g);
int lg_start_more(struct lg *g);
int lg_sessions_alloc(struct lg *g);
void lg_sessions_free(struct lg *g);
int lg_flood_alloc(struct lg *g);
void lg_flood_free(struct lg *g);
void lg_on_cookie_flood(struct lg *g, const uint8_t *msg, size_t len);
int lg_flood_send(struct lg *g); /* initiations sent (a burst at most), or -errno */

#endif /* LOADGEN_H */
