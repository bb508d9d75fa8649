import ICETestSupport
import Testing
import StatusRecorder
@testable import Mesh

/// The peer connection's state machine as a value: events in, actions out, with the time and the backoff's
/// cap given by the test. No agent, socket or timer.
@Suite struct PeerStateMachineTests {
    typealias Machine = PeerStateMachine
    private static let timedOut = PeerReason.directTimedOut(relayTransport: nil, udpFailed: false)
    private static let impossible = PeerReason.natNeedsRelay(remoteVerdict: "symmetric", localVerdict: "symmetric")
    private static let second: Int64 = 1_000_000_000
    /// 1 s after the epoch, a 3 s first delay, and the cap at 40 s.
    private static let inputs = Machine.Inputs(nowMillis: 1_000, initialRetryDelay: 3 * second, retryCap: 40 * second)

    private func connected(relayed: Bool = false, relayOnly: Bool = false) -> Machine {
        var m = Machine(relayOnly: relayOnly)
        _ = m.handle(.open, Self.inputs)
        _ = m.handle(.pathSelected(relayed ? .relayed(timedOut: Self.timedOut, impossible: nil) : .direct), Self.inputs)
        _ = m.handle(.sessionConnected, Self.inputs)
        return m
    }

    @Test func openConnectAndClose() {
        var m = Machine(relayOnly: false)
        #expect(m.handle(.open, Self.inputs) == [.lifecycle(.opened), .report(.connecting, reason: nil),
                                                  .startSession(sendOffer: true, keepPath: false)])
        #expect(m.handle(.open, Self.inputs) == [])
        #expect(m.handle(.sessionChecking, Self.inputs) == [.report(.connecting, reason: nil)])
        #expect(m.handle(.pathSelected(.direct), Self.inputs) == [.reportNextRetry(atMillis: nil)])
        #expect(m.state == .connecting(attempt: 0, selected: nil))
        #expect(m.handle(.sessionConnected, Self.inputs) == [.report(.connected, reason: nil), .lifecycle(.connected(relayed: false))])
        #expect(m.state == .connected(.direct))
        #expect(m.hasPath)
        #expect(m.handle(.close(reason: .remoteIdle), Self.inputs) == [
            .closeSessions, .report(.idle, reason: .remoteIdle), .reportNextRetry(atMillis: nil), .lifecycle(.closed)])
        #expect(m.state == .idle)
    }

    @Test func failuresBackOffDoublingUpToTheCap() {
        var m = Machine(relayOnly: false)
        _ = m.handle(.open, Self.inputs)
        #expect(m.handle(.sessionFailed(noCandidatePair: true, relay: .notConfigured), Self.inputs) == [
            .report(.connecting, reason: .connectFailed(noCandidatePair: true, relay: .notConfigured, retryEverySeconds: 3)),
            .reportNextRetry(atMillis: 4_000), .armRetry(afterNanos: 3 * Self.second)])
        #expect(m.state == .waitingToRetry(attempt: 1))
        #expect(m.handle(.retryTimerFired, Self.inputs) == [.report(.connecting, reason: .retrying(attempt: 2)),
                                                             .startSession(sendOffer: true, keepPath: false)])
        var delays: [Int64] = [3]
        for _ in 0..<5 {
            let actions = m.handle(.sessionFailed(noCandidatePair: false, relay: .none), Self.inputs)
            guard case .armRetry(let delay) = actions.last else { Issue.record("no retry in \(actions)"); return }
            delays.append(delay / Self.second)
            _ = m.handle(.retryTimerFired, Self.inputs)
        }
        #expect(delays == [3, 6, 12, 24, 40, 40])
        #expect(m.state == .connecting(attempt: 6, selected: nil))
        // A late timer (cancelled, but already queued) does nothing outside the wait.
        #expect(m.handle(.retryTimerFired, Self.inputs) == [])
    }

    @Test func aRelayedPathRetriesTheDirectOneWithBackoffAndKeepsCarryingData() {
        var m = Machine(relayOnly: false)
        _ = m.handle(.open, Self.inputs)
        // Selected before Connected: nothing is reported yet but the event log and the timer.
        #expect(m.handle(.pathSelected(.relayed(timedOut: Self.timedOut, impossible: nil)), Self.inputs) == [
            .record(.relayFallback(nextDirectAtMillis: 4_000)), .armDirectRetry(afterNanos: 3 * Self.second)])
        #expect(m.handle(.sessionConnected, Self.inputs) == [
            .report(.connected, reason: Self.timedOut), .reportNextRetry(atMillis: 4_000), .lifecycle(.connected(relayed: true))])
        #expect(m.handle(.directRetryTimerFired, Self.inputs) == [
            .record(.iceRestart(.directAttempt)), .startSession(sendOffer: true, keepPath: true)])
        #expect(m.state == .restarting(.init(relayed: Self.timedOut, directRetryAt: 4_000)))
        #expect(m.hasPath)
        // The direct attempt found only the relay again: the next one waits twice as long.
        #expect(m.handle(.pathSelected(.relayed(timedOut: Self.timedOut, impossible: nil)), Self.inputs) == [
            .record(.relayFallback(nextDirectAtMillis: 7_000)), .armDirectRetry(afterNanos: 6 * Self.second)])
        #expect(m.handle(.sessionConnected, Self.inputs) == [
            .report(.connected, reason: Self.timedOut), .reportNextRetry(atMillis: 7_000),
            .lifecycle(.connected(relayed: true)), .closeKeptPath])
        // A direct pair, while connected, ends the fallback and its backoff.
        #expect(m.handle(.pathSelected(.direct), Self.inputs) == [
            .cancelDirectRetry, .reportNextRetry(atMillis: nil), .reportReason(nil)])
        #expect(m.state == .connected(.direct))
        #expect(m.directAttempt == 0)
        #expect(!m.directRetryArmed)
    }

    @Test func whenBothNATsRuleADirectPathOutTheRetryWaitsTheLongestInterval() {
        var m = Machine(relayOnly: false)
        _ = m.handle(.open, Self.inputs)
        #expect(m.handle(.pathSelected(.relayed(timedOut: Self.timedOut, impossible: Self.impossible)), Self.inputs) == [
            .record(.relayFallback(nextDirectAtMillis: 41_000)), .armDirectRetry(afterNanos: 40 * Self.second)])
        _ = m.handle(.sessionConnected, Self.inputs)
        #expect(m.state == .connected(.init(relayed: Self.impossible, directRetryAt: 41_000)))
    }

    @Test func relayOnlyNeverTriesTheDirectPath() {
        var m = Machine(relayOnly: true)
        _ = m.handle(.open, Self.inputs)
        #expect(m.handle(.pathSelected(.relayed(timedOut: Self.timedOut, impossible: nil)), Self.inputs) == [
            .record(.relayFallback(nextDirectAtMillis: nil))])
        _ = m.handle(.sessionConnected, Self.inputs)
        #expect(m.state == .connected(.init(relayed: .relayOnly, directRetryAt: nil)))
        #expect(m.handle(.directAttemptAsked, Self.inputs) == [])
        #expect(m.handle(.directRetryTimerFired, Self.inputs) == [])
    }

    @Test func consentLostKeepsTheOldSessionTryingUntilTheNewOneConnects() {
        var m = connected()
        #expect(m.handle(.sessionDisconnected(timeoutMillis: 6_000), Self.inputs) == [
            .record(.consentLost(timeoutMillis: 6_000)), .report(.connecting, reason: .consentLost(timeoutMillis: 6_000)),
            .record(.iceRestart(.consentLost)), .startSession(sendOffer: true, keepPath: true)])
        #expect(m.state == .restarting(.direct))
        #expect(m.handle(.sessionConnected, Self.inputs) == [
            .report(.connected, reason: nil), .record(.consentRegained), .lifecycle(.connected(relayed: false)), .closeKeptPath])
        #expect(!m.consentLost)
    }

    @Test func theKeptPathFailingBeforeTheNewSessionConnectsLeavesNoPath() {
        var m = connected()
        _ = m.handle(.restart, Self.inputs)
        #expect(m.handle(.keptPathLost(timeoutMillis: 6_000), Self.inputs) == [
            .closeKeptPath, .record(.consentLost(timeoutMillis: 6_000)),
            .report(.connecting, reason: .consentLost(timeoutMillis: 6_000))])
        #expect(m.state == .connecting(attempt: 0, selected: nil))
        #expect(!m.hasPath)
        #expect(m.handle(.keptPathLost(timeoutMillis: 6_000), Self.inputs) == [])
    }

    @Test func aRemoteOfferOpensRestartsOrIsTheCurrentSessionsRemote() {
        var m = Machine(relayOnly: false)
        #expect(m.handle(.remoteOffer(remoteKnown: false), Self.inputs) == [
            .lifecycle(.opened), .report(.connecting, reason: nil), .startSession(sendOffer: false, keepPath: false)])
        // Glare: the session that has not met a remote takes this one.
        #expect(m.handle(.remoteOffer(remoteKnown: false), Self.inputs) == [])
        _ = m.handle(.sessionConnected, Self.inputs)
        #expect(m.handle(.remoteOffer(remoteKnown: true), Self.inputs) == [
            .record(.iceRestart(.remoteRestart)), .startSession(sendOffer: false, keepPath: true)])
    }

    @Test func aLostRelayConnectionStartsAFreshSessionWithItsReasonUntilConnected() {
        var m = connected(relayed: true)
        let lost = PeerReason.relayConnectionLost(transport: "TCP", server: "turn:127.0.0.1:3478?transport=tcp", error: "reset")
        #expect(m.handle(.selectedRelayLost(lost), Self.inputs) == [
            .cancelDirectRetry, .report(.connecting, reason: lost), .startSession(sendOffer: true, keepPath: false)])
        #expect(m.handle(.sessionChecking, Self.inputs) == [.report(.connecting, reason: lost)])
        _ = m.handle(.pathSelected(.direct), Self.inputs)
        #expect(m.handle(.sessionConnected, Self.inputs) == [.report(.connected, reason: nil), .lifecycle(.connected(relayed: false))])
        #expect(m.reconnectReason == nil)
    }

    @Test func aNetworkChangeRetriesAtOnceFromTheShortestBackoff() {
        var m = Machine(relayOnly: false)
        _ = m.handle(.open, Self.inputs)
        _ = m.handle(.sessionFailed(noCandidatePair: false, relay: .none), Self.inputs)
        _ = m.handle(.retryTimerFired, Self.inputs)
        _ = m.handle(.sessionFailed(noCandidatePair: false, relay: .none), Self.inputs)
        #expect(m.handle(.networkChanged, Self.inputs) == [
            .cancelRetry, .report(.connecting, reason: nil), .startSession(sendOffer: true, keepPath: false),
            .report(.connecting, reason: .networkChanged)])
        #expect(m.state == .connecting(attempt: 0, selected: nil))
        // Connected and relayed: the restart keeps the path, and the direct backoff starts again.
        var r = connected(relayed: true)
        _ = r.handle(.directRetryTimerFired, Self.inputs)
        _ = r.handle(.pathSelected(.relayed(timedOut: Self.timedOut, impossible: nil)), Self.inputs)
        _ = r.handle(.sessionConnected, Self.inputs)
        #expect(r.directAttempt == 2)
        #expect(r.handle(.networkChanged, Self.inputs) == [
            .cancelDirectRetry, .record(.iceRestart(.networkChanged)), .startSession(sendOffer: true, keepPath: true)])
        #expect(r.directAttempt == 0)
    }

    /// Random events, thousands of them: whatever their order, the timers armed and the sessions held match
    /// the state after every event.
    @Test func timersAndSessionsAlwaysMatchTheState() {
        var rng = SeededGenerator(seed: 0x1ce5)
        let events: [Machine.Event] = [
            .open, .close(reason: nil), .restart, .networkChanged, .resetDirectBackoff(timedOut: Self.timedOut, impossible: nil),
            .directAttemptAsked, .remoteOffer(remoteKnown: false), .remoteOffer(remoteKnown: true), .sessionChecking,
            .pathSelected(.direct), .pathSelected(.relayed(timedOut: Self.timedOut, impossible: nil)),
            .pathSelected(.relayed(timedOut: Self.timedOut, impossible: Self.impossible)), .sessionConnected,
            .sessionDisconnected(timeoutMillis: 6_000), .sessionFailed(noCandidatePair: false, relay: .none),
            .keptPathLost(timeoutMillis: 6_000), .selectedRelayLost(.agentStopped), .relayedReasonChanged(Self.impossible),
            .retryTimerFired, .directRetryTimerFired,
        ]
        var m = Machine(relayOnly: false)
        var (sessions, retry, directRetry) = (0, false, false)
        for step in 0..<20_000 {
            let event = events[Int(rng.next() % UInt64(events.count))]
            if case .retryTimerFired = event { guard retry else { continue }; retry = false }
            if case .directRetryTimerFired = event { guard directRetry else { continue }; directRetry = false }
            for action in m.handle(event, Self.inputs) {
                switch action {
                case .startSession(_, let keep): sessions = keep ? 2 : 1
                case .closeKeptPath: sessions = min(sessions, 1)
                case .closeSessions: sessions = 0
                case .armRetry: retry = true
                case .cancelRetry: retry = false
                case .armDirectRetry: directRetry = true
                case .cancelDirectRetry: directRetry = false
                case .report, .reportReason, .reportNextRetry, .record, .lifecycle: break
                }
            }
            let expected: Int
            switch m.state {
            case .idle: expected = 0
            case .restarting: expected = 2
            case .connecting, .connected, .waitingToRetry: expected = 1
            }
            var waiting = false
            if case .waitingToRetry = m.state { waiting = true }
            let consistent = sessions == expected && retry == waiting && directRetry == m.directRetryArmed
                && (!directRetry || (m.path?.relayed != nil && m.path?.directRetryAt != nil))
            #expect(consistent, "step \(step), after \(event): \(m.state), \(sessions) sessions, retry \(retry), direct \(directRetry)")
            if !consistent { return }
        }
    }
}

