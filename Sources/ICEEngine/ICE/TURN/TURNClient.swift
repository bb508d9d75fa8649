import NIOCore
import NIOPosix
import NIOSSL
import STUN

/// The result of a TURN Allocate.
public struct TURNAllocation: Sendable, Hashable {
    /// The address peers send to; it becomes a relayed candidate.
    public var relayed: TransportAddress
    /// Our address as the server sees it (a server-reflexive address).
    public var mapped: TransportAddress?
    public var lifetimeSeconds: UInt32
}

/// A TURN client (RFC 8656) on its own socket, over UDP, TCP or TLS: Allocate with long-term credentials (401
/// then a retry with REALM and NONCE, 438 stale nonce), Refresh before the lifetime ends, permissions and
/// channel bindings kept fresh, Send/Data indications and ChannelData, and a Refresh with LIFETIME 0 on close.
///
/// Over a stream (TCP, TLS) messages are framed as RFC 8656 §12.5 says, requests are not retransmitted, and the
/// allocation lives as long as the connection: its loss is reported at once through `onConnectionLost`.
/// TLS sends the server name (SNI) and verifies the certificate against the system's or the configured CAs;
/// a certificate that does not verify fails the Allocate with an error naming the server.
///
/// All state lives on `eventLoop`; `onData` is called there with each datagram a peer sent through the relay.
public final class TURNClient: @unchecked Sendable {
    public let server: TransportAddress
    /// The server as configured: transport, TLS name and CAs.
    public let configuration: TURNServer
    public let eventLoop: EventLoop
    let username: String
    let password: String
    let onData: @Sendable (TransportAddress, ByteBuffer) -> Void
    let onConnectionLost: @Sendable (String) -> Void
    /// Kernel buffer size asked for the UDP socket.
    let socketBufferBytes: Int
    /// `server` as NIO's address, for every datagram sent to it.
    let serverSocketAddress: SocketAddress?

    // Confined to `eventLoop`.
    var channel: Channel? {
        didSet { writer = channel.map { BatchedWriter($0, segmentationOffload: false) } }
    }
    var writer: BatchedWriter?
    var realm: String?
    var nonce: String?
    var key: [UInt8]?
    var allocation: TURNAllocation?
    var pending: [STUNTransactionID: Pending] = [:]
    var permissions: [IPAddress: Scheduled<Void>] = [:]
    var channels: [TransportAddress: UInt16] = [:]
    var channelPeers: [UInt16: TransportAddress] = [:]
    var channelTimers: [UInt16: Scheduled<Void>] = [:]
    var nextChannel: UInt16 = ChannelData.validChannels.lowerBound
    var refreshTimer: Scheduled<Void>?
    var closed = false
    /// Why the stream to the server ended, when it did (a TLS refusal can end it before the first request).
    var lostReason: String?
    /// The first request went out with a cached realm and nonce; a 401 to it means they are no longer good.
    var usedCachedNonce = false

    /// Counters, for tests and status.
    public internal(set) var refreshes = 0
    /// How long before the allocation expires it is refreshed (default a minute).
    public var refreshLeadSeconds: UInt32 = 60
    /// How often each permission is installed again (they last 5 minutes, RFC 8656 §9).
    public var permissionRefreshInterval: Duration = .seconds(240)
    /// How often each channel binding is renewed (they last 10 minutes, RFC 8656 §12).
    public var channelRefreshInterval: Duration = .seconds(540)
    /// CreatePermission and ChannelBind requests the server accepted, renewals included.
    public internal(set) var permissionsInstalled = 0
    public internal(set) var channelsBound = 0

    /// An attribute of a request; peer addresses are XORed with each transmission's own transaction id.
    enum RequestAttribute {
        case value(STUNAttributeType, [UInt8])
        case peer(TransportAddress)
    }

    struct Pending {
        var method: STUNMethod
        var attributes: [RequestAttribute]
        var bytes: [UInt8]
        var exchange: STUNClientTransaction
        var authenticated: Bool
        var staleRetries: Int
        var promise: EventLoopPromise<STUNMessage>
        var timer: Scheduled<Void>?
    }

