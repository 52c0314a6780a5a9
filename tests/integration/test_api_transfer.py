#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Applications on two appliances exchange messages through them: Connect, ConnectedNodes,
a transfer both ways on two channels, Disconnect, every notification.

    test_api_transfer.py SLUICE API_APP [COUNT]

A (lcore 0, memif server) and B (lcore 1) each have an `api` section and no configured peer;
an application (tests/api_app, libsluice.so) attached to each serves channels 1 and 2. Then:
  - errors of requests: Connect to our own id, to an all-zero id (-EINVAL), to an unknown node
    without an address (-EDESTADDRREQ); Disconnect of an unknown node (-ENOENT);
  - A's application connects to B at its address: 0, then NODE_CONNECTED on both sides (with
    the other's address and port); ConnectedNodes on A lists B, connected, at that address;
  - transfer: COUNT messages (default 25,000) per channel each way at once — 100,000 in all,
    1 B..64 KiB (the edges first, then log-uniform), every byte checked against what it must
    be (a function of seed, channel and sequence number; a header with the sequence number
    and a checksum tells a lost, duplicated or reordered message from a corrupt one), in
    order per channel; the applications' counts and bytes match each other's and what the
    appliances counted for them (/sluice/apps); nothing counted against them;
  - Disconnect from A: NODE_DISCONNECTED on A (reason application, not by the peer) and on B
    (by the peer); Connect again: NODE_CONNECTED on both, and a short transfer works;
  - Connect to a node that does not exist (a random key at an address nobody answers):
    NODE_CONNECT_FAILED with reason timeout or unreachable; Disconnect stops the dialling;
  - B is killed (SIGKILL): A's application hears NODE_DISCONNECTED, reason idle timeout;
  - no event left unexplained (only CONNECT_FAILED for B, which A dials again, and for the
    node that does not exist), no appliance error seen by libsluice; A stops with status 0
    and every mbuf back.
No time is asserted: every wait has a generous deadline.
"""
import os
import socket
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_apps import (MISDEEDS, WAIT, App, api_pair, apps, check_clean,  # noqa: E402
                     node_hex, start_pair, stop_appliances)
from sl_integ import World, log  # noqa: E402

DURATION = 120
COUNT = 25000             # messages per channel and direction
CHANS = "1,2"
SEED_A, SEED_B = 11, 22
XFER_WAIT = 100           # the longest the transfer may take (a deadline, not a measure)
IDLE_TIMEOUT_MS = 2000
LIMITS = {"max_message": 65536, "idle_timeout_ms": IDLE_TIMEOUT_MS, "keepalive_ms": 400,
          "handshake_timeout_ms": 1000}
EINVAL, ENOENT, EDESTADDRREQ = 22, 2, 89
CLOSE_IDLE, CLOSE_APPLICATION = 3, 5
FAIL_TIMEOUT, FAIL_UNREACHABLE = 1, 3


def ip_int(ip):
    return struct.unpack("!I", socket.inet_aton(ip))[0]


def connect(w, app_a, app_b, a, b):
    """A's application dials B; both hear NODE_CONNECTED; ConnectedNodes lists B."""
    w.equal(app_a.rc(f"connect {node_hex(b)} {b.ip} {b.udp_port}"), 0, "connect B")
    ev = app_a.cmd(f"expect connected {node_hex(b)}")
    w.equal((ev["ip"], ev["port"]), (ip_int(b.ip), b.udp_port), "A: NODE_CONNECTED address")
    ev = app_b.cmd(f"expect connected {node_hex(a)}")
    w.equal(ev["ip"], ip_int(a.ip), "B: NODE_CONNECTED address")
    n = app_a.cmd(f"node {node_hex(b)}")
    w.equal((n["found"], n["state"], n["ip"], n["port"]), (1, 3, ip_int(b.ip), b.udp_port),
            "A: ConnectedNodes: B connected at its address")
    w.equal(app_a.cmd("nodes")["connected"], 1, "A: one connected node")


def request_errors(w, app_a, a):
    stranger = os.urandom(32).hex()
    w.equal(app_a.rc(f"connect {node_hex(a)} 0.0.0.0 0"), -EINVAL, "connect ourselves")
    w.equal(app_a.rc(f"connect {'00' * 32} 0.0.0.0 0"), -EINVAL, "connect an all-zero id")
    w.equal(app_a.rc(f"connect {stranger} 0.0.0.0 0"), -EDESTADDRREQ,
            "connect an unknown node without an address")
    w.equal(app_a.rc(f"disconnect {stranger}"), -ENOENT, "disconnect an unknown node")
    w.equal(app_a.cmd("nodes")["connected"], 0, "A: no connected node yet")


def transfer(w, app_a, app_b, a, b, count):
    size = "r65536"
    app_a.start(f"transfer {node_hex(b)} {count} {SEED_A} {SEED_B} {CHANS} {size}")
    app_b.start(f"transfer {node_hex(a)} {count} {SEED_B} {SEED_A} {CHANS} {size}")
    ra, rb = app_a.result(XFER_WAIT), app_b.result(XFER_WAIT)
    n = count * len(CHANS.split(","))
    w.equal((ra["sent"], ra["recv"], rb["sent"], rb["recv"]), (n, n, n, n),
            "messages sent and received, each way")
    w.equal(ra["sent_bytes"], rb["recv_bytes"], "bytes A -> B")
    w.equal(rb["sent_bytes"], ra["recv_bytes"], "bytes B -> A")
    return ra, rb


