import ICEEngine
import NIOCore
import StatusRecorder
import Synchronization

/// `icestat demo`: a local agent and N remote agents in one process, on loopback, with real UDP sockets and
/// real STUN checks; signaling is passed in-process. The recorder holds the local agent's view of its peers.
///
/// Peers are opened one after another and the remotes' signaling is delayed, so Idle, Connecting and
/// Connected are all seen; consent checks every second keep the latency live, and a small echo every second
/// moves the traffic counters.
final class DemoMesh: Sendable {
    static let names = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett",
                        "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
                        "uniform", "victor", "whiskey", "xray", "yankee", "zulu"]

    let recorder = StatusRecorder()
    let localKey = PeerKey().publicKeyBase64
    private let local: [PeerConnection]
    private let remotes: [PeerConnection]
    private let group: EventLoopGroup
    private let timers = Mutex<[RepeatedTask]>([])
    private let openStagger: Duration
    static let signalDelay: Duration = .milliseconds(1500)

    static func name(_ i: Int) -> String {
        i < names.count ? names[i] : "\(names[i % names.count])-\(i / names.count + 1)"
    }

    init(peerCount: Int, group: EventLoopGroup) {
        self.group = group
        var config = ICEAgentConfiguration.loopback()
        config.consentInterval = .seconds(1)
        config.checkInterval = .milliseconds(20)
        let localKey = self.localKey
        // The remotes' messages reach the local agent late, as over a slow signal server.
        let signaling = InProcessSignaling(eventLoop: group.next()) { from, to in
            to == localKey ? DemoMesh.signalDelay : .zero
        }
        var local: [PeerConnection] = []
        var remotes: [PeerConnection] = []
        for i in 0..<peerCount {
            let remoteKey = PeerKey().publicKeyBase64
            let loop = group.next()
            let localSide = PeerConnection(localKey: localKey, remoteKey: remoteKey, name: Self.name(i), recorder: recorder,
                                           signaling: signaling, configuration: config, eventLoop: loop)
            let echo = EchoTarget()
            let remoteSide = PeerConnection(localKey: remoteKey, remoteKey: localKey, name: "local", recorder: nil,
                                            signaling: signaling, configuration: config, eventLoop: loop,
                                            onData: { echo.connection?.sendOnLoop($0) })
            echo.connection = remoteSide
            signaling.register(localSide)
            signaling.register(remoteSide)
            local.append(localSide)
            remotes.append(remoteSide)
        }
        self.local = local
        self.remotes = remotes
        openStagger = .milliseconds(min(400, 4000 / max(1, peerCount)))
        recorder.updateLocal {
            $0 = LocalAgentStatus(publicKey: localKey, name: "demo (loopback)", startedAtMillis: currentTimeMillis(),
                                  lazyConnections: false,
                                  servers: [ServerStatus(kind: .signal, address: "in-process", available: true)])
        }
    }

    /// Opens the peers one after another and starts the echo traffic.
    func start() {
        for (i, connection) in local.enumerated() {
            connection.eventLoop.scheduleTask(in: .nanoseconds(openStagger.nanoseconds * Int64(i))) { connection.open() }
        }
        let payload = Array("icestat demo ping ................................................".utf8)
        let traffic = group.next().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [local] _ in
            for connection in local { connection.send(payload) }
        }
        timers.withLock { $0.append(traffic) }
    }

    func stop() async {
        timers.withLock { $0.forEach { $0.cancel() } }
        for connection in local + remotes { try? await connection.close().get() }
    }
}

/// Lets a remote's data callback reach the connection it belongs to, which exists only after the callback.
private final class EchoTarget: @unchecked Sendable {
    // Written once before any traffic flows, read on the connection's event loop afterwards.
    var connection: PeerConnection?
}

extension DemoMesh: PingTarget {
    func peer(named nameOrKey: String) -> (id: String, name: String)? {
        guard let c = local.first(where: { $0.remoteKey == nameOrKey }) ?? local.first(where: { $0.name == nameOrKey }) else { return nil }
        return (c.remoteKey, c.name)
    }

    func connection(to id: String) -> PeerConnection? {
        local.first { $0.remoteKey == id }
    }

    /// Every remote of the demo is online.
    func wake(_ id: String) async -> Bool {
        connection(to: id)?.open()
        return true
    }
}
