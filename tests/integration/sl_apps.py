# SPDX-License-Identifier: BSD-3-Clause
"""Shared helpers of the application-interface tests: appliances with an `api` section, their
telemetry about applications, and the test applications (tests/api_app, tests/api_hostile)
driven line by line (the protocol: tests/api_app.h).

    with World("api-x") as w:
        a, b = api_pair(w, "198.18.5", api=("a", "b"))    # both with a socket
        a.start(...); b.start(...)
        app = App(w, exe, a.api_socket, "app-a")           # stopped with the World
        app.rc("attach app-a")                            # 0, or a negative errno
        app.cmd("register 1")                             # {"rc": 0}
        app.cmd(f"expect connected {node_hex(b)}")
        app.start(f"echo {node_hex(b)} 1 32 7 r4096")     # a long command
        app.progress()                                    # {"sent": ..., "recv": ...}
        app.send("stop"); app.result()

An App is a process of the test's World: stopped (quit, then SIGTERM, then SIGKILL) on every
exit path, and its stderr printed when the test fails.
"""
import base64
import os
import queue
import re
import subprocess
import threading

from sl_integ import SRC_ROOT, TestFailure, child_setup, log, terminate, wait_until

WAIT = 30  # seconds: the longest wait for a reply that needs no data to move
CHANNELS = [{"id": 1, "priority": 2}, {"id": 2, "priority": 2}]


def node_hex(node):
    """A Node's id as the test applications take it: 64 hex digits."""
    return base64.b64decode(node.public_key).hex()


def api_pair(w, net, api=("a",), channels=CHANNELS, limits=None, max_apps=4, mode="0600"):
    """Two appliances a (lcore 0, memif server) and b (lcore 1) at NET.1 and NET.2 over memif,
    with channels; those named in api get an `api` section (node.api_socket: its path)."""
    a = w.node("a", core=0, ip=f"{net}.1")
    b = w.node("b", core=1, ip=f"{net}.2")
    w.link(a, b)
    for n in (a, b):
        n.cfg["channels"] = [dict(c) for c in channels]
        if limits:
            n.cfg["limits"] = dict(limits)
        n.api_socket = None
        if n.name in api:
            n.api_socket = os.path.join(w.dir, f"{n.name}-api.sock")
            n.cfg["api"] = {"socket": n.api_socket, "mode": mode, "max_apps": max_apps}
    return a, b


def start_pair(a, b, duration, peers=True, wait=WAIT):
    """Start a then b (the memif server first); with peers, each knows the other and both wait
    for their session."""
    if peers:
        a.peer(b)
        b.peer(a)
    for n in (a, b):
        n.start(duration=duration)
        n.wait_log(r"lcore: \d+: running", timeout=wait)
        if n.api_socket:
            n.wait_log(r"api: listening on", timeout=wait)
    if peers:
        a.wait_log(r"NodeConnected peer=b ", timeout=wait)
        b.wait_log(r"NodeConnected peer=a ", timeout=wait)


def python_env(lib_dir):
    """The environment of a Python child that imports api/python/sluice.py over lib_dir's
    libsluice.so. Under the sanitizers (SLUICE_PY_PRELOAD, from meson) their runtimes must be
    loaded before the instrumented library, and Python's own allocations are not leaks."""
    env = dict(os.environ, SLUICE_LIB=lib_dir, PYTHONPATH=os.path.join(SRC_ROOT, "api", "python"))
    if os.environ.get("SLUICE_PY_PRELOAD"):
        env.update(LD_PRELOAD=os.environ["SLUICE_PY_PRELOAD"], ASAN_OPTIONS="detect_leaks=0")
    return env


def apps(node):
    """(applications by name, the interface's counters) from node's /sluice/apps."""
    d = node.query("/sluice/apps") or {}
    iface = d.pop("interface", {})
    return {v.get("name"): dict(v, slot=int(k)) for k, v in d.items()}, iface


