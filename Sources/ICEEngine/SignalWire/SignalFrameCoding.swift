import NIOCore

/// Splits a TCP byte stream into ``SignalFrame``s behind 4-byte big-endian lengths; a frame over
/// ``SignalFrame/maxLength`` or one that does not decode is an error, which closes the connection.
public struct SignalFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = SignalFrame

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try Self.nextFrame(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    /// Takes the next whole frame off the front of a stream; nil (and nothing taken) until it has all arrived.
    /// The channel handler and the fuzzer both split streams with it.
    public static func nextFrame(from buffer: inout ByteBuffer) throws(SignalProtocolError) -> SignalFrame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length <= SignalFrame.maxLength else { throw .oversized(Int(length)) }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return try SignalFrame(decoding: buffer.readSlice(length: Int(length))!)
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
