#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Twelve appliances find each other from one seed, and three of them find the network again
after a crash with the seed gone (issue 13).

    test_discovery_net.py SLUICE LIBSLUICE_DIR [plain|seed-mode]
    (root; exits 77, skipped, without namespaces)

World (netns_lib.World.bridged): a Linux bridge in a namespace of its own and twelve namespaces
n0..n11, each with a veth into the bridge and an appliance on it through net_af_packet; one
subnet, 198.18.0.0/15 without gateway, n0..n5 at 198.18.2.x and n6..n11 at 198.19.2.x (two
network groups, so the outbound choice "another group first" has something to choose). Lcores
alternate over the CPUs, adaptive idle. Every appliance has a discovery section — outbound
target TARGET, at most MAX_INBOUND inbound sessions, a book file saved every SAVE_S seconds, peer
exchange every PEX_S seconds taking benchmark addresses — and an application interface; none has
a configured peer or a service. n0 is the seed: a plain node without seeds of its own (mode
seed-mode: discovery.seed_mode). Every other node names only n0 as its seed, the odd ones with
its key ("<key>@ip:port", Noise IK), the even ones without ("ip:port", Noise XX learns it).
MAX_INBOUND is below the eleven nodes that dial the seed at once: the seed refuses some of them
and discovery has to work.

  1. Within CONVERGE_S every node's /sluice/book holds the other eleven nodes' addresses and
     nothing else — never its own (peer exchange drops our own listen addresses and identity),
     never an address of nobody — and every entry that carries an identity carries the key of
     the node at that address. What the book's rules exclude besides: an address whose slots
     hold other fresh entries (class Unroomed: at most MAX_UNROOMED, while the node keeps
     hearing of them and refusing them). Every node has at least TARGET outbound sessions
     (/sluice/discovery; the seed too: it learns whom to dial from its inbound peers) and at
     most TARGET, at most MAX_INBOUND inbound ones, as many connected sessions in /sluice/peers,
     no peer marked bad (an honest network), no failed save. In seed mode the seed has no
     target, closes what it opened and answered, and nobody keeps an outbound session with it.
  2. A message from every node reaches every node it has a session with, each way: an
     application on every node (disc_msgs.py, the Python module over libsluice) sends one to
     each peer /sluice/peers lists, and the application on that peer receives it from that
     node, byte for byte, exactly once.
  3. Once VICTIMS have saved their books after step 1, kill -9 them and the seed; restart the
     victims with the same configuration (the seed stays dead). Each loads its book (`loaded`:
     at least what it held before the save) and, within REJOIN_S, every live node — the
     victims, with the seed dead, and the eight survivors, which lost sessions to the dead —
     meets its target again with sessions that are all alive and younger than the restarts
     (a survivor's session from before a victim's crash does not count until the survivor has
     noticed it: limits.idle_timeout_ms) and listed by both ends (a half-open session left
     by the reshuffle ends by that timeout too). Step 2 again on the eleven live nodes.
  4. The eleven stop on SIGTERM with status 0, every mbuf back and no sanitizer report.

Every wait is bounded (wait_until with a deadline, failing with what it waited for and why each
node fell short); a run takes about 20-35 s, 30 s under ASan. The World removes namespaces,
bridge, processes (by PID), runtime directories and files on every exit path.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import netns_lib as L  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
N = 12
SEED = 0
SEED_MODE = False     # set by the mode argument: n0 runs discovery.seed_mode
VICTIMS = (3, 6, 10)  # one told of the seed with its key, two without
TARGET = 3            # discovery.max_outbound
MAX_INBOUND = 6       # < N - 1: the seed cannot keep everyone
SAVE_S = 2            # discovery.save_interval_s
PEX_S = 2             # discovery.pex.interval_s
MAX_UNROOMED = 2      # addresses a book may have no room for (class Unroomed)
PORT = 47100
CHAN = 1              # the channel of disc_msgs.py's applications
LIMITS = {"max_sessions": 64, "idle_timeout_ms": 6000, "keepalive_ms": 2000}
DURATION = 280        # each appliance's --duration: a hard limit even if the test is killed
START_S = 45          # bounded waits, in seconds
CONVERGE_S = 90
MSGS_S = 30
REJOIN_S = 60


def log(msg):
    L.log(f"[{time.strftime('%H:%M:%S')}] {msg}")


