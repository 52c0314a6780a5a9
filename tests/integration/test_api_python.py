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


def main(lib_dir):
    with World("api-py") as w:
        a, b, socks = it.api_world(w, "198.18.4")
        sock = socks["a"]
        b.cfg["services"] = [echo(1)]
        it.start_api_world(a, b, DURATION, WAIT)

        env = dict(os.environ, SLUICE_LIB=lib_dir,
                   PYTHONPATH=os.path.join(HERE, "..", "..", "api", "python"))
        if os.environ.get("SLUICE_PY_PRELOAD"):  # a sanitizer build: see tests/meson.build
            env["LD_PRELOAD"] = os.environ["SLUICE_PY_PRELOAD"]
            env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"

        node_hex = base64.b64decode(b.public_key).hex()
        r = subprocess.run([sys.executable, os.path.join(HERE, "..", "test_python_api.py"),
                            sock, node_hex, "1"], env=env, capture_output=True, text=True,
                           timeout=120)
        for line in (r.stdout + r.stderr).splitlines():
            log(f"  py: {line}")
        w.equal(r.returncode, 0, "test_python_api.py exit status")
        it.check_apps_clean(w, a, 3)
        it.stop_clean(w, a, b)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(f"usage: {sys.argv[0]} SLUICE LIBSLUICE_DIR")
    it.run(lambda: main(os.path.abspath(sys.argv[2])))
