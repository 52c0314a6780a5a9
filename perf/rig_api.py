# SPDX-License-Identifier: BSD-3-Clause
"""The perf rig's section 11: applications over libsluice (perf/sluice_bench.c) next to the
built-in services, through the same two appliances over memif (section 2's setup: A on core 0,
B on core 1, one dataplane lcore each, AES-256-GCM), each with an application socket.

    app_transfer(sluice, bench, size, count, wait)     sluice_bench source at A -> sink at B
    app_latency(sluice, bench, size, count, wait)      sluice_bench ping at A -> echo at B
    app_ops(sluice, bench, count, reconnects)          attach, connect, nodes... latencies
    s11_api(ctx)                                       the section: the applications and the
                                                       built-in references, alternated
    render(data, s)                                    its part of RESULTS.md

The applications are pinned next to their appliance: source and ping on core 0 with A, sink
and echo on core 1 with B; the machine has two cores, so each application shares its core
with an lcore. Every function starts its own appliances in a fresh World (rig_sluice's), stops
every process by PID on every exit path and returns a plain dict, or raises RigError.
"""
import base64
import json
import os
import queue
import statistics
import subprocess
import threading
import time

import rig_sluice
from rig_sluice import sl_integ

CHAN = 1
LIMIT_S = 120  # every appliance's --duration and application's -t
GOODPUT_COUNTS = {64: 8000000, 1400: 2000000}  # about a second for the built-in services
# How the applications wait: not "spin". Each application shares its core with a polling lcore
# here (two cores), and a process that never gives its core up alternates with the lcore in
# scheduler slices of milliseconds: 10-25 % of the goodput and round trips of 0.5 ms in a trial,
# a measure of the scheduler, not of libsluice (see render()).
GOODPUT_WAITS = ("block", "yield")
LATENCY_SIZE = 64
# (lcores' idle mode, what, wait, round trips): the built-in echo first, then applications
LATENCY_RUNS = (("busy", "built-in", None, 20000), ("busy", "app", "block", 20000),
                ("adaptive", "built-in", None, 20000), ("adaptive", "app", "block", 20000))
PAIRS = 5
# a pair during which others used more than this many cores is measured again (_alternated)
FOREIGN_MAX, REDO_MAX, REDO_PAUSE_S = 0.3, 4, 15
OPS_COUNT, OPS_RECONNECTS = 200, 20
GOODPUT_TARGET, LATENCY_TARGET = 0.8, 1.5


class Bench:
    """One sluice_bench process on a core; its JSON lines read by a thread."""

    def __init__(self, w, exe, core, args, name):
        self.name = name
        self.err_path = os.path.join(w.dir, f"bench-{name}.err")
        argv = ["taskset", "-c", str(core), exe] + [str(a) for a in args]
        self.seen = []
        with open(self.err_path, "wb") as fe:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=fe, text=True, bufsize=1,
                                         preexec_fn=sl_integ.child_setup, env=w.env)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        w.track(self)
        sl_integ.log(f"{name}: started pid {self.proc.pid}: {' '.join(argv)}")

    def __repr__(self):
        return f"<Bench {self.name} pid {self.proc.pid}>"

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.lines.put(json.loads(line))
            except ValueError:
                self.lines.put({"junk": line.rstrip()})
        self.lines.put(None)

    def wait(self, cond, timeout):
        """The next line for which cond(line) holds (every line read is kept in self.seen)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                d = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise sl_integ.TestFailure(f"{self.name}: no such line within {timeout} s")
            if d is None:
                raise sl_integ.TestFailure(f"{self.name}: exited (status {self.proc.wait()}: "
                                           f"{self.stderr_tail()})")
            self.seen.append(d)
            if cond(d):
                return d

    def rest(self, timeout):
        """Wait for the process to exit (SIGTERM after timeout): (status, every line)."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = self.stop()
        while True:
            try:
                d = self.lines.get(timeout=5)
            except queue.Empty:
                return rc, self.seen
            if d is None:
                return rc, self.seen
            self.seen.append(d)

    def stop(self, timeout=5.0):
        return sl_integ.terminate(self.proc, timeout, self.name)

    def stderr_tail(self):
        try:
            with open(self.err_path, errors="replace") as f:
                return f.read()[-600:].strip()
        except OSError:
            return ""

    def diagnostics(self):
        print(f"--- sluice_bench {self.name} (status {self.proc.poll()}), last lines:")
        print("\n".join(json.dumps(d) for d in self.seen[-5:]))
        print(self.stderr_tail())


