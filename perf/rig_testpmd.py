#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""sluice performance rig: DPDK's testpmd as the raw reference, as the wire and as the attacker.

    python3 perf/rig_testpmd.py raw --sizes 64,1518 --seconds 1
    python3 perf/rig_testpmd.py wire-check build/sluice
    python3 perf/rig_testpmd.py attack-check build/sluice

The pieces live in four modules, one per concern; this one holds the command line and
re-exports them, so that the rig orchestrator (perf/rig.py) and perf/rig_sluice.py get them all
from `import rig_testpmd`:

  rig_testpmd_proc.py
    Testpmd          one `dpdk-testpmd -i` process driven at its prompt (start, stop and its
                     forward statistics, port statistics, link state, quit, kill); how its
                     processes are run and bounded, and memif's quirks
  rig_testpmd_raw.py
    raw_txrx()       section 1: txonly -> rxonly over one memif link, two processes
    raw_io()         section 1: txonly -> io (two memif ports) -> rxonly, three processes
                     (and the frame sizes of RFC 2544, how a rate is measured)
  rig_testpmd_wire.py
    Wire / wire()    section 3: testpmd in io mode between two appliances (two memif servers)
    wire_check()     end-to-end check of section 3 with real appliances
  rig_testpmd_attack.py
    Attacker, attack_pcap(), attack_txonly(), attack_frames(), write_pcap()
                     section 4: testpmd floods an appliance with crafted frames (a capture
                     replayed in a loop) or with one datagram (txonly)
    attack_check()   end-to-end check of section 4 with a real appliance

Python 3 standard library only.
"""
import argparse
import contextlib
import signal
import sys

from rig_testpmd_proc import (PROMPT, TESTPMD, RigInterrupted, Testpmd,  # noqa: F401
                              TestpmdError, kv_line, memif_vdev, parse_fwd_stats,
                              parse_port_stats, run_dir, scalars, unique_prefix)
from rig_testpmd_raw import (FCS_LEN, L1_OVERHEAD, RAW_IO_CORES,  # noqa: F401
                             RAW_TXRX_CORES, RFC2544_SIZES, raw_io, raw_txrx)
from rig_testpmd_wire import Wire, wire, wire_check  # noqa: F401
from rig_testpmd_attack import (ATTACK_KINDS, Attacker, appliance_mac,  # noqa: F401
                                attack_check, attack_frames, attack_pcap, attack_txonly,
                                udp_frame, write_pcap)


# --- command line -----------------------------------------------------------------------------

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
                    print(kv_line(scalars(res)), flush=True)
            return 0
        if args.cmd == "wire-check":
            with contextlib.redirect_stdout(sys.stderr):  # sl_integ's log: stdout -> stderr
                res = wire_check(args.sluice, count=args.count, size=args.size)
            w, q = res["wire"], res["quiet"]
            print(kv_line({"test": "wire", "at": "quiet_point",
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
                print(kv_line({"test": "wire", "sink_msgs": snk.get("msgs_recv"),
                            "sink_bytes": snk.get("bytes_recv"),
                            "sink_active_s": round(snk["active_us"] / 1e6, 4),
                            "goodput_bps": round(snk.get("bytes_recv", 0) * 8e6 /
                                                 snk["active_us"])}))
            print(kv_line({"test": "wire", "at": "exit", "forwarding_s": w["seconds"],
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
                print(kv_line({"test": "attack", **scalars(res[mode])}))
            print(kv_line({"test": "attack", "phase": "pcap", **res["by_reason"]}))
            print(kv_line({"test": "attack", "phase": "txonly", **res["by_reason_txonly"]}))
            print(kv_line({"test": "attack", "expected_share": "",
                        **res["expected_share"]}))
            print(kv_line({"test": "attack", "victim_drops": "", **res["summary"].get("drops", {}),
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
