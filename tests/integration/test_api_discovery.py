#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Discovery events reach applications: two appliances over memif, A with an application
interface and a discovery section that saves its address book every second, B its peer.

    test_api_discovery.py SLUICE LIBSLUICE_DIR

A Python application (api/python/sluice.py) attached to A must see SLUICE_DISC_BOOK_SAVED
events (node all zero, count = the book's entries, nothing missed), and A's /sluice/apps must
count them (interface disc_posted) with none dropped. Then every application detached, and
both appliances stop with status 0 and every mbuf back.
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_apps import api_pair, apps, python_env, start_pair, stop_appliances  # noqa: E402
from sl_integ import World, log  # noqa: E402

DURATION = 60
SAVES = 2  # book saves the application must hear of

APP = r"""
import sys, time
import sluice
want, seen, deadline = int(sys.argv[2]), 0, time.monotonic() + 30
with sluice.Sluice(sys.argv[1], "py-disc") as s:
    while seen < want and time.monotonic() < deadline:
        for ev in s.poll():
            print("event", getattr(ev.type, "name", ev.type), ev.node.hex(), ev.count,
                  ev.undelivered, ev.reason)
            if ev.type == sluice.DISC_BOOK_SAVED:
                assert ev.node == bytes(32) and ev.undelivered == 0, ev
                seen += 1
            elif ev.type == sluice.DISC_BOOK_FAILED:
                sys.exit(f"book save failed: errno {ev.reason}")
        s.wait(200)
    assert s.stats()["appliance_errors"] == 0, s.stats()
print("saves", seen)
sys.exit(0 if seen >= want else 1)
"""


def main(lib_dir):
    with World("api-disc") as w:
        a, b = api_pair(w, "198.18.4")
        a.cfg["discovery"] = {"book": os.path.join(a.dir, "book.dat"), "save_interval_s": 1}
        start_pair(a, b, DURATION)

        r = subprocess.run([sys.executable, "-c", APP, a.api_socket, str(SAVES)],
                           env=python_env(lib_dir), capture_output=True, text=True, timeout=60)
        for line in (r.stdout + r.stderr).splitlines():
            log(f"  py: {line}")
        w.equal(r.returncode, 0, f"the application heard of {SAVES} book saves")

        mine, iface = apps(a)
        log(f"a: /sluice/apps {mine} {iface}")
        w.check(iface.get("disc_posted", 0) >= SAVES, f"a: disc_posted {iface.get('disc_posted')}")
        w.equal(iface.get("disc_dropped", -1), 0, "a: interface disc_dropped")
        w.equal(iface.get("attached"), iface.get("detached"), "a: every application detached")
        stop_appliances(w, a, b)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(f"usage: {sys.argv[0]} SLUICE LIBSLUICE_DIR")
    it.run(lambda: main(os.path.abspath(sys.argv[2])))
