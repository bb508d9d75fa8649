import NIOCore
import NIOPosix
import Synchronization
import STUN

/// A small STUN server for NAT behaviour discovery (RFC 5780 §6): Binding requests only, answered with
/// XOR-MAPPED-ADDRESS, RESPONSE-ORIGIN and, given an alternate address, OTHER-ADDRESS, CHANGE-REQUEST and
/// RESPONSE-PORT.
///
/// With an alternate, it listens on the four combinations of the two addresses and two ports, and answers a
/// CHANGE-REQUEST from the socket it asks for. Without one it is a plain server: a CHANGE-REQUEST or
/// RESPONSE-PORT gets 420 Unknown Attribute, as RFC 5780 §6.1 says. No authentication, no other method: anything else is dropped.
public final class STUNResponder: Sendable {
    /// What the responder has done, for its log and tests.
    public struct Counters: Sendable, Hashable {
        public var answered = 0
        public var changed = 0
        public var refused = 0
        public var dropped = 0
    }

    public let primary: TransportAddress
    public let alternate: TransportAddress?
    private let channels: Mutex<[TransportAddress: Channel]> = Mutex([:])
    private let counts = Mutex(Counters())

    public var counters: Counters { counts.withLock { $0 } }

    private init(primary: TransportAddress, alternate: TransportAddress?) {
        self.primary = primary
        self.alternate = alternate
    }

    /// Binds the sockets; throws naming the one that cannot be bound.
    public static func start(primary: TransportAddress, alternate: TransportAddress?, group: EventLoopGroup) async throws -> STUNResponder {
        if let alternate {
            guard alternate.ip != primary.ip, alternate.port != primary.port, alternate.ip.isIPv4 == primary.ip.isIPv4 else {
                throw STUNResponderError(description: "the alternate address needs another IP and another port of the same family")
            }
        }
        let responder = STUNResponder(primary: primary, alternate: alternate)
        var addresses = [primary]
        if let alternate {
            addresses += [TransportAddress(ip: primary.ip, port: alternate.port), TransportAddress(ip: alternate.ip, port: primary.port), alternate]
        }
        for address in addresses {
            do {
                let channel = try await DatagramBootstrap(group: group)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(DatagramHandler { responder.handle($1, from: $0, local: address) })
                        }
                    }
                    .bind(host: address.ip.description, port: Int(address.port)).get()
                responder.channels.withLock { $0[address] = channel }
            } catch {
                await responder.stop()
                throw STUNResponderError(description: "cannot listen on UDP \(address): \(error)")
            }
        }
        return responder
    }

    public func stop() async {
        for channel in channels.withLock({ Array($0.values) }) { try? await channel.close() }
    }

    /// The socket that answers a request received on `local` with `change`.
    func origin(for local: TransportAddress, change: (ip: Bool, port: Bool)) -> TransportAddress? {
        guard let alternate else { return change.ip || change.port ? nil : local }
        let ip = change.ip ? (local.ip == primary.ip ? alternate.ip : primary.ip) : local.ip
        let port = change.port ? (local.port == primary.port ? alternate.port : primary.port) : local.port
        return TransportAddress(ip: ip, port: port)
    }

    func handle(_ bytes: [UInt8], from: TransportAddress, local: TransportAddress) {
        guard STUNMessage.looksLikeSTUN(bytes), let request = try? STUNMessage(decoding: bytes),
              request.type == .bindingRequest, !request.contains(.fingerprint) || request.hasValidFingerprint else {
            counts.withLock { $0.dropped += 1 }
            return
        }
        var unknown = request.unknownRequiredAttributes
        let change = request.changeRequest ?? (false, false)
        if alternate == nil {
            for type in [STUNAttributeType.changeRequest, .responsePort] where request.contains(type) { unknown.append(type.rawValue) }
        }
        var response: STUNMessageBuilder
        var sendFrom = local
        if !unknown.isEmpty {
            response = STUNMessageBuilder(type: .bindingError, transactionID: request.transactionID)
            response.appendErrorCode(420, reason: "Unknown Attribute")
            response.append(.unknownAttributes, unknown.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
            counts.withLock { $0.refused += 1 }
        } else {
            sendFrom = origin(for: local, change: change) ?? local
            response = STUNMessageBuilder(type: .bindingSuccess, transactionID: request.transactionID)
            response.appendXORAddress(.xorMappedAddress, from)
            response.appendPlainAddress(.responseOrigin, sendFrom)
            if let other = origin(for: local, change: (true, true)), alternate != nil {
                response.appendPlainAddress(.otherAddress, other)
            }
            counts.withLock {
                $0.answered += 1
                if sendFrom != local { $0.changed += 1 }
            }
        }
        response.appendFingerprint()
        // RESPONSE-PORT sends the answer to another port of the requester's own address, never elsewhere.
        let target = unknown.isEmpty ? request.responsePort.map { TransportAddress(ip: from.ip, port: $0) } ?? from : from
        guard let channel = channels.withLock({ $0[sendFrom] }), let destination = try? target.socketAddress() else { return }
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: destination, data: channel.allocator.buffer(bytes: response.encoded)), promise: nil)
    }
}

/// Why the responder could not start.
public struct STUNResponderError: Error, CustomStringConvertible {
    public var description: String
}