# --- the appliances ------------------------------------------------------------------------------

def _with_api(w, a, b):
    """A `wire` for rig_sluice (transfer, latency): the memif link as usual, and an application
    socket on each appliance (node.api_socket), so that the built-in references run on
    appliances configured exactly as those the applications use."""
    w.link(a, b)
    for n in (a, b):
        n.api_socket = os.path.join(w.dir, f"{n.name}-api.sock")
        n.cfg["api"] = {"socket": n.api_socket, "mode": "0600", "max_apps": 8}


def _api_pair(w, idle):
    return rig_sluice._pair(w, "aes256gcm", idle, _with_api, max_message=1 << 20)


def _start(a, b):
    """Start B then A (as rig_sluice does); wait for their sockets and their session."""
    for n in (b, a):
        n.start(duration=LIMIT_S)
    for n, other in ((a, b), (b, a)):
        n.wait_log(r"api: listening on", timeout=30)
        n.wait_log(rf"NodeConnected peer={other.name} ", timeout=30)


def _stop(w, *nodes):
    for n in nodes:
        rc = n.stop()
        w.check(rc == 0, f"{n.name} exits 0 after SIGTERM (status {rc})")
        w.equal(n.summary().get("exit", {}).get("mbufs_in_use"), 0, f"{n.name}'s mbufs in use")


def _node_hex(n):
    return base64.b64decode(n.public_key).hex()


def _stats(lines):
    return {d["mode"]: d for d in lines if d.get("stats")}


# --- the measurements --------------------------------------------------------------------------

def app_transfer(sluice, bench, size, count, wait="yield", idle="adaptive"):
    """sluice_bench source at A (core 0) sends `count` messages of `size` bytes on channel 1
    to sluice_bench sink at B (core 1), which checks every byte; both wait as `wait` says when
    they have nothing to do. Goodput: message bytes over the sink's active period (first to
    last message), as section 2 measures the built-in sink."""
    def body():
        with rig_sluice._world(f"api-tx-{size}-{wait}", sluice) as w:
            a, b = _api_pair(w, idle)
            _start(a, b)
            sink = Bench(w, bench, 1, ["sink", "-s", b.api_socket, "-c", CHAN, "-n", count,
                                       "-t", LIMIT_S, "-w", wait, "-r", 1000], "sink")
            sink.wait(lambda d: d.get("ready"), 30)
            src = Bench(w, bench, 0, ["source", "-s", a.api_socket, "-c", CHAN, "-z", size,
                                      "-n", count, "-t", LIMIT_S, "-w", wait, _node_hex(b)],
                        "source")
            fin = sink.wait(lambda d: d.get("final"), LIMIT_S + 10)
            rc_src, src_lines = src.rest(30)
            rc_sink, sink_lines = sink.rest(10)
            w.equal((rc_src, rc_sink), (0, 0), "source and sink exit 0")
            w.equal((fin["msgs"], fin["bad"], fin["gaps"]), (count, 0, 0),
                    "the sink got every message, each intact and in order")
            st = _stats(src_lines + sink_lines)
            w.equal(st["sink"]["appliance_errors"] + st["source"]["appliance_errors"], 0,
                    "libsluice refused nothing the appliances wrote")
            _stop(w, a, b)
            secs = max(fin["last_ns"] - fin["first_ns"], 1) / 1e9
            return {"size": size, "wait": wait, "msgs": fin["msgs"], "seconds": secs,
                    "msgs_per_s": fin["msgs"] / secs, "goodput_bps": 8 * fin["bytes"] / secs,
                    "send_nobufs": st["source"]["send_nobufs"],
                    "send_noroom": st["source"]["send_noroom"]}
    return rig_sluice._run(body)


