/// A bounded log: appending past the capacity drops the oldest entry.
struct EventLog: Sendable {
    private var storage: [StatusEvent] = []
    private var head = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { storage.count }

    mutating func append(_ event: StatusEvent) {
        if storage.count < capacity {
            storage.append(event)
        } else {
            storage[head] = event
            head = (head + 1) % capacity
        }
    }

    /// The newest `limit` entries, oldest first.
    func last(_ limit: Int) -> [StatusEvent] {
        let n = min(max(0, limit), storage.count)
        guard n > 0 else { return [] }
        let ordered = storage.count < capacity ? storage : Array(storage[head...] + storage[..<head])
        return Array(ordered.suffix(n))
    }
}
