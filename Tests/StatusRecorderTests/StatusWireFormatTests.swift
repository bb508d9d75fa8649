import Testing
@testable import StatusRecorder

struct StatusWireFormatTests {
    static func sample() -> StatusSnapshot {
        var p = PeerStatus(id: "key/+=", name: "tab\there\nnewline\\slash ✓", stateChangedAtMillis: 42)
        p.state = .connected
        p.connectionType = .relayed
        p.localCandidate = CandidateEndpoint(type: "relay", address: "198.51.100.1:3478")
        p.remoteCandidate = CandidateEndpoint(type: "srflx", address: "[2001:db8::2]:5000")
        p.relayServer = "turn:198.51.100.1:3478"
        p.latencyNanos = 12_345_678
        p.smoothedLatencyNanos = 11_000_000
        p.nextRetryAtMillis = 77
        p.bytesReceived = UInt64.max
        p.bytesSent = 7
        p.lastActivityMillis = 99
        p.reason = .connectFailed(noCandidatePair: false, relay: .unavailable(server: "turn:a\tb", error: "401\nUnauthorized"),
                                  retryEverySeconds: 12)
        p.ignoredCandidateCount = 2
        p.ignoredCandidates = ["10.100.0.5:51820 (host) in 10.100.0.0/16", "[fd00::5]:51820 (srflx) in fd00::/8"]
        p.drops[.noDestination] = 4
        p.drops[.sendFailed] = UInt64.max
        let idle = PeerStatus(id: "k2", name: "idle", stateChangedAtMillis: 1)
        var local = LocalAgentStatus(publicKey: "pub", name: "me", startedAtMillis: 5, lazyConnections: true,
                                     servers: [ServerStatus(kind: .signal, address: "127.0.0.1:10000", available: true),
                                               ServerStatus(kind: .turn, address: "turn:x", available: false, error: "401")])
        local.configError = "a.yaml: peers[0].public_key: not a base64 32-byte key"
        local.nat = NATStatus(verdict: "port-restricted-cone", mapping: "endpoint-independent", filtering: "address-and-port-dependent",
                              publicIPv4: "203.0.113.3", checkedAtMillis: 1234)
        return StatusSnapshot(local: local, peers: [p, idle], takenAtMillis: 0)
    }

    @Test func snapshotRoundTripsThroughAnyChunking() throws {
        let snapshot = Self.sample()
        var bytes: [UInt8] = []
        StatusWireFormat.appendHeader(to: &bytes)
        StatusWireFormat.appendSnapshot(snapshot, to: &bytes)
        for chunk in [1, 3, 7, bytes.count] {
            var decoder = StatusWireDecoder()
            var batches: [StatusChange] = []
            var i = 0
            while i < bytes.count {
                batches += try decoder.feed(bytes[i..<min(bytes.count, i + chunk)])
                i += chunk
            }
            #expect(batches.count == 1)
            #expect(batches[0].local == snapshot.local)
            #expect(batches[0].peers == snapshot.peers)
        }
    }

    @Test func changesRoundTrip() throws {
        var bytes: [UInt8] = []
        StatusWireFormat.appendChange(StatusChange(peers: [Self.sample().peers[1]], removedPeerIDs: ["gone"]), to: &bytes)
        StatusWireFormat.appendChange(StatusChange(local: LocalAgentStatus(name: "x")), to: &bytes)
        var decoder = StatusWireDecoder()
        let batches = try decoder.feed(bytes)
        #expect(batches.count == 2)
        #expect(batches[0].removedPeerIDs == ["gone"])
        #expect(batches[0].peers.map(\.id) == ["k2"])
        #expect(batches[1].local?.name == "x")
    }

