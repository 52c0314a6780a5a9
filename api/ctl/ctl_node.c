/* SPDX-License-Identifier: BSD-3-Clause
 * sluicectl: what goes through the application socket — libsluice, attached as "sluicectl"
 * with no channel (one of the appliance's api.max_apps slots while it runs):
 *   peers       sluice_nodes(): every node the appliance knows, its state and session
 *   connect     sluice_connect(): dial a node (at an address, or its known one)
 *   disconnect  sluice_disconnect(): close the session and stop dialling
 * These are requests the appliance answers with a status, so a refusal comes back with its
 * errno (exit 3, sluice_strerror()'s text).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "sluice.h"

static const char *const state_names[] = { "waiting", "resolving", "dialing", "connected" };

static struct sluice *
attach(const struct ctl *ctl, int *status)
{
	struct sluice *s;
	int err = 0;

	if (ctl->socket[0] == '\0') {
		fprintf(stderr, "sluicectl: no application socket: give -s SOCKET, or -c CONFIG "
				"with an api section\n");
		*status = CTL_USAGE;
		return NULL;
	}
	s = sluice_attach(ctl->socket, "sluicectl", &err);
	if (s == NULL) {
		fprintf(stderr, "sluicectl: cannot attach to the appliance at %s: %s\n",
			ctl_esc(ctl->socket), sluice_strerror(err));
		/* it answered and said no (api.max_apps reached, another version), or the path
		 * cannot be a socket's; anything else: nobody to talk to */
		*status = err == -EUSERS || err == -EPROTO ? CTL_REFUSED
			  : err == -ENAMETOOLONG	   ? CTL_USAGE
							   : CTL_UNREACHABLE;
	}
	return s;
}

/* The exit status of a request that failed with rc, its reason printed. */
static int
refused(const char *what, int rc)
{
	bool gone = rc == -ETIMEDOUT || rc == -ECONNRESET || rc == -EPIPE || rc == -EPROTO;

	fprintf(stderr, "sluicectl: %s: %s: %s\n", what,
		gone ? "the appliance did not answer" : "the appliance refused",
		sluice_strerror(rc));
	return gone ? CTL_UNREACHABLE : CTL_REFUSED;
}

static int
parse_node(const char *text, uint8_t node[SLUICE_NODE_LEN])
{
	if (sluice_node_from_text(text, node) == 0)
		return CTL_OK;
	fprintf(stderr,
		"sluicectl: \"%s\" is not a node id: give the 44 characters of base64 that "
		"`sluice pubkey` prints, or 64 hex digits\n",
		ctl_esc(text));
	return CTL_USAGE;
}

/* "A.B.C.D:PORT" into host-order ip and port. */
static int
parse_endpoint(const char *text, uint32_t *ip, uint16_t *port)
{
	char addr[INET_ADDRSTRLEN], *end;
	const char *colon = strrchr(text, ':');
	struct in_addr in;
	unsigned long p;

	if (colon == NULL || (size_t)(colon - text) >= sizeof(addr))
		goto bad;
	memcpy(addr, text, (size_t)(colon - text));
	addr[colon - text] = '\0';
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (inet_pton(AF_INET, addr, &in) != 1 || colon[1] < '0' || colon[1] > '9' ||
	    *end != '\0' || errno != 0 || p == 0 || p > 65535)
		goto bad;
	*ip = ntohl(in.s_addr);
	*port = (uint16_t)p;
	return CTL_OK;
bad:
	fprintf(stderr, "sluicectl: \"%s\" is not an endpoint: give A.B.C.D:PORT (port 1-65535)\n",
		ctl_esc(text));
	return CTL_USAGE;
}

static void
ip_text(char *out, size_t len, uint32_t ip, uint16_t port)
{
	snprintf(out, len, "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
		 ip & 0xff, port);
}

/* --- peers -------------------------------------------------------------------------------- */

static json_t *
node_json(const struct sluice_node_info *n)
{
	char id[SLUICE_NODE_TEXT_LEN], ep[32];

	ip_text(ep, sizeof(ep), n->ip, n->port);
	return json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "node",
			 sluice_node_to_text(n->node, id), "state",
			 n->state < 4 ? state_names[n->state] : "unknown", "endpoint", ep,
			 "initiator", n->initiator, "rtt_ns", (json_int_t)n->rtt_ns, "bytes_in",
			 (json_int_t)n->bytes_in, "bytes_out", (json_int_t)n->bytes_out, "msgs_in",
			 (json_int_t)n->msgs_in, "msgs_out", (json_int_t)n->msgs_out,
			 "last_handshake_age_ns", (json_int_t)n->last_handshake_age_ns);
}

