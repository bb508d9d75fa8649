import Foundation
import ICEEngine
import ICEStatusTUI
import Logging
import NIOCore
import Synchronization

/// The agents of `icestat bench signal`: one real ``SignalClient`` per key (registration with its proof,
/// sealing, presence), all in this process on one event loop group, with what they hear tallied.
final class SignalBenchAgents: Sendable {
    /// What the agents heard, and when.
    struct Tally {
        /// When each agent last registered.
        var registeredAt: [Int: ContinuousClock.Instant] = [:]
        /// On which server each agent last registered.
        var server: [Int: String] = [:]
        var received = 0
        /// Nanoseconds from send to delivery of the messages that carried their send time.
        var latencies: [UInt64] = []
        /// While recording: (watcher, key, online, when) for every presence notice.
        var presence: [(watcher: Int, key: String, online: Bool, at: ContinuousClock.Instant)]?
    }

    let keys: [PeerKey]
    private let clients: [SignalClient]
    private let watching: [[Int]]
    /// The tally, in a box of its own so that the clients' handlers can hold it before `self` exists.
    final class TallyBox: Sendable { let mutex = Mutex(Tally()) }
    private let box = TallyBox()

    /// A copy of the tally now.
    var tally: Tally { box.mutex.withLock { $0 } }

    /// Starts (or stops) recording presence notices.
    func recordPresence(_ on: Bool) { box.mutex.withLock { $0.presence = on ? [] : nil } }

    /// - Parameters:
    ///   - servers: each agent's list of signal nodes, tried in turn.
    ///   - watching: the agents each one asks presence notices of.
    init(count: Int, servers: (Int) -> [(host: String, port: Int)], watching: @escaping (Int) -> [Int], group: EventLoopGroup) {
        var quiet = Logger(label: "icestat.bench.signal")
        quiet.logLevel = .critical
        let keys = (0..<count).map { _ in PeerKey() }
        self.keys = keys
        self.watching = (0..<count).map(watching)
        var clients: [SignalClient] = []
        clients.reserveCapacity(count)
        let box = self.box
        for i in 0..<count {
            clients.append(SignalClient(servers: servers(i), key: keys[i], eventLoop: group.next(), logger: quiet) { event in
                Self.record(event, agent: i, into: box)
            })
        }
        self.clients = clients
    }

    private static func record(_ event: SignalClient.Event, agent: Int, into box: TallyBox) {
        switch event {
        case .connected(let server):
            let now = ContinuousClock.now
            box.mutex.withLock { $0.registeredAt[agent] = now; $0.server[agent] = server }
        case .message(_, let message):
            let arrived = DispatchTime.now().uptimeNanoseconds
            var sentAt: UInt64?
            if case .candidate(let text, _) = message, text.hasPrefix("bench ") { sentAt = UInt64(text.dropFirst(6)) }
            box.mutex.withLock { t in
                t.received += 1
                if let sentAt, arrived >= sentAt { t.latencies.append(arrived - sentAt) }
            }
        case .presence(let key, let online):
            let now = ContinuousClock.now
            box.mutex.withLock { t in t.presence?.append((agent, key, online, now)) }
        case .disconnected:
            break
        }
    }

    func start() {
        for (i, client) in clients.enumerated() { client.start(watching: watching[i].map { keys[$0].publicKeyBase64 }) }
    }

    /// Sends one sealed message from agent `i` to agent `j`; `timed` carries the send time for the latency.
    func send(from i: Int, to j: Int, timed: Bool) {
        let text = timed ? "bench \(DispatchTime.now().uptimeNanoseconds)" : "bench"
        clients[i].send(.candidate(text, session: 0), from: keys[i].publicKeyBase64, to: keys[j].publicKeyBase64)
    }

    /// Waits until every agent in `agents` has registered after `since`; the time that took, or nil on timeout.
    func waitRegistered(_ agents: [Int], after since: ContinuousClock.Instant, timeout: Duration) async -> Duration? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let last = box.mutex.withLock { t -> ContinuousClock.Instant? in
                var latest = since
                for a in agents {
                    guard let at = t.registeredAt[a], at > since else { return nil }
                    latest = max(latest, at)
                }
                return latest
            }
            if let last { return last - since }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    /// Waits until `received` reaches `count`; the time from `since`, or nil on timeout.
    func waitReceived(_ count: Int, after since: ContinuousClock.Instant, timeout: Duration) async -> Duration? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if box.mutex.withLock({ $0.received }) >= count { return ContinuousClock.now - since }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return nil
    }

    /// Clears the message counters before a phase.
    func resetMessages() { box.mutex.withLock { $0.received = 0; $0.latencies = [] } }

    func stop() async {
        for client in clients { _ = try? await client.stop().get() }
    }
}
