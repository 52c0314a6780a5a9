#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The appliance's log lines: a timestamp and a severity on every one, rekeys at info, and
repeated ConnectFailed lines rate-limited.

    test_logs.py SLUICE

A (memif server, lcore 0) and B (client, lcore 1) know each other, with limits.rekey_after_s
at its smallest (10 s); A also has a peer C that does not exist (nobody answers for its
address), so A's dials of C keep failing. Then:
  - both log NodeConnected at info, and a Rekeyed line for their session at info when the
    session's keys are renewed (about 10 s in) — the rekey telemetry counts too;
  - A's ConnectFailed lines for C are warnings, and never more than 3 in a minute for that
    node and reason (the ones left out are counted by the next line's suppressed=);
  - after both stop on SIGTERM (status 0), every line either wrote on stderr matches
    `ts=YYYY-MM-DDTHH:MM:SS.mmmZ level=<emerg|alert|crit|error|warning|notice|info|debug> `
    and a message, with a time between the test's start and its end (UTC wall clock, a
    minute's slack), and the memif peer leaving is a warning on B.
"""
import datetime
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_integ import TestFailure, World, log  # noqa: E402

DURATION = 60  # each appliance's --duration: the hard limit of its run
WAIT = 30      # the longest wait for any one step (a rekey comes after 10 s)
LINE = re.compile(r"ts=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z "
                  r"level=(emerg|alert|crit|error|warning|notice|info|debug) (\S.*)")


def check_lines(w, n, t0, t1):
    """Every line of n's stderr has the prefix, with a time within [t0, t1]; the lines as
    (level, message)."""
    out = []
    lines = n.stderr().splitlines()
    for line in lines:
        m = LINE.fullmatch(line)
        if not m:
            raise TestFailure(f"{n.name}: a log line without ts= and level=: {line!r}")
        ts = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
        if not t0 <= ts <= t1:
            raise TestFailure(f"{n.name}: a time outside [{t0}, {t1}]: {line!r}")
        out.append((m.group(2), m.group(3)))
    w.check(len(lines) > 3, f"{n.name}: all {len(lines)} lines of stderr have ts= and level=")
    return out


def find(lines, level, pattern):
    return [msg for lv, msg in lines if lv == level and re.search(pattern, msg)]


def main():
    with World("logs") as w:
        t0 = datetime.datetime.utcnow() - datetime.timedelta(minutes=1)
        a = w.node("a", core=0, ip="198.18.9.1")
        b = w.node("b", core=1, ip="198.18.9.2")
        w.link(a, b)
        for n in (a, b):
            n.cfg["limits"] = {"rekey_after_s": 10}
        a.peer(b)
        b.peer(a)
        c_key = w.keygen(os.path.join(w.dir, "c.key"))  # a node that never runs
        a.cfg["peers"].append({"name": "c", "endpoint": "198.18.9.3:4789", "public_key": c_key})
        a.start(duration=DURATION)
        a.wait_log(r"lcore: \d+: running", timeout=WAIT)  # the memif server listens
        b.start(duration=DURATION)
        a.wait_log(r"level=info sluice: NodeConnected peer=b ", timeout=WAIT)
        for n, other in ((a, "b"), (b, "a")):
            m, _ = n.wait_log(rf"level=(\w+) sluice: Rekeyed peer={other} ", timeout=WAIT)
            w.equal(m.group(1), "info", f"{n.name}: the rekey is logged at info")
        peer = next(v for v in a.query("/sluice/peers").values()
                    if isinstance(v, dict) and v.get("name") == "b")
        w.check(peer.get("rekeys", 0) >= 1, f"a: /sluice/peers b rekeys {peer.get('rekeys')}")
        w.equal(a.stop(), 0, "a: exit status after SIGTERM")
        w.equal(b.stop(), 0, "b: exit status after SIGTERM")
        t1 = datetime.datetime.utcnow() + datetime.timedelta(minutes=1)
        la, lb = check_lines(w, a, t0, t1), check_lines(w, b, t0, t1)
        for n, lines in ((a, la), (b, lb)):
            w.check(find(lines, "info", r"^sluice: NodeConnected "), f"{n.name}: NodeConnected at info")
        w.check(find(lb, "warning", r"memif peer gone"), "b: the memif peer leaving is a warning")
        failed = [msg for lv, msg in la if "ConnectFailed peer=c " in msg]
        log(f"a: {len(failed)} ConnectFailed lines for c: {failed}")
        w.check(failed and all(lv == "warning" for lv, msg in la if "ConnectFailed" in msg),
                "a: ConnectFailed for c, as warnings")
        reasons = {re.search(r"reason=(\S+)", msg).group(1) for msg in failed}
        for r in reasons:
            w.check(len([m for m in failed if f"reason={r} " in m]) <= 3,
                    f"a: at most 3 ConnectFailed lines for c with reason={r} in this minute")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} SLUICE")
    it.run(main)
