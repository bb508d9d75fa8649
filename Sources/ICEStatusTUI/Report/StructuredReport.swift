import StatusRecorder

/// `--json` and `--yaml`: the same document, with stable keys (documented in the README).
/// Times are RFC 3339 UTC; latency is `latencyMs`, a number of milliseconds, in both formats.
enum StructuredReport {
    enum Format { case json, yaml }

    /// A small document tree, for the one-off documents (netcheck's); the reports describe theirs straight to a
    /// ``StructuredEmitter``.
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
                             connected: snapshot.peers.count { $0.state == .connected }).flatMap { $0.bytes }
    }

    /// Any document as indented JSON, with a final newline.
    static func json(_ value: Value) -> [UInt8] {
        var emitter = StructuredEmitter(style: .json, start: .json(indent: 0))
        emit(value, into: &emitter)
        emitter.out.put(byte: 10)
        return emitter.out.bytes
    }

    /// The report written a peer at a time: each peer's object goes into the `details` list as it comes; the
    /// agent and the counts, which come first in the document, are written around that list at the end.
    struct Writer: ReportFormatter {
        let format: Format
        let now: Int64
        private var details: StructuredEmitter
        private var peers = 0

        init(format: Format, now: Int64, expectedPeers: Int = 0) {
            self.format = format
            self.now = now
            let buffer = ReportBytes(capacity: expectedPeers * 1000)
            details = format == .json ? StructuredEmitter(style: .json, start: .json(indent: 6), into: buffer)
                : StructuredEmitter(style: .yaml, start: .yamlListItem(indent: 4), into: buffer)
        }

        mutating func peer(_ p: PeerStatus, events: [StatusEvent]) {
            if format == .json {
                details.out.put(peers > 0 ? ",\n      " : "      ")
            }
            StructuredReport.peer(p, events: events, now: now, into: &details)
            peers += 1
        }

        mutating func finish(local: LocalAgentStatus, agentEvents: [StatusEvent], total: Int, connected: Int) -> [ReportBytes] {
            var head: StructuredEmitter
            var tail = ReportBytes()
            switch format {
            case .json:
                head = StructuredEmitter(style: .json, start: .json(indent: 2))
                head.out.put("{\n  \"agent\": ")
                StructuredReport.agent(local, events: agentEvents, into: &head)
                head.out.put(text: ",\n  \"peers\": {\n    \"total\": \(total),\n    \"connected\": \(connected),\n    \"details\": ")
                head.out.put(peers == 0 ? "[]" : "[\n")
                tail.put(peers == 0 ? "\n  }\n}\n" : "\n    ]\n  }\n}\n")
            case .yaml:
                head = StructuredEmitter(style: .yaml, start: .yamlValue(indent: 2))
                head.out.put("agent:")
                StructuredReport.agent(local, events: agentEvents, into: &head)
                head.out.put(text: "peers:\n  total: \(total)\n  connected: \(connected)\n  details:")
                head.out.put(peers == 0 ? " []\n" : "\n")
            }
            return [head.out, details.out, tail]
        }
    }

    // MARK: The documents

    /// A time as RFC 3339, or null when absent or zero.
    private static func time(_ ms: Int64?, into e: inout StructuredEmitter) {
        if let ms, ms > 0 { e.time(UTCTime(millis: ms)) } else { e.null() }
    }

    /// One peer's object in `peers.details`.
    static func peer(_ p: PeerStatus, events: [StatusEvent], now: Int64, into e: inout StructuredEmitter) {
        e.beginObject()
        e.key("name"); e.string(p.name)
        e.key("publicKey"); e.string(p.id)
        e.key("status"); e.string(p.state.rawValue)
        e.key("lastStatusUpdate"); time(p.stateChangedAtMillis, into: &e)
        e.key("connectionType"); e.string(p.state == .connected ? p.connectionType?.rawValue : nil)
        e.key("iceCandidateType")
        e.beginObject()
        e.key("local"); e.string(p.localCandidate?.type)
        e.key("remote"); e.string(p.remoteCandidate?.type)
        e.endObject()
        e.key("iceCandidateEndpoint")
        e.beginObject()
        e.key("local"); e.string(p.localCandidate?.address)
        e.key("remote"); e.string(p.remoteCandidate?.address)
        e.endObject()
        e.key("relayAddress"); e.string(p.relayServer)
        e.key("relayTransport"); e.string(p.relayTransport)
        e.key("latencyMs"); if let l = p.latencyNanos { e.milliseconds(nanos: l) } else { e.null() }
        e.key("latencySmoothedMs"); if let l = p.smoothedLatencyNanos { e.milliseconds(nanos: l) } else { e.null() }
        e.key("transferReceived"); e.number(p.bytesReceived)
        e.key("transferSent"); e.number(p.bytesSent)
        e.key("droppedDatagrams")
        e.beginObject()
        e.key("total"); e.number(p.drops.total)
        e.key("reasons")
        e.beginObject()
        for (reason, count) in p.drops.nonZero { e.key(text: reason.rawValue); e.number(count) }
        e.endObject()
        e.endObject()
        e.key("lastActivity"); time(p.lastActivityMillis, into: &e)
        e.key("reason"); e.string(p.reasonWords(now: now))
        e.key("reasonCode"); e.string(p.reason?.code)
        e.key("nextRetryAt"); time(p.nextRetryAtMillis, into: &e)
        e.key("ignoredCandidates")
        e.beginObject()
        e.key("count"); e.number(p.ignoredCandidateCount)
        e.key("candidates")
        e.beginArray()
        for c in p.ignoredCandidates { e.string(c) }
        e.endArray()
        e.endObject()
        e.key("events")
        e.beginArray()
        for event in events { self.event(event, into: &e) }
        e.endArray()
        e.endObject()
    }

    /// The `agent` object.
    static func agent(_ local: LocalAgentStatus, events: [StatusEvent], into e: inout StructuredEmitter) {
        e.beginObject()
        e.key("name"); e.string(local.name)
        e.key("publicKey"); e.string(local.publicKey)
        e.key("startedAt"); time(local.startedAtMillis, into: &e)
        e.key("lazyConnections"); e.bool(local.lazyConnections)
        e.key("servers")
        e.beginArray()
        for server in local.servers {
            e.beginObject()
            e.key("kind"); e.string(server.kind.rawValue)
            e.key("address"); e.string(server.address)
            e.key("available"); e.bool(server.available)
            e.key("error"); e.string(server.error)
            e.endObject()
        }
        e.endArray()
        e.key("configError"); e.string(local.configError)
        e.key("nat")
        if let nat = local.nat {
            e.beginObject()
            e.key("verdict"); e.string(nat.verdict)
            e.key("mapping"); e.string(nat.mapping)
            e.key("filtering"); e.string(nat.filtering)
            e.key("publicIPv4"); e.string(nat.publicIPv4)
            e.key("publicIPv6"); e.string(nat.publicIPv6)
            e.key("checkedAt"); time(nat.checkedAtMillis, into: &e)
            e.endObject()
        } else {
            e.null()
        }
        e.key("events")
        e.beginArray()
        for event in events { self.event(event, into: &e) }
        e.endArray()
        e.endObject()
    }

    /// One event: when, its kind's code, its words, and the facts scripts filter on.
    static func event(_ event: StatusEvent, into e: inout StructuredEmitter) {
        e.beginObject()
        e.key("time"); e.time(UTCTime(millis: event.atMillis))
        e.key("kind"); e.string(event.kind.code)
        if event.peerID != nil {
            e.key("peer"); e.string(event.peerName)
            e.key("publicKey"); e.string(event.peerID)
        }
        switch event.kind {
        case .stateChanged(let from, let to, let reason):
            e.key("from"); e.string(from.rawValue)
            e.key("to"); e.string(to.rawValue)
            e.key("reasonCode"); e.string(reason?.code)
        case .pathChanged(let type, let local, let remote, let relay):
            e.key("connectionType"); e.string(type.rawValue)
            e.key("localType"); e.string(local?.type)
            e.key("local"); e.string(local?.address)
            e.key("remoteType"); e.string(remote?.type)
            e.key("remote"); e.string(remote?.address)
            e.key("relayAddress"); e.string(relay)
        case .iceRestart(let cause):
            e.key("cause"); e.string(cause.rawValue)
        case .relayFallback(let at):
            e.key("nextDirectAttemptAt"); e.string(at.map(rfc3339))
        case .serverAvailable(let kind, let address), .serverUnavailable(let kind, let address, _):
            e.key("server"); e.string(kind.rawValue)
            e.key("address"); e.string(address)
        case .natVerdictChanged(let from, let to):
            e.key("from"); e.string(from)
            e.key("to"); e.string(to)
        case .consentLost, .consentRegained, .lazyWake, .networkChanged: break
        }
        e.key("message"); e.string(event.words)
        e.endObject()
    }

    /// Replays a ``Value`` into an emitter.
    static func emit(_ value: Value, into e: inout StructuredEmitter) {
        switch value {
        case .string(let s): e.string(s)
        case .number(let n): e.number(text: n)
        case .bool(let b): e.bool(b)
        case .null: e.null()
        case .object(let members):
            e.beginObject()
            for (key, member) in members {
                e.key(text: key)
                emit(member, into: &e)
            }
            e.endObject()
        case .array(let items):
            e.beginArray()
            for item in items { emit(item, into: &e) }
            e.endArray()
        }
    }

    /// `2026-11-25T12:34:56.789Z`.
    static func rfc3339(_ ms: Int64) -> String { UTCTime(millis: ms).text() }

    // MARK: Strings

    /// A JSON string (also valid YAML): quoted, with `"`, `\\` and control characters escaped.
    static func writeString(_ s: String, into out: inout ReportBytes, quoted: Bool = true) {
        if quoted { out.put(byte: 34) }
        let copied: Void? = s.utf8.withContiguousStorageIfAvailable { bytes in
            // Most strings need no escape: one copy of their bytes.
            if !bytes.contains(where: { $0 < 32 || $0 == 34 || $0 == 92 }) { out.put(bytes) } else { escape(bytes, into: &out) }
        }
        if copied == nil { escape(Array(s.utf8), into: &out) }
        if quoted { out.put(byte: 34) }
    }

    private static func escape(_ bytes: some Sequence<UInt8>, into out: inout ReportBytes) {
        for b in bytes {
            switch b {
            case 34: out.put("\\\"")
            case 92: out.put("\\\\")
            case 10: out.put("\\n")
            case 13: out.put("\\r")
            case 9: out.put("\\t")
            case 0..<32:
                let hex: StaticString = "0123456789abcdef"
                out.put("\\u00")
                hex.withUTF8Buffer { digits in
                    out.put(byte: digits[Int(b >> 4)])
                    out.put(byte: digits[Int(b & 15)])
                }
            default: out.put(byte: b)
            }
        }
    }
}
