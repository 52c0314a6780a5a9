# SPDX-License-Identifier: BSD-3-Clause
"""Section 12 of the perf rig: relaying (docs/protocol.md, section 17). Three appliances
A - R - B over two memif links; A reaches B only through R, which forwards the A-B session in
its dataplane without decrypting it. Measured in one run, in alternated rounds:

    relayed(sluice, size, count)      A source -> R -> B sink: goodput, and R's lcore cycles per
                                      forwarded packet (busy_cycles / forwarded_pkts of its
                                      exit summary)
    wired(sluice, size, count)        the same transfer with testpmd `io` in R's place (two
                                      memif server ports, --record-core-cycles): testpmd's
                                      "CPU cycles/packet" and the goodput through it
    direct(sluice, size, count, b)    the same two appliances on one memif link, B on core b
    s12_relay(ctx, log)               the section
    render(data, s)                   its part of RESULTS.md

Placement on the two cores: the forwarder (R, or testpmd's forwarding lcore) has core 1 to
itself; A and B share core 0 (testpmd's main lcore idles at its prompt on core 0). The direct
runs are made twice: A and B on core 0 as in the relayed run (what the relay adds), and A on
core 0, B on core 1 as in section 2 (what a user without a relay gets here).

Every run starts its own processes in a fresh World (temporary directory, unique EAL file
prefixes and memif sockets, --no-huge), bounds them (--duration, testpmd's watchdog) and stops
them by PID on every exit path. Python 3 standard library only.
"""
import os
import re
import statistics
import time

import rig_api
from rig_testpmd_proc import load_integ, rig_world, wait_until
from rig_testpmd_wire import Wire

SUITE = "aes256gcm"
SIZES = (64, 1400)
# messages per size: a relayed run takes a few seconds here (measured: see perf/README.md)
COUNTS = {64: 4000000, 1400: 1000000}
ROUNDS = 5
LIMIT_S = 90  # every appliance's --duration
CYCLES_TARGET = 2.0  # the target: relay <= 2x testpmd io's cycles per packet
VARIANTS = ("relay", "testpmd", "direct-core0", "direct-2cores")

# testpmd 22.11, fwd_stats_display() with --record-core-cycles; total packets are those
# received on the forwarding ports (both directions), the cycles those of the forwarding
# streams' bursts that received something
_TPMD_CYCLES = re.compile(r"CPU cycles/packet=([\d.]+) \(total cycles=(\d+) / total (\S+) "
                          r"packets=(\d+)\) at (\d+) MHz Clock")


class RelayError(RuntimeError):
    pass


# --- the appliances ----------------------------------------------------------------------------

def _tune(nodes, size):
    for n in nodes:
        n.cfg["suite"] = "aesgcm-sha256"
        n.cfg["limits"] = {"max_message": max(size, 1 << 20), "queue_bytes": 8 << 20,
                           "window_bytes": 4 << 20}


def _services(integ, a, b, size, count, rate=0):
    """A's source of `count` messages of `size` bytes on channel 1 to its peer "b" (at most
    `rate` messages/s; 0: flat out), B's sink."""
    a.cfg["services"] = [integ.source(b, channel=1, count=count, size=size, rate=rate)]
    b.cfg["services"] = [integ.sink(channel=1)]


def _relay_nodes(w, integ, size, count, r_idle, rate):
    """A (core 0) - R (core 1) - B (core 0): R the memif server of both links, its own
    address on each, its lcore idling as r_idle; B reserves at R, A has B as a peer via R.
    No circuit limits."""
    a = w.node("a", core=0, ip="198.18.6.2")
    r = w.node("r", core=1, ip="198.18.6.1")
    b = w.node("b", core=0, ip="198.18.7.2")
    w.link(r, a, name="ar")
    w.link(r, b, name="rb", server_ip="198.18.7.1")
    r.cfg["relay"] = {"max_circuits": 8, "circuit_bytes": 0, "circuit_seconds": 0}
    for lc in r.cfg["lcores"]:
        lc["idle"] = r_idle
    a.peer(r)
    b.peer(r, ip="198.18.7.1")
    b.cfg["peers"][0]["relay_reserve"] = True
    a.cfg["peers"].append({"name": "b", "public_key": b.public_key, "via": "r"})
    _tune((a, r, b), size)
    _services(integ, a, b, size, count, rate)
    return a, r, b