def app_latency(sluice, bench, size, count, wait="block", idle="busy"):
    """sluice_bench ping at A (core 0) -> sluice_bench echo at B (core 1), one message of
    `size` bytes in flight, `count` round trips after a warm-up of count / 10, each reply
    checked; both applications wait as `wait` says. Percentiles in nanoseconds."""
    def body():
        with rig_sluice._world(f"api-lat-{size}-{wait}", sluice) as w:
            a, b = _api_pair(w, idle)
            _start(a, b)
            echo = Bench(w, bench, 1, ["echo", "-s", b.api_socket, "-c", CHAN, "-t", LIMIT_S,
                                       "-w", wait], "echo")
            echo.wait(lambda d: d.get("ready"), 30)
            ping = Bench(w, bench, 0, ["ping", "-s", a.api_socket, "-c", CHAN, "-z", size,
                                       "-n", count, "-t", LIMIT_S, "-w", wait, _node_hex(b)],
                         "ping")
            r = ping.wait(lambda d: d.get("op") == "rtt", LIMIT_S + 10)
            rc_ping, _ = ping.rest(30)
            echo.stop()
            w.equal(rc_ping, 0, "ping exits 0 (every reply came back intact)")
            _stop(w, a, b)
            return r
    return rig_sluice._run(body)


def app_ops(sluice, bench, count, reconnects, idle="adaptive"):
    """sluice_bench ops at A (core 0): attach and detach, connect (a node connected already),
    nodes (ConnectedNodes), register + unregister, `count` times each; `reconnects`
    disconnect -> connect -> NODE_CONNECTED cycles (a handshake each). Percentiles in ns."""
    def body():
        with rig_sluice._world("api-ops", sluice) as w:
            a, b = _api_pair(w, idle)
            _start(a, b)
            ops = Bench(w, bench, 0, ["ops", "-s", a.api_socket, "-c", CHAN, "-n", count,
                                      "-R", reconnects, "-t", LIMIT_S, _node_hex(b)], "ops")
            rc, lines = ops.rest(LIMIT_S + 10)
            w.equal(rc, 0, "ops exits 0")
            _stop(w, a, b)
            return {d["op"]: d for d in lines if "op" in d}
    return rig_sluice._run(body)


# --- the conditions: what else used the two cores -----------------------------------------------