    public convenience init(server: TransportAddress, username: String, password: String, eventLoop: EventLoop,
                            onData: @escaping @Sendable (TransportAddress, [UInt8]) -> Void) {
        self.init(server: TURNServer(address: server, username: username, password: password), eventLoop: eventLoop, onData: onData)
    }

    /// A client whose peers' data arrives as bytes.
    public convenience init(server: TURNServer, eventLoop: EventLoop, onData: @escaping @Sendable (TransportAddress, [UInt8]) -> Void,
                            onConnectionLost: @escaping @Sendable (String) -> Void = { _ in }) {
        self.init(server: server, eventLoop: eventLoop, socketBufferBytes: UDPSocketTuning.defaultBufferBytes,
                  onData: { peer, buffer in onData(peer, Array(buffer.readableBytesView)) }, onConnectionLost: onConnectionLost)
    }

    /// A client whose peers' data arrives as read (a slice of the socket's buffer, not copied), on `eventLoop`.
    public init(server: TURNServer, eventLoop: EventLoop, socketBufferBytes: Int,
                onData: @escaping @Sendable (TransportAddress, ByteBuffer) -> Void,
                onConnectionLost: @escaping @Sendable (String) -> Void = { _ in }) {
        self.server = server.address
        serverSocketAddress = try? server.address.socketAddress()
        configuration = server
        username = server.username
        password = server.password
        self.eventLoop = eventLoop
        self.socketBufferBytes = socketBufferBytes
        self.onData = onData
        self.onConnectionLost = onConnectionLost
        EngineCensus.turnClients.add(1, ordering: .relaxed)
    }

    deinit { EngineCensus.turnClients.subtract(1, ordering: .relaxed) }

    // MARK: Public API

    /// Binds a local socket (`localAddress`, port 0), or connects from it over TCP or TLS, and allocates a
    /// relayed address.
    public func allocate(localAddress: IPAddress, lifetimeSeconds: UInt32 = 600) -> EventLoopFuture<TURNAllocation> {
        open(localAddress: localAddress)
            .flatMap { channel in
                self.channel = channel
                return self.request(.allocate, [
                    .value(.requestedTransport, [17, 0, 0, 0]),
                    .value(.lifetime, Self.uint32(lifetimeSeconds)),
                ])
            }
            .flatMapThrowing { response in
                guard let relayed = response.xorAddress(.xorRelayedAddress) else {
                    throw TURNError.malformedResponse("Allocate")
                }
                let allocation = TURNAllocation(relayed: relayed, mapped: response.xorAddress(.xorMappedAddress),
                                                lifetimeSeconds: response.lifetime ?? lifetimeSeconds)
                self.allocation = allocation
                self.scheduleRefresh(lifetime: allocation.lifetimeSeconds)
                return allocation
            }
    }

    /// The local socket's address (the base of the relayed candidate).
    public var localAddress: TransportAddress? { channel?.localAddress.flatMap(TransportAddress.init) }

    /// Refreshes the allocation now (it is also refreshed on its own before it expires).
    public func refresh(lifetimeSeconds: UInt32 = 600) -> EventLoopFuture<UInt32> {
        eventLoop.flatSubmit {
            guard self.allocation != nil else { return self.eventLoop.makeFailedFuture(TURNError.notAllocated) }
            return self.request(.refresh, [.value(.lifetime, Self.uint32(lifetimeSeconds))]).map { response in
                let lifetime = response.lifetime ?? lifetimeSeconds
                self.refreshes += 1
                self.allocation?.lifetimeSeconds = lifetime
                self.scheduleRefresh(lifetime: lifetime)
                return lifetime
            }
        }
    }

