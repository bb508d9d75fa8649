/// The status socket's wire format: UTF-8 lines of tab-separated fields, grouped in batches that end with a
/// line holding a single `.`. It is cheap to write and to parse, which keeps `--detail` fast with many peers.
///
/// A stream declares its fields once (version 2): after `V  icestat-status  2` come `F` lines, one per record
/// kind, naming that kind's fields in the order its lines hold them (``StatusWireSchema``). A reader takes
/// fields by name: one it does not know (a newer agent's) is skipped, one the stream does not declare (an older
/// agent's) is absent. A stream without declarations (version 1) has the fixed order of
/// ``StatusWireSchema/Version1``.
///
/// Lines (first field is the record kind):
/// - `V  icestat-status  version`: first line of a stream.
/// - `F  kind  name  name…`: the fields of a kind's lines (`L`, `S`, `N`, `P`, `U`, `C`, `G`).
/// - `L …`: the local agent; followed by its `S` lines, then its `N` line.
/// - `S …`: one server of the local agent.
/// - `N …`: the local agent's NAT.
/// - `P …`: one peer. Its `reason-words` field is empty (the reason follows as an `R` line) but for a reason
///    kept as words (an older agent's, or a newer code this build does not know).
/// - `R  code  facts…`: the reason of the peer before it (``PeerReason``'s code and facts; only when it has one).
/// - `D  reason  count  reason  count …`: the datagrams of the peer before it that were dropped, by reason
///    (``DatagramDropReason`` raw values; only when there are any).
/// - `H  nanos,nanos,…`: the latency history of the peer before it (full snapshots only).
/// - `U …`: a peer of which only latency or traffic changed (``PeerCounters``), in a change batch of a watch
///   that asked for them; the peer's other fields stay as they were.
/// - `C …`: one candidate pair of the peer before it (full batches only).
/// - `G …  code  facts…`: an event (``StatusEvent``; peer fields empty for the agent's own). In a snapshot, the
///   agent's events follow its `L` lines and a peer's follow that peer's lines, so a reader can print each
///   record as it comes.
/// - `X  id`: a peer was removed.
/// - `.`: end of batch (a snapshot, or one coalesced change).
///
/// Empty fields are absent values. Tab, newline and backslash inside a field are escaped as `\t`, `\n`, `\\`.
public enum StatusWireFormat {
    public static let version = 2

    /// The version line and the declarations of every kind's fields.
    public static func appendHeader(to out: inout [UInt8]) {
        out.append(contentsOf: header)
    }

    private static let header: [UInt8] = {
        var out = Array("V\ticestat-status\t\(version)\n".utf8)
        declare("L", StatusWireSchema.local, to: &out)
        declare("S", StatusWireSchema.server, to: &out)
        declare("N", StatusWireSchema.nat, to: &out)
        declare("P", StatusWireSchema.peer, to: &out)
        declare("U", StatusWireSchema.counters, to: &out)
        declare("C", StatusWireSchema.pair, to: &out)
        declare("G", StatusWireSchema.event, tail: StatusWireSchema.eventTail, to: &out)
        return out
    }()

    /// Appends a whole snapshot as one batch, each peer followed by its events; `full` adds latency histories
    /// and candidate pairs.
    public static func appendSnapshot(_ snapshot: StatusSnapshot, full: Bool = true, to out: inout [UInt8]) {
        out.reserveCapacity(out.count + 64 + snapshot.peers.count * 160)
        var byPeer: [String: [StatusEvent]] = [:]
        var agent: [StatusEvent] = []
        for e in snapshot.events {
            if let id = e.peerID { byPeer[id, default: []].append(e) } else { agent.append(e) }
        }
        appendSnapshot(local: snapshot.local, agentEvents: agent, peerEvents: byPeer, peers: snapshot.peers, key: \.id,
                       to: &out) { peer, out in
            appendPeer(peer, full: full, to: &out)
            return true
        }
    }

    /// A snapshot batch in stream order: the agent and its events, each peer (written by `appendPeer`, false
    /// when it has no lines) followed by its events (`peerEvents`, by the peer's `key`), then the events of peers
    /// no longer there (removed meanwhile: those left in `peerEvents`, and `leftoverEvents`; oldest first), then
    /// the batch end.
    static func appendSnapshot<Peer, Key: Hashable>(local: LocalAgentStatus, agentEvents: [StatusEvent], peerEvents: [Key: [StatusEvent]],
                                                    leftoverEvents: [StatusEvent] = [], peers: some Sequence<Peer>,
                                                    key: (Peer) -> Key, to out: inout [UInt8],
                                                    appendPeer: (Peer, inout [UInt8]) -> Bool) {
        appendLocal(local, to: &out)
        appendEvents(agentEvents, to: &out)
        var peerEvents = peerEvents
        for peer in peers {
            guard appendPeer(peer, &out) else { continue }
            // Without events there is nothing to look up (a key's hash is the one cost of a peer here).
            if !peerEvents.isEmpty, let events = peerEvents.removeValue(forKey: key(peer)) { appendEvents(events, to: &out) }
        }
        appendEvents((peerEvents.values.joined() + leftoverEvents).sorted { $0.sequence < $1.sequence }, to: &out)
        out.append(contentsOf: ".\n".utf8)
    }

