import Foundation
import ICEStatusTUI
import NIOCore

/// One arrangement of `icestat bench signal`: `icestat signal` nodes started, and agents spread over them
/// (agent i on node i % n, the following nodes as its fail-over list), each watching its partners: one on the
/// same node and, with several nodes, one on the next node.
struct SignalBenchSetup {
    /// One column of the bench's table.
    struct Figures {
        var registration = "-", sameRate = "-", crossRate = "-", sameLatency = "-", crossLatency = "-"
        var lost = 0
    }

    let nodes: [BenchSignalNode]
    let agents: SignalBenchAgents
    let samePairs: [(Int, Int)]
    let crossPairs: [(Int, Int)]
    let partners: [[Int]]
    let bench: SignalBench
    let group: EventLoopGroup

    init(nodes n: Int, cluster: String?, agents count: Int, bench: SignalBench, directory: String,
         group: EventLoopGroup, label: String = "") async throws {
        let nodes = try (1...n).map {
            try BenchSignalNode(name: "\(label)\(n)n\($0)", directory: directory, cluster: cluster, nodeTimeout: bench.nodeTimeout)
        }
        for node in nodes { try await node.waitReady(nodes: cluster == nil ? nil : n, group: group) }
        self.nodes = nodes
        var same: [(Int, Int)] = []
        for base in stride(from: 0, to: count, by: 2 * n) {
            for j in 0..<n where base + j + n < count { same.append((base + j, base + j + n)) }
        }
        let cross = n == 1 ? [] : stride(from: 0, to: count - 1, by: 2).map { ($0, $0 + 1) }
        var partners = [[Int]](repeating: [], count: count)
        for (a, b) in same + cross { partners[a].append(b); partners[b].append(a) }
        samePairs = same
        crossPairs = cross
        self.partners = partners
        let ports = nodes.map(\.port)
        agents = SignalBenchAgents(count: count, servers: { i in (0..<n).map { ("127.0.0.1", ports[(i + $0) % n]) } },
                                   watching: { partners[$0] }, group: group)
        self.bench = bench
        self.group = group
    }

    static func secondsValue(_ d: Duration) -> Double { d.inSeconds }
    static func seconds(_ d: Duration) -> String { String(format: "%.2f s", secondsValue(d)) }

