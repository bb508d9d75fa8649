import NIOCore
import NIOPosix
import NIOSSL
import STUN

/// How the client reaches its server: a UDP socket, or a TCP connection with TLS on top for `turns:`.
extension TURNClient {
    // MARK: Transports

    func open(localAddress: IPAddress) -> EventLoopFuture<Channel> {
        guard configuration.transport.isStream else {
            let bufferBytes = socketBufferBytes
            return UDPSocketTuning.configure(DatagramBootstrap(group: eventLoop), bufferBytes: bufferBytes)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DatagramHandler(buffers: { [weak self] in self?.receive(from: $0, buffer: $1) }))
                    }
                }
                .bind(host: localAddress.description, port: 0)
                .flatMap { channel in UDPSocketTuning.sizeBuffers(channel, bytes: bufferBytes).map { channel } }
        }
        let tls: NIOSSLContext?
        do {
            tls = configuration.transport == .tls ? try Self.tlsContext(caFile: configuration.caFile) : nil
        } catch {
            return eventLoop.makeFailedFuture(TURNError.connectionFailed(server: configuration.url, reason: "TLS setup: \(error)"))
        }
        // SNI carries a name, never an address; with an address, the certificate must name that address.
        let serverName = IPAddress(configuration.host) == nil ? configuration.host : nil
        let url = configuration.url
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(5))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName)) }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(TURNStreamFramer()))
                    try channel.pipeline.syncOperations.addHandler(TURNStreamHandler(client: self))
                }
            }
            .bind(to: try! SocketAddress(ipAddress: localAddress.description, port: 0))
            .connect(to: try! server.socketAddress())
            .flatMapErrorThrowing { error in
                throw TURNError.connectionFailed(server: url, reason: "cannot connect: \(error)")
            }
    }

    static func tlsContext(caFile: String?) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        if let caFile { tls.trustRoots = .file(caFile) }
        return try NIOSSLContext(configuration: tls)
    }

    /// The stream to the server ended: the allocation is gone with it (RFC 8656 §3.1).
    func connectionLost(_ reason: String) {
        eventLoop.assertInEventLoop()
        guard !closed else { return }
        closed = true
        lostReason = reason
        let hadAllocation = allocation != nil
        allocation = nil
        refreshTimer?.cancel()
        permissions.values.forEach { $0.cancel() }
        channelTimers.values.forEach { $0.cancel() }
        let failure = TURNError.connectionFailed(server: configuration.url, reason: reason)
        pending.values.forEach { $0.timer?.cancel(); $0.promise.fail(failure) }
        pending.removeAll()
        if hadAllocation { onConnectionLost(reason) }
    }
}
