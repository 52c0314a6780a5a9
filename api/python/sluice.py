# SPDX-License-Identifier: BSD-3-Clause
"""sluice: talk to a running sluice appliance from Python — ctypes over libsluice.so.

    import sluice
    with sluice.Sluice("/run/sluice/api.sock", "my-app") as s:
        s.register(3)
        s.connect(node_id)                      # NODE_CONNECTED or NODE_CONNECT_FAILED follows
        while True:
            for ev in s.poll():
                if ev.type == sluice.MESSAGE:
                    print(ev.node.hex(), ev.chan, ev.data)
                elif ev.type == sluice.NODE_CONNECTED:
                    s.send(ev.node, 3, b"hello")
            s.wait(1000)

The library: the path given to load() or Sluice(lib=...), else $SLUICE_LIB (the .so itself or
the folder holding it, e.g. build/api/lib), else the system's libsluice.so.0. It is loaded at
import when $SLUICE_LIB is set, otherwise on first use.

Semantics are libsluice's (sluice.h, docs/api.md). Errors raise OSError with the errno and
sluice_strerror()'s text, except where a result is expected flow: send() returns False on
ENOBUFS (wait for a WRITABLE event), recv() returns None when there is nothing.
poll() copies each message and releases it at once; poll(copy=False) gives memoryviews into
the shared memory instead, valid until release(event).

An attachment is for one thread at a time, like the C one.

$SLUICE_ABI_JSON, when set at import, names the output of tests/api_sizes (sluice.h's sizes,
offsets and constants as the C compiler sees them); the import fails if the ctypes mirror
below differs (test python_api_abi).
"""
import ctypes
import ctypes.util
import enum
import errno
import ipaddress
import json
import os

NODE_LEN = 32
NODE_TEXT_LEN = 45


class EventType(enum.IntEnum):
    MESSAGE = 1
    NODE_CONNECTED = 2
    NODE_CONNECT_FAILED = 3
    NODE_DISCONNECTED = 4
    WRITABLE = 5
    EXPIRED = 6
    DATAGRAM_LOST = 7
    SEND_FAILED = 8
    DISC_ADDR_LEARNED = 9
    DISC_PEER_BAD = 10
    DISC_BOOK_SAVED = 11
    DISC_BOOK_FAILED = 12


class Fail(enum.IntEnum):
    TIMEOUT = 1
    REFUSED = 2
    UNREACHABLE = 3
    NO_SLOT = 4


globals().update(EventType.__members__)
_EVENT_TYPES = frozenset(e.value for e in EventType)

_u8, _u16, _u32, _u64 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("node", _u8 * NODE_LEN), ("chan", _u8),
                ("by_peer", _u8), ("reason", _u16), ("len", _u32), ("data", ctypes.c_void_p),
                ("time_ns", _u64), ("id", _u64), ("ip", _u32), ("port", _u16),
                ("undelivered", _u32), ("count", _u32), ("priv", _u64 * 2)]


class _NodeInfo(ctypes.Structure):
    _fields_ = [("node", _u8 * NODE_LEN), ("ip", _u32), ("port", _u16), ("state", _u8),
                ("initiator", _u8), ("rtt_ns", _u64), ("bytes_in", _u64), ("bytes_out", _u64),
                ("msgs_in", _u64), ("msgs_out", _u64), ("last_handshake_age_ns", _u64)]


class _Stats(ctypes.Structure):
    _fields_ = [(n, _u64) for n in ("msgs_sent", "bytes_sent", "msgs_recv", "bytes_recv",
                                     "send_nobufs", "send_failed", "events", "send_noroom",
                                     "appliance_errors", "release_errors")]


_STRUCTS = {"sluice_event": _Event, "sluice_node_info": _NodeInfo, "sluice_stats": _Stats}
_CONSTANTS = dict({"SLUICE_NODE_LEN": NODE_LEN, "SLUICE_NODE_TEXT_LEN": NODE_TEXT_LEN},
                  **{"SLUICE_" + e.name: e.value for e in EventType},
                  **{"SLUICE_FAIL_" + f.name: f.value for f in Fail})

