#!/usr/bin/env python3
"""aioice (PyPI) wrapped in icestat's probe protocol: JSON lines on stdin/stdout, logs on stderr.

usage: aioice_probe.py --controlling|--controlled [--timeout S] [--host-address ADDR]
       [--turn turn:H:P[?transport=tcp]|turns:H:P --turn-user U --turn-pass P [--turn-ca FILE] [--relay-only]] [--stun URL]
Host candidates are gathered on ADDR only, 127.0.0.1 by default (aioice itself gathers on every interface).
"""
import argparse
import asyncio
import json
import ssl
import sys

import aioice
from aioice import ice


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def read_lines(queue):
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            await queue.put(None)
            return
        line = line.strip()
        if line:
            await queue.put(json.loads(line))


async def main(controlling, timeout, turn, turn_user, turn_pass, relay_only, stun, host_address, turn_ca=None):
    ice.get_host_addresses = lambda use_ipv4, use_ipv6: [host_address]  # keep aioice on one address
    options = {}
    if turn:
        secure = turn.startswith("turns:")
        host, port = turn.split(":", 1)[1].split("?")[0].rsplit(":", 1)
        options = {"turn_server": (host, int(port)), "turn_username": turn_user, "turn_password": turn_pass}
        if secure or turn.endswith("?transport=tcp"):
            options["turn_transport"] = "tcp"
        if secure:
            options["turn_ssl"] = ssl.create_default_context(cafile=turn_ca)
        if relay_only:
            options["transport_policy"] = ice.TransportPolicy.RELAY
    if stun:
        host, port = stun[len("stun:"):].rsplit(":", 1)
        options["stun_server"] = (host, int(port))
    conn = aioice.Connection(ice_controlling=controlling, use_ipv6=False, **options)
    await conn.gather_candidates()
    emit({"type": "credentials", "ufrag": conn.local_username, "pwd": conn.local_password})
    for c in conn.local_candidates:
        emit({"type": "candidate", "candidate": "candidate:" + c.to_sdp()})
    emit({"type": "end-of-candidates"})

    queue = asyncio.Queue()
    reader = asyncio.ensure_future(read_lines(queue))
    got_credentials = False
    while True:
        msg = await queue.get()
        if msg is None:
            raise RuntimeError("signalling closed early")
        kind = msg.get("type")
        if kind == "credentials":
            conn.remote_username = msg["ufrag"]
            conn.remote_password = msg["pwd"]
            got_credentials = True
        elif kind == "candidate":
            text = msg["candidate"]
            if text.startswith("candidate:"):
                text = text[len("candidate:"):]
            await conn.add_remote_candidate(aioice.Candidate.from_sdp(text))
        elif kind == "end-of-candidates":
            await conn.add_remote_candidate(None)
            if got_credentials:
                break

    await asyncio.wait_for(conn.connect(), timeout)
    pair = conn._nominated.get(1)
    local = pair.local_candidate if pair else None
    remote = pair.remote_candidate if pair else None
    emit({"type": "connected",
          "local": {"type": local.type, "address": local.host, "port": local.port} if local else None,
          "remote": {"type": remote.type, "address": remote.host, "port": remote.port} if remote else None,
          "rtt_ms": None})

    echoed = 0
    if controlling:
        for i in range(1, 6):
            await conn.send(f"ping-{i}".encode())
        while echoed < 5:
            data = await asyncio.wait_for(conn.recv(), timeout)
            if data.startswith(b"ping-"):
                echoed += 1
    else:
        while echoed < 5:
            data = await asyncio.wait_for(conn.recv(), timeout)
            if data.startswith(b"ping-"):
                await conn.send(data)
                echoed += 1
    emit({"type": "done", "echoed": echoed})
    await asyncio.sleep(0.5)  # let the last echo leave before closing
    reader.cancel()
    await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    role = parser.add_mutually_exclusive_group(required=True)
    role.add_argument("--controlling", action="store_true")
    role.add_argument("--controlled", action="store_true")
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--turn")
    parser.add_argument("--turn-user")
    parser.add_argument("--turn-pass")
    parser.add_argument("--relay-only", action="store_true")
    parser.add_argument("--stun")
    parser.add_argument("--host-address", default="127.0.0.1")
    parser.add_argument("--turn-ca")
    args = parser.parse_args()
    try:
        asyncio.run(asyncio.wait_for(main(args.controlling, args.timeout, args.turn, args.turn_user, args.turn_pass,
                                          args.relay_only, args.stun, args.host_address, args.turn_ca), args.timeout))
    except Exception as exc:  # report, as the protocol asks
        emit({"type": "error", "message": f"{type(exc).__name__}: {exc}"})
        sys.exit(1)
