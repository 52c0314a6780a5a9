#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Peer policy (`peers_only`) over memif: a wrong key configured for a peer.

    test_peer_policy.py SLUICE

A (memif server, lcore 0) configures B with B's key and runs a source of 50 messages to B.
B (memif client, lcore 1) configures A under a *wrong* key (another node's) and has a sink.
B's own dials of "A" are dropped by A (their mac1 is keyed to the wrong key); A's dials reach
B, and what B does with them is the policy:
  - `peers_only: true`: A is no configured peer of B (its key is not B's peer's) and B has no
    discovery section, so each of A's initiations is refused once read, before any session:
    B's /sluice/drops counts them (control.refused_policy, at least 3 — A resends every
    second), B has no session and its sink received nothing, and B logged
    `InboundRefused key=<A's 12 characters> reason=policy addr=<A>` exactly once (once per node
    a minute);
  - B restarted with the same configuration without `peers_only` (the default): A is accepted
    inbound as any node of the network would be — today's behaviour, documented in
    docs/operations.md — and B's sink receives A's 50 messages;
  - both stop on SIGTERM with status 0.
"""
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_integ import World, sink, source, wait_until  # noqa: E402

DURATION = 60  # each appliance's --duration: the hard limit of its run
WAIT = 20      # the longest wait for any one step
COUNT = 50


def control(n):
    return (n.query("/sluice/drops") or {}).get("control", {})


def sink_recv(n):
    return n.service_stats(0).get("msgs_recv", 0)


def main():
    with World("peer-policy") as w:
        a = w.node("a", core=0, ip="198.18.5.1")
        b = w.node("b", core=1, ip="198.18.5.2")
        w.link(a, b)
        a.peer(b)
        a.cfg["services"] = [source(b, 1, COUNT, 100)]
        b.peer(a)
        b.cfg["peers"][0]["public_key"] = w.keygen(os.path.join(w.dir, "wrong.key"))
        b.cfg["services"] = [sink(1)]
        b.cfg["peers_only"] = True
        a.start(duration=DURATION)
        a.wait_log(r"lcore: \d+: running", timeout=WAIT)  # the memif server listens
        b.start(duration=DURATION)

        wait_until("b: three of A's initiations refused (policy)",
                   lambda: control(b).get("refused_policy", 0) >= 3, WAIT, nodes=(a, b))
        ctl = control(b)
        w.equal(ctl.get("sessions_opened"), 0, "b: sessions opened")
        w.equal(ctl.get("refused"), ctl.get("refused_policy"), "b: every refusal is policy's")
        b.wait_snapshot()
        w.equal(sink_recv(b), 0, "b: the sink received nothing")
        lines = re.findall(r"level=warning sluice: InboundRefused (.*)", b.stderr())
        w.equal(len(lines), 1, f"b: one InboundRefused line for {ctl.get('refused_policy')} "
                "refusals")
        w.check(lines[:1] == [f"key={a.public_key[:12]} reason=policy "
                              f"addr={a.ip}:{a.udp_port} via=00000000"],
                f"b: InboundRefused names A: {lines[:1]}")
        w.check("NodeConnected" not in b.stderr(), "b: nothing connected")
        w.equal(b.stop(), 0, "b (SIGTERM) exit status")

        # the same configuration without peers_only: A is accepted inbound and feeds the sink
        del b.cfg["peers_only"]
        b.start(duration=DURATION)
        b.wait_log(rf"NodeConnected peer=- key={re.escape(a.public_key[:12])} .*role=responder",
                   timeout=WAIT)
        wait_until(f"b: the sink received A's {COUNT} messages",
                   lambda: sink_recv(b) >= COUNT, WAIT, nodes=(a, b))
        w.equal(control(b).get("refused_policy"), 0, "b: nothing refused by policy")
        w.equal(b.stop(), 0, "b (SIGTERM) exit status")
        w.equal(a.stop(), 0, "a (SIGTERM) exit status")


if __name__ == "__main__":
    if len(sys.argv) < 2 or any(sys.argv[2:]):
        sys.exit(f"usage: {sys.argv[0]} SLUICE")
    it.run(main)
