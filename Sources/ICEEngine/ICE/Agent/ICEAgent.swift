import NIOCore
import NIOPosix
import STUN

/// One ICE session with one remote agent (RFC 8445, one component, UDP), over host sockets and TURN relays.
///
/// All state lives on `eventLoop`; public methods may be called from anywhere and hop onto it.
/// Events go to `onEvent`, on the event loop, in the order they happen.
public final class ICEAgent: @unchecked Sendable {
    public let localCredentials: ICECredentials
    public let eventLoop: EventLoop
    public let configuration: ICEAgentConfiguration
    let onEvent: @Sendable (ICEAgentEvent) -> Void

    // Everything below is confined to `eventLoop`.
    var role: ICERole
    let tieBreaker: UInt64
    var remoteCredentials: ICECredentials? {
        didSet { remoteKey = remoteCredentials.map { STUNIntegrityKey(STUNCredentials.shortTermKey(password: $0.pwd)) } }
    }
    /// Prepared integrity keys: ours signs responses and checks requests; the remote's the reverse.
    let localKey: STUNIntegrityKey
    var remoteKey: STUNIntegrityKey?
    /// Host sockets and TURN allocations, in the order they were made; each is a local candidate's base.
    var endpoints: [LocalEndpoint] = []
    var nextEndpointID: LocalEndpoint.ID = 0
    var remoteCandidates: [Candidate] = []
    var checklist: Checklist
    var transactions: [STUNTransactionID: CheckTransaction] = [:]
    var gatherTransactions: [STUNTransactionID: GatherTransaction] = [:]
    var reflexiveCandidates: [Candidate] = []
    /// Local addresses learned from check responses (behind a NAT), never signalled.
    var localPeerReflexive: [Candidate] = []
    /// Peers each relay endpoint has a permission for.
    var relayPermissions: Set<RelayPermission> = []
    /// STUN transactions and TURN allocations still running.
    var outstandingGathers = 0
    var gatheringDone = false
    var state: ICEConnectionState = .new
    var selectedPairID: Int? {
        didSet {
            guard let pair = selectedPairID.flatMap({ pair($0) }), let endpoint = endpoint(pair.endpoint) else {
                selectedPath = nil
                return
            }
            selectedPath = SelectedPath(endpoint: endpoint, remote: pair.remote.address,
                                        destination: try? pair.remote.address.socketAddress())
        }
    }
    /// The selected pair's endpoint and remote, kept ready for the data path (no lookup per datagram).
    var selectedPath: SelectedPath?
    var nominatingPairID: Int?
    var firstSuccessAt: NIODeadline?
    var checkingStartedAt: NIODeadline?
    var lastConsentResponseAt: NIODeadline?
    var remoteEndOfCandidates = false
    var pacer: RepeatedTask?
    var consentTimer: Scheduled<Void>?
    var rng = SystemRandomNumberGenerator()

    /// Datagrams dropped because they failed to decode or authenticate.
    var droppedDatagrams = 0

    struct SelectedPath {
        var endpoint: LocalEndpoint
        var remote: TransportAddress
        var destination: SocketAddress?
    }

    /// What became of one datagram given to ``sendOnLoop(_:)``.
    public enum SendOutcome: Sendable, Equatable {
        case sent
        /// No pair is selected.
        case noPath
        /// The socket's (or the relay's) send queue is full.
        case queueFull
    }

    struct CheckTransaction {
        var pairID: Int
        var bytes: [UInt8]
        var sentAt: NIODeadline
        var exchange: STUNClientTransaction
        var useCandidate: Bool
        var isConsent: Bool
        var sentAsControlling: Bool
        var timer: Scheduled<Void>?
        /// Set for a ``ICEAgent/ping(timeout:)``: completed with the round trip, or failed.
        var reply: EventLoopPromise<Duration>?
    }

    /// A Binding request to a STUN server for one of our sockets (RFC 8489 §6.2.1 retransmissions).
    struct GatherTransaction {
        var endpoint: LocalEndpoint
        var server: TransportAddress
        var bytes: [UInt8]
        var exchange: STUNClientTransaction
        var timer: Scheduled<Void>?
    }

