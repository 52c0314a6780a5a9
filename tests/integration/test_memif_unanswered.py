#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A memif client port never closes a connection its server has not answered yet.

    test_memif_unanswered.py SLUICE

B (a memif client) starts before its server; its port is restarted every second while nobody
listens. Then a stand-in takes the link's socket: it listens but accepts nothing, as a server
whose interrupt thread is stalled does. B's next restart connects (the connection waits in the
stand-in's backlog) and must then be left alone: after HOLD_S (3 restart periods) the stand-in
accepts and finds the first connection still open and no second one. Closing an unanswered
connection trips a bug of DPDK 22.11's memif server (docs/operations.md, Known limitations:
the server's interrupt thread uses freed memory, and panics or never answers again); B used to
restart, and so close it, after one second. Then the stand-in closes the connection and its
socket without a word, the real server A starts, and B connects to it within the answer wait
(10 s, cp_port.c restart_wait) + WAIT: the session comes up and carries messages.
"""
import os
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_integ import TelemetryError, World, log, sink, source  # noqa: E402

HOLD_S = 3.0              # the stand-in holds B's connection unanswered this long
ANSWER_WAIT_S = 10        # cp_port.c ANSWER_NS
DURATION = 60
WAIT = 30


class StandIn:
    """A listener on the link's socket (memif's sockets are abstract by default: the name is
    the path after a NUL) that accepts nothing until told to."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.bind("\0" + path)
        self.sock.listen(4)
        self.sock.setblocking(False)

    def accept_all(self):
        """The connections waiting in the backlog, each with whether its client still holds it
        open (nothing to read and no end of file)."""
        out = []
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return out
            try:
                is_open = conn.recv(64, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
            except BlockingIOError:
                is_open = True
            out.append((conn, is_open))

    def stop(self):
        self.sock.close()

    def diagnostics(self):
        pass


def connected(b):
    try:
        peers = b.query("/sluice/peers", wait=0.2) or {}
    except TelemetryError:
        return False
    return peers.get("a", {}).get("state") == "connected"


def main():
    with World("unanswered") as w:
        a = w.node("a", core=0, ip="198.18.5.1")
        b = w.node("b", core=1, ip="198.18.5.2")
        w.link(a, b)
        for n in (a, b):
            n.cfg["channels"] = [{"id": 1}]
        a.peer(b)
        b.peer(a)
        b.cfg["services"] = [source(a, channel=1, count=0, size=(32, 256), rate=200)]
        a.cfg["services"] = [sink(1)]
        path = os.path.join(w.dir, "link0.sock")

        b.start(duration=DURATION)
        b.wait_log(r"Failed to connect socket", timeout=WAIT)  # restarted while nobody listens
        stand_in = w.track(StandIn(path))
        _, t_conn = b.wait_log(r"port link0: restarted, connected to its peer's socket",
                               timeout=WAIT)
        log(f"b connected to the stand-in; held unanswered for {HOLD_S} s")
        time.sleep(max(0.0, t_conn + HOLD_S - time.monotonic()))
        conns = stand_in.accept_all()
        w.check(len(conns) >= 1, "b's connection waited in the stand-in's backlog")
        w.equal([o for _, o in conns], [True], f"b's connections after {HOLD_S} s "
                "unanswered: one, still open (none closed by a restart)")
        for conn, _ in conns:
            conn.close()
        stand_in.stop()
        t_gone = time.monotonic()

        a.start(duration=DURATION)
        it.wait_until("b connected to a", lambda: connected(b),
                      ANSWER_WAIT_S + WAIT, [a, b])
        log(f"session up {time.monotonic() - t_gone:.1f} s after the stand-in went away")
        it.wait_until("a's sink verified 100 messages",
                      lambda: a.service_stats(0).get("msgs_verified", 0) >= 100, WAIT, [a, b])
        for n in (b, a):
            w.equal(n.stop(), 0, f"{n.name} (SIGTERM) exit status")
            w.equal(n.summary().get("exit", {}).get("mbufs_in_use"), 0,
                    f"{n.name}: mbufs in use at exit")


if __name__ == "__main__":
    it.run(main)
