import ArgumentParser
import Foundation
import ICEEngine
import NIOCore
import NIOPosix
import StatusRecorder

/// Data-plane throughput on loopback: datagrams of 1,400 bytes from a local application through two
/// `icestat up` processes (ann's local port for bob, over the ICE path, to bob's service), direct and relayed
/// through a coturn on loopback, next to the same blaster sending straight to the receiver. Each figure is the
/// highest rate at which a trial lost nothing, the best of two searches.
struct DataplaneBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataplane",
        abstract: "Highest loss-free datagram rate through two agents on loopback, direct and relayed, next to a direct UDP blast (target: at least 0.5x); with root, iperf3 through wireguard-go over icestat next to wireguard-go direct (target: at least 0.9x).")

    @Option(name: .long, help: "Datagram size in bytes.")
    var size = 1400

    @Option(name: .long, help: "Seconds per trial.")
    var seconds = 1.0

    @Flag(name: .customLong("no-relay"), help: "Skip the relayed path (needs turnserver).")
    var noRelay = false

    @Flag(name: .customLong("no-wireguard"), help: "Skip iperf3 through wireguard-go in two namespaces (needs root).")
    var noWireGuard = false

    @Option(name: .customLong("wireguard-seconds"), help: "Seconds per iperf3 run.")
    var wireGuardSeconds = 5

    @Option(name: .long, help: "iperf3 rounds, each direct then through icestat; the medians are printed.")
    var rounds = 3

    @Flag(name: .long, help: "Print every trial.")
    var verbose = false

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let blaster = try await UDPBlaster(group: group)
        let report: (UDPBlastTrial) -> Void = { t in
            if verbose { print(String(format: "  trial %8d/s: sent %8d received %8d%@", t.rate, t.sent, t.received, t.clean ? "" : "  (loss or slow)")) }
        }
        print("data plane, \(size)-byte datagrams on loopback, \(seconds) s trials: highest rate with no loss")
        // Each search's result hangs on single trials on a shared machine: every figure is the best of two searches.
        let direct = try await bestOfTwo { try await blaster.highestCleanRate(size: size, seconds: seconds, to: blaster.receiverPort, onTrial: report) }
        print(line("direct UDP blast (no icestat)", direct, nil))
        var paths: [(String, TURNServer?)] = [("through icestat, direct path", nil)]
        var coturn: LoopbackCoturn?
        if !noRelay {
            let c = try LoopbackCoturn(tls: false)
            coturn = c
            paths.append(("through icestat, relayed (TURN/UDP)", c.server(.udp)))
        }
        defer { coturn?.stop() }
        for (label, relay) in paths {
            var pair = try await DataplaneAgents.start(group: group, service: blaster.receiverPort, relay: relay)
            do {
                try await measure(label, through: pair, blaster: blaster, direct: direct, onTrial: report)
            } catch {
                await pair.stop()
                throw error
            }
            await pair.stop()
        }
        await blaster.close()
        try await group.shutdownGracefully()
        guard !noWireGuard else { return }
        if let reason = WireGuardBench.unavailableReason {
            print("iperf3 through wireguard-go: skipped, \(reason)")
        } else {
            try await WireGuardBench(seconds: wireGuardSeconds, rounds: rounds).run()
        }
    }

    /// The highest clean rate through `pair`, then one more trial at it for the agents' CPU per gigabit.
    private func measure(_ label: String, through pair: DataplaneAgents, blaster: UDPBlaster, direct: Int,
                         onTrial: (UDPBlastTrial) -> Void) async throws {
        let rate = try await bestOfTwo { try await blaster.highestCleanRate(size: size, seconds: seconds, to: pair.entryPort, onTrial: onTrial) }
        let before = try pair.cpuSeconds()
        let t = try await blaster.trial(rate: max(rate, 1000), size: size, seconds: seconds, to: pair.entryPort)
        let cpu = try pair.cpuSeconds() - before
        let gigabits = Double(t.received * size * 8) / 1e9
        print(line(label, rate, direct) + String(format: "; both agents %.2f s CPU per Gbit", gigabits > 0 ? cpu / gigabits : 0))
        let drops = try await pair.dropSummary()
        if !drops.isEmpty { print("  drops counted by the agents: \(drops)") }
    }

    private func bestOfTwo(_ search: () async throws -> Int) async throws -> Int {
        let first = try await search()
        return max(first, try await search())
    }

    private func line(_ label: String, _ rate: Int, _ direct: Int?) -> String {
        let mbit = Double(rate * size * 8) / 1e6
        var s = String(format: "%-38@ %8d datagrams/s  %8.1f Mbit/s", label as NSString, rate, mbit)
        if let direct, direct > 0 { s += String(format: "  = %.2fx direct", Double(rate) / Double(direct)) }
        return s
    }
}

