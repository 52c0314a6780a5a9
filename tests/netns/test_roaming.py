#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A peer behind a NAT that rebinds: the session follows it, and so do the rekeys.

    test_roaming.py SLUICE      (root, nft and conntrack; exits 77, skipped, without them)

World (netns_lib.World.routed): appliance A — the kernel k, a router with nftables — appliance
B. A knows B only as k's address and a forwarded port: k forwards UDP 198.18.0.1:5000 to B
(DNAT), so B's answers reach A from 198.18.0.1:5000 too (the reverse mapping). A dials B there
and initiates the session (so A is the side that rekeys on time, every rekey_after_s = 10 s);
B knows nothing of A (it takes any node that dials it). A's source feeds B's sink while the
test runs; B's acknowledgements and keepalives are what A sees of B.

Then the NAT rebinds, as a home router's does when it reboots or its mapping times out: port
5000 is forwarded no more, B's packets leave k as from 198.18.0.1:5001 (SNAT), and k's
connection-tracking entries are deleted. A's packets to :5000 now die at k; B's arrive from
:5001. Checked:
  - A's lcore follows the authenticated packets (its session sends to :5001) and tells the
    control thread: A's node for B shows moves >= 1 and its address 198.18.0.1:5001
    (/sluice/peers), `moved` >= 1 in /sluice/drops control;
  - A's next rekey goes to :5001 and completes (the node's rekeys counter rises after the move,
    no rekey_timeout), with no new session (sessions_opened stays 1 on both sides);
  - B's sink verified every message it got in order, nothing lost or corrupt; clean exits.
