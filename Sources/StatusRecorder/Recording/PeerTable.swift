/// The recorder's peers: records in slots found by id through an index, with the display order (name, then id)
/// cached until a peer is added, removed or renamed. A peer keeps its slot while it is there, so subscribers
/// mark changes by slot (``SlotMarks``); a removed peer's slot is given to the next new one. Snapshots copy
/// without hashing.
struct PeerTable {
    private var slots: [PeerStatus?] = []
    private var freeSlots: [Int] = []
    private var index: [String: Int] = [:]
    private var order: [Int]?

    var count: Int { index.count }
    var ids: Dictionary<String, Int>.Keys { index.keys }
    /// The slots that hold a peer.
    var occupiedSlots: Dictionary<String, Int>.Values { index.values }

    func slot(of id: String) -> Int? { index[id] }

    subscript(id: String) -> PeerStatus? { index[id].flatMap { slots[$0] } }

    subscript(slot slot: Int) -> PeerStatus? { slot < slots.count ? slots[slot] : nil }

    /// Adds a peer whose id is not in the table; returns its slot.
    mutating func insert(_ peer: PeerStatus) -> Int {
        let slot = freeSlots.popLast() ?? slots.count
        if slot == slots.count { slots.append(peer) } else { slots[slot] = peer }
        index[peer.id] = slot
        order = nil
        return slot
    }

    /// Removes a peer; returns the slot it had.
    @discardableResult
    mutating func remove(id: String) -> Int? {
        guard let slot = index.removeValue(forKey: id) else { return nil }
        slots[slot] = nil
        freeSlots.append(slot)
        order = nil
        return slot
    }

    /// Changes the record in a slot in place; `body` returns whether it changed it.
    mutating func modify(slot: Int, _ body: (inout PeerStatus) -> Bool) -> Bool {
        let renamedBefore = name(slot: slot)
        let changed = body(&slots[slot]!)
        if name(slot: slot) != renamedBefore { order = nil }
        return changed
    }

    /// A slot's name, read in place: the array's getter would copy the whole record to read one field.
    private func name(slot: Int) -> String {
        slots.withUnsafeBufferPointer { $0[slot]!.name }
    }

    /// A slot's summary, read field by field in place (not a copy of the whole record).
    func summary(slot: Int) -> PeerSummary? {
        guard slots[slot] != nil else { return nil }
        return PeerSummary(slots[slot]!)
    }

    /// A slot's counters, read in place.
    func counters(slot: Int) -> PeerCounters? {
        guard slots[slot] != nil else { return nil }
        return PeerCounters(slots[slot]!)
    }

    /// Every peer in display order.
    mutating func ordered() -> [PeerStatus] {
        displayOrder().map { slots[$0]! }
    }

    /// Every peer's summary in display order.
    mutating func orderedSummaries() -> [PeerSummary] {
        displayOrder().map { PeerSummary(slots[$0]!) }
    }

    /// Every peer's latency in display order, read in place.
    mutating func orderedLatencies() -> [Int64?] {
        let order = displayOrder()
        return slots.withUnsafeBufferPointer { slots in order.map { slots[$0]!.latencyNanos } }
    }

    /// Every peer's slot in display order.
    mutating func orderedSlots() -> [Int] {
        displayOrder()
    }

    private mutating func displayOrder() -> [Int] {
        if let order { return order }
        let sorted = index.values.sorted { StatusRecorder.displayOrder(slots[$0]!, slots[$1]!) }
        order = sorted
        return sorted
    }
}
