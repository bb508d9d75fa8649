import StatusRecorder

/// The `icestat --detail` text: one block per peer, then a summary, in the spirit of `netbird status -d`.
/// Built into one byte buffer so thousands of peers print in one write.
enum DetailReport {
    static func render(_ snapshot: StatusSnapshot, now: Int64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + snapshot.peers.count * 560)
        func line(_ s: String) {
            out.append(contentsOf: s.utf8)
            out.append(10)
        }
        line("Peers detail:")
        func put(_ s: StaticString) { out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)) }
        func put(_ s: String) { out.append(contentsOf: s.utf8) }
        let events = EventsByPeer(snapshot.events)
        func putEvents(_ list: [StatusEvent], indent: StaticString) {
            for e in list {
                put(indent); put(StatusEvent.timestamp(e.atMillis)); put("  "); put(e.words); put("\n")
            }
        }
        for p in snapshot.peers {
            let connected = p.state == .connected
            put("\n "); put(p.name); put(":\n  Public key: "); put(p.id)
            put("\n  Status: "); put(p.state.rawValue)
            put("\n  -- detail --\n  Connection type: "); put(connected ? p.connectionType?.rawValue ?? "-" : "-")
            put("\n  ICE candidate (Local/Remote): "); put(p.localCandidate?.type ?? "-"); put("/"); put(p.remoteCandidate?.type ?? "-")
            put("\n  ICE candidate endpoints (Local/Remote): "); put(p.localCandidate?.address ?? "-"); put("/"); put(p.remoteCandidate?.address ?? "-")
            put("\n  Relay server address: "); put(StatusFormatting.relayServer(p) ?? "")
            put("\n  Last connection update: "); put(StatusFormatting.timeAgo(p.stateChangedAtMillis, now: now))
            put("\n  Last activity: "); put(StatusFormatting.timeAgo(p.lastActivityMillis, now: now))
            put("\n  Transfer status (received/sent) "); put(StatusFormatting.bytes(p.bytesReceived)); put("/"); put(StatusFormatting.bytes(p.bytesSent))
            put("\n  Dropped datagrams: "); put(StatusFormatting.drops(p.drops))
            put("\n  Latency: "); put(StatusFormatting.latency(p.latencyNanos))
            if let smoothed = p.smoothedLatencyNanos { put(" (smoothed "); put(StatusFormatting.latency(smoothed)); put(")") }
            put("\n  Reason: "); put(p.reasonWords(now: now) ?? "-")
            put("\n  Next retry: "); put(StatusFormatting.retry(p.nextRetryAtMillis, now: now)); put("\n")
            if p.ignoredCandidateCount > 0 {
                put("  Ignored candidates (in routed networks): "); put(String(p.ignoredCandidateCount)); put(" (")
                put(p.ignoredCandidates.joined(separator: ", ")); put(")\n")
            }
            if let list = events.peers[p.id], !list.isEmpty {
                put("  Events:\n")
                putEvents(list, indent: "    ")
            }
        }
        line("")
        let local = snapshot.local
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
        let connected = snapshot.peers.count { $0.state == .connected }
        line("Peers count: \(connected)/\(snapshot.peers.count) Connected")
        if !events.agent.isEmpty {
            line("Events:")
            putEvents(events.agent, indent: "  ")
        }
        return out
    }
}

private extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
