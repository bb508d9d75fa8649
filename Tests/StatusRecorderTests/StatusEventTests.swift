import Testing
@testable import StatusRecorder

struct StatusEventTests {
    static let allReasons: [PeerReason] = [
        .lazyUntilTraffic, .lazyInactive(seconds: 300), .remoteOffline, .remoteIdle, .agentStopped, .removedFromConfig,
        .networkChanged, .consentLost(timeoutMillis: 2500), .retrying(attempt: 3),
        .relayConnectionLost(transport: "TURN/TCP", server: "turn:10.0.0.1:3478?transport=tcp", error: "connection reset"),
        .connectFailed(noCandidatePair: true, relay: .none, retryEverySeconds: 3),
        .connectFailed(noCandidatePair: false, relay: .notConfigured, retryEverySeconds: 6),
        .connectFailed(noCandidatePair: false, relay: .unavailable(server: "turn:x", error: "401 Unauthorized\tagain"), retryEverySeconds: 12),
        .gatheringFailed(error: "no socket"), .relayOnly, .directTimedOut(relayTransport: nil, udpFailed: false),
        .directTimedOut(relayTransport: "TURN/TLS", udpFailed: true), .natNeedsRelay(remoteVerdict: "symmetric", localVerdict: "udp-blocked"),
        .unrecognized(code: "from-the-future"),
    ]

    static let allKinds: [StatusEvent.Kind] = [
        .stateChanged(from: .idle, to: .connecting, reason: nil),
        .stateChanged(from: .connected, to: .connecting, reason: .consentLost(timeoutMillis: 3000)),
        .pathChanged(type: .relayed, local: CandidateEndpoint(type: "relay", address: "198.51.100.1:50000"),
                     remote: CandidateEndpoint(type: "srflx", address: "[2001:db8::1]:4000"), relayServer: "turn:198.51.100.1:3478"),
        .pathChanged(type: .p2p, local: nil, remote: nil, relayServer: nil),
        .iceRestart(.directAttempt), .iceRestart(.remoteRestart), .iceRestart(.consentLost), .iceRestart(.networkChanged),
        .consentLost(timeoutMillis: 3000), .consentRegained, .relayFallback(nextDirectAtMillis: 1_700_000_012_000),
        .relayFallback(nextDirectAtMillis: nil), .lazyWake,
        .serverAvailable(kind: .signal, address: "127.0.0.1:10000"),
        .serverUnavailable(kind: .turn, address: "turn:x", error: "timeout"), .serverUnavailable(kind: .stun, address: "stun:y", error: nil),
        .networkChanged, .natVerdictChanged(from: nil, to: "symmetric"), .natVerdictChanged(from: "symmetric", to: "full-cone"),
    ]

    @Test func everyReasonAndEveryEventKindCrossesTheWireUnchanged() throws {
        var peer = PeerStatus(id: "k", name: "bob", stateChangedAtMillis: 1)
        var bytes: [UInt8] = []
        StatusWireFormat.appendHeader(to: &bytes)
        for reason in Self.allReasons {
            peer.reason = reason
            StatusWireFormat.appendChange(StatusChange(peers: [peer]), to: &bytes)
        }
        let events = Self.allKinds.enumerated().map { i, kind in
            StatusEvent(sequence: UInt64(i + 1), atMillis: 1_700_000_000_000 + Int64(i), peerID: i % 2 == 0 ? "k" : nil,
                        peerName: i % 2 == 0 ? "bob" : nil, kind: kind)
        }
        StatusWireFormat.appendChange(StatusChange(events: events), to: &bytes)
        var decoder = StatusWireDecoder()
        let batches = try decoder.feed(bytes)
        #expect(batches.count == Self.allReasons.count + 1)
        #expect(batches.dropLast().map { $0.peers.first?.reason } == Self.allReasons)
        #expect(batches.last?.events == events)
    }

