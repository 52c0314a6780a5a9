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
this script checks that A counted nothing against the applications (/sluice/apps) and that
both appliances stop with status 0 and every mbuf back.
"""
import base64
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_integ import World, echo, log  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DURATION = 90
WAIT = 30
MISDEEDS = ("bad_descriptor", "bad_session", "not_owner", "over_credit", "protocol_errors")


def main(lib_dir):
    with World("api-py") as w:
        a = w.node("a", core=0, ip="198.18.4.1")
        b = w.node("b", core=1, ip="198.18.4.2")
        w.link(a, b)
        sock = os.path.join(w.dir, "a-api.sock")
        for n in (a, b):
            n.cfg["channels"] = [{"id": 1, "priority": 2}, {"id": 2, "priority": 2}]
        a.cfg["api"] = {"socket": sock, "mode": "0600", "max_apps": 4}
        a.peer(b)
        b.peer(a)
        b.cfg["services"] = [echo(1)]
        a.start(duration=DURATION)
        a.wait_log(r"lcore: \d+: running", timeout=WAIT)
        a.wait_log(r"api: listening on", timeout=WAIT)
        b.start(duration=DURATION)
        a.wait_log(r"NodeConnected peer=b ", timeout=WAIT)

        env = dict(os.environ, SLUICE_LIB=lib_dir,
                   PYTHONPATH=os.path.join(HERE, "..", "..", "api", "python"))
        if os.environ.get("SLUICE_PY_PRELOAD"):
            # a sanitizer build: Python (not instrumented) loads an instrumented libsluice.so,
            # so the runtimes go first; Python's own allocations are not this test's leaks
            env.update(LD_PRELOAD=os.environ["SLUICE_PY_PRELOAD"],
                       ASAN_OPTIONS=env.get("ASAN_OPTIONS", "") + ":detect_leaks=0")
        node_hex = base64.b64decode(b.public_key).hex()
        r = subprocess.run([sys.executable, os.path.join(HERE, "..", "test_python_api.py"),
                            sock, node_hex, "1"], env=env, capture_output=True, text=True,
                           timeout=120)
        for line in (r.stdout + r.stderr).splitlines():
            log(f"  py: {line}")
        w.equal(r.returncode, 0, "test_python_api.py exit status")

        apps = a.query("/sluice/apps") or {}
        log(f"a: /sluice/apps {apps}")
        iface = apps.get("interface", {})
        w.check(iface.get("attached", 0) >= 3, f"a: {iface.get('attached')} attachments")
        w.equal(iface.get("attached"), iface.get("detached"), "a: every application detached")
        for k in ("bad_requests", "refused_full", "refused_version"):
            w.equal(iface.get(k, 0), 0, f"a: interface {k}")
        rc_a, rc_b = a.stop(), b.stop()
        w.equal(rc_a, 0, "a (SIGTERM) exit status")
        w.equal(rc_b, 0, "b (SIGTERM) exit status")
        for n in (a, b):
            w.equal(n.summary().get("exit", {}).get("mbufs_in_use"), 0,
                    f"{n.name}: mbufs in use at exit")
        w.check(not os.path.exists(sock), "a removed its socket at exit")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(f"usage: {sys.argv[0]} SLUICE LIBSLUICE_DIR")
    it.run(lambda: main(os.path.abspath(sys.argv[2])))
