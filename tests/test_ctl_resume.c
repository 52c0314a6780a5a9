/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: session resumption in the control thread (cp_ctl_resume.c) — cp_ctl instances in the
 * in-memory world of ctl_world.h. A redial of a node we had a session with resumes it (one
 * Diffie-Hellman a side), again and again along the chain of secrets; a peer that cannot
 * resume (restarted, resumption off, ticket used, secret expired) gets a full
 * handshake instead, at once; a cookie under load is taken on the same initiation; a replayed
 * resumption opens nothing. Every session is checked end to end (connected(): both sides' ids
 * match and a packet sealed by one opens at the other).
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "cp_ctl.h"
#include "ctl_world.h"
#include "sl_lru.h"
#include "sl_eal_test.h"

static struct rte_mempool *pool;

/* Node i closes its session with node j (an idle timeout on its side); the peer hears of it. */
static void
close_session(unsigned int i, unsigned int j)
{
	uint32_t id = view(i, j).info.connid;

	close_slot(&nodes[i], sl_connid_owner(id), sl_connid_slot(id), SL_CLOSE_IDLE, false);
}

/* Two nodes, node 0 configured to keep node 1 connected, connected by IK. */
static void
pair(void (*tweak0)(struct cp_ctl_config *), void (*tweak1)(struct cp_ctl_config *))
{
	world_reset(2);
	add_peer(0, 1);
	node_start(0, tweak0);
	node_start(1, tweak1);
	run_for(300 * MS);
	CU_ASSERT_FATAL(connected(0, 1));
	CU_ASSERT_EQUAL(stats(0)->resumes_sent, 0);
	CU_ASSERT_EQUAL(stats(0)->sessions_opened, 1);
}

/* Run until node 0 has its session with node 1 again (at most 10 s). */
static void
until_reconnected(void)
{
	uint64_t end = now + 10 * SEC;

	run_for(10 * MS);
	while (!connected(0, 1) && now < end)
		step();
	run_for(100 * MS);
}

static void
test_reconnect_resumes(void)
{
	pair(NULL, NULL);
	for (unsigned int round = 1; round <= 3; round++) {
		close_session(0, 1);
		until_reconnected();
		CU_ASSERT_FATAL(connected(0, 1));
		/* each resumption leaves a new secret: the next one resumes too */
		CU_ASSERT_EQUAL(stats(0)->resumes_sent, round);
		CU_ASSERT_EQUAL(stats(0)->resumed, round);
		CU_ASSERT_EQUAL(stats(1)->resumed, round);
		CU_ASSERT_EQUAL(stats(0)->resume_fallbacks, 0);
		CU_ASSERT_EQUAL(stats(1)->resume_rejected, 0);
		CU_ASSERT(view(0, 1).info.initiator && !view(1, 0).info.initiator);
		CU_ASSERT_EQUAL(open_slots(&nodes[0]), 1);
		CU_ASSERT_EQUAL(open_slots(&nodes[1]), 1);
	}
	CU_ASSERT_EQUAL(stats(0)->sessions_opened, 4);
	CU_ASSERT_EQUAL(nodes[1].notes[CP_NOTE_CONNECTED], 4);
	world_end();
}

/* The responder restarted (its cache is empty): it rejects, the initiator runs IK at once,
 * within the same attempt (no handshake timeout, no back-off). */
static void
test_restarted_peer_rejects(void)
{
	pair(NULL, NULL);
	node_crash(1);
	node_start(1, NULL);
	close_session(0, 1); /* node 0 notices (here: an idle timeout) and redials */
	until_reconnected();
	CU_ASSERT_FATAL(connected(0, 1));
	CU_ASSERT_EQUAL(stats(0)->resumes_sent, 1);
	CU_ASSERT_EQUAL(stats(1)->resume_rejected, 1);
	CU_ASSERT_EQUAL(stats(0)->resume_fallbacks, 1);
	CU_ASSERT_EQUAL(stats(0)->resumed + stats(1)->resumed, 0);
	CU_ASSERT_EQUAL(stats(0)->connect_failures, 0);
	CU_ASSERT_EQUAL(stats(0)->initiations_sent, 3); /* IK, resumption, IK */
	CU_ASSERT(stats(1)->refused_by_reason[CP_HS_NO_TICKET] == 1);
	/* the new session left both a secret: the next redial resumes */
	close_session(0, 1);
	until_reconnected();
	CU_ASSERT(connected(0, 1) && stats(0)->resumed == 1 && stats(1)->resumed == 1);
	world_end();
}

static void
no_resumption(struct cp_ctl_config *c)
{
	c->resume_cache = 0;
}

/* Resumption off: the node never tries it, and rejects every resumption it is sent. */
static void
test_resumption_off(void)
{
	pair(NULL, no_resumption);
	close_session(0, 1);
	until_reconnected();
	CU_ASSERT_FATAL(connected(0, 1));
	CU_ASSERT(stats(1)->resume_rejected == 1 && stats(0)->resume_fallbacks == 1);
	CU_ASSERT_EQUAL(stats(1)->resumed, 0);
	world_end();

	pair(no_resumption, NULL);
	close_session(0, 1);
	until_reconnected();
	CU_ASSERT_FATAL(connected(0, 1));
	CU_ASSERT_EQUAL(stats(0)->resumes_sent, 0);
	CU_ASSERT_EQUAL(stats(0)->initiations_sent, 2);
	world_end();
}

