# SPDX-License-Identifier: BSD-3-Clause
"""Section 1 of the perf rig, the raw DPDK reference: testpmd txonly -> rxonly over one memif
link (raw_txrx), and txonly -> io -> rxonly (raw_io). perf/rig_testpmd.py has the overview and
the command line (`python3 perf/rig_testpmd.py raw`); the testpmd process is in
rig_testpmd_proc.py.

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

Python 3 standard library only.
"""
import os
import time

from rig_testpmd_proc import Testpmd, memif_vdev, run_dir

RFC2544_SIZES = (64, 128, 256, 512, 1024, 1280, 1518)
FCS_LEN = 4
L1_OVERHEAD = 20  # preamble 7 + start delimiter 1 + inter-frame gap 12


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
