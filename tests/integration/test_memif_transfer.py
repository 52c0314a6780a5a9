#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Two appliances over memif: 20,000 messages of random sizes (1 B to 16 KiB) on two channels
and 16 messages of 1 MiB on a third, from A's sources to B's sinks, which verify every message
byte for byte (sequence, length, checksum, per-byte pattern).

    test_memif_transfer.py SLUICE clean      a clean link
    test_memif_transfer.py SLUICE impaired   both ports through the impairment stage:
                                             5 % loss, 5 % reordering, 1 % duplication,
                                             1 % corruption of every received packet

A (memif server, lcore 0) runs with --exit-when-done; B (memif client, lcore 1) is stopped with
SIGTERM once A has exited and B's sinks have everything (or 30 s later). Checked, from the summaries and telemetry:
  - both exit 0, every mbuf back in its pool (mbufs_in_use=0);
  - A's sources are done and sent exactly their counts;
  - B's sinks received and verified exactly those counts and bytes, none lost, duplicated,
    corrupt or expired;
  - clean: no packet dropped on either side;
  - impaired: the impairment happened — packets lost and corrupted on purpose on both sides,
    corrupted ones refused by the AEAD (data_decrypt_failed), duplicates by the anti-replay
    window (data_replay), and A retransmitted (retransmits, pkts_lost in /sluice/peers).
The impairment seeds are fixed (SLUICE_IT_SEED overrides them, to explore).
"""
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_integ import TestFailure, World, log, sink, source  # noqa: E402

RANDOM_COUNT = 10000          # per channel, on channels 1 and 2: 20,000 in all
RANDOM_SIZE = (1, 16384)
BIG_COUNT = 16
BIG_SIZE = 1 << 20
CHANNELS = [
    {"id": 1, "kind": "reliable", "priority": 4},
    {"id": 2, "kind": "reliable", "priority": 1},
    {"id": 3, "kind": "reliable", "priority": 2},
]
IMPAIR = {"loss": 0.05, "reorder": 0.05, "duplicate": 0.01, "corrupt": 0.01}
# hard limits (seconds): each appliance's --duration, and the wait for A to finish
DURATION = {"clean": 60, "impaired": 200}


def configure(w, mode):
    a = w.node("a", core=0, ip="198.18.0.1")
    b = w.node("b", core=1, ip="198.18.0.2")
    imp_a = imp_b = None
    if mode == "impaired":
        seed = int(os.environ.get("SLUICE_IT_SEED", "20260401"))
        imp_a = dict(IMPAIR, seed=seed)
        imp_b = dict(IMPAIR, seed=seed + 1)
        log(f"impairment seeds: a {seed}, b {seed + 1}")
    w.link(a, b, impair_server=imp_a, impair_client=imp_b)
    for n in (a, b):
        n.cfg["channels"] = CHANNELS
        n.cfg["limits"] = {"max_message": BIG_SIZE, "handshake_timeout_ms": 1000}
    a.peer(b)
    b.peer(a)
    a.cfg["services"] = [
        source(b, channel=1, count=RANDOM_COUNT, size=RANDOM_SIZE),
        source(b, channel=2, count=RANDOM_COUNT, size=RANDOM_SIZE),
        source(b, channel=3, count=BIG_COUNT, size=BIG_SIZE),
    ]
    b.cfg["services"] = [sink(1), sink(2), sink(3)]
    return a, b


def watch_peer(a, b, limit):
    """While A runs: the largest retransmits / pkts_lost /sluice/peers showed for B."""
    seen = {"retransmits": 0, "pkts_lost": 0}
    deadline = time.monotonic() + limit
    while a.running():
        if not b.running():
            raise TestFailure(f"b exited (status {b.proc.returncode}) while a was sending")
        if time.monotonic() > deadline:
            raise TestFailure(f"a did not finish within {limit} s")
        try:
            p = (a.query("/sluice/peers", wait=0) or {}).get(b.name) or {}
            for k in seen:
                seen[k] = max(seen[k], int(p.get(k, 0)))
        except it.TelemetryError:
            pass  # not up yet, or already gone
        time.sleep(0.25)
    return seen


def wait_sinks(b, want, timeout):
    """Wait until B's sinks received (at least) the counts of `want` (or the timeout: the
    summary then shows what is missing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and b.running():
        try:
            svc = b.query("/sluice/services", wait=0) or {}
            got = [int((svc.get(str(i)) or {}).get("msgs_recv", 0)) for i in range(len(want))]
            if all(g >= w for g, w in zip(got, want)):
                return
        except it.TelemetryError:
            pass
        time.sleep(0.1)
    log(f"b: sinks did not reach {want} within {timeout} s")


