import StatusRecorder

/// What the dashboard shows and where the cursor is: no drawing, no terminal, easy to test.
package struct DashboardModel {
    enum Mode: Equatable { case list, detail, help, filterInput, events, eventFilterInput }

    package enum SortKey: String, CaseIterable { case name, state, type, latency, changed }

    /// The peers shown: filtered, then sorted, kept up to date change by change (and every peer, shown or not).
    private(set) var peers = PeerRows()
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

    package private(set) var sortKey: SortKey = .name
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
        selectedID.flatMap(peers.index(ofID:))
    }

    /// Takes a new snapshot unless paused: every peer in it, and the others removed.
    package mutating func update(_ snapshot: StatusSnapshot, now: Int64 = currentTimeMillis()) {
        guard !paused else { return }
        var records: [String: PeerStatus] = [:]
        records.reserveCapacity(snapshot.peers.count)
        for p in snapshot.peers { records[p.id] = p }
        let gone = peers.keys.compactMap { records[$0.id] == nil ? $0.id : nil }
        peers.records = { records[$0] }
        apply(changed: snapshot.peers.map(PeerSummary.init), removed: gone, inNameOrder: true, local: snapshot.local, now: now)
    }

    /// Takes what changed since the last update unless paused: only the changed peers' keys are read, and only
    /// the rows that move are moved. A row's whole record comes from `records` when it is drawn.
    package mutating func apply(_ change: StatusChangeFeed.Change, records: @escaping (String) -> PeerStatus?,
                                now: Int64 = currentTimeMillis()) {
        guard !paused else { return }
        peers.records = records
        apply(changed: change.peers, removed: change.removedPeerIDs, inNameOrder: change.isComplete, local: change.local, now: now)
        peers.apply(counters: change.counters)
        peers.apply(latenciesInNameOrder: change.latenciesInOrder)
    }

    /// A frame's update: the feed's changes (nothing is taken while paused, so they wait in the feed), and whole
    /// records from the recorder for the rows drawn.
    package mutating func refresh(from feed: StatusChangeFeed, of recorder: StatusRecorder, now: Int64 = currentTimeMillis()) {
        guard !paused else { return }
        apply(feed.take(counters: countersWanted), records: { [recorder] in recorder.peer(id: $0) }, now: now)
    }

    /// How the rows take peers of which only latency or traffic changed: their latencies apart when sorted by
    /// latency, else only a count. Other orders, the filters, the counts and the highlight never look at them, and
    /// a drawn row reads its whole record anyway; the rows' latencies are read again when the latency sort is chosen.
    package var countersWanted: StatusChangeFeed.Counters { sortKey == .latency ? .apart : .counted }

    private mutating func apply(changed: [PeerSummary], removed: [String], inNameOrder: Bool = false, local: LocalAgentStatus?,
                                now: Int64) {
        var widthChanged = !removed.isEmpty
        var longest = longestNameWidth
        var highlighted = changedAt
        peers.apply(changed: changed, removed: removed, inNameOrder: inNameOrder) { old, new in
            if let old {
                if new.changesPath(from: old) { highlighted[new.id] = now }
                if old.name != new.name { widthChanged = true }
            } else {
                longest = max(longest, DisplayWidth.of(new.name))
            }
        }
        longestNameWidth = widthChanged ? peers.keys.reduce(4) { max($0, DisplayWidth.of($1.name)) } : longest
        changedAt = highlighted.isEmpty ? highlighted : highlighted.filter { now - $0.value < Self.highlightMillis }
        if let local { self.local = local }
        reselectIfGone()
    }

    func isHighlighted(_ id: String, now: Int64) -> Bool {
        guard let t = changedAt[id] else { return false }
        return now - t < Self.highlightMillis
    }

    // MARK: Sorting and filtering

    package mutating func sort(by key: SortKey) {
        if sortKey == key { sortReversed.toggle() } else {
            if key == .latency { peers.readLatencies() }
            sortKey = key
            sortReversed = false
        }
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

    private mutating func rebuild() {
        let (text, state, type, prefix) = (filterText.lowercased(), stateFilter, typeFilter, filterText)
        peers.setRule(PeerRows.Rule(sortKey: sortKey, reversed: sortReversed, filter: !isFiltered ? nil : { p in
            if let state, p.state != state { return false }
            if let type, p.state != .connected || p.connectionType != type { return false }
            // Names match anywhere, ignoring case; keys (base64, case matters) match from their start.
            if !text.isEmpty, !p.name.lowercased().contains(text), !p.id.hasPrefix(prefix) { return false }
            return true
        }))
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
        (peers.connected, peers.totalCount, peers.p2p, peers.relayed)
    }
}
