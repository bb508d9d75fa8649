import ICEEngine
import ICEStatusTUI
import NIOCore
import StatusRecorder
import Synchronization

/// The peers of `icestat bench soak`: pairs of real ``PeerConnection``s in this process, one side on each
/// of two event loops, over loopback host sockets behind a ``SoakSwitch`` per pair and, when coturn is
/// there, a TURN relay. Timeouts are short so that a few seconds of a cut make consent lose, sessions
/// restart, relays take over and direct attempts come back.
final class SoakMesh: Sendable {
    struct Pair: Sendable {
        let left: PeerConnection
        let right: PeerConnection
        let switchboard: SoakSwitch
    }

    let pairs: [Pair]
    let left = StatusRecorder()
    let right = StatusRecorder()
    /// Events seen, by kind, on both sides.
    let restarts = Atomic<Int>(0), fallbacks = Atomic<Int>(0), consentLosses = Atomic<Int>(0)

    init(peers: Int, group: EventLoopGroup, relay: LoopbackCoturn?) {
        let loops = [group.next(), group.next()]
        let signaling = InProcessSignaling(eventLoop: loops[0])
        var pairs: [Pair] = []
        for i in 0..<peers {
            let switchboard = SoakSwitch()
            var config = ICEAgentConfiguration.loopback()
            config.checkInterval = .milliseconds(20)
            config.consentInterval = .milliseconds(300)
            config.disconnectedTimeout = .seconds(1)
            config.failedTimeout = .seconds(3)
            config.checkingTimeout = .seconds(6)
            config.relayNominationDelay = .milliseconds(500)
            config.turnServers = relay.map { [$0.server(.udp)] } ?? []
            config.hostNetwork = SoakHostNetwork(base: UDPHostNetwork(bufferBytes: 256 << 10), switchboard: switchboard,
                                                 relayPorts: relay?.relayPorts)
            let keyL = PeerKey().publicKeyBase64, keyR = PeerKey().publicKeyBase64
            let l = PeerConnection(localKey: keyL, remoteKey: keyR, name: "peer\(i)", recorder: left, signaling: signaling,
                                   configuration: config, eventLoop: loops[0])
            let r = PeerConnection(localKey: keyR, remoteKey: keyL, name: "peer\(i)", recorder: right, signaling: signaling,
                                   configuration: config, eventLoop: loops[1])
            for c in [l, r] { c.initialRetryDelay = .seconds(1) }
            signaling.register(l)
            signaling.register(r)
            pairs.append(Pair(left: l, right: r, switchboard: switchboard))
        }
        self.pairs = pairs
    }

    var connections: [PeerConnection] { pairs.flatMap { [$0.left, $0.right] } }

    func open() { pairs.forEach { $0.left.open() } }

    /// Counts restarts, relay fallbacks and consent losses as the recorders log them, until cancelled.
    func countEvents() -> [Task<Void, Never>] {
        [left, right].map { recorder in
            Task { [self] in
                for await change in recorder.subscribe() {
                    for event in change.events {
                        switch event.kind {
                        case .iceRestart: restarts.add(1, ordering: .relaxed)
                        case .relayFallback: fallbacks.add(1, ordering: .relaxed)
                        case .consentLost: consentLosses.add(1, ordering: .relaxed)
                        default: break
                        }
                    }
                }
            }
        }
    }

    /// Peers Connected on both sides, and of those how many are P2P on both.
    func connected() -> (both: Int, direct: Int) {
        var both = 0, direct = 0
        for p in pairs {
            guard let l = left.peer(id: p.left.remoteKey), let r = right.peer(id: p.right.remoteKey),
                  l.state == .connected, r.state == .connected else { continue }
            both += 1
            if l.connectionType == .p2p, r.connectionType == .p2p { direct += 1 }
        }
        return (both, direct)
    }

    /// Every connection's census, summed.
    func census() async throws -> PeerCensus {
        var total = PeerCensus()
        for c in connections { total = total + (try await c.census().get()) }
        return total
    }

    func close() async {
        for c in connections { try? await c.close().get() }
    }
}