def wait_until(what, cond, timeout, nodes, every=0.5):
    """Poll cond() until it returns something true (returned); AssertionError naming what was
    awaited after timeout seconds, and at once when one of nodes exited."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        for n in nodes:
            if n.proc.poll() is not None:
                raise AssertionError(f"{n.name} exited ({n.proc.returncode}) while waiting "
                                     f"for {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out ({timeout} s) waiting for {what}")
        time.sleep(every)


# --- the network ------------------------------------------------------------------------------

def node_ip(i):
    """Half the nodes in each /16 of 198.18.0.0/15, one subnet: two network groups."""
    return f"198.{18 + 2 * i // N}.2.{i + 1}"


def make_nodes(w, sluice):
    cores = sorted(os.sched_getaffinity(0))
    nodes = []
    for i in range(N):
        n = L.Appliance(w, sluice, f"n{i}", w.nodes_ns[i], w.nodes_if[i], node_ip(i), None,
                        cores[i % len(cores)], udp_port=PORT, limits=dict(LIMITS),
                        memory_mb=64, mbufs=2047, prefix_len=15)
        n.index, n.addr = i, f"{n.ip}:{PORT}"
        n.book_path = os.path.join(w.tmp, f"n{i}.book")
        n.api_socket = os.path.join(w.tmp, f"n{i}.api")
        n.cfg["channels"] = [{"id": CHAN}]
        n.cfg["api"] = {"socket": n.api_socket, "mode": "0600", "max_apps": 4}
        n.cfg["discovery"] = {"book": n.book_path, "save_interval_s": SAVE_S,
                              "max_inbound": MAX_INBOUND, "max_outbound": TARGET,
                              "pex": {"interval_s": PEX_S, "allow": ["benchmark"]}}
        nodes.append(n)
    seed = nodes[SEED]
    seed.cfg["discovery"]["seed_mode"] = SEED_MODE
    for n in nodes:
        if n is not seed:
            keyed = n.index % 2 == 1
            n.cfg["discovery"]["seeds"] = [f"{seed.pub_b64}@{seed.addr}" if keyed
                                           else seed.addr]
        n.write_config()
    return nodes


def start(nodes):
    for n in nodes:
        n.start("--duration", str(DURATION))
    for n in nodes:
        n.telemetry(wait=START_S)
        wait_until(f"{n.name}'s application socket", lambda: os.path.exists(n.api_socket),
                   START_S, [n], every=0.1)


# --- what each node says ------------------------------------------------------------------------

def disc(n):
    return n.query("/sluice/discovery") or {}


def book(n):
    """{"ip:port": id or ""} of n's /sluice/book."""
    return {f"{e['ip']}:{e['port']}": e.get("id", "")
            for e in (n.query("/sluice/book") or {}).values() if isinstance(e, dict)}


def connected(n):
    """n's /sluice/peers entries of connected sessions."""
    return [p for p in (n.query("/sluice/peers") or {}).values()
            if isinstance(p, dict) and p.get("state") == "connected"]


def sessions(n, role=None):
    """The public keys of n's connected sessions (those it started: role "initiator")."""
    return [p["public_key"] for p in connected(n) if role in (None, p.get("role"))]


def stale(n, restarted):
    """n's sessions with a restarted node that began before its restart (n has not noticed
    the crash yet: limits.idle_timeout_ms). restarted: {public key: time.monotonic() of the
    restart}."""
    peers, now = connected(n), time.monotonic()
    return [p["public_key"][:8] for p in peers if p["public_key"] in restarted and
            p.get("connected_ms", 0) / 1000 > now - restarted[p["public_key"]]]


def crawler(n):
    """n is the seed running in seed mode: no outbound target, no session kept."""
    return SEED_MODE and n.index == SEED


def book_problems(n, nodes):
    """(the other nodes missing from n's book, what it holds that it should not: an address of
    nobody or its own, an identity that is not the key of the node at that address)."""
    by_addr = {m.addr: m for m in nodes}
    b, wrong = book(n), []
    missing = [m.name for m in nodes if m is not n and m.addr not in b]
    for addr, ident in b.items():
        if addr not in by_addr or by_addr[addr] is n:
            wrong.append(f"{addr} is nobody's (or its own)")
        elif ident and ident != by_addr[addr].pub_b64:
            wrong.append(f"{addr} with the id {ident[:8]}, not {by_addr[addr].name}'s")
    return missing, wrong


class Unroomed:
    """Addresses a book has no room for. The book places an address of one /16 heard from one
    /16 in one bucket (cp_book.h), so in a network of two /16s a node's other eleven share four
    buckets of 64 slots; two that want the same slot cannot both be held while both are fresh,
    and the second is refused (book.refused_full) each time a peer tells of it again. A node may
    therefore miss at most MAX_UNROOMED addresses, and only while its refused_full keeps rising
    by at least one per missing address over two exchange intervals in which the same addresses
    stay missing: it does hear of them, and refuses them for want of room."""

    def __init__(self):
        self.since = {}  # node name -> (missing, refused_full, time) when that set began

    def excused(self, n, missing, refused_full):
        now, key = time.monotonic(), frozenset(missing)
        prev = self.since.get(n.name)
        if prev is None or prev[0] != key:
            self.since[n.name] = prev = (key, refused_full, now)
        return len(missing) <= MAX_UNROOMED and now - prev[2] >= 2 * PEX_S + 1 and \
            refused_full - prev[1] >= len(missing)


