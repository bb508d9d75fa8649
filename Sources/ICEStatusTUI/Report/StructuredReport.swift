import StatusRecorder
#if canImport(Glibc)
import Glibc
#endif

/// `--json` and `--yaml`: the same document, with stable keys (documented in the README).
/// Times are RFC 3339 UTC; latency is `latencyMs`, a number of milliseconds, in both formats.
enum StructuredReport {
    enum Format { case json, yaml }

    /// A tiny document tree, written by hand so that 10,000 peers serialize in a few milliseconds.
    indirect enum Value {
        case string(String)
        case number(String)
        case bool(Bool)
        case null
        case object([(String, Value)])
        case array([Value])
    }

    /// The whole report of a snapshot at once.
    static func render(_ snapshot: StatusSnapshot, format: Format) -> [UInt8] {
        var writer = Writer(format: format, now: snapshot.takenAtMillis, expectedPeers: snapshot.peers.count)
        let events = EventsByPeer(snapshot.events)
        for p in snapshot.peers { writer.peer(p, events: events.peers[p.id] ?? []) }
        return Array(writer.finish(local: snapshot.local, agentEvents: events.agent, total: snapshot.peers.count,
                                   connected: snapshot.peers.count { $0.state == .connected }).joined())
    }

    /// Any document as indented JSON, with a final newline.
    static func json(_ value: Value) -> [UInt8] {
        var out: [UInt8] = []
        writeJSON(value, indent: 0, into: &out)
        out.append(10)
        return out
    }

    /// The report written a peer at a time: each peer's object goes into the `details` list as it comes; the
    /// agent and the counts, which come first in the document, are written around that list at the end.
    struct Writer: ReportFormatter {
        let format: Format
        let now: Int64
        private var details: [UInt8] = []
        private var peers = 0

        init(format: Format, now: Int64, expectedPeers: Int = 0) {
            self.format = format
            self.now = now
            details.reserveCapacity(expectedPeers * 700)
        }

        mutating func peer(_ p: PeerStatus, events: [StatusEvent]) {
            let value = StructuredReport.peer(p, events: events, now: now)
            switch format {
            case .json:
                if peers > 0 { details += ",\n".utf8 }
                details += "      ".utf8
                writeJSON(value, indent: 6, into: &details)
            case .yaml:
                writeYAML(.array([value]), indent: 4, into: &details)
            }
            peers += 1
        }

        mutating func finish(local: LocalAgentStatus, agentEvents: [StatusEvent], total: Int, connected: Int) -> [[UInt8]] {
            let agent = StructuredReport.agent(local, events: agentEvents)
            var head: [UInt8] = []
            var tail: [UInt8] = []
            switch format {
            case .json:
                head += "{\n  \"agent\": ".utf8
                writeJSON(agent, indent: 2, into: &head)
                head += ",\n  \"peers\": {\n    \"total\": \(total),\n    \"connected\": \(connected),\n    \"details\": ".utf8
                head += (peers == 0 ? "[]" : "[\n").utf8
                tail += (peers == 0 ? "\n  }\n}\n" : "\n    ]\n  }\n}\n").utf8
            case .yaml:
                head += "agent:".utf8
                writeYAMLChild(agent, indent: 0, into: &head)
                head += "peers:\n  total: \(total)\n  connected: \(connected)\n  details:".utf8
                head += (peers == 0 ? " []\n" : "\n").utf8
            }
            return [head, details, tail]
        }
    }

    /// A string, or null.
    private static func str(_ v: String?) -> Value { v.map(Value.string) ?? .null }

    /// A time as RFC 3339, or null when absent or zero.
    private static func time(_ ms: Int64?) -> Value { ms.flatMap { $0 > 0 ? Value.string(rfc3339($0)) : nil } ?? .null }

