import CNCursesW
import Dispatch
import Foundation
import StatusRecorder
import Synchronization

/// The live dashboard: one thread (the main actor) owns the terminal, sleeps in `poll` on the keyboard and a
/// wake pipe, and draws one frame per wake, key or second. Changes come from a recorder subscription,
/// at most one refresh interval apart, so a busy engine never makes the screen busy.
@MainActor
final class Dashboard {
    private let recorder: StatusRecorder
    private let color: Bool
    private var model = DashboardModel()
    /// The refresh interval in ms, shared with the watcher task.
    private let refresh: SharedMillis

    init(recorder: StatusRecorder, color: Bool, refreshMillis: Int = 250) {
        self.recorder = recorder
        self.color = color
        model.refreshMillis = refreshMillis
        refresh = SharedMillis(refreshMillis)
    }

    /// Runs until q, SIGINT/SIGTERM, or the terminal goes away. Throws only if no terminal can be used.
    func run() throws {
        let screen = try NCursesScreen(color: color)
        // After a hang-up the terminal is gone: ncurses must not write to it again (a write error there can end
        // the process before it cleans up).
        var hungUp = false
        defer { if !hungUp { screen.close() } }
        let wake = WakePipe()
        let refresh = self.refresh
        let feed = recorder.changeFeed()
        let signals = feed.signals
        let watcher = Task.detached {
            // Only woken: each frame takes the changes itself, through the feed.
            for await _ in signals {
                wake.wake()
                try? await Task.sleep(for: .milliseconds(refresh.value.withLock { $0 }))
            }
        }
        defer { watcher.cancel() }
        // Kept, not cancelled: a cancelled source may restore the default action, and a second signal (a hang-up
        // comes from the kernel and from the terminal's owner) would then end the process mid-cleanup.
        SignalSources.keep(Self.forwardSignals(to: wake))

        refreshModel(feed)
        DashboardRenderer.draw(model, on: screen, now: currentTimeMillis())
        var idleReads = 0
        while !model.quit {
            var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.readFD, events: Int16(POLLIN), revents: 0)]
            // Wake for changes (paced by the watcher), keys, or once a second for the clocks; never spin.
            let ready = poll(&fds, 2, Int32(max(1000, model.refreshMillis)))
            if fds[1].revents != 0 {
                switch wake.drain() {
                case .hangUp: hungUp = true
                case .quit: model.quit = true
                case .redraw: break
                }
                if model.quit || hungUp { break }
            }
            if fds[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 {
                hungUp = true
                break
            }
            var gotKey = false
            while let key = screen.readKey() {
                gotKey = true
                handle(key, screen: screen)
            }
            // A readable stdin that yields no key is end of file or a hang-up: leave instead of spinning.
            if ready > 0, fds[0].revents != 0, !gotKey {
                idleReads += 1
                if idleReads >= 3 { break }
            } else {
                idleReads = 0
            }
            refreshModel(feed)
            DashboardRenderer.draw(model, on: screen, now: currentTimeMillis())
        }
    }

    /// Reads the recorder into the model: the peers changed since the last frame (none while paused, so they
    /// wait in the feed), and the events only where they are on show.
    private func refreshModel(_ feed: StatusChangeFeed) {
        model.refresh(from: feed, of: recorder)
        switch model.mode {
        case .events, .eventFilterInput: model.updateEvents(recorder.events(limit: DashboardModel.eventViewLimit))
        case .detail: model.updateEvents(model.selectedPeer.map { recorder.events(limit: DashboardModel.detailEventLimit, peerID: $0.id) } ?? [])
        case .list, .help, .filterInput: break
        }
    }

    /// SIGINT and SIGTERM ask to quit, SIGHUP says the terminal is gone. Built outside the main actor: the
    /// handlers run on a dispatch queue, and a main-actor closure there would trap on the isolation check.
    nonisolated private static func forwardSignals(to wake: WakePipe) -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM, SIGHUP].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { sig == SIGHUP ? wake.requestHangUp() : wake.requestQuit() }
            source.resume()
            return source
        }
    }

    private func handle(_ key: Int32, screen: NCursesScreen) {
        if key == KEY_RESIZE {
            screen.updateSize()
            model.keepVisible(visibleRows: DashboardRenderer.visibleRows(screenRows: screen.rows))
            return
        }
        if model.mode == .filterInput {
            DashboardInput.applyFilterKey(key, to: &model)
            return
        }
        if model.mode == .eventFilterInput {
            DashboardInput.applyEventFilterKey(key, to: &model)
            return
        }
        guard let action = KeyBinding.action(for: key) else { return }
        let page = DashboardRenderer.visibleRows(screenRows: screen.rows)
        DashboardInput.apply(action, to: &model, pageSize: page)
        if action == .redraw { screen.invalidate() }
        refresh.value.withLock { $0 = model.refreshMillis }
    }
}