Before the control thread heard of moves, A's rekeys went to the address it had dialled
(:5000, dead), and the session lived only until its keys expired.
"""
import os
import shutil
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import netns_lib as L  # noqa: E402

FWD_OLD, FWD_NEW = 5000, 5001
REKEY_S = 10


def nft(w, *cmd):
    L.run("nft", *cmd, ns=w.k)


def nat_forward(w, b):
    """k forwards FWD_OLD on A's side to B (and B's answers come back from it). B's own address
    never reaches A's side: a packet of B's that leaves k untranslated — one does at the
    rebind in every run here (84 bytes: a packet in flight while its connection-tracking entry
    is deleted) — is dropped, as a real NAT's upstream drops private sources, instead of
    showing A an address no NAT would (then A follows it, correctly, and the test could not
    tell)."""
    nft(w, "add", "table", "ip", "sl")
    nft(w, "add", "chain", "ip", "sl", "pre", "{ type nat hook prerouting priority dstnat; }")
    nft(w, "add", "chain", "ip", "sl", "post", "{ type nat hook postrouting priority srcnat; }")
    nft(w, "add", "chain", "ip", "sl", "leak",
        "{ type filter hook postrouting priority 200; }")
    nft(w, "add", "rule", "ip", "sl", "leak", "oifname", w.if_ka, "ip", "saddr", w.b_ip,
        "counter", "drop")
    nft(w, "add", "rule", "ip", "sl", "pre", "iifname", w.if_ka, "udp", "dport", str(FWD_OLD),
        "dnat", "to", f"{w.b_ip}:{b.udp_port}")


def nat_rebind(w, b):
    """The mapping changes: FWD_OLD forwards nothing any more, B's packets towards A leave k as
    from FWD_NEW (and A's answers to FWD_NEW come back to B by the reverse mapping)."""
    nft(w, "flush", "chain", "ip", "sl", "pre")
    nft(w, "add", "rule", "ip", "sl", "post", "oifname", w.if_ka, "ip", "saddr", w.b_ip, "udp",
        "sport", str(b.udp_port), "snat", "to", f"{w.k_ip_a}:{FWD_NEW}")
    L.run("conntrack", "-D", "-p", "udp", ns=w.k, check=False)  # exit 1 when none were left


def node_b(peers):
    return (peers or {}).get("b") or {}


def sink_ok(summary, name):
    sink = next(s for s in summary["services"] if s.get("type") == "sink")
    assert int(sink["msgs_verified"]) > 0 and (sink["lost"], sink["duplicated"],
                                                 sink["corrupt"]) == ("0", "0", "0"), \
        f"{name}'s sink: {sink}"
    return int(sink["msgs_verified"])


def main(sluice):
    L.skip_unless_possible(("ip", "nft", "conntrack"))
    L.install_signal_handlers()
    with L.World.routed("roam") as w:
        cores = sorted(os.sched_getaffinity(0))
        limits = {"rekey_after_s": REKEY_S, "idle_timeout_ms": 60000, "keepalive_ms": 1000}
        b = L.Appliance(w, sluice, "b", w.b, w.if_b, w.b_ip, w.k_ip_b, cores[-1], limits=limits,
                        services=[{"type": "sink", "channel": 1}])
        nat_forward(w, b)
        a_peer_b = {"name": "b", "endpoint": f"{w.k_ip_a}:{FWD_OLD}", "public_key": b.pub_b64}
        a = L.Appliance(w, sluice, "a", w.a, w.if_a, w.a_ip, w.k_ip_a, cores[0], limits=limits,
                        peers=[a_peer_b],
                        services=[{"type": "source", "channel": 1, "peer": "b",
                                   "size": {"min": 1, "max": 1400}, "rate": 200}])
        b.start()
        b.telemetry()
        a.start()
        a.telemetry()
        first = a.wait_connected(timeout=30)
        L.log(f"A's session with B: {first.get('addr')}, rekeys {first.get('rekeys')}")
        assert first.get("addr", "").endswith(f":{FWD_OLD}"), first
        time.sleep(1)

        nat_rebind(w, b)
        L.log("NAT rebound: :5000 forwards nothing, B leaves k as :5001")
        moved = node_b(a.wait_for("A's node for B moved",
                                  lambda p: node_b(p).get("moves", 0) >= 1,
                                  "/sluice/peers,b", timeout=20))
        L.log(f"moved: {moved.get('addr')}, moves {moved.get('moves')}")
        assert moved.get("addr", "").endswith(f":{FWD_NEW}"), moved
        rekeys0 = moved.get("rekeys", 0)
        after = node_b(a.wait_for("a rekey after the move",
                                  lambda p: node_b(p).get("rekeys", 0) > rekeys0,
                                  "/sluice/peers,b", timeout=3 * REKEY_S))
        L.log(f"rekeyed after the move: rekeys {after.get('rekeys')}, last error "
              f"{after.get('last_error')!r}")
        ctl_a = a.query("/sluice/drops")["control"]
        ctl_b = b.query("/sluice/drops")["control"]
        assert ctl_a["moved"] >= 1, ctl_a
        assert ctl_a["sessions_opened"] == 1 and ctl_b["sessions_opened"] == 1, \
            f"a new session instead of following: A {ctl_a['sessions_opened']}, " \
            f"B {ctl_b['sessions_opened']}"
        assert after.get("state") == "connected", after
        leak = L.run("nft", "list", "chain", "ip", "sl", "leak", ns=w.k).stdout
        L.log("untranslated packets of B dropped at k: " +
              " ".join(ln.strip() for ln in leak.splitlines() if "counter" in ln))
        time.sleep(1)
        a.stop()
        b.stop()
        sa, sb = L.check_clean_exit(a), L.check_clean_exit(b)
        got = sink_ok(sb, "B")
        L.log(f"B's sink verified {got} messages from A's source, in order, nothing lost")
    L.log("PASS")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: test_roaming.py SLUICE")
    if not shutil.which("nft") or not shutil.which("conntrack"):
        L.skip("needs nft and conntrack (Debian packages nftables, conntrack)")
    sys.exit(main(os.path.abspath(sys.argv[1])))
