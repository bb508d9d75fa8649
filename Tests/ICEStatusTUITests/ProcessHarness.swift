import ICETestSupport
import Foundation
@testable import ICEStatusTUI

/// Runs the built `icestat` binary and tmux for end-to-end tests.
enum Harness {
    /// `$ICESTAT_BIN` (set by scripts/test.sh), else the debug build next to this package.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["ICESTAT_BIN"], !path.isEmpty { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/icestat").path
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// A child process started with posix_spawn (Foundation's Process can miss the exit of a child that
    /// daemonizes, as tmux's client does).
    final class Child {
        let pid: pid_t
        private(set) var status: Int32?

        init(_ argv: [String], stdout: String = "/dev/null", stderr: String = "/dev/null", environment: [String: String] = [:]) throws {
            // icestat's own spawner: default signal handling whatever thread starts the child.
            pid = try ChildProcess(argv, stdout: stdout, stderr: stderr, environment: environment).pid
        }

        var isRunning: Bool {
            if status != nil { return false }
            var raw: Int32 = 0
            let r = waitpid(pid, &raw, WNOHANG)
            if r == pid { status = Child.decode(raw); return false }
            return r == 0
        }

        /// Waits up to `seconds`, then kills; returns the exit status (128+signal when killed by one).
        @discardableResult
        func wait(seconds: Double) -> Int32 {
            if eventuallyBlocking(seconds: seconds, { !isRunning }) { return status ?? -1 }
            kill(pid, SIGKILL)
            var raw: Int32 = 0
            waitpid(pid, &raw, 0)
            status = Child.decode(raw)
            return status!
        }

        func terminate() { if status == nil { kill(pid, SIGTERM) } }

        private static func decode(_ raw: Int32) -> Int32 {
            let signal = raw & 0x7F
            return signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
        }

        deinit {
            if isRunning {
                kill(pid, SIGKILL)
                var raw: Int32 = 0
                waitpid(pid, &raw, 0)
            }
        }
    }

    /// Runs a command to completion with stdin from /dev/null; kills it after `timeout` seconds.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 20) throws -> Result {
        let base = NSTemporaryDirectory() + "icestat-run-\(UUID().uuidString)"
        defer {
            unlink(base + ".out")
            unlink(base + ".err")
        }
        let child = try Child([executable] + arguments, stdout: base + ".out", stderr: base + ".err", environment: environment)
        let status = child.wait(seconds: timeout)
        let out = FileManager.default.contents(atPath: base + ".out") ?? Data()
        let err = FileManager.default.contents(atPath: base + ".err") ?? Data()
        return Result(status: status, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    static func icestat(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 20) throws -> Result {
        try run(binary, arguments, environment: environment, timeout: timeout)
    }

    /// Starts `icestat` in the background (no terminal).
    static func start(_ arguments: [String]) throws -> Child {
        try Child([binary] + arguments)
    }

    /// A fresh private directory for a socket.
    static func temporarySocket() -> String {
        let dir = NSTemporaryDirectory() + "icestat-test-\(UUID().uuidString.prefix(8))"
        return dir + "/status.sock"
    }

    static func waitForExit(_ p: Child, seconds: Double) -> Bool {
        eventuallyBlocking(seconds: seconds) { !p.isRunning }
    }
}

/// One tmux session for a screen test, on a private tmux server socket.
final class TmuxSession {
    let name: String
    let server: String

    init(command: String, columns: Int = 120, rows: Int = 20, environment: [String: String] = [:]) throws {
        name = "t\(UUID().uuidString.prefix(8))"
        server = "icestat-test-\(name)"
        var env = ["TERM": "xterm-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"]
        env.merge(environment) { $1 }
        let envPrefix = env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        // The test runner's own NO_COLOR (or its absence) must not leak into the screen under test.
        let unset = environment["NO_COLOR"] == nil ? "-u NO_COLOR " : ""
        let r = try tmux(["new-session", "-d", "-s", name, "-x", "\(columns)", "-y", "\(rows)", "env \(unset)\(envPrefix) \(command)"])
        guard r.status == 0 else { throw NSError(domain: "tmux", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey: r.stderr]) }
    }

    @discardableResult
    func tmux(_ args: [String]) throws -> Harness.Result {
        try Harness.run("tmux", ["-L", server, "-f", "/dev/null"] + args, timeout: 10)
    }

    func capture(escapes: Bool = false) -> String {
        (try? tmux(["capture-pane", "-p"] + (escapes ? ["-e"] : []) + ["-t", name]).stdout) ?? ""
    }

    func send(_ keys: String...) { _ = try? tmux(["send-keys", "-t", name] + keys) }

    func resize(columns: Int, rows: Int) { _ = try? tmux(["resize-window", "-t", name, "-x", "\(columns)", "-y", "\(rows)"]) }

    var isAlive: Bool { (try? tmux(["has-session", "-t", name]).status) == 0 }

    func waitFor(seconds: Double, _ predicate: (String) -> Bool) -> Bool {
        eventuallyBlocking(seconds: seconds) { predicate(capture()) }
    }

    deinit { _ = try? tmux(["kill-server"]) }
}