def main(mode):
    with World(f"transfer-{mode}") as w:
        a, b = configure(w, mode)
        limit = DURATION[mode]
        a.start(duration=limit, exit_when_done=True)
        a.wait_log(r"lcore: \d+: running", timeout=30)  # the memif server is listening
        b.start(duration=limit + 30)
        b.wait_log(r"NodeConnected peer=a ", timeout=30)
        seen = watch_peer(a, b, limit + 10)
        rc_a = a.wait(timeout=10)
        # A's sessions closed gracefully, then A exited. Whatever B's sinks still miss is
        # delivered by then (a graceful close sends everything queued first), but A's CLOSE
        # may itself be lost on an impaired link (B then learns of it from the idle timeout):
        # wait for B's counters rather than for its NodeDisconnected.
        want = [RANDOM_COUNT, RANDOM_COUNT, BIG_COUNT]
        wait_sinks(b, want, timeout=30)
        rc_b = b.stop()
        log(f"a: peers telemetry, largest values seen: {seen}")
        sa, sb = a.summary(), b.summary()
        for n, s in ((a, sa), (b, sb)):
            log(f"{n.name}: summary {s.get('summary')}")
            log(f"{n.name}: drops {s.get('drops')}")

        w.equal(rc_a, 0, "a (--exit-when-done) exit status")
        w.equal(rc_b, 0, "b (SIGTERM) exit status")
        for n, s in ((a, sa), (b, sb)):
            w.equal(s.get("exit", {}).get("mbufs_in_use"), 0, f"{n.name}: mbufs in use at exit")
        for i, (ch, count) in enumerate(zip((1, 2, 3), want)):
            src, snk = sa["services"][i], sb["services"][i]
            w.check(src["type"] == "source" and src["channel"] == ch, f"a service {i}: source ch {ch}")
            w.check(snk["type"] == "sink" and snk["channel"] == ch, f"b service {i}: sink ch {ch}")
            done, n_src = it.done_counts(src)
            w.check(done >= 1 and done == n_src, f"a: source ch {ch} done ({src['done']})")
            w.equal(src["msgs_sent"], count, f"a: source ch {ch} msgs_sent")
            w.equal(snk["msgs_recv"], count, f"b: sink ch {ch} msgs_recv")
            w.equal(snk["msgs_verified"], count, f"b: sink ch {ch} msgs_verified")
            w.equal(snk["bytes_recv"], src["bytes_sent"], f"b: sink ch {ch} bytes_recv = a's bytes_sent")
            for k in ("lost", "duplicated", "corrupt", "expired"):
                w.equal(snk[k], 0, f"b: sink ch {ch} {k}")
        w.equal(sa["services"][2]["bytes_sent"], BIG_COUNT * BIG_SIZE, "a: bytes of the 1 MiB messages")

        da, db = sa.get("drops", {}), sb.get("drops", {})
        if mode == "clean":
            w.equal(da.get("total"), 0, "a: packets dropped on a clean link")
            w.equal(db.get("total"), 0, "b: packets dropped on a clean link")
            w.equal(sa["summary"]["sessions_opened"], 1, "a: sessions opened")
        else:
            for n, d in (("a", da), ("b", db)):
                w.check(d.get("impair_loss", 0) > 0, f"{n}: impair_loss {d.get('impair_loss')} > 0")
                w.check(d.get("impair_corrupt", 0) > 0,
                        f"{n}: impair_corrupt {d.get('impair_corrupt')} > 0")
            w.check(db.get("data_decrypt_failed", 0) > 0,
                    f"b: data_decrypt_failed {db.get('data_decrypt_failed')} > 0 (corrupted data refused)")
            w.check(db.get("data_replay", 0) > 0,
                    f"b: data_replay {db.get('data_replay')} > 0 (duplicates refused)")
            w.check(seen["retransmits"] > 0, f"a: retransmits {seen['retransmits']} > 0")
            w.check(seen["pkts_lost"] > 0, f"a: pkts_lost {seen['pkts_lost']} > 0")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in DURATION:
        sys.exit(f"usage: {sys.argv[0]} SLUICE clean|impaired")
    it.run(lambda: main(sys.argv[2]))
