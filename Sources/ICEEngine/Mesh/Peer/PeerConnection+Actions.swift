import NIOCore
import StatusRecorder
import ICE

/// Carrying out the state machine's actions: sessions, timers, the recorder and the owner.
extension PeerConnection {
    /// Feeds one event to the state machine and carries out its actions, on the event loop. Returns the
    /// futures of the sessions it closed.
    @discardableResult
    func apply(_ event: PeerStateMachine.Event) -> [EventLoopFuture<Void>] {
        eventLoop.assertInEventLoop()
        let inputs = PeerStateMachine.Inputs(
            nowMillis: currentTimeMillis(), initialRetryDelay: initialRetryDelay.nanoseconds,
            retryCap: Int64.random(in: 30_000_000_000...45_000_000_000))
        var closed: [EventLoopFuture<Void>] = []
        for action in machine.handle(event, inputs) {
            perform(action, closed: &closed)
        }
        return closed
    }

    private func perform(_ action: PeerStateMachine.Action, closed: inout [EventLoopFuture<Void>]) {
        switch action {
        case .startSession(let sendOffer, let keepPath):
            startSession(sendOffer: sendOffer, keepPath: keepPath)
        case .closeKeptPath:
            _ = draining?.close()
            draining = nil
        case .closeSessions:
            pairsReporter?.cancel()
            reportTraffic()
            recorder?.updateCandidatePairs(id: remoteKey, [])
            closed += [agent, draining].compactMap { $0?.close() }
            agent = nil
            draining = nil
            remoteSession = nil
        case .armRetry(let delay):
            retryTimer?.cancel()
            retryTimer = timer(in: delay, firing: .retryTimerFired, handle: \.retryTimer)
        case .cancelRetry:
            retryTimer?.cancel()
            retryTimer = nil
        case .armDirectRetry(let delay):
            directRetryTimer?.cancel()
            directRetryTimer = timer(in: delay, firing: .directRetryTimerFired, handle: \.directRetryTimer)
        case .cancelDirectRetry:
            directRetryTimer?.cancel()
            directRetryTimer = nil
        case .report(let state, let reason):
            recorder?.updateState(id: remoteKey, state, reason: reason)
        case .reportReason(let reason):
            recorder?.updateReason(id: remoteKey, reason)
        case .reportNextRetry(let at):
            recorder?.updateNextRetry(id: remoteKey, atMillis: at)
        case .record(let kind):
            recorder?.recordEvent(peerID: remoteKey, kind)
        case .lifecycle(let change):
            onLifecycle(change)
        }
    }

    /// A timer that clears its handle, then feeds `event` to the state machine.
    private func timer(in nanoseconds: Int64, firing event: PeerStateMachine.Event,
                       handle: any ReferenceWritableKeyPath<PeerConnection, Scheduled<Void>?> & Sendable) -> Scheduled<Void> {
        eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) { [weak self] in
            guard let self else { return }
            self[keyPath: handle] = nil
            self.apply(event)
        }
    }

    /// A new ICE session with new credentials; the current one is kept as the draining path, or closed.
    private func startSession(sendOffer: Bool, keepPath: Bool) {
        _ = draining?.close()
        draining = nil
        if keepPath {
            draining = agent
        } else {
            agent?.close().whenComplete { _ in }
        }
        var rng = SystemRandomNumberGenerator()
        session = rng.next()
        relayFailure = nil
        remoteSession = nil
        let mySession = session
        let newAgent = ICEAgent(role: role, configuration: configuration, eventLoop: eventLoop) { [weak self] event in
            self?.handleAgentEvent(event, session: mySession)
        }
        agent = newAgent
        pairsReporter?.cancel()
        pairsReporter = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(500), delay: .seconds(1)) { [weak self] task in
            guard let self, self.agent === newAgent, self.machine.isOpen else { task.cancel(); return }
            if case .connected = self.machine.state { return }
            self.reportCandidatePairs()
        }
        newAgent.gather().whenFailure { [weak self] error in
            self?.recorder?.updateReason(id: self?.remoteKey ?? "", .gatheringFailed(error: "\(error)"))
        }
        if sendOffer {
            signaling.send(.offer(newAgent.localCredentials, session: mySession, nat: sharedNAT), from: localKey, to: remoteKey)
        }
    }
}
