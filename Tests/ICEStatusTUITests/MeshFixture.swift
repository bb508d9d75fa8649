import ICETestSupport
import Foundation
import Testing

/// A signal server and several `icestat up` agents as separate processes on loopback, with their configs,
/// keys and status sockets in a private directory. Optionally everything runs inside one network namespace
/// (`netns`), whose loopback the fixture may firewall.
final class MeshFixture {
    struct Agent {
        var name: String
        var publicKey: String
        var config: String
        var socket: String
        var process: Harness.Child?
    }

    let directory: String
    let signalPort: Int
    let netns: String?
    /// Where the signal server runs and listens, if not with everything else on 127.0.0.1.
    let signalNamespace: String?
    let signalHost: String
    /// Agents that run in a namespace of their own (the NAT lab's hosts).
    var agentNamespaces: [String: String] = [:]
    private(set) var signal: Harness.Child?
    private(set) var agents: [String: Agent] = [:]
    /// local_port of peer `to` on agent `from`; the service port is local_port + 1000.
    private var ports: [String: Int] = [:]
    /// Agents in the order they were first configured (their ports follow it).
    private var order: [String] = []
    /// Below Linux's ephemeral range (32768 and up), where the agents' ICE sockets take their ports: a fixed
    /// port in it could be taken by one of them first, and a reload that binds it would then be refused.
    private let basePort = Int.random(in: 20000...30000) / 10 * 10

    init(netns: String? = nil, signalNamespace: String? = nil, signalHost: String = "127.0.0.1") throws {
        self.signalNamespace = signalNamespace
        self.signalHost = signalHost
        directory = NSTemporaryDirectory() + "icestat-mesh-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        signalPort = basePort + 9
        self.netns = netns
    }

    /// argv prefixed to run inside the namespace, if any.
    func wrap(_ argv: [String]) -> [String] { netns.map { ["ip", "netns", "exec", $0] + argv } ?? argv }

    func startSignal() throws {
        let argv = [Harness.binary, "signal", "--listen", "\(signalHost):\(signalPort)"]
        signal = try Harness.Child(signalNamespace.map { ["ip", "netns", "exec", $0] + argv } ?? wrap(argv),
                                   stderr: "\(directory)/signal.log")
        #expect(eventuallyBlocking(seconds: 10) { self.log("signal").contains("listening") }, "signal did not start")
    }

    func stopSignal() {
        signal?.terminate()
        signal?.wait(seconds: 5)
    }

    // MARK: Several signal nodes (cluster mode)

    /// Cluster signal nodes by number (1 to 8), each on its own port, joined through one database.
    private(set) var nodes: [Int: Harness.Child] = [:]
    /// The signal nodes each agent lists, in order, by number; an agent not here uses the single signal server.
    var signalLists: [String: [Int]] = [:]
    /// How many times each node has been started, so that each run keeps its own log.
    private var nodeRuns: [Int: Int] = [:]

    func nodePort(_ n: Int) -> Int { basePort + n }
    func nodeSocket(_ n: Int) -> String { "\(directory)/node\(n).sock" }