def _sink_result(w, b_sum, count):
    """Goodput and message rate over the sink's active period (first to last message);
    every message verified, none lost, duplicated or corrupt."""
    snk = b_sum["services"][0]
    w.equal(snk.get("msgs_verified"), count, "the sink verified every message")
    w.equal(snk.get("lost", 0) + snk.get("duplicated", 0) + snk.get("corrupt", 0), 0,
            "nothing lost, duplicated or corrupt")
    secs = max(snk.get("active_us", 0), 1) / 1e6
    return {"seconds": secs, "msgs_per_s": count / secs,
            "goodput_bps": 8 * snk["bytes_recv"] / secs}


def _busy_share(summary, seconds):
    """An lcore's busy rounds (TSC) over the transfer's wall time: the share of a core its
    traffic took (on a shared core it includes the time the other process ran mid-round)."""
    s = summary["summary"]
    return s["busy_cycles"] / s["tsc_hz"] / seconds if s.get("tsc_hz") else None


def _stopped(w, nodes):
    """SIGTERM each node (in order), each exits 0; their exit summaries by name."""
    out = {}
    for n in nodes:
        rc = n.stop()
        w.equal(rc, 0, f"{n.name} exits 0 after SIGTERM")
        out[n.name] = n.summary()
    return out


def relayed(sluice, size, count, r_idle="adaptive", rate=0):
    """One relayed transfer: A's source -> R -> B's sink. A exits when its source is done; B,
    then R are stopped. R's cycles per forwarded packet: busy_cycles / forwarded_pkts of its
    exit summary (its busy rounds also did its own sessions' work with A and B: keepalives,
    the circuit's control messages; own_rx/own_tx count those packets)."""
    integ = load_integ()
    with rig_world(integ, f"relay-{size}", sluice) as w:
        a, r, b = _relay_nodes(w, integ, size, count, r_idle, rate)
        r.start(duration=LIMIT_S)
        r.wait_log(r"lcore: \d+: running", timeout=30)
        b.start(duration=LIMIT_S)
        a.start(duration=LIMIT_S, exit_when_done=True)
        w.equal(a.wait(LIMIT_S + 15), 0, "a exits 0 (its source done)")
        sums = _stopped(w, (b, r))
        sums["a"] = a.summary()
        res = _sink_result(w, sums["b"], count)
        rs, rel = sums["r"]["summary"], sums["r"].get("relay", {})
        fwd = rel.get("forwarded_pkts", 0)
        w.check(fwd >= sums["b"]["summary"]["rx_pkts"] // 2,
                f"R forwarded {fwd} packets (B received {sums['b']['summary']['rx_pkts']})")
        res.update({"fwd_pkts": fwd, "fwd_bytes": rel.get("forwarded_bytes"),
                    "busy_cycles": rs["busy_cycles"], "tsc_hz": rs["tsc_hz"],
                    "cycles_per_pkt": rs["busy_cycles"] / fwd,
                    "own_rx": rs["rx_pkts"] - fwd,
                    "drops": {k: v for k, v in sums["r"].get("drops", {}).items() if v},
                    "busy": {n: _busy_share(sums[n], res["seconds"]) for n in "arb"}})
        return res


# --- testpmd io in R's place --------------------------------------------------------------------

def parse_core_cycles(text):
    """testpmd's `CPU cycles/packet=... (total cycles=... / total io packets=...) at N MHz
    Clock` line -> {"cycles_per_pkt", "cycles", "pkts", "mhz"}; None without one."""
    m = _TPMD_CYCLES.search(text)
    if not m:
        return None
    return {"cycles_per_pkt": float(m.group(1)), "cycles": int(m.group(2)),
            "pkts": int(m.group(4)), "mhz": int(m.group(5))}


def _wire_quiet(wr, timeout=15.0):
    """Wait until testpmd's port counters stay unchanged for 0.3 s."""
    def still():
        p0 = wr.port_stats()
        time.sleep(0.3)
        p1 = wr.port_stats()
        return [(p["rx_packets"], p["tx_packets"]) for p in p0] == \
               [(p["rx_packets"], p["tx_packets"]) for p in p1]
    wait_until("the wire falls quiet", still, timeout, every=0)


