#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Discovery at internet scale: the report's scenarios of the discovery simulator
(tests/sim_disc.h, run by BUILD/perf/sim_discovery), their JSON in
perf/results/discovery-*.json, the section "Discovery at internet scale" of perf/RESULTS.md
(also kept in perf/results/discovery.md, which perf/rig_report.py appends to every RESULTS.md
it writes) and two gnuplot plots (convergence over time, eclipse by attacker share).

Scenarios (one seed, the same for all): 10,000 honest nodes, no attacker (convergence, graph),
with bucketing on and (for comparison) off; then an attacker holding 1 %, 5 % and 20 % of all addresses, each with bucketing on and off, in
two families: "late" (the attacker comes up at 240 s, into a network that has converged) and
"start" (the attacker is up from the start: the network bootstraps under attack).
Each run is bounded by its virtual duration and a wall-clock timeout.

usage: perf/sim_discovery.py BUILD [--nodes N] [--seed S] [--jobs J] [--timeout S]
                                   [--render-only] [--only NAME,...]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
SECTION_MD = os.path.join(RESULTS, "discovery.md")
BEGIN = "<!-- discovery: begin (perf/sim_discovery.py) -->"
END = "<!-- discovery: end -->"
SHARES = (0.01, 0.05, 0.20)
LATE_START_S = 240
ATTACKER_MD = (
    "The attacker holds a share of all addresses (honest nodes + its own) in "
    "{attacker_groups} /16s, with a live node at every one: it accepts every session, answers "
    "every GETADDR with attacker addresses only (as many as asked, seen just now), keeps "
    "{attacker_dials} sessions to random honest nodes (so they learn its addresses), crawls the "
    "seeds, and sends an unsolicited ADDR full of its addresses on every session every "
    "{attacker_spam_s:g} s (dropped and scored by peer exchange: the sender is closed and marked "
    "bad when its score reaches the ban score). An honest node is eclipsed when all its outbound "
    "peers are the attacker's, counted at the end of the run among live honest nodes with an "
    "outbound peer. Each share ran twice with the same seed: bucketing on, and off (flat "
    "tables: a newcomer takes a free slot or evicts a random entry, one reference per "
    "address).\n")
FAMILIES = (("late", f"the attacker comes up at {LATE_START_S} s, into a converged network"),
            ("start", "the attacker is up from the start: the network bootstraps under attack"))


def scenarios():
    """name -> extra arguments of sim_discovery."""
    out = {"baseline": [], "baseline-flat": ["--flat"]}
    for family, _ in FAMILIES:
        for share in SHARES:
            for flat in (False, True):
                extra = ["--attacker-share", str(share)] + (["--flat"] if flat else [])
                if family == "late":
                    extra += ["--attacker-start", str(LATE_START_S)]
                out[run_name(family, share, flat)] = extra
    return out


def run_name(family, share, flat):
    return f"{family}{round(share * 100):02d}-{'flat' if flat else 'bucketed'}"


