import Logging
import NIOCore
import Synchronization
import STUN
import ICE

/// Who is registered and who watches whom; shared by all connections of one server. With a backplane it is
/// also this node's side of the cluster: keys not registered here are looked up and reached through it.
final class SignalServerRegistry: SignalLocalNode, Sendable {
    private struct State {
        var sessions: [[UInt8]: Channel] = [:]
        /// key → the keys that asked for its presence.
        var watchers: [[UInt8]: Set<[UInt8]>] = [:]
        var counters = SignalServer.Counters()
        var stopping = false
    }

    private let state = Mutex(State())
    let logger: Logger
    let backplane: (any SignalBackplane)?

    init(logger: Logger, backplane: (any SignalBackplane)?) {
        self.logger = logger
        self.backplane = backplane
    }

    var counters: SignalServer.Counters { state.withLock { $0.counters } }

    func count(_ body: (inout SignalServer.Counters) -> Void) { state.withLock { body(&$0.counters) } }

    func stopping() { state.withLock { $0.stopping = true } }

    func allChannels() -> [Channel] { state.withLock { Array($0.sessions.values) } }

    /// The number of agents registered here.
    var sessionCount: Int { state.withLock { $0.sessions.count } }

    /// Registers `key` on `channel`, replacing an older connection of the same key, and tells its watchers.
    func register(_ key: [UInt8], channel: Channel) {
        let (previous, watchers) = state.withLock { s -> (Channel?, Set<[UInt8]>) in
            let previous = s.sessions.updateValue(channel, forKey: key)
            s.counters.registered += 1
            return (previous, s.watchers[key] ?? [])
        }
        if let previous, previous !== channel {
            replace(previous, key: key, why: "replaced by a new connection of the same key")
        }
        backplane?.localPresenceChanged(key, online: true)
        notify(watchers, about: key, online: true)
    }

    /// Removes `key` if `channel` still holds it, and tells its watchers (unless it is online on another node).
    func unregister(_ key: [UInt8], channel: Channel, watching: [[UInt8]]) {
        let watchers = state.withLock { s -> Set<[UInt8]>? in
            for watched in watching {
                s.watchers[watched]?.remove(key)
                if s.watchers[watched]?.isEmpty == true { s.watchers[watched] = nil }
            }
            guard s.sessions[key] === channel else { return nil }
            s.sessions[key] = nil
            return s.stopping ? nil : s.watchers[key] ?? []
        }
        guard let watchers else { return }
        backplane?.localPresenceChanged(key, online: false)
        if backplane?.isOnlineElsewhere(key) != true { notify(watchers, about: key, online: false) }
    }

    /// Records that `watcher` wants presence of `keys`, and answers with those online now, here or elsewhere.
    func subscribe(_ watcher: [UInt8], to keys: [[UInt8]]) -> [[UInt8]] {
        let (here, others) = state.withLock { s -> ([[UInt8]], [[UInt8]]) in
            for key in keys { s.watchers[key, default: []].insert(watcher) }
            var here: [[UInt8]] = [], others: [[UInt8]] = []
            for key in keys { if s.sessions[key] != nil { here.append(key) } else { others.append(key) } }
            return (here, others)
        }
        guard let backplane else { return here }
        return here + others.filter { backplane.isOnlineElsewhere($0) }
    }

    /// What became of a routed body.
    enum RouteResult: Equatable {
        case delivered, notOnline, refused(String)
    }

    /// Routes a sealed body to the receiver here, or through the backplane to its node.
    func route(_ body: [UInt8], from sender: [UInt8], to receiver: [UInt8]) -> RouteResult {
        guard let destination = state.withLock({ $0.sessions[receiver] }) else {
            switch backplane?.forward(body, from: sender, to: receiver) ?? .notOnline {
            case .forwarded:
                count { $0.forwarded += 1 }
                return .delivered
            case .notOnline:
                count { $0.undeliverable += 1 }
                return .notOnline
            case .refused(let why):
                count { $0.refused += 1 }
                logger.warning("\(Self.name(sender)) → \(Self.name(receiver)): refused: \(why)")
                return .refused(why)
            }
        }
        return deliver(body, from: sender, to: receiver, on: destination) ? .delivered : .notOnline
    }

    private func deliver(_ body: [UInt8], from sender: [UInt8], to receiver: [UInt8], on destination: Channel) -> Bool {
        guard destination.isWritable else {
            // Dropped at once, so the rest of its traffic is refused here rather than queued.
            let watchers = state.withLock { s -> Set<[UInt8]>? in
                guard s.sessions[receiver] === destination else { return nil }
                s.sessions[receiver] = nil
                s.counters.droppedSlowClients += 1
                return s.watchers[receiver] ?? []
            }
            if let watchers {
                logger.warning("\(Self.name(receiver)): dropped: send buffer full (client not reading)")
                destination.close(promise: nil)
                backplane?.localPresenceChanged(receiver, online: false)
                notify(watchers, about: receiver, online: false)
            }
            return false
        }
        count { $0.delivered += 1 }
        destination.writeAndFlush(SignalFrame.deliver(from: sender, body: body), promise: nil)
        return true
    }

    private func replace(_ previous: Channel, key: [UInt8], why: String) {
        logger.info("\(Self.name(key)): \(why)")
        previous.writeAndFlush(SignalFrame.error(why)).whenComplete { _ in previous.close(promise: nil) }
    }

    private func notify(_ watchers: Set<[UInt8]>, about key: [UInt8], online: Bool) {
        let channels = state.withLock { s in watchers.compactMap { s.sessions[$0] } }
        for channel in channels where channel.isWritable {
            channel.writeAndFlush(SignalFrame.presence(key: key, online: online), promise: nil)
        }
    }

    // MARK: SignalLocalNode

    func registeredKeys() -> [[UInt8]] { state.withLock { Array($0.sessions.keys) } }

    func deliverFromCluster(_ body: [UInt8], from sender: [UInt8], to receiver: [UInt8]) -> Bool {
        guard let destination = state.withLock({ $0.sessions[receiver] }) else {
            count { $0.droppedFromCluster += 1 }
            logger.warning("\(Self.name(sender)) → \(Self.name(receiver)): dropped a message from another node: receiver no longer here")
            return false
        }
        guard deliver(body, from: sender, to: receiver, on: destination) else {
            count { $0.droppedFromCluster += 1 }
            return false
        }
        count { $0.receivedFromCluster += 1 }
        return true
    }

    func remotePresenceChanged(_ key: [UInt8], online: Bool, node: String) {
        let (local, watchers) = state.withLock { s -> (Channel?, Set<[UInt8]>) in
            let local = s.sessions[key]
            // A registration elsewhere replaces ours, as a reconnect to this node would.
            if online, local != nil { s.sessions[key] = nil }
            return (local, s.stopping ? [] : s.watchers[key] ?? [])
        }
        if online, let local { replace(local, key: key, why: "replaced by a new connection of the same key on node \(node)") }
        if !online, local != nil { return }
        notify(watchers, about: key, online: online)
    }

    /// A short printable form of a key for logs: the first 8 base64 characters.
    static func name(_ key: [UInt8]) -> String { String(PeerKey.base64(key).prefix(8)) }
}
