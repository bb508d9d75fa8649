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
        var medians: [Double] = []
        for count in peers { medians.append(try await measure(peers: count, dims: dims)) }
        if medians.count > 1 {
            for (count, median) in zip(peers, medians).dropFirst() {
                print(String(format: "ratio: the %d-peer frame is %.1fx the %d-peer frame (target: at most 2x, and under 2 ms)",
                             count, median / medians[0], peers[0]))
            }
        }
    }

    private func measure(peers: Int, dims: [Int]) async throws -> Double {
        let size = self.size, frames = self.frames, changing = self.changing
        let recorder = StatusRecorder()
        SyntheticPeers.fill(recorder, count: peers)
        let ids = recorder.snapshot().peers.map(\.id)
        let result = try await MainActor.run { () throws -> (Double, Double, Double, [Double]) in
            setenv("LINES", "\(dims[1])", 1)
            setenv("COLUMNS", "\(dims[0])", 1)
            guard let out = fopen("/dev/null", "w"), let input = fopen("/dev/null", "r") else { throw ExitCode(1) }
            let screen = try NCursesScreen(term: "xterm-256color", output: out, input: input, color: true)
            defer { screen.close() }
            var model = DashboardModel()
            let feed = recorder.changeFeed()
            var times: [Double] = []
            var parts: [[Double]] = [[], [], []]
            for frame in 0..<frames {
                // The peers that change take turns, so every frame has `changing` of them to apply.
                let count = min(changing ?? ids.count, ids.count)
                for k in 0..<count {
                    let i = (frame * count + k) % ids.count
                    recorder.updateLatency(id: ids[i], nanoseconds: Int64(100_000 + (i * 31 + frame * 977) % 9_000_000))
                }
                let t0 = DispatchTime.now().uptimeNanoseconds
                let change = feed.take(includingCounters: model.takesCounters)
                let t1 = DispatchTime.now().uptimeNanoseconds
                model.apply(change, records: { recorder.peer(id: $0) })
                let t2 = DispatchTime.now().uptimeNanoseconds
                DashboardRenderer.draw(model, on: screen, now: currentTimeMillis())
                let t3 = DispatchTime.now().uptimeNanoseconds
                times.append(Double(t3 - t0) / 1e6)
                for (k, d) in [t1 - t0, t2 - t1, t3 - t2].enumerated() { parts[k].append(Double(d) / 1e6) }
                if frame == frames / 2 { model.sort(by: .latency) } // the second half sorts by a changing key
            }
            let sorted = times.sorted()
            return (ProcessTimer.median(times), sorted[Int(Double(sorted.count - 1) * 0.95)], sorted.last!, parts.map(ProcessTimer.median))
        }
        print(String(format: "dashboard frame with %d peers at %@ (changes taken + model update + draw): median %.2f ms, p95 %.2f ms, max %.2f ms over %d frames",
                     peers, size, result.0, result.1, result.2, frames))
        print(String(format: "  medians: changes taken from the recorder %.2f ms, model update (rows moved or re-sorted) %.2f ms, ncurses draw %.2f ms",
                     result.3[0], result.3[1], result.3[2]))
        return result.0
    }
}
