# SPDX-License-Identifier: BSD-3-Clause
"""sluice: what the network-namespace tests share — the world they build and tear down, the
appliances they run in it, frames built byte by byte, and sockets opened inside a namespace.

The world (World.routed()):

      ns a<pid>                      ns k<pid> (the Linux kernel, a router)             ns b<pid>
    sluice A  [veth a<pid>] ---- [veth ka<pid>] 198.18.0.1/24
    198.18.0.2/24 gw .0.1                       198.18.1.1/24 [veth kb<pid>] ---- [veth b<pid>] sluice B
                                                                                   198.18.1.2/24 gw .1.1

Each appliance drives its veth through DPDK's net_af_packet; the kernel in the middle answers
ARP for its own addresses, resolves the appliances by ARP and forwards between the two subnets.
Addresses come from 198.18.0.0/15 only; every name carries the test's PID (names of at most 15
characters); traffic never leaves the namespaces.

Cleanup: World is a context manager. Its exit (normal, exception, or SIGTERM/SIGINT/SIGHUP,
which are turned into an exception) stops the processes it started (by PID: SIGTERM, then
SIGKILL), deletes its namespaces (which deletes their veths), DPDK's runtime directories of its
file prefixes and its temporary directory.

Python 3 standard library only. Root only: a test calls skip_unless_possible() first, which
exits 77 (meson: skipped) with a message when it cannot build the world.
"""
import ctypes
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(REPO, "scripts"))
from sl_frames import csum, ip_bytes, mac_bytes  # noqa: E402,F401 (used by the tests too)
from sl_telemetry import Telemetry, runtime_dir  # noqa: E402

SKIP = 77
CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4

# sl_wire.h
MSG_IK_INIT, MSG_IK_RESP, MSG_COOKIE, MSG_DATA = 1, 2, 3, 4
MSG_XX_INIT, MSG_XX_RESP, MSG_XX_FINISH = 5, 6, 7
MSG_RESUME_INIT, MSG_RESUME_RESP, MSG_RESUME_REJECT = 8, 9, 10
MSG_SIZE = {MSG_IK_INIT: 208, MSG_IK_RESP: 164, MSG_COOKIE: 64, MSG_XX_INIT: 212,
            MSG_XX_RESP: 212, MSG_XX_FINISH: 180, MSG_RESUME_INIT: 176, MSG_RESUME_RESP: 164,
            MSG_RESUME_REJECT: 24}
MSG_MIN = {**MSG_SIZE, MSG_DATA: 32}  # data: header (16) + AEAD tag (16)
MSG_NAME = {MSG_IK_INIT: "ik_init", MSG_IK_RESP: "ik_resp", MSG_COOKIE: "cookie",
            MSG_DATA: "data", MSG_XX_INIT: "xx_init", MSG_XX_RESP: "xx_resp",
            MSG_XX_FINISH: "xx_finish", MSG_RESUME_INIT: "resume_init",
            MSG_RESUME_RESP: "resume_resp", MSG_RESUME_REJECT: "resume_reject"}
MACS_LEN = 32  # mac1 + mac2 at the end of every handshake message
XX_INIT_PAD = 140  # SL_XX_INIT_PAD: the zero padding of an XX initiation
# sl_limits.h: | owner lcore (6) | slot (18) | generation (8) |
CONNID_OWNER_SHIFT, CONNID_SLOT_SHIFT = 26, 8


def log(*args):
    print(*args, flush=True)


# --- skipping --------------------------------------------------------------------------------

def skip(why):
    log(f"SKIP: {why}")
    sys.exit(SKIP)


def skip_unless_possible(tools=("ip",)):
    """Exit 77 unless we are root, have the tools and may create a network namespace."""
    if os.geteuid() != 0:
        skip("needs root (network namespaces, veth pairs, raw sockets)")
    for t in tools:
        if shutil.which(t) is None:
            skip(f"'{t}' is not installed")
    probe = f"slprobe{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        skip(f"cannot create a network namespace: {r.stderr.strip()}")
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)


