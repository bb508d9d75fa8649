import ICEEngine

/// What the status socket needs from a running agent to answer `icestat ping`: its peers by name and their
/// connections. ``MeshAgent`` (`icestat up`) and the demo provide it.
package protocol PingTarget: Sendable {
    /// A peer by name or public key.
    func peer(named nameOrKey: String) -> (id: String, name: String)?
    func connection(to id: String) -> PeerConnection?
    /// Starts connecting an idle peer as traffic for it would; false when the remote is offline.
    func wake(_ id: String) async -> Bool
}

extension MeshAgent: PingTarget {}
