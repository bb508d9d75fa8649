import ArgumentParser
import Foundation
import ICEEngine
import ICEStatusTUI
import Logging
import NIOCore
import NIOPosix
import ProcessSpawning
import StatusRecorder

/// Figures of the mesh agent, measured on a real `icestat up` child process and a real signal server.
enum MeshBenchSupport {
    /// Writes a new key file and returns the key.
    static func writeKey(_ path: String) throws -> PeerKey {
        let key = PeerKey()
        try KeyFile.write(key, to: path)
        return key
    }

    /// An agent config for `icestat up`.
    static func config(name: String, keyFile: String, signalPort: Int, lazy: Bool, socket: String,
                       peers: [(name: String, key: String, port: Int)]) -> String {
        var yaml = """
            name: \(name)
            key_file: \(keyFile)
            signal: 127.0.0.1:\(signalPort)
            lazy: \(lazy)
            status_socket: \(socket)
            ice: {addresses: [127.0.0.1]}
            peers:\(peers.isEmpty ? " []" : "")

            """
        for p in peers { yaml += "  - {name: \(p.name), public_key: \(p.key), local_port: \(p.port)}\n" }
        return yaml
    }

    /// Resident set size of a process, in KiB.
    static func rssKiB(_ pid: Int32) -> Int {
        let status = ProcFile.read("/proc/\(pid)/status") ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// The fields of `/proc/PID/smaps_rollup` (where a process's resident memory is), in KiB: `Rss`, `Anonymous`
    /// (heap, stacks, pages written by relocation), `Shared_Clean`, `Private_Dirty`, ...
    static func memoryKiB(_ pid: Int32) -> [String: Int] {
        var fields: [String: Int] = [:]
        for line in (ProcFile.read("/proc/\(pid)/smaps_rollup") ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, parts[0].hasSuffix(":"), let kib = Int(parts[1]) else { continue }
            fields[String(parts[0].dropLast())] = kib
        }
        return fields
    }

    /// A free block of `count` UDP ports on 127.0.0.1 (probed), from a random base.
    static func portBase(count: Int) -> Int {
        for _ in 0..<20 {
            let base = Int.random(in: 20000...(60000 - count))
            if (base..<base + count).allSatisfy(udpPortFree) { return base }
        }
        return 40000
    }

    private static func udpPortFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 } }
    }
}

/// RSS and idle CPU of one `icestat up` with N lazy peers (Idle, each with its local UDP port bound).
struct LazyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lazy",
        abstract: "RSS and idle CPU of one agent with N lazy peers (targets for 1,000: under 30 MB, under 1% of a core).")

    @Option(name: .long, parsing: .upToNextOption, help: "Lazy peer counts, one agent each; with 0 first, the cost per peer is printed.")
    var peers: [Int] = [0, 1000, 10000]

    @Option(name: .long, help: "Seconds to measure CPU.")
    var seconds = 10

    func validate() throws {
        guard !peers.isEmpty, peers.allSatisfy({ $0 >= 0 && $0 <= 15000 }) else { throw ValidationError("--peers values must be between 0 and 15000") }
    }

    func run() async throws {
        FileDescriptorLimit.raise()
        var baseline: Double?
        for count in peers {
            let rss = try await measure(peers: count)
            if count == 0 { baseline = rss } else if let baseline {
                print(String(format: "  per lazy peer, above the agent with none (%.1f MB): %.1f KB", baseline / 1024, (rss - baseline) / Double(count)))
            }
        }
    }

    /// One agent with `peers` lazy peers: prints its figures, returns its RSS in KiB.
    private func measure(peers: Int) async throws -> Double {
        let me = ProcessTimer.selfPath
        let dir = NSTemporaryDirectory() + "icestat-lazy-\(getpid())-\(peers)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var quiet = Logger(label: "icestat.bench.lazy")
        quiet.logLevel = .critical
        let signal = try await SignalServer.start(host: "127.0.0.1", port: 0, group: group, logger: quiet)
        let base = MeshBenchSupport.portBase(count: peers)
        _ = try MeshBenchSupport.writeKey("\(dir)/hub.key")
        let remotes = (0..<peers).map { i in (name: "peer-\(i)", key: PeerKey().publicKeyBase64, port: base + i) }
        let socket = "\(dir)/hub.sock"
        try MeshBenchSupport.config(name: "hub", keyFile: "hub.key", signalPort: signal.localAddress!.port!, lazy: true,
                                    socket: socket, peers: remotes).write(toFile: "\(dir)/hub.yaml", atomically: true, encoding: .utf8)
        var hub = try ChildProcess([me, "up", "--config", "\(dir)/hub.yaml"], stderr: "\(dir)/hub.log")
        defer { hub.stop() }
        let client = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var ready = false
        for _ in 0..<600 where !ready {
            try await Task.sleep(for: .milliseconds(50))
            if let snap = try? await StatusSocketClient.fetchSnapshot(path: socket, group: client),
               snap.peers.count == peers, snap.local.signal?.available == true { ready = true }
        }
        guard ready else { throw ValidationError("the agent did not come up: \((try? String(contentsOfFile: "\(dir)/hub.log", encoding: .utf8)) ?? "")") }
        try await Task.sleep(for: .seconds(2))
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let before = try DashboardCPUBench.cpuTicks(hub.pid)
        let start = DispatchTime.now().uptimeNanoseconds
        try await Task.sleep(for: .seconds(seconds))
        let cpu = Double(try DashboardCPUBench.cpuTicks(hub.pid) - before) / ticks
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let rss = MeshBenchSupport.rssKiB(hub.pid)
        let memory = MeshBenchSupport.memoryKiB(hub.pid)
        let snap = try await StatusSocketClient.fetchSnapshot(path: socket, group: client)
        print(String(format: "icestat up with %d lazy peers (%d Idle, %d local UDP ports bound): RSS %.1f MB, idle CPU %.2f s in %.1f s = %.2f%% of a core",
                     peers, snap.peers.count { $0.state == .idle }, peers, Double(rss) / 1024, cpu, wall, cpu / wall * 100))
        func mb(_ key: String) -> Double { Double(memory[key] ?? 0) / 1024 }
        print(String(format: "  resident: anonymous %.1f MB (heap, stacks, data relocated at load), from files %.1f MB (the code and read-only data touched)",
                     mb("Anonymous"), mb("Rss") - mb("Anonymous")))
        await signal.stop()
        try await client.shutdownGracefully()
        try await group.shutdownGracefully()
        return Double(rss)
    }
}

