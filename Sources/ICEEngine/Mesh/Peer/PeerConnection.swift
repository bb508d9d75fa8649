import NIOCore
import StatusRecorder
import STUN
import ICE
import Signal

/// The connection to one remote peer (NetBird's `Conn`): it owns the ICE agent of the current session, speaks
/// offer/answer/candidates through signaling, retries with backoff, and reports every change to the recorder.
///
/// The controlling side is the one with the greater public key. All state lives on `eventLoop`.
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
    let configuration: ICEAgentConfiguration
    let onData: @Sendable (ByteBuffer) -> Void
    let onLifecycle: @Sendable (Lifecycle) -> Void

    // Confined to `eventLoop`.
    var agent: ICEAgent?
    var session: UInt64 = 0
    var remoteSession: UInt64?
    var pendingCandidates: [UInt64: [Candidate]] = [:]
    var isOpen = false
    var attempt = 0
    var retryTimer: Scheduled<Void>?
    var connected = false
    /// During an ICE restart: the previous session's agent, still carrying data until the new one connects.
    var draining: ICEAgent?
    /// Set while the selected pair is relayed: why, shown as the peer's reason.
    var relayedReason: PeerReason?
    var directAttempt = 0
    var directRetryTimer: Scheduled<Void>?
    var directRetryAt: Int64?
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
    /// Why the peer is reconnecting (its relay's connection was lost), shown until it is Connected again.
    var reconnectReason: PeerReason?
    /// Consent was lost on the path; the next Connected is logged as consent regained.
    var consentLost = false
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

    public init(localKey: String, remoteKey: String, name: String, recorder: StatusRecorder?,
                signaling: SignalingTransport, configuration: ICEAgentConfiguration, eventLoop: EventLoop,
                onData: @escaping @Sendable (ByteBuffer) -> Void = { _ in },
                onLifecycle: @escaping @Sendable (Lifecycle) -> Void = { _ in }) {
        self.localKey = localKey
        self.remoteKey = remoteKey
        self.name = name
        self.recorder = recorder
        self.signaling = signaling
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.onData = onData
        self.onLifecycle = onLifecycle
        recorder?.addPeer(id: remoteKey, name: name)
    }

    var role: ICERole { localKey > remoteKey ? .controlling : .controlled }

    // MARK: Public API

    /// Starts connecting: Idle → Connecting, a new ICE session and an offer to the remote.
    public func open() {
        eventLoop.execute {
            guard !self.isOpen else { return }
            self.isOpen = true
            self.attempt = 0
            self.onLifecycle(.opened)
            self.startSession(sendOffer: true)
        }
    }

    /// Stops trying and releases the session: → Idle.
    public func close(reason: PeerReason? = nil) -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            let wasOpen = self.isOpen
            self.isOpen = false
            self.retryTimer?.cancel()
            self.retryTimer = nil
            self.endRelayFallback()
            self.pairsReporter?.cancel()
            self.connected = false
            self.consentLost = false
            self.reportTraffic()
            self.recorder?.updateState(id: self.remoteKey, .idle, reason: reason)
            self.recorder?.updateNextRetry(id: self.remoteKey, atMillis: nil)
            self.recorder?.updateCandidatePairs(id: self.remoteKey, [])
            let closing = self.agent?.close() ?? self.eventLoop.makeSucceededVoidFuture()
            let drained = self.draining?.close() ?? self.eventLoop.makeSucceededVoidFuture()
            self.agent = nil
            self.draining = nil
            self.remoteSession = nil
            if wasOpen { self.onLifecycle(.closed) }
            return closing.and(drained).map { _ in }
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
        guard let agent = connected ? agent : draining else { return noteDrop(.noPath) }
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
        eventLoop.execute {
            guard self.isOpen else { return }
            self.startSession(sendOffer: true, keepingPath: self.connected)
        }
    }

    /// Starts the next direct attempt from the shortest backoff again (signal reconnected, network changed).
    public func resetDirectBackoff() {
        eventLoop.execute {
            self.directAttempt = 0
            if self.relayedReason != nil, self.directRetryTimer != nil { self.scheduleDirectRetry() }
        }
    }

    /// The local addresses changed (NetBird's network monitor): the current candidates may be stale and a direct
    /// path may have become possible, so try again now with the shortest backoff. A relayed or connected peer
    /// restarts ICE keeping its path; a peer waiting to retry starts its next session at once.
    public func networkChanged() {
        eventLoop.execute {
            guard self.isOpen else { return }
            self.directAttempt = 0
            self.attempt = 0
            self.directRetryTimer?.cancel()
            self.directRetryTimer = nil
            if self.connected { self.recorder?.recordEvent(peerID: self.remoteKey, .iceRestart(.networkChanged)) }
            self.startSession(sendOffer: true, keepingPath: self.connected)
            if self.connected == false, self.draining == nil {
                self.recorder?.updateState(id: self.remoteKey, .connecting, reason: .networkChanged)
            }
        }
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
