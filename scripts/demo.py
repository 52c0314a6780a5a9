#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""sluice demo: three appliances in a line, A -- R -- B, joined by two memif links.

    make demo                               # builds first, then runs this
    python3 scripts/demo.py [--sluice build/sluice] [--timeout 50] [--cores A,R,B] [--keep]

A and B have no link to each other: A reaches B only through R, a relay. A sends 100,000
messages of 64 B to 4 KiB to B's echo, through R's circuit, and checks every reply; at the same
time B streams 100,000 messages of 1 KiB to R's sink, which verifies them. The demo prints a
live progress line from telemetry, stops every appliance cleanly and prints a table per node
with what R relayed. Exit status 0 only if every source finished, nothing was lost, duplicated,
corrupted or left undelivered, every message arrived, A's session with B went through R's
circuit, and every appliance exited 0 with all of its mbufs back (mbufs_in_use=0).

Each run has its own world: a fresh temporary directory holding new keys (`sluice keygen`), the
configurations made from the templates in demo/, the memif socket names and each appliance's
stdout and stderr; EAL file prefixes named after the demo's PID. Every appliance runs with
--duration as a hard limit and the whole run with a timeout; on every way out (success,
failure, Ctrl-C, SIGTERM, timeout) the demo stops the appliances it started, by PID (SIGTERM,
then SIGKILL after a grace period), and removes the directory and the appliances' EAL runtime
directories. No root, hugepages or NIC needed. Python 3 standard library only.
"""
import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sl_telemetry import Telemetry, runtime_dir  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATES = os.path.join(REPO, "demo")
START_ORDER = ("r", "a", "b")  # R serves both memif links: it must be up first
SHOW_ORDER = ("a", "r", "b")

TIMEOUT_S = 50  # the whole run, from starting R; the appliances' --duration is a little less
UP_WAIT_S = 10  # R's telemetry must answer within this
STOP_GRACE_S = 8  # SIGTERM, then SIGKILL: sluice drains for at most 3 s
TICK_S = 0.05  # log files read, processes polled
SAMPLE_S = 0.1  # telemetry read
REDRAW_S = 0.5  # progress line


class DemoError(Exception):
    """A reason the demo cannot go on; printed as it is."""


class Interrupted(Exception):
    """SIGINT, SIGTERM or SIGHUP."""


def on_signal(sig, frame):
    raise Interrupted(signal.Signals(sig).name)


# --- configurations ----------------------------------------------------------------------------


def load_template(path):
    """A configuration template: JSON whose whole-line // comments sluice allows."""
    with open(path) as f:
        lines = f.read().splitlines()
    text = "\n".join("" if ln.lstrip().startswith("//") else ln for ln in lines)
    return json.loads(text)


def fill(obj, subst):
    """Replace every @NAME@ in every string of obj."""
    if isinstance(obj, dict):
        return {k: fill(v, subst) for k, v in obj.items()}
    if isinstance(obj, list):
        return [fill(v, subst) for v in obj]
    if isinstance(obj, str):
        return re.sub(r"@([A-Z_]+)@", lambda m: subst[m.group(1)], obj)
    return obj


def place(cfg, core):
    """Put the appliance on one CPU: EAL's cores and its (only) lcore."""
    cfg["eal"]["cores"] = str(core)
    for lc in cfg.get("lcores", []):
        lc["lcore"] = core


def core_plan(spec):
    """CPU of each node: A and B share the first CPU we may use, R has the second."""
    if spec:
        try:
            a, r, b = (int(x) for x in spec.split(","))
        except ValueError:
            raise DemoError("--cores: three CPU numbers, A,R,B (e.g. 0,1,0)")
        return {"a": a, "r": r, "b": b}
    cpus = sorted(os.sched_getaffinity(0))
    second = cpus[1] if len(cpus) > 1 else cpus[0]
    return {"a": cpus[0], "r": second, "b": cpus[0]}


