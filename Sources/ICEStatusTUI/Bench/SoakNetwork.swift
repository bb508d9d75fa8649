import ICEEngine
import ICEStatusTUI
import NIOCore
import STUN
import Synchronization

/// What a soak does to one pair of peers' host sockets: nothing, drop what they send to each other (the
/// TURN relay still answers), or drop everything they send and receive.
enum SoakCut: UInt8 {
    case none, direct, all
}

/// One pair's switch, shared by both sides' host sockets.
final class SoakSwitch: Sendable {
    private let value = Atomic<UInt8>(SoakCut.none.rawValue)
    var cut: SoakCut {
        get { SoakCut(rawValue: value.load(ordering: .relaxed)) ?? .none }
        set { value.store(newValue.rawValue, ordering: .relaxed) }
    }
}

/// The real host sockets of a session (``UDPHostNetwork``), with a switch in front that drops datagrams as
/// a firewall would: over the transport seam, so the agent under test is the product's, unchanged.
struct SoakHostNetwork: HostNetwork {
    let base: UDPHostNetwork
    let switchboard: SoakSwitch
    /// The TURN server's relay ports: sends to them pass a `direct` cut.
    let relayPorts: ClosedRange<Int>?

    func addresses(filter: HostCandidateFilter) throws -> [(interface: String, address: IPAddress)] {
        try base.addresses(filter: filter)
    }

    func bind(_ address: IPAddress, interface: String, eventLoop: EventLoop,
              receive: @escaping @Sendable (TransportAddress, ByteBuffer) -> Void) -> EventLoopFuture<any DatagramTransport> {
        let switchboard = switchboard
        return base.bind(address, interface: interface, eventLoop: eventLoop) { from, buffer in
            if switchboard.cut != .all { receive(from, buffer) }
        }.map { SoakTransport(base: $0, switchboard: switchboard, relayPorts: self.relayPorts) }
    }
}

/// A host socket behind a ``SoakSwitch``.
struct SoakTransport: DatagramTransport {
    let base: any DatagramTransport
    let switchboard: SoakSwitch
    let relayPorts: ClosedRange<Int>?

    var localAddress: TransportAddress? { base.localAddress }

    func send(_ data: ByteBuffer, to address: TransportAddress, resolved: SocketAddress?) -> Bool {
        switch switchboard.cut {
        case .none: return base.send(data, to: address, resolved: resolved)
        case .direct:
            guard let relayPorts, relayPorts.contains(Int(address.port)) else { return true }
            return base.send(data, to: address, resolved: resolved)
        case .all: return true // dropped on the way, as far as the sender can tell
        }
    }

    func startCoalescedReads() { base.startCoalescedReads() }
    func close() -> EventLoopFuture<Void>? { base.close() }
}
