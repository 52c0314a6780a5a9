# SPDX-License-Identifier: BSD-3-Clause
"""perf/RESULTS.md from the rig's measurements (perf/results/data.json): the machine, one table
per section with the reference next to sluice and the ratio, targets met or missed, and the
gnuplot PNGs. `python3 perf/rig.py BUILD --data perf/results/data.json` re-renders without
measuring. Python 3 standard library only (gnuplot for the plots, if installed)."""
import os
import re
import shutil
import subprocess

import rig_api  # section 11 renders its own part (its render() imports this module back)
import rig_relay  # section 12 too


def _run(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return r.stdout.strip() if r.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def machine(ctx):
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        text = ""
    m = re.search(r"^model name\s*:\s*(.*)$", text, re.M)
    info["cpu"] = m.group(1) if m else "unknown"
    m = re.search(r"^flags\s*:\s*(.*)$", text, re.M)
    flags = set(m.group(1).split()) if m else set()
    wanted = ("aes", "pclmulqdq", "avx2", "avx512f", "vaes", "vpclmulqdq", "sha_ni")
    info["flags"] = " ".join(f for f in wanted if f in flags)
    info["flags_absent"] = " ".join(f for f in wanted if f not in flags)
    info["virtual"] = "hypervisor" in flags
    info["cores"] = os.cpu_count()
    try:
        with open("/proc/meminfo") as f:
            info["mem_gib"] = round(int(f.readline().split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    info["dpdk"] = _run(["pkg-config", "--modversion", "libdpdk"]) or "unknown"
    info["ipsec_mb"] = _run([ctx.prog("bench_aead"), "-V"]) or "unknown"
    info["libsodium"] = _run([ctx.prog("bench_handshake"), "-V"]) or "unknown"
    info["kernel"] = " ".join(os.uname()[i] for i in (0, 2))
    info["commit"] = _run(["git", "-C", os.path.dirname(__file__), "describe", "--always",
                           "--dirty"]) or "unknown"
    info["date"] = _run(["date", "-u", "+%Y-%m-%d %H:%M UTC"])
    return info


# --- parsing the micro-benchmarks' markdown ----------------------------------------------------

def parse_aead_table(md):
    """bench_aead's rows: [{alg, dir, bytes, raw_ns, sluice_ns}]."""
    rows = []
    for line in md.splitlines():
        c = [x.strip() for x in line.strip().strip("|").split("|")]
        if len(c) >= 5 and c[1] in ("encrypt", "decrypt") and c[2].isdigit():
            try:
                rows.append({"alg": c[0], "dir": c[1], "bytes": int(c[2]),
                             "raw_ns": float(c[3]), "sluice_ns": float(c[4])})
            except ValueError:
                pass
    return rows


def parse_handshake_bound(md):
    """bench_handshake: the X25519 bound (handshakes/s) and the measured rates per suite."""
    out = {}
    m = re.search(r"=\s*([\d.]+) handshakes/s", md)
    if m:
        out["bound_per_s"] = float(m.group(1))
    for line in md.splitlines():
        c = [x.strip() for x in line.strip().strip("|").split("|")]
        if len(c) >= 4 and c[0].startswith("Noise_IK"):
            try:
                out[c[0]] = float(c[2])
            except ValueError:
                pass
    return out


# --- formatting ------------------------------------------------------------------------------

def gbps(bps):
    return "-" if bps is None else f"{bps / 1e9:.2f}"


def rate(x):
    if x is None:
        return "-"
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.1f} k"
    return f"{x:.0f}"


def size_name(n):
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return f"{n >> 10} KiB"
    return f"{n} B"


def pct(x):
    return "-" if x is None else f"{100 * x:.1f} %"


def us(ns):
    return "-" if ns is None else f"{ns / 1000:.1f}"


def verdict(ok):
    return "met" if ok else "**missed**"


def table(head, rows, align=None):
    align = align or ["---"] + ["---:"] * (len(head) - 1)
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(x) for x in r) + " |")
    return "\n".join(out) + "\n"


def ratio(a, b):
    return a / b if a is not None and b else None


def _error(sec):
    return f"_Not measured: {sec['error']}_\n" if "error" in sec else None


# --- sections --------------------------------------------------------------------------------

