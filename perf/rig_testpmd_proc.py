# SPDX-License-Identifier: BSD-3-Clause
"""The perf rig's testpmd process: one `dpdk-testpmd -i` driven at its prompt (Testpmd), the
parsing of its answers (parse_port_stats, parse_fwd_stats), and what the testpmd sections share:
memif vdev arguments, run directories, the sl_integ World the end-to-end checks run their
appliances in, key=value output lines. perf/rig_testpmd.py has the overview and the command
line; the sections are in rig_testpmd_raw.py, rig_testpmd_wire.py and rig_testpmd_attack.py.

Processes. Each testpmd gets EAL `--no-huge -m N --no-pci --file-prefix <unique, with the PID>`,
its memif sockets live in a temporary directory of the run (DPDK's memif names them in the
abstract namespace, nothing is left in the file system), and it is bounded in time (a watchdog
kills it after `max_seconds`), dies with the rig (PR_SET_PDEATHSIG) and is stopped by PID on
every way out (SIGTERM, then SIGKILL). rig_testpmd.main() turns SIGTERM/SIGINT/SIGHUP into an
exception so that the same clean-up runs. Its EAL runtime directory is removed when it has
exited.

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
import contextlib
import errno
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(SRC_ROOT, "scripts"))
sys.path.insert(0, os.path.join(SRC_ROOT, "tests", "integration"))
from sl_telemetry import runtime_dir  # noqa: E402

TESTPMD = os.environ.get("SLUICE_TESTPMD", "dpdk-testpmd")
PROMPT = "testpmd> "
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]")
_seq = 0


class TestpmdError(RuntimeError):
    """testpmd did not start, did not answer, or a port did not come up."""


class RigInterrupted(Exception):
    """The rig got SIGTERM / SIGINT / SIGHUP."""


def log(msg):
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
                                         preexec_fn=load_integ().child_setup,
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
        log(f"testpmd {self.name}: pid {self.proc.pid}: {' '.join(argv)}")
        try:
            self._read_until_prompt(self.start_timeout, what="its first prompt")
        except BaseException:
            self.close()
            raise
        self.started_in = time.monotonic() - t0
        return self

    def _expire(self):
        if self.proc is not None and self.proc.poll() is None:
            log(f"testpmd {self.name}: pid {self.proc.pid} ran past {self.max_seconds} s: "
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
            log(f"testpmd {self.name}: no clean exit ({e!r}): killing it")
        return self.close()

    def kill(self, grace=3.0):
        """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit status."""
        import sl_integ  # tests/integration (on sys.path above)
        return sl_integ.terminate(self.proc, grace, f"testpmd {self.name}", log)

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
            log(f"SLUICE_KEEP_TMP: kept {d}")
        else:
            shutil.rmtree(d, ignore_errors=True)


# --- appliances (tests/integration/sl_integ) and key=value lines, for the checks and main() ---

def load_integ():
    import sl_integ  # tests/integration (on sys.path above)
    return sl_integ


def rig_world(integ, tag, sluice):
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


def wait_until(what, cond, timeout, every=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise TestpmdError(f"{what}: not within {timeout} s")
        time.sleep(every)


def scalars(d):
    """A result without its nested parts (for key=value lines)."""
    return {k: v for k, v in d.items() if not isinstance(v, (dict, list, tuple))}


def kv_line(d):
    return " ".join(f"{k}={str(v).replace(' ', '_')}" for k, v in d.items())
