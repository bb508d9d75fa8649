import StatusRecorder

/// The event view (`e`) and the detail pane's events: what is shown, its filter and its scrolling.
extension DashboardModel {
    /// How many events the event view asks the recorder for; the detail pane asks for a peer's last few.
    static let eventViewLimit = 1000
    static let detailEventLimit = 8

    /// Takes the events to show unless paused.
    mutating func updateEvents(_ new: [StatusEvent]) {
        guard !paused else { return }
        // Scrolled up, the same events stay under the cursor while new ones arrive below.
        if eventScroll > 0, let newest = events.last?.sequence {
            eventScroll += new.filter { $0.sequence > newest && matchesEventFilter($0) }.count
        }
        events = new
        clampEventScroll()
    }

    /// The event view's lines, oldest first.
    var shownEvents: [StatusEvent] {
        eventFilter.isEmpty ? events : events.filter(matchesEventFilter)
    }

    private func matchesEventFilter(_ e: StatusEvent) -> Bool {
        guard !eventFilter.isEmpty else { return true }
        let who = e.peerName ?? (e.peerID == nil ? "agent" : e.peerID!)
        return who.lowercased().contains(eventFilter.lowercased()) || (e.peerID?.hasPrefix(eventFilter) ?? false)
    }

    mutating func setEventFilter(_ text: String) {
        eventFilter = text
        eventScroll = 0
    }

    /// Scrolls towards older (positive) or newer (negative) events.
    mutating func scrollEvents(by delta: Int) {
        eventScroll += delta
        clampEventScroll()
    }

    mutating func scrollEventsToEnd(newest: Bool, visibleRows: Int) {
        eventScroll = newest ? 0 : max(0, shownEvents.count - visibleRows)
    }

    private mutating func clampEventScroll() {
        eventScroll = max(0, min(eventScroll, max(0, shownEvents.count - 1)))
    }
}
