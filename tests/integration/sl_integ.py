# SPDX-License-Identifier: BSD-3-Clause
"""Shared helpers of the integration tests: appliances as separate processes over memif.

    with World("transfer") as w:                  # argv[1] is the sluice program
        a = w.node("a", core=0, ip="198.18.0.1")  # a fresh key from `sluice keygen`
        b = w.node("b", core=1, ip="198.18.0.2")
        w.link(a, b)                              # a: memif server, b: memif client
        a.peer(b); b.peer(a)
        a.cfg["services"] = [source(b, channel=1, count=100, size=64)]
        a.start(duration=30, exit_when_done=True)
        ...
        w.check(rc == 0, "a exits 0")

A World owns everything it makes: a temporary directory (configurations, keys, logs), the
processes it started, their EAL runtime directories. It removes all of it on every exit path
(normal end, exception, SIGTERM/SIGINT/SIGHUP from meson's timeout or a user), stopping its
processes by PID only: SIGTERM, then SIGKILL. The appliances also get PR_SET_PDEATHSIG, so they
die with the test process even if that one is killed with SIGKILL.

Everything is unique per test process: the temporary directory and the EAL file prefixes
contain the PID, and the memif sockets live under the temporary directory (DPDK's memif
names them in the abstract namespace, so nothing is left behind in the file system).

On a failure, World prints the tails of every appliance's logs (each start of a node has its
own pair of log files) before cleaning up, and the test exits 1.

Python 3 standard library only.
"""
import ctypes
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC_ROOT, "scripts"))
from sl_telemetry import Telemetry, runtime_dir  # noqa: E402

# The exit status meson reads as "skipped".
SKIP = 77
LOG_TAIL_LINES = 40
_PR_SET_PDEATHSIG = 1


class TestFailure(Exception):
    pass


class TelemetryError(TestFailure):
    pass


QUIET = bool(os.environ.get("SL_INTEG_QUIET"))  # the perf rig keeps its output to results

# System call numbers of nanosleep and clock_nanosleep: the idle sleep of an lcore's loop.
SLEEP_SYSCALLS = {"x86_64": {35, 230}, "aarch64": {101, 115}}.get(platform.machine())


def log(msg):
    if not QUIET:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def wait_until(what, cond, timeout, nodes=(), every=0.05):
    """Poll cond() every `every` seconds until it returns something true (returned); a
    TestFailure after `timeout` seconds, or at once when one of `nodes` exited meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        for n in nodes:
            if not n.running():
                raise TestFailure(f"{n.name} exited (status {n.proc.returncode}) "
                                  f"while waiting for: {what}")
        if time.monotonic() >= deadline:
            raise TestFailure(f"timed out ({timeout} s) waiting for: {what}")
        time.sleep(every)


def terminate(proc, timeout, what, say=None):
    """SIGTERM proc (a Popen, or None), then SIGKILL after `timeout` seconds; its exit status.
    what: how to name it in the log line of a SIGKILL, said through say (default log)."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            (say or log)(f"{what}: pid {proc.pid} ignored SIGTERM for {timeout} s: SIGKILL")
            proc.kill()
            proc.wait()
    return proc.returncode


def _kv(tokens):
    d = {}
    for t in tokens:
        k, sep, v = t.partition("=")
        if not sep:
            continue
        d[k] = int(v) if re.fullmatch(r"-?\d+", v) else v
    return d


def parse_summary(text):
    """The lines `sluice:` prints on stdout at exit, as
    {"summary": {...}, "services": {index: {...}}, "channels": {...}, "channel": {id: {...}},
     "drops": {...}, "relay": {...}, "exit": {...}}.
    "channels" are the undelivered/discarded totals over channels, "channel" the channels
    with anything undelivered or discarded (absent: all 0).
    Counters are ints; `done=1/1` stays a string. Missing parts are absent keys."""
    out = {"services": {}, "channel": {}}
    for line in text.splitlines():
        if not line.startswith("sluice: "):
            continue
        words = line.split()[1:]
        if not words:
            continue
        head = words[0]
        if head == "summary":
            out["summary"] = _kv(words[1:])
        elif head == "drops":
            out["drops"] = _kv(words[1:])
        elif head == "exit":
            out["exit"] = _kv(words[1:])
        elif head.startswith("service="):
            d = _kv(words)
            out["services"][d["service"]] = d
        elif head == "channels":
            out["channels"] = _kv(words[1:])
        elif head == "relay":
            out["relay"] = _kv(words[1:])
        elif head.startswith("channel="):
            d = _kv(words)
            out["channel"][d["channel"]] = d
    return out