# --- signals: turn them into an exception so every finally block runs ------------------------

class Interrupted(Exception):
    pass


def _on_signal(sig, frame):
    raise Interrupted(f"signal {signal.Signals(sig).name}")


def install_signal_handlers():
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, _on_signal)


SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}


def block_signals():
    signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)


class signals_held:
    """Signals wait (pending) until the block ends: something created inside is recorded before
    the exception a signal raises can skip the recording."""

    def __enter__(self):
        self.old = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)

    def __exit__(self, *exc):
        signal.pthread_sigmask(signal.SIG_SETMASK, self.old)


# --- commands ----------------------------------------------------------------------------------

def run(*cmd, check=True, ns=None, timeout=30):
    if ns is not None:
        cmd = ("ip", "netns", "exec", ns) + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


_libc = ctypes.CDLL(None, use_errno=True)


class netns:
    """with netns("k123"): sockets created inside belong to that namespace (this thread only:
    setns(CLONE_NEWNET) is per thread; the sockets keep their namespace afterwards)."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        fd = os.open(f"/var/run/netns/{self.name}", os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), f"setns {self.name}")
        finally:
            os.close(fd)
        return self

    def __exit__(self, *exc):
        try:
            if _libc.setns(self.home, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
        finally:
            os.close(self.home)


def sysctl(ns, key, value, must=True):
    """Set /proc/sys/<key> of namespace ns (net/ entries are those of the opener's namespace).
    must=False: a kernel without the entry (no IPv6) is fine."""
    try:
        with netns(ns), open(f"/proc/sys/{key}", "w") as f:
            f.write(f"{value}\n")
    except FileNotFoundError:
        if must:
            raise


def raw_socket(ns, ifname):
    """An AF_PACKET raw socket on ifname inside namespace ns: sends whole Ethernet frames as
    given (no padding, checksums untouched) and receives every frame, both directions."""
    with netns(ns):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((ifname, ETH_P_ALL))
    return s


def udp_socket(ns, ip, port):
    """A UDP socket bound inside ns: swallows what the appliance answers to the injector, so the
    kernel does not send ICMP port-unreachable errors back."""
    with netns(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((ip, port))
    s.setblocking(False)
    return s


# --- checksums and frames ------------------------------------------------------------------------

def eth(dst, src, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload


def vlan_eth(dst, src, vid, etype, payload):
    return dst + src + struct.pack("!HHH", 0x8100, vid, etype) + payload


def ipv4(src, dst, proto, payload, ttl=64, ident=0, frag=0x4000, version=4, ihl=5,
         options=b"", tot_len=None, cksum=None, tos=0):
    """An IPv4 header (+ payload). tot_len and cksum: None computes them, a number forces it;
    cksum "bad" writes the correct checksum plus one."""
    if tot_len is None:
        tot_len = 4 * ihl + len(payload) if ihl >= 5 else 20 + len(options) + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, tos, tot_len, ident, frag, ttl,
                    proto, 0, src, dst) + options
    good = csum(h)
    if cksum is None:
        cksum = good
    elif cksum == "bad":
        cksum = (good + 1) & 0xFFFF or 1
    return h[:10] + struct.pack("!H", cksum) + h[12:] + payload


def udp(src, dst, sport, dport, payload, length=None, cksum=None):
    """A UDP header (+ payload). cksum None: computed (0 sent as 0xffff); 0: none (RFC 768);
    "bad": a wrong non-zero value; a number: that value."""
    if length is None:
        length = 8 + len(payload)
    h = struct.pack("!HHHH", sport, dport, length, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, 8 + len(payload))
    good = csum(pseudo + h + payload) or 0xFFFF
    if cksum is None:
        cksum = good
    elif cksum == "bad":
        cksum = good ^ 0x5A5A or 0x1234
    return h[:6] + struct.pack("!H", cksum) + payload


def icmp(type_, code, rest, data, cksum=None):
    h = struct.pack("!BBH", type_, code, 0) + rest + data
    good = csum(h)
    if cksum is None:
        cksum = good
    elif cksum == "bad":
        cksum = (good + 1) & 0xFFFF or 1
    return h[:2] + struct.pack("!H", cksum) + h[4:]


def arp(op, sha, spa, tha, tpa, htype=1, ptype=0x0800, hlen=6, plen=4):
    return struct.pack("!HHBBH", htype, ptype, hlen, plen, op) + sha + spa + tha + tpa


# --- sluice handshake MACs (controlplane/handshake/cp_admission.c) ------------------------------------------

def mac1_key_peer(pub):
    return hashlib.blake2b(b"sluice mac1 v1" + pub, digest_size=32).digest()


def mac1_key_anon():
    return hashlib.blake2b(b"sluice mac1 anonymous v1", digest_size=32).digest()


def mac1(msg, key):
    """mac1 of a whole handshake message (MACs included at its end: they are not covered)."""
    return hashlib.blake2b(msg[:len(msg) - MACS_LEN], digest_size=16, key=key).digest()


def with_macs(body, key):
    """body: the message up to its MACs. Appends a valid mac1 and a zero mac2."""
    return body + hashlib.blake2b(body, digest_size=16, key=key).digest() + bytes(16)


def pub_bytes(b64):
    import base64
    return base64.b64decode(b64)


# --- the world -----------------------------------------------------------------------------------

class World:
    """Namespaces, veths, processes and files of one test run; see the module comment."""

    def __init__(self, tag):
        self.pid = os.getpid()
        self.tag = tag
        self.namespaces = []
        self.procs = []       # (Popen, name, log paths)
        self.prefixes = []    # EAL file prefixes we used
        self.tmp = tempfile.mkdtemp(prefix=f"sluice-netns-{tag}-")
        self.failed = False

    def name(self, short):
        n = f"{short}{self.pid}"
        assert len(n) <= 15, n
        return n

    # --- building ---------------------------------------------------------------------------

    def add_ns(self, short):
        ns = self.name(short)
        with signals_held():
            run("ip", "netns", "add", ns)
            self.namespaces.append(ns)
        run("ip", "-n", ns, "link", "set", "lo", "up")
        # no IPv6: the kernel would send router and neighbour solicitations of its own
        for key in ("all", "default"):
            sysctl(ns, f"net/ipv6/conf/{key}/disable_ipv6", 1, must=False)
        return ns

    def add_veth(self, ns1, if1, ns2, if2):
        run("ip", "link", "add", if1, "netns", ns1, "type", "veth", "peer", "name", if2,
            "netns", ns2)
        for ns, ifn in ((ns1, if1), (ns2, if2)):
            sysctl(ns, f"net/ipv6/conf/{ifn}/disable_ipv6", 1, must=False)
            run("ip", "-n", ns, "link", "set", ifn, "up")

    @classmethod
    def routed(cls, tag):
        """A — kernel router — B, as drawn in the module comment."""
        w = cls(tag)
        try:
            w.k, w.a, w.b = w.add_ns("k"), w.add_ns("a"), w.add_ns("b")
            w.if_ka, w.if_a = w.name("ka"), w.name("a")
            w.if_kb, w.if_b = w.name("kb"), w.name("b")
            w.add_veth(w.k, w.if_ka, w.a, w.if_a)
            w.add_veth(w.k, w.if_kb, w.b, w.if_b)
            w.k_ip_a, w.a_ip = "198.18.0.1", "198.18.0.2"
            w.k_ip_b, w.b_ip = "198.18.1.1", "198.18.1.2"
            run("ip", "-n", w.k, "addr", "add", w.k_ip_a + "/24", "dev", w.if_ka)
            run("ip", "-n", w.k, "addr", "add", w.k_ip_b + "/24", "dev", w.if_kb)
            sysctl(w.k, "net/ipv4/ip_forward", 1)
            w.mac_ka = w.link_mac(w.k, w.if_ka)
            w.mac_a = w.link_mac(w.a, w.if_a)
            w.mac_b = w.link_mac(w.b, w.if_b)
        except BaseException:
            w.cleanup()
            raise
        return w

    @classmethod
    def bridged(cls, tag, n):
        """n namespaces on one Ethernet segment: a Linux bridge in a namespace of its own (ns
        sw<pid>, so nothing touches the host's network), and per node i a namespace n<i><pid>
        (w.nodes_ns[i]) whose veth n<i><pid> (w.nodes_if[i]) has its peer s<i><pid> enslaved to
        the bridge. The kernel holds no address anywhere: the appliances on the veths are the
        only hosts. No STP: a port forwards as soon as it is up."""
        w = cls(tag)
        try:
            w.sw = w.add_ns("sw")
            run("ip", "-n", w.sw, "link", "add", "br0", "type", "bridge", "stp_state", "0")
            sysctl(w.sw, "net/ipv6/conf/br0/disable_ipv6", 1, must=False)
            run("ip", "-n", w.sw, "link", "set", "br0", "up")
            w.nodes_ns, w.nodes_if = [], []
            for i in range(n):
                ns, ifn, port = w.add_ns(f"n{i}"), w.name(f"n{i}"), w.name(f"s{i}")
                w.add_veth(ns, ifn, w.sw, port)
                run("ip", "-n", w.sw, "link", "set", port, "master", "br0")
                w.nodes_ns.append(ns)
                w.nodes_if.append(ifn)
        except BaseException:
            w.cleanup()
            raise
        return w

    @staticmethod
    def link_mac(ns, ifname):
        out = json.loads(run("ip", "-j", "-n", ns, "link", "show", ifname).stdout)
        return out[0]["address"]

    # --- processes --------------------------------------------------------------------------

    def spawn(self, name, ns, argv):
        out = os.path.join(self.tmp, f"{name}.out")
        err = os.path.join(self.tmp, f"{name}.err")
        with open(out, "w") as fo, open(err, "w") as fe, signals_held():
            # the child must not inherit the block (single-threaded here: preexec_fn is safe)
            p = subprocess.Popen(["ip", "netns", "exec", ns] + list(argv), stdout=fo,
                                 stderr=fe, stdin=subprocess.DEVNULL,
                                 preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_UNBLOCK,
                                                                           SIGNALS))
            self.procs.append((p, name, out, err))
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=20):
        """Stop one process we started; returns its exit status."""
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        return p.returncode

    def tails(self, lines=25):
        for p, name, out, err in self.procs:
            for path in (out, err):
                try:
                    with open(path, errors="replace") as f:
                        text = f.readlines()[-lines:]
                except OSError:
                    continue
                log(f"----- {name} {os.path.basename(path)} (exit {p.poll()}), last "
                    f"{len(text)} lines -----")
                for line in text:
                    log("  " + line.rstrip())

    # --- teardown -------------------------------------------------------------------------

    def cleanup(self):
        block_signals()
        for p, name, _, _ in reversed(self.procs):
            try:
                self.stop(p, timeout=10)
            except Exception as e:  # keep cleaning
                log(f"cleanup: {name} (pid {p.pid}): {e}")
        for ns in reversed(self.namespaces):
            run("ip", "netns", "del", ns, check=False)
        self.namespaces = []
        for prefix in self.prefixes:
            shutil.rmtree(os.path.join(runtime_dir(), prefix), ignore_errors=True)
        if self.failed and os.environ.get("SLUICE_NETNS_KEEP"):
            log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, etype, exc, tb):
        if etype is not None:
            self.failed = True
            log(f"FAILED: {etype.__name__}: {exc}")
            self.tails()
        self.cleanup()
        return False


# --- appliances ------------------------------------------------------------------------------------

class Appliance:
    """One sluice process in a namespace, on one af_packet port."""

    def __init__(self, world, sluice, name, ns, ifname, ip, gateway, cores, udp_port=47000,
                 peers=(), services=(), limits=None, memory_mb=128, mbufs=4095, prefix_len=24):
        """cores: one CPU (one lcore polls the port) or a list of them (one lcore each, each
        polling an rx queue of its own: net_af_packet qpairs, the kernel spreads flows over
        them, and a session's packets that land on another lcore are handed to its owner).
        gateway None: peers on the port's subnet only. More sections: set them in self.cfg,
        then write_config() before start()."""
        cores = [cores] if isinstance(cores, int) else list(cores)
        self.world, self.sluice, self.name, self.ns = world, sluice, name, ns
        self.ip, self.udp_port = ip, udp_port
        self.prefix = f"slns-{name}-{world.pid}"
        world.prefixes.append(self.prefix)
        self.key_file = os.path.join(world.tmp, f"{name}.key")
        r = run(sluice, "keygen", self.key_file)
        self.pub_b64 = r.stdout.strip()
        self.pub = pub_bytes(self.pub_b64)
        self.cfg = {
            "network": f"sluice-netns-{world.tag}",
            "identity": {"key_file": self.key_file},
            "eal": {"cores": ",".join(map(str, cores)), "memory_mb": memory_mb,
                    "file_prefix": self.prefix, "extra_args": ["--log-level=lib.eal:notice"]},
            "ports": [{"name": "p0",
                       "device": f"net_af_packet0,iface={ifname},qpairs={len(cores)}",
                       "ipv4": f"{ip}/{prefix_len}", "gateway": gateway, "udp_port": udp_port,
                       "rx_queues": len(cores), "tx_queues": len(cores), "mbufs": mbufs}],
            "lcores": [{"lcore": c, "rx": [{"port": "p0", "queue": q}]}
                       for q, c in enumerate(cores)],
            "peers": list(peers),
            "services": list(services),
        }
        if gateway is None:
            del self.cfg["ports"][0]["gateway"]
        if limits:
            self.cfg["limits"] = limits
        self.conf_path = os.path.join(world.tmp, f"{name}.json")
        self.write_config()
        self.proc = None
        self.tel = None
        self.status = None
        self.runs = 0  # starts so far: each has its own log files (log_name)

    def write_config(self):
        with open(self.conf_path, "w") as f:
            json.dump(self.cfg, f, indent=1)

    @property
    def log_name(self):
        """The name of the current run's log files: <name>, then <name>.1, <name>.2 ..."""
        return self.name if self.runs <= 1 else f"{self.name}.{self.runs - 1}"

    def peer_entry(self, name):
        return {"name": name, "endpoint": f"{self.ip}:{self.udp_port}",
                "public_key": self.pub_b64}

    def start(self, *extra):
        self.runs += 1
        self.status = None
        self.proc = self.world.spawn(self.log_name, self.ns,
                                     [self.sluice, "--config", self.conf_path] + list(extra))
        return self

    def kill9(self):
        """SIGKILL: no save, no goodbye; its exit status."""
        if self.tel is not None:
            self.tel.close()
            self.tel = None
        self.status = self.world.stop(self.proc, sig=signal.SIGKILL)
        return self.status

    def telemetry(self, wait=30.0):
        """Connect to its telemetry socket and wait until it runs: the socket exists once EAL
        is up, the endpoints answer once the ports are, and a statistics snapshot has come
        back once the lcores poll and the control thread runs. Fails if it exits."""
        deadline = time.monotonic() + wait
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} at start")
            try:
                if self.tel is None:
                    self.tel = Telemetry(self.prefix).connect()
                info = self.tel.query("/sluice/info")
                if isinstance(info, dict) and info.get("snapshots", 0) >= 1:
                    return self.tel
            except (OSError, ValueError):  # no socket yet, or it closed mid-answer
                if self.tel is not None:
                    self.tel.close()
                    self.tel = None
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: not running after {wait} s")
            time.sleep(0.1)

    def query(self, cmd, wait=30.0):
        """One telemetry command. An answer that does not come (a loaded machine), comes cut or
        empty is asked again on a fresh connection for up to `wait` seconds; RuntimeError when
        the process exited, or after that."""
        deadline = time.monotonic() + wait
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} died (exit {self.proc.returncode})")
            try:
                if self.tel is None:
                    self.tel = Telemetry(self.prefix).connect()
                return self.tel.query(cmd)
            except (OSError, ValueError) as e:
                if self.tel is not None:
                    self.tel.close()
                    self.tel = None
                try:  # did it just die?
                    self.proc.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{self.name}: telemetry {cmd}: {e!r} for {wait} s")
                    continue
                raise RuntimeError(f"{self.name} died (exit {self.proc.returncode})") from None

    def wait_for(self, what, cond, cmd, timeout, interval=0.2):
        """Poll telemetry cmd until cond(value) holds; returns the value."""
        deadline = time.monotonic() + timeout
        while True:
            v = self.query(cmd)
            if cond(v):
                return v
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: timed out waiting for {what}; last {cmd}: "
                                     f"{json.dumps(v)[:2000]}")
            time.sleep(interval)

    def wait_connected(self, timeout=30):
        def up(peers):
            return any(isinstance(p, dict) and p.get("state") == "connected"
                       for p in (peers or {}).values())
        peers = self.wait_for("a connected peer", up, "/sluice/peers", timeout)
        return next(p for p in peers.values() if isinstance(p, dict) and
                    p.get("state") == "connected")

    def stop(self, timeout=30):
        if self.tel is not None:
            self.tel.close()
            self.tel = None
        self.status = self.world.stop(self.proc, timeout=timeout)
        return self.status

    def wait_exit(self, timeout):
        try:
            self.status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} did not exit within {timeout} s")
        if self.tel is not None:
            self.tel.close()
            self.tel = None
        return self.status

    def output(self):
        with open(os.path.join(self.world.tmp, f"{self.log_name}.out"), errors="replace") as f:
            return f.read()

    def summary(self):
        """The exit summary: {"services": [dict per service], "drops": {...}, "mbufs_in_use": n}"""
        out = self.output()
        res = {"services": [], "drops": None, "mbufs_in_use": None}
        for line in out.splitlines():
            if line.startswith("sluice: service="):
                res["services"].append(dict(kv.split("=", 1) for kv in line.split()[1:]
                                            if "=" in kv))
            elif line.startswith("sluice: drops "):
                res["drops"] = {k: int(v) for k, v in
                                (kv.split("=", 1) for kv in line.split()[2:])}
            m = re.match(r"sluice: exit mbufs_in_use=(\d+)", line)
            if m:
                res["mbufs_in_use"] = int(m.group(1))
        return res


