#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""sluice perf rig, sections 8 and 9: one appliance, one loadgen (perf/loadgen.c) over memif.

    import rig_scale
    r = rig_scale.scale(sluice_bin, loadgen_bin, 10000)
        # {"sessions": 10000, "established": 10000, "rss_before": ..., "rss_after": ...,
        #  "bytes_per_session": ..., "handshake_s": ..., "handshakes_per_s": ..., ...}
    f = rig_scale.flood(sluice_bin, loadgen_bin, seconds=5)
        # {"sent": ..., "answered": ..., "cookies": ..., "pps": ..., "admission": {...}, ...}

Command line (prints the dicts as JSON):
    rig_scale.py SLUICE LOADGEN scale N [N ...]
    rig_scale.py SLUICE LOADGEN flood SECONDS [--replay] [--rate R] [--open]
        (--open: the appliance without a per-source limit, so the flood reaches the DH)

scale(): the appliance B (lcore 0, memif server) starts with keepalive and idle timeout off,
max_sessions >= N and a per-source handshake budget large enough for one address to open all
N sessions; its VmRSS is read once it runs (and its statistics snapshots turn); the loadgen
(lcore 1, memif client) establishes N sessions, each under its own identity, and holds them;
B's /sluice/info must then show N sessions live; VmRSS is read again after a settling time.
bytes_per_session = (rss_after - rss_before) / N: everything B spends per idle session (the
control thread's node and slot, the lcore's session, engine and keys, hash and table entries).
The loadgen's own handshake rate (first initiation to last confirmed session) is what B's
control plane completed while the loadgen kept `inflight` handshakes outstanding.

flood(): the appliance runs with the default admission limits (20 initiations/s per source,
burst 5, cookies under load) unless told otherwise; the loadgen floods IK initiations for
`seconds`; returned: the loadgen's counts and B's admission, control-thread and drop counters,
and whether B survived (it is stopped with SIGTERM afterwards and must exit 0).

