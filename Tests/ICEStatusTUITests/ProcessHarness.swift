import ICETestSupport
import Foundation

/// Runs the built `icestat` binary and tmux for end-to-end tests.
enum Harness {
    /// `$ICESTAT_BIN` (set by scripts/test.sh), else the debug build next to this package.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["ICESTAT_BIN"], !path.isEmpty { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/icestat").path
    }

    typealias Result = TestProcess.Result
    typealias Child = TestProcess

    /// Runs a command to completion with stdin from /dev/null; kills it after `timeout` seconds.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 20) throws -> Result {
        try TestProcess.run(executable, arguments, environment: environment, timeout: timeout)
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
