import Prometheus
import StatusRecorder
import Synchronization

/// The agent's Prometheus metrics, kept from the recorder: counters and the round-trip histogram follow its
/// change stream (events, traffic, latencies), the peer gauges are read from a snapshot at each scrape.
/// Names follow Prometheus conventions: `icestat_` prefix, base units, `_total` on counters.
final class AgentMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let perPeer: Bool
    private let state = Mutex(Tally())

    /// Round-trip buckets, from loopback to intercontinental relays.
    static let rttBuckets: [Duration] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000].map { .microseconds(Int64($0 * 1000)) }

    private struct Tally {
        var received: [String: UInt64] = [:]
        var sent: [String: UInt64] = [:]
        var latency: [String: Int64] = [:]
        var pathType: [String: ConnectionType] = [:]
        var signalConnections = 0
        var series: [String: PeerSeries] = [:]
    }

    private let attempts: Counter
    private let relayFallbacks: Counter
    private let consentLosses: Counter
    private let signalReconnects: Counter
    private let receivedBytes: Counter
    private let sentBytes: Counter
    private let rtt: DurationHistogram

    init(perPeer: Bool) {
        self.perPeer = perPeer
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "icestat", metricName: name, unitName: "total", helpText: help))
        }
        attempts = counter("connection_attempts", "Sessions started to connect a peer (first tries and retries).")
        relayFallbacks = counter("relay_fallbacks", "Times a peer's path became relayed.")
        consentLosses = counter("consent_losses", "Times a selected path stopped answering consent checks.")
        signalReconnects = counter("signal_reconnects", "Times the signal connection came back after being lost.")
        receivedBytes = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "icestat", metricName: "received_bytes", unitName: "total", helpText: "Bytes received from all peers."))
        sentBytes = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "icestat", metricName: "sent_bytes", unitName: "total", helpText: "Bytes sent to all peers."))
        rtt = registry.makeDurationHistogram(descriptor: MetricNameDescriptor(
            namespace: "icestat", metricName: "rtt", unitName: "seconds",
            helpText: "Round-trip times of STUN binding requests on the selected pairs."), buckets: Self.rttBuckets)
        for cause in StatusEvent.RestartCause.allCases { _ = restarts(cause) }
        for state in PeerConnectionState.allCases { _ = peersGauge(state) }
        for type in ConnectionType.allCases { _ = connectedGauge(type) }
    }

    private func restarts(_ cause: StatusEvent.RestartCause) -> Counter {
        registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "icestat", metricName: "ice_restarts", unitName: "total",
            helpText: "ICE restarts that kept the path until the new session connected, by cause."), labels: [("cause", cause.rawValue)])
    }

    private func peersGauge(_ state: PeerConnectionState) -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "icestat", metricName: "peers", unitName: "", helpText: "Peers by connection state."),
            labels: [("state", state.rawValue.lowercased())])
    }

    private func connectedGauge(_ type: ConnectionType) -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "icestat", metricName: "connected_peers", unitName: "", helpText: "Connected peers by connection type."),
            labels: [("connection_type", type == .p2p ? "p2p" : "relayed")])
    }

    /// Folds one change of the recorder in: events count, traffic and latencies move.
    func apply(_ change: StatusChange) {
        var rttSamples: [(peer: String, nanos: Int64)] = []
        state.withLock { t in
            for e in change.events {
                switch e.kind {
                case .stateChanged(let from, let to, let reason):
                    if to == .connecting, from != .connecting || reason.map({ if case .retrying = $0 { true } else { false } }) == true {
                        attempts.increment()
                    }
                case .pathChanged(let type, _, _, _):
                    if let id = e.peerID {
                        if type == .relayed, t.pathType[id] != .relayed { relayFallbacks.increment() }
                        t.pathType[id] = type
                    }
                case .iceRestart(let cause): restarts(cause).increment()
                case .consentLost: consentLosses.increment()
                case .serverAvailable(let kind, _) where kind == .signal:
                    t.signalConnections += 1
                    if t.signalConnections > 1 { signalReconnects.increment() }
                default: break
                }
            }
            for p in change.peers {
                // Counters only rise: each moves by what a peer's totals grew since the last change.
                let received = p.bytesReceived >= (t.received[p.id] ?? 0) ? p.bytesReceived - (t.received[p.id] ?? 0) : 0
                let sent = p.bytesSent >= (t.sent[p.id] ?? 0) ? p.bytesSent - (t.sent[p.id] ?? 0) : 0
                if received > 0 { receivedBytes.increment(by: Int64(clamping: received)) }
                if sent > 0 { sentBytes.increment(by: Int64(clamping: sent)) }
                t.received[p.id] = p.bytesReceived
                t.sent[p.id] = p.bytesSent
                if p.state != .connected { t.pathType[p.id] = nil }
                if let latency = p.latencyNanos, latency != t.latency[p.id] {
                    t.latency[p.id] = latency
                    rttSamples.append((p.id, latency))
                }
                if perPeer { updatePeerSeries(p, received: received, sent: sent, in: &t) }
            }
            for id in change.removedPeerIDs {
                if let series = t.series.removeValue(forKey: id) { unregister(series) }
                t.received[id] = nil
                t.sent[id] = nil
                t.latency[id] = nil
                t.pathType[id] = nil
            }
        }
        for sample in rttSamples { rtt.recordNanoseconds(sample.nanos) }
    }

    /// Sets the peer gauges from a snapshot and returns the text exposition.
    func render(_ snapshot: StatusSnapshot) -> [UInt8] {
        var byState: [PeerConnectionState: Int] = [:]
        var byType: [ConnectionType: Int] = [:]
        for p in snapshot.peers {
            byState[p.state, default: 0] += 1
            if p.state == .connected, let type = p.connectionType { byType[type, default: 0] += 1 }
        }
        for state in PeerConnectionState.allCases { peersGauge(state).set(Int64(byState[state] ?? 0)) }
        for type in ConnectionType.allCases { connectedGauge(type).set(Int64(byType[type] ?? 0)) }
        var out: [UInt8] = []
        registry.emit(into: &out)
        return out
    }

    // MARK: Per-peer series (`metrics_per_peer: true`)

    /// One peer's series, labelled with its name.
    struct PeerSeries {
        let name: String
        let connected: Gauge
        let relayed: Gauge
        let rtt: Gauge
        let received: Counter
        let sent: Counter
    }

    private func makePeerSeries(_ name: String) -> PeerSeries {
        func gauge(_ metric: String, _ unit: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "icestat", subsystem: "peer", metricName: metric,
                                                                unitName: unit, helpText: help), labels: [("peer", name)])
        }
        func counter(_ metric: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "icestat", subsystem: "peer", metricName: metric,
                                                                  unitName: "total", helpText: help), labels: [("peer", name)])
        }
        return PeerSeries(name: name, connected: gauge("connected", "", "1 while the peer is Connected."),
                          relayed: gauge("relayed", "", "1 while the peer is Connected through a relay."),
                          rtt: gauge("rtt", "seconds", "The peer's latest round-trip time."),
                          received: counter("received_bytes", "Bytes received from the peer."),
                          sent: counter("sent_bytes", "Bytes sent to the peer."))
    }

    private func updatePeerSeries(_ p: PeerStatus, received: UInt64, sent: UInt64, in t: inout Tally) {
        if let old = t.series[p.id], old.name != p.name {
            unregister(old)
            t.series[p.id] = nil
        }
        let series = t.series[p.id] ?? makePeerSeries(p.name)
        t.series[p.id] = series
        series.connected.set(Int64(p.state == .connected ? 1 : 0))
        series.relayed.set(Int64(p.state == .connected && p.connectionType == .relayed ? 1 : 0))
        series.rtt.set(Double(p.latencyNanos ?? 0) / 1e9)
        if received > 0 { series.received.increment(by: Int64(clamping: received)) }
        if sent > 0 { series.sent.increment(by: Int64(clamping: sent)) }
    }

    private func unregister(_ series: PeerSeries) {
        for gauge in [series.connected, series.relayed, series.rtt] { registry.unregisterGauge(gauge) }
        registry.unregisterCounter(series.received)
        registry.unregisterCounter(series.sent)
    }
}
