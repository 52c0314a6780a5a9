/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the appliance configuration — what a JSON configuration file says, validated.
 *
 * conf_load() parses a file (conf_parse() a text) with jansson and checks it completely before
 * anything is applied: syntax errors carry file:line:column; schema errors name the JSON path
 * (`peers[2].endpoint`) and what was expected; unknown and duplicate keys are errors. Every
 * problem is reported, not only the first. A configuration that fails validation is never
 * returned. Lines whose first non-blank characters are `//` are comments (the example
 * configurations in conf/ use them); they are blanked before parsing, so positions still match
 * the file.
 *
 * The reference for every key, its default and its range is docs/configuration.md.
 *
 * Main thread only (startup and --check-config). No DPDK dependency.
 */
#ifndef CONF_H
#define CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_conn.h"
#include "dp_svc.h"
#include "sl_limits.h"

#define CONF_MAX_PORTS    8
#define CONF_MAX_LCORES   16
#define CONF_MAX_RXQ      16 /* rx queues an lcore polls */
#define CONF_MAX_PEERS    256
#define DP_SVC_MAX 16
#define CONF_MAX_EAL_ARGS 16
#define CONF_NAME_LEN     32
#define CONF_PATH_LEN     256
#define CONF_DEVICE_LEN   256
#define CONF_MAX_OUTAGES  64 /* ports[].impair.outages */
#define CONF_OUTAGE_MAX_MS 86400000u /* a day: outage times and lengths */

/* One problem found in a configuration. */
struct conf_error {
	char where[128];   /* "file:line:col" for syntax, the JSON path for schema errors */
	char message[256]; /* what is wrong and what was expected */
};

#define CONF_MAX_ERRORS 32

#define CONF_MAX_WARNINGS 4

/* Everything conf_load() found wrong, and what it accepted but the operator should fix. Text
 * that came from the file (keys, values) is escaped (sl_escape.h): safe to print. */
struct conf_errors {
	unsigned int n;    /* problems found (only the first CONF_MAX_ERRORS are kept) */
	struct conf_error e[CONF_MAX_ERRORS];
	unsigned int n_warnings; /* kept: at most CONF_MAX_WARNINGS */
	struct conf_error w[CONF_MAX_WARNINGS];
};

struct conf_eal {
	char cores[64];         /* EAL -l list, e.g. "0" or "0,1" (default "0") */
	uint32_t memory_mb;     /* -m (default 256) */
	char file_prefix[64];   /* --file-prefix (default "sluice") */
	bool huge;              /* false (default): --no-huge; true: use hugepages */
	bool pci;               /* false (default): --no-pci */
	unsigned int n_extra;
	char extra[CONF_MAX_EAL_ARGS][128]; /* more EAL arguments, passed as they are */
};

/* One outage of a port's link: from after_ms after the port started, for for_ms. */
struct conf_outage {
	uint32_t after_ms, for_ms;
};

struct conf_impair {
	bool enabled;
	uint64_t seed;
	double loss, reorder, duplicate, corrupt; /* probabilities 0..1, per received packet */
	unsigned int n_outages;			  /* sorted, none overlapping the next */
	struct conf_outage outages[CONF_MAX_OUTAGES];
};

struct conf_port {
	char name[CONF_NAME_LEN];
	char device[CONF_DEVICE_LEN]; /* PCI address, or a vdev string "net_memif0,role=..." */
	uint32_t ipv4;                /* host order */
	uint8_t prefix_len;           /* 0..32 */
	uint32_t gateway;             /* host order; 0: none (peers must be on-link) */
	uint16_t udp_port;            /* default 4789 */
	uint16_t mtu;                 /* default 1500 (576..9000) */
	uint16_t rx_queues, tx_queues; /* default 1; tx queues cover every lcore that sends */
	uint16_t rx_desc, tx_desc;    /* default 1024 */
	uint32_t mbufs;               /* pool size (default 8191) */
	struct conf_impair impair;    /* tests: loss, reordering, duplication, corruption */
};

enum conf_idle {
	CONF_IDLE_ADAPTIVE, /* pause, then short sleeps when idle (default) */
	CONF_IDLE_BUSY,     /* poll without rest (dedicated cores) */
};

struct conf_rxq {
	uint8_t port; /* index into ports[] */
	uint16_t queue;
};

struct conf_lcore {
	unsigned int lcore; /* EAL lcore id */
	unsigned int n_rx;
	struct conf_rxq rx[CONF_MAX_RXQ];
	enum conf_idle idle;
};

