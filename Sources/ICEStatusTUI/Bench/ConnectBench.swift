import ArgumentParser
import Dispatch
import ICEEngine
import NIOCore
import NIOPosix
import Synchronization

/// Loopback connect time, icestat to icestat: from both sides having each other's credentials and candidates
/// to both Connected. Sockets are bound (gathered) before the clock starts.
struct ConnectBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Loopback connect time between two agents, from credentials exchanged to both Connected.")

    @Option(name: .long, help: "Connections to time (the median is printed).")
    var runs = 20

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var times: [Double] = []
        for _ in 0..<runs {
            let connected = Mutex(0)
            let done = group.next().makePromise(of: UInt64.self)
            let onEvent: @Sendable (ICEAgentEvent) -> Void = { event in
                if case .stateChanged(.connected) = event, connected.withLock({ $0 += 1; return $0 }) == 2 {
                    done.succeed(DispatchTime.now().uptimeNanoseconds)
                }
            }
            let a = ICEAgent(role: .controlling, configuration: .loopback(), eventLoop: group.next(), onEvent: onEvent)
            let b = ICEAgent(role: .controlled, configuration: .loopback(), eventLoop: group.next(), onEvent: onEvent)
            let ca = try await a.gather().get(), cb = try await b.gather().get()
            let start = DispatchTime.now().uptimeNanoseconds
            a.setRemoteCredentials(b.localCredentials)
            b.setRemoteCredentials(a.localCredentials)
            cb.forEach(a.addRemoteCandidate)
            ca.forEach(b.addRemoteCandidate)
            let end = try await done.futureResult.get()
            times.append(Double(end - start) / 1e6)
            _ = try await (a.close().get(), b.close().get())
        }
        try await group.shutdownGracefully()
        let sorted = times.sorted()
        print(String(format: "loopback connect, icestat to icestat, credentials exchanged to both Connected: median %.2f ms (min %.2f, max %.2f) over %d runs",
                     ProcessTimer.median(times), sorted.first!, sorted.last!, runs))
    }
}