def wired(sluice, size, count, rate=0):
    """The same transfer through testpmd `io` (--record-core-cycles) between two memif server
    ports, A and B its clients on core 0, its forwarding lcore on core 1. Once B's sink has
    everything and the wire is quiet, `show fwd stats all` gives testpmd's cycles per packet;
    forwarding stops before the appliances leave (the memif note in rig_testpmd_wire.Wire)."""
    integ = load_integ()
    with rig_world(integ, f"relay-tpmd-{size}", sluice) as w:
        a = w.node("a", core=0, ip="198.18.8.1")
        b = w.node("b", core=0, ip="198.18.8.2")
        with Wire(f"{w.dir}/a.sock", f"{w.dir}/b.sock", cores=(0, 1), max_seconds=LIMIT_S + 60,
                  log_path=f"{w.dir}/wire.log", extra_args=["--record-core-cycles"]) as wr:
            a.add_port("link0", wr.client_device("a"))
            b.add_port("link0", wr.client_device("b"))
            a.peer(b)
            b.peer(a)
            _tune((a, b), size)
            _services(integ, a, b, size, count, rate)
            b.start(duration=LIMIT_S)
            a.start(duration=LIMIT_S)
            wr.wait_link(timeout=20)
            wait_until("B's sink verified everything", lambda: b.service_stats(0).get(
                "msgs_verified", 0) >= count, LIMIT_S - 10, every=0.2)
            _wire_quiet(wr)
            text = wr.testpmd.cmd("show fwd stats all")
            cyc = parse_core_cycles(text)
            if cyc is None:
                raise RelayError(f"no CPU cycles/packet in testpmd's answer: {text[-600:]!r}")
            fwd = wr.stop_forwarding()
            sums = _stopped(w, (a, b))
            wr.testpmd.quit()
        res = _sink_result(w, sums["b"], count)
        res.update(cyc)
        res["tx_dropped"] = fwd["total"].get("tx_dropped", 0)
        return res


# --- direct --------------------------------------------------------------------------------------

def direct(sluice, size, count, b_core, rate=0):
    """A (core 0) -> B (core b_core) over one memif link, A the server; A exits when done."""
    integ = load_integ()
    with rig_world(integ, f"relay-direct-{size}-{b_core}", sluice) as w:
        a = w.node("a", core=0, ip="198.18.9.1")
        b = w.node("b", core=b_core, ip="198.18.9.2")
        w.link(a, b)
        a.peer(b)
        b.peer(a)
        _tune((a, b), size)
        _services(integ, a, b, size, count, rate)
        b.start(duration=LIMIT_S)
        a.start(duration=LIMIT_S, exit_when_done=True)
        w.equal(a.wait(LIMIT_S + 15), 0, "a exits 0 (its source done)")
        sums = _stopped(w, (b,))
        sums["a"] = a.summary()
        res = _sink_result(w, sums["b"], count)
        res["busy"] = {n: _busy_share(sums[n], res["seconds"]) for n in "ab"}
        return res


# --- the section ---------------------------------------------------------------------------------

def _runs(ctx, size, count):
    """(variant, fn) of one round; R busy-polls in "relay-busy" as testpmd's lcore does."""
    sl = ctx.sluice
    return [("relay", lambda: relayed(sl, size, count)),
            ("relay-busy", lambda: relayed(sl, size, count, r_idle="busy")),
            ("testpmd", lambda: wired(sl, size, count)),
            ("direct-core0", lambda: direct(sl, size, count, b_core=0)),
            ("direct-2cores", lambda: direct(sl, size, count, b_core=1))]


def _round(runs, r, log):
    """One round: every variant once, in order in even rounds and reversed in odd ones (a
    drift of the machine then weighs on both sides of a ratio alike); with what other
    processes used meanwhile (rig_api.foreign_load)."""
    order = runs if r % 2 == 0 else list(reversed(runs))
    t0, before, got = time.monotonic(), rig_api.cpu_sample(), {}
    for key, fn in order:
        log(f"round {r + 1}: {key}")
        got[key] = fn()
    got["foreign"] = rig_api.foreign_load(before, rig_api.cpu_sample(), time.monotonic() - t0)
    return got


def _ratios(rounds, num, den, key):
    """Per-round num/den of `key` (a pair measured minutes apart means nothing here)."""
    return [g[num][key] / g[den][key] for g in rounds if g[den][key]]


