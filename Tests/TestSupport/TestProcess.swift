import Foundation
import ProcessSpawning

/// The tests' one way to run a process: started with posix_spawn and default signal handling (Foundation's
/// Process can miss the exit of a child that daemonizes, as tmux's client does, and hands a child the signal
/// mask of the dispatch thread that starts it), output to files, waited for with a deadline.
package final class TestProcess {
    package struct Result: Sendable {
        package var status: Int32
        package var stdout: String
        package var stderr: String
    }

    package let pid: pid_t
    /// The exit status once reaped (128+signal when killed by one).
    package private(set) var status: Int32?

    /// Starts `argv` (looked up in PATH) with stdin from /dev/null and its output to these files.
    package init(_ argv: [String], stdout: String = "/dev/null", stderr: String = "/dev/null",
                 environment: [String: String] = [:]) throws {
        pid = try ChildProcess(argv, stdout: stdout, stderr: stderr, environment: environment).pid
    }

    package var isRunning: Bool {
        if status != nil { return false }
        var raw: Int32 = 0
        let r = waitpid(pid, &raw, WNOHANG)
        if r == pid { status = Self.decode(raw); return false }
        return r == 0
    }

    /// Waits up to `seconds`, then kills; returns the exit status.
    @discardableResult
    package func wait(seconds: Double) -> Int32 {
        if eventuallyBlocking(seconds: seconds, every: .milliseconds(20), { !isRunning }) { return status ?? -1 }
        return kill()
    }

    /// SIGKILL and reap; returns the exit status.
    @discardableResult
    package func kill() -> Int32 {
        if let status { return status }
        Foundation.kill(pid, SIGKILL)
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0, errno == EINTR {}
        status = Self.decode(raw)
        return status!
    }

    package func terminate() { if status == nil { Foundation.kill(pid, SIGTERM) } }

    /// Runs a command to completion; kills it after `timeout` seconds.
    @discardableResult
    package static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                            timeout: Double = 20) throws -> Result {
        let base = NSTemporaryDirectory() + "icestat-run-\(UUID().uuidString)"
        defer {
            unlink(base + ".out")
            unlink(base + ".err")
        }
        let child = try TestProcess([executable] + arguments, stdout: base + ".out", stderr: base + ".err", environment: environment)
        let status = child.wait(seconds: timeout)
        let out = FileManager.default.contents(atPath: base + ".out") ?? Data()
        let err = FileManager.default.contents(atPath: base + ".err") ?? Data()
        return Result(status: status, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    private static func decode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7F
        return signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
    }

    deinit { if isRunning { kill() } }
}
