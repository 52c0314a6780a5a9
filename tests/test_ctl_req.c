/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: control-thread tests, second part — what the control thread is asked and how it is
 * run: connect and disconnect on request (and connect again while that disconnect closes),
 * stale initiations, every configured handshake timeout, and the control-thread ownership
 * check of debug builds. Same world as test_ctl.c (ctl_world.h: cp_ctl instances on an
 * in-memory network, virtual time).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "cp_ctl.h"
#include "ctl_world.h"
#include "sl_dh.h"
#include "sl_eal_test.h"

static struct rte_mempool *pool;

/* Every handshake timeout the configuration accepts (100 ms .. 60 s) makes a control that
 * starts: the retry interval follows a timeout shorter than it (a 500 ms timeout used to fail
 * the appliance's start with "control: Invalid argument"). */
static void
test_config_from_conf(void)
{
	static const uint64_t timeouts_ms[] = { 100, 500, 999, 1000, 5000, 60000 };
	uint8_t priv[SL_KEY_LEN], pub[SL_KEY_LEN];
	struct conf *c = calloc(1, sizeof(*c));

	CU_ASSERT_FATAL(c != NULL);
	sl_dh_keygen(priv, pub);
	c->n_lcores = LCORES;
	c->suite = SL_SUITE_AESGCM_SHA256;
	c->limits.max_sessions = SLOTS;
	c->limits.handshakes_per_sec = SL_RATELIMIT_PER_SEC;
	c->limits.handshake_burst = SL_RATELIMIT_BURST;
	for (size_t i = 0; i < RTE_DIM(timeouts_ms); i++) {
		struct cp_ctl_config cfg;
		struct cp_ctl *ctl;

		c->limits.handshake_timeout_ns = timeouts_ms[i] * MS;
		cp_ctl_config_from_conf(&cfg, c, priv);
		CU_ASSERT(cfg.retry_ns <= cfg.handshake_timeout_ns);
		ctl = cp_ctl_create(&cfg, &world_ops, NULL, 0);
		CU_ASSERT(ctl != NULL);
		cp_ctl_destroy(ctl);
	}
	free(c);
}

/* Initiations that may have waited longer than the handshake timeout (a process stopped
 * finds them in its ring) are not answered; answers, and fresh initiations, are. */
static void
test_stale_initiations(void)
{
	const uint64_t t = 5 * SEC; /* the world's handshake timeout (cp_ctl defaults) */
	uint8_t msg[4] = { SL_MSG_IK_INIT };
	struct cp_ctl *ctl;

	world_reset(1);
	node_start(0, NULL);
	ctl = nodes[0].ctl;
	CU_ASSERT_EQUAL(nodes[0].cfg.handshake_timeout_ns, t);
	now = 100 * SEC;
	CU_ASSERT(cp_ctl_initiation_fresh(ctl, msg, sizeof(msg), now - t, now));
	CU_ASSERT(!cp_ctl_initiation_fresh(ctl, msg, sizeof(msg), now - t - 1, now));
	msg[0] = SL_MSG_XX_INIT;
	CU_ASSERT(!cp_ctl_initiation_fresh(ctl, msg, sizeof(msg), 0, now));
	msg[0] = SL_MSG_IK_RESP; /* matched to our own handshakes: never stale here */
	CU_ASSERT(cp_ctl_initiation_fresh(ctl, msg, sizeof(msg), 0, now));
	CU_ASSERT(cp_ctl_initiation_fresh(ctl, msg, 0, 0, now));
	CU_ASSERT(cp_ctl_initiation_fresh(ctl, msg, sizeof(msg), now + 1, now)); /* clock */
	CU_ASSERT_EQUAL(stats(0)->stale_initiations, 2);
	world_end();
}

/* Connect and disconnect on request: a node nobody configured is dialled and kept connected;
 * disconnected, its session closes and it is not dialled again; impossible requests refused. */
