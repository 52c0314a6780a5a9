#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Stress: kill -9 a memif peer while the other appliance transmits flat out, RUNS times, and
count how often the survivor dies. Run by hand, never by `make test` (it is a repeated,
probabilistic run):

    stress_memif_peer_death.py SLUICE [RUNS] [client|server|both]

Each run builds its own world (sl_integ.World): A (memif server, lcore 0) and B (memif client,
lcore 1); the survivor runs a source without end and without a rate limit towards the victim's
sink. Once the victim's sink verified WARMUP messages (the survivor's port is then busy), the
victim is killed with SIGKILL, and the survivor must still be running SETTLE seconds later and
stop on SIGTERM with status 0. 'client' kills B (the default), 'server' kills A, 'both'
alternates. A survivor that died is reported with its exit status (-11: SIGSEGV) and the last
lines of its log. Each run takes about 3 s; every appliance has a --duration limit.

Exit status: 0 if no survivor died, 1 otherwise. The last line is
    'stress: N runs, K survivors died (client: k1/n1, server: k2/n2)'.
"""
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_integ import TestFailure, World, sink, source  # noqa: E402

WARMUP = 2000      # messages the victim's sink verifies before the kill
SETTLE = 1.5       # seconds the survivor must live on after the kill
DURATION = 30      # each appliance's --duration: the hard limit of its run
WAIT = 20          # the longest wait for any one step
SIZE = (64, 1400)


def one_run(argv, i, victim_role):
    """True if the survivor survived."""
    with World(f"peerdeath{i}", argv) as w:
        a = w.node("a", core=0, ip="198.18.4.1")
        b = w.node("b", core=1, ip="198.18.4.2")
        w.link(a, b)
        a.peer(b)
        b.peer(a)
        victim, survivor = (b, a) if victim_role == "client" else (a, b)
        survivor.cfg["services"] = [source(victim, channel=1, count=0, size=SIZE, rate=0)]
        victim.cfg["services"] = [sink(1)]
        a.start(duration=DURATION)
        a.wait_log(r"lcore: \d+: running", timeout=WAIT)  # the memif server listens
        b.start(duration=DURATION)
        deadline = time.monotonic() + WAIT
        while victim.service_stats(0).get("msgs_verified", 0) < WARMUP:
            if time.monotonic() >= deadline or not survivor.running():
                raise TestFailure(f"no transfer before the kill (run {i})")
            time.sleep(0.05)
        victim.kill9()
        time.sleep(SETTLE)
        if survivor.running():
            rc = survivor.stop()
            if rc == 0:
                return True
            print(f"run {i}: survivor {survivor.name} stopped with status {rc}", flush=True)
        else:
            rc = survivor.proc.returncode
            print(f"run {i}: survivor {survivor.name} ({victim_role} killed) DIED, "
                  f"status {rc}", flush=True)
        print(it._tail(survivor.stderr(), 15), flush=True)
        return False


def main():
    runs, mode = it.runs_and_mode(__doc__, 30, 500, ("client", "server", "both"))
    died = {"client": [0, 0], "server": [0, 0]}
    for i in range(runs):
        role = mode if mode != "both" else ("client", "server")[i % 2]
        died[role][1] += 1
        if not one_run(sys.argv[:2], i, role):
            died[role][0] += 1
        print(f"stress: run {i + 1}/{runs}: {role} killed; died so far: "
              f"{died['client'][0] + died['server'][0]}", flush=True)
    total = died["client"][0] + died["server"][0]
    print(f"stress: {runs} runs, {total} survivors died "
          f"(client: {died['client'][0]}/{died['client'][1]}, "
          f"server: {died['server'][0]}/{died['server'][1]})", flush=True)
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
