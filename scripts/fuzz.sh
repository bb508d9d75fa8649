#!/usr/bin/env bash
# Fuzzes the STUN and ChannelData decoders.
#
#   scripts/fuzz.sh [RUNS] [libFuzzer flags...]   libFuzzer, coverage-guided, under AddressSanitizer
#                                                 (default 1,000,000 runs)
#   scripts/fuzz.sh --generated [INPUTS] [SEED]   seeded mutations without a sanitizer (icestat bench fuzz)
#
# The libFuzzer target (Sources/STUNFuzzer) is built in .build-fuzz with -sanitize=fuzzer,address. Its corpus
# starts from the RFC 5769 vectors and grows in .build-fuzz/corpus. A crash leaves crash-* in the current
# directory; `swift run STUNFuzzer crash-*` replays it without libFuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--generated" ]; then
  swift build -c release >/dev/null
  exec "$(swift build -c release --show-bin-path)/icestat" bench fuzz --inputs "${2:-1000000}" --seed "${3:-1}"
fi

runs="${1:-1000000}"
shift || true
flags=(-c release --scratch-path .build-fuzz --product STUNFuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING)
swift build "${flags[@]}" >/dev/null
corpus=.build-fuzz/corpus
mkdir -p "$corpus"
python3 - "$corpus" <<'PY'
import json, sys, os
vectors = json.load(open("Tests/ICEEngineTests/Resources/rfc5769.json"))
for i, v in enumerate(vectors["vectors"] + vectors.get("bonus_vectors", [])):
    if "hex" in v:
        with open(os.path.join(sys.argv[1], "rfc5769-%d" % i), "wb") as f:
            f.write(bytes.fromhex(v["hex"].replace(" ", "")))
PY
log=.build-fuzz/fuzz.log
status=0
"$(swift build "${flags[@]}" --show-bin-path)/STUNFuzzer" -runs="$runs" -print_final_stats=1 "$@" "$corpus" >"$log" 2>&1 || status=$?
# libFuzzer's chatter stays in the log; the summary, and any finding, is shown.
grep -E "^(stat::|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)|Done [0-9]+ runs" "$log" || true
if [ "$status" -ne 0 ]; then tail -40 "$log"; echo "fuzz.sh: libFuzzer found a problem (exit $status); see $log"; fi
exit "$status"
