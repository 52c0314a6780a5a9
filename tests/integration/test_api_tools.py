#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""sluicectl and the example applications (sluice-cat, sluice-rpc) on real appliances: two
appliances over memif, both with an application interface; A dials B (B does not dial A, so a
session A closes stays closed until A dials again).

    test_api_tools.py SLUICE BUILD_DIR

sluicectl: show, peers, apps, drops in text and --json (A's key and port, B as a connected peer
with its channels, the application count and names), -c CONFIG and -s/-p alike; disconnect B
and see it leave, connect B@ip:port and see it back (a resumption of the last session, on
both appliances' counters); the exit status of every error path: no
socket or no telemetry (2), a bad node, endpoint, command or argument (1), a request the
appliance refuses — connect to itself, disconnect an unknown node (3).
sluice-cat: lines of random text (and a line longer than the largest message) from A to a
listening sluice-cat on B, printed there byte for byte; then a file (-f) the other way.
sluice-rpc: a server on B, a client on A with a window: every response checked byte for byte
by the client, the counts on both sides; meanwhile sluicectl refused by B, whose one
application slot the server holds (EUSERS: 3).
Then nothing was counted against any application, every attachment left, both appliances
exit 0 with every mbuf back.
Last, the quick start of README.md: conf/example-two-node-{a,b}.json (their demo keys, their
file prefixes and sockets moved into this run's directory), `sluicectl -c A show` naming B as
a connected peer, and `echo "hello from A" | sluice-cat ...` printed by a sluice-cat on B.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ as it  # noqa: E402
from sl_apps import MISDEEDS, api_pair, apps, start_pair, stop_appliances  # noqa: E402
from sl_integ import TestFailure, World, log, terminate  # noqa: E402

DURATION = 120
WAIT = 30
CMD_TIMEOUT = 30
CAT_CHAN, RPC_CHAN = 2, 3


class Tools:
    """The programs of the build directory, run with a bound on their time."""

    def __init__(self, w, build):
        self.w = w
        self.ctl = os.path.join(build, "api", "ctl", "sluicectl")
        self.cat = os.path.join(build, "examples", "sluice-cat")
        self.rpc = os.path.join(build, "examples", "sluice-rpc")

    def run(self, argv, stdin=None):
        r = subprocess.run(argv, input=stdin, capture_output=True, timeout=CMD_TIMEOUT)
        log(f"$ {' '.join(os.path.basename(a) if a.startswith('/') and i == 0 else a for i, a in enumerate(argv))}"
            f" -> {r.returncode}")
        for line in (r.stdout + r.stderr).decode(errors="replace").splitlines()[:40]:
            log(f"  | {line}")
        return r

    def sluicectl(self, node, *args, want=0):
        """sluicectl -c node's config ARGS: its output (text); the exit status must be want."""
        r = self.run([self.ctl, "-c", node.config_path] + list(args))
        self.w.equal(r.returncode, want, f"sluicectl {' '.join(args)}: exit status")
        return r.stdout.decode()

    def sluicectl_json(self, node, *args):
        return json.loads(self.sluicectl(node, "--json", *args))

    def start(self, argv):
        """argv in the background (stdout a pipe), stopped with the World on every exit path."""
        return self.w.track(Proc(self.w, argv))


class Proc:
    """A program the test runs in the background: its stdout a pipe, its stderr a file."""

    def __init__(self, w, argv):
        self.name = os.path.basename(argv[0])
        self.err_path = os.path.join(w.dir, f"{self.name}-{len(w.others)}.err")
        with open(self.err_path, "wb") as fe:
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=fe,
                                         preexec_fn=it.child_setup, env=w.env)
        log(f"$ {' '.join(argv)} &  (pid {self.proc.pid})")

    def stderr(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def stop(self):
        return terminate(self.proc, 5.0, self.name)

    def diagnostics(self):
        print(f"--- {self.name} (pid {self.proc.pid}, status {self.proc.poll()}) stderr:")
        print(self.stderr()[-2000:])


def peer_state(t, a, key):
    nodes = t.sluicectl_json(a, "peers")["nodes"]
    return next((n["state"] for n in nodes if n["node"] == key), None)


def wait_state(t, a, key, want, what):
    deadline = time.monotonic() + WAIT
    while (state := peer_state(t, a, key)) != want:
        if time.monotonic() > deadline:
            raise TestFailure(f"{what}: B still {state} after {WAIT} s")
        time.sleep(0.2)
    t.w.equal(state, want, what)


def views(t, a, b):
    """show, peers, drops, apps: text and JSON."""
    w = t.w
    text = t.sluicectl(a, "show")
    w.check(f"node: {a.public_key}" in text and f"peer: {b.public_key}" in text,
            "show: A's key and B's as a peer")
    w.check("port link0: 198.18.6.1/24, udp 4789" in text, "show: A's port")
    w.check("state: connected" in text and "latest handshake:" in text, "show: B connected")
    show = t.sluicectl_json(a, "show")
    w.equal(show["node"]["public_key"], a.public_key, "show --json: node.public_key")
    w.equal([p["name"] for p in show["node"]["ports"]], ["link0"], "show --json: ports")
    peer = next(p for p in show["peers"] if p["public_key"] == b.public_key)
    w.equal((peer["name"], peer["state"], peer["addr"]), ("b", "connected", "198.18.6.2:4789"),
            "show --json: B's name, state, endpoint")
    peers = t.sluicectl_json(a, "peers")
    w.equal(peers["total"], 1, "peers --json: total")
    w.equal(peers["nodes"][0]["node"], b.public_key, "peers --json: B")
    text = t.sluicectl(a, "peers")
    w.check(b.public_key in text and "connected" in text, "peers: B connected")
    # -s and -p say the same as -c
    r = t.run([t.ctl, "-s", a.cfg["api"]["socket"], "-p", a.file_prefix, "--json", "peers"])
    w.equal(json.loads(r.stdout)["nodes"][0]["node"], b.public_key, "peers with -s and -p")
    drops = t.sluicectl_json(a, "drops")
    w.check(all(isinstance(drops.get(k), dict) for k in ("dataplane", "control", "admission")),
            "drops --json: dataplane, control, admission")
    w.check("counters at zero not shown" in t.sluicectl(a, "drops"), "drops: text")
    apps = t.sluicectl_json(a, "apps")
    w.equal(apps["count"], 0, "apps --json: no application attached yet")
    w.check(isinstance(apps["interface"], dict), "apps --json: the interface's counters")


def errors(t, a, b):
    """Every error path and its exit status."""
    w = t.w
    unknown = "A" * 42 + "E="
    cases = [  # argv after sluicectl, exit status, what stderr must say
        (["-s", os.path.join(w.dir, "none.sock"), "peers"], 2, "ENOENT"),
        (["-p", "sl-it-no-such-prefix", "show"], 2, "no appliance with file prefix"),
        (["-p", "sl-it-no-such-prefix", "drops"], 2, "no appliance"),
        (["-c", a.config_path, "connect", "not-a-node"], 1, "is not a node id"),
        (["-c", a.config_path, "connect", f"{b.public_key}@198.18.6.2:70000"], 1,
         "is not an endpoint"),
        (["-c", a.config_path, "disconnect", "00" * 31], 1, "is not a node id"),
        (["-c", a.config_path, "frobnicate"], 1, "no command"),
        (["-c", a.config_path, "show", "extra"], 1, "takes no argument"),
        (["-c", a.config_path, "connect"], 1, "takes one argument"),
        (["-c", os.path.join(w.dir, "none.json"), "show"], 1, "No such file"),
        (["peers"], 1, "no application socket"),
        (["-c", a.config_path, "connect", a.public_key], 3, "refused: EINVAL"),
        (["-c", a.config_path, "disconnect", unknown], 3, "refused: ENOENT"),
    ]
    for argv, want, text in cases:
        r = t.run([t.ctl] + argv)
        w.equal(r.returncode, want, f"sluicectl {' '.join(argv)[-50:]}: exit status")
        w.check(text in r.stderr.decode(), f"... says {text!r}")


def resumption(n):
    c = n.query("/sluice/drops")["control"]
    return {k: c.get(k, 0) for k in ("resumes_sent", "resumed", "resume_fallbacks",
                                     "resume_rejected", "resume_cache_entries")}


def connect_disconnect(t, a, b):
    """Disconnect B and connect it again: the new session is a resumption of the last one
    (one Diffie-Hellman a side), on both appliances' counters."""
    before = {n.name: resumption(n) for n in (a, b)}
    t.sluicectl(a, "disconnect", b.public_key)
    wait_state(t, a, b.public_key, "waiting", "after disconnect, B is not connected")
    show = t.sluicectl_json(a, "show")
    peer = next(p for p in show["peers"] if p["public_key"] == b.public_key)
    t.w.check(peer["state"] != "connected", f"show --json: B {peer['state']}")
    out = t.sluicectl(a, "connect", f"{b.public_key}@198.18.6.2:4789")
    t.w.check("dialling" in out, "connect: dialling")
    wait_state(t, a, b.public_key, "connected", "after connect, B is connected again")
    after = {n.name: resumption(n) for n in (a, b)}
    log(f"resumption counters before {before} after {after}")
    t.w.equal(after["a"]["resumes_sent"] - before["a"]["resumes_sent"], 1,
              "A's reconnection is a resumption")
    for n in ("a", "b"):
        t.w.equal(after[n]["resumed"] - before[n]["resumed"], 1, f"{n}: one session resumed")
        t.w.equal(after[n]["resume_cache_entries"], 1, f"{n}: the new session's secret is kept")
        t.w.equal(after[n]["resume_fallbacks"] + after[n]["resume_rejected"], 0,
                  f"{n}: no resumption rejected")


def random_lines(rng, n, max_len):
    chars = "abcdefghijklmnopqrstuvwxyz0123456789 \t.,;:!?-_/\\\"'"
    return "".join("".join(rng.choice(chars) for _ in range(rng.randrange(max_len))) + "\n"
                   for _ in range(n)).encode()


def wait_app(t, n, name, chan):
    """Wait until the application name serves chan on n (sluicectl apps --json)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        apps = t.sluicectl_json(n, "apps")["apps"]
        if any(x["name"] == name and str(chan) in x["channels"].split(",") for x in apps):
            return
        time.sleep(0.1)
    raise TestFailure(f"{n.name}: {name} does not serve channel {chan} after {WAIT} s")


def read_until(proc, want, what):
    """proc's stdout until it holds len(want) bytes (a bounded wait)."""
    got = b""
    deadline = time.monotonic() + WAIT
    os.set_blocking(proc.proc.stdout.fileno(), False)
    while len(got) < len(want) and time.monotonic() < deadline:
        chunk = proc.proc.stdout.read()
        if chunk:
            got += chunk
        elif proc.proc.poll() is not None:
            break
        else:
            time.sleep(0.01)
    if got != want:
        raise TestFailure(f"{what}: got {len(got)} bytes, want {len(want)}; first "
                          f"difference at {next((i for i, (x, y) in enumerate(zip(got, want)) if x != y), min(len(got), len(want)))}")
    return got


def stop_listener(t, proc, what, sig=signal.SIGINT):
    """Signal proc: it must exit 0 (its stdout: the rest of what it printed)."""
    proc.proc.send_signal(sig)
    try:
        out, _ = proc.proc.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        raise TestFailure(f"{what}: did not exit on {sig.name}") from None
    for line in proc.stderr().splitlines():
        log(f"  {what}: {line}")
    t.w.equal(proc.proc.returncode, 0, f"{what}: exit status after {sig.name}")
    return out or b""


def cat(t, a, b, socks):
    w, rng = t.w, random.Random(11)
    # A -> B: stdin lines, one longer than the largest message (it goes as several)
    listener = t.start([t.cat, "-s", socks["b"], "-c", str(CAT_CHAN), "-n", a.public_key])
    wait_app(t, b, "sluice-cat", CAT_CHAN)  # the sender's messages need somebody there
    data = random_lines(rng, 500, 200) + b"x" * 70000 + b"\n" + b"last line, no newline"
    r = t.run([t.cat, "-s", socks["a"], "-c", str(CAT_CHAN), b.public_key], stdin=data)
    w.equal(r.returncode, 0, "sluice-cat A -> B: exit status at the end of its input")
    read_until(listener, data, "sluice-cat on B")
    w.check(True, f"sluice-cat on B printed the {len(data)} bytes byte for byte")
    stop_listener(t, listener, "sluice-cat -n on B")
    # B -> A: a file
    path = os.path.join(w.dir, "lines.txt")
    data = random_lines(rng, 300, 100)
    with open(path, "wb") as f:
        f.write(data)
    listener = t.start([t.cat, "-s", socks["a"], "-c", str(CAT_CHAN), "-n", b.public_key])
    wait_app(t, a, "sluice-cat", CAT_CHAN)
    apps = t.sluicectl_json(a, "apps")
    w.equal(apps["count"], 1, "apps --json: sluice-cat attached to A")
    w.equal((apps["apps"][0]["name"], apps["apps"][0]["channels"]), ("sluice-cat", str(CAT_CHAN)),
            "apps --json: its name and channel")
    w.check('"sluice-cat"' in t.sluicectl(a, "apps"), "apps: text")
    r = t.run([t.cat, "-s", socks["b"], "-c", str(CAT_CHAN), "-f", path,
               f"{a.public_key}@198.18.6.1:4789"])
    w.equal(r.returncode, 0, "sluice-cat -f on B: exit status")
    read_until(listener, data, "sluice-cat on A")
    w.check(True, f"sluice-cat on A printed the {len(data)} bytes of the file byte for byte")
    stop_listener(t, listener, "sluice-cat -n on A")


def rpc(t, a, b, socks, count=2000, size=200, window=8):
    w = t.w
    server = t.start([t.rpc, "-s", socks["b"], "-c", str(RPC_CHAN), "server"])
    wait_app(t, b, "sluice-rpc", RPC_CHAN)
    # B takes one application at a time: sluicectl's attachment is refused while it serves
    r = t.run([t.ctl, "-c", b.config_path, "peers"])
    w.equal(r.returncode, 3, "sluicectl peers on B, its one application slot taken: exit status")
    w.check("EUSERS" in r.stderr.decode(),
            "... says EUSERS")
    r = t.run([t.rpc, "-s", socks["a"], "-c", str(RPC_CHAN), "-n", str(count), "-z", str(size),
               "-w", str(window), "client", b.public_key])
    w.equal(r.returncode, 0, "sluice-rpc client: exit status")
    want = f"sluice-rpc: {count} requests, {count} responses, {count * size} bytes checked"
    w.check(want in r.stdout.decode(), f"sluice-rpc client: {want!r}")
    a.wait_snapshot()  # the lcores' statistics are up to 0.5 s old
    show = t.sluicectl_json(a, "show")
    peer = next(p for p in show["peers"] if p["public_key"] == b.public_key)
    w.check(str(RPC_CHAN) in peer.get("channels", "").split(","),
            f"show --json: B's session used channel {RPC_CHAN} ({peer.get('channels')})")
    out = stop_listener(t, server, "sluice-rpc server", signal.SIGTERM)
    w.check(f"sluice-rpc server: {count} requests answered" in out.decode(),
            f"sluice-rpc server: {count} requests answered")


# --- the quick start of README.md -------------------------------------------------------------

def example_node(w, t, name, core, ip):
    """Node name of conf/example-two-node-<name>.json with its demo key, made unique to this
    run: its file prefix, memif socket and application socket."""
    n = w.node(name, core=core, ip=ip)
    with open(os.path.join(it.SRC_ROOT, "conf", f"example-two-node-{name}.json")) as f:
        n.cfg = json.loads("".join(ln for ln in f if not ln.lstrip().startswith("//")))
    key = os.path.join(n.dir, "demo.key")
    with open(os.path.join(it.SRC_ROOT, "conf", "keys", f"{name}.key")) as f:
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, f.read().encode())
        os.close(fd)
    with open(os.path.join(it.SRC_ROOT, "conf", "keys", f"{name}.pub")) as f:
        n.public_key = f.read().strip()
    n.cfg["identity"]["key_file"] = key
    n.cfg["eal"]["file_prefix"] = n.file_prefix
    dev = n.cfg["ports"][0]["device"]
    n.cfg["ports"][0]["device"] = dev.replace("/tmp/sluice-example", w.dir)
    n.api_socket = n.cfg["api"]["socket"] = os.path.join(w.dir, f"{name}-api.sock")
    return n


def quickstart(build):
    """README.md's quick start: conf/example-two-node-{a,b}.json, sluicectl show, and a line
    from a sluice-cat on A printed by a sluice-cat on B."""
    with World("quickstart") as w:
        t = Tools(w, build)
        a = example_node(w, t, "a", 0, "198.18.0.1")
        b = example_node(w, t, "b", 1, "198.18.0.2")
        start_pair(a, b, DURATION, peers=False)  # their own peers: each other
        a.wait_log(r"NodeConnected peer=b ", timeout=WAIT)
        text = t.sluicectl(a, "show")
        for want in (f"node: {a.public_key}", f"peer: {b.public_key}", "name: b (configured)",
                     "endpoint: 198.18.0.2:4789", "state: connected"):
            w.check(want in text, f"show says {want!r}")
        listener = t.start([t.cat, "-s", b.api_socket, "-c", "3", "-n", a.public_key])
        wait_app(t, b, "sluice-cat", 3)
        r = t.run([t.cat, "-s", a.api_socket, "-c", "3", b.public_key],
                  stdin=b"hello from A\n")
        w.equal(r.returncode, 0, "echo hello from A | sluice-cat: exit status")
        read_until(listener, b"hello from A\n", "sluice-cat on B")
        w.check(True, "the sluice-cat on B printed: hello from A")
        stop_listener(t, listener, "sluice-cat -n on B")
        stop_clean(w, a, b)


def apps_clean(w, n, min_attached, refused_full=0):
    """n's application interface: at least min_attached attachments, all gone (a refused one
    is not counted as detached), refused_full refused for api.max_apps, nothing else refused,
    no bad request, nothing counted against an application still there."""
    mine, iface = apps(n)
    log(f"{n.name}: /sluice/apps {mine} {iface}")
    w.check(iface.get("attached", 0) >= min_attached,
            f"{n.name}: {iface.get('attached')} attachments (at least {min_attached})")
    w.equal(iface.get("attached"), iface.get("detached"), f"{n.name}: every application detached")
    w.equal(iface.get("refused_full", 0), refused_full, f"{n.name}: interface refused_full")
    for k in ("bad_requests", "refused_version", "protocol_errors"):
        w.equal(iface.get(k, 0), 0, f"{n.name}: interface {k}")
    for name, app in mine.items():
        w.equal([app.get(k, 0) for k in MISDEEDS], [0] * len(MISDEEDS), f"{name}: misdeeds")


def stop_clean(w, *nodes):
    stop_appliances(w, *nodes)
    for n in nodes:
        w.check(not os.path.exists(n.api_socket), f"{n.name} removed its socket at exit")


def main(build):
    with World("api-tools") as w:
        a, b = api_pair(w, "198.18.6", api=("a", "b"),
                        channels=[{"id": c, "priority": 2} for c in (1, 2, 3)])
        socks = {"a": a.api_socket, "b": b.api_socket}
        b.cfg["api"]["max_apps"] = 1  # one application at a time (see rpc())
        a.peer(b)  # A dials B, B does not dial A: a session A closes stays closed
        start_pair(a, b, DURATION, peers=False)
        a.wait_log(r"NodeConnected peer=b ", timeout=WAIT)
        t = Tools(w, build)
        views(t, a, b)
        errors(t, a, b)
        connect_disconnect(t, a, b)
        cat(t, a, b, socks)
        rpc(t, a, b, socks)
        apps_clean(w, a, 4)
        apps_clean(w, b, 3, refused_full=1)  # sluicectl's, in rpc()
        stop_clean(w, a, b)
    quickstart(build)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(f"usage: {sys.argv[0]} SLUICE BUILD_DIR")
    it.run(lambda: main(os.path.abspath(sys.argv[2])))
