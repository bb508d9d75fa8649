import Signal
import Synchronization

/// Collects a signal client's events for assertions.
package final class SignalInbox: Sendable {
    package let events = Mutex<[SignalClient.Event]>([])
    package init() {}
    package var messages: [(String, SignalMessage)] {
        events.withLock { $0.compactMap { if case .message(let f, let m) = $0 { (f, m) } else { nil } } }
    }
    package var presence: [(String, Bool)] {
        events.withLock { $0.compactMap { if case .presence(let k, let o) = $0 { (k, o) } else { nil } } }
    }
    package var connectedCount: Int { events.withLock { $0.filter { if case .connected = $0 { true } else { false } }.count } }
    package func record(_ e: SignalClient.Event) { events.withLock { $0.append(e) } }
}
