#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Two sluice programs compared on one A -> B transfer, in alternated pairs (the machine's load
drifts; a pair sees about the same). Run by hand:

    python3 perf/ab_goodput.py SLUICE_X SLUICE_Y [PAIRS] [SIZE] [COUNT]

Each pair runs the transfer of the rig's section 2 (perf/rig_sluice.transfer: A's source sends
COUNT messages of SIZE bytes, default 400,000 of 1400, to B's sink; aes256gcm) with X, then
with Y (the order alternates from pair to pair). Prints goodput and A's and B's TSC cycles per
message for every run, then the medians and the median of the per-pair ratios Y/X. Nothing is
asserted.
"""
import os
import statistics
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import rig_sluice  # noqa: E402


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    progs = [os.path.abspath(p) for p in sys.argv[1:3]]
    pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 6
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 1400
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 400000
    res = {0: [], 1: []}
    for i in range(pairs):
        for k in ((0, 1) if i % 2 == 0 else (1, 0)):
            r = rig_sluice.transfer(progs[k], "aes256gcm", size, count)
            res[k].append(r)
            print(f"ab: pair {i + 1} {'XY'[k]}: {r['goodput_bps'] / 1e9:.3f} Gbit/s, "
                  f"cycles/msg A {r['cycles_per_msg_a']:.0f} B {r['cycles_per_msg_b']:.0f}",
                  flush=True)
    for key, name in (("goodput_bps", "goodput"), ("cycles_per_msg_a", "cycles/msg A"),
                      ("cycles_per_msg_b", "cycles/msg B")):
        x = [r[key] for r in res[0]]
        y = [r[key] for r in res[1]]
        ratios = [b / a for a, b in zip(x, y)]
        print(f"ab: {name}: X median {statistics.median(x):.4g}, Y median "
              f"{statistics.median(y):.4g}, Y/X per pair median {statistics.median(ratios):.3f} "
              f"(min {min(ratios):.3f}, max {max(ratios):.3f})", flush=True)


if __name__ == "__main__":
    main()
