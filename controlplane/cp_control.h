/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the control messages — what this node's control thread says to its peers' control
 * threads on the control channel (channel 0 of every session; sl_wire.h, "control messages").
 *
 * Today: HELLO. Each side greets every new session with one, telling the peer the address and
 * port its packets come from; a HELLO received records how that peer sees us (the last one:
 * cp_control_stats.observed_*). Received messages are dispatched by type; a message of an
 * unknown type, or malformed for its type (shorter or longer than the type's size, reserved
 * bytes not zero, type 0), is counted and ignored. Peer exchange (GETADDR / ADDR) is the next
 * user: its types join the dispatch here.
 *
 * Transport: cp_ctl (cp_ctl_control_send() and cp_ctl_ops.control), through the send function
 * given at init, so that the logic runs against an in-memory world in the tests. The wiring
 * (cp_main.c): every CONNECTED note to cp_control_connected(), every control message to
 * cp_control_input().
 *
 * Control thread only (the thread that runs cp_ctl); the counters may be read by a thread that
 * holds the lock the control thread holds while it calls in (cp_main's mutex, for telemetry).
 */
#ifndef CP_CONTROL_H
#define CP_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "cp_ctl.h"

#define CP_CONTROL_COUNTERS(X)                                                                  \
	X(hello_sent, "HELLOs sent: one per new session")                                       \
	X(hello_send_failed, "HELLOs not sent: the session went, or the lcore's ring was full") \
	X(hello_received, "HELLOs received")                                                    \
	X(control_malformed, "control messages malformed for their type: ignored")              \
	X(control_unknown_type, "control messages of a type this build does not know: ignored")

struct cp_control_stats {
#define CP_CONTROL_FIELD(name, doc) uint64_t name;
	CP_CONTROL_COUNTERS(CP_CONTROL_FIELD)
#undef CP_CONTROL_FIELD
	/* the last HELLO received: our address and port as that peer sees them (0: none yet) */
	uint32_t observed_ip;
	uint16_t observed_port;
};

/* Embedded in its user; fields are private: use the functions. */
struct cp_control {
	/* send len bytes to the node with static key pub on the control channel: 0 or -errno
	 * (cp_ctl_control_send) */
	int (*send)(void *arg, const uint8_t pub[SL_KEY_LEN], const void *msg, size_t len);
	void *arg;
	/* every control message but a HELLO, if set (cp_control_forward) */
	void (*other)(void *arg, const uint8_t pub[SL_KEY_LEN], const void *msg, size_t len);
	void *other_arg;
	struct cp_control_stats st;
};

void cp_control_init(struct cp_control *c,
		     int (*send)(void *arg, const uint8_t pub[SL_KEY_LEN], const void *msg,
				 size_t len),
		     void *arg);

/* A note from cp_ctl: for CP_NOTE_CONNECTED (a new session), greet the node with a HELLO; other
 * notes are ignored. */
void cp_control_note(struct cp_control *c, const struct cp_note *n);

/* A control message from the node with static key pub (cp_ctl_ops.control). */
void cp_control_input(struct cp_control *c, const uint8_t pub[SL_KEY_LEN], const void *msg,
		      size_t len);

/* Hand every control message other than a HELLO to other (peer exchange: it checks and counts
 * them itself); without it they are counted as unknown types here. */
void cp_control_forward(struct cp_control *c,
			void (*other)(void *arg, const uint8_t pub[SL_KEY_LEN], const void *msg,
				      size_t len),
			void *arg);

/* A message no other module claimed (the `other` of cp_control_forward() passes it back):
 * a HELLO is taken, anything else counted as malformed or of an unknown type. */
void cp_control_unclaimed(struct cp_control *c, const void *msg, size_t len);

const struct cp_control_stats *cp_control_stats(const struct cp_control *c);

#endif /* CP_CONTROL_H */