def run_quiet(argv):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if p.returncode != 0:
        raise DemoError("%s failed (exit %d): %s" % (" ".join(argv), p.returncode,
                                                     (p.stderr or p.stdout).strip()))
    return p.stdout.strip()


# --- one appliance -----------------------------------------------------------------------------


def die_with_parent():
    """In the child before exec: SIGTERM when the demo dies, however it dies (Linux)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass  # --duration still bounds the appliance


class Node:
    """One appliance: its configuration, process, log, telemetry and what they said."""

    def __init__(self, name, sluice, rundir, cfg):
        self.name = name
        self.label = name.upper()
        self.sluice = sluice
        self.cfg = cfg
        self.prefix = cfg["eal"]["file_prefix"]
        self.cfg_path = os.path.join(rundir, name + ".json")
        self.out_path = os.path.join(rundir, name + ".out")
        self.log_path = os.path.join(rundir, name + ".log")
        self.proc = None
        self.status = None
        self.tel = None
        self.log_pos = 0
        self.log_rest = b""
        self.connected = {}  # peer -> time its first NodeConnected was seen
        self.relayed = set()  # peers whose session went through a relay's circuit
        self.names = {}  # the start of each demo node's key (as the log shows it) -> its name
        self.info = {}
        self.services = {}
        self.final = None  # the summary, once the process has exited

    def write_config(self):
        with open(self.cfg_path, "w") as f:
            json.dump(self.cfg, f, indent=1)
        run_quiet([self.sluice, "--check-config", self.cfg_path])

    def start(self, limit_s, exit_when_done):
        argv = [self.sluice, "--config", self.cfg_path, "--duration", str(limit_s)]
        if exit_when_done:
            argv.append("--exit-when-done")
        with open(self.out_path, "wb") as out, open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=log,
                                         cwd=os.path.dirname(self.cfg_path),
                                         start_new_session=True, preexec_fn=die_with_parent)

    def running(self):
        if self.proc is None or self.status is not None:
            return False
        self.status = self.proc.poll()
        if self.status is not None:
            self.final = self.summary()
        return self.status is None

    def counters(self, idx):
        """A service's counters: the final summary once there is one, else telemetry's."""
        if self.final is not None and idx in self.final["service"]:
            return {k: int(v) for k, v in self.final["service"][idx].items() if v.isdigit()}
        return self.services.get(str(idx), {})

    def signal(self, sig):
        if self.running():
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def read_log(self, now):
        """Take the new lines of the log; note when each peer connected."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.log_pos)
                data = f.read()
        except OSError:
            return
        self.log_pos += len(data)
        lines = (self.log_rest + data).split(b"\n")
        self.log_rest = lines.pop()
        for raw in lines:
            m = re.search(rb"sluice: NodeConnected peer=(\S+) key=(\S+) .* via=([0-9a-f]{8})",
                          raw)
            peer = m.group(1).decode() if m else None
            if peer == "-":  # not a configured peer: named by its key, if it is one of ours
                peer = self.names.get(m.group(2).decode(), peer)
            if peer is not None and peer not in self.connected:
                self.connected[peer] = now
            if peer is not None and m.group(3) != b"00000000":
                self.relayed.add(peer)

    def query(self):
        """Refresh info and services from telemetry; False once it does not answer."""
        try:
            if self.tel is None:
                self.tel = Telemetry(self.prefix, timeout=1.0).connect(wait=0)
            info = self.tel.query("/sluice/info")
            services = self.tel.query("/sluice/services")
        except (OSError, ValueError):
            self.close_telemetry()
            return False
        if not isinstance(info, dict) or not isinstance(services, dict):
            return False
        self.info, self.services = info, services
        return True

    def close_telemetry(self):
        if self.tel is not None:
            self.tel.close()
            self.tel = None

    def summary(self):
        """The summary lines on stdout: {"summary": {...}, "service": {i: {...}}, ...}."""
        res = {"service": {}}
        try:
            with open(self.out_path, errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            return res
        for line in lines:
            m = re.match(r"sluice: (summary|service=(\d+)|drops|relay|exit) ?(.*)", line)
            if not m:
                continue
            kv = dict(re.findall(r"(\w+)=(\S+)", m.group(3)))
            if m.group(2) is not None:
                res["service"][int(m.group(2))] = kv
            else:
                res[m.group(1)] = kv
        return res

    def log_tail(self, n=15):
        try:
            with open(self.log_path, errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            return ["(no log)"]
        return lines[-n:] or ["(empty)"]

    def remove_runtime_dir(self):
        """EAL leaves <runtime dir>/<file prefix> behind; the prefix is this run's own."""
        shutil.rmtree(os.path.join(runtime_dir(), self.prefix), ignore_errors=True)


# --- flows: one source and where its messages are counted --------------------------------------


class Flow:
    """A source service and its destination: progress, goodput."""

    def __init__(self, src, idx, svc, dst, dst_idx):
        self.src, self.idx, self.svc = src, idx, svc
        self.dst, self.dst_idx = dst, dst_idx
        self.count = svc.get("count", 0)
        self.echo = svc.get("expect_echo", False)
        self.samples = []  # (time, messages done, bytes done) whenever they changed

    def describe(self):
        size = self.svc["size"]
        if isinstance(size, dict):
            size = "%s..%s" % (fmt_bytes(size["min"]), fmt_bytes(size["max"]))
        else:
            size = fmt_bytes(size)
        rate = self.svc.get("rate", 0)
        rate = " at %s/s" % fmt_int(rate) if rate else ""
        dst = self.dst.cfg["services"][self.dst_idx]["type"]
        how = "every echo checked at %s" % self.src.label if self.echo else "verified there"
        return "%s -> %s  %s messages of %s%s to %s's %s on channel %d, %s" % (
            self.src.label, self.dst.label, fmt_int(self.count), size, rate, self.dst.label,
            dst, self.svc["channel"], how)

    def counters(self):
        """Telemetry counters that say how far it got: the echoes back, or the sink's."""
        if self.echo:
            return self.src.counters(self.idx)
        return self.dst.counters(self.dst_idx)

    def sample(self, now):
        c = self.counters()
        done = (c.get("msgs_verified", 0), c.get("bytes_recv", 0))
        if done[0] and (not self.samples or self.samples[-1][1:] != done):
            self.samples.append((now,) + done)

    def started(self):
        return self.src.connected.get(self.svc["peer"])

    def rate_now(self, window=1.0):
        """Bytes per second over the last second or so of samples (or since the start)."""
        if not self.samples or self.started() is None:
            return None
        t1, _, b1 = self.samples[-1]
        older = [s for s in self.samples if s[0] <= t1 - window]
        t0, _, b0 = older[-1] if older else (self.started(), 0, 0)
        return (b1 - b0) / (t1 - t0) if t1 > t0 else None

    def goodput(self, final_bytes):
        """Bytes per second from the session opening to the last sample before the end.

        Telemetry is a snapshot every 500 ms: the end is known only to that, so the rate up
        to the last snapshot taken while the flow ran stands for the whole flow."""
        t0 = self.started()
        if t0 is None:
            return None
        inner = [s for s in self.samples if s[1] < self.count and s[0] - t0 >= 0.4]
        if inner:
            return inner[-1][2] / (inner[-1][0] - t0)
        ends = [s[0] for s in self.samples if s[1] >= self.count]
        return final_bytes / (ends[0] - t0) if ends and ends[0] > t0 else None


def make_flows(nodes):
    flows = []
    for n in (nodes[k] for k in SHOW_ORDER):
        for i, svc in enumerate(n.cfg.get("services", [])):
            if svc["type"] != "source":
                continue
            dst = nodes.get(svc["peer"])
            want = "echo" if svc.get("expect_echo") else "sink"
            idx = [j for j, s in enumerate(dst.cfg.get("services", []))
                   if s["type"] == want and s["channel"] == svc["channel"]] if dst else []
            if not idx:
                raise DemoError("%s's source on channel %d: no %s at %s" % (
                    n.label, svc["channel"], want, svc["peer"]))
            flows.append(Flow(n, i, svc, dst, idx[0]))
    return flows


# --- formatting --------------------------------------------------------------------------------


def fmt_int(n):
    return "{:,}".format(int(n))


def fmt_bytes(n):
    return "%d KiB" % (n // 1024) if n >= 1024 and n % 1024 == 0 else "%d B" % n


def fmt_count(n):
    """100000 as 100k: the progress line must fit in 80 columns."""
    return "%dk" % (n // 1000) if n >= 10000 and n % 1000 == 0 else fmt_int(n)


def fmt_rate(bps, short=False):
    if bps is None:
        return "-"
    bits, unit = bps * 8, "b/s" if short else "bit/s"
    if bits >= 1e9:
        return "%.2f G%s" % (bits / 1e9, unit)
    return "%.0f M%s" % (bits / 1e6, unit)


def fmt_status(status):
    if status is None:
        return "-"
    if status < 0:
        return signal.Signals(-status).name
    return str(status)


def fmt_ms(us):
    return "-" if us is None else "%.1f ms" % (int(us) / 1000.0)


# --- the run -----------------------------------------------------------------------------------


class Demo:
    def __init__(self, args):
        self.args = args
        self.sluice = os.path.abspath(args.sluice)
        self.rundir = None
        self.nodes = {}
        self.flows = []
        self.t_start = None
        self.failures = []
        self.tty = sys.stdout.isatty()
        self.had_runtime_dir = os.path.isdir(runtime_dir())
        self.line_shown = False

    # setup

    def prepare(self):
        if not os.access(self.sluice, os.X_OK):
            raise DemoError("%s: no such program (make build)" % self.sluice)
        pid = os.getpid()
        self.rundir = tempfile.mkdtemp(prefix="sluice-demo-%d-" % pid)
        if len(self.rundir) > 90:  # memif socket names must fit in sun_path
            os.rmdir(self.rundir)
            self.rundir = tempfile.mkdtemp(prefix="sluice-demo-%d-" % pid, dir="/tmp")
        subst = {"DIR": self.rundir, "PREFIX": "sluice-demo-%d" % pid}
        for n in START_ORDER:
            subst[n.upper() + "_PUB"] = run_quiet(
                [self.sluice, "keygen", os.path.join(self.rundir, n + ".key")])
        cores = core_plan(self.args.cores)
        for n in START_ORDER:
            cfg = fill(load_template(os.path.join(TEMPLATES, n + ".json")), subst)
            place(cfg, cores[n])
            self.nodes[n] = Node(n, self.sluice, self.rundir, cfg)
            self.nodes[n].write_config()
        for n in START_ORDER:
            self.nodes[n].names = {subst[k.upper() + "_PUB"][:12]: k for k in START_ORDER}
        self.flows = make_flows(self.nodes)

    def intro(self):
        print("sluice demo: three appliances, A -- R -- B, over two memif links; A reaches B "
              "only through R, a relay")
        for f in self.flows:
            print("  " + f.describe())
        print("  cores: %s (one lcore each, adaptive idle); run directory %s" % (
            ", ".join("%s %s" % (n.upper(), self.nodes[n].cfg["eal"]["cores"])
                      for n in SHOW_ORDER), self.rundir))
        sys.stdout.flush()

    # running

    def start(self):
        r = self.nodes["r"]
        self.t_start = time.monotonic()
        r.start(max(2, self.args.timeout - 5), exit_when_done=False)
        while not r.query():
            if not r.running():
                raise DemoError("R exited (status %s) before it was up" % fmt_status(r.status))
            if time.monotonic() - self.t_start > UP_WAIT_S:
                raise DemoError("R is not up after %d s" % UP_WAIT_S)
            time.sleep(TICK_S)
        print("R is up (%.1f s); starting A and B" % (time.monotonic() - self.t_start))
        # B echoes for A: it runs until A is done, not only until its own source is
        self.nodes["b"].start(max(1, self.args.timeout - 10), exit_when_done=False)
        self.nodes["a"].start(max(1, self.args.timeout - 10), exit_when_done=True)

    def flows_done(self):
        return all(f.samples and f.samples[-1][1] >= f.count for f in self.flows)

    def monitor(self):
        """Until A has exited and every flow is done (or B stopped): read logs, sample
        telemetry, redraw the progress line."""
        a, b, r = self.nodes["a"], self.nodes["b"], self.nodes["r"]
        next_sample = next_draw = 0.0
        while a.running() or (b.running() and not self.flows_done()):
            now = time.monotonic()
            if now - self.t_start > self.args.timeout:
                self.failures.append("timed out after %d s" % self.args.timeout)
                return
            for n in self.nodes.values():
                n.read_log(now)
            if not r.running():
                self.failures.append("R stopped before A and B were done")
                return
            if not b.running() and a.running():
                self.failures.append("B stopped before A was done")
                return
            if now >= next_sample:
                for n in self.nodes.values():
                    if n.running():
                        n.query()
                for f in self.flows:
                    f.sample(now)
                next_sample = now + SAMPLE_S
            if now >= next_draw:
                self.draw(now)
                next_draw = now + (REDRAW_S if self.tty else 2.0)
            time.sleep(TICK_S)
        self.draw(time.monotonic())

    def draw(self, now):
        """Elapsed time; per source: messages done, goodput; live sessions per node."""
        parts = ["%5.1fs" % (now - self.t_start)]
        for f in self.flows:
            done = f.samples[-1][1] if f.samples else 0
            if done >= f.count:
                parts.append("%s %s done" % (f.src.label, fmt_int(done)))
            else:
                parts.append("%s %s/%s %s" % (f.src.label, fmt_int(done), fmt_count(f.count),
                                              fmt_rate(f.rate_now(), short=True)))
        live = ["%s%s" % (self.nodes[n].label, self.nodes[n].info.get("sessions_live", "-")
                          if self.nodes[n].running() else "-") for n in SHOW_ORDER]
        parts.append("sessions " + " ".join(live))
        line = "  ".join(parts)
        if self.tty:
            width = shutil.get_terminal_size().columns - 1
            sys.stdout.write("\r" + line[:width] + "\033[K")
            self.line_shown = True
        else:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def end_line(self):
        if self.line_shown:
            sys.stdout.write("\n")
            sys.stdout.flush()
            self.line_shown = False

    def stop_all(self, grace=STOP_GRACE_S):
        """SIGTERM every appliance still running, SIGKILL what is left after the grace."""
        for n in self.nodes.values():
            n.signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        try:
            while any(n.running() for n in self.nodes.values()):
                if time.monotonic() > deadline:
                    break
                time.sleep(TICK_S)
        except Interrupted:
            pass  # asked again: do not wait
        for n in self.nodes.values():
            if n.running():
                self.failures.append("%s did not stop within %d s: killed" % (n.label, grace))
                n.signal(signal.SIGKILL)
                n.proc.wait()
                n.status = n.proc.returncode

    def finish(self):
        """A and B have stopped by themselves (or failed): stop R, read everything."""
        for n in self.nodes.values():
            n.close_telemetry()
        self.stop_all()
        now = time.monotonic()
        for n in self.nodes.values():
            n.read_log(now)

    def cleanup(self):
        self.end_line()
        for n in self.nodes.values():
            n.close_telemetry()
        if any(n.running() for n in self.nodes.values()):
            self.stop_all()
        for n in self.nodes.values():
            if n.proc is not None:
                n.remove_runtime_dir()
        if not self.had_runtime_dir:
            try:  # EAL made it for this run: leave nothing behind (empty only)
                os.rmdir(runtime_dir())
            except OSError:
                pass
        if self.rundir is not None and not self.args.keep:
            shutil.rmtree(self.rundir, ignore_errors=True)

    # the verdict

    def check(self, sums):
        bad = self.failures
        for n in (self.nodes[k] for k in SHOW_ORDER):
            s = sums[n.name]
            if n.status != 0:
                bad.append("%s exited with status %s" % (n.label, fmt_status(n.status)))
            elif s.get("exit", {}).get("mbufs_in_use") != "0":
                bad.append("%s did not report mbufs_in_use=0 (%s)" % (
                    n.label, s.get("exit", {}).get("mbufs_in_use", "no exit line")))
            for i, svc in sorted(s["service"].items()):
                for what in ("lost", "duplicated", "corrupt", "undelivered"):
                    if svc.get(what, "0") != "0":
                        bad.append("%s service %d (%s): %s=%s" % (
                            n.label, i, svc.get("type"), what, svc[what]))
                if svc.get("type") == "source" and svc.get("done") != "1/1":
                    bad.append("%s's source did not finish (done=%s, sent %s)" % (
                        n.label, svc.get("done"), svc.get("msgs_sent")))
        for f in self.flows:
            got = int(self.delivered(f, sums)[0])
            if got != f.count:
                bad.append("%s -> %s: %s of %s messages delivered" % (
                    f.src.label, f.dst.label, fmt_int(got), fmt_int(f.count)))
        relay = sums["r"].get("relay", {})
        if int(relay.get("forwarded_pkts", 0)) == 0 or "b" not in self.nodes["a"].relayed:
            bad.append("A's session with B did not go through R's circuit (R forwarded %s "
                       "packets)" % relay.get("forwarded_pkts", "?"))
        return not bad

    @staticmethod
    def delivered(f, sums):
        """(messages, bytes) of the flow that arrived intact where they are counted."""
        if f.echo:
            c = sums[f.src.name]["service"].get(f.idx, {})
        else:
            c = sums[f.dst.name]["service"].get(f.dst_idx, {})
        return int(c.get("msgs_verified", 0)), int(c.get("bytes_recv", 0))

    # the table

    def column(self, n, sums):
        """One node's column: its messages are those its services sent."""
        s = sums[n.name]
        sent = deliv = lost = dup = corrupt = undel = 0
        rate = rtt = None
        for f in self.flows:
            if n is f.src:
                mine = s["service"].get(f.idx, {})
                sent += int(mine.get("msgs_sent", 0))
            elif n is f.dst and f.echo:
                mine = s["service"].get(f.dst_idx, {})
                sent += int(mine.get("msgs_echoed", 0))
            else:
                continue
            undel += int(mine.get("undelivered", 0))
            msgs, nbytes = self.delivered(f, sums)
            checker = (sums[f.src.name]["service"].get(f.idx, {}) if f.echo else
                       sums[f.dst.name]["service"].get(f.dst_idx, {}))
            deliv += msgs
            lost += int(checker.get("lost", 0))
            dup += int(checker.get("duplicated", 0))
            corrupt += int(checker.get("corrupt", 0))
            g = f.goodput(nbytes)
            rate = None if g is None else (rate or 0) + g
            if n is f.src and "rtt_p50_us" in checker:
                rtt = "%s / %s" % (fmt_ms(checker["rtt_p50_us"]), fmt_ms(checker["rtt_p99_us"]))
        summ = s.get("summary", {})
        hs = int(summ.get("sessions_opened", 0)) + int(summ.get("rekeys", 0))
        ex = s.get("exit", {})
        relay = s.get("relay", {})
        circuits = int(relay.get("circuits_opened", 0)) + int(relay.get("circuits_granted", 0))
        return [", ".join(sorted(p.upper() + (" via relay" if p in n.relayed else "")
                                 for p in n.connected)) or "-",
                fmt_int(circuits) if relay else "-",
                fmt_int(relay.get("forwarded_pkts", 0)) if relay else "-",
                "%.1f MiB" % (int(relay.get("forwarded_bytes", 0)) / 1048576.0) if relay else "-",
                fmt_int(hs) if summ else "-", fmt_int(sent), fmt_int(deliv), fmt_int(lost),
                fmt_int(dup), fmt_int(corrupt), fmt_int(undel), fmt_rate(rate), rtt or "-",
                "%s, mbufs %s" % (fmt_status(n.status), ex.get("mbufs_in_use", "?")),
                s.get("drops", {}).get("total", "?")]

    def table(self, sums):
        rows = ["peers", "circuits", "relayed pkts", "relayed bytes", "handshakes",
                "messages sent", "  delivered", "  lost",
                "  duplicated", "  corrupt", "  undelivered", "goodput", "rtt p50 / p99",
                "exit status", "packet drops"]
        cols = [self.column(self.nodes[k], sums) for k in SHOW_ORDER]
        print()
        print(("%-15s" % "" + "".join("%-20s" % self.nodes[k].label for k in SHOW_ORDER)).rstrip())
        for i, row in enumerate(rows):
            print(("%-15s" % row + "".join("%-20s" % c[i] for c in cols)).rstrip())
        print()

    def report(self, elapsed):
        sums = {k: n.summary() for k, n in self.nodes.items()}
        self.table(sums)
        ok = self.check(sums)
        total = sum(f.count for f in self.flows)
        if ok:
            print("sluice demo: PASS in %.1f s: %s messages delivered, none lost, duplicated "
                  "or corrupt" % (elapsed, fmt_int(total)))
            return True
        print("sluice demo: FAIL (%.1f s)" % elapsed)
        for why in self.failures:
            print("  - " + why)
        self.print_logs()
        return False

    def print_logs(self):
        for k in START_ORDER:
            n = self.nodes.get(k)
            if n is None or n.proc is None:
                continue
            print("--- %s: last lines of %s" % (n.label, n.log_path))
            for line in n.log_tail():
                print("    " + line)
            try:
                with open(n.out_path, errors="replace") as f:
                    out = f.read().splitlines()
            except OSError:
                out = []
            if out:
                print("--- %s: its summary (%s)" % (n.label, n.out_path))
                for line in out:
                    print("    " + line)


def parse_args():
    p = argparse.ArgumentParser(description="Run three sluice appliances, A -- R -- B, "
                                "over memif and check that every message arrived.")
    p.add_argument("--sluice", default=os.path.join(REPO, "build", "sluice"),
                   help="the sluice program (default: build/sluice)")
    p.add_argument("--timeout", type=float, default=TIMEOUT_S,
                   help="give up after this many seconds (default %d)" % TIMEOUT_S)
    p.add_argument("--cores", metavar="A,R,B",
                   help="CPU of each appliance (default: A and B on the first CPU, R on the "
                   "second)")
    p.add_argument("--keep", action="store_true",
                   help="keep the run directory (configurations, keys, logs)")
    return p.parse_args()


def main():
    args = parse_args()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    demo = Demo(args)
    ok = False
    try:
        demo.prepare()
        demo.intro()
        demo.start()
        demo.monitor()
        demo.end_line()
        demo.finish()
        ok = demo.report(time.monotonic() - demo.t_start)
    except DemoError as e:
        demo.end_line()
        print("sluice demo: FAIL: %s" % e)
        demo.stop_all()
        demo.print_logs()
    except Interrupted as e:
        demo.end_line()
        print("sluice demo: interrupted (%s): stopping the appliances" % e)
        demo.stop_all()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        demo.cleanup()
        if args.keep and demo.rundir:
            print("sluice demo: run directory kept: %s" % demo.rundir)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Interrupted:  # a second signal while the first one was handled; cleaned up
        sys.exit(1)
