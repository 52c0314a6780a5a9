#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""One message over every session of a network, each way, through the application interface
(api/python/sluice.py): the child of test_discovery_net.py that loads libsluice.

    disc_msgs.py PLAN.json TIMEOUT_S

PLAN: [{"name": "n3", "socket": "<api.socket>", "id": "<base64 key>",
        "peers": ["<base64 key>", ...]}, ...] — every node, and the nodes it has a session with
(from its /sluice/peers). Environment: SLUICE_LIB and PYTHONPATH as for any user of sluice.py.

An application attaches to every node and serves channel CHAN (the appliances run no service
there). Once each has heard NODE_CONNECTED for each of its peers (libsluice reports the
sessions that are up when it attaches), every node sends one message to each of its peers,
naming sender, receiver and a random tag; every message must arrive exactly once, at the
application of the node it was sent to, from the node that sent it, byte for byte, and nothing
else may arrive. Prints one JSON line — sent, received, missing, unexpected, and the sessions
that went down meanwhile — and exits 0 when nothing is missing or unexpected, 1 otherwise.
Bounded: everything within TIMEOUT_S.
"""
import json
import os
import sys
import time

import sluice

CHAN = 1
APP_NAME = "netdisc"


def wait_connected(apps, want, by_key, deadline, down):
    """Poll every attachment until each has seen NODE_CONNECTED for all of want[name]."""
    seen = {name: set() for name in apps}
    while any(want[n] - seen[n] for n in apps):
        idle = True
        for name, s in apps.items():
            for ev in s.poll(64):
                idle = False
                if ev.type == sluice.NODE_CONNECTED:
                    seen[name].add(ev.node)
                elif ev.type == sluice.NODE_DISCONNECTED:
                    seen[name].discard(ev.node)
                    down.append((name, by_key.get(ev.node, ev.node.hex()[:8]),
                                 int(ev.reason)))
        if time.monotonic() > deadline:
            return {n: sorted(by_key.get(k, k.hex()[:8]) for k in want[n] - seen[n])
                    for n in apps if want[n] - seen[n]}
        if idle:
            time.sleep(0.02)
    return {}


def send_all(apps, plan, ids, tag, deadline, failed):
    """One message from each node to each of its peers (ENOBUFS: wait, the WRITABLE event
    follows). A send refused otherwise goes to failed."""
    expect = {}
    for node in plan:
        s = apps[node["name"]]
        for peer in node["peers"]:
            dst = ids[peer]
            data = f"netdisc {node['name']} -> {dst} {tag}".encode()
            try:
                while not s.send(sluice.node_from_text(peer), CHAN, data):
                    if time.monotonic() > deadline:
                        raise TimeoutError("no room before the deadline")
                    s.wait(50)
            except (OSError, TimeoutError) as e:
                failed.append(f"{node['name']}->{dst}: {e}")
                continue
            expect[(dst, node["name"])] = data
    return expect


def receive_all(apps, expect, by_key, deadline, down):
    """Until every expected message came (or the deadline): {(receiver, sender): [data]}."""
    got = {}
    while sum(1 for k in expect if k in got) < len(expect) and time.monotonic() < deadline:
        idle = True
        for name, s in apps.items():
            for ev in s.poll(64):
                idle = False
                if ev.type == sluice.MESSAGE:
                    sender = by_key.get(ev.node, ev.node.hex()[:8])
                    got.setdefault((name, sender), []).append((ev.chan, ev.data))
                elif ev.type == sluice.NODE_DISCONNECTED:
                    down.append((name, by_key.get(ev.node, ev.node.hex()[:8]), int(ev.reason)))
        if idle:
            time.sleep(0.02)
    return got


def main(plan_path, timeout):
    deadline = time.monotonic() + timeout
    with open(plan_path) as f:
        plan = json.load(f)
    ids = {n["id"]: n["name"] for n in plan}
    by_key = {sluice.node_from_text(k): v for k, v in ids.items()}
    apps, down, res = {}, [], {"send_failed": []}
    try:
        for node in plan:
            s = apps[node["name"]] = sluice.Sluice(node["socket"], APP_NAME)
            s.register(CHAN)
        want = {n["name"]: {sluice.node_from_text(p) for p in n["peers"]} for n in plan}
        res["not_connected"] = wait_connected(apps, want, by_key, deadline, down)
        expect = {}
        if not res["not_connected"]:
            expect = send_all(apps, plan, ids, os.urandom(8).hex(), deadline,
                              res["send_failed"])
        got = receive_all(apps, expect, by_key, deadline, down)
        res["sent"] = len(expect)
        res["received"] = sum(len(v) for v in got.values())
        res["missing"] = sorted(f"{s}->{r}" for (r, s) in expect if (r, s) not in got)
        res["unexpected"] = sorted(f"{s}->{r} x{len(v)}" for (r, s), v in got.items()
                                   if v != [(CHAN, expect.get((r, s)))])
    finally:
        for s in apps.values():
            s.close()
    res["down"] = down
    print(json.dumps(res), flush=True)
    bad = res["missing"] or res["unexpected"] or res["not_connected"] or res["send_failed"]
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} PLAN.json TIMEOUT_S")
    sys.exit(main(sys.argv[1], float(sys.argv[2])))