Every process is bounded (--duration for the appliance, --hold / --flood for the loadgen, and
timeouts here), stopped by PID (SIGTERM, then SIGKILL), dies with this process
(PR_SET_PDEATHSIG), and the temporary directory (configurations, keys, memif socket, logs) is
removed on every path, SIGTERM/SIGINT included. Python 3 standard library only.
"""
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import sl_integ as it  # noqa: E402

B_IP, LG_IP = "198.18.0.2", "198.18.0.1"
B_CORE, LG_CORE = 0, 1
SETTLE_S = 3.0          # after the last session: let allocations and snapshots settle
LG_MEMORY_MB = 512
# one address may open every session: no per-source rate limit to speak of
WARM_SESSIONS = 256     # opened (and kept) before the memory is measured
OPEN_LIMITS = {"handshakes_per_sec": 1000000, "handshake_burst": 1000000}


class RigError(Exception):
    pass


def _rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RigError(f"no VmRSS for pid {pid}")


def _kv(line):
    return {k: (float(v) if "." in v else int(v)) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}


class _Rig:
    """A World with one appliance B and at most one loadgen; cleans up on every path."""

    def __init__(self, sluice_bin, loadgen_bin, tag):
        self.loadgen_bin = os.path.abspath(loadgen_bin)
        self.world = it.World(f"rig-{tag}", argv=["rig", sluice_bin])
        self.lg = None
        self.lg_prefix = f"sl-lg-{os.getpid()}-{self.world.tag}"
        self.lg_out = os.path.join(self.world.dir, "loadgen.out")
        self.lg_err = os.path.join(self.world.dir, "loadgen.err")
        self._old = {}

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            try:
                self._old[sig] = signal.signal(sig, self._on_signal)
            except ValueError:  # not the main thread: the caller handles signals
                break
        return self

    def _on_signal(self, sig, frame):
        raise RigError(f"interrupted by signal {signal.Signals(sig).name}")

    def __exit__(self, etype, exc, tb):
        for sig in self._old:
            signal.signal(sig, signal.SIG_IGN)
        try:
            if etype is not None:
                self._diagnostics(exc)
            self.stop_loadgen()
        finally:
            self.world.cleanup()
            # the loadgens' EAL runtime directory (they have exited: stop_loadgen waited)
            shutil.rmtree(os.path.join(it.runtime_dir(), self.lg_prefix), ignore_errors=True)
            for sig, h in self._old.items():
                signal.signal(sig, h)
        return False

    def _diagnostics(self, exc):
        print(f"rig: failed: {exc!r}", file=sys.stderr)
        for path in (self.lg_err, self.lg_out):
            print(f"--- {os.path.basename(path)} (tail)", file=sys.stderr)
            print(it._tail(it._read(path), 20), file=sys.stderr)
        for n in self.world.nodes:
            if n.runs:
                print(f"--- {n.name} stderr (tail)", file=sys.stderr)
                print(it._tail(n.stderr(), 20), file=sys.stderr)

    # the appliance

    def appliance(self, max_sessions, limits=None, memory_mb=256, duration=900, setup=None):
        """Start appliance B (its port link0 a memif server for the loadgen); setup(b) may
        add to its configuration first."""
        b = self.world.node("b", core=B_CORE, ip=B_IP)
        self.sock = os.path.join(self.world.dir, "lg.sock")
        b.add_port("link0", f"net_memif0,role=server,id=0,socket={self.sock}")
        b.cfg["eal"]["memory_mb"] = memory_mb
        lim = {"keepalive_ms": 0, "idle_timeout_ms": 0, "max_sessions": max_sessions}
        lim.update(limits or {})
        b.cfg["limits"] = lim
        if setup is not None:
            setup(b)
        b.start(duration=duration)
        deadline = time.monotonic() + 30
        while b.query("/sluice/info", wait=30) is None:  # endpoints not registered yet
            if time.monotonic() > deadline:
                raise RigError("the appliance's telemetry does not answer /sluice/info")
            time.sleep(0.1)
        b.wait_snapshot(count=2, timeout=30)
        self.b = b
        return b

    # the loadgen

    def start_loadgen(self, args, memory_mb=LG_MEMORY_MB):
        b = self.b
        argv = [self.loadgen_bin, "-l", str(LG_CORE), "--no-huge", "-m", str(memory_mb),
                "--no-pci", "--no-telemetry", "--log-level=lib.eal:notice",
                f"--file-prefix={self.lg_prefix}", "--",
                "--port", f"net_memif0,role=client,id=0,socket={self.sock}",
                "--ip", f"{LG_IP}/24", "--target", f"{B_IP}:{b.udp_port}",
                "--target-key", b.public_key, "--network", b.cfg["network"]] + list(args)
        with open(self.lg_out, "wb") as fo, open(self.lg_err, "wb") as fe:
            self.lg = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe,
                                       preexec_fn=it.child_setup)
        it.log(f"loadgen: started pid {self.lg.pid}: {' '.join(argv)}")
        return self.lg

    def wait_line(self, prefix, timeout):
        """The first stdout line of the loadgen starting with prefix, as a dict."""
        deadline = time.monotonic() + timeout
        while True:
            for line in it._read(self.lg_out).splitlines():
                if line.startswith(prefix):
                    return _kv(line)
            if self.lg.poll() is not None:
                time.sleep(0.1)  # its last lines may just have been written
                for line in it._read(self.lg_out).splitlines():
                    if line.startswith(prefix):
                        return _kv(line)
                raise RigError(f"loadgen exited (status {self.lg.returncode}) before "
                               f"printing '{prefix}'")
            if time.monotonic() > deadline:
                raise RigError(f"loadgen: no '{prefix}' within {timeout} s")
            if not self.b.running():
                raise RigError(f"the appliance exited (status {self.b.proc.returncode})")
            time.sleep(0.05)

    def next_loadgen(self):
        """Forget the last loadgen (it has exited): the next one gets fresh output files."""
        self.lg = None
        self.n_lg = getattr(self, "n_lg", 0) + 1
        self.lg_out = os.path.join(self.world.dir, f"loadgen{self.n_lg}.out")
        self.lg_err = os.path.join(self.world.dir, f"loadgen{self.n_lg}.err")

    def stop_loadgen(self, timeout=10.0):
        return it.terminate(self.lg, timeout, "loadgen")


def _warm_then_open(r, b, n_sessions, args, setup_limit):
    """Warm-up: a first loadgen opens WARM_SESSIONS sessions and leaves (they stay, idle), so
    that what any traffic touches once (mbufs of the pool, first heap pages, tables' first
    pages) is resident before the measurement starts. Then B's RSS, and a second loadgen opens
    n_sessions. Returns (RSS before the second, in bytes; its `established=` line)."""
    r.start_loadgen(["--sessions", str(WARM_SESSIONS), "--hold", "0"])
    r.wait_line("loadgen: established=", 120)
    r.stop_loadgen()
    r.next_loadgen()
    b.wait_snapshot(count=2, timeout=30)
    time.sleep(1.0)
    rss_before = _rss_kib(b.pid()) * 1024
    r.start_loadgen(["--sessions", str(n_sessions)] + list(args))
    return rss_before, r.wait_line("loadgen: established=", setup_limit + 60)


def _sessions_live(b):
    return int(b.query("/sluice/info").get("sessions_live", 0))


def scale(sluice_bin, loadgen_bin, n_sessions, inflight=32, setup_limit=300, suite="aesgcm"):
    """Establish n_sessions idle sessions on one appliance; its memory per session and the
    handshake rate. See the module's description."""
    memory = 256 + n_sessions // 250        # the appliance's EAL memory (its tables)
    with _Rig(sluice_bin, loadgen_bin, f"scale{n_sessions}") as r:
        b = r.appliance(max_sessions=max(n_sessions + WARM_SESSIONS + 64, 1024),
                        limits=OPEN_LIMITS,
                        memory_mb=memory, duration=setup_limit + 300)
        rss_before, up = _warm_then_open(r, b, n_sessions,
                                         ["--inflight", str(inflight), "--setup-limit",
                                          str(setup_limit), "--hold", str(setup_limit + 120),
                                          "--suite", suite], setup_limit)
        b.wait_snapshot(count=2, timeout=30)
        time.sleep(SETTLE_S)
        live = _sessions_live(b) - WARM_SESSIONS
        rss_after = _rss_kib(b.pid()) * 1024
        drops = b.query("/sluice/drops")
        rc = r.stop_loadgen()
        summary = r.wait_line("loadgen: summary ", 5)
        t_stop = time.monotonic()
        b_rc = b.stop(timeout=120)
        stop_s = time.monotonic() - t_stop
        res = {
            "sessions": n_sessions,
            "established": up.get("established"),
            "failed": up.get("failed"),
            "sessions_live": live,
            "rss_before": rss_before,
            "rss_after": rss_after,
            "bytes_per_session": (rss_after - rss_before) / max(live, 1),
            "handshake_s": up.get("seconds"),
            "handshakes_per_s": up.get("handshakes_per_s"),
            "loadgen": summary,
            "loadgen_status": rc,
            "appliance_status": b_rc,
            "appliance_stop_s": round(stop_s, 3),
            "appliance_control": drops.get("control", {}) if isinstance(drops, dict) else {},
            "appliance_admission": drops.get("admission", {}) if isinstance(drops, dict) else {},
        }
        return res