def raw_ref(data):
    """(bits/s at 1518-byte frames, packets/s at 64-byte frames) of testpmd txonly -> rxonly."""
    s1 = data["sections"].get("1", {})
    bps = pps = None
    for r in s1.get("rows", []):
        if r.get("mode") == "txonly -> rxonly" and r["frame_size"] == 1518:
            bps = r["bps"]
        if r.get("mode") == "txonly -> rxonly" and r["frame_size"] == 64:
            pps = r["pps"]
    return bps, pps


def sec1(data, s):
    by = {}
    for r in s["rows"]:
        by.setdefault(r["frame_size"], {})[r["mode"]] = r
    rows = []
    for fs in sorted(by):
        a, b = by[fs].get("txonly -> rxonly", {}), by[fs].get("txonly -> io -> rxonly", {})
        rows.append([f"{fs} B", rate(a.get("pps")) + "pps", gbps(a.get("bps")),
                     rate(b.get("pps")) + "pps", gbps(b.get("bps"))])
    return ("testpmd `txonly` on a memif server port -> testpmd `rxonly` on the client (two "
            "processes, each forwarding lcore on its own core), and the same through testpmd "
            "`io` forwarding between two memif ports (three processes: two forwarding lcores "
            "share a core, and a busy-polling thread gets next to none of a core it shares "
            "here, so this row measures the scheduler more than testpmd). Rates at the receiver; bits/s on the RFC 2544 frame size (FCS "
            "counted, memif carries size - 4 bytes).\n\n" +
            table(["frame", "txonly->rxonly", "Gbit/s", "via testpmd io", "Gbit/s"], rows))


def sec2(data, s):
    ref_bps, ref_pps = raw_ref(data)
    rows = []
    for r in s["rows"]:
        hz = r.get("tsc_hz") or 0
        ca, cb = r.get("cycles_per_msg_a"), r.get("cycles_per_msg_b")
        vs_b = ratio(r["goodput_bps"], ref_bps)
        vs_p = ratio(r["msgs_per_s"], ref_pps)
        tgt = ""
        if r["suite"] == "aes256gcm" and r["size"] == 1400 and vs_b is not None:
            tgt = f">= 80 % of bytes/s: {verdict(vs_b >= 0.8)}"
        if r["suite"] == "aes256gcm" and r["size"] == 64 and vs_p is not None:
            tgt = f">= 50 % of packets/s: {verdict(vs_p >= 0.5)}"
        spread = r.get("tries_bps") or [r["goodput_bps"]]
        rows.append([r["suite"], size_name(r["size"]), rate(r["msgs_per_s"]),
                     gbps(r["goodput_bps"]),
                     f"{min(spread) / 1e9:.2f}-{max(spread) / 1e9:.2f}",
                     "-" if ca is None else f"{ca:,.0f}", "-" if cb is None else f"{cb:,.0f}",
                     "-" if not hz or ca is None else f"{1e9 * ca / hz:,.0f}",
                     pct(vs_b), pct(vs_p), tgt])
    return ("A's `source` -> B's `sink` over one memif link, one dataplane lcore each (A on "
            "core 0, B on core 1), every message verified by the sink (sequence, length, "
            "header checksum, every payload byte); lost, duplicated and corrupt are 0 in every "
            "row or the row fails. Goodput: message bytes over the sink's active period; the "
            "best of three runs (the reference is the best of three too), the range of the "
            "three next to it. Cycles per message: TSC cycles of the lcore's polling rounds that found work (`busy_cycles`), over "
            "messages. Reference: testpmd txonly -> rxonly of section 1, measured in the same "
            f"run ({gbps(ref_bps)} Gbit/s at 1518-byte frames, {rate(ref_pps)}pps at 64).\n\n" +
            table(["suite", "message", "msgs/s", "goodput Gbit/s", "runs' range",
                   "cycles/msg A", "cycles/msg B", "ns/msg A", "vs testpmd bytes/s",
                   "vs testpmd packets/s", "target"],
                  rows, ["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:",
                         "---:", "---:", "---"]))


def _goodput_of(data, suite, size):
    for r in data["sections"].get("2", {}).get("rows", []):
        if r["suite"] == suite and r["size"] == size:
            return r
    return None


