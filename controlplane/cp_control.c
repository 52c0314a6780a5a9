/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the control messages of the control channel (see cp_control.h). Control thread only.
 */
#include <string.h>

#include <rte_byteorder.h>

#include "cp_control.h"
#include "sl_wire.h"

void
cp_control_init(struct cp_control *c,
		int (*send)(void *arg, const uint8_t pub[SL_KEY_LEN], const void *msg, size_t len),
		void *arg)
{
	memset(c, 0, sizeof(*c));
	c->send = send;
	c->arg = arg;
}

void
cp_control_forward(struct cp_control *c,
		   void (*other)(void *arg, const uint8_t pub[SL_KEY_LEN], const void *msg,
				 size_t len),
		   void *arg)
{
	c->other = other;
	c->other_arg = arg;
}

const struct cp_control_stats *
cp_control_stats(const struct cp_control *c)
{
	return &c->st;
}

/* --- out ------------------------------------------------------------------------------------ */

/* A new session: tell the peer where its packets come from. */
static void
send_hello(struct cp_control *c, const struct cp_note *n)
{
	struct sl_ctl_hello m = {
		.hdr.type = SL_CTL_HELLO,
		.hdr.version = SL_CTL_VERSION,
		.hdr.len = rte_cpu_to_be_16(sizeof(m)),
		.observed_ip = rte_cpu_to_be_32(n->ip),
		.observed_port = rte_cpu_to_be_16(n->udp_port),
	};

	if (c->send(c->arg, n->pub, &m, sizeof(m)) == 0)
		c->st.hello_sent++;
	else
		c->st.hello_send_failed++;
}

void
cp_control_note(struct cp_control *c, const struct cp_note *n)
{
	/* through a relay, the address we see is the relay's: nothing to tell */
	if (n->type == CP_NOTE_CONNECTED && n->pub != NULL && n->via == 0)
		send_hello(c, n);
}

/* --- in ------------------------------------------------------------------------------------- */

/* Exactly a HELLO, reserved bytes zero: record what the peer sees of us. */
static void
hello_in(struct cp_control *c, const uint8_t *msg, size_t len)
{
	struct sl_ctl_hello m;

	if (len != sizeof(m)) {
		c->st.control_malformed++;
		return;
	}
	memcpy(&m, msg, sizeof(m));
	if (m.reserved != 0) {
		c->st.control_malformed++;
		return;
	}
	c->st.hello_received++;
	c->st.observed_ip = rte_be_to_cpu_32(m.observed_ip);
	c->st.observed_port = rte_be_to_cpu_16(m.observed_port);
}

void
cp_control_input(struct cp_control *c, const uint8_t pub[SL_KEY_LEN], const void *msg, size_t len)
{
	if (c->other != NULL && (len == 0 || ((const uint8_t *)msg)[0] != SL_CTL_HELLO)) {
		c->other(c->other_arg, pub, msg, len);
		return;
	}
	cp_control_unclaimed(c, msg, len);
}

void
cp_control_unclaimed(struct cp_control *c, const void *msg, size_t len)
{
	struct sl_ctl_hdr h;

	if (len < sizeof(h)) {
		c->st.control_malformed++;
		return;
	}
	memcpy(&h, msg, sizeof(h));
	if (h.version != SL_CTL_VERSION) { /* a newer layout: not ours to judge */
		c->st.control_unknown_type++;
		return;
	}
	if (rte_be_to_cpu_16(h.len) != len || h.reserved != 0 || h.type == 0) {
		c->st.control_malformed++;
		return;
	}
	if (h.type == SL_CTL_HELLO)
		hello_in(c, msg, len);
	else
		c->st.control_unknown_type++;
}