def short_of_target(live, every, unroomed, restarted):
    """The nodes of live not there yet (their books checked against every node, their sessions
    against live and against the other end's list): {name: why}."""
    out, keys = {}, {m.pub_b64 for m in live}
    for n in live:
        d = disc(n)
        missing, why = book_problems(n, every)
        if not set(sessions(n)) <= keys or stale(n, restarted):  # not noticed yet
            why.append("a session with a dead node, or from before a restart")
        refused_full = (d.get("book") or {}).get("refused_full", 0)
        if missing and not unroomed.excused(n, missing, refused_full):
            why.append(f"missing {','.join(missing)} (refused_full {refused_full})")
        if d.get("outbound", 0) < TARGET and not crawler(n):
            why.append(f"outbound {d.get('outbound')}")
        if SEED_MODE and every[SEED].pub_b64 in sessions(n, "initiator"):
            why.append("an outbound session with the seed (it closes them)")
        if why:
            out[n.name] = why
    name = {m.pub_b64: m.name for m in live}
    ends = {n.name: {name.get(k) for k in sessions(n)} for n in live}
    for n, peers in ends.items():  # both ends of every session agree it is up
        half = sorted(m for m in peers if m in ends and n not in ends[m])
        if half:
            out.setdefault(n, []).append(f"half-open with {','.join(half)}")
    return out


def converge(live, every, timeout, what, restarted=None):
    """Wait until every node of live holds every other node of every in its book (but for
    addresses it has no room for, see Unroomed) and has its outbound target; then check the caps
    and the honest-network counters."""
    t0, last, unroomed = time.monotonic(), {}, Unroomed()

    def done():
        last.clear()
        last.update(short_of_target(live, every, unroomed, restarted or {}))
        return not last
    try:
        wait_until(what, done, timeout, live, every=1.0)
    except AssertionError as e:
        for n in live:
            d = disc(n)
            log(f"  {n.name}: out {d.get('outbound')} in {d.get('inbound')} book "
                f"{json.dumps(d.get('book'))} pex {json.dumps(d.get('pex'))} pool "
                f"{json.dumps(d.get('pool'))}")
        raise AssertionError(f"{e}; still short: {json.dumps(last)}") from None
    log(f"{what}: {time.monotonic() - t0:.1f} s")
    for n in live:
        d, s = disc(n), sessions(n)
        missing = book_problems(n, every)[0]
        log(f"  {n.name}: book {d.get('book_size')} (new {d.get('book_new')} tried "
            f"{d.get('book_tried')}{'; no room for ' + ','.join(missing) if missing else ''}), "
            f"out {d.get('outbound')} in {d.get('inbound')}, sessions {len(s)}; dials "
            f"{d.get('dials')} seed_dials {d.get('seed_dials')} requests "
            f"{d.get('requests_sent')} answers {d.get('answers_sent')} refused "
            f"{d.get('refused')} saves {d.get('saves')} loaded {d.get('loaded')}")
        assert d.get("inbound", 0) <= MAX_INBOUND, f"{n.name}: inbound {d.get('inbound')}"
        if crawler(n):  # it asked, answered and closed
            assert d.get("seed_closes", 0) > 0 and d.get("answers_sent", 0) > 0, \
                f"{n.name} (seed mode): seed_closes {d.get('seed_closes')} answers_sent " \
                f"{d.get('answers_sent')}"
            continue
        assert d.get("outbound", 0) <= TARGET, f"{n.name}: outbound {d.get('outbound')}"
        assert len(s) >= d.get("outbound", 0), \
            f"{n.name}: {len(s)} connected sessions, {d.get('outbound')} outbound"
        assert d.get("peers_bad", 0) == 0, f"{n.name}: peers_bad {d.get('peers_bad')}"
        assert d.get("save_failures", 0) == 0, f"{n.name}: {d.get('save_failures')} saves failed"


# --- messages -----------------------------------------------------------------------------------

