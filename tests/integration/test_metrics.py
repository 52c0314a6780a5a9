#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""`sluicectl metrics`: the appliance's telemetry in Prometheus' text exposition format 0.0.4,
read back with a strict parser and compared with what telemetry says.

    test_metrics.py SLUICE BUILD_DIR

A (memif server, lcore 0) and B (client, lcore 1) know each other; A's source sends 400
messages to B's sink on channel 1. The network's name holds a quote and a backslash, so the
label that carries it must be escaped. Once the sink has them all and both snapshots are
fresh, `sluicectl -c A metrics` is read between two telemetry reads of A, and:
  - every line parses strictly (parse() below): `# HELP name text`, `# TYPE name type` once
    each per family, TYPE before the family's first sample, a family's samples together,
    metric and label names of the allowed characters, label values escaped, a number as
    the value, no series twice, counters named *_total;
  - the families of docs/operations.md are there: node, per lcore (a drop series per lcore
    and reason of /sluice/drops), per peer (B by its key and name), control, admission,
    discovery (disabled: its gauge 0);
  - values agree with telemetry: sessions and sessions_opened equal; B's session counters,
    the lcores' packets and the drops between the reads before and after (they only grow);
    B's messages sent at least the 400 of the source;
  - sluicectl against no appliance exits 2 and prints nothing on stdout;
and both appliances stop on SIGTERM with status 0.
"""
import math
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_integ import TestFailure, World, log, sink, source, wait_until  # noqa: E402

DURATION = 60  # each appliance's --duration: the hard limit of its run
WAIT = 30      # the longest wait for any one step
COUNT = 400
NETWORK = f'it "metrics" \\ {os.getpid()}'

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE = re.compile(rf"({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)?\}})? (\S+)")
VALUE = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|NaN|[-+]Inf")
HELP = re.compile(rf"# HELP ({NAME}) ((?:[^\\\n]|\\[\\n])*)")
TYPE = re.compile(rf"# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)")


def unescape(v):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), v)


def parse(text):
    """Prometheus text format 0.0.4, strictly: {name: {"type", "help", "samples":
    {frozenset(labels.items()): value}}}; a TestFailure naming the line on any fault."""
    fams, current, done = {}, None, set()
    if not text.endswith("\n"):
        raise TestFailure("metrics: the output does not end with a newline")
    for no, line in enumerate(text[:-1].split("\n"), 1):
        def bad(why):
            raise TestFailure(f"metrics line {no}: {why}: {line!r}")
        if line.startswith("#"):
            m = HELP.fullmatch(line) or TYPE.fullmatch(line)
            if not m:
                bad("a comment that is neither HELP nor TYPE")
            name, kind = m.group(1), line.split()[1]
            f = fams.setdefault(name, {"samples": {}})
            if kind.lower() in f:
                bad(f"a second {kind}")
            if f["samples"]:
                bad(f"{kind} after the family's samples")
            f[kind.lower()] = m.group(2)
            continue
        m = SAMPLE.fullmatch(line)
        if not m:
            bad("not a sample `name{labels} value`")
        name, value = m.group(1), m.group(m.lastindex)
        if not VALUE.fullmatch(value):
            bad("the value is not a number")
        labels = dict((k, unescape(v)) for k, v in re.findall(LABEL, m.group(2) or ""))
        if len(labels) != len(re.findall(LABEL, m.group(2) or "")):
            bad("a label given twice")
        f = fams.get(name)
        if f is None or "type" not in f:
            bad("a sample before its family's TYPE")
        if name != current and name in done:
            bad("a family whose samples are not together")
        if current is not None and name != current:
            done.add(current)
        current = name
        key = frozenset(labels.items())
        if key in f["samples"]:
            bad("a series given twice")
        f["samples"][key] = float(value)
        if f["type"] == "counter" and not name.endswith("_total"):
            bad("a counter whose name does not end in _total")
        if f["type"] == "counter" and (f["samples"][key] < 0 or math.isnan(f["samples"][key])):
            bad("a counter below 0")
    for name, f in fams.items():
        if "type" not in f or "help" not in f or not f["samples"]:
            raise TestFailure(f"metrics: family {name}: TYPE, HELP and samples expected")
    return fams


def parser_refuses(w):
    """The parser is as strict as it says: each of these must be refused."""
    head = "# HELP x_total X\n# TYPE x_total counter\n"
    for bad in (head + "x_total 1",                       # no final newline
                head + "x_total{a=\"1\"} one\n",          # not a number
                head + "x_total{a=\"\\q\"} 1\n",          # a bad escape
                head + "x_total{a=\"1\",a=\"2\"} 1\n",     # a label twice
                head + "x_total 1\nx_total 2\n",          # a series twice
                head + "x_total 1\n# TYPE x_total counter\n",  # a second TYPE
                "# HELP x X\n# TYPE x counter\nx 1\n",     # a counter without _total
                "x 1\n",                                   # no TYPE
                head + "9x 1\n",                           # a bad name
                head + "# a comment\n",                    # other comments
                head + "x_total{a=\"1\"} 1\n# HELP y Y\n# TYPE y gauge\ny 1\n"
                "x_total{a=\"2\"} 1\n"):                 # a family apart
        try:
            parse(bad)
        except TestFailure:
            continue
        raise TestFailure(f"the parser took {bad!r}")
    w.check(True, "the parser refuses 11 kinds of malformed input")


def value(fams, metric, **labels):
    """The value of the series metric{labels} (it must exist)."""
    f = fams.get(metric)
    v = f and f["samples"].get(frozenset(labels.items()))
    if v is None:
        raise TestFailure(f"metrics: no series {metric}{labels}")
    return v


def total(fams, metric, **labels):
    """The sum of metric's series whose labels include labels."""
    return sum(v for k, v in fams[metric]["samples"].items() if set(labels.items()) <= set(k))


