import ArgumentParser
import Foundation
import ICEStatusTUI
import NIOPosix
import ProcessSpawning
import StatusRecorder

/// `icestat bench startup`: whole-process wall time of `icestat --help` and of `--detail` against an agent with
/// no peers, beside a Swift `print("hi")` binary that the bench builds with the same toolchain and the same
/// linking as this binary (``StartupBaseline``), and beside a binary of ArgumentParser alone parsing the
/// status command's options: the part of the start that the command-line parser takes whatever the binary.
struct StartupBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "startup",
        abstract: "Time `icestat --help` and `--detail` of an empty agent beside a Swift print(\"hi\") binary (target: 1.5x).")

    @Option(name: .long, help: "Runs per figure (the median is printed).")
    var runs = 41

    func validate() throws {
        guard runs >= 1, runs <= 1000 else { throw ValidationError("--runs must be between 1 and 1000") }
    }

    /// Whether the Swift runtime is linked into this binary rather than loaded from libswiftCore.so.
    static var runtimeIsStatic: Bool {
        ProcFile.read("/proc/self/maps").map { !$0.contains("libswiftCore.so") } ?? false
    }

    func run() async throws {
        let dir = NSTemporaryDirectory() + "icestat-startup-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let releaseFlags = ExecutableLinking.releaseFlags
        let linking = (Self.runtimeIsStatic ? "static" : "dynamic") + " Swift runtime" + (releaseFlags.isEmpty ? "" : ", release link flags")
        let linkFlags = (Self.runtimeIsStatic ? ["-static-stdlib"] : []) + releaseFlags
        let hello = try StartupBaseline.hello(in: dir, linking: linkFlags)
        let parser = try StartupBaseline.parserOnly(in: dir, linking: linkFlags)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let recorder = StatusRecorder()
        recorder.updateLocal { $0.name = "empty"; $0.startedAtMillis = currentTimeMillis() }
        let socket = "\(dir)/agent.sock"
        let server = try await StatusSocketServer.start(path: socket, recorder: recorder, group: group)
        let me = ProcessTimer.selfPath
        var commands: [(String, [String])] = [
            ("\(hello.label), \(linking)", hello.argv),
            ("icestat --help", [me, "--help"]),
            ("icestat --detail, agent with 0 peers", [me, "--detail", "--socket", socket]),
            ("icestat --json, agent with 0 peers", [me, "--json", "--socket", socket]),
        ]
        if let parser { commands.append((parser.label, parser.argv)) }
        for (_, argv) in commands { _ = try ProcessTimer.time(argv) } // warm the page cache
        var times = [[Double]](repeating: [], count: commands.count)
        for _ in 0..<runs {
            for (i, command) in commands.enumerated() { times[i].append(try ProcessTimer.time(command.1)) }
        }
        await server.close()
        try await group.shutdownGracefully()
        let baseline = ProcessTimer.median(times[0])
        print("whole process, median of \(runs) interleaved runs (stdout to /dev/null); this icestat: \(linking)")
        for (i, command) in commands.enumerated() {
            let t = ProcessTimer.median(times[i])
            let ratio = i == 0 ? "baseline" : String(format: "%.2fx", t / baseline)
            print(command.0.padding(toLength: 60, withPad: " ", startingAt: 0) + String(format: "%7.2f ms   ", t * 1000) + ratio)
        }
        if parser == nil { print("(no ArgumentParser module and objects beside this binary: parsing alone not timed)") }
        print("target: icestat --help and --detail at most 1.5x the baseline")
    }
}
