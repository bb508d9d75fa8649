/// TURN ChannelData messages (RFC 8656 §12.4): a 4-byte header (channel number, length) and the data.
public enum ChannelData {
    /// Channel numbers a client may bind (RFC 8656 §12).
    public static let validChannels: ClosedRange<UInt16> = 0x4000...0x4FFF

    /// True if the first byte marks a ChannelData message (RFC 7983: 64–79).
    public static func looksLikeChannelData(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && (0x40...0x4F).contains(bytes[0])
    }

    public static func encode(channel: UInt16, data: [UInt8]) -> [UInt8] {
        [UInt8(channel >> 8), UInt8(channel & 0xFF), UInt8(data.count >> 8), UInt8(data.count & 0xFF)] + data
    }

    /// The channel and data, or nil if malformed (padding after the data is allowed, as over UDP it may be sent).
    public static func decode(_ bytes: [UInt8]) -> (channel: UInt16, data: [UInt8])? {
        guard bytes.count >= 4 else { return nil }
        let channel = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        let length = Int(bytes[2]) << 8 | Int(bytes[3])
        guard validChannels.contains(channel), 4 + length <= bytes.count, bytes.count - (4 + length) < 4 else { return nil }
        return (channel, Array(bytes[4..<(4 + length)]))
    }
}
