#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Kill -9 one appliance in the middle of a transfer, check that the other reports
NodeDisconnected within the protocol's bound, restart the killed one and check that the session
is re-established and traffic resumes and completes.

    test_memif_restart.py SLUICE [client|server] [flat-out]

client|server: which end of the memif link is killed (default: client).

A (memif server, lcore 0) and B (memif client, lcore 1) each run a source towards the other's
sink (A: channel 1, B: channel 2; COUNT messages of 1 B..16 KiB at RATE/s), with a 1 s idle
timeout and 200 ms keepalives. Once both sinks have verified messages, the victim is killed
with SIGKILL while its source is still sending. Then:
  - the survivor lives on and logs NodeDisconnected for the victim, reason=idle_timeout, at most
    IDLE_TIMEOUT_MS + MARGIN_MS after the kill (the only time bound of the test: the protocol's
    disconnect bound, with a margin for log polling and scheduling);
  - the victim is restarted (same key, configuration and EAL file prefix); both log
    NodeConnected again;
  - traffic resumes both ways and completes: both new sources finish (sources_done), the
    restarted sink verifies exactly COUNT messages, the survivor's sink exactly what it had
    verified before the kill plus COUNT; nothing lost, duplicated or corrupt;
  - both stop on SIGTERM with status 0 and every mbuf back (mbufs_in_use=0); the survivor
    opened 2 sessions and ran its source in each.