def run_all(prog, todo, args):
    """Run the scenarios, args.jobs at a time; each process is bounded by args.timeout."""
    pending = list(todo.items())
    running = []
    while pending or running:
        while pending and len(running) < args.jobs:
            name, extra = pending.pop(0)
            argv = [prog, "--nodes", str(args.nodes), "--seed", str(args.seed), "--series"]
            p = subprocess.Popen(argv + extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
            running.append((name, extra, p, time.monotonic(), argv + extra))
        time.sleep(1)
        for item in list(running):
            name, extra, p, t0, argv = item
            if p.poll() is None and time.monotonic() - t0 < args.timeout:
                continue
            running.remove(item)
            if p.poll() is None:
                p.kill()
                p.wait()
                raise RuntimeError(f"{name}: over {args.timeout} s, stopped")
            out, err = p.communicate()
            if p.returncode != 0:
                raise RuntimeError(f"{name}: exit {p.returncode}: {err.strip()}")
            data = json.loads(out)
            data["name"], data["argv"] = name, " ".join(["sim_discovery"] + argv[1:])
            data["elapsed_s"] = round(time.monotonic() - t0, 1)
            with open(os.path.join(RESULTS, f"discovery-{name}.json"), "w") as f:
                json.dump(data, f, indent=1)
                f.write("\n")
            print(f"{name}: {data['elapsed_s']} s wall, "
                  f"{data['max_rss_kib'] / 2**20:.2f} GiB peak RSS", file=sys.stderr)


def load_all():
    out = {}
    for name in scenarios():
        path = os.path.join(RESULTS, f"discovery-{name}.json")
        if os.path.exists(path):
            with open(path) as f:
                out[name] = json.load(f)
    return out


# --- plots -------------------------------------------------------------------------------------

def _gnuplot(name, script, datasets):
    if shutil.which("gnuplot") is None:
        return None
    for fname, lines in datasets.items():
        with open(os.path.join(RESULTS, fname), "w") as f:
            f.write("\n".join(lines) + "\n")
    r = subprocess.run(["gnuplot"], input=script, text=True, cwd=RESULTS, capture_output=True,
                       timeout=60)
    for fname in datasets:
        os.remove(os.path.join(RESULTS, fname))
    if r.returncode != 0 or not os.path.exists(os.path.join(RESULTS, name)):
        print(f"gnuplot failed for {name}: {r.stderr.strip()}", file=sys.stderr)
        return None
    return name


def plot_convergence(runs):
    sets, series = {}, []
    for name, title in (("baseline", "no attacker, bucketed"),
                        ("baseline-flat", "no attacker, flat"),
                        ("late20-bucketed", "20 % attacker from 240 s, bucketed"),
                        ("late20-flat", "20 % attacker from 240 s, flat"),
                        ("start20-bucketed", "20 % attacker from the start, bucketed"),
                        ("start20-flat", "20 % attacker from the start, flat")):
        d = runs.get(name)
        if d is None:
            continue
        sets[f"discovery-conv-{name}.dat"] = [
            f"{r[0]:g} {100.0 * r[2] / r[1] if r[1] else 0:.3f}" for r in d["series"]["rows"]]
        series.append((f"discovery-conv-{name}.dat", title))
    if "baseline" not in runs or not series:
        return None
    plots = ", ".join(f"'{f}' using 1:2 with lines lw 2 title '{t}'" for f, t in series)
    script = ("set terminal pngcairo size 900,520 font 'sans,10'\n"
              "set output 'discovery-convergence.png'\nset grid\n"
              "set xlabel 'virtual time (s): nodes join over the first 60 s, then 1 %/min churn'\n"
              "set ylabel 'honest nodes at their outbound target (%)'\nset yrange [0:100]\n"
              "set key bottom right\n"
              f"set title 'convergence, {runs['baseline']['config']['nodes']:,} nodes'\n"
              f"plot {plots}, 99 with lines dt 2 lc rgb 'gray' title '99 %'\n")
    return _gnuplot("discovery-convergence.png", script, sets)


def plot_eclipse(runs):
    """Two panels, one bar per family and mode at each share: eclipsed nodes, and the
    attacker's share of outbound peers (what an eclipse is made of)."""
    lines = []
    for share in SHARES:
        row = [f"\"{share * 100:g} %\""]
        for family, _ in FAMILIES:
            for flat in (False, True):
                d = runs.get(run_name(family, share, flat))
                e = d["metrics"]["eclipse"] if d else None
                row += [f"{100 * e['eclipsed_frac']:.3f}" if e else "0",
                        f"{100 * e['attacker_out_frac']:.3f}" if e else "0"]
        lines.append(" ".join(row))
    if not any(runs.get(run_name(f, s, False)) for f, _ in FAMILIES for s in SHARES):
        return None
    titles = ["from 240 s, bucketed", "from 240 s, flat", "from the start, bucketed",
              "from the start, flat"]

    def panel(first_col, ylabel):
        cols = ", ".join(f"'' using {first_col + 2 * i} title '{t}'" if i else
                         f"'discovery-eclipse.dat' using {first_col}:xtic(1) title '{t}'"
                         for i, t in enumerate(titles))
        return f"set ylabel '{ylabel}'\nplot {cols}\n"
    script = ("set terminal pngcairo size 900,800 font 'sans,10'\n"
              "set output 'discovery-eclipse.png'\nset multiplot layout 2,1\n"
              "set style data histograms\nset style histogram clustered gap 1\n"
              "set style fill solid 0.8 border -1\nset grid ytics\nset yrange [0:*]\n"
              "set key top left\nset xlabel 'attacker''s share of all addresses'\n"
              "set title 'eclipsed: honest nodes whose outbound peers are all the attacker''s'\n"
              + panel(2, "eclipsed honest nodes (%)") +
              "set title 'the attacker''s share of honest nodes'' outbound peers'\n"
              + panel(3, "attacker''s share of outbound peers (%)") + "unset multiplot\n")
    return _gnuplot("discovery-eclipse.png", script, {"discovery-eclipse.dat": lines})


# --- the section -------------------------------------------------------------------------------

def _pct(x, digits=1):
    return f"{100 * x:.{digits}f} %"


def _s(x):
    return "never" if x is None or x < 0 else f"{x:.1f} s"


def _indeg_bins(hist, cap):
    bins = [(0, 0), (1, 3), (4, 7), (8, 15), (16, cap - 1), (cap, len(hist) - 1)]
    total = sum(hist) or 1
    return [(f"{lo}" if lo == hi else (f"{lo}-{hi}" if hi < len(hist) - 1 else f">= {lo}"),
             sum(hist[lo:hi + 1]), sum(hist[lo:hi + 1]) / total) for lo, hi in bins if lo <= hi]


def _table(head, rows, align=None):
    align = align or ["---"] + ["---:"] * (len(head) - 1)
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"] +
                      ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]) + "\n"


