#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The perf rig (`make bench`): sluice next to what a user would otherwise use, every figure
measured in the same run as its reference, on the same two cores.

    python3 perf/rig.py BUILD_DIR [--sections 1,2,...] [--merge [--keep-flood]] [--quick]
                        [--out FILE]

Sections (see perf/README.md and the tables of perf/RESULTS.md):
  1 raw DPDK reference (testpmd txonly -> rxonly, and through testpmd io)   rig_testpmd_raw.py
  2 sluice A -> B one-way goodput, both suites, every message size          rig_sluice.py
  3 testpmd as the wire between A and B, counters compared                  rig_testpmd_wire.py
  4 testpmd as the attacker while A -> B runs                               rig_testpmd_attack.py
  5 latency: echo round trips, one in flight, vs kernel UDP ping-pong       bench_kudp
  6 kernel baseline: UDP sendmmsg/recvmmsg, plain and with libsodium AEAD   bench_kudp
  7 raw crypto: ipsec-mb ns per packet vs the datapath's cost per packet    bench_aead
  8 handshakes vs the X25519 bound; goodput during an initiation flood      bench_handshake,
                                                                            loadgen
  9 scale: resident memory per session, goodput among 100,000 sessions      loadgen
 10 appendix: the reliable engine alone, ns per packet                       bench_engine
 11 applications over libsluice vs the built-in services: goodput, echo     sluice_bench,
    round trips, request latencies                                          rig_api.py
 12 relay: R's cycles per forwarded packet vs testpmd io's; goodput A -> R  rig_relay.py
    -> B vs A -> B direct

Writes perf/RESULTS.md, perf/results/data.json (every number measured) and the PNG plots in
perf/results/ (gnuplot). Nothing here asserts on speed: targets are printed as met or missed.
Every process is bounded in time and stopped by PID. Python 3 standard library only.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
import rig_api  # noqa: E402
import rig_relay  # noqa: E402
import rig_report  # noqa: E402
import rig_sluice  # noqa: E402

MSG_SIZES = (64, 256, 1400, 16384, 1048576)
# messages per size: each transfer takes about a second here at the rates measured
MSG_COUNTS = {64: 4000000, 256: 2000000, 1400: 400000, 16384: 40000, 1048576: 600}
SUITES = ("aes256gcm", "chacha20poly1305")
RAW_TRIES = 3
RUN_TRIES = 3  # sluice transfers of section 2, each
# initiations/s of section 8's flood: 2,500 times the per-source admission rate, and a load
# generator that leaves most of its core to the appliances (a flat-out one takes a whole core
# of the two, and with it half the transfer's CPU, whatever the appliance does)
FLOOD_RATE = 50000