def sec3(data, s):
    rows, checks = [], []
    for r in s["rows"]:
        direct = _goodput_of(data, "aes256gcm", r["size"])
        db = direct["goodput_bps"] if direct else None
        n_ok = sum(1 for c in r["checks"] if c[3])
        rows.append([size_name(r["size"]), gbps(db), gbps(r["goodput_bps"]),
                     pct(ratio(r["goodput_bps"], db)),
                     f"{n_ok} of {len(r['checks'])} agree" + ("" if r["ok"] else " (**no**)")])
        for name, got, want, ok in r["checks"]:
            checks.append([size_name(r["size"]), name, f"{got:,}" if isinstance(got, int)
                           else got, f"{want:,}" if isinstance(want, int) else want,
                           "yes" if ok else "**no**"])
    notes = sorted({n for r in s["rows"] for n in r.get("notes", []) if "dropped" in n
                    or "could not" in n})
    return ("A and B each a memif client of testpmd, which forwards between its two memif "
            "server ports in `io` mode (A, B and testpmd's forwarding lcore share the two "
            "cores). AES-256-GCM. Counters are compared once the transfer is done and the wire "
            "quiet, before forwarding stops (testpmd must not forward while an appliance "
            "disconnects: see the memif note at the end).\n\n" +
            table(["message", "direct Gbit/s (section 2)", "through testpmd Gbit/s", "ratio",
                   "counters"], rows, ["---", "---:", "---:", "---:", "---"]) +
            "\n<details><summary>every counter compared</summary>\n\n" +
            table(["message", "identity", "got", "want", "agree"], checks,
                  ["---", "---", "---:", "---:", "---"]) + "\n</details>\n" +
            "".join(f"\n- {n}" for n in notes) + ("\n" if notes else ""))


def sec4(data, s):
    clean, under = s.get("clean_bps"), s.get("attack_bps")
    drops = s.get("drops_by_reason", {})
    reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(drops.items(), key=lambda x: -x[1]))
    out = ""
    al = s.get("alone")
    if al:
        p = al["pcap"]
        n_ok = sum(1 for c in al["checks"] if c[3])
        by = ", ".join(f"{k} {v:,}" for k, v in sorted(al["by_reason"].items(),
                                                      key=lambda x: -x[1]))
        out += ("**Classification rate.** testpmd (`net_pcap` with `infinite_rx` -> memif, "
                "`io`) replays a capture of crafted frames flat out at an appliance that does "
                "nothing else: 45 % random UDP payloads, 40 % data packets with unknown "
                "connection ids, 12 % handshake-sized junk (IK type, no valid mac1), 1.5 % each "
                "bad IPv4 / UDP checksums.\n\n" +
                table(["entered the appliance's ring", "packets/s classified and dropped",
                       "refused by its full ring (testpmd TX-dropped)", "every packet counted"],
                      [[f"{p.get('sent_pkts', 0):,}", rate(p.get("pps")) + "pps",
                        f"{p.get('tx_dropped', 0):,}",
                        f"{n_ok} of {len(al['checks'])} checks"]]) +
                f"\nBy reason: {by}.\n\n")
    out += ("**An established transfer under attack.** A -> B runs at "
            f"{gbps(s.get('offered_bps'))} Gbit/s offered (1400-byte messages, a rate-limited "
            "source: with both cores busy-polled flat out, a third busy process got next to no "
            "CPU here and testpmd could not even start); testpmd floods B's second memif port "
            "with the same capture; B polls both ports with one lcore. Two runs, without and "
            "with the attacker, goodput over the same window.\n\n" +
            table(["", "without attack", "under attack", "ratio"],
                  [["goodput A -> B Gbit/s", gbps(clean), gbps(under),
                    pct(ratio(under, clean))]]) +
            f"\nDuring the window B classified and dropped {rate(s.get('drops_per_s'))}"
            f"packets/s ({s.get('drops_total', 0):,}): {reasons or '-'}. (testpmd's "
            "forwarding lcore shares a core with a busy appliance here, so the flood is far "
            "below the classification rate above.)\n")
    return out