def stop_appliances(w, *nodes):
    """SIGTERM each: status 0 and every mbuf back."""
    for n in nodes:
        w.equal(n.stop(), 0, f"{n.name} (SIGTERM) exit status")
        w.equal(n.summary().get("exit", {}).get("mbufs_in_use"), 0,
                f"{n.name}: mbufs in use at exit")


def check_clean(w, app):
    """What libsluice saw in app was right: no appliance error, no release error, no message
    nobody waited for. Its stats."""
    st = app.cmd("stats")
    w.equal((st["appliance_errors"], st["release_errors"], st["stray"]), (0, 0, 0),
            f"{app.name}: appliance errors, release errors, stray messages")
    return st


MISDEEDS = ("bad_descriptor", "bad_session", "not_owner", "over_credit", "protocol_errors")


def _parse(rest):
    out = {}
    for t in rest.split():
        k, sep, v = t.partition("=")
        if sep:
            out[k] = int(v) if re.fullmatch(r"-?\d+", v) else v
    return out


class App:
    """One test application process, its replies read by a thread into a queue."""

    def __init__(self, w, exe, sock, name):
        self.w, self.name = w, name
        self.err_path = os.path.join(w.dir, f"app-{name}.err")
        self.seen = []  # every line it wrote, for diagnostics
        with open(self.err_path, "wb") as fe:
            self.proc = subprocess.Popen([exe, sock], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=fe, text=True,
                                         bufsize=1, preexec_fn=child_setup, env=w.env)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        w.track(self)
        log(f"{name}: started pid {self.proc.pid}: {exe} {sock}")

    def __repr__(self):
        return f"<App {self.name} pid {self.proc.pid}>"

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def send(self, line):
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise TestFailure(f"{self.name}: gone (status {self.proc.poll()}) before '{line}'")

    def wait(self, tags=("ok", "fail"), timeout=WAIT, what=""):
        """The next line whose first word is one of tags (others are logged): (tag, dict)."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise TestFailure(f"{self.name}: no reply to '{what}' within {timeout} s")
            if line is None:
                raise TestFailure(f"{self.name}: exited (status {self.proc.wait()}) before "
                                  f"answering '{what}'")
            self.seen.append(line)
            tag, _, rest = line.partition(" ")
            if tag in tags:
                if tag == "fail":
                    raise TestFailure(f"{self.name}: {what}: {rest}")
                return tag, _parse(rest)
            log(f"{self.name}: {line}")

    def cmd(self, line, timeout=WAIT):
        """Run a command; its reply as a dict (a TestFailure on 'fail')."""
        self.send(line)
        reply = self.wait(timeout=timeout, what=line)[1]
        log(f"{self.name}: {line} -> {reply}")
        return reply

    def rc(self, line, timeout=WAIT):
        return self.cmd(line, timeout)["rc"]

    def start(self, line):
        """Start a long command (stream, echo): its reply comes with result()."""
        self.pending = line
        self.send(line)
        log(f"{self.name}: {line} ...")

    def result(self, timeout=WAIT):
        reply = self.wait(timeout=timeout, what=self.pending)[1]
        log(f"{self.name}: {self.pending} -> {reply}")
        return reply

    def progress(self, line="progress"):
        self.send(line)
        return self.wait(("progress", "fail"), what=line)[1]

    def wait_progress(self, what, cond, timeout, every=0.1):
        """Ask for progress until cond(progress) holds; that progress."""
        return wait_until(f"{self.name}: {what}", lambda: (lambda p: cond(p) and p)(
            self.progress()), timeout, every=every)

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        log(f"{self.name}: pid {self.proc.pid} killed (SIGKILL)")

    def stop(self, timeout=5.0):
        """quit (detach, exit 0), else SIGTERM then SIGKILL; the exit status."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=timeout)
            except (BrokenPipeError, ValueError, subprocess.TimeoutExpired):
                pass
        return terminate(self.proc, timeout, self.name)

    def diagnostics(self):
        print(f"--- application {self.name} (status {self.proc.poll()}), last lines:")
        print("\n".join(self.seen[-10:]))
        try:
            with open(self.err_path, errors="replace") as f:
                print(f.read()[-3000:])
        except OSError:
            pass