def check_clean_exit(app, status_ok=(0,)):
    """Exit status, the mbuf leak line, and the sanitizer's silence."""
    assert app.status in status_ok, f"{app.name}: exit status {app.status}"
    s = app.summary()
    assert s["mbufs_in_use"] == 0, \
        f"{app.name}: mbufs_in_use={s['mbufs_in_use']} at exit (a leak, or no summary)"
    with open(os.path.join(app.world.tmp, f"{app.log_name}.err"), errors="replace") as f:
        err = f.read()
    for bad in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"):
        assert bad not in err, f"{app.name}: sanitizer report in its log ({bad})"
    return s


# --- captures ------------------------------------------------------------------------------------

TSHARK_PREFS = ["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"]
# What tshark must never find: malformed packets, expert errors, bad checksums at any layer.
PROBLEMS = ('_ws.malformed or _ws.expert.severity >= "Error" or ip.checksum.status == "Bad" '
            'or udp.checksum.status == "Bad" or icmp.checksum.status == "Bad"')
FIELDS = ["frame.number", "frame.len", "eth.src", "eth.dst", "eth.type", "arp.opcode",
          "arp.src.hw_mac", "arp.src.proto_ipv4", "arp.dst.hw_mac", "arp.dst.proto_ipv4",
          "ip.src", "ip.dst", "ip.ttl", "ip.flags.df", "ip.hdr_len", "ip.len",
          "ip.checksum.status", "ip.proto", "icmp.type", "icmp.code", "icmp.ident", "icmp.seq",
          "icmp.checksum.status", "udp.srcport", "udp.dstport", "udp.length", "udp.checksum",
          "udp.checksum.status", "data.data", "frame.protocols"]