struct conf_limits {
	uint32_t max_message;         /* default 1 MiB, up to SL_MAX_MESSAGE */
	uint32_t queue_bytes;         /* per channel, default 8 MiB */
	uint32_t window_bytes;        /* receive window per channel, default 4 MiB */
	uint32_t unsent_bytes;        /* per channel, never sent yet; default 256 KiB, 0: off */
	uint64_t handshake_timeout_ns; /* default 5 s */
	uint64_t idle_timeout_ns;     /* default 30 s */
	uint64_t keepalive_ns;        /* default 10 s */
	uint64_t rekey_after_ns;      /* default 120 s (10..150 s: keys die at 180 s) */
	uint32_t max_sessions;        /* per appliance, default 65536 */
	uint32_t handshakes_per_sec;  /* per source, default 20 */
	uint32_t handshake_burst;     /* default 5 */
	uint32_t resume_cache;        /* node ids whose resumption secret is kept; 0: off */
	uint64_t resume_lifetime_ns;  /* default 600 s */
};

struct conf_peer {
	char name[CONF_NAME_LEN];
	uint8_t pub[SL_KEY_LEN];
	uint32_t ip;   /* host order */
	uint16_t port;
	bool persistent;    /* default true: redialled whenever its session ends */
	bool unconditional; /* default false: exempt from discovery's inbound/outbound caps */
	/* "via": reached only through a relay, peers[via] (which has an endpoint); then ip and
	 * port are 0 unless an endpoint is given too (it is not dialled directly either way) */
	bool has_via;
	uint16_t via;
	bool relay_reserve; /* default false: keep a reservation at this peer, a relay */
	char via_name[CONF_NAME_LEN]; /* as written, until conf_relay() resolves it */
};

#define CONF_MAX_SEEDS	       64
#define CONF_MAX_INBOUND_ALLOW 256

/* A seed: an address to start from, with the node's key or without ("ip:port": Noise XX). */
struct conf_seed {
	uint8_t pub[SL_KEY_LEN]; /* when has_key (first: 4-byte aligned, as hash keys want) */
	uint32_t ip;		 /* host order */
	uint16_t port;
	bool has_key;
};

/* Address classes peer exchange may accept besides routable ones (discovery.pex.allow). */
#define CONF_PEX_ALLOW_PRIVATE	 0x1u /* 10/8, 172.16/12, 192.168/16, 100.64/10, 169.254/16 */
#define CONF_PEX_ALLOW_BENCHMARK 0x2u /* 198.18.0.0/15 */
#define CONF_PEX_ALLOW_LOOPBACK	 0x4u /* 127/8 */

struct conf_pex {
	uint32_t interval_s; /* at most one address request per peer this often (default 30) */
	uint32_t max_addrs;  /* addresses in one answer (default 64, <= SL_PEX_MAX_ADDRS) */
	uint32_t allow;	     /* CONF_PEX_ALLOW_* (default none: routable addresses only) */
};

/* Finding peers (docs/configuration.md, discovery). Absent: enabled false, and the node
 * behaves as before the section existed (configured peers only, no capability bits). */
struct conf_discovery {
	bool enabled; /* the section is there */
	unsigned int n_seeds;
	struct conf_seed seeds[CONF_MAX_SEEDS];
	bool seed_mode;		  /* crawl and answer address requests, keep no sessions */
	char book[CONF_PATH_LEN]; /* the address book file; "": in memory only */
	uint32_t save_interval_s; /* default 60 */
	uint32_t max_inbound;	  /* default 32 */
	uint32_t max_outbound;	  /* default 8: the outbound target */
	bool inbound_open;	  /* default true; false: only inbound_allow[] may dial us */
	unsigned int n_inbound_allow;
	uint8_t inbound_allow[CONF_MAX_INBOUND_ALLOW][SL_KEY_LEN];
	struct conf_pex pex;
};

#define CONF_MAX_RELAY_ALLOW 256

/* Relaying for others (docs/configuration.md, "relay"; docs/protocol.md, section 17). Absent
 * or "enabled": false, the node relays for nobody (it can still use relays: peers' "via"). */
struct conf_relay {
	bool enabled;
	uint32_t max_circuits;		/* default 64, 1..65536 */
	uint32_t max_circuits_per_node; /* default 8: circuits one node may have asked for */
	uint32_t max_reservations;	/* default 64 */
	uint32_t circuit_seconds;	/* default 3600; 0: no time limit */
	uint64_t circuit_bytes;		/* per direction, default 1 GiB; 0: no byte limit */
	unsigned int n_allow;		/* 0: any node may reserve and ask for circuits */
	uint8_t allow[CONF_MAX_RELAY_ALLOW][SL_KEY_LEN];
};