def done_counts(svc):
    """(done, sources) of a source's `done=d/n`."""
    d, _, n = str(svc.get("done", "0/0")).partition("/")
    return int(d), int(n or 0)


# --- services --------------------------------------------------------------------------------

def source(peer, channel, count, size, rate=0, expect_echo=False):
    s = {"type": "source", "channel": channel, "peer": peer.name, "count": count,
         "rate": rate, "expect_echo": expect_echo}
    s["size"] = size if isinstance(size, int) else {"min": size[0], "max": size[1]}
    return s


def sink(channel):
    return {"type": "sink", "channel": channel}


def echo(channel):
    return {"type": "echo", "channel": channel}


# --- one appliance ---------------------------------------------------------------------------

def child_setup():
    # preexec_fn of every process a test or the perf rig starts (appliances, testpmd, the load
    # generator): it dies with its parent, even one killed by SIGKILL
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except OSError:
        pass


class Node:
    """One appliance: its configuration (self.cfg, a dict written at each start), its key, its
    processes (one per start) and their logs."""

    def __init__(self, world, name, core, ip, prefix_len=24, udp_port=4789):
        self.world = world
        self.name = name
        self.ip = ip
        self.prefix_len = prefix_len
        self.udp_port = udp_port
        self.dir = os.path.join(world.dir, name)
        os.mkdir(self.dir, 0o700)
        self.key_file = os.path.join(self.dir, "node.key")
        self.public_key = world.keygen(self.key_file)
        self.file_prefix = f"sl-it-{os.getpid()}-{world.tag}-{name}"[:63]
        self.telemetry_wait = 5.0  # query()'s default wait for an answer (seconds)
        self.config_path = os.path.join(self.dir, "node.json")
        self.cfg = {
            "network": f"sluice-it-{os.getpid()}",
            "identity": {"key_file": self.key_file},
            "eal": {"cores": str(core), "memory_mb": 256, "file_prefix": self.file_prefix,
                    "extra_args": ["--log-level=lib.eal:notice"]},
            "ports": [],
            "lcores": [],
            "peers": [],
            "services": [],
        }
        self.core = core
        self.proc = None
        self.paused = False
        self.runs = []  # (stdout path, stderr path, argv) of every start, oldest first

    # configuration

    def add_port(self, name, device, impair=None, ip=None):
        """A port (the node's address unless ip is given), polled by the node's lcore."""
        p = {"name": name, "device": device, "ipv4": f"{ip or self.ip}/{self.prefix_len}",
             "udp_port": self.udp_port}
        if impair is not None:
            p["impair"] = dict(impair)
        self.cfg["ports"].append(p)
        self.cfg["lcores"] = [{"lcore": self.core, "idle": "adaptive",
                               "rx": [{"port": q["name"], "queue": 0}
                                      for q in self.cfg["ports"]]}]

    def peer(self, other, ip=None):
        """other as a configured peer, at its address (or ip: that of its port on our link)."""
        self.cfg["peers"].append({"name": other.name,
                                  "endpoint": f"{ip or other.ip}:{other.udp_port}",
                                  "public_key": other.public_key})

    def port_ip(self, name):
        """The address of the port called name (in the configuration of the next start)."""
        for p in self.cfg["ports"]:
            if p["name"] == name:
                return p["ipv4"].partition("/")[0]
        raise KeyError(f"{self.name}: no port {name}")

    def set_port_ip(self, name, ip):
        """Give the port called name another address from the next start on."""
        for p in self.cfg["ports"]:
            if p["name"] == name:
                p["ipv4"] = f"{ip}/{self.prefix_len}"
                return
        raise KeyError(f"{self.name}: no port {name}")

    def write_config(self):
        with open(self.config_path, "w") as f:
            json.dump(self.cfg, f, indent=1)
        return self.config_path

    # processes

    def start(self, duration, exit_when_done=False, log_level=None, prefix=None):
        """Start the appliance. duration: --duration, the hard limit of its run (seconds).
        prefix: a command that execs the rest (e.g. `ip netns exec NS`), keeping the PID."""
        assert not self.running(), f"{self.name} is already running"
        self.write_config()
        n = len(self.runs)
        out = os.path.join(self.dir, f"run{n}.out")
        err = os.path.join(self.dir, f"run{n}.err")
        argv = list(prefix or []) + [self.world.sluice, "--config", self.config_path,
                                     "--duration", str(duration)]
        if exit_when_done:
            argv.append("--exit-when-done")
        if log_level:
            argv += ["--log-level", log_level]
        with open(out, "wb") as fo, open(err, "wb") as fe:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe,
                                         preexec_fn=child_setup, env=self.world.env)
        self.runs.append((out, err, argv))
        log(f"{self.name}: started pid {self.proc.pid}: {' '.join(argv)}")
        return self.proc

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def pid(self):
        return self.proc.pid

    def wait(self, timeout):
        """The exit status of the current run; TestFailure if it does not exit in time."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure(f"{self.name} (pid {self.proc.pid}) did not exit within "
                              f"{timeout} s") from None
        log(f"{self.name}: pid {self.proc.pid} exited with status {rc}")
        return rc

    def stop(self, timeout=15.0):
        """SIGTERM (a graceful stop), then SIGKILL after timeout. Returns the exit status."""
        if self.paused:
            self.resume()
        return terminate(self.proc, timeout, self.name)

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.paused = False
        log(f"{self.name}: pid {self.proc.pid} killed (SIGKILL)")

    def pause_between_polls(self, tries=500):
        """SIGSTOP the appliance while its lcore (the main thread: lcore = its core) sleeps
        between two polling rounds, as /proc/PID/syscall shows: every packet it built has been
        handed to its port and its next round reads the clock afresh. Stopped elsewhere, it is
        let go (SIGCONT) and tried again a moment later. Returns the number of tries."""
        if SLEEP_SYSCALLS is None:
            raise TestFailure(f"pause_between_polls: unknown machine {platform.machine()}")
        for i in range(1, tries + 1):
            self.proc.send_signal(signal.SIGSTOP)
            self.paused = True
            deadline = time.monotonic() + 5.0
            while _read(f"/proc/{self.proc.pid}/stat").rpartition(")")[2].split()[:1] != ["T"]:
                if time.monotonic() >= deadline or not self.running():
                    raise TestFailure(f"{self.name}: did not stop on SIGSTOP")
                time.sleep(0.001)
            call = _read(f"/proc/{self.proc.pid}/syscall").split()
            if call and call[0].isdigit() and int(call[0]) in SLEEP_SYSCALLS:
                log(f"{self.name}: pid {self.proc.pid} stopped between polls (try {i})")
                return i
            self.resume(quiet=True)
            time.sleep(random.uniform(0.0005, 0.005))
        raise TestFailure(f"{self.name}: never found its lcore asleep in {tries} tries")

    def resume(self, quiet=False):
        self.proc.send_signal(signal.SIGCONT)
        self.paused = False
        if not quiet:
            log(f"{self.name}: pid {self.proc.pid} continued (SIGCONT)")

    # logs

    def stdout(self, run=-1):
        return _read(self.runs[run][0])

    def stderr(self, run=-1):
        return _read(self.runs[run][1])

    def stderr_size(self, run=-1):
        try:
            return os.path.getsize(self.runs[run][1])
        except OSError:
            return 0

    def wait_log(self, pattern, timeout, since=0, run=-1):
        """Wait for a line of the run's stderr (from byte offset `since`) matching the regular
        expression; returns (match, monotonic time it was seen). Polls every 5 ms."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            text = _read(self.runs[run][1])[since:]
            m = rx.search(text)
            if m:
                return m, time.monotonic()
            if time.monotonic() >= deadline:
                raise TestFailure(f"{self.name}: no log line /{pattern}/ within {timeout} s")
            if run == -1 and not self.running():
                text = _read(self.runs[run][1])[since:]
                m = rx.search(text)
                if m:
                    return m, time.monotonic()
                raise TestFailure(f"{self.name}: exited (status {self.proc.returncode}) "
                                  f"before logging /{pattern}/")
            time.sleep(0.005)

    def summary(self, run=-1):
        return parse_summary(self.stdout(run))

    # telemetry

    def query(self, cmd, wait=None):
        """One telemetry command (a fresh connection each time: the process may restart),
        retried for up to `wait` seconds (self.telemetry_wait by default); TelemetryError if it
        does not answer (at once if the process is gone)."""
        deadline = time.monotonic() + (self.telemetry_wait if wait is None else wait)
        while True:
            t = Telemetry(self.file_prefix)
            try:
                t.connect()
                return t.query(cmd)
            except (OSError, ValueError) as e:  # not listening yet, gone, or cut short
                if not self.running():
                    raise TelemetryError(f"{self.name}: telemetry {cmd}: the process exited "
                                         f"(status {self.proc.returncode})") from None
                if time.monotonic() >= deadline:
                    raise TelemetryError(f"{self.name}: telemetry {cmd}: {e!r}") from None
            finally:
                t.close()
            time.sleep(0.05)

    def service_stats(self, index):
        svc = self.query("/sluice/services") or {}
        return svc.get(str(index)) or svc.get(index) or {}

    def services(self):
        """/sluice/services as {index (int): counters}."""
        return {int(k): v for k, v in (self.query("/sluice/services") or {}).items()
                if str(k).isdigit() and isinstance(v, dict)}

    def snapshots(self):
        return self.query("/sluice/info")["snapshots"]

    def fresh_services(self, timeout=10.0):
        """The services' counters from a statistics snapshot just taken: polls /sluice/info
        every few ms until a new snapshot appears. Returns (services, t) where the snapshot was
        taken after monotonic time t (the poll before it, less 10 ms for the lcore and the
        control thread to fill and collect it)."""
        return fresh_services([self], timeout)[self]

    def wait_snapshot(self, count=2, timeout=10.0):
        """Wait until the control thread took `count` more statistics snapshots (every 0.5 s):
        telemetry's counters are then at least as new as now."""
        first = self.query("/sluice/info")["snapshots"]
        deadline = time.monotonic() + timeout
        while self.query("/sluice/info")["snapshots"] < first + count:
            if time.monotonic() >= deadline:
                raise TestFailure(f"{self.name}: no new statistics snapshot in {timeout} s")
            time.sleep(0.05)

    def runtime_dir(self):
        return os.path.join(runtime_dir(), self.file_prefix)