class Capture:
    """dumpcap on one interface of a namespace, written to a pcapng file."""

    def __init__(self, world, ns, ifname, name="capture"):
        self.world, self.path = world, os.path.join(world.tmp, f"{name}.pcapng")
        self.err = os.path.join(world.tmp, f"{name}.err")
        self.proc = world.spawn(name, ns, ["dumpcap", "-q", "-i", ifname, "-w", self.path])
        deadline = time.monotonic() + 15
        while "Capturing on" not in open(self.err, errors="replace").read():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("dumpcap did not start: " + open(self.err).read())
            time.sleep(0.05)

    def stop(self):
        self.world.stop(self.proc, sig=signal.SIGINT)
        err = open(self.err, errors="replace").read()
        m = re.search(r"received/dropped on interface '[^']*': (\d+)/(\d+)", err)
        if m and int(m.group(2)) != 0:
            raise AssertionError(f"dumpcap dropped {m.group(2)} packets: {err}")
        return self.path


def tshark(pcap, udp_port, *args):
    cmd = ["tshark", "-n", "-r", pcap] + TSHARK_PREFS + ["-d", f"udp.port=={udp_port},data"]
    r = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"tshark: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def tshark_problems(pcap, udp_port):
    """Every frame tshark finds malformed, with an expert error or a bad checksum."""
    out = tshark(pcap, udp_port, "-Y", PROBLEMS)
    return [line for line in out.splitlines() if line.strip()]


