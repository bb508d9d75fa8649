import StatusRecorder
import Testing
@testable import ICEStatusTUI

@MainActor
struct DashboardFeatureTests {
    func model() -> DashboardModel {
        var m = DashboardModel()
        m.update(Fixtures.snapshot(), now: Fixtures.now)
        return m
    }

    @Test func sortKeysAndReverse() {
        var m = model()
        #expect(m.peers.map(\.name) == ["alpha", "bravo", "charlie"])
        DashboardInput.apply(.sort(.state), to: &m, pageSize: 5)
        #expect(m.peers.map(\.name) == ["alpha", "bravo", "charlie"]) // Connected, Connecting, Idle
        DashboardInput.apply(.sort(.state), to: &m, pageSize: 5) // same key again: reversed
        #expect(m.peers.map(\.name) == ["charlie", "bravo", "alpha"])
        DashboardInput.apply(.sort(.latency), to: &m, pageSize: 5)
        #expect(m.peers.map(\.name) == ["alpha", "bravo", "charlie"]) // unknown latency last, then by name
        DashboardInput.apply(.sort(.changed), to: &m, pageSize: 5)
        #expect(m.peers.map(\.name) == ["bravo", "alpha", "charlie"]) // most recent change first
        DashboardInput.apply(.reverseSort, to: &m, pageSize: 5)
        #expect(m.peers.map(\.name) == ["charlie", "alpha", "bravo"])
        let screen = TextScreen(rows: 8, columns: 100)
        DashboardRenderer.draw(m, on: screen, now: Fixtures.now)
        #expect(screen.lines[1].contains("CHANGED▼"))
    }

    @Test func filtersCombineAndCount() {
        var m = model()
        DashboardInput.apply(.cycleStateFilter, to: &m, pageSize: 5) // idle
        #expect(m.peers.map(\.name) == ["charlie"])
        DashboardInput.apply(.cycleStateFilter, to: &m, pageSize: 5) // connecting
        #expect(m.peers.map(\.name) == ["bravo"])
        DashboardInput.apply(.cycleStateFilter, to: &m, pageSize: 5) // connected
        DashboardInput.apply(.cycleTypeFilter, to: &m, pageSize: 5) // P2P
        #expect(m.peers.map(\.name) == ["alpha"])
        DashboardInput.apply(.cycleTypeFilter, to: &m, pageSize: 5) // relayed
        #expect(m.peers.isEmpty)
        let screen = TextScreen(rows: 8, columns: 100)
        DashboardRenderer.draw(m, on: screen, now: Fixtures.now)
        #expect(screen.lines[3].contains("No peer matches the filter"))
        #expect(screen.lines[7].hasSuffix("filter connected Relayed: 0 of 3"))
        DashboardInput.apply(.back, to: &m, pageSize: 5) // Esc in the list clears filters
        #expect(m.peers.count == 3)
        // Typed text filter matches name or key, live.
        DashboardInput.apply(.editFilter, to: &m, pageSize: 5)
        #expect(m.mode == .filterInput)
        for key in "BRA".utf8 { DashboardInput.applyFilterKey(Int32(key), to: &m) }
        #expect(m.peers.map(\.name) == ["bravo"])
        DashboardInput.applyFilterKey(127, to: &m) // backspace
        DashboardInput.applyFilterKey(127, to: &m)
        #expect(m.filterText == "B")
        DashboardInput.applyFilterKey(Int32(UInt8(ascii: "Q")), to: &m)
        DashboardInput.applyFilterKey(Int32(UInt8(ascii: "l")), to: &m) // "BQl": no name contains it, no key starts with it
        #expect(m.peers.isEmpty)
        DashboardInput.applyFilterKey(27, to: &m) // Esc clears and leaves
        #expect(m.mode == .list && m.filterText.isEmpty && m.peers.count == 3)
        DashboardInput.apply(.editFilter, to: &m, pageSize: 5)
        for key in "Q0hB".utf8 { DashboardInput.applyFilterKey(Int32(key), to: &m) } // charlie's key
        DashboardInput.applyFilterKey(13, to: &m) // Enter keeps it
        #expect(m.mode == .list && m.peers.map(\.name) == ["charlie"])
    }

