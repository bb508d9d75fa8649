/// JSON on one line, for streams of records (`icestat events --json`: JSON Lines).
extension StructuredReport {
    /// `value` as JSON without line breaks, then a newline.
    static func compactJSON(_ value: Value) -> [UInt8] {
        var out: [UInt8] = []
        writeCompact(value, into: &out)
        out.append(10)
        return out
    }

    private static func writeCompact(_ v: Value, into out: inout [UInt8]) {
        switch v {
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                writeCompact(value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeCompact(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        default:
            writeScalar(v, into: &out)
        }
    }
}