/// A number of milliseconds shared between the dashboard and its watcher task.
final class SharedMillis: Sendable {
    let value: Mutex<Int>
    init(_ millis: Int) { value = Mutex(millis) }
}

/// Applies key actions to the model; separate from the terminal so tests can drive it.
enum DashboardInput {
    static func apply(_ action: KeyBinding.Action, to model: inout DashboardModel, pageSize: Int) {
        if model.mode == .events, applyInEventView(action, to: &model, pageSize: pageSize) { return }
        switch action {
        case .quit: model.quit = true
        case .up: model.move(by: -1, visibleRows: pageSize)
        case .down: model.move(by: 1, visibleRows: pageSize)
        case .pageUp: model.move(by: -max(1, pageSize), visibleRows: pageSize)
        case .pageDown: model.move(by: max(1, pageSize), visibleRows: pageSize)
        case .home: model.moveToEnd(false, visibleRows: pageSize)
        case .end: model.moveToEnd(true, visibleRows: pageSize)
        case .toggleDetail: model.mode = model.mode == .list ? .detail : .list
        case .back:
            if model.mode == .list { model.clearFilters() } else { model.mode = .list }
        case .help: model.mode = model.mode == .help ? .list : .help
        case .pause: model.paused.toggle()
        case .redraw: break
        case .sort(let key): model.sort(by: key)
        case .reverseSort: model.reverseSort()
        case .editFilter: model.mode = .filterInput
        case .cycleStateFilter: model.cycleStateFilter()
        case .cycleTypeFilter: model.cycleTypeFilter()
        case .faster: model.refreshMillis = max(50, model.refreshMillis / 2)
        case .slower: model.refreshMillis = min(5000, model.refreshMillis * 2)
        case .events: model.mode = .events
        }
    }

    /// In the event view the movement keys scroll the log, `/` filters it by peer, and Esc, Enter or `e` leave;
    /// false for the keys that work there as everywhere.
    static func applyInEventView(_ action: KeyBinding.Action, to model: inout DashboardModel, pageSize: Int) -> Bool {
        switch action {
        case .up: model.scrollEvents(by: 1)
        case .down: model.scrollEvents(by: -1)
        case .pageUp: model.scrollEvents(by: max(1, pageSize))
        case .pageDown: model.scrollEvents(by: -max(1, pageSize))
        case .home: model.scrollEventsToEnd(newest: false, visibleRows: pageSize)
        case .end: model.scrollEventsToEnd(newest: true, visibleRows: pageSize)
        case .editFilter: model.mode = .eventFilterInput
        case .back, .toggleDetail, .events: model.mode = .list
        case .sort, .reverseSort, .cycleStateFilter, .cycleTypeFilter: break // the list's
        case .quit, .pause, .redraw, .faster, .slower, .help: return false
        }
        return true
    }

    /// What a key does to a line being typed: keep it (Enter), clear it (Esc), or change it.
    enum LineEdit: Equatable { case keep, clear, changed(String), ignored }

    static func edit(_ text: String, key: Int32) -> LineEdit {
        switch key {
        case 10, 13, KEY_ENTER: .keep
        case 27: .clear
        case KEY_BACKSPACE, 127, 8: .changed(String(text.dropLast()))
        case 32..<127 where text.count < 64: .changed(text + String(UnicodeScalar(UInt8(key))))
        default: .ignored
        }
    }

    /// Keys while typing the event view's peer filter.
    static func applyEventFilterKey(_ key: Int32, to model: inout DashboardModel) {
        switch edit(model.eventFilter, key: key) {
        case .keep: model.mode = .events
        case .clear:
            model.setEventFilter("")
            model.mode = .events
        case .changed(let text): model.setEventFilter(text)
        case .ignored: break
        }
    }

    /// Keys while typing a filter: text edits it live, Enter keeps it, Esc clears it.
    static func applyFilterKey(_ key: Int32, to model: inout DashboardModel) {
        switch edit(model.filterText, key: key) {
        case .keep: model.mode = .list
        case .clear:
            model.setFilterText("")
            model.mode = .list
        case .changed(let text): model.setFilterText(text)
        case .ignored: break
        }
    }
}
