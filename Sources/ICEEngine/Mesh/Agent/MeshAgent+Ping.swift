import NIOCore
import ICE

/// What `icestat ping` needs of a running agent: its peers by name, waking one as traffic would, and its
/// connection to ping.
extension MeshAgent {
    /// A configured peer, by name or public key.
    public func peer(named nameOrKey: String) -> (id: String, name: String)? {
        let all: [MeshPeerConfiguration] = peers.values.map { $0.configuration }
        let byKey = all.first { $0.publicKey == nameOrKey }
        guard let c = byKey ?? all.first(where: { $0.name == nameOrKey }) else { return nil }
        return (c.publicKey, c.name)
    }

    /// The connection to a configured peer.
    public func connection(to id: String) -> PeerConnection? {
        peers[id]?.connection
    }

    /// Starts connecting to an idle peer as traffic for it would (a lazy wake-up); false when the remote is not
    /// on the signal server, so that no connection can start.
    public func wake(_ id: String) async -> Bool {
        guard let peer = peers[id] else { return false }
        return (try? await peer.wake().get()) ?? false
    }
}

extension MeshPeer {
    /// Opens the connection unless it is open; false when the remote is offline.
    func wake() -> EventLoopFuture<Bool> {
        eventLoop.submit {
            guard self.remoteOnlineOnLoop else { return false }
            self.openOnTraffic()
            return true
        }
    }
}
