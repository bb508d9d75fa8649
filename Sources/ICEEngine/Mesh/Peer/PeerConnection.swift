import NIOCore
import StatusRecorder
import STUN
import ICE
import Signal

/// The connection to one remote peer (NetBird's `Conn`): it owns the ICE agent of the current session, speaks
/// offer/answer/candidates through signaling, retries with backoff, and reports every change to the recorder.
///
/// The controlling side is the one with the greater public key. All state lives on `eventLoop`. Which state
/// the connection is in, and what each event does to it, is ``PeerStateMachine``'s: this class feeds it events
/// and carries out the actions it returns (sessions, timers, the recorder, the owner).
///
/// Paths: the ICE session holds direct (host, srflx, prflx) and relayed (TURN) pairs and prefers direct ones.
/// When it settles on a relayed pair, each side keeps retrying the direct path with ICE restarts
/// (backoff from 3 s, doubling, capped at a random 30–45 s, as NetBird); the relayed path carries data until a
/// restart selects a direct pair, so the switch loses nothing.
public final class PeerConnection: @unchecked Sendable {
    /// Lifecycle changes the owner may act on (lazy connections, buffered data), on `eventLoop`.
    public enum Lifecycle: Sendable, Equatable {
        /// Started trying: by `open()` or woken by the remote's offer.
        case opened
        case connected(relayed: Bool)
        /// Stopped trying: closed here or told by the remote.
        case closed
    }

    public let localKey: String
    public let remoteKey: String
    public let name: String
    public let eventLoop: EventLoop
    let recorder: StatusRecorder?
    let signaling: SignalingTransport
    private let shared: SharedConfiguration
    var configuration: ICEAgentConfiguration { shared.ice }
    let onData: @Sendable (ByteBuffer) -> Void
    let onLifecycle: @Sendable (Lifecycle) -> Void

    // Confined to `eventLoop`.
    /// The connection's state and the rules between its states; this class carries out what it returns.
    var machine: PeerStateMachine
    /// The current session's agent (kept after a failure until the retry starts the next one).
    var agent: ICEAgent?
    /// During an ICE restart: the previous session's agent, still carrying data until the new one connects.
    var draining: ICEAgent?
    var session: UInt64 = 0
    /// The remote's session that the current one has met.
    var remoteSession: UInt64?
    var pendingCandidates: [UInt64: [Candidate]] = [:]
    var retryTimer: Scheduled<Void>?
    var directRetryTimer: Scheduled<Void>?
    /// Refreshes the recorded candidate pairs while checks run (their states change without events); once
    /// connected, every consent round trip reports them instead.
    var pairsReporter: RepeatedTask?
    /// Why the current session's TURN allocation failed, if it did: the server and its error.
    var relayFailure: (server: String, error: String)?
    /// The latest UDP TURN allocation failed (so a stream relay is the fallback's fallback); kept across
    /// sessions, since a retry's stream relay is chosen before its UDP Allocate times out again.
    var udpRelayFailed = false
    /// The TURN server the selected pair relays through, if ours is relayed.
    var selectedRelay: TURNServer?
    /// Bytes and drops not yet reported: the data path counts here and the recorder hears of it at most
    /// every ``trafficReportInterval``, so a datagram never waits on the recorder's lock.
    var tally = TrafficTally()
    var tallyReport: Scheduled<Void>?

    /// Backoff between attempts after a failure: from 3 s, doubling, capped at a random 30–45 s (NetBird's guard).
    public var initialRetryDelay: Duration = .seconds(3)
    /// This agent's NAT verdict (from its netcheck), sent in offers and answers; set by the owner before use.
    public var localNAT: @Sendable () -> NATVerdict? = { nil }
    /// The remote's NAT verdict, from its latest offer or answer. Confined to `eventLoop`.
    var remoteNAT: NATVerdict?

    public convenience init(localKey: String, remoteKey: String, name: String, recorder: StatusRecorder?,
                            signaling: SignalingTransport, configuration: ICEAgentConfiguration, eventLoop: EventLoop,
                            onData: @escaping @Sendable (ByteBuffer) -> Void = { _ in },
                            onLifecycle: @escaping @Sendable (Lifecycle) -> Void = { _ in }) {
        self.init(localKey: localKey, remoteKey: remoteKey, name: name, recorder: recorder, signaling: signaling,
                  configuration: SharedConfiguration(configuration), eventLoop: eventLoop, onData: onData, onLifecycle: onLifecycle)
    }