    /// Registers every agent; the time until the last one is welcome. In a cluster, then waits until every node
    /// knows where every agent is, so that the next figures start from a settled cluster.
    mutating func registerAll() async throws -> Duration {
        let started = ContinuousClock.now
        agents.start()
        guard let took = await agents.waitRegistered(Array(0..<agents.keys.count), after: started, timeout: .seconds(60)) else {
            throw BenchError.missing("every agent registered within 60 s (\(agents.tally.registeredAt.count) of \(agents.keys.count) did)")
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while nodes.count > 1, ContinuousClock.now < deadline {
            var settled = true
            for node in nodes {
                guard let s = await node.status(group: group), s.peersHere + (s.cluster?.peersElsewhere ?? 0) == agents.keys.count else {
                    settled = false
                    break
                }
            }
            if settled { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        return took
    }

    mutating func measure(crossNode: Bool) async throws -> Figures {
        var f = Figures()
        f.registration = Self.seconds(try await registerAll())
        let same = await throughput(samePairs)
        f.sameRate = same.rate
        let sameLatency = await latency(samePairs)
        f.sameLatency = sameLatency.text
        f.lost = same.lost + sameLatency.lost
        if crossNode {
            let cross = await throughput(crossPairs)
            let crossLatency = await latency(crossPairs)
            f.crossRate = cross.rate
            f.crossLatency = crossLatency.text
            f.lost += cross.lost + crossLatency.lost
        }
        return f
    }

    /// `bench.messages` sealed messages over `pairs`, sent at once; delivered per second.
    private func throughput(_ pairs: [(Int, Int)]) async -> (rate: String, lost: Int) {
        agents.resetMessages()
        let total = bench.messages
        let started = ContinuousClock.now
        for k in 0..<total { agents.send(from: pairs[k % pairs.count].0, to: pairs[k % pairs.count].1, timed: false) }
        let took = await agents.waitReceived(total, after: started, timeout: .seconds(30))
        let received = agents.tally.received
        let elapsed = took ?? .seconds(30)
        let rate = Double(received) / Self.secondsValue(elapsed)
        return (String(format: "%.0f", rate), total - received)
    }

    /// Messages paced at `bench.rate` per second for `bench.seconds`; p50 and p99 of their delivery.
    private func latency(_ pairs: [(Int, Int)]) async -> (text: String, lost: Int) {
        // Half a second for the nodes and the database to finish with the burst before.
        try? await Task.sleep(for: .milliseconds(500))
        agents.resetMessages()
        let ticks = bench.seconds * 100, perTick = max(1, bench.rate / 100)
        let started = ContinuousClock.now
        var k = 0
        for tick in 0..<ticks {
            for _ in 0..<perTick {
                agents.send(from: pairs[k % pairs.count].0, to: pairs[k % pairs.count].1, timed: true)
                k += 1
            }
            try? await Task.sleep(until: started + .milliseconds(10 * (tick + 1)), clock: .continuous)
        }
        _ = await agents.waitReceived(k, after: started, timeout: .seconds(10))
        let tally = agents.tally
        let sorted = tally.latencies.sorted()
        guard !sorted.isEmpty else { return ("no message arrived", k) }
        func ms(_ q: Double) -> Double { Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]) / 1e6 }
        return (String(format: "%.2f / %.2f ms", ms(0.5), ms(0.99)), k - tally.received)
    }

    /// SIGKILL of the first node: how long until its agents are registered on the next node of their lists and
    /// every agent watching one of them has been told it is online again; and when the others declare it dead.
    func failover(timeout: Duration) async throws {
        let victims = agents.keys.indices.filter { $0 % nodes.count == 0 }
        let watched = victims.flatMap { v in partners[v].map { (watcher: $0, key: agents.keys[v].publicKeyBase64) } }
        agents.recordPresence(true)
        let killed = ContinuousClock.now
        nodes[0].kill()
        let limit = timeout + .seconds(10)
        let moved = await agents.waitRegistered(victims, after: killed, timeout: limit)
        var online: Duration?, dead: Duration?
        var lastPoll = ContinuousClock.now - .seconds(1)
        while ContinuousClock.now - killed < limit, online == nil || dead == nil {
            if online == nil {
                let presence = agents.tally.presence ?? []
                var last: [String: (Bool, ContinuousClock.Instant)] = [:]
                for p in presence { last["\(p.watcher) \(p.key)"] = (p.online, p.at) }
                let states = watched.map { last["\($0.watcher) \($0.key)"] }
                if states.allSatisfy({ $0?.0 == true }) { online = (states.compactMap { $0?.1 }.max() ?? killed) - killed }
            }
            if dead == nil, ContinuousClock.now - lastPoll > .milliseconds(100) {
                lastPoll = ContinuousClock.now
                // Whichever survivor reaps it first declares it; the others hear so and drop it from their lists.
                if let s = await nodes[1].status(group: group), let c = s.cluster, c.nodes.count == nodes.count - 1 {
                    dead = ContinuousClock.now - killed
                }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let toldOffline = (agents.tally.presence ?? []).filter { !$0.online }.count
        agents.recordPresence(false)
        print("fail-over: SIGKILL of a node with \(victims.count) agents (node timeout \(Self.seconds(timeout)))")
        print("  its agents registered on their next node after \(moved.map(Self.seconds) ?? "more than \(Self.seconds(limit))")")
        print("  their \(watched.count) watchers all told them online again after \(online.map(Self.seconds) ?? "more than \(Self.seconds(limit))")"
              + " (target: under \(Self.seconds(timeout + .seconds(2))))")
        print("  the node declared dead by the others after \(dead.map(Self.seconds) ?? "more than \(Self.seconds(limit))"); "
              + "watchers told offline meanwhile: \(toldOffline)")
    }

    func stop() async {
        await agents.stop()
        for node in nodes { node.stop() }
    }
}