_P = ctypes.c_void_p
_SIGNATURES = {  # name: (result, argument types)
    "sluice_attach": (_P, [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]),
    "sluice_detach": (None, [_P]),
    "sluice_flush": (ctypes.c_int, [_P, ctypes.c_int]),
    "sluice_self": (ctypes.POINTER(_u8), [_P]),
    "sluice_max_message": (_u32, [_P]),
    "sluice_register": (ctypes.c_int, [_P, _u8]),
    "sluice_unregister": (ctypes.c_int, [_P, _u8]),
    "sluice_connect": (ctypes.c_int, [_P, ctypes.c_char_p, _u32, _u16]),
    "sluice_disconnect": (ctypes.c_int, [_P, ctypes.c_char_p]),
    "sluice_nodes": (ctypes.c_int, [_P, ctypes.POINTER(_NodeInfo), ctypes.c_uint,
                                    ctypes.POINTER(ctypes.c_uint)]),
    "sluice_send": (ctypes.c_int, [_P, ctypes.c_char_p, _u8, ctypes.c_char_p, ctypes.c_size_t,
                                   _u64]),
    "sluice_poll": (ctypes.c_int, [_P, ctypes.POINTER(_Event), ctypes.c_uint]),
    "sluice_release": (None, [_P, ctypes.POINTER(_Event)]),
    "sluice_recv": (ctypes.c_int, [_P, ctypes.POINTER(_Event), ctypes.c_void_p,
                                   ctypes.c_size_t]),
    "sluice_wait": (ctypes.c_int, [_P, ctypes.c_int]),
    "sluice_fd": (ctypes.c_int, [_P]),
    "sluice_wait_prepare": (ctypes.c_int, [_P]),
    "sluice_wait_done": (None, [_P]),
    "sluice_wait_timeout": (ctypes.c_int, [_P, ctypes.c_int]),
    "sluice_get_stats": (None, [_P, ctypes.POINTER(_Stats)]),
    "sluice_strerror": (ctypes.c_char_p, [ctypes.c_int]),
    "sluice_node_from_text": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_void_p]),
    "sluice_node_to_text": (ctypes.c_char_p, [ctypes.c_char_p, ctypes.c_void_p]),
}

_lib = None
_lib_path = None


def load(path=None):
    """Load libsluice (see the module's text for where it is looked for); returns the CDLL."""
    global _lib, _lib_path
    if _lib is not None and path is None:
        return _lib
    path = path or os.environ.get("SLUICE_LIB") or ctypes.util.find_library("sluice")
    path = path or "libsluice.so.0"
    if os.path.isdir(path):
        path = os.path.join(path, "libsluice.so")
    lib = ctypes.CDLL(path)
    for name, (res, args) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    _lib, _lib_path = lib, path
    return lib


def lib_path():
    """The path libsluice was loaded from (None: not yet)."""
    return _lib_path


def strerror(err):
    """sluice_strerror(): the text for a negative errno libsluice returns."""
    return load().sluice_strerror(err).decode()


def _check(rc):
    if rc < 0:
        raise OSError(-rc, strerror(rc))
    return rc


def node_from_text(text):
    """A node id (bytes) from its base64 (as `sluice pubkey` prints it) or 64 hex digits;
    ValueError otherwise."""
    out = ctypes.create_string_buffer(NODE_LEN)
    if load().sluice_node_from_text(text.encode(), out) != 0:
        raise ValueError(f"not a node id (44 characters of base64 or 64 hex digits): {text!r}")
    return out.raw


def node_to_text(node):
    """A node id's base64 text."""
    out = ctypes.create_string_buffer(NODE_TEXT_LEN)
    return load().sluice_node_to_text(_node(node), out).decode()


def _node(node):
    node = bytes(node)
    if len(node) != NODE_LEN:
        raise ValueError(f"a node id is {NODE_LEN} bytes, not {len(node)}")
    return node


def _ip(ip):
    return int(ipaddress.IPv4Address(ip)) if isinstance(ip, str) else int(ip)


