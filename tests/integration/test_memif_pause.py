#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Stop one appliance (SIGSTOP) for longer than the idle and handshake timeouts, then let it go
on (SIGCONT): it must not answer the initiations that waited for it in its receive ring.

    test_memif_pause.py SLUICE

A (memif server, lcore 0) and B (memif client, lcore 1) peer with each other (1 s idle timeout,
200 ms keepalives, 500 ms handshake timeout) and connect. B is stopped for PAUSE_S seconds:
A's session times out and A dials again and again, every initiation waiting in B's memif ring.
When B goes on, each of those initiations is older than the handshake timeout; answering them
used to open a session per initiation, each replacing the last (A had given every one of them
up). Now:
  - B counts them in stale_initiations (/sluice/drops, control) and answers none: B's
    `replaced` counter does not move, and it opens at most two sessions after waking (its own
    dial and A's next fresh initiation may cross; one of the two then wins);
  - A and B are connected again, and both stop on SIGTERM with status 0 and every mbuf back.
"""
import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_integ import World, log  # noqa: E402

PAUSE_S = 4.0      # > idle timeout (1 s) and handshake timeout (0.5 s), a few of A's dials
DURATION = 60      # each appliance's --duration: the hard limit of its run
WAIT = 30          # the longest wait for any one step


def control(n):
    return n.query("/sluice/drops").get("control", {})


def main():
    with World("pause") as w:
        a = w.node("a", core=0, ip="198.18.3.1")
        b = w.node("b", core=1, ip="198.18.3.2")
        w.link(a, b)
        for n in (a, b):
            n.cfg["limits"] = {"idle_timeout_ms": 1000, "keepalive_ms": 200,
                               "handshake_timeout_ms": 500}
        a.peer(b)
        b.peer(a)
        a.start(duration=DURATION)
        a.wait_log(r"lcore: \d+: running", timeout=WAIT)  # the memif server listens
        b.start(duration=DURATION)
        a.wait_log(r"NodeConnected peer=b ", timeout=WAIT)
        b.wait_log(r"NodeConnected peer=a ", timeout=WAIT)
        before = control(b)
        log(f"b: control before the pause {before}")

        since_a, since_b = a.stderr_size(), b.stderr_size()
        os.kill(b.proc.pid, signal.SIGSTOP)
        log(f"b: stopped for {PAUSE_S} s")
        try:
            a.wait_log(r"NodeDisconnected peer=b ", timeout=WAIT, since=since_a)
            time.sleep(PAUSE_S)
        finally:
            os.kill(b.proc.pid, signal.SIGCONT)
        log("b: continued")
        a.wait_log(r"NodeConnected peer=b ", timeout=WAIT, since=since_a)
        b.wait_log(r"NodeConnected peer=a ", timeout=WAIT, since=since_b)
        time.sleep(1.0)  # anything still queued has been seen
        b.wait_snapshot()
        after = control(b)
        log(f"b: control after the pause {after}")
        a_sent = control(a).get("initiations_sent", 0)

        stale = after.get("stale_initiations", 0) - before.get("stale_initiations", 0)
        opened = after.get("sessions_opened", 0) - before.get("sessions_opened", 0)
        replaced = after.get("replaced", 0) - before.get("replaced", 0)
        w.check(stale >= 1, f"b: {stale} stale initiations counted (A sent {a_sent} in all)")
        w.equal(replaced, 0, "b: sessions replaced by a stale initiation")
        w.check(1 <= opened <= 2, f"b: {opened} sessions opened after waking (1 or 2)")

        rc_a, rc_b = a.stop(), b.stop()
        w.equal(rc_a, 0, "a (SIGTERM) exit status")
        w.equal(rc_b, 0, "b (SIGTERM) exit status")
        for n in (a, b):
            w.equal(n.summary().get("exit", {}).get("mbufs_in_use"), 0,
                    f"{n.name}: mbufs in use at exit")


if __name__ == "__main__":
    if len(sys.argv) < 2 or any(sys.argv[2:]):
        sys.exit(f"usage: {sys.argv[0]} SLUICE")
    it.run(main)