/// Two `icestat up` child processes, ann and bob, eager and Connected: ann's local port for bob is the entry,
/// bob's service for ann is the blaster's receiver.
struct DataplaneAgents {
    let entryPort: Int
    private var ann: ChildProcess
    private var bob: ChildProcess
    private let signal: SignalServer
    private let directory: String
    private let annSocket: String

    static func start(group: EventLoopGroup, service: Int, relay: TURNServer?) async throws -> DataplaneAgents {
        let me = ProcessTimer.selfPath
        let dir = NSTemporaryDirectory() + "icestat-dataplane-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let signal = try await SignalServer.start(host: "127.0.0.1", port: 0, group: group)
        let signalPort = signal.localAddress!.port!
        let annKey = try MeshBenchSupport.writeKey("\(dir)/ann.key")
        let bobKey = try MeshBenchSupport.writeKey("\(dir)/bob.key")
        let base = MeshBenchSupport.portBase(count: 2)
        var ice = "ice: {addresses: [127.0.0.1]}"
        var turn = ""
        if let relay {
            ice = "ice: {addresses: [127.0.0.1], relay_only: true}"
            turn = "turn:\n  - {url: \"turn:\(relay.address)?transport=udp\", username: \(relay.username), password: \(relay.password)}\n"
        }
        func config(_ name: String, peer: String, key: String, port: Int, service: String) -> String {
            """
            name: \(name)
            key_file: \(name).key
            signal: 127.0.0.1:\(signalPort)
            lazy: false
            status_socket: \(dir)/\(name).sock
            \(ice)
            \(turn)peers:
              - {name: \(peer), public_key: \(key), local_port: \(port)\(service)}

            """
        }
        try config("ann", peer: "bob", key: bobKey.publicKeyBase64, port: base, service: "")
            .write(toFile: "\(dir)/ann.yaml", atomically: true, encoding: .utf8)
        try config("bob", peer: "ann", key: annKey.publicKeyBase64, port: base + 1, service: ", service: 127.0.0.1:\(service)")
            .write(toFile: "\(dir)/bob.yaml", atomically: true, encoding: .utf8)
        let ann = try ChildProcess([me, "up", "--config", "\(dir)/ann.yaml"], stderr: "\(dir)/ann.log")
        let bob = try ChildProcess([me, "up", "--config", "\(dir)/bob.yaml"], stderr: "\(dir)/bob.log")
        var agents = DataplaneAgents(entryPort: base, ann: ann, bob: bob, signal: signal, directory: dir, annSocket: "\(dir)/ann.sock")
        let client = MultiThreadedEventLoopGroup.singleton
        for _ in 0..<300 {
            try await Task.sleep(for: .milliseconds(50))
            if let snap = try? await StatusSocketClient.fetchSnapshot(path: agents.annSocket, group: client),
               snap.peers.first?.state == .connected, snap.peers.first?.connectionType == (relay == nil ? .p2p : .relayed) {
                try await Task.sleep(for: .milliseconds(500))
                return agents
            }
        }
        await agents.stop()
        throw BenchError.missing("two agents that connect (see \(dir)/ann.log)")
    }

    /// CPU seconds (user and system) both agents have used so far.
    func cpuSeconds() throws -> Double {
        Double(try DashboardCPUBench.cpuTicks(ann.pid) + DashboardCPUBench.cpuTicks(bob.pid)) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The drops ann counted for bob, by reason, as `--detail` words them.
    func dropSummary() async throws -> String {
        let client = MultiThreadedEventLoopGroup.singleton
        let snap = try await StatusSocketClient.fetchSnapshot(path: annSocket, group: client)
        guard let drops = snap.peers.first?.drops, !drops.isEmpty else { return "" }
        return StatusFormatting.drops(drops)
    }

    mutating func stop() async {
        ann.stop()
        bob.stop()
        await signal.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
