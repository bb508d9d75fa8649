#!/usr/bin/env bash
# Builds icestat and runs `icestat demo` (a mesh of ICE agents on loopback, live). Installs the ncurses headers
# and coturn (the demo's relayed peers go through one on loopback) first if this machine lacks them. Extra
# arguments go to the demo, e.g. `./scripts/demo.sh --peers 16`.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
dpkg -s libncurses-dev >/dev/null 2>&1 || need+=(libncurses-dev)
command -v turnserver >/dev/null 2>&1 || need+=(coturn)
if ((${#need[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
exec swift run -c release icestat demo "$@"
