import StatusRecorder
import Testing
@testable import ICEStatusTUI

@MainActor
struct DashboardTests {
    func model() -> DashboardModel {
        var m = DashboardModel()
        m.update(Fixtures.snapshot())
        return m
    }

    @Test func listGolden() {
        let screen = TextScreen(rows: 8, columns: 100)
        DashboardRenderer.draw(model(), on: screen, now: Fixtures.now)
        #expect(screen.lines == [
            " icestat · demo (loopback)   peers 1/3 connected   P2P 1   relayed 0   signal up",
            "PEER▲    STATE      TYPE      LOCAL                  REMOTE                    LATENCY  CHANGED",
            "alpha    Connected  P2P       host 127.0.0.1:40001   host 127.0.0.1:40002     0.142 ms    1m15s",
            "bravo    Connecting -         -                      -                               -       3s",
            "charlie  Idle       -         -                      -                               -    2h01m",
            "",
            "",
            " q quit  ↑↓ move  Enter details  / filter  f state  T type  n s t l c sort  ? help",
        ])
        // The selected row is drawn reversed; states carry their colours.
        #expect(screen.styles[2][0].reverse)
        #expect(screen.styles[2][9].color == .green)
        #expect(screen.styles[3][9].color == .yellow)
        #expect(screen.styles[4][9].dim)
    }

    @Test func aRefusedReloadIsShownInTheHeaderAndIgnoredCandidatesInTheDetailPane() {
        var snapshot = Fixtures.snapshot()
        snapshot.local.configError = "a.yaml: peers[1].local_port: must be 1-65535"
        snapshot.local.nat = NATStatus(verdict: "port-restricted-cone", mapping: "endpoint-independent",
                                       filtering: "address-and-port-dependent", checkedAtMillis: Fixtures.now)
        snapshot.peers[0].ignoredCandidateCount = 1
        snapshot.peers[0].ignoredCandidates = ["10.100.0.5:51820 (host) in 10.100.0.0/16"]
        var m = DashboardModel()
        m.update(snapshot)
        let screen = TextScreen(rows: 24, columns: 200)
        DashboardRenderer.draw(m, on: screen, now: Fixtures.now)
        let header = " icestat · demo (loopback)   peers 1/3 connected   P2P 1   relayed 0   signal up   NAT port-restricted cone"
        #expect(screen.lines[0] == header + "   config reload failed: a.yaml: peers[1].local_port: must be 1-65535")
        #expect(screen.styles[0][header.count + 5].color == .red)
        DashboardInput.apply(.toggleDetail, to: &m, pageSize: 5)
        DashboardRenderer.draw(m, on: screen, now: Fixtures.now)
        #expect(screen.text.contains("Ignored:           1 remote candidate in routed networks: 10.100.0.5:51820 (host) in 10.100.0.0/16"))
        // Narrow: the warning is cut at the edge, never wrapped.
        let narrow = TextScreen(rows: 8, columns: header.count + 9)
        m.mode = .list
        DashboardRenderer.draw(m, on: narrow, now: Fixtures.now)
        #expect(narrow.lines[0] == header + "   config")
    }

    @Test func columnsDropByPriorityWhenNarrow() {
        let names = DashboardRenderer.columns(width: 60, nameWidth: 8).map(\.title)
        // LOCAL (22) does not fit after the first four; the narrower CHANGED still does.
        #expect(names == ["PEER", "STATE", "TYPE", "LATENCY", "CHANGED"])
        let wide = DashboardRenderer.columns(width: 200, nameWidth: 8).map(\.title)
        #expect(wide == ["PEER", "STATE", "TYPE", "LOCAL", "REMOTE", "LATENCY", "CHANGED", "RX/TX"])
    }

    @Test func navigationAndDetail() {
        var m = model()
        DashboardInput.apply(.down, to: &m, pageSize: 5)
        DashboardInput.apply(.down, to: &m, pageSize: 5)
        DashboardInput.apply(.down, to: &m, pageSize: 5)
        #expect(m.selectedPeer?.name == "charlie")
        DashboardInput.apply(.up, to: &m, pageSize: 5)
        #expect(m.selectedPeer?.name == "bravo")
        // The cursor follows the peer, not the row, when the order changes.
        var snapshot = Fixtures.snapshot()
        snapshot.peers.reverse()
        m.update(snapshot)
        #expect(m.selectedPeer?.name == "bravo")
        DashboardInput.apply(.toggleDetail, to: &m, pageSize: 5)
        #expect(m.mode == .detail)
        let screen = TextScreen(rows: 20, columns: 80)
        DashboardRenderer.draw(m, on: screen, now: Fixtures.now)
        #expect(screen.text.contains("Peer:              bravo"))
        #expect(screen.text.contains("Reason:            ICE checks failed; no TURN server configured to relay throu"))
        DashboardInput.apply(.back, to: &m, pageSize: 5)
        #expect(m.mode == .list)
        DashboardInput.apply(.quit, to: &m, pageSize: 5)
        #expect(m.quit)
    }

    @Test func scrollingKeepsSelectionVisible() {
        var m = DashboardModel()
        let r = StatusRecorder()
        for i in 0..<50 { r.addPeer(id: "\(i)", name: String(format: "peer-%02d", i)) }
        m.update(r.snapshot())
        let screen = TextScreen(rows: 10, columns: 80)
        let page = DashboardRenderer.visibleRows(screenRows: 10)
        DashboardInput.apply(.end, to: &m, pageSize: page)
        DashboardRenderer.draw(m, on: screen, now: 0)
        #expect(screen.lines[8].hasPrefix("peer-49"))
        #expect(screen.lines[2].hasPrefix("peer-43"))
        #expect(screen.lines[9].hasSuffix("44-50 of 50"))
        DashboardInput.apply(.pageUp, to: &m, pageSize: page)
        #expect(m.selectedPeer?.name == "peer-42")
    }

    @Test func helpIsGeneratedFromTheBindings() {
        var m = model()
        DashboardInput.apply(.help, to: &m, pageSize: 5)
        let screen = TextScreen(rows: 30, columns: 100)
        DashboardRenderer.draw(m, on: screen, now: 0)
        for binding in KeyBinding.all {
            #expect(screen.text.contains(binding.help))
        }
    }

    @Test func tooSmallTerminalSaysWhatItNeeds() {
        let screen = TextScreen(rows: 5, columns: 30)
        DashboardRenderer.draw(model(), on: screen, now: 0)
        #expect(screen.lines[0] == "Terminal too small")
        #expect(screen.lines[1] == "need 40x8,")
        #expect(screen.lines[2] == "have 30x5")
    }

    @Test func pauseFreezesTheModel() {
        var m = model()
        DashboardInput.apply(.pause, to: &m, pageSize: 5)
        m.update(StatusSnapshot(local: LocalAgentStatus(), peers: [], takenAtMillis: 0))
        #expect(m.peers.count == 3)
        DashboardInput.apply(.pause, to: &m, pageSize: 5)
        m.update(StatusSnapshot(local: LocalAgentStatus(), peers: [], takenAtMillis: 0))
        #expect(m.peers.isEmpty)
    }
}
