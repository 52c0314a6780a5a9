#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Backpressure end to end: an application that stops reading stops its peer's sender, which
sees -ENOBUFS from sluice_send, and a SLUICE_WRITABLE once the reader reads again; nothing is
lost.

    test_api_backpressure.py SLUICE API_APP

A (lcore 0) and B (lcore 1) over memif, peers of each other, small windows and queues
(LIMITS); a sender application on A (tests/api_app) and a receiver on B, both serving
channel 1. Two rounds:
  1. the receiver does not poll at all: the sender streams COUNT messages of 1 B..64 KiB,
     far more than B's rx arena, B's receive window and A's queue hold together, so it must
     come to a stop: blocked on -ENOBUFS with messages left to send, while B holds messages
     for the receiver (its rx arena full: /sluice/apps `held`). Then the receiver reads:
     the sender gets WRITABLE events after that point (`mark`) and finishes;
  2. the receiver polls but keeps what it got unreleased (HOLD messages of 16 KiB: its whole
     rx arena): the sender comes to a stop again; the receiver releases them and reads on,
     and the sender finishes.
Each round: the receiver checks every message (order, length, every byte); the counts and
bytes sent equal those received, and what the appliances counted (msgs_sent on A,
msgs_delivered on B). Nothing counted against either application, nothing dropped.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_apps import (MISDEEDS, App, api_pair, apps, check_clean, node_hex,  # noqa: E402
                     start_pair, stop_appliances)
from sl_integ import World  # noqa: E402

DURATION = 90
LIMITS = {"max_message": 65536, "window_bytes": 262144, "queue_bytes": 262144,
          "unsent_bytes": 65536, "keepalive_ms": 0, "idle_timeout_ms": 0}
ROUNDS = [  # (count, seed, size, messages the receiver holds: 0 = it does not poll)
    (2000, 5, "r65536", 0),     # about 12 MB: far beyond the ~1.6 MB the path buffers
    (400, 6, "16384", 63),      # 6.5 MB; 63 x 16 KiB fit B's 1 MiB rx arena wherever it is
]
RUN_WAIT = 60


def held_on(node, name):
    return apps(node)[0][name]["held"]


def one_round(w, a, b, app_s, app_r, count, seed, size, hold):
    dest, src = node_hex(b), node_hex(a)
    held0 = held_on(b, "app-r")
    app_s.start(f"stream {dest} 1 {count} {seed} {size}")
    if hold:
        w.check(app_r.cmd(f"hold {src} 1 {hold} {seed} {size}", RUN_WAIT)["held"] >= hold,
                f"the receiver holds {hold} messages unreleased")
    how = "holds its messages" if hold else "does not read"
    p = it.wait_until(
        f"the sender blocked while the receiver {how}",
        lambda: (lambda p: p["blocked"] and held_on(b, "app-r") > held0 and p)(
            app_s.progress()), RUN_WAIT, nodes=(a, b), every=0.1)
    w.check(p["nobufs"] >= 1 and p["sent"] < count,
            f"the sender got -ENOBUFS ({p['nobufs']} times) with {count - p['sent']} of "
            f"{count} messages left, while B holds messages for the receiver")
    app_s.progress("mark")
    app_r.start(f"recv {src} 1 {count} {seed} {size}")
    rr, rs = app_r.result(RUN_WAIT), app_s.result(RUN_WAIT)
    w.equal((rs["sent"], rr["recv"]), (count, count), "messages sent, received")
    w.equal(rs["sent_bytes"], rr["recv_bytes"], "bytes sent, received")
    w.check(rs["writable_after_mark"] >= 1,
            f"the sender got WRITABLE after the receiver read again "
            f"({rs['writable_after_mark']} of {rs['writable']})")
    return rs["sent_bytes"]


def main(api_app):
    with World("api-backpressure") as w:
        a, b = api_pair(w, "198.18.7", api=("a", "b"), limits=LIMITS)
        start_pair(a, b, DURATION)
        app_s = App(w, api_app, a.api_socket, "app-s")
        app_r = App(w, api_app, b.api_socket, "app-r")
        for app, peer in ((app_s, b), (app_r, a)):
            w.equal(app.rc(f"attach {app.name}"), 0, f"{app.name} attaches")
            w.equal(app.rc("register 1"), 0, f"{app.name} serves channel 1")
            app.cmd(f"expect connected {node_hex(peer)}")

        msgs, nbytes = 0, 0
        for count, seed, size, hold in ROUNDS:
            nbytes += one_round(w, a, b, app_s, app_r, count, seed, size, hold)
            msgs += count

        s, r = apps(a)[0]["app-s"], apps(b)[0]["app-r"]
        w.equal((s["msgs_sent"], s["bytes_sent"]), (msgs, nbytes), "a: the sender's sends")
        w.equal((r["msgs_delivered"], r["bytes_delivered"]), (msgs, nbytes),
                "b: deliveries to the receiver")
        for node, c in ((a, s), (b, r)):
            w.equal({k: c[k] for k in MISDEEDS}, {k: 0 for k in MISDEEDS},
                    f"{node.name}: nothing against its application")
            iface = apps(node)[1]
            w.equal((iface["dropped_closed"], iface["dropped_app_gone"],
                     iface["dropped_no_memory"]), (0, 0, 0), f"{node.name}: nothing dropped")
        for app in (app_s, app_r):
            w.equal(app.cmd("events")["n"], 0, f"{app.name}: no event left unexplained")
            st = check_clean(w, app)
            app.stop()
            if app is app_s:
                w.check(st["send_nobufs"] >= len(ROUNDS),
                        f"the sender: {st['send_nobufs']} sends refused for credit")
        stop_appliances(w, a, b)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} SLUICE API_APP")
    it.run(lambda: main(os.path.abspath(sys.argv[2])))
