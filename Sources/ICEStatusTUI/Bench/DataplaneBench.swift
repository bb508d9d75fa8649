import ArgumentParser
import Foundation
import ICEEngine
import ICEStatusTUI
import NIOCore
import NIOPosix
import ProcessSpawning
import StatusRecorder

/// Data-plane throughput on loopback: datagrams of 1,400 bytes from a local application through two
/// `icestat up` processes (ann's local port for bob, over the ICE path, to bob's service), direct and relayed
/// through a coturn on loopback, next to the same blaster sending straight to the receiver. Each figure is the
/// highest rate at which a trial lost nothing. The paths are searched in turn, round after round, and the
/// medians are compared: on a shared machine the baseline drifts, and searches made minutes apart would
/// compare the drift.
struct DataplaneBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataplane",
        abstract: "Highest loss-free datagram rate through two agents on loopback, direct and relayed, next to a direct UDP blast (target: at least 0.5x); with root, iperf3 through wireguard-go over icestat next to wireguard-go direct (target: at least 0.9x).")

    @Option(name: .long, help: "Datagram size in bytes.")
    var size = 1400

    @Option(name: .long, help: "Seconds per trial.")
    var seconds = 1.0

    @Option(name: .customLong("blast-rounds"), help: "Loopback rounds, each one search per path in turn; the medians are printed.")
    var blastRounds = 5

    @Flag(name: .customLong("no-relay"), help: "Skip the relayed path (needs turnserver).")
    var noRelay = false

    @Flag(name: .customLong("no-wireguard"), help: "Skip iperf3 through wireguard-go in two namespaces (needs root).")
    var noWireGuard = false

    @Option(name: .customLong("wireguard-seconds"), help: "Seconds per iperf3 run.")
    var wireGuardSeconds = 5

    @Option(name: .long, help: "iperf3 rounds, each direct then through icestat; the medians are printed.")
    var rounds = 5

    @Flag(name: .long, help: "Print every trial.")
    var verbose = false

    /// One measured path: where the blaster sends, and the agents (none for the bare blast).
    private struct Path {
        let label: String
        let route: UDPBlaster.Route
        var agents: DataplaneAgents?
        /// The index of the path whose median this one is also compared with (the blast through coturn, for
        /// relayed paths).
        var ceiling: Int?
        var rates: [Int] = []
        var median: Int { Int(ProcessTimer.median(rates.map(Double.init))) }
    }

    func validate() throws {
        guard blastRounds >= 1 else { throw ValidationError("--blast-rounds must be at least 1") }
    }

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let blaster = try await UDPBlaster(group: group)
        let report: (UDPBlastTrial) -> Void = { t in
            if verbose { print(String(format: "  trial %8d/s: sent %8d received %8d%@", t.rate, t.sent, t.received, t.clean ? "" : "  (loss or slow)")) }
        }
        print("data plane, \(size)-byte datagrams on loopback, \(seconds) s trials: highest rate with no loss, median of \(blastRounds) rounds")
        var paths = [Path(label: "direct UDP blast (no icestat)", route: .port(blaster.receiverPort))]
        var coturn: LoopbackCoturn?
        var turnBlast: TURNClient?
        defer {
            _ = turnBlast?.close()
            coturn?.stop()
        }
        do {
            let direct = try await DataplaneAgents.start(group: group, service: blaster.receiverPort, relay: nil)
            paths.append(Path(label: "through icestat, direct path", route: .port(direct.entryPort), agents: direct))
            if !noRelay {
                let c = try LoopbackCoturn(tls: false)
                coturn = c
                // The relayed paths' ceiling: the same blast through a channel of the same coturn, no agents.
                let receiver = TransportAddress(ip: IPAddress("127.0.0.1")!, port: UInt16(blaster.receiverPort))
                let client = TURNClient(server: c.server(.udp), eventLoop: blaster.senderLoop,
                                        socketBufferBytes: UDPSocketTuning.defaultBufferBytes, onData: { _, _ in })
                turnBlast = client
                let ceilingIndex = paths.count
                _ = try await client.allocate(localAddress: IPAddress("127.0.0.1")!).get()
                _ = try await client.bindChannel(peer: receiver).get()
                paths.append(Path(label: "UDP blast through coturn (no icestat)", route: .turn(client, peer: receiver)))
                // One TURN hop (only the sender relays, as when one side cannot be reached directly), and two
                // (both relay: the datagrams also cross coturn's relay-to-relay sockets).
                let oneHop = try await DataplaneAgents.start(group: group, service: blaster.receiverPort, relay: c.server(.udp), relayBoth: false)
                paths.append(Path(label: "through icestat, relayed, one TURN hop", route: .port(oneHop.entryPort), agents: oneHop, ceiling: ceilingIndex))
                let twoHops = try await DataplaneAgents.start(group: group, service: blaster.receiverPort, relay: c.server(.udp), relayBoth: true)
                paths.append(Path(label: "through icestat, relayed, two TURN hops", route: .port(twoHops.entryPort), agents: twoHops, ceiling: ceilingIndex))
            }
            for round in 1...blastRounds {
                for i in paths.indices {
                    paths[i].rates.append(try await blaster.highestCleanRate(size: size, seconds: seconds, via: paths[i].route, onTrial: report))
                    try paths[i].agents?.checkRunning()
                }
                if verbose { print("  round \(round): " + paths.map { "\($0.rates.last!)/s" }.joined(separator: ", ")) }
            }
            let baseline = paths[0].median
            for (i, path) in paths.enumerated() {
                let ceiling = path.ceiling.map { paths[$0].median }
                guard path.agents != nil else {
                    print(line(path, i == 0 ? nil : baseline, ceiling: ceiling))
                    continue
                }
                try await measureCPU(path, blaster: blaster, baseline: baseline, ceiling: ceiling)
            }
        } catch {
            for i in paths.indices { await paths[i].agents?.stop() }
            throw error
        }
        for i in paths.indices { await paths[i].agents?.stop() }
        _ = try? await turnBlast?.close().get()
        turnBlast = nil
        await blaster.close()
        try await group.shutdownGracefully()
        guard !noWireGuard else { return }
        if let reason = WireGuardBench.unavailableReason {
            print("iperf3 through wireguard-go: skipped, \(reason)")
        } else {
            try await WireGuardBench(seconds: wireGuardSeconds, rounds: rounds).run()
        }
    }

    /// One more trial at the path's median rate, for the agents' CPU per gigabit and what they dropped.
    private func measureCPU(_ path: Path, blaster: UDPBlaster, baseline: Int, ceiling: Int?) async throws {
        guard let agents = path.agents else { return }
        let before = try agents.cpuSeconds()
        let t = try await blaster.trial(rate: max(path.median, 1000), size: size, seconds: seconds, via: path.route)
        let cpu = try agents.cpuSeconds() - before
        let gigabits = Double(t.received * size * 8) / 1e9
        print(line(path, baseline, ceiling: ceiling) + String(format: "; both agents %.2f s CPU per Gbit", gigabits > 0 ? cpu / gigabits : 0))
        let drops = try await agents.dropSummary()
        if !drops.isEmpty { print("  drops counted by the agents: \(drops)") }
    }

    private func line(_ path: Path, _ baseline: Int?, ceiling: Int? = nil) -> String {
        let rate = path.median
        let mbit = Double(rate * size * 8) / 1e6
        var s = String(format: "%-38@ %8d datagrams/s  %8.1f Mbit/s", path.label as NSString, rate, mbit)
        if let baseline, baseline > 0 { s += String(format: "  = %.2fx direct", Double(rate) / Double(baseline)) }
        if let ceiling, ceiling > 0 { s += String(format: ", %.2fx through coturn", Double(rate) / Double(ceiling)) }
        return s + " (rounds: " + path.rates.map(String.init).joined(separator: ", ") + ")"
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
    private var keepLogs = false

    /// With `relay`, ann relays only through it; bob does too when `relayBoth`, else bob is reached on its host address.
    static func start(group: EventLoopGroup, service: Int, relay: TURNServer?, relayBoth: Bool = false) async throws -> DataplaneAgents {
        let me = ProcessTimer.selfPath
        let dir = NSTemporaryDirectory() + "icestat-dataplane-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let signal = try await SignalServer.start(host: "127.0.0.1", port: 0, group: group)
        let signalPort = signal.localAddress!.port!
        let annKey = try MeshBenchSupport.writeKey("\(dir)/ann.key")
        let bobKey = try MeshBenchSupport.writeKey("\(dir)/bob.key")
        let base = MeshBenchSupport.portBase(count: 2)
        let direct = "ice: {addresses: [127.0.0.1]}\n"
        let relayed = relay.map {
            "ice: {addresses: [127.0.0.1], relay_only: true}\n"
                + "turn:\n  - {url: \"turn:\($0.address)?transport=udp\", username: \($0.username), password: \($0.password)}\n"
        }
        func config(_ name: String, peer: String, key: String, port: Int, service: String, relays: Bool) -> String {
            """
            name: \(name)
            key_file: \(name).key
            signal: 127.0.0.1:\(signalPort)
            lazy: false
            status_socket: \(dir)/\(name).sock
            \(relays ? relayed ?? direct : direct)peers:
              - {name: \(peer), public_key: \(key), local_port: \(port)\(service)}

            """
        }
        try config("ann", peer: "bob", key: bobKey.publicKeyBase64, port: base, service: "", relays: true)
            .write(toFile: "\(dir)/ann.yaml", atomically: true, encoding: .utf8)
        try config("bob", peer: "ann", key: annKey.publicKeyBase64, port: base + 1, service: ", service: 127.0.0.1:\(service)", relays: relayBoth)
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

    /// Throws if either agent has ended: a figure measured through a dead agent is no figure. Its log is kept.
    mutating func checkRunning() throws {
        for (name, status) in [("ann", ann.endedStatus()), ("bob", bob.endedStatus())] {
            guard let status else { continue }
            keepLogs = true
            let log = (try? String(contentsOfFile: "\(directory)/\(name).log", encoding: .utf8)) ?? ""
            let tail = log.split(separator: "\n").suffix(5).joined(separator: "\n")
            throw BenchError.missing("\(name) running; it ended with wait status \(status), log \(directory)/\(name).log:\n\(tail)")
        }
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
        if !keepLogs { try? FileManager.default.removeItem(atPath: directory) }
    }
}
