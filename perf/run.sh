#!/usr/bin/env bash
# Run the benchmarks on an existing meson build (make bench builds it first):
#   bench_aead       sl_aead_seal/open vs raw ipsec-mb, ns per packet, overhead (target <= 10 %)
#   bench_handshake  Noise IK handshakes/s vs the X25519 bound (target >= 80 %)
#   bench_engine     reliable engine ns per packet (send->ack, receive->deliver) next to a
#                    memcpy of the same bytes, memory per idle connection (targets: 100 ns per
#                    1400-byte packet, 1 KiB per idle connection)
# Everything goes to stdout; the same markdown is written to perf/out/bench.md, replaced only
# when every benchmark ran to the end. Benchmarks report numbers; nothing here asserts on time.
# About 40 s on a 2-core machine.
#
# usage: perf/run.sh <builddir>
# environment: AEAD_ARGS, HANDSHAKE_ARGS, ENGINE_ARGS  extra options (-n reps, -m work)
#              BENCH_CPU                  CPU to pin the benchmarks to (default: the last one;
#                                         "none" to not pin)
set -euo pipefail

die() {
	echo "perf/run.sh: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: perf/run.sh <builddir>"
build=$1
[ -d "$build" ] || die "no build directory '$build': run 'make bench' (or 'make build') first"
for b in bench_aead bench_handshake bench_engine; do
	[ -x "$build/perf/$b" ] ||
		die "'$build/perf/$b' is missing: run 'make bench' (or 'ninja -C $build') first"
done

here=$(cd "$(dirname "$0")" && pwd)
out_dir=$here/out
md=$out_dir/bench.md
mkdir -p "$out_dir"
tmp=$(mktemp "$out_dir/.bench.md.XXXXXX")
trap 'rm -f "$tmp"' EXIT

# Pin to one CPU so the scheduler does not move a benchmark between cores mid-measurement.
pin=()
cpu=${BENCH_CPU:-$(($(nproc) - 1))}
if [ "$cpu" != none ] && command -v taskset >/dev/null 2>&1; then
	pin=(taskset -c "$cpu")
else
	cpu="not pinned"
fi

# The CPU features the crypto code paths depend on: which are present, which are not.
cpu_flags() {
	local flags f have="" lack=""
	flags=" $(sed -n 's/^flags[[:space:]]*: //p' /proc/cpuinfo | head -n 1) "
	for f in aes avx2 avx512f vaes vpclmulqdq; do
		case $flags in
		*" $f "*) have="$have $f" ;;
		*) lack="$lack $f" ;;
		esac
	done
	echo "${have# }${lack:+ (absent:$lack)}"
}

machine_header() {
	local model virt="" commit
	model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	if grep -qw hypervisor /proc/cpuinfo; then
		virt=", virtual machine"
	fi
	commit=$(git -C "$here/.." describe --always --dirty 2>/dev/null || echo unknown)
	echo "## Benchmarks"
	echo
	echo "| machine | |"
	echo "|---|---|"
	echo "| CPU | ${model:-unknown}$virt |"
	echo "| flags | $(cpu_flags) |"
	echo "| cores | $(nproc) online of $(grep -c '^processor' /proc/cpuinfo); benchmarks on CPU $cpu |"
	echo "| ipsec-mb | $("$build/perf/bench_aead" -V) |"
	echo "| libsodium | $("$build/perf/bench_handshake" -V) |"
	echo "| DPDK | $(pkg-config --modversion libdpdk 2>/dev/null || echo unknown) |"
	echo "| kernel | $(uname -sr) |"
	echo "| commit | $commit, $(date -u '+%Y-%m-%d %H:%M UTC') |"
	echo
}

run_all() {
	local t0=$SECONDS
	machine_header
	# shellcheck disable=SC2086 # the *_ARGS are option lists, split on purpose
	"${pin[@]}" "$build/perf/bench_aead" ${AEAD_ARGS:-}
	# shellcheck disable=SC2086
	"${pin[@]}" "$build/perf/bench_handshake" ${HANDSHAKE_ARGS:-}
	echo
	# shellcheck disable=SC2086
	"${pin[@]}" "$build/perf/bench_engine" ${ENGINE_ARGS:-}
	echo "_Whole run: $((SECONDS - t0)) s._"
}

run_all | tee "$tmp"
mv "$tmp" "$md"
trap - EXIT
echo
echo "perf/run.sh: wrote $md"
