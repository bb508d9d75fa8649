import NIOCore
import NIOPosix
import Synchronization
import STUN

/// Host sockets on one fixed UDP port, shared by every ICE session of the process (pion's UDPMux): a router
/// can forward that one port to this host, and ICE restarts and many peers need no second bind.
///
/// Each local address gets one socket on `port`. Sessions attach with their local ufrag and get an
/// ``Endpoint`` to send from. An incoming datagram goes to the session it belongs to:
/// - a STUN request by the local ufrag in its USERNAME (the first part, RFC 8445 §7.2.2);
/// - a STUN response by the transaction id of the request that the session sent;
/// - anything else (data) by the remote address the session last exchanged with.
/// What matches no session is dropped and counted.
public final class UDPPortMux: Sendable {
    /// Why a fixed port could not be bound.
    public struct BindError: Error, CustomStringConvertible {
        public var description: String
    }

    public let port: Int
    private let group: EventLoopGroup
    private let state = Mutex(State())

    private struct Route: Hashable {
        var local: IPAddress
        var remote: TransportAddress
    }

    private struct State {
        var sockets: [IPAddress: EventLoopFuture<Channel>] = [:]
        var endpoints: [Int: Endpoint] = [:]
        var byUfrag: [String: [IPAddress: Int]] = [:]
        var byRemote: [Route: Int] = [:]
        var byTransaction: [STUNTransactionID: Int] = [:]
        /// Transaction ids in the order they were sent, to forget the oldest (unanswered ones never leave).
        var transactionOrder: [STUNTransactionID] = []
        var nextID = 0
        var dropped = 0
        var closed = false
    }

    /// Transactions remembered for response routing; beyond this the oldest are forgotten.
    static let transactionLimit = 4096

    /// Kernel send and receive buffer size asked for each socket.
    let bufferBytes: Int

    public init(port: Int, group: EventLoopGroup, bufferBytes: Int = UDPSocketTuning.defaultBufferBytes) {
        self.port = port
        self.group = group
        self.bufferBytes = bufferBytes
    }

    /// Binds the port on each of `addresses` now, so that a port in use is an error at start.
    public func bind(_ addresses: [IPAddress]) -> EventLoopFuture<Void> {
        let loop = group.next()
        let binds = addresses.map { address in
            socket(for: address).flatMapErrorThrowing { error in
                throw BindError(description: "cannot bind UDP \(TransportAddress(ip: address, port: UInt16(self.port))): \(error)")
            }.map { _ in }
        }
        return EventLoopFuture.andAllSucceed(binds, on: loop)
    }

    /// Datagrams that matched no attached session.
    public var droppedDatagrams: Int { state.withLock { $0.dropped } }

    /// Closes every socket; attached sessions send nothing more.
    public func close() -> EventLoopFuture<Void> {
        let sockets = state.withLock { s -> [EventLoopFuture<Channel>] in
            s.closed = true
            defer { s.sockets.removeAll(); s.endpoints.removeAll() }
            return Array(s.sockets.values)
        }
        let loop = group.next()
        let closes = sockets.map { $0.flatMap { $0.close() }.recover { _ in } }
        return EventLoopFuture.andAllComplete(closes, on: loop)
    }

    /// Attaches a session on `address`. `receive` runs on `eventLoop` for every datagram routed to it.
    func attach(address: IPAddress, ufrag: String, eventLoop: EventLoop,
                receive: @escaping @Sendable (TransportAddress, ByteBuffer) -> Void) -> EventLoopFuture<Endpoint> {
        socket(for: address).hop(to: eventLoop).flatMapThrowing { channel in
            try self.state.withLock { s in
                guard !s.closed else { throw BindError(description: "the shared port \(self.port) is closed") }
                let id = s.nextID
                s.nextID += 1
                let endpoint = Endpoint(id: id, mux: self, channel: channel, local: address, eventLoop: eventLoop, receive: receive)
                s.endpoints[id] = endpoint
                s.byUfrag[ufrag, default: [:]][address] = id
                return endpoint
            }
        }
    }

