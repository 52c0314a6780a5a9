/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the control thread's side of the application interface — the control socket,
 * attaching and detaching applications, the channel registry, their requests (the contract:
 * api/sl_api.h; the lcores' side: dataplane/dp_api.h; docs/api.md).
 *
 * The socket is SOCK_SEQPACKET at the config's api.socket, with its mode and group. Each
 * application that connects is checked (SO_PEERCRED, logged with its name), given its own
 * shared memory (a memfd) and an eventfd, and published to the lcores (dp_api_app LIVE). It is
 * detached when it asks, when its socket closes (it exited or was killed), when it breaks the
 * protocol (a request that makes no sense, a lane an lcore had to stop), or when the appliance
 * stops: its channels are released at once, and its memory once every lcore has let go of it
 * (an RCU grace period).
 *
 * Control thread only (cp_api_poll() runs in its loop); cp_api_foreach() for telemetry runs
 * under the control thread's lock like every telemetry read.
 */
#ifndef CP_API_H
#define CP_API_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cp_ctl.h"
#include "dp_lcore.h"

struct cp_main;
struct cp_api;

#define CP_API_COUNTERS(X)                                                                     \
	X(attached, "applications attached")                                                   \
	X(detached, "applications detached (asked, gone, or broke the protocol)")              \
	X(refused_full, "refused: api.max_apps reached, or no slot (64) for the connection")   \
	X(refused_version, "attachments refused: another interface version")                   \
	X(bad_requests, "requests that made no sense (the application is detached)")           \
	X(protocol_errors, "applications detached because an lcore stopped their lane")        \
	X(requests, "requests answered")                                                       \
	X(disc_posted, "discovery events posted (one per application told)")                   \
	X(disc_dropped, "discovery events not posted: the application's events ring was half " \
			"full")

struct cp_api_stats {
#define CP_API_FIELD(name, doc) uint64_t name;
	CP_API_COUNTERS(CP_API_FIELD)
#undef CP_API_FIELD
};

/* One attached application, as telemetry and sluicectl show it. */
struct cp_api_app_info {
	unsigned int idx;
	char name[SL_API_NAME_LEN];
	pid_t pid;
	uid_t uid;
	gid_t gid;
	uint16_t channels; /* a bit per channel it serves */
	uint64_t attached_ns;
	uint64_t disc_dropped;	    /* discovery events it was not told (cp_api_discovery) */
	struct dp_api_counters cnt; /* summed over the lcores */
};

/* The socket, listening. NULL with errno set (the reason is logged). */
struct cp_api *cp_api_create(struct cp_main *m);
/* Detach everything (after the lcores stopped) and remove the socket. NULL is a no-op. */
void cp_api_destroy(struct cp_api *a);

/* Accept, answer requests, notice applications that went, finish detachments. Returns work
 * done. */
unsigned int cp_api_poll(struct cp_api *a, uint64_t now_ns);

/* The descriptors that become readable when there is something for cp_api_poll() to do — the
 * listening socket (a new application) and every attached application's socket (a request,
 * or its end) — for the control thread's idle wait, so that a request is answered as soon as
 * it comes rather than after the wait: up to max of them into fds (POLLIN); how many. */
unsigned int cp_api_pollfds(const struct cp_api *a, struct pollfd *fds, unsigned int max);

/* A note of the session logic: applications hear of failed connection attempts. */
void cp_api_note(struct cp_api *a, const struct cp_note *n);

/* A discovery event for every attached application: kind is an enum sl_api_disc, node the
 * node it names (NULL: none), count what sl_api.h says for the kind. Discovery events take at
 * most half of an application's events ring, so they never crowd out a CONNECT_FAILED (a full
 * ring detaches the application): beyond that one is dropped and counted (disc_dropped, here
 * and per application), and the application's next one carries how many it missed. NULL a:
 * no interface, nothing to do. */
void cp_api_discovery(struct cp_api *a, uint16_t kind, const uint8_t *node, uint32_t count);

const struct cp_api_stats *cp_api_stats(const struct cp_api *a);
/* Call fn for each attached application; stops when fn returns non-zero. */
int cp_api_foreach(const struct cp_api *a, int (*fn)(void *arg, const struct cp_api_app_info *),
		   void *arg);

#endif /* CP_API_H */
