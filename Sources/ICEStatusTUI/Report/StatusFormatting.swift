import StatusRecorder

/// Human formats shared by the report and the dashboard (NetBird's wording where it has one).
package enum StatusFormatting {
    /// `Now`, `5 seconds ago`, `2 minutes, 3 seconds ago`, `1 hour, 4 minutes ago`, `2 days, 1 hour ago`; `-` for none.
    static func timeAgo(_ millis: Int64?, now: Int64) -> String { text { timeAgo(millis, now: now, into: &$0) } }

    /// ``timeAgo(_:now:)`` written into a report.
    static func timeAgo(_ millis: Int64?, now: Int64, into out: inout ReportBytes) {
        guard let millis, millis > 0 else { return out.put("-") }
        let seconds = max(0, (now - millis) / 1000)
        if seconds < 1 { return out.put("Now") }
        func unit(_ n: Int64, _ name: StaticString) {
            out.put(decimal: n)
            out.put(byte: 32)
            out.put(name)
            if n != 1 { out.put(byte: UInt8(ascii: "s")) }
        }
        func then(_ n: Int64, _ name: StaticString) {
            guard n > 0 else { return }
            out.put(", ")
            unit(n, name)
        }
        let (d, h, m, s) = (seconds / 86400, seconds % 86400 / 3600, seconds % 3600 / 60, seconds % 60)
        if d > 0 { unit(d, "day"); then(h, "hour") }
        else if h > 0 { unit(h, "hour"); then(m, "minute") }
        else if m > 0 { unit(m, "minute"); then(s, "second") }
        else { unit(s, "second") }
        out.put(" ago")
    }

    /// What `write` writes, as a string.
    private static func text(_ write: (inout ReportBytes) -> Void) -> String {
        var out = ReportBytes(capacity: 32)
        write(&out)
        return String(decoding: out.bytes, as: UTF8.self)
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
    static func bytes(_ n: UInt64) -> String { text { bytes(n, into: &$0) } }

    /// ``bytes(_:)`` written into a report.
    static func bytes(_ n: UInt64, into out: inout ReportBytes) {
        if n < 1024 {
            out.put(decimal: n)
            return out.put(" B")
        }
        let units: [StaticString] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(n) / 1024
        var i = 0
        while value >= 1024, i < units.count - 1 {
            value /= 1024
            i += 1
        }
        let tenths = Int64((value * 10).rounded())
        out.put(decimal: tenths / 10)
        out.put(byte: UInt8(ascii: "."))
        out.put(decimal: tenths % 10)
        out.put(byte: 32)
        out.put(units[i])
    }

    /// Latency in milliseconds with three decimals (`0.142 ms`), `-` when unknown.
    static func latency(_ nanos: Int64?) -> String { text { latency(nanos, into: &$0) } }

    /// ``latency(_:)`` written into a report.
    static func latency(_ nanos: Int64?, into out: inout ReportBytes) {
        guard let nanos else { return out.put("-") }
        millis(nanos, into: &out)
        out.put(" ms")
    }

    /// Nanoseconds as milliseconds with three decimals (`0.142`), rounded to the microsecond.
    static func millis(_ nanos: Int64) -> String { text { millis(nanos, into: &$0) } }

    /// ``millis(_:)`` written into a report.
    static func millis(_ nanos: Int64, into out: inout ReportBytes) {
        let micros = (nanos + 500) / 1000
        if micros < 0 { out.put(byte: UInt8(ascii: "-")) }
        out.put(decimal: micros.magnitude / 1000)
        out.put(byte: UInt8(ascii: "."))
        out.put(decimal: micros.magnitude % 1000, zeroPaddedTo: 3)
    }

    /// `in 6 s`, `now`, or `-` when connected or nothing is scheduled (``retry(_:now:)``) written into a report.
    static func retry(_ atMillis: Int64?, now: Int64, into out: inout ReportBytes) {
        guard let at = atMillis else { return out.put("-") }
        guard at > now else { return out.put("now") }
        out.put("in ")
        out.put(decimal: (at - now + 999) / 1000)
        out.put(" s")
    }

    /// `in 6 s`, `now`, or `-` when connected or nothing is scheduled.
    /// When the next attempt is due: a reconnection, or (for a relayed peer) the next direct attempt.
    static func retry(_ atMillis: Int64?, now: Int64) -> String { text { retry(atMillis, now: now, into: &$0) } }

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
