#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""sluice performance rig: DPDK's testpmd as the raw reference, as the wire and as the attacker.

    python3 perf/rig_testpmd.py raw --sizes 64,1518 --seconds 1
    python3 perf/rig_testpmd.py wire-check build/sluice
    python3 perf/rig_testpmd.py attack-check build/sluice

Pieces the rig orchestrator (perf/rig.py) reuses:

  Testpmd            one `dpdk-testpmd -i` process driven at its prompt (start, stop and its
                     forward statistics, port statistics, link state, quit, kill)
  raw_txrx()         section 1: txonly -> rxonly over one memif link, two processes
  raw_io()           section 1: txonly -> io (two memif ports) -> rxonly, three processes
  Wire / wire()      section 3: testpmd in io mode between two appliances (two memif servers)
  Attacker, attack_pcap(), attack_txonly(), attack_frames(), write_pcap()
                     section 4: testpmd floods an appliance with crafted frames (a capture
                     replayed in a loop) or with one datagram (txonly)
  wire_check(), attack_check()
                     end-to-end checks of sections 3 and 4 with real appliances

Frame sizes (RFC 2544). RFC 2544 frame sizes (64, 128, 256, 512, 1024, 1280, 1518) count the
4-byte Ethernet FCS. memif carries no FCS, so a frame of size S is sent as S - 4 bytes
(`--txpkts=S-4`); the byte counters of testpmd (and of memif) therefore show S - 4 per packet.
Rates are reported as packets/s (`pps`) and as bits/s on the RFC 2544 frame size
(`bps` = pps x S x 8, FCS included, preamble and inter-frame gap not included); `l1_bps` adds
the 20 bytes of preamble, start delimiter and inter-frame gap a real wire would also carry, for
comparison with a line rate. `rx_bytes_per_s` is what the receiver's counters say (S - 4 bytes
per packet), as a cross-check.