def flood(sluice_bin, loadgen_bin, seconds=5, replay=False, rate=0, identities=256,
          limits=None):
    """Flood one appliance with IK initiations for `seconds`; its counters and survival.
    limits: the appliance's `limits` overrides (default: admission defaults)."""
    with _Rig(sluice_bin, loadgen_bin, "flood") as r:
        b = r.appliance(max_sessions=max(1024, identities * 2), limits=limits,
                        duration=seconds + 120)
        args = ["--flood", str(seconds), "--sessions", str(identities), "--rate", str(rate)]
        if replay:
            args.append("--replay")
        r.start_loadgen(args)
        res = r.wait_line("loadgen: flood ", seconds + 60)
        summary = r.wait_line("loadgen: summary ", 30)
        lg_rc = r.lg.wait(timeout=30)
        b.wait_snapshot(count=2, timeout=30)
        drops = b.query("/sluice/drops")
        info = b.query("/sluice/info")
        alive = b.running()
        b_rc = b.stop(timeout=30)
        res.update({
            "loadgen": summary,
            "loadgen_status": lg_rc,
            "appliance_alive_after": alive,
            "appliance_status": b_rc,
            "appliance_sessions_live": info.get("sessions_live"),
            "appliance_admission": drops.get("admission", {}),
            "appliance_control": drops.get("control", {}),
            "appliance_drops": {k: v for k, v in drops.items()
                                if k not in ("admission", "control")},
            "appliance_summary": b.summary().get("summary", {}),
        })
        return res


