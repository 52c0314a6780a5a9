/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the network sections of a configuration — ports (devices, addresses, queues, the
 * impairment stage and its outages) and peers (keys and endpoints). See conf_pvt.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "conf_pvt.h"
#include "sl_dh.h"

/* --- addresses ----------------------------------------------------------------------------- */

/* A decimal number of at most max without leading zeros at s; the end, or NULL. */
static const char *
parse_dec(const char *s, unsigned int max, unsigned int *out)
{
	unsigned int n = 0;
	const char *p = s;

	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return NULL;
	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (unsigned int)(*p++ - '0');
		if (n > max)
			return NULL;
	}
	*out = n;
	return p;
}

const char *
conf_parse_ipv4(const char *s, uint32_t *ip)
{
	unsigned int octet;

	*ip = 0;
	for (int i = 0; i < 4; i++) {
		if (i > 0 && *s++ != '.')
			return NULL;
		s = parse_dec(s, 255, &octet);
		if (s == NULL)
			return NULL;
		*ip = *ip << 8 | octet;
	}
	return s;
}

const char *
conf_ipv4_str(uint32_t ip, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
	return buf;
}

static uint32_t
prefix_mask(unsigned int len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

/* NULL if ip can be a unicast host address, else why not. */
static const char *
not_a_host(uint32_t ip)
{
	if (ip >> 24 == 0)
		return "is in 0.0.0.0/8 (\"this network\")";
	if (ip >> 24 == 127)
		return "is a loopback address";
	if (ip >> 28 == 0xe)
		return "is a multicast address";
	if (ip >> 28 == 0xf)
		return "is a reserved or broadcast address";
	return NULL;
}

/* NULL if ip is a usable host of subnet/len, else why not. */
static const char *
not_a_subnet_host(uint32_t ip, uint32_t subnet, unsigned int len)
{
	uint32_t mask = prefix_mask(len);

	if ((ip & mask) != (subnet & mask))
		return "is outside the port's subnet";
	if (len <= 30 && (ip & ~mask) == 0)
		return "is the subnet's network address";
	if (len <= 30 && (ip & ~mask) == ~mask)
		return "is the subnet's broadcast address";
	return not_a_host(ip);
}

/* --- ports --------------------------------------------------------------------------------- */

int
conf_port_index(const struct conf *c, const char *name)
{
	for (unsigned int i = 0; i < c->n_ports; i++) {
		if (strcmp(c->ports[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

/* "ipv4": "a.b.c.d/len" */
static bool
port_ipv4(struct conf_ctx *x, const json_t *v, const char *path, struct conf_port *p)
{
	char where[CONF_WHERE_LEN], s[32];
	const char *end, *why;
	unsigned int len;

	conf_path_key(where, path, "ipv4");
	if (conf_member(x, v, path, "ipv4", "a string \"a.b.c.d/len\"") == NULL ||
	    !conf_opt_string(x, v, path, "ipv4", sizeof(s) - 1, s, sizeof(s)))
		return false;
	end = conf_parse_ipv4(s, &p->ipv4);
	if (end == NULL || *end != '/' || (end = parse_dec(end + 1, 99, &len)) == NULL ||
	    *end != '\0') {
		conf_error(x, where,
			   "\"%s\" is not an address with a prefix length (expected "
			   "\"a.b.c.d/len\", like \"198.18.0.1/24\")",
			   s);
		goto bad;
	}
	if (len < 1 || len > 32) {
		conf_error(x, where, "prefix length %u is out of range 1..32", len);
		goto bad;
	}
	p->prefix_len = (uint8_t)len;
	why = not_a_subnet_host(p->ipv4, p->ipv4, len);
	if (why != NULL) {
		conf_error(x, where, "%s %s", s, why);
		goto bad;
	}
	return true;
bad:
	p->ipv4 = 0;
	p->prefix_len = 0;
	return false;
}

/* "gateway": "a.b.c.d", inside the port's subnet */
static void
port_gateway(struct conf_ctx *x, const json_t *v, const char *path, struct conf_port *p)
{
	char where[CONF_WHERE_LEN], s[32], net[16];
	const char *end, *why;

	conf_path_key(where, path, "gateway");
	if (json_object_get(v, "gateway") == NULL ||
	    !conf_opt_string(x, v, path, "gateway", sizeof(s) - 1, s, sizeof(s)))
		return;
	end = conf_parse_ipv4(s, &p->gateway);
	if (end == NULL || *end != '\0') {
		conf_error(x, where, "\"%s\" is not an IPv4 address (expected \"a.b.c.d\")", s);
		p->gateway = 0;
		return;
	}
	why = not_a_subnet_host(p->gateway, p->ipv4, p->prefix_len);
	if (why == NULL && p->gateway == p->ipv4)
		why = "is the port's own address";
	if (why != NULL) {
		conf_error(x, where, "%s %s %s/%u", s, why,
			   conf_ipv4_str(p->ipv4 & prefix_mask(p->prefix_len), net), p->prefix_len);
		p->gateway = 0;
	}
}

/* NULL if s is a MAC address a port may have ("aa:bb:cc:dd:ee:ff", unicast, not all zero),
 * else why not. DPDK would log a parse failure and give the port a random address. */
static const char *
bad_mac(const char *s, size_t len)
{
	unsigned int b[6], n = 0;
	char tail;

	if (len != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
				&b[5], &tail) != 6)
		return "is not a MAC address (aa:bb:cc:dd:ee:ff)";
	for (unsigned int i = 0; i < 17; i++)
		n += i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]);
	if (n != 0)
		return "is not a MAC address (aa:bb:cc:dd:ee:ff)";
	if (b[0] & 1)
		return "is a multicast MAC address: a port's address must be unicast";
	if ((b[0] | b[1] | b[2] | b[3] | b[4] | b[5]) == 0)
		return "is the all-zero MAC address";
	return NULL;
}

/* The device arguments sluice can check before DPDK sees them: a MAC address (mac=), and a
 * memif socket name that fits a socket address (DPDK would cut it, and two long names that
 * differ only past the cut would meet on one socket). */
static void
device_args(struct conf_ctx *x, const char *where, const char *dev)
{
	const size_t sun_max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
	bool memif = strncmp(dev, "net_memif", 9) == 0, tap = strncmp(dev, "net_tap", 7) == 0;
	const char *a = strchr(dev, ','), *why;

	for (; a != NULL; a = strchr(a, ',')) {
		size_t len;

		a++;
		len = strcspn(a, ",");
		if (strncmp(a, "mac=", 4) == 0 &&
		    !(tap && len == 9 && strncmp(a, "mac=fixed", 9) == 0)) {
			why = bad_mac(a + 4, len - 4);
			if (why != NULL)
				conf_error(x, where, "mac=%.*s %s", (int)(len - 4), a + 4, why);
		}
		if (memif && strncmp(a, "socket=", 7) == 0 && len - 7 > sun_max)
			conf_error(x, where,
				   "the memif socket name is %zu characters long, at most %zu (a "
				   "socket address holds no more)",
				   len - 7, sun_max);
	}
}

/* "device": a PCI address or a vdev string; the name before the first ',' is unique. */
static void
port_device(struct conf_ctx *x, const json_t *v, const char *path, unsigned int i)
{
	struct conf_port *p = &x->c->ports[i];
	size_t len;
	char where[CONF_WHERE_LEN];

	if (conf_member(x, v, path, "device", "a DPDK device string") == NULL ||
	    !conf_opt_string(x, v, path, "device", sizeof(p->device) - 1, p->device,
			     sizeof(p->device)))
		return;
	conf_path_key(where, path, "device");
	if (strpbrk(p->device, " \t") != NULL) {
		conf_error(x, where, "must not contain spaces");
		return;
	}
	device_args(x, where, p->device);
	len = strcspn(p->device, ",");
	for (unsigned int j = 0; j < i; j++) {
		const char *o = x->c->ports[j].device;

		if (strcspn(o, ",") == len && strncmp(o, p->device, len) == 0) {
			conf_error(x, where, "device %.*s is already used by ports[%u]", (int)len,
				   p->device, j);
			return;
		}
	}
}

/* outages[i]: { "after_ms", "for_ms" }, starting after outages[i - 1] ended */
static void
impair_outage(struct conf_ctx *x, const json_t *v, const char *path, struct conf_impair *im,
	      unsigned int i)
{
	static const char *const keys[] = { "after_ms", "for_ms", NULL };
	struct conf_outage *o = &im->outages[i];
	char where[CONF_WHERE_LEN];
	bool after, len;

	if (!conf_is(x, v, path, JSON_OBJECT))
		return;
	conf_check_keys(x, v, path, keys);
	after = conf_member(x, v, path, "after_ms", "an integer (ms after the port started)") &&
		conf_opt_u32(x, v, path, "after_ms", 0, CONF_OUTAGE_MAX_MS, &o->after_ms);
	len = conf_member(x, v, path, "for_ms", "an integer (the outage's length in ms)") &&
	      conf_opt_u32(x, v, path, "for_ms", 1, CONF_OUTAGE_MAX_MS, &o->for_ms);

	if (after && len && i > 0 &&
	    (uint64_t)o->after_ms < (uint64_t)o[-1].after_ms + o[-1].for_ms)
		conf_error(x, conf_path_key(where, path, "after_ms"),
			   "%u is before the end of the outage before it (%u + %u ms): outages "
			   "are in order and do not overlap",
			   o->after_ms, o[-1].after_ms, o[-1].for_ms);
}

static void
impair_outages(struct conf_ctx *x, const json_t *v, const char *path, struct conf_impair *im)
{
	char where[CONF_WHERE_LEN], item[CONF_WHERE_LEN];

	v = json_object_get(v, "outages");
	conf_path_key(where, path, "outages");
	if (v == NULL || !conf_array(x, v, where, 0, CONF_MAX_OUTAGES))
		return;
	im->n_outages = (unsigned int)json_array_size(v);
	for (unsigned int i = 0; i < im->n_outages; i++)
		impair_outage(x, json_array_get(v, i), conf_path_index(item, where, i), im, i);
}

/* "impair": { "seed", "loss", "reorder", "duplicate", "corrupt", "outages" } */
static void
port_impair(struct conf_ctx *x, const json_t *v, const char *path, struct conf_impair *im)
{
	static const char *const keys[] = {
		"seed", "loss", "reorder", "duplicate", "corrupt", "outages", NULL
	};
	char where[CONF_WHERE_LEN];

	v = json_object_get(v, "impair");
	conf_path_key(where, path, "impair");
	if (v == NULL || !conf_is(x, v, where, JSON_OBJECT))
		return;
	im->enabled = true;
	conf_check_keys(x, v, where, keys);
	conf_opt_uint(x, v, where, "seed", 0, INT64_MAX, &im->seed);
	conf_opt_number(x, v, where, "loss", 0, 1, &im->loss);
	conf_opt_number(x, v, where, "reorder", 0, 1, &im->reorder);
	conf_opt_number(x, v, where, "duplicate", 0, 1, &im->duplicate);
	conf_opt_number(x, v, where, "corrupt", 0, 1, &im->corrupt);
	impair_outages(x, v, where, im);
}

/* rx/tx descriptor rings: a power of two in 64..4096 */
static void
port_desc(struct conf_ctx *x, const json_t *v, const char *path, const char *key, uint16_t *n)
{
	char where[CONF_WHERE_LEN];

	if (conf_opt_u16(x, v, path, key, 64, 4096, n) && (*n & (*n - 1)) != 0)
		conf_error(x, conf_path_key(where, path, key), "%u is not a power of two", *n);
}

static void
port_defaults(struct conf_port *p)
{
	p->udp_port = 4789;
	p->mtu = SL_ETH_MTU;
	p->rx_queues = p->tx_queues = 1;
	p->rx_desc = p->tx_desc = 1024;
	p->mbufs = 8191;
}

static void
port_name(struct conf_ctx *x, const json_t *v, const char *path, unsigned int i)
{
	struct conf_port *p = &x->c->ports[i];
	char where[CONF_WHERE_LEN];
	const json_t *nv = conf_member(x, v, path, "name", "a string");

	if (nv == NULL || !conf_name(x, nv, conf_path_key(where, path, "name"), p->name))
		return;
	for (unsigned int j = 0; j < i; j++) {
		if (strcmp(x->c->ports[j].name, p->name) == 0) {
			conf_error(x, where, "\"%s\" is already the name of ports[%u]", p->name, j);
			p->name[0] = '\0';
			return;
		}
	}
}

static void
port_entry(struct conf_ctx *x, const json_t *v, const char *path, unsigned int i)
{
	static const char *const keys[] = {
		"name",	     "device",	"ipv4",	   "gateway", "udp_port", "mtu", "rx_queues",
		"tx_queues", "rx_desc", "tx_desc", "mbufs",   "impair",	  NULL,
	};
	struct conf_port *p = &x->c->ports[i];

	port_defaults(p);
	if (!conf_is(x, v, path, JSON_OBJECT))
		return;
	conf_check_keys(x, v, path, keys);
	port_name(x, v, path, i);
	port_device(x, v, path, i);
	if (port_ipv4(x, v, path, p))
		port_gateway(x, v, path, p);
	conf_opt_u16(x, v, path, "udp_port", 1, UINT16_MAX, &p->udp_port);
	conf_opt_u16(x, v, path, "mtu", 576, 9000, &p->mtu);
	conf_opt_u16(x, v, path, "rx_queues", 1, CONF_MAX_RXQ, &p->rx_queues);
	conf_opt_u16(x, v, path, "tx_queues", 1, CONF_MAX_RXQ, &p->tx_queues);
	port_desc(x, v, path, "rx_desc", &p->rx_desc);
	port_desc(x, v, path, "tx_desc", &p->tx_desc);
	conf_opt_u32(x, v, path, "mbufs", 512, 1048575, &p->mbufs);
	port_impair(x, v, path, &p->impair);
}

/* Two ports with one address would make every reply ambiguous. */
static void
ports_distinct(struct conf_ctx *x, const char *path)
{
	const struct conf *c = x->c;
	char where[CONF_WHERE_LEN], ip[16];

	for (unsigned int i = 1; i < c->n_ports; i++) {
		for (unsigned int j = 0; j < i; j++) {
			if (c->ports[i].ipv4 != 0 && c->ports[i].ipv4 == c->ports[j].ipv4) {
				snprintf(where, sizeof(where), "%s[%u].ipv4", path, i);
				conf_error(x, where, "%s is already the address of ports[%u]",
					   conf_ipv4_str(c->ports[i].ipv4, ip), j);
				break;
			}
		}
	}
}

void
conf_ports(struct conf_ctx *x, const json_t *v, const char *path)
{
	unsigned int before = x->errs->n;
	char item[CONF_WHERE_LEN];

	if (v == NULL || !conf_array(x, v, path, 1, CONF_MAX_PORTS))
		return;
	x->c->n_ports = (unsigned int)json_array_size(v);
	for (unsigned int i = 0; i < x->c->n_ports; i++)
		port_entry(x, json_array_get(v, i), conf_path_index(item, path, i), i);
	ports_distinct(x, path);
	x->ports_ok = x->errs->n == before;
}

/* --- peers --------------------------------------------------------------------------------- */

int
conf_peer_index(const struct conf *c, const char *name)
{
	for (unsigned int i = 0; i < c->n_peers; i++) {
		if (strcmp(c->peers[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

bool
conf_key_usable(struct conf_ctx *x, const char *where, const uint8_t pub[SL_KEY_LEN])
{
	if (sl_dh_pub_usable(pub))
		return true;
	conf_error(x, where,
		   "the public key is a low-order point (the all-zero key is one): no session "
		   "can be made with it; use the key `sluice pubkey` prints for the peer");
	return false;
}

void
conf_key_list(struct conf_ctx *x, const json_t *arr, const char *where, uint8_t (*keys)[SL_KEY_LEN])
{
	char item[CONF_WHERE_LEN], s[64];

	for (size_t i = 0; i < json_array_size(arr); i++) {
		uint8_t *key = keys[i];

		conf_path_index(item, where, i);
		if (!conf_string(x, json_array_get(arr, i), item, sizeof(s) - 1, s, sizeof(s)))
			continue;
		if (conf_key_from_base64(s, key) != 0) {
			conf_error(x, item, "not a public key: expected 44 characters of base64");
			continue;
		}
		if (!conf_key_usable(x, item, key))
			continue;
		for (size_t j = 0; j < i; j++)
			if (memcmp(keys[j], key, SL_KEY_LEN) == 0) {
				conf_error(x, item, "the same key as %s[%zu]", where, j);
				break;
			}
	}
}

bool
conf_endpoint(struct conf_ctx *x, const char *where, char *s, uint8_t pub[SL_KEY_LEN], int *key,
	      uint32_t *ip, uint16_t *port)
{
	const char *addr = s, *end, *why;
	unsigned int p = 0;
	char *at = strchr(s, '@');

	if (at != NULL) {
		*at = '\0';
		addr = at + 1;
		*key = conf_key_from_base64(s, pub) == 0 ? 1 : -1;
		if (*key < 0)
			conf_error(x, where,
				   "the public key before '@' is not 44 characters of "
				   "base64 (a 32-byte key)");
		else if (!conf_key_usable(x, where, pub))
			*key = -1;
	}
	end = conf_parse_ipv4(addr, ip);
	if (end == NULL || *end != ':' || (end = parse_dec(end + 1, UINT16_MAX, &p)) == NULL ||
	    *end != '\0' || p == 0) {
		conf_error(x, where,
			   "\"%s\" is not an endpoint (expected \"a.b.c.d:port\" with a "
			   "port 1..65535, or \"<public key>@a.b.c.d:port\")",
			   addr);
		return false;
	}
	*port = (uint16_t)p;
	why = not_a_host(*ip);
	if (why != NULL) {
		conf_error(x, where, "%s %s", addr, why);
		return false;
	}
	return true;
}

/* "endpoint": "a.b.c.d:port" or "<public key>@a.b.c.d:port" (conf_endpoint()). */
static bool
peer_endpoint(struct conf_ctx *x, const json_t *v, const char *path, struct conf_peer *pe, int *key)
{
	char where[CONF_WHERE_LEN], s[128];

	conf_path_key(where, path, "endpoint");
	if (conf_member(x, v, path, "endpoint", "a string \"a.b.c.d:port\"") == NULL ||
	    !conf_opt_string(x, v, path, "endpoint", sizeof(s) - 1, s, sizeof(s)))
		return false;
	return conf_endpoint(x, where, s, pe->pub, key, &pe->ip, &pe->port);
}

/* "public_key": base64, unless the endpoint carries the key (key_in_endpoint != 0). True if
 * pe->pub holds a valid key. */
static bool
peer_key(struct conf_ctx *x, const json_t *v, const char *path, struct conf_peer *pe,
	 int key_in_endpoint)
{
	char where[CONF_WHERE_LEN], s[64];
	const json_t *kv = json_object_get(v, "public_key");

	conf_path_key(where, path, "public_key");
	if (kv == NULL) {
		if (key_in_endpoint == 0)
			conf_error(x, where,
				   "missing: a public key (base64) is required, here or "
				   "in the endpoint as \"<public key>@a.b.c.d:port\"");
		return key_in_endpoint > 0;
	}
	if (key_in_endpoint != 0) {
		conf_error(x, where,
			   "the endpoint already gives the key (\"<key>@address\"): "
			   "give it once");
		return false;
	}
	if (!conf_string(x, kv, where, sizeof(s) - 1, s, sizeof(s)))
		return false;
	if (conf_key_from_base64(s, pe->pub) != 0) {
		conf_error(x, where,
			   "not a public key: expected 44 characters of base64 (32 bytes),"
			   " as `sluice pubkey` prints");
		return false;
	}
	return conf_key_usable(x, where, pe->pub);
}

void
conf_endpoint_reachable(struct conf_ctx *x, const char *where, uint32_t addr)
{
	const struct conf *c = x->c;
	char ip[16];
	bool reachable = false;

	conf_ipv4_str(addr, ip);
	for (unsigned int k = 0; k < c->n_ports; k++) {
		const struct conf_port *p = &c->ports[k];
		uint32_t mask = prefix_mask(p->prefix_len);

		if (addr == p->ipv4) {
			conf_error(x, where,
				   "%s is the address of ports[%u]: a peer cannot be "
				   "this node",
				   ip, k);
			return;
		}
		if ((addr & mask) == (p->ipv4 & mask) && p->prefix_len <= 30 &&
		    ((addr & ~mask) == 0 || (addr & ~mask) == ~mask)) {
			conf_error(x, where, "%s is the %s address of ports[%u]'s subnet", ip,
				   (addr & ~mask) == 0 ? "network" : "broadcast", k);
			return;
		}
		reachable |= (addr & mask) == (p->ipv4 & mask) || p->gateway != 0;
	}
	if (x->ports_ok && !reachable)
		conf_error(x, where, "%s is on no port's subnet, and no port has a gateway", ip);
}

/* Each peer once: by name (see peer_entry), by key and by endpoint. */
static void
peer_unique(struct conf_ctx *x, const char *path, unsigned int i, bool key_ok, bool ep_ok,
	    const char *key_key)
{
	const struct conf *c = x->c;
	const struct conf_peer *pe = &c->peers[i];
	char where[CONF_WHERE_LEN];

	for (unsigned int j = 0; j < i; j++) {
		const struct conf_peer *o = &c->peers[j];

		if (key_ok && memcmp(o->pub, pe->pub, SL_KEY_LEN) == 0) {
			conf_error(x, conf_path_key(where, path, key_key),
				   "the same public key as peers[%u]", j);
			return;
		}
		if (ep_ok && o->ip == pe->ip && o->port == pe->port) {
			conf_error(x, conf_path_key(where, path, "endpoint"),
				   "the same endpoint as peers[%u]", j);
			return;
		}
	}
}

static void
peer_entry(struct conf_ctx *x, const json_t *v, const char *path, unsigned int i)
{
	static const char *const keys[] = { "name",	     "endpoint",      "public_key",
					    "persistent",    "unconditional", "via",
					    "relay_reserve", NULL };
	struct conf_peer *pe = &x->c->peers[i];
	char where[CONF_WHERE_LEN];
	bool key_ok, ep_ok = false;
	int key_in_endpoint = 0;
	const json_t *nv;

	if (!conf_is(x, v, path, JSON_OBJECT))
		return;
	conf_check_keys(x, v, path, keys);
	nv = conf_member(x, v, path, "name", "a string");
	if (nv != NULL && conf_name(x, nv, conf_path_key(where, path, "name"), pe->name)) {
		for (unsigned int j = 0; j < i; j++) {
			if (strcmp(x->c->peers[j].name, pe->name) == 0) {
				conf_error(x, where, "\"%s\" is already the name of peers[%u]",
					   pe->name, j);
				pe->name[0] = '\0';
				break;
			}
		}
	}
	/* a peer reached through a relay needs no endpoint of its own (conf_relay.c) */
	if (json_object_get(v, "via") == NULL || json_object_get(v, "endpoint") != NULL)
		ep_ok = peer_endpoint(x, v, path, pe, &key_in_endpoint);
	key_ok = peer_key(x, v, path, pe, key_in_endpoint);
	if (ep_ok)
		conf_endpoint_reachable(x, conf_path_key(where, path, "endpoint"), pe->ip);
	pe->persistent = true;
	conf_opt_bool(x, v, path, "persistent", &pe->persistent);
	conf_opt_bool(x, v, path, "unconditional", &pe->unconditional);
	conf_opt_bool(x, v, path, "relay_reserve", &pe->relay_reserve);
	conf_opt_string(x, v, path, "via", CONF_NAME_LEN - 1, pe->via_name, sizeof(pe->via_name));
	peer_unique(x, path, i, key_ok, ep_ok, key_in_endpoint ? "endpoint" : "public_key");
}

void
conf_peers(struct conf_ctx *x, const json_t *v, const char *path)
{
	char item[CONF_WHERE_LEN];

	if (v == NULL || !conf_array(x, v, path, 0, CONF_MAX_PEERS))
		return;
	x->c->n_peers = (unsigned int)json_array_size(v);
	for (unsigned int i = 0; i < x->c->n_peers; i++)
		peer_entry(x, json_array_get(v, i), conf_path_index(item, path, i), i);
}
