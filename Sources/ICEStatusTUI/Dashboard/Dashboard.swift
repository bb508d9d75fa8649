import CNCursesW
import Dispatch
import Foundation
import StatusRecorder

/// The live dashboard: one thread (the main actor) owns the terminal, sleeps in `poll` on the keyboard and a
/// wake pipe, and draws one frame per wake, key or second. Changes come from a recorder subscription,
/// at most `frameInterval` apart, so a busy engine never makes the screen busy.
@MainActor
final class Dashboard {
    private let recorder: StatusRecorder
    private let color: Bool
    private let frameInterval: Duration
    private var model = DashboardModel()

    init(recorder: StatusRecorder, color: Bool, frameInterval: Duration = .milliseconds(100)) {
        self.recorder = recorder
        self.color = color
        self.frameInterval = frameInterval
    }

    /// Runs until q, SIGINT/SIGTERM, or the terminal goes away. Throws only if no terminal can be used.
    func run() throws {
        let screen = try NCursesScreen(color: color)
        defer { screen.close() }
        let wake = WakePipe()
        let interval = frameInterval
        let recorder = self.recorder
        let watcher = Task.detached {
            for await _ in recorder.subscribe() {
                wake.wake()
                try? await Task.sleep(for: interval)
            }
        }
        defer { watcher.cancel() }
        let signals = [SIGINT, SIGTERM, SIGHUP].map { sig -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { wake.requestQuit() }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }

        model.update(recorder.snapshot())
        DashboardRenderer.draw(model, on: screen, now: currentTimeMillis())
        var idleReads = 0
        while !model.quit {
            var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.readFD, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, 1000)
            if fds[1].revents != 0, wake.drain() { break }
            var gotKey = false
            while let key = screen.readKey() {
                gotKey = true
                handle(key, screen: screen)
            }
            // A readable stdin that yields no key is end of file or a hang-up: leave instead of spinning.
            if ready > 0, fds[0].revents != 0, !gotKey {
                idleReads += 1
                if idleReads >= 3 || fds[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { break }
            } else {
                idleReads = 0
            }
            model.update(recorder.snapshot())
            DashboardRenderer.draw(model, on: screen, now: currentTimeMillis())
        }
    }

    private func handle(_ key: Int32, screen: NCursesScreen) {
        if key == KEY_RESIZE {
            screen.updateSize()
            model.keepVisible(visibleRows: DashboardRenderer.visibleRows(screenRows: screen.rows))
            return
        }
        guard let action = KeyBinding.action(for: key) else { return }
        let page = DashboardRenderer.visibleRows(screenRows: screen.rows)
        DashboardInput.apply(action, to: &model, pageSize: page)
        if action == .redraw { screen.invalidate() }
    }
}

/// Applies key actions to the model; separate from the terminal so tests can drive it.
enum DashboardInput {
    static func apply(_ action: KeyBinding.Action, to model: inout DashboardModel, pageSize: Int) {
        switch action {
        case .quit: model.quit = true
        case .up: model.move(by: -1, visibleRows: pageSize)
        case .down: model.move(by: 1, visibleRows: pageSize)
        case .pageUp: model.move(by: -max(1, pageSize), visibleRows: pageSize)
        case .pageDown: model.move(by: max(1, pageSize), visibleRows: pageSize)
        case .home: model.moveToEnd(false, visibleRows: pageSize)
        case .end: model.moveToEnd(true, visibleRows: pageSize)
        case .toggleDetail: model.mode = model.mode == .list ? .detail : .list
        case .back: model.mode = .list
        case .help: model.mode = model.mode == .help ? .list : .help
        case .pause: model.paused.toggle()
        case .redraw: break
        }
    }
}