# --- the ABI check ------------------------------------------------------------------------

def abi():
    """sluice.h's layout as this module mirrors it, in the shape tests/api_sizes prints."""
    structs = {name: {"size": ctypes.sizeof(cls),
                      "fields": {f: getattr(cls, f).offset for f, _ in cls._fields_}}
               for name, cls in _STRUCTS.items()}
    return {"structs": structs, "constants": dict(_CONSTANTS)}


def abi_diff(expected):
    """The differences between abi() and expected (api_sizes' output): a list of strings."""
    mine, out = abi(), []
    for kind in ("structs", "constants"):
        for name in sorted(set(mine[kind]) | set(expected.get(kind, {}))):
            a, b = mine[kind].get(name), expected.get(kind, {}).get(name)
            if a != b:
                out.append(f"{kind[:-1]} {name}: module {a}, C {b}")
    return out


if os.environ.get("SLUICE_ABI_JSON"):
    with open(os.environ["SLUICE_ABI_JSON"], encoding="utf-8") as _fh:
        _diffs = abi_diff(json.load(_fh))
    if _diffs:
        raise ImportError("sluice.py does not match sluice.h: " + "; ".join(_diffs))
if os.environ.get("SLUICE_LIB"):
    load()


# --- events -------------------------------------------------------------------------------

class Event:
    """One event of sluice_poll(): type (EventType), node (bytes), chan, and per type: data
    and len, time_ns, id (MESSAGE); ip, port (NODE_CONNECTED); reason, by_peer, undelivered
    (NODE_DISCONNECTED); reason (NODE_CONNECT_FAILED, a Fail); node and count
    (DISC_ADDR_LEARNED: the peer and the addresses it added), node (DISC_PEER_BAD), count
    (DISC_BOOK_SAVED: entries), reason (DISC_BOOK_FAILED: the errno), and undelivered for
    every DISC_* (discovery events the appliance dropped before this one).

    A type this module does not know (a newer libsluice's) stays a plain int: ignore it."""
    __slots__ = ("type", "node", "chan", "by_peer", "reason", "len", "data", "time_ns", "id",
                 "ip", "port", "undelivered", "count", "_raw")

    def __init__(self, raw, data, keep_raw):
        self.type = EventType(raw.type) if raw.type in _EVENT_TYPES else raw.type
        self.node = bytes(raw.node)
        for f in ("chan", "by_peer", "reason", "len", "time_ns", "id", "ip", "port",
                  "undelivered", "count"):
            setattr(self, f, getattr(raw, f))
        self.data = data
        self._raw = raw if keep_raw else None

    def __repr__(self):
        more = f" len={self.len}" if self.type == EventType.MESSAGE else ""
        name = getattr(self.type, "name", str(self.type))
        return f"<sluice.Event {name} node={self.node[:4].hex()}… chan={self.chan}{more}>"


# --- an attachment ------------------------------------------------------------------------