def _conv_rows(d):
    c, m = d["config"], d["metrics"]
    g, a = m["graph"], m["activity"]
    return [
        f"{m['honest_live']:,} ({m['joined']:,} / {m['left']:,})",
        _s(m["t99_s"]),
        _pct(m["at_target_end"], 2),
        f"{m['to_target_s']['p50']:.1f} / {m['to_target_s']['p99']:.1f} / "
        f"{m['to_target_s']['max']:.1f} s",
        f"{g['nodes']:,} / {g['edges']:,}",
        "yes" if g["connected"] else
        f"all but {g['outside_largest']} nodes (up {g['outside_max_age_s']:.0f} s at most): "
        f"{g['components']} components",
        g["diameter"],
        f"{g['mean_distance']:.2f}",
        f"{g['indeg_mean']:.2f} / {g['indeg_max']} ({c['inbound']})",
        f"{g['outdeg_min']} / {g['outdeg_max']}",
        f"{a['dials']:,} / {a['dials_failed']:,} / {a['refused']:,}",
        f"{a['messages']:,} / {a['msg_bytes'] / 2**20:,.0f} MiB",
        f"{a['events']:,} / {d['wall_s']:.0f} s / {d['max_rss_kib'] / 2**20:.2f} GiB",
    ]


CONV_LABELS = [
    "honest nodes live at the end (joined / left during the run)",
    "time until 99 % of honest nodes have their outbound target",
    "at their outbound target at the end",
    "per node, join -> outbound target: median / p99 / max",
    "graph: nodes / edges (sessions open at both ends, kept by both pools)",
    "graph connected",
    "diameter of the largest component (exact: a BFS from every node)",
    "mean distance between two nodes of it",
    "in-degree: mean / max (inbound cap)",
    "out-degree to honest nodes: min / max",
    "dials / failed / sessions refused by a full pool",
    "control messages (GETADDR + ADDR) / bytes",
    "events simulated / wall time / peak RSS",
]


