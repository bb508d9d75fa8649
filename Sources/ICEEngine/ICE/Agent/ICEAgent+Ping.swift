import NIOCore
import STUN

/// The answer to one ``ICEAgent/ping(timeout:)``.
public struct ICEPingReply: Sendable {
    /// From the request to its response.
    public var roundTrip: Duration
    /// The pair the request went on.
    public var path: SelectedPair
}

/// Why a ping got no round trip.
public enum ICEPingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No pair is selected: the agent is not connected.
    case notConnected
    /// No authenticated response within the timeout.
    case timedOut
    /// The agent closed before the response.
    case closed
    /// The remote answered with a STUN error.
    case errorResponse(code: Int)
    /// A response came from another address than the request went to.
    case answeredFromElsewhere(TransportAddress)

    public var description: String {
        switch self {
        case .notConnected: "not connected"
        case .timedOut: "no reply in time"
        case .closed: "the session closed"
        case .errorResponse(let code): "answered with STUN error \(code)"
        case .answeredFromElsewhere(let address): "answered from \(address), not where the request went"
        }
    }
}

extension ICEAgent {
    /// Sends one Binding request on the selected pair, as a consent check does (authenticated both ways), and
    /// reports its round trip with the path. Fails with ``ICEPingError``.
    public func ping(timeout: Duration) -> EventLoopFuture<ICEPingReply> {
        eventLoop.flatSubmit { [self] in
            guard state == .connected || state == .disconnected, let id = selectedPairID, let pair = pair(id),
                  let transaction = sendCheck(pairID: id, useCandidate: false, isConsent: true) else {
                return eventLoop.makeFailedFuture(ICEPingError.notConnected)
            }
            let promise = eventLoop.makePromise(of: Duration.self)
            transactions[transaction]?.reply = promise
            let timer = eventLoop.scheduleTask(in: timeout.timeAmount) { [self] in
                guard let reply = transactions[transaction]?.reply else { return }
                transactions[transaction]?.reply = nil
                reply.fail(ICEPingError.timedOut)
            }
            promise.futureResult.whenComplete { _ in timer.cancel() }
            let path = path(of: pair)
            return promise.futureResult.map { ICEPingReply(roundTrip: $0, path: path) }
        }
    }
}
