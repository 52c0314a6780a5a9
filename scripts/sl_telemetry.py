#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""sluice: a small client for DPDK's telemetry socket (v2), for the demo and the tests.

    from sl_telemetry import Telemetry
    with Telemetry("sluice-two-a") as t:          # the appliance's eal.file_prefix
        print(t.query("/sluice/peers"))

The socket is <runtime dir>/<file prefix>/dpdk_telemetry.v2, the runtime directory being
/var/run/dpdk for root and $XDG_RUNTIME_DIR/dpdk (or /tmp/dpdk) otherwise, as EAL picks it.
Command line: sl_telemetry.py PREFIX COMMAND[,PARAMS] prints the JSON answer.
"""
import json
import os
import socket
import sys
import time


def runtime_dir():
    if os.getuid() == 0:
        return "/var/run/dpdk"
    return os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")


def socket_path(prefix):
    return os.path.join(runtime_dir(), prefix, "dpdk_telemetry.v2")


class Telemetry:
    def __init__(self, prefix, timeout=5.0):
        self.path = socket_path(prefix)
        self.timeout = timeout
        self.sock = None
        self.max_len = 16384

    def connect(self, wait=0.0):
        """Connect, retrying for up to `wait` seconds while the socket does not exist yet."""
        deadline = time.monotonic() + wait
        while True:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                s.settimeout(self.timeout)
                s.connect(self.path)
                break
            except OSError:
                s.close()
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)
        self.sock = s
        hello = json.loads(s.recv(4096).decode())
        self.max_len = int(hello.get("max_output_len", self.max_len))
        return self

    def query(self, cmd):
        """Send one command ("/sluice/peers" or "/sluice/peers,b") and return its value."""
        self.sock.send(cmd.encode())
        reply = json.loads(self.sock.recv(self.max_len).decode())
        return reply.get(cmd.split(",")[0])

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self.connect()

    def __exit__(self, *exc):
        self.close()


def main(argv):
    """The command line: one query, its answer as JSON; every failure in one line, exit 1."""
    if len(argv) != 3:
        sys.exit("usage: sl_telemetry.py PREFIX COMMAND[,PARAMS]")
    t = Telemetry(argv[1])
    try:
        t.connect()
    except OSError as e:
        sys.exit(f"sl_telemetry.py: no appliance with file prefix {argv[1]!r} "
                 f"({t.path}: {e.strerror or e}); is it running, as this user?")
    try:
        print(json.dumps(t.query(argv[2]), indent=1))
    except (OSError, ValueError) as e:
        sys.exit(f"sl_telemetry.py: {argv[2]}: no answer ({e})")
    finally:
        t.close()


if __name__ == "__main__":
    main(sys.argv)
