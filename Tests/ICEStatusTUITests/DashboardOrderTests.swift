import ICETestSupport
import StatusRecorder
import Testing
@testable import ICEStatusTUI

/// The dashboard keeps its rows in order change by change; on every frame of a seeded run over 10,000 peers
/// they must be exactly what filtering and sorting everything from scratch gives.
struct DashboardOrderTests {
    /// The order from scratch, written independently of the model: filter, then sort by the key, then name, id.
    private func expected(_ peers: [PeerStatus], _ m: DashboardModel) -> [String] {
        func key(_ p: PeerStatus) -> Int64 {
            switch m.sortKey {
            case .name: 0
            case .state: p.state == .connected ? 0 : p.state == .connecting ? 1 : 2
            case .type: p.state != .connected ? 2 : p.connectionType == .relayed ? 1 : p.connectionType == .p2p ? 0 : 2
            case .latency: p.latencyNanos ?? .max
            case .changed: -p.stateChangedAtMillis
            }
        }
        let shown = peers.filter { p in
            if let s = m.stateFilter, p.state != s { return false }
            if let t = m.typeFilter, p.state != .connected || p.connectionType != t { return false }
            if !m.filterText.isEmpty, !p.name.lowercased().contains(m.filterText.lowercased()), !p.id.hasPrefix(m.filterText) { return false }
            return true
        }
        let sorted = shown.sorted { a, b in
            (key(a), a.name, a.id) < (key(b), b.name, b.id)
        }
        return (m.sortReversed ? sorted.reversed() : sorted).map(\.id)
    }

    @Test func rowsStayInTheOrderOfAFullSortThroughRandomChanges() {
        var rng = SeededGenerator(seed: 2026)
        let recorder = StatusRecorder(clock: { 1_000 })
        var next = 0
        func add() {
            recorder.addPeer(id: "key-\(next)", name: "peer-\(rng.next(3000))")
            next += 1
        }
        for _ in 0..<10_000 { add() }
        let feed = recorder.changeFeed()
        var model = DashboardModel()
        var frames = 0, moved = 0
        for frame in 0..<80 {
            let ids = recorder.snapshot().peers.map(\.id)
            // Mostly a few changes (rows moved one by one), sometimes most peers (one full sort), and sometimes
            // every peer's latency and nothing else (every record replaced in place, then sorted).
            if frame % 10 == 4 {
                for id in ids { recorder.updateLatency(id: id, nanoseconds: Int64(rng.next(40) * 250_000)) }
            }
            let changes = frame % 10 == 9 ? 8_000 : frame % 10 == 4 ? 0 : rng.next(200)
            for _ in 0..<changes {
                let id = ids[rng.next(ids.count)]
                switch rng.next(10) {
                case 0...4: recorder.updateLatency(id: id, nanoseconds: Int64(rng.next(40) * 250_000))
                case 5: recorder.updateState(id: id, [.idle, .connecting, .connected][rng.next(3)])
                case 6: recorder.updatePath(id: id, type: rng.next(2) == 0 ? .p2p : .relayed, local: nil, remote: nil)
                case 7: recorder.addPeer(id: id, name: "peer-\(rng.next(3000))") // a rename
                case 8: recorder.removePeer(id: id)
                default: add()
                }
            }
            switch rng.next(12) {
            case 0: model.sort(by: DashboardModel.SortKey.allCases[rng.next(5)])
            case 1: model.reverseSort()
            case 2: model.cycleStateFilter()
            case 3: model.cycleTypeFilter()
            case 4: model.setFilterText(["", "peer-1", "PEER-29", "key-99", "-"][rng.next(5)])
            default: break
            }
            model.refresh(from: feed, of: recorder)
            let all = recorder.snapshot().peers
            #expect(model.peers.map(\.id) == expected(all, model), "frame \(frame), sort \(model.sortKey), reversed \(model.sortReversed)")
            #expect(model.peers.totalCount == all.count)
            #expect(model.counts.connected == all.count { $0.state == .connected })
            if let id = model.selectedID { #expect(model.selectedPeer?.id == id) }
            frames += 1
            moved += changes
        }
        #expect(frames == 80 && moved > 20_000)
    }

    /// Sorted by latency, the rows take latencies apart from the records (every peer's in display order, or a few,
    /// or many, with records changing and peers renamed, added or removed between), and keep the order of a full
    /// sort; sorted by another key they only count them, and read them all again when sorted by latency.
    @Test func latencyOrderFollowsCountersTakenApart() {
        var rng = SeededGenerator(seed: 41)
        let recorder = StatusRecorder(clock: { 1_000 })
        for n in 0..<2_000 { recorder.addPeer(id: "key-\(n)", name: "peer-\(rng.next(500))") }
        let feed = recorder.changeFeed()
        var model = DashboardModel()
        model.sort(by: .latency)
        var apart = 0, complete = 0
        for frame in 0..<60 {
            let ids = recorder.snapshot().peers.map(\.id)
            let latencies = [ids.count, 3, 40, 300, 900][frame % 5]
            for id in ids.shuffled(using: &rng).prefix(latencies) {
                recorder.updateLatency(id: id, nanoseconds: Int64(rng.next(60) * 100_000))
            }
            if frame % 3 == 1 { recorder.addPeer(id: ids[rng.next(ids.count)], name: "peer-\(rng.next(500))") }
            if frame % 7 == 2 { recorder.updateState(id: ids[rng.next(ids.count)], .connected) }
            if frame % 11 == 5 { recorder.removePeer(id: ids[rng.next(ids.count)]) }
            if frame % 13 == 6 { recorder.addPeer(id: "new-\(frame)", name: "peer-\(rng.next(500))") }
            switch frame % 20 {
            case 8: model.setFilterText("peer-1")
            case 12: model.clearFilters()
            case 14: model.sort(by: .name)
            case 16: model.sort(by: .latency)
            case 17: model.reverseSort()
            default: break
            }
            let change = feed.take(counters: model.countersWanted)
            if !change.counters.isEmpty || !change.latenciesInOrder.isEmpty { apart += 1 }
            if !change.latenciesInOrder.isEmpty { complete += 1 }
            model.apply(change, records: { recorder.peer(id: $0) })
            let all = recorder.snapshot().peers
            #expect(model.peers.map(\.id) == expected(all, model), "frame \(frame), sort \(model.sortKey), reversed \(model.sortReversed)")
            if model.sortKey == .latency { #expect(model.peers.keys.map(\.latencyNanos) == all.map(\.latencyNanos), "frame \(frame)") }
        }
        // 54 frames sorted by latency, less the first (every peer's whole summary); every fifth changes them all.
        #expect(apart == 53 && complete == 8)
    }
}
