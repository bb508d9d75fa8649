#!/usr/bin/env bash
# Installs what the tests need (idempotently), builds icestat and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v tmux >/dev/null 2>&1 || need+=(tmux)
dpkg -s libncurses-dev >/dev/null 2>&1 || need+=(libncurses-dev)
dpkg -s ncurses-term >/dev/null 2>&1 || need+=(ncurses-term)
command -v turnserver >/dev/null 2>&1 || need+=(coturn)
# openssl makes the CA and certificates of the TURN-over-TLS tests.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# iproute2 and iptables build the network namespaces of the relay-fallback and NAT-lab tests.
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || need+=(iptables)
# wireguard-go, wireguard-tools and ping carry the WireGuard-over-icestat tests; iperf3 is for bench dataplane.
command -v wireguard-go >/dev/null 2>&1 || need+=(wireguard-go)
command -v wg >/dev/null 2>&1 || need+=(wireguard-tools)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v iperf3 >/dev/null 2>&1 || need+=(iperf3)
# promtool (Debian's prometheus package) lints the agent's /metrics.
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
# PostgreSQL carries the signal-cluster tests; they start a throwaway server of their own (initdb, pg_ctl).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1 || need+=(postgresql)
if ((${#need[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # Without recommends: wireguard-tools would otherwise pull a kernel image, prometheus its web UI.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# aioice (PyPI) is the foreign ICE peer of the interop tests.
python3 -c "import aioice" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check aioice

swift build
ICESTAT_BIN="$(swift build --show-bin-path)/icestat"
export ICESTAT_BIN
# One test at a time: the NAT lab, coturn and the timing-sensitive ICE tests get the machine to themselves.
swift test --no-parallel "$@"

# A short libFuzzer run of the STUN, ChannelData, signal frame and status stream decoders under AddressSanitizer (scripts/fuzz.sh).
./scripts/fuzz.sh 300000
