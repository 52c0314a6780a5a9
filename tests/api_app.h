/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: test applications of the integration tests (tests/integration/test_api_*.py), driven
 * line by line on stdin by tests/integration/sl_apps.py.
 *
 *   api_app SOCKET       a well-behaved application (public libsluice API only): transfers,
 *                        streams, echo loops, held messages (api_app.c)
 *   api_hostile SOCKET   one that breaks every rule it can through libsluice's internals
 *                        (api_hostile.c)
 *
 * Protocol: one command per line; each is answered by exactly one line, "ok k=v ..." or
 * "fail why". A long command (stream, echo) also reads stdin while it runs: "progress" is
 * answered by a "progress k=v ..." line, "mark" and "stop" as the command says. Numbers in
 * replies are decimal; a node is 64 hex digits.
 *
 * The commands every test application has (api_app_loop.c):
 *   attach NAME            attach to SOCKET (ok app's max_message, self; rc= on refusal)
 *   detach                 detach (the appliance frees the slot)
 *   register C, unregister C, connect NODE IP PORT, disconnect NODE     rc=
 *   node NODE              what sluice_nodes() says of NODE (found=0 when absent)
 *   nodes                  total= connected=
 *   expect TYPE NODE [CHAN [SECONDS]]  the next event of TYPE about NODE (and CHAN), from the
 *                          events seen so far or those to come (fail after SECONDS, 30)
 *   events                 the events seen and not expected yet (n=, list=), then forgets them
 *   stats                  sluice_get_stats()
 *   quit                   detach and exit 0
 * Messages no command waits for are released and counted (stray=, in stats).
 *
 * One thread; stdout is line-buffered by hand (fflush after each reply).
 */
#ifndef API_APP_H
#define API_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice.h"

#define APP_LOG_MAX	  4096 /* events kept for expect / events */
#define APP_LINE_MAX	  512
#define APP_WAIT_SLICE_MS 100 /* the longest a loop sleeps before it looks at its deadline */
#define APP_DEADLINE_S	  120 /* the longest a data command runs */

struct app {
	struct sluice *s;
	const char *sock;
	uint32_t max_message;
	struct sluice_event log[APP_LOG_MAX]; /* events not expected yet, oldest first */
	unsigned int n_log;
	uint64_t log_lost; /* events beyond APP_LOG_MAX */
	uint64_t stray;	   /* messages nobody waited for (released) */
	char in[4096];	   /* stdin, not yet split into lines */
	size_t in_len;
	bool eof;
};

/* A command: argv[0] is its name. It answers with app_ok() or app_fail() (once). */
struct app_cmd {
	const char *name;
	int min_args; /* beyond the name */
	void (*fn)(struct app *a, int argc, char **argv);
};

/* Run the command loop with these commands (and the common ones), until quit or EOF. */
int app_main(int argc, char **argv, const struct app_cmd *cmds);

/* One line on stdout (flushed). app_ok() and app_fail() answer a command: "ok ...", "fail ..."
 * (their format: a string literal). */
void app_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define app_ok(...)   app_say("ok " __VA_ARGS__)
#define app_fail(...) app_say("fail " __VA_ARGS__)

/* The next line of stdin within timeout_ms (-1: no limit): 1 with it in line, 0 none yet,
 * -1 at EOF. */
int app_line(struct app *a, char *line, size_t cap, int timeout_ms);

/* Is there an attachment? If not, app_fail() says so. */
bool app_attached(struct app *a);

bool app_node(const char *hex, uint8_t node[SLUICE_NODE_LEN]);
const char *app_hex8(const uint8_t node[SLUICE_NODE_LEN]); /* the first 8 hex digits */
uint64_t app_now_ms(void);
const char *app_event_name(enum sluice_event_type t);

/* What a loop does with each event: true when it took it (a message: released or kept),
 * false to leave it to the log (a message: released and counted stray). */
typedef bool (*app_event_fn)(void *arg, const struct sluice_event *ev);

/* One sluice_poll() of up to 64 events, each given to fn (may be NULL) first. Returns how
 * many events there were, or -errno. */
int app_pump(struct app *a, app_event_fn fn, void *arg);

/* Wait for something to do: the attachment's events, or stdin when watch_stdin (epoll style:
 * sluice_wait_prepare(), poll(), sluice_wait_done()). At most APP_WAIT_SLICE_MS. */
void app_sleep(struct app *a, bool watch_stdin);

#endif /* API_APP_H */