static void
node_line(const struct sluice_node_info *n)
{
	char id[SLUICE_NODE_TEXT_LEN], ep[32], hs[24] = "-", in[24], out[24], rtt[24] = "-";

	ip_text(ep, sizeof(ep), n->ip, n->port);
	if (n->last_handshake_age_ns != 0)
		snprintf(hs, sizeof(hs), "%" PRIu64 " s ago",
			 n->last_handshake_age_ns / 1000000000);
	if (n->rtt_ns != 0)
		ctl_fmt_rtt(rtt, sizeof(rtt), n->rtt_ns / 1000);
	ctl_fmt_bytes(in, sizeof(in), n->bytes_in);
	ctl_fmt_bytes(out, sizeof(out), n->bytes_out);
	printf("%-44s  %-9s  %-21s  %-10s  %-10s  %-10s  %s\n", sluice_node_to_text(n->node, id),
	       n->state < 4 ? state_names[n->state] : "unknown", ep, hs, in, out, rtt);
}

static int
print_nodes(const struct ctl *ctl, const struct sluice_node_info *n, unsigned int count)
{
	json_t *arr;

	if (!ctl->json) {
		printf("%-44s  %-9s  %-21s  %-10s  %-10s  %-10s  %s\n", "NODE", "STATE", "ENDPOINT",
		       "HANDSHAKE", "RECEIVED", "SENT", "RTT");
		for (unsigned int i = 0; i < count; i++)
			node_line(&n[i]);
		return CTL_OK;
	}
	arr = json_array();
	for (unsigned int i = 0; i < count; i++)
		json_array_append_new(arr, node_json(&n[i]));
	return ctl_json_print(json_pack("{s:I, s:o}", "total", (json_int_t)count, "nodes", arr));
}

int
ctl_peers(const struct ctl *ctl, const char *arg)
{
	struct sluice_node_info *n = NULL;
	unsigned int total = 0;
	int rc = CTL_OK, got;
	struct sluice *s = attach(ctl, &rc);

	(void)arg;
	if (s == NULL)
		return rc;
	got = sluice_nodes(s, NULL, 0, &total);
	if (got >= 0) {
		n = calloc(total + 64, sizeof(*n)); /* room for nodes that came meanwhile */
		got = n != NULL ? sluice_nodes(s, n, total + 64, &total) : -ENOMEM;
	}
	if (got >= 0) {
		rc = print_nodes(ctl, n, (unsigned int)got);
	} else if (n == NULL && got == -ENOMEM) {
		fprintf(stderr, "sluicectl: out of memory\n");
		rc = CTL_USAGE;
	} else {
		rc = refused("peers", got);
	}
	free(n);
	sluice_detach(s);
	return rc;
}

/* --- connect, disconnect ------------------------------------------------------------------ */

static int
done(const struct ctl *ctl, const char *what, const char *node, const char *text)
{
	if (ctl->json)
		return ctl_json_print(json_pack("{s:s, s:s, s:s}", "request", what, "node", node,
						"status", "ok"));
	printf("%s\n", text);
	return CTL_OK;
}

int
ctl_connect(const struct ctl *ctl, const char *arg)
{
	char text[SLUICE_NODE_TEXT_LEN + 4 * SLUICE_NODE_LEN], line[256], ep[32] = "";
	uint8_t node[SLUICE_NODE_LEN];
	uint32_t ip = 0;
	uint16_t port = 0;
	char *at;
	int rc = CTL_OK;
	struct sluice *s;

	if (strlen(arg) >= sizeof(text))
		return parse_node(arg, node);
	strcpy(text, arg);
	if ((at = strchr(text, '@')) != NULL) {
		*at = '\0';
		rc = parse_endpoint(at + 1, &ip, &port);
	}
	if (rc == CTL_OK)
		rc = parse_node(text, node);
	if (rc != CTL_OK || (s = attach(ctl, &rc)) == NULL)
		return rc;
	rc = sluice_connect(s, node, ip, port);
	sluice_detach(s);
	if (rc < 0)
		return refused("connect", rc);
	if (ip != 0)
		ip_text(ep, sizeof(ep), ip, port);
	snprintf(line, sizeof(line), "dialling %s at %s (or connected already)",
		 sluice_node_to_text(node, text), ip != 0 ? ep : "its known address");
	return done(ctl, "connect", text, line);
}

int
ctl_disconnect(const struct ctl *ctl, const char *arg)
{
	char text[SLUICE_NODE_TEXT_LEN], line[128];
	uint8_t node[SLUICE_NODE_LEN];
	int rc = parse_node(arg, node);
	struct sluice *s;

	if (rc != CTL_OK || (s = attach(ctl, &rc)) == NULL)
		return rc;
	rc = sluice_disconnect(s, node);
	sluice_detach(s);
	if (rc < 0)
		return refused("disconnect", rc);
	snprintf(line, sizeof(line), "disconnected %s", sluice_node_to_text(node, text));
	return done(ctl, "disconnect", text, line);
}
