#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""sluice under hostile input (issue 4): every bad frame dropped and counted by its reason, no
crash, no mbuf leaked, and the established session keeps delivering.

    test_hostile.py SLUICE      (root; exits 77, skipped, when namespaces are unavailable)

World (netns_lib.World.routed): appliance A (a sink; two lcores, one rx queue each, when there
are two CPUs, so hostile packets also take the handoff path) and appliance B (a source sending
to it without end, rate-limited) talk through the kernel, which routes between their subnets. An
injector — a raw AF_PACKET socket in the kernel's namespace, on the kernel's side of A's link —
first records a few of B's real data packets on their way to A, then sends A, a known number of
times each, frames it builds byte by byte:

  Ethernet  other destination MAC, broadcast IPv4, unknown EtherTypes, 802.1Q and 802.1ad tags
  ARP       malformed (hardware/protocol/lengths/op, multicast or own sender MAC, loopback sender
            IP, truncated, a reply without sender address) and not for A
  IPv4      truncated frames, bad version, header length, options, bad header checksum, total
            length beyond the frame or below 20, fragments, TTL 0, not for A, bad sources
            (0/8, loopback, multicast, class E, broadcasts, A's own), unknown protocols
  UDP       too short, length different from the IP payload, bad checksum, wrong or zero port
  ICMP      too short, bad checksum, everything but an echo request
  sluice    empty and short messages of each type, unknown types, random bytes (the expected
            reason of each computed by a model of the classifier), data packets with unknown
            connection ids, with reserved bits set, with forged ciphertext at packet numbers
            ahead of the window, at packet numbers past the key's limit, replays of B's real
            packets; handshake messages with bad mac1, answers and cookies nobody asked for
  floods    IK and XX initiations with a valid mac1 from one source, far above 20/s

Then: every dataplane drop counter rose by exactly what was sent for its reason and no other
counter moved; admission and control counters likewise (the rate limiter: accepted +
ratelimited + cookies = sent, and at most burst + rate x elapsed accepted); every answer A sent
to the injector is an XX answer or a cookie no larger than what triggered it; the session with
B is the same one (same connection id) and its sink kept verifying messages; A's own frames in a
capture of the whole run are well-formed; both appliances exit 0 after a graceful close with
lost = duplicated = corrupt = 0, every message B queued verified by A, and no mbuf in use.

Set SLUICE_NETNS_SEED to replay the random parts of a run (the seed is printed).
"""
import os
import random
import re
import select
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import netns_lib as L  # noqa: E402

INJ_PORT = 47001          # the injector's UDP source port (its answers land in a socket)
PACE_BURST = 16           # frames sent back to back, then a short pause: A's rx ring never fills
PACE_PAUSE = 0.002
FLOOD_IK, FLOOD_XX = 100, 50
FLOOD_GAP = 0.002         # 500 initiations a second from one address, against 20/s allowed
RATE, BURST = 20, 5       # limits.handshakes_per_sec / handshake_burst (the defaults)
SOURCE_RATE = 400         # B's messages a second (the session runs throughout)


class Injector:
    """Builds frames from the kernel's side of A's link and sends them."""

    def __init__(self, w, a):
        self.w, self.a = w, a
        self.sock = L.raw_socket(w.k, w.if_ka)
        self.src_mac, self.dst_mac = L.mac_bytes(w.mac_ka), L.mac_bytes(w.mac_a)
        self.src, self.dst = L.ip_bytes(w.k_ip_a), L.ip_bytes(w.a_ip)
        self.sent = 0
        self.cases = []   # (label, frames, expect)

    # --- building ------------------------------------------------------------------------

    def frame(self, l3, etype=0x0800, dst_mac=None, src_mac=None):
        return L.eth(dst_mac or self.dst_mac, src_mac or self.src_mac, etype, l3)

    def ip(self, proto, l4, **kw):
        return self.frame(L.ipv4(kw.pop("src", self.src), kw.pop("dst", self.dst), proto, l4,
                                 **kw))

    def udp(self, payload, sport=INJ_PORT, dport=None, ip_kw=None, **kw):
        dport = self.a.udp_port if dport is None else dport
        src = (ip_kw or {}).get("src", self.src)
        dst = (ip_kw or {}).get("dst", self.dst)
        return self.ip(17, L.udp(src, dst, sport, dport, payload, **kw), **(ip_kw or {}))

    def case(self, label, frames, **expect):
        """expect: counter -> delta, counters named dp_<reason>, adm_<name>, ctl_<name>."""
        self.cases.append((label, list(frames), expect))

    # --- sending -------------------------------------------------------------------------

    def send(self, frames, gap=None):
        for i, f in enumerate(frames):
            self.sock.send(f)
            self.sent += 1
            if gap is not None:
                time.sleep(gap)
            elif i % PACE_BURST == PACE_BURST - 1:
                time.sleep(PACE_PAUSE)
        time.sleep(PACE_PAUSE)


def record_data_packets(w, a, n, timeout=20):
    """B's data packets as the kernel forwards them to A (whole frames, from the wire)."""
    s = L.raw_socket(w.k, w.if_ka)
    s.settimeout(1)
    got, deadline = [], time.monotonic() + timeout
    b_ip, a_ip = L.ip_bytes(w.b_ip), L.ip_bytes(w.a_ip)
    try:
        while len(got) < n and time.monotonic() < deadline:
            try:
                f, addr = s.recvfrom(65535)
            except socket.timeout:
                continue
            if addr[2] != L.PACKET_OUTGOING or f[12:14] != b"\x08\x00" or f[23] != 17:
                continue
            if f[26:30] != b_ip or f[30:34] != a_ip:
                continue
            if struct.unpack("!H", f[36:38])[0] == a.udp_port and f[42] == L.MSG_DATA:
                got.append(f)
    finally:
        s.close()
    assert len(got) == n, f"recorded {len(got)} of {n} data packets from B to A"
    return got


# --- the cases ---------------------------------------------------------------------------------

def ethernet_cases(j):
    pl = bytes(64)
    j.case("other unicast destination MAC", [j.frame(L.ipv4(j.src, j.dst, 17, L.udp(
        j.src, j.dst, INJ_PORT, j.a.udp_port, pl)), dst_mac=L.mac_bytes("02:00:5e:00:00:99"))]
        * 6, dp_eth_not_for_us=6)
    j.case("broadcast IPv4", [j.frame(L.ipv4(j.src, j.dst, 17, L.udp(
        j.src, j.dst, INJ_PORT, j.a.udp_port, pl)), dst_mac=b"\xff" * 6)] * 4,
        dp_eth_not_for_us=4)
    # sources nobody may answer: an echo reply or handshake answer would flood the segment
    echo = L.icmp(8, 0, b"\x12\x34\0\1", b"ping")
    init = bytes([L.MSG_XX_INIT]) + bytes(L.MSG_SIZE[L.MSG_XX_INIT] - 1)
    j.case("broadcast, multicast, zero or A's own source MAC", [
        j.frame(l3, src_mac=mac)
        for mac in (b"\xff" * 6, L.mac_bytes("01:00:5e:00:00:01"), bytes(6), j.dst_mac)
        for l3 in (L.ipv4(j.src, j.dst, 1, echo),
                   L.ipv4(j.src, j.dst, 17, L.udp(j.src, j.dst, INJ_PORT, j.a.udp_port, init)))],
        dp_eth_bad_source=8)
    j.case("unknown EtherTypes", [j.frame(pl, etype=t) for t in (0x86DD, 0x88B5, 0x0842,
                                                                    0x0600)] * 2,
           dp_eth_unknown_type=8)
    inner = L.ipv4(j.src, j.dst, 17, L.udp(j.src, j.dst, INJ_PORT, j.a.udp_port, pl))
    j.case("802.1Q and 802.1ad tags", [
        L.vlan_eth(j.dst_mac, j.src_mac, 7, 0x0800, inner),
        j.dst_mac + j.src_mac + struct.pack("!HHHH", 0x88A8, 9, 0x8100, 7) +
        struct.pack("!H", 0x0800) + inner] * 3, dp_vlan=6)


def arp_cases(j):
    sha, spa, tpa = j.src_mac, j.src, j.dst
    z = bytes(6)

    def arp_frame(body, dst=b"\xff" * 6):
        return j.frame(body, etype=0x0806, dst_mac=dst)
    j.case("ARP malformed", [
        arp_frame(L.arp(1, sha, spa, z, tpa, htype=6)),
        arp_frame(L.arp(1, sha, spa, z, tpa, ptype=0x86DD)),
        arp_frame(L.arp(1, sha + b"\0\0", spa, z + b"\0\0", tpa, hlen=8)),
        arp_frame(L.arp(1, sha, spa + b"\0" * 12, z, tpa + b"\0" * 12, plen=16)),
        arp_frame(L.arp(3, sha, spa, z, tpa)),                          # op 3 (RARP)
        arp_frame(L.arp(1, L.mac_bytes("01:00:5e:00:00:01"), spa, z, tpa)),  # multicast
        arp_frame(L.arp(1, z, spa, z, tpa)),                            # zero sender MAC
        arp_frame(L.arp(1, sha, L.ip_bytes("127.0.0.1"), z, tpa)),      # loopback sender
        arp_frame(L.arp(2, sha, bytes(4), j.dst_mac, tpa), dst=j.dst_mac),  # reply, no sender
        arp_frame(L.arp(1, sha, spa, z, tpa)[:20]),                     # truncated
    ], dp_arp_malformed=10)
    j.case("ARP not for A", [
        arp_frame(L.arp(1, sha, spa, z, L.ip_bytes("198.18.0.77"))),   # someone else
        arp_frame(L.arp(1, sha, tpa, z, spa)),                          # A's address, not A
        arp_frame(L.arp(1, j.dst_mac, spa, z, tpa)),                    # A's own MAC
        arp_frame(L.arp(2, sha, spa, j.dst_mac, L.ip_bytes("198.18.0.78")), dst=j.dst_mac),
    ] * 2, dp_arp_not_for_us=8)


def ipv4_cases(j):
    pl = L.udp(j.src, j.dst, INJ_PORT, j.a.udp_port, bytes(32))
    good = L.ipv4(j.src, j.dst, 17, pl)
    ik = j.udp(bytes([L.MSG_IK_INIT]) + bytes(199))
    j.case("truncated before the end of the IPv4 header", [
        j.frame(b""), j.frame(good[:1]), j.frame(good[:10]), j.frame(good[:19]),
        ik[:14 + 12]], dp_ipv4_too_short=5)
    j.case("truncated after the IPv4 header (total length beyond the frame)", [
        ik[:14 + 20], ik[:14 + 28], ik[:14 + 28 + 100], ik[:-1]], dp_ipv4_bad_length=4)
    j.case("IPv4 version not 4", [j.frame(L.ipv4(j.src, j.dst, 17, pl, version=v))
                                  for v in (0, 5, 6, 15)], dp_ipv4_bad_version=4)
    j.case("IPv4 header length < 20", [j.frame(L.ipv4(j.src, j.dst, 17, pl, ihl=i))
                                       for i in (0, 1, 4)], dp_ipv4_bad_ihl=3)
    j.case("IPv4 options", [
        j.frame(L.ipv4(j.src, j.dst, 17, pl, ihl=6, options=b"\x01\x01\x01\x00")),
        j.frame(L.ipv4(j.src, j.dst, 17, pl, ihl=15, options=b"\x01" * 39 + b"\0")),
        j.frame(L.ipv4(j.src, j.dst, 17, pl, ihl=7, options=b"\x94\x04\0\0" + b"\x01" * 4))],
        dp_ipv4_options=3)
    j.case("IPv4 header checksum", [j.frame(L.ipv4(j.src, j.dst, p, pl, ttl=t, cksum="bad"))
                                    for p in (1, 17, 6) for t in (1, 64, 255)],
           dp_ipv4_bad_checksum=9)
    j.case("IPv4 total length", [j.frame(L.ipv4(j.src, j.dst, 17, pl, tot_len=n))
                                 for n in (0, 19, 1000, 65535, len(good) + 1)],
           dp_ipv4_bad_length=5)
    # Fragments never reach the dataplane through net_af_packet: DPDK's driver joins its
    # sockets to a fanout group with PACKET_FANOUT_FLAG_DEFRAG, so the kernel reassembles them
    # first. Lone fragments (each of a datagram of its own) stay in the kernel and nothing is
    # counted; a datagram sent whole in two fragments reaches A whole and is classified as
    # one (ipv4_fragment itself is covered by tests/test_net.c).
    j.case("lone IPv4 fragments (held by the kernel)", [
        j.frame(L.ipv4(j.src, j.dst, 17, pl, frag=f, ident=0xF000 + i))
        for i, f in enumerate((0x2000, 0x0001, 0x4001, 0x1FFF, 0x2000 | 185))])
    whole = L.udp(j.src, j.dst, INJ_PORT, j.a.udp_port, bytes([0x99]) + bytes(999))
    j.case("IPv4 datagrams in two fragments (reassembled by the kernel)", [
        j.frame(L.ipv4(j.src, j.dst, 17, part, ident=ident, frag=frag))
        for ident in (0xF100, 0xF101)
        for part, frag in ((whole[:504], 0x2000), (whole[504:], 504 // 8))],
        dp_sluice_unknown_type=2)
    j.case("IPv4 TTL 0", [j.frame(L.ipv4(j.src, j.dst, 17, pl, ttl=0))] * 3,
           dp_ipv4_ttl_zero=3)
    j.case("IPv4 not for A", [
        j.frame(L.ipv4(j.src, L.ip_bytes(d), 17, L.udp(j.src, L.ip_bytes(d), INJ_PORT,
                                                       j.a.udp_port, bytes(32))))
        for d in ("198.18.0.99", "198.18.0.255", "198.18.1.2", "255.255.255.255")],
        dp_ipv4_not_for_us=4)
    bad_src = ("0.0.0.0", "0.1.2.3", "127.0.0.1", "224.0.0.5", "239.1.1.1", "240.0.0.1",
               "255.255.255.255", "198.18.0.255", "198.18.0.2")
    j.case("IPv4 bad source", [
        j.frame(L.ipv4(L.ip_bytes(s), j.dst, 17, L.udp(L.ip_bytes(s), j.dst, INJ_PORT,
                                                       j.a.udp_port, bytes(32))))
        for s in bad_src], dp_ipv4_bad_source=len(bad_src))
    j.case("IPv4 unknown protocol", [j.frame(L.ipv4(j.src, j.dst, p, bytes(40)))
                                     for p in (0, 2, 6, 47, 50, 89, 132, 255)],
           dp_ipv4_unknown_proto=8)


def udp_icmp_cases(j):
    msg = bytes([L.MSG_IK_INIT]) + bytes(199)
    full = L.udp(j.src, j.dst, INJ_PORT, j.a.udp_port, msg)
    j.case("UDP shorter than its header", [j.frame(L.ipv4(j.src, j.dst, 17, full[:n]))
                                           for n in (0, 1, 4, 7)], dp_udp_too_short=4)
    j.case("UDP length not the IP payload's", [
        j.udp(msg, length=len(msg) + 8 - 1), j.udp(msg, length=len(msg) + 8 + 1),
        j.udp(msg, length=0), j.udp(msg, length=8), j.udp(msg, length=0xFFFF),
        j.frame(L.ipv4(j.src, j.dst, 17, full + b"trailing"))], dp_udp_bad_length=6)
    j.case("UDP checksum", [j.udp(msg, cksum="bad"), j.udp(b"", cksum="bad"),
                            j.udp(bytes([L.MSG_DATA]) + bytes(63), cksum="bad"),
                            j.udp(b"\xff" * 1001, cksum="bad")] * 2, dp_udp_bad_checksum=8)
    j.case("UDP port", [j.udp(msg, dport=p) for p in (j.a.udp_port + 1, 4789, 1, 65535)] +
           [j.udp(msg, sport=0)] * 2, dp_udp_wrong_port=6)
    echo = L.icmp(8, 0, b"\x12\x34\0\1", b"hostile ping")
    j.case("ICMP shorter than an echo header", [j.ip(1, echo[:n]) for n in (0, 1, 4, 7)],
           dp_icmp_malformed=4)
    j.case("ICMP checksum", [j.ip(1, L.icmp(8, 0, b"\x12\x34\0\2", b"x" * n, cksum="bad"))
                             for n in (0, 1, 56, 1000)], dp_icmp_bad_checksum=4)
    j.case("ICMP other than an echo request", [
        j.ip(1, L.icmp(t, c, b"\0" * 4, b"y" * 20))
        for t, c in ((0, 0), (3, 3), (5, 1), (8, 1), (11, 0), (13, 0), (17, 0), (255, 255))],
        dp_icmp_not_echo=8)


def sluice_cases(j, rng, live_id, recorded):
    hdr = struct.Struct("!B3sIQ")  # struct sl_data_hdr
    j.case("sluice messages shorter than their type", [
        j.udp(b"")] + [j.udp(bytes([t]) + bytes(L.MSG_MIN[t] - 2)) for t in L.MSG_MIN] +
        [j.udp(bytes([L.MSG_DATA]))], dp_sluice_too_short=2 + len(L.MSG_MIN))
    j.case("sluice unknown types", [j.udp(bytes([t]) + rng.randbytes(100))
                                    for t in (0, 13, 14, 0x40, 0x7F, 0x80, 0xFF)],
           dp_sluice_unknown_type=7)
    # relay headers (docs/protocol.md, 17.1): malformed ones, and well-formed ones for a circuit
    # A does not forward (A is no relay)
    relay = struct.Struct("!B3sI")
    ik = bytes([L.MSG_IK_INIT]) + bytes(L.MSG_MIN[L.MSG_IK_INIT] - 1)
    j.case("relay headers malformed", [
        j.udp(relay.pack(11, b"\x00\x00\x00", 0) + ik),       # circuit 0
        j.udp(relay.pack(12, b"\x01\x00\x00", 5) + ik),       # reserved bytes
        j.udp(relay.pack(12, bytes(3), 5) + relay.pack(11, bytes(3), 5) + ik),  # nested
        j.udp(relay.pack(11, bytes(3), 5) + ik[:100]),           # message too short
        j.udp(relay.pack(12, bytes(3), 5)),                      # nothing inside
        j.udp(bytes([11]) + rng.randbytes(100))],
        dp_relay_malformed=6)
    j.case("relay headers for no circuit of A's", [
        j.udp(relay.pack(11, bytes(3), c) + ik) for c in (5, 0x101, 0xFFFFFFFF)],
        dp_relay_unknown_circuit=3)

    def foreign_id():
        while True:
            rid = rng.getrandbits(32)
            if rid >> L.CONNID_SLOT_SHIFT != live_id >> L.CONNID_SLOT_SHIFT:
                return rid
    j.case("data packets for unknown connection ids", [
        j.udp(hdr.pack(L.MSG_DATA, b"\0\0\0", foreign_id(), rng.getrandbits(64)) +
              rng.randbytes(rng.randrange(16, 1400))) for _ in range(20)] +
        # the live session's slot with another generation; owners that do not exist
        [j.udp(hdr.pack(L.MSG_DATA, b"\0\0\0", rid, 1) + bytes(16))
         for rid in ((live_id & ~0xFF) | ((live_id + 1) & 0xFF), 0xFFFFFFFF,
                     live_id ^ (1 << L.CONNID_OWNER_SHIFT), live_id ^ (1 << 30))],
        dp_data_unknown_session=24)
    j.case("data packets with reserved bits set", [
        j.udp(hdr.pack(L.MSG_DATA, r, live_id, 1 << 40) + bytes(48))
        for r in (b"\1\0\0", b"\0\0\x80", b"\xff\xff\xff")], dp_data_bad_size=3)
    j.case("forged data packets ahead of the window", [
        j.udp(hdr.pack(L.MSG_DATA, b"\0\0\0", live_id, (1 << 40) + i) +
              rng.randbytes(rng.randrange(16, 1400))) for i in range(10)] +
        # a real packet of B's, moved to a packet number never seen: the tag covers it
        [f[:42 + 8] + struct.pack("!Q", (1 << 41) + i) + f[42 + 16:]
         for i, f in enumerate(recorded)], dp_data_decrypt_failed=10 + len(recorded))
    j.case("data packets past the key's packet-number limit", [
        j.udp(hdr.pack(L.MSG_DATA, b"\0\0\0", live_id, pn) + bytes(32))
        for pn in (2**64 - 1, 2**64 - 2**13, 2**64 - 2**13 + 7)], dp_data_key_expired=3)
    j.case("replayed data packets", recorded * 4, dp_data_replay=4 * len(recorded))
    # handshake messages nobody can have made: bad mac1, or answers to nothing
    junk = [j.udp(bytes([t]) + rng.randbytes(L.MSG_SIZE[t] - 1))
            for t in (L.MSG_IK_INIT, L.MSG_XX_INIT) for _ in range(5)]
    j.case("handshake initiations with a bad mac1", junk, adm_bad_mac1=10,
           ctl_handshake_msgs=10)
    longer = [j.udp(bytes([t]) + rng.randbytes(L.MSG_SIZE[t] - 1 + extra))
              for t in (L.MSG_IK_INIT, L.MSG_XX_INIT) for extra in (1, 2, 100)]
    j.case("handshake initiations longer than their type", longer, adm_bad_length=6,
           ctl_handshake_msgs=6)
    unasked = [j.udp(bytes([t]) + rng.randbytes(L.MSG_SIZE[t] - 1))
               for t in (L.MSG_IK_RESP, L.MSG_COOKIE, L.MSG_XX_RESP, L.MSG_XX_FINISH)] * 3
    j.case("answers and cookies nobody asked for", unasked, ctl_unmatched=12,
           ctl_handshake_msgs=12)


def random_bytes_case(j, rng, live_id, n=150):
    """Random payloads to A's UDP port; a model of the classifier (dataplane/dp_net.c, then
    dp_lcore.c and the control thread's dispatch) says where each one must end up."""
    frames, expect = [], {}
    live_slot = live_id >> L.CONNID_SLOT_SHIFT

    def count(k):
        expect[k] = expect.get(k, 0) + 1
    while len(frames) < n:
        p = rng.randbytes(rng.choice((0, 1, 2, rng.randrange(0, 256), rng.randrange(0, 1400))))
        if p and rng.random() < 0.5:  # half of them with a known type, to go further in
            p = bytes([rng.randrange(1, 11)]) + p[1:]
        if p and p[0] in (11, 12):  # relay headers: their own cases above
            continue
        if not p:
            count("dp_sluice_too_short")
        elif p[0] not in L.MSG_NAME:
            count("dp_sluice_unknown_type")
        elif len(p) < L.MSG_MIN[p[0]]:
            count("dp_sluice_too_short")
        elif p[0] == L.MSG_DATA:
            if struct.unpack("!I", p[4:8])[0] >> L.CONNID_SLOT_SHIFT == live_slot:
                continue  # the live session's slot: a matter of chance, not of the model
            count("dp_data_unknown_session")
        elif p[0] in (L.MSG_IK_INIT, L.MSG_XX_INIT, L.MSG_RESUME_INIT):
            # admission: exactly the type's size, then mac1
            count("adm_bad_mac1" if len(p) == L.MSG_SIZE[p[0]] else "adm_bad_length")
            count("ctl_handshake_msgs")
        else:
            count("ctl_unmatched")
            count("ctl_handshake_msgs")
        frames.append(j.udp(p))
    j.case(f"{n} random payloads to the UDP port", frames, **expect)


def truncated_echo_case(j):
    ping = j.ip(1, L.icmp(8, 0, b"\x12\x34\0\3", bytes(range(256)) * 4))
    j.case("truncated echo requests", [ping[:n] for n in (14 + 24, 14 + 28, 100, 600,
                                                          len(ping) - 1)],
           dp_ipv4_bad_length=5)


# --- counters ----------------------------------------------------------------------------------

def flatten(drops):
    out = {f"dp_{k}": v for k, v in drops["dataplane"].items()}
    out.update({f"adm_{k}": v for k, v in drops["admission"].items()})
    out.update({f"ctl_{k}": v for k, v in drops["control"].items()})
    out["rx_pkts"] = drops["rx_pkts"]
    return out


def compared(k):
    """The counters this test holds to account: all but traffic totals and ARP bookkeeping."""
    return k != "rx_pkts" and not k.startswith("adm_arp_")


def settled(a, timeout=10):
    """Counters that stopped moving: two reads more than a snapshot period (500 ms) apart
    agree on every counter compared."""
    deadline = time.monotonic() + timeout
    prev = None
    while True:
        cur = flatten(a.query("/sluice/drops"))
        if prev is not None and all(prev[k] == cur[k] for k in cur if compared(k)):
            return cur
        if time.monotonic() > deadline:
            return cur
        prev = cur
        time.sleep(0.6)


def wait_counts(a, base, expect, timeout=20):
    """Until every expected counter has risen by at least its delta; then the settled values."""
    deadline = time.monotonic() + timeout
    while True:
        cur = flatten(a.query("/sluice/drops"))
        if all(cur.get(k, 0) - base.get(k, 0) >= v for k, v in expect.items()):
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return settled(a)


def compare(base, cur, expect):
    """Exact, for every counter compared: those the cases name rose by what they say, every
    other one stayed where it was."""
    errors = []
    for k in sorted(set(cur) | set(expect)):
        if not compared(k):
            continue
        got, want = cur.get(k, 0) - base.get(k, 0), expect.get(k, 0)
        if got != want:
            errors.append(f"{k}: rose by {got}, expected {want}")
    return errors


# --- the floods --------------------------------------------------------------------------------

def flood(j, a, answers, kind, n, rng):
    """n initiations with a valid mac1 from one address; returns (accepted, ratelimited,
    cookies, seconds the control thread may have spent on them)."""
    if kind == "ik":
        key, size, t = L.mac1_key_peer(a.pub), L.MSG_SIZE[L.MSG_IK_INIT], L.MSG_IK_INIT
    else:
        key, size, t = L.mac1_key_anon(), L.MSG_SIZE[L.MSG_XX_INIT], L.MSG_XX_INIT
    frames = []
    for _ in range(n):
        body = bytes([t, 1, 0, 0]) + rng.randbytes(4)
        if kind == "ik":  # ephemeral, encrypted static key and payload: random
            body += rng.randbytes(size - L.MACS_LEN - 8)
        else:             # ephemeral, then the zero padding (Noise payload of message 1)
            body += rng.randbytes(32) + bytes(L.XX_INIT_PAD)
        frames.append(j.udp(L.with_macs(body, key)))
    base = settled(a)
    t0 = time.monotonic()
    j.send(frames, gap=FLOOD_GAP)
    keys = ("adm_accepted", "adm_ratelimited", "adm_cookies_sent")
    deadline = time.monotonic() + 20
    while True:
        cur = flatten(a.query("/sluice/drops"))
        d = {k: cur[k] - base[k] for k in keys}
        if sum(d.values()) >= n or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    span = time.monotonic() - t0
    cur = settled(a)
    d = {k: cur[k] - base[k] for k in cur}
    acc, rl, ck = d["adm_accepted"], d["adm_ratelimited"], d["adm_cookies_sent"]
    L.log(f"flood {kind}: {n} initiations in {span:.2f} s: accepted {acc}, ratelimited {rl}, "
          f"cookies {ck}")
    assert acc + rl + ck == n, f"{kind} flood: accepted+ratelimited+cookies {acc + rl + ck} != {n}"
    assert d["adm_bad_mac1"] == 0, f"{kind} flood: our mac1 was refused ({d['adm_bad_mac1']})"
    limit = BURST + RATE * span
    assert acc <= limit, f"{kind} flood: {acc} accepted in {span:.2f} s, at most {limit:.0f}"
    assert d["ctl_initiations_received"] == acc, d["ctl_initiations_received"]
    assert d["ctl_handshake_msgs"] == n, d["ctl_handshake_msgs"]
    if kind == "ik":  # random ciphertext: refused when it does not decrypt
        assert d["ctl_refused"] == acc and d["ctl_refused_decrypt_failed"] == acc, \
            f"ik flood: {acc} accepted, refused {d['ctl_refused']} " \
            f"(decrypt_failed {d['ctl_refused_decrypt_failed']})"
    # each accepted XX initiation is answered (its responder waits for a finish), each cookie
    # is a reply; nothing else comes back
    want = {L.MSG_XX_RESP: acc if kind == "xx" else 0, L.MSG_COOKIE: ck}
    got = drain_answers(answers, sum(want.values()))
    assert got == {t: n for t, n in want.items() if n}, \
        f"{kind} flood: answers received {got}, expected {want}"
    errors = [f"{k}: rose by {v}" for k, v in d.items() if k.startswith("dp_") and v != 0]
    assert not errors, f"{kind} flood moved dataplane counters: {errors}"
    return base, cur


def drain_answers(sock, want, timeout=10):
    """Read what A answered the injector, up to want messages: {type: count}. Only XX answers
    and cookies, of their exact sizes, may come: never more bytes than an initiation."""
    got, n, deadline = {}, 0, time.monotonic() + timeout
    while n < want and time.monotonic() < deadline:
        r, _, _ = select.select([sock], [], [], 0.2)
        if not r:
            continue
        p, src = sock.recvfrom(65535)
        assert p and p[0] in (L.MSG_XX_RESP, L.MSG_COOKIE) and len(p) == L.MSG_SIZE[p[0]], \
            f"unexpected answer to the injector from {src}: type {p[:1].hex()}, {len(p)} bytes"
        got[p[0]] = got.get(p[0], 0) + 1
        n += 1
    return got


def no_more_answers(sock):
    time.sleep(0.3)
    r, _, _ = select.select([sock], [], [], 0)
    if r:
        p, src = sock.recvfrom(65535)
        raise AssertionError(f"an answer nobody should get: {len(p)} bytes, type "
                             f"{p[:1].hex()} from {src}")


# --- the test ----------------------------------------------------------------------------------

def sink_verified(a):
    return int(a.query("/sluice/services")["0"]["msgs_verified"])


def start_session(w, sluice):
    """A and B up, B's source delivering to A's sink; returns them, B's view of the session
    and A's connection id for it."""
    cores = sorted(os.sched_getaffinity(0))
    # A polls with two lcores where there are two CPUs: hostile frames land on both, and the
    # session's packets that land on the lcore that does not own it are handed off
    a = L.Appliance(w, sluice, "a", w.a, w.if_a, w.a_ip, w.k_ip_a, cores[:2],
                    services=[{"type": "sink", "channel": 1}])
    b = L.Appliance(w, sluice, "b", w.b, w.if_b, w.b_ip, w.k_ip_b, cores[-1],
                    peers=[a.peer_entry("a")],
                    services=[{"type": "source", "channel": 1, "peer": "a",
                               "size": {"min": 1, "max": 3000}, "rate": SOURCE_RATE}])
    a.start()
    a.telemetry()
    b.start()
    b.telemetry()
    peer_b = b.wait_connected()
    a.wait_for("messages at A's sink", lambda s: int(s["0"]["msgs_verified"]) >= 50,
               "/sluice/services", 30)
    # A's id for the session, as B knows it (A's /sluice/peers cannot show a node that is not
    # one of its configured peers: DPDK telemetry refuses the entry's name)
    return a, b, peer_b, peer_b["remote_id"]


def inject_all(j, a):
    """Send every case; every counter compared must have moved by exactly what they say."""
    base = settled(a)
    expect = {}
    for _, frames, exp in j.cases:
        j.send(frames)
        for k, v in exp.items():
            expect[k] = expect.get(k, 0) + v
    errors = compare(base, wait_counts(a, base, expect), expect)
    if errors:
        for e in errors:
            k = e.split(":")[0]
            L.log(f"{k}: cases that expect it: " +
                  (", ".join(lbl for lbl, _, exp in j.cases if k in exp) or "none"))
        L.log("ethdev stats of A's port: " + str(a.query("/ethdev/stats,0")))
    assert not errors, "counters after the hostile frames:\n  " + "\n  ".join(errors)
    L.log(f"{j.sent} hostile frames in {len(j.cases)} cases: every one counted under its "
          f"reason ({sum(v for k, v in expect.items() if k.startswith('dp_'))} dataplane "
          f"drops, {expect.get('adm_bad_mac1', 0)} bad mac1, "
          f"{expect.get('ctl_unmatched', 0)} unmatched)")


def check_survived(a, b, peer_b, live_id, verified_before):
    """The session is the one from before (same ids, one connect) and still delivering."""
    after = sink_verified(a)
    a.wait_for("the sink to go on verifying", lambda s: int(s["0"]["msgs_verified"]) >=
               after + SOURCE_RATE // 2, "/sluice/services", 30)
    peer_now = b.wait_connected()
    assert (peer_now["connid"], peer_now["remote_id"], peer_now["connects"]) == \
        (peer_b["connid"], live_id, 1), f"the session was replaced: {peer_now}"
    assert a.query("/sluice/info")["sessions_live"] == 1
    L.log(f"sink verified {verified_before} messages before the hostile frames, {after} "
          f"after them, and goes on")


def check_end(w, a, b, cap):
    """After a graceful stop: nothing lost, no leak, and A's own frames well-formed."""
    sa, sb = L.check_clean_exit(a), L.check_clean_exit(b)
    sink, src = sa["services"][0], sb["services"][0]
    assert (sink["lost"], sink["duplicated"], sink["corrupt"]) == ("0", "0", "0"), sink
    assert sink["msgs_verified"] == src["msgs_sent"], \
        f"A verified {sink['msgs_verified']} messages, B queued {src['msgs_sent']}"
    handoffs = re.search(r"handoffs=(\d+)", a.output())
    L.log(f"graceful close: A verified all {sink['msgs_verified']} messages B sent; no mbuf "
          f"in use at exit on either; A's lcores handed off "
          f"{handoffs.group(1) if handoffs else '?'} packets")
    broken = L.tshark_problems(cap.path, a.udp_port)
    own = L.tshark(cap.path, a.udp_port, "-Y", f"eth.src == {w.mac_a} and ({L.PROBLEMS})")
    assert not own.strip(), "A sent frames tshark finds broken:\n" + own[:3000]
    L.log(f"capture: A's frames well-formed ({len(broken)} broken frames, all the injector's)")


def main(sluice):
    L.skip_unless_possible(("ip", "tshark", "dumpcap"))
    L.install_signal_handlers()
    seed = int(os.environ.get("SLUICE_NETNS_SEED", random.SystemRandom().getrandbits(32)))
    L.log(f"seed {seed} (SLUICE_NETNS_SEED={seed} replays the random parts)")
    rng = random.Random(seed)
    with L.World.routed("host") as w:
        answers = L.udp_socket(w.k, w.k_ip_a, INJ_PORT)
        cap = L.Capture(w, w.k, w.if_ka)
        a, b, peer_b, live_id = start_session(w, sluice)
        recorded = record_data_packets(w, a, 5)
        for f in recorded:
            assert struct.unpack("!I", f[46:50])[0] == live_id, "B's packets carry A's id"
        L.log(f"session B->A up, A's connection id {live_id:#010x}; recorded "
              f"{len(recorded)} of B's data packets")

        j = Injector(w, a)
        ethernet_cases(j)
        arp_cases(j)
        ipv4_cases(j)
        truncated_echo_case(j)
        udp_icmp_cases(j)
        sluice_cases(j, rng, live_id, recorded)
        random_bytes_case(j, rng, live_id)
        verified_before = sink_verified(a)
        inject_all(j, a)
        no_more_answers(answers)
        flood(j, a, answers, "ik", FLOOD_IK, rng)
        flood(j, a, answers, "xx", FLOOD_XX, rng)
        no_more_answers(answers)
        check_survived(a, b, peer_b, live_id, verified_before)

        b.stop()
        a.stop()
        cap.stop()
        answers.close()
        check_end(w, a, b, cap)
    L.log("PASS")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: test_hostile.py SLUICE")
    sys.exit(main(os.path.abspath(sys.argv[1])))