/// Time until one `icestat up` is Connected to N peers that come online at once (the peers share this process).
struct MeshConnectBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mesh",
        abstract: "Time for one agent to connect to N peers at once on loopback (target for 200: under 5 s).")

    @Option(name: .long, help: "Number of peers.")
    var peers = 200

    func run() async throws {
        FileDescriptorLimit.raise()
        let me = ProcessTimer.selfPath
        let dir = NSTemporaryDirectory() + "icestat-meshbench-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let signal = try await SignalServer.start(host: "127.0.0.1", port: 0, group: group)
        let signalPort = signal.localAddress!.port!
        let base = MeshBenchSupport.portBase(count: peers * 2)
        let hubKey = try MeshBenchSupport.writeKey("\(dir)/hub.key")
        // The N peers: one MeshAgent each, in this process, eager, with the hub as their only peer.
        var swarm: [MeshAgent] = []
        var remotes: [(name: String, key: String, port: Int)] = []
        for i in 0..<peers {
            let key = PeerKey()
            var ice = ICEAgentConfiguration.loopback()
            ice.software = nil
            let config = MeshConfiguration(
                key: key, name: "peer-\(i)", signalHost: "127.0.0.1", signalPort: signalPort, ice: ice, lazy: false,
                inactivityThreshold: .seconds(900),
                peers: [MeshPeerConfiguration(name: "hub", publicKey: hubKey.publicKeyBase64, localPort: base + peers + i, service: nil)])
            let agent = MeshAgent(configuration: config, recorder: StatusRecorder(), group: group)
            try await agent.start()
            swarm.append(agent)
            remotes.append((name: "peer-\(i)", key: key.publicKeyBase64, port: base + i))
        }
        let socket = "\(dir)/hub.sock"
        try MeshBenchSupport.config(name: "hub", keyFile: "hub.key", signalPort: signalPort, lazy: false, socket: socket, peers: remotes)
            .write(toFile: "\(dir)/hub.yaml", atomically: true, encoding: .utf8)
        try await Task.sleep(for: .milliseconds(500))
        let client = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let start = DispatchTime.now().uptimeNanoseconds
        var hub = try ChildProcess([me, "up", "--config", "\(dir)/hub.yaml", "--log-level", ProcessInfo.processInfo.environment["ICESTAT_BENCH_LOG"] ?? "info"], stderr: "\(dir)/hub.log")
        defer { hub.stop() }
        var firstAnswer: Double?
        var connected = 0
        var elapsed = 0.0
        while elapsed < 30 {
            try await Task.sleep(for: .milliseconds(20))
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            guard let snap = try? await StatusSocketClient.fetchSnapshot(path: socket, group: client) else { continue }
            if firstAnswer == nil { firstAnswer = elapsed }
            connected = snap.peers.count { $0.state == .connected }
            if connected == peers { break }
        }
        print(String(format: "icestat up connecting to %d peers at once on loopback: %d/%d Connected %.2f s after the process started (its status socket answered at %.2f s)",
                     peers, connected, peers, elapsed, firstAnswer ?? -1))
        for agent in swarm { await agent.shutdown() }
        await signal.stop()
        try await client.shutdownGracefully()
        try await group.shutdownGracefully()
    }
}
