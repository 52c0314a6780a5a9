#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A node that knows only a seed's address, without its key, over memif.

    test_keyless_seed.py SLUICE

A (memif server, lcore 0) has no peers and no discovery section. B (memif client, lcore 1) has
no peers either, only `discovery.seeds: ["<A's ip>:<port>"]`. Checked:
  - B dials A with Noise XX and learns A's key: B logs NodeConnected with `key_learned=xx`, and
    B's /sluice/peers shows A's public key, connected, as initiator, at the seed's address,
    `key_learned: xx`; /sluice/dials is empty again (the keyless dial ended with its session);
    B's control counters: keys_learned 1;
  - A sees B connected (a node it did not know), with B's capabilities: peer exchange (B has a
    discovery section), while B sees none for A (A has none);
  - B restarted with another channel set: its handshake with A is refused at connect, with the
    reason on B's side (ConnectFailed ... reason=channel_set_mismatch, the address named, no
    key), counted (refused_channel_set_mismatch), and /sluice/discovery counts the failed dial
    (dials_failed) and dials the seed again (seed_dials);
  - both stop on SIGTERM with status 0 and every mbuf back.
The address book is not part of the appliance yet, so nothing is checked across a restart.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_integ import World, log, wait_until  # noqa: E402

DURATION = 60  # each appliance's --duration: the hard limit of its run
WAIT = 30      # the longest wait for any one step
SL_CAP_PEX = 4


def by_key(n, key):
    """n's /sluice/peers entry of the node with that public key, or None."""
    for entry in (n.query("/sluice/peers") or {}).values():
        if isinstance(entry, dict) and entry.get("public_key") == key:
            return entry
    return None


def control(n):
    return n.query("/sluice/drops").get("control", {})


def disc(n):
    return n.query("/sluice/discovery") or {}


def main():
    with World("keyless-seed") as w:
        a = w.node("a", core=0, ip="198.18.4.1")
        b = w.node("b", core=1, ip="198.18.4.2")
        w.link(a, b)
        seed = f"{a.ip}:{a.udp_port}"
        b.cfg["discovery"] = {"seeds": [seed]}
        a.start(duration=DURATION)
        a.wait_log(r"lcore: \d+: running", timeout=WAIT)  # the memif server listens
        b.start(duration=DURATION)

        m, _ = b.wait_log(r"NodeConnected peer=- key=(\S+) addr=(\S+) .*role=initiator"
                          r" caps=(\S+) key_learned=xx", timeout=WAIT)
        w.check(a.public_key.startswith(m.group(1)), f"b: the node at {seed} is A ({m.group(1)})")
        w.equal(m.group(2), seed, "b: NodeConnected address")
        pa = wait_until("A connected in b's /sluice/peers",
                        lambda: (lambda e: e if e and e.get("state") == "connected" else None)(
                            by_key(b, a.public_key)), WAIT, nodes=(a, b))
        w.equal(pa.get("key_learned"), "xx", "b: A's key learned by XX")
        w.equal(pa.get("role"), "initiator", "b: role")
        w.equal(pa.get("addr"), seed, "b: A dialled at the seed's address")
        w.equal(pa.get("configured"), "no", "b: A is not a configured peer")
        w.equal(int(pa.get("capabilities", "-1"), 0), 0, "b: A's capabilities (no discovery)")
        w.equal(b.query("/sluice/dials") or {}, {}, "b: no keyless dial left")
        ctl = control(b)
        w.equal(ctl.get("keys_learned"), 1, "b: keys_learned")
        w.check(ctl.get("addr_dials", 0) >= 1, f"b: addr_dials {ctl.get('addr_dials')}")
        pb = wait_until("B connected in a's /sluice/peers",
                        lambda: (lambda e: e if e and e.get("state") == "connected" else None)(
                            by_key(a, b.public_key)), WAIT, nodes=(a, b))
        w.equal(pb.get("role"), "responder", "a: role")
        w.equal(int(pb.get("capabilities", "-1"), 0), SL_CAP_PEX, "a: B's capabilities (PEX)")
        w.equal(pb.get("key_learned"), "no", "a: key_learned")

        # B again, with a channel set A does not have: refused at connect, with the reason
        w.equal(b.stop(), 0, "b (SIGTERM) exit status")
        b.cfg["channels"] = [{"id": 1}, {"id": 2, "kind": "datagram"}]
        b.start(duration=DURATION)
        m, _ = b.wait_log(r"ConnectFailed peer=- key=- addr=(\S+) reason=channel_set_mismatch",
                          timeout=WAIT)
        w.equal(m.group(1), seed, "b: ConnectFailed names the seed's address")
        w.check(control(b).get("refused_channel_set_mismatch", 0) >= 1,
                "b: refused_channel_set_mismatch counted")
        # discovery dials a seed once per attempt and tries again on its own schedule while its
        # book has nothing better: the failure is counted, the seed dialled again
        wait_until("b: the failed seed dial counted and the seed dialled again",
                   lambda: (lambda d: d.get("dials_failed", 0) >= 1 and
                            d.get("seed_dials", 0) >= 2)(disc(b)), WAIT, nodes=(a, b))
        w.check(by_key(b, a.public_key) is None, "b: no session with A")

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
