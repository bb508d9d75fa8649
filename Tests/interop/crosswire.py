#!/usr/bin/env python3
"""Run two probe-protocol peers with each one's stdout wired to the other's stdin; print both transcripts as
JSON and exit 0 only if both printed `done`. Used by the interop tests.

usage: crosswire.py TIMEOUT -- CMD_A ... -- CMD_B ...
"""
import json
import subprocess
import sys
import threading
import time


def main():
    args = sys.argv[1:]
    timeout = float(args[0])
    rest = args[2:]
    split = rest.index("--")
    cmd_a, cmd_b = rest[:split], rest[split + 1:]
    a = subprocess.Popen(cmd_a, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    b = subprocess.Popen(cmd_b, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    transcripts = {"a": [], "b": []}

    def pump(src, dst, name):
        for raw in src.stdout:
            line = raw.decode(errors="replace").strip()
            if not line:
                continue
            try:
                transcripts[name].append(json.loads(line))
            except ValueError:
                transcripts[name].append({"type": "unparsed", "text": line})
            try:
                dst.stdin.write(raw)
                dst.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass

    threads = [threading.Thread(target=pump, args=(a, b, "a"), daemon=True),
               threading.Thread(target=pump, args=(b, a, "b"), daemon=True)]
    for t in threads:
        t.start()
    deadline = time.time() + timeout
    for p in (a, b):
        try:
            p.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    for t in threads:
        t.join(1)
    result = {"a": transcripts["a"], "b": transcripts["b"], "status": [a.returncode, b.returncode],
              "stderr": [a.stderr.read().decode(errors="replace")[-2000:], b.stderr.read().decode(errors="replace")[-2000:]]}
    print(json.dumps(result))
    ok = all(any(m.get("type") == "done" for m in transcripts[n]) for n in ("a", "b")) and a.returncode == 0 and b.returncode == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
