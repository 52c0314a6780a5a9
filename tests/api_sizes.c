/* SPDX-License-Identifier: BSD-3-Clause
 * sluice tests: the layout of sluice.h's structures and its constants as JSON, for the Python
 * module's check of its ctypes mirror (tests/python_api_abi.py, test python_api_abi).
 *
 *   {"structs": {"sluice_event": {"size": 104, "fields": {"type": 0, ...}}, ...},
 *    "constants": {"SLUICE_NODE_LEN": 32, ...}}
 */
#include <stddef.h>
#include <stdio.h>

#include "sluice.h"

static const char *sep;

static void
open_struct(const char *name, size_t size)
{
	printf("%s\"%s\": {\"size\": %zu, \"fields\": {", sep, name, size);
	sep = "";
}

static void
field(const char *name, size_t off)
{
	printf("%s\"%s\": %zu", sep, name, off);
	sep = ", ";
}

static void
close_struct(void)
{
	printf("}}");
	sep = ", ";
}

#define STRUCT(t)   open_struct(#t, sizeof(struct t))
#define FIELD(t, f) field(#f, offsetof(struct t, f))
#define CONST(c)    (printf("%s\"%s\": %ld", sep, #c, (long)(c)), sep = ", ")

static void
structs(void)
{
	STRUCT(sluice_event);
	FIELD(sluice_event, type), FIELD(sluice_event, node), FIELD(sluice_event, chan);
	FIELD(sluice_event, by_peer), FIELD(sluice_event, reason), FIELD(sluice_event, len);
	FIELD(sluice_event, data), FIELD(sluice_event, time_ns), FIELD(sluice_event, id);
	FIELD(sluice_event, ip), FIELD(sluice_event, port), FIELD(sluice_event, undelivered);
	FIELD(sluice_event, count), FIELD(sluice_event, priv);
	close_struct();
	STRUCT(sluice_node_info);
	FIELD(sluice_node_info, node), FIELD(sluice_node_info, ip), FIELD(sluice_node_info, port);
	FIELD(sluice_node_info, state), FIELD(sluice_node_info, initiator);
	FIELD(sluice_node_info, rtt_ns), FIELD(sluice_node_info, bytes_in);
	FIELD(sluice_node_info, bytes_out), FIELD(sluice_node_info, msgs_in);
	FIELD(sluice_node_info, msgs_out), FIELD(sluice_node_info, last_handshake_age_ns);
	close_struct();
	STRUCT(sluice_stats);
	FIELD(sluice_stats, msgs_sent), FIELD(sluice_stats, bytes_sent);
	FIELD(sluice_stats, msgs_recv), FIELD(sluice_stats, bytes_recv);
	FIELD(sluice_stats, send_nobufs), FIELD(sluice_stats, send_failed);
	FIELD(sluice_stats, events), FIELD(sluice_stats, send_noroom);
	FIELD(sluice_stats, appliance_errors), FIELD(sluice_stats, release_errors);
	close_struct();
}

static void
constants(void)
{
	CONST(SLUICE_NODE_LEN), CONST(SLUICE_NODE_TEXT_LEN);
	CONST(SLUICE_MESSAGE), CONST(SLUICE_NODE_CONNECTED), CONST(SLUICE_NODE_CONNECT_FAILED);
	CONST(SLUICE_NODE_DISCONNECTED), CONST(SLUICE_WRITABLE), CONST(SLUICE_EXPIRED);
	CONST(SLUICE_DATAGRAM_LOST), CONST(SLUICE_SEND_FAILED);
	CONST(SLUICE_DISC_ADDR_LEARNED), CONST(SLUICE_DISC_PEER_BAD);
	CONST(SLUICE_DISC_BOOK_SAVED), CONST(SLUICE_DISC_BOOK_FAILED);
	CONST(SLUICE_FAIL_TIMEOUT), CONST(SLUICE_FAIL_REFUSED), CONST(SLUICE_FAIL_UNREACHABLE);
	CONST(SLUICE_FAIL_NO_SLOT);
}

int
main(void)
{
	sep = "";
	printf("{\"structs\": {");
	structs();
	printf("}, \"constants\": {");
	sep = "";
	constants();
	printf("}}\n");
	return 0;
}
