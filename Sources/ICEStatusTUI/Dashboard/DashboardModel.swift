import StatusRecorder

/// What the dashboard shows and where the cursor is: no drawing, no terminal, easy to test.
struct DashboardModel {
    enum Mode: Equatable { case list, detail, help }

    private(set) var peers: [PeerStatus] = []
    private(set) var local = LocalAgentStatus()
    var mode: Mode = .list
    /// The selected peer, by id, so the cursor stays on it when rows move.
    private(set) var selectedID: String?
    private(set) var scrollOffset = 0
    var paused = false
    var quit = false

    var selectedIndex: Int? {
        guard let id = selectedID else { return peers.isEmpty ? nil : 0 }
        return peers.firstIndex { $0.id == id } ?? (peers.isEmpty ? nil : 0)
    }

    var selectedPeer: PeerStatus? { selectedIndex.map { peers[$0] } }

    /// Takes a new snapshot unless paused.
    mutating func update(_ snapshot: StatusSnapshot) {
        guard !paused else { return }
        peers = snapshot.peers
        local = snapshot.local
        if selectedID == nil || !peers.contains(where: { $0.id == selectedID }) { selectedID = peers.first?.id }
    }

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

    var counts: (connected: Int, total: Int, p2p: Int, relayed: Int) {
        var c = (0, peers.count, 0, 0)
        for p in peers where p.state == .connected {
            c.0 += 1
            if p.connectionType == .relayed { c.3 += 1 } else { c.2 += 1 }
        }
        return c
    }
}