def fresh_services(nodes, timeout=10.0):
    """Node.fresh_services() of several nodes at once (their snapshots are taken within one
    snapshot period, 0.5 s): {node: (services, t)}."""
    return {n: (v[0], v[2]) for n, v in fresh_view(nodes, timeout).items()}


def fresh_view(nodes, timeout=10.0, peers=False):
    """/sluice/services and (with peers) /sluice/peers of each node, both from one statistics
    snapshot taken after the call began: {node: (services, peers or None, t, info)}, the
    snapshot taken after monotonic time t, info the /sluice/info read right after them. Polls
    every few ms; a snapshot that changed while it was being read is not used, the next one
    is."""
    first = {n: n.snapshots() for n in nodes}
    t_prev = {n: time.monotonic() for n in nodes}
    out = {}
    deadline = time.monotonic() + timeout
    while len(out) < len(nodes):
        for n in nodes:
            if n in out:
                continue
            s = n.snapshots()
            if s == first[n]:
                t_prev[n] = time.monotonic()
                continue
            svc = n.services()
            pe = n.query("/sluice/peers") if peers else None
            info = n.query("/sluice/info")
            if info["snapshots"] == s:
                out[n] = (svc, pe, t_prev[n] - 0.010, info)
            else:  # read across two snapshots: the next one, then
                first[n] = n.snapshots()
                t_prev[n] = time.monotonic()
        if time.monotonic() >= deadline:
            missing = ", ".join(n.name for n in nodes if n not in out)
            raise TestFailure(f"no new statistics snapshot of {missing} in {timeout} s")
        time.sleep(0.002)
    return out


