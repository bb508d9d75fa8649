import STUN

/// The checklist of one ICE session as a value (RFC 8445 §6.1.2–§6.1.4): the pairs in priority order, their
/// freezing by foundation, the triggered-check queue and which check goes out next. It holds no sockets,
/// timers or clock: ``ICEAgent`` feeds it what happened and sends the checks it names.
struct Checklist {
    /// A check to send ahead of the paced ones: the answer to a request on the pair, a nomination, or a
    /// retry after a role conflict (RFC 8445 §7.3.1.4).
    struct TriggeredCheck: Equatable {
        var pairID: Int
        var useCandidate: Bool
    }

    /// The pairs, highest priority first.
    private(set) var pairs: [CandidatePair] = []
    /// Checks waiting for the next tick, first first.
    private(set) var triggered: [TriggeredCheck] = []
    private var nextPairID = 0
    /// Upper bound on pairs (RFC 8445 §6.1.2.5).
    let maxPairs: Int

    init(maxPairs: Int) { self.maxPairs = maxPairs }

    var isEmpty: Bool { pairs.isEmpty }

    func pair(_ id: Int) -> CandidatePair? { pairs.first { $0.id == id } }

    mutating func update(_ id: Int, _ body: (inout CandidatePair) -> Void) {
        guard let i = pairs.firstIndex(where: { $0.id == id }) else { return }
        body(&pairs[i])
    }

    /// Whether `remote` is paired with the endpoint `id`: data from it is accepted.
    func hasPair(remote: TransportAddress, endpoint id: LocalEndpoint.ID) -> Bool {
        pairs.contains { $0.remote.address == remote && $0.endpoint == id }
    }

    // MARK: Forming pairs (RFC 8445 §6.1.2)

    /// What ``add(local:endpoint:remote:role:)`` did.
    enum Addition: Equatable {
        /// A new pair, in its place by priority.
        case added(Int)
        /// The endpoint already had a pair with that remote.
        case existing(Int)
        /// Address families differ, or the checklist is full.
        case refused
    }

    /// Pairs a local candidate (sent from endpoint `id`) with a remote one. A new pair starts Frozen and, as
    /// any pair does, joins the checks by the one-per-foundation rule (trickled pairs too, RFC 8838 §10).
    mutating func add(local: Candidate, endpoint id: LocalEndpoint.ID, remote: Candidate, role: ICERole) -> Addition {
        guard local.address.ip.isIPv4 == remote.address.ip.isIPv4, pairs.count < maxPairs else { return .refused }
        if let existing = pairs.first(where: { $0.endpoint == id && $0.remote.address == remote.address }) {
            return .existing(existing.id)
        }
        let pair = CandidatePair(id: nextPairID, local: local, remote: remote, endpoint: id, role: role)
        nextPairID += 1
        pairs.append(pair)
        sortByPriority()
        unfreezeOnePerFoundation()
        return .added(pair.id)
    }

    /// The signalled candidate for an address first learned as peer-reflexive: its pairs take its type and
    /// priority.
    mutating func replaceRemote(with candidate: Candidate, role: ICERole) {
        for i in pairs.indices where pairs[i].remote.address == candidate.address {
            pairs[i].remote = candidate
            pairs[i].updatePriority(role: role)
        }
        sortByPriority()
    }

    /// A check's response showed our address through a NAT: the pair's local candidate becomes that
    /// peer-reflexive one (RFC 8445 §7.2.5.3.1).
    mutating func replaceLocal(of id: Int, with candidate: Candidate, role: ICERole) {
        update(id) { p in
            p.local = candidate
            p.updatePriority(role: role)
        }
        sortByPriority()
    }

    /// After a role change every pair's priority is computed again (G and D swap).
    mutating func reprioritize(role: ICERole) {
        for i in pairs.indices { pairs[i].updatePriority(role: role) }
        sortByPriority()
    }

    /// The endpoint is gone (a stream relay's connection ended): its pairs have failed.
    mutating func failPairs(on id: LocalEndpoint.ID) {
        for i in pairs.indices where pairs[i].endpoint == id { pairs[i].state = .failed }
    }

    private mutating func sortByPriority() { pairs.sort { $0.priority > $1.priority } }

    // MARK: Freezing (RFC 8445 §6.1.2.6, §7.2.5.3.3)

    /// For each foundation with no pair waiting, in progress or succeeded, the highest-priority frozen pair
    /// becomes Waiting: one check per foundation goes first, the rest follow its fate.
    mutating func unfreezeOnePerFoundation() {
        var active = Set<String>()
        for p in pairs where p.state == .waiting || p.state == .inProgress || p.state == .succeeded { active.insert(p.foundation) }
        for i in pairs.indices where pairs[i].state == .frozen && !active.contains(pairs[i].foundation) {
            pairs[i].state = .waiting // pairs are sorted by priority, so this is the foundation's best
            active.insert(pairs[i].foundation)
        }
    }

    /// A success unfreezes the pairs that share its foundation.
    mutating func unfreeze(foundation: String) {
        for i in pairs.indices where pairs[i].state == .frozen && pairs[i].foundation == foundation { pairs[i].state = .waiting }
    }

    // MARK: Triggered checks and pacing (RFC 8445 §6.1.4.2, §7.3.1.4)

    /// Queues an answering check on the pair, unless one is in flight or already queued.
    mutating func triggerAnswer(_ id: Int) {
        guard let p = pair(id), p.state != .inProgress, !triggered.contains(where: { $0.pairID == id }) else { return }
        triggered.append(TriggeredCheck(pairID: id, useCandidate: false))
    }

    /// Queues a check on the pair again, after a role conflict: it is Waiting once more.
    mutating func retryAfterRoleConflict(_ id: Int) {
        update(id) { $0.state = .waiting }
        triggered.append(TriggeredCheck(pairID: id, useCandidate: false))
    }

    /// Puts a nomination at the head of the queue.
    mutating func triggerNomination(_ id: Int) {
        triggered.insert(TriggeredCheck(pairID: id, useCandidate: true), at: 0)
    }

    /// Takes the nomination of `id` off the head of the queue, to send it now rather than at the next tick.
    mutating func takeNomination(of id: Int) -> Bool {
        guard triggered.first == TriggeredCheck(pairID: id, useCandidate: true) else { return false }
        triggered.removeFirst()
        return true
    }

    /// A pair is selected: queued checks are no longer needed.
    mutating func clearTriggered() { triggered.removeAll() }

    /// The check for this tick: the first triggered one; else, while nothing is selected, the best Waiting
    /// pair, or with none left the best Frozen one.
    mutating func nextCheck(selected: Bool) -> TriggeredCheck? {
        if !triggered.isEmpty { return triggered.removeFirst() }
        guard !selected else { return nil }
        unfreezeOnePerFoundation()
        guard let next = pairs.first(where: { $0.state == .waiting }) ?? pairs.first(where: { $0.state == .frozen }) else { return nil }
        return TriggeredCheck(pairID: next.id, useCandidate: false)
    }

    // MARK: Outcomes

    /// Whether any pair may still succeed: Waiting, In-Progress or Frozen.
    func hasPending(directOnly: Bool = false) -> Bool {
        pairs.contains { ($0.state == .waiting || $0.state == .inProgress || $0.state == .frozen) && (!directOnly || !$0.isRelayed) }
    }

    /// The highest-priority pair that succeeded.
    var bestSucceeded: CandidatePair? { pairs.first { $0.state == .succeeded } }

    /// Whether every pair failed (and there is at least one).
    var allFailed: Bool { !pairs.isEmpty && pairs.allSatisfy { $0.state == .failed } }
}
