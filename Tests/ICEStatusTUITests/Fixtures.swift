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
        bravo.reason = .connectFailed(noCandidatePair: false, relay: .notConfigured, retryEverySeconds: 6)
        bravo.nextRetryAtMillis = now + 5_200
        let charlie = PeerStatus(id: "Q0hBUkxJRQ==", name: "charlie", stateChangedAtMillis: now - 7_300_000)
        let local = LocalAgentStatus(publicKey: "TE9DQUw=", name: "demo (loopback)", startedAtMillis: now - 80_000,
                                     lazyConnections: false,
                                     servers: [ServerStatus(kind: .signal, address: "in-process", available: true)])
        return StatusSnapshot(local: local, peers: [alpha, bravo, charlie], takenAtMillis: now, events: [
            StatusEvent(sequence: 1, atMillis: now - 80_000, kind: .serverAvailable(kind: .signal, address: "in-process")),
            StatusEvent(sequence: 2, atMillis: now - 76_000, peerID: alpha.id, peerName: "alpha",
                        kind: .stateChanged(from: .idle, to: .connecting, reason: nil)),
            StatusEvent(sequence: 3, atMillis: now - 75_000, peerID: alpha.id, peerName: "alpha",
                        kind: .pathChanged(type: .p2p, local: alpha.localCandidate, remote: alpha.remoteCandidate, relayServer: nil)),
            StatusEvent(sequence: 4, atMillis: now - 75_000, peerID: alpha.id, peerName: "alpha",
                        kind: .stateChanged(from: .connecting, to: .connected, reason: nil)),
            StatusEvent(sequence: 5, atMillis: now - 3_000, peerID: bravo.id, peerName: "bravo",
                        kind: .stateChanged(from: .connecting, to: .connecting, reason: bravo.reason)),
        ])
    }
}