def sec5(data, s):
    kern = {(k.get("poll"), k.get("size")): k for k in s.get("kernel", [])}
    rows = []
    for r in s["sluice"]:
        kb = kern.get(("blocking", r["size"]), {})
        kp = kern.get(("busy", r["size"]), {})
        p50r = ratio(r["p50_ns"], kb.get("p50_ns"))
        tail = ratio(r["p99_ns"], r["p50_ns"])
        rows.append([size_name(r["size"]), us(r["p50_ns"]), us(r["p99_ns"]), us(r["p999_ns"]),
                     us(kb.get("p50_ns")), us(kb.get("p99_ns")), us(kb.get("p999_ns")),
                     us(kp.get("p50_ns")),
                     "-" if p50r is None else f"{p50r:.3f} ({verdict(p50r <= 1 / 3)})",
                     "-" if tail is None else f"{tail:.1f} ({verdict(tail <= 3)})"])
    return ("One message in flight: A's source (`in_flight: 1`, `expect_echo`) -> B's echo "
            "service and back, lcores busy-polling; kernel: a UDP ping-pong on loopback between "
            "two threads pinned to the two cores, blocking `recv` (what an application does) "
            "and busy-polling non-blocking `recv` (the kindest case for sockets). Round trips "
            "in microseconds.\n\n" +
            table(["message", "sluice p50", "p99", "p99.9", "kernel p50", "p99", "p99.9",
                   "kernel busy-poll p50", "sluice p50 / kernel p50 (target <= 0.33)",
                   "sluice p99 / p50 (target <= 3)"], rows))


def sec6(data, s):
    by = {}
    for k in s["rows"]:
        by.setdefault(k.get("size"), {})[k.get("aead")] = k
    rows = []
    for size in sorted(by):
        sl = _goodput_of(data, "aes256gcm", size)
        sc = _goodput_of(data, "chacha20poly1305", size)
        plain = by[size].get("none", {}).get("msgs_per_s")
        aes = by[size].get("aes256gcm", {}).get("msgs_per_s")
        cha = by[size].get("chacha20poly1305", {}).get("msgs_per_s")
        sm = sl["msgs_per_s"] if sl else None
        r = ratio(sm, plain)
        tgt = ""
        if size in (64, 1400) and r is not None:
            tgt = f">= 20x: {verdict(r >= 20)}"
        rows.append([size_name(size), rate(plain), rate(aes), rate(cha), rate(sm),
                     rate(sc["msgs_per_s"] if sc else None),
                     "-" if r is None else f"{r:.1f}x",
                     "-" if ratio(sm, aes) is None else f"{ratio(sm, aes):.1f}x", tgt])
    return ("Kernel UDP sockets on loopback, a sender thread with `sendmmsg` and a receiver "
            "thread with `recvmmsg` (batches of 32, pinned to the two cores); messages larger "
            "than 1472 bytes go as several datagrams (a 1500-byte MTU's worth each), unreliable. "
            "With AEAD: every datagram sealed / opened with libsodium. Messages received per "
            "second, next to sluice's (section 2, reliable and encrypted).\n\n" +
            table(["message", "kernel UDP", "+ AES-256-GCM", "+ ChaCha20-Poly1305",
                   "sluice AES-256-GCM", "sluice ChaCha20", "sluice / kernel",
                   "sluice / kernel+AES", "target"], rows,
                  ["---"] + ["---:"] * 7 + ["---"]))


def sec7(data, s):
    rows = []
    crypto = {(r["alg"], r["dir"], r["bytes"]): r["raw_ns"] for r in s.get("rows", [])}
    for suite, alg in (("aes256gcm", "AES-256-GCM"), ("chacha20poly1305", "ChaCha20-Poly1305")):
        r = _goodput_of(data, suite, 1400)
        if r is None or not r.get("tsc_hz"):
            continue
        enc, dec = crypto.get((alg, "encrypt", 1400)), crypto.get((alg, "decrypt", 1400))
        ns_a = 1e9 * r["cycles_per_msg_a"] / r["tsc_hz"]
        ns_b = 1e9 * r["cycles_per_msg_b"] / r["tsc_hz"]
        rows.append([alg, "A (sends)", f"{ns_a:,.0f}", "-" if enc is None else f"{enc:.0f}",
                     pct(ratio(enc, ns_a))])
        rows.append([alg, "B (receives)", f"{ns_b:,.0f}", "-" if dec is None else f"{dec:.0f}",
                     pct(ratio(dec, ns_b))])
    body = s.get("markdown", "")
    body = "\n".join(line for line in body.splitlines() if not line.startswith("### "))
    return (body + "\n\nHow close the datapath gets to the crypto bound: the lcore's busy time "
            "per 1400-byte message in section 2 (everything: polling, stack, engine, crypto, "
            "memif copies, acknowledgements) next to the bare seal or open of 1400 bytes.\n\n" +
            table(["algorithm", "lcore", "datapath ns/msg", "crypto ns/pkt", "crypto share"],
                  rows, ["---", "---", "---:", "---:", "---:"]))


