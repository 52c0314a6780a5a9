# SPDX-License-Identifier: BSD-3-Clause
"""The perf rig's sluice measurements: appliances as processes over memif (the integration
tests' harness, tests/integration/sl_integ.py), one dataplane lcore each.

    transfer(sluice, suite, size, count)      A source -> B sink, one-way goodput
    latency(sluice, size, count)              A source -> B echo, one message in flight

Every function starts its own appliances in a fresh World (temporary directory, unique EAL
file prefixes, processes stopped by PID on every exit path) and returns a plain dict, or raises
RigError saying what went wrong. Python 3 standard library only.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
os.environ.setdefault("SL_INTEG_QUIET", "1")
import sl_integ  # noqa: E402

SUITES = {"aes256gcm": "aesgcm-sha256", "chacha20poly1305": "chachapoly-blake2b"}


class RigError(Exception):
    pass


def _world(tag, sluice):
    return sl_integ.World(tag, argv=["rig", sluice])


def _run(fn):
    """Run fn() (which uses a World); a failed World exits through SystemExit: turn it into a
    RigError carrying the reason."""
    try:
        return fn()
    except SystemExit as e:
        raise RigError(f"appliances failed (status {e.code}); see the log above") from None
    except sl_integ.TestFailure as e:
        raise RigError(str(e)) from None


def _pair(w, suite, idle, wire=None, max_message=None, b_server=False):
    """Appliances a (198.18.0.1) and b (198.18.0.2) on cores 0 and 1, linked by memif directly
    or through `wire(w, a, b)` (which adds their ports), peered with each other."""
    a = w.node("a", core=0, ip="198.18.0.1")
    b = w.node("b", core=1, ip="198.18.0.2")
    if wire is None and b_server:
        w.link(b, a)
    elif wire is None:
        w.link(a, b)
    else:
        wire(w, a, b)
    for n, other in ((a, b), (b, a)):
        n.peer(other)
        n.cfg["suite"] = SUITES[suite]
        for lc in n.cfg["lcores"]:
            lc["idle"] = idle
        if max_message is not None:
            n.cfg["limits"] = {"max_message": max_message,
                               "queue_bytes": max(8 << 20, 4 * max_message),
                               "window_bytes": max(4 << 20, 2 * max_message)}
    return a, b


def _finish(w, sender, receiver, timeout):
    """Wait for the sender to exit by itself (--exit-when-done: its sources are done), then stop
    the receiver (a node without sources runs until stopped); their summaries."""
    out = {}
    rc = sender.wait(timeout)
    w.check(rc == 0, f"{sender.name} exits 0 (status {rc})")
    rc = receiver.stop()
    w.check(rc == 0, f"{receiver.name} exits 0 after SIGTERM (status {rc})")
    for n in (sender, receiver):
        s = sl_integ.parse_summary(n.stdout())
        w.check("summary" in s, f"{n.name} printed its summary")
        out[n.name] = s
    return out


def _cycles_per(summary, msgs):
    s = summary["summary"]
    if msgs == 0 or "busy_cycles" not in s:
        return None
    return s["busy_cycles"] / msgs


def transfer(sluice, suite, size, count, idle="adaptive", wire=None, during=None,
             limit_s=120):
    """A's source sends `count` messages of `size` bytes on channel 1 to B's sink.
    Returns msgs, bytes, seconds (the sink's active period: first to last message), msgs_per_s,
    goodput_bps, cycles per message at A and B (TSC cycles of their lcores' busy rounds), the
    packets each side sent and received, lost/duplicated/corrupt at the sink, drops.
    wire(w, a, b): links a and b another way (testpmd in between). during(w, a, b): called once
    the transfer runs (an attack, say); its return value is kept as result["during"]."""
    def body():
        with _world(f"tx-{suite}-{size}", sluice) as w:
            a, b = _pair(w, suite, idle, wire, max_message=max(size, 1 << 20))
            a.cfg["services"] = [sl_integ.source(b, channel=1, count=count, size=size)]
            b.cfg["services"] = [sl_integ.sink(channel=1)]
            b.start(duration=limit_s)
            a.start(duration=limit_s, exit_when_done=True)
            res = {}
            if during is not None:
                res["during"] = during(w, a, b)
            sums = _finish(w, a, b, limit_s + 15)
            src = sums["a"]["services"][0]
            snk = sums["b"]["services"][0]
            w.equal(src.get("done"), "1/1", "the source sent everything")
            w.equal(snk.get("msgs_verified"), count, "the sink verified every message")
            secs = max(snk.get("active_us", 0), 1) / 1e6
            res.update({
                "suite": suite, "size": size, "msgs": snk["msgs_verified"],
                "bytes": snk["bytes_recv"], "seconds": secs,
                "msgs_per_s": snk["msgs_verified"] / secs,
                "goodput_bps": 8 * snk["bytes_recv"] / secs,
                "lost": snk.get("lost", 0), "duplicated": snk.get("duplicated", 0),
                "corrupt": snk.get("corrupt", 0),
                "cycles_per_msg_a": _cycles_per(sums["a"], count),
                "cycles_per_msg_b": _cycles_per(sums["b"], count),
                "tsc_hz": sums["a"]["summary"].get("tsc_hz"),
                "a_tx_pkts": sums["a"]["summary"]["tx_pkts"],
                "a_rx_pkts": sums["a"]["summary"]["rx_pkts"],
                "b_tx_pkts": sums["b"]["summary"]["tx_pkts"],
                "b_rx_pkts": sums["b"]["summary"]["rx_pkts"],
                "a_drops": sums["a"].get("drops", {}),
                "b_drops": sums["b"].get("drops", {}),
            })
            return res
    return _run(body)


def latency(sluice, size, count, suite="aes256gcm", idle="busy", limit_s=60, wire=None):
    """A's source sends `count` messages of `size` bytes to B's echo service, one at a time
    (in_flight 1); A's round-trip histogram: min/p50/p99/p99.9/max in nanoseconds. Lcores busy-poll
    (idle back-off would add its sleeps to every round trip). wire: as transfer()'s."""
    def body():
        with _world(f"lat-{size}", sluice) as w:
            a, b = _pair(w, suite, idle, wire)
            src = sl_integ.source(b, channel=1, count=count, size=size, expect_echo=True)
            src["in_flight"] = 1
            a.cfg["services"] = [src]
            b.cfg["services"] = [sl_integ.echo(channel=1)]
            b.start(duration=limit_s)
            a.start(duration=limit_s, exit_when_done=True)
            s = _finish(w, a, b, limit_s + 15)["a"]["services"][0]
            w.equal(s.get("msgs_verified"), count, "every echo came back verified")
            return {"size": size, "count": count, "min_ns": s.get("rtt_min_ns"),
                    "p50_ns": s.get("rtt_p50_ns"), "p99_ns": s.get("rtt_p99_ns"),
                    "p999_ns": s.get("rtt_p999_ns"), "max_ns": s.get("rtt_max_ns")}
    return _run(body)


# --- goodput over a window, while something else happens ---------------------------------------

def _fresh(node, what):
    """Telemetry `what` right after a new statistics snapshot (taken every 0.5 s), and when."""
    node.wait_snapshot(count=1)
    return time.monotonic(), node.query(what)


def _sink_bytes(node):
    t, svc = _fresh(node, "/sluice/services")
    s = (svc or {}).get("0") or (svc or {}).get(0) or {}
    return t, s.get("bytes_recv", 0)


def _drops(node):
    """(dataplane drops by reason, admission counters) of /sluice/drops."""
    d = node.query("/sluice/drops") or {}
    return d.get("dataplane", {}), d.get("admission", {})


def _port_mac(node, port_name):
    """The MAC of a port, from the appliance's `port: NAME: ... up, mac XX:..` log line."""
    m, _ = node.wait_log(rf"port: {port_name}: \S+ port \d+ up, mac ([0-9A-Fa-f:]{{17}})", 20)
    return m.group(1).lower()


def goodput_window(node, seconds):
    """The sink's goodput (bits/s) over about `seconds`, between two fresh snapshots."""
    t0, b0 = _sink_bytes(node)
    time.sleep(seconds)
    t1, b1 = _sink_bytes(node)
    return 8 * (b1 - b0) / (t1 - t0), t1 - t0


def _endless_transfer(w, suite, size, extra_port=None, rate=0):
    """A -> B, an unbounded source of `size`-byte messages; extra_port(b) adds B's ports (B is
    then the memif server of its link to A too: a memif client port and a memif server port in
    one process do not mix well in DPDK 22.11 — the server's peer could not connect)."""
    a, b = _pair(w, suite, "adaptive", max_message=max(size, 1 << 20),
                 b_server=extra_port is not None)
    if extra_port is not None:
        extra_port(b)
    a.cfg["services"] = [sl_integ.source(b, channel=1, count=0, size=size, rate=rate)]
    b.cfg["services"] = [sl_integ.sink(channel=1)]
    return a, b


def _wait_flowing(b, timeout=20.0, after=0):
    """Wait until B's sink has received more than `after` bytes (a restarted sender: what it
    had before)."""
    deadline = time.monotonic() + timeout
    while b.query("/sluice/info", wait=timeout) is None:  # telemetry up, commands not yet
        if time.monotonic() > deadline:
            raise sl_integ.TestFailure("B's telemetry did not come up")
        time.sleep(0.1)
    while _sink_bytes(b)[1] <= after:
        if time.monotonic() > deadline:
            raise sl_integ.TestFailure("the transfer did not start")


def _stop_checked(w, a, b):
    for n in (a, b):
        rc = n.stop()
        w.check(rc == 0, f"{n.name} exits 0 after SIGTERM (status {rc})")
    for n in (a, b):
        s = sl_integ.parse_summary(n.stdout())
        w.equal(s.get("exit", {}).get("mbufs_in_use"), 0, f"{n.name}'s mbufs in use at exit")
    snk = sl_integ.parse_summary(b.stdout())["services"][0]
    w.equal(snk.get("lost", 0) + snk.get("duplicated", 0) + snk.get("corrupt", 0), 0,
            "nothing lost, duplicated or corrupt at the sink")
    return snk


def _attack_run(sluice, tpmd, seconds, size, suite, rate, attack):
    """One A -> B run (B with a second port for an attacker); with attack, testpmd replays
    crafted frames at that port from before A starts until A and B are stopped."""
    def body():
        with _world("attack" if attack else "attack-ref", sluice) as w:
            sock = os.path.join(w.dir, "attack.sock")

            def atk_port(b):
                b.add_port("atk", f"net_memif1,role=server,id=1,socket={sock}")
                b.cfg["ports"][-1]["ipv4"] = "198.18.4.1/24"

            a, b = _endless_transfer(w, suite, size, atk_port, rate=rate)
            limit = 8 * seconds + 90
            b.start(duration=limit)
            res = {}
            if not attack:
                a.start(duration=limit)
                _wait_flowing(b)
                res["bps"], res["window_s"] = goodput_window(b, seconds)
                res["sink"] = _stop_checked(w, a, b)
                return res
            mac = _port_mac(b, "atk")
            pcap = os.path.join(w.dir, "attack.pcap")
            tpmd.write_pcap(pcap, tpmd.attack_frames(mac, "198.18.4.1", b.udp_port, n=4000))
            # The attacker connects and starts while B is idle; then A starts. Commands to
            # testpmd while A and B run flat out stalled for tens of seconds here (a third
            # busy thread on a core gets next to nothing of it), so none are sent then.
            atk = tpmd.Attacker(f"net_memif0,role=client,id=1,socket={sock}", pcap=pcap,
                                max_seconds=4 * seconds + 120,
                                log_path=os.path.join(w.dir, "attacker.log"))
            with atk:
                t = atk.testpmd
                t.cmd("set fwd io")
                t.cmd("set portlist 0,1")
                t.clear_stats()
                d0, _ = _drops(b)
                t.start()
                try:
                    deadline = time.monotonic() + 20  # until the flood shows at B
                    while sum(_fresh(b, "/sluice/drops")[1].get("dataplane", {}).values()) \
                            == sum(d0.values()):
                        if time.monotonic() > deadline:
                            raise sl_integ.TestFailure("the attack did not reach B")
                    a.start(duration=limit)
                    _wait_flowing(b)
                    d1, a1 = _drops(b)
                    res["bps"], res["window_s"] = goodput_window(b, seconds)
                    d2, a2 = _drops(b)
                    # the appliances go first: testpmd leaving a memif server that is being
                    # polled risks the memif PMD race (see rig_testpmd_wire.Wire)
                    res["sink"] = _stop_checked(w, a, b)
                finally:
                    fwd = t.stop(timeout=60)
                res["port"] = t.port_stats(1)
            by = {k: d2.get(k, 0) - d1.get(k, 0) for k in d2 if d2.get(k, 0) != d1.get(k, 0)}
            by.update({f"admission.{k}": a2.get(k, 0) - a1.get(k, 0) for k in a2
                       if k in ("bad_mac1", "bad_length", "ratelimited", "cookies_sent")
                       and a2.get(k, 0) != a1.get(k, 0)})
            sent = res.pop("port").get("tx_packets", 0)
            res.update({"drops_by_reason": by, "drops_total": sum(by.values()),
                        "drops_per_s": sum(by.values()) / res["window_s"],
                        "attack_sent": sent,
                        "attack_tx_dropped": fwd["ports"].get(1, {}).get("tx_dropped", 0)})
            return res
    return _run(body)


def under_attack(sluice, tpmd, seconds, size=1400, suite="aes256gcm", rate=150000):
    """Section 4: A -> B, a source of `rate` messages/s of `size` bytes (not flat out: with
    both cores busy-polled, testpmd could not even start), while testpmd replays crafted
    frames flat out at B's second port (a memif server, 198.18.4.1/24); B polls both ports
    with one lcore. Two runs: without the attacker, then with it. Returns the goodput over a
    window of `seconds` in each, and B's drops by reason (dataplane and admission) over the
    attacked window."""
    ref = _attack_run(sluice, tpmd, seconds, size, suite, rate, False)
    att = _attack_run(sluice, tpmd, seconds, size, suite, rate, True)
    return {"clean_bps": ref["bps"], "attack_bps": att["bps"], "window_s": att["window_s"],
            "offered_bps": 8 * size * rate, "drops_by_reason": att["drops_by_reason"],
            "drops_total": att["drops_total"], "drops_per_s": att["drops_per_s"],
            "attack_sent": att["attack_sent"], "attack_tx_dropped": att["attack_tx_dropped"],
            "sink_msgs": att["sink"].get("msgs_verified")}


if __name__ == "__main__":
    # quick look: python3 perf/rig_sluice.py build/sluice
    prog = sys.argv[1] if len(sys.argv) > 1 else "build/sluice"
    print(transfer(prog, "aes256gcm", 1400, 100000))
    print(latency(prog, 64, 5000))
