/// The recorder's peers: records in a dense array, found by id through an index, with the display order
/// (name, then id) cached until a peer is added, removed or renamed. Snapshots copy without hashing.
struct PeerTable {
    private var slots: [PeerStatus] = []
    private var index: [String: Int] = [:]
    private var order: [Int]?

    var count: Int { slots.count }
    var ids: Dictionary<String, Int>.Keys { index.keys }

    subscript(id: String) -> PeerStatus? {
        get { index[id].map { slots[$0] } }
        set {
            if let i = index[id] {
                if let newValue {
                    if slots[i].name != newValue.name { order = nil }
                    slots[i] = newValue
                } else {
                    remove(at: i)
                }
            } else if let newValue {
                index[id] = slots.count
                slots.append(newValue)
                order = nil
            }
        }
    }

    private mutating func remove(at i: Int) {
        let last = slots.count - 1
        index[slots[i].id] = nil
        if i != last {
            slots.swapAt(i, last)
            index[slots[i].id] = i
        }
        slots.removeLast()
        order = nil
    }

    /// Changes one peer's record in place (nil when there is no such peer); `body` returns whether it changed it.
    mutating func modify(_ id: String, _ body: (inout PeerStatus) -> Bool) -> Bool? {
        guard let i = index[id] else { return nil }
        let renamedBefore = slots[i].name
        let changed = body(&slots[i])
        if slots[i].name != renamedBefore { order = nil }
        return changed
    }

    /// One peer's summary, read field by field in place.
    func summary(_ id: String) -> PeerSummary? {
        guard let i = index[id] else { return nil }
        return PeerSummary(slots[i])
    }

    /// Every peer in display order.
    mutating func ordered() -> [PeerStatus] {
        displayOrder().map { slots[$0] }
    }

    /// Every peer's summary in display order.
    mutating func orderedSummaries() -> [PeerSummary] {
        displayOrder().map { PeerSummary(slots[$0]) }
    }

    /// Every peer's id in display order.
    mutating func orderedIDs() -> [String] {
        displayOrder().map { slots[$0].id }
    }

    private mutating func displayOrder() -> [Int] {
        if let order { return order }
        let sorted = slots.indices.sorted { StatusRecorder.displayOrder(slots[$0], slots[$1]) }
        order = sorted
        return sorted
    }
}
