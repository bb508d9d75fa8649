import Foundation

/// A self-pipe that wakes the dashboard's `poll` from other threads: a change to draw, or a request to quit.
final class WakePipe: Sendable {
    let readFD: Int32
    private let writeFD: Int32

    init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe() failed")
        readFD = fds[0]
        writeFD = fds[1]
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    enum Request: UInt8 { case redraw = 1, quit = 2, hangUp = 3 }

    func wake() { send(.redraw) }
    func requestQuit() { send(.quit) }
    /// The terminal is gone: quit without touching it.
    func requestHangUp() { send(.hangUp) }

    private func send(_ request: Request) {
        var b = request.rawValue
        _ = write(writeFD, &b, 1)
    }

    /// Empties the pipe and returns the strongest request in it.
    func drain() -> Request {
        var buffer = [UInt8](repeating: 0, count: 64)
        var strongest = Request.redraw
        while true {
            let n = read(readFD, &buffer, buffer.count)
            if n <= 0 { break }
            if let top = buffer[0..<n].max(), let r = Request(rawValue: top), r.rawValue > strongest.rawValue { strongest = r }
        }
        return strongest
    }

    deinit {
        close(readFD)
        close(writeFD)
    }
}
