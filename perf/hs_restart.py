#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""How long a restarted peer takes to reconnect while the survivor sends to it at full speed.
Run by hand (not part of `make test` or the rig):

    python3 perf/hs_restart.py SLUICE [RUNS] [flat|slow|both]

A (memif server, lcore 0) runs a source towards B's sink (B: memif client, lcore 1): 'flat'
sends 64..1400-byte messages without a rate limit, 'slow' 1,000 a second; 'both' alternates
the two, run by run. Once B's sink verified some messages, B is killed with SIGKILL, and
restarted KILL_GAP seconds later (A's old session is still up: the default 30 s idle timeout),
with the same key and configuration. Measured, from the moment B's lcore runs (B starts
dialling A then; EAL setup before it is the same in both modes): when each side logs
NodeConnected (log lines polled every 2 ms), and A's counters after the reconnect — its
handshake answers, transmit drops (tx_queue_full: a handshake answer dropped behind data),
port_down drops, and B's initiations.

Prints one line per run and a summary per mode (median and maximum). Nothing is asserted.
HS_LOG_LEVEL=LEVEL passes --log-level LEVEL to both (with SLUICE_KEEP_TMP=1 to keep the logs).
"""
import os
import re
import statistics
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import sl_integ as it  # noqa: E402
from sl_integ import TestFailure, World, sink, source  # noqa: E402

WARMUP = 2000      # messages B's sink verifies before the kill
KILL_GAP = 0.5     # seconds between the kill and the restart
DURATION = 40      # each appliance's --duration
WAIT = 20


def first_seen(nodes_patterns, since, timeout):
    """{key: monotonic time each (node, pattern) first matched}, polling every 2 ms."""
    seen = {}
    deadline = time.monotonic() + timeout
    while len(seen) < len(nodes_patterns) and time.monotonic() < deadline:
        for key, (node, pattern) in nodes_patterns.items():
            if key not in seen and re.search(pattern, node.stderr()[since.get(node, 0):]):
                seen[key] = time.monotonic()
        time.sleep(0.002)
    return seen


def counters(n):
    d = n.query("/sluice/drops")
    dp, ctl = d.get("dataplane", {}), d.get("control", {})
    return {"tx_queue_full": dp.get("tx_queue_full", 0), "port_down": dp.get("port_down", 0),
            "initiations_received": ctl.get("initiations_received", 0),
            "initiations_sent": ctl.get("initiations_sent", 0)}


def one_run(i, mode):
    with World(f"hsrestart{i}", sys.argv[:2]) as w:
        a = w.node("a", core=0, ip="198.18.6.1")
        b = w.node("b", core=1, ip="198.18.6.2")
        w.link(a, b)
        a.peer(b)
        b.peer(a)
        a.cfg["services"] = [source(b, channel=1, count=0, size=(64, 1400),
                                    rate=0 if mode == "flat" else 1000)]
        b.cfg["services"] = [sink(1)]
        level = os.environ.get("HS_LOG_LEVEL")  # e.g. 'sluice.*:debug'
        a.start(duration=DURATION, log_level=level)
        a.wait_log(r"lcore: \d+: running", timeout=WAIT)
        b.start(duration=DURATION, log_level=level)
        deadline = time.monotonic() + WAIT
        while b.service_stats(0).get("msgs_verified", 0) < WARMUP:
            if time.monotonic() >= deadline:
                raise TestFailure("no transfer before the kill")
            time.sleep(0.05)
        before = counters(a)
        b.kill9()
        time.sleep(KILL_GAP)
        since = {a: a.stderr_size()}
        b.start(duration=DURATION, log_level=level)
        seen = first_seen({"b_run": (b, r"lcore: \d+: running"),
                           "b_conn": (b, r"NodeConnected peer=a "),
                           "a_conn": (a, r"NodeConnected peer=b ")}, since, WAIT)
        if len(seen) < 3 or not a.running():
            raise TestFailure(f"no reconnect within {WAIT} s: {sorted(seen)}")
        after, bc = counters(a), counters(b)
        r = {"b_ms": (seen["b_conn"] - seen["b_run"]) * 1000,
             "a_ms": (seen["a_conn"] - seen["b_run"]) * 1000,
             "tx_queue_full": after["tx_queue_full"] - before["tx_queue_full"],
             "port_down": after["port_down"] - before["port_down"],
             "a_answered": after["initiations_received"] - before["initiations_received"],
             "b_initiations": bc["initiations_sent"]}
        a.stop()
        b.stop()
        return r


def main():
    runs, mode = it.runs_and_mode(__doc__, 6, 100, ("both", "flat", "slow"))
    it.QUIET = True
    results = {"flat": [], "slow": []}
    for i in range(runs):
        m = mode if mode != "both" else ("flat", "slow")[i % 2]
        r = one_run(i, m)
        results[m].append(r)
        print(f"hs_restart: run {i + 1} {m}: B connected {r['b_ms']:.0f} ms, "
              f"A {r['a_ms']:.0f} ms after B's lcore started; B's initiations "
              f"{r['b_initiations']}, A admitted {r['a_answered']}; A's drops "
              f"tx_queue_full {r['tx_queue_full']}, port_down {r['port_down']}", flush=True)
    for m, rs in results.items():
        if rs:
            for k in ("b_ms", "a_ms"):
                v = [r[k] for r in rs]
                print(f"hs_restart: {m}: {k} median {statistics.median(v):.0f} "
                      f"max {max(v):.0f} ({len(v)} runs)", flush=True)


if __name__ == "__main__":
    main()
