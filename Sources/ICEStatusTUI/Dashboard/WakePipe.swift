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

    func wake() { var b: UInt8 = 1; _ = write(writeFD, &b, 1) }
    func requestQuit() { var b: UInt8 = 2; _ = write(writeFD, &b, 1) }

    /// Empties the pipe; true if a quit was requested.
    func drain() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64)
        var quit = false
        while true {
            let n = read(readFD, &buffer, buffer.count)
            if n <= 0 { break }
            if buffer[0..<n].contains(2) { quit = true }
        }
        return quit
    }

    deinit {
        close(readFD)
        close(writeFD)
    }
}
