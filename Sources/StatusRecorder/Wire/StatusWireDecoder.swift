#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors in a status stream.
public enum StatusWireError: Error, Sendable, Hashable, CustomStringConvertible {
    case unsupportedVersion(String)
    case malformedLine(String)

    public var description: String {
        switch self {
        case .unsupportedVersion(let v): "status socket speaks version \(v); this icestat reads versions 1 to \(StatusWireFormat.version)"
        case .malformedLine(let l): "malformed status line: \(l.prefix(80))"
        }
    }
}

/// Incremental decoder of the status stream: feed bytes as they arrive, take whole batches out, or have each
/// record handed to a ``StatusStreamSink`` as it completes.
public struct StatusWireDecoder: Sendable {
    private var pending: [UInt8] = []
    private var layouts = Layouts.version1
    /// The record being read, complete at the next line that is not one of its own.
    private var openPeer: PeerStatus?
    private var openLocal: LocalAgentStatus?
    /// The batch being collected for ``feed(_:)``.
    private var collector = StatusChangeCollector()

    public init() {}

    /// Adds received bytes and returns every batch they complete, in order.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(StatusWireError) -> [StatusChange] {
        var collector = self.collector
        self.collector = StatusChangeCollector() // held once, so appending does not copy it
        try feed(bytes, into: &collector)
        let batches = collector.batches
        collector.batches = []
        self.collector = collector
        return batches
    }

    /// Adds received bytes and hands `sink` every record they complete.
    public mutating func feed<Sink: StatusStreamSink>(_ bytes: some Collection<UInt8>, into sink: inout Sink) throws(StatusWireError) {
        // The bytes are read in place: held apart from `self` while its lines are read, so the reading may change it.
        var lines = pending
        pending = []
        lines.append(contentsOf: bytes)
        var consumed = 0
        var fields: [WireValue] = [] // every line's values, emptied before the next (they view `lines`)
        fields.reserveCapacity(32)
        let failure = lines.withUnsafeBufferPointer { buffer -> StatusWireError? in
            guard let base = buffer.baseAddress else { return nil }
            while consumed < buffer.count, let hit = memchr(base + consumed, 10, buffer.count - consumed) {
                let end = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                do throws(StatusWireError) {
                    try consumeLine(UnsafeBufferPointer(rebasing: buffer[consumed..<end]), fields: &fields, into: &sink)
                } catch {
                    return error // the line stays pending: the stream is broken there
                }
                consumed = end + 1
            }
            return nil
        }
        lines.removeFirst(consumed)
        pending = lines
        if let failure { throw failure }
    }

    private mutating func flush<Sink: StatusStreamSink>(into sink: inout Sink) {
        // Taken out, not copied: the sink gets the only reference to each string and array.
        if let local = openLocal.take() { sink.local(local) }
        if let peer = openPeer.take() { sink.peer(peer) }
    }

    private mutating func consumeLine<Sink: StatusStreamSink>(_ line: UnsafeBufferPointer<UInt8>, fields: inout [WireValue],
                                                              into sink: inout Sink) throws(StatusWireError) {
        guard let kind = line.first else { return }
        if kind == UInt8(ascii: ".") {
            flush(into: &sink)
            sink.batchEnd()
            return
        }
        defer { fields.removeAll(keepingCapacity: true) }
        Self.split(line, into: &fields)
        let values = fields.dropFirst()
        func bad() -> StatusWireError { .malformedLine(String(decoding: line, as: UTF8.self)) }
        /// The values as strings, for the kinds read as words rather than by a field table.
        func words() -> [String] { values.map(\.string) }
        // A line of the open record's own extends it; any other line completes it first.
        switch kind {
        case UInt8(ascii: "S"), UInt8(ascii: "N"): if openPeer != nil { flush(into: &sink) }
        case UInt8(ascii: "R"), UInt8(ascii: "D"), UInt8(ascii: "H"), UInt8(ascii: "C"): if openLocal != nil { flush(into: &sink) }
        case UInt8(ascii: "V"), UInt8(ascii: "F"), UInt8(ascii: "L"), UInt8(ascii: "P"), UInt8(ascii: "U"), UInt8(ascii: "G"),
             UInt8(ascii: "X"):
            flush(into: &sink)
        default: break // Unknown kinds are skipped, so newer agents can add records.
        }
        switch kind {
        case UInt8(ascii: "V"):
            let header = words()
            guard header.count >= 2, header[0] == "icestat-status" else { throw bad() }
            guard let version = Int(header[1]), (1...StatusWireFormat.version).contains(version) else { throw .unsupportedVersion(header[1]) }
            layouts = .version1
            sink.header(version: version)
        case UInt8(ascii: "F"):
            let declaration = words()
            guard let declared = declaration.first else { throw bad() }
            layouts.declare(kind: declared, names: declaration.dropFirst())
        case UInt8(ascii: "L"):
            var local = LocalAgentStatus()
            guard layouts.local.read(values, into: &local, fields: StatusWireSchema.local) else { throw bad() }
            openLocal = local
        case UInt8(ascii: "S"):
            var server = ServerStatus(kind: .signal, address: "", available: false)
            guard openLocal != nil, layouts.server.read(values, into: &server, fields: StatusWireSchema.server) else { throw bad() }
            openLocal?.servers.append(server)
        case UInt8(ascii: "N"):
            var nat = NATStatus(verdict: "", mapping: "", filtering: "", checkedAtMillis: 0)
            guard openLocal != nil, layouts.nat.read(values, into: &nat, fields: StatusWireSchema.nat) else { throw bad() }
            openLocal?.nat = nat
        case UInt8(ascii: "P"):
            var peer = PeerStatus(id: "", name: "", stateChangedAtMillis: 0)
            guard layouts.peer.read(values, into: &peer, fields: StatusWireSchema.peer) else { throw bad() }
            openPeer = peer
        case UInt8(ascii: "U"):
            var counters = PeerCounters(id: "")
            guard layouts.counters.read(values, into: &counters, fields: StatusWireSchema.counters), !counters.id.isEmpty else { throw bad() }
            sink.counters(counters)
        case UInt8(ascii: "R"):
            guard !values.isEmpty, openPeer != nil, let reason = PeerReason(wireFields: words()) else { throw bad() }
            openPeer?.reason = reason
        case UInt8(ascii: "D"):
            guard values.count % 2 == 0, openPeer != nil else { throw bad() }
            for i in stride(from: values.startIndex, to: values.endIndex, by: 2) {
                guard let count = values[i + 1].integer(UInt64.self) else { throw bad() }
                // A reason this icestat does not know (a newer agent's) is skipped.
                if let reason = DatagramDropReason(rawValue: values[i].string) { openPeer?.drops[reason] = count }
            }
        case UInt8(ascii: "H"):
            guard let history = values.first, openPeer != nil else { throw bad() }
            openPeer?.latencyHistoryNanos = history.string.split(separator: ",").compactMap { Int64($0) }
        case UInt8(ascii: "C"):
            var pair = CandidatePairStatus(local: CandidateEndpoint(type: "", address: ""), remote: CandidateEndpoint(type: "", address: ""),
                                           state: "", nominated: false, roundTripNanos: nil, requestsSent: 0, responsesReceived: 0)
            guard openPeer != nil, layouts.pair.read(values, into: &pair, fields: StatusWireSchema.pair) else { throw bad() }
            openPeer?.candidatePairs.append(pair)
        case UInt8(ascii: "G"):
            var event = StatusEvent(sequence: 0, atMillis: 0, kind: .lazyWake)
            guard layouts.event.read(values, into: &event, fields: StatusWireSchema.event),
                  let tail = layouts.event.tail, tail < values.count else { throw bad() }
            // A kind this icestat does not know (a newer agent's) is skipped.
            guard let kind = StatusEvent.Kind(wireFields: values[(values.startIndex + tail)...].map(\.string)[...]) else { break }
            event.kind = kind
            sink.event(event)
        case UInt8(ascii: "X"):
            guard let id = values.first else { throw bad() }
            sink.removed(peerID: id.string)
        default:
            break
        }
    }

    /// The line's tab-separated values (the kind's letter first), as views of its bytes.
    private static func split(_ line: UnsafeBufferPointer<UInt8>, into fields: inout [WireValue]) {
        guard let start = line.baseAddress else { return fields.append(.absent) }
        let end = start + line.count
        var fieldStart = start
        var hasEscape = false
        var p = start
        // Every byte is looked at once, through a pointer: this loop reads every byte of a 10,000-peer snapshot.
        while p < end {
            let b = p.pointee
            if b == 9 {
                fields.append(WireValue(bytes: UnsafeBufferPointer(start: fieldStart, count: p - fieldStart), hasEscape: hasEscape))
                fieldStart = p + 1
                hasEscape = false
            } else if b == 92 {
                hasEscape = true
                if p + 1 < end { p += 1 } // the escaped byte is never a separator
            }
            p += 1
        }
        fields.append(WireValue(bytes: UnsafeBufferPointer(start: fieldStart, count: end - fieldStart), hasEscape: hasEscape))
    }
}

