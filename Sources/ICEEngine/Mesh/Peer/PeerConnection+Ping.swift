import NIOCore
import StatusRecorder
import ICE

/// On-demand probes of the path (`icestat ping`): a Binding request on the selected pair, and a direct attempt
/// started now rather than at the next scheduled one.
extension PeerConnection {
    /// True while a path works: the current session's, or during a restart the one it keeps.
    public func isConnected() -> EventLoopFuture<Bool> {
        eventLoop.submit { self.connected || self.draining != nil }
    }

    /// One authenticated Binding request on the selected pair (the kept one during a restart, if the new
    /// session has none yet). Fails with ``ICEPingError``.
    public func ping(timeout: Duration) -> EventLoopFuture<ICEPingReply> {
        eventLoop.flatSubmit {
            guard self.isOpen, let agent = self.agent else { return self.eventLoop.makeFailedFuture(ICEPingError.notConnected) }
            let draining = self.draining
            return agent.ping(timeout: timeout).flatMapError { (error: Error) -> EventLoopFuture<ICEPingReply> in
                guard let draining, error as? ICEPingError == .notConnected else { return self.eventLoop.makeFailedFuture(error) }
                return draining.ping(timeout: timeout)
            }
        }
    }

    /// A relayed peer tries the direct path now: an ICE restart that keeps the relayed path until the new
    /// session connects. False when the path is not relayed or direct paths are disabled.
    public func startDirectAttempt() -> EventLoopFuture<Bool> {
        eventLoop.submit {
            guard self.isOpen, self.connected, self.relayedReason != nil, !self.configuration.relayOnly else { return false }
            self.directRetryTimer?.cancel()
            self.directRetryTimer = nil
            self.recorder?.recordEvent(peerID: self.remoteKey, .iceRestart(.directAttempt))
            self.startSession(sendOffer: true, keepingPath: true)
            return true
        }
    }
}
