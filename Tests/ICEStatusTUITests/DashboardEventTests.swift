import StatusRecorder
import Testing
@testable import ICEStatusTUI

@MainActor
struct DashboardEventTests {
    /// Forty events: the agent's first, then bravo's (odd) and alpha's (even) by turns.
    static func log() -> [StatusEvent] {
        (1...40).map { i in
            let peer = i == 1 ? nil : i % 2 == 0 ? "alpha" : "bravo"
            return StatusEvent(sequence: UInt64(i), atMillis: Fixtures.now + Int64(i) * 1000, peerID: peer.map { "id-\($0)" }, peerName: peer,
                               kind: i == 1 ? .networkChanged : .stateChanged(from: .connecting, to: .connected, reason: nil))
        }
    }

    @Test func eOpensTheLogWhichFollowsScrollsAndFiltersByPeer() {
        var m = DashboardModel()
        m.update(Fixtures.snapshot(), now: Fixtures.now)
        DashboardInput.apply(.events, to: &m, pageSize: 5)
        #expect(m.mode == .events)
        m.updateEvents(Self.log())
        let screen = TextScreen(rows: 10, columns: 80)
        let page = DashboardRenderer.visibleRows(screenRows: 10)
        DashboardRenderer.draw(m, on: screen, now: Fixtures.now)
        // The newest at the bottom, each with its time, who and what.
        #expect(screen.lines[1].hasPrefix(" Events"))
        #expect(screen.lines[8] == " 22:15:40.000  alpha  Connecting → Connected")
        #expect(screen.lines[2] == " 22:15:34.000  alpha  Connecting → Connected")
        #expect(screen.lines[9].contains("40 events, following"))
        // Up scrolls into the past; new events then arrive below without moving what is on show.
        DashboardInput.apply(.up, to: &m, pageSize: page)
        DashboardInput.apply(.pageUp, to: &m, pageSize: page)
        #expect(m.eventScroll == 1 + page)
        m.updateEvents(Self.log() + [StatusEvent(sequence: 41, atMillis: Fixtures.now + 41_000, kind: .networkChanged)])
        #expect(m.eventScroll == 2 + page)
        DashboardRenderer.draw(m, on: screen, now: Fixtures.now)
        #expect(screen.lines[8] == " 22:15:32.000  alpha  Connecting → Connected")
        DashboardInput.apply(.home, to: &m, pageSize: page)
        DashboardRenderer.draw(m, on: screen, now: Fixtures.now)
        #expect(screen.lines[2] == " 22:15:01.000  agent  network changed: reconnecting active peers")
        DashboardInput.apply(.end, to: &m, pageSize: page)
        #expect(m.eventScroll == 0)
        // `/` filters by peer name as it is typed; Esc clears the filter, and Esc again leaves the view.
        DashboardInput.apply(.editFilter, to: &m, pageSize: page)
        #expect(m.mode == .eventFilterInput)
        for key in "BRA".utf8 { DashboardInput.applyEventFilterKey(Int32(key), to: &m) }
        #expect(m.shownEvents.count == 19 && m.shownEvents.allSatisfy { $0.peerName == "bravo" })
        DashboardInput.applyEventFilterKey(10, to: &m)
        DashboardRenderer.draw(m, on: screen, now: Fixtures.now)
        #expect(screen.lines[1].hasPrefix(" Events of \"BRA\""))
        #expect(screen.lines[9].contains("19 of 41 events, following"))
        DashboardInput.apply(.editFilter, to: &m, pageSize: page)
        DashboardInput.applyEventFilterKey(27, to: &m)
        #expect(m.mode == .events && m.shownEvents.count == 41)
        // The list's keys do nothing here; q still quits.
        DashboardInput.apply(.sort(.state), to: &m, pageSize: page)
        #expect(m.sortKey == .name)
        DashboardInput.apply(.back, to: &m, pageSize: page)
        #expect(m.mode == .list)
        DashboardInput.apply(.events, to: &m, pageSize: page)
        DashboardInput.apply(.quit, to: &m, pageSize: page)
        #expect(m.quit)
    }

    @Test func theDetailPaneEndsWithThePeersRecentEvents() {
        var m = DashboardModel()
        m.update(Fixtures.snapshot(), now: Fixtures.now)
        DashboardInput.apply(.toggleDetail, to: &m, pageSize: 5)
        m.updateEvents(Fixtures.snapshot().events.filter { $0.peerName == "alpha" })
        let screen = TextScreen(rows: 30, columns: 90)
        DashboardRenderer.draw(m, on: screen, now: Fixtures.now)
        let lines = screen.lines
        guard let title = lines.firstIndex(where: { $0.hasPrefix("  Recent events") }) else {
            Issue.record("no events in \(screen.text)")
            return
        }
        #expect(Array(lines[(title + 1)...(title + 3)]) == [
            "  22:13:44.000  Idle → Connecting",
            "  22:13:45.000  path: P2P host 127.0.0.1:40001 ↔ host 127.0.0.1:40002",
            "  22:13:45.000  Connecting → Connected",
        ])
    }

    @Test func anEmptyLogSaysSo() {
        var m = DashboardModel()
        DashboardInput.apply(.events, to: &m, pageSize: 5)
        let screen = TextScreen(rows: 10, columns: 60)
        DashboardRenderer.draw(m, on: screen, now: 0)
        #expect(screen.lines[3] == "  No events yet.")
    }
}