def check_counted(w, node, name, sent, recv):
    """What node counted for application name: its sends and deliveries, nothing against it."""
    mine, iface = apps(node)
    c = mine[name]
    w.equal((c["msgs_sent"], c["bytes_sent"]), sent, f"{node.name}: {name}'s sends counted")
    w.equal((c["msgs_delivered"], c["bytes_delivered"]), recv,
            f"{node.name}: {name}'s deliveries counted")
    w.equal(c["channels"], CHANS, f"{node.name}: {name} serves channels")
    w.equal({k: c[k] for k in MISDEEDS + ("send_failed",)},
            {k: 0 for k in MISDEEDS + ("send_failed",)}, f"{node.name}: nothing against {name}")
    w.equal({k: iface.get(k, 0) for k in ("bad_requests", "refused_full", "dropped_app_gone")},
            {"bad_requests": 0, "refused_full": 0, "dropped_app_gone": 0},
            f"{node.name}: interface errors")


def disconnect_reconnect(w, app_a, app_b, a, b):
    w.equal(app_a.rc(f"disconnect {node_hex(b)}"), 0, "disconnect B")
    ev = app_a.cmd(f"expect disconnected {node_hex(b)}")
    w.equal((ev["reason"], ev["by_peer"]), (CLOSE_APPLICATION, 0),
            "A: NODE_DISCONNECTED (reason, by peer)")
    ev = app_b.cmd(f"expect disconnected {node_hex(a)}")
    w.equal(ev["by_peer"], 1, "B: NODE_DISCONNECTED by the peer")
    it.wait_until("A: B no longer connected",
                  lambda: app_a.cmd("nodes")["connected"] == 0, WAIT)
    connect(w, app_a, app_b, a, b)
    ra, rb = transfer(w, app_a, app_b, a, b, 50)  # the new session's credit works
    return ra, rb


def connect_failed(w, app_a, a):
    stranger = os.urandom(32).hex()
    nobody = a.ip.rsplit(".", 1)[0] + ".77"
    w.equal(app_a.rc(f"connect {stranger} {nobody} 4789"), 0, "connect a node nobody answers")
    ev = app_a.cmd(f"expect connect_failed {stranger}")
    w.check(ev["reason"] in (FAIL_TIMEOUT, FAIL_UNREACHABLE),
            f"NODE_CONNECT_FAILED reason {ev['reason']} is timeout or unreachable")
    w.equal(app_a.rc(f"disconnect {stranger}"), 0, "disconnect the node nobody answers")
    return stranger[:8]


def leftover_events(w, app, allowed):
    """Events nobody expected: only CONNECT_FAILED for nodes in allowed (dialled again)."""
    ev = app.cmd("events")
    items = [e for e in str(ev.get("list", "")).split(",") if e]
    odd = [e for e in items if not (e.split(":")[0] == "connect_failed"
                                    and e.split(":")[1] in allowed)]
    w.equal(odd, [], f"{app.name}: events left unexplained")
    w.equal(ev["lost"], 0, f"{app.name}: events beyond its log")


def main(api_app, count):
    with World("api-transfer") as w:
        a, b = api_pair(w, "198.18.6", api=("a", "b"), limits=LIMITS)
        start_pair(a, b, DURATION, peers=False)
        app_a = App(w, api_app, a.api_socket, "app-a")
        app_b = App(w, api_app, b.api_socket, "app-b")
        for app in (app_a, app_b):
            w.equal(app.rc(f"attach {app.name}"), 0, f"{app.name} attaches")
            for c in CHANS.split(","):
                w.equal(app.rc(f"register {c}"), 0, f"{app.name} serves channel {c}")
        request_errors(w, app_a, a)
        connect(w, app_a, app_b, a, b)

        ra, rb = transfer(w, app_a, app_b, a, b, count)
        check_counted(w, a, "app-a", (ra["sent"], ra["sent_bytes"]), (ra["recv"], ra["recv_bytes"]))
        check_counted(w, b, "app-b", (rb["sent"], rb["sent_bytes"]), (rb["recv"], rb["recv_bytes"]))
        log(f"transfer: A sent {ra['sent_bytes']} B, B sent {rb['sent_bytes']} B; "
            f"A nobufs {ra['nobufs']} writable {ra['writable']}, "
            f"B nobufs {rb['nobufs']} writable {rb['writable']}")

        disconnect_reconnect(w, app_a, app_b, a, b)
        stranger = connect_failed(w, app_a, a)
        leftover_events(w, app_b, ())
        for app in (app_a, app_b):
            check_clean(w, app)

        b.kill9()
        ev = app_a.cmd(f"expect disconnected {node_hex(b)} -1 {IDLE_TIMEOUT_MS // 1000 + 30}")
        w.equal((ev["reason"], ev["by_peer"]), (CLOSE_IDLE, 0),
                "A: NODE_DISCONNECTED after B's death (idle timeout, not by the peer)")
        leftover_events(w, app_a, (node_hex(b)[:8], stranger))
        check_clean(w, app_a)
        app_a.stop()
        app_b.stop()
        stop_appliances(w, a)


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(f"usage: {sys.argv[0]} SLUICE API_APP [COUNT]")
    it.run(lambda: main(os.path.abspath(sys.argv[2]),
                        int(sys.argv[3]) if len(sys.argv) > 3 else COUNT))