'server' kills the memif server instead: the client's memif port must then reconnect to the
restarted server's socket. 'flat-out' makes the survivor's source send without end as fast as
the engine takes messages, so that its port is busy when the victim dies; the restarted sink is
then only checked to verify, and keep verifying, the survivor's new stream. DPDK's memif driver
unmaps a dead peer's rings while the survivor's lcore may be writing into them; sluice's memif
guard (drivers/drv_memif_guard.h) keeps the lcores off the port first. 'server flat-out' is
registered (memif_restart_flat_out): one bounded run; the repeated run that counts crashes is
stress_memif_peer_death.py.
"""
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_integ import World, log, sink, source  # noqa: E402

COUNT = 6000
RATE = 2000               # messages/s: COUNT takes 3 s, so the kill is mid-transfer
SIZE = (1, 16384)
IDLE_TIMEOUT_MS = 1000
KEEPALIVE_MS = 200
MARGIN_MS = 1000          # log polling, control-thread and lcore scheduling, sanitizers
BEFORE_KILL = 300         # messages each sink verifies before the kill
DURATION = 60             # each appliance's --duration: the hard limit of its run
WAIT = 30                 # the longest wait for any one step


def configure(w, victim_role, flat_out):
    """(a, b, victim, survivor)"""
    a = w.node("a", core=0, ip="198.18.2.1")
    b = w.node("b", core=1, ip="198.18.2.2")
    w.link(a, b)
    for n in (a, b):
        n.cfg["channels"] = [{"id": 1, "priority": 2}, {"id": 2, "priority": 2}]
        n.cfg["limits"] = {"idle_timeout_ms": IDLE_TIMEOUT_MS, "keepalive_ms": KEEPALIVE_MS,
                           "handshake_timeout_ms": 1000}
    a.peer(b)
    b.peer(a)
    victim, survivor = (b, a) if victim_role == "client" else (a, b)
    ch = {a: 1, b: 2}  # the channel each one's source sends on
    # service 0: the source, service 1: the sink, on both
    victim.cfg["services"] = [
        source(survivor, channel=ch[victim], count=COUNT, size=SIZE, rate=RATE),
        sink(ch[survivor])]
    survivor.cfg["services"] = [
        source(victim, channel=ch[survivor], count=0 if flat_out else COUNT, size=SIZE,
               rate=0 if flat_out else RATE),
        sink(ch[victim])]
    return a, b, victim, survivor


def wait_until(what, cond, timeout=WAIT, nodes=()):
    return it.wait_until(what, cond, timeout, nodes)


def main(victim_role, flat_out):
    with World(f"restart-{victim_role}{'-flat-out' if flat_out else ''}") as w:
        a, b, victim, survivor = configure(w, victim_role, flat_out)
        both = (a, b)

        a.start(duration=DURATION)
        a.wait_log(r"lcore: \d+: running", timeout=WAIT)  # the memif server listens
        b.start(duration=DURATION)
        a.wait_log(r"NodeConnected peer=b ", timeout=WAIT)
        b.wait_log(r"NodeConnected peer=a ", timeout=WAIT)
        wait_until(f"both sinks verified {BEFORE_KILL} messages",
                   lambda: all(n.service_stats(1).get("msgs_verified", 0) >= BEFORE_KILL
                               for n in both), nodes=both)
        st = victim.service_stats(0)
        w.equal(st.get("sources_done"), 0, f"{victim.name}: source still sending before the kill")

        since = survivor.stderr_size()
        t_kill = time.monotonic()
        victim.proc.kill()  # reaped below: on a loaded machine a killed appliance took 13 s to
        # be reaped, its peer's disconnect long logged, and the watch began only after it
        m, t_seen = survivor.wait_log(
            rf"NodeDisconnected peer={victim.name} \S+ connid=\S+ reason=(\S+) by=(\S+)",
            timeout=(IDLE_TIMEOUT_MS + MARGIN_MS) / 1000 + WAIT, since=since)
        victim.kill9()
        took_ms = (t_seen - t_kill) * 1000
        log(f"{survivor.name}: '{m.group(0)}' {took_ms:.0f} ms after the kill "
            f"(idle timeout {IDLE_TIMEOUT_MS} ms, keepalive {KEEPALIVE_MS} ms)")
        time.sleep(0.2)
        w.check(survivor.running(),
                f"{survivor.name} survives {victim.name}'s death (running after the disconnect)")
        w.equal(m.group(1), "idle_timeout", f"{survivor.name}: NodeDisconnected reason")
        w.equal(m.group(2), "us", f"{survivor.name}: NodeDisconnected by")
        w.check(took_ms <= IDLE_TIMEOUT_MS + MARGIN_MS,
                f"{survivor.name}: disconnect reported {took_ms:.0f} ms after the kill, "
                f"within {IDLE_TIMEOUT_MS} + {MARGIN_MS} ms")

        # what the survivor's sink verified from the first session, now retired
        survivor.wait_snapshot()
        before = survivor.service_stats(1)
        log(f"{survivor.name}: sink after the first session: {before}")
        for k in ("lost", "duplicated", "corrupt"):
            w.equal(before.get(k), 0, f"{survivor.name}: sink {k} after the kill")
        k1 = before["msgs_verified"]
        w.check(0 < k1 < COUNT, f"{survivor.name}: the kill was mid-transfer ({k1} of {COUNT})")

        since = survivor.stderr_size()
        victim.start(duration=DURATION)
        survivor.wait_log(rf"NodeConnected peer={victim.name} ", timeout=WAIT, since=since)
        victim.wait_log(rf"NodeConnected peer={survivor.name} ", timeout=WAIT)
        log("session re-established")
        want_v = 1 if flat_out else COUNT  # what the restarted sink must verify at least
        wait_until("the sinks verify again, the sources complete",
                   lambda: (survivor.service_stats(1).get("msgs_verified", 0) >= k1 + COUNT
                            and victim.service_stats(1).get("msgs_verified", 0) >= want_v
                            and victim.service_stats(0).get("sources_done", 0) >= 1
                            and (flat_out
                                 or survivor.service_stats(0).get("sources_done", 0) >= 1)),
                   timeout=COUNT / RATE + WAIT, nodes=both)
        if flat_out:
            got = victim.service_stats(1).get("msgs_verified", 0)
            wait_until(f"{victim.name}'s sink keeps verifying (beyond {got})",
                       lambda: victim.service_stats(1).get("msgs_verified", 0) > got,
                       nodes=both)

        rc_v = victim.stop()
        rc_s = survivor.stop()
        sv, ss = victim.summary(), survivor.summary()
        for n, s in ((victim, sv), (survivor, ss)):
            log(f"{n.name}: summary {s.get('summary')}")
            log(f"{n.name}: services {s.get('services')}")
            log(f"{n.name}: drops {s.get('drops')}")
        w.equal(rc_v, 0, f"{victim.name} (restarted, SIGTERM) exit status")
        w.equal(rc_s, 0, f"{survivor.name} (SIGTERM) exit status")
        for n, s in ((victim, sv), (survivor, ss)):
            w.equal(s.get("exit", {}).get("mbufs_in_use"), 0, f"{n.name}: mbufs in use at exit")
            src, snk = s["services"][0], s["services"][1]
            for k in ("lost", "duplicated", "corrupt", "expired"):
                w.equal(snk[k], 0, f"{n.name}: sink {k}")
            w.equal(snk["msgs_verified"], snk["msgs_recv"], f"{n.name}: sink verified all it got")
        w.equal(it.done_counts(sv["services"][0]), (1, 1), f"{victim.name} (restarted): source done")
        w.equal(sv["services"][0]["msgs_sent"], COUNT, f"{victim.name} (restarted): source msgs_sent")
        if flat_out:
            w.check(sv["services"][1]["msgs_verified"] > 0,
                    f"{victim.name} (restarted): sink verified {sv['services'][1]['msgs_verified']} > 0")
            w.equal(it.done_counts(ss["services"][0])[1], 2,
                    f"{survivor.name}: its source ran in both sessions")
        else:
            w.equal(sv["services"][1]["msgs_verified"], COUNT,
                    f"{victim.name} (restarted): sink msgs_verified")
            w.equal(it.done_counts(ss["services"][0]), (1, 2),
                    f"{survivor.name}: its source ran in both sessions, done in the second")
        w.equal(ss["services"][1]["msgs_verified"], k1 + COUNT,
                f"{survivor.name}: sink msgs_verified (first session + second)")
        w.equal(ss["summary"]["sessions_opened"], 2, f"{survivor.name}: sessions opened")


if __name__ == "__main__":
    opts = sys.argv[2:]
    role = opts.pop(0) if opts and opts[0] in ("client", "server") else "client"
    flat = opts == ["flat-out"]
    if opts and not flat:
        sys.exit(f"usage: {sys.argv[0]} SLUICE [client|server] [flat-out]")
    it.run(lambda: main(role, flat))