# --- an A -> B transfer next to the loadgen (rig sections 8 and 9) ----------------------------

A_IP, B_IP2 = "198.18.6.1", "198.18.6.2"  # the A -- B link, a subnet of its own
A_CORE = LG_CORE


def _transfer_setup(r, size):
    """A setup() for _Rig.appliance: B gets a second memif server port towards a new
    appliance A (on the loadgen's core) and a sink on channel 1; A an unbounded source of
    `size`-byte messages to it. Returns a function starting A."""
    w = r.world
    sock = os.path.join(w.dir, "a.sock")
    a = w.node("a", core=A_CORE, ip=A_IP)
    a.add_port("la", f"net_memif0,role=client,id=0,socket={sock}")
    a.cfg["peers"] = [{"name": "b", "endpoint": f"{B_IP2}:4789", "public_key": None}]
    a.cfg["services"] = [{"type": "source", "channel": 1, "peer": "b", "count": 0,
                          "size": size}]

    def setup(b):
        b.add_port("la", f"net_memif1,role=server,id=0,socket={sock}")
        b.cfg["ports"][-1]["ipv4"] = f"{B_IP2}/24"
        b.peer(a)
        b.cfg["services"] = [it.sink(channel=1)]
        a.cfg["peers"][0]["public_key"] = b.public_key
        a.cfg["limits"] = dict(b.cfg["limits"], max_sessions=1024)

    def start_a(duration):
        a.start(duration=duration)
        return a
    return setup, start_a


WINDOWS = 3  # goodput windows per measurement; the best one counts (runs vary by a third)


SCALE_WINDOWS = 6  # section 9: its two phases are tens of seconds apart; more chances each


def _best_window(b, seconds, n=WINDOWS):
    """The best of n goodput windows of `seconds` in a row: (bits/s, its length)."""
    import rig_sluice
    return max((rig_sluice.goodput_window(b, seconds) for _ in range(n)), key=lambda x: x[0])


def _stop_all(r, a, b):
    r.stop_loadgen()
    out = {}
    for n in (a, b):
        out[f"{n.name}_status"] = n.stop(timeout=120)
    snk = it.parse_summary(b.stdout()).get("services", {}).get(0, {})
    out["sink_lost"] = snk.get("lost", 0) + snk.get("duplicated", 0) + snk.get("corrupt", 0)
    return out