    private func socket(for address: IPAddress) -> EventLoopFuture<Channel> {
        state.withLock { s in
            if let existing = s.sockets[address] { return existing }
            let bufferBytes = self.bufferBytes
            let bound = UDPSocketTuning.configure(DatagramBootstrap(group: group), bufferBytes: bufferBytes, receiveOffload: true)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DatagramHandler(buffers: { [weak self] in self?.route($1, from: $0, local: address) }))
                    }
                }
                .bind(host: address.description, port: port)
                .flatMap { channel in UDPSocketTuning.sizeBuffers(channel, bytes: bufferBytes).map { channel } }
            s.sockets[address] = bound
            // A failed bind is not kept: the next attach tries again (the port may have been freed).
            bound.whenFailure { _ in self.state.withLock { s in s.sockets[address] = nil } }
            return bound
        }
    }

    // MARK: Routing

    func route(_ buffer: ByteBuffer, from remote: TransportAddress, local: IPAddress) {
        let endpoint: Endpoint? = state.withLock { s in
            let id: Int?
            if STUNMessage.looksLikeSTUN(buffer.readableBytesView), let message = try? STUNMessage(decoding: Array(buffer.readableBytesView)) {
                if message.type.messageClass == .request {
                    let ufrag = message.username?.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
                    id = s.byUfrag[ufrag]?[local]
                    if let id { s.byRemote[Route(local: local, remote: remote)] = id }
                } else {
                    id = s.byTransaction[message.transactionID]
                }
            } else {
                id = s.byRemote[Route(local: local, remote: remote)]
            }
            guard let id, let endpoint = s.endpoints[id] else {
                s.dropped += 1
                return nil
            }
            return endpoint
        }
        endpoint?.deliver(from: remote, buffer)
    }

    fileprivate func sent(_ buffer: ByteBuffer, to remote: TransportAddress, by endpoint: Endpoint) {
        state.withLock { s in
            guard s.endpoints[endpoint.id] != nil else { return }
            let route = Route(local: endpoint.local, remote: remote)
            if s.byRemote[route] != endpoint.id { s.byRemote[route] = endpoint.id }
            guard STUNMessage.looksLikeSTUN(buffer.readableBytesView), let b0 = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
                  let b1 = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self), b0 & 0x01 == 0, b1 & 0x10 == 0 else { return }
            // A request (class bits 00): its response comes back under the same transaction id.
            let id = buffer.withUnsafeReadableBytes { STUNTransactionID(bytes: UnsafeRawBufferPointer(rebasing: $0[8..<20])) }
            if s.byTransaction.updateValue(endpoint.id, forKey: id) == nil {
                s.transactionOrder.append(id)
                if s.transactionOrder.count > Self.transactionLimit {
                    let forget = s.transactionOrder.count - Self.transactionLimit / 2
                    for old in s.transactionOrder[..<forget] { s.byTransaction[old] = nil }
                    s.transactionOrder.removeFirst(forget)
                }
            }
        }
    }

    fileprivate func detach(_ endpoint: Endpoint) {
        state.withLock { s in
            guard s.endpoints.removeValue(forKey: endpoint.id) != nil else { return }
            for (ufrag, byAddress) in s.byUfrag where byAddress[endpoint.local] == endpoint.id {
                s.byUfrag[ufrag]![endpoint.local] = nil
                if s.byUfrag[ufrag]!.isEmpty { s.byUfrag[ufrag] = nil }
            }
            s.byRemote = s.byRemote.filter { $0.value != endpoint.id }
            s.byTransaction = s.byTransaction.filter { $0.value != endpoint.id }
            s.transactionOrder.removeAll { s.byTransaction[$0] == nil }
        }
    }

    /// One session's view of the shared socket on one local address.
    final class Endpoint: Sendable {
        fileprivate let id: Int
        private let mux: UDPPortMux
        private let channel: Channel
        fileprivate let local: IPAddress
        private let eventLoop: EventLoop
        private let receive: @Sendable (TransportAddress, ByteBuffer) -> Void

        fileprivate init(id: Int, mux: UDPPortMux, channel: Channel, local: IPAddress, eventLoop: EventLoop,
                         receive: @escaping @Sendable (TransportAddress, ByteBuffer) -> Void) {
            self.id = id
            self.mux = mux
            self.channel = channel
            self.local = local
            self.eventLoop = eventLoop
            self.receive = receive
        }

        var localAddress: SocketAddress? { channel.localAddress }

        /// Sends from the shared socket; false when dropped (its send queue is full). The socket may be on
        /// another event loop than the session, so each datagram is flushed (NIO hops to the socket's loop).
        func send(_ data: ByteBuffer, to remote: TransportAddress) -> Bool {
            guard let destination = try? remote.socketAddress(), channel.isWritable else { return false }
            mux.sent(data, to: remote, by: self)
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: destination, data: data), promise: nil)
            return true
        }

        /// Stops routing to this session; the shared socket stays open for the others.
        func detach() { mux.detach(self) }

        fileprivate func deliver(from remote: TransportAddress, _ buffer: ByteBuffer) {
            if eventLoop.inEventLoop { return receive(remote, buffer) }
            let receive = self.receive
            eventLoop.execute { receive(remote, buffer) }
        }
    }
}
