#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The Python module (api/python/sluice.py) against a running appliance.

For the integration tests, once the appliance side of the application interface exists: they
start an appliance (and a peer) with an `api` section, then run this script. Not registered in
meson yet; without a socket it skips (exit 77, meson's "skipped").

Usage: test_python_api.py SOCKET [PEER_NODE_HEX [CHANNEL]]
  SOCKET         the appliance's api.socket
  PEER_NODE_HEX  a node the appliance can reach (64 hex digits), which echoes CHANNEL (default
                 1; the built-in echo service, say): messages of random sizes go there and must
                 come back byte for byte
Environment: SLUICE_LIB (the library, see sluice.py), PYTHONPATH holding api/python.

Checks: attach / detach; self_id and max_message; registration conflicts between two
attachments (EBUSY, EALREADY, ENOENT) and registrations dropped with a detach; nodes();
connect -> NODE_CONNECTED; sends (False on ENOBUFS, then a WRITABLE) and their echoes through
poll() and recv(); a message held with poll(copy=False) and released; stats() add up; flush();
node ids to text and back.
"""
import errno
import os
import random
import sys
import time

import sluice

TIMEOUT_S = 30


def expect_errno(err, fn, *args):
    try:
        fn(*args)
    except OSError as e:
        assert e.errno == err, f"{fn.__name__}{args}: {e} (wanted {errno.errorcode[err]})"
        return
    raise AssertionError(f"{fn.__name__}{args} succeeded (wanted {errno.errorcode[err]})")


def registrations(sock, chan):
    with sluice.Sluice(sock, "py-a") as a, sluice.Sluice(sock, "py-b") as b:
        a.register(chan)
        expect_errno(errno.EALREADY, a.register, chan)
        expect_errno(errno.EBUSY, b.register, chan)
        expect_errno(errno.ENOENT, b.unregister, chan)
        expect_errno(errno.EINVAL, a.register, 0)
        a.unregister(chan)
        b.register(chan)
    with sluice.Sluice(sock, "py-c") as c:  # b's registration went with it
        c.register(chan)


def next_event(s, want, deadline):
    while time.monotonic() < deadline:
        for ev in s.poll(1):
            if ev.type == want:
                return ev
        s.wait(100)
    raise AssertionError(f"no {want.name} within {TIMEOUT_S} s")


def take(s, n):
    """Up to n events: copying poll() and recv(), and poll(copy=False) with release()."""
    if n % 3 == 0:
        ev = s.recv(cap=s.max_message)
        return [ev] if ev else []
    evs = s.poll(4, copy=bool(n % 3 == 1))
    for ev in evs:
        if ev.type == sluice.MESSAGE and ev._raw is not None:
            data = bytes(ev.data)
            s.release(ev)
            ev.data = data
    return evs


def echo(s, peer, chan, rounds=200):
    deadline = time.monotonic() + TIMEOUT_S
    next_event(s, sluice.NODE_CONNECTED, deadline)
    rng = random.Random(1)
    sent, got, blocked, turn = [], [], False, 0
    while len(got) < rounds and time.monotonic() < deadline:
        if len(sent) < rounds and not blocked:
            data = rng.randbytes(rng.randint(1, min(s.max_message, 16384)))
            if s.send(peer, chan, data):
                sent.append(data)
            else:
                blocked = True  # ENOBUFS: a WRITABLE follows
        turn += 1
        evs = take(s, turn)
        for ev in evs:
            if ev.type == sluice.MESSAGE:
                got.append(ev.data)
            blocked = blocked and ev.type != sluice.WRITABLE
        if not evs and (blocked or len(sent) == rounds):
            s.wait(100)
    assert got == sent, f"{len(got)} of {rounds} echoes, or not the bytes sent"
    st = s.stats()
    assert st["msgs_sent"] == rounds and st["msgs_recv"] >= rounds, st
    assert st["appliance_errors"] == 0 and st["release_errors"] == 0, st


def main():
    if len(sys.argv) < 2 or not os.path.exists(sys.argv[1]):
        print("test_python_api: no appliance socket given: skipped")
        return 77
    sock = sys.argv[1]
    chan = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    registrations(sock, chan)
    with sluice.Sluice(sock, "py-test") as s:
        assert len(s.self_id) == sluice.NODE_LEN and s.max_message > 0
        s.nodes()
        if len(sys.argv) > 2:
            peer = bytes.fromhex(sys.argv[2])
            s.register(chan)  # sending and receiving on a channel both need serving it
            s.connect(peer)
            echo(s, peer, chan)
            s.flush(5000)  # nothing left untaken: returns at once
            text = sluice.node_to_text(peer)
            assert len(text) == sluice.NODE_TEXT_LEN - 1 and sluice.node_from_text(text) == peer
            assert sluice.node_from_text(peer.hex()) == peer
            try:
                sluice.node_from_text(text[:-1])
                raise AssertionError("a text one character short was taken as a node id")
            except ValueError:
                pass
    print("test_python_api: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
