import NIOCore
import Signal

/// The bad input a signal server must close a connection for, each on a connection of its own: garbage, a
/// length over the limit, a `send` before registration, and a wrong proof for another agent's key.
package enum SignalBadInput {
    /// Sends all four to the server on `port`; `victim` is the key the liar claims.
    package static func send(port: Int, group: EventLoopGroup, victim: [UInt8]) async throws -> [(String, RawSignalConnection)] {
        let garbage = try await RawSignalConnection(port: port, group: group)
        try await garbage.sendRaw([0, 0, 0, 3, 99, 1, 2])
        let huge = try await RawSignalConnection(port: port, group: group)
        try await huge.sendRaw([0, 1, 0, 0])   // 65,536 bytes announced
        let early = try await RawSignalConnection(port: port, group: group)
        try await early.send(.send(to: victim, body: [1]))
        let liar = try await RawSignalConnection(port: port, group: group)
        try await liar.send(.hello(publicKey: victim))
        _ = await liar.next()
        try await liar.send(.proof(mac: [UInt8](repeating: 1, count: 32)))
        return [("garbage", garbage), ("huge", huge), ("early", early), ("liar", liar)]
    }

    /// The error frame each connection got before the server closed it (nil: closed without one).
    package static func closingErrors(_ connections: [(String, RawSignalConnection)]) async -> [String: String?] {
        var errors: [String: String?] = [:]
        for (name, connection) in connections {
            var last: SignalFrame?
            while let frame = await connection.next() { last = frame }
            if case .error(let why)? = last { errors[name] = why } else { errors[name] = .some(nil) }
        }
        return errors
    }
}
