#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Applications on real appliances through the Python module: two appliances over memif, A with
an application interface (`api` section), B with the built-in echo service on channel 1; then
tests/test_python_api.py runs against A's socket, with B as the node that echoes.

    test_api_python.py SLUICE LIBSLUICE_DIR

What test_python_api.py checks: attach / detach, the node id and the largest message,
registration conflicts between two attachments and registrations dropped with a detach,
nodes(), connect -> NODE_CONNECTED, sends of random sizes and their echoes byte for byte
(through poll and recv), -ENOBUFS then WRITABLE, a message held in place and released. Then
this script checks that every application detached and A's interface refused nothing and
counted no bad request or protocol error (/sluice/apps), and that both appliances stop with
status 0 and every mbuf back.
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_apps import (api_pair, apps, node_hex, python_env, start_pair,  # noqa: E402
                     stop_appliances)
from sl_integ import World, echo, log  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DURATION = 90


def main(lib_dir):
    with World("api-py") as w:
        a, b = api_pair(w, "198.18.4")
        b.cfg["services"] = [echo(1)]
        start_pair(a, b, DURATION)

        r = subprocess.run([sys.executable, os.path.join(HERE, "..", "test_python_api.py"),
                            a.api_socket, node_hex(b), "1"], env=python_env(lib_dir),
                           capture_output=True, text=True, timeout=120)
        for line in (r.stdout + r.stderr).splitlines():
            log(f"  py: {line}")
        w.equal(r.returncode, 0, "test_python_api.py exit status")

        mine, iface = apps(a)
        log(f"a: /sluice/apps {mine} {iface}")
        w.check(iface.get("attached", 0) >= 3, f"a: {iface.get('attached')} attachments")
        w.equal(iface.get("attached"), iface.get("detached"), "a: every application detached")
        for k in ("bad_requests", "refused_full", "refused_version", "protocol_errors"):
            w.equal(iface.get(k, 0), 0, f"a: interface {k}")
        stop_appliances(w, a, b)
        w.check(not os.path.exists(a.api_socket), "a removed its socket at exit")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(f"usage: {sys.argv[0]} SLUICE LIBSLUICE_DIR")
    it.run(lambda: main(os.path.abspath(sys.argv[2])))