    /// Lets `peer` send to the relayed address; kept fresh every `permissionRefreshInterval`.
    public func createPermission(peer: IPAddress) -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            self.request(.createPermission, [.peer(TransportAddress(ip: peer, port: 0))]).map { _ in
                self.permissionsInstalled += 1
                self.permissions[peer]?.cancel()
                self.permissions[peer] = self.eventLoop.scheduleTask(in: self.permissionRefreshInterval.timeAmount) {
                    _ = self.createPermission(peer: peer)
                }
            }
        }
    }

    /// Binds a channel to `peer` (which also installs a permission); later data to that peer uses ChannelData.
    public func bindChannel(peer: TransportAddress) -> EventLoopFuture<UInt16> {
        eventLoop.flatSubmit {
            let number = self.channels[peer] ?? self.nextChannel
            if self.channels[peer] == nil {
                guard self.nextChannel < ChannelData.validChannels.upperBound else {
                    return self.eventLoop.makeFailedFuture(TURNError.rejected(code: 508, reason: "no free channel"))
                }
                self.nextChannel += 1
            }
            return self.request(.channelBind, [.value(.channelNumber, [UInt8(number >> 8), UInt8(number & 0xFF), 0, 0]),
                                               .peer(peer)]).map { _ in
                self.channels[peer] = number
                self.channelPeers[number] = peer
                self.channelsBound += 1
                self.channelTimers[number]?.cancel()
                self.channelTimers[number] = self.eventLoop.scheduleTask(in: self.channelRefreshInterval.timeAmount) {
                    _ = self.bindChannel(peer: peer)
                }
                return number
            }
        }
    }

    /// Sends to `peer` through the relay: ChannelData when a channel is bound, else a Send indication.
    public func send(_ data: [UInt8], to peer: TransportAddress) {
        eventLoop.execute {
            guard self.allocation != nil, !self.closed else { return }
            if self.channels[peer] != nil {
                _ = self.sendOnLoop(ByteBuffer(bytes: data), to: peer)
            } else {
                var indication = STUNMessageBuilder(type: STUNMessageType(method: .send, messageClass: .indication))
                indication.appendXORAddress(.xorPeerAddress, peer)
                indication.append(.data, data)
                indication.appendFingerprint()
                self.write(indication.encoded)
            }
        }
    }

    /// Sends one datagram to `peer` from the client's event loop, batched with the loop's round: as ChannelData
    /// (its header and the payload written once into the outgoing buffer) when a channel is bound, else as a
    /// Send indication. False when dropped: no allocation, or the send queue is full.
    public func sendOnLoop(_ data: ByteBuffer, to peer: TransportAddress) -> Bool {
        eventLoop.assertInEventLoop()
        guard allocation != nil, !closed, let writer else { return false }
        guard let number = channels[peer] else {
            send(Array(data.readableBytesView), to: peer)
            return true
        }
        let stream = configuration.transport.isStream
        let padding = stream ? (4 - data.readableBytes % 4) % 4 : 0
        var framed = writer.channel.allocator.buffer(capacity: 4 + data.readableBytes + padding)
        framed.writeInteger(number)
        framed.writeInteger(UInt16(data.readableBytes))
        framed.writeImmutableBuffer(data)
        // ChannelData over a stream is padded to a multiple of 4 (RFC 8656 §12.5).
        framed.writeRepeatingByte(0, count: padding)
        if stream { return writer.send(framed) }
        guard let destination = serverSocketAddress else { return false }
        return writer.send(framed, to: destination)
    }

    /// Deletes the allocation (Refresh with LIFETIME 0) and fails if the server does not confirm it; the
    /// socket stays open until `close()`.
    public func release() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            guard self.allocation != nil, !self.closed else { return self.eventLoop.makeFailedFuture(TURNError.notAllocated) }
            return self.request(.refresh, [.value(.lifetime, Self.uint32(0))]).map { _ in
                self.allocation = nil
                self.refreshTimer?.cancel()
            }
        }
    }

    /// Deletes the allocation (Refresh with LIFETIME 0) and closes the socket.
    public func close() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            guard !self.closed else { return self.eventLoop.makeSucceededVoidFuture() }
            let deletion: EventLoopFuture<Void> = self.allocation == nil
                ? self.eventLoop.makeSucceededVoidFuture()
                : self.request(.refresh, [.value(.lifetime, Self.uint32(0))]).map { _ in () }.recover { _ in () }
            return deletion.flatMap {
                self.closed = true
                self.allocation = nil
                self.refreshTimer?.cancel()
                self.permissions.values.forEach { $0.cancel() }
                self.channelTimers.values.forEach { $0.cancel() }
                self.pending.values.forEach { $0.timer?.cancel(); $0.promise.fail(TURNError.notAllocated) }
                self.pending.removeAll()
                return self.channel?.close() ?? self.eventLoop.makeSucceededVoidFuture()
            }
        }
    }

    // MARK: Requests

    static func uint32(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    func request(_ method: STUNMethod, _ attributes: [RequestAttribute]) -> EventLoopFuture<STUNMessage> {
        if closed {
            return eventLoop.makeFailedFuture(lostReason.map { TURNError.connectionFailed(server: configuration.url, reason: $0) }
                                              ?? TURNError.notAllocated)
        }
        let promise = eventLoop.makePromise(of: STUNMessage.self)
        if key == nil, let known = TURNNonceCache.shared.lookup(configuration) {
            // The realm and nonce this server gave a client of ours a moment ago: skip the 401 round trip.
            (realm, nonce) = (known.realm, known.nonce)
            key = STUNCredentials.longTermKey(username: username, realm: known.realm, password: password)
            usedCachedNonce = true
        }
        var p = Pending(method: method, attributes: attributes, bytes: [], exchange: STUNClientTransaction(.turnRequest),
                        authenticated: key != nil, staleRetries: 0, promise: promise)
        let id = STUNTransactionID.random()
        p.bytes = encode(p, id: id)
        pending[id] = p
        transmit(id)
        return promise.futureResult
    }

    func encode(_ p: Pending, id: STUNTransactionID) -> [UInt8] {
        var b = STUNMessageBuilder(type: STUNMessageType(method: p.method, messageClass: .request), transactionID: id)
        for attribute in p.attributes {
            switch attribute {
            case .value(let type, let value): b.append(type, value)
            case .peer(let peer): b.appendXORAddress(.xorPeerAddress, peer)
            }
        }
        if let key, let realm, let nonce {
            b.append(.username, string: username)
            b.append(.realm, string: realm)
            b.append(.nonce, string: nonce)
            b.appendMessageIntegrity(key: key)
        }
        b.appendFingerprint()
        return b.encoded
    }

    /// Sends a pending request for the first time and arms its timer.
    func transmit(_ id: STUNTransactionID) {
        guard let p = pending[id] else { return }
        write(p.bytes)
        armTimer(id, after: p.exchange.wait)
    }

    func armTimer(_ id: STUNTransactionID, after wait: Duration) {
        pending[id]?.timer = eventLoop.scheduleTask(in: wait.timeAmount) {
            guard var p = self.pending[id] else { return }
            guard p.exchange.timerFired() == .retransmit else {
                self.pending[id] = nil
                p.promise.fail(TURNError.timedOut("\(STUNMessageType(method: p.method, messageClass: .request))"))
                return
            }
            self.pending[id] = p
            // A stream delivers or fails on its own: a request goes once, and times out on the same schedule.
            if !self.configuration.transport.isStream { self.write(p.bytes) }
            self.armTimer(id, after: p.exchange.wait)
        }
    }

    /// Writes a STUN message to the server (always queued: control is not dropped for data).
    func write(_ bytes: [UInt8]) {
        guard let writer else { return }
        let buffer = writer.channel.allocator.buffer(bytes: bytes)
        if configuration.transport.isStream {
            writer.send(buffer, force: true)
        } else if let destination = serverSocketAddress {
            writer.send(buffer, to: destination)
        }
    }


    func scheduleRefresh(lifetime: UInt32) {
        refreshTimer?.cancel()
        guard lifetime > 0 else { return }
        // Refresh `refreshLeadSeconds` early, or at half the lifetime when it is shorter than that.
        let seconds = lifetime > refreshLeadSeconds ? Int64(lifetime - refreshLeadSeconds) : Int64(lifetime) / 2
        refreshTimer = eventLoop.scheduleTask(in: .seconds(max(1, seconds))) { _ = self.refresh(lifetimeSeconds: lifetime) }
    }
}
