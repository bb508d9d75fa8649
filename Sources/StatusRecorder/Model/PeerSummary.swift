/// A few fields of a peer: what a list of thousands orders, filters, counts and highlights by, cheap to copy
/// (``StatusChangeFeed`` hands these, and a reader fetches the whole ``PeerStatus`` of the rows it shows).
public struct PeerSummary: Sendable, Hashable {
    public var id: String
    public var name: String
    public var state: PeerConnectionState
    public var connectionType: ConnectionType?
    public var latencyNanos: Int64?
    public var stateChangedAtMillis: Int64
    /// The selected pair's ends.
    public var localCandidate: CandidateEndpoint?
    public var remoteCandidate: CandidateEndpoint?

    public init(_ p: borrowing PeerStatus) {
        id = p.id
        name = p.name
        state = p.state
        connectionType = p.connectionType
        latencyNanos = p.latencyNanos
        stateChangedAtMillis = p.stateChangedAtMillis
        localCandidate = p.localCandidate
        remoteCandidate = p.remoteCandidate
    }

    /// Whether going from `old` to this is a change of state or of path.
    public func changesPath(from old: PeerSummary) -> Bool {
        old.state != state || old.connectionType != connectionType || old.localCandidate != localCandidate
            || old.remoteCandidate != remoteCandidate
    }

    /// The record as far as the summary knows it.
    public var bareRecord: PeerStatus {
        var p = PeerStatus(id: id, name: name, stateChangedAtMillis: stateChangedAtMillis)
        p.state = state
        p.connectionType = connectionType
        p.latencyNanos = latencyNanos
        p.localCandidate = localCandidate
        p.remoteCandidate = remoteCandidate
        return p
    }
}