# --- nothing lost without a count (docs/operations.md, "Undelivered messages") --------------

SVC_SUMMED = ("msgs_sent", "msgs_recv", "msgs_verified", "undelivered", "delivered_unacked",
              "discarded_acked", "lost", "duplicated", "corrupt")


def add_counters(a, b):
    """The counters of SVC_SUMMED in service dicts a and b (telemetry or summary), added."""
    return {k: a.get(k, 0) + b.get(k, 0) for k in SVC_SUMMED}


def counted(src, snk):
    """What the source's and its sink's counters (summed over the same sessions) account for:
    verified + undelivered - delivered_unacked + discarded_acked. Equal to the source's
    msgs_sent when both ends ran to the end and no acknowledgement was lost at the very end;
    larger by the messages whose last acknowledgement was lost (counted twice), never
    smaller."""
    return (snk.get("msgs_verified", 0) + src.get("undelivered", 0)
            - snk.get("delivered_unacked", 0) + snk.get("discarded_acked", 0))


def balance_line(src, snk):
    """The identity written out, for check messages."""
    return (f"sent {src.get('msgs_sent', 0)} vs verified {snk.get('msgs_verified', 0)} "
            f"+ undelivered {src.get('undelivered', 0)} - delivered_unacked "
            f"{snk.get('delivered_unacked', 0)} + discarded_acked "
            f"{snk.get('discarded_acked', 0)} = {counted(src, snk)}")


