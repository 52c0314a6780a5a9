#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Nothing lost without a count: a source on A streams to a sink on B over memif; B goes away
mid-transfer; every message A's source handed to its engine is, in the end, verified by B's
sink or counted as undelivered (docs/operations.md, "Undelivered messages").

    test_undelivered.py SLUICE pause   SIGSTOP B for longer than the idle timeout
    test_undelivered.py SLUICE kill    kill -9 B, then start it again

A (memif server, lcore 0) runs a source (channel 1, unbounded, SIZE bytes at RATE/s); B (memif
client, lcore 1) a sink. Both have a 1 s idle timeout and peer each other.

pause: once B's sink has verified BEFORE messages, B is stopped (SIGSTOP) while its lcore sleeps
between two polling rounds (so every packet it built has left: a stop in the middle of a round
could hold back an ACK that only leaves once A's session is gone, which A could never count).
A's session ends on its idle timeout, its NodeDisconnected line saying how many messages were
undelivered. B is continued (SIGCONT) half a second later, past its own idle deadline: it takes
what waited for it in its port, closes its old session at its first turn without answering,
and the two reconnect. Once the new session has carried AFTER more messages, A then B are
stopped (SIGTERM). From the summaries, exactly:

    A source msgs_sent = B sink msgs_verified + A source undelivered
                         - B sink delivered_unacked + B sink discarded_acked

with undelivered > 0 (the path was taken); the NodeDisconnected count, telemetry
(/sluice/services, /sluice/channels) and the summary's channel lines agree.

kill: B is killed with SIGKILL mid-transfer, just after its sink's counters were read from
telemetry, and started again once A's session has ended. B's counters die with it: what its
sink verified after that last snapshot (at most 0.5 s old), and its delivered_unacked and
discarded_acked at the moment of death, are unknown. So exact equality is only possible when
both ends survive; here the test asserts the honest bounds:
  - undelivered(A) > 0, and A's NodeDisconnected count equals its telemetry;
  - nothing delivered that was not sent: verified(B before) + verified(B after) <= sent(A);
  - nothing vanished uncounted: sent(A) <= verified(B before, from a snapshot taken just
    before the kill) + verified(B after) + undelivered(A) - delivered_unacked(B after)
    + discarded_acked(B after) + what B may have verified between that snapshot and its death
    (RATE x the time between them, doubled, + a burst of 64);
  - B's sink saw nothing lost, duplicated or corrupt; both exit 0 with every mbuf back.

No timed assertion: every wait has a generous deadline and the assertions are on counters.
"""
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_integ import World, log, sink, source  # noqa: E402

RATE = 2000               # messages/s
SIZE = (32, 2048)
IDLE_TIMEOUT_MS = 1000
KEEPALIVE_MS = 200
BEFORE = 300              # messages B's sink verifies before it goes away
AFTER = 300               # ... and in the new session
DURATION = 60             # each appliance's --duration: the hard limit of its run
WAIT = 30                 # the longest wait for any one step
DISCONNECTED = (r"NodeDisconnected peer=b \S+ connid=\S+ reason=(\S+) by=(\S+)"
                r"(?: undelivered=(\d+) undelivered_bytes=(\d+))?")


def configure(w):
    a = w.node("a", core=0, ip="198.18.4.1")
    b = w.node("b", core=1, ip="198.18.4.2")
    w.link(a, b)
    for n in (a, b):
        n.cfg["channels"] = [{"id": 1, "priority": 2}]
        n.cfg["limits"] = {"idle_timeout_ms": IDLE_TIMEOUT_MS, "keepalive_ms": KEEPALIVE_MS,
                           "handshake_timeout_ms": 1000}
    a.peer(b)
    b.peer(a)
    a.cfg["services"] = [source(b, channel=1, count=0, size=SIZE, rate=RATE)]
    b.cfg["services"] = [sink(1)]
    return a, b


def wait_until(what, cond, nodes):
    return it.wait_until(what, cond, WAIT, nodes)


def verified(n):
    return n.service_stats(0).get("msgs_verified", 0)


def fresh_verified(n):
    """What n's sink has verified, from a statistics snapshot just taken, and a time before
    that snapshot (Node.fresh_services)."""
    svc, t = n.fresh_services(WAIT)
    return svc.get(0, {}).get("msgs_verified", 0), t


def start(a, b):
    a.start(duration=DURATION)
    a.wait_log(r"lcore: \d+: running", timeout=WAIT)  # the memif server listens
    b.start(duration=DURATION)
    a.wait_log(r"NodeConnected peer=b ", timeout=WAIT)
    b.wait_log(r"NodeConnected peer=a ", timeout=WAIT)
    wait_until(f"B's sink verified {BEFORE} messages", lambda: verified(b) >= BEFORE, (a, b))


def a_disconnected(w, a, since):
    """A's NodeDisconnected for b, after the byte offset since: its undelivered count."""
    m, _ = a.wait_log(DISCONNECTED, timeout=IDLE_TIMEOUT_MS / 1000 + WAIT, since=since)
    log(f"a: '{m.group(0)}'")
    w.equal(m.group(1), "idle_timeout", "a: NodeDisconnected reason")
    undelivered = int(m.group(3) or 0)
    w.check(undelivered > 0, f"a: NodeDisconnected says undelivered={undelivered} > 0")
    a.wait_snapshot()
    src = a.service_stats(0)
    w.equal(src.get("undelivered"), undelivered,
            "a: the source's undelivered (telemetry) = the NodeDisconnected count")
    ch = (a.query("/sluice/channels") or {}).get("1", {})
    w.equal(ch.get("undelivered"), undelivered, "a: /sluice/channels 1 undelivered")
    return undelivered


def reconnect(a, b, since_a, since_b=0):
    a.wait_log(r"NodeConnected peer=b ", timeout=WAIT, since=since_a)
    b.wait_log(r"NodeConnected peer=a ", timeout=WAIT, since=since_b)
    log("session re-established")


def stop_both(w, a, b, run_b=-1):
    rc_a = a.stop()
    rc_b = b.stop()
    sa, sb = a.summary(), b.summary(run_b)
    for n, s in ((a, sa), (b, sb)):
        log(f"{n.name}: summary {s.get('summary')}")
        log(f"{n.name}: services {s.get('services')}")
        log(f"{n.name}: channels {s.get('channels')} {s.get('channel')}")
        w.equal(s.get("exit", {}).get("mbufs_in_use"), 0, f"{n.name}: mbufs in use at exit")
    w.equal(rc_a, 0, "a (SIGTERM) exit status")
    w.equal(rc_b, 0, "b (SIGTERM) exit status")
    snk = sb["services"][0]
    for k in ("lost", "duplicated", "corrupt"):
        w.equal(snk[k], 0, f"b: sink {k}")
    w.equal(snk["msgs_verified"], snk["msgs_recv"], "b: the sink verified all it got")
    src = sa["services"][0]
    w.equal(sa["channel"].get(1, {}).get("undelivered", 0), src["undelivered"],
            "a: summary channel=1 undelivered = the source's")
    w.equal(sb["channel"].get(1, {}).get("delivered_unacked", 0), snk["delivered_unacked"],
            "b: summary channel=1 delivered_unacked = the sink's")
    return src, snk


def run_pause():
    with World("undelivered-pause") as w:
        a, b = configure(w)
        start(a, b)
        since = a.stderr_size()
        b.pause_between_polls()
        t_pause = time.monotonic()
        undelivered = a_disconnected(w, a, since)
        # B must be past its own idle deadline when it runs again (else it would answer)
        time.sleep(max(0.0, t_pause + IDLE_TIMEOUT_MS / 1000 + 0.5 - time.monotonic()))
        since, since_b = a.stderr_size(), b.stderr_size()
        b.resume()
        reconnect(a, b, since, since_b)
        got = verified(b)
        wait_until(f"B's sink verified {AFTER} more", lambda: verified(b) >= got + AFTER, (a, b))
        src, snk = stop_both(w, a, b)
        w.check(src["undelivered"] >= undelivered,
                f"a: source undelivered {src['undelivered']} >= {undelivered} of the first session")
        w.equal(it.counted(src, snk), src["msgs_sent"],
                f"nothing lost without a count, exactly: {it.balance_line(src, snk)}")


def run_kill():
    with World("undelivered-kill") as w:
        a, b = configure(w)
        start(a, b)
        since = a.stderr_size()
        before, t_snap = fresh_verified(b)
        b.kill9()
        t_kill = time.monotonic()
        log(f"b: its sink had verified {before} (a telemetry snapshot taken at most "
            f"{1000 * (t_kill - t_snap):.0f} ms before the kill)")
        a_disconnected(w, a, since)
        since = a.stderr_size()
        b.start(duration=DURATION)
        reconnect(a, b, since)
        wait_until(f"B's sink verified {AFTER} after the restart",
                   lambda: verified(b) >= AFTER, (a, b))
        src, snk = stop_both(w, a, b)
        sent, undel, after = src["msgs_sent"], src["undelivered"], snk["msgs_verified"]
        slack = int(2 * RATE * (t_kill - t_snap)) + 64
        w.check(src["undelivered"] > 0, f"a: source undelivered {undel} > 0")
        w.check(before + after <= sent,
                f"nothing delivered that was not sent: b verified {before} + {after} <= a sent "
                f"{sent}")
        counted = before + it.counted(src, snk)
        w.check(sent <= counted + slack,
                f"nothing uncounted: a sent {sent} <= {counted} counted + {slack} B may have "
                f"verified after its last snapshot (missing {sent - counted})")


if __name__ == "__main__":
    mode = sys.argv[2] if len(sys.argv) > 2 else ""
    if mode not in ("pause", "kill"):
        sys.exit(f"usage: {sys.argv[0]} SLUICE pause|kill")
    it.run(run_pause if mode == "pause" else run_kill)
