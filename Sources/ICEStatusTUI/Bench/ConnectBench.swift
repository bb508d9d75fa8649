import ArgumentParser
import Dispatch
import Foundation
import ICEEngine
import ICEStatusTUI
import NIOCore
import NIOPosix
import Synchronization

/// Loopback connect time, icestat to icestat: from both sides having each other's credentials and candidates
/// to both Connected. Sockets are bound (gathered) before the clock starts. With `--relay-only`, the same
/// through a coturn the bench starts on loopback, timed from the start of gathering (the allocation is part of
/// a relayed connect), beside host-only timed the same way, as a ratio.
struct ConnectBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Loopback connect time between two agents, from credentials exchanged to both Connected.")

    @Option(name: .long, help: "Connections to time (the median is printed).")
    var runs = 20

    @Flag(name: .customLong("relay-only"), help: "Also time relay-only connects through a coturn on loopback (turnserver must be installed).")
    var relayOnly = false

    @Option(name: .long, help: "The relays' transport with --relay-only: udp, tcp or tls.")
    var transport: String = "udp"

    func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        guard relayOnly else {
            let times = try await Self.time(runs: runs, group: group, fromGathering: false) { .loopback() }
            print(String(format: "loopback connect, icestat to icestat, credentials exchanged to both Connected: median %.2f ms (min %.2f, max %.2f) over %d runs",
                         ProcessTimer.median(times), times.min()!, times.max()!, runs))
            return
        }
        guard let transport = TURNTransport(rawValue: transport) else { throw ValidationError("--transport: udp, tcp or tls") }
        let coturn = try LoopbackCoturn(tls: transport == .tls)
        defer { coturn.stop() }
        let server = coturn.server(transport)
        let host = try await Self.time(runs: runs, group: group, fromGathering: true) { .loopback() }
        let relayed = try await Self.time(runs: runs, group: group, fromGathering: true) {
            var c = ICEAgentConfiguration.loopback()
            c.turnServers = [server]
            c.relayOnly = true
            return c
        }
        let (h, r) = (ProcessTimer.median(host), ProcessTimer.median(relayed))
        print(String(format: "loopback connect from gathering to both Connected, median over %d runs: host-only %.2f ms, relay-only over %@ %.2f ms = %.1f× host-only",
                     runs, h, transport.label, r, r / h))
    }

    /// Median-ready connect times in ms; `fromGathering` starts the clock before gathering.
    static func time(runs: Int, group: EventLoopGroup, fromGathering: Bool,
                     configuration: () -> ICEAgentConfiguration) async throws -> [Double] {
        var times: [Double] = []
        for _ in 0..<runs {
            let connected = Mutex(0)
            let done = group.next().makePromise(of: UInt64.self)
            let agents = try Self.pair(group: group, configuration: configuration) { event, from, to in
                switch event {
                case .stateChanged(.connected):
                    if connected.withLock({ $0 += 1; return $0 }) == 2 { done.succeed(DispatchTime.now().uptimeNanoseconds) }
                case .localCandidate(let c):
                    to.addRemoteCandidate(c) // trickle, as the agents' signalling does
                default:
                    break
                }
            }
            var start = DispatchTime.now().uptimeNanoseconds
            _ = try await (agents.0.gather().get(), agents.1.gather().get())
            if !fromGathering { start = DispatchTime.now().uptimeNanoseconds }
            agents.0.setRemoteCredentials(agents.1.localCredentials)
            agents.1.setRemoteCredentials(agents.0.localCredentials)
            let end = try await done.futureResult.get()
            times.append(Double(end - start) / 1e6)
            _ = try await (agents.0.close().get(), agents.1.close().get())
        }
        return times
    }

    /// Two agents whose local candidates trickle to each other as they are gathered.
    private static func pair(group: EventLoopGroup, configuration: () -> ICEAgentConfiguration,
                             onEvent: @escaping @Sendable (ICEAgentEvent, ICEAgent, ICEAgent) -> Void) throws -> (ICEAgent, ICEAgent) {
        let box = PairBox()
        let a = ICEAgent(role: .controlling, configuration: configuration(), eventLoop: group.next()) { e in
            if let (a, b) = box.agents { onEvent(e, a, b) }
        }
        let b = ICEAgent(role: .controlled, configuration: configuration(), eventLoop: group.next()) { e in
            if let (a, b) = box.agents { onEvent(e, b, a) }
        }
        box.agents = (a, b)
        return (a, b)
    }
}

private final class PairBox: @unchecked Sendable {
    // Set once, before either agent gathers.
    var agents: (ICEAgent, ICEAgent)?
}
