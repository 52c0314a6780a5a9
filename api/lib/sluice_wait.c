/* SPDX-License-Identifier: BSD-3-Clause
 * libsluice: waiting without costing the appliance anything (sl_api.h, "Waiting").
 *
 * The application sets its sleep flag (shared memory), then a sequentially consistent fence,
 * then looks at every ring once more; a producer publishes its descriptor, then a fence, then
 * reads the flag and writes the eventfd if it is set. One of the two always sees the other's
 * write, so either the application finds the descriptor or the eventfd is written: no lost
 * wake-up, and a busy application (flag clear) costs the producers no system call.
 *
 * A send refused for room in a lane's ring or arena waits for the lcore to take descriptors,
 * which publishes nothing: the sleep flag then also says SL_API_SLEEP_ROOM, and an lcore that
 * drains its lane's tx ring writes the eventfd. The wait is still cut into 1-ms slices that
 * look at the lanes meanwhile, a bound that costs next to nothing: a wake-up that does not
 * come (an appliance that does not know the bit) costs a millisecond, not a hang.
 * sluice_flush() waits for the same thing (every descriptor posted taken) in the same slices.
 */
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "sluice_pvt.h"

static bool
ready(struct sluice *s)
{
	return lsl_tx_room_ready(s) || lsl_rx_ready(s);
}

int
sluice_fd(const struct sluice *s)
{
	return s->wfd;
}

/* The appliance closed the control socket (it exited or crashed). */
static bool
appliance_gone(const struct sluice *s)
{
	struct pollfd p = { .fd = s->sock, .events = 0 };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)) != 0;
}

int
sluice_wait_prepare(struct sluice *s)
{
	uint64_t flag = SL_API_SLEEP_EVENTS | (lsl_tx_room_waiting(s) ? SL_API_SLEEP_ROOM : 0);

	if (ready(s))
		return 1;
	if (appliance_gone(s))
		return -ECONNRESET; /* sluice_fd() stays readable: detach */
	atomic_store_explicit(s->sleeping, flag, memory_order_seq_cst);
	atomic_thread_fence(memory_order_seq_cst);
	if (!ready(s))
		return 0;
	atomic_store_explicit(s->sleeping, 0, memory_order_relaxed);
	return 1;
}

void
sluice_wait_done(struct sluice *s)
{
	uint64_t v;

	atomic_store_explicit(s->sleeping, 0, memory_order_relaxed);
	/* Reset the eventfd so a level-triggered loop does not wake again for nothing: one read
	 * (non-blocking: sluice_attach() made sure), EAGAIN when it was not written. */
	if (read(s->efd, &v, sizeof(v)) < 0)
		return; /* nothing to reset */
}

int
sluice_wait_timeout(const struct sluice *s, int timeout_ms)
{
	if (lsl_tx_room_waiting(s) && (timeout_ms < 0 || timeout_ms > LSL_ROOM_POLL_MS))
		return LSL_ROOM_POLL_MS;
	return timeout_ms;
}

/* One wait of at most timeout_ms: 1 look, 0 nothing, -errno. */
static int
wait_once(struct sluice *s, int timeout_ms)
{
	struct pollfd p[2] = {
		{ .fd = s->efd, .events = POLLIN },
		{ .fd = s->sock, .events = 0 }, /* only its hang-up: the appliance went away */
	};
	int rc, err;

	rc = sluice_wait_prepare(s);
	if (rc != 0)
		return rc;
	rc = poll(p, 2, timeout_ms);
	err = errno;
	sluice_wait_done(s);
	if (rc < 0)
		return -err;
	if (p[1].revents & (POLLHUP | POLLERR))
		return -ECONNRESET;
	return rc > 0 || ready(s) ? 1 : 0;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
sluice_wait(struct sluice *s, int timeout_ms)
{
	uint64_t start = now_ms();

	for (;;) {
		int left = timeout_ms, rc;

		if (timeout_ms >= 0) {
			uint64_t spent = now_ms() - start;

			left = spent >= (uint64_t)timeout_ms ? 0 : timeout_ms - (int)spent;
		}
		rc = wait_once(s, sluice_wait_timeout(s, left));
		if (rc != 0 || left == 0)
			return rc;
	}
}

int
sluice_flush(struct sluice *s, int timeout_ms)
{
	struct pollfd p = { .fd = s->sock, .events = 0 }; /* its hang-up: the appliance left */
	uint64_t start = now_ms();

	for (;;) {
		if (s->broken)
			return -EPROTO;
		if (lsl_tx_all_taken(s))
			return 0;
		if (timeout_ms >= 0 && now_ms() - start >= (uint64_t)timeout_ms)
			return -ETIMEDOUT;
		if (poll(&p, 1, LSL_ROOM_POLL_MS) < 0)
			return -errno;
		if (p.revents & (POLLHUP | POLLERR))
			return -ECONNRESET;
	}
}
