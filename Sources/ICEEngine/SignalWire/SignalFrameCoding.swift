import NIOCore

/// Splits a TCP byte stream into ``SignalFrame``s behind 4-byte big-endian lengths; a frame over
/// ``SignalFrame/maxLength`` or one that does not decode is an error, which closes the connection.
public struct SignalFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = SignalFrame

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard length <= SignalFrame.maxLength else { throw SignalProtocolError.oversized(Int(length)) }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        let body = buffer.readSlice(length: Int(length))!
        context.fireChannelRead(wrapInboundOut(try SignalFrame(decoding: body)))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer,
                                    seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Writes ``SignalFrame``s behind their 4-byte big-endian length.
public struct SignalFrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = SignalFrame

    public init() {}

    public func encode(data: SignalFrame, out: inout ByteBuffer) throws {
        let start = out.writerIndex
        out.writeInteger(UInt32(0))
        data.encode(into: &out)
        out.setInteger(UInt32(out.writerIndex - start - 4), at: start)
    }
}
