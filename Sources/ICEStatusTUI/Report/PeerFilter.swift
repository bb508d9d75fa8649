import ArgumentParser
import StatusRecorder

/// The `--filter-by-…` options: they combine (all must match), and counts reflect the filtered set.
struct PeerFilter: Equatable {
    var statuses: Set<PeerConnectionState> = []
    var connectionTypes: Set<ConnectionType> = []
    /// Name prefixes; a peer matches if its name starts with any of them.
    var namePrefixes: [String] = []

    var isEmpty: Bool { statuses.isEmpty && connectionTypes.isEmpty && namePrefixes.isEmpty }

    func matches(_ p: PeerStatus) -> Bool {
        if !statuses.isEmpty, !statuses.contains(p.state) { return false }
        if !connectionTypes.isEmpty {
            guard p.state == .connected, let type = p.connectionType, connectionTypes.contains(type) else { return false }
        }
        if !namePrefixes.isEmpty, !namePrefixes.contains(where: { p.name.hasPrefix($0) }) { return false }
        return true
    }

    func apply(_ snapshot: StatusSnapshot) -> StatusSnapshot {
        guard !isEmpty else { return snapshot }
        var s = snapshot
        s.peers = snapshot.peers.filter(matches)
        let kept = Set(s.peers.map(\.id))
        s.events = snapshot.events.filter { $0.peerID.map(kept.contains) ?? true }
        return s
    }
}

/// `idle|connecting|connected` on the command line.
enum StatusArgument: String, ExpressibleByArgument, CaseIterable {
    case idle, connecting, connected
    var state: PeerConnectionState {
        switch self {
        case .idle: .idle
        case .connecting: .connecting
        case .connected: .connected
        }
    }
}

/// `p2p|relayed` on the command line.
enum ConnectionTypeArgument: String, ExpressibleByArgument, CaseIterable {
    case p2p, relayed
    var type: ConnectionType { self == .p2p ? .p2p : .relayed }
}

/// `live|ready` for `--check`.
enum CheckArgument: String, ExpressibleByArgument, CaseIterable {
    /// The agent answers on its status socket.
    case live
    /// Live, the signal server (if any) is up, and no peer (of the filtered set) is still Connecting.
    case ready

    func passes(_ snapshot: StatusSnapshot) -> Bool {
        switch self {
        case .live: return true
        case .ready:
            if let signal = snapshot.local.signal, !signal.available { return false }
            return !snapshot.peers.contains { $0.state == .connecting }
        }
    }
}
