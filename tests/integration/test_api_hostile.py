#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A hostile application next to a well-behaved one: every misdeed refused and counted, the
well-behaved one undisturbed, the appliance back to its baseline once the hostile one is gone.

    test_api_hostile.py SLUICE API_APP API_HOSTILE

A (lcore 0, an `api` section, max_apps 4) and B (lcore 1, echo services on channels 1 and 3)
over memif, peers of each other. On A:
  - "good" (tests/api_app) serves channel 1 and keeps exchanging messages with B's echo the
    whole time (every byte of every echo checked, in order): after each misdeed it must have
    made progress (more echoes back), and at the end nothing may be missing;
  - the hostile one (tests/api_hostile: libsluice's handle, then direct writes into its shared
    memory and control socket) serves channel 3 and, one at a time:
      a registration flood (3,000 round trips on its channel; channels 0, 9 (not
      configured), 16, 200, 255: -EINVAL; channel 1, good's: -EBUSY), descriptors of unknown types, SENDs with impossible
      lengths and arena positions (bad_descriptor), SENDs and a WANT on channels it does not
      serve (not_owner), SENDs and a WANT for sessions no lcore could own (bad_session), a
      SEND for an empty slot (send_failed), a burst beyond its credit (over_credit: exactly
      what exceeds it; what is within it is sent), attachments beyond max_apps (-EUSERS,
      refused_full), 100 connections that never attach (the oldest give their slots up:
      another application attaches all the same), an impossible tx ring head and, attached again, an impossible
      rx_released (protocol_errors: each time its lane stops and it is detached), a request
      of an unknown type (bad_requests: detached), and at last kill -9 while it holds
      received messages unreleased and B's echoes wait for room in its rx arena;
    each misdeed counted exactly (its /sluice/apps entry, the interface's counters), nothing
    else counted;
  - afterwards: only "good" attached, the messages held for the dead one counted
    (dropped_app_gone = what A held for it), its slot and channel free again (a new
    application registers channel 3; max_apps applications attach again), A still running,
    stopping with status 0 and every mbuf back.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_apps import (MISDEEDS, WAIT, App, api_pair, apps, check_clean,  # noqa: E402
                     node_hex, start_pair, stop_appliances)
from sl_integ import World, echo, log  # noqa: E402

DURATION = 120
MAX_APPS = 4
LIMITS = {"max_message": 65536, "unsent_bytes": 262144}
CHANNELS = [{"id": c, "priority": 2} for c in (1, 2, 3)]
PROGRESS = 50             # echoes "good" must get back after each misdeed
HOLD, HOLD_SIZE = 48, 32768  # 1.5 MiB echoed into a 1 MiB rx arena: some must wait at A
RAW = 100                 # connections that never attach (the appliance has 64 slots)
EINVAL, EBUSY, EUSERS, ECONNRESET = 22, 16, 87, 104


class Scene:
    def __init__(self, w, a, b, good, bad):
        self.w, self.a, self.b, self.good, self.bad = w, a, b, good, bad
        self.bhex = node_hex(b)
        self.iface0 = apps(a)[1]
        self.want = {}

    def progressed(self, after):
        """good's echo loop got PROGRESS more echoes back after the misdeed."""
        got = self.good.progress()["recv"]
        p = self.good.wait_progress(f"{PROGRESS} more echoes after {after}",
                                    lambda p: p["recv"] >= got + PROGRESS, WAIT)
        self.w.check(True, f"good: echoes {got} -> {p['recv']} after {after}")

    def iface(self, **more):
        """The interface's counters moved since the start by what every call so far added
        (more: this call's additions), and the others not at all."""
        now = apps(self.a)[1]
        keys = ("bad_requests", "refused_full", "refused_version", "protocol_errors",
                "dropped_app_gone", "dropped_closed", "dropped_no_memory")
        for k, v in more.items():
            self.want[k] = self.want.get(k, 0) + v
        got = {k: now.get(k, 0) - self.iface0.get(k, 0) for k in keys}
        self.w.equal(got, {k: self.want.get(k, 0) for k in keys}, "a: interface counters")
        return now

    def counted(self, name, what, **want):
        """Wait until A counted at least want for application name, then: exactly that, and
        the misdeeds not named 0."""
        full = {k: want.get(k, 0) for k in MISDEEDS + ("send_failed",)}
        got = it.wait_until(f"a counts {what}", lambda: (lambda c: c and all(
            c[k] >= v for k, v in full.items()) and c)(apps(self.a)[0].get(name)), WAIT,
            nodes=(self.a,))
        self.w.equal({k: got[k] for k in full}, full, f"a: {name}'s counters after {what}")
        self.progressed(what)
        return got

    def detached(self, name, what):
        it.wait_until(f"{name} detached after {what}",
                      lambda: name not in apps(self.a)[0], WAIT, nodes=(self.a,))
        self.w.check(True, f"a detached {name} after {what}")


def misdeeds(s):
    """The hostile one's misdeeds through its shared memory, one at a time, each counted."""
    bad, w, b = s.bad, s.w, s.bhex
    r = bad.cmd("flood 1000", 120)
    w.equal((r["rounds_ok"], r["chan0"], r["chan9"], r["chan16"], r["chan200"], r["chan255"],
             r["chan1"]), (1000, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EBUSY),
            "flood: every round trip answered; impossible channels refused")
    s.counted("h1", "the registration flood")
    s.iface()
    w.equal(bad.cmd("garbage 20")["posted"], 20, "garbage posted")
    s.counted("h1", "garbage descriptors", bad_descriptor=20)
    w.equal(bad.cmd(f"badplace {b} 3")["posted"], 4, "misplaced SENDs posted")
    s.counted("h1", "misplaced SENDs", bad_descriptor=24)
    w.equal(bad.cmd(f"notowner {b}")["posted"], 5, "SENDs on others' channels posted")
    s.counted("h1", "SENDs on others' channels", bad_descriptor=24, not_owner=5)
    bad.cmd(f"badsession {b} 3")
    s.counted("h1", "impossible sessions", bad_descriptor=24, not_owner=5, bad_session=3,
              send_failed=1)
    r = bad.cmd(f"overcredit {b} 3")
    c = s.counted("h1", "a burst beyond its credit", bad_descriptor=24, not_owner=5,
                  bad_session=3, send_failed=1, over_credit=r["over_credit"])
    w.equal((c["msgs_sent"], c["bytes_sent"]), (r["accepted"], r["bytes"]),
            "a: what was within its credit was sent")
    r = bad.cmd(f"maxapps {MAX_APPS + 4}")
    w.equal((r["attached"], r["rc"]), (MAX_APPS - 2, -EUSERS),
            f"attachments beyond max_apps ({MAX_APPS}) refused")
    s.iface(refused_full=1)
    s.progressed("attachments beyond max_apps")


def connections(s, api_app):
    """Connections that never attach, more than the appliance has slots (64): they give their
    slots up, oldest first, and an application still attaches (regression: they kept every
    slot, and every attachment failed with -ECONNRESET for as long as they stayed open)."""
    w = s.w
    w.equal(s.bad.cmd(f"rawconn {RAW}")["open"], RAW, f"{RAW} connections open, none attached")
    late = App(w, api_app, s.a.api_socket, "late")
    w.equal(late.rc("attach late"), 0, "an application attaches all the same")
    late.stop()
    r = s.bad.cmd("rawclose")
    w.check(r["closed_by_appliance"] >= RAW - 64 + 1,
            f"a closed {r['closed_by_appliance']} of them to make room")
    s.iface(refused_full=r["closed_by_appliance"])
    s.progressed("a connection flood")


def protocol_errors(s):
    """Impossible indices (each detaches it), a senseless request (detaches it)."""
    bad, w = s.bad, s.w
    bad.cmd("breakring")
    s.detached("h1", "an impossible tx ring head")
    w.equal(bad.rc("gone"), -ECONNRESET, "the appliance closed h1's socket")
    bad.cmd("detach")
    s.iface(protocol_errors=1)
    s.progressed("h1's detachment")
    w.equal(bad.rc("attach h2"), 0, "the hostile one attaches again")
    w.equal(bad.rc("register 3"), 0, "channel 3 is free again")
    bad.cmd(f"expect connected {s.bhex}")
    bad.cmd(f"breakreleased {s.bhex} 3")
    s.detached("h2", "an impossible rx_released")
    w.equal(bad.rc("gone"), -ECONNRESET, "the appliance closed h2's socket")
    bad.cmd("detach")
    # the message that found its lane broken waited for it, and went with it
    s.iface(protocol_errors=1, dropped_app_gone=1)
    s.progressed("h2's detachment")
    w.equal(bad.rc("attach h3"), 0, "attached again")
    w.check(bad.rc("malformed") < 0, "a request of an unknown type fails")
    s.detached("h3", "a request of an unknown type")
    bad.cmd("detach")
    s.iface(bad_requests=1)


def killed_holding(s):
    """Attached once more, it holds what it receives; kill -9 while A holds echoes for it."""
    bad, w = s.bad, s.w
    w.equal(bad.rc("attach h4"), 0, "attached again")
    w.equal(bad.rc("register 3"), 0, "channel 3 once more")
    bad.cmd(f"expect connected {s.bhex}")
    bad.cmd(f"hold {s.bhex} 3 {HOLD} {HOLD_SIZE}", 60)
    c = it.wait_until("every echo delivered to h4 or held at A for it",
                      lambda: (lambda c: c["msgs_delivered"] + c["held"] == HOLD and c)(
                          apps(s.a)[0]["h4"]), WAIT, nodes=(s.a,))
    w.check(c["held"] > 0, f"a holds {c['held']} messages for h4 (its rx arena is full: "
            f"{c['msgs_delivered']} delivered, unreleased)")
    s.progressed("h4 stopped reading (its messages held in the session good's come by)")
    bad.kill9()
    s.detached("h4", "kill -9")
    return c["held"]


def baseline(s, api_app, api_hostile, held):
    """The appliance as before the hostile one, but for what it counted."""
    w, a = s.w, s.a
    names = it.wait_until("only good attached", lambda: (lambda n: n == {"good"} and n)(
        set(apps(a)[0])), WAIT, nodes=(a,))
    w.equal(names, {"good"}, "a: only good attached")
    now = s.iface(dropped_app_gone=held)
    w.equal(now["attached"], now["detached"] + 1, "a: every attachment but good's detached")
    new = App(w, api_app, a.api_socket, "new")
    w.equal(new.rc("attach new"), 0, "a new application attaches")
    w.equal(new.rc("register 3"), 0, "the new one registers the dead one's channel")
    more = App(w, api_hostile, a.api_socket, "more")
    w.equal(more.rc("attach more"), 0, "and another")
    r = more.cmd(f"maxapps {MAX_APPS}")
    w.equal((r["attached"], r["rc"]), (MAX_APPS - 3, -EUSERS),
            f"all {MAX_APPS} slots usable again, then refused")
    s.iface(refused_full=1)
    for app in (new, more):
        app.stop()


def finish_good(s):
    w, good = s.w, s.good
    good.send("stop")
    r = good.result(60)
    w.equal(r["sent"], r["recv"], "good: every echo came back")
    w.equal(r["sent_bytes"], r["recv_bytes"], "good: bytes sent, echoed")
    c = apps(s.a)[0]["good"]
    w.equal({k: c[k] for k in MISDEEDS + ("send_failed",)},
            {k: 0 for k in MISDEEDS + ("send_failed",)}, "a: nothing against good")
    w.equal((c["msgs_sent"], c["msgs_delivered"]), (r["sent"], r["recv"]),
            "a: good's messages counted")
    check_clean(w, good)
    w.equal(good.cmd("events")["n"], 0, "good: no event left unexplained")
    log(f"good: {r['sent']} echoes, {r['sent_bytes']} bytes")


def main(api_app, api_hostile):
    with World("api-hostile") as w:
        a, b = api_pair(w, "198.18.8", api=("a",), channels=CHANNELS, limits=LIMITS,
                        max_apps=MAX_APPS)
        b.cfg["services"] = [echo(1), echo(3)]
        start_pair(a, b, DURATION)
        good = App(w, api_app, a.api_socket, "good")
        bad = App(w, api_hostile, a.api_socket, "hostile")
        w.equal(good.rc("attach good"), 0, "good attaches")
        w.equal(good.rc("register 1"), 0, "good serves channel 1")
        good.cmd(f"expect connected {node_hex(b)}")
        good.start(f"echo {node_hex(b)} 1 32 99 r16384")
        w.equal(bad.rc("attach h1"), 0, "the hostile one attaches")
        w.equal(bad.rc("register 3"), 0, "the hostile one serves channel 3")
        bad.cmd(f"expect connected {node_hex(b)}")
        s = Scene(w, a, b, good, bad)
        s.progressed("the start")

        misdeeds(s)
        connections(s, api_app)
        protocol_errors(s)
        held = killed_holding(s)
        s.progressed("the hostile one's death")
        baseline(s, api_app, api_hostile, held)
        finish_good(s)
        good.stop()
        w.check(a.running(), "a survived")
        stop_appliances(w, a, b)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(f"usage: {sys.argv[0]} SLUICE API_APP API_HOSTILE")
    it.run(lambda: main(os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])))