def between(w, got, lo, hi, what):
    w.check(lo <= got <= hi, f"{what}: {lo} <= {got} <= {hi}")


def telemetry(a, b):
    peers = a.query("/sluice/peers")
    return {"peer": next(v for v in peers.values()
                         if isinstance(v, dict) and v.get("public_key") == b.public_key),
            "drops": a.query("/sluice/drops"), "info": a.query("/sluice/info"),
            "lcores": a.query("/sluice/lcores")}


def check_values(w, fams, a, b, t0, t1):
    lbl = {"node": b.public_key, "name": "b"}
    w.equal(value(fams, "sluice_info", version=t0["info"]["version"], node=a.public_key,
                  network=NETWORK), 1, "sluice_info: version, node and the escaped network")
    w.equal(value(fams, "sluice_sessions"), t0["info"]["sessions_live"], "sluice_sessions")
    w.equal(value(fams, "sluice_peer_connected", **lbl), 1, "B connected")
    w.equal(value(fams, "sluice_peer_sessions_opened_total", **lbl), t0["peer"]["connects"],
            "B's sessions opened = /sluice/peers connects")
    w.equal(value(fams, "sluice_control_sessions_opened_total"),
            t0["drops"]["control"]["sessions_opened"], "sessions_opened = /sluice/drops")
    w.equal(value(fams, "sluice_discovery_enabled"), 0, "discovery disabled")
    for key, name in (("pkts_in", "sluice_peer_packets_received_total"),
                      ("pkts_out", "sluice_peer_packets_sent_total"),
                      ("msgs_out", "sluice_peer_messages_sent_total"),
                      ("bytes_out", "sluice_peer_bytes_sent_total")):
        between(w, value(fams, name, **lbl), t0["peer"][key], t1["peer"][key], name)
    w.check(value(fams, "sluice_peer_messages_sent_total", **lbl) >= COUNT,
            f"B was sent at least the source's {COUNT} messages")
    between(w, total(fams, "sluice_lcore_rx_packets_total"), t0["drops"]["rx_pkts"],
            t1["drops"]["rx_pkts"], "packets received, all lcores")
    lcores = {str(v["lcore"]) for k, v in t0["lcores"].items() if isinstance(v, dict)}
    w.equal(lcores, {"0"}, "A's one lcore in /sluice/lcores")
    reasons = t0["drops"]["dataplane"]
    for r in reasons:
        between(w, value(fams, "sluice_drops_total", lcore="0", reason=r), reasons[r],
                t1["drops"]["dataplane"][r], f"drops {r}")
    w.equal(len(fams["sluice_drops_total"]["samples"]), len(reasons),
            "one drop series per reason and lcore")
    for r, n in t0["drops"]["control"].items():
        if r.startswith("refused_"):
            w.equal(value(fams, "sluice_control_refused_total", reason=r[8:]), n, f"{r}")


def main(build):
    ctl = os.path.join(build, "api", "ctl", "sluicectl")
    with World("metrics") as w:
        parser_refuses(w)
        a = w.node("a", core=0, ip="198.18.7.1")
        b = w.node("b", core=1, ip="198.18.7.2")
        w.link(a, b)
        for n in (a, b):
            n.cfg["network"] = NETWORK
            n.cfg["channels"] = [{"id": 1, "priority": 2}]
        a.peer(b)
        b.peer(a)
        a.cfg["services"] = [source(b, channel=1, count=COUNT, size=(16, 1500))]
        b.cfg["services"] = [sink(1)]
        a.start(duration=DURATION)
        a.wait_log(r"lcore: \d+: running", timeout=WAIT)  # the memif server listens
        b.start(duration=DURATION)
        a.wait_log(r"NodeConnected peer=b ", timeout=WAIT)
        wait_until("B's sink verified every message",
                   lambda: b.service_stats(0).get("msgs_verified", 0) >= COUNT, WAIT, (a, b))
        a.wait_snapshot()
        t0 = telemetry(a, b)
        r = subprocess.run([ctl, "-c", a.config_path, "metrics"], capture_output=True,
                           text=True, timeout=WAIT)
        t1 = telemetry(a, b)
        log(f"sluicectl metrics -> {r.returncode}, {len(r.stdout.splitlines())} lines; "
            f"stderr {r.stderr!r}")
        w.equal(r.returncode, 0, "sluicectl metrics: exit status")
        fams = parse(r.stdout)
        w.check(True, f"{len(r.stdout.splitlines())} lines, {len(fams)} families parse")
        for line in r.stdout.splitlines():
            if "node=" in line and "sluice_peer_" in line and "packets" in line:
                log(f"  | {line}")
        check_values(w, fams, a, b, t0, t1)
        r = subprocess.run([ctl, "-p", "sl-it-no-such-prefix", "metrics"], capture_output=True,
                           text=True, timeout=WAIT)
        w.equal((r.returncode, r.stdout), (2, ""), "no appliance: exit 2, nothing on stdout")
        for n in (a, b):
            w.equal(n.stop(), 0, f"{n.name} (SIGTERM) exit status")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} SLUICE BUILD_DIR")
    it.run(lambda: main(os.path.abspath(sys.argv[2])))
