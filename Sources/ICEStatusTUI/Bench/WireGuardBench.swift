import Foundation
import ICEEngine
import ICEStatusTUI
import ProcessSpawning

/// iperf3 TCP through wireguard-go in two network namespaces joined by a veth, once with WireGuard's
/// endpoints straight at each other and once with its endpoints at icestat's local ports (icestat carrying
/// the datagrams over its ICE path, as a mesh VPN does), in alternating rounds of one run. Needs root,
/// wireguard-go, wireguard-tools and iperf3. Every address lives inside the two namespaces it makes.
struct WireGuardBench {
    let seconds: Int
    let rounds: Int

    /// Why the bench cannot run here, or nil when it can.
    static var unavailableReason: String? {
        guard getuid() == 0 else { return "needs root (network namespaces and TUN devices)" }
        for tool in ["ip", "wireguard-go", "wg", "iperf3"] where (try? Shell.run("command -v \(tool)")) == nil {
            return "needs \(tool) (Debian: iproute2, wireguard-go, wireguard-tools, iperf3)"
        }
        return nil
    }

    private let tag = "\(getpid() % 100_000)"
    private var hostA: String { "icwbA\(tag)" }
    private var hostB: String { "icwbB\(tag)" }
    private let veth = (a: "192.168.77.1", b: "192.168.77.2")
    private let tunnel = (a: "10.98.0.1", b: "10.98.0.2")
    private let listenPort = 51820
    private let localPort = 51001

    func run() async throws {
        let dir = NSTemporaryDirectory() + "icestat-wgbench-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var children: [ChildProcess] = []
        var finished = false
        defer {
            for i in children.indices.reversed() { children[i].stop() }
            _ = try? Shell.run("ip netns del \(hostA); ip netns del \(hostB)")
            // The logs stay for a run that failed.
            if finished { try? FileManager.default.removeItem(atPath: dir) }
        }
        try Shell.run("""
            ip netns add \(hostA) && ip netns add \(hostB) && \
            ip -n \(hostA) link set lo up && ip -n \(hostB) link set lo up && \
            ip -n \(hostA) link add eth0 type veth peer name eth0 netns \(hostB) && \
            ip -n \(hostA) addr add \(veth.a)/24 dev eth0 && ip -n \(hostB) addr add \(veth.b)/24 dev eth0 && \
            ip -n \(hostA) link set eth0 up && ip -n \(hostB) link set eth0 up
            """)
        // The agents, eager, with a signal server beside a.
        let me = ProcessTimer.selfPath
        let signalPort = 51999
        children.append(try ChildProcess(["ip", "netns", "exec", hostA, me, "signal", "--listen", "\(veth.a):\(signalPort)"],
                                         stderr: "\(dir)/signal.log"))
        let keyA = try MeshBenchSupport.writeKey("\(dir)/a.key"), keyB = try MeshBenchSupport.writeKey("\(dir)/b.key")
        for (name, ip, peer, key) in [("a", veth.a, "b", keyB), ("b", veth.b, "a", keyA)] {
            try """
                name: \(name)
                key_file: \(name).key
                signal: \(veth.a):\(signalPort)
                lazy: false
                status_socket: \(dir)/\(name).sock
                ice: {addresses: [\(ip)]}
                peers:
                  - {name: \(peer), public_key: \(key.publicKeyBase64), local_port: \(localPort), service: 127.0.0.1:\(listenPort)}

                """.write(toFile: "\(dir)/\(name).yaml", atomically: true, encoding: .utf8)
        }
        try await Task.sleep(for: .milliseconds(300))
        let agents = [try ChildProcess(["ip", "netns", "exec", hostA, me, "up", "--config", "\(dir)/a.yaml"], stderr: "\(dir)/a.log"),
                      try ChildProcess(["ip", "netns", "exec", hostB, me, "up", "--config", "\(dir)/b.yaml"], stderr: "\(dir)/b.log")]
        children += agents
        // WireGuard: wireguard-go's control sockets are shared by every namespace, so the names differ.
        let wgA = "icwa\(tag)", wgB = "icwb\(tag)"
        for (host, wg) in [(hostA, wgA), (hostB, wgB)] {
            children.append(try ChildProcess(["ip", "netns", "exec", host, "wireguard-go", "-f", wg], stdout: "\(dir)/\(wg).log"))
        }
        var keys: [String: String] = [:]
        for (host, wg, address) in [(hostA, wgA, tunnel.a), (hostB, wgB, tunnel.b)] {
            try waitFor("wireguard-go's \(wg)") { FileManager.default.fileExists(atPath: "/var/run/wireguard/\(wg).sock") }
            keys[wg] = try Shell.run("umask 077 && wg genkey > \(dir)/\(wg).key && wg pubkey < \(dir)/\(wg).key")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            try Shell.run("ip netns exec \(host) sh -c 'wg set \(wg) listen-port \(listenPort) private-key \(dir)/\(wg).key && ip addr add \(address)/24 dev \(wg) && ip link set \(wg) mtu 1420 up'")
        }
        try waitFor("the agents to connect (see \(dir)/a.log)") {
            ((try? Shell.run("\(me) --detail --socket \(dir)/a.sock")) ?? "").contains("Status: Connected")
        }
        children.append(try ChildProcess(["ip", "netns", "exec", hostB, "iperf3", "-s", "-B", tunnel.b], stdout: "\(dir)/iperf3.log"))
        try await Task.sleep(for: .milliseconds(300))

        print("WireGuard (wireguard-go) in two namespaces over a veth, iperf3 TCP \(seconds) s, \(rounds) rounds")
        var direct: [Double] = [], through: [Double] = [], cpuPerGbit: [Double] = []
        for _ in 0..<rounds {
            for viaIcestat in [false, true] {
                let endpoints = viaIcestat ? ("127.0.0.1:\(localPort)", "127.0.0.1:\(localPort)") : ("\(veth.b):\(listenPort)", "\(veth.a):\(listenPort)")
                try Shell.run("ip netns exec \(hostA) wg set \(wgA) peer \(keys[wgB]!) endpoint \(endpoints.0) allowed-ips \(tunnel.b)/32")
                try Shell.run("ip netns exec \(hostB) wg set \(wgB) peer \(keys[wgA]!) endpoint \(endpoints.1) allowed-ips \(tunnel.a)/32")
                let cpuBefore = try agents.map { try DashboardCPUBench.cpuTicks($0.pid) }.reduce(0, +)
                let json = try Shell.run("ip netns exec \(hostA) iperf3 -c \(tunnel.b) -t \(seconds) -J")
                let cpu = Double(try agents.map { try DashboardCPUBench.cpuTicks($0.pid) }.reduce(0, +) - cpuBefore) / Double(sysconf(Int32(_SC_CLK_TCK)))
                let bits = try Self.receivedBitsPerSecond(json)
                if viaIcestat {
                    through.append(bits)
                    cpuPerGbit.append(cpu / (bits * Double(seconds) / 1e9))
                } else {
                    direct.append(bits)
                }
            }
        }
        finished = true
        let d = ProcessTimer.median(direct), t = ProcessTimer.median(through)
        print(String(format: "%-38@ %8.0f Mbit/s (rounds: %@)", "wireguard-go, direct endpoints" as NSString, d / 1e6, Self.list(direct)))
        print(String(format: "%-38@ %8.0f Mbit/s (rounds: %@)  = %.2fx direct; icestat %.2f s CPU per Gbit",
                     "wireguard-go over icestat" as NSString, t / 1e6, Self.list(through), d > 0 ? t / d : 0, ProcessTimer.median(cpuPerGbit)))
    }