How a rate is measured. Every process is started, every memif link is waited for until it is
up on both ends, forwarding is started, then after a warm-up the receiver's statistics are
cleared and read twice, `seconds` apart: the rate is the difference of the receiver's rx
counters over the wall-clock time between the two reads (each read timed at the midpoint of its
command's round trip through the prompt, a few hundred microseconds). Numbers on a shared
2-core machine without hugepages are noisy: they are a reference measured in the same run as
what they are compared with, not an absolute.

Processes. Each testpmd gets EAL `--no-huge -m N --no-pci --file-prefix <unique, with the PID>`,
its memif sockets live in a temporary directory of the run (DPDK's memif names them in the
abstract namespace, nothing is left in the file system), and it is bounded in time (a watchdog
kills it after `max_seconds`), dies with the rig (PR_SET_PDEATHSIG) and is stopped by PID on
every way out (SIGTERM, then SIGKILL). main() turns SIGTERM/SIGINT/SIGHUP into an exception so
that the same clean-up runs. Its EAL runtime directory is removed when it has exited.

memif quirks worth knowing:
  * A memif port links up only when both ends run and the client has connected. DPDK's memif
    client tries to connect only when its port starts: a testpmd client started before its
    server stays down for good (checked), so servers are started first everywhere here, and
    `Testpmd.restart_port()` (`port stop N`, `port start N`) connects a client late.
    `Testpmd.wait_link()` polls `show port info` and raises TestpmdError naming the ports and
    their sockets when they stay down.
  * A memif queue i reaches only the peer's queue i: give both ends the same queue count.
  * memif's tx stops at the peer's rx ring (1024 slots by default): a transmitter that is faster
    than its receiver sees short tx bursts. testpmd frees what its tx burst did not take and
    counts it as TX-dropped in its forward statistics (not in the port's statistics, which count
    only what entered the ring). So for a memif port: port tx packets == what the peer can read;
    forward TX-dropped == what was lost for lack of room.
  * memif counts bytes without FCS; its port statistics have no rx-missed (always 0).
  * A memif port whose peer has gone shows all-zero counters (they are summed over the rings of
    the live connection); they come back when a peer connects again. Wire.finish() reads them
    through a probe testpmd that connects and sends nothing. The per-port RX/TX-packets of
    testpmd's `stop` summary come from the same counters, so they are meaningless for a port
    that disconnected while forwarding; its TX-dropped is testpmd's own count and stays right.
  * DPDK 22.11's memif PMD unmaps a departed peer's rings from its control thread while a
    forwarding lcore may still be reading them: testpmd forwarding on a memif port whose peer
    leaves dies of SIGSEGV in librte_net_memif now and then (about one run in six here). So
    every function here stops forwarding before any peer leaves: the raw tests stop every
    testpmd before the first quits, the wire stops forwarding before the appliances stop (what
    they send while stopping stays unread in testpmd's rings), and the attacker stops before
    the appliance, which is stopped before the attacker quits.

Python 3 standard library only.
"""
import argparse
import contextlib
import errno
import os
import pty
import random
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(SRC_ROOT, "scripts"))
sys.path.insert(0, os.path.join(SRC_ROOT, "tests", "integration"))
from sl_frames import csum, ip_bytes, mac_bytes  # noqa: E402
from sl_telemetry import runtime_dir  # noqa: E402

TESTPMD = os.environ.get("SLUICE_TESTPMD", "dpdk-testpmd")
RFC2544_SIZES = (64, 128, 256, 512, 1024, 1280, 1518)
FCS_LEN = 4
L1_OVERHEAD = 20  # preamble 7 + start delimiter 1 + inter-frame gap 12
PROMPT = "testpmd> "
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]")
_seq = 0


class TestpmdError(RuntimeError):
    """testpmd did not start, did not answer, or a port did not come up."""


class RigInterrupted(Exception):
    """The rig got SIGTERM / SIGINT / SIGHUP."""


def _log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def unique_prefix(tag):
    """An EAL file prefix unique on the machine: the rig's PID, a counter, the tag."""
    global _seq
    _seq += 1
    return f"sl-tpmd-{os.getpid()}-{_seq}-{tag}"[:63]


def memif_vdev(index, role, socket, qid=0, **extra):
    """A memif vdev argument: net_memif<index>,role=...,id=<qid>,socket=<path>[,k=v...]."""
    s = f"net_memif{index},role={role},id={qid},socket={socket}"
    for k, v in extra.items():
        s += f",{k}={v}"
    return s


# --- parsing testpmd's output ------------------------------------------------------------------

_KV = re.compile(r"([A-Za-z][A-Za-z -]*?):\s+(-?\d+)")


def _counters(text):
    """{"rx-packets": 12, ...} from `Name: value` pairs (names lower-cased)."""
    return {k.strip().lower(): int(v) for k, v in _KV.findall(text)}


def parse_port_stats(text):
    """`show port stats N` -> {"rx_packets", "rx_missed", "rx_bytes", "rx_errors", "rx_nombuf",
    "tx_packets", "tx_errors", "tx_bytes"} (ints; counters since the last clear). Also
    "rx_pps", "tx_pps", "rx_bps", "tx_bps": testpmd's own rates since the previous show."""
    m = re.search(r"#+ NIC statistics for port (\d+)\s*#+(.*?)\n\s*#{20,}", text, re.S)
    if not m:
        raise TestpmdError(f"no port statistics in testpmd's answer: {text.strip()[:300]!r}")
    c = _counters(m.group(2))
    names = {"rx-packets": "rx_packets", "rx-missed": "rx_missed", "rx-bytes": "rx_bytes",
             "rx-errors": "rx_errors", "rx-nombuf": "rx_nombuf", "tx-packets": "tx_packets",
             "tx-errors": "tx_errors", "tx-bytes": "tx_bytes", "rx-pps": "rx_pps",
             "tx-pps": "tx_pps", "rx-bps": "rx_bps", "tx-bps": "tx_bps"}
    out = {"port": int(m.group(1))}
    for k, v in names.items():
        if k in c:
            out[v] = c[k]
    for k in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes"):
        if k not in out:
            raise TestpmdError(f"port statistics without {k}: {m.group(2).strip()!r}")
    return out


def parse_fwd_stats(text):
    """The summary `stop` prints -> {"ports": {port: {...}}, "streams": [...], "total": {...}}.
    Each dict: rx_packets, rx_dropped, rx_total, tx_packets, tx_dropped, tx_total (and
    checksum counters when the engine counts them). Counts since forwarding started. TX-dropped
    is what the engine's tx bursts did not take (freed by testpmd)."""
    def norm(block):
        c = _counters(block)
        return {k.replace("-", "_").replace(" ", "_"): v for k, v in c.items()}

    out = {"ports": {}, "streams": [], "total": {}}
    for m in re.finditer(r"-+ Forward statistics for port (\d+)\s*-+\n(.*?)\n\s*-{20,}",
                         text, re.S):
        out["ports"][int(m.group(1))] = norm(m.group(2))
    for m in re.finditer(r"-+ Forward Stats for RX Port=\s*(\d+)/Queue=\s*(\d+) -> "
                         r"TX Port=\s*(\d+)/Queue=\s*(\d+)\s*-+\n(.*?)(?=\n\s*\n|\n\s*-{20,})",
                         text, re.S):
        d = norm(m.group(5))
        d.update(rx_port=int(m.group(1)), rx_queue=int(m.group(2)),
                 tx_port=int(m.group(3)), tx_queue=int(m.group(4)))
        out["streams"].append(d)
    m = re.search(r"\+{5,} Accumulated forward statistics for all ports\s*\+*\n(.*?)\n\s*\+{20,}",
                  text, re.S)
    if m:
        out["total"] = norm(m.group(1))
    elif "Packet forwarding not started" not in text:
        raise TestpmdError(f"no forward statistics in testpmd's answer: {text.strip()[:300]!r}")
    return out


# --- one testpmd -------------------------------------------------------------------------------

class Testpmd:
    """One `dpdk-testpmd -i` process, driven at its prompt through a pseudo-terminal (on a
    terminal its output is line-buffered, so an answer is complete when the next prompt comes).

        with Testpmd("rx", cores=(1, 0), vdevs=[memif_vdev(0, "client", sock)],
                     fwd="rxonly") as t:
            t.wait_link()
            t.start(); ...; print(t.port_stats(0)); t.stop()

    cores: (main lcore, forwarding lcore, ...): EAL `-l` with `--main-lcore`; the main lcore
    sits in the prompt (idle), the others forward (`--nb-cores` = their number unless given).
    vdevs: --vdev arguments. fwd: the forwarding mode. args: more testpmd arguments
    (`--txpkts=`, `--tx-ip=`, `--burst=` ...). eal_args: more EAL arguments. max_seconds: the
    watchdog: the process is killed that long after it started, whatever happens. log_path:
    everything testpmd printed goes there as well (default: kept in memory, `self.output`)."""

    def __init__(self, name, cores, vdevs, fwd="io", args=(), eal_args=(), memory_mb=256,
                 mbufs=8192, max_seconds=60.0, start_timeout=60.0, log_path=None):
        self.name = name
        self.cores = tuple(int(c) for c in cores)
        if len(self.cores) < 2:
            raise ValueError("testpmd needs a main lcore and at least one forwarding lcore")
        self.vdevs = list(vdevs)
        self.fwd = fwd
        self.args = list(args)
        self.eal_args = list(eal_args)
        self.memory_mb = memory_mb
        self.mbufs = mbufs
        self.max_seconds = max_seconds
        self.start_timeout = start_timeout
        self.log_path = log_path
        self.file_prefix = unique_prefix(name)
        self.proc = None
        self.fd = None
        self.output = ""  # everything read so far (ANSI sequences and \r removed)
        self._pending = ""
        self._watchdog = None
        self._logf = None
        self.forwarding = False
        self.started_in = None  # seconds from exec to the first prompt
        self.prefix = ()  # a command that execs testpmd (e.g. `nice -n -5`)

    # life

    def argv(self):
        lcores = ",".join(str(c) for c in sorted(set(self.cores)))
        argv = list(self.prefix) + [TESTPMD, "-l", lcores, "--main-lcore", str(self.cores[0]),
                "--no-huge", "-m", str(self.memory_mb), "--no-pci",
                "--file-prefix", self.file_prefix, "--log-level=lib.eal:notice"]
        argv += self.eal_args
        argv += [f"--vdev={v}" for v in self.vdevs]
        argv += ["--", "-i", f"--forward-mode={self.fwd}",
                 f"--total-num-mbufs={self.mbufs}"]
        if not any(a.startswith("--nb-cores") for a in self.args):
            argv.append(f"--nb-cores={len(self.cores) - 1}")
        argv += self.args
        return argv

    def launch(self):
        """Start the process and wait for its first prompt (TestpmdError if it exits or does
        not prompt within start_timeout)."""
        if self.proc is not None:
            raise TestpmdError(f"{self.name}: already started")
        argv = self.argv()
        t0 = time.monotonic()
        master, slave = pty.openpty()
        try:
            self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                         preexec_fn=_load_integ().child_setup,
                                         start_new_session=True,
                                         close_fds=True)
        finally:
            os.close(slave)
        self.fd = master
        if self.log_path:
            self._logf = open(self.log_path, "a", errors="replace")
            self._logf.write("$ " + " ".join(argv) + "\n")
        self._watchdog = threading.Timer(self.max_seconds, self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()
        _log(f"testpmd {self.name}: pid {self.proc.pid}: {' '.join(argv)}")
        try:
            self._read_until_prompt(self.start_timeout, what="its first prompt")
        except BaseException:
            self.close()
            raise
        self.started_in = time.monotonic() - t0
        return self

    def _expire(self):
        if self.proc is not None and self.proc.poll() is None:
            _log(f"testpmd {self.name}: pid {self.proc.pid} ran past {self.max_seconds} s: "
                 f"SIGKILL")
            try:
                self.proc.kill()
            except OSError:
                pass

    def threads(self):
        """The process's threads as "name:state:wchan:cpu-ticks" (for diagnostics)."""
        out = []
        try:
            for tid in sorted(os.listdir(f"/proc/{self.pid}/task"), key=int):
                base = f"/proc/{self.pid}/task/{tid}"
                with open(f"{base}/stat") as f:
                    st = f.read()
                name = st[st.index("(") + 1:st.rindex(")")]
                fields = st[st.rindex(")") + 2:].split()
                try:
                    with open(f"{base}/wchan") as f:
                        wchan = f.read().strip() or "-"
                except OSError:
                    wchan = "?"
                out.append(f"{name}:{fields[0]}:{wchan}:{int(fields[11]) + int(fields[12])}")
        except (OSError, ValueError, TypeError):
            pass
        return " ".join(out) or "?"

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def __enter__(self):
        if self.proc is None:
            self.launch()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # the prompt

    def _read_chunk(self, timeout):
        try:
            r, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        except InterruptedError:
            return ""
        if not r:
            return ""
        try:
            data = os.read(self.fd, 65536)
        except OSError as e:  # EIO: the other end closed (the process exited)
            if e.errno == errno.EIO:
                return None
            raise
        if not data:
            return None
        text = _ANSI.sub("", data.decode("utf-8", "replace")).replace("\r", "")
        if self._logf:
            self._logf.write(text)
            self._logf.flush()
        self.output += text
        if len(self.output) > 4 << 20:
            self.output = self.output[-(1 << 20):]
        return text

    def _read_until_prompt(self, timeout, what):
        """Everything up to the next prompt (which is consumed)."""
        deadline = time.monotonic() + timeout
        buf = self._pending
        self._pending = ""
        while True:
            i = buf.find(PROMPT)
            if i >= 0 and (i == 0 or buf[i - 1] == "\n"):
                self._pending = buf[i + len(PROMPT):]
                return buf[:i]
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestpmdError(f"testpmd {self.name} (pid {self.pid}): no prompt after "
                                   f"{what} within {timeout} s; threads: "
                                   f"{self.threads()}; last output:\n"
                                   f"{_tail(self.output, 15)}")
            chunk = self._read_chunk(min(left, 0.5))
            if chunk is None:
                rc = self.proc.wait(timeout=5)
                raise TestpmdError(f"testpmd {self.name} (pid {self.pid}) exited with status "
                                   f"{rc} while waiting for {what}; last output:\n"
                                   f"{_tail(self.output, 25)}")
            buf += chunk

    def cmd(self, command, timeout=10.0):
        """Send one command line; return its answer (the text before the next prompt, the
        echoed command removed). TestpmdError if no prompt comes back in time."""
        if not self.running():
            raise TestpmdError(f"testpmd {self.name}: not running (command {command!r})")
        # anything printed since the last prompt (link events...) is not part of the answer
        while self._read_chunk(0) not in ("", None):
            pass
        self._pending = ""
        os.write(self.fd, (command + "\n").encode())
        text = self._read_until_prompt(timeout, what=repr(command))
        first, _, rest = text.partition("\n")
        return rest if command.strip() in first else text

    def timed_cmd(self, command, timeout=10.0):
        """(answer, monotonic time of the midpoint of the command's round trip)."""
        t0 = time.monotonic()
        text = self.cmd(command, timeout)
        return text, (t0 + time.monotonic()) / 2

    # what the rig uses

    def start(self):
        """Start forwarding (`start`)."""
        text = self.cmd("start")
        if "packet forwarding" not in text.lower():  # "<mode> packet forwarding - ports=..."
            raise TestpmdError(f"testpmd {self.name}: `start` said: {text.strip()[:300]!r}")
        self.forwarding = True

    def stop(self, timeout=15.0):
        """Stop forwarding; returns parse_fwd_stats() of testpmd's summary: per port and in
        total, packets received, sent and dropped by the forwarding engine since `start`."""
        text = self.cmd("stop", timeout=timeout)
        self.forwarding = False
        return parse_fwd_stats(text)

    def port_stats(self, port, timed=False):
        """`show port stats N` as a dict (see parse_port_stats; packets and bytes since the
        last clear). timed=True: (dict, monotonic time of the reading)."""
        text, t = self.timed_cmd(f"show port stats {port}")
        d = parse_port_stats(text)
        return (d, t) if timed else d

    def clear_stats(self, port="all"):
        """`clear port stats` (all ports by default)."""
        self.cmd(f"clear port stats {port}")

    def port_info(self, port):
        """`show port info N` as {"link_status": "up"/"down", "link_speed": ..., "mac": ...,
        "name": ..., "driver": ...}."""
        text = self.cmd(f"show port info {port}")
        d = {}
        for key, rx in (("name", r"Device name:\s*(\S+)"), ("driver", r"Driver name:\s*(\S+)"),
                        ("mac", r"MAC address:\s*([0-9A-Fa-f:]{17})"),
                        ("link_status", r"Link status:\s*(\w+)"),
                        ("link_speed", r"Link speed:\s*([^\n]+)")):
            m = re.search(rx, text)
            if m:
                d[key] = m.group(1).strip()
        if "link_status" not in d:
            raise TestpmdError(f"testpmd {self.name}: no link status for port {port}: "
                               f"{text.strip()[:300]!r}")
        return d

    def n_ports(self):
        text = self.cmd("show port summary all")
        m = re.search(r"Number of available ports:\s*(\d+)", text)
        return int(m.group(1)) if m else len(self.vdevs)

    def wait_link(self, ports=None, timeout=10.0):
        """Wait until every port (default: all) reports link up; TestpmdError naming the ports
        still down (and their vdevs) otherwise. A memif port is up only once both ends run."""
        ports = list(range(self.n_ports())) if ports is None else list(ports)
        deadline = time.monotonic() + timeout
        while True:
            down = [p for p in ports if self.port_info(p)["link_status"] != "up"]
            if not down:
                return
            if time.monotonic() >= deadline:
                what = ", ".join(f"port {p} ({self.vdevs[p] if p < len(self.vdevs) else '?'})"
                                 for p in down)
                raise TestpmdError(f"testpmd {self.name}: link still down after {timeout} s: "
                                   f"{what} (is the other end of each memif socket running, "
                                   f"one server and one client? a memif client started before "
                                   f"its server does not connect until restart_port())")
            time.sleep(0.05)

    def restart_port(self, port):
        """`port stop N` then `port start N` (not while forwarding): a memif client whose
        server was not there when it started connects now."""
        if self.forwarding:
            raise TestpmdError(f"testpmd {self.name}: restart_port while forwarding")
        self.cmd(f"port stop {port}")
        self.cmd(f"port start {port}", timeout=20)

    def quit(self, timeout=10.0):
        """A clean exit (`stop` if forwarding, then `quit`); returns the exit status. Falls
        back to kill() if it does not exit in time."""
        if not self.running():
            return self.close()
        try:
            if self.forwarding:
                self.stop()
            os.write(self.fd, b"quit\n")
            deadline = time.monotonic() + timeout
            while self.proc.poll() is None and time.monotonic() < deadline:
                if self._read_chunk(0.1) is None:
                    break
            self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except (OSError, TestpmdError, subprocess.TimeoutExpired) as e:
            _log(f"testpmd {self.name}: no clean exit ({e!r}): killing it")
        return self.close()

    def kill(self, grace=3.0):
        """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit status."""
        import sl_integ  # tests/integration (on sys.path above)
        return sl_integ.terminate(self.proc, grace, f"testpmd {self.name}", _log)

    def close(self):
        """Make sure the process is gone (kill() if needed) and release everything: the pty,
        the watchdog, the log file, the EAL runtime directory. Returns the exit status."""
        rc = self.kill()
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self.fd is not None:
            try:
                while self._read_chunk(0) not in ("", None):
                    pass
            except OSError:
                pass
            os.close(self.fd)
            self.fd = None
        if self._logf is not None:
            self._logf.close()
            self._logf = None
        if self.proc is not None:
            shutil.rmtree(os.path.join(runtime_dir(), self.file_prefix), ignore_errors=True)
        return rc


def _tail(text, n):
    return "\n".join(text.splitlines()[-n:])


@contextlib.contextmanager
def run_dir(tag):
    """A temporary directory for one measurement's sockets and logs, removed afterwards
    (kept if SLUICE_KEEP_TMP is set)."""
    d = tempfile.mkdtemp(prefix=f"sl-tpmd-{tag}-{os.getpid()}-")
    try:
        yield d
    finally:
        if os.environ.get("SLUICE_KEEP_TMP"):
            _log(f"SLUICE_KEEP_TMP: kept {d}")
        else:
            shutil.rmtree(d, ignore_errors=True)


def _rate(frame_size, s0, t0, s1, t1):
    dt = t1 - t0
    pkts = s1["rx_packets"] - s0["rx_packets"]
    byts = s1["rx_bytes"] - s0["rx_bytes"]
    pps = pkts / dt if dt > 0 else 0.0
    return {"interval_s": round(dt, 4), "rx_pkts": pkts, "pps": round(pps),
            "bps": round(pps * frame_size * 8),
            "l1_bps": round(pps * (frame_size + L1_OVERHEAD) * 8),
            "rx_bytes_per_s": round(byts / dt) if dt > 0 else 0}


def _check_size(frame_size):
    if not 64 <= frame_size <= 1518 + 4:
        raise ValueError(f"frame size {frame_size}: 64..1522 (RFC 2544 sizes, FCS included)")
    return frame_size - FCS_LEN


# --- section 1: the raw reference ---------------------------------------------------------------

# Placement: (main lcore, forwarding lcore) of each process; EAL gets `-l` with both and
# `--main-lcore`. A main lcore sits in testpmd's prompt (blocked in read, idle), so what counts
# is where the forwarding lcores run. Measured on this 2-core machine (shared, 1 s, 64 B):
#   txrx, tx forwarding on core 1 and rx on core 0 (each its own core)    ~17 Mpps
#   txrx, both forwarding lcores on core 1 (the kernel time-slices them)  ~3.4 Mpps
# so each forwarding lcore gets its own core: RAW_TXRX_CORES.
#   io, tx and rx forwarding on core 1, io on core 0 (io alone)           ~1.6 Mpps
#   io, tx on 1, io and rx on core 0                                      ~1.6 Mpps
#   (all io placements fell to ~0.1 Mpps alike when the machine was busier; see raw_io)
# Three busy-polling processes on two cores always time-share one core: the io result is bound
# by that contention (one memif ring per time slice), not by io forwarding. RAW_IO_CORES gives
# io a core of its own and makes the sender and the receiver share the other.
RAW_TXRX_CORES = {"tx": (0, 1), "rx": (1, 0)}
RAW_IO_CORES = {"tx": (0, 1), "io": (1, 0), "rx": (0, 1)}


def raw_txrx(frame_size, seconds, warmup=0.5, cores=None, burst=32, keep_logs=False,
             rsize=None):
    """Section 1, raw DPDK reference: testpmd A in `txonly` on a memif server port sends
    flat out to testpmd B in `rxonly` on the memif client port (two processes).

    rsize: memif's ring size as log2 (devarg `rsize`; default: DPDK's, 10 = 1024 slots, as the
    appliances use). Measures at the receiver over `seconds` (after link-up and `warmup` seconds
    of traffic):
    returns {"test": "raw_txrx", "frame_size": S (bytes, FCS included), "pps" (packets/s),
    "bps" (bits/s on S), "l1_bps", "rx_bytes_per_s", "interval_s", "rx_pkts", "tx_pkts" (what
    A's port put on the link, whole run), "tx_dropped" (packets of A's tx bursts refused for
    lack of room in B's ring, whole run), "cores": forwarding lcores, e.g. "tx@1,rx@0"}."""
    length = _check_size(frame_size)
    cores = dict(RAW_TXRX_CORES, **(cores or {}))
    with run_dir("raw") as d:
        sock = os.path.join(d, "raw.sock")
        mx = {"rsize": rsize} if rsize else {}
        tx = Testpmd("tx", cores["tx"], [memif_vdev(0, "server", sock, **mx)], fwd="txonly",
                     args=[f"--txpkts={length}", f"--burst={burst}"],
                     max_seconds=seconds + warmup + 40,
                     log_path=os.path.join(d, "tx.log") if keep_logs else None)
        rx = Testpmd("rx", cores["rx"], [memif_vdev(0, "client", sock, **mx)], fwd="rxonly",
                     args=[f"--burst={burst}"], max_seconds=seconds + warmup + 40,
                     log_path=os.path.join(d, "rx.log") if keep_logs else None)
        with tx, rx:
            rx.wait_link()
            tx.wait_link()
            rx.start()
            tx.start()
            time.sleep(warmup)
            rx.clear_stats()
            s0, t0 = rx.port_stats(0, timed=True)
            time.sleep(seconds)
            s1, t1 = rx.port_stats(0, timed=True)
            fs_tx = tx.stop()
            rx.stop()
            out = {"test": "raw_txrx", "frame_size": frame_size}
            out.update(_rate(frame_size, s0, t0, s1, t1))
            out["tx_pkts"] = fs_tx["total"].get("tx_packets", 0)
            out["tx_dropped"] = fs_tx["total"].get("tx_dropped", 0)
            out["cores"] = f"tx@{cores['tx'][1]},rx@{cores['rx'][1]}"  # forwarding lcores
            tx.quit()
            rx.quit()
    return out


def raw_io(frame_size, seconds, warmup=0.5, cores=None, burst=32, keep_logs=False,
           rsize=None):
    """Section 1, raw DPDK through one forwarder: testpmd `txonly` -> testpmd `io` (two memif
    server ports, port 0 in, port 1 out) -> testpmd `rxonly`: three processes on two cores, so
    two forwarding lcores share a core (see RAW_IO_CORES) and the result is lower than a
    forwarder with a core of its own would give.

    The sharing bounds it by the memif ring: while one process of the chain is off its core
    (the kernel's time slice, milliseconds), its neighbour fills the ring between them and
    drops the rest, so each slice moves at most one ring of packets. With DPDK's 1024-slot
    rings that gave 0.1..1.6 Mpps here depending on the other load of the machine; rsize=14
    (16384 slots) gave about 1.7 Mpps in the same minute as 0.1 Mpps with the default. The
    default stays DPDK's ring (as the appliances use); pass rsize to see the other bound.

    Returns {"test": "raw_io", "frame_size", "pps", "bps", "l1_bps", "rx_bytes_per_s",
    "interval_s", "rx_pkts" (at the receiver, over the interval), "io_fwd_pps" (what io sent on
    its port 1 over the same interval, packets/s), "io_rx_pps" (what io took from port 0),
    "io_tx_dropped" / "tx_dropped" (whole-run refusals of io's and the sender's tx bursts),
    "cores"}."""
    length = _check_size(frame_size)
    cores = dict(RAW_IO_CORES, **(cores or {}))
    with run_dir("rawio") as d:
        s_in, s_out = os.path.join(d, "in.sock"), os.path.join(d, "out.sock")
        lifetime = seconds + warmup + 40
        logp = (lambda n: os.path.join(d, n + ".log")) if keep_logs else (lambda n: None)
        mx = {"rsize": rsize} if rsize else {}
        io = Testpmd("io", cores["io"], [memif_vdev(0, "server", s_in, **mx),
                                         memif_vdev(1, "server", s_out, **mx)],
                     fwd="io", args=[f"--burst={burst}"], max_seconds=lifetime,
                     log_path=logp("io"))
        tx = Testpmd("tx", cores["tx"], [memif_vdev(0, "client", s_in, **mx)], fwd="txonly",
                     args=[f"--txpkts={length}", f"--burst={burst}"], max_seconds=lifetime,
                     log_path=logp("tx"))
        rx = Testpmd("rx", cores["rx"], [memif_vdev(0, "client", s_out, **mx)], fwd="rxonly",
                     args=[f"--burst={burst}"], max_seconds=lifetime, log_path=logp("rx"))
        with io, tx, rx:
            io.wait_link()
            tx.wait_link()
            rx.wait_link()
            rx.start()
            io.start()
            tx.start()
            time.sleep(warmup)
            rx.clear_stats()
            io.clear_stats()
            s0, t0 = rx.port_stats(0, timed=True)
            i0 = io.port_stats(0), io.port_stats(1)
            time.sleep(seconds)
            s1, t1 = rx.port_stats(0, timed=True)
            i1 = io.port_stats(0), io.port_stats(1)
            fs_tx = tx.stop()
            fs_io = io.stop()
            rx.stop()
            out = {"test": "raw_io", "frame_size": frame_size}
            out.update(_rate(frame_size, s0, t0, s1, t1))
            dt = t1 - t0
            out["io_rx_pps"] = round((i1[0]["rx_packets"] - i0[0]["rx_packets"]) / dt)
            out["io_fwd_pps"] = round((i1[1]["tx_packets"] - i0[1]["tx_packets"]) / dt)
            out["io_tx_dropped"] = fs_io["total"].get("tx_dropped", 0)
            out["tx_dropped"] = fs_tx["total"].get("tx_dropped", 0)
            # forwarding lcores (three processes, two cores: two of them share one)
            out["cores"] = f"tx@{cores['tx'][1]},io@{cores['io'][1]},rx@{cores['rx'][1]}"
            for t in (tx, io, rx):
                t.quit()
    return out


# --- section 3: testpmd as the wire between two appliances --------------------------------------

class Wire:
    """testpmd in `io` forwarding between two memif SERVER ports: port 0 on socket A, port 1 on
    socket B. Appliance A (a memif client on socket A) and appliance B (a client on socket B),
    on one IPv4 subnet, talk through it: io forwards every frame (ARP included) from port 0 to
    port 1 and back, untouched.

        with Wire(sock_a, sock_b) as wire:
            a.add_port("link0", wire.client_device("a")); b.add_port(... wire.client_device("b"))
            ... start the appliances, wire.wait_link(), let them work ...
            wire.stop_forwarding()        # before any appliance stops (see below)
            ... stop the appliances ...
            counters = wire.finish()

    Forwarding starts as soon as testpmd is up, before the appliances connect (a frame for a
    port whose appliance is not connected yet is counted as TX-dropped).

    Stop forwarding before an appliance disconnects: DPDK 22.11's memif PMD unmaps a departed
    peer's rings from its control thread while the forwarding lcore may be reading them, and
    testpmd then dies of SIGSEGV in librte_net_memif now and then (seen here in about one run
    out of six when an appliance exited while testpmd forwarded). What an appliance sends after
    that stays unread in testpmd's rx ring and is not counted by testpmd."""

    def __init__(self, sock_a, sock_b, cores=(0, 1), max_seconds=120.0, log_path=None,
                 burst=32):
        self.sock_a, self.sock_b = sock_a, sock_b
        self.testpmd = Testpmd("wire", cores, [memif_vdev(0, "server", sock_a),
                                               memif_vdev(1, "server", sock_b)],
                               fwd="io", args=[f"--burst={burst}"], max_seconds=max_seconds,
                               log_path=log_path)
        self.t_start = None
        self.seconds = None
        self.fwd = None
        self.result = None

    @staticmethod
    def _client(sock):
        return f"net_memif0,role=client,id=0,socket={sock}"

    def client_device(self, side):
        """The `device` of appliance `side` ("a" or "b"): a memif client on that socket."""
        return self._client(self.sock_a if side == "a" else self.sock_b)

    def __enter__(self):
        try:
            self.testpmd.launch()
            self.testpmd.clear_stats()
            self.testpmd.start()
            self.t_start = time.monotonic()
        except BaseException:
            self.testpmd.close()
            raise
        return self

    def wait_link(self, timeout=15.0):
        """Wait until both appliances are connected (both ports up)."""
        self.testpmd.wait_link([0, 1], timeout)

    def port_stats(self):
        """(port A's, port B's) statistics now (memif shows zeros for a port whose appliance is
        not connected)."""
        return self.testpmd.port_stats(0), self.testpmd.port_stats(1)

    def stop_forwarding(self):
        """Stop forwarding; returns testpmd's `stop` summary (kept as self.fwd)."""
        if self.fwd is None:
            self.fwd = self.testpmd.stop()
            self.seconds = time.monotonic() - self.t_start
        return self.fwd

    def finish(self):
        """Stop forwarding (if not yet) and quit; returns {"port_a": port_stats(0), "port_b":
        port_stats(1), "fwd": the `stop` summary, "a_to_b_dropped" / "b_to_a_dropped" (frames io
        received on one port and could not send on the other: no room in the peer's ring, or
        the peer not connected), "seconds" (forwarding time), "revived": ports read through a
        probe}. Packet counts since forwarding started.

        memif shows no counters for a port whose peer is gone (they come back when a peer
        reconnects): for such a port a probe testpmd that sends nothing connects as the client
        just long enough to read them."""
        if self.result is not None:
            return self.result
        fwd = self.stop_forwarding()
        down = [p for p in (0, 1) if self.testpmd.port_info(p)["link_status"] != "up"]
        if down:
            socks = [self.sock_a, self.sock_b]
            probe = Testpmd("probe", self.testpmd.cores[::-1],
                            [memif_vdev(i, "client", socks[p]) for i, p in enumerate(down)],
                            fwd="rxonly", max_seconds=30)
            with probe:
                self.testpmd.wait_link(down, timeout=10)
                pa, pb = self.port_stats()
                probe.quit()
        else:
            pa, pb = self.port_stats()
        self.testpmd.quit()
        self.result = {
            "port_a": pa, "port_b": pb, "fwd": fwd, "seconds": round(self.seconds, 3),
            "revived": ["a" if p == 0 else "b" for p in down],
            "a_to_b_dropped": fwd["ports"].get(1, {}).get("tx_dropped", 0),
            "b_to_a_dropped": fwd["ports"].get(0, {}).get("tx_dropped", 0),
        }
        return self.result

    def close(self):
        self.testpmd.close()

    def __exit__(self, *exc):
        self.close()
        return False


def wire(sock_a, sock_b, **kw):
    """Wire(sock_a, sock_b, ...) as a context manager (a function, for symmetry)."""
    return Wire(sock_a, sock_b, **kw)


def _load_integ():
    import sl_integ  # tests/integration (on sys.path above)
    return sl_integ


def _rig_world(integ, tag, sluice):
    """sl_integ's World (a work directory, appliances stopped by PID, signals turned into
    TestFailure), without its PASS line and its sys.exit on failure: errors propagate."""
    class RigWorld(integ.World):
        def __exit__(self, etype, exc, tb):
            for sig in self._old_handlers:  # a second signal must not cut the clean-up short
                signal.signal(sig, signal.SIG_IGN)
            try:
                if etype is not None:
                    self.diagnostics(exc)
            finally:
                self.cleanup()
                for sig, h in self._old_handlers.items():
                    signal.signal(sig, h)
            return False
    return RigWorld(tag, argv=[sys.argv[0], sluice])


def _wait_until(what, cond, timeout, every=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise TestpmdError(f"{what}: not within {timeout} s")
        time.sleep(every)


def _quiet_point(wr, nodes, timeout=15.0):
    """Wait until nothing crosses the wire: testpmd's port counters unchanged over 0.3 s and
    every appliance's telemetry (after two fresh statistics snapshots) unchanged between a
    reading before and after testpmd's. Returns (port_a, port_b, {node name: /sluice/drops})
    as of that moment."""
    deadline = time.monotonic() + timeout
    while True:
        p0 = wr.port_stats()
        time.sleep(0.3)
        p1 = wr.port_stats()
        if _pkts(p0) == _pkts(p1):
            for n in nodes:
                n.wait_snapshot(count=2)
            t0 = {n.name: n.query("/sluice/drops") for n in nodes}
            p2 = wr.port_stats()
            for n in nodes:
                n.wait_snapshot(count=2)
            t1 = {n.name: n.query("/sluice/drops") for n in nodes}
            same = all((t0[k]["rx_pkts"], t0[k]["tx_pkts"]) == (t1[k]["rx_pkts"], t1[k]["tx_pkts"])
                       for k in t0)
            if same and _pkts(p2) == _pkts(p1):
                return p2[0], p2[1], t1
        if time.monotonic() >= deadline:
            raise TestpmdError(f"the wire did not fall quiet within {timeout} s")


def _pkts(pair):
    return [(p["rx_packets"], p["tx_packets"]) for p in pair]


def wire_check(sluice, count=20000, size=1400, ip_a="198.18.5.1", ip_b="198.18.5.2",
               timeout=60.0):
    """End to end through the wire: two appliances (A on core 0, B on core 1, adaptive idle),
    testpmd io between them (forwarding lcore on core 1, main lcore on 0); A runs a source of
    `count` messages of `size` bytes to B's sink.

    Once A's source is done and B's sink verified everything, and the wire is quiet (no packet
    for 0.3 s; keepalives come only every 10 s), testpmd's per-port counters are compared with
    what each appliance says it sent and received (telemetry /sluice/drops rx_pkts/tx_pkts,
    after fresh snapshots). Then forwarding stops and both appliances are stopped (SIGTERM);
    their exit summaries (`sluice: summary ... rx_pkts= tx_pkts=`) are compared too: they also
    count the CLOSE exchange of the shutdown, which testpmd no longer forwards (see Wire on why
    it must not forward while an appliance disconnects; the same is why A does not run with
    --exit-when-done here: it would disconnect while testpmd forwards).

    Returns {"ok": bool, "rc_a", "rc_b", "a"/"b": exit summaries, "quiet": {"a": telemetry,
    "b": telemetry, "port_a", "port_b"}, "wire": Wire.finish(), "checks": [(name, got, want,
    ok)], "notes": [...]}. The identities at the quiet point, per direction (A->B shown):
        A.tx_pkts == port_a.rx_packets
        port_a.rx_packets == port_b.tx_packets + a_to_b_dropped   (what io took and gave)
        port_b.tx_packets == B.rx_pkts
    and B's sink verified `count` messages, none lost, duplicated or corrupt."""
    integ = _load_integ()
    out = {"checks": [], "notes": []}

    def check(name, got, want):
        ok = got == want
        out["checks"].append((name, got, want, ok))
        integ.log(f"{'ok' if ok else 'MISMATCH'}: {name}: {got} {'==' if ok else '!='} {want}")

    with _rig_world(integ, "wire-check", sluice) as w:
        a = w.node("a", core=0, ip=ip_a)
        b = w.node("b", core=1, ip=ip_b)
        with Wire(os.path.join(w.dir, "a.sock"), os.path.join(w.dir, "b.sock"),
                  cores=(0, 1), max_seconds=timeout + 60,
                  log_path=os.path.join(w.dir, "wire.log")) as wr:
            a.add_port("link0", wr.client_device("a"))
            b.add_port("link0", wr.client_device("b"))
            a.peer(b)
            b.peer(a)
            a.cfg["services"] = [integ.source(b, channel=1, count=count, size=size)]
            b.cfg["services"] = [integ.sink(channel=1)]
            b.start(duration=timeout + 30)
            a.start(duration=timeout + 30)
            wr.wait_link(timeout=20)
            integ.log("wire: both appliances connected to testpmd")
            t0 = time.monotonic()
            _wait_until("A's source done", lambda: a.service_stats(0).get("sources_done", 0)
                        >= max(1, a.service_stats(0).get("sources", 1)), timeout)
            _wait_until("B's sink verified everything",
                        lambda: b.service_stats(0).get("msgs_verified", 0) >= count, timeout)
            integ.log(f"wire: transfer done in {time.monotonic() - t0:.2f} s")
            pa, pb, tel = _quiet_point(wr, [a, b])
            A, B = tel["a"], tel["b"]
            out["quiet"] = {"a": A, "b": B, "port_a": pa, "port_b": pb}
            fwd = wr.stop_forwarding()
            a_to_b = fwd["ports"].get(1, {}).get("tx_dropped", 0)
            b_to_a = fwd["ports"].get(0, {}).get("tx_dropped", 0)
            check("A->B: A.tx_pkts == testpmd port A rx", A["tx_pkts"], pa["rx_packets"])
            check("A->B: port A rx == port B tx + io tx-dropped", pa["rx_packets"],
                  pb["tx_packets"] + a_to_b)
            check("A->B: port B tx == B.rx_pkts", pb["tx_packets"], B["rx_pkts"])
            check("B->A: B.tx_pkts == testpmd port B rx", B["tx_pkts"], pb["rx_packets"])
            check("B->A: port B rx == port A tx + io tx-dropped", pb["rx_packets"],
                  pa["tx_packets"] + b_to_a)
            check("B->A: port A tx == A.rx_pkts", pa["tx_packets"], A["rx_pkts"])
            out["rc_a"] = a.stop()
            out["rc_b"] = b.stop()
            counters = wr.finish()
        sa, sb = a.summary(), b.summary()
        out.update(a=sa, b=sb, wire=counters)
        w.equal(out["rc_a"], 0, "A's exit status")
        w.equal(out["rc_b"], 0, "B's exit status")
        sink_ = sb.get("services", {}).get(0, {})
        check("B's sink verified", sink_.get("msgs_verified"), count)
        for k in ("lost", "duplicated", "corrupt"):
            check(f"B's sink {k}", sink_.get(k), 0)
        fa, fb = sa.get("summary", {}), sb.get("summary", {})
        pa2, pb2 = counters["port_a"], counters["port_b"]
        check("testpmd took nothing after forwarding stopped (port A rx at the end == at the "
              "quiet point)", pa2["rx_packets"], pa["rx_packets"])
        check("... nor port B rx", pb2["rx_packets"], pb["rx_packets"])
        out["shutdown_unforwarded"] = {"a": fa.get("tx_pkts", 0) - A["tx_pkts"],
                                       "b": fb.get("tx_pkts", 0) - B["tx_pkts"]}
        out["notes"].append(
            f"exit summaries: A tx_pkts={fa.get('tx_pkts')} rx_pkts={fa.get('rx_pkts')}, "
            f"B tx_pkts={fb.get('tx_pkts')} rx_pkts={fb.get('rx_pkts')}: A sent "
            f"{out['shutdown_unforwarded']['a']} and B {out['shutdown_unforwarded']['b']} "
            f"packets at shutdown (CLOSE) after testpmd had stopped forwarding; they stayed "
            f"unread in testpmd's rx rings (not counted by testpmd)")
        check("nothing received at shutdown (A.rx_pkts at exit == at the quiet point)",
              fa.get("rx_pkts"), A["rx_pkts"])
        check("... nor B.rx_pkts", fb.get("rx_pkts"), B["rx_pkts"])
        if a_to_b or b_to_a:
            out["notes"].append(
                f"testpmd's io could not send {a_to_b} frames A->B and {b_to_a} B->A (tx burst "
                f"refused: the peer's ring full, or the peer not connected yet); testpmd counts "
                f"them as received, the other appliance never sees them")
        for side, s in (("A", sa), ("B", sb)):
            d = s.get("drops", {})
            if d.get("total"):
                out["notes"].append(f"{side} dropped: {d}")
        out["ok"] = all(c[3] for c in out["checks"])
        w.checks += len(out["checks"])
        if not out["ok"]:
            integ.log("wire-check: the counters disagree (see MISMATCH lines)")
    return out


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


def attack_frames(dst_mac, dst_ip, udp_port, src_ip="198.18.4.99", src_mac="02:00:00:00:04:63",
                  n=1000, mix=None, seed=1):
    """Crafted frames addressed to an appliance (its port's MAC, IPv4 address and UDP port),
    from an on-subnet source address. Returns [(kind, frame)] in random order. Kinds:

      garbage         random bytes of random length (1..1400) whose first byte is no message
                      type (0 or 8..255): dropped as sluice_unknown_type
      data_unknown    a data header (type 4, a random receiver connection id, a random packet
                      number) and 16..1400 random bytes: data_unknown_session
      handshake_junk  200 bytes: type 1 (IK initiation), suite 1, random rest: passed to the
                      control thread, refused by admission (bad_mac1)
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
                body = bytes([1, 1, 0, 0]) + rnd.randbytes(196)
            else:
                body = bytes([rnd.choice([0] + list(range(8, 256)))]) + \
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
    integ = _load_integ()
    out = {"checks": [], "notes": []}

    def check(name, got, want, ok=None):
        ok = (got == want) if ok is None else ok
        out["checks"].append((name, got, want, ok))
        integ.log(f"{'ok' if ok else 'MISMATCH'}: {name}: got {got}, want {want}")

    with _rig_world(integ, "attack-check", sluice) as w:
        v = w.node("victim", core=0, ip=ip)
        sock = os.path.join(w.dir, "attack.sock")
        v.add_port("p0", f"net_memif0,role=server,id=0,socket={sock}")
        v.start(duration=3 * seconds + timeout)
        _wait_until("the victim's telemetry", lambda: isinstance(v.query("/sluice/info",
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
            integ.log(f"pcap flood: {_fmt(_public(out['pcap']))}")
            mid = _settled_drops(v)
            out["txonly"] = atk.flood_txonly(max(0.5, seconds / 2))
            integ.log(f"txonly flood: {_fmt(_public(out['txonly']))}")
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


# --- command line -----------------------------------------------------------------------------

def _public(d):
    """A result without its nested parts (for key=value lines)."""
    return {k: v for k, v in d.items() if not isinstance(v, (dict, list, tuple))}


def _fmt(d):
    return " ".join(f"{k}={str(v).replace(' ', '_')}" for k, v in d.items())


def _install_signals():
    """SIGTERM/SIGINT/SIGHUP -> RigInterrupted (once), so every `with` cleans up."""
    def on_signal(sig, frame):
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)  # the clean-up must not be cut short
        raise RigInterrupted(f"interrupted by {signal.Signals(sig).name}")
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)


def _print_checks(res, what):
    """The checks and notes of a wire-check or attack-check, one per line, then its verdict;
    the exit status."""
    for name, got, want, ok in res["checks"]:
        print(f"check={'ok' if ok else 'MISMATCH'} what={name.replace(' ', '_')} "
              f"got={str(got).replace(' ', '')} want={str(want).replace(' ', '')}")
    for n in res["notes"]:
        print(f"note: {n}")
    print(f"{what}={'PASS' if res['ok'] else 'FAIL'}")
    return 0 if res["ok"] else 1


def main(argv=None):
    p = argparse.ArgumentParser(description="testpmd in sluice's performance rig")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("raw", help="section 1: raw DPDK over memif (txonly -> rxonly, and "
                                   "txonly -> io -> rxonly)")
    r.add_argument("--sizes", default=",".join(str(s) for s in RFC2544_SIZES),
                   help="RFC 2544 frame sizes, FCS included (default: all seven)")
    r.add_argument("--seconds", type=float, default=1.0, help="measured interval per size")
    r.add_argument("--warmup", type=float, default=0.5)
    r.add_argument("--tests", default="txrx,io", help="txrx, io or both")
    r.add_argument("--rsize", type=int, default=None,
                   help="memif ring size, log2 (default: DPDK's, 10)")
    wc = sub.add_parser("wire-check", help="section 3: two appliances through testpmd io")
    wc.add_argument("sluice")
    wc.add_argument("--count", type=int, default=20000)
    wc.add_argument("--size", type=int, default=1400)
    ac = sub.add_parser("attack-check", help="section 4: testpmd floods an appliance")
    ac.add_argument("sluice")
    ac.add_argument("--seconds", type=float, default=2.0)
    args = p.parse_args(argv)
    _install_signals()
    try:
        if args.cmd == "raw":
            tests = args.tests.split(",")
            for size in (int(x) for x in args.sizes.split(",")):
                for test in tests:
                    fn = {"txrx": raw_txrx, "io": raw_io}[test]
                    res = fn(size, args.seconds, warmup=args.warmup, rsize=args.rsize)
                    if args.rsize:
                        res["rsize"] = args.rsize
                    print(_fmt(_public(res)), flush=True)
            return 0
        if args.cmd == "wire-check":
            with contextlib.redirect_stdout(sys.stderr):  # sl_integ's log: stdout -> stderr
                res = wire_check(args.sluice, count=args.count, size=args.size)
            w, q = res["wire"], res["quiet"]
            print(_fmt({"test": "wire", "at": "quiet_point",
                        "a_tx_pkts": q["a"]["tx_pkts"], "a_rx_pkts": q["a"]["rx_pkts"],
                        "b_tx_pkts": q["b"]["tx_pkts"], "b_rx_pkts": q["b"]["rx_pkts"],
                        "port_a_rx": q["port_a"]["rx_packets"],
                        "port_a_tx": q["port_a"]["tx_packets"],
                        "port_b_rx": q["port_b"]["rx_packets"],
                        "port_b_tx": q["port_b"]["tx_packets"],
                        "a_to_b_dropped": w["a_to_b_dropped"],
                        "b_to_a_dropped": w["b_to_a_dropped"]}))
            snk = res["b"].get("services", {}).get(0, {})
            if snk.get("active_us"):  # first to last message the sink received
                print(_fmt({"test": "wire", "sink_msgs": snk.get("msgs_recv"),
                            "sink_bytes": snk.get("bytes_recv"),
                            "sink_active_s": round(snk["active_us"] / 1e6, 4),
                            "goodput_bps": round(snk.get("bytes_recv", 0) * 8e6 /
                                                 snk["active_us"])}))
            print(_fmt({"test": "wire", "at": "exit", "forwarding_s": w["seconds"],
                        "a_tx_pkts": res["a"]["summary"]["tx_pkts"],
                        "a_rx_pkts": res["a"]["summary"]["rx_pkts"],
                        "b_tx_pkts": res["b"]["summary"]["tx_pkts"],
                        "b_rx_pkts": res["b"]["summary"]["rx_pkts"],
                        "port_a_rx": w["port_a"]["rx_packets"],
                        "port_a_tx": w["port_a"]["tx_packets"],
                        "port_b_rx": w["port_b"]["rx_packets"],
                        "port_b_tx": w["port_b"]["tx_packets"],
                        "revived": ",".join(w["revived"]) or "-"}))
            return _print_checks(res, "wire-check")
        if args.cmd == "attack-check":
            with contextlib.redirect_stdout(sys.stderr):
                res = attack_check(args.sluice, seconds=args.seconds)
            for mode in ("pcap", "txonly"):
                print(_fmt({"test": "attack", **_public(res[mode])}))
            print(_fmt({"test": "attack", "phase": "pcap", **res["by_reason"]}))
            print(_fmt({"test": "attack", "phase": "txonly", **res["by_reason_txonly"]}))
            print(_fmt({"test": "attack", "expected_share": "",
                        **res["expected_share"]}))
            print(_fmt({"test": "attack", "victim_drops": "", **res["summary"].get("drops", {}),
                        "rx_pkts": res["summary"].get("summary", {}).get("rx_pkts")}))
            return _print_checks(res, "attack-check")
    except Exception as e:
        if type(e).__name__ != "TestFailure" and not isinstance(e, (RigInterrupted,
                                                                     TestpmdError)):
            raise
        print(f"rig_testpmd: {args.cmd}: FAIL: {e}", file=sys.stderr)
        return 130 if isinstance(e, RigInterrupted) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