    /// Starts signal node `n` as `icestat signal --cluster url` and waits until it has joined.
    func startNode(_ n: Int, cluster url: String, timeout: String = "3s") throws {
        nodeRuns[n, default: 0] += 1
        let name = "node\(n)-\(nodeRuns[n]!)"
        nodes[n] = try Harness.Child([Harness.binary, "signal", "--listen", "127.0.0.1:\(nodePort(n))", "--cluster", url,
                                      "--cluster-node-id", "n\(n)", "--cluster-node-timeout", timeout,
                                      "--status-socket", nodeSocket(n)], stderr: "\(directory)/\(name).log")
        #expect(eventuallyBlocking(seconds: 15) { self.log(name).contains("joined through") && self.log(name).contains("status socket") },
                "\(name) did not join: \(log(name))")
    }

    func killNode(_ n: Int, signal: Int32 = SIGKILL) {
        guard let p = nodes[n] else { return }
        Foundation.kill(p.pid, signal)
        p.wait(seconds: 10)
        nodes[n] = nil
    }

    /// The log of node `n`'s latest run.
    func nodeLog(_ n: Int) -> String { log("node\(n)-\(nodeRuns[n] ?? 1)") }

    /// `icestat signal --status --json` of node `n`.
    func nodeStatus(_ n: Int) -> [String: Any] {
        guard let r = try? Harness.icestat(["signal", "--listen", "127.0.0.1:\(nodePort(n))", "--status", "--json",
                                            "--status-socket", nodeSocket(n)], timeout: 10), r.status == 0,
              let doc = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else { return [:] }
        return doc
    }

    /// The `signal` line of an agent's config.
    private func signalSetting(_ name: String) -> String {
        guard let list = signalLists[name] else { return "\(signalHost):\(signalPort)" }
        return "[" + list.map { "127.0.0.1:\(nodePort($0))" }.joined(separator: ", ") + "]"
    }

    func log(_ name: String) -> String {
        (try? String(contentsOfFile: "\(directory)/\(name).log", encoding: .utf8)) ?? ""
    }

    func port(_ from: String, _ to: String) -> Int { ports["\(from)>\(to)"]! }
    /// The service a peer's datagrams go to; it stays where the peer's first port was.
    func servicePort(_ from: String, _ to: String) -> Int { (firstPorts["\(from)>\(to)"] ?? port(from, to)) + 1000 }
    private var firstPorts: [String: Int] = [:]

    /// Writes keys and configs for `names`, each peering with all the others. `extra` is appended YAML.
    func configure(_ names: [String], lazy: Bool, inactivity: String = "15m", extra: [String: String] = [:],
                   ice: String = MeshFixture.defaultICE) throws {
        for name in names where agents[name] == nil {
            let r = try Harness.icestat(["keygen", "\(directory)/\(name).key"])
            #expect(r.status == 0, "\(r.stderr)")
            agents[name] = Agent(name: name, publicKey: r.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
                                 config: "\(directory)/\(name).yaml", socket: "\(directory)/\(name)/status.sock")
            order.append(name)
        }
        for name in names {
            try writeConfig(name, peers: names.filter { $0 != name }, lazy: lazy, inactivity: inactivity,
                            extra: extra[name], ice: extra["ice-\(name)"] ?? ice)
        }
    }

    static let defaultICE = "{addresses: [127.0.0.1], consent_interval: 1s, disconnected_timeout: 3s, failed_timeout: 6s}"

    /// Writes one agent's config with `peers` (configured agents). `names` gives a peer another name than its
    /// agent's, `ports` another local port.
    func writeConfig(_ name: String, peers: [String], lazy: Bool, inactivity: String = "15m", extra: String? = nil,
                     ice: String = MeshFixture.defaultICE, names: [String: String] = [:], ports: [String: Int] = [:]) throws {
        for other in peers where self.ports["\(name)>\(other)"] == nil {
            self.ports["\(name)>\(other)"] = basePort + 100 + order.firstIndex(of: name)! * 10 + order.firstIndex(of: other)!
        }
        for other in peers where firstPorts["\(name)>\(other)"] == nil { firstPorts["\(name)>\(other)"] = self.ports["\(name)>\(other)"] }
        for (other, port) in ports { self.ports["\(name)>\(other)"] = port }
        var yaml = """
            name: \(name)
            key_file: \(name).key
            signal: \(signalSetting(name))
            lazy: \(lazy)
            inactivity_threshold: \(inactivity)
            status_socket: \(agents[name]!.socket)
            ice: \(ice)

            """
        if let extra { yaml += extra + "\n" }
        yaml += "peers:\n"
        for other in peers {
            yaml += "  - {name: \(names[other] ?? other), public_key: \(agents[other]!.publicKey), local_port: \(port(name, other)), service: 127.0.0.1:\(servicePort(name, other))}\n"
        }
        try yaml.write(toFile: agents[name]!.config, atomically: true, encoding: .utf8)
    }

    func startAgent(_ name: String, arguments: [String] = []) throws {
        let argv = [Harness.binary, "up", "--config", agents[name]!.config] + arguments
        let child = try Harness.Child(agentNamespaces[name].map { ["ip", "netns", "exec", $0] + argv } ?? wrap(argv),
                                      stderr: "\(directory)/\(name).log")
        agents[name]!.process = child
        #expect(eventuallyBlocking(seconds: 10) { self.log(name).contains("status socket") }, "\(name) did not start: \(log(name))")
    }

    func kill(_ name: String, signal: Int32 = SIGKILL) {
        guard let p = agents[name]?.process else { return }
        Foundation.kill(p.pid, signal)
        p.wait(seconds: 10)
        agents[name]!.process = nil
    }

    /// `icestat --detail --json` of an agent: peers by name.
    func peers(_ name: String) -> [String: [String: Any]] {
        guard let r = try? Harness.icestat(["--detail", "--json", "--events", "20", "--socket", agents[name]!.socket], timeout: 10), r.status == 0,
              let doc = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
              let peers = (doc["peers"] as? [String: Any])?["details"] as? [[String: Any]] else { return [:] }
        return Dictionary(uniqueKeysWithValues: peers.map { ($0["name"] as! String, $0) })
    }

    func status(_ name: String, _ peer: String) -> String? { peers(name)[peer]?["status"] as? String }

    /// The `agent` object of an agent's `--detail --json`.
    func agentJSON(_ name: String) -> [String: Any] {
        guard let r = try? Harness.icestat(["--detail", "--json", "--events", "20", "--socket", agents[name]!.socket], timeout: 10), r.status == 0,
              let doc = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else { return [:] }
        return doc["agent"] as? [String: Any] ?? [:]
    }

    /// Waits until every listed (agent, peer) pair is in `state`.
    func waitAll(_ pairs: [(String, String)], _ state: String, seconds: Double) -> Bool {
        eventuallyBlocking(seconds: seconds) { pairs.allSatisfy { status($0.0, $0.1) == state } }
    }

    /// Everything an assertion failure should show.
    func dump() -> String {
        agents.keys.sorted().map { name in
            let r = try? Harness.icestat(["--detail", "--socket", agents[name]!.socket], timeout: 10)
            return "== \(name) ==\n\(r?.stdout ?? "")\n-- log --\n\(log(name).suffix(3000))"
        }.joined(separator: "\n") + "\n== signal ==\n\(log("signal").suffix(2000))"
            + nodes.keys.sorted().map { "\n== node \($0) ==\n\(nodeLog($0).suffix(2000))" }.joined()
    }

    deinit {
        for name in agents.keys { kill(name, signal: SIGTERM) }
        stopSignal()
        for n in nodes.keys { killNode(n, signal: SIGTERM) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