def scale_goodput(sluice_bin, loadgen_bin, n_sessions, seconds, size=1400, inflight=32,
                  setup_limit=300):
    """Section 9: A -> B (an unbounded source of `size`-byte messages) first runs alone, B's
    sink goodput over `seconds` (the reference); A stops; B then takes n_sessions idle sessions
    from the loadgen (after a warm-up of WARM_SESSIONS), its resident memory per session; A
    starts again and the goodput is measured the same way while B holds them all."""
    import rig_sluice
    memory = 256 + n_sessions // 250
    with _Rig(sluice_bin, loadgen_bin, f"scalegp{n_sessions}") as r:
        setup, start_a = _transfer_setup(r, size)
        b = r.appliance(max_sessions=max(n_sessions + WARM_SESSIONS + 64, 1024),
                        limits=OPEN_LIMITS, memory_mb=memory, duration=setup_limit + 600,
                        setup=setup)
        a = start_a(120)
        rig_sluice._wait_flowing(b, timeout=60)
        ref, _ = _best_window(b, seconds, SCALE_WINDOWS)
        a.stop(timeout=30)
        rss_before, up = _warm_then_open(r, b, n_sessions,
                                         ["--inflight", str(inflight), "--setup-limit",
                                          str(setup_limit), "--hold", "0"], setup_limit)
        b.wait_snapshot(count=2, timeout=30)
        time.sleep(SETTLE_S)
        live = _sessions_live(b) - WARM_SESSIONS
        rss_after = _rss_kib(b.pid()) * 1024
        before = rig_sluice._sink_bytes(b)[1]
        a = start_a(setup_limit + 300)
        rig_sluice._wait_flowing(b, timeout=60, after=before)
        gp, window = _best_window(b, seconds, SCALE_WINDOWS)
        res = {"sessions": n_sessions, "established": up.get("established"),
               "failed": up.get("failed"), "sessions_live": live,
               "rss_before": rss_before, "rss_after": rss_after,
               "bytes_per_session": (rss_after - rss_before) / max(live, 1),
               "handshake_s": up.get("seconds"),
               "handshakes_per_s": up.get("handshakes_per_s"),
               "goodput_bps": gp, "ref_bps": ref, "window_s": window}
        t = time.monotonic()
        res.update(_stop_all(r, a, b))
        res["stop_s"] = round(time.monotonic() - t, 1)
        return res


FLOOD_PAIRS = 4  # section 8: windows without and with the flood, alternating


def _cpu_s(pid, comm=None):
    """CPU seconds (user + system) of process pid, or of its threads named comm."""
    tick = os.sysconf("SC_CLK_TCK")
    paths = [f"/proc/{pid}/stat"]
    if comm is not None:
        paths = [f"/proc/{pid}/task/{t}/stat" for t in os.listdir(f"/proc/{pid}/task")]
    total = 0
    for p in paths:
        try:
            with open(p) as f:
                stat = f.read()
        except OSError:
            continue  # a thread that just ended
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:]
        if comm is None or name == comm:
            fields = rest.split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def _median(v):
    v = sorted(v)
    return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2


def _flood_pairs(r, b, seconds):
    """FLOOD_PAIRS pairs of goodput windows, the loadgen stopped (SIGSTOP) for the first of
    each pair and running (SIGCONT) for the second, so that each window with the flood has its
    reference seconds before it. [(without, with)] in bits/s, the time the flood ran, and the
    share of a core the loadgen and B's control thread took during the windows with it."""
    import rig_sluice
    pairs, flood_s, cpu = [], 0.0, {"loadgen": 0.0, "b_control": 0.0}
    for _ in range(FLOOD_PAIRS):
        r.lg.send_signal(signal.SIGSTOP)
        time.sleep(0.5)  # what was on its way has arrived
        off, _ = rig_sluice.goodput_window(b, seconds)
        r.lg.send_signal(signal.SIGCONT)
        time.sleep(0.5)
        lg0, ctl0 = _cpu_s(r.lg.pid), _cpu_s(b.pid(), "sluice-ctl")
        on, w = rig_sluice.goodput_window(b, seconds)
        cpu["loadgen"] += _cpu_s(r.lg.pid) - lg0
        cpu["b_control"] += _cpu_s(b.pid(), "sluice-ctl") - ctl0
        pairs.append((off, on))
        flood_s += w + 0.5
    on_s = flood_s - 0.5 * FLOOD_PAIRS
    return pairs, flood_s, {k: v / on_s for k, v in cpu.items()}


