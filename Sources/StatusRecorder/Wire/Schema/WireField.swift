/// One field of a record kind on the status stream: the name a stream declares it by, how its value is written,
/// and how it is read back. A record kind's fields are one table (``StatusWireSchema``), so a new field is one
/// entry there: the writer, the declaration line and the reader all follow from it.
struct WireField<Record>: Sendable {
    let name: String
    /// The field's value (empty for an absent one; the writer escapes it).
    let write: @Sendable (Record) -> String
    /// Sets the field from its value (empty when absent, or not declared by an older agent); false when the value
    /// is not one this field can hold, which makes the line malformed.
    let read: @Sendable (inout Record, WireValue) -> Bool

    init(_ name: String, write: @escaping @Sendable (Record) -> String, read: @escaping @Sendable (inout Record, WireValue) -> Bool) {
        self.name = name
        self.write = write
        self.read = read
    }
}

/// Helpers for the common shapes of value.
extension WireField {
    /// A string that may be empty.
    static func text(_ name: String, _ get: @escaping @Sendable (Record) -> String,
                     _ set: @escaping @Sendable (inout Record, String) -> Void) -> WireField {
        WireField(name, write: get, read: { set(&$0, $1.string); return true })
    }

    /// An optional string: absent when empty.
    static func optionalText(_ name: String, _ get: @escaping @Sendable (Record) -> String?,
                             _ set: @escaping @Sendable (inout Record, String?) -> Void) -> WireField {
        WireField(name, write: { get($0) ?? "" }, read: { set(&$0, $1.isEmpty ? nil : $1.string); return true })
    }

    /// An optional integer: absent when empty; anything else that is not a number is malformed.
    static func optionalNumber<N: FixedWidthInteger & Sendable>(_ name: String, _ get: @escaping @Sendable (Record) -> N?,
                                                                _ set: @escaping @Sendable (inout Record, N?) -> Void) -> WireField {
        WireField(name, write: { get($0).map { String($0) } ?? "" }, read: { record, value in
            if value.isEmpty { set(&record, nil); return true }
            guard let n = value.integer(N.self) else { return false }
            set(&record, n)
            return true
        })
    }

    /// An integer that is always there (an older agent's stream without it reads as 0).
    static func number<N: FixedWidthInteger & Sendable>(_ name: String, _ get: @escaping @Sendable (Record) -> N,
                                                        _ set: @escaping @Sendable (inout Record, N) -> Void) -> WireField {
        WireField(name, write: { String(get($0)) }, read: { record, value in
            if value.isEmpty { set(&record, 0); return true }
            guard let n = value.integer(N.self) else { return false }
            set(&record, n)
            return true
        })
    }

    /// An integer the record cannot be without: empty or not a number is malformed.
    static func requiredNumber<N: FixedWidthInteger & Sendable>(_ name: String, _ get: @escaping @Sendable (Record) -> N,
                                                                _ set: @escaping @Sendable (inout Record, N) -> Void) -> WireField {
        WireField(name, write: { String(get($0)) }, read: { record, value in
            guard let n = value.integer(N.self) else { return false }
            set(&record, n)
            return true
        })
    }

    /// `1` or `0` (empty reads as false).
    static func flag(_ name: String, _ get: @escaping @Sendable (Record) -> Bool,
                     _ set: @escaping @Sendable (inout Record, Bool) -> Void) -> WireField {
        WireField(name, write: { get($0) ? "1" : "0" }, read: { set(&$0, $1.isOne); return true })
    }
}
