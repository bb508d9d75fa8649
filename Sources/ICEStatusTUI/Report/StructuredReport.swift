import NIOCore
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
        return writer.finish(local: snapshot.local, agentEvents: events.agent, total: snapshot.peers.count,
                             connected: snapshot.peers.count { $0.state == .connected }).flatMap { Array($0.readableBytesView) }
    }

    /// Any document as indented JSON, with a final newline.
    static func json(_ value: Value) -> [UInt8] {
        var out = ByteBuffer()
        writeJSON(value, indent: 0, into: &out)
        out.writeInteger(10 as UInt8)
        return Array(out.readableBytesView)
    }

    /// The report written a peer at a time: each peer's object goes into the `details` list as it comes; the
    /// agent and the counts, which come first in the document, are written around that list at the end.
    struct Writer: ReportFormatter {
        let format: Format
        let now: Int64
        private var details = ByteBuffer()
        private var peers = 0

        init(format: Format, now: Int64, expectedPeers: Int = 0) {
            self.format = format
            self.now = now
            details.reserveCapacity(expectedPeers * 1000)
        }

        mutating func peer(_ p: PeerStatus, events: [StatusEvent]) {
            let value = StructuredReport.peer(p, events: events, now: now)
            switch format {
            case .json:
                if peers > 0 { details.writeStaticString(",\n") }
                details.writeStaticString("      ")
                writeJSON(value, indent: 6, into: &details)
            case .yaml:
                writeYAML(.array([value]), indent: 4, into: &details)
            }
            peers += 1
        }

        mutating func finish(local: LocalAgentStatus, agentEvents: [StatusEvent], total: Int, connected: Int) -> [ByteBuffer] {
            let agent = StructuredReport.agent(local, events: agentEvents)
            var head = ByteBuffer()
            var tail = ByteBuffer()
            switch format {
            case .json:
                head.writeStaticString("{\n  \"agent\": ")
                writeJSON(agent, indent: 2, into: &head)
                head.writeString(",\n  \"peers\": {\n    \"total\": \(total),\n    \"connected\": \(connected),\n    \"details\": ")
                head.writeStaticString(peers == 0 ? "[]" : "[\n")
                tail.writeStaticString(peers == 0 ? "\n  }\n}\n" : "\n    ]\n  }\n}\n")
            case .yaml:
                head.writeStaticString("agent:")
                writeYAMLChild(agent, indent: 0, into: &head)
                head.writeString("peers:\n  total: \(total)\n  connected: \(connected)\n  details:")
                head.writeStaticString(peers == 0 ? " []\n" : "\n")
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

    /// `2026-11-25T12:34:56.789Z`: UTC, from the civil calendar in integer arithmetic (no `gmtime` and its
    /// time-zone lock per timestamp; thousands of peers have several each).
    static func rfc3339(_ ms: Int64) -> String {
        let (seconds, milli) = ms.quotientAndRemainder(dividingBy: 1000)
        var t = milli < 0 ? seconds - 1 : seconds
        let millis = milli < 0 ? milli + 1000 : milli
        var days = t / 86400
        t -= days * 86400
        if t < 0 { t += 86400; days -= 1 }
        let (year, month, day) = civil(fromDays: days)
        var text = [UInt8](repeating: 0, count: 24)
        func put(_ value: Int64, at index: Int, digits: Int) {
            var v = value
            for i in stride(from: index + digits - 1, through: index, by: -1) {
                text[i] = UInt8(48 + v % 10)
                v /= 10
            }
        }
        put(year, at: 0, digits: 4); text[4] = 45
        put(month, at: 5, digits: 2); text[7] = 45
        put(day, at: 8, digits: 2); text[10] = UInt8(ascii: "T")
        put(t / 3600, at: 11, digits: 2); text[13] = 58
        put(t % 3600 / 60, at: 14, digits: 2); text[16] = 58
        put(t % 60, at: 17, digits: 2); text[19] = 46
        put(millis, at: 20, digits: 3); text[23] = UInt8(ascii: "Z")
        guard (0...9999).contains(year) else {
            return "\(year)" + String(decoding: text[4...], as: UTF8.self)
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Year, month and day of a day count from 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's
    /// `civil_from_days`).
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    // MARK: Writers

    static func writeString(_ s: String, into out: inout ByteBuffer) {
        var s = s
        s.withUTF8 { bytes in
            out.writeInteger(34 as UInt8)
            // Most strings need no escape: one copy of their bytes.
            if !bytes.contains(where: { $0 < 32 || $0 == 34 || $0 == 92 }) {
                out.writeBytes(UnsafeRawBufferPointer(bytes))
                out.writeInteger(34 as UInt8)
                return
            }
            for b in bytes {
                switch b {
                case 34: out.writeBytes([92, 34] as [UInt8])
                case 92: out.writeBytes([92, 92] as [UInt8])
                case 10: out.writeBytes([92, UInt8(ascii: "n")] as [UInt8])
                case 13: out.writeBytes([92, UInt8(ascii: "r")] as [UInt8])
                case 9: out.writeBytes([92, UInt8(ascii: "t")] as [UInt8])
                case 0..<32:
                    let hex = Array("0123456789abcdef".utf8)
                    out.writeBytes([92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
                default: out.writeInteger(b)
                }
            }
            out.writeInteger(34 as UInt8)
        }
    }

    private static func spaces(_ n: Int, into out: inout ByteBuffer) {
        out.writeRepeatingByte(32, count: n)
    }

    /// A literal's bytes, copied at once.
    static func put(_ s: StaticString, into out: inout ByteBuffer) {
        out.writeStaticString(s)
    }

    static func writeScalar(_ v: Value, into out: inout ByteBuffer) {
        switch v {
        case .string(let s): writeString(s, into: &out)
        case .number(let n): out.writeString(n)
        case .bool(let b): if b { put("true", into: &out) } else { put("false", into: &out) }
        case .null: put("null", into: &out)
        case .object, .array: break
        }
    }

    fileprivate static func writeJSON(_ v: Value, indent: Int, into out: inout ByteBuffer) {
        switch v {
        case .object(let members):
            if members.isEmpty { put("{}", into: &out); return }
            put("{\n", into: &out)
            for i in members.indices {
                spaces(indent + 2, into: &out)
                writeString(members[i].0, into: &out)
                put(": ", into: &out)
                writeJSON(members[i].1, indent: indent + 2, into: &out)
                if i < members.count - 1 { out.writeInteger(44 as UInt8) }
                out.writeInteger(10 as UInt8)
            }
            spaces(indent, into: &out)
            out.writeInteger(UInt8(ascii: "}"))
        case .array(let items):
            if items.isEmpty { put("[]", into: &out); return }
            put("[\n", into: &out)
            for i in items.indices {
                spaces(indent + 2, into: &out)
                writeJSON(items[i], indent: indent + 2, into: &out)
                if i < items.count - 1 { out.writeInteger(44 as UInt8) }
                out.writeInteger(10 as UInt8)
            }
            spaces(indent, into: &out)
            out.writeInteger(UInt8(ascii: "]"))
        default:
            writeScalar(v, into: &out)
        }
    }

    /// Block-style YAML; strings are double-quoted (JSON escapes are valid YAML).
    fileprivate static func writeYAML(_ v: Value, indent: Int, into out: inout ByteBuffer) {
        switch v {
        case .object(let members):
            for (key, value) in members {
                spaces(indent, into: &out)
                out.writeString(key)
                out.writeInteger(UInt8(ascii: ":"))
                writeYAMLChild(value, indent: indent, into: &out)
            }
        case .array(let items):
            for item in items {
                spaces(indent, into: &out)
                out.writeStaticString("-")
                if case .object(let members) = item, let first = members.first {
                    // First member on the dash line, the rest aligned under it.
                    out.writeInteger(32 as UInt8)
                    out.writeString(first.0)
                    out.writeInteger(UInt8(ascii: ":"))
                    writeYAMLChild(first.1, indent: indent + 2, into: &out)
                    writeYAML(.object(Array(members.dropFirst())), indent: indent + 2, into: &out)
                } else {
                    writeYAMLChild(item, indent: indent, into: &out)
                }
            }
        default:
            writeScalar(v, into: &out)
            out.writeInteger(10 as UInt8)
        }
    }

    fileprivate static func writeYAMLChild(_ value: Value, indent: Int, into out: inout ByteBuffer) {
        switch value {
        case .object(let m) where !m.isEmpty:
            out.writeInteger(10 as UInt8)
            writeYAML(value, indent: indent + 2, into: &out)
        case .array(let a) where !a.isEmpty:
            out.writeInteger(10 as UInt8)
            writeYAML(value, indent: indent + 2, into: &out)
        case .object: out.writeStaticString(" {}\n")
        case .array: out.writeStaticString(" []\n")
        default:
            out.writeInteger(32 as UInt8)
            writeScalar(value, into: &out)
            out.writeInteger(10 as UInt8)
        }
    }
}