    /// With a configuration shared by all of an agent's peers.
    init(localKey: String, remoteKey: String, name: String, recorder: StatusRecorder?,
                signaling: SignalingTransport, configuration: SharedConfiguration, eventLoop: EventLoop,
                onData: @escaping @Sendable (ByteBuffer) -> Void = { _ in },
                onLifecycle: @escaping @Sendable (Lifecycle) -> Void = { _ in }) {
        self.localKey = localKey
        self.remoteKey = remoteKey
        self.name = name
        self.recorder = recorder
        self.signaling = signaling
        self.shared = configuration
        self.eventLoop = eventLoop
        self.onData = onData
        self.onLifecycle = onLifecycle
        self.machine = PeerStateMachine(relayOnly: configuration.ice.relayOnly)
        recorder?.addPeer(id: remoteKey, name: name)
    }

    var role: ICERole { localKey > remoteKey ? .controlling : .controlled }

    // MARK: Public API

    /// Starts connecting: Idle → Connecting, a new ICE session and an offer to the remote.
    public func open() {
        eventLoop.execute { self.apply(.open) }
    }

    /// Stops trying and releases the session: → Idle.
    public func close(reason: PeerReason? = nil) -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            EventLoopFuture.andAllSucceed(self.apply(.close(reason: reason)), on: self.eventLoop)
        }
    }

    /// Sends application data over the selected path; counted in the recorder.
    public func send(_ bytes: [UInt8]) {
        eventLoop.execute { self.sendOnLoop(ByteBuffer(bytes: bytes)) }
    }

    /// Sends one datagram over the selected path, from the event loop; it leaves with the rest of the loop's
    /// round. Counted (or its drop counted, by reason) and reported to the recorder a few times a second.
    public func sendOnLoop(_ data: ByteBuffer) {
        eventLoop.assertInEventLoop()
        // During a restart the old path carries data until the new one is selected.
        guard let agent = machine.hasPath ? (draining ?? agent) : nil else { return noteDrop(.noPath) }
        switch agent.sendOnLoop(data) {
        case .sent:
            tally.sent &+= UInt64(data.readableBytes)
            scheduleTrafficReport()
        case .noPath: noteDrop(.noPath)
        case .queueFull: noteDrop(.sendQueueFull)
        }
    }

    /// Counts a datagram of this peer that the data plane dropped, on the event loop.
    public func noteDrop(_ reason: DatagramDropReason) {
        eventLoop.assertInEventLoop()
        tally.drops[reason] &+= 1
        scheduleTrafficReport()
    }

    func countReceived(_ bytes: Int) {
        tally.received &+= UInt64(bytes)
        scheduleTrafficReport()
    }

    /// How often counted traffic reaches the recorder, at most.
    static let trafficReportInterval = TimeAmount.milliseconds(250)

    func scheduleTrafficReport() {
        guard tallyReport == nil else { return }
        tallyReport = eventLoop.scheduleTask(in: Self.trafficReportInterval) { self.reportTraffic() }
    }

    func reportTraffic() {
        tallyReport?.cancel()
        tallyReport = nil
        guard !tally.isEmpty else { return }
        recorder?.addTraffic(id: remoteKey, received: tally.received, sent: tally.sent, drops: tally.drops)
        tally = TrafficTally()
    }

    /// ICE restart: a new session with new credentials, while the current path keeps carrying data (and the
    /// peer stays Connected) until the new session selects a pair. Starts a plain new session if not connected.
    public func restart() {
        eventLoop.execute { self.apply(.restart) }
    }

    /// Starts the next direct attempt from the shortest backoff again (signal reconnected, network changed).
    public func resetDirectBackoff() {
        eventLoop.execute { self.apply(.resetDirectBackoff(timedOut: self.directTimedOut, impossible: self.natNeedsRelay)) }
    }

    /// The local addresses changed (NetBird's network monitor): the current candidates may be stale and a direct
    /// path may have become possible, so try again now with the shortest backoff. A relayed or connected peer
    /// restarts ICE keeping its path; a peer waiting to retry starts its next session at once.
    public func networkChanged() {
        eventLoop.execute { self.apply(.networkChanged) }
    }

    /// The candidate pairs of the current session.
    public func candidatePairs() -> EventLoopFuture<[CandidatePair]> {
        eventLoop.flatSubmit { self.agent?.candidatePairs() ?? self.eventLoop.makeSucceededFuture([]) }
    }

    /// Handles one message from the remote (called by the signaling transport, from any thread).
    public func handleSignal(_ message: SignalMessage) {
        eventLoop.execute { self.handleSignalOnLoop(message) }
    }
}