    /// Appends event lines (no batch end).
    public static func appendEvents(_ events: some Sequence<StatusEvent>, to out: inout [UInt8]) {
        for e in events {
            out.append(UInt8(ascii: "G"))
            appendRecord(e, StatusWireSchema.event, ending: false, to: &out)
            appendFields(e.kind.wireFields, to: &out)
        }
    }

    /// Appends one change as one batch. Latency histories are left out: a mirror extends its own from the
    /// latencies it receives, which keeps a busy stream small.
    public static func appendChange(_ change: StatusChange, to out: inout [UInt8]) {
        if let local = change.local { appendLocal(local, to: &out) }
        for peer in change.peers { appendPeer(peer, full: true, history: false, to: &out) }
        for counters in change.counters {
            out.append(UInt8(ascii: "U"))
            appendRecord(counters, StatusWireSchema.counters, to: &out)
        }
        for id in change.removedPeerIDs {
            out.append(contentsOf: "X\t".utf8)
            appendField(id, to: &out)
            out.append(10)
        }
        appendEvents(change.events, to: &out)
        out.append(contentsOf: ".\n".utf8)
    }

    static func appendLocal(_ local: LocalAgentStatus, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "L"))
        appendRecord(local, StatusWireSchema.local, to: &out)
        for server in local.servers {
            out.append(UInt8(ascii: "S"))
            appendRecord(server, StatusWireSchema.server, to: &out)
        }
        if let nat = local.nat {
            out.append(UInt8(ascii: "N"))
            appendRecord(nat, StatusWireSchema.nat, to: &out)
        }
    }

    static func appendPeer(_ p: PeerStatus, full: Bool, history: Bool = true, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "P"))
        appendRecord(p, StatusWireSchema.peer, to: &out)
        if let reason = p.reason, StatusWireSchema.unrecognizedWords(reason).isEmpty {
            out.append(UInt8(ascii: "R"))
            appendFields(reason.wireFields, to: &out)
        }
        if !p.drops.isEmpty {
            out.append(UInt8(ascii: "D"))
            appendFields(p.drops.nonZero.flatMap { [$0.reason.rawValue, String($0.count)] }, to: &out)
        }
        guard full else { return }
        if history, !p.latencyHistoryNanos.isEmpty {
            out.append(UInt8(ascii: "H"))
            appendFields([p.latencyHistoryNanos.map { String($0) }.joined(separator: ",")], to: &out)
        }
        for c in p.candidatePairs {
            out.append(UInt8(ascii: "C"))
            appendRecord(c, StatusWireSchema.pair, to: &out)
        }
    }

    private static func declare<Record>(_ kind: String, _ fields: [WireField<Record>], tail: String? = nil, to out: inout [UInt8]) {
        out.append(contentsOf: "F\t\(kind)".utf8)
        appendFields(fields.map(\.name) + (tail.map { [$0] } ?? []), to: &out)
    }

    /// A record's fields in its table's order, each after a tab, then (when `ending`) the newline.
    private static func appendRecord<Record>(_ record: Record, _ fields: [WireField<Record>], ending: Bool = true,
                                             to out: inout [UInt8]) {
        for field in fields {
            out.append(9)
            appendField(field.write(record), to: &out)
        }
        if ending { out.append(10) }
    }

    private static func appendFields(_ fields: [String], to out: inout [UInt8]) {
        for field in fields {
            out.append(9)
            appendField(field, to: &out)
        }
        out.append(10)
    }

    private static func appendField(_ field: String, to out: inout [UInt8]) {
        // Most fields need no escape: one copy of their bytes.
        if field.utf8.withContiguousStorageIfAvailable({ !$0.contains { $0 == 9 || $0 == 10 || $0 == 92 } }) == true {
            out.append(contentsOf: field.utf8)
            return
        }
        for byte in field.utf8 {
            switch byte {
            case 9: out.append(contentsOf: [92, UInt8(ascii: "t")])
            case 10: out.append(contentsOf: [92, UInt8(ascii: "n")])
            case 92: out.append(contentsOf: [92, 92])
            default: out.append(byte)
            }
        }
    }
}
