import StatusRecorder

/// Draws a ``DashboardModel`` on a ``Screen``: header, column titles, one row per peer, footer; or the detail
/// pane, the help page, or a "too small" page. One full frame per call; the screen diffs what changed.
@MainActor
package struct DashboardRenderer {
    static let minimumColumns = 40
    static let minimumRows = 8

    struct Column {
        let title: String
        let sortKey: DashboardModel.SortKey?
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
            (0, Column(title: "PEER", sortKey: .name, width: nameWidth, rightAligned: false) { p, _ in p.name }),
            (1, Column(title: "STATE", sortKey: .state, width: 10, rightAligned: false) { p, _ in p.state.rawValue }),
            (2, Column(title: "TYPE", sortKey: .type, width: 9, rightAligned: false) { p, _ in StatusFormatting.connectionType(p) }),
            (4, Column(title: "LOCAL", sortKey: nil, width: 22, rightAligned: false) { p, _ in
                StatusFormatting.candidate(p.localCandidate, relayTransport: p.relayTransport) }),
            (5, Column(title: "REMOTE", sortKey: nil, width: 22, rightAligned: false) { p, _ in StatusFormatting.candidate(p.remoteCandidate) }),
            (3, Column(title: "LATENCY", sortKey: .latency, width: 10, rightAligned: true) { p, _ in StatusFormatting.latency(p.latencyNanos) }),
            (6, Column(title: "CHANGED", sortKey: .changed, width: 8, rightAligned: true) { p, now in StatusFormatting.shortAge(p.stateChangedAtMillis, now: now) }),
            (7, Column(title: "RX/TX", sortKey: nil, width: 19, rightAligned: true) { p, _ in
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

    package static func draw(_ model: DashboardModel, on screen: Screen, now: Int64) {
        screen.clear()
        defer { screen.present() }
        guard screen.columns >= minimumColumns, screen.rows >= minimumRows else {
            drawTooSmall(on: screen)
            return
        }
        drawHeader(model, on: screen)
        switch model.mode {
        case .list, .filterInput: drawList(model, on: screen, now: now)
        case .detail: drawDetail(model, on: screen, now: now)
        case .help: drawHelp(on: screen)
        case .events, .eventFilterInput: drawEvents(model, on: screen)
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
        if let nat = model.local.nat { text += "   NAT \(nat.verdictWords)" }
        screen.fillRow(0, from: 0, style: .header)
        screen.put(text, row: 0, column: 0, style: .header)
        if let error = model.local.configError {
            // Beside the counts, where it is seen at once; the agent runs on with its previous config.
            let warning = "   config reload failed: \(error) "
            let column = DisplayWidth.of(text)
            if column < screen.columns {
                screen.put(DisplayWidth.prefix(warning, fitting: screen.columns - column), row: 0, column: column,
                           style: ScreenStyle(color: .red, bold: true, reverse: true))
            }
        }
    }

    private static func drawFooter(_ model: DashboardModel, on screen: Screen) {
        let row = screen.rows - 1
        let hints: String
        switch model.mode {
        case .list: hints = " q quit  ↑↓ move  Enter details  / filter  f state  T type  n s t l c sort  ? help"
        case .filterInput: hints = " Filter: \(model.filterText)▏  (Enter keeps, Esc clears)"
        case .detail: hints = " Esc/Enter back  ↑↓ previous/next peer  q quit"
        case .help: hints = " Esc/? back  q quit"
        case .events: hints = " Esc back  ↑↓ PgUp PgDn scroll  End newest  / filter by peer  q quit"
        case .eventFilterInput: hints = " Peer: \(model.eventFilter)▏  (Enter keeps, Esc clears)"
        }
        screen.fillRow(row, from: 0, style: .header)
        var right = ""
        let visible = visibleRows(screenRows: screen.rows)
        if model.mode == .list || model.mode == .filterInput {
            if model.isFiltered {
                var parts: [String] = []
                if !model.filterText.isEmpty { parts.append("\"\(model.filterText)\"") }
                if let s = model.stateFilter { parts.append(s.rawValue.lowercased()) }
                if let t = model.typeFilter { parts.append(t.rawValue) }
                right += "filter \(parts.joined(separator: " ")): \(model.peers.count) of \(model.peers.totalCount)  "
            } else if model.peers.count > visible {
                right += "\(model.scrollOffset + 1)-\(min(model.peers.count, model.scrollOffset + visible)) of \(model.peers.count)  "
            }
        }
        if model.mode == .events || model.mode == .eventFilterInput { right = eventPosition(model) }
        if model.paused { right = "[PAUSED] " + right }
        // The hints give way to the status on the right when the line is short.
        let room = screen.columns - DisplayWidth.of(right)
        screen.put(DisplayWidth.prefix(hints, fitting: max(0, room - 1)), row: row, column: 0, style: .header)
        if !right.isEmpty, room >= 0 {
            let style = model.paused ? ScreenStyle(color: .yellow, bold: true, reverse: true) : ScreenStyle.header
            screen.put(right, row: row, column: room, style: style)
        }
    }

    private static func drawList(_ model: DashboardModel, on screen: Screen, now: Int64) {
        let columns = columns(width: screen.columns, nameWidth: min(max(model.longestNameWidth, 8), 24))
        var x = 0
        for column in columns {
            var title = column.title
            if column.sortKey == model.sortKey { title += model.sortReversed ? "▼" : "▲" }
            screen.put(DisplayWidth.pad(title, to: column.width, rightAligned: column.rightAligned), row: 1, column: x,
                       style: column.sortKey == model.sortKey ? ScreenStyle(color: .cyan, bold: true) : .title)
            x += column.width + 1
        }
        if model.peers.isEmpty {
            screen.put(model.isFiltered ? "No peer matches the filter (Esc clears it)." : "No peers yet.", row: 3, column: 2,
                       style: ScreenStyle(dim: true))
            return
        }
        let visible = visibleRows(screenRows: screen.rows)
        let selected = model.selectedIndex
        for (offset, index) in (model.scrollOffset..<min(model.peers.count, model.scrollOffset + visible)).enumerated() {
            let peer = model.peers[index]
            let row = 2 + offset
            let isSelected = index == selected
            let highlighted = model.isHighlighted(peer.id, now: now)
            if isSelected { screen.fillRow(row, from: 0, style: ScreenStyle(reverse: true)) }
            var x = 0
            for column in columns {
                let text = DisplayWidth.pad(column.value(peer, now), to: column.width, rightAligned: column.rightAligned)
                var style = column.title == "STATE" ? stateStyle(peer.state) : ScreenStyle.plain
                if highlighted { style.bold = true; style.underline = column.title == "PEER" }
                if isSelected { style.reverse = true }
                screen.put(text, row: row, column: x, style: style)
                x += column.width + 1
            }
        }
    }

    /// The eight-level sparkline of values, newest last, scaled between their minimum and maximum.
    static func sparkline(_ values: [Int64], width: Int) -> String {
        let bars = Array("▁▂▃▄▅▆▇█")
        let shown = values.suffix(width)
        guard let lo = shown.min(), let hi = shown.max() else { return "" }
        return String(shown.map { v in hi == lo ? bars[3] : bars[Int((v - lo) * 7 / (hi - lo))] })
    }

    static func detailLines(_ p: PeerStatus, now: Int64) -> [(String, String)] {
        let retry = StatusFormatting.retry(p.nextRetryAtMillis, now: now)
        return [
            ("Peer", p.name),
            ("Public key", p.id),
            ("Status", p.state.rawValue),
            ("Connection type", p.state == .connected ? p.connectionType?.rawValue ?? "-" : "-"),
            ("Local candidate", StatusFormatting.candidate(p.localCandidate, relayTransport: p.relayTransport)),
            ("Remote candidate", StatusFormatting.candidate(p.remoteCandidate)),
            ("Relay server", StatusFormatting.relayServer(p) ?? "-"),
            ("Latency", StatusFormatting.latency(p.latencyNanos)
                + (p.smoothedLatencyNanos.map { " (smoothed \(StatusFormatting.latency($0)))" } ?? "")),
            ("Last change", StatusFormatting.timeAgo(p.stateChangedAtMillis, now: now)),
            ("Last activity", StatusFormatting.timeAgo(p.lastActivityMillis, now: now)),
            ("Transfer", "received \(StatusFormatting.bytes(p.bytesReceived)), sent \(StatusFormatting.bytes(p.bytesSent))"),
            ("Dropped", StatusFormatting.drops(p.drops)),
            ("Reason", p.reasonWords(now: now) ?? "-"),
            ("Next retry", retry),
        ] + (p.ignoredCandidateCount == 0 ? [] : [
            ("Ignored", "\(p.ignoredCandidateCount) remote candidate\(p.ignoredCandidateCount == 1 ? "" : "s") in routed networks: "
                + p.ignoredCandidates.joined(separator: ", ")),
        ])
    }

    private static func drawDetail(_ model: DashboardModel, on screen: Screen, now: Int64) {
        guard let peer = model.selectedPeer else {
            screen.put("No peer selected.", row: 2, column: 2, style: .plain)
            return
        }
        screen.put("Peer details", row: 1, column: 1, style: .title)
        var row = 2
        let last = screen.rows - 2
        for (label, value) in detailLines(peer, now: now) where row <= last {
            screen.put(DisplayWidth.pad(label + ":", to: 18), row: row, column: 2, style: ScreenStyle(bold: true))
            screen.put(value, row: row, column: 21, style: label == "Status" ? stateStyle(peer.state) : .plain)
            row += 1
        }
        if row <= last, !peer.latencyHistoryNanos.isEmpty {
            let values = peer.latencyHistoryNanos
            let width = max(8, min(60, screen.columns - 40))
            screen.put(DisplayWidth.pad("RTT history:", to: 18), row: row, column: 2, style: ScreenStyle(bold: true))
            screen.put(sparkline(values, width: width), row: row, column: 21, style: ScreenStyle(color: .cyan))
            let range = "\(StatusFormatting.latency(values.suffix(width).min()))–\(StatusFormatting.latency(values.suffix(width).max()))"
            screen.put(range, row: row, column: 21 + min(width, values.count) + 1, style: ScreenStyle(dim: true))
            row += 1
        }
        if !model.events.isEmpty { row = drawRecentEvents(Array(model.events.suffix(5)), on: screen, from: row + 1, last: last) }
        guard row + 1 <= last, !peer.candidatePairs.isEmpty else { return }
        row += 1
        let header = "  " + DisplayWidth.pad("LOCAL", to: 24) + " " + DisplayWidth.pad("REMOTE", to: 24) + " "
            + DisplayWidth.pad("STATE", to: 11) + " NOM " + DisplayWidth.pad("RTT", to: 10, rightAligned: true) + "  REQ/RESP"
        screen.put(header, row: row, column: 0, style: .title)
        row += 1
        for pair in peer.candidatePairs where row <= last {
            let line = "  " + DisplayWidth.pad(StatusFormatting.candidate(pair.local), to: 24) + " "
                + DisplayWidth.pad(StatusFormatting.candidate(pair.remote), to: 24) + " "
                + DisplayWidth.pad(pair.state, to: 11) + (pair.nominated ? "  ✓  " : "     ")
                + DisplayWidth.pad(StatusFormatting.latency(pair.roundTripNanos), to: 10, rightAligned: true)
                + "  \(pair.requestsSent)/\(pair.responsesReceived)"
            screen.put(line, row: row, column: 0, style: pair.nominated ? ScreenStyle(color: .green) : .plain)
            row += 1
        }
    }

    private static func drawHelp(on screen: Screen) {
        screen.put("Keys", row: 1, column: 1, style: .title)
        let bindings = KeyBinding.all
        let perColumn = max(1, screen.rows - 4)
        let columnWidth = 58
        for (i, binding) in bindings.enumerated() {
            let col = i / perColumn, row = 3 + i % perColumn
            let x = 2 + col * columnWidth
            guard x < screen.columns, row < screen.rows - 1 else { continue }
            screen.put(DisplayWidth.pad(binding.label, to: 9), row: row, column: x, style: ScreenStyle(bold: true))
            screen.put(binding.help, row: row, column: x + 10, style: .plain)
        }
    }
}
