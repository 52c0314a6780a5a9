# SPDX-License-Identifier: BSD-3-Clause
"""Section 4 of the perf rig: testpmd as the attacker. Crafted frames (attack_frames(),
udp_frame(), write_pcap()), the Attacker (testpmd replaying a capture in a loop, or txonly),
attack_pcap() / attack_txonly() in one call, and attack_check(): one appliance flooded, every
packet it received accounted for under a reason (`python3 perf/rig_testpmd.py attack-check
build/sluice`). perf/rig_testpmd.py has the overview and the command line; the testpmd process
and memif's quirks are in rig_testpmd_proc.py.

Python 3 standard library only.
"""
import os
import random
import struct
import time

# rig_testpmd_proc puts scripts/ (sl_frames) and tests/integration (sl_integ) on sys.path
from rig_testpmd_proc import Testpmd, kv_line, load_integ, rig_world, scalars, wait_until
from sl_frames import csum, ip_bytes, mac_bytes


# --- section 4: testpmd as the attacker -----------------------------------------------------------

def udp_frame(dst_mac, src_mac, src_ip, dst_ip, sport, dport, payload, ident=0,
              bad_ip_csum=False, bad_udp_csum=False):
    """An Ethernet/IPv4/UDP frame (no FCS), with valid IPv4 and UDP checksums unless told."""
    src, dst = ip_bytes(src_ip), ip_bytes(dst_ip)
    ulen = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    uc = csum(pseudo + udp) or 0xffff
    if bad_udp_csum:
        uc = (uc + 0x1111) & 0xffff or 0x1111
    udp = udp[:6] + struct.pack("!H", uc) + udp[8:]
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, ident & 0xffff, 0x4000, 64, 17, 0,
                      src, dst)
    ic = csum(hdr)
    if bad_ip_csum:
        ic ^= 0x5a5a
    ip = hdr[:10] + struct.pack("!H", ic) + hdr[12:] + udp
    frame = dst_mac + src_mac + b"\x08\x00" + ip
    return frame + b"\0" * max(0, 60 - len(frame))


# kind of crafted frame -> where the appliance counts it
ATTACK_KINDS = {
    "garbage": "sluice_unknown_type",          # dataplane drop
    "data_unknown": "data_unknown_session",    # dataplane drop
    "handshake_junk": "bad_mac1",               # admission (control thread), or
                                                # handshake_queue_full if the ring was full
    "bad_ip_csum": "ipv4_bad_checksum",        # dataplane drop
    "bad_udp_csum": "udp_bad_checksum",        # dataplane drop
}


IK_INIT_LEN = 208  # sizeof(struct sl_msg_ik_init): shorter is dropped as sluice_too_short


def attack_frames(dst_mac, dst_ip, udp_port, src_ip="198.18.4.99", src_mac="02:00:00:00:04:63",
                  n=1000, mix=None, seed=1):
    """Crafted frames addressed to an appliance (its port's MAC, IPv4 address and UDP port),
    from an on-subnet source address. Returns [(kind, frame)] in random order. Kinds:

      garbage         random bytes of random length (1..1400) whose first byte is no message
                      type (0 or 11..255): dropped as sluice_unknown_type
      data_unknown    a data header (type 4, a random receiver connection id, a random packet
                      number) and 16..1400 random bytes: data_unknown_session
      handshake_junk  208 bytes (an IK initiation's size, sl_wire.h): type 1, suite 1, random
                      rest: passed to the control thread, refused by admission (bad_mac1)
      bad_ip_csum, bad_udp_csum   a garbage datagram with a wrong IPv4 header / UDP checksum

    All others have valid IPv4 and UDP checksums, so they get past the stack to the sluice
    classification. mix: {kind: share}; default 45% garbage, 40% data, 12% handshake, 1.5% each
    bad checksum."""
    rnd = random.Random(seed)
    mix = mix or {"garbage": 0.45, "data_unknown": 0.40, "handshake_junk": 0.12,
                  "bad_ip_csum": 0.015, "bad_udp_csum": 0.015}
    dmac, smac = mac_bytes(dst_mac), mac_bytes(src_mac)
    counts = {k: max(1, round(n * share)) for k, share in mix.items() if share > 0}
    frames = []
    i = 0
    for kind, cnt in counts.items():
        for _ in range(cnt):
            i += 1
            if kind == "data_unknown":
                body = bytes([4, 0, 0, 0]) + rnd.getrandbits(32).to_bytes(4, "big") + \
                    rnd.getrandbits(64).to_bytes(8, "big") + rnd.randbytes(rnd.randint(16, 1400))
            elif kind == "handshake_junk":
                body = bytes([1, 1, 0, 0]) + rnd.randbytes(IK_INIT_LEN - 4)
            else:
                body = bytes([rnd.choice([0] + list(range(11, 256)))]) + \
                    rnd.randbytes(rnd.randint(0, 1399))
            fr = udp_frame(dmac, smac, src_ip, dst_ip, rnd.randint(1024, 65535), udp_port, body,
                           ident=i, bad_ip_csum=kind == "bad_ip_csum",
                           bad_udp_csum=kind == "bad_udp_csum")
            frames.append((kind, fr))
    rnd.shuffle(frames)
    return frames


