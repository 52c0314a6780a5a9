/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: the log stream behind DPDK's log library (see cp_log.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_log.h>

#include "cp_log.h"

#define LOG_LINE_MAX 4096 /* longer lines are cut into pieces of this, each with its prefix */
#define PREFIX_MAX   64

static FILE *log_stream;

/* The part of a line this thread has written without its newline yet. */
static __thread char pending[LOG_LINE_MAX];
static __thread size_t pending_len;

static const char *
level_name(uint32_t level)
{
	static const char *const names[] = {
		[RTE_LOG_EMERG] = "emerg",     [RTE_LOG_ALERT] = "alert",
		[RTE_LOG_CRIT] = "crit",       [RTE_LOG_ERR] = "error",
		[RTE_LOG_WARNING] = "warning", [RTE_LOG_NOTICE] = "notice",
		[RTE_LOG_INFO] = "info",       [RTE_LOG_DEBUG] = "debug",
	};

	return level < RTE_DIM(names) && names[level] != NULL ? names[level] : "info";
}

/* "ts=... level=... " into out: its length. */
static size_t
prefix(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, len, "ts=%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(out + n, len - n, ".%03ldZ level=%s ", ts.tv_nsec / 1000000,
			      level_name((uint32_t)rte_log_cur_msg_loglevel()));
	return n;
}

/* One line, its prefix first, in one write to stderr. */
static void
emit(const char *line, size_t len)
{
	char out[PREFIX_MAX + LOG_LINE_MAX + 1];
	size_t n = prefix(out, PREFIX_MAX), off = 0;

	memcpy(out + n, line, len);
	n += len;
	out[n++] = '\n';
	while (off < n) {
		ssize_t w = write(STDERR_FILENO, out + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere to log to */
		off += (size_t)w;
	}
}

/* fopencookie's write: whole lines out, the rest kept for this thread's next write. */
static ssize_t
log_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	for (size_t i = 0; i < size; i++) {
		if (buf[i] != '\n')
			pending[pending_len++] = buf[i];
		if (buf[i] == '\n' || pending_len == sizeof(pending)) {
			emit(pending, pending_len);
			pending_len = 0;
		}
	}
	return (ssize_t)size;
}

int
cp_log_open(void)
{
	static const cookie_io_functions_t io = { .write = log_write };
	FILE *f = fopencookie(NULL, "w", io);

	if (f == NULL)
		return -errno;
	setvbuf(f, NULL, _IONBF, 0); /* each message reaches log_write on its own thread */
	if (rte_openlog_stream(f) != 0) {
		fclose(f);
		return -EINVAL;
	}
	log_stream = f;
	return 0;
}

void
cp_log_close(void)
{
	if (log_stream == NULL)
		return;
	rte_openlog_stream(NULL);
	fclose(log_stream);
	log_stream = NULL;
}
