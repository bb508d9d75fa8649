import StatusRecorder

/// Human formats shared by the report and the dashboard (NetBird's wording where it has one).
package enum StatusFormatting {
    /// `Now`, `5 seconds ago`, `2 minutes, 3 seconds ago`, `1 hour, 4 minutes ago`, `2 days, 1 hour ago`; `-` for none.
    static func timeAgo(_ millis: Int64?, now: Int64) -> String {
        guard let millis, millis > 0 else { return "-" }
        let seconds = max(0, (now - millis) / 1000)
        if seconds < 1 { return "Now" }
        func unit(_ n: Int64, _ name: String) -> String { "\(n) \(name)\(n == 1 ? "" : "s")" }
        let (d, h, m, s) = (seconds / 86400, seconds % 86400 / 3600, seconds % 3600 / 60, seconds % 60)
        let parts: [String]
        if d > 0 { parts = [unit(d, "day")] + (h > 0 ? [unit(h, "hour")] : []) }
        else if h > 0 { parts = [unit(h, "hour")] + (m > 0 ? [unit(m, "minute")] : []) }
        else if m > 0 { parts = [unit(m, "minute")] + (s > 0 ? [unit(s, "second")] : []) }
        else { parts = [unit(s, "second")] }
        return parts.joined(separator: ", ") + " ago"
    }

    /// Compact age for table cells: `3s`, `4m12s`, `2h05m`, `3d04h`.
    static func shortAge(_ millis: Int64?, now: Int64) -> String {
        guard let millis, millis > 0 else { return "-" }
        let s = max(0, (now - millis) / 1000)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(pad2(s % 60))s" }
        if s < 86400 { return "\(s / 3600)h\(pad2(s % 3600 / 60))m" }
        return "\(s / 86400)d\(pad2(s % 86400 / 3600))h"
    }

    private static func pad2(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// Dropped datagrams with their reasons: `0`, or `12 (buffer full while connecting 10, send failed 2)`.
    package static func drops(_ drops: DatagramDrops) -> String {
        guard !drops.isEmpty else { return "0" }
        return "\(drops.total) (" + drops.nonZero.map { "\($0.reason.label) \($0.count)" }.joined(separator: ", ") + ")"
    }

    /// IEC units with one decimal: `1000 B`, `2.0 KiB`, `1.7 GiB`.
    static func bytes(_ n: UInt64) -> String {
        if n < 1024 { return "\(n) B" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(n) / 1024
        var i = 0
        while value >= 1024, i < units.count - 1 {
            value /= 1024
            i += 1
        }
        return "\(oneDecimal(value)) \(units[i])"
    }

    /// Latency in milliseconds with three decimals (`0.142 ms`), `-` when unknown.
    static func latency(_ nanos: Int64?) -> String {
        guard let nanos else { return "-" }
        let micros = (nanos + 500) / 1000
        return "\(micros / 1000).\(pad3(micros % 1000)) ms"
    }

    private static func pad3(_ n: Int64) -> String { n < 10 ? "00\(n)" : n < 100 ? "0\(n)" : "\(n)" }

    private static func oneDecimal(_ v: Double) -> String {
        let tenths = Int64((v * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// `in 6 s`, `now`, or `-` when connected or nothing is scheduled.
    /// When the next attempt is due: a reconnection, or (for a relayed peer) the next direct attempt.
    static func retry(_ atMillis: Int64?, now: Int64) -> String {
        guard let at = atMillis else { return "-" }
        return at > now ? "in \((at - now + 999) / 1000) s" : "now"
    }

    static func candidate(_ c: CandidateEndpoint?, relayTransport: String? = nil) -> String {
        guard let c else { return "-" }
        return "\(candidateType(c.type, relayTransport: relayTransport)) \(c.address)"
    }

    /// `relay/tcp`, `relay/tls` for a relayed candidate reached over a stream; the type as it is otherwise.
    static func candidateType(_ type: String, relayTransport: String?) -> String {
        guard type == "relay", let t = relayTransport, t != "udp" else { return type }
        return "relay/\(t)"
    }

    /// The TYPE column: P2P, Relayed (over UDP), relay/tcp or relay/tls.
    static func connectionType(_ p: PeerStatus) -> String {
        guard p.state == .connected, let type = p.connectionType else { return "-" }
        if type == .relayed, let t = p.relayTransport, t != "udp" { return "relay/\(t)" }
        return type.rawValue
    }

    /// `turns:203.0.113.10:5349 (TLS)`: the relay server and how it is reached.
    static func relayServer(_ p: PeerStatus) -> String? {
        guard let server = p.relayServer else { return nil }
        return p.relayTransport.map { "\(server) (\($0.uppercased()))" } ?? server
    }
}
