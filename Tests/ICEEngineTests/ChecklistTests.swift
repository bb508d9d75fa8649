import NIOCore
import Testing
@testable import ICE
@testable import STUN

/// The checklist and the selectors as values: no agent, no socket, no clock but the one the test passes.
@Suite struct ChecklistTests {
    private static func candidate(_ address: String, _ type: CandidateType, foundation: String, preference: UInt16 = 65535) -> Candidate {
        Candidate(foundation: foundation, priority: Candidate.priority(type: type, localPreference: preference),
                  address: TransportAddress(address)!, type: type)
    }

    private static let hostA = candidate("127.0.0.1:1000", .host, foundation: "hA")
    private static let hostA2 = candidate("127.0.0.2:1000", .host, foundation: "hA", preference: 100)
    private static let relayA = candidate("127.0.0.9:3000", .relayed, foundation: "rA")
    private static let hostB = candidate("127.0.0.1:2000", .host, foundation: "hB")
    private static let srflxB = candidate("127.0.0.3:2000", .serverReflexive, foundation: "sB")

    private func ids(_ list: Checklist) -> [Int] { list.pairs.map(\.id) }
    private func states(_ list: Checklist) -> [CandidatePairState] { list.pairs.map(\.state) }

    @Test func pairsAreOrderedByPriorityAndOneOfEachFoundationIsUnfrozen() {
        var list = Checklist(maxPairs: 100)
        let r1 = list.add(local: Self.relayA, endpoint: 1, remote: Self.hostB, role: .controlling) == .added(0)
        #expect(r1)
        let r2 = list.add(local: Self.hostA, endpoint: 0, remote: Self.hostB, role: .controlling) == .added(1)
        #expect(r2)
        let r3 = list.add(local: Self.hostA2, endpoint: 2, remote: Self.hostB, role: .controlling) == .added(2)
        #expect(r3)
        // host/host first, then the lower-preference host with the same foundation, then the relay.
        #expect(ids(list) == [1, 2, 0])
        // hA|hB has one Waiting pair (the better), its sibling stays Frozen; rA|hB is a foundation of its own.
        #expect(states(list) == [.waiting, .frozen, .waiting])
        let r4 = list.add(local: Self.hostA, endpoint: 0, remote: Self.hostB, role: .controlling) == .existing(1)
        #expect(r4)
    }

    @Test func familiesMustMatchAndTheListIsBounded() {
        var list = Checklist(maxPairs: 1)
        let v6 = Self.candidate("[::1]:4000", .host, foundation: "h6")
        let r5 = list.add(local: v6, endpoint: 0, remote: Self.hostB, role: .controlled)
        #expect(r5 == .refused)
        let r6 = list.add(local: Self.hostA, endpoint: 0, remote: Self.hostB, role: .controlled) == .added(0)
        #expect(r6)
        let r7 = list.add(local: Self.hostA, endpoint: 0, remote: Self.srflxB, role: .controlled)
        #expect(r7 == .refused)
    }

    @Test func pacingSendsWaitingThenFrozenPairsAndTriggeredChecksFirst() {
        var list = Checklist(maxPairs: 100)
        _ = list.add(local: Self.hostA, endpoint: 0, remote: Self.hostB, role: .controlling)   // 0
        _ = list.add(local: Self.hostA2, endpoint: 2, remote: Self.hostB, role: .controlling)  // 1, frozen
        let r8 = list.nextCheck(selected: false) == .init(pairID: 0, useCandidate: false)
        #expect(r8)
        list.update(0) { $0.state = .inProgress }
        // Nothing Waiting: the best Frozen pair goes (RFC 8445 §6.1.4.2).
        let r9 = list.nextCheck(selected: false) == .init(pairID: 1, useCandidate: false)
        #expect(r9)
        list.update(1) { $0.state = .waiting }
        list.triggerAnswer(0)     // in flight: not queued
        list.triggerAnswer(1)
        list.triggerAnswer(1)     // queued once
        list.triggerNomination(0) // a nomination goes to the head
        #expect(list.triggered == [.init(pairID: 0, useCandidate: true), .init(pairID: 1, useCandidate: false)])
        let r10 = list.nextCheck(selected: true) == .init(pairID: 0, useCandidate: true)
        #expect(r10)
        let r11 = list.nextCheck(selected: true) == .init(pairID: 1, useCandidate: false)
        #expect(r11)
        // Once selected, only triggered checks go out.
        let r12 = list.nextCheck(selected: true)
        #expect(r12 == nil)
    }

    @Test func aSuccessUnfreezesItsFoundation() {
        var list = Checklist(maxPairs: 100)
        _ = list.add(local: Self.hostA, endpoint: 0, remote: Self.hostB, role: .controlling)
        _ = list.add(local: Self.hostA2, endpoint: 2, remote: Self.hostB, role: .controlling)
        list.update(0) { $0.state = .succeeded }
        list.unfreeze(foundation: list.pair(0)!.foundation)
        #expect(states(list) == [.succeeded, .waiting])
    }

