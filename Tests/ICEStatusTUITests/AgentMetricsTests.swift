import StatusRecorder
import Testing
@testable import ICEStatusTUI

struct AgentMetricsTests {
    static func event(_ seq: UInt64, _ kind: StatusEvent.Kind, peer: Bool = true) -> StatusEvent {
        StatusEvent(sequence: seq, atMillis: 1, peerID: peer ? "k" : nil, peerName: peer ? "bob" : nil, kind: kind)
    }

    static func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
    }

    @Test func eventsTrafficAndLatenciesMoveTheCounters() {
        let metrics = AgentMetrics(perPeer: true)
        let relayed = StatusEvent.Kind.pathChanged(type: .relayed, local: nil, remote: nil, relayServer: "turn:x")
        let direct = StatusEvent.Kind.pathChanged(type: .p2p, local: nil, remote: nil, relayServer: nil)
        metrics.apply(StatusChange(events: [
            Self.event(1, .serverAvailable(kind: .signal, address: "s"), peer: false),
            Self.event(2, .stateChanged(from: .idle, to: .connecting, reason: nil)),
            Self.event(3, .stateChanged(from: .connecting, to: .connecting, reason: .connectFailed(noCandidatePair: false, relay: .none, retryEverySeconds: 3))),
            Self.event(4, .stateChanged(from: .connecting, to: .connecting, reason: .retrying(attempt: 2))),
            Self.event(5, relayed), Self.event(6, relayed), // one fallback: the second is the same relayed path again
            Self.event(7, .iceRestart(.directAttempt)), Self.event(8, direct), Self.event(9, relayed),
            Self.event(10, .consentLost(timeoutMillis: 3000)), Self.event(11, .iceRestart(.consentLost)),
            Self.event(12, .serverUnavailable(kind: .signal, address: "s", error: "gone"), peer: false),
            Self.event(13, .serverAvailable(kind: .signal, address: "s"), peer: false),
        ]))
        var bob = PeerStatus(id: "k", name: "bob", stateChangedAtMillis: 1)
        bob.state = .connected
        bob.connectionType = .relayed
        bob.bytesReceived = 100
        bob.bytesSent = 40
        bob.latencyNanos = 2_000_000
        metrics.apply(StatusChange(peers: [bob]))
        bob.bytesReceived = 150
        bob.latencyNanos = 3_000_000
        metrics.apply(StatusChange(peers: [bob]))
        metrics.apply(StatusChange(peers: [bob])) // nothing new: no sample, no bytes
        let text = String(decoding: metrics.render(StatusSnapshot(local: LocalAgentStatus(), peers: [bob], takenAtMillis: 1)), as: UTF8.self)
        #expect(Self.value(text, "icestat_connection_attempts_total") == 2, "\(text)")
        #expect(Self.value(text, "icestat_relay_fallbacks_total") == 2)
        #expect(Self.value(text, #"icestat_ice_restarts_total{cause="direct-attempt"}"#) == 1)
        #expect(Self.value(text, #"icestat_ice_restarts_total{cause="consent-lost"}"#) == 1)
        #expect(Self.value(text, #"icestat_ice_restarts_total{cause="network-changed"}"#) == 0)
        #expect(Self.value(text, "icestat_consent_losses_total") == 1)
        #expect(Self.value(text, "icestat_signal_reconnects_total") == 1)
        #expect(Self.value(text, "icestat_received_bytes_total") == 150 && Self.value(text, "icestat_sent_bytes_total") == 40)
        #expect(Self.value(text, "icestat_rtt_seconds_count") == 2)
        #expect(Self.value(text, #"icestat_rtt_seconds_bucket{le="0.0025"}"#) == 1)
        #expect(Self.value(text, #"icestat_rtt_seconds_bucket{le="0.005"}"#) == 2)
        #expect(Self.value(text, #"icestat_connected_peers{connection_type="relayed"}"#) == 1)
        #expect(Self.value(text, #"icestat_peer_relayed{peer="bob"}"#) == 1)
        #expect(Self.value(text, #"icestat_peer_received_bytes_total{peer="bob"}"#) == 150)
        #expect(Self.value(text, #"icestat_peer_rtt_seconds{peer="bob"}"#) == 0.003)
        // A removed peer's series go; the totals stay (counters never fall).
        metrics.apply(StatusChange(removedPeerIDs: ["k"]))
        let after = String(decoding: metrics.render(StatusSnapshot(local: LocalAgentStatus(), peers: [], takenAtMillis: 1)), as: UTF8.self)
        #expect(!after.contains(#"peer="bob""#) && Self.value(after, "icestat_received_bytes_total") == 150, "\(after)")
        #expect(Self.value(after, #"icestat_peers{state="connected"}"#) == 0)
    }

    @Test func withoutPerPeerSeriesNoPeerIsNamed() {
        let metrics = AgentMetrics(perPeer: false)
        var bob = PeerStatus(id: "k", name: "bob", stateChangedAtMillis: 1)
        bob.bytesSent = 9
        metrics.apply(StatusChange(peers: [bob]))
        let text = String(decoding: metrics.render(StatusSnapshot(local: LocalAgentStatus(), peers: [bob], takenAtMillis: 1)), as: UTF8.self)
        #expect(!text.contains("bob") && Self.value(text, "icestat_sent_bytes_total") == 9 && Self.value(text, #"icestat_peers{state="idle"}"#) == 1)
    }
}
