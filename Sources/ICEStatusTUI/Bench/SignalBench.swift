import ArgumentParser
import Foundation
import ICEStatusTUI
import NIOCore
import NIOPosix

/// `icestat bench signal`: the signal relay as one node in memory beside three nodes joined through PostgreSQL,
/// with real `icestat signal` children and in-process agents (real clients: registration proofs, sealing,
/// presence): registration, sealed messages per second and delivery latency, same-node and cross-node; then
/// the fail-over when a node is killed.
struct SignalBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signal",
        abstract: "Signal relay: one node beside three in a cluster (registration, messages/s, latency, fail-over).")

    @Option(name: .long, help: "Agents in each setup.")
    var agents = 1000

    @Option(name: .long, help: "Agents of the registration-only run across three nodes (0: none).")
    var register = 10000

    @Option(name: .long, help: "Sealed messages sent as fast as possible, per throughput figure.")
    var messages = 20000

    @Option(name: .long, help: "Messages per second of the latency figures.")
    var rate = 1000

    @Option(name: .long, help: "Seconds of each latency run.")
    var seconds = 5

    @Option(name: .customLong("node-timeout"), help: "The cluster nodes' --cluster-node-timeout.")
    var nodeTimeout = "10s"

    @Option(name: .long, help: ArgumentHelp("PostgreSQL URL for the cluster (default: a throwaway server of the bench's own).",
                                            valueName: "postgres://USER@HOST:PORT/DB"))
    var cluster: String?

    func validate() throws {
        guard agents >= 6, agents <= 10000 else { throw ValidationError("--agents must be between 6 and 10000") }
        guard register == 0 || (register >= 3 && register <= 15000) else { throw ValidationError("--register must be 0 or between 3 and 15000") }
        guard messages >= 1, rate >= 10, seconds >= 1 else { throw ValidationError("--messages, --rate and --seconds must be positive (rate at least 10)") }
        guard let timeout = AgentConfigLoader.parseDuration(nodeTimeout), timeout >= .milliseconds(500) else {
            throw ValidationError("--node-timeout: expected a duration of at least 500ms, like 10s")
        }
    }

    func run() async throws {
        FileDescriptorLimit.raise()
        let pg = cluster == nil ? try ThrowawayPostgres() : nil
        defer { pg?.remove() }
        let url = cluster ?? pg!.url
        let dir = NSTemporaryDirectory() + "icestat-bench-signal-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        print("icestat bench signal: \(agents) agents in this process, `icestat signal` nodes as children, on loopback")
        print("cluster database: \(pg == nil ? url : "a throwaway PostgreSQL on 127.0.0.1:\(pg!.port)")")
        print("")
        var single = try await SignalBenchSetup(nodes: 1, cluster: nil, agents: agents, bench: self, directory: dir, group: group)
        let one = try await single.measure(crossNode: false)
        await single.stop()
        var three = try await SignalBenchSetup(nodes: 3, cluster: url, agents: agents, bench: self, directory: dir, group: group)
        let many = try await three.measure(crossNode: true)

        print("measure                                   1 node (memory)   3 nodes (PostgreSQL)")
        func row(_ name: String, _ a: String, _ b: String) { print(name.padding(toLength: 42, withPad: " ", startingAt: 0) + a.padding(toLength: 18, withPad: " ", startingAt: 0) + b) }
        row("registration of \(agents) agents", one.registration, many.registration)
        row("sealed messages/s, same node", one.sameRate, many.sameRate)
        row("sealed messages/s, across nodes", "-", many.crossRate)
        row("latency p50 / p99 at \(rate)/s, same node", one.sameLatency, many.sameLatency)
        row("latency p50 / p99 at \(rate)/s, across nodes", "-", many.crossLatency)
        row("messages lost", "\(one.lost)", "\(many.lost)")
        print("targets: across nodes at least 5,000/s (\(many.crossRate)); p99 across nodes under 20 ms (\(many.crossLatency))")
        print("")
        try await three.failover(timeout: AgentConfigLoader.parseDuration(nodeTimeout)!)
        await three.stop()

        if register > 0 {
            var big = try await SignalBenchSetup(nodes: 3, cluster: url, agents: register, bench: self, directory: dir, group: group, label: "big")
            let took = try await big.registerAll()
            print("registration of \(register) agents across three nodes: \(SignalBenchSetup.seconds(took)) (target: under 5 s)")
            await big.stop()
        }
        try await group.shutdownGracefully()
    }
}
