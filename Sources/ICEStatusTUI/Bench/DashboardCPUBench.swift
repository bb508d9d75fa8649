import ArgumentParser
import Foundation
import ICEStatusTUI
import ProcessSpawning

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

    @Option(name: .long, help: "The dashboard's order while measured: name or latency (every row moves each second).")
    var sort = "name"

    func validate() throws {
        guard ["name", "latency"].contains(sort) else { throw ValidationError("--sort must be name or latency") }
    }

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
        if sort == "latency" {
            _ = try tmux(["send-keys", "-t", "cpu", "l"])
            try await Task.sleep(for: .seconds(1))
        }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let before = try Self.cpuTicks(pid)
        let start = DispatchTime.now().uptimeNanoseconds
        try await Task.sleep(for: .seconds(seconds))
        let after = try Self.cpuTicks(pid)
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let cpu = Double(after - before) / ticks
        print(String(format: "dashboard watching %d peers (every latency changing each second), 160x50, sorted by %@: %.2f s CPU in %.1f s = %.2f%% of a core (target: under 2%%)",
                     peers, sort, cpu, wall, cpu / wall * 100))
    }

    /// utime + stime of a process, in clock ticks.
    static func cpuTicks(_ pid: Int32) throws -> Int {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
        return Int(fields[11])! + Int(fields[12])!
    }
}
