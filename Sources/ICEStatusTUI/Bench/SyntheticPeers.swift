import ICEStatusTUI
import StatusRecorder

/// Fills a recorder with plausible peers for benchmarks: a mix of states, types and counters.
enum SyntheticPeers {
    static func fill(_ recorder: StatusRecorder, count: Int) {
        let now = currentTimeMillis()
        recorder.updateLocal {
            $0 = LocalAgentStatus(publicKey: key(0), name: "bench", startedAtMillis: now - 3_600_000, lazyConnections: true,
                                  servers: [ServerStatus(kind: .signal, address: "127.0.0.1:10000", available: true),
                                            ServerStatus(kind: .stun, address: "stun:127.0.0.1:3478", available: true),
                                            ServerStatus(kind: .turn, address: "turn:127.0.0.1:3478", available: true)])
        }
        for i in 1...max(1, count) {
            var p = PeerStatus(id: key(i), name: "peer-\(i).mesh.internal", stateChangedAtMillis: now - Int64(i % 5000) * 1000)
            switch i % 10 {
            case 0: p.state = .idle
            case 1: p.state = .connecting; p.reason = .connectFailed(noCandidatePair: false, relay: .none, retryEverySeconds: 12)
            default:
                p.state = .connected
                let relayed = i % 10 == 2
                p.connectionType = relayed ? .relayed : .p2p
                p.localCandidate = CandidateEndpoint(type: relayed ? "relay" : "host", address: "127.0.0.\(1 + i % 200):\(20000 + i % 40000)")
                p.remoteCandidate = CandidateEndpoint(type: relayed ? "relay" : "srflx", address: "127.1.\(i / 250 % 250).\(i % 250):\(30000 + i % 30000)")
                p.relayServer = relayed ? "turn:127.0.0.1:3478" : nil
                p.latencyNanos = Int64(100_000 + (i * 7919) % 40_000_000)
                p.bytesReceived = UInt64(i) * 123_457
                p.bytesSent = UInt64(i) * 98_765
                p.lastActivityMillis = now - Int64(i % 60) * 1000
            }
            recorder.replacePeer(p)
        }
    }

    /// A 44-character base64 string shaped like a WireGuard public key.
    static func key(_ i: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var x = UInt64(truncatingIfNeeded: i) &* 0x9E37_79B9_7F4A_7C15 &+ 0x1234_5678
        var s = ""
        for _ in 0..<43 {
            s.append(alphabet[Int(x >> 58)]) // high bits: an LCG's low bits cycle quickly
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        }
        return s + "="
    }
}