def python_env(lib_dir):
    """A Python child that imports api/python/sluice.py over lib_dir's libsluice.so; under the
    sanitizers (SLUICE_PY_PRELOAD, from meson) their runtimes are loaded first."""
    env = dict(os.environ, SLUICE_LIB=lib_dir,
               PYTHONPATH=os.path.join(L.REPO, "api", "python"))
    if os.environ.get("SLUICE_PY_PRELOAD"):
        env.update(LD_PRELOAD=os.environ["SLUICE_PY_PRELOAD"], ASAN_OPTIONS="detect_leaks=0")
    return env


def messages(w, live, lib_dir, what):
    """Step 2 on the nodes of live: disc_msgs.py with every node's peers from /sluice/peers (a
    seed in seed mode aside: its sessions last seconds)."""
    keys = {n.pub_b64 for n in live}
    holders = [n for n in live if not crawler(n)]
    plan = []
    for n in holders:
        peers = sessions(n)
        assert set(peers) <= keys, f"{n.name}: a session with a node that is not running"
        peers = [k for k in peers if k in {m.pub_b64 for m in holders}]
        plan.append({"name": n.name, "socket": n.api_socket, "id": n.pub_b64, "peers": peers})
    path = os.path.join(w.tmp, "plan.json")
    with open(path, "w") as f:
        json.dump(plan, f)
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, os.path.join(HERE, "disc_msgs.py"), path, str(MSGS_S)],
                       env=python_env(lib_dir), capture_output=True, text=True,
                       timeout=MSGS_S + 30)
    for line in (r.stdout + r.stderr).splitlines():
        log(f"  msgs: {line}")
    assert r.returncode == 0, f"{what}: disc_msgs.py exit {r.returncode}"
    res = json.loads(r.stdout.splitlines()[-1])
    assert res["sent"] == sum(len(p["peers"]) for p in plan)
    log(f"{what}: {res['sent']} messages over {res['sent'] // 2} sessions, each delivered "
        f"once ({time.monotonic() - t0:.1f} s)")


# --- the crash ---------------------------------------------------------------------------------

def crash_and_rejoin(w, nodes, lib_dir):
    seed, victims = nodes[SEED], [nodes[i] for i in VICTIMS]
    saves = {n.name: disc(n).get("saves", 0) for n in victims}
    held = {n.name: disc(n).get("book_size", 0) for n in victims}
    # the files hold the full books: a save after step 1's check
    wait_until("a save of each victim's book after the check",
               lambda: all(disc(n).get("saves", 0) > saves[n.name] for n in victims),
               4 * SAVE_S + 10, victims)
    for n in victims:
        assert os.path.getsize(n.book_path) > 0, f"{n.name}: empty book file"
    for n in victims + [seed]:
        n.kill9()
    log(f"killed -9: {', '.join(n.name for n in victims + [seed])}")
    restarted = {n.pub_b64: time.monotonic() for n in victims}  # before: fresh is younger
    start(victims)
    live = [n for n in nodes if n is not seed]
    for n in victims:
        d = disc(n)
        log(f"  {n.name} restarted: loaded {d.get('loaded')}, book {d.get('book_size')}")
        assert held[n.name] <= d.get("loaded", 0) <= N - 1, \
            f"{n.name}: loaded {d.get('loaded')} entries from its book, which held " \
            f"{held[n.name]} before the last save"
    converge(live, nodes, REJOIN_S, "the victims rejoin without the seed", restarted)
    for n in victims:
        assert seed.pub_b64 not in sessions(n)
    messages(w, live, lib_dir, "after the crash")
    return live


def main(sluice, lib_dir, mode):
    global SEED_MODE
    SEED_MODE = mode == "seed-mode"
    L.skip_unless_possible(("ip",))
    if not os.path.exists(os.path.join(lib_dir, "libsluice.so")):
        L.skip(f"no libsluice.so in {lib_dir}")
    L.install_signal_handlers()
    t0 = time.monotonic()
    log(f"mode: {mode}")
    with L.World.bridged("disc", N) as w:
        nodes = make_nodes(w, sluice)
        start(nodes)
        log(f"{N} appliances running ({time.monotonic() - t0:.1f} s)")
        converge(nodes, nodes, CONVERGE_S, "every book full and every outbound target met")
        messages(w, nodes, lib_dir, "messages")
        live = crash_and_rejoin(w, nodes, lib_dir)
        for n in live:  # all at once: each closes its sessions gracefully
            n.proc.send_signal(signal.SIGTERM)
        for n in live:
            n.wait_exit(timeout=30)
            L.check_clean_exit(n)
    log(f"PASS ({time.monotonic() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or sys.argv[3:] not in ([], ["plain"], ["seed-mode"]):
        sys.exit("usage: test_discovery_net.py SLUICE LIBSLUICE_DIR [plain|seed-mode]")
    sys.exit(main(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]),
                  (sys.argv[3:] or ["plain"])[0]))