    private func waitFor(_ what: String, _ condition: () -> Bool) throws {
        for _ in 0..<200 {
            if condition() { return }
            usleep(50_000)
        }
        throw BenchError.missing(what)
    }

    /// The receiver's rate from `iperf3 -J`.
    static func receivedBitsPerSecond(_ json: String) throws -> Double {
        guard let doc = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let end = doc["end"] as? [String: Any], let sum = end["sum_received"] as? [String: Any],
              let bits = sum["bits_per_second"] as? Double else {
            throw BenchError.missing("an iperf3 result (got: \(json.prefix(300)))")
        }
        return bits
    }

    private static func list(_ rates: [Double]) -> String { rates.map { String(format: "%.0f", $0 / 1e6) }.joined(separator: ", ") }
}

/// Shell commands for the benches that build namespaces.
enum Shell {
    /// Runs `command` with /bin/sh; its stdout, or an error with its status and stderr.
    @discardableResult
    static func run(_ command: String) throws -> String {
        let out = NSTemporaryDirectory() + "icestat-sh-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        defer { try? FileManager.default.removeItem(atPath: out); try? FileManager.default.removeItem(atPath: out + ".err") }
        var child = try ChildProcess(["/bin/sh", "-c", command], stdout: out, stderr: out + ".err")
        let status = child.wait()
        let stdout = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        guard status == 0 else {
            let stderr = (try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? ""
            throw BenchError.failed("\(command): \(stderr)", status)
        }
        return stdout
    }
}
