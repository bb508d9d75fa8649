import NIOCore
import Synchronization
import STUN
import ICE
import Signal

/// A signaling transport inside one process, for the demo and the tests: messages go straight to the peer
/// connection registered for that (receiver, sender) pair of keys, after an optional per-route delay.
public final class InProcessSignaling: SignalingTransport {
    private struct Route: Hashable {
        var to: String
        var from: String
    }

    private let connections = Mutex<[Route: PeerConnection]>([:])
    private let eventLoop: EventLoop
    private let delay: @Sendable (_ from: String, _ to: String) -> Duration

    public init(eventLoop: EventLoop, delay: @escaping @Sendable (_ from: String, _ to: String) -> Duration = { _, _ in .zero }) {
        self.eventLoop = eventLoop
        self.delay = delay
    }

    /// Routes messages from the connection's remote key to its local key into it.
    public func register(_ connection: PeerConnection) {
        connections.withLock { $0[Route(to: connection.localKey, from: connection.remoteKey)] = connection }
    }

    public func send(_ message: SignalMessage, from senderKey: String, to peerKey: String) {
        guard let receiver = connections.withLock({ $0[Route(to: peerKey, from: senderKey)] }) else { return }
        let wait = delay(senderKey, peerKey)
        if wait == .zero {
            receiver.handleSignal(message)
        } else {
            eventLoop.scheduleTask(in: wait.timeAmount) { receiver.handleSignal(message) }
        }
    }
}
