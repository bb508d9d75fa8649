import ArgumentParser
import Foundation

/// CPU used by a real `icestat` dashboard (in tmux) watching N peers whose latency all change every second,
/// served by `icestat bench serve --churn` in another process. Read from /proc/PID/stat.
struct DashboardCPUBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard-cpu",
        abstract: "CPU used by the dashboard watching N peers whose latency changes every second (needs tmux).")

    @Option(name: .long, help: "Number of peers.")
    var peers = 1000

    @Option(name: .long, help: "Seconds to measure.")
    var seconds = 20

    func run() async throws {
        let me = ProcessTimer.selfPath
        let dir = NSTemporaryDirectory() + "icestat-cpu-\(getpid())"
        let socket = "\(dir)/status.sock"
        let server = "icestat-bench-\(getpid())"
        var serve = try ChildProcess([me, "bench", "serve", "--peers", "\(peers)", "--churn", "--socket", socket])
        defer { serve.stop() }
        try await Task.sleep(for: .seconds(2))
        func tmux(_ args: [String]) throws -> String {
            let out = "\(dir)/tmux.out"
            var child = try ChildProcess(["tmux", "-L", server, "-f", "/dev/null"] + args, stdout: out)
            _ = child.wait()
            return (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        }
        _ = try tmux(["new-session", "-d", "-s", "cpu", "-x", "160", "-y", "50",
                      "env -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 \(me) --socket \(socket)"])
        defer { _ = try? tmux(["kill-server"]) }
        guard let pid = Int32(try tmux(["display", "-p", "-t", "cpu", "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ValidationError("could not find the dashboard's process")
        }
        try await Task.sleep(for: .seconds(3)) // past start-up and the first full snapshot
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let before = try Self.cpuTicks(pid)
        let start = DispatchTime.now().uptimeNanoseconds
        try await Task.sleep(for: .seconds(seconds))
        let after = try Self.cpuTicks(pid)
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let cpu = Double(after - before) / ticks
        print(String(format: "dashboard watching %d peers (every latency changing each second), 160x50: %.2f s CPU in %.1f s = %.2f%% of a core",
                     peers, cpu, wall, cpu / wall * 100))
    }

    /// utime + stime of a process, in clock ticks.
    static func cpuTicks(_ pid: Int32) throws -> Int {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
        return Int(fields[11])! + Int(fields[12])!
    }
}

/// A child process for benchmarks, started with posix_spawn.
struct ChildProcess {
    let pid: pid_t
    private var done = false

    init(_ argv: [String], stdout: String = "/dev/null") throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // The child starts with no blocked signals and default handlers, whatever thread spawns it
        // (dispatch worker threads block most signals, and a tmux server that inherits that mask cannot be stopped).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, &attributes, &cArgs, environ)
        guard rc == 0 else { throw BenchError.spawn(argv[0], rc) }
        self.pid = pid
    }

    mutating func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        done = true
        return status
    }

    mutating func stop() {
        guard !done else { return }
        kill(pid, SIGTERM)
        _ = wait()
    }
}
