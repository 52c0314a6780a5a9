/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: internals of the control socket, shared by cp_api.c (socket, attach, detach) and
 * cp_api_req.c (the requests). Control thread only.
 */
#ifndef CP_API_PVT_H
#define CP_API_PVT_H

#include <rte_log.h>

#include "cp_api.h"
#include "cp_main.h"

extern int cp_api_logtype;
#define API_LOG(level, ...) rte_log(RTE_LOG_##level, cp_api_logtype, "api: " __VA_ARGS__)

enum cp_api_slot_state {
	CP_API_FREE = 0,
	CP_API_ATTACHED, /* socket connected; shared memory made once ATTACH is answered */
	CP_API_DETACHING /* the lcores let go of it (RCU), then the memory goes */
};

struct cp_api_app {
	enum cp_api_slot_state state;
	int fd; /* the control socket: -1 once closed */
	bool has_shm;
	int memfd;
	char name[SL_API_NAME_LEN];
	pid_t pid;
	uid_t uid;
	gid_t gid;
	uint64_t attached_ns;
	uint64_t rcu_token;    /* DETACHING: the grace period to wait for */
	struct sl_ring events; /* the control thread produces */
	uint32_t disc_missed;  /* discovery events dropped since the last one posted */
	uint64_t disc_dropped; /* ... in all */
};

struct cp_api {
	struct cp_main *m;
	struct dp_runtime *rt;
	int listen_fd;
	bool accept_failing; /* accept() failed for want of a resource: retried at the idle pace */
	char path[108];
	uint32_t gen; /* the last attachment's generation */
	struct cp_api_app app[DP_API_MAX_APPS];
	struct cp_api_stats st;
};

/* cp_api.c */
/* Post a descriptor on application i's event ring and wake it if it sleeps; false if the ring
 * is full (the application is detached: it would miss what happened). */
bool cp_api_post_event(struct cp_api *a, unsigned int i, const struct sl_api_desc *d);
/* Start detaching application i (why: for the log). */
void cp_api_detach(struct cp_api *a, unsigned int i, const char *why);
/* Send a reply (header + body) on application i's socket; false if it could not go. */
bool cp_api_reply(struct cp_api *a, unsigned int i, const struct sl_api_req_hdr *req, int status,
		  const void *body, size_t len, const int *fds, unsigned int n_fds);
/* ATTACH (cp_api.c: it makes the shared memory). */
void cp_api_attach(struct cp_api *a, unsigned int i, const struct sl_api_req_hdr *req,
		   const void *body, size_t len);

/* cp_api_req.c */
/* One request of application i (len bytes from buf); false if it made no sense. */
bool cp_api_request(struct cp_api *a, unsigned int i, const uint8_t *buf, size_t len);

#endif /* CP_API_PVT_H */
