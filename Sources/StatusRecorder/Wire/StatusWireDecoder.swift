/// Errors in a status stream.
public enum StatusWireError: Error, Sendable, Hashable, CustomStringConvertible {
    case unsupportedVersion(String)
    case malformedLine(String)

    public var description: String {
        switch self {
        case .unsupportedVersion(let v): "status socket speaks version \(v); this icestat speaks \(StatusWireFormat.version)"
        case .malformedLine(let l): "malformed status line: \(l.prefix(80))"
        }
    }
}

/// Incremental decoder of the status stream: feed bytes as they arrive, take whole batches out.
public struct StatusWireDecoder: Sendable {
    private var pending: [UInt8] = []
    private var current = StatusChange()
    private var sawLocal = false

    public init() {}

    /// Adds received bytes and returns every batch they complete, in order.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(StatusWireError) -> [StatusChange] {
        pending.append(contentsOf: bytes)
        var batches: [StatusChange] = []
        var start = 0
        let count = pending.count
        var i = 0
        while i < count {
            if pending[i] == 10 {
                if try consumeLine(start..<i) {
                    batches.append(current)
                    current = StatusChange()
                    sawLocal = false
                }
                start = i + 1
            }
            i += 1
        }
        pending.removeFirst(start)
        return batches
    }

    /// Returns true at the end of a batch.
    private mutating func consumeLine(_ range: Range<Int>) throws(StatusWireError) -> Bool {
        guard let kind = range.isEmpty ? nil : pending[range.lowerBound] else { return false }
        if kind == UInt8(ascii: ".") { return true }
        let fields = split(range)
        func bad() -> StatusWireError { .malformedLine(String(decoding: pending[range], as: UTF8.self)) }
        switch kind {
        case UInt8(ascii: "V"):
            guard fields.count >= 3, fields[1] == "icestat-status" else { throw bad() }
            guard fields[2] == String(StatusWireFormat.version) else { throw .unsupportedVersion(fields[2]) }
        case UInt8(ascii: "L"):
            guard fields.count >= 5 else { throw bad() }
            current.local = LocalAgentStatus(publicKey: fields[1], name: fields[2], startedAtMillis: Int64(fields[3]) ?? 0,
                                             lazyConnections: fields[4] == "1", servers: [])
            if fields.count > 5, !fields[5].isEmpty { current.local?.configError = fields[5] }
            sawLocal = true
        case UInt8(ascii: "S"):
            guard fields.count >= 5, sawLocal, let kind = ServerStatus.Kind(rawValue: fields[1]) else { throw bad() }
            current.local?.servers.append(ServerStatus(kind: kind, address: fields[2], available: fields[3] == "1",
                                                       error: fields[4].isEmpty ? nil : fields[4]))
        case UInt8(ascii: "N"):
            guard fields.count >= 7, sawLocal, let checked = Int64(fields[6]) else { throw bad() }
            current.local?.nat = NATStatus(verdict: fields[1], mapping: fields[2], filtering: fields[3],
                                           publicIPv4: fields[4].isEmpty ? nil : fields[4],
                                           publicIPv6: fields[5].isEmpty ? nil : fields[5], checkedAtMillis: checked)
        case UInt8(ascii: "P"):
            guard fields.count >= 16, let state = PeerConnectionState(rawValue: fields[3]),
                  let changed = Int64(fields[4]) else { throw bad() }
            var p = PeerStatus(id: fields[1], name: fields[2], stateChangedAtMillis: changed)
            p.state = state
            p.connectionType = ConnectionType(rawValue: fields[5])
            if !fields[6].isEmpty || !fields[7].isEmpty { p.localCandidate = CandidateEndpoint(type: fields[6], address: fields[7]) }
            if !fields[8].isEmpty || !fields[9].isEmpty { p.remoteCandidate = CandidateEndpoint(type: fields[8], address: fields[9]) }
            p.relayServer = fields[10].isEmpty ? nil : fields[10]
            p.latencyNanos = Int64(fields[11])
            p.bytesReceived = UInt64(fields[12]) ?? 0
            p.bytesSent = UInt64(fields[13]) ?? 0
            p.lastActivityMillis = Int64(fields[14])
            // An agent before typed reasons wrote its words here; an `R` line that follows replaces them.
            if !fields[15].isEmpty { p.reason = .unrecognized(code: fields[15]) }
            if fields.count > 16 { p.nextRetryAtMillis = Int64(fields[16]) }
            if fields.count > 17 { p.smoothedLatencyNanos = Int64(fields[17]) }
            if fields.count > 18 { p.ignoredCandidateCount = Int(fields[18]) ?? 0 }
            if fields.count > 19, !fields[19].isEmpty { p.ignoredCandidates = fields[19].split(separator: ",").map(String.init) }
            if fields.count > 20, !fields[20].isEmpty { p.relayTransport = fields[20] }
            current.peers.append(p)
        case UInt8(ascii: "R"):
            guard fields.count >= 2, !current.peers.isEmpty, let reason = PeerReason(wireFields: Array(fields[1...])) else { throw bad() }
            current.peers[current.peers.count - 1].reason = reason
        case UInt8(ascii: "G"):
            guard fields.count >= 6, let sequence = UInt64(fields[1]), let at = Int64(fields[2]) else { throw bad() }
            // A kind this icestat does not know (a newer agent's) is skipped.
            guard let kind = StatusEvent.Kind(wireFields: fields[5...]) else { break }
            current.events.append(StatusEvent(sequence: sequence, atMillis: at, peerID: fields[3].isEmpty ? nil : fields[3],
                                              peerName: fields[4].isEmpty ? nil : fields[4], kind: kind))
        case UInt8(ascii: "D"):
            guard fields.count % 2 == 1, !current.peers.isEmpty else { throw bad() }
            for i in stride(from: 1, to: fields.count, by: 2) {
                guard let count = UInt64(fields[i + 1]) else { throw bad() }
                // A reason this icestat does not know (a newer agent's) is skipped.
                if let reason = DatagramDropReason(rawValue: fields[i]) { current.peers[current.peers.count - 1].drops[reason] = count }
            }
        case UInt8(ascii: "H"):
            guard fields.count >= 2, !current.peers.isEmpty else { throw bad() }
            current.peers[current.peers.count - 1].latencyHistoryNanos = fields[1].split(separator: ",").compactMap { Int64($0) }
        case UInt8(ascii: "C"):
            guard fields.count >= 10, !current.peers.isEmpty, let sent = Int(fields[8]), let received = Int(fields[9]) else { throw bad() }
            current.peers[current.peers.count - 1].candidatePairs.append(CandidatePairStatus(
                local: CandidateEndpoint(type: fields[1], address: fields[2]),
                remote: CandidateEndpoint(type: fields[3], address: fields[4]),
                state: fields[5], nominated: fields[6] == "1", roundTripNanos: Int64(fields[7]),
                requestsSent: sent, responsesReceived: received))
        case UInt8(ascii: "X"):
            guard fields.count >= 2 else { throw bad() }
            current.removedPeerIDs.append(fields[1])
        default:
            break // Unknown kinds are skipped, so newer agents can add records.
        }
        return false
    }

    private func split(_ range: Range<Int>) -> [String] {
        pending.withUnsafeBufferPointer { buffer in
            var fields: [String] = []
            fields.reserveCapacity(16)
            var fieldStart = range.lowerBound
            var hasEscape = false
            var i = range.lowerBound
            while i <= range.upperBound {
                let b = i < range.upperBound ? buffer[i] : 9
                if b == 9 {
                    let slice = UnsafeBufferPointer(rebasing: buffer[fieldStart..<i])
                    fields.append(hasEscape ? Self.unescape(slice) : String(decoding: slice, as: UTF8.self))
                    fieldStart = i + 1
                    hasEscape = false
                } else if b == 92 {
                    hasEscape = true
                    i += 1 // the escaped byte is never a separator
                }
                i += 1
            }
            return fields
        }
    }

    private static func unescape(_ slice: UnsafeBufferPointer<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(slice.count)
        var escaped = false
        for b in slice {
            if escaped {
                out.append(b == UInt8(ascii: "t") ? 9 : b == UInt8(ascii: "n") ? 10 : b)
                escaped = false
            } else if b == 92 {
                escaped = true
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
