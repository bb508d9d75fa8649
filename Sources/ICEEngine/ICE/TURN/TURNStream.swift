import NIOCore
import NIOSSL
import STUN

/// Cuts a TURN byte stream into STUN messages and ChannelData (RFC 8656 §12.5): a STUN message is its 20-byte
/// header plus the length it gives; ChannelData is 4 bytes plus its length, padded to 4 (the padding is
/// dropped). Anything else on the stream is a framing error that closes the connection.
struct TURNStreamFramer: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    struct FramingError: Error, CustomStringConvertible {
        var description: String { "neither a STUN message nor ChannelData on the stream" }
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes >= 4, let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let length = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self) else { return .needMoreData }
        let frame: Int, payload: Int
        switch first >> 6 {
        case 0: (frame, payload) = (20 + Int(length), 20 + Int(length))
        case 1: (frame, payload) = (4 + ((Int(length) + 3) & ~3), 4 + Int(length))
        default: throw FramingError()
        }
        guard buffer.readableBytes >= frame else { return .needMoreData }
        let message = buffer.readSlice(length: payload)!
        buffer.moveReaderIndex(forwardBy: frame - payload)
        context.fireChannelRead(Self.wrapInboundOut(message))
        return .continue
    }
}

/// Hands a TURN stream's frames to its client, and its end (with the reason, a TLS failure among them).
final class TURNStreamHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private let client: TURNClient
    private var lastError: String?

    init(client: TURNClient) { self.client = client }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        client.receive(from: client.server, buffer: unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        lastError = Self.describe(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        client.connectionLost(lastError ?? "connection closed by the server")
    }

    static func describe(_ error: Error) -> String {
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "TLS: the certificate does not name this server (\(extra))"
        }
        if case NIOSSLError.handshakeFailed(let reason)? = error as? NIOSSLError {
            return "TLS handshake failed (certificate not trusted, or refused): \(reason)"
        }
        return "\(error)"
    }
}