def flood_goodput(sluice_bin, loadgen_bin, seconds, size=1400, replay=True, rate=0):
    """Section 8: A -> B's goodput without and during a flood of IK initiations from the
    loadgen (`--replay`: pre-built initiations re-sent flat out, valid mac1; B's admission
    defaults: 20 handshakes/s per source, burst 5, cookies under load), in alternating windows
    (_flood_pairs); the medians and the median of the pairs' ratios. Also B's admission
    counters over the flood."""
    import rig_sluice
    span = FLOOD_PAIRS * 2 * (seconds + 1.5)
    with _Rig(sluice_bin, loadgen_bin, "floodgp") as r:
        setup, start_a = _transfer_setup(r, size)
        b = r.appliance(max_sessions=1024, limits={"keepalive_ms": 10000,
                                                  "idle_timeout_ms": 30000},
                        duration=span + 200, setup=setup)
        a = start_a(span + 200)
        rig_sluice._wait_flowing(b, timeout=60)
        adm0 = (b.query("/sluice/drops") or {}).get("admission", {})
        args = ["--flood", str(int(span) + 30), "--sessions", "256", "--rate", str(rate)]
        if replay:
            args.append("--replay")
        r.start_loadgen(args)
        deadline = time.monotonic() + 30  # until the flood reaches B
        while True:
            adm = rig_sluice._fresh(b, "/sluice/drops")[1].get("admission", {})
            if sum(v for v in adm.values() if isinstance(v, int)) > \
                    sum(v for v in adm0.values() if isinstance(v, int)) + 100:
                break
            if time.monotonic() > deadline:
                raise RigError("the flood did not reach B")
        adm1 = (b.query("/sluice/drops") or {}).get("admission", {})
        pairs, flood_s, cpu = _flood_pairs(r, b, seconds)
        adm2 = (b.query("/sluice/drops") or {}).get("admission", {})
        r.stop_loadgen()
        fl = r.wait_line("loadgen: flood ", 30)
        delta = {k: adm2.get(k, 0) - adm1.get(k, 0) for k in adm2
                 if isinstance(adm2.get(k), int) and adm2.get(k, 0) != adm1.get(k, 0)}
        res = {"clean_bps": _median([p[0] for p in pairs]),
               "flood_bps": _median([p[1] for p in pairs]),
               "ratio": _median([p[1] / p[0] for p in pairs if p[0] > 0]),
               "pairs": pairs, "window_s": seconds, "cpu_share": cpu,
               "sent": fl.get("sent"),
               "sent_per_s": (fl.get("sent") or 0) / max(flood_s, 1e-9),
               "cookies": delta.get("cookies_sent", 0), "admission": delta,
               "handshakes_per_s": delta.get("accepted", 0) / max(flood_s, 1e-9),
               "replay": replay, "rate": rate}
        res.update(_stop_all(r, a, b))
        return res


def main(argv):
    if len(argv) < 5 or argv[3] not in ("scale", "flood"):
        sys.exit(__doc__)
    sluice_bin, loadgen_bin, what = argv[1], argv[2], argv[3]
    out = sys.stdout
    try:
        with contextlib.redirect_stdout(sys.stderr):  # progress to stderr, JSON to stdout
            if what == "scale":
                res = [scale(sluice_bin, loadgen_bin, int(n)) for n in argv[4:]]
            else:
                rate = int(argv[argv.index("--rate") + 1]) if "--rate" in argv else 0
                lim = OPEN_LIMITS if "--open" in argv else None
                res = flood(sluice_bin, loadgen_bin, int(argv[4]),
                            replay="--replay" in argv, rate=rate, limits=lim)
    except (RigError, it.TestFailure) as e:
        print(f"rig_scale: {e}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(res, indent=1), file=out, flush=True)


if __name__ == "__main__":
    main(sys.argv)
