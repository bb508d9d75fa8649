import NIOCore
import NIOPosix
import Synchronization
import STUN

/// One UDP socket that sends STUN Binding requests for the NAT tests (RFC 5780 §4) and waits for their answers.
///
/// All tests of one mapping go out from the same socket, since a mapping belongs to a socket. An answer counts
/// only when it carries the transaction id of the request and comes from the address it should: the server
/// asked, or the address a CHANGE-REQUEST asked it to answer from. Anything else is ignored (and a right
/// transaction from a wrong address is remembered, to say so).
public final class STUNProbeSocket: Sendable {
    /// A Binding answer.
    public struct Answer: Sendable, Hashable {
        /// XOR-MAPPED-ADDRESS (or MAPPED-ADDRESS): where the server saw us.
        public var mapped: TransportAddress
        /// OTHER-ADDRESS: the server's alternate address and port, if it supports RFC 5780.
        public var otherAddress: TransportAddress?
        /// RESPONSE-ORIGIN: the address the answer says it came from.
        public var responseOrigin: TransportAddress?
        /// Request to answer; nil when the request had to be sent again (Karn's rule).
        public var roundTrip: Duration?
    }

    /// How one Binding request ended.
    public enum Outcome: Sendable, Hashable {
        case answered(Answer)
        /// An error response: 420 means the server does not understand CHANGE-REQUEST.
        case error(code: Int, reason: String)
        /// Nothing valid before the deadline; `wrongSource` is where an answer with our transaction came from
        /// instead, if one did.
        case noAnswer(wrongSource: TransportAddress?)

        public var answer: Answer? { if case .answered(let a) = self { a } else { nil } }
    }

    private struct Pending {
        var expectedFrom: TransportAddress
        var bytes: [UInt8]
        var destination: TransportAddress
        var sentAt: NIODeadline
        var exchange: STUNClientTransaction
        var wrongSource: TransportAddress?
        var promise: EventLoopPromise<Outcome>
    }

    private let channel: Channel
    private let pending = Mutex<[STUNTransactionID: Pending]>([:])


    private init(channel: Channel) { self.channel = channel }

