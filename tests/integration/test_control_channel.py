#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The control channel between two appliances: a message from A's control thread reaches B's
control thread, and back, on channel 0 of their session.

    test_control_channel.py SLUICE

A (memif server, lcore 0) dials B (memif client, lcore 1); B does not know A. When their
session opens, each control thread sends one HELLO on channel 0 (cp_control.h): cp_ctl posts it
to the session's lcore (DP_CMD_CONTROL_SEND), the engine carries it, the peer's lcore hands it
to its control thread (DP_EVT_CONTROL), which counts it. Checks, on both sides:
  - /sluice/drops control: hello_sent 1, hello_received 1, control_sent 1, control_received 1,
    nothing stale, malformed, of an unknown type, or refused for a full ring;
  - /sluice/peers: the peer's control_sent 1 and control_received 1, its capabilities and the
    listen address it advertised in its handshake;
  - /sluice/info observed_addr: the node's own address and port, as the HELLO told it;
  - no control_* drop on the lcores (/sluice/drops dataplane);
  - both stop on SIGTERM with status 0 and every mbuf back.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_integ import World, log, wait_until  # noqa: E402

DURATION = 60  # each appliance's --duration: the hard limit of its run
WAIT = 30      # the longest wait for any one step

CONTROL_DROPS = ("control_too_large", "control_queue_full", "control_no_memory",
                 "control_send_stale", "control_send_refused")


def peer_entry(n, other):
    """n's /sluice/peers entry of `other` (by public key: B knows A only by its key)."""
    for v in (n.query("/sluice/peers") or {}).values():
        if isinstance(v, dict) and v.get("public_key") == other.public_key:
            return v
    return {}


def check_node(w, n, other):
    ctl = n.query("/sluice/drops")["control"]
    log(f"{n.name}: control {ctl}")
    for key in ("hello_sent", "hello_received", "control_sent", "control_received"):
        w.equal(ctl.get(key), 1, f"{n.name}: {key}")
    for key in ("hello_send_failed", "control_stale", "control_ring_full",
                "control_malformed", "control_unknown_type"):
        w.equal(ctl.get(key), 0, f"{n.name}: {key}")
    p = peer_entry(n, other)
    w.equal(p.get("state"), "connected", f"{n.name}: {other.name}'s state")
    w.equal(p.get("control_sent"), 1, f"{n.name}: control messages sent to {other.name}")
    w.equal(p.get("control_received"), 1,
            f"{n.name}: control messages received from {other.name}")
    w.equal(p.get("listen"), f"{other.ip}:{other.udp_port}",
            f"{n.name}: the listen address {other.name} advertised")
    w.equal(p.get("capabilities"), "0x0", f"{n.name}: {other.name}'s capabilities")
    w.equal(n.query("/sluice/info").get("observed_addr"), f"{n.ip}:{n.udp_port}",
            f"{n.name}: its address as {other.name}'s HELLO saw it")


def main():
    with World("ctlchan") as w:
        a = w.node("a", core=0, ip="198.18.4.1")
        b = w.node("b", core=1, ip="198.18.4.2")
        w.link(a, b)
        a.peer(b)
        a.start(duration=DURATION)
        a.wait_log(r"lcore: \d+: running", timeout=WAIT)  # the memif server listens
        b.start(duration=DURATION)
        a.wait_log(r"NodeConnected peer=b ", timeout=WAIT)
        b.wait_log(r"NodeConnected peer=- ", timeout=WAIT)
        for n in (a, b):
            wait_until(f"{n.name}: a HELLO received",
                       lambda n=n: n.query("/sluice/drops")["control"].get("hello_received"),
                       timeout=WAIT, nodes=(a, b))
        for n in (a, b):
            n.wait_snapshot()  # the lcores' drop counters are at least as new as now
        check_node(w, a, b)
        check_node(w, b, a)
        for n in (a, b):
            dp = n.query("/sluice/drops")["dataplane"]
            for key in CONTROL_DROPS:
                w.equal(dp.get(key), 0, f"{n.name}: dataplane {key}")

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