def log(msg):
    print(f"rig [{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Ctx:
    def __init__(self, build, quick):
        self.build = os.path.abspath(build)
        self.sluice = os.path.join(self.build, "sluice")
        self.quick = quick
        self.keep_flood = None  # section 8's flood figures to keep (--keep-flood), with when
        self.data = {}

    def prog(self, name):
        return os.path.join(self.build, "perf", name)

    def count(self, size):
        return self.count_of(MSG_COUNTS[size])

    def count_of(self, n):
        return max(n // (10 if self.quick else 1), 10)

    def seconds(self, s):
        return s / 4 if self.quick else s


def run_cmd(argv, timeout):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: status {r.returncode}: {r.stderr.strip()[-400:]}")
    return r.stdout


def kv_lines(text, prefix):
    """`prefix k=v k=v` lines as dicts (numbers converted)."""
    out = []
    for line in text.splitlines():
        if not line.startswith(prefix + " "):
            continue
        d = {}
        for tok in line.split()[1:]:
            k, sep, v = tok.partition("=")
            if not sep:
                continue
            try:
                d[k] = int(v)
            except ValueError:
                try:
                    d[k] = float(v)
                except ValueError:
                    d[k] = v
        out.append(d)
    return out


# --- sections ---------------------------------------------------------------------------------

def s1_raw(ctx):
    import rig_testpmd
    rows = []
    for mode, fn in (("txonly -> rxonly", rig_testpmd.raw_txrx),
                     ("txonly -> io -> rxonly", rig_testpmd.raw_io)):
        for fs in rig_testpmd.RFC2544_SIZES:
            log(f"1: testpmd {mode}, {fs}-byte frames (best of {RAW_TRIES})")
            # the best of a few short runs: the reference sluice is held to is testpmd at its
            # best here, not a run the scheduler happened to slow down
            tries = [fn(fs, ctx.seconds(1.0)) for _ in range(RAW_TRIES)]
            r = max(tries, key=lambda t: t["pps"])
            r["mode"] = mode
            r["tries_pps"] = [t["pps"] for t in tries]
            rows.append(r)
    return {"rows": rows}


def s2_goodput(ctx):
    rows = []
    for suite in SUITES:
        for size in MSG_SIZES:
            log(f"2: sluice A -> B, {suite}, {size}-byte messages x {ctx.count(size)} "
                f"(best of {RUN_TRIES})")
            # like the reference, the best of a few runs: single runs vary by a third here
            tries = [rig_sluice.transfer(ctx.sluice, suite, size, ctx.count(size))
                     for _ in range(RUN_TRIES)]
            r = max(tries, key=lambda t: t["goodput_bps"])
            r["tries_bps"] = [t["goodput_bps"] for t in tries]
            rows.append(r)
    return {"rows": rows}


def s3_wire(ctx):
    import rig_testpmd
    rows = []
    for size in (64, 1400):
        log(f"3: sluice A -> testpmd io -> B, {size}-byte messages x {ctx.count(size)}")
        r = rig_testpmd.wire_check(ctx.sluice, count=ctx.count(size), size=size,
                                   timeout=120.0)
        snk = r["b"]["services"][0]
        secs = max(snk.get("active_us", 0), 1) / 1e6
        rows.append({"size": size, "ok": r["ok"], "checks": r["checks"], "notes": r["notes"],
                     "goodput_bps": 8 * snk["bytes_recv"] / secs,
                     "msgs_per_s": snk["msgs_verified"] / secs, "quiet": r["quiet"]})
    return {"rows": rows}


def s4_attack(ctx):
    import rig_testpmd
    log("4: testpmd floods an appliance alone with crafted frames: what it classifies")
    cap = rig_testpmd.attack_check(ctx.sluice, seconds=ctx.seconds(3.0))
    log("4: A -> B while testpmd floods B's second port with crafted frames")
    out = rig_sluice.under_attack(ctx.sluice, rig_testpmd, ctx.seconds(3.0))
    out["alone"] = {"ok": cap["ok"], "pcap": {k: cap["pcap"].get(k) for k in
                                              ("sent_pkts", "pps", "tx_dropped", "interval_s",
                                               "offered_pkts")},
                    "by_reason": cap["by_reason"],
                    "checks": [c for c in cap["checks"]]}
    return out


def s5_latency(ctx):
    rows = []
    n = 5000 if ctx.quick else 50000
    for size in (64, 1024):
        log(f"5: sluice echo round trips, {size} bytes, one in flight, x {n}")
        rows.append(rig_sluice.latency(ctx.sluice, size, n))
    log("5: kernel UDP ping-pong on loopback")
    k = kv_lines(run_cmd([ctx.prog("bench_kudp"), "pingpong", "-B", "-n", str(n), "-t",
                          str(ctx.seconds(4.0))], 120), "kudp")
    return {"sluice": rows, "kernel": k}


def s6_kernel(ctx):
    log("6: kernel UDP sendmmsg/recvmmsg, plain and with libsodium AEAD")
    out = run_cmd([ctx.prog("bench_kudp"), "tput", "-a", "all", "-t", str(ctx.seconds(1.0)),
                   "-s", ",".join(str(s) for s in MSG_SIZES)], 300)
    return {"rows": kv_lines(out, "kudp")}


def s7_crypto(ctx):
    log("7: ipsec-mb AEAD ns per packet (bench_aead)")
    md = run_cmd(["taskset", "-c", "1", ctx.prog("bench_aead"), "-n", "5" if ctx.quick else "9"],
                 300)
    return {"markdown": md, "rows": rig_report.parse_aead_table(md)}


def s8_handshakes(ctx):
    log("8: handshakes per second vs the X25519 bound (bench_handshake)")
    md = run_cmd(["taskset", "-c", "1", ctx.prog("bench_handshake"), "-n",
                  "5" if ctx.quick else "9"], 300)
    out = {"markdown": md, "bound": rig_report.parse_handshake_bound(md)}
    if ctx.keep_flood is not None:
        out.update(ctx.keep_flood)
        return out
    try:
        import rig_scale
    except ImportError as e:
        out["flood_error"] = f"rig_scale missing: {e}"
        return out
    log("8: appliance handshakes/s and goodput during an initiation flood (loadgen)")
    out["flood"] = rig_scale.flood_goodput(ctx.sluice, ctx.prog("loadgen"),
                                           ctx.seconds(3.0), rate=FLOOD_RATE)
    return out


def s9_scale(ctx):
    import rig_scale
    rows = []
    for n in ((10, 1000, 10000) if ctx.quick else (10, 1000, 10000, 100000)):
        log(f"9: {n} sessions on one appliance, then a transfer among them")
        rows.append(rig_scale.scale_goodput(ctx.sluice, ctx.prog("loadgen"), n,
                                            ctx.seconds(2.0)))
    return {"rows": rows}


def s10_engine(ctx):
    log("10: the reliable engine alone, ns per packet (bench_engine)")
    md = run_cmd(["taskset", "-c", "1", ctx.prog("bench_engine")], 300)
    return {"markdown": md}


def s11_api(ctx):
    return rig_api.s11_api(ctx, log)


def s12_relay(ctx):
    return rig_relay.s12_relay(ctx, log)


SECTIONS = {1: s1_raw, 2: s2_goodput, 3: s3_wire, 4: s4_attack, 5: s5_latency,
            6: s6_kernel, 7: s7_crypto, 8: s8_handshakes, 9: s9_scale, 10: s10_engine,
            11: s11_api, 12: s12_relay}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("--sections", default="1,2,3,4,5,6,7,8,9,10,11,12")
    ap.add_argument("--merge", action="store_true",
                    help="keep the other sections of perf/results/data.json")
    ap.add_argument("--quick", action="store_true",
                    help="a tenth of the work: a smoke run, not figures to publish")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--data", help="render RESULTS.md from this data.json; measure nothing")
    ap.add_argument("--keep-flood", action="store_true",
                    help="with --merge: section 8 runs bench_handshake only and keeps the flood "
                    "figures of data.json, marked with the time they were measured (the flood "
                    "needs two quiet cores; bench_handshake's figures are ratios within its run)")
    args = ap.parse_args()
    ctx = Ctx(args.build, args.quick)
    if not os.access(ctx.sluice, os.X_OK):
        sys.exit(f"rig: {ctx.sluice} missing: run 'make build' first")
    results_dir = os.path.join(os.path.dirname(os.path.abspath(args.out)), "results")
    os.makedirs(results_dir, exist_ok=True)
    if args.data:
        with open(args.data) as f:
            data = json.load(f)
    else:
        want = [int(s) for s in args.sections.split(",") if s]
        t0 = time.monotonic()
        here_now = rig_report.machine(ctx)
        data = {"machine": here_now, "quick": ctx.quick, "sections": {}}
        old = os.path.join(results_dir, "data.json")
        if args.merge and os.path.exists(old):
            with open(old) as f:
                data = json.load(f)
        if args.keep_flood:
            prev = data["sections"].get("8", {}) if args.merge else {}
            if "flood" not in prev:
                sys.exit("rig: --keep-flood needs --merge and flood figures in data.json")
            m = data["machine"]  # a section without a stamp was measured in the header's run
            ctx.keep_flood = {"flood": prev["flood"],
                              "flood_measured": (prev.get("flood_measured") or prev.get("measured")
                                                 or f"{m['commit']}, {m['date']}")}
        for n in want:
            t = time.monotonic()
            try:
                data["sections"][str(n)] = SECTIONS[n](ctx)
            except Exception as e:  # one broken section must not lose the others
                traceback.print_exc()
                data["sections"][str(n)] = {"error": f"{type(e).__name__}: {e}"}
            data["sections"][str(n)]["elapsed_s"] = round(time.monotonic() - t, 1)
            data["sections"][str(n)]["measured"] = f"{here_now['commit']}, {here_now['date']}"
            log(f"section {n}: {data['sections'][str(n)]['elapsed_s']} s")
        if not args.merge:
            data["elapsed_s"] = round(time.monotonic() - t0, 1)
        with open(os.path.join(results_dir, "data.json"), "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
    md = rig_report.render(data, results_dir)
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        f.write(md)
    os.replace(tmp, args.out)
    log(f"wrote {args.out} ({data.get('elapsed_s', '?')} s)")
    failed = [n for n, s in data["sections"].items() if "error" in s]
    if failed:
        log(f"sections that failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