static void
test_connect_disconnect(void)
{
	uint8_t zero[SL_KEY_LEN] = { 0 };
	struct find f;

	world_reset(2);
	node_start(0, NULL);
	node_start(1, NULL);
	CU_ASSERT_EQUAL(cp_ctl_connect(nodes[0].ctl, nodes[0].pub, nodes[1].ip, 4789, now),
			-EINVAL); /* ourselves */
	CU_ASSERT_EQUAL(cp_ctl_connect(nodes[0].ctl, zero, nodes[1].ip, 4789, now), -EINVAL);
	CU_ASSERT_EQUAL(cp_ctl_connect(nodes[0].ctl, nodes[1].pub, nodes[1].ip, 0, now), -EINVAL);
	CU_ASSERT_EQUAL(cp_ctl_connect(nodes[0].ctl, nodes[1].pub, 0, 0, now), -EDESTADDRREQ);
	CU_ASSERT_EQUAL(cp_ctl_disconnect(nodes[0].ctl, nodes[1].pub, now), -ENOENT);
	/* asked while the node is down: attempts fail and go on until it is there */
	nodes[1].offline = true;
	CU_ASSERT_EQUAL(cp_ctl_connect(nodes[0].ctl, nodes[1].pub, nodes[1].ip, 4789, now), 0);
	run_for(12 * SEC);
	CU_ASSERT(nodes[0].notes[CP_NOTE_CONNECT_FAILED] >= 2);
	nodes[1].offline = false;
	run_for(70 * SEC);
	CU_ASSERT_FATAL(connected(0, 1));
	CU_ASSERT_EQUAL(cp_ctl_connect(nodes[0].ctl, nodes[1].pub, 0, 0, now), 0); /* known */
	CU_ASSERT_EQUAL(cp_ctl_disconnect(nodes[0].ctl, nodes[1].pub, now), 0);
	run_for(1 * SEC);
	CU_ASSERT(!connected(0, 1));
	CU_ASSERT_EQUAL(nodes[0].closes[SL_CLOSE_APPLICATION], 1);
	run_for(70 * SEC); /* longer than any back-off: no new dial */
	f = view(0, 1);
	CU_ASSERT(!f.found);
	CU_ASSERT_EQUAL(open_slots(&nodes[0]), 0);
	world_end();
}

/* Connect asked while our own disconnect is still closing the session (an application that
 * heard NODE_DISCONNECTED from the lcore may ask before the control thread heard the session
 * end): the node is dialled as soon as the session closed, not after the back-off (at least
 * 750 ms here; it used to make a reconnect take a second). */
static void
test_connect_while_closing(void)
{
	world_reset(2);
	node_start(0, NULL);
	node_start(1, NULL);
	CU_ASSERT_EQUAL(cp_ctl_connect(nodes[0].ctl, nodes[1].pub, nodes[1].ip, 4789, now), 0);
	run_for(1 * SEC);
	CU_ASSERT_FATAL(connected(0, 1));
	CU_ASSERT_EQUAL(cp_ctl_disconnect(nodes[0].ctl, nodes[1].pub, now), 0);
	CU_ASSERT_EQUAL(view(0, 1).info.state, CP_NODE_CONNECTED); /* closing */
	CU_ASSERT_EQUAL(cp_ctl_connect(nodes[0].ctl, nodes[1].pub, 0, 0, now), 0);
	run_for(100 * MS);
	CU_ASSERT_EQUAL(nodes[0].closes[SL_CLOSE_APPLICATION], 1);
	CU_ASSERT(connected(0, 1));
	/* disconnected and asked again, then disconnected before it closed: not dialled */
	CU_ASSERT_EQUAL(cp_ctl_disconnect(nodes[0].ctl, nodes[1].pub, now), 0);
	CU_ASSERT_EQUAL(cp_ctl_connect(nodes[0].ctl, nodes[1].pub, 0, 0, now), 0);
	CU_ASSERT_EQUAL(cp_ctl_disconnect(nodes[0].ctl, nodes[1].pub, now), 0);
	run_for(10 * SEC);
	CU_ASSERT(!connected(0, 1));
	CU_ASSERT_EQUAL(nodes[0].closes[SL_CLOSE_APPLICATION], 2);
	world_end();
}

/* --- ownership ----------------------------------------------------------------------------- */

static void *
tick_elsewhere(void *arg)
{
	cp_ctl_tick(arg, now, WALL0 + now);
	return NULL;
}

/* A control bound to this thread, called from another: debug builds abort (SL_ASSERT_OWNER),
 * other builds compile the check away. Run in a child process so the abort is observed. */
static void
test_owner_thread(void)
{
	int status;
	pid_t pid;

	world_reset(1);
	node_start(0, NULL);
	run_for(10 * MS); /* ticks from this thread: bound here */
	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		pthread_t t;

		if (pthread_create(&t, NULL, tick_elsewhere, nodes[0].ctl) != 0)
			_exit(2);
		pthread_join(t, NULL);
		_exit(0);
	}
	CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
#ifdef SL_DEBUG
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
#else
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
#endif
	world_end();
}

static CU_TestInfo cases[] = {
	{ "every configured handshake timeout starts", test_config_from_conf },
	{ "stale initiations are not answered", test_stale_initiations },
	{ "connect and disconnect on request", test_connect_disconnect },
	{ "connect while our disconnect closes: no back-off", test_connect_while_closing },
	{ "state changes only on the control thread (debug builds)", test_owner_thread },
	CU_TEST_INFO_NULL,
};

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	return sl_eal_test_main("ctl_req", cases, &pool);
}