def sec_convergence(runs):
    cols = [(name, runs[name]) for name in ("baseline", "baseline-flat") if name in runs]
    head = ["no attacker"] + ["bucketed" if n == "baseline" else "flat tables (bucketing off)"
                              for n, _ in cols]
    values = [_conv_rows(d) for _, d in cols]
    out = _table(head, [[label] + [v[i] for v in values] for i, label in enumerate(CONV_LABELS)],
                 ["---"] + ["---"] * len(cols))
    out += "\nIn-degree distribution (inbound sessions from live honest nodes):\n\n"
    rows, bins = [], None
    for name, d in cols:
        bins = _indeg_bins(d["metrics"]["graph"]["indeg_hist"], d["config"]["inbound"])
        mode = "bucketed" if name == "baseline" else "flat"
        rows.append([f"{mode}: nodes"] + [f"{b[1]:,} ({_pct(b[2])})" for b in bins])
    return out + _table(["in-degree"] + [b[0] for b in bins], rows)


def _eclipse_row(share, b, f):
    mb, mf = b["metrics"], f["metrics"]
    eb, ef = mb["eclipse"], mf["eclipse"]
    ab, af = mb["activity"], mf["activity"]
    return [f"{share * 100:g} % ({mb['attackers']:,} nodes)",
            f"**{_pct(eb['eclipsed_frac'], 2)}** ({eb['eclipsed']:,})",
            f"**{_pct(ef['eclipsed_frac'], 2)}** ({ef['eclipsed']:,})",
            f"{_pct(eb['attacker_out_frac'])} / {_pct(ef['attacker_out_frac'])}",
            f"{_pct(eb['book_attacker_frac'])} / {_pct(ef['book_attacker_frac'])}",
            f"{ab['pex_unsolicited'] + ab['pex_wrong_request']:,} / "
            f"{af['pex_unsolicited'] + af['pex_wrong_request']:,}",
            f"{ab['peers_bad']:,} / {af['peers_bad']:,}",
            f"{_pct(mb['at_target_end'])} / {_pct(mf['at_target_end'])}"]


def sec_eclipse(runs, family):
    rows = []
    for share in SHARES:
        b, f = runs.get(run_name(family, share, False)), runs.get(run_name(family, share, True))
        if b is not None and f is not None:
            rows.append(_eclipse_row(share, b, f))
    if not rows:
        return ""
    return _table(["attacker's share of addresses", "eclipsed, bucketed", "eclipsed, flat",
                   "attacker's share of outbound peers (bucketed / flat)",
                   "attacker's share of book entries", "unsolicited ADDRs dropped",
                   "peers marked bad", "at outbound target at the end"], rows)