def write_pcap(path, frames):
    """A classic pcap file (microsecond timestamps, link type 1 = Ethernet) of the frames
    (bytes, or (kind, bytes) pairs)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            if isinstance(fr, tuple):
                fr = fr[1]
            f.write(struct.pack("<IIII", 1700000000 + i // 1000000, i % 1000000, len(fr),
                                len(fr)))
            f.write(fr)


class Attacker:
    """testpmd as the attacker: a memif CLIENT port on the appliance's server socket (`device`)
    and, with `pcap`, a capture replayed in a loop (`net_pcap0,rx_pcap=FILE,infinite_rx=1`: the
    file is read once into memory). Port 0 is the capture, port 1 the memif port (port 0 when
    there is no capture).

        with Attacker(device, pcap=path, dst_mac=mac, src_ip=..., dst_ip=..., dst_port=...) as atk:
            r1 = atk.flood_pcap(2.0)       # io: capture -> appliance, flat out
            r2 = atk.flood_txonly(1.0)     # txonly: one UDP datagram over and over
            ... read the appliance's counters, stop the appliance ...
        # testpmd quits here, after the appliance is gone

    Stop the appliance (or keep it) before leaving the `with`: testpmd disconnecting from a
    memif server whose lcore is polling the port risks the memif PMD race described at Wire
    (on the appliance's side). testpmd is never forwarding when the `with` ends.

    txonly (the simpler aim): `--eth-peer=P,DST_MAC --tx-ip=SRC,DST --tx-udp=S,D`; testpmd fills
    in the IPv4 checksum, leaves the UDP checksum 0 (none) and does not write the payload: it is
    whatever the mbuf held before (zeros when fresh, bytes of earlier frames when recycled, e.g.
    after a capture flood). With the default 60-byte frame (18 bytes of payload, shorter than
    any sluice message) the appliance counts each one as sluice_unknown_type (first byte no
    message type) or sluice_too_short (it is one)."""

    def __init__(self, device, pcap=None, dst_mac=None, src_ip="198.18.4.98", dst_ip=None,
                 src_port=40000, dst_port=4789, cores=(0, 1), max_seconds=120.0, log_path=None,
                 burst=32):
        vdevs = ([f"net_pcap0,rx_pcap={pcap},infinite_rx=1"] if pcap else []) + [device]
        self.pcap_port = 0 if pcap else None
        self.memif_port = len(vdevs) - 1
        args = [f"--burst={burst}"]
        if dst_mac and dst_ip:
            args += [f"--eth-peer={self.memif_port},{dst_mac}", f"--tx-ip={src_ip},{dst_ip}",
                     f"--tx-udp={src_port},{dst_port}"]
        self.can_txonly = bool(dst_mac and dst_ip)
        self.testpmd = Testpmd("attack", cores, vdevs, fwd="io", args=args,
                               max_seconds=max_seconds, log_path=log_path)

    def __enter__(self):
        try:
            self.testpmd.launch()
            self.testpmd.wait_link([self.memif_port], timeout=15)
        except BaseException:
            self.testpmd.close()
            raise
        return self

    def __exit__(self, *exc):
        try:
            if exc[0] is None and self.testpmd.running():
                self.testpmd.quit()
        finally:
            self.testpmd.close()
        return False

    def _flood(self, seconds, ports):
        t, out_port = self.testpmd, self.memif_port
        t.cmd("set portlist " + ",".join(str(p) for p in ports))
        t.clear_stats()
        t.start()
        try:
            time.sleep(min(0.2, seconds / 5))
            s0, t0 = t.port_stats(out_port, timed=True)
            time.sleep(seconds)
            s1, t1 = t.port_stats(out_port, timed=True)
        finally:
            fwd = t.stop()
        total = t.port_stats(out_port)
        dt = t1 - t0
        return {"sent_pkts": total["tx_packets"], "sent_bytes": total["tx_bytes"],
                "pps": round((s1["tx_packets"] - s0["tx_packets"]) / dt),
                "bps": round((s1["tx_bytes"] - s0["tx_bytes"]) * 8 / dt),
                "tx_dropped": fwd["ports"].get(out_port, {}).get("tx_dropped", 0),
                "interval_s": round(dt, 4), "fwd": fwd}

    def flood_pcap(self, seconds):
        """io forwarding capture -> appliance, flat out, for `seconds`. Returns {"sent_pkts"
        (the memif port's tx packets: what entered the appliance's rx ring, whole run),
        "sent_bytes" (without FCS), "pps" / "bps" (over "interval_s", measured inside the run),
        "offered_pkts" (what io read from the capture), "tx_dropped" (read but refused by the
        ring: the appliance did not keep up), "fwd": testpmd's stop summary, "mode": "pcap"}."""
        if self.pcap_port is None:
            raise ValueError("this Attacker has no capture")
        self.testpmd.cmd("set fwd io")
        out = self._flood(seconds, [self.pcap_port, self.memif_port])
        out["offered_pkts"] = out["fwd"]["ports"].get(self.pcap_port, {}).get("rx_packets", 0)
        out["mode"] = "pcap"
        return out

    def flood_txonly(self, seconds, frame_len=60):
        """txonly on the memif port for `seconds`: frame_len bytes (without FCS, at least 42;
        60 is a 64-byte RFC 2544 frame) per datagram. Returns {"sent_pkts", "sent_bytes",
        "pps", "bps", "tx_dropped", "interval_s", "fwd", "mode": "txonly"}."""
        if not self.can_txonly:
            raise ValueError("txonly needs dst_mac and dst_ip")
        self.testpmd.cmd("set fwd txonly")
        self.testpmd.cmd(f"set txpkts {frame_len}")
        out = self._flood(seconds, [self.memif_port])
        out["mode"] = "txonly"
        return out


def attack_pcap(device, pcap_path, seconds, cores=(0, 1), log_path=None):
    """Section 4 in one call: Attacker(device, pcap).flood_pcap(seconds), then testpmd quits
    (the appliance stays up: see Attacker on the memif race). Returns flood_pcap()'s dict."""
    with Attacker(device, pcap=pcap_path, cores=cores, log_path=log_path) as atk:
        return atk.flood_pcap(seconds)


def attack_txonly(device, dst_mac, src_ip, dst_ip, dst_port, seconds, frame_len=60,
                  src_port=40000, cores=(0, 1), log_path=None):
    """Section 4, the simpler aim, in one call: testpmd txonly on `device` sends one
    IPv4/UDP datagram to dst_mac/dst_ip:dst_port over and over. Returns flood_txonly()'s
    dict."""
    with Attacker(device, dst_mac=dst_mac, src_ip=src_ip, dst_ip=dst_ip, src_port=src_port,
                  dst_port=dst_port, cores=cores, log_path=log_path) as atk:
        return atk.flood_txonly(seconds, frame_len)


def appliance_mac(node, port=0):
    """The MAC of an appliance's port (an sl_integ Node): from telemetry /sluice/info if it
    shows it, else from the `port N up, mac ...` line of its log."""
    try:
        info = node.query("/sluice/info") or {}
    except Exception:
        info = {}
    found = []

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                if k.lower() in ("mac", "mac_addr", "mac_address") and isinstance(x, str):
                    found.append(x)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(info.get("ports", info))
    if found:
        return found[port if port < len(found) else 0].lower()
    m, _ = node.wait_log(r"port \d+ up, mac ([0-9A-Fa-f:]{17})", timeout=10)
    return m.group(1).lower()


def _flat(d, prefix=""):
    """{"a": {"b": 1}} -> {"a.b": 1} (telemetry answers)."""
    out = {}
    for k, v in (d or {}).items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _settled_drops(node, timeout=10.0):
    """/sluice/drops once the appliance has caught up: two statistics snapshots after the
    flood, and the control thread's admission counters unchanged over 0.3 s."""
    node.wait_snapshot(count=2, timeout=timeout)
    deadline = time.monotonic() + timeout
    prev = _flat(node.query("/sluice/drops"))
    while True:
        time.sleep(0.3)
        cur = _flat(node.query("/sluice/drops"))
        if cur == prev or time.monotonic() >= deadline:
            return cur
        prev = cur


def attack_check(sluice, seconds=2.0, ip="198.18.4.1", n_frames=1000, timeout=60.0):
    """End to end of section 4: one appliance (core 0, adaptive idle) with a memif SERVER port;
    testpmd (forwarding lcore on core 1) is the client and floods it, first by replaying a
    capture of attack_frames() (`seconds`), then with txonly 64-byte frames (`seconds` / 2).

    Checks that everything that entered the appliance's rx ring (testpmd's memif tx packets) was
    received (its rx_pkts) and counted under a reason: dataplane drops (the `sluice: drops`
    summary line / telemetry /sluice/drops) plus the control thread's admission refusals
    (bad_mac1: only in telemetry), and that each kind of crafted frame got its reason in the
    proportion the capture holds. Returns {"ok", "pcap": Attacker.flood_pcap()'s result,
    "txonly": flood_txonly()'s, "by_reason" / "by_reason_txonly": {reason: count} of each
    phase, "expected_share": {reason: share} (from the capture),
    "summary": the appliance's exit summary, "checks": [(name, got, want, ok)], "notes"}."""
    integ = load_integ()
    out = {"checks": [], "notes": []}

    def check(name, got, want, ok=None):
        ok = (got == want) if ok is None else ok
        out["checks"].append((name, got, want, ok))
        integ.log(f"{'ok' if ok else 'MISMATCH'}: {name}: got {got}, want {want}")

    with rig_world(integ, "attack-check", sluice) as w:
        v = w.node("victim", core=0, ip=ip)
        sock = os.path.join(w.dir, "attack.sock")
        v.add_port("p0", f"net_memif0,role=server,id=0,socket={sock}")
        v.start(duration=3 * seconds + timeout)
        wait_until("the victim's telemetry", lambda: isinstance(v.query("/sluice/info",
                                                                        wait=15), dict), 20)
        mac = appliance_mac(v)
        integ.log(f"victim: {ip}:{v.udp_port}, mac {mac}")
        frames = attack_frames(mac, ip, v.udp_port, n=n_frames)
        pcap = os.path.join(w.dir, "attack.pcap")
        write_pcap(pcap, frames)
        device = f"net_memif0,role=client,id=0,socket={sock}"
        before = _settled_drops(v)
        with Attacker(device, pcap=pcap, dst_mac=mac, src_ip="198.18.4.98", dst_ip=ip,
                      dst_port=v.udp_port, max_seconds=3 * seconds + timeout,
                      log_path=os.path.join(w.dir, "attacker.log")) as atk:
            out["pcap"] = atk.flood_pcap(seconds)
            integ.log(f"pcap flood: {kv_line(scalars(out['pcap']))}")
            mid = _settled_drops(v)
            out["txonly"] = atk.flood_txonly(max(0.5, seconds / 2))
            integ.log(f"txonly flood: {kv_line(scalars(out['txonly']))}")
            after = _settled_drops(v)
            rc = v.stop()  # first: testpmd stays connected, not forwarding
        s = v.summary()
        out["summary"] = s
        w.equal(rc, 0, "the victim's exit status")
        w.equal(s.get("exit", {}).get("mbufs_in_use"), 0, "the victim's mbufs in use at exit")

        def delta(x, y, prefix):
            keys = {k for k in list(x) + list(y) if k.startswith(prefix)}
            return {k[len(prefix):]: y.get(k, 0) - x.get(k, 0) for k in keys
                    if isinstance(y.get(k, 0), int) and y.get(k, 0) - x.get(k, 0)}

        dp1, adm1 = delta(before, mid, "dataplane."), delta(before, mid, "admission.")
        dp2, adm2 = delta(mid, after, "dataplane."), delta(mid, after, "admission.")
        out["telemetry_keys"] = sorted(after)
        by_reason = dict(dp1)
        by_reason["bad_mac1"] = adm1.get("bad_mac1", 0)
        out["by_reason"] = {k: v_ for k, v_ in sorted(by_reason.items()) if v_}
        out["admission_pcap"] = adm1
        rx_total = s.get("summary", {}).get("rx_pkts")
        sent = out["pcap"]["sent_pkts"] + out["txonly"]["sent_pkts"]
        check("the victim received what testpmd put in its ring (rx_pkts == memif tx, both "
              "floods)", rx_total, sent)
        drops_total = s.get("drops", {}).get("total", 0)
        refused = sum(adm1.get(k, 0) + adm2.get(k, 0) for k in
                      ("bad_mac1", "bad_length", "cookies_sent", "ratelimited"))
        check("every packet it received is counted: dataplane drops + admission refusals == "
              "rx_pkts", drops_total + refused, rx_total)
        pcap_counted = sum(dp1.values()) + sum(adm1.get(k, 0) for k in
                                               ("bad_mac1", "bad_length", "cookies_sent",
                                                "ratelimited"))
        check("pcap flood: counted == sent", pcap_counted, out["pcap"]["sent_pkts"])
        check("txonly flood: sluice_unknown_type + sluice_too_short == sent",
              dp2.get("sluice_unknown_type", 0) + dp2.get("sluice_too_short", 0),
              out["txonly"]["sent_pkts"])
        out["by_reason_txonly"] = {k: v_ for k, v_ in sorted(dp2.items()) if v_}
        # shares: what the capture holds vs what was counted
        kinds = {}
        for kind, _ in frames:
            kinds[kind] = kinds.get(kind, 0) + 1
        expect = {}
        for kind, c in kinds.items():
            expect[ATTACK_KINDS[kind]] = expect.get(ATTACK_KINDS[kind], 0) + c / len(frames)
        out["expected_share"] = {k: round(x, 4) for k, x in expect.items()}
        hs = by_reason.get("bad_mac1", 0) + by_reason.get("handshake_queue_full", 0)
        counted = dict(by_reason)
        counted["bad_mac1"] = hs
        total = max(1, pcap_counted)
        for reason, share in sorted(expect.items()):
            got = counted.get(reason, 0) / total
            # a share off by more than 3 points (of a sample of ~10^5..10^7 packets) would
            # mean a kind of frame was counted under another reason
            check(f"pcap flood: share of {reason}", round(got, 4), round(share, 4),
                  ok=abs(got - share) <= 0.03)
        unexpected = {k: v_ for k, v_ in by_reason.items()
                      if k not in expect and k != "handshake_queue_full" and v_}
        check("pcap flood: no drop reason the capture does not explain", unexpected, {})
        if by_reason.get("handshake_queue_full"):
            out["notes"].append(f"{by_reason['handshake_queue_full']} handshake-sized frames "
                                f"found the ring to the control thread full "
                                f"(handshake_queue_full) and never reached admission")
        if out["pcap"]["tx_dropped"]:
            out["notes"].append(
                f"testpmd read {out['pcap']['offered_pkts']} frames from the capture; the "
                f"victim's rx ring had no room for {out['pcap']['tx_dropped']} of them "
                f"(testpmd's TX-dropped): the appliance is slower than the flood")
        out["ok"] = all(c[3] for c in out["checks"])
        w.checks += len(out["checks"])
    return out
