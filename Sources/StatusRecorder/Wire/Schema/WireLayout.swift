/// Where a record kind's fields sit on its lines in one stream: read from the stream's `F` line for the kind, or
/// version 1's fixed order when the stream declares none.
struct WireLayout: Sendable {
    /// For each field of the kind's table, its position among a line's values (nil: the stream has no such field).
    private var columns: [Int?]
    /// Where an event's kind and facts start (events only).
    private(set) var tail: Int?
    /// The fewest values a line must hold.
    let minimumValues: Int

    /// - Parameter names: the field names in the stream's order (a name this build does not know is skipped).
    init<Record>(names: some Collection<String>, fields: [WireField<Record>], minimumValues: Int? = nil) {
        var position: [String: Int] = [:]
        for (i, name) in names.enumerated() where position[name] == nil { position[name] = i }
        columns = fields.map { position[$0.name] }
        tail = position[StatusWireSchema.eventTail]
        self.minimumValues = minimumValues ?? names.count
    }

    /// Reads `record` from a line's values (the kind's letter not among them); false when a field does not read.
    func read<Record>(_ values: ArraySlice<String>, into record: inout Record, fields: [WireField<Record>]) -> Bool {
        guard values.count >= minimumValues else { return false }
        let first = values.startIndex
        for i in fields.indices {
            let value = columns[i].flatMap { $0 < values.count ? values[first + $0] : nil } ?? ""
            guard fields[i].read(&record, value) else { return false }
        }
        return true
    }
}