    /// One peer's object in `peers.details`.
    static func peer(_ p: PeerStatus, events: [StatusEvent], now: Int64) -> Value {
        let connected = p.state == .connected
        return .object([
            ("name", .string(p.name)),
            ("publicKey", .string(p.id)),
            ("status", .string(p.state.rawValue)),
            ("lastStatusUpdate", time(p.stateChangedAtMillis)),
            ("connectionType", connected ? str(p.connectionType?.rawValue) : .null),
            ("iceCandidateType", .object([("local", str(p.localCandidate?.type)), ("remote", str(p.remoteCandidate?.type))])),
            ("iceCandidateEndpoint", .object([("local", str(p.localCandidate?.address)), ("remote", str(p.remoteCandidate?.address))])),
            ("relayAddress", str(p.relayServer)),
            ("relayTransport", str(p.relayTransport)),
            ("latencyMs", p.latencyNanos.map { .number(millis($0)) } ?? .null),
            ("latencySmoothedMs", p.smoothedLatencyNanos.map { .number(millis($0)) } ?? .null),
            ("transferReceived", .number(String(p.bytesReceived))),
            ("transferSent", .number(String(p.bytesSent))),
            ("droppedDatagrams", .object([("total", .number(String(p.drops.total))),
                                          ("reasons", .object(p.drops.nonZero.map { ($0.reason.rawValue, .number(String($0.count))) }))])),
            ("lastActivity", time(p.lastActivityMillis)),
            ("reason", str(p.reasonWords(now: now))),
            ("reasonCode", str(p.reason?.code)),
            ("nextRetryAt", time(p.nextRetryAtMillis)),
            ("ignoredCandidates", .object([("count", .number(String(p.ignoredCandidateCount))),
                                           ("candidates", .array(p.ignoredCandidates.map(Value.string)))])),
            ("events", .array(events.map(event))),
        ])
    }

    /// The `agent` object.
    static func agent(_ local: LocalAgentStatus, events: [StatusEvent]) -> Value {
        let servers: [Value] = local.servers.map { server in
            .object([("kind", .string(server.kind.rawValue)), ("address", .string(server.address)),
                     ("available", .bool(server.available)), ("error", str(server.error))])
        }
        return .object([
            ("name", .string(local.name)),
            ("publicKey", .string(local.publicKey)),
            ("startedAt", time(local.startedAtMillis)),
            ("lazyConnections", .bool(local.lazyConnections)),
            ("servers", .array(servers)),
            ("configError", str(local.configError)),
            ("nat", local.nat.map { nat in
                .object([("verdict", .string(nat.verdict)), ("mapping", .string(nat.mapping)), ("filtering", .string(nat.filtering)),
                         ("publicIPv4", str(nat.publicIPv4)), ("publicIPv6", str(nat.publicIPv6)), ("checkedAt", time(nat.checkedAtMillis))])
            } ?? .null),
            ("events", .array(events.map(event))),
        ])
    }

    /// One event: when, its kind's code, its words, and the facts scripts filter on.
    static func event(_ e: StatusEvent) -> Value {
        var fields: [(String, Value)] = [("time", .string(rfc3339(e.atMillis))), ("kind", .string(e.kind.code))]
        if e.peerID != nil { fields += [("peer", str(e.peerName)), ("publicKey", str(e.peerID))] }
        switch e.kind {
        case .stateChanged(let from, let to, let reason):
            fields += [("from", .string(from.rawValue)), ("to", .string(to.rawValue)), ("reasonCode", str(reason?.code))]
        case .pathChanged(let type, let local, let remote, let relay):
            fields += [("connectionType", .string(type.rawValue)), ("localType", str(local?.type)), ("local", str(local?.address)),
                       ("remoteType", str(remote?.type)), ("remote", str(remote?.address)), ("relayAddress", str(relay))]
        case .iceRestart(let cause): fields.append(("cause", .string(cause.rawValue)))
        case .relayFallback(let at): fields.append(("nextDirectAttemptAt", at.map { .string(rfc3339($0)) } ?? .null))
        case .serverAvailable(let kind, let address), .serverUnavailable(let kind, let address, _):
            fields += [("server", .string(kind.rawValue)), ("address", .string(address))]
        case .natVerdictChanged(let from, let to): fields += [("from", str(from)), ("to", .string(to))]
        case .consentLost, .consentRegained, .lazyWake, .networkChanged: break
        }
        fields.append(("message", .string(e.words)))
        return .object(fields)
    }

    /// Nanoseconds as milliseconds with three decimals.
    static func millis(_ nanos: Int64) -> String {
        let micros = (nanos + 500) / 1000
        let frac = micros % 1000
        return "\(micros / 1000).\(frac < 10 ? "00" : frac < 100 ? "0" : "")\(frac)"
    }