def _read(path):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


_SANITIZER = re.compile(r"^(==\d+==ERROR: \w+Sanitizer|.*: runtime error: )", re.M)


def _sanitizer_report(text, n=60):
    """The first sanitizer report in text (its first n lines, without the shadow map)."""
    m = _SANITIZER.search(text)
    if not m:
        return ""
    lines = text[m.start():].splitlines()
    keep = [ln for ln in lines if not ln.startswith(("  0x", "=>0x"))]
    return "\n".join(keep[:n])


def _tail(text, n):
    lines = text.splitlines()
    return "\n".join(lines[-n:])


# --- the world of one test -------------------------------------------------------------------

class World:
    def __init__(self, tag, argv=None):
        argv = sys.argv if argv is None else argv
        if len(argv) < 2:
            sys.exit(f"usage: {argv[0]} SLUICE_PROGRAM [args]")
        self.sluice = os.path.abspath(argv[1])
        self.args = argv[2:]
        self.tag = tag
        self.nodes = []
        self.others = []  # other things it started: each has stop() and diagnostics()
        self.checks = 0
        self.t0 = time.monotonic()
        self.dir = tempfile.mkdtemp(prefix=f"sluice-it-{tag}-{os.getpid()}-")
        self.env = dict(os.environ)
        self._old_handlers = {}

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            self._old_handlers[sig] = signal.signal(sig, self._on_signal)
        log(f"{self.tag}: sluice {self.sluice}, work directory {self.dir}")
        return self

    def _on_signal(self, sig, frame):
        raise TestFailure(f"interrupted by signal {signal.Signals(sig).name}")

    def __exit__(self, etype, exc, tb):
        failed = etype is not None
        for sig in self._old_handlers:  # a second signal must not cut the cleanup short
            signal.signal(sig, signal.SIG_IGN)
        try:
            if failed:
                self.diagnostics(exc)
        finally:
            self.cleanup()
            for sig, h in self._old_handlers.items():
                signal.signal(sig, h)
        if failed and isinstance(exc, TestFailure):
            print(f"FAIL {self.tag}: {exc}", flush=True)
            sys.exit(1)
        if not failed and not QUIET:
            print(f"PASS {self.tag}: {self.checks} checks in "
                  f"{time.monotonic() - self.t0:.1f} s", flush=True)
        return False

    def keygen(self, path):
        r = subprocess.run([self.sluice, "keygen", path], capture_output=True, text=True,
                           timeout=30)
        if r.returncode != 0:
            raise TestFailure(f"sluice keygen {path}: status {r.returncode}: {r.stderr}")
        return r.stdout.strip()

    def node(self, name, core, ip):
        n = Node(self, name, core, ip)
        self.nodes.append(n)
        return n

    def link(self, server, client, impair_server=None, impair_client=None, name="link0",
             server_ip=None, client_ip=None):
        """A memif link: server and client get a port each (net_memif<i>, their i-th port) on
        one socket of the work directory, with their own address or the one given. An
        appliance must be the server or the client of all its memif links (docs/operations.md,
        Known limitations)."""
        sock = os.path.join(self.dir, f"{name}.sock")
        for node, role, imp, ip in ((server, "server", impair_server, server_ip),
                                    (client, "client", impair_client, client_ip)):
            i = len(node.cfg["ports"])
            node.add_port(name, f"net_memif{i},role={role},id=0,socket={sock}", imp, ip)

    def check(self, cond, what):
        """A test assertion: what must hold."""
        self.checks += 1
        if not cond:
            raise TestFailure(f"check failed: {what}")
        log(f"ok: {what}")

    def equal(self, got, want, what):
        self.check(got == want, f"{what}: {got} == {want}" if got == want
                   else f"{what}: got {got}, want {want}")

    def elapsed(self):
        return time.monotonic() - self.t0

    def track(self, thing):
        """Something else the test started (thing.stop(), thing.diagnostics()): stopped before
        the appliances on every exit path, its diagnostics printed on a failure."""
        self.others.append(thing)
        return thing

    def diagnostics(self, exc):
        print(f"--- {self.tag} failed after {self.elapsed():.1f} s: {exc!r}", flush=True)
        for t in self.others:
            t.diagnostics()
        for n in self.nodes:
            for i, (out, err, argv) in enumerate(n.runs):
                text = _read(err)
                status = n.proc.poll() if i == len(n.runs) - 1 else "exited"
                print(f"--- {n.name} run {i}: {' '.join(argv)} (status {status})")
                report = _sanitizer_report(text)
                if report:
                    print(f"--- {n.name} run {i}: sanitizer report:")
                    print(report)
                print(f"--- {n.name} run {i} stderr (last {LOG_TAIL_LINES} lines):")
                print(_tail(text, LOG_TAIL_LINES))
                print(f"--- {n.name} run {i} stdout:")
                print(_tail(_read(out), LOG_TAIL_LINES))
        sys.stdout.flush()

    def cleanup(self):
        for t in self.others:
            try:
                t.stop()
            except Exception as e:  # keep cleaning up
                print(f"cleanup: {t!r}: {e!r}", flush=True)
        for n in self.nodes:
            try:
                if n.running():
                    log(f"cleanup: stopping {n.name} (pid {n.proc.pid})")
                n.stop(timeout=5.0)
            except Exception as e:  # keep cleaning up
                print(f"cleanup: {n.name}: {e!r}", flush=True)
        for n in self.nodes:
            if n.proc is not None and n.proc.poll() is not None:
                shutil.rmtree(n.runtime_dir(), ignore_errors=True)
        if os.environ.get("SLUICE_KEEP_TMP"):
            print(f"SLUICE_KEEP_TMP: work directory kept: {self.dir}", flush=True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def runs_and_mode(doc, default_runs, max_runs, modes):
    """(runs, mode) of a repeated script's command line `SCRIPT SLUICE [RUNS] [MODE]` (mode:
    one of modes, the first by default); exits with the script's doc on anything else."""
    args = sys.argv[2:]
    try:
        runs = int(args[0]) if args else default_runs
    except ValueError:
        sys.exit(doc)
    mode = args[1] if len(args) > 1 else modes[0]
    if len(sys.argv) < 2 or not 1 <= runs <= max_runs or mode not in modes or len(args) > 2:
        sys.exit(doc)
    return runs, mode


def run(main):
    """Run main() (which builds a World) and exit with a status meson understands."""
    try:
        main()
    except TestFailure as e:  # raised outside a World
        print(f"FAIL: {e}", flush=True)
        sys.exit(1)
    sys.exit(0)
