import StatusRecorder

/// A fixed recorder state for golden tests.
enum Fixtures {
    static let now: Int64 = 1_700_000_100_000

    static func snapshot() -> StatusSnapshot {
        var alpha = PeerStatus(id: "QUxQSEEta2V5LWJhc2U2NC0wMDAwMDAwMDAwMDA9", name: "alpha", stateChangedAtMillis: now - 75_000)
        alpha.state = .connected
        alpha.connectionType = .p2p
        alpha.localCandidate = CandidateEndpoint(type: "host", address: "127.0.0.1:40001")
        alpha.remoteCandidate = CandidateEndpoint(type: "host", address: "127.0.0.1:40002")
        alpha.latencyNanos = 142_400
        alpha.smoothedLatencyNanos = 150_000
        alpha.bytesReceived = 2048
        alpha.bytesSent = 1000
        alpha.lastActivityMillis = now - 1_000
        alpha.drops[.bufferFull] = 2
        alpha.drops[.sendQueueFull] = 3
        var bravo = PeerStatus(id: "QlJBVk8ta2V5", name: "bravo", stateChangedAtMillis: now - 3_000)
        bravo.state = .connecting
        bravo.reason = "ICE checks failed; next attempt in 6 s"
        bravo.nextRetryAtMillis = now + 5_200
        let charlie = PeerStatus(id: "Q0hBUkxJRQ==", name: "charlie", stateChangedAtMillis: now - 7_300_000)
        let local = LocalAgentStatus(publicKey: "TE9DQUw=", name: "demo (loopback)", startedAtMillis: now - 80_000,
                                     lazyConnections: false,
                                     servers: [ServerStatus(kind: .signal, address: "in-process", available: true)])
        return StatusSnapshot(local: local, peers: [alpha, bravo, charlie], takenAtMillis: now)
    }
}
