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
        for p in snapshot.peers {
            let connected = p.state == .connected
            line("")
            line(" \(p.name):")
            line("  Public key: \(p.id)")
            line("  Status: \(p.state.rawValue)")
            line("  -- detail --")
            line("  Connection type: \(connected ? p.connectionType?.rawValue ?? "-" : "-")")
            line("  ICE candidate (Local/Remote): \(p.localCandidate?.type ?? "-")/\(p.remoteCandidate?.type ?? "-")")
            line("  ICE candidate endpoints (Local/Remote): \(p.localCandidate?.address ?? "-")/\(p.remoteCandidate?.address ?? "-")")
            line("  Relay server address: \(p.relayServer ?? "")")
            line("  Last connection update: \(StatusFormatting.timeAgo(p.stateChangedAtMillis, now: now))")
            line("  Last activity: \(StatusFormatting.timeAgo(p.lastActivityMillis, now: now))")
            line("  Transfer status (received/sent) \(StatusFormatting.bytes(p.bytesReceived))/\(StatusFormatting.bytes(p.bytesSent))")
            line("  Latency: \(StatusFormatting.latency(p.latencyNanos))")
            line("  Reason: \(p.reason ?? "-")")
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
        line("Lazy connection: \(local.lazyConnections)")
        let connected = snapshot.peers.count { $0.state == .connected }
        line("Peers count: \(connected)/\(snapshot.peers.count) Connected")
        return out
    }
}