    /// Creates an agent with fresh random credentials and tie-breaker.
    public init(role: ICERole, configuration: ICEAgentConfiguration = ICEAgentConfiguration(),
                eventLoop: EventLoop, onEvent: @escaping @Sendable (ICEAgentEvent) -> Void) {
        self.role = role
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.onEvent = onEvent
        self.checklist = Checklist(maxPairs: configuration.maxPairs)
        self.localCredentials = .random()
        self.localKey = STUNIntegrityKey(STUNCredentials.shortTermKey(password: localCredentials.pwd))
        var rng = SystemRandomNumberGenerator()
        self.tieBreaker = rng.next()
        EngineCensus.agents.add(1, ordering: .relaxed)
    }

    deinit { EngineCensus.agents.subtract(1, ordering: .relaxed) }

    /// Checks and gathering requests in flight (each with its timer), read on the event loop by its owner.
    package var transactionsOnLoop: Int {
        eventLoop.preconditionInEventLoop()
        return transactions.count + gatherTransactions.count
    }

    // MARK: Public API

    /// Binds one UDP socket per allowed local address and reports host candidates (as events too).
    public func gather() -> EventLoopFuture<[Candidate]> {
        eventLoop.flatSubmit { self.gatherOnLoop() }
    }

    /// Sets the remote's ufrag and password; checks start once candidates are known too.
    public func setRemoteCredentials(_ credentials: ICECredentials) {
        eventLoop.execute {
            guard self.state != .closed else { return }
            let first = self.remoteCredentials == nil
            self.remoteCredentials = credentials
            self.startChecksIfReady()
            if first {
                // Without a single pair (no usable local address, no remote candidate) checks never start:
                // fail after the same time a checklist would have had, rather than wait for ever.
                self.eventLoop.scheduleTask(in: self.configuration.checkingTimeout.timeAmount) { [weak self] in
                    guard let self, self.pacer == nil, self.state == .new else { return }
                    self.setState(.failed)
                }
            }
        }
    }

    /// Adds a remote candidate (trickle: any time, in any order with the credentials).
    public func addRemoteCandidate(_ candidate: Candidate) {
        eventLoop.execute { self.addRemoteCandidateOnLoop(candidate) }
    }

    /// Tells the agent the remote will send no more candidates: once every pair has failed, the agent fails.
    public func setRemoteEndOfCandidates() {
        eventLoop.execute { self.remoteEndOfCandidates = true }
    }

    /// Sends application data on the selected pair; dropped if none is selected.
    public func send(_ bytes: [UInt8]) {
        eventLoop.execute { _ = self.sendOnLoop(ByteBuffer(bytes: bytes)) }
    }

    /// Sends one datagram on the selected pair, from the agent's event loop: queued in its socket and flushed
    /// with the rest of the loop's round (one `sendmmsg` for a batch).
    public func sendOnLoop(_ data: ByteBuffer) -> SendOutcome {
        eventLoop.assertInEventLoop()
        guard let path = selectedPath else { return .noPath }
        return path.endpoint.send(data, to: path.remote, resolved: path.destination) ? .sent : .queueFull
    }

    /// The current checklist, for display.
    public func candidatePairs() -> EventLoopFuture<[CandidatePair]> {
        eventLoop.submit { self.checklist.pairs }
    }

    /// The checklist, read on the agent's event loop by its owner.
    package var checklistOnLoop: [CandidatePair] {
        eventLoop.preconditionInEventLoop()
        return checklist.pairs
    }

    /// The current role: a role conflict may have changed the one the agent started with.
    public func currentRole() -> EventLoopFuture<ICERole> {
        eventLoop.submit { self.role }
    }

    /// The current state.
    public func currentState() -> EventLoopFuture<ICEConnectionState> {
        eventLoop.submit { self.state }
    }

    /// Stops timers, closes sockets and moves to Closed.
    public func close() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            self.pacer?.cancel()
            self.consentTimer?.cancel()
            for t in self.transactions.values {
                t.timer?.cancel()
                t.reply?.fail(ICEPingError.closed)
            }
            for t in self.gatherTransactions.values { t.timer?.cancel() }
            self.transactions.removeAll()
            self.gatherTransactions.removeAll()
            self.setState(.closed)
            let closes = self.endpoints.compactMap { $0.close() }
            self.endpoints.removeAll()
            return EventLoopFuture.andAllComplete(closes, on: self.eventLoop)
        }
    }
}