    /// `2026-11-25T12:34:56.789Z`.
    static func rfc3339(_ ms: Int64) -> String {
        var t = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let milli = ms % 1000
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))."
            + "\(milli < 10 ? "00" : milli < 100 ? "0" : "")\(milli)Z"
    }

    // MARK: Writers

    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(34)
        // Most strings need no escape: one copy of their bytes.
        if s.utf8.withContiguousStorageIfAvailable({ !$0.contains { $0 < 32 || $0 == 34 || $0 == 92 } }) == true {
            out.append(contentsOf: s.utf8)
            out.append(34)
            return
        }
        for b in s.utf8 {
            switch b {
            case 34: out += [92, 34]
            case 92: out += [92, 92]
            case 10: out += [92, UInt8(ascii: "n")]
            case 13: out += [92, UInt8(ascii: "r")]
            case 9: out += [92, UInt8(ascii: "t")]
            case 0..<32:
                let hex = Array("0123456789abcdef".utf8)
                out += [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]]
            default: out.append(b)
            }
        }
        out.append(34)
    }

    private static func spaces(_ n: Int, into out: inout [UInt8]) {
        for _ in 0..<n { out.append(32) }
    }

    static func writeScalar(_ v: Value, into out: inout [UInt8]) {
        switch v {
        case .string(let s): writeString(s, into: &out)
        case .number(let n): out += n.utf8
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .null: out += "null".utf8
        case .object, .array: break
        }
    }

    fileprivate static func writeJSON(_ v: Value, indent: Int, into out: inout [UInt8]) {
        switch v {
        case .object(let members):
            if members.isEmpty { out += "{}".utf8; return }
            out += "{\n".utf8
            for (i, (key, value)) in members.enumerated() {
                spaces(indent + 2, into: &out)
                writeString(key, into: &out)
                out += ": ".utf8
                writeJSON(value, indent: indent + 2, into: &out)
                out += (i < members.count - 1 ? ",\n" : "\n").utf8
            }
            spaces(indent, into: &out)
            out.append(UInt8(ascii: "}"))
        case .array(let items):
            if items.isEmpty { out += "[]".utf8; return }
            out += "[\n".utf8
            for (i, item) in items.enumerated() {
                spaces(indent + 2, into: &out)
                writeJSON(item, indent: indent + 2, into: &out)
                out += (i < items.count - 1 ? ",\n" : "\n").utf8
            }
            spaces(indent, into: &out)
            out.append(UInt8(ascii: "]"))
        default:
            writeScalar(v, into: &out)
        }
    }

    /// Block-style YAML; strings are double-quoted (JSON escapes are valid YAML).
    fileprivate static func writeYAML(_ v: Value, indent: Int, into out: inout [UInt8]) {
        switch v {
        case .object(let members):
            for (key, value) in members {
                spaces(indent, into: &out)
                out += key.utf8
                out.append(UInt8(ascii: ":"))
                writeYAMLChild(value, indent: indent, into: &out)
            }
        case .array(let items):
            for item in items {
                spaces(indent, into: &out)
                out += "-".utf8
                if case .object(let members) = item, let first = members.first {
                    // First member on the dash line, the rest aligned under it.
                    out.append(32)
                    out += first.0.utf8
                    out.append(UInt8(ascii: ":"))
                    writeYAMLChild(first.1, indent: indent + 2, into: &out)
                    writeYAML(.object(Array(members.dropFirst())), indent: indent + 2, into: &out)
                } else {
                    writeYAMLChild(item, indent: indent, into: &out)
                }
            }
        default:
            writeScalar(v, into: &out)
            out.append(10)
        }
    }

    fileprivate static func writeYAMLChild(_ value: Value, indent: Int, into out: inout [UInt8]) {
        switch value {
        case .object(let m) where !m.isEmpty:
            out.append(10)
            writeYAML(value, indent: indent + 2, into: &out)
        case .array(let a) where !a.isEmpty:
            out.append(10)
            writeYAML(value, indent: indent + 2, into: &out)
        case .object: out += " {}\n".utf8
        case .array: out += " []\n".utf8
        default:
            out.append(32)
            writeScalar(value, into: &out)
            out.append(10)
        }
    }
}