/* The answer to a resumption is lost: the initiation is sent again as it was, the responder
 * has used the ticket and rejects, the initiator runs IK; the session the first answer opened
 * at the responder gives way to the IK one. One session at each end in the end. */
static void
test_lost_answer(void)
{
	uint64_t end;

	pair(NULL, NULL);
	close_session(0, 1);
	end = now + 10 * SEC;
	while (stats(1)->resumed == 0 && now < end) {
		nodes[0].offline = stats(0)->resumes_sent > 0; /* from the first initiation on */
		step();
	}
	CU_ASSERT_FATAL(stats(1)->resumed == 1);
	step(); /* the answer is on the wire to node 0, lost */
	nodes[0].offline = false;
	until_reconnected();
	CU_ASSERT_FATAL(connected(0, 1));
	CU_ASSERT_EQUAL(stats(0)->resumes_sent, 2); /* the same initiation, resent */
	CU_ASSERT_EQUAL(stats(1)->resume_rejected, 1);
	CU_ASSERT_EQUAL(stats(0)->resume_fallbacks, 1);
	CU_ASSERT_EQUAL(stats(0)->resumed, 0);
	CU_ASSERT_EQUAL(open_slots(&nodes[0]), 1);
	CU_ASSERT_EQUAL(open_slots(&nodes[1]), 1);
	world_end();
}

/* Under load the responder asks for a cookie: the initiation goes again with mac2 (the secret
 * was taken once) and resumes. */
static void
test_cookie(void)
{
	pair(NULL, NULL);
	nodes[1].backlog = 1000;
	close_session(0, 1);
	until_reconnected();
	CU_ASSERT_FATAL(connected(0, 1));
	CU_ASSERT_EQUAL(stats(0)->cookies_received, 1);
	CU_ASSERT_EQUAL(stats(0)->resumes_sent, 2);
	CU_ASSERT(stats(0)->resumed == 1 && stats(1)->resumed == 1);
	CU_ASSERT_EQUAL(stats(0)->resume_fallbacks, 0);
	world_end();
}

static void
short_lifetime(struct cp_ctl_config *c)
{
	c->resume_lifetime_ns = 2 * SEC;
}

/* A secret past its lifetime is not used: the redial is a full handshake from the start. */
static void
test_expired(void)
{
	pair(short_lifetime, short_lifetime);
	close_session(0, 1);
	until_reconnected(); /* within the lifetime: resumed */
	CU_ASSERT_FATAL(connected(0, 1) && stats(0)->resumed == 1);
	/* the resumed session's secret expires with the one it came from: 2 s after the IK */
	run_for(3 * SEC);
	close_session(0, 1);
	until_reconnected();
	CU_ASSERT_FATAL(connected(0, 1));
	CU_ASSERT_EQUAL(stats(0)->resumes_sent, 1);
	CU_ASSERT_EQUAL(stats(0)->resumed, 1);
	CU_ASSERT_EQUAL(stats(0)->resume_fallbacks, 0);
	world_end();
}

/* A resumption initiation seen on the wire and replayed after its session opened: the ticket
 * is used, so it is rejected and opens nothing. */
static void
test_replay(void)
{
	struct wmsg copy = { .len = 0 };
	uint64_t end;
	uint64_t opened;

	pair(NULL, NULL);
	close_session(0, 1);
	end = now + 10 * SEC;
	while (copy.len == 0 && now < end) {
		for (unsigned int k = 0; k < n_wire; k++)
			if (wire[k].buf[0] == SL_MSG_RESUME_INIT)
				copy = wire[k];
		step();
	}
	CU_ASSERT_FATAL(copy.len == sizeof(struct sl_msg_resume_init));
	until_reconnected();
	CU_ASSERT_FATAL(connected(0, 1) && stats(1)->resumed == 1);
	opened = stats(1)->sessions_opened;
	cp_ctl_handshake(nodes[1].ctl, &copy.from, copy.buf, copy.len, 0, now, WALL0 + now);
	run_for(100 * MS);
	CU_ASSERT_EQUAL(stats(1)->resume_rejected, 1);
	CU_ASSERT_EQUAL(stats(1)->sessions_opened, opened);
	CU_ASSERT(connected(0, 1));
	CU_ASSERT_EQUAL(stats(0)->unmatched, 1); /* the reject names no dial of node 0's */
	world_end();
}

static void
test_bad_config(void)
{
	struct cp_ctl_config c;

	cp_ctl_config_defaults(&c);
	CU_ASSERT_EQUAL(c.resume_cache, SL_RESUME_CACHE_DEFAULT);
	c.resume_cache = SL_LRU_MAX_CAPACITY + 1;
	CU_ASSERT(cp_ctl_create(&c, &world_ops, NULL, 0) == NULL && errno == EINVAL);
}

static CU_TestInfo cases[] = {
	{ "a redial resumes, along the chain of secrets", test_reconnect_resumes },
	{ "restarted responder rejects: IK at once", test_restarted_peer_rejects },
	{ "resumption off at either end", test_resumption_off },
	{ "lost answer: the same initiation, rejected, IK", test_lost_answer },
	{ "cookie under load: the same initiation with mac2", test_cookie },
	{ "expired secret: a full handshake", test_expired },
	{ "replayed resumption: rejected, nothing opened", test_replay },
	{ "cache size out of range refused", test_bad_config },
	CU_TEST_INFO_NULL,
};

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	return sl_eal_test_main("ctl_resume", cases, &pool);
}
