import StatusRecorder

/// The dashboard's rows: every peer it knows, and those that pass the filter in sort order, kept up to date
/// change by change. A changed peer whose sort key and filter result stay the same is replaced in place; one
/// that moves is taken out and put back by binary search; the rest stay. Only a change set touching a large
/// part of the list, or a new sort or filter, sorts everything again.
///
/// The rows hold each peer's ``PeerSummary``, a few fields; a row's whole record is read from ``records`` when it
/// is shown, so only the visible window costs a full record.
struct PeerRows: RandomAccessCollection {
    /// How peers are ordered and which are shown.
    struct Rule {
        var sortKey: DashboardModel.SortKey = .name
        var reversed = false
        /// Which peers are shown; nil for all.
        var filter: ((PeerSummary) -> Bool)?

        func matches(_ p: PeerSummary) -> Bool { filter?(p) ?? true }

        /// The integer part of the sort key (0 for all under `.name`); ties go by name, then id.
        func key(_ p: PeerSummary) -> Int64 {
            switch sortKey {
            case .name: 0
            case .state: p.state == .connected ? 0 : p.state == .connecting ? 1 : 2
            case .type: p.state != .connected ? 2 : p.connectionType == .relayed ? 1 : p.connectionType == .p2p ? 0 : 2
            case .latency: p.latencyNanos ?? .max
            case .changed: -p.stateChangedAtMillis
            }
        }

        /// Whether `a` comes before `b`.
        func precedes(_ a: PeerSummary, _ b: PeerSummary) -> Bool {
            reversed ? ascending(b, a) : ascending(a, b)
        }

        private func ascending(_ a: PeerSummary, _ b: PeerSummary) -> Bool {
            let (ka, kb) = (key(a), key(b))
            return ka != kb ? ka < kb : a.name != b.name ? a.name < b.name : a.id < b.id
        }
    }

    private var slots: [PeerSummary?] = []
    private var slotOf: [String: Int] = [:]
    private var freeSlots: [Int] = []
    /// Every slot in name-then-id order (changes only when a peer comes, goes or is renamed).
    private var nameOrder: [Int] = []
    /// The rows shown: slots that pass the filter, in sort order.
    private var order: [Int] = []
    private var rule = Rule()

    var startIndex: Int { 0 }
    var endIndex: Int { order.count }
    /// A peer's whole record by id (the recorder's, or a snapshot's).
    var records: (String) -> PeerStatus? = { _ in nil }

    /// The whole record of a row; if the source no longer has it (removed since), what the row knows.
    subscript(position: Int) -> PeerStatus { record(slots[order[position]]!) }

    private func record(_ key: PeerSummary) -> PeerStatus { records(key.id) ?? key.bareRecord }

    /// How many peers there are, shown or not.
    var totalCount: Int { slotOf.count }
    /// Over every peer, shown or not (the header's counts).
    private(set) var connected = 0, p2p = 0, relayed = 0

    /// Every peer's key, shown or not, in name order.
    var keys: some Collection<PeerSummary> { nameOrder.lazy.map { slots[$0]! } }

    /// Where the peer with `id` is among the rows, if shown.
    func index(ofID id: String) -> Int? {
        guard let slot = slotOf[id], let peer = slots[slot], rule.matches(peer) else { return nil }
        let i = lowerBound(peer)
        return i < order.count && order[i] == slot ? i : nil
    }

    /// Reads every peer's latency again from ``records``, for a reader that stopped taking latency-only changes
    /// (``StatusChangeFeed/take(counters:)``) and now orders by latency.
    mutating func readLatencies() {
        for slot in slots.indices {
            guard let id = slots[slot]?.id, let record = records(id) else { continue }
            slots[slot]?.latencyNanos = record.latencyNanos
        }
    }

    /// Applies a new rule: sorts and filters everything again.
    mutating func setRule(_ rule: Rule) {
        self.rule = rule
        rebuild()
    }

    /// Takes changed and removed peers; calls `onChange` with each peer's previous summary (nil for a new peer)
    /// and its new one. `inNameOrder` says `changed` is every peer, in name-then-id order.
    mutating func apply(changed: [PeerSummary], removed: [String], inNameOrder: Bool = false,
                        onChange: (PeerSummary?, PeerSummary) -> Void) {
        if inNameOrder, removed.isEmpty, replaceAll(changed, onChange: onChange) { return }
        // Past this many changes, one full sort is cheaper than moving rows one by one.
        let incremental = changed.count + removed.count <= Swift.max(64, order.count / 16)
        for id in removed {
            guard let slot = slotOf.removeValue(forKey: id), let old = slots[slot] else { continue }
            if incremental { removeRow(slot, old) }
            count(old, -1)
            removeFromNameOrder(slot, old)
            slots[slot] = nil
            freeSlots.append(slot)
        }
        var moved = false
        for peer in changed {
            if let slot = slotOf[peer.id], let old = slots[slot] {
                onChange(old, peer)
                count(old, -1)
                count(peer, 1)
                let renamed = old.name != peer.name
                let (was, now) = (rule.matches(old), rule.matches(peer))
                if was == now, !renamed, !was || rule.key(old) == rule.key(peer) {
                    slots[slot] = peer // same place, or still not shown
                    continue
                }
                moved = true
                // Rows and the name order are searched with the values they were placed by: take the peer out
                // before its record changes.
                if incremental, was { removeRow(slot, old) }
                if renamed { removeFromNameOrder(slot, old) }
                slots[slot] = peer
                if renamed { insertIntoNameOrder(slot, peer) }
                if incremental, now { insertRow(slot, peer) }
            } else {
                moved = true
                onChange(nil, peer)
                count(peer, 1)
                let slot = freeSlots.popLast() ?? slots.count
                if slot == slots.count { slots.append(peer) } else { slots[slot] = peer }
                slotOf[peer.id] = slot
                insertIntoNameOrder(slot, peer)
                if incremental, rule.matches(peer) { insertRow(slot, peer) }
            }
        }
        if !incremental, moved || !removed.isEmpty { rebuild() }
    }

