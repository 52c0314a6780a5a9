# SPDX-License-Identifier: BSD-3-Clause
"""Section 3 of the perf rig: testpmd in io mode as the wire between two appliances (Wire,
wire()), and wire_check(): two appliances talk through it, then testpmd's counters are
compared with theirs (`python3 perf/rig_testpmd.py wire-check build/sluice`).
perf/rig_testpmd.py has the overview and the command line; the testpmd process and memif's
quirks are in rig_testpmd_proc.py.

Python 3 standard library only.
"""
import os
import time

from rig_testpmd_proc import Testpmd, TestpmdError, load_integ, memif_vdev, rig_world, wait_until


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
    that stays unread in testpmd's rx ring and is not counted by testpmd.

    extra_args: more testpmd arguments (section 12 adds `--record-core-cycles`)."""

    def __init__(self, sock_a, sock_b, cores=(0, 1), max_seconds=120.0, log_path=None,
                 burst=32, extra_args=()):
        self.sock_a, self.sock_b = sock_a, sock_b
        self.testpmd = Testpmd("wire", cores, [memif_vdev(0, "server", sock_a),
                                               memif_vdev(1, "server", sock_b)],
                               fwd="io", args=[f"--burst={burst}"] + list(extra_args),
                               max_seconds=max_seconds,
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
    integ = load_integ()
    out = {"checks": [], "notes": []}

    def check(name, got, want):
        ok = got == want
        out["checks"].append((name, got, want, ok))
        integ.log(f"{'ok' if ok else 'MISMATCH'}: {name}: {got} {'==' if ok else '!='} {want}")

    with rig_world(integ, "wire-check", sluice) as w:
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
            wait_until("A's source done", lambda: a.service_stats(0).get("sources_done", 0)
                        >= max(1, a.service_stats(0).get("sources", 1)), timeout)
            wait_until("B's sink verified everything",
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
