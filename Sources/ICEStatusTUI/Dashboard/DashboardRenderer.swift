import StatusRecorder

/// Draws a ``DashboardModel`` on a ``Screen``: header, column titles, one row per peer, footer; or the detail
/// pane, the help page, or a "too small" page. One full frame per call; the screen diffs what changed.
@MainActor
struct DashboardRenderer {
    static let minimumColumns = 40
    static let minimumRows = 8

    struct Column {
        let title: String
        let width: Int
        let rightAligned: Bool
        let value: (PeerStatus, Int64) -> String
    }

    /// Rows available for peers on a screen of `rows` lines.
    static func visibleRows(screenRows: Int) -> Int { max(0, screenRows - 3) }

    static func stateStyle(_ state: PeerConnectionState) -> ScreenStyle {
        switch state {
        case .connected: ScreenStyle(color: .green, bold: true)
        case .connecting: ScreenStyle(color: .yellow, bold: true)
        case .idle: ScreenStyle(dim: true)
        }
    }

    /// The columns that fit in `width`, most useful first, shown in table order.
    static func columns(width: Int, nameWidth: Int) -> [Column] {
        let all: [(priority: Int, column: Column)] = [
            (0, Column(title: "PEER", width: nameWidth, rightAligned: false) { p, _ in p.name }),
            (1, Column(title: "STATE", width: 10, rightAligned: false) { p, _ in p.state.rawValue }),
            (2, Column(title: "TYPE", width: 7, rightAligned: false) { p, _ in p.state == .connected ? p.connectionType?.rawValue ?? "-" : "-" }),
            (4, Column(title: "LOCAL", width: 22, rightAligned: false) { p, _ in StatusFormatting.candidate(p.localCandidate) }),
            (5, Column(title: "REMOTE", width: 22, rightAligned: false) { p, _ in StatusFormatting.candidate(p.remoteCandidate) }),
            (3, Column(title: "LATENCY", width: 10, rightAligned: true) { p, _ in StatusFormatting.latency(p.latencyNanos) }),
            (6, Column(title: "CHANGED", width: 8, rightAligned: true) { p, now in StatusFormatting.shortAge(p.stateChangedAtMillis, now: now) }),
            (7, Column(title: "RX/TX", width: 19, rightAligned: true) { p, _ in
                "\(StatusFormatting.bytes(p.bytesReceived))/\(StatusFormatting.bytes(p.bytesSent))" }),
        ]
        var used = 0
        var chosen = Set<Int>()
        for (index, entry) in all.enumerated().sorted(by: { $0.element.priority < $1.element.priority }) {
            let need = entry.column.width + (used == 0 ? 0 : 1)
            if used + need > width { continue }
            used += need
            chosen.insert(index)
        }
        return all.enumerated().filter { chosen.contains($0.offset) }.map(\.element.column)
    }

    static func draw(_ model: DashboardModel, on screen: Screen, now: Int64) {
        screen.clear()
        defer { screen.present() }
        guard screen.columns >= minimumColumns, screen.rows >= minimumRows else {
            drawTooSmall(on: screen)
            return
        }
        drawHeader(model, on: screen)
        switch model.mode {
        case .list: drawList(model, on: screen, now: now)
        case .detail: drawDetail(model, on: screen, now: now)
        case .help: drawHelp(on: screen)
        }
        drawFooter(model, on: screen)
    }

    private static func drawTooSmall(on screen: Screen) {
        let lines = ["Terminal too small", "need \(minimumColumns)x\(minimumRows),", "have \(screen.columns)x\(screen.rows)", "q quits"]
        for (i, line) in lines.enumerated() where i < screen.rows {
            screen.put(line, row: i, column: 0, style: i == 0 ? .title : .plain)
        }
    }

    private static func drawHeader(_ model: DashboardModel, on screen: Screen) {
        let c = model.counts
        let agent = model.local.name.isEmpty ? "icestat" : "icestat · \(model.local.name)"
        var text = " \(agent)   peers \(c.connected)/\(c.total) connected   P2P \(c.p2p)   relayed \(c.relayed)"
        if let signal = model.local.signal {
            text += "   signal \(signal.available ? "up" : "down")"
        }
        let stun = model.local.servers.filter { $0.kind != .signal }
        if !stun.isEmpty {
            text += "   STUN/TURN \(stun.count { $0.available })/\(stun.count)"
        }
        screen.fillRow(0, from: 0, style: .header)
        screen.put(text, row: 0, column: 0, style: .header)
    }

