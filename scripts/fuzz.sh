#!/usr/bin/env bash
# Fuzzes the STUN and ChannelData decoders, and the signal frame decoder.
#
#   scripts/fuzz.sh [RUNS] [libFuzzer flags...]   libFuzzer, coverage-guided, under AddressSanitizer
#                                                 (default 1,000,000 runs)
#   scripts/fuzz.sh --generated [INPUTS] [SEED]   seeded mutations without a sanitizer (icestat bench fuzz)
#
# The libFuzzer targets (Sources/Fuzz: STUNFuzzer, SignalFuzzer) are built in .build-fuzz with
# -sanitize=fuzzer,address, and each runs RUNS inputs. The STUN corpus starts from the RFC 5769 vectors, the
# signal one from a frame of each kind; both grow in .build-fuzz/corpus-*. A crash leaves crash-* in the current
# directory; `swift run STUNFuzzer crash-*` (or SignalFuzzer) replays it without libFuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--generated" ]; then
  swift build -c release >/dev/null
  exec "$(swift build -c release --show-bin-path)/icestat" bench fuzz --inputs "${2:-1000000}" --seed "${3:-1}"
fi

runs="${1:-1000000}"
shift || true
flags=(-c release --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING)
for target in STUNFuzzer SignalFuzzer; do swift build "${flags[@]}" --product "$target" >/dev/null; done
bin="$(swift build "${flags[@]}" --show-bin-path)"
mkdir -p .build-fuzz/corpus-stun .build-fuzz/corpus-signal
python3 - .build-fuzz/corpus-stun .build-fuzz/corpus-signal <<'PY'
import json, sys, os
vectors = json.load(open("Tests/ICEEngineTests/Resources/rfc5769.json"))
for i, v in enumerate(vectors["vectors"] + vectors.get("bonus_vectors", [])):
    if "hex" in v:
        with open(os.path.join(sys.argv[1], "rfc5769-%d" % i), "wb") as f:
            f.write(bytes.fromhex(v["hex"].replace(" ", "")))
# One frame of each kind (hello, challenge, proof, welcome, subscribe, presence, send, deliver, error, refused),
# each behind its 4-byte length as on the wire.
key = bytes(range(32))
frames = [b"\x01" + key, b"\x02" + key + key, b"\x03" + key, b"\x04", b"\x05" + key + key, b"\x06" + key + b"\x01",
          b"\x07" + key + b"sealed", b"\x08" + key + b"sealed", b"\x09no such peer", b"\x0a" + key + b"too big"]
for i, frame in enumerate(frames):
    with open(os.path.join(sys.argv[2], "frame-%d" % (i + 1)), "wb") as f:
        f.write(len(frame).to_bytes(4, "big") + frame)
PY
status=0
for target in STUNFuzzer SignalFuzzer; do
  corpus=.build-fuzz/corpus-$( [ "$target" = STUNFuzzer ] && echo stun || echo signal )
  log=.build-fuzz/$target.log
  echo "$target:"
  rc=0
  "$bin/$target" -runs="$runs" -print_final_stats=1 "$@" "$corpus" >"$log" 2>&1 || rc=$?
  # libFuzzer's chatter stays in the log; the summary, and any finding, is shown.
  grep -E "^(stat::|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)|Done [0-9]+ runs" "$log" || true
  if [ "$rc" -ne 0 ]; then tail -40 "$log"; echo "fuzz.sh: libFuzzer found a problem in $target (exit $rc); see $log"; status=$rc; fi
done
exit "$status"
