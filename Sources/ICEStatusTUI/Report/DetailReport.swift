import StatusRecorder

/// The `icestat --detail` text: one block per peer, then a summary, in the spirit of `netbird status -d`.
/// Written into one byte buffer, a peer at a time as the stream brings it, so thousands of peers print in one write.
struct DetailReport: ReportFormatter {
    let now: Int64
    private var out: ReportBytes

    init(now: Int64, expectedPeers: Int = 0) {
        self.now = now
        out = ReportBytes(capacity: 256 + expectedPeers * 560)
        out.put("Peers detail:\n")
    }

    /// The whole report of a snapshot at once.
    static func render(_ snapshot: StatusSnapshot, now: Int64) -> [UInt8] {
        var report = DetailReport(now: now, expectedPeers: snapshot.peers.count)
        let events = EventsByPeer(snapshot.events)
        for p in snapshot.peers { report.peer(p, events: events.peers[p.id] ?? []) }
        return report.finish(local: snapshot.local, agentEvents: events.agent, total: snapshot.peers.count,
                             connected: snapshot.peers.count { $0.state == .connected }).flatMap { $0.bytes }
    }

    private mutating func put(_ s: StaticString) { out.put(s) }
    /// Labelled, so that literals take the `StaticString` overload (``ReportBytes/put(text:)``).
    private mutating func put(text s: String) { out.put(text: s) }

    private mutating func line(_ s: String) {
        out.put(text: s)
        out.put(byte: 10)
    }

    private mutating func putEvents(_ list: [StatusEvent], indent: StaticString) {
        for e in list {
            put(indent); UTCTime(millis: e.atMillis).write(into: &out, separator: 32, zone: false); put("  "); put(text: e.words); put("\n")
        }
    }

    mutating func peer(_ p: PeerStatus, events: [StatusEvent]) {
        let connected = p.state == .connected
        put("\n "); put(text: p.name); put(":\n  Public key: "); put(text: p.id)
        put("\n  Status: "); put(text: p.state.rawValue)
        put("\n  -- detail --\n  Connection type: "); put(text: connected ? p.connectionType?.rawValue ?? "-" : "-")
        put("\n  ICE candidate (Local/Remote): "); put(text: p.localCandidate?.type ?? "-"); put("/"); put(text: p.remoteCandidate?.type ?? "-")
        put("\n  ICE candidate endpoints (Local/Remote): "); put(text: p.localCandidate?.address ?? "-"); put("/"); put(text: p.remoteCandidate?.address ?? "-")
        put("\n  Relay server address: "); put(text: StatusFormatting.relayServer(p) ?? "")
        put("\n  Last connection update: "); StatusFormatting.timeAgo(p.stateChangedAtMillis, now: now, into: &out)
        put("\n  Last activity: "); StatusFormatting.timeAgo(p.lastActivityMillis, now: now, into: &out)
        put("\n  Transfer status (received/sent) ")
        StatusFormatting.bytes(p.bytesReceived, into: &out); put("/"); StatusFormatting.bytes(p.bytesSent, into: &out)
        put("\n  Dropped datagrams: "); put(text: StatusFormatting.drops(p.drops))
        put("\n  Latency: "); StatusFormatting.latency(p.latencyNanos, into: &out)
        if let smoothed = p.smoothedLatencyNanos { put(" (smoothed "); StatusFormatting.latency(smoothed, into: &out); put(")") }
        put("\n  Reason: "); put(text: p.reasonWords(now: now) ?? "-")
        put("\n  Next retry: "); StatusFormatting.retry(p.nextRetryAtMillis, now: now, into: &out); put("\n")
        if p.ignoredCandidateCount > 0 {
            put("  Ignored candidates (in routed networks): "); put(text: String(p.ignoredCandidateCount)); put(" (")
            put(text: p.ignoredCandidates.joined(separator: ", ")); put(")\n")
        }
        if !events.isEmpty {
            put("  Events:\n")
            putEvents(events, indent: "    ")
        }
    }

    mutating func finish(local: LocalAgentStatus, agentEvents: [StatusEvent], total: Int, connected: Int) -> [ReportBytes] {
        line("")
        line("Agent: \(local.name.isEmpty ? "-" : local.name)")
        line("Public key: \(local.publicKey.isEmpty ? "-" : local.publicKey)")
        if local.servers.isEmpty { line("Servers: -") }
        for server in local.servers {
            let label = server.kind == .signal ? "Signal" : server.kind == .stun ? "STUN" : "TURN"
            let status = server.available ? "Connected" : "Disconnected"
            line("\(label): \(status) to \(server.address)\(server.error.map { ", reason: \($0)" } ?? "")")
        }
        if let nat = local.nat {
            line("Network:")
            line("  NAT: \(nat.verdictWords) (mapping \(nat.mapping), filtering \(nat.filtering))")
            line("  Public addresses: \([nat.publicIPv4, nat.publicIPv6].compactMap { $0 }.joined(separator: ", ").nonEmpty ?? "-")")
            line("  Checked: \(StatusFormatting.timeAgo(nat.checkedAtMillis, now: now))")
        }
        line("Lazy connection: \(local.lazyConnections)")
        if let error = local.configError { line("Config reload failed: \(error) (running with the previous config)") }
        line("Peers count: \(connected)/\(total) Connected")
        if !agentEvents.isEmpty {
            line("Events:")
            putEvents(agentEvents, indent: "  ")
        }
        return [out]
    }
}

private extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
