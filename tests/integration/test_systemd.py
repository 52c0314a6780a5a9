#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""systemd's Type=notify protocol, against a stand-in for the service manager: a Unix datagram
socket of the test's own that the appliance finds in $NOTIFY_SOCKET (sd_notify(3)).

    test_systemd.py SLUICE

1. A runs with NOTIFY_SOCKET=@<abstract name> and WATCHDOG_USEC=400000 (WatchdogSec=0.4s);
   B dials it. The listener takes each datagram with the sender's credentials
   (SO_PASSCRED) and checks: every one comes from A's process; the first is READY=1 with a
   STATUS=; a STATUS= saying 1 session follows once B is connected; WATCHDOG=1 keeps
   coming (at least 5); no two STATUS= within a second of each other (the rate it promises,
   counted on the receiving side's clock, with 0.1 s for its own delays);
   SIGTERM brings STOPPING=1 and A exits 0.
2. A again, with NOTIFY_SOCKET a path in the file system and no WATCHDOG_USEC: READY=1,
   no WATCHDOG=1, STOPPING=1 on SIGTERM, exit 0.
3. NOTIFY_SOCKET set to a relative path, or WATCHDOG_USEC to something not a number: A
   refuses to start (exit 1) and says which variable.
4. dist/systemd/sluice@.service is Type=notify with a watchdog and no ExecReload, and
   `systemd-analyze verify` takes it (with this build's sluice in its paths; skipped where
   systemd-analyze is not installed).
"""
import os
import shutil
import socket
import subprocess
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_integ import TestFailure, World, log  # noqa: E402

DURATION = 60  # each appliance's --duration: the hard limit of its run
WAIT = 30      # the longest wait for any one step
WATCHDOG_USEC = 400000


class Listener:
    """The service manager's side: datagrams with their sender's pid, as they arrive."""

    def __init__(self, address):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(address)
        self.msgs = []  # (monotonic time, pid, {key: value}, text)

    def poll(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
        except socket.timeout:
            return None
        pid = None
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", cdata[:12])[0]
        text = data.decode()
        fields = dict(line.split("=", 1) for line in text.split("\n") if "=" in line)
        self.msgs.append((time.monotonic(), pid, fields, text))
        log(f"notify from pid {pid}: {text!r}")
        return fields

    def wait_for(self, what, cond, nodes=()):
        """Read until a message satisfies cond (the message); TestFailure after WAIT."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            m = self.poll(0.2)
            if m is not None and cond(m):
                return m
            for n in nodes:
                if not n.running() and m is None:
                    raise TestFailure(f"{n.name} exited while waiting for {what}")
        raise TestFailure(f"no notification {what} within {WAIT} s")

    def drain(self):
        while self.poll(0.05) is not None:
            pass

    def count(self, key, value=None):
        return sum(1 for _, _, f, _ in self.msgs if key in f and value in (None, f[key]))

    def close(self):
        self.sock.close()


def stop_with_stopping(w, a, ls):
    """SIGTERM: STOPPING=1 arrives and the exit status is 0."""
    w.equal(a.stop(), 0, "a: exit status after SIGTERM")
    ls.drain()
    w.equal(ls.count("STOPPING", "1"), 1, "STOPPING=1 once")


def notify_run(w, a, b):
    name = f"sluice-it-notify-{os.getpid()}"
    ls = Listener("\0" + name)
    try:
        w.env.update(NOTIFY_SOCKET="@" + name, WATCHDOG_USEC=str(WATCHDOG_USEC))
        a.start(duration=DURATION)
        first = ls.wait_for("READY=1", lambda m: True, (a,))
        w.equal(first.get("READY"), "1", "the first notification is READY=1")
        w.check(first.get("STATUS", "").startswith("0 sessions"), f"with STATUS={first.get('STATUS')}")
        del w.env["NOTIFY_SOCKET"], w.env["WATCHDOG_USEC"]
        b.start(duration=DURATION)
        ls.wait_for("STATUS=1 session", lambda m: m.get("STATUS", "").startswith("1 session,"),
                    (a, b))
        ls.wait_for("5 WATCHDOG=1", lambda m: ls.count("WATCHDOG", "1") >= 5, (a,))
        w.check(True, f"{ls.count('WATCHDOG', '1')} WATCHDOG=1 so far")
        stop_with_stopping(w, a, ls)
        w.equal({pid for _, pid, _, _ in ls.msgs}, {a.proc.pid},
                "every notification came from A's process")
        times = [t for t, _, f, _ in ls.msgs if "STATUS" in f and "READY" not in f
                 and "STOPPING" not in f]
        gaps = [y - x for x, y in zip(times, times[1:])]
        w.check(all(g >= 0.9 for g in gaps), f"STATUS= updates at most once a second: {gaps}")
        w.equal(ls.count("READY"), 1, "READY=1 once")
    finally:
        ls.close()


def path_run(w, a):
    path = os.path.join(w.dir, "notify.sock")
    ls = Listener(path)
    try:
        w.env["NOTIFY_SOCKET"] = path
        a.start(duration=DURATION)
        ls.wait_for("READY=1 on a path socket", lambda m: m.get("READY") == "1", (a,))
        a.wait_snapshot()  # a few rounds of the control thread
        stop_with_stopping(w, a, ls)
        w.equal(ls.count("WATCHDOG"), 0, "no WATCHDOG=1 without WATCHDOG_USEC")
    finally:
        del w.env["NOTIFY_SOCKET"]
        ls.close()


def bad_env(w, a):
    for var, val in (("NOTIFY_SOCKET", "relative/notify.sock"), ("WATCHDOG_USEC", "ten")):
        w.env.update(NOTIFY_SOCKET="@unused-" + str(os.getpid()))
        w.env[var] = val
        a.start(duration=DURATION)
        w.equal(a.wait(WAIT), 1, f"{var}={val}: exit status")
        w.check("NOTIFY_SOCKET or WATCHDOG_USEC unusable" in a.stderr(),
                f"{var}={val}: says so")
        w.env.pop("NOTIFY_SOCKET"), w.env.pop("WATCHDOG_USEC", None)


def unit_file(w):
    with open(os.path.join(it.SRC_ROOT, "dist", "systemd", "sluice@.service")) as f:
        unit = f.read()
    lines = [ln.strip() for ln in unit.splitlines() if not ln.lstrip().startswith("#")]
    for want in ("Type=notify", "NotifyAccess=main", "WatchdogSec=10", "KillSignal=SIGTERM"):
        w.check(want in lines, f"the unit file has {want}")
    w.check(not any(ln.startswith("ExecReload") for ln in lines), "... and no ExecReload")
    tool = shutil.which("systemd-analyze")
    if tool is None:
        log("systemd-analyze not installed: the unit file's syntax is not verified")
        return
    path = os.path.join(w.dir, "sluice@it.service")
    with open(path, "w") as f:
        f.write(unit.replace("/usr/local/bin/sluice", w.sluice))
    r = subprocess.run([tool, "verify", path], capture_output=True, text=True, timeout=WAIT)
    w.equal((r.returncode, r.stdout + r.stderr), (0, ""), "systemd-analyze verify")


def main():
    with World("systemd") as w:
        a = w.node("a", core=0, ip="198.18.8.1")
        b = w.node("b", core=1, ip="198.18.8.2")
        w.link(a, b)
        b.peer(a)
        notify_run(w, a, b)
        path_run(w, a)
        bad_env(w, a)
        w.equal(b.stop(), 0, "b: exit status after SIGTERM")
        unit_file(w)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} SLUICE")
    it.run(main)
