import NIOCore

/// JSON on one line, for streams of records (`icestat events --json`: JSON Lines).
extension StructuredReport {
    /// `value` as JSON without line breaks, then a newline.
    static func compactJSON(_ value: Value) -> [UInt8] {
        var out = ByteBuffer()
        writeCompact(value, into: &out)
        out.writeInteger(10 as UInt8)
        return Array(out.readableBytesView)
    }

    private static func writeCompact(_ v: Value, into out: inout ByteBuffer) {
        switch v {
        case .object(let members):
            out.writeInteger(UInt8(ascii: "{"))
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out.writeInteger(UInt8(ascii: ",")) }
                writeString(key, into: &out)
                out.writeInteger(UInt8(ascii: ":"))
                writeCompact(value, into: &out)
            }
            out.writeInteger(UInt8(ascii: "}"))
        case .array(let items):
            out.writeInteger(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.writeInteger(UInt8(ascii: ",")) }
                writeCompact(item, into: &out)
            }
            out.writeInteger(UInt8(ascii: "]"))
        default:
            writeScalar(v, into: &out)
        }
    }
}
