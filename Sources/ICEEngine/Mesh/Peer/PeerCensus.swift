import NIOCore
import ICE

/// What one peer connection holds at a moment: its ICE sessions (the current one and one draining during a
/// restart), their transactions in flight, and its armed retry timers. A soak compares these with their
/// values at the start.
package struct PeerCensus: Sendable, Equatable {
    package var sessions = 0
    package var transactions = 0
    /// Armed timers: the retry after a failure and the next direct attempt while relayed.
    package var retryTimers = 0

    package init(sessions: Int = 0, transactions: Int = 0, retryTimers: Int = 0) {
        (self.sessions, self.transactions, self.retryTimers) = (sessions, transactions, retryTimers)
    }

    package static func + (a: PeerCensus, b: PeerCensus) -> PeerCensus {
        PeerCensus(sessions: a.sessions + b.sessions, transactions: a.transactions + b.transactions,
                   retryTimers: a.retryTimers + b.retryTimers)
    }
}

extension PeerConnection {
    /// This connection's census, taken on its event loop.
    package func census() -> EventLoopFuture<PeerCensus> {
        eventLoop.submit {
            let sessions = [self.agent, self.draining].compactMap { $0 }
            return PeerCensus(sessions: sessions.count, transactions: sessions.reduce(0) { $0 + $1.transactionsOnLoop },
                              retryTimers: (self.retryTimer == nil ? 0 : 1) + (self.directRetryTimer == nil ? 0 : 1))
        }
    }
}
