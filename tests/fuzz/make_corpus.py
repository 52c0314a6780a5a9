#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the committed seed corpora of the fuzz targets and fuzz_conf's dictionary.

    tests/fuzz/make_corpus.py        (from anywhere; it writes next to itself)

corpus/fuzz_conn/       records of decrypted packets (fuzz_conn.c): frames of every type
corpus/fuzz_handshake/  records of handshake scenarios (fuzz_handshake.c): IK and XX sessions,
                        answers to the appliance's own dials, cookies, rekeys, closes, replays
corpus/fuzz_conf/       the example configurations of conf/ and a few broken ones of tests/conf/
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
    write_dict("fuzz_conf.dict", conf_dict(),
               "# written by make_corpus.py: the keys and enum values of conf/*.c, JSON tokens\n")
    write_dict("fuzz_handshake.dict", handshake_dict(),
               "# written by make_corpus.py: record headers (op, arg, len) of every kind and\n"
               "# sender, and the message type bytes (sl_wire.h)\n")


if __name__ == "__main__":
    main()
