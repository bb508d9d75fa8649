import ICETestSupport
import Testing
@testable import StatusRecorder

/// The self-describing stream (version 2): fields read by the names the stream declares, and the agent's cache
/// of encoded peers.
struct StatusStreamTests {
    private func decode(_ text: String) throws -> [StatusChange] {
        var decoder = StatusWireDecoder()
        return try decoder.feed(Array(text.utf8))
    }

    @Test func anOlderAgentDeclaringFewerFieldsReadsWithTheRestAbsent() throws {
        // An agent that knew only five peer fields, and events without a peer name.
        let old = """
            V\ticestat-status\t2
            F\tP\tid\tname\tstate\tstate-changed-at\tlatency-ns
            F\tG\tsequence\tat\tpeer-id\tkind…
            P\tk\tbob\tConnected\t9\t420000
            G\t3\t10\tk\tconsent-regained
            .

            """
        let batches = try decode(old)
        var expected = PeerStatus(id: "k", name: "bob", stateChangedAtMillis: 9)
        expected.state = .connected
        expected.latencyNanos = 420_000
        #expect(batches == [StatusChange(peers: [expected], events: [StatusEvent(sequence: 3, atMillis: 10, peerID: "k", kind: .consentRegained)])])
    }

    @Test func aNewerAgentsFieldsAreSkippedByNameInAnyOrder() throws {
        let newer = """
            V\ticestat-status\t2
            F\tL\tname\tquic\tpublic-key\tstarted-at\tlazy
            F\tP\tstate\tquic-path\tname\tid\tstate-changed-at\tbytes-sent\tconnection-type
            F\tG\tsequence\tpriority\tat\tpeer-id\tpeer-name\tkind…
            L\tme\tyes\tpub\t5\t1
            P\tConnected\tvia-h3\tbob\tk\t9\t77\tP2P
            G\t4\thigh\t10\tk\tbob\tlazy-wake
            .

            """
        let batches = try decode(newer)
        var peer = PeerStatus(id: "k", name: "bob", stateChangedAtMillis: 9)
        peer.state = .connected
        peer.bytesSent = 77
        peer.connectionType = .p2p
        #expect(batches == [StatusChange(peers: [peer], local: LocalAgentStatus(publicKey: "pub", name: "me", startedAtMillis: 5, lazyConnections: true),
                                         events: [StatusEvent(sequence: 4, atMillis: 10, peerID: "k", peerName: "bob", kind: .lazyWake)])])
    }

    @Test func everyFieldReadsByNameWhenTheDeclarationIsReversed() throws {
        var bytes: [UInt8] = []
        StatusWireFormat.appendHeader(to: &bytes)
        StatusWireFormat.appendSnapshot(StatusWireFormatTests.sample(), to: &bytes)
        // Reverse the peer declaration and every peer line's values: a reader by name must not notice.
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let reversed = lines.map { line -> String in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if line.hasPrefix("F\tP\t") { return (["F", "P"] + fields.dropFirst(2).reversed()).joined(separator: "\t") }
            if line.hasPrefix("P\t") { return (["P"] + fields.dropFirst().reversed()).joined(separator: "\t") }
            return String(line)
        }.joined(separator: "\n")
        #expect(reversed != String(decoding: bytes, as: UTF8.self))
        var plain = StatusWireDecoder()
        #expect(try decode(reversed) == plain.feed(bytes))
        #expect(try decode(reversed).first?.peers == StatusWireFormatTests.sample().peers)
    }

    @Test func aSnapshotPutsEachLogsEventsAfterItsOwnerAndReadsThemBackInOrder() throws {
        var snapshot = StatusWireFormatTests.sample()
        let (a, b) = (snapshot.peers[0].id, snapshot.peers[1].id)
        snapshot.events = [
            StatusEvent(sequence: 1, atMillis: 1, peerID: b, peerName: "idle", kind: .lazyWake),
            StatusEvent(sequence: 2, atMillis: 2, kind: .networkChanged),
            StatusEvent(sequence: 3, atMillis: 3, peerID: a, peerName: "x", kind: .consentRegained),
            StatusEvent(sequence: 4, atMillis: 4, peerID: "gone", peerName: "gone", kind: .lazyWake),
        ]
        var bytes: [UInt8] = []
        StatusWireFormat.appendHeader(to: &bytes)
        StatusWireFormat.appendSnapshot(snapshot, full: false, to: &bytes)
        let kinds = String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line -> String? in
            guard let kind = line.first, "LPG".contains(kind) else { return nil }
            return kind == "G" ? "G\(line.split(separator: "\t")[1])" : String(kind)
        }
        #expect(kinds == ["L", "G2", "P", "G3", "P", "G1", "G4"])
        var decoder = StatusWireDecoder()
        #expect(try decoder.feed(bytes).first?.events.map(\.sequence) == [1, 2, 3, 4])
    }

    /// A watch that splits counters, through the wire: a mirror fed its batches ends equal to the source, latency
    /// histories included, though most batches carry only `U` lines.
    @Test func countersCarryAMirrorToTheSourcesRecords() async throws {
        let source = StatusRecorder(clock: { 7 })
        for n in 0..<20 { source.addPeer(id: "k\(n)", name: "peer \(n)") }
        let mirror = StatusRecorder(derivesEvents: false)
        var changes = source.subscribe(splittingCounters: true).makeAsyncIterator()
        var decoder = StatusWireDecoder()
        var bytes: [UInt8] = []
        StatusWireFormat.appendHeader(to: &bytes)
        var rng = SeededGenerator(seed: 5)
        var counterLines = 0
        for round in 0..<40 {
            if round > 0 {
                for _ in 0..<5 {
                    let id = "k\(rng.next(20))"
                    switch rng.next(6) {
                    case 0: source.updateState(id: id, .connecting)
                    case 1: source.addTraffic(id: id, received: UInt64(rng.next(100)), sent: 1)
                    default: source.updateLatency(id: id, nanoseconds: Int64(rng.next(5_000)))
                    }
                }
            }
            guard let change = await changes.next() else { break }
            StatusWireFormat.appendChange(change, to: &bytes)
            counterLines += change.counters.count
            for batch in try decoder.feed(bytes) { mirror.mirror(batch) }
            bytes = []
        }
        #expect(counterLines > 50)
        // Histories: changes carry none, so the mirror's are its own, of the latencies it saw, ending the same.
        func withoutHistory(_ p: PeerStatus) -> PeerStatus {
            var p = p
            p.latencyHistoryNanos = []
            return p
        }
        let (mirrored, original) = (mirror.snapshot().peers, source.snapshot().peers)
        #expect(mirrored.map(withoutHistory) == original.map(withoutHistory))
        #expect(mirrored.map(\.latencyHistoryNanos.last) == original.map(\.latencyHistoryNanos.last))
    }

    /// `U` lines read by name like the others; one without an id, or with a number that is none, is an error.
    @Test func counterLinesReadByNameAndBadOnesAreErrors() throws {
        let declared = "V\ticestat-status\t2\nF\tU\tbytes-sent\tfuture-field\tid\tlatency-ns\n"
        let batches = try decode(declared + "U\t12\tzzz\tk\t345\n.\n")
        var expected = PeerCounters(id: "k")
        (expected.bytesSent, expected.latencyNanos) = (12, 345)
        #expect(batches.map(\.counters) == [[expected]])
        #expect(batches.first?.peers == [])
        #expect(throws: StatusWireError.malformedLine("U\t12\t\t\t345")) { try decode(declared + "U\t12\t\t\t345\n") }
        #expect(throws: StatusWireError.malformedLine("U\tlots\t\tk\t345")) { try decode(declared + "U\tlots\t\tk\t345\n") }
    }

    @Test func aStreamOfAVersionThisBuildDoesNotReadIsRefused() {
        #expect(throws: StatusWireError.unsupportedVersion("3")) { try decode("V\ticestat-status\t3\n") }
        #expect(throws: StatusWireError.malformedLine("P\tk\tbob\tIdle")) {
            try decode("V\ticestat-status\t2\nF\tP\tid\tname\tstate\tstate-changed-at\tlatency-ns\nP\tk\tbob\tIdle\n")
        }
        #expect(throws: StatusWireError.malformedLine("P\tk\tbob\tIdle\t9\tfast")) {
            try decode("V\ticestat-status\t2\nF\tP\tid\tname\tstate\tstate-changed-at\tlatency-ns\nP\tk\tbob\tIdle\t9\tfast\n")
        }
    }

    /// The cache re-encodes only changed peers; what it sends must stay what a fresh encoding sends, through
    /// adds, removals, renames, updates and events in a seeded random order.
    @Test func theAgentsCacheSendsWhatAFreshEncodingSends() {
        var rng = SeededGenerator(seed: 12)
        let recorder = StatusRecorder(clock: { 1_000 })
        let cache = StatusWireCache(recorder: recorder)
        var ids: [String] = []
        for round in 0..<300 {
            for _ in 0..<Int(rng.next() % 8) {
                let id = "k\(rng.next() % 60)"
                switch rng.next() % 9 {
                case 0: recorder.addPeer(id: id, name: "peer-\(rng.next() % 40)"); ids.append(id)
                case 1: recorder.removePeer(id: id)
                case 2: recorder.updateState(id: id, [.idle, .connecting, .connected][Int(rng.next() % 3)], reason: rng.next() % 2 == 0 ? .retrying(attempt: 2) : nil)
                case 3: recorder.updateLatency(id: id, nanoseconds: Int64(rng.next() % 50_000_000))
                case 4: recorder.addTraffic(id: id, received: rng.next() % 1000, sent: rng.next() % 1000)
                case 5: recorder.recordEvent(peerID: id, .lazyWake)
                case 6: recorder.recordEvent(.networkChanged)
                case 7: recorder.updateLocal { $0.name = "agent-\(round)" }
                default: recorder.updatePath(id: id, type: .p2p, local: CandidateEndpoint(type: "host", address: "127.0.0.1:\(round)"),
                                             remote: nil, relayServer: nil)
                }
            }
            let limit = Int(rng.next() % 4)
            var cached: [UInt8] = []
            cache.appendSnapshot(events: limit, to: &cached)
            var snapshot = recorder.snapshot()
            snapshot.events = recorder.eventsOfEachLog(limit: limit)
            var fresh: [UInt8] = []
            StatusWireFormat.appendSnapshot(snapshot, full: false, to: &fresh)
            #expect(cached == fresh, "round \(round)")
            if cached != fresh { return }
        }
        #expect(ids.count > 100)
    }
}
