#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The command line says what was wrong: every usage error names its cause and exits 1; --help
documents every option and the exit codes; --version names sluice's revision and the DPDK,
intel-ipsec-mb and libsodium it runs with; keygen / pubkey round trip; --check-config checks
the key file too; the telemetry helper reports an appliance that is not there in one line.

    test_cli.py SLUICE
"""
import json
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
TELEMETRY = os.path.join(HERE, "..", "..", "scripts", "sl_telemetry.py")

failures = []


def check(cond, what):
    print(("ok: " if cond else "FAILED: ") + what)
    if not cond:
        failures.append(what)


def run(argv, stdin=None):
    return subprocess.run(argv, capture_output=True, text=True, input=stdin, timeout=60)


def usage_errors(sluice):
    cases = [
        ([], "nothing to do: --config FILE or --check-config FILE"),
        (["foo"], "unknown command 'foo'"),
        (["version"], "unknown command 'version'"),
        (["keygen", "a", "b"], "keygen takes at most one argument (FILE)"),
        (["pubkey", "a", "b"], "pubkey takes at most one argument (FILE)"),
        (["--config", "a.json", "--check-config", "b.json"],
         "--config and --check-config exclude each other"),
        (["--check-config", "a.json", "extra"], "unexpected argument 'extra'"),
        (["--bogus"], "unrecognized option"),
        (["--duration", "0", "--config", "a.json"], "--duration: seconds, more than 0"),
    ]
    for argv, text in cases:
        r = run([sluice] + argv)
        check(r.returncode == 1, f"sluice {' '.join(argv)}: exit status {r.returncode} == 1")
        check(text in r.stderr, f"... says {text!r} ({r.stderr.strip()[:120]!r})")
        check("Traceback" not in r.stderr and r.stdout == "", "... and nothing else")


def help_and_version(sluice):
    for flag in ("-h", "--help"):
        r = run([sluice, flag])
        check(r.returncode == 0 and r.stderr == "", f"sluice {flag}: exit 0, nothing on stderr")
        for opt in ("--config", "--duration", "--exit-when-done", "--log-level", "-- EAL",
                    "--check-config", "keygen", "pubkey", "--version", "--help", "exit status",
                    "1 bad usage", "2 startup failed", "3 --exit-when-done"):
            check(opt in r.stdout, f"sluice {flag} documents {opt!r}")
    r = run([sluice, "--version"])
    lines = r.stdout.splitlines()
    check(r.returncode == 0 and len(lines) == 4, f"--version: 4 lines ({lines})")
    check(lines[0].startswith("sluice ") and "(" in lines[0] and "()" not in lines[0],
          f"--version: sluice's version and revision ({lines[0]!r})")
    check(lines[1].startswith("DPDK "), f"--version: DPDK ({lines[1:2]})")
    check(lines[2].startswith("intel-ipsec-mb "), f"--version: intel-ipsec-mb ({lines[2:3]})")
    check(lines[3].startswith("libsodium "), f"--version: libsodium ({lines[3:4]})")


def keys(sluice, d):
    path = os.path.join(d, "node.key")
    r = run([sluice, "keygen", path])
    pub = r.stdout.strip()
    check(r.returncode == 0 and len(pub) == 44, "keygen FILE prints the public key")
    check(oct(os.stat(path).st_mode & 0o777) == "0o600", "keygen FILE writes mode 0600")
    r = run([sluice, "pubkey", path])
    check(r.returncode == 0 and r.stdout.strip() == pub, "pubkey FILE gives the same key")
    r = run([sluice, "keygen", path])
    check(r.returncode == 1 and "exists (not replaced)" in r.stderr, "keygen never replaces")
    r = run([sluice, "keygen"])
    priv = r.stdout.strip()
    r2 = run([sluice, "pubkey"], stdin=priv + "\n")
    check(r.returncode == 0 and r2.returncode == 0 and len(r2.stdout.strip()) == 44,
          "keygen to stdout, pubkey from stdin")
    r = run([sluice, "pubkey"], stdin="not a key\n")
    check(r.returncode == 1 and "not a key" in r.stderr, "pubkey of garbage: said so, exit 1")
    return path


def check_config(sluice, d, key):
    cfg = {"network": "cli", "identity": {"key_file": key},
           "ports": [{"name": "p0", "device": "net_null0", "ipv4": "198.18.0.1/24"}]}
    good = os.path.join(d, "good.json")
    with open(good, "w") as f:
        json.dump(cfg, f)
    r = run([sluice, "--check-config", good])
    check(r.returncode == 0 and ": ok (" in r.stdout, f"--check-config: ok ({r.stdout.strip()})")
    cfg["identity"]["key_file"] = os.path.join(d, "missing.key")
    bad = os.path.join(d, "nokey.json")
    with open(bad, "w") as f:
        json.dump(cfg, f)
    r = run([sluice, "--check-config", bad])
    check(r.returncode == 1 and "missing.key" in r.stderr and "nothing started" in r.stderr,
          f"--check-config with a missing key file: refused, naming it ({r.stderr.strip()!r})")


def telemetry_helper():
    r = run([sys.executable, TELEMETRY, f"sl-cli-none-{os.getpid()}", "/sluice/info"])
    err = r.stderr.strip()
    check(r.returncode == 1 and "no appliance with file prefix" in err and "\n" not in err
          and "Traceback" not in err, f"telemetry helper, no such appliance: one line ({err!r})")


def main(sluice):
    with tempfile.TemporaryDirectory(prefix="sluice-cli-") as d:
        usage_errors(sluice)
        help_and_version(sluice)
        key = keys(sluice, d)
        check_config(sluice, d, key)
        telemetry_helper()
    if failures:
        print(f"FAIL cli: {len(failures)} checks failed")
        return 1
    print("PASS cli")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} SLUICE")
    sys.exit(main(os.path.abspath(sys.argv[1])))
