#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Test python_api_abi: api/python/sluice.py mirrors sluice.h and loads libsluice.so.

Usage: python_api_abi.py API_SIZES LIBSLUICE_SO PYTHON_DIR

1. `import sluice` in a fresh interpreter with SLUICE_LIB set and SLUICE_ABI_JSON naming what
   api_sizes printed (the C compiler's sizes, offsets and constants): the import itself
   refuses a mirror that differs.
2. The same comparison here, naming every difference.
3. Calls through ctypes that need no appliance: strerror, and an attach that finds no socket
   (OSError ENOENT), so the argument and result types are exercised too.
4. Events made from raw structures as sluice_poll() fills them: discovery events keep their
   fields, and a type the module does not know (a newer libsluice's) stays a plain int.
"""
import errno
import json
import os
import subprocess
import sys
import tempfile


def events(sluice):
    raw = sluice._Event(type=sluice.DISC_ADDR_LEARNED, count=17, undelivered=2)
    raw.node[:] = list(range(32))
    ev = sluice.Event(raw, None, keep_raw=False)
    assert ev.type is sluice.EventType.DISC_ADDR_LEARNED, ev.type
    assert (ev.node, ev.count, ev.undelivered) == (bytes(range(32)), 17, 2), ev
    ev = sluice.Event(sluice._Event(type=sluice.DISC_BOOK_FAILED, reason=errno.EACCES), None,
                      keep_raw=False)
    assert ev.type == sluice.EventType.DISC_BOOK_FAILED and ev.reason == errno.EACCES
    ev = sluice.Event(sluice._Event(type=99), None, keep_raw=False)
    assert ev.type == 99 and not isinstance(ev.type, sluice.EventType), ev.type
    assert "99" in repr(ev)


def main():
    helper, lib, pydir = sys.argv[1:4]
    expected = json.loads(subprocess.check_output([helper]))
    env = dict(os.environ, SLUICE_LIB=lib, PYTHONPATH=pydir)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as tf:
        json.dump(expected, tf)
        tf.flush()
        env["SLUICE_ABI_JSON"] = tf.name
        subprocess.run([sys.executable, "-c", "import sluice; assert sluice.lib_path()"],
                       env=env, check=True)
    sys.path.insert(0, pydir)
    os.environ["SLUICE_LIB"] = lib
    import sluice
    diffs = sluice.abi_diff(expected)
    for d in diffs:
        print(d, file=sys.stderr)
    assert not diffs, "ctypes mirror differs from sluice.h"
    assert sluice.strerror(-errno.ENOBUFS).startswith("ENOBUFS")
    try:
        sluice.Sluice("/nonexistent/api.sock")
        raise AssertionError("attach to no socket succeeded")
    except FileNotFoundError as e:
        assert e.errno == errno.ENOENT
    events(sluice)
    print(f"python_api_abi: {len(expected['structs'])} structures and "
          f"{len(expected['constants'])} constants match; {sluice.lib_path()} loads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