extension StatusWireDecoder {
    /// The layout of each kind's lines in the stream being read.
    struct Layouts: Sendable {
        typealias V1 = StatusWireSchema.Version1
        typealias Schema = StatusWireSchema
        private static let localIndex = WireLayout.fieldIndex(Schema.local)
        private static let serverIndex = WireLayout.fieldIndex(Schema.server)
        private static let natIndex = WireLayout.fieldIndex(Schema.nat)
        private static let peerIndex = WireLayout.fieldIndex(Schema.peer)
        private static let pairIndex = WireLayout.fieldIndex(Schema.pair)
        private static let countersIndex = WireLayout.fieldIndex(Schema.counters)
        private static let eventIndex = WireLayout.fieldIndex(Schema.event)

        /// Version 1's, until a stream declares its own: built once.
        static let version1 = Layouts(
            local: WireLayout(names: V1.local, fieldIndex: localIndex, fieldCount: Schema.local.count, minimumValues: V1.minimumFields[UInt8(ascii: "L")]),
            server: WireLayout(names: V1.server, fieldIndex: serverIndex, fieldCount: Schema.server.count, minimumValues: V1.minimumFields[UInt8(ascii: "S")]),
            nat: WireLayout(names: V1.nat, fieldIndex: natIndex, fieldCount: Schema.nat.count, minimumValues: V1.minimumFields[UInt8(ascii: "N")]),
            peer: WireLayout(names: V1.peer, fieldIndex: peerIndex, fieldCount: Schema.peer.count, minimumValues: V1.minimumFields[UInt8(ascii: "P")]),
            pair: WireLayout(names: V1.pair, fieldIndex: pairIndex, fieldCount: Schema.pair.count, minimumValues: V1.minimumFields[UInt8(ascii: "C")]),
            // Newer than version 1: read in the table's order unless declared.
            counters: WireLayout(names: Schema.counters.map(\.name), fieldIndex: countersIndex, fieldCount: Schema.counters.count),
            event: WireLayout(names: V1.event, fieldIndex: eventIndex, fieldCount: Schema.event.count, minimumValues: V1.minimumFields[UInt8(ascii: "G")]))

        var local: WireLayout
        var server: WireLayout
        var nat: WireLayout
        var peer: WireLayout
        var pair: WireLayout
        var counters: WireLayout
        var event: WireLayout

        /// An `F` line: a kind this build does not read is ignored.
        mutating func declare(kind: String, names: ArraySlice<String>) {
            switch kind {
            case "L": local = WireLayout(names: names, fieldIndex: Self.localIndex, fieldCount: Schema.local.count)
            case "S": server = WireLayout(names: names, fieldIndex: Self.serverIndex, fieldCount: Schema.server.count)
            case "N": nat = WireLayout(names: names, fieldIndex: Self.natIndex, fieldCount: Schema.nat.count)
            case "P": peer = WireLayout(names: names, fieldIndex: Self.peerIndex, fieldCount: Schema.peer.count)
            case "C": pair = WireLayout(names: names, fieldIndex: Self.pairIndex, fieldCount: Schema.pair.count)
            case "U": counters = WireLayout(names: names, fieldIndex: Self.countersIndex, fieldCount: Schema.counters.count)
            case "G": event = WireLayout(names: names, fieldIndex: Self.eventIndex, fieldCount: Schema.event.count)
            default: break
            }
        }
    }
}