    /// Takes latencies that changed apart from the rest of their records (``StatusChangeFeed/Change/counters``).
    mutating func apply(counters: [PeerCounters]) {
        guard !counters.isEmpty else { return }
        applyLatencies(counters.compactMap { c in
            slotOf[c.id].flatMap { slot in slots[slot]!.latencyNanos != c.latencyNanos ? (slot, c.latencyNanos) : nil }
        })
    }

    /// Takes every peer's latency, in name-then-id order (``StatusChangeFeed/Change/latenciesInOrder``): matched to
    /// the rows by position, since a reader of every change of the feed holds the peers in that order. Latencies
    /// that do not match the rows in number are not this reader's, and are left.
    mutating func apply(latenciesInNameOrder latencies: [Int64?]) {
        guard !latencies.isEmpty, latencies.count == nameOrder.count else { return }
        var changed: [(slot: Int, latency: Int64?)] = []
        slots.withUnsafeBufferPointer { slots in
            for i in latencies.indices where slots[nameOrder[i]]!.latencyNanos != latencies[i] {
                changed.append((nameOrder[i], latencies[i]))
            }
        }
        applyLatencies(changed)
    }

    /// Sets the latencies of slots; under the latency sort, moves their rows (a few) or sorts again (many).
    private mutating func applyLatencies(_ moves: [(slot: Int, latency: Int64?)]) {
        guard rule.sortKey == .latency else {
            for (slot, latency) in moves { slots[slot]!.latencyNanos = latency }
            return
        }
        let incremental = moves.count <= Swift.max(64, order.count / 16)
        for (slot, latency) in moves {
            // The filter never looks at latency: a peer shown stays shown.
            let shown = incremental && rule.matches(slots[slot]!)
            if shown { removeRow(slot, slots[slot]!) }
            slots[slot]!.latencyNanos = latency
            if shown { insertRow(slot, slots[slot]!) }
        }
        if !incremental, !moves.isEmpty { rebuild() }
    }

    private mutating func count(_ p: PeerSummary, _ delta: Int) {
        guard p.state == .connected else { return }
        connected += delta
        if p.connectionType == .relayed { relayed += delta } else { p2p += delta }
    }

    /// Takes every peer at once, in name-then-id order, when they are the peers the rows hold in that order (the
    /// usual case when most peers changed): each record is replaced in place, with no lookup by id, then the rows
    /// are filtered and sorted again. False, with nothing changed, when the peers are not the same.
    private mutating func replaceAll(_ all: [PeerSummary], onChange: (PeerSummary?, PeerSummary) -> Void) -> Bool {
        guard all.count == nameOrder.count else { return false }
        for i in all.indices where slots[nameOrder[i]]!.id != all[i].id { return false }
        for i in all.indices {
            let slot = nameOrder[i]
            let old = slots[slot]!
            onChange(old, all[i])
            count(old, -1)
            count(all[i], 1)
            slots[slot] = all[i]
        }
        rebuild()
        return true
    }

    /// Filters and sorts every peer: integer keys over the name order, as a stable sort.
    private mutating func rebuild() {
        let shown = rule.filter == nil ? nameOrder : nameOrder.filter { rule.matches(slots[$0]!) }
        guard rule.sortKey != .name else {
            order = rule.reversed ? shown.reversed() : shown
            return
        }
        var keyed: [(key: Int64, rank: Int)] = []
        keyed.reserveCapacity(shown.count)
        slots.withUnsafeBufferPointer { slots in
            for (rank, slot) in shown.enumerated() { keyed.append((rule.key(slots[slot]!), rank)) }
        }
        if rule.reversed {
            keyed.sort { $0.key != $1.key ? $0.key > $1.key : $0.rank > $1.rank }
        } else {
            keyed.sort { $0.key != $1.key ? $0.key < $1.key : $0.rank < $1.rank }
        }
        order = keyed.map { shown[$0.rank] }
    }

    /// The first row position not before `peer` (by the rule).
    private func lowerBound(_ peer: PeerSummary) -> Int {
        var (low, high) = (0, order.count)
        while low < high {
            let mid = (low + high) / 2
            if rule.precedes(slots[order[mid]]!, peer) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private mutating func removeRow(_ slot: Int, _ old: PeerSummary) {
        guard rule.matches(old) else { return }
        let i = lowerBound(old)
        if i < order.count, order[i] == slot { order.remove(at: i) }
    }

    private mutating func insertRow(_ slot: Int, _ peer: PeerSummary) {
        order.insert(slot, at: lowerBound(peer))
    }

    private func nameLowerBound(_ peer: PeerSummary) -> Int {
        var (low, high) = (0, nameOrder.count)
        while low < high {
            let mid = (low + high) / 2
            let other = slots[nameOrder[mid]]!
            if other.name != peer.name ? other.name < peer.name : other.id < peer.id { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private mutating func removeFromNameOrder(_ slot: Int, _ old: PeerSummary) {
        let i = nameLowerBound(old)
        if i < nameOrder.count, nameOrder[i] == slot { nameOrder.remove(at: i) }
    }

    private mutating func insertIntoNameOrder(_ slot: Int, _ peer: PeerSummary) {
        nameOrder.insert(slot, at: nameLowerBound(peer))
    }
}
