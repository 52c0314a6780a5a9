/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the requests applications send on the control socket — register and unregister a
 * channel, connect, disconnect, list the nodes (see cp_api.h; the messages: api/sl_api.h).
 */
#include <errno.h>
#include <string.h>

#include "cp_api_pvt.h"

static bool
ok_reply(struct cp_api *a, unsigned int i, const struct sl_api_req_hdr *req, int status)
{
	return cp_api_reply(a, i, req, status, NULL, 0, NULL, 0);
}

/* --- channels ------------------------------------------------------------------------------- */

static int
do_register(struct cp_api *a, unsigned int i, uint8_t chan)
{
	const struct dp_conn_config *e = &a->m->cfg->engine;
	_Atomic uint8_t *owner;
	uint8_t o;

	if (chan == SL_CONTROL_CHANNEL || chan >= e->n_channels ||
	    e->chan[chan].kind == DP_CHAN_UNUSED)
		return -EINVAL;
	owner = &a->rt->api.owner[chan];
	o = atomic_load_explicit(owner, memory_order_relaxed);
	if (o == i)
		return -EALREADY;
	if (o != DP_API_OWNER_NONE)
		return -EBUSY;
	atomic_store_explicit(owner, (uint8_t)i, memory_order_release);
	API_LOG(INFO, "application \"%s\" serves channel %u\n", a->app[i].name, chan);
	return 0;
}

static int
do_unregister(struct cp_api *a, unsigned int i, uint8_t chan)
{
	if (chan >= SL_MAX_CHANNELS ||
	    atomic_load_explicit(&a->rt->api.owner[chan], memory_order_relaxed) != i)
		return -ENOENT;
	atomic_store_explicit(&a->rt->api.owner[chan], DP_API_OWNER_NONE, memory_order_release);
	return 0;
}

/* --- nodes ---------------------------------------------------------------------------------- */

struct nodes_walk {
	struct cp_api *a;
	uint32_t start, seen;
	struct sl_api_nodes_rep *rep;
};

static int
node_entry(void *arg, const struct cp_node_info *n)
{
	struct nodes_walk *w = arg;
	struct sl_api_node_info *e;
	const struct dp_session_stats *ss;

	if (w->seen++ < w->start || w->rep->n >= SL_API_MAX_NODES)
		return 0;
	e = &w->rep->e[w->rep->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->node, n->pub, SL_API_NODE_LEN);
	e->ip = n->ip;
	e->port = n->udp_port;
	e->state = (uint8_t)n->state; /* enum cp_node_state and sl_api_node_state agree */
	e->initiator = n->initiator;
	e->now_ns = w->a->m->now_ns;
	if (n->state != CP_NODE_CONNECTED)
		return 0;
	e->conn = n->connid;
	e->last_handshake_ns = n->last_handshake_ns;
	ss = cp_main_session_stats(w->a->m, sl_connid_owner(n->connid), sl_connid_slot(n->connid));
	if (ss != NULL) {
		e->rtt_ns = ss->rtt_ns;
		e->bytes_in = ss->bytes_in;
		e->bytes_out = ss->bytes_out;
		e->msgs_in = ss->msgs_in;
		e->msgs_out = ss->msgs_out;
	}
	return 0;
}

static_assert((int)SL_API_NODE_CONNECTED == (int)CP_NODE_CONNECTED &&
		      (int)SL_API_NODE_DIALING == (int)CP_NODE_DIALING &&
		      (int)SL_API_NODE_RESOLVING == (int)CP_NODE_RESOLVING &&
		      (int)SL_API_NODE_WAITING == (int)CP_NODE_WAITING,
	      "node states");

static bool
do_nodes(struct cp_api *a, unsigned int i, const struct sl_api_req_hdr *req,
	 const struct sl_api_nodes_req *r)
{
	uint8_t buf[sizeof(struct sl_api_nodes_rep) +
		    SL_API_MAX_NODES * sizeof(struct sl_api_node_info)];
	struct sl_api_nodes_rep *rep = (struct sl_api_nodes_rep *)buf;
	struct nodes_walk w = { .a = a, .start = r->start, .rep = rep };

	rep->n = 0;
	cp_ctl_foreach_node(a->m->ctl, node_entry, &w);
	rep->total = w.seen;
	return cp_api_reply(a, i, req, 0, buf,
			    sizeof(*rep) + rep->n * sizeof(struct sl_api_node_info), NULL, 0);
}

/* --- dispatch ------------------------------------------------------------------------------- */

/* The body of the request of type t, if it has exactly the size of its type. */
static bool
body_is(size_t len, size_t want)
{
	return len == want;
}

bool
cp_api_request(struct cp_api *a, unsigned int i, const uint8_t *buf, size_t len)
{
	struct sl_api_req_hdr req;
	const uint8_t *body = buf + sizeof(req);
	size_t blen;
	union {
		struct sl_api_chan c;
		struct sl_api_node n;
		struct sl_api_connect k;
		struct sl_api_nodes_req q;
	} b;

	if (len < sizeof(req))
		return false;
	memcpy(&req, buf, sizeof(req));
	blen = len - sizeof(req);
	if (req.type == SL_API_ATTACH) {
		cp_api_attach(a, i, &req, body, blen);
		return true;
	}
	if (!a->app[i].has_shm) /* anything but ATTACH first */
		return false;
	if (blen > sizeof(b))
		return false;
	memcpy(&b, body, blen);
	switch (req.type) {
	case SL_API_DETACH:
		ok_reply(a, i, &req, 0);
		cp_api_detach(a, i, "it asked");
		return true;
	case SL_API_REGISTER:
		return body_is(blen, sizeof(b.c)) &&
		       ok_reply(a, i, &req, do_register(a, i, b.c.chan));
	case SL_API_UNREGISTER:
		return body_is(blen, sizeof(b.c)) &&
		       ok_reply(a, i, &req, do_unregister(a, i, b.c.chan));
	case SL_API_CONNECT:
		return body_is(blen, sizeof(b.k)) &&
		       ok_reply(
			       a, i, &req,
			       cp_ctl_connect(a->m->ctl, b.k.node, b.k.ip, b.k.port, a->m->now_ns));
	case SL_API_DISCONNECT:
		return body_is(blen, sizeof(b.n)) &&
		       ok_reply(a, i, &req, cp_ctl_disconnect(a->m->ctl, b.n.node, a->m->now_ns));
	case SL_API_NODES:
		return body_is(blen, sizeof(b.q)) && do_nodes(a, i, &req, &b.q);
	default:
		return false;
	}
}