def cpu_sample():
    """(CPU seconds the machine spent busy, the hypervisor took (steal), this process and its
    waited-for children used — the rig's appliances and applications — so far)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    t = os.times()
    busy = v[0] + v[1] + v[2] + v[5] + v[6]  # user nice system irq softirq
    return busy / hz, v[7] / hz, t.user + t.system + t.children_user + t.children_system


def foreign_load(before, after, seconds):
    """CPU (in cores, averaged over the section) that processes outside the rig used — all of
    them, those that came and went too — and what the hypervisor took from the machine."""
    busy, steal, rig = (a - b for a, b in zip(after, before))
    return {"cores": round(max(busy - rig, 0.0) / seconds, 2), "steal": round(steal / seconds, 2)}


# --- the section ---------------------------------------------------------------------------------

def _alternated(pairs, runs, log):
    """Run each of `runs` ((key, fn) pairs) once per pair, in order for even pairs and in
    reverse for odd ones (a drift of the machine then weighs on both sides alike). A pair during
    which other processes used more than FOREIGN_MAX cores (another session's build or tests:
    the references suffer from it far more than the applications, and the ratio with them) is
    measured again, up to REDO_MAX times in the section's part. Returns ({key: [results]},
    {"foreign": the kept pairs' foreign cores, "redone": pairs measured again})."""
    out = {key: [] for key, _ in runs}
    cond = {"foreign": [], "redone": 0}
    while len(cond["foreign"]) < pairs:
        p = len(cond["foreign"])
        order = runs if p % 2 == 0 else list(reversed(runs))
        t0, before, got = time.monotonic(), cpu_sample(), {}
        for key, fn in order:
            log(f"11: pair {p + 1}/{pairs}: {key}")
            got[key] = fn()
        f = foreign_load(before, cpu_sample(), time.monotonic() - t0)["cores"]
        if f > FOREIGN_MAX and cond["redone"] < REDO_MAX:
            cond["redone"] += 1
            log(f"11: pair {p + 1}: other processes used {f} cores meanwhile: again")
            time.sleep(REDO_PAUSE_S)
            continue
        for key, r in got.items():
            out[key].append(r)
        cond["foreign"].append(f)
    return out, cond


def _goodput(ctx, log, pairs):
    bench = ctx.prog("sluice_bench")
    rows = []
    for size, count in GOODPUT_COUNTS.items():
        count = ctx.count_of(count)
        runs = [("built-in", lambda: rig_sluice.transfer(ctx.sluice, "aes256gcm", size, count,
                                                         wire=_with_api))]
        runs += [(f"app-{wt}", lambda wt=wt: app_transfer(ctx.sluice, bench, size, count, wt))
                 for wt in GOODPUT_WAITS]
        got, cond = _alternated(pairs, runs, lambda m: log(f"{m}, {size} B x {count}"))
        ref = [r["goodput_bps"] for r in got["built-in"]]
        for wt in GOODPUT_WAITS:
            app = got[f"app-{wt}"]
            ratios = [r["goodput_bps"] / b for r, b in zip(app, ref)]
            rows.append({"size": size, "count": count, "wait": wt, "ref_bps": ref,
                         "app_bps": [r["goodput_bps"] for r in app], "ratios": ratios,
                         "ratio": statistics.median(ratios),
                         "send_nobufs": [r["send_nobufs"] for r in app],
                         "send_noroom": [r["send_noroom"] for r in app], **cond})
    return rows


def _latency(ctx, log, pairs):
    bench = ctx.prog("sluice_bench")
    runs = []
    for idle, what, wt, n in LATENCY_RUNS:
        n = ctx.count_of(n)
        if what == "built-in":
            fn = (lambda idle=idle, n=n: rig_sluice.latency(ctx.sluice, LATENCY_SIZE, n,
                                                            idle=idle, wire=_with_api))
        else:
            fn = (lambda idle=idle, wt=wt, n=n: app_latency(ctx.sluice, bench, LATENCY_SIZE, n,
                                                            wt, idle))
        runs.append((f"{idle}/{what}/{wt}", fn))
    got, cond = _alternated(pairs, runs, log)
    rows = []
    for idle, what, wt, n in LATENCY_RUNS:
        rs = got[f"{idle}/{what}/{wt}"]
        ref = got[f"{idle}/built-in/None"]
        rows.append({"idle": idle, "what": what, "wait": wt, "count": ctx.count_of(n),
                     "runs": [{k: r.get(k) for k in ("min_ns", "p50_ns", "p99_ns", "p999_ns",
                                                     "max_ns")} for r in rs],
                     "p50_ratios": [r["p50_ns"] / b["p50_ns"] for r, b in zip(rs, ref)], **cond})
        rows[-1]["p50_ratio"] = statistics.median(rows[-1]["p50_ratios"])
    return rows


def s11_api(ctx, log):
    """The section: goodput, then echo round trips, then the requests; the conditions."""
    pairs = 1 if ctx.quick else PAIRS
    t0, before = time.monotonic(), cpu_sample()
    out = {"pairs": pairs, "goodput": _goodput(ctx, log, pairs)}
    out["latency"] = _latency(ctx, log, pairs)
    log("11: attach, connect, nodes: request latencies (sluice_bench ops)")
    out["ops"] = app_ops(ctx.sluice, ctx.prog("sluice_bench"), ctx.count_of(OPS_COUNT),
                         OPS_RECONNECTS if not ctx.quick else 3)
    out["foreign"] = foreign_load(before, cpu_sample(), time.monotonic() - t0)
    return out


# --- RESULTS.md ----------------------------------------------------------------------------------

TITLE = "11. Applications: libsluice next to the built-in services"

WAITS = {"spin": "busy-poll (spin)", "yield": "busy-poll, sched_yield() when idle",
         "block": "blocking (sluice_wait(): the eventfd)", None: "-"}


def _verdict(ok):
    return "PASS" if ok else "**MISS**"


def _conds(parts):
    parts = [p for p in parts if p]
    return "\n" + "; ".join(parts) + ".\n" if parts else ""


def _cond_md(what, r):
    """What else ran during the pairs kept for r (a row of _goodput() or _latency())."""
    f = r.get("foreign")
    if not f:
        return ""
    return (f"{what}: other processes used up to {max(f):.2f} cores during a kept pair "
            f"(median {statistics.median(f):.2f}); pairs measured again for more than "
            f"{FOREIGN_MAX}: {r.get('redone', 0)}")


def _goodput_md(rg, rows, pairs):
    out = [rg.table(["message", "application waits", "built-in Gbit/s", "application Gbit/s",
                     "ratio (target >= 80 %)", "each pair's ratio", "refused: credit / room"],
                    [[rg.size_name(r["size"]), WAITS[r["wait"]],
                      " / ".join(rg.gbps(x) for x in r["ref_bps"]),
                      " / ".join(rg.gbps(x) for x in r["app_bps"]),
                      f"{rg.pct(r['ratio'])} ({_verdict(r['ratio'] >= GOODPUT_TARGET)})",
                      ", ".join(rg.pct(x) for x in r["ratios"]),
                      f"{statistics.median(r['send_nobufs']):,.0f} / "
                      f"{statistics.median(r['send_noroom']):,.0f}"] for r in rows])]
    return ("**Goodput.** A's built-in `source` -> B's `sink` (section 2's transfer, the "
            "reference) and `sluice_bench source` at A -> `sluice_bench sink` at B on channel 1 "
            f"through the same appliances (lcores `adaptive`, as in section 2; built-in services "
            f"off), {pairs} alternated pairs per size (built-in, then the applications; the "
            "next pair in reverse order), a fresh pair of appliances for every run. Goodput: "
            "message bytes over the sink's active period, every message checked byte by byte "
            "by its sink. Ratio: the median of the pairs' ratios (application / built-in in the "
            "same pair). Refused: the source's sends refused for credit and for room in its "
            "lane (medians).\n\n" + out[0] +
            _conds([_cond_md(rg.size_name(r["size"]), r) for r in rows
                    if r["wait"] == GOODPUT_WAITS[0]]))


def _latency_md(rg, rows, pairs):
    def med(r, k):
        return statistics.median(x[k] for x in r["runs"] if x.get(k) is not None)

    body = []
    for r in rows:
        builtin = r["what"] == "built-in"
        body.append([r["idle"], "built-in echo service" if builtin else "sluice_bench ping -> echo",
                     WAITS[r["wait"]], f"{r['count']:,}", rg.us(med(r, "p50_ns")),
                     rg.us(med(r, "p99_ns")), rg.us(med(r, "p999_ns")),
                     "reference" if builtin else
                     f"{r['p50_ratio']:.2f}x ({_verdict(r['p50_ratio'] <= LATENCY_TARGET)})"])
    return ("\n**Echo round trip, one message in flight** (64 B). The built-in echo: A's "
            "`source` (`in_flight` 1, `expect_echo`) -> B's `echo`, as section 5; the "
            "applications: `sluice_bench ping` at A -> `sluice_bench echo` at B, each reply "
            "checked. Both with the lcores busy-polling (section 5's setup) and with the "
            f"lcores `adaptive`; {pairs} alternated pairs; microseconds, the median of the "
            "pairs' percentiles; ratio: the median of the pairs' p50 ratios against the built-in "
            "echo with the same lcores.\n\n" +
            rg.table(["lcores", "round trip", "applications wait", "round trips", "p50",
                      "p99", "p99.9", "p50 / built-in p50 (target <= 1.5x)"], body,
                     ["---", "---", "---"] + ["---:"] * 5) +
            _conds([_cond_md("Round trips", rows[0])]))


def _ops_md(rg, ops):
    what = {"attach": "sluice_attach() (socket, memfd, eventfd, layout checks, mapping)",
            "detach": "sluice_detach()",
            "connect": "sluice_connect() of a node already connected (the request alone)",
            "nodes": "sluice_nodes(): ConnectedNodes, one page of up to 64 (the control thread "
                     "walks its whole node table, rte_hash_iterate over 2 x (max_sessions + "
                     "peers) entries: 131,000 here)",
            "register_unregister": "sluice_register() + sluice_unregister(): two requests",
            "reconnect": "sluice_disconnect(), NODE_DISCONNECTED, then sluice_connect() -> "
                         "NODE_CONNECTED: a new handshake, 100 ms after the last (under the "
                         "peer's limit of 20 handshakes a second per source), through both "
                         "control threads, which idle meanwhile"}
    rows = [[f"`{k}`", what[k], f"{ops[k]['n']:,}", rg.us(ops[k].get("p50_ns")),
             rg.us(ops[k].get("p90_ns")), rg.us(ops[k].get("p99_ns")),
             rg.us(ops[k].get("max_ns"))] for k in what if k in ops]
    return ("\n**Requests** (`sluice_bench ops` at A, its appliance's control thread on the "
            "same cores; each request is a round trip on the control socket, and the control "
            "thread waits for it in `ppoll()`), microseconds:\n\n" +
            rg.table(["request", "what", "n", "p50", "p90", "p99", "max"], rows,
                     ["---", "---"] + ["---:"] * 5))


def render(data, s):
    import rig_report as rg
    f = s.get("foreign", {})
    out = ("Applications attached to the appliances through libsluice, measured with "
           "`perf/sluice_bench` next to the built-in services in the same run, on the same "
           "appliances (section 2's: A on core 0, B on core 1, one dataplane lcore each, "
           "AES-256-GCM, memif), each also given an application socket. Placement: the "
           "sending application (source, ping, ops) on core 0 with A's lcore, the receiving one "
           "(sink, echo) on core 1 with B's: the machine has two cores, so every application "
           "shares its core with a polling lcore, where the built-in services run inside the "
           "lcore. Waiting: `block` sleeps in `sluice_wait()` (the eventfd; the lcore wakes it "
           "for a batch: docs/api.md, Waking), `yield` polls and calls `sched_yield()` when it "
           "finds nothing. Not measured: `spin` (polling without ever giving the core up), "
           "which on a shared core alternates with the lcore in scheduler slices of "
           "milliseconds (10-25 % of the goodput and round trips of about 0.5 ms in a trial "
           "run): busy-polling applications want cores of their own, which this machine does "
           "not have. Conditions: other processes outside the rig used "
           f"{f.get('cores', '?')} of the two cores on average during the section"
           + (f", and the hypervisor took {f['steal']} (steal time)" if "steal" in f else "")
           + ".\n\n")
    out += _goodput_md(rg, s["goodput"], s["pairs"])
    out += _latency_md(rg, s["latency"], s["pairs"])
    out += _ops_md(rg, s["ops"])
    return out
