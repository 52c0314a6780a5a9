#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""sluice and the Linux kernel on a veth (issue 4: ARP, ping, a capture tshark reads cleanly).

    test_kernel.py SLUICE       (root; exits 77, skipped, when namespaces are unavailable)

World (netns_lib.World.routed): appliance A on net_af_packet in one namespace, the kernel as a
router in the middle, appliance B in a third namespace. dumpcap records the kernel's side of
A's link for the whole run.

  1. A starts with no peers: it sends nothing but the announcements of its address (two
     gratuitous ARP requests, which the kernel takes only for a neighbour it knows), so the
     kernel has to resolve it by ARP.
  2. The kernel pings A (`ping`, 56- and 1472-byte payloads, don't fragment): every request is
     answered, and the kernel's neighbour table then holds A's MAC.
  3. B dials A through the kernel (its gateway); B's sources send to A's sink (channel 1) and
     to A's echo (channel 2, echoes verified); B exits when they are done, then A is stopped.
     Everything is delivered and verified exactly once, nothing is dropped, no mbuf is left
     out, both exit 0.
  4. tshark reads the capture with IPv4/UDP/ICMP checksum validation: no malformed packet, no
     expert error, no bad checksum (checked first on a capture made broken on purpose). The
     exchange is all there: ARP request and A's reply, each echo request and its identical
     reply, A's announcements and its ARP for its gateway, and the sluice packets — handshake messages of their exact
     sizes with valid mac1, data packets addressed to the session's connection ids with
     reserved bytes zero and packet numbers never reused; UDP checksum 0 on data packets is
     legal (RFC 768), every other checksum verifies.
"""
import os
import shutil
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import netns_lib as L  # noqa: E402

PINGS = [(5, 56), (3, 1472)]  # (count, payload bytes): 1472 + 28 = a full 1500-byte MTU
SINK_COUNT = 300
ECHO_COUNT = 100


def ping(w, count, size):
    """Ping A from the kernel's namespace; returns the number of replies."""
    if shutil.which("ping"):
        r = L.run("ping", "-n", "-c", str(count), "-i", "0.2", "-W", "2", "-s", str(size),
                  "-M", "do", w.a_ip, ns=w.k, check=False, timeout=30)
        L.log(r.stdout.strip().splitlines()[-2] if r.stdout.strip() else r.stderr)
        got = int(r.stdout.split(" received")[0].split()[-1]) if " received" in r.stdout else 0
        return got
    # No iputils-ping: the same exchange from a kernel ICMP socket (the kernel still resolves
    # A by ARP and checks nothing less; only the program differs).
    L.log("ping is not installed: echo requests from a raw ICMP socket instead")
    with L.netns(w.k):
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(2)
    got = 0
    first = ping.seq = getattr(ping, "seq", 0) + 1  # (ident, seq) unique over the calls
    ping.seq += count - 1
    for seq in range(first, first + count):
        data = bytes((seq + i) & 0xFF for i in range(size))
        s.sendto(L.icmp(8, 0, struct.pack("!HH", 0x51CE, seq), data), (w.a_ip, 0))
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                pkt, src = s.recvfrom(4096)
            except socket.timeout:
                break
            ihl = (pkt[0] & 0xF) * 4
            if src[0] == w.a_ip and pkt[ihl] == 0 and pkt[ihl + 4:ihl + 8] == \
                    struct.pack("!HH", 0x51CE, seq) and pkt[ihl + 8:] == data:
                got += 1
                break
        time.sleep(0.2)
    s.close()
    return got


def check_arp(recs, w):
    kernel_req = [r for r in recs if r["arp.opcode"] == "1" and r["eth.src"] == w.mac_ka
                  and r["arp.dst.proto_ipv4"] == w.a_ip]
    a_rep = [r for r in recs if r["arp.opcode"] == "2" and r["eth.src"] == w.mac_a]
    a_req = [r for r in recs if r["arp.opcode"] == "1" and r["eth.src"] == w.mac_a]
    told = [r for r in a_req if r["arp.dst.proto_ipv4"] == r["arp.src.proto_ipv4"] == w.a_ip]
    a_req = [r for r in a_req if r not in told]
    assert 1 <= len(told) <= 2 and all(
        (r["eth.dst"], r["arp.src.hw_mac"]) == ("ff:ff:ff:ff:ff:ff", w.mac_a) for r in told), \
        f"A announces its address when its port comes up (twice): {told}"
    assert kernel_req, "no ARP request of the kernel for A in the capture"
    assert kernel_req[0]["eth.dst"] == "ff:ff:ff:ff:ff:ff", "the first ARP request is broadcast"
    assert len(a_rep) == len(kernel_req), \
        f"{len(kernel_req)} ARP requests for A, {len(a_rep)} replies from A"
    for r in a_rep:
        assert (r["eth.dst"], r["arp.src.hw_mac"], r["arp.src.proto_ipv4"], r["arp.dst.hw_mac"],
                r["arp.dst.proto_ipv4"]) == (w.mac_ka, w.mac_a, w.a_ip, w.mac_ka, w.k_ip_a), \
            f"ARP reply {r['frame.number']} is not A's answer to the kernel: {r}"
    # A learns the kernel's MAC from the kernel's own request (RFC 826 merge), so it may never
    # need to ask; if it does, only for its gateway, from its own address
    assert all(r["arp.dst.proto_ipv4"] == w.k_ip_a and r["arp.src.proto_ipv4"] == w.a_ip and
               r["arp.src.hw_mac"] == w.mac_a for r in a_req), \
        "A resolves its gateway (and only it) by ARP"
    L.log(f"capture: {len(kernel_req)} ARP requests for A, {len(a_rep)} replies from A; "
          f"{len(told)} announcements and {len(a_req)} ARP requests from A (for its gateway)")


def check_icmp(recs, w):
    req = {(r["icmp.ident"], r["icmp.seq"]): r for r in recs if r["icmp.type"] == "8"}
    rep = {(r["icmp.ident"], r["icmp.seq"]): r for r in recs if r["icmp.type"] == "0"}
    want = sum(c for c, _ in PINGS)
    assert len(req) == want and len(rep) == want, \
        f"{want} echo requests and replies expected, got {len(req)} and {len(rep)}"
    for k, q in req.items():
        a = rep.get(k)
        assert a is not None, f"echo request {k} has no reply"
        assert (q["ip.src"], q["ip.dst"]) == (w.k_ip_a, w.a_ip)
        assert (a["ip.src"], a["ip.dst"], a["eth.src"], a["eth.dst"]) == \
            (w.a_ip, w.k_ip_a, w.mac_a, w.mac_ka), f"reply {k} is not addressed back: {a}"
        assert a["data.data"] == q["data.data"] and a["ip.len"] == q["ip.len"], \
            f"echo reply {k} does not carry the request's data"
        assert a["icmp.code"] == "0" and a["icmp.checksum.status"] == "1"
    L.log(f"capture: {len(req)} echo requests, {len(rep)} identical replies")


def session_ids(recs, w, a):
    """The connection ids of the session, from the handshake: A's answer names both."""
    inits, resp = set(), None
    for r in recs:
        if r["udp.dstport"] != str(a.udp_port) or not r["data.data"]:
            continue
        p = bytes.fromhex(r["data.data"])
        if p[0] == L.MSG_IK_INIT and r["ip.src"] == w.b_ip:
            inits.add(struct.unpack("!I", p[4:8])[0])
        elif p[0] == L.MSG_IK_RESP and r["ip.src"] == w.a_ip:
            resp = struct.unpack("!II", p[4:12])
    assert resp is not None, "no IK answer from A in the capture"
    assert resp[1] in inits, "A's answer echoes the sender id of one of B's initiations"
    return {"a": resp[0], "b": resp[1]}


def check_sluice(recs, w, a, b):
    """Every sluice packet on A's link, checked against sl_wire.h."""
    seen = {}
    pns = {}
    ids = session_ids(recs, w, a)
    for r in recs:
        if r["udp.dstport"] != str(a.udp_port) and r["udp.srcport"] != str(a.udp_port):
            continue
        frm = r["ip.src"]
        assert frm in (w.a_ip, w.b_ip) and r["ip.dst"] in (w.a_ip, w.b_ip) and \
            r["ip.dst"] != frm, f"frame {r['frame.number']}: unexpected addresses"
        assert r["ip.flags.df"] == "1" and r["ip.hdr_len"] == "20"
        # A sends with TTL 64; B's packets crossed the kernel once
        assert r["ip.ttl"] == ("64" if frm == w.a_ip else "63"), f"TTL in {r}"
        p = bytes.fromhex(r["data.data"])
        assert int(r["udp.length"]) == 8 + len(p)
        t = p[0]
        assert t in L.MSG_NAME, f"frame {r['frame.number']}: unknown sluice type {t}"
        name = L.MSG_NAME[t]
        seen[(frm, name)] = seen.get((frm, name), 0) + 1
        if t == L.MSG_DATA:
            assert 32 <= len(p) <= 1500 - 28, f"data packet of {len(p)} bytes"
            assert p[1:4] == b"\0\0\0", "data header reserved bytes"
            rcv, pn = struct.unpack("!IQ", p[4:16])
            want = ids["a"] if frm == w.b_ip else ids["b"]
            assert rcv == want, f"data packet to connection id {rcv:#x}, want {want:#x}"
            # (both ends may pick the same id: 8 random generation bits, one slot)
            assert (frm, rcv, pn) not in pns, \
                f"packet number {pn} reused from {frm} to id {rcv:#x}"
            pns[(frm, rcv, pn)] = r["frame.number"]
            assert r["udp.checksum.status"] in ("1", "3"), "UDP checksum good or absent (0)"
            continue
        assert len(p) == L.MSG_SIZE[t], f"{name} of {len(p)} bytes, want {L.MSG_SIZE[t]}"
        assert r["udp.checksum.status"] in ("1", "3")
        if t in (L.MSG_IK_INIT, L.MSG_IK_RESP):
            assert p[1] in (1, 2) and p[2:4] == b"\0\0", f"{name}: suite / reserved bytes"
            # mac1 is keyed by the receiver's static key: proves the layout byte for byte
            rkey = a.pub if frm == w.b_ip else b.pub
            assert p[-32:-16] == L.mac1(p, L.mac1_key_peer(rkey)), f"{name}: bad mac1"
    L.log("capture: sluice packets " +
          ", ".join(f"{'A' if f == w.a_ip else 'B'}:{n}={c}" for (f, n), c in sorted(seen.items()))
          + f"; connection ids A={ids['a']:#010x} B={ids['b']:#010x}")
    assert seen.get((w.b_ip, "ik_init"), 0) >= 1 and seen.get((w.a_ip, "ik_resp"), 0) >= 1
    assert seen.get((w.b_ip, "data"), 0) >= 1 and seen.get((w.a_ip, "data"), 0) >= 1


def main(sluice):
    L.skip_unless_possible(("ip", "tshark", "dumpcap"))
    L.install_signal_handlers()
    with L.World.routed("kern") as w:
        cores = sorted(os.sched_getaffinity(0))
        a = L.Appliance(w, sluice, "a", w.a, w.if_a, w.a_ip, w.k_ip_a, cores[0],
                        services=[{"type": "sink", "channel": 1},
                                  {"type": "echo", "channel": 2}])
        b = L.Appliance(w, sluice, "b", w.b, w.if_b, w.b_ip, w.k_ip_b, cores[-1],
                        peers=[a.peer_entry("a")],
                        services=[{"type": "source", "channel": 1, "peer": "a",
                                   "count": SINK_COUNT, "size": {"min": 1, "max": 4000}},
                                  {"type": "source", "channel": 2, "peer": "a",
                                   "count": ECHO_COUNT, "size": {"min": 1, "max": 1200},
                                   "expect_echo": True}])
        L.tshark_selftest(w.tmp, a.udp_port)
        cap = L.Capture(w, w.k, w.if_ka)

        # 1-2: the kernel resolves A by ARP and pings it
        a.start()
        a.telemetry()
        assert w.a_ip not in L.run("ip", "-n", w.k, "neigh", "show", "dev", w.if_ka).stdout
        for count, size in PINGS:
            got = ping(w, count, size)
            assert got == count, f"ping -s {size}: {got} of {count} replies"
        neigh = L.run("ip", "-n", w.k, "neigh", "show", w.a_ip, "dev", w.if_ka).stdout
        assert w.mac_a in neigh.lower(), f"the kernel's neighbour entry for A: {neigh!r}"
        adm = a.query("/sluice/drops")["admission"]
        assert adm["arp_replies_sent"] >= 1, adm

        # 3: B through the kernel
        b.start("--exit-when-done")
        b.wait_exit(timeout=60)
        a.stop()
        cap.stop()
        sa, sb = L.check_clean_exit(a), L.check_clean_exit(b)
        sink, echo = sa["services"]
        assert (sink["msgs_verified"], sink["lost"], sink["duplicated"], sink["corrupt"]) == \
            (str(SINK_COUNT), "0", "0", "0"), f"A's sink: {sink}"
        assert echo["msgs_echoed"] == str(ECHO_COUNT), f"A's echo: {echo}"
        src_echo = sb["services"][1]
        assert (src_echo["msgs_verified"], src_echo["lost"], src_echo["corrupt"]) == \
            (str(ECHO_COUNT), "0", "0"), f"B's echo source: {src_echo}"
        assert sa["drops"]["total"] == 0 and sb["drops"]["total"] == 0, \
            f"drops on a clean link: A {sa['drops']}, B {sb['drops']}"

        # 4: the capture
        problems = L.tshark_problems(cap.path, a.udp_port)
        assert not problems, "tshark finds problems:\n" + "\n".join(problems[:20])
        recs = L.tshark_records(cap.path, a.udp_port)
        L.log(f"capture: {len(recs)} frames, none malformed, no bad checksum")
        for r in recs:
            assert r["frame.protocols"] in ("eth:ethertype:arp", "eth:ethertype:ip:icmp:data",
                                            "eth:ethertype:ip:udp:data"), \
                f"frame {r['frame.number']}: unexpected {r['frame.protocols']}"
        check_arp(recs, w)
        check_icmp(recs, w)
        check_sluice(recs, w, a, b)
    L.log("PASS")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: test_kernel.py SLUICE")
    sys.exit(main(os.path.abspath(sys.argv[1])))