def _size_rows(ctx, size, count, n, log):
    runs = _runs(ctx, size, count)
    rounds = [_round(runs, r, lambda m: log(f"12: {size} B x {count}, {m}")) for r in range(n)]
    out = {"size": size, "count": count, "foreign": [g.pop("foreign") for g in rounds],
           "runs": {k: [g[k] for g in rounds] for k, _ in runs}}
    for name, num, den, key in (("cycles_vs_testpmd", "relay", "testpmd", "cycles_per_pkt"),
                                ("cycles_busy_vs_testpmd", "relay-busy", "testpmd",
                                 "cycles_per_pkt"),
                                ("goodput_vs_core0", "relay", "direct-core0", "goodput_bps"),
                                ("goodput_vs_2cores", "relay", "direct-2cores", "goodput_bps"),
                                ("goodput_vs_testpmd", "relay", "testpmd", "goodput_bps")):
        out[name] = _ratios(rounds, num, den, key)
        out[name + "_median"] = statistics.median(out[name]) if out[name] else None
    return out


def s12_relay(ctx, log):
    """The section: for each message size, ROUNDS rounds of every variant; the conditions
    (load averages before and after, other processes' CPU per round)."""
    n = 1 if ctx.quick else ROUNDS
    out = {"rounds": n, "loadavg_before": [round(x, 2) for x in os.getloadavg()], "rows": []}
    for size in SIZES:
        out["rows"].append(_size_rows(ctx, size, ctx.count_of(COUNTS[size]), n, log))
    out["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    return out


# --- RESULTS.md ----------------------------------------------------------------------------------

TITLE = "12. Relaying: forwarding cost and goodput through a relay"


def _med(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def _spread(runs, key, fmt):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return f"{fmt(min(vals))}-{fmt(max(vals))}" if len(vals) > 1 else ""


def _cycles_md(rg, rows):
    out = []
    for row in rows:
        rr = row["runs"]
        fwd = [r["fwd_bytes"] / r["fwd_pkts"] for r in rr["relay"] if r["fwd_pkts"]]
        cyc = (lambda k: f"{_med(rr[k], 'cycles_per_pkt'):,.0f}" + (
            f" ({sp})" if (sp := _spread(rr[k], 'cycles_per_pkt', lambda x: f'{x:,.0f}'))
            else ""))
        rat = (lambda k: "-" if row[k] is None else
               f"{row[k]:.2f}x ({rg.verdict(row[k] <= CYCLES_TARGET)})")
        out.append([rg.size_name(row["size"]), f"{statistics.median(fwd):,.0f} B" if fwd
                    else "-", cyc("testpmd"), cyc("relay"), rat("cycles_vs_testpmd_median"),
                    cyc("relay-busy"), rat("cycles_busy_vs_testpmd_median"),
                    f"{_med(rr['relay'], 'own_rx'):,.0f}"])
    return rg.table(["message", "forwarded packet (mean)", "testpmd io cycles/pkt",
                     "R cycles/pkt (adaptive idle, default)", "R / testpmd (target <= 2x)",
                     "R cycles/pkt (busy-poll)", "R busy / testpmd (target <= 2x)",
                     "R's own packets"], out,
                    ["---", "---:", "---:", "---:", "---", "---:", "---", "---:"])


def _goodput_md(rg, rows):
    out = []
    for row in rows:
        rr = row["runs"]
        g = (lambda k: rg.gbps(_med(rr[k], "goodput_bps")))
        r = (lambda k: rg.pct(row[k]))
        out.append([rg.size_name(row["size"]), g("relay"), g("direct-core0"),
                    r("goodput_vs_core0_median"), g("direct-2cores"),
                    r("goodput_vs_2cores_median"), g("testpmd"), r("goodput_vs_testpmd_median"),
                    g("relay-busy"), _drops(rr["relay"]), _drops(rr["relay-busy"]),
                    " ".join(rg.gbps(x["goodput_bps"]) for x in rr["relay"])])
    return rg.table(["message", "A -> R -> B Gbit/s", "direct, A and B on core 0",
                     "R / direct", "direct, A core 0, B core 1", "R / direct",
                     "through testpmd io", "R / testpmd", "R busy-polling",
                     "R's drops per run", "R's drops, busy-polling",
                     "A -> R -> B each round"], out,
                    ["---"] + ["---:"] * 10 + ["---"])


def _drops(runs):
    """R's drops in each run, by reason (tx_queue_full: B's memif ring was full)."""
    per = [r.get("drops", {}) for r in runs]
    reasons = sorted({k for d in per for k in d if k != "total"})
    return "; ".join(f"{k} " + " ".join(f"{d.get(k, 0):,}" for d in per)
                     for k in reasons) or "0"


def _busy_md(rg, rows):
    out = []
    for row in rows:
        for k in ("relay", "relay-busy", "direct-core0", "direct-2cores"):
            b = [r.get("busy", {}) for r in row["runs"][k]]
            out.append([rg.size_name(row["size"]), k] + [
                rg.pct(statistics.median([x[n] for x in b])) if b and n in b[0] else "-"
                for n in "arb"])
    return rg.table(["message", "run", "A's lcore busy", "R's lcore busy", "B's lcore busy"],
                    out, ["---", "---", "---:", "---:", "---:"])


def _r_busy_max(rows):
    return max((r["busy"]["r"] for row in rows for k in ("relay", "relay-busy")
                for r in row["runs"][k] if r.get("busy", {}).get("r") is not None), default=None)


def render(data, s):
    import rig_report as rg
    rows = s["rows"]
    foreign = [f["cores"] for row in rows for f in row["foreign"]]
    steal = [f["steal"] for row in rows for f in row["foreign"]]
    counts = ", ".join(f"{row['count']:,} x {rg.size_name(row['size'])}" for row in rows)
    return (
        "Three appliances A - R - B over two memif links: A reaches B only through R "
        "(`via`), B holds a reservation at R; R forwards the A-B session in its dataplane "
        "without decrypting it (docs/protocol.md, 17). A's `source` -> B's `sink`, AES-256-GCM, "
        f"{counts} per run, every message verified. Placement: R has core 1 to itself, A and B "
        "share core 0. In R's place for the reference: testpmd `io` between two memif server "
        "ports (`--record-core-cycles`), its forwarding lcore on core 1, with the same "
        "transfer; `show fwd stats all` prints its `CPU cycles/packet` (DPDK 22.11: TSC "
        "cycles of the forwarding bursts that received packets, over the packets received on "
        "both ports). Direct: the same two appliances on one memif link, once with A and B on "
        "core 0 as in the relayed run, once with B on core 1 (section 2's placement). "
        f"{s['rounds']} round{'s' if s['rounds'] != 1 else ''}, each running every variant "
        "once (in reverse order in odd rounds); ratios are medians of the per-round ratios "
        "(this machine's speed swings by up to 2x from minute to minute: only ratios within "
        "a round mean anything).\n\n"
        "**Forwarding cost.** R's cycles per forwarded packet: `busy_cycles` (TSC cycles of "
        "its lcore's rounds that found work) over `forwarded_pkts` of its exit summary, both "
        "directions (A's data, B's acknowledgements). Its busy rounds also did R's own "
        "sessions' work with A and B (keepalives, the reservation and the circuit's control "
        "messages: the last column, packets R received for itself in the whole run) and poll "
        "both ports in one round, where testpmd counts per stream only the bursts that "
        "received something. R's lcore idles `adaptive` by default (it naps when a round finds "
        "nothing, and then finds fuller bursts); testpmd always busy-polls, so R is measured "
        "busy-polling too. Median (range) over the rounds.\n\n" + _cycles_md(rg, rows) +
        "\nsluice packs small messages into full packets: with 64-byte messages sent flat "
        "out, R and testpmd forward packets of about the size shown, not 64-byte frames.\n\n"
        "**Goodput** (message bytes over the sink's active period; medians over the "
        "rounds):\n\n" + _goodput_md(rg, rows) +
        "\n**What limits it.** Three appliances on two cores: A (encrypting) and B "
        "(decrypting) share core 0, R forwards on core 1. Share of a core each lcore's busy "
        "rounds took over the transfer (TSC; on a shared core a round the scheduler "
        "interrupts also counts the other process's time):\n\n" + _busy_md(rg, rows) +
        f"\nR's lcore was busy {rg.pct(_r_busy_max(rows))} of the transfer at most: the relay "
        "is not what limits the goodput here; the two ends' work on the core they share is "
        "(compare the direct run on core 0 alone, and the direct run with a core each).\n"
        "\nConditions: other processes outside the rig used "
        f"{max(foreign) if foreign else '?'} cores at most in a round (median "
        f"{round(statistics.median(foreign), 2) if foreign else '?'}), the hypervisor took "
        f"{max(steal) if steal else '?'} at most (steal); load average (1 min, the rig's own "
        "processes included) "
        f"{s['loadavg_before'][0]} before the section, {s['loadavg_after'][0]} after.\n")