def sec8(data, s):
    body = "\n".join(line for line in s.get("markdown", "").splitlines()
                     if not line.startswith("### "))
    out = body + "\n"
    f = s.get("flood")
    if f:
        r = f.get("ratio", ratio(f.get("flood_bps"), f.get("clean_bps")))
        cap = (f"at most {f['rate']:,} initiations/s" if f.get("rate")
               else "flat out")
        out += ("\nAn established A -> B transfer (1400-byte messages) while `perf/loadgen` "
                f"floods B with IK initiations ({cap}; pre-built, valid mac1, from 256 "
                "identities) from one source address (B's control thread runs admission: mac1, "
                "the per-source rate limit of 20/s, cookies under load). Goodput windows "
                f"alternate: {len(f.get('pairs') or []) or 'several'} pairs of one with the "
                "load generator stopped (SIGSTOP) and one with it flooding (SIGCONT), each "
                "window next to its reference; medians of the windows, and the median of the "
                "pairs' ratios:\n\n" +
                table(["goodput without flood Gbit/s", "during flood Gbit/s",
                       "ratio (target >= 90 %)", "initiations sent/s", "B handshakes done/s",
                       "B cookie replies"],
                      [[gbps(f.get("clean_bps")), gbps(f.get("flood_bps")),
                        "-" if r is None else f"{pct(r)} ({verdict(r >= 0.9)})",
                        rate(f.get("sent_per_s")), rate(f.get("handshakes_per_s")),
                        f.get("cookies", "-")]]))
        cpu = f.get("cpu_share")
        if cpu:
            out += (f"\nDuring the flood windows the load generator took {pct(cpu['loadgen'])} "
                    "of a core (it shares core 0 with A, the sender) and B's control thread "
                    f"{pct(cpu['b_control'])} of one (it shares core 1 with B's lcore); each "
                    "pair's goodput without / with: " +
                    ", ".join(f"{gbps(p[0])} / {gbps(p[1])}" for p in f.get("pairs", [])) +
                    " Gbit/s.\n")
        if f.get("note"):
            out += "\n" + f["note"] + "\n"
    elif s.get("flood_error"):
        out += f"\n_Flood not measured: {s['flood_error']}_\n"
    if f and s.get("flood_measured") and s["flood_measured"] != s.get("measured"):
        out += (f"\n_The flood figures were measured at {s['flood_measured']}, not with the "
                "handshake figures above (`perf/rig.py --sections 8 --merge --keep-flood`)._\n")
    return out


def sec9(data, s):
    rows = []
    base = None
    for r in s["rows"]:
        if r["sessions"] == 10:
            base = r.get("goodput_bps")
    for r in s["rows"]:
        per = r.get("bytes_per_session")
        g = ratio(r.get("goodput_bps"), base)
        own = ratio(r.get("goodput_bps"), r.get("ref_bps"))
        rows.append([f"{r['sessions']:,}", "-" if per is None else f"{per:,.0f}",
                     "-" if per is None or r["sessions"] < 1000 else verdict(per <= 2048),
                     rate(r.get("handshakes_per_s")), gbps(r.get("ref_bps")),
                     gbps(r.get("goodput_bps")),
                     "-" if own is None else f"{pct(own)} ({verdict(own >= 0.9)})",
                     "-" if g is None else pct(g)])
    return ("`perf/loadgen` opens N sessions to appliance B from N identities (complete Noise "
            "IK handshakes and a first data packet each), then holds them idle; B's resident "
            "memory (VmRSS) is read before and after: the difference over N is the resident "
            "memory per idle session (everything: control-plane node and handshake state, "
            "dataplane session, engine, keys). A -> B (1400-byte messages) runs twice on the "
            "same appliance B: alone before the sessions open (the reference, B holding "
            "A's session only) and again while B holds them all; the best of six goodput "
            "windows each. The last column compares with the 10-session row, measured minutes "
            "away on another appliance.\n\n" +
            table(["sessions", "resident bytes/session", "<= 2 KiB", "handshakes/s",
                   "A -> B alone Gbit/s", "A -> B among them Gbit/s",
                   "ratio (target >= 90 %)", "vs 10 sessions"], rows))