def tshark_records(pcap, udp_port):
    """One dict per frame with FIELDS (first occurrence of each; "" when absent)."""
    args = ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for f in FIELDS:
        args += ["-e", f]
    recs = []
    for line in tshark(pcap, udp_port, *args).splitlines():
        vals = line.split("\t")
        recs.append(dict(zip(FIELDS, vals + [""] * (len(FIELDS) - len(vals)))))
    return recs


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1, i, len(fr), len(fr)) + fr)


def tshark_selftest(tmp, udp_port):
    """The check must see what it claims to: a capture with one good frame and four broken ones
    (IPv4 checksum, UDP checksum, ICMP checksum, truncated UDP) must give exactly four."""
    m1, m2 = mac_bytes("02:00:00:00:00:01"), mac_bytes("02:00:00:00:00:02")
    s, d = ip_bytes("198.18.0.1"), ip_bytes("198.18.0.2")
    pl = b"sluice selftest payload"
    frames = [
        eth(m1, m2, 0x0800, ipv4(s, d, 17, udp(s, d, 1000, udp_port, pl))),
        eth(m1, m2, 0x0800, ipv4(s, d, 17, udp(s, d, 1000, udp_port, pl), cksum="bad")),
        eth(m1, m2, 0x0800, ipv4(s, d, 17, udp(s, d, 1000, udp_port, pl, cksum="bad"))),
        eth(m1, m2, 0x0800, ipv4(s, d, 1, icmp(8, 0, b"\0\1\0\1", pl, cksum="bad"))),
        eth(m1, m2, 0x0800, ipv4(s, d, 17, udp(s, d, 1000, udp_port, pl, length=200))),
    ]
    path = os.path.join(tmp, "selftest.pcap")
    write_pcap(path, frames)
    found = tshark_problems(path, udp_port)
    assert len(found) == 4, f"tshark self-test: expected 4 problem frames, got {found}"
    os.unlink(path)
