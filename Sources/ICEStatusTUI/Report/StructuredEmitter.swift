/// Writes a document as indented JSON, one-line JSON or block YAML while it is described, straight into the
/// report's bytes (``ReportBytes``): no tree is built first. The caller describes containers, keys and scalars in order; the emitter
/// places commas, indentation, YAML's dashes and the `{}`/`[]` of empty containers.
struct StructuredEmitter {
    enum Style { case json, compactJSON, yaml }

    /// Where the first value goes.
    enum Start {
        /// A JSON value at the current column, whose lines are indented by `indent`.
        case json(indent: Int)
        /// The value of a YAML key already written (`key:`), whose members are indented by `indent`.
        case yamlValue(indent: Int)
        /// An item of a YAML list already open, whose dash is at `indent`.
        case yamlListItem(indent: Int)
    }

    let style: Style
    var out: ReportBytes

    /// One open container: its members' indentation and how many it has so far.
    private struct Frame {
        var isObject: Bool
        var indent: Int
        var count = 0
        /// YAML: an item of a list (its first member goes on the dash line) rather than a key's value.
        var isListItem = false
    }

    private var frames: [Frame] = []
    private var start: Start

    init(style: Style, start: Start, into out: ReportBytes = ReportBytes()) {
        self.style = style
        self.start = start
        self.out = out
        frames.reserveCapacity(6)
    }

    // MARK: Containers

    mutating func beginObject() { open(isObject: true) }
    mutating func endObject() { close() }
    mutating func beginArray() { open(isObject: false) }
    mutating func endArray() { close() }

    /// A member's key; its value follows.
    mutating func key(_ key: StaticString) {
        beginKey()
        writeKey { $0.put(key) }
    }

    /// A member's key that is not a literal (a drop reason's code). Labelled, so that a literal key takes the
    /// `StaticString` overload, which writes it without looking for characters to escape.
    mutating func key(text key: String) {
        beginKey()
        writeKey { StructuredReport.writeString(key, into: &$0, quoted: false) }
    }

    // MARK: Scalars

    mutating func string(_ s: String) { scalar { StructuredReport.writeString(s, into: &$0) } }
    mutating func string(_ s: String?) { if let s { string(s) } else { null() } }
    mutating func number(_ n: some BinaryInteger) {
        scalar { out in
            if let v = Int64(exactly: n) { out.put(decimal: v) } else if let v = UInt64(exactly: n) { out.put(decimal: v) } else { out.put(text: String(n)) }
        }
    }
    /// Nanoseconds as a number of milliseconds with three decimals (`0.142`).
    mutating func milliseconds(nanos: Int64) { scalar { StatusFormatting.millis(nanos, into: &$0) } }
    /// A time as an RFC 3339 string (`"2026-11-25T12:34:56.789Z"`).
    mutating func time(_ t: UTCTime) {
        scalar { out in
            out.put(byte: 34)
            t.write(into: &out)
            out.put(byte: 34)
        }
    }
    /// A number already formatted (`0.142`).
    mutating func number(text: String) { scalar { $0.put(text: text) } }
    mutating func bool(_ b: Bool) { scalar { if b { $0.put("true") } else { $0.put("false") } } }
    mutating func null() { scalar { $0.put("null") } }

    // MARK: Placement

    private var isYAML: Bool { style == .yaml }

    private mutating func scalar(_ write: (inout ReportBytes) -> Void) {
        if isYAML {
            if let top = frames.last, !top.isObject {
                noteListItem()
                spaces(top.indent)
                out.put("- ")
            } else {
                out.put(byte: 32)
            }
            write(&out)
            out.put(byte: 10)
        } else {
            jsonItemPrefix()
            write(&out)
        }
    }

    private mutating func open(isObject: Bool) {
        guard isYAML else {
            jsonItemPrefix()
            out.put(byte: isObject ? UInt8(ascii: "{") : UInt8(ascii: "["))
            frames.append(Frame(isObject: isObject, indent: (frames.last?.indent ?? jsonStartIndent) + 2))
            return
        }
        // YAML: `indent` is where the container's lines start (keys, or dashes).
        var frame = Frame(isObject: isObject, indent: 0)
        if let top = frames.last {
            frame.indent = top.indent + 2
            if !top.isObject {
                noteListItem()
                frame.isListItem = true
            }
        } else {
            switch start {
            case .yamlValue(let indent): frame.indent = indent
            case .yamlListItem(let indent): frame.indent = indent + 2; frame.isListItem = true
            case .json(let indent): frame.indent = indent
            }
        }
        frames.append(frame)
    }

    private mutating func close() {
        let frame = frames.removeLast()
        if isYAML {
            guard frame.count == 0 else { return }
            if frame.isListItem {
                spaces(frame.indent - 2)
                out.put(frame.isObject ? "- {}\n" : "- []\n")
            } else {
                out.put(frame.isObject ? " {}\n" : " []\n")
            }
        } else {
            if frame.count > 0, style == .json {
                out.put(byte: 10)
                spaces(frame.indent - 2)
            }
            out.put(byte: frame.isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        }
    }

    private var jsonStartIndent: Int {
        if case .json(let indent) = start { return indent }
        return 0
    }

    /// JSON: the separator and indentation before an array's item (a member's come with its key).
    private mutating func jsonItemPrefix() {
        guard let top = frames.last, !top.isObject else { return }
        separateJSONMember()
    }

    /// Before a member (`key`: its opening quote too) or an item: the comma, the line break and the indentation,
    /// in one write.
    private mutating func separateJSONMember(key: Bool = false) {
        let i = frames.count - 1
        let first = frames[i].count == 0
        frames[i].count += 1
        if style == .json {
            return out.putLineBreak(after: first ? nil : UInt8(ascii: ","), indent: frames[i].indent, before: key ? 34 : nil)
        } else if !first {
            out.put(byte: UInt8(ascii: ","))
        }
        if key { out.put(byte: 34) }
    }

    private mutating func beginKey() {
        guard isYAML else { return separateJSONMember(key: true) }
        let i = frames.count - 1
        let first = frames[i].count == 0
        frames[i].count += 1
        if first, frames[i].isListItem {
            // A list item's first member goes on the item's dash line.
            spaces(frames[i].indent - 2)
            out.put("- ")
            return
        }
        if first { out.put(byte: 10) } // after the `key:` this object is the value of
        spaces(frames[i].indent)
    }

    private mutating func writeKey(_ write: (inout ReportBytes) -> Void) {
        if isYAML {
            write(&out)
            out.put(byte: UInt8(ascii: ":"))
        } else {
            write(&out)
            out.put(style == .json ? "\": " : "\":")
        }
    }

    /// YAML: counts a list's item; the first one starts on the line after the list's key.
    private mutating func noteListItem() {
        let i = frames.count - 1
        if frames[i].count == 0 { out.put(byte: 10) }
        frames[i].count += 1
    }

    private mutating func spaces(_ n: Int) {
        out.put(spaces: n)
    }
}
