#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The layers of sluice and who may include whom — written once, here; `make test` runs it.

Each folder below is a layer and a static library (its meson.build). A file may include the
headers of its own folder and of the layers its layer sees, directly or through the layers
below; a header of a layer above or of a sibling is an error. The meson build gives each
library only those include directories, so the compiler refuses the same includes; this
script says which rule a file broke, checks that every library's meson dependencies are
exactly the ones written here, and that the plain-C layers include no DPDK runtime header.

tests/ and perf/ may include anything.

Usage: scripts/check_layers.py [source root]    exit 0: every rule holds, 1: a rule is broken
"""
import os
import re
import sys

# layer folder: (the layers it sees directly, its meson dependency object, plain C?)
LAYERS = {
    "common":                 ([], "common_dep", True),
    "common/crypto":          (["common"], "crypto_dep", True),
    "api":                    ([], "api_dep", True),
    "api/lib":                (["api"], "libsluice_dep", True),
    "api/ctl":                (["api/lib", "common"], "ctl_dep", True),
    "dataplane/engine":       (["common"], "engine_dep", True),
    "dataplane/keys":         (["common/crypto"], "keys_dep", True),
    "dataplane/services":     (["dataplane/engine"], "services_dep", True),
    "controlplane/handshake": (["common/crypto"], "handshake_dep", True),
    "controlplane/discovery": (["common"], "discovery_dep", True),
    "conf":                   (["dataplane/services", "common/crypto"], "conf_dep", True),
    "drivers":                (["conf"], "drivers_dep", False),
    "dataplane":              (["drivers", "dataplane/keys", "dataplane/services", "api"],
                               "runtime_dep", False),
    "controlplane":           (["dataplane", "controlplane/handshake",
                                "controlplane/discovery"], "cp_dep", False),
}

# DPDK headers a plain-C layer may use: header-only helpers, no EAL, mbufs, rings or ports.
PLAIN_DPDK = {"rte_common.h", "rte_byteorder.h", "rte_branch_prediction.h"}
# common/ also holds the appliance's TSC clock (sl_clock.h: inline, read by the DPDK layers).
PLAIN_DPDK_COMMON = PLAIN_DPDK | {"rte_cycles.h"}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def sees(layer, memo={}):
    """Every layer this one may include from, itself included (transitive closure)."""
    if layer not in memo:
        out = {layer}
        for below in LAYERS[layer][0]:
            out |= sees(below)
        memo[layer] = out
    return memo[layer]


def layer_files(root, layer):
    d = os.path.join(root, layer)
    return sorted(f for f in os.listdir(d) if f.endswith((".c", ".h")))


def header_owner(root):
    """Which layer each project header lives in; a header generated at build time from a
    template (X.h.in, meson configure_file / vcs_tag) belongs to the template's layer."""
    owner = {}
    for layer in LAYERS:
        d = os.path.join(root, layer)
        generated = [f[:-3] for f in os.listdir(d) if f.endswith(".h.in")]
        for f in layer_files(root, layer) + generated:
            if f.endswith(".h"):
                if f in owner:
                    sys.exit(f"check_layers: header {f} is in both {owner[f]}/ and {layer}/")
                owner[f] = layer
    return owner


def check_includes(root, owner):
    errors = []
    for layer, (_, _, plain) in LAYERS.items():
        allowed = sees(layer)
        dpdk_ok = PLAIN_DPDK_COMMON if layer == "common" else PLAIN_DPDK
        for f in layer_files(root, layer):
            path = os.path.join(layer, f)
            with open(os.path.join(root, path), encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    m = INCLUDE.match(line)
                    if m is None:
                        continue
                    kind, name = m.groups()
                    if kind == '"':
                        where = owner.get(name)
                        if where is None:
                            errors.append(f"{path}:{n}: {name} is not a header of any layer")
                        elif where not in allowed:
                            errors.append(f"{path}:{n}: includes {name} of {where}/, which "
                                          f"{layer}/ may not see (it sees: "
                                          f"{', '.join(sorted(allowed))})")
                    elif plain and name.startswith("rte_") and name not in dpdk_ok:
                        errors.append(f"{path}:{n}: <{name}> is DPDK's runtime; {layer}/ is "
                                      f"plain C (allowed: {', '.join(sorted(dpdk_ok))})")
    return errors


DEPS = re.compile(r"\b([a-z_]+_dep)\b")


def check_meson(root):
    """Each layer's library lists exactly the dependency objects of the layers it sees directly."""
    errors = []
    dep_layer = {dep: layer for layer, (_, dep, _) in LAYERS.items()}
    for layer, (below, dep, _) in LAYERS.items():
        path = os.path.join(layer, "meson.build")
        with open(os.path.join(root, path), encoding="utf-8") as fh:
            text = "\n".join(l.split("#", 1)[0] for l in fh)
        used = {d for d in DEPS.findall(text) if d in dep_layer and d != dep}
        want = {LAYERS[b][1] for b in below}
        if used != want:
            errors.append(f"{path}: uses {', '.join(sorted(used)) or 'no layer'}; the rules here "
                          f"say {', '.join(sorted(want)) or 'none'}")
    return errors


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    errors = check_includes(root, header_owner(root)) + check_meson(root)
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"check_layers: {len(errors)} rule(s) broken (the rules: scripts/check_layers.py)",
              file=sys.stderr)
        return 1
    n = sum(len(layer_files(root, l)) for l in LAYERS)
    print(f"check_layers: {n} files in {len(LAYERS)} layers keep to the rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
