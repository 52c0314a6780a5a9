#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Three appliances in a line, A - R - B, over two memif links: A and B have no link and no
address of each other; A reaches B only through R, a relay (docs/protocol.md, section 17).

  1. Relayed session. B keeps a reservation at R ("relay_reserve"); A has B as a peer "via"
     R, and a peer "ghost" via R too (a key no node has). R's port facing A corrupts 1 % of
     what it receives (the impairment stage), so some relayed packets reach B altered.
     A's sources send 10,000 messages of 1 B..8 KiB on each of channels 1 and 2 to B's echo
     services and verify every echo: 20,000 messages each way, byte for byte. Checked:
       - every message sent came back verified, none lost, duplicated or corrupt;
       - the A-B session goes through R's circuit at both ends (/sluice/peers "via");
       - R forwarded it without being part of it: R's only sessions are with A and B, R's
         circuit counters (/sluice/relay) carried about what A and B sent each other, and far
         more than R's own sessions received;
       - altered packets: B's AEAD refused some (data_decrypt_failed > 0) and the transfer
         is still exact;
       - A heard why the circuit to "ghost" was refused: unknown_destination.
  2. No reservation. B restarts without "relay_reserve": R ends the circuit (peer_gone) and
     refuses A's new request: A's telemetry says no_reservation.
  3. Peer policy. B comes back with its reservation and `peers_only` (A is not its peer): A's
     handshake through the circuit is refused at B (policy), no session opens.
  4. Limits. R restarts with a 64 KiB byte limit per circuit and B with its reservation: A's
     new circuit carries a burst and ends at its limit: A hears bytes_limit, R counts it.
Every appliance exits 0 with every mbuf back in its pool.
"""
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_integ import World, echo, log, source  # noqa: E402

COUNT = 10000  # per channel
SIZE = (1, 8192)
CHANNELS = [{"id": 1, "kind": "reliable", "priority": 4},
            {"id": 2, "kind": "reliable", "priority": 2}]
DURATION = 150  # hard limit of every run (seconds)
WAIT = 30


def configure(w):
    a = w.node("a", core=0, ip="198.18.1.2")
    r = w.node("r", core=1, ip="198.18.1.1")
    b = w.node("b", core=0, ip="198.18.2.2")
    corrupt = {"corrupt": 0.01, "seed": int(os.environ.get("SLUICE_IT_SEED", "20261208"))}
    w.link(r, a, name="ar", impair_server=corrupt)
    w.link(r, b, name="rb", server_ip="198.18.2.1")
    for n in (a, r, b):
        n.cfg["channels"] = CHANNELS
        n.cfg["limits"] = {"max_message": 65536, "handshake_timeout_ms": 1000}
    r.cfg["relay"] = {"max_circuits": 8}
    a.peer(r)
    b.peer(r, ip="198.18.2.1")
    b.cfg["peers"][0]["relay_reserve"] = True
    ghost = os.path.join(w.dir, "ghost.key")
    a.cfg["peers"] += [{"name": "b", "public_key": b.public_key, "via": "r"},
                       {"name": "ghost", "public_key": w.keygen(ghost), "via": "r"}]
    a.cfg["services"] = [source(b, 1, COUNT, SIZE, expect_echo=True),
                         source(b, 2, COUNT, SIZE, expect_echo=True)]
    b.cfg["services"] = [echo(1), echo(2)]
    return a, r, b


def via(node, peer):
    return (node.query("/sluice/relay").get("via") or {}).get(peer) or {}


def wait_via(w, node, peer, key, want, timeout=WAIT):
    it.wait_until(f"{node.name}: via {peer} {key} = {want}",
                  lambda: via(node, peer).get(key) == want, timeout, nodes=[node])
    w.equal(via(node, peer).get(key), want, f"{node.name}: /sluice/relay via.{peer}.{key}")


def sources_done(a):
    svc = a.services()
    return len(svc) == 2 and all(int(svc[i].get("sources_done", 0)) >= 1 for i in (0, 1))


def relayed_transfer(w, a, r, b):
    r.start(duration=DURATION)
    r.wait_log(r"lcore: \d+: running", timeout=WAIT)
    b.start(duration=DURATION)
    a.start(duration=DURATION)
    a.wait_log(r"NodeConnected peer=b .* via=[0-9a-f]{8}", timeout=WAIT)
    it.wait_until("a: both sources done", lambda: sources_done(a), DURATION - 20, nodes=[a, r, b],
                  every=0.5)
    svc = a.services()
    for i, ch in enumerate((1, 2)):
        src = svc[i]
        w.equal(src["msgs_sent"], COUNT, f"a: source ch {ch} msgs_sent")
        w.equal(src["msgs_recv"], COUNT, f"a: source ch {ch} echoes received")
        w.equal(src["msgs_verified"], COUNT, f"a: source ch {ch} echoes verified")
        for k in ("lost", "duplicated", "corrupt"):
            w.equal(src.get(k, 0), 0, f"a: source ch {ch} {k}")


def check_forwarding(w, a, r, b):
    rel = r.query("/sluice/relay")
    peers_r = r.query("/sluice/peers")
    peers_b = b.query("/sluice/peers")
    log(f"r: relay {rel}")
    nodes = sorted(k for k in peers_r if isinstance(peers_r[k], dict))
    w.equal(len(nodes), 2, f"r: nodes with sessions ({nodes}): a and b only")
    own_in = sum(int(p.get("pkts_in", 0)) for p in peers_r.values() if isinstance(p, dict))
    fwd = int(rel.get("forwarded_pkts", 0))
    w.check(fwd > 20000, f"r: forwarded {fwd} packets > 20,000")
    w.check(own_in * 10 < fwd, f"r: its own sessions received {own_in}, a tenth of {fwd} at most")
    w.check(int(rel.get("circuits_opened", 0)) >= 1, "r: circuits_opened >= 1")
    a_node = [p for p in peers_b.values() if isinstance(p, dict) and p.get("via")]
    w.check(len(a_node) >= 1, "b: a node reached through a circuit (via != 0)")
    w.check(int((a.query("/sluice/peers").get("b") or {}).get("via", 0)) != 0,
            "a: its session with b goes through a circuit (via != 0)")
    return b.query("/sluice/drops").get("dataplane") or {}


def no_reservation(w, a, r, b):
    """B comes back without its reservation: A's circuit ended, its new request refused."""
    b.stop()
    del b.cfg["peers"][0]["relay_reserve"]
    b.start(duration=DURATION)
    a.wait_log(r"CircuitEnded peer=b relay=r reason=peer_gone", timeout=WAIT)
    wait_via(w, a, "b", "last_status", "no_reservation")
    rel = r.query("/sluice/relay")
    w.check(rel["ended_by"]["peer_gone"] >= 1, "r: a circuit ended because b went (peer_gone)")
    w.check(rel["refused_by"]["no_reservation"] >= 1, "r: a request refused: no_reservation")
    w.check(via(a, "b").get("losses", 0) >= 1, "a: via b losses >= 1")


