#!/bin/sh
# Install the Debian packages sluice needs to build, test and benchmark.
# Only packages that are missing are installed; a machine that has them all is left alone.
set -eu

PKGS="build-essential pkg-config meson ninja-build python3 python3-pyelftools
libdpdk-dev dpdk-dev dpdk libipsec-mb-dev libsodium-dev libjansson-dev libcunit1-dev
libpcap-dev clang libclang-rt-14-dev iproute2 iputils-ping tshark gnuplot-nox nftables conntrack"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

echo "sluice: installing missing packages:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "sluice: not root and no sudo; install these packages first:$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without prompting.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