def intro(c, runs):
    wall = sum(d.get("elapsed_s", d["wall_s"]) for d in runs.values())
    return (f"`python3 perf/sim_discovery.py build` runs {len(runs)} scenarios of the discovery "
            "simulator (`tests/sim_disc.h`, the program `build/perf/sim_discovery`): every node "
            "runs the appliance's own discovery code — `cp_disc` with the address book "
            "(`cp_book`), peer exchange (`cp_pex`) and the pool (`cp_pool`) — over a model of "
            "the network in virtual time, deterministic for a seed (the same seed gives the "
            "same run bit for bit; `make test` checks it on 200 nodes). "
            f"{c['nodes']:,} honest nodes (about {c['per_group']} per /16) join over the first "
            f"{c['join_window_s']:g} s through {c['seeds']} seed-mode nodes, then "
            f"{c['churn_per_min'] * 100:g} % of them leave per minute, each replaced by a "
            "newcomer with an empty book; "
            f"{c['duration_s']:g} s of virtual time; RTT {c['rtt_ms'][0]:g}-{c['rtt_ms'][1]:g} "
            f"ms per pair; a dial of a dead address fails after {c['dial_fail_s']:g} s; outbound "
            f"target {c['outbound']}, inbound cap {c['inbound']} (seeds {c['seed_inbound']}); "
            f"seed {c['seed']}. "
            "The books are shrunk to fit 10,000 of them in memory: CometBFT's bucket counts "
            f"and shares ({c['new_buckets']} new buckets, {c['per_source_group']} per source "
            f"group; {c['tried_buckets']} tried, {c['tried_per_group']} per group; up to "
            f"{c.get('max_new_refs', 4)} new buckets per address) with {c['bucket_size']} slots per "
            f"bucket instead of 64 ({(c['new_buckets'] + c['tried_buckets']) * c['bucket_size']:,}"
            f" addresses, a sixteenth of the default), at most {c.get('max_bans', 128)} bans; book_low "
            f"{c['book_low']} as in the appliance. "
            f"The {len(runs)} runs took {wall / 60:.0f} minutes of wall time added up, two at a "
            "time on this machine's 2 cores, which other work shared (each run's wall time and "
            "peak RSS are in its JSON).\n")


def render(runs):
    base = runs.get("baseline")
    c = (base or next(iter(runs.values())))["config"]
    out = [BEGIN, "\n## Discovery at internet scale (simulation)\n", intro(c, runs)]
    if base is not None:
        out.append("### Convergence, graph\n")
        out.append(sec_convergence(runs))
    attack = [(f, t, sec_eclipse(runs, f)) for f, t in FAMILIES]
    if any(table for _, _, table in attack):
        out.append("\n### Eclipse resistance\n")
        out.append(ATTACKER_MD.format(**c))
    for family, title, table in attack:
        if table:
            out.append(f"\n**{title[0].upper() + title[1:]}** (`{family}*` runs)\n")
            out.append(table)
    plots = [p for p in (plot_convergence(runs), plot_eclipse(runs)) if p]
    if plots:
        out.append("\n" + "\n".join(f"![{p[:-4]}](results/{p})" for p in plots) + "\n")
    notes = os.path.join(RESULTS, "discovery-notes.md")
    if os.path.exists(notes):
        with open(notes) as f:
            out.append("\n" + f.read().strip() + "\n")
    out.append(END)
    return "\n".join(out) + "\n"


def splice(section):
    """The section into perf/RESULTS.md: in place of an earlier one, else before the notes."""
    path = os.path.join(HERE, "RESULTS.md")
    text = open(path).read() if os.path.exists(path) else "# sluice performance results\n"
    if BEGIN in text and END in text:
        a, b = text.index(BEGIN), text.index(END) + len(END)
        text = text[:a] + section.rstrip("\n") + text[b:]
    elif "\n## What limits these figures" in text:
        a = text.index("\n## What limits these figures")
        text = text[:a] + "\n" + section + text[a:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build")
    ap.add_argument("--nodes", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per run at most")
    ap.add_argument("--render-only", action="store_true", help="measure nothing")
    ap.add_argument("--only", help="comma-separated scenario names")
    args = ap.parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    if not args.render_only:
        prog = os.path.join(args.build, "perf", "sim_discovery")
        if not os.access(prog, os.X_OK):
            sys.exit(f"{prog} is missing: ninja -C {args.build} perf/sim_discovery")
        todo = scenarios()
        if args.only:
            todo = {k: v for k, v in todo.items() if k in args.only.split(",")}
        run_all(prog, todo, args)
    runs = load_all()
    if not runs:
        sys.exit("no perf/results/discovery-*.json to render")
    section = render(runs)
    with open(SECTION_MD, "w") as f:
        f.write(section)
    splice(section)
    print(f"wrote {SECTION_MD} and perf/RESULTS.md", file=sys.stderr)


if __name__ == "__main__":
    main()
