import StatusRecorder

/// The event view and the detail pane's recent events.
extension DashboardRenderer {
    /// The event log, newest at the bottom, scrolled up by the model's offset.
    static func drawEvents(_ model: DashboardModel, on screen: Screen) {
        let shown = model.shownEvents
        let title = model.eventFilter.isEmpty ? "Events" : "Events of \"\(model.eventFilter)\""
        screen.put(title, row: 1, column: 1, style: .title)
        let visible = visibleRows(screenRows: screen.rows)
        guard !shown.isEmpty else {
            screen.put(model.eventFilter.isEmpty ? "No events yet." : "No event matches the filter (Esc clears it).",
                       row: 3, column: 2, style: ScreenStyle(dim: true))
            return
        }
        let end = shown.count - model.eventScroll
        let start = max(0, end - visible)
        let nameWidth = min(16, shown[start..<end].reduce(5) { max($0, DisplayWidth.of(who($1))) })
        for (offset, event) in shown[start..<end].enumerated() {
            let time = String(StatusEvent.timestamp(event.atMillis).dropFirst(11)) // HH:MM:SS.mmm
            let text = time + "  " + DisplayWidth.pad(DisplayWidth.prefix(who(event), fitting: nameWidth), to: nameWidth) + "  " + event.words
            screen.put(DisplayWidth.prefix(text, fitting: screen.columns - 1), row: 2 + offset, column: 1, style: style(event))
        }
    }

    /// The selected peer's latest events under its details, as many as fit from `row` to `last`; returns the
    /// next free row.
    static func drawRecentEvents(_ events: [StatusEvent], on screen: Screen, from row: Int, last: Int) -> Int {
        guard row + 1 <= last, !events.isEmpty else { return row }
        screen.put("Recent events", row: row, column: 2, style: .title)
        var row = row + 1
        let fitting = events.suffix(max(0, last - row + 1))
        for event in fitting {
            let text = StatusEvent.timestamp(event.atMillis).dropFirst(11) + "  " + event.words
            screen.put(DisplayWidth.prefix(String(text), fitting: screen.columns - 3), row: row, column: 2, style: style(event))
            row += 1
        }
        return row
    }

    /// The footer's right side in the event view: the position in the log.
    static func eventPosition(_ model: DashboardModel) -> String {
        let count = model.shownEvents.count
        let of = model.eventFilter.isEmpty ? "" : " of \(model.events.count)"
        return model.eventScroll == 0 ? "\(count)\(of) events, following  " : "\(model.eventScroll) newer below · \(count)\(of) events  "
    }

    private static func who(_ e: StatusEvent) -> String { e.peerName ?? (e.peerID == nil ? "agent" : e.peerID!) }

    private static func style(_ e: StatusEvent) -> ScreenStyle {
        switch e.kind {
        case .stateChanged(_, let to, _): stateStyle(to)
        case .consentLost, .serverUnavailable: ScreenStyle(color: .red)
        case .relayFallback: ScreenStyle(color: .yellow)
        case .pathChanged, .consentRegained, .serverAvailable: ScreenStyle(color: .green)
        case .iceRestart, .lazyWake, .networkChanged, .natVerdictChanged: .plain
        }
    }
}
