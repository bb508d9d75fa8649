import NIOCore
import StatusRecorder
import ICE

/// On-demand probes of the path (`icestat ping`): a Binding request on the selected pair, and a direct attempt
/// started now rather than at the next scheduled one.
extension PeerConnection {
    /// True while a path works: the current session's, or during a restart the one it keeps.
    public func isConnected() -> EventLoopFuture<Bool> {
        eventLoop.submit { self.machine.hasPath }
    }

    /// One authenticated Binding request on the selected pair (the kept one during a restart, if the new
    /// session has none yet). Fails with ``ICEPingError``.
    public func ping(timeout: Duration) -> EventLoopFuture<ICEPingReply> {
        eventLoop.flatSubmit {
            guard self.machine.isOpen, let agent = self.agent else { return self.eventLoop.makeFailedFuture(ICEPingError.notConnected) }
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
            let before = self.machine.state
            self.apply(.directAttemptAsked)
            return self.machine.state != before
        }
    }
}
