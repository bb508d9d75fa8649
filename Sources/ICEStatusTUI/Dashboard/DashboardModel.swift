import StatusRecorder

/// What the dashboard shows and where the cursor is: no drawing, no terminal, easy to test.
package struct DashboardModel {
    enum Mode: Equatable { case list, detail, help, filterInput, events, eventFilterInput }

    package enum SortKey: String, CaseIterable { case name, state, type, latency, changed }

    /// Every peer from the last snapshot.
    private(set) var allPeers: [PeerStatus] = []
    /// The peers shown: filtered, then sorted.
    private(set) var peers: [PeerStatus] = []
    private(set) var local = LocalAgentStatus()

    package init() {}
    var mode: Mode = .list
    /// The selected peer, by id, so the cursor stays on it when rows move.
    private(set) var selectedID: String?
    private(set) var scrollOffset = 0
    var paused = false
    var quit = false
    /// Least time between two frames drawn for changes (the `+`/`-` keys, `--interval`).
    var refreshMillis = 250

    private(set) var sortKey: SortKey = .name
    private(set) var sortReversed = false
    private(set) var filterText = ""
    private(set) var stateFilter: PeerConnectionState?
    private(set) var typeFilter: ConnectionType?

    /// Display width of the longest name, measured when the set of peers changes.
    private(set) var longestNameWidth = 4

    /// The events on show: the selected peer's in the detail pane, everything's in the event view.
    var events: [StatusEvent] = []
    /// The event view's filter: a peer name (part of it, any case), or `agent`.
    var eventFilter = ""
    /// How many events the event view is scrolled up from the newest (0 follows new events).
    var eventScroll = 0

    /// When each peer's state or path last changed as seen by this dashboard (Unix ms), for the brief highlight.
    private(set) var changedAt: [String: Int64] = [:]
    static let highlightMillis: Int64 = 2000

    var selectedIndex: Int? {
        guard selectedID != nil else { return peers.isEmpty ? nil : 0 }
        return selectedIndexIfPresent ?? (peers.isEmpty ? nil : 0)
    }

    var selectedPeer: PeerStatus? { selectedIndex.map { peers[$0] } }

    private var selectedIndexIfPresent: Int? {
        guard let id = selectedID else { return nil }
        for i in peers.indices where peers[i].id == id { return i }
        return nil
    }

    /// Takes a new snapshot unless paused.
    package mutating func update(_ snapshot: StatusSnapshot, now: Int64 = currentTimeMillis()) {
        guard !paused else { return }
        let new = snapshot.peers
        func pathChanged(_ i: Int, _ j: Int) -> Bool {
            allPeers[i].state != new[j].state || allPeers[i].connectionType != new[j].connectionType
                || allPeers[i].localCandidate != new[j].localCandidate || allPeers[i].remoteCandidate != new[j].remoteCandidate
        }
        var sameOrder = allPeers.count == new.count
        if sameOrder {
            for i in new.indices where allPeers[i].id != new[i].id {
                sameOrder = false
                break
            }
        }
        if sameOrder {
            // The usual case: same peers in the same order, compared in place.
            for i in new.indices where pathChanged(i, i) { changedAt[new[i].id] = now }
        } else {
            longestNameWidth = new.reduce(4) { max($0, DisplayWidth.of($1.name)) }
        }
        if !sameOrder, !allPeers.isEmpty {
            var previous: [String: Int] = [:]
            previous.reserveCapacity(allPeers.count)
            for i in allPeers.indices { previous[allPeers[i].id] = i }
            for j in new.indices {
                if let i = previous[new[j].id], pathChanged(i, j) { changedAt[new[j].id] = now }
            }
        }
        if !changedAt.isEmpty { changedAt = changedAt.filter { now - $0.value < Self.highlightMillis } }
        allPeers = snapshot.peers
        local = snapshot.local
        rebuild()
    }

    func isHighlighted(_ id: String, now: Int64) -> Bool {
        guard let t = changedAt[id] else { return false }
        return now - t < Self.highlightMillis
    }

    // MARK: Sorting and filtering

    package mutating func sort(by key: SortKey) {
        if sortKey == key { sortReversed.toggle() } else { sortKey = key; sortReversed = false }
        rebuild()
    }

    mutating func reverseSort() {
        sortReversed.toggle()
        rebuild()
    }

    mutating func cycleStateFilter() {
        let order: [PeerConnectionState?] = [nil, .idle, .connecting, .connected]
        stateFilter = order[(order.firstIndex(of: stateFilter)! + 1) % order.count]
        rebuild()
    }

    mutating func cycleTypeFilter() {
        let order: [ConnectionType?] = [nil, .p2p, .relayed]
        typeFilter = order[(order.firstIndex(of: typeFilter)! + 1) % order.count]
        rebuild()
    }

    mutating func setFilterText(_ text: String) {
        filterText = text
        rebuild()
    }

    mutating func clearFilters() {
        filterText = ""
        stateFilter = nil
        typeFilter = nil
        rebuild()
    }

    var isFiltered: Bool { !filterText.isEmpty || stateFilter != nil || typeFilter != nil }

    private func matches(_ p: PeerStatus) -> Bool {
        if let stateFilter, p.state != stateFilter { return false }
        if let typeFilter, p.state != .connected || p.connectionType != typeFilter { return false }
        if !filterText.isEmpty {
            // Names match anywhere, ignoring case; keys (base64, case matters) match from their start.
            if !p.name.lowercased().contains(filterText.lowercased()), !p.id.hasPrefix(filterText) { return false }
        }
        return true
    }

    private mutating func rebuild() {
        let filtered = isFiltered ? allPeers.filter(matches) : allPeers
        guard sortKey != .name || sortReversed else {
            peers = filtered
            return reselectIfGone()
        }
        // Sort integer keys, not the records: the snapshot is in name-then-id order, so the index breaks ties
        // by name and keeps the order stable while values move.
        let key: (PeerStatus) -> Int64
        switch sortKey {
        case .name: key = { _ in 0 }
        case .state: key = { p in p.state == .connected ? 0 : p.state == .connecting ? 1 : 2 }
        case .type: key = { p in p.state != .connected ? 2 : p.connectionType == .relayed ? 1 : p.connectionType == .p2p ? 0 : 2 }
        case .latency: key = { p in p.latencyNanos ?? .max }
        case .changed: key = { p in -p.stateChangedAtMillis }
        }
        var keyed: [(key: Int64, index: Int)] = []
        keyed.reserveCapacity(filtered.count)
        for i in filtered.indices { keyed.append((key(filtered[i]), i)) }
        if sortReversed {
            keyed.sort { $0.key != $1.key ? $0.key > $1.key : $0.index > $1.index }
        } else {
            keyed.sort { $0.key != $1.key ? $0.key < $1.key : $0.index < $1.index }
        }
        peers = keyed.map { filtered[$0.index] }
        reselectIfGone()
    }

    private mutating func reselectIfGone() {
        if selectedID == nil || selectedIndexIfPresent == nil { selectedID = peers.first?.id }
    }

    // MARK: Navigation

    mutating func move(by delta: Int, visibleRows: Int) {
        guard !peers.isEmpty else { return }
        let current = selectedIndex ?? 0
        let next = min(max(current + delta, 0), peers.count - 1)
        selectedID = peers[next].id
        keepVisible(visibleRows: visibleRows)
    }

    mutating func moveToEnd(_ last: Bool, visibleRows: Int) {
        guard !peers.isEmpty else { return }
        selectedID = last ? peers[peers.count - 1].id : peers[0].id
        keepVisible(visibleRows: visibleRows)
    }

    mutating func keepVisible(visibleRows: Int) {
        guard let index = selectedIndex, visibleRows > 0 else { return }
        if index < scrollOffset { scrollOffset = index }
        if index >= scrollOffset + visibleRows { scrollOffset = index - visibleRows + 1 }
        scrollOffset = max(0, min(scrollOffset, max(0, peers.count - visibleRows)))
    }

    /// Counts over every peer (the header), not the filtered set.
    var counts: (connected: Int, total: Int, p2p: Int, relayed: Int) {
        var c = (0, allPeers.count, 0, 0)
        for p in allPeers where p.state == .connected {
            c.0 += 1
            if p.connectionType == .relayed { c.3 += 1 } else { c.2 += 1 }
        }
        return c
    }
}
