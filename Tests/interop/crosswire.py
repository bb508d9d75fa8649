#!/usr/bin/env python3
"""Run two probe-protocol peers with each one's stdout wired to the other's stdin; print both transcripts as
JSON and exit 0 only if both printed `done`. Used by the interop tests.

usage: crosswire.py TIMEOUT [--coturn [--tls CERT KEY]] -- CMD_A ... -- CMD_B ...
With --coturn, a coturn on 127.0.0.1 (user test, password secret) runs for the session, and {TURN} in the
commands becomes its turn: URL ({STUN}, its stun: URL; {TURNTCP}, its turn:...?transport=tcp URL). With --tls it
also serves TURN over TLS with that certificate, as {TURNS}.
"""
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time


def wait_for_stun(port, seconds=20.0):
    """Until coturn answers a STUN Binding request on 127.0.0.1:port (it takes a moment to start, longer on a
    loaded machine); False if it never does."""
    request = bytes([0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42]) + os.urandom(12)
    deadline = time.time() + seconds
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        while time.time() < deadline:
            s.sendto(request, ("127.0.0.1", port))
            try:
                if s.recv(2048)[8:20] == request[8:20]:
                    return True
            except socket.timeout:
                pass
    return False


def ports_free(*ports):
    """Whether nothing listens on these loopback ports, UDP or TCP (a random pick may meet another coturn)."""
    for port in ports:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            with socket.socket(socket.AF_INET, kind) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    return False
    return True


def start_coturn(tls_files):
    """A coturn on free loopback ports that answers STUN, tried on up to three ports; (process, port)."""
    turnserver = shutil.which("turnserver") or "/usr/bin/turnserver"
    for _ in range(3):
        port = random.randint(31000, 39000)
        if not ports_free(port, port + 301):
            continue
        tls = ["--no-tls"]
        if tls_files:
            tls = ["--tls-listening-port", str(port + 301), "--cert", tls_files[0], "--pkey", tls_files[1]]
        coturn = subprocess.Popen([turnserver, "-n", "--listening-ip", "127.0.0.1", "--listening-port", str(port),
                                   "--relay-ip", "127.0.0.1", "--min-port", str(port + 1), "--max-port", str(port + 300)] + tls + [
                                   "--no-dtls", "--no-cli", "--no-stdout-log", "--log-file", "/dev/null",
                                   "--lt-cred-mech", "--user", "test:secret", "--realm", "icestat.test", "--fingerprint",
                                   "--allow-loopback-peers", "--no-multicast-peers"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if wait_for_stun(port):
            return coturn, port
        coturn.kill()
        coturn.wait()
    raise SystemExit("coturn did not start")


def main():
    args = sys.argv[1:]
    timeout = float(args[0])
    coturn = None
    rest = args[1:]
    if rest[0] == "--coturn":
        rest = rest[1:]
        tls_files = None
        if rest[0] == "--tls":
            tls_files = (rest[1], rest[2])
            rest = rest[3:]
        coturn, port = start_coturn(tls_files)
        rest = [a.replace("{TURNTCP}", f"turn:127.0.0.1:{port}?transport=tcp").replace("{TURNS}", f"turns:127.0.0.1:{port + 301}")
                .replace("{TURN}", f"turn:127.0.0.1:{port}").replace("{STUN}", f"stun:127.0.0.1:{port}") for a in rest]
    rest = rest[1:]  # the "--" before the first command
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
    if coturn:
        coturn.kill()
        coturn.wait()
    result = {"a": transcripts["a"], "b": transcripts["b"], "status": [a.returncode, b.returncode],
              "stderr": [a.stderr.read().decode(errors="replace")[-2000:], b.stderr.read().decode(errors="replace")[-2000:]]}
    print(json.dumps(result))
    ok = all(any(m.get("type") == "done" for m in transcripts[n]) for n in ("a", "b")) and a.returncode == 0 and b.returncode == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