    @Test func changedRowsAreHighlightedBriefly() {
        var m = model()
        var next = Fixtures.snapshot()
        next.peers[1].state = .connected
        next.peers[1].connectionType = .p2p
        m.update(next, now: Fixtures.now + 100)
        #expect(m.isHighlighted(next.peers[1].id, now: Fixtures.now + 500))
        #expect(!m.isHighlighted(next.peers[0].id, now: Fixtures.now + 500))
        #expect(!m.isHighlighted(next.peers[1].id, now: Fixtures.now + 2500))
        let screen = TextScreen(rows: 8, columns: 100)
        DashboardRenderer.draw(m, on: screen, now: Fixtures.now + 500)
        #expect(screen.styles[3][0].bold && screen.styles[3][0].underline)
        #expect(!screen.styles[4][0].bold)
    }

    @Test func refreshIntervalKeys() {
        var m = model()
        #expect(m.refreshMillis == 250)
        DashboardInput.apply(.faster, to: &m, pageSize: 5)
        DashboardInput.apply(.faster, to: &m, pageSize: 5)
        DashboardInput.apply(.faster, to: &m, pageSize: 5)
        #expect(m.refreshMillis == 50)
        for _ in 0..<10 { DashboardInput.apply(.slower, to: &m, pageSize: 5) }
        #expect(m.refreshMillis == 5000)
    }

    @Test func detailPaneShowsPairsHistoryAndRetry() {
        var snapshot = Fixtures.snapshot()
        snapshot.peers[0].latencyHistoryNanos = [100_000, 200_000, 400_000, 800_000]
        snapshot.peers[0].candidatePairs = [
            CandidatePairStatus(local: CandidateEndpoint(type: "host", address: "127.0.0.1:40001"),
                                remote: CandidateEndpoint(type: "host", address: "127.0.0.1:40002"),
                                state: "succeeded", nominated: true, roundTripNanos: 142_400, requestsSent: 12, responsesReceived: 11),
            CandidatePairStatus(local: CandidateEndpoint(type: "host", address: "[::1]:40003"),
                                remote: CandidateEndpoint(type: "prflx", address: "[::1]:40004"),
                                state: "failed", nominated: false, roundTripNanos: nil, requestsSent: 7, responsesReceived: 0),
        ]
        snapshot.peers[1].nextRetryAtMillis = Fixtures.now + 5_500
        var m = DashboardModel()
        m.update(snapshot, now: Fixtures.now)
        m.mode = .detail
        let screen = TextScreen(rows: 24, columns: 100)
        DashboardRenderer.draw(m, on: screen, now: Fixtures.now)
        #expect(screen.lines.contains("  RTT history:       ▁▂▄█ 0.100 ms–0.800 ms"))
        #expect(screen.lines.contains { $0.hasPrefix("  LOCAL") && $0.contains("REMOTE") && $0.contains("REQ/RESP") })
        #expect(screen.lines.contains("  host 127.0.0.1:40001     host 127.0.0.1:40002     succeeded    ✓    0.142 ms  12/11"))
        #expect(screen.lines.contains("  host [::1]:40003         prflx [::1]:40004        failed                   -  7/0"))
        DashboardInput.apply(.down, to: &m, pageSize: 5)
        DashboardRenderer.draw(m, on: screen, now: Fixtures.now)
        #expect(screen.lines.contains("  Next retry:        in 6 s"))
    }

    @Test func sparklineScales() {
        #expect(DashboardRenderer.sparkline([1, 2, 3, 4, 5, 6, 7, 8], width: 8) == "▁▂▃▄▅▆▇█")
        #expect(DashboardRenderer.sparkline([5, 5, 5], width: 8) == "▄▄▄")
        #expect(DashboardRenderer.sparkline([1, 8, 1, 8], width: 2) == "▁█")
        #expect(DashboardRenderer.sparkline([], width: 8) == "")
    }

    @Test func wideCharactersAreMeasuredInColumns() {
        #expect(DisplayWidth.of("alpha") == 5)
        #expect(DisplayWidth.of("東京") == 4)
        #expect(DisplayWidth.pad("東京ノード", to: 7) == "東京ノ ")
        #expect(DisplayWidth.of("e\u{301}") == 1)
    }
}
