import NIOCore
import STUN

/// ChannelData read in place from a received buffer, on the data path.
extension ChannelData {
    /// The channel and a slice of `buffer` holding the data (not copied), or nil if malformed.
    static func decode(_ buffer: ByteBuffer) -> (channel: UInt16, data: ByteBuffer)? {
        let start = buffer.readerIndex
        guard let channel = buffer.getInteger(at: start, as: UInt16.self),
              let length = buffer.getInteger(at: start + 2, as: UInt16.self).map(Int.init),
              validChannels.contains(channel), 4 + length <= buffer.readableBytes, buffer.readableBytes - (4 + length) < 4,
              let data = buffer.getSlice(at: start + 4, length: length) else { return nil }
        return (channel, data)
    }
}
