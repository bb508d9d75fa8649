import STUN
import ICE
import Signal

/// What a config reload changes in a running ``MeshAgent``: the peer list (NetBird's network map) and the
/// lazy-connection settings. Everything else needs a restart.
public struct MeshPeerListChange: Sendable {
    public var name: String
    public var peers: [MeshPeerConfiguration]
    public var lazy: Bool
    public var inactivityThreshold: Duration

    public init(name: String, peers: [MeshPeerConfiguration], lazy: Bool, inactivityThreshold: Duration) {
        self.name = name
        self.peers = peers
        self.lazy = lazy
        self.inactivityThreshold = inactivityThreshold
    }

    /// What a reload did, by peer name, for the log.
    public struct Outcome: Sendable, Equatable, CustomStringConvertible {
        public var added: [String] = []
        public var removed: [String] = []
        /// Renamed, or a new service.
        public var updated: [String] = []
        /// A new local port.
        public var moved: [String] = []
        public var lazyChanged = false

        public var isEmpty: Bool { added.isEmpty && removed.isEmpty && updated.isEmpty && moved.isEmpty && !lazyChanged }

        public var description: String {
            if isEmpty { return "no change" }
            var parts: [String] = []
            if !added.isEmpty { parts.append("added \(added.joined(separator: ", "))") }
            if !removed.isEmpty { parts.append("removed \(removed.joined(separator: ", "))") }
            if !updated.isEmpty { parts.append("updated \(updated.joined(separator: ", "))") }
            if !moved.isEmpty { parts.append("moved \(moved.joined(separator: ", "))") }
            if lazyChanged { parts.append("lazy connections changed") }
            return parts.joined(separator: "; ")
        }
    }
}
