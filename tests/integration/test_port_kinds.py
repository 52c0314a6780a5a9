#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The appliance on ports of other kinds than memif: each starts, works and stops cleanly.

    test_port_kinds.py SLUICE

  net_pcap   a capture file is replayed into the appliance (an ARP request for its address, an
             ICMP echo request, a UDP datagram to its port that is no sluice message, a frame
             too short for Ethernet); the frames it sends are written to another capture file:
             it must hold exactly the ARP reply and the echo reply, byte for byte what they must
             be, and the announcements of its address (gratuitous ARP requests, one when the
             port came up and one a second later), and the appliance must count the two bad
             frames under their reasons;
  net_null   a port that makes a stream of 64-byte frames as fast as it is polled — zeros, or
             whatever its mbufs last held: once the appliance announced its address on it, the
             bytes of that gratuitous ARP (its own MAC as the source) —: the appliance drops them
             all as not addressed to it or from itself, counted, and stops on time;
  net_ring   a port whose transmit ring is its receive ring: starts and stops;
  net_tap    (root, in a network namespace the test makes) the kernel on the tap interface
             resolves the appliance by ARP and gets replies to ping.

Every run must exit 0 with every mbuf back in its pool. Python 3 standard library only.
"""
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sl_integ  # noqa: E402
from sl_integ import World, log  # noqa: E402
from sl_frames import csum, ip_bytes  # noqa: E402 (sl_integ put scripts/ on the path)

APP_IP = "198.18.9.1"
KERNEL_MAC = "02:00:00:00:09:02"  # the kernel's side of the tap
PEER_IP = "198.18.9.2"
PEER_MAC = bytes.fromhex("020000000902")
# What DPDK's pcap driver calls its first port's MAC: 02:70:63:61:70:<port number>
PCAP_MAC = bytes.fromhex("027063617000")


def ipv4(src, dst, proto, payload, ident=1):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0,
                      ip_bytes(src), ip_bytes(dst))
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload


def eth(dst, src, ethertype, payload):
    frame = dst + src + struct.pack("!H", ethertype) + payload
    return frame + b"\0" * max(0, 60 - len(frame))


def arp_request():
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, PEER_MAC, ip_bytes(PEER_IP),
                       b"\0" * 6, ip_bytes(APP_IP))
    return eth(b"\xff" * 6, PEER_MAC, 0x0806, body)


def echo_request():
    data = bytes(range(32))
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x1234, 7) + data
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    return eth(PCAP_MAC, PEER_MAC, 0x0800, ipv4(PEER_IP, APP_IP, 1, icmp)), data


def junk_udp():
    payload = b"\xee" + b"\0" * 47  # first byte: no sluice message type
    udp = struct.pack("!HHHH", 5000, 4789, 8 + len(payload), 0) + payload
    return eth(PCAP_MAC, PEER_MAC, 0x0800, ipv4(PEER_IP, APP_IP, 17, udp, ident=2))


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)))
            f.write(fr)


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xa1b2c3d4, 0xa1b23c4d):
        raise sl_integ.TestFailure(f"{path}: not a pcap file")
    frames, off = [], 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


def node(w, name, device, core=0):
    n = w.node(name, core=core, ip=APP_IP)
    n.add_port("p0", device)
    n.cfg["eal"]["memory_mb"] = 128
    n.cfg["ports"][0]["mbufs"] = 2047
    return n


def run_for(w, n, seconds):
    n.start(duration=seconds)
    rc = n.wait(timeout=seconds + 20)
    s = n.summary()
    w.equal(rc, 0, f"{n.name}: exit status")
    w.equal(s.get("exit", {}).get("mbufs_in_use"), 0, f"{n.name}: mbufs still out at exit")
    return s


def check_pcap(w):
    pin, pout = os.path.join(w.dir, "in.pcap"), os.path.join(w.dir, "out.pcap")
    echo, data = echo_request()
    write_pcap(pin, [arp_request(), echo, junk_udp(), b"\x01" * 10])
    n = node(w, "pcap", f"net_pcap0,rx_pcap={pin},tx_pcap={pout}")
    s = run_for(w, n, 2)
    mac_line = [ln for ln in n.stderr().splitlines() if "port 0 up, mac" in ln]
    w.check(mac_line and "02:70:63:61:70:00" in mac_line[0].lower(),
            "the pcap port has the MAC the test addressed its frames to")
    drops = s.get("drops", {})
    w.equal(drops.get("sluice_unknown_type"), 1, "pcap: the UDP datagram that is no message")
    w.equal(drops.get("eth_too_short"), 1, "pcap: the 10-byte frame")
    w.equal(drops.get("total"), 2, "pcap: nothing else dropped")
    out = read_pcap(pout)
    announce = (b"\xff" * 6 + PCAP_MAC + b"\x08\x06" + b"\x00\x01\x08\x00\x06\x04\x00\x01" +
                PCAP_MAC + ip_bytes(APP_IP) + b"\x00" * 6 + ip_bytes(APP_IP)).ljust(60, b"\x00")
    told = [f for f in out if f == announce]
    w.check(1 <= len(told) <= 2, f"pcap: {len(told)} announcement(s) of the port's address "
            f"(gratuitous ARP: from its MAC, for its own address)")
    out = [f for f in out if f != announce]
    w.equal(len(out), 2, "pcap: other frames sent (ARP reply, echo reply)")
    arp = [f for f in out if f[12:14] == b"\x08\x06"]
    icmp = [f for f in out if f[12:14] == b"\x08\x00"]
    w.check(len(arp) == 1 and arp[0][:6] == PEER_MAC and arp[0][20:22] == b"\x00\x02" and
            arp[0][22:28] == PCAP_MAC and arp[0][28:32] == ip_bytes(APP_IP) and
            arp[0][32:38] == PEER_MAC and arp[0][38:42] == ip_bytes(PEER_IP),
            "pcap: the ARP reply says who has the address, to the asker")
    w.check(len(icmp) == 1, "pcap: one IPv4 frame sent")
    ip = icmp[0][14:]
    w.check(ip[9] == 1 and ip[12:16] == ip_bytes(APP_IP) and ip[16:20] == ip_bytes(PEER_IP) and
            csum(ip[:20]) == 0, "pcap: the echo reply's IPv4 header (addresses, checksum)")
    icmp_msg = ip[20:struct.unpack("!H", ip[2:4])[0]]
    w.check(icmp_msg[0] == 0 and csum(icmp_msg) == 0 and icmp_msg[4:8] == echo[38:42] and
            icmp_msg[8:] == data, "pcap: the echo reply (type, checksum, id, sequence, data)")
    if shutil.which("tshark"):
        r = subprocess.run(["tshark", "-r", pout, "-o", "ip.check_checksum:TRUE",
                            "-Y", "_ws.malformed || _ws.expert.severity >= error"],
                           capture_output=True, text=True, timeout=60)
        w.check(r.returncode == 0 and r.stdout.strip() == "",
                f"pcap: tshark finds no malformed frame or bad checksum ({r.stdout.strip()!r})")


def check_null(w):
    n = node(w, "null", "net_null0,size=64")
    s = run_for(w, n, 1)
    d = s.get("drops", {})
    mine = d.get("eth_bad_source", 0)  # the announcement's bytes, recycled by net_null
    # How many frames depends on how long the lcore polled: --duration counts from the start of
    # the control thread, and the lcore starts after it (under ASan on a loaded machine it
    # started as the second ended: 160 frames). At least one burst shows the port generated.
    w.check(d.get("eth_not_for_us", 0) >= 32 and d.get("total") == d.get("eth_not_for_us") + mine,
            f"null: every generated frame dropped as not ours ({d.get('eth_not_for_us')}) or "
            f"from ourselves ({mine})")


def check_ring(w):
    n = node(w, "ring", "net_ring0")
    run_for(w, n, 1)


def check_tap(w):
    if os.geteuid() != 0 or not shutil.which("ip") or not os.path.exists("/dev/net/tun"):
        log("tap: skipped (needs root, iproute2 and /dev/net/tun)")
        return
    ns, iface = f"slpk{os.getpid()}"[:15], "sltap0"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        n = node(w, "tap", f"net_tap0,iface={iface}")
        n.start(duration=8, prefix=["ip", "netns", "exec", ns])
        up = False
        for _ in range(50):
            r = subprocess.run(["ip", "-n", ns, "link", "show", iface], capture_output=True)
            if r.returncode == 0:
                up = True
                break
            subprocess.run(["sleep", "0.1"])
        w.check(up, "tap: the interface appears in the namespace")
        # The tap exists from the port's probe on; the port is started, and the lcore polls it,
        # only later (under load — ASan, a shared machine — seconds later). net_tap gives the
        # kernel's side of the tap the port's own MAC, and gives it again while it starts the
        # port: give it another only once the lcore runs, or the kernel keeps the appliance's
        # MAC and every frame between them is dropped (not for us / from ourselves).
        n.wait_log(r"lcore: \d+: running", timeout=8)
        subprocess.run(["ip", "-n", ns, "link", "set", iface, "address", KERNEL_MAC],
                       check=True)
        subprocess.run(["ip", "-n", ns, "addr", "add", f"{PEER_IP}/24", "dev", iface],
                       check=True)
        subprocess.run(["ip", "-n", ns, "link", "set", iface, "up"], check=True)
        link = subprocess.run(["ip", "-n", ns, "link", "show", iface], capture_output=True,
                              text=True).stdout
        w.check(f"link/ether {KERNEL_MAC}" in link, f"tap: the kernel's side is {KERNEL_MAC}")
        r = subprocess.run(["ip", "netns", "exec", ns, "ping", "-c", "3", "-i", "0.2", "-W", "2",
                            APP_IP], capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            log(f"tap: ping said: {r.stdout.strip()} {r.stderr.strip()}")
        w.check(r.returncode == 0 and " 0% packet loss" in r.stdout,
                "tap: the kernel resolves the appliance by ARP and gets 3 ping replies")
        n.stop(timeout=15)
        s = n.summary()
        w.equal(s.get("exit", {}).get("mbufs_in_use"), 0, "tap: mbufs still out at exit")
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def main():
    with World("ports") as w:
        check_pcap(w)
        check_null(w)
        check_ring(w)
        check_tap(w)


if __name__ == "__main__":
    sl_integ.run(main)
