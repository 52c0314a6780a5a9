/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the control thread's configuration — defaults, what a validated conf gives it (the
 * handshake's identity, addresses, capabilities and channel set; limits; peers), and the check
 * cp_ctl_create() makes (see cp_ctl.h). Seeds are discovery's to dial (cp_discovery.c), only
 * while its address book has nothing better.
 */
#include <string.h>

#include "cp_ctl_pvt.h"
#include "sl_lru.h"

#define SEC 1000000000ull

void
cp_ctl_config_defaults(struct cp_ctl_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->hs.version = SL_PROTO_VERSION;
	cfg->hs.min_version = SL_PROTO_MIN_VERSION;
	cfg->hs.tstamp_capacity = 4096;
	cfg->hs.cookie_max_age_ns = SL_COOKIE_ROTATE_NS;
	cfg->suite = SL_SUITE_AESGCM_SHA256;
	cfg->n_lcores = 1;
	cfg->slots_per_lcore = 1024;
	cfg->max_sessions = 1024;
	cfg->max_pending_xx = 1024;
	cfg->max_addr_dials = 64;
	cfg->handshake_timeout_ns = 5 * SEC;
	cfg->retry_ns = SEC;
	cfg->backoff_min_ns = SEC;
	cfg->backoff_max_ns = 60 * SEC;
	cfg->resume_cache = SL_RESUME_CACHE_DEFAULT;
	cfg->resume_lifetime_ns = SL_RESUME_LIFETIME_NS;
	cp_admission_config_defaults(&cfg->admission);
}

/* The engine's channels as a handshake payload carries them: both sides must have the same. */
static void
chanset_from_conf(struct cp_hs_config *hs, const struct dp_conn_config *e)
{
	hs->chan_used = hs->chan_datagram = 0;
	for (unsigned int i = 0; i < e->n_channels && i < SL_MAX_CHANNELS; i++) {
		if (e->chan[i].kind == DP_CHAN_UNUSED)
			continue;
		hs->chan_used |= (uint16_t)(1u << i);
		if (e->chan[i].kind == DP_CHAN_DATAGRAM)
			hs->chan_datagram |= (uint16_t)(1u << i);
	}
}

void
cp_ctl_config_from_conf(struct cp_ctl_config *cfg, const struct conf *c,
			const uint8_t static_priv[SL_KEY_LEN])
{
	cp_ctl_config_defaults(cfg);
	memcpy(cfg->hs.static_priv, static_priv, SL_KEY_LEN);
	cfg->hs.network_id = c->network_id;
	cfg->hs.n_addrs = (uint8_t)RTE_MIN(c->n_ports, (unsigned int)SL_HS_MAX_ADDRS);
	for (unsigned int i = 0; i < cfg->hs.n_addrs; i++) {
		cfg->hs.addrs[i].ip = c->ports[i].ipv4;
		cfg->hs.addrs[i].port = c->ports[i].udp_port;
	}
	chanset_from_conf(&cfg->hs, &c->engine);
	cfg->hs.tstamp_capacity = RTE_MAX(4096u, c->limits.max_sessions);
	cfg->suite = c->suite;
	cfg->n_lcores = c->n_lcores;
	cfg->max_sessions = c->limits.max_sessions;
	cfg->slots_per_lcore = RTE_MIN(c->limits.max_sessions, SL_CONNID_MAX_SLOTS);
	cfg->max_pending_xx = RTE_MAX(16u, c->limits.max_sessions / 16);
	cfg->handshake_timeout_ns = c->limits.handshake_timeout_ns;
	/* a fresh initiation every second, or within a shorter handshake timeout (the
	 * configuration allows 100 ms and up) */
	cfg->retry_ns = RTE_MIN(cfg->retry_ns, cfg->handshake_timeout_ns);
	cfg->resume_cache = c->limits.resume_cache;
	cfg->resume_lifetime_ns = c->limits.resume_lifetime_ns;
	cfg->admission.rate.per_sec = c->limits.handshakes_per_sec;
	cfg->admission.rate.burst = c->limits.handshake_burst;
	cfg->n_peers = c->n_peers;
	cfg->peers = c->peers;
	cfg->peers_only = c->peers_only;
	if (c->discovery.enabled && !c->discovery.inbound_open) {
		cfg->n_inbound_allow = c->discovery.n_inbound_allow;
		cfg->inbound_allow = (const uint8_t(*)[SL_KEY_LEN])c->discovery.inbound_allow;
	}
	/* with a discovery section, this node answers address requests (peer exchange) */
	cfg->hs.capabilities = c->discovery.enabled ? SL_CAP_PEX : 0;
	if (c->relay.enabled)
		cfg->hs.capabilities |= SL_CAP_RELAY;
}

const char *
cp_ctl_config_problem(const struct cp_ctl_config *cfg)
{
	if (cfg->n_lcores == 0 || cfg->n_lcores > CONF_MAX_LCORES)
		return "n_lcores";
	if (cfg->slots_per_lcore == 0 || cfg->slots_per_lcore > SL_CONNID_MAX_SLOTS)
		return "slots_per_lcore";
	if (cfg->max_sessions == 0 || cfg->max_addr_dials == 0 || cfg->n_peers > CONF_MAX_PEERS ||
	    (cfg->n_peers > 0 && cfg->peers == NULL))
		return "sessions / peers";
	if (cfg->retry_ns == 0 || cfg->handshake_timeout_ns < cfg->retry_ns ||
	    cfg->backoff_min_ns == 0 || cfg->backoff_max_ns < cfg->backoff_min_ns)
		return "timers";
	if (cfg->n_inbound_allow > CONF_MAX_INBOUND_ALLOW ||
	    (cfg->n_inbound_allow > 0 && cfg->inbound_allow == NULL))
		return "inbound_allow";
	if (cfg->resume_cache > SL_LRU_MAX_CAPACITY)
		return "resume_cache";
	if (cp_hs_suite_aead(cfg->suite) == SL_AEAD_NONE)
		return "suite";
	return NULL;
}