    /// Opens a socket on the wildcard address of `ipv6 ? IPv6 : IPv4`, ephemeral port.
    public static func open(ipv6: Bool, group: EventLoopGroup) -> EventLoopFuture<STUNProbeSocket> {
        let box = ProbeSocketBox()
        return DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramHandler { box.socket?.receive($1, from: $0) })
                }
            }
            .bind(host: ipv6 ? "::" : "0.0.0.0", port: 0)
            .map { channel in
                let socket = STUNProbeSocket(channel: channel)
                box.socket = socket
                return socket
            }
    }

    /// The local port (for port preservation).
    public var localPort: Int? { channel.localAddress?.port }

    /// Sends a Binding request to `server` and waits up to `timeout` for its answer. With `change`, the server
    /// is asked to answer from another address and/or port (`expectedFrom`, usually derived from OTHER-ADDRESS).
    public func binding(to server: TransportAddress, change: (ip: Bool, port: Bool)? = nil,
                        expectedFrom: TransportAddress? = nil, timeout: Duration) -> EventLoopFuture<Outcome> {
        var request = STUNMessageBuilder(type: .bindingRequest)
        if let change { request.appendChangeRequest(ip: change.ip, port: change.port) }
        request.appendFingerprint()
        return send(request.encoded, id: request.transactionID, to: server, expectedFrom: expectedFrom, timeout: timeout)
    }

    /// Waits on this socket for the answer to a request that `sender` sends (RFC 5780 §4.6: RESPONSE-PORT asks
    /// the server to answer to this socket's mapping). The outcome on `sender` tells whether the server refused.
    public func answer(toRequestFrom sender: STUNProbeSocket, to server: TransportAddress, responsePort: UInt16,
                       timeout: Duration) -> (here: EventLoopFuture<Outcome>, there: EventLoopFuture<Outcome>) {
        var request = STUNMessageBuilder(type: .bindingRequest)
        request.append(.responsePort, [UInt8(responsePort >> 8), UInt8(responsePort & 0xFF), 0, 0])
        request.appendFingerprint()
        let id = request.transactionID
        let here = wait(for: id, from: server, timeout: timeout)
        let there = sender.send(request.encoded, id: id, to: server, expectedFrom: server, timeout: timeout)
        return (here, there)
    }

    private func wait(for id: STUNTransactionID, from server: TransportAddress, timeout: Duration) -> EventLoopFuture<Outcome> {
        let promise = channel.eventLoop.makePromise(of: Outcome.self)
        pending.withLock {
            // Nothing to send from here: `bytes` stays empty, so `transmit` sends nothing.
            $0[id] = Pending(expectedFrom: server, bytes: [], destination: server, sentAt: .now(),
                             exchange: STUNClientTransaction(.untilDeadline), promise: promise)
        }
        expire(id, after: timeout)
        return promise.futureResult
    }

    private func send(_ bytes: [UInt8], id: STUNTransactionID, to server: TransportAddress, expectedFrom: TransportAddress?,
                      timeout: Duration) -> EventLoopFuture<Outcome> {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: Outcome.self)
        pending.withLock {
            $0[id] = Pending(expectedFrom: expectedFrom ?? server, bytes: bytes, destination: server,
                             sentAt: .now(), exchange: STUNClientTransaction(.untilDeadline), promise: promise)
        }
        loop.execute { self.transmit(id) }
        expire(id, after: timeout)
        return promise.futureResult
    }

    private func expire(_ id: STUNTransactionID, after timeout: Duration) {
        channel.eventLoop.scheduleTask(in: timeout.timeAmount) {
            guard let p = self.pending.withLock({ $0.removeValue(forKey: id) }) else { return }
            p.promise.succeed(.noAnswer(wrongSource: p.wrongSource))
        }
    }

    public func close() -> EventLoopFuture<Void> {
        let left = pending.withLock { p -> [Pending] in defer { p.removeAll() }; return Array(p.values) }
        for p in left { p.promise.succeed(.noAnswer(wrongSource: p.wrongSource)) }
        return channel.close().recover { _ in }
    }

    /// Sends the request (again) and arms the next retransmission; the request's `expire` ends it.
    private func transmit(_ id: STUNTransactionID) {
        guard let (bytes, destination, wait) = pending.withLock({ p -> ([UInt8], TransportAddress, Duration)? in
            guard let entry = p[id], !entry.bytes.isEmpty else { return nil }
            return (entry.bytes, entry.destination, entry.exchange.wait)
        }), let address = try? destination.socketAddress() else { return }
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: channel.allocator.buffer(bytes: bytes)), promise: nil)
        channel.eventLoop.scheduleTask(in: wait.timeAmount) {
            let again = self.pending.withLock { p -> Bool in
                p[id]?.exchange.timerFired() == .retransmit
            }
            if again { self.transmit(id) }
        }
    }

    func receive(_ bytes: [UInt8], from: TransportAddress) {
        guard STUNMessage.looksLikeSTUN(bytes), let message = try? STUNMessage(decoding: bytes),
              message.type.method == .binding, message.type.messageClass != .request,
              !message.contains(.fingerprint) || message.hasValidFingerprint else { return }
        let id = message.transactionID
        let entry: Pending? = pending.withLock { p in
            guard let entry = p[id] else { return nil }
            // An error comes from the server asked, even when it was asked to answer from elsewhere (420).
            let errorFromServer = message.type.messageClass == .errorResponse && from == entry.destination
            guard from == entry.expectedFrom || errorFromServer else {
                p[id]!.wrongSource = from
                return nil
            }
            p[id] = nil
            return entry
        }
        guard let entry else { return }
        if message.type.messageClass == .errorResponse {
            let error = message.errorCode
            entry.promise.succeed(.error(code: error?.code ?? 0, reason: error?.reason ?? ""))
            return
        }
        guard let mapped = message.xorAddress() ?? message.mappedAddress else {
            entry.promise.succeed(.error(code: 0, reason: "answer without a mapped address"))
            return
        }
        // A wait-only entry (bytes empty) has no send of its own to time.
        let rtt = entry.bytes.isEmpty ? nil : entry.exchange.roundTrip(elapsed: .nanoseconds((NIODeadline.now() - entry.sentAt).nanoseconds))
        entry.promise.succeed(.answered(Answer(mapped: mapped, otherAddress: message.plainAddress(.otherAddress),
                                               responseOrigin: message.plainAddress(.responseOrigin), roundTrip: rtt)))
    }
}

private final class ProbeSocketBox: @unchecked Sendable {
    // Set once, right after the bind, before any datagram can be read.
    weak var socket: STUNProbeSocket?
}
