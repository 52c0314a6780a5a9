#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""sluice on AF_XDP ports (issue 17): DPDK's net_af_xdp on a veth, the kernel on the other side.

    test_af_xdp.py SLUICE       (root; exits 77, skipped, with the reason when it cannot run)

World (netns_lib.World.routed): appliances A and B each drive their veth through net_af_xdp
(`net_af_xdp0,iface=<veth>,start_queue=0,queue_count=1`, one queue, one lcore); the kernel in
the middle answers ARP, resolves the appliances and forwards between the two subnets.

  0. AF_XDP must be possible here: an AF_XDP socket can be made and can register a UMEM as
     large as an appliance's pool (what RLIMIT_MEMLOCK limits without CAP_IPC_LOCK). If not,
     the test says exactly why and exits 77.
  1. A starts; the kernel resolves it by ARP and pings it (56- and 1472-byte payloads, don't
     fragment): every request is answered and the kernel's neighbour entry holds A's MAC.
  2. While A's port is up, the kernel of A's namespace sees nothing arrive on A's veth (an
     AF_PACKET socket there receives no frame): the XDP program sends it all to the socket.
  3. B dials A through the kernel; B's sources send to A's sink (channel 1) and to A's echo
     (channel 2, echoes verified); once they are done, B then A are stopped (SIGTERM).
     Everything is delivered and verified exactly once; no drop in sluice's counters nor in
     the ports' (ethdev imissed, ierrors, oerrors, rx_nombuf, all 0).
  4. Both exit 0 with mbufs_in_use=0, and each says its driver kept exactly 2048 mbufs in its
     fill ring (DPDK 22.11's af_xdp, freed by nobody: counted apart, drivers/drv_port.h).
  5. Once A stopped (its XDP program detached), the kernel of A's namespace sees its veth's
     traffic again: a ping of the kernel to A's address reaches the AF_PACKET socket.
"""
import ctypes
import errno
import mmap
import os
import re
import resource
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import netns_lib as L  # noqa: E402

PINGS = [(5, 56), (3, 1472)]  # (count, payload bytes): 1472 + 28 = a full 1500-byte MTU
SINK_COUNT = 3000
ECHO_COUNT = 500
MBUFS = 4095
# What one mbuf of an appliance's pool takes (drv_port.c make_pool: a 2176-byte buffer, the
# 128-byte rte_mbuf, the mempool's 64-byte object header): the pool is the UMEM it registers.
MBUF_BYTES = 2368
FILL_RING = 2048  # DPDK 22.11 af_xdp: ETH_AF_XDP_DFLT_NUM_DESCS mbufs per receive queue

AF_XDP, SOL_XDP, XDP_UMEM_REG = 44, 283, 4


def memlock_text():
    soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    return "unlimited" if soft == resource.RLIM_INFINITY else f"{soft // 1024} KiB"


def xdp_refusal():
    """Why this kernel and process cannot run an AF_XDP port, or None. Makes an AF_XDP socket
    and registers a UMEM the size of an appliance's pool on it."""
    try:
        s = socket.socket(AF_XDP, socket.SOCK_RAW, 0)
    except OSError as e:
        if e.errno == errno.EAFNOSUPPORT:
            return "the kernel has no AF_XDP sockets (CONFIG_XDP_SOCKETS is off)"
        return f"cannot create an AF_XDP socket: {e.strerror} (needs CAP_NET_RAW)"
    size = (MBUFS * MBUF_BYTES + mmap.PAGESIZE - 1) // mmap.PAGESIZE * mmap.PAGESIZE
    buf = mmap.mmap(-1, size)
    view = ctypes.c_char.from_buffer(buf)
    # struct xdp_umem_reg: addr, len, chunk_size, headroom, flags (+ padding)
    reg = struct.pack("=QQIIII", ctypes.addressof(view), size, 4096, 0, 0, 0)
    try:
        s.setsockopt(SOL_XDP, XDP_UMEM_REG, reg)
        return None
    except OSError as e:
        if e.errno in (errno.ENOBUFS, errno.ENOMEM, errno.EPERM):
            return (f"the kernel refuses to pin a {size // 1024} KiB AF_XDP UMEM ({e.strerror}):"
                    f" RLIMIT_MEMLOCK is {memlock_text()} and the process lacks CAP_IPC_LOCK")
        return f"the kernel refuses an AF_XDP UMEM: {e.strerror}"
    finally:
        s.close()  # unpins the UMEM
        del view  # (the buffer cannot close while a view holds it)
        buf.close()


def use_af_xdp(app, ifname):
    app.cfg["ports"][0]["device"] = f"net_af_xdp0,iface={ifname},start_queue=0,queue_count=1"
    app.write_config()


def start_refused(app):
    """Start an appliance; None once it runs, or why the AF_XDP driver could not attach (in
    its own words; the UMEM the kernel may refuse is xdp_refusal's). Fails on anything else."""
    app.start()
    try:
        app.telemetry()
        return None
    except RuntimeError:
        with open(os.path.join(app.world.tmp, f"{app.log_name}.err"), errors="replace") as f:
            lines = [ln.strip() for ln in f if "xdp" in ln.lower() or "xsk" in ln.lower()]
        if not any("Failed to create xsk socket" in ln for ln in lines):
            raise
        app.world.stop(app.proc)
        return "the AF_XDP driver cannot attach to a veth here: " + " | ".join(lines[-4:])


def ping(w, count, size):
    r = L.run("ping", "-n", "-c", str(count), "-i", "0.2", "-W", "2", "-s", str(size),
              "-M", "do", w.a_ip, ns=w.k, check=False, timeout=30)
    L.log(r.stdout.strip().splitlines()[-2] if r.stdout.strip() else r.stderr)
    return int(r.stdout.split(" received")[0].split()[-1]) if " received" in r.stdout else 0


def arrived(sock):
    """Frames an AF_PACKET socket received (not those its host sent) since the last call."""
    n = 0
    while True:
        try:
            _, addr = sock.recvfrom(65535, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return n
        n += addr[2] != L.PACKET_OUTGOING


def xdp_mode(ns, ifname):
    """How the XDP program sits on the interface, or None. iproute2 prints it after the MTU:
    "xdp" (the driver's hook: native mode), "xdpgeneric" (the kernel's fallback), ..."""
    out = L.run("ip", "-n", ns, "link", "show", "dev", ifname).stdout
    m = re.search(r" mtu \d+ (xdp\w*) ", out)
    modes = {"xdp": "native", "xdpgeneric": "generic (skb)", "xdpoffload": "offloaded"}
    return None if m is None else modes.get(m.group(1), m.group(1))


def port_drops(app):
    st = app.query("/ethdev/stats,0")
    return {k: st.get(k) for k in ("imissed", "ierrors", "oerrors", "rx_nombuf")}


def services(v):
    return [x for x in (v or {}).values() if isinstance(x, dict)]


def sources_done(v):
    src = [x for x in services(v) if x.get("type") == "source"]
    return len(src) == 2 and all(x.get("sources_done", 0) >= 1 for x in src)


def sink_verified(v):
    return sum(x.get("msgs_verified", 0) for x in services(v) if x.get("type") == "sink")


def check_exit(app):
    s = L.check_clean_exit(app)
    with open(os.path.join(app.world.tmp, f"{app.log_name}.err"), errors="replace") as f:
        err = f.read()
    kept = f"net_af_xdp0 keeps {FILL_RING} mbufs in its fill rings"
    assert kept in err, f"{app.name}: no '{kept}' in its log"
    assert "not returned to the pool" not in err, f"{app.name}: mbufs not returned"
    assert s["drops"]["total"] == 0, f"{app.name}: drops {s['drops']}"
    return s


def make_apps(w, sluice):
    cores = sorted(os.sched_getaffinity(0))
    a = L.Appliance(w, sluice, "a", w.a, w.if_a, w.a_ip, w.k_ip_a, cores[0], mbufs=MBUFS,
                    services=[{"type": "sink", "channel": 1}, {"type": "echo", "channel": 2}])
    b = L.Appliance(w, sluice, "b", w.b, w.if_b, w.b_ip, w.k_ip_b, cores[-1], mbufs=MBUFS,
                    peers=[a.peer_entry("a")],
                    services=[{"type": "source", "channel": 1, "peer": "a",
                               "count": SINK_COUNT, "size": {"min": 1, "max": 4000}},
                              {"type": "source", "channel": 2, "peer": "a",
                               "count": ECHO_COUNT, "size": {"min": 1, "max": 1200},
                               "expect_echo": True}])
    use_af_xdp(a, w.if_a)
    use_af_xdp(b, w.if_b)
    return a, b


def kernel_pings(w, a):
    """1: the kernel resolves A by ARP and pings it over AF_XDP."""
    mode = xdp_mode(w.a, w.if_a)
    assert mode is not None, "A's port is up but its veth has no XDP program"
    L.log(f"A's veth: XDP program attached in {mode} mode")
    for count, size in PINGS:
        got = ping(w, count, size)
        assert got == count, f"ping -s {size}: {got} of {count} replies"
    neigh = L.run("ip", "-n", w.k, "neigh", "show", w.a_ip, "dev", w.if_ka).stdout
    assert w.mac_a in neigh.lower(), f"the kernel's neighbour entry for A: {neigh!r}"


def transfer(a, b, tap):
    """3-4 (and 2 before A stops): B's sources to A's sink and echo, then both stopped."""
    b.start()
    b.wait_for("its sources done", sources_done, "/sluice/services", timeout=60)
    a.wait_for(f"{SINK_COUNT} messages verified", lambda v: sink_verified(v) >= SINK_COUNT,
               "/sluice/services", timeout=10)
    drops_a, drops_b = port_drops(a), port_drops(b)
    seen = arrived(tap)  # 2: nothing reached the kernel on A's veth while its port was up
    assert seen == 0, f"the kernel of A's namespace received {seen} frames on A's veth"
    b.stop()
    a.stop()
    sa, sb = check_exit(a), check_exit(b)
    sink, echo = sa["services"]
    assert (sink["msgs_verified"], sink["lost"], sink["duplicated"], sink["corrupt"]) == \
        (str(SINK_COUNT), "0", "0", "0"), f"A's sink: {sink}"
    assert echo["msgs_echoed"] == str(ECHO_COUNT), f"A's echo: {echo}"
    src_echo = sb["services"][1]
    assert (src_echo["msgs_verified"], src_echo["lost"], src_echo["corrupt"]) == \
        (str(ECHO_COUNT), "0", "0"), f"B's echo source: {src_echo}"
    for name, d in (("A", drops_a), ("B", drops_b)):
        assert all(v == 0 for v in d.values()), f"{name}'s port dropped: {d}"
    L.log(f"A: sink {SINK_COUNT} verified, echo {ECHO_COUNT}; port drops A {drops_a}, "
          f"B {drops_b}; both exit 0 with mbufs_in_use=0, {FILL_RING} kept by each driver")


def run_world(w, sluice):
    """Everything in the world; None when done, or why AF_XDP could not attach."""
    a, b = make_apps(w, sluice)
    tap = L.raw_socket(w.a, w.if_a)  # what the kernel of A's namespace gets on A's veth
    try:
        refused = start_refused(a)
        if refused:
            return refused
        arrived(tap)  # (frames from before the program was attached)
        kernel_pings(w, a)
        transfer(a, b, tap)
        # 5: A's port closed: the kernel sees the veth's traffic again
        L.run("ping", "-n", "-c", "1", "-W", "1", w.a_ip, ns=w.k, check=False)
        time.sleep(0.2)
        assert arrived(tap) >= 1, "the kernel of A's namespace still sees nothing once A stopped"
    finally:
        tap.close()
    return None


def main(sluice):
    L.skip_unless_possible(("ip", "ping"))
    why = xdp_refusal()
    if why:
        L.skip(why)
    L.install_signal_handlers()
    # (ASan builds: the driver's own leak at close, explained in the file)
    supp = os.path.join(L.HERE, "lsan_af_xdp.supp")
    os.environ["LSAN_OPTIONS"] = ":".join(
        filter(None, (os.environ.get("LSAN_OPTIONS"), f"suppressions={supp}")))
    t0 = time.monotonic()
    with L.World.routed("xdp") as w:
        why = run_world(w, sluice)
    if why:
        L.skip(why)
    L.log(f"PASS ({time.monotonic() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: test_af_xdp.py SLUICE")
    sys.exit(main(os.path.abspath(sys.argv[1])))