def policy(w, a, r, b):
    """B, with its reservation back but peers_only (A is not among its peers), refuses A's
    handshake that comes through R's circuit: the peer policy covers relayed sessions too."""
    for n in (a, b):
        n.stop()
    b.cfg["peers"][0]["relay_reserve"] = True
    b.cfg["peers_only"] = True
    a.cfg["services"] = []  # (a fresh A: its requests start again without back-off)
    b.start(duration=DURATION)
    a.start(duration=DURATION)
    a.wait_log(r"CircuitGranted peer=b relay=r", timeout=WAIT)
    b.wait_log(r"InboundRefused key=\S+ reason=policy .*via=[0-9a-f]{8}", timeout=WAIT)
    ctl = b.query("/sluice/drops").get("control") or {}
    w.check(int(ctl.get("refused_policy", 0)) >= 1,
            f"b: A's relayed handshake refused by policy ({ctl.get('refused_policy')})")
    w.check(not any(isinstance(p, dict) and p.get("via")
                    for p in b.query("/sluice/peers").values()),
            "b: no session through the circuit")
    del b.cfg["peers_only"]


def byte_limit(w, a, r, b):
    """R limits circuits to 64 KiB each way: A's new circuit ends at the limit, A hears why."""
    for n in (a, b, r):
        n.stop()
    r.cfg["relay"]["circuit_bytes"] = 65536
    b.cfg["peers"][0]["relay_reserve"] = True
    a.cfg["services"] = [source(b, 1, 100, 4096, expect_echo=True)]
    r.start(duration=DURATION)
    r.wait_log(r"lcore: \d+: running", timeout=WAIT)
    b.start(duration=DURATION)
    a.start(duration=DURATION)
    a.wait_log(r"CircuitEnded peer=b relay=r reason=bytes_limit", timeout=WAIT)
    it.wait_until("r: ended_by.bytes_limit", lambda: r.query("/sluice/relay")["ended_by"]
                  ["bytes_limit"] >= 1, WAIT, nodes=[r])
    # the counters telemetry shows are a snapshot of the lcores', taken every 500 ms
    it.wait_until("r: relay_limit drops", lambda: int(
        (r.query("/sluice/drops").get("dataplane") or {}).get("relay_limit", 0)) >= 1,
        WAIT, nodes=[r])
    w.check(True, "r: packets past the limit dropped and counted (relay_limit >= 1)")


def main():
    with World("relay") as w:
        a, r, b = configure(w)
        relayed_transfer(w, a, r, b)
        wait_via(w, a, "ghost", "last_status", "unknown_destination")
        db = check_forwarding(w, a, r, b)
        log(f"b: drops {db}")
        w.check(int(db.get("data_decrypt_failed", 0)) > 0,
                "b: altered relayed packets refused by the AEAD (data_decrypt_failed > 0)")
        no_reservation(w, a, r, b)
        policy(w, a, r, b)
        byte_limit(w, a, r, b)
        for n in (a, b, r):
            w.equal(n.stop(), 0, f"{n.name}: exit status (SIGTERM)")
            w.equal(n.summary().get("exit", {}).get("mbufs_in_use"), 0,
                    f"{n.name}: mbufs in use at exit")


if __name__ == "__main__":
    it.run(main)