TITLES = {
    "1": "1. Raw DPDK reference: testpmd over memif",
    "2": "2. sluice A -> B one-way goodput",
    "3": "3. testpmd as the wire",
    "4": "4. testpmd as the attacker",
    "5": "5. Latency: echo round trip, one message in flight",
    "6": "6. Kernel baseline: UDP sockets, plain and with per-packet AEAD",
    "7": "7. Raw crypto: ipsec-mb per packet",
    "8": "8. Handshakes",
    "9": "9. Scale",
    "10": "Appendix: the reliable engine alone (bench_engine)",
    "11": rig_api.TITLE,
    "12": rig_relay.TITLE,
}
def sec10(data, s):
    return "\n".join(line for line in s.get("markdown", "").splitlines()
                     if not line.startswith("### ")) + "\n"


RENDER = {"10": sec10, "1": sec1, "2": sec2, "3": sec3, "4": sec4, "5": sec5, "6": sec6, "7": sec7,
          "8": sec8, "9": sec9, "11": rig_api.render, "12": rig_relay.render}


# --- plots -----------------------------------------------------------------------------------

def _plot(results_dir, name, script, datasets):
    """Write the data files, run gnuplot; the PNG's file name, or None without gnuplot."""
    if shutil.which("gnuplot") is None:
        return None
    for fname, lines in datasets.items():
        with open(os.path.join(results_dir, fname), "w") as f:
            f.write("\n".join(lines) + "\n")
    r = subprocess.run(["gnuplot"], input=script, text=True, cwd=results_dir,
                       capture_output=True, timeout=60)
    if r.returncode != 0 or not os.path.exists(os.path.join(results_dir, name)):
        return None
    return name


def plot_goodput(data, results_dir):
    sets, series = {}, []
    s2 = data["sections"].get("2", {}).get("rows", [])
    for suite, title in (("aes256gcm", "sluice AES-256-GCM"),
                         ("chacha20poly1305", "sluice ChaCha20-Poly1305")):
        pts = [f"{r['size']} {r['goodput_bps'] / 1e9:.4f}" for r in s2 if r["suite"] == suite]
        if pts:
            sets[f"goodput-{suite}.dat"] = pts
            series.append((f"goodput-{suite}.dat", title))
    s6 = data["sections"].get("6", {}).get("rows", [])
    for aead, title in (("none", "kernel UDP"), ("aes256gcm", "kernel UDP + AES-256-GCM")):
        pts = [f"{k['size']} {k['goodput_bps'] / 1e9:.4f}" for k in s6
               if k.get("aead") == aead and "goodput_bps" in k]
        if pts:
            sets[f"goodput-kernel-{aead}.dat"] = pts
            series.append((f"goodput-kernel-{aead}.dat", title))
    s1 = data["sections"].get("1", {}).get("rows", [])
    pts = [f"{r['frame_size']} {r['bps'] / 1e9:.4f}" for r in s1
           if r.get("mode") == "txonly -> rxonly"]
    if pts:
        sets["goodput-testpmd.dat"] = pts
        series.append(("goodput-testpmd.dat", "testpmd txonly->rxonly (x: frame size)"))
    if not series:
        return None
    plots = ", ".join(f"'{f}' using 1:2 with linespoints lw 2 title '{t}'" for f, t in series)
    script = ("set terminal pngcairo size 900,560 font 'sans,10'\n"
              "set output 'goodput.png'\nset logscale x 2\nset logscale y 10\nset grid\n"
              "set xtics ('64' 64, '256' 256, '1 KiB' 1024, '4 KiB' 4096, '16 KiB' 16384, "
              "'64 KiB' 65536, '256 KiB' 262144, '1 MiB' 1048576)\n"
              "set ylabel 'goodput (Gbit/s, log)'\n"
              "set xlabel 'message size (bytes)'\n"
              "set key bottom right\nset title 'one-way goodput: sluice vs testpmd vs kernel UDP'\n"
              f"plot {plots}\n")
    return _plot(results_dir, "goodput.png", script, sets)