    @Test func aNewerAgentsEventKindIsSkippedAndABrokenReasonIsAnError() throws {
        var decoder = StatusWireDecoder()
        let stream = "V\ticestat-status\t1\nG\t1\t5\t\t\tteleported\tx\nG\t2\t6\t\t\tnetwork-changed\n.\n"
        let batches = try decoder.feed(Array(stream.utf8))
        #expect(batches.first?.events.map(\.kind) == [.networkChanged])
        var other = StatusWireDecoder()
        #expect(throws: StatusWireError.self) {
            try other.feed(Array("V\ticestat-status\t1\nP\tk\tb\tIdle\t1\t\t\t\t\t\t\t\t0\t0\t\t\nR\tconsent-lost\tsoon\n.\n".utf8))
        }
    }

    @Test func changesOfStateAndPathAreLoggedWithTheirReasons() {
        let clock = TestClock()
        let r = StatusRecorder(clock: clock.read)
        r.addPeer(id: "k", name: "bob")
        r.updateState(id: "k", .connecting)
        r.updateState(id: "k", .connecting) // the same state, no reason: nothing new
        clock.advance(10)
        let path = (CandidateEndpoint(type: "host", address: "127.0.0.1:1"), CandidateEndpoint(type: "host", address: "127.0.0.1:2"))
        r.updatePath(id: "k", type: .p2p, local: path.0, remote: path.1)
        r.updatePath(id: "k", type: .p2p, local: path.0, remote: path.1) // unchanged
        r.updateState(id: "k", .connected)
        r.updateLatency(id: "k", nanoseconds: 1) // not an event
        r.updateState(id: "k", .connecting, reason: .consentLost(timeoutMillis: 3000))
        r.updateState(id: "k", .connecting, reason: .retrying(attempt: 2)) // a new reason is
        r.recordEvent(peerID: "k", .lazyWake)
        r.recordEvent(peerID: "nobody", .lazyWake) // an unknown peer has no log
        r.updateReason(id: "k", .retrying(attempt: 2)) // the same reason again: nothing new
        r.updateReason(id: "k", .remoteOffline) // a new reason in the same state is
        r.updateReason(id: "k", nil)
        let kinds = r.events(limit: 100, peerID: "k").map(\.kind)
        #expect(kinds == [
            .stateChanged(from: .idle, to: .connecting, reason: nil),
            .pathChanged(type: .p2p, local: path.0, remote: path.1, relayServer: nil),
            .stateChanged(from: .connecting, to: .connected, reason: nil),
            .stateChanged(from: .connected, to: .connecting, reason: .consentLost(timeoutMillis: 3000)),
            .stateChanged(from: .connecting, to: .connecting, reason: .retrying(attempt: 2)),
            .lazyWake,
            .stateChanged(from: .connecting, to: .connecting, reason: .remoteOffline),
        ])
        let all = r.events(limit: 100, peerID: "k")
        #expect(all.map(\.sequence) == [1, 2, 3, 4, 5, 6, 7])
        #expect(all[0].atMillis == 1_700_000_000_000 && all[1].atMillis == 1_700_000_000_010)
        #expect(all.allSatisfy { $0.peerID == "k" && $0.peerName == "bob" })
        #expect(r.events(limit: 2, peerID: "k").map(\.sequence) == [6, 7])
        // A peer added with a reason starts with it, unlogged.
        r.addPeer(id: "k2", name: "cat", reason: .remoteOffline)
        #expect(r.peer(id: "k2")?.reason == .remoteOffline && r.events(limit: 10, peerID: "k2").isEmpty)
        // A removed peer's log goes with it.
        r.removePeer(id: "k")
        #expect(r.events(limit: 100).isEmpty)
    }

    @Test func logsAreBoundedPerPeerAndForTheAgentAndMergeInOrder() {
        let r = StatusRecorder(clock: TestClock().read, peerEventLimit: 3, agentEventLimit: 2)
        r.addPeer(id: "a", name: "a")
        r.addPeer(id: "b", name: "b")
        for _ in 0..<5 { r.recordEvent(peerID: "a", .lazyWake) }
        r.recordEvent(.networkChanged)
        r.recordEvent(peerID: "b", .consentRegained)
        r.recordEvent(.networkChanged)
        r.recordEvent(.networkChanged)
        #expect(r.events(limit: 10, peerID: "a").map(\.sequence) == [3, 4, 5])
        #expect(r.events(limit: 10).map(\.sequence) == [3, 4, 5, 7, 8, 9])
        #expect(r.events(limit: 2).map(\.sequence) == [8, 9])
        #expect(r.eventsOfEachLog(limit: 1).map(\.sequence) == [5, 7, 9])
        #expect(r.eventsOfEachLog(limit: 0).isEmpty)
    }

    @Test func serverOutcomesAndNATVerdictsBecomeTheAgentsEvents() {
        let r = StatusRecorder(clock: TestClock().read)
        // Listed at start, not yet tried ("connecting"): not an outcome.
        r.updateLocal { $0.servers = [ServerStatus(kind: .signal, address: "s", available: false, error: "connecting"),
                                      ServerStatus(kind: .turn, address: "t", available: false)] }
        r.updateLocal { $0.servers[0].error = nil }
        r.updateLocal { $0.servers[0].available = true }
        r.updateLocal { $0.servers[1].error = "401" }
        r.updateLocal { $0.servers[1].error = "401" } // unchanged
        r.updateLocal { $0.servers[0].available = false; $0.servers[0].error = "connection refused" }
        r.updateLocal { $0.nat = NATStatus(verdict: "symmetric", mapping: "m", filtering: "f", checkedAtMillis: 1) }
        r.updateLocal { $0.nat?.checkedAtMillis = 2 } // same verdict
        r.updateLocal { $0.nat = NATStatus(verdict: "full-cone", mapping: "m", filtering: "f", checkedAtMillis: 3) }
        #expect(r.events(limit: 10).map(\.kind) == [
            .serverAvailable(kind: .signal, address: "s"),
            .serverUnavailable(kind: .turn, address: "t", error: "401"),
            .serverUnavailable(kind: .signal, address: "s", error: "connection refused"),
            .natVerdictChanged(from: nil, to: "symmetric"),
            .natVerdictChanged(from: "symmetric", to: "full-cone"),
        ])
    }

    @Test func subscribersGetTheLatestEventsFirstThenEachNewOne() async {
        let r = StatusRecorder(clock: TestClock().read)
        r.addPeer(id: "k", name: "bob")
        r.recordEvent(peerID: "k", .lazyWake)
        var iterator = r.subscribe().makeAsyncIterator()
        #expect(await iterator.next()?.events.map(\.kind) == [.lazyWake])
        r.recordEvent(.networkChanged)
        r.recordEvent(peerID: "k", .consentRegained)
        #expect(await iterator.next()?.events.map(\.kind) == [.networkChanged, .consentRegained])
    }

    @Test func aMirrorKeepsTheOriginalsEventsAndLogsNoneOfItsOwn() {
        let mirror = StatusRecorder(clock: TestClock().read, derivesEvents: false)
        mirror.addPeer(id: "k", name: "bob")
        mirror.updateState(id: "k", .connected)
        mirror.updateLocal { $0.servers = [ServerStatus(kind: .signal, address: "s", available: true)] }
        #expect(mirror.events(limit: 10).isEmpty)
        let original = [StatusEvent(sequence: 41, atMillis: 7, peerID: "k", peerName: "bob", kind: .lazyWake),
                        StatusEvent(sequence: 42, atMillis: 8, kind: .networkChanged)]
        mirror.mirror(StatusChange(events: original))
        #expect(mirror.events(limit: 10) == original)
    }
}
