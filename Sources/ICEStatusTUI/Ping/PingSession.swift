import ICEEngine
import StatusRecorder

/// The agent's side of `icestat ping`: finds the peer, wakes it if idle, pings its selected pair `count` times
/// and reports each outcome as it happens; with `untilDirect` it starts a direct attempt while the path is
/// relayed and stops at the first direct pong.
struct PingSession {
    let request: PingRequest
    let target: any PingTarget
    /// Where the peer's state is read, to say what it was before a wake-up.
    let recorder: StatusRecorder

    /// How long an idle peer may take to connect: enough for ICE to fail over to a relay.
    static let connectTimeout: Duration = .seconds(20)

    func run(_ write: (PingLine) async throws -> Void) async throws {
        guard let peer = target.peer(named: request.peer), let connection = target.connection(to: peer.id) else {
            return try await write(.failed("no peer named \(request.peer)"))
        }
        if !((try? await connection.isConnected().get()) ?? false) {
            let was = recorder.peer(id: peer.id)?.state ?? .idle
            guard await target.wake(peer.id) else {
                return try await write(.failed("\(peer.name) is offline: it is not on the signal server"))
            }
            let start = ContinuousClock.now
            while !((try? await connection.isConnected().get()) ?? false) {
                guard ContinuousClock.now - start < Self.connectTimeout else {
                    return try await write(.failed("\(peer.name) did not connect within \(Self.connectTimeout.components.seconds) s"))
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            try await write(.woke(peer: peer.name, was: was.rawValue, millis: (ContinuousClock.now - start).nanoseconds / 1_000_000))
        }
        var attempted = false
        for sequence in 1...request.count {
            if sequence > 1 { try await Task.sleep(for: .milliseconds(request.intervalMillis)) }
            do {
                let reply = try await connection.ping(timeout: .milliseconds(request.timeoutMillis)).get()
                let path = reply.path
                let relayed = path.local.type == .relayed || path.remote.type == .relayed
                try await write(.pong(peer: peer.name, sequence: sequence, nanos: reply.roundTrip.nanoseconds,
                                      local: path.local.address.description, remote: path.remote.address.description,
                                      remoteType: path.remote.type.rawValue, relay: path.relay?.url, relayed: relayed))
                guard request.untilDirect else { continue }
                if !relayed { break }
                if !attempted, (try? await connection.startDirectAttempt().get()) == true {
                    attempted = true
                    try await write(.directAttempt(peer: peer.name))
                }
            } catch {
                try await write(.lost(peer: peer.name, sequence: sequence, why: "\(error)"))
            }
        }
        try await write(.end)
    }
}