    private static func drawFooter(_ model: DashboardModel, on screen: Screen) {
        let row = screen.rows - 1
        let hints: String
        switch model.mode {
        case .list: hints = " q quit  ↑↓/jk move  Enter details  ? help  p pause"
        case .detail: hints = " Esc/Enter back  ↑↓ previous/next peer  q quit"
        case .help: hints = " Esc/? back  q quit"
        }
        screen.fillRow(row, from: 0, style: .header)
        screen.put(hints, row: row, column: 0, style: .header)
        var right = ""
        let visible = visibleRows(screenRows: screen.rows)
        if model.mode == .list, model.peers.count > visible {
            right = "\(model.scrollOffset + 1)-\(min(model.peers.count, model.scrollOffset + visible)) of \(model.peers.count) "
        }
        if model.paused { right = "[PAUSED] " + right }
        if !right.isEmpty, DisplayWidth.of(hints) + DisplayWidth.of(right) < screen.columns {
            let style = model.paused ? ScreenStyle(color: .yellow, bold: true, reverse: true) : ScreenStyle.header
            screen.put(right, row: row, column: screen.columns - DisplayWidth.of(right), style: style)
        }
    }

    private static func drawList(_ model: DashboardModel, on screen: Screen, now: Int64) {
        let longest = model.peers.reduce(4) { max($0, DisplayWidth.of($1.name)) }
        let columns = columns(width: screen.columns, nameWidth: min(max(longest, 8), 24))
        var x = 0
        for column in columns {
            screen.put(DisplayWidth.pad(column.title, to: column.width, rightAligned: column.rightAligned), row: 1, column: x, style: .title)
            x += column.width + 1
        }
        if model.peers.isEmpty {
            screen.put("No peers yet.", row: 3, column: 2, style: ScreenStyle(dim: true))
            return
        }
        let visible = visibleRows(screenRows: screen.rows)
        let selected = model.selectedIndex
        for (offset, index) in (model.scrollOffset..<min(model.peers.count, model.scrollOffset + visible)).enumerated() {
            let peer = model.peers[index]
            let row = 2 + offset
            let isSelected = index == selected
            if isSelected { screen.fillRow(row, from: 0, style: ScreenStyle(reverse: true)) }
            var x = 0
            for column in columns {
                let text = DisplayWidth.pad(column.value(peer, now), to: column.width, rightAligned: column.rightAligned)
                var style = column.title == "STATE" ? stateStyle(peer.state) : ScreenStyle.plain
                if isSelected { style.reverse = true }
                screen.put(text, row: row, column: x, style: style)
                x += column.width + 1
            }
        }
    }

    static func detailLines(_ p: PeerStatus, now: Int64) -> [(String, String)] {
        [
            ("Peer", p.name),
            ("Public key", p.id),
            ("Status", p.state.rawValue),
            ("Connection type", p.state == .connected ? p.connectionType?.rawValue ?? "-" : "-"),
            ("Local candidate", StatusFormatting.candidate(p.localCandidate)),
            ("Remote candidate", StatusFormatting.candidate(p.remoteCandidate)),
            ("Relay server", p.relayServer ?? "-"),
            ("Latency", StatusFormatting.latency(p.latencyNanos)),
            ("Last change", StatusFormatting.timeAgo(p.stateChangedAtMillis, now: now)),
            ("Last activity", StatusFormatting.timeAgo(p.lastActivityMillis, now: now)),
            ("Received", StatusFormatting.bytes(p.bytesReceived)),
            ("Sent", StatusFormatting.bytes(p.bytesSent)),
            ("Reason", p.reason ?? "-"),
        ]
    }

    private static func drawDetail(_ model: DashboardModel, on screen: Screen, now: Int64) {
        guard let peer = model.selectedPeer else {
            screen.put("No peer selected.", row: 2, column: 2, style: .plain)
            return
        }
        screen.put("Peer details", row: 1, column: 1, style: .title)
        for (i, (label, value)) in detailLines(peer, now: now).enumerated() where 3 + i < screen.rows - 1 {
            screen.put(DisplayWidth.pad(label + ":", to: 18), row: 3 + i, column: 2, style: ScreenStyle(bold: true))
            screen.put(value, row: 3 + i, column: 21, style: label == "Status" ? stateStyle(peer.state) : .plain)
        }
    }

    private static func drawHelp(on screen: Screen) {
        screen.put("Keys", row: 1, column: 1, style: .title)
        for (i, binding) in KeyBinding.all.enumerated() where 3 + i < screen.rows - 1 {
            screen.put(DisplayWidth.pad(binding.label, to: 10), row: 3 + i, column: 2, style: ScreenStyle(bold: true))
            screen.put(binding.help, row: 3 + i, column: 13, style: .plain)
        }
    }
}
