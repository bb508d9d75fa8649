import NIOCore

/// The socket a host candidate sends from: the session's own UDP channel, or its endpoint on a shared fixed
/// port (``UDPPortMux``).
enum HostSocket {
    case own(Channel)
    case shared(UDPPortMux.Endpoint)

    var localAddress: TransportAddress? {
        switch self {
        case .own(let channel): channel.localAddress.flatMap(TransportAddress.init)
        case .shared(let endpoint): endpoint.localAddress.flatMap(TransportAddress.init)
        }
    }

    func send(_ bytes: [UInt8], to address: TransportAddress) {
        switch self {
        case .own(let channel):
            guard let destination = try? address.socketAddress() else { return }
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: destination, data: channel.allocator.buffer(bytes: bytes)), promise: nil)
        case .shared(let endpoint):
            endpoint.send(bytes, to: address)
        }
    }

    func close() -> EventLoopFuture<Void>? {
        switch self {
        case .own(let channel): return channel.close()
        case .shared(let endpoint):
            endpoint.detach()
            return nil
        }
    }
}
