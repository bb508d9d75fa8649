import Synchronization
import STUN

/// The realm and nonce each TURN server last gave a client of this process, so that the next client's first
/// Allocate can be authenticated at once instead of learning them from a 401 (one round trip saved per
/// allocation; every ICE restart makes a new one). A stale nonce is answered with 438 and renewed as usual;
/// a 401 to a cached one falls back to the full exchange. Entries are dropped after `lifetime`.
final class TURNNonceCache: Sendable {
    static let shared = TURNNonceCache()
    /// coturn keeps a nonce 10 minutes by default; use it for a little less.
    static let lifetime: Duration = .seconds(300)

    private struct Key: Hashable {
        var url: String
        var username: String
    }

    private let entries = Mutex<[Key: (realm: String, nonce: String, at: ContinuousClock.Instant)]>([:])

    func lookup(_ server: TURNServer) -> (realm: String, nonce: String)? {
        entries.withLock { e in
            let key = Key(url: server.url, username: server.username)
            guard let entry = e[key] else { return nil }
            guard ContinuousClock.now - entry.at < Self.lifetime else { e[key] = nil; return nil }
            return (entry.realm, entry.nonce)
        }
    }

    func store(_ server: TURNServer, realm: String, nonce: String) {
        entries.withLock { e in
            if e.count > 1024 { e.removeAll() }
            e[Key(url: server.url, username: server.username)] = (realm, nonce, .now)
        }
    }
}
