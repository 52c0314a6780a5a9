/* SPDX-License-Identifier: BSD-3-Clause
 * sluice: libFuzzer target — arbitrary decrypted payloads fed to the reliable engine.
 *
 * The input is a sequence of records, each a packet as the dataplane would hand it over after
 * decryption:
 *     u8 len_hi, u8 len_lo, u8 flags, then len bytes of frames
 * flags & 0x07 skips that many packet numbers (a gap); with flags & 0x08 the packet is instead a
 * late one, (flags & 0x07) numbers below the newest so far (0: the newest again, a duplicate),
 * which may fill a gap (reordering); flags >> 4 advances the clock by that many milliseconds.
 * Between records the engine runs its timers and sends what it wants, so ACKs in the input can hit
 * real packets in flight. The connection has messages of its own queued, a datagram channel and
 * small windows, so the fuzzer reaches loss recovery, flow control and reassembly.
 *
 * Built only with -Dfuzz=true under clang (make fuzz). Invariants checked: the engine never
 * crashes, leaks or reads out of bounds (ASan/UBSan), never reuses a packet number, every
 * output fits the payload size, and what the closed connection counts as undone
 * (dp_conn_undelivered) is consistent with what it was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dp_conn.h"
#include "fuzz.h"

#define MS 1000000ull

static void
config(struct dp_conn_config *cfg)
{
	dp_conn_config_defaults(cfg);
	cfg->max_message = 64 << 10;
	cfg->chan_window = 64 << 10;
	cfg->conn_window = 256 << 10;
	cfg->n_channels = 4;
	cfg->chan[3].kind = DP_CHAN_DATAGRAM;
	cfg->idle_timeout_ns = 5000 * MS;
	cfg->keepalive_ns = 1000 * MS;
	for (int i = 0; i < 4; i++)
		cfg->chan[i].queue_limit = 256 << 10;
}

/* Let the engine send; the packet numbers it uses must only go up. */
static void
drain(struct dp_conn *c, uint64_t now, uint64_t *last_pn, bool *any)
{
	static uint8_t buf[SL_MAX_PAYLOAD];
	uint64_t pn;
	int n, rounds = 0;

	while (rounds++ < 64 && (n = dp_conn_output(c, now, buf, sizeof(buf), &pn)) > 0) {
		fuzz_check((size_t)n <= SL_DEFAULT_PAYLOAD, "a packet fits the payload size");
		fuzz_check(!*any || pn > *last_pn, "packet numbers only go up");
		*last_pn = pn;
		*any = true;
	}
}

static void
consume(struct dp_conn *c)
{
	struct dp_conn_event ev;
	struct dp_msg *m;

	while ((m = dp_conn_recv(c)) != NULL)
		dp_conn_msg_release(c, m);
	while (dp_conn_poll_event(c, &ev))
		;
}

/* At most what was sent is undelivered; what was received and discarded (everything was
 * taken: consume) is what reassembly held. */
static void
check_undelivered(const struct dp_conn *c)
{
	struct dp_conn_stats st = dp_conn_stats_now(c);
	struct dp_conn_undelivered u;

	dp_conn_undelivered(c, &u);
	fuzz_check(u.total.undelivered <= st.msgs_sent, "undelivered <= sent");
	fuzz_check(u.total.discarded_acked <= u.total.discarded, "discarded_acked <= discarded");
	fuzz_check(u.total.delivered_unacked <= st.msgs_delivered,
		   "delivered_unacked <= delivered");
	fuzz_check(u.total.undelivered_bytes >= u.total.undelivered,
		   "an undelivered message has a byte at least");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dp_conn_config cfg;
	static uint8_t msg[20000];
	uint64_t now = 1000 * MS, newest = 0, pn, last_out = 0;
	bool any_out = false;
	struct dp_conn *c;
	size_t off = 0;

	if (cfg.max_payload == 0)
		config(&cfg);
	c = dp_conn_create(&cfg, now);
	fuzz_check(c != NULL, "the connection is made");
	for (uint8_t ch = 0; ch < 4; ch++)
		(void)dp_conn_send(c, ch, msg, ch == 3 ? 500 : 3000 * (ch + 1), 0, now, NULL);
	drain(c, now, &last_out, &any_out);
	while (off + 3 <= size) {
		size_t len = ((size_t)data[off] << 8 | data[off + 1]) % (SL_DEFAULT_PAYLOAD + 1);
		uint8_t flags = data[off + 2];

		off += 3;
		len = len < size - off ? len : size - off;
		if (!(flags & 0x08))
			newest += 1 + (flags & 0x07);
		pn = flags & 0x08 ? newest - RTE_MIN(newest, (uint64_t)(flags & 0x07)) : newest;
		now += (uint64_t)(flags >> 4) * MS;
		(void)dp_conn_input(c, pn, data + off, len, now);
		off += len;
		if (dp_conn_next_wakeup(c) <= now)
			dp_conn_tick(c, now);
		drain(c, now, &last_out, &any_out);
		consume(c);
	}
	dp_conn_close(c, false, SL_CLOSE_APPLICATION, now);
	drain(c, now, &last_out, &any_out);
	consume(c);
	check_undelivered(c);
	dp_conn_destroy(c);
	return 0;
}
