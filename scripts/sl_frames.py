# SPDX-License-Identifier: BSD-3-Clause
"""Pieces for building test frames by hand, shared by the tests and the perf rig: the Internet
checksum (RFC 1071) and address parsing. Python 3 standard library only."""
import socket
import struct


def csum(data):
    """The 16-bit one's-complement checksum of data (odd lengths padded with a zero byte)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_bytes(text):
    """'a.b.c.d' as 4 bytes."""
    return socket.inet_aton(text)


def mac_bytes(text):
    """'aa:bb:cc:dd:ee:ff' as 6 bytes."""
    b = bytes(int(x, 16) for x in text.split(":"))
    if len(b) != 6:
        raise ValueError(f"not a MAC address: {text!r}")
    return b
