#!/usr/bin/env bash
# Fuzzes the STUN and ChannelData decoders, the signal frame decoder and the status stream decoder.
#
#   scripts/fuzz.sh [RUNS] [libFuzzer flags...]   libFuzzer, coverage-guided, under AddressSanitizer
#                                                 (default 1,000,000 runs)
#   scripts/fuzz.sh --generated [INPUTS] [SEED]   seeded mutations without a sanitizer (icestat bench fuzz)
#
# The libFuzzer targets (Sources/Fuzz: STUNFuzzer, SignalFuzzer, StatusFuzzer) are built in .build-fuzz with
# -sanitize=fuzzer,address, and each runs RUNS inputs. The STUN corpus starts from the RFC 5769 vectors, the
# signal one from a frame of each kind, the status one from a stream with a line of each kind; all grow in
# .build-fuzz/corpus-*. A crash leaves crash-* in the current directory; `swift run STUNFuzzer crash-*` (or
# SignalFuzzer, StatusFuzzer) replays it without libFuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--generated" ]; then
  swift build -c release >/dev/null
  exec "$(swift build -c release --show-bin-path)/icestat" bench fuzz --inputs "${2:-1000000}" --seed "${3:-1}"
fi

runs="${1:-1000000}"
shift || true
flags=(-c release --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING)
for target in STUNFuzzer SignalFuzzer StatusFuzzer; do swift build "${flags[@]}" --product "$target" >/dev/null; done
bin="$(swift build "${flags[@]}" --show-bin-path)"
mkdir -p .build-fuzz/corpus-stun .build-fuzz/corpus-signal .build-fuzz/corpus-status
python3 - .build-fuzz/corpus-stun .build-fuzz/corpus-signal .build-fuzz/corpus-status <<'PY'
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
# A status stream with a line of each kind (see StatusWireFormat), in two batches.
lines = ["V\ticestat-status\t1",
         "L\tkeyA=\tann\t1700000000000\t1\t",
         "S\tstun\tstun:127.0.0.1:3478\t1\t",
         "N\tendpoint-independent\tendpoint-independent\taddress-dependent\t192.0.2.1\t\t1700000000000",
         "P\tkeyB=\tbob\tConnected\t1700000000000\tP2P\thost\t127.0.0.1:1000\thost\t127.0.0.1:2000\t\t420000\t10\t20\t1700000000000\t\t\t410000\t0\t\t",
         "R\tdirect-timed-out\t\t0",
         "D\tno-path\t3",
         "H\t400000,420000",
         "C\thost\t127.0.0.1:1000\thost\t127.0.0.1:2000\tsucceeded\t1\t420000\t5\t5",
         "G\t1\t1700000000000\tkeyB=\tbob\tstate\tIdle\tConnecting",
         ".",
         "X\tkeyB=", "."]
with open(os.path.join(sys.argv[3], "stream-1"), "wb") as f:
    f.write(("\n".join(lines) + "\n").encode())
# The same in version 2, which declares its fields (one of them unknown here, as a newer agent's would be).
declared = ["V\ticestat-status\t2",
            "F\tL\tpublic-key\tname\tstarted-at\tlazy\tconfig-error",
            "F\tS\tkind\taddress\tavailable\terror",
            "F\tP\tid\tname\tstate\tstate-changed-at\tfuture-field\tlatency-ns\tbytes-received\tbytes-sent",
            "F\tU\tid\tlatency-ns\tfuture-field\tbytes-sent",
            "F\tC\tlocal-type\tlocal-address\tremote-type\tremote-address\tstate\tnominated\trtt-ns\trequests-sent\tresponses-received",
            "F\tG\tsequence\tat\tpeer-id\tpeer-name\tkind\u2026",
            "L\tkeyA=\tann\t1700000000000\t1\t",
            "S\tstun\tstun:127.0.0.1:3478\t1\t",
            "P\tkeyB=\tbob\tConnected\t1700000000000\t7\t420000\t10\t20",
            "C\thost\t127.0.0.1:1000\thost\t127.0.0.1:2000\tsucceeded\t1\t420000\t5\t5",
            "G\t1\t1700000000000\tkeyB=\tbob\tstate\tIdle\tConnecting",
            ".",
            "U\tkeyB=\t430000\t7\t21",
            "."]
with open(os.path.join(sys.argv[3], "stream-2"), "wb") as f:
    f.write(("\n".join(declared) + "\n").encode())
PY
status=0
for target in STUNFuzzer SignalFuzzer StatusFuzzer; do
  case "$target" in STUNFuzzer) corpus=.build-fuzz/corpus-stun ;; SignalFuzzer) corpus=.build-fuzz/corpus-signal ;; *) corpus=.build-fuzz/corpus-status ;; esac
  log=.build-fuzz/$target.log
  echo "$target:"
  rc=0
  "$bin/$target" -runs="$runs" -print_final_stats=1 "$@" "$corpus" >"$log" 2>&1 || rc=$?
  # libFuzzer's chatter stays in the log; the summary, and any finding, is shown.
  grep -E "^(stat::|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)|Done [0-9]+ runs" "$log" || true
  if [ "$rc" -ne 0 ]; then tail -40 "$log"; echo "fuzz.sh: libFuzzer found a problem in $target (exit $rc); see $log"; status=$rc; fi
done
exit "$status"
