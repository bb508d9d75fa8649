import ArgumentParser
import Foundation
import ICEStatusTUI
import StatusRecorder

/// Time to build and draw one dashboard frame with N peers: the changes taken from the recorder, the model's rows
/// updated (moved one by one, or sorted again), and the frame drawn through ncurses to /dev/null, with every
/// peer's latency (or `--changing` of them) changed between frames.
struct FrameBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frame",
        abstract: "Time to build and draw one dashboard frame with N peers (ncurses output to /dev/null).")

    @Option(name: .long, parsing: .upToNextOption, help: "Peer counts, measured one after the other; the first is the baseline of the ratio.")
    var peers: [Int] = [100, 10000]

    @Option(name: .long, help: "Frames to time (the median is printed).")
    var frames = 200

    @Option(name: .long, help: "Terminal size, COLSxROWS.")
    var size = "160x50"

    @Option(name: .long, help: ArgumentHelp("Peers whose latency changes between two frames (default: all).", valueName: "N"))
    var changing: Int?

    func validate() throws {
        guard !peers.isEmpty, peers.allSatisfy({ $0 >= 1 && $0 <= 100_000 }) else { throw ValidationError("--peers values must be between 1 and 100000") }
        guard frames >= 2 else { throw ValidationError("--frames must be at least 2") }
        if let changing, changing < 0 { throw ValidationError("--changing must be at least 0") }
    }

    func run() async throws {
        let dims = size.split(separator: "x").compactMap { Int($0) }
        guard dims.count == 2, dims[0] >= 40, dims[1] >= 8 else { throw ValidationError("--size must look like 160x50") }
        var medians: [[Double]] = []
        for count in peers { medians.append(try await measure(peers: count, dims: dims)) }
        for (count, median) in zip(peers, medians).dropFirst() {
            for (k, key) in Self.sortKeys.enumerated() {
                print(String(format: "ratio, sorted by %@: the %d-peer frame is %.1fx the %d-peer frame (target: at most 2x, and under 2 ms)",
                             key.rawValue, count, median[k] / medians[0][k], peers[0]))
            }
        }
    }

    /// Each is timed for `frames` frames of its own: by name, the rows stay put while latencies move; by latency,
    /// every changed peer moves.
    private static let sortKeys: [DashboardModel.SortKey] = [.name, .latency]

    private func measure(peers: Int, dims: [Int]) async throws -> [Double] {
        let frames = self.frames, changing = self.changing
        let recorder = StatusRecorder()
        SyntheticPeers.fill(recorder, count: peers)
        let ids = recorder.snapshot().peers.map(\.id)
        let phases = try await MainActor.run { () throws -> [FrameTimes] in
            setenv("LINES", "\(dims[1])", 1)
            setenv("COLUMNS", "\(dims[0])", 1)
            guard let out = fopen("/dev/null", "w"), let input = fopen("/dev/null", "r") else { throw ExitCode(1) }
            let screen = try NCursesScreen(term: "xterm-256color", output: out, input: input, color: true)
            defer { screen.close() }
            var model = DashboardModel()
            let feed = recorder.changeFeed()
            var phases: [FrameTimes] = []
            var frame = 0
            for key in Self.sortKeys {
                if model.sortKey != key { model.sort(by: key) }
                var times = FrameTimes()
                // One frame more than timed: the first after a switch of key re-sorts every row, and is not one of them.
                for timed in [false] + Array(repeating: true, count: frames) {
                    // The peers that change take turns, so every frame has `changing` of them to apply.
                    let count = min(changing ?? ids.count, ids.count)
                    for k in 0..<count {
                        let i = (frame * count + k) % ids.count
                        recorder.updateLatency(id: ids[i], nanoseconds: Int64(100_000 + (i * 31 + frame * 977) % 9_000_000))
                    }
                    frame += 1
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    let change = feed.take(counters: model.countersWanted)
                    let t1 = DispatchTime.now().uptimeNanoseconds
                    model.apply(change, records: { recorder.peer(id: $0) })
                    let t2 = DispatchTime.now().uptimeNanoseconds
                    DashboardRenderer.draw(model, on: screen, now: currentTimeMillis())
                    let t3 = DispatchTime.now().uptimeNanoseconds
                    if timed { times.add(take: t1 - t0, model: t2 - t1, draw: t3 - t2) }
                }
                phases.append(times)
            }
            return phases
        }
        for (key, times) in zip(Self.sortKeys, phases) {
            print(String(format: "dashboard frame with %d peers at %@, sorted by %@ (changes taken + model update + draw): median %.2f ms, p95 %.2f ms, max %.2f ms over %d frames",
                         peers, size, key.rawValue, times.median, times.p95, times.max, frames))
            print(String(format: "  medians: changes taken from the recorder %.2f ms, model update (rows moved or re-sorted) %.2f ms, ncurses draw %.2f ms",
                         times.parts[0], times.parts[1], times.parts[2]))
        }
        return phases.map(\.median)
    }
}

/// The timings of a run of frames, whole and by part, in milliseconds.
private struct FrameTimes {
    private var totals: [Double] = []
    private var byPart: [[Double]] = [[], [], []]

    mutating func add(take: UInt64, model: UInt64, draw: UInt64) {
        totals.append(Double(take + model + draw) / 1e6)
        for (k, d) in [take, model, draw].enumerated() { byPart[k].append(Double(d) / 1e6) }
    }

    var median: Double { ProcessTimer.median(totals) }
    var p95: Double { let s = totals.sorted(); return s[Int(Double(s.count - 1) * 0.95)] }
    var max: Double { totals.max() ?? 0 }
    var parts: [Double] { byPart.map(ProcessTimer.median) }
}
