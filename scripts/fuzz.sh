#!/usr/bin/env bash
# Fuzzes the STUN and ChannelData decoders: scripts/fuzz.sh [INPUTS] [SEED] (default 1,000,000 inputs, seed 1).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release >/dev/null
"$(swift build -c release --show-bin-path)/icestat" bench fuzz --inputs "${1:-1000000}" --seed "${2:-1}"