def plot_latency(data, results_dir):
    s5 = data["sections"].get("5", {})
    if "sluice" not in s5:
        return None
    kern = {(k.get("poll"), k.get("size")): k for k in s5.get("kernel", [])}
    lines = []
    for r in s5["sluice"]:
        kb = kern.get(("blocking", r["size"]), {})
        kp = kern.get(("busy", r["size"]), {})
        for label, src in ((f"sluice {r['size']} B", r), (f"kernel {r['size']} B", kb),
                           (f"kernel busy {r['size']} B", kp)):
            if src.get("p50_ns") is None:
                continue
            lines.append(f"\"{label}\" {src['p50_ns'] / 1e3:.2f} {src['p99_ns'] / 1e3:.2f} "
                         f"{src['p999_ns'] / 1e3:.2f}")
    if not lines:
        return None
    script = ("set terminal pngcairo size 900,560 font 'sans,10'\n"
              "set output 'latency.png'\nset style data histograms\n"
              "set style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
              "set logscale y\nset grid ytics\nset ylabel 'round trip (microseconds, log)'\n"
              "set title 'echo round trip percentiles, one message in flight'\n"
              "set xtics rotate by -20\nset key top left\n"
              "plot 'latency.dat' using 2:xtic(1) title 'p50', '' using 3 title 'p99', "
              "'' using 4 title 'p99.9'\n")
    return _plot(results_dir, "latency.png", script, {"latency.dat": lines})


# --- the document ----------------------------------------------------------------------------

def render(data, results_dir):
    m = data["machine"]
    out = ["# sluice performance results\n",
           "Generated by `make bench` (`perf/rig.py`); every figure stands next to its "
           "reference, measured in the same run on the same cores. Regenerate with `make bench`; "
           "re-render from the recorded numbers with "
           "`python3 perf/rig.py build --data perf/results/data.json`.\n"]
    if data.get("quick"):
        out.append("**Quick run (`--quick`): a tenth of the work, for checking the rig only; "
                   "not figures to publish.**\n")
    out.append(table(["machine", ""], [
        ["CPU", f"{m['cpu']}{', virtual machine' if m.get('virtual') else ''}"],
        ["flags", m["flags"] + (f" (absent: {m['flags_absent']})" if m["flags_absent"] else "")],
        ["cores / memory", f"{m['cores']} / {m.get('mem_gib', '?')} GiB, no hugepages "
                           "(EAL --no-huge), memif links"],
        ["DPDK", m["dpdk"]], ["ipsec-mb", m["ipsec_mb"]], ["libsodium", m["libsodium"]],
        ["kernel", m["kernel"]], ["commit", f"{m['commit']}, {m['date']}"],
        ["whole run", f"{data.get('elapsed_s', '?')} s"]], ["---", "---"]))
    plots = [p for p in (plot_goodput(data, results_dir), plot_latency(data, results_dir)) if p]
    if plots:
        out.append("\n" + "\n".join(f"![{p[:-4]}](results/{p})" for p in plots) + "\n")
    summary = data.get("summary_md")
    if summary:
        out.append(summary)
    for n in sorted(data["sections"], key=int):
        s = data["sections"][n]
        out.append(f"\n## {TITLES[n]}\n")
        err = _error(s)
        if err:
            out.append(err)
            continue
        try:
            out.append(RENDER[n](data, s))
        except (KeyError, TypeError, ValueError) as e:
            out.append(f"_Could not render: {type(e).__name__}: {e}_\n")
        when = s.get("measured")
        if when and when != f"{m['commit']}, {m['date']}":  # measured again with --merge
            out.append(f"\n_Section time: {s.get('elapsed_s', '?')} s; measured at {when} "
                       "(`--sections ... --merge`), not in the run the header describes._\n")
        else:
            out.append(f"\n_Section time: {s.get('elapsed_s', '?')} s._\n")
    # The discovery simulation's section (perf/sim_discovery.py writes it; it is not the rig's)
    discovery = os.path.join(results_dir, "discovery.md")
    if os.path.exists(discovery):
        with open(discovery) as f:
            out.append("\n" + f.read())
    notes = os.path.join(os.path.dirname(results_dir), "results-notes.md")
    if os.path.exists(notes):
        with open(notes) as f:
            out.append("\n" + f.read())
    return "\n".join(out)
