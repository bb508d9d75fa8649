import ArgumentParser
import Foundation
import ICEEngine
import ICEStatusTUI
import NIOPosix

/// `icestat bench soak`: peers whose paths are cut and restored every few seconds, so that consent is lost,
/// sessions restart, relays take over and direct attempts come back, for minutes; then whether anything
/// leaked. Twice (after the warm-up and at the end) every cut is lifted and each peer is asked to look for a
/// direct path at once, as after a network change, and the bench waits until all are Connected P2P: the two
/// samples are then taken in the same settled state, and whatever the churn left behind shows as a difference.
struct SoakBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Cut and restore peers' paths for minutes; print RSS after warm-up and at the end, live sessions, transactions and timers against their baseline, and how many peers are Connected at the end (targets: RSS growth under 10%, counts back to baseline, every peer Connected).")

    @Option(name: .long, help: "Minutes to run.")
    var minutes = 10.0

    @Option(name: .long, help: "Seconds to run instead of --minutes (the tests run 30).")
    var seconds: Double?

    @Option(name: .long, help: "Pairs of peers.")
    var peers = 50

    @Option(name: .long, help: "Seconds between changes to each pair's path.")
    var cycle = 3.0

    @Option(name: .long, help: "Seed of the cuts (the same seed, the same sequence of cuts).")
    var seed: UInt64 = 1

    @Flag(name: .customLong("no-relay"), help: "No TURN relay (without it, a cut path fails and retries).")
    var noRelay = false

    func validate() throws {
        guard peers >= 1, cycle > 0, (seconds ?? minutes * 60) >= 10 else {
            throw ValidationError("--peers must be at least 1, --cycle positive, and the run at least 10 s")
        }
    }

    func run() async throws {
        let total = seconds ?? minutes * 60
        let warmUp = min(60, total / 10)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var coturn: LoopbackCoturn?
        if !noRelay {
            do { coturn = try LoopbackCoturn(tls: false) } catch { print("no relay: \(error)") }
        }
        defer { coturn?.stop() }
        let mesh = SoakMesh(peers: peers, group: group, relay: coturn)
        let counting = mesh.countEvents()
        print(String(format: "soak: %d pairs of peers, %.0f s (warm-up %.0f s), a change to each path every %.1f s, %@",
                     peers, total, warmUp, cycle, coturn == nil ? "no relay" : "TURN relay on loopback"))
        mesh.open()
        var rng = SplitMix64(seed: seed)
        let started = ContinuousClock.now
        guard try await settle(mesh) else { return try await fail(mesh, group, "the peers did not all connect at first") }
        try await churn(mesh, for: warmUp, rng: &rng)
        guard try await settle(mesh) else { return try await fail(mesh, group, "the peers did not all settle after the warm-up") }
        let baseline = try await SoakSample(mesh)
        print("after warm-up   " + baseline.line)
        try await churn(mesh, for: max(0, total - (ContinuousClock.now - started).inSeconds), rng: &rng)
        let settled = try await settle(mesh)
        let end = try await SoakSample(mesh)
        print("at the end      " + end.line)
        print(String(format: "churn: %d ICE restarts, %d relay fallbacks, %d consent losses",
                     mesh.restarts.load(ordering: .relaxed), mesh.fallbacks.load(ordering: .relaxed), mesh.consentLosses.load(ordering: .relaxed)))
        if let coturn, mesh.fallbacks.load(ordering: .relaxed) == 0 {
            print("no peer fell back to the relay; coturn on 127.0.0.1:\(coturn.port) logged last:\n" + coturn.logTail())
        }
        counting.forEach { $0.cancel() }
        let (connected, direct) = mesh.connected()
        let growth = Double(end.rssKiB - baseline.rssKiB) / Double(baseline.rssKiB) * 100
        let countsBack = settled && end.census.sessions == baseline.census.sessions && end.agents == baseline.agents
            && end.turnClients == baseline.turnClients && end.census.retryTimers == 0
            && end.census.transactions <= end.census.sessions
        print(String(format: "RSS growth from warm-up to end: %+.1f%% (target under 10%%: %@)", growth, growth < 10 ? "met" : "MISSED"))
        print("counts back to baseline: \(countsBack ? "yes" : "NO")")
        print("Connected at the end: \(connected) of \(peers) (P2P: \(direct))")
        await mesh.close()
        try await group.shutdownGracefully()
        // Correctness fails the run; the RSS figure is a measurement, printed with its verdict.
        if !countsBack || connected != peers { throw ExitCode(1) }
    }

    /// Changes each pair's path every `cycle` seconds: lifted half the time, its direct path cut for 30%, and
    /// everything cut for 20%.
    private func churn(_ mesh: SoakMesh, for seconds: Double, rng: inout SplitMix64) async throws {
        let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < end {
            for pair in mesh.pairs {
                let roll = Int.random(in: 0..<10, using: &rng)
                pair.switchboard.cut = roll < 5 ? .none : roll < 8 ? .direct : .all
            }
            let left = end - ContinuousClock.now
            try await Task.sleep(for: min(.milliseconds(Int(cycle * 1000)), max(left, .zero)))
        }
    }

    /// Lifts every cut, restarts every peer's checks with the shortest backoff, and waits (up to a minute)
    /// until every peer is Connected P2P with one session, no retry armed, and no session left over.
    private func settle(_ mesh: SoakMesh) async throws -> Bool {
        mesh.pairs.forEach { $0.switchboard.cut = .none }
        mesh.pairs.forEach { $0.left.networkChanged() }
        for _ in 0..<300 {
            try await Task.sleep(for: .milliseconds(200))
            let census = try await mesh.census()
            if mesh.connected().direct == peers, census.sessions == 2 * peers, census.retryTimers == 0,
               EngineCensus.agents.load(ordering: .relaxed) == census.sessions, census.transactions <= census.sessions {
                return true
            }
        }
        return false
    }

    private func fail(_ mesh: SoakMesh, _ group: MultiThreadedEventLoopGroup, _ why: String) async throws {
        let (connected, direct) = mesh.connected()
        print("\(why): \(connected) of \(peers) Connected (P2P: \(direct))")
        await mesh.close()
        try await group.shutdownGracefully()
        throw ExitCode(1)
    }
}

/// What the soak measures at one moment.
struct SoakSample {
    let rssKiB: Int
    let census: PeerCensus
    let agents: Int
    let turnClients: Int

    init(_ mesh: SoakMesh) async throws {
        census = try await mesh.census()
        agents = EngineCensus.agents.load(ordering: .relaxed)
        turnClients = EngineCensus.turnClients.load(ordering: .relaxed)
        rssKiB = MeshBenchSupport.rssKiB(getpid())
    }

    var line: String {
        String(format: "RSS %.1f MB, %d ICE sessions (%d alive), %d TURN clients, %d transactions, %d retry timers",
               Double(rssKiB) / 1024, census.sessions, agents, turnClients, census.transactions, census.retryTimers)
    }
}
