import ICEEngine
import Logging
import NIOCore
import StatusRecorder
import Synchronization

/// `icestat demo`: a whole mesh on loopback, made of the real parts: a signal server, a local agent (lazy
/// connections, whose view the recorder holds) and one agent per remote peer, each a ``MeshAgent`` with its own
/// key, on real UDP sockets with real STUN checks. An application socket sends to the local agent's peer ports
/// and each remote delivers to an echo service, so traffic crosses every connection both ways.
///
/// Each peer plays a ``DemoRole``: busy peers stay Connected, lazy ones wake on a burst of traffic and go Idle
/// again, one remote leaves and comes back, and with a coturn the relayed ones connect through it.
final class DemoMesh: Sendable {
    static let names = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett",
                        "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
                        "uniform", "victor", "whiskey", "xray", "yankee", "zulu"]

    static func name(_ i: Int) -> String {
        i < names.count ? names[i] : "\(names[i % names.count])-\(i / names.count + 1)"
    }

    let recorder = StatusRecorder()
    let roles: [DemoRole]
    private let group: EventLoopGroup
    private let relay: TURNServer?
    /// Between two peers' first traffic, so Idle, Connecting and Connected are all seen at the start.
    private let stagger: Int64
    private let state = Mutex(State())
    private static let quiet = Logger(label: "icestat.demo") { _ in SwiftLogNoOpLogHandler() }

    private struct State {
        var signal: SignalServer?
        var local: MeshAgent?
        var localPorts: [Int] = []
        var remotes: [Remote] = []
        var traffic: DemoTraffic?
        var ticker: RepeatedTask?
        var nextSend: [Int64] = []
        var away = false
        var startedAt = ContinuousClock.now
    }

    private struct Remote {
        var configuration: MeshConfiguration
        var agent: MeshAgent?
        var echo: Channel
    }

    /// - Parameter relay: the TURN server the relayed peers' remotes use; without one there are none.
    init(peerCount: Int, relay: TURNServer?, plain: Bool, group: EventLoopGroup) {
        self.group = group
        self.relay = relay
        roles = DemoRole.roles(count: peerCount, relay: relay != nil, plain: plain)
        stagger = Int64(min(400, 4000 / max(1, peerCount)))
    }

    static var iceConfiguration: ICEAgentConfiguration {
        var c = ICEAgentConfiguration.loopback()
        c.consentInterval = .seconds(1)
        c.checkInterval = .milliseconds(20)
        return c
    }

    /// Starts the signal server, the agents and the traffic.
    func start() async throws {
        let signal = try await SignalServer.start(host: "127.0.0.1", port: 0, group: group, logger: Self.quiet)
        state.withLock { $0.signal = signal }
        let signalPort = signal.localAddress?.port ?? 0
        let traffic = try await DemoTraffic.start(group: group)
        let localKey = PeerKey()
        var peers: [MeshPeerConfiguration] = []
        var remotes: [Remote] = []
        for (i, role) in roles.enumerated() {
            let key = PeerKey()
            let echo = try await DemoTraffic.echo(group: group)
            let localPort = try LoopbackPorts.block(count: 1), remotePort = try LoopbackPorts.block(count: 1)
            peers.append(MeshPeerConfiguration(name: Self.name(i), publicKey: key.publicKeyBase64, localPort: localPort, service: nil))
            var ice = Self.iceConfiguration
            if role == .relayed, let relay {
                ice.turnServers = [relay]
                ice.relayOnly = true
            }
            var remote = MeshConfiguration(key: key, name: Self.name(i), signalHost: "127.0.0.1", signalPort: signalPort, ice: ice,
                                           lazy: true, inactivityThreshold: DemoRole.inactivity,
                                           peers: [MeshPeerConfiguration(name: "demo", publicKey: localKey.publicKeyBase64,
                                                                         localPort: remotePort, service: echo.localAddress)])
            remote.networkCheckInterval = .seconds(60)
            remotes.append(Remote(configuration: remote, agent: nil, echo: echo))
        }
        var configuration = MeshConfiguration(key: localKey, name: "demo (loopback)", signalHost: "127.0.0.1", signalPort: signalPort,
                                              ice: Self.iceConfiguration, lazy: true, inactivityThreshold: DemoRole.inactivity,
                                              peers: peers)
        configuration.networkCheckInterval = .seconds(60)
        let local = MeshAgent(configuration: configuration, recorder: recorder, group: group, logger: Self.quiet)
        for i in remotes.indices {
            let agent = MeshAgent(configuration: remotes[i].configuration, recorder: StatusRecorder(), group: group, logger: Self.quiet)
            try await agent.start()
            remotes[i].agent = agent
        }
        try await local.start()
        let firstSends = roles.indices.map { i in Int64(i) * stagger + (roles[i] == .lazy ? 3000 : 0) }
        state.withLock { s in
            s.local = local
            s.localPorts = peers.map(\.localPort)
            s.remotes = remotes
            s.traffic = traffic
            s.nextSend = firstSends
            s.startedAt = .now
        }
        let ticker = group.next().scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { [weak self] _ in
            self?.tick()
        }
        state.withLock { $0.ticker = ticker }
    }

    /// Every 100 ms: the traffic due, and the leaving remote's departure or return.
    private func tick() {
        let (due, traffic, leave): ([(port: Int, count: Int)], DemoTraffic?, Bool?) = state.withLock { s in
            let now = (ContinuousClock.now - s.startedAt).nanoseconds / 1_000_000
            var due: [(Int, Int)] = []
            for i in roles.indices where now >= s.nextSend[i] {
                let lazy = roles[i] == .lazy
                due.append((s.localPorts[i], lazy ? 3 : 1))
                s.nextSend[i] += lazy ? DemoRole.lazyPeriodMillis : DemoRole.busyPeriodMillis
                if s.nextSend[i] < now { s.nextSend[i] = now + DemoRole.busyPeriodMillis }
            }
            let away = DemoRole.isAway(atMillis: now)
            defer { s.away = away }
            return (due, s.traffic, away != s.away ? away : nil)
        }
        for d in due { traffic?.send(to: d.port, count: d.count) }
        if let leave { Task { await self.setLeaving(away: leave) } }
    }

    /// Stops or restarts the agents of the leaving peers' remotes.
    private func setLeaving(away: Bool) async {
        for i in roles.indices where roles[i] == .leaving {
            if away {
                let agent = state.withLock { s -> MeshAgent? in
                    defer { s.remotes[i].agent = nil }
                    return s.remotes[i].agent
                }
                await agent?.shutdown()
            } else {
                let configuration = state.withLock { $0.remotes[i].configuration }
                let agent = MeshAgent(configuration: configuration, recorder: StatusRecorder(), group: group, logger: Self.quiet)
                guard (try? await agent.start()) != nil else {
                    await agent.shutdown()
                    continue
                }
                let stale = state.withLock { s -> MeshAgent? in
                    defer { s.remotes[i].agent = agent }
                    return s.remotes[i].agent
                }
                await stale?.shutdown()
            }
        }
    }

    func stop() async {
        let s = state.withLock { s -> State in
            s.ticker?.cancel()
            return s
        }
        await s.local?.shutdown()
        await withTaskGroup(of: Void.self) { tasks in
            for remote in s.remotes {
                tasks.addTask {
                    await remote.agent?.shutdown()
                    try? await remote.echo.close()
                }
            }
        }
        await s.traffic?.close()
        await s.signal?.stop()
    }
}

extension DemoMesh: PingTarget {
    private var local: MeshAgent? { state.withLock { $0.local } }

    func peer(named nameOrKey: String) -> (id: String, name: String)? { local?.peer(named: nameOrKey) }
    func connection(to id: String) -> PeerConnection? { local?.connection(to: id) }
    func wake(_ id: String) async -> Bool { await local?.wake(id) ?? false }
}