#define CONF_MAX_APPS 64 /* attached applications at once (DP_API_MAX_APPS) */

/* Where applications attach (docs/api.md). */
struct conf_api {
	bool enabled;	  /* the section is there: the control socket is made */
	char socket[108]; /* absolute path of the control socket */
	uint32_t mode;	  /* its permission bits (default 0660; never for others) */
	bool has_group;
	uint32_t gid;	   /* its group (default: the process's) */
	uint32_t max_apps; /* default 16 */
};

struct conf {
	char path[CONF_PATH_LEN];     /* the file it came from */
	char key_file[CONF_PATH_LEN]; /* identity.key_file, relative paths resolved from the file */
	char network[64];             /* network name; network_id is derived from it */
	uint64_t network_id;
	uint8_t suite;                /* SL_SUITE_* for initiations (default AESGCM_SHA256) */
	struct conf_eal eal;
	unsigned int n_ports;
	struct conf_port ports[CONF_MAX_PORTS];
	unsigned int n_lcores;
	struct conf_lcore lcores[CONF_MAX_LCORES];
	struct conf_limits limits;
	struct dp_conn_config engine; /* channels and engine limits, ready for dp_conn_create() */
	unsigned int n_peers;
	struct conf_peer peers[CONF_MAX_PEERS];
	struct dp_svc_config services; /* the built-in services, ready for dp_svc_init() */
	bool telemetry; /* default true */
	/* default false: any node of the network that knows our key may start a session; true:
	 * only configured peers, discovery.inbound's keys and nodes we dial (cp_ctl.h) */
	bool peers_only;
	struct conf_api api;
	struct conf_discovery discovery;
	struct conf_relay relay;
};

/* Parse and validate path. Returns a new configuration, or NULL with every problem in *errs
 * (errs may be NULL). Never partially applied. */
struct conf *conf_load(const char *path, struct conf_errors *errs);

/* The same for a configuration's text: len bytes of text (need not be NUL-terminated; a NUL
 * inside is a syntax error), named `name` — what syntax errors call the file, the path stored in
 * conf->path, and the directory a relative identity.key_file is resolved from. conf_load() is
 * this on the file's contents, after checking the file itself (kind, mode, size). */
struct conf *conf_parse(const char *name, const char *text, size_t len, struct conf_errors *errs);
void conf_free(struct conf *c);

/* Print every problem, one per line: "<where>: <message>", then every warning:
 * "<where>: warning: <message>". */
void conf_errors_print(const struct conf_errors *errs, void *stream /* FILE * */);

/* Key files: 32 raw key bytes as base64 (44 characters) and a newline, like `wg genkey`.
 * conf_read_key() refuses files readable by group or others. Return 0 or -errno (-EPERM for a
 * permission problem, -EINVAL for bad contents); *why (may be NULL) says what.
 * conf_read_key(): -EPERM also for anything but a regular file; the newline is optional.
 * conf_write_key(): creates the file with mode 0600 and never replaces one (-EEXIST). */
int conf_read_key(const char *path, uint8_t key[SL_KEY_LEN], const char **why);
int conf_write_key(const char *path, const uint8_t key[SL_KEY_LEN]);

/* The identity a loaded configuration names: read identity.key_file into priv and check it
 * against the configuration (no peer or keyed seed may be this node: same public key; nor may
 * the inbound allow-list name it). 0, or -errno with
 * every problem in *errs (errs may be NULL): the key file's resolved path and why it cannot be
 * used (missing, permissions, not a regular file, contents, with the system's reason where
 * there is one), or the peer that has our key. priv is zeroed on failure. Main thread only;
 * `--check-config` and the start of the appliance both call it. */
int conf_check_identity(const struct conf *c, uint8_t priv[SL_KEY_LEN], struct conf_errors *errs);

/* Base64 of a 32-byte key (44 characters + NUL) and back (0 or -EINVAL). */
void conf_key_to_base64(const uint8_t key[SL_KEY_LEN], char out[45]);
int conf_key_from_base64(const char *in, uint8_t key[SL_KEY_LEN]);

/* The network id of a network name: the first 8 bytes of BLAKE2b-256(name), big-endian. */
uint64_t conf_network_id(const char *name);

#endif /* CONF_H */
