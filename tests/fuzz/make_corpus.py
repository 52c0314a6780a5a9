#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the committed seed corpora of the fuzz targets and fuzz_conf's dictionary.

    tests/fuzz/make_corpus.py        (from anywhere; it writes next to itself)

corpus/fuzz_conn/       records of decrypted packets (fuzz_conn.c): frames of every type
corpus/fuzz_handshake/  records of handshake scenarios (fuzz_handshake.c): IK and XX sessions,
                        answers to the appliance's own dials, cookies, rekeys, closes, replays
corpus/fuzz_conf/       the example configurations of conf/ and a few broken ones of tests/conf/
corpus/fuzz_api/        records of what applications and peers do (fuzz_api.c): exchanges, a full
                        arena, credit, sessions, re-attachment, MALLORY's misdeeds; and the inputs
                        of regress/fuzz_api/ (each found a bug)
corpus/fuzz_frame/      records of Ethernet frames (fuzz_frame.c): data packets sealed, replayed,
                        in two segments; handshakes, echo requests, ARP, odd IPv4, NIC flags; and
                        the inputs of regress/fuzz_frame/
fuzz_conf.dict          every key and enum value the loader knows (the string tables of
                        conf/*.c) and the JSON tokens around them

Run it again when a record format, a frame or the configuration's keys change; make fuzz only
copies what is committed.
"""
import os
import re
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def regressions(target):
    """Inputs that once found a bug, kept in regress/<target>/ (they become seeds too)."""
    d = os.path.join(HERE, "regress", target)
    if not os.path.isdir(d):
        return {}
    return {"regress-" + f: open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d))}


def write_corpus(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


# --- fuzz_conn: u8 len_hi, u8 len_lo, u8 flags, then len bytes of frames (sl_wire.h) -------------
# flags: & 0x07 packet numbers skipped, or with 0x08 how far below the newest a late one is;
# >> 4 milliseconds that pass first

def packet(frames, flags=0):
    return struct.pack(">HB", len(frames), flags) + frames


def ping(token, pong=False):
    return struct.pack(">B7xQ", 2 if pong else 1, token)


def ack(largest, first_range, ranges=(), delay_us=100):
    out = struct.pack(">BBHIQQ", 3, len(ranges), 0, delay_us, largest, first_range)
    return out + b"".join(struct.pack(">II", gap, n) for gap, n in ranges)


def data(chan, msg_id, msg_base, msg_len, offset, payload, last):
    return struct.pack(">BBBBHHIIQQ", 4, 1 if last else 0, chan, 0, len(payload), 0, msg_len,
                       offset, msg_id, msg_base) + payload


def datagram(chan, seq, payload):
    return struct.pack(">BBHI", 5, chan, len(payload), seq) + payload


def credit(kind, chan, maximum):
    return struct.pack(">BB6xQ", kind, chan, maximum)


def close(reason, graceful):
    return struct.pack(">BBHI", 8, 1 if graceful else 0, reason, 0)


def conn_seeds():
    msg = bytes(range(200))
    return {
        "message": packet(data(0, 0, 0, 200, 0, msg, True) + ack(0, 0)),
        # pn 2 (1 skipped), then pn 1 arrives late with the first half
        "fragments_reordered": packet(data(1, 0, 0, 200, 100, msg[100:], True), 0x01)
        + packet(data(1, 0, 0, 200, 0, msg[:100], False), 0x19),
        "datagram": packet(datagram(3, 0, msg[:50]) + datagram(3, 1, msg[50:60])),
        "credit_ping": packet(ping(7) + credit(6, 0, 1 << 20) + credit(7, 2, 1 << 18)
                              + credit(9, 0, 1 << 17)),
        "acks": packet(ack(2, 0)) + packet(ack(5, 1, [(0, 0)]), 0x20)
        + packet(ack(9, 2, [(1, 1), (0, 0)]), 0x43) + packet(ping(3), 0x0a),
        "duplicate_pong": packet(ping(1, pong=True)) + packet(ping(1, pong=True), 0x08),
        "close": packet(data(2, 0, 0, 10, 0, msg[:10], True))
        + packet(close(5, True) + b"\0\0\0"),
    }


# --- fuzz_handshake: u8 op, u8 arg, u8 len, then len bytes ---------------------------------------

RAW, IK_INIT, XX_INIT, XX_FINISH, IK_RESP, COOKIE, EVENT, REPLAY = range(8)
LOAD = 0x08                                         # op: the appliance is under load
REKEY, WITH_COOKIE, CHACHA = 0x10, 0x20, 0x40        # arg
PEER_LOW, PEER_HIGH, STRANGER, FOREIGN = range(4)    # arg & 3: the actor (fuzz_handshake.c)
DIAL_HIGH = (1, 0)          # (lcore, slot) of the appliance's dial of PEER_HIGH, its first


def spoofed(x):
    """arg bits: send from 198.19.0.x instead of the actor's own address (x = 1..3)."""
    return x << 2


def rec(what, arg=0, wait_100ms=0, body=b"", load=False):
    return struct.pack("BBB", wait_100ms << 4 | (LOAD if load else 0) | what, arg, len(body)) + body


def event(lcore, slot, kind, reason=0):
    """kind 0 rekey due, 1 unresponsive, 2 closed, 3 closed by the peer (fuzz_handshake.c)."""
    return rec(EVENT, lcore | slot << 1 | kind << 4 | reason << 6)


def handshake_seeds():
    # Slots: the first slot taken in an input is lcore 1, slot 0, the second lcore 0, slot 0
    # (cp_ctl_slot_alloc); the appliance dials both peers about 50 ms in.
    return {
        "ik_from_peer": rec(IK_INIT, PEER_HIGH) + rec(IK_INIT, PEER_HIGH | REKEY, 2),
        "ik_chacha_stranger": rec(IK_INIT, STRANGER | CHACHA),
        "xx_stranger_closed": rec(XX_INIT, STRANGER) + rec(XX_FINISH, STRANGER)
        + event(1, 0, 2, 1),
        "xx_peer_then_ik": rec(XX_INIT, PEER_LOW | CHACHA) + rec(XX_FINISH, PEER_LOW)
        + rec(IK_INIT, PEER_LOW, 1),
        "answer_dial_rekey": rec(IK_RESP, PEER_HIGH, 1) + event(DIAL_HIGH[0], DIAL_HIGH[1], 0)
        + rec(IK_RESP, PEER_HIGH | REKEY, 1),
        "cookie_to_dial": rec(COOKIE, PEER_LOW, 1) + rec(IK_RESP, PEER_LOW),
        "under_load": rec(IK_INIT, PEER_LOW, 0, load=True)
        + rec(IK_INIT, PEER_LOW | WITH_COOKIE, 0, load=True),
        "collision_ours_wins": rec(IK_INIT, PEER_HIGH, 1) + rec(IK_RESP, PEER_HIGH),
        "collision_theirs_wins": rec(IK_INIT, PEER_LOW, 1),
        "foreign_network": rec(IK_INIT, FOREIGN) + rec(IK_RESP, FOREIGN, 1),
        "xx_expires": rec(XX_INIT, STRANGER) + rec(RAW, STRANGER | spoofed(1), 15,
                                                    b"\x07" + bytes(11))
        + rec(XX_FINISH, STRANGER, 15),
        "replay_mutated": rec(IK_INIT, PEER_LOW) + rec(REPLAY, PEER_LOW)
        + rec(REPLAY, PEER_LOW, 0, bytes([40, 1, 100, 0x80])),
        "raw_spoofed": rec(RAW, STRANGER | spoofed(2), 0, b"\x05\x01\x00\x00" + bytes(200))
        + rec(XX_INIT, STRANGER | spoofed(3)),
        "unresponsive_close": rec(IK_INIT, PEER_LOW) + event(1, 0, 1) + event(1, 0, 3, 2),
        "sessions_full": rec(IK_INIT, STRANGER) + rec(XX_INIT, PEER_LOW)
        + rec(XX_INIT, STRANGER | spoofed(1)) + rec(XX_INIT, FOREIGN) + rec(IK_INIT, PEER_HIGH),
    }


def handshake_dict():
    out = []
    for what in range(8):
        for arg in (PEER_LOW, PEER_HIGH, STRANGER, FOREIGN, STRANGER | spoofed(1),
                    PEER_LOW | REKEY, PEER_HIGH | WITH_COOKIE):
            out.append(struct.pack("BBB", what, arg, 0))
    out += [struct.pack("BBB", 0xf0 | IK_RESP, PEER_LOW, 0),
            struct.pack("BBB", LOAD | IK_INIT, PEER_LOW, 0)]
    return out + [bytes([t]) for t in range(1, 8)]


# --- fuzz_frame: u8 mode, u8 seg, u16 len (big-endian), then len bytes: an Ethernet frame ---------
# mode: & 0x03 the NIC's word on the IPv4 checksum (0 none: software, 1 good, 2 bad, 3 not
# checked), >> 2 & 0x03 the same for L4, 0x10 VLAN stripped, 0x20 the harness writes the
# checksums, 0x40 it seals the data packet; seg: & 0x03 segments, >> 2 where the first ends

NIC_IP_BAD, NIC_L4_GOOD, VLAN_STRIPPED, FIX, SEAL = 0x02, 0x04, 0x10, 0x20, 0x40
ONE, TWO, TWO_TIGHT = 0, 1, 2
US_MAC, PEER_MAC, BCAST = bytes([2, 0, 0, 0, 0, 1]), bytes([2, 0, 0, 0, 0, 2]), b"\xff" * 6
US_IP, PEER_IP = bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2])
US_PORT, PEER_PORT = 4789, 5000
OUR_ID = 0x00010005                                 # the session's receiver id (fuzz_frame.c)
HS_SIZES = {1: 208, 2: 164, 3: 64, 5: 212, 6: 212, 7: 180,   # sl_wire.h
            8: 176, 9: 164, 10: 24}              # (resumption: not taken by the appliance yet)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while s > 0xffff:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def eth(dst, typ, src=PEER_MAC):
    return dst + src + struct.pack(">H", typ)


def ipv4(proto, payload, src=PEER_IP, dst=US_IP, ttl=64, frag=0x4000, vhl=0x45):
    hdr = struct.pack(">BBHHHBBH4s4s", vhl, 0, 20 + len(payload), 1, frag, ttl, proto, 0, src,
                      dst)
    return hdr[:10] + struct.pack(">H", csum(hdr)) + hdr[12:] + payload


def udp(payload, sport=PEER_PORT, dport=US_PORT, src=PEER_IP, dst=US_IP):
    hdr = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0)
    pseudo = src + dst + struct.pack(">BBH", 0, 17, 8 + len(payload))
    ck = csum(pseudo + hdr + payload) or 0xffff
    return eth(US_MAC, 0x0800) + ipv4(17, hdr[:6] + struct.pack(">H", ck) + payload, src, dst)


def data_pkt(pn, receiver=OUR_ID, plain=b"\x01" + bytes(15), reserved=b"\0\0\0"):
    """A data packet's header and room for its plaintext and tag (the harness seals it)."""
    return struct.pack(">B3sIQ", 4, reserved, receiver, pn) + plain + bytes(16)


def icmp_echo(data=b"ping", typ=8):
    msg = struct.pack(">BBHHH", typ, 0, 0, 7, 1) + data
    msg = msg[:2] + struct.pack(">H", csum(msg)) + msg[4:]
    return eth(US_MAC, 0x0800) + ipv4(1, msg)


def arp(op, sip=PEER_IP, tip=US_IP, sha=PEER_MAC, dst=BCAST):
    body = struct.pack(">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha, sip,
                       bytes(6) if op == 1 else US_MAC, tip)
    return eth(dst, 0x0806) + body + bytes(18)         # padded to 60 bytes


def frame(f, mode=0, seg=ONE):
    return struct.pack(">BBH", mode, seg, len(f)) + f


def frame_seeds():
    hs = {t: udp(bytes([t]) + bytes(n - 1)) for t, n in HS_SIZES.items()}
    return {
        "data_sealed": frame(udp(data_pkt(1)), SEAL) + frame(udp(data_pkt(2, plain=bytes(300))),
                                                              SEAL),
        "data_replay_window": frame(udp(data_pkt(5000)), SEAL) + frame(udp(data_pkt(5000)), SEAL)
        + frame(udp(data_pkt(2952)), SEAL) + frame(udp(data_pkt(2951)), SEAL)
        + frame(udp(data_pkt(2 ** 64 - 1)), SEAL),
        "data_unsealed": frame(udp(data_pkt(3))) + frame(udp(data_pkt(3, receiver=OUR_ID + 1)))
        + frame(udp(data_pkt(4, reserved=b"\0\1\0")), SEAL),
        "data_two_segments": frame(udp(data_pkt(9, plain=bytes(1000))), SEAL, TWO | 30 << 2)
        + frame(udp(data_pkt(10, plain=bytes(1500))), SEAL, TWO_TIGHT | 40 << 2),
        "handshakes": b"".join(frame(f) for f in hs.values()),
        "icmp_echo": frame(icmp_echo(bytes(56))) + frame(icmp_echo(b"x", typ=0))
        + frame(icmp_echo(bytes(1480)), FIX),
        "arp": frame(arp(1)) + frame(arp(2, dst=US_MAC)) + frame(arp(1, sip=bytes(4)))
        + frame(arp(2, sip=PEER_IP, tip=PEER_IP)),
        "nic_flags": frame(udp(data_pkt(1)), NIC_IP_BAD) + frame(icmp_echo(), NIC_L4_GOOD)
        + frame(udp(data_pkt(1)), VLAN_STRIPPED | SEAL),
        "relay": frame(udp(struct.pack(">B3sI", 11, bytes(3), 0x101) + bytes([1]) + bytes(207)))
        + frame(udp(struct.pack(">B3sI", 12, bytes(3), 0x101) + data_pkt(7)))
        + frame(udp(struct.pack(">B3sI", 12, bytes(3), 0x101) + bytes([2]) + bytes(163)))
        + frame(udp(struct.pack(">B3sI", 12, bytes(3), 5) + struct.pack(">B3sI", 11, bytes(3), 5)
                    + bytes([1]) + bytes(207))),
        "ipv4_odd": frame(eth(US_MAC, 0x0800) + ipv4(17, bytes(30), vhl=0x46), FIX)
        + frame(eth(US_MAC, 0x0800) + ipv4(17, bytes(30), frag=0x2000), FIX)
        + frame(eth(US_MAC, 0x0800) + ipv4(17, bytes(30), ttl=0), FIX)
        + frame(eth(BCAST, 0x0800) + ipv4(17, bytes(30)), FIX)
        + frame(eth(US_MAC, 0x8100) + bytes(50)),
    }


def frame_dict():
    return [US_MAC, PEER_MAC, BCAST, US_IP, PEER_IP, struct.pack(">H", US_PORT),
            b"\x08\x00", b"\x08\x06", b"\x81\x00", b"\x88\xa8", b"\x45\x00", b"\x40\x00",
            b"\x00\x01\x08\x00\x06\x04\x00\x01", b"\x00\x01\x08\x00\x06\x04\x00\x02",
            struct.pack(">I", OUR_ID), b"\x04\x00\x00\x00", b"\x08\x00\x00\x00",
            b"\x0b\x00\x00\x00", b"\x0c\x00\x00\x00",
            bytes([FIX, 0]), bytes([SEAL, TWO | 30 << 2]),
            bytes([0, TWO_TIGHT | 40 << 2])] + [bytes([t]) for t in range(1, 8)]


# --- fuzz_api: u8 op, u8 arg, u8 len, then len bytes ---------------------------------------------
# op: >> 4 milliseconds first, & 0x0f the kind (fuzz_api.c); then one round of the lcore

(A_SEND, A_RELEASE, A_WANT, A_ATTACH, M_DESC, M_POKE, M_CHAN, M_ATTACH, PEER, SESSION,
 ROUNDS) = range(11)
DG = 0x04                                           # ALICE's datagram channel instead of 1
DESC_SEND, DESC_WANT, DESC_MSG = 1, 2, 16           # sl_api.h


def api(kind, arg=0, body=b"", ms=0):
    return struct.pack("BBB", ms << 4 | kind, arg, len(body)) + body


def size(n):
    """A length as fuzz_api.c reads it: 16 + the value (two bytes, little-endian)."""
    return struct.pack("<H", n - 16)


def peer(slot, chan, n, ms=0):
    return api(PEER, slot | (chan - 1) << 2, size(n), ms)


def desc(typ, chan, conn, pos, n, ttl=0):
    return struct.pack("<BBHIQIIQ", typ, chan, 0, conn, pos, n, 0, ttl)


def rounds(n):
    return api(ROUNDS, n - 1)


def api_seeds():
    return {
        "exchange": api(A_SEND) + api(A_SEND, 0, size(3000)) + peer(0, 1, 500)
        + peer(0, 2, 300) + api(A_SEND, DG, size(200)) + rounds(5) + api(A_RELEASE, 1),
        "arena_full": b"".join(peer(0, 1, 4096, 2) for _ in range(30)) + rounds(16)
        + api(A_RELEASE, 0, b"\x55\x55") + rounds(16) + api(A_RELEASE, 1) + rounds(16),
        "credit_want": b"".join(api(A_SEND, 0, size(4096)) for _ in range(4))
        + api(A_WANT) + rounds(16) + api(A_SEND, 0, size(4096), 5),
        "sessions": api(SESSION, 1) + api(SESSION, 2) + peer(1, 1, 100) + peer(2, 1, 100)
        + api(A_SEND, 1) + api(SESSION, 1 | 4 | 8) + api(SESSION, 2) + rounds(8)
        + api(SESSION, 1) + peer(1, 1, 64),
        "reattach": api(A_ATTACH) + peer(0, 1, 100) + rounds(2) + api(A_ATTACH)
        + api(A_SEND, 0, size(100)) + peer(0, 1, 100),
        "peer_stalled": api(PEER, 0x10) + b"".join(api(A_SEND, 0, size(4096)) + rounds(4)
                                                  for _ in range(12))
        + api(A_WANT) + rounds(16) + api(PEER, 0x10) + rounds(16),
        "mallory": api(M_ATTACH) + peer(0, 3, 1000) + api(M_POKE, 5) + peer(0, 4, 100)
        + api(M_DESC, 0, desc(DESC_SEND, 3, 1, 0, 100)) + api(M_DESC, 0, desc(DESC_WANT, 3, 1, 0, 0))
        + api(M_CHAN, 1) + api(M_CHAN, 0) + api(M_CHAN, 4) + api(M_CHAN, 0x10 | 3)
        + api(M_POKE, 3, struct.pack("<Q", 1)) + peer(0, 4, 100) + api(M_ATTACH),
        "mallory_hostile": api(M_ATTACH) + api(M_DESC, 4, desc(DESC_MSG, 3, 1, 0, 64))
        + api(M_DESC, 0, desc(DESC_SEND, 3, 0x7fffffff, 1 << 40, 100))
        + api(M_DESC, 0, desc(DESC_SEND, 9, 1, 0, 0)) + peer(0, 3, 4000) + peer(0, 3, 4000)
        + api(M_POKE, 2, struct.pack("<Q", 1 << 62)) + peer(0, 3, 100)
        + api(M_ATTACH) + rounds(2) + api(M_ATTACH) + api(M_POKE, 0, struct.pack("<Q", 0x10000))
        + rounds(2),
        "mallory_rings": api(M_ATTACH) + api(M_POKE, 1, struct.pack("<Q", 0xfffffff0))
        + peer(0, 3, 100) + api(M_ATTACH) + api(M_POKE, 4, struct.pack("<Q", 5 << 32 | 7))
        + api(M_POKE, 6, struct.pack("<Q", 65530) + b"\xff" * 20),
    }


def api_dict():
    out = [struct.pack("BBB", k, a, 0) for k in range(11) for a in (0, 1, 4, 5, 8, 0x10)]
    out += [struct.pack("BBB", PEER, 0x10 | s, 0) for s in range(1, 4)]
    out += [size(4096), size(900), desc(DESC_SEND, 3, 1, 0, 100)[:8],
            struct.pack("<I", 0xffffffff), struct.pack("<Q", 1 << 63), b"\x55\x55\x55\x55"]
    return out + [bytes([t]) for t in (1, 2, 16, 17, 18, 19, 20, 21, 22, 32)]


# --- fuzz_conf --------------------------------------------------------------------------------

CONF_BROKEN = ["several-problems.json", "syntax-after-comments.json", "eal-load-code.json",
               "key-control-chars.json", "source-in-flight-no-echo.json", "rxq-polled-twice.json",
               "chan-queue-small.json", "datagram-too-big.json"]


def conf_seeds():
    seeds = {}
    for f in sorted(os.listdir(os.path.join(ROOT, "conf"))):
        if f.endswith(".json"):
            seeds[f] = open(os.path.join(ROOT, "conf", f), "rb").read()
    for f in CONF_BROKEN:
        seeds["broken-" + f] = open(os.path.join(ROOT, "tests", "conf", f), "rb").read()
    return seeds


# String tables of conf/*.c: key lists, enum names, the EAL option tables.
TABLE = re.compile(r"\b(?:keys|names|eal_\w+|\w+_keys|\w+_names)\[\]\s*=\s*\{(.*?)\};", re.S)
LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')


def conf_words():
    words = set()
    for f in sorted(os.listdir(os.path.join(ROOT, "conf"))):
        if f.endswith(".c"):
            text = open(os.path.join(ROOT, "conf", f), encoding="utf-8").read()
            for table in TABLE.findall(text):
                words.update(w for w in LITERAL.findall(table) if " " not in w)
    return sorted(words)  # (the reasons in the EAL tables are prose, not tokens)


def dict_char(c):
    if c in (0x22, 0x5c):
        return "\\" + chr(c)
    return chr(c) if 0x20 <= c < 0x7f else "\\x%02x" % c


def dict_line(token):
    return '"%s"\n' % "".join(dict_char(c) for c in token)


def write_dict(name, tokens, header):
    with open(os.path.join(HERE, name), "w") as f:
        f.write(header)
        for t in tokens:
            f.write(dict_line(t))


def conf_dict():
    tokens = [b'"' + w.encode() + b'"' for w in conf_words()]
    tokens += [b'"' + w.encode() + b'":' for w in conf_words() if w.isidentifier()]
    tokens += [t.encode() for t in ("{", "}", "[", "]", ":", ",", "true", "false", "null",
                                    "// ", "\n", "-1", "0", "65536", "4294967296", "1e3", "0.5",
                                    '"198.18.0.1/24"', '"198.18.0.2:4789"', '"0-1"',
                                    '"net_memif0,role=server"', '"0000:00:00.0"',
                                    '"jrlNMIJECJweqCnOx26aZ7nVs2sVROlDjGgluSwVbGE="',
                                    '"\\u0000"', '"\\u001b"')]
    return tokens


def main():
    write_corpus("fuzz_conn", conn_seeds())
    write_corpus("fuzz_handshake", handshake_seeds())
    write_corpus("fuzz_conf", conf_seeds())
    write_corpus("fuzz_frame", dict(frame_seeds(), **regressions("fuzz_frame")))
    write_corpus("fuzz_api", dict(api_seeds(), **regressions("fuzz_api")))
    write_dict("fuzz_conf.dict", conf_dict(),
               "# written by make_corpus.py: the keys and enum values of conf/*.c, JSON tokens\n")
    write_dict("fuzz_handshake.dict", handshake_dict(),
               "# written by make_corpus.py: record headers (op, arg, len) of every kind and\n"
               "# sender, and the message type bytes (sl_wire.h)\n")
    write_dict("fuzz_api.dict", api_dict(),
               "# written by make_corpus.py: record headers (op, arg, len) of every kind, lengths,\n"
               "# a SEND descriptor's start, extreme values, descriptor type bytes (sl_api.h)\n")
    write_dict("fuzz_frame.dict", frame_dict(),
               "# written by make_corpus.py: the interface's and the peer's addresses, EtherTypes,\n"
               "# header starts, the session's receiver id, record modes, sluice message types\n")


if __name__ == "__main__":
    main()