class Sluice:
    """An attachment to the appliance listening on socket_path (sluice_attach())."""

    def __init__(self, socket_path, name="python", lib=None):
        self._lib = load(lib)
        err = ctypes.c_int(0)
        self._s = self._lib.sluice_attach(os.fsencode(socket_path), name.encode(),
                                          ctypes.byref(err))
        if not self._s:
            _check(err.value or -1)
        self._evs = (_Event * 64)()

    def close(self):
        """Detach (sluice_detach()); the object is unusable afterwards."""
        if self._s:
            self._lib.sluice_detach(self._s)
            self._s = None

    detach = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_s", None):
            self.close()

    @property
    def self_id(self):
        """This appliance's node id (bytes)."""
        return ctypes.string_at(self._lib.sluice_self(self._s), NODE_LEN)

    @property
    def max_message(self):
        return self._lib.sluice_max_message(self._s)

    def flush(self, timeout_ms=-1):
        """Wait until the appliance took every message sent so far (sluice_flush()): do it
        before close() to keep the last ones. Raises OSError (ETIMEDOUT...)."""
        _check(self._lib.sluice_flush(self._s, int(timeout_ms)))

    def register(self, chan):
        _check(self._lib.sluice_register(self._s, chan))

    def unregister(self, chan):
        _check(self._lib.sluice_unregister(self._s, chan))

    def connect(self, node, ip=0, port=0):
        """Dial node (at ip, a string or a host-order int, and port; 0: its known address)."""
        _check(self._lib.sluice_connect(self._s, _node(node), _ip(ip), port))

    def disconnect(self, node):
        _check(self._lib.sluice_disconnect(self._s, _node(node)))

    def nodes(self, max_nodes=1024):
        """The nodes the appliance knows: a list of dicts (sluice_node_info's fields)."""
        out = (_NodeInfo * max_nodes)()
        n = _check(self._lib.sluice_nodes(self._s, out, max_nodes, None))
        return [{f: (bytes(getattr(e, f)) if f == "node" else getattr(e, f))
                 for f, _ in _NodeInfo._fields_} for e in out[:n]]

    def send(self, node, chan, data, ttl_ns=0):
        """Send data (bytes-like) to node on chan: True, or False when there is no room now
        (ENOBUFS: a WRITABLE event follows). Other errors raise OSError."""
        data = bytes(data)
        rc = self._lib.sluice_send(self._s, _node(node), chan, data, len(data), ttl_ns)
        if rc == -errno.ENOBUFS:
            return False
        _check(rc)
        return True

    def poll(self, max_events=32, copy=True):
        """Up to max_events events. copy=True: each message's bytes copied and released at
        once; copy=False: data is a memoryview into shared memory until release(event)."""
        n = _check(self._lib.sluice_poll(self._s, self._evs, min(max_events, len(self._evs))))
        out = []
        for raw in self._evs[:n]:
            raw = _Event.from_buffer_copy(raw)
            data = None
            if raw.type == EventType.MESSAGE:
                view = (ctypes.c_char * raw.len).from_address(raw.data)
                data = bytes(view) if copy else memoryview(view)
                if copy:
                    self._lib.sluice_release(self._s, ctypes.byref(raw))
            out.append(Event(raw, data, keep_raw=not copy))
        return out

    def release(self, event):
        """Give back a message received with poll(copy=False) (once)."""
        if event._raw is not None:
            self._lib.sluice_release(self._s, ctypes.byref(event._raw))
            event._raw, event.data = None, None

    def recv(self, cap=65536):
        """The next event or None; a message's bytes copied (up to cap) and released."""
        raw, buf = _Event(), ctypes.create_string_buffer(cap)
        if _check(self._lib.sluice_recv(self._s, ctypes.byref(raw), buf, cap)) == 0:
            return None
        data = buf.raw[:min(raw.len, cap)] if raw.type == EventType.MESSAGE else None
        return Event(raw, data, keep_raw=False)

    def wait(self, timeout_ms=-1):
        """Block until an event may be there (True) or timeout_ms passes (False)."""
        return _check(self._lib.sluice_wait(self._s, int(timeout_ms))) == 1

    def fileno(self):
        """sluice_fd(), for a selector loop: call wait_prepare() before waiting on it (skip
        the wait when it returns True), wait_done() after, and give the selector at most
        wait_timeout(ms) — the appliance writes the descriptor only while the flag
        wait_prepare() sets is up."""
        return self._lib.sluice_fd(self._s)

    def wait_prepare(self):
        """True: events are there (do not wait); False: wait on fileno(). Raises the
        library's error (ECONNRESET) once the appliance is gone: fileno() then stays
        readable."""
        return _check(self._lib.sluice_wait_prepare(self._s)) == 1

    def wait_done(self):
        self._lib.sluice_wait_done(self._s)

    def wait_timeout(self, timeout_ms):
        return self._lib.sluice_wait_timeout(self._s, int(timeout_ms))

    def stats(self):
        st = _Stats()
        self._lib.sluice_get_stats(self._s, ctypes.byref(st))
        return {f: getattr(st, f) for f, _ in _Stats._fields_}
