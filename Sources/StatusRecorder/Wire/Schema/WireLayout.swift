/// Where a record kind's fields sit on its lines in one stream: read from the stream's `F` line for the kind, or
/// version 1's fixed order when the stream declares none.
struct WireLayout: Sendable {
    /// For each field of the kind's table, its position among a line's values (nil: the stream has no such field).
    private var columns: [Int?]
    /// Where an event's kind and facts start (events only).
    private(set) var tail: Int?
    /// The fewest values a line must hold.
    let minimumValues: Int

    /// - Parameters:
    ///   - names: the field names in the stream's order (a name this build does not know is skipped; of a name
    ///     declared twice, the first counts).
    ///   - fieldIndex: where each name is in the kind's table (``fieldIndex(_:)``, built once per kind).
    init(names: some Collection<String>, fieldIndex: [String: Int], fieldCount: Int, minimumValues: Int? = nil) {
        var columns = [Int?](repeating: nil, count: fieldCount)
        var tail: Int?
        for (position, name) in names.enumerated() {
            if let i = fieldIndex[name] {
                if columns[i] == nil { columns[i] = position }
            } else if name == StatusWireSchema.eventTail, tail == nil {
                tail = position
            }
        }
        self.columns = columns
        self.tail = tail
        self.minimumValues = minimumValues ?? names.count
    }

    /// Each field's position in its table, by name.
    static func fieldIndex<Record>(_ fields: [WireField<Record>]) -> [String: Int] {
        Dictionary(fields.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Reads `record` from a line's values (the kind's letter not among them); false when a field does not read.
    func read<Record>(_ values: ArraySlice<WireValue>, into record: inout Record, fields: [WireField<Record>]) -> Bool {
        guard values.count >= minimumValues else { return false }
        let first = values.startIndex
        for i in fields.indices {
            let value = columns[i].flatMap { $0 < values.count ? values[first + $0] : nil } ?? .absent
            guard fields[i].read(&record, value) else { return false }
        }
        return true
    }
}
