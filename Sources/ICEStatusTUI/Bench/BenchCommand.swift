import ArgumentParser
import Foundation
import ICEStatusTUI
import NIOPosix
import StatusRecorder

/// `icestat bench`: figures printed, never asserted. Build with `-c release` for meaningful numbers.
/// `icestat bench`, for the root command.
package enum BenchCommands {
    package static let command: any ParsableCommand.Type = BenchCommand.self
}

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print figures.",
        subcommands: [DetailBench.self, FrameBench.self, DashboardCPUBench.self, STUNBench.self, ConnectBench.self, LazyBench.self, MeshConnectBench.self, DataplaneBench.self, FuzzCommand.self, ServeBench.self, SignalBench.self, StartupBench.self, SoakBench.self])
}

/// Wall time of `icestat --detail` against a status socket holding N synthetic peers, beside `cat` of its output.
struct DetailBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detail",
        abstract: "Time `icestat --detail`, `--json` and `--yaml` (whole process) against 1,000 and 10,000 peers, beside `cat` of the same output.")

    @Option(name: .long, parsing: .upToNextOption, help: "Peer counts to measure.")
    var peers: [Int] = [1000, 10000]

    @Option(name: .long, help: "Runs per figure (the median is printed).")
    var runs = 9

    func validate() throws {
        guard runs >= 1, runs <= 100 else { throw ValidationError("--runs must be between 1 and 100") }
        guard peers.allSatisfy({ $0 >= 1 && $0 <= 100_000 }) else { throw ValidationError("--peers values must be between 1 and 100000") }
    }

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let dir = NSTemporaryDirectory() + "icestat-bench-\(getpid())"
        let me = ProcessTimer.selfPath
        print("icestat --detail, --json and --yaml, whole process, median of \(runs) runs (stdout to /dev/null), each beside cat of its own output")
        print("peers    report     output     icestat      cat output   ratio")
        for count in peers {
            let recorder = StatusRecorder()
            SyntheticPeers.fill(recorder, count: count)
            let socket = "\(dir)/status-\(count).sock"
            let server = try await StatusSocketServer.start(path: socket, recorder: recorder, group: group)
            for format in ["--detail", "--json", "--yaml"] {
                let outputFile = "\(dir)/report-\(count)\(format).txt"
                _ = try ProcessTimer.time([me, format, "--socket", socket], output: outputFile) // warm-up, and the file for cat
                let size = (try? FileManager.default.attributesOfItem(atPath: outputFile)[.size] as? Int) ?? 0
                var report: [Double] = []
                var cat: [Double] = []
                for _ in 0..<runs {
                    report.append(try ProcessTimer.time([me, format, "--socket", socket]))
                    cat.append(try ProcessTimer.time(["cat", outputFile]))
                }
                let d = ProcessTimer.median(report) * 1000, c = ProcessTimer.median(cat) * 1000
                let name = format.padding(toLength: 9, withPad: " ", startingAt: 0) // %-9@ does not pad on Linux
                print(String(format: "%-8d %@ %6.2f MB  %8.2f ms   %8.2f ms   %4.1fx", count, name, Double(size) / 1e6, d, c, d / c))
                if ProcessInfo.processInfo.environment["ICESTAT_BENCH_KEEP"] == nil { unlink(outputFile) }
            }
            await server.close()
        }
        if ProcessInfo.processInfo.environment["ICESTAT_BENCH_KEEP"] == nil { rmdir(dir) }
        try await group.shutdownGracefully()
    }
}

/// Serves N synthetic peers on a status socket until SIGINT/SIGTERM, for profiling and for watching a big mesh.
struct ServeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve N synthetic peers on the status socket (optionally changing every peer's latency each second).")

    @Option(name: .long, help: "Number of synthetic peers.")
    var peers = 10000

    @Flag(name: .long, help: "Change every peer's latency once a second.")
    var churn = false

    @OptionGroup var socket: SocketOptions

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let recorder = StatusRecorder()
        SyntheticPeers.fill(recorder, count: peers)
        let server = try await StatusSocketServer.start(path: socket.path, recorder: recorder, group: group)
        let ids = recorder.snapshot().peers.map(\.id)
        let churner = churn ? group.next().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { task in
            let base = Int64.random(in: 100_000...30_000_000)
            for (i, id) in ids.enumerated() { recorder.updateLatency(id: id, nanoseconds: base + Int64(i % 1000) * 1000) }
        } : nil
        StandardOutput.error("serving \(peers) synthetic peers on \(server.path)\(churn ? ", latency changing every second" : ""); Ctrl-C stops")
        await SignalWaiter.wait(seconds: nil)
        churner?.cancel()
        await server.close()
        try await group.shutdownGracefully()
    }
}