    @Test func anOlderAgentsLinesWithoutTheNewerFieldsStillRead() throws {
        // What an agent before config reloads and routed networks sent: L with 4 fields, P with 17.
        let old = "V\ticestat-status\t1\nL\tpub\tme\t5\t1\nP\tk\tbob\tIdle\t9\t\t\t\t\t\t\t\t0\t0\t\tremote offline\t\t\n.\n"
        var decoder = StatusWireDecoder()
        let batches = try decoder.feed(Array(old.utf8))
        #expect(batches.count == 1)
        #expect(batches[0].local?.configError == nil)
        #expect(batches[0].peers.first?.reason == .unrecognized(code: "remote offline"))
        #expect(batches[0].peers.first?.ignoredCandidateCount == 0 && batches[0].peers.first?.ignoredCandidates == [])
    }

    /// Found by StatusFuzzer: an older agent's words that happen to be a code this build knows ("direct-timed-out",
    /// without its facts) were written back as an `R` line, which did not read again. Words stay words.
    @Test func reasonsKeptAsWordsSurviveTheirOwnEncoding() throws {
        var peer = PeerStatus(id: "k", name: "bob", stateChangedAtMillis: 1)
        for words in ["direct-timed-out", "remote offline", "from-the-future"] {
            peer.reason = .unrecognized(code: words)
            var bytes: [UInt8] = []
            StatusWireFormat.appendChange(StatusChange(peers: [peer]), to: &bytes)
            var decoder = StatusWireDecoder()
            let batches = try decoder.feed(bytes)
            #expect(batches.map { $0.peers.map(\.reason) } == [[.unrecognized(code: words)]])
        }
    }

    @Test func badStreamsAreErrors() {
        var decoder = StatusWireDecoder()
        #expect(throws: StatusWireError.unsupportedVersion("9")) { try decoder.feed(Array("V\ticestat-status\t9\n".utf8)) }
        var d2 = StatusWireDecoder()
        #expect(throws: StatusWireError.malformedLine("P\tonly\tthree")) { try d2.feed(Array("P\tonly\tthree\n".utf8)) }
        var d3 = StatusWireDecoder()
        #expect(throws: StatusWireError.malformedLine("P\t1\tn\tWeird\t0\t\t\t\t\t\t\t\t\t\t\t")) {
            try d3.feed(Array("P\t1\tn\tWeird\t0\t\t\t\t\t\t\t\t\t\t\t\n".utf8))
        }
        // Unknown record kinds are skipped for forward compatibility.
        var d4 = StatusWireDecoder()
        #expect((try? d4.feed(Array("Z\tfuture\n.\n".utf8)))?.count == 1)
    }

    @Test func dropsTravelByReasonAndANewerAgentsReasonsAreSkipped() throws {
        var p = PeerStatus(id: "k", name: "bob", stateChangedAtMillis: 9)
        p.drops[.bufferFull] = 3
        var bytes: [UInt8] = []
        StatusWireFormat.appendHeader(to: &bytes)
        StatusWireFormat.appendChange(StatusChange(peers: [p]), to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self).contains("\nD\tbuffer-full\t3\n"))
        var decoder = StatusWireDecoder()
        #expect(try decoder.feed(bytes).first?.peers.first?.drops == p.drops)
        // A reason from a newer agent is skipped; the known ones still count.
        let newer = "V\ticestat-status\t1\nP\tk\tbob\tIdle\t9\t\t\t\t\t\t\t\t0\t0\t\t\t\t\nD\tcosmic-ray\t5\tno-path\t2\n.\n"
        var d2 = StatusWireDecoder()
        let peer = try d2.feed(Array(newer.utf8)).first?.peers.first
        #expect(peer?.drops.total == 2 && peer?.drops[.noPath] == 2)
        // A count that is not a number, or a reason without its count, is a malformed line.
        var d3 = StatusWireDecoder()
        #expect(throws: StatusWireError.malformedLine("D\tno-path\tmany")) {
            try d3.feed(Array("P\tk\tbob\tIdle\t9\t\t\t\t\t\t\t\t0\t0\t\t\nD\tno-path\tmany\n".utf8))
        }
        var d4 = StatusWireDecoder()
        #expect(throws: StatusWireError.malformedLine("D\tno-path")) {
            try d4.feed(Array("P\tk\tbob\tIdle\t9\t\t\t\t\t\t\t\t0\t0\t\t\nD\tno-path\n".utf8))
        }
    }
}
