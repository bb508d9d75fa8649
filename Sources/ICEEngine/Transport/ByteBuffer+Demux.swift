import NIOCore

extension ByteBuffer {
    /// The STUN test of RFC 7983 on a datagram as read (first byte 0–3, the magic cookie), with no copy.
    var looksLikeSTUN: Bool {
        guard readableBytes >= 20, let first = getInteger(at: readerIndex, as: UInt8.self), first & 0xC0 == 0 else { return false }
        return getInteger(at: readerIndex + 4, as: UInt32.self) == STUNMessage.magicCookie
    }
}