    @Test func aRoleConflictRetriesThePairAndARoleChangeReorders() {
        var list = Checklist(maxPairs: 100)
        let low = Self.candidate("127.0.0.1:1000", .host, foundation: "l", preference: 10)
        let high = Self.candidate("127.0.0.1:2000", .host, foundation: "h", preference: 60000)
        let mid = Self.candidate("127.0.0.4:2000", .host, foundation: "m", preference: 30000)
        _ = list.add(local: low, endpoint: 0, remote: high, role: .controlling)  // G=low, D=high
        _ = list.add(local: mid, endpoint: 1, remote: mid, role: .controlling)
        let before = list.pairs.map(\.priority)
        list.reprioritize(role: .controlled)
        #expect(list.pairs.map(\.priority) != before)
        #expect(list.pairs.map(\.priority) == list.pairs.map(\.priority).sorted(by: >))
        list.update(0) { $0.state = .inProgress }
        list.retryAfterRoleConflict(0)
        #expect(list.pair(0)?.state == .waiting)
        #expect(list.triggered == [.init(pairID: 0, useCandidate: false)])
    }

    @Test func learnedAndSignalledCandidatesTakeTheirPlace() {
        var list = Checklist(maxPairs: 100)
        let prflx = Self.candidate("127.0.0.3:2000", .peerReflexive, foundation: "p", preference: 1)
        _ = list.add(local: Self.hostA, endpoint: 0, remote: prflx, role: .controlling)
        _ = list.add(local: Self.hostA, endpoint: 0, remote: Self.hostB, role: .controlling)
        #expect(ids(list) == [1, 0])
        list.replaceRemote(with: Self.srflxB, role: .controlling)
        #expect(list.pair(0)?.remote.type == .serverReflexive)
        #expect(list.pair(1)?.remote == Self.hostB)
        // An address no pair has changes nothing.
        let before = list.pairs
        list.replaceRemote(with: Self.candidate("127.0.0.7:9", .host, foundation: "x"), role: .controlling)
        #expect(list.pairs == before)
        let mapped = Self.candidate("127.0.0.5:1000", .peerReflexive, foundation: "q")
        list.replaceLocal(of: 1, with: mapped, role: .controlling)
        #expect(list.pair(1)?.local == mapped)
        #expect(list.pairs.map(\.priority) == list.pairs.map(\.priority).sorted(by: >))
    }

    @Test func outcomes() {
        var list = Checklist(maxPairs: 100)
        #expect(!list.allFailed)
        _ = list.add(local: Self.hostA, endpoint: 0, remote: Self.hostB, role: .controlling)
        _ = list.add(local: Self.relayA, endpoint: 1, remote: Self.hostB, role: .controlling)
        #expect(list.hasPair(remote: Self.hostB.address, endpoint: 1))
        #expect(!list.hasPair(remote: Self.srflxB.address, endpoint: 1))
        list.failPairs(on: 0)
        #expect(!list.hasPending(directOnly: true))
        #expect(list.hasPending())
        list.failPairs(on: 1)
        #expect(list.allFailed)
        #expect(list.bestSucceeded == nil)
    }

    // MARK: Selectors

    private let selector = ControllingSelector(nominationDelay: .milliseconds(100), relayNominationDelay: .seconds(2))
    private let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func theControllingSideNominatesTheTopPairAtOnceAndOthersAfterTheDelay() {
        var list = Checklist(maxPairs: 100)
        _ = list.add(local: Self.hostA, endpoint: 0, remote: Self.hostB, role: .controlling)    // 0, top
        _ = list.add(local: Self.hostA, endpoint: 0, remote: Self.srflxB, role: .controlling)   // 1
        #expect(selector.pairToNominate(in: list, firstSuccessAt: nil, now: t0) == nil)
        list.update(1) { $0.state = .succeeded }
        // A better pair is still pending: wait the nomination delay.
        #expect(selector.pairToNominate(in: list, firstSuccessAt: t0, now: t0 + .milliseconds(99)) == nil)
        #expect(selector.pairToNominate(in: list, firstSuccessAt: t0, now: t0 + .milliseconds(100)) == 1)
        // Nothing else pending: at once.
        list.update(0) { $0.state = .failed }
        #expect(selector.pairToNominate(in: list, firstSuccessAt: t0, now: t0) == 1)
        // The top pair succeeding is nominated at once.
        list.update(0) { $0.state = .succeeded }
        #expect(selector.pairToNominate(in: list, firstSuccessAt: t0, now: t0) == 0)
    }

    @Test func aRelayedPairWaitsForADirectOneStillBeingChecked() {
        var list = Checklist(maxPairs: 100)
        let relayB = Self.candidate("127.0.0.9:4000", .relayed, foundation: "rB")
        _ = list.add(local: Self.relayA, endpoint: 1, remote: relayB, role: .controlling)      // 0
        _ = list.add(local: Self.hostA, endpoint: 0, remote: Self.srflxB, role: .controlling)  // 1, direct
        list.update(0) { $0.state = .succeeded }
        list.update(1) { $0.state = .inProgress }
        #expect(selector.pairToNominate(in: list, firstSuccessAt: t0, now: t0 + .milliseconds(1999)) == nil)
        #expect(selector.pairToNominate(in: list, firstSuccessAt: t0, now: t0 + .seconds(2)) == 0)
        list.update(1) { $0.state = .failed }
        #expect(selector.pairToNominate(in: list, firstSuccessAt: t0, now: t0 + .milliseconds(100)) == 0)
    }

    @Test func theControlledSideSelectsANominatedPairOnceItsCheckSucceeded() {
        var list = Checklist(maxPairs: 100)
        _ = list.add(local: Self.hostA, endpoint: 0, remote: Self.hostB, role: .controlled)
        #expect(!ControlledSelector.selects(list.pair(0)!))
        list.update(0) { $0.remoteNominated = true }
        #expect(!ControlledSelector.selects(list.pair(0)!))
        list.update(0) { $0.state = .succeeded }
        #expect(ControlledSelector.selects(list.pair(0)!))
    }
}
