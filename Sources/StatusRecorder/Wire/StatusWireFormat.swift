/// The status socket's wire format: UTF-8 lines of tab-separated fields, grouped in batches that end with a
/// line holding a single `.`. It is cheap to write and to parse, which keeps `--detail` fast with many peers.
///
/// Lines (first field is the record kind):
/// - `V  icestat-status  1`: version, first line of a stream.
/// - `L  publicKey  name  startedAtMillis  lazy(0|1)  configError`: the local agent; followed by its `S` lines.
/// - `S  kind  address  available(0|1)  error`: one server of the local agent.
/// - `N  verdict  mapping  filtering  publicIPv4  publicIPv6  checkedAtMillis`: the local agent's NAT, after its `S` lines.
/// - `P  id  name  state  stateChangedAtMillis  connType  localType  localAddress  remoteType  remoteAddress
///    relay  latencyNanos  bytesReceived  bytesSent  lastActivityMillis  reason  nextRetryAtMillis  smoothedLatencyNanos
///    ignoredCandidateCount  ignoredCandidates(comma-separated)  relayTransport`: one peer. Its reason field is
///    left empty (the reason follows as an `R` line) but for a reason kept as words (an older agent's, or a
///    newer code this build does not know).
/// - `R  code  facts…`: the reason of the peer before it (``PeerReason``'s code and facts; only when it has one).
/// - `D  reason  count  reason  count …`: the datagrams of the peer before it that were dropped, by reason
///    (``DatagramDropReason`` raw values; only when there are any).
/// - `H  nanos,nanos,…`: the latency history of the peer before it (full snapshots only).
/// - `C  localType  localAddress  remoteType  remoteAddress  state  nominated(0|1)  rttNanos  sent  received`:
///    one candidate pair of the peer before it (full batches only).
/// - `G  sequence  atMillis  peerID  peerName  code  facts…`: an event (``StatusEvent``; peer fields empty for
///    the agent's own).
/// - `X  id`: a peer was removed.
/// - `.`: end of batch (a snapshot, or one coalesced change).
///
/// Empty fields are absent values. Tab, newline and backslash inside a field are escaped as `\t`, `\n`, `\\`.
public enum StatusWireFormat {
    public static let version = 1

    public static func appendHeader(to out: inout [UInt8]) {
        out.append(contentsOf: "V\ticestat-status\t\(version)\n".utf8)
    }

    /// Appends a whole snapshot, and its events, as one batch; `full` adds latency histories and candidate pairs.
    public static func appendSnapshot(_ snapshot: StatusSnapshot, full: Bool = true, to out: inout [UInt8]) {
        out.reserveCapacity(out.count + 64 + snapshot.peers.count * 160)
        appendLocal(snapshot.local, to: &out)
        for peer in snapshot.peers { appendPeer(peer, full: full, to: &out) }
        appendEvents(snapshot.events, to: &out)
        out.append(contentsOf: ".\n".utf8)
    }

    /// Appends event lines (no batch end).
    public static func appendEvents(_ events: [StatusEvent], to out: inout [UInt8]) {
        for e in events {
            out.append(UInt8(ascii: "G"))
            appendFields([String(e.sequence), String(e.atMillis), e.peerID ?? "", e.peerName ?? ""] + e.kind.wireFields, to: &out)
        }
    }

    /// Appends one change as one batch. Latency histories are left out: a mirror extends its own from the
    /// latencies it receives, which keeps a busy stream small.
    public static func appendChange(_ change: StatusChange, to out: inout [UInt8]) {
        if let local = change.local { appendLocal(local, to: &out) }
        for peer in change.peers { appendPeer(peer, full: true, history: false, to: &out) }
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
        appendFields([local.publicKey, local.name, String(local.startedAtMillis), local.lazyConnections ? "1" : "0",
                      local.configError ?? ""], to: &out)
        for server in local.servers {
            out.append(UInt8(ascii: "S"))
            appendFields([server.kind.rawValue, server.address, server.available ? "1" : "0", server.error ?? ""], to: &out)
        }
        if let nat = local.nat {
            out.append(UInt8(ascii: "N"))
            appendFields([nat.verdict, nat.mapping, nat.filtering, nat.publicIPv4 ?? "", nat.publicIPv6 ?? "", String(nat.checkedAtMillis)], to: &out)
        }
    }

    static func appendPeer(_ p: PeerStatus, full: Bool, history: Bool = true, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "P"))
        appendFields([
            p.id, p.name, p.state.rawValue, String(p.stateChangedAtMillis), p.connectionType?.rawValue ?? "",
            p.localCandidate?.type ?? "", p.localCandidate?.address ?? "",
            p.remoteCandidate?.type ?? "", p.remoteCandidate?.address ?? "",
            p.relayServer ?? "", p.latencyNanos.map { String($0) } ?? "",
            String(p.bytesReceived), String(p.bytesSent), p.lastActivityMillis.map { String($0) } ?? "", unrecognizedWords(p.reason),
            p.nextRetryAtMillis.map { String($0) } ?? "", p.smoothedLatencyNanos.map { String($0) } ?? "",
            String(p.ignoredCandidateCount), p.ignoredCandidates.joined(separator: ","), p.relayTransport ?? "",
        ], to: &out)
        if let reason = p.reason, unrecognizedWords(reason).isEmpty {
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
            appendFields([c.local.type, c.local.address, c.remote.type, c.remote.address, c.state, c.nominated ? "1" : "0",
                          c.roundTripNanos.map { String($0) } ?? "", String(c.requestsSent), String(c.responsesReceived)], to: &out)
        }
    }

    /// A reason this build does not know goes back where a reader keeps such words: in the `P` line's reason
    /// field, which reads as ``PeerReason/unrecognized(code:)`` again, rather than as an `R` line whose code may
    /// be a known one without its facts.
    private static func unrecognizedWords(_ reason: PeerReason?) -> String {
        if case .unrecognized(let code) = reason { return code }
        return ""
    }

    private static func appendFields(_ fields: [String], to out: inout [UInt8]) {
        for field in fields {
            out.append(9)
            appendField(field, to: &out)
        }
        out.append(10)
    }

    private static func appendField(_ field: String, to out: inout [UInt8]) {
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
