import ICE
import NIOCore
import STUN
import Synchronization

/// A network of hosts inside the test process, for running ICE agents in virtual time (on an
/// `EmbeddedEventLoop`): every datagram is delivered on its receiver's event loop after `latency`, unless a
/// cut between the two addresses drops it. Each datagram sent is logged, so tests count checks exactly.
package final class InMemoryNetwork: Sendable {
    /// One datagram that was sent, and whether it was delivered.
    package struct Datagram: Sendable, Hashable {
        package var from: TransportAddress
        package var to: TransportAddress
        package var bytes: [UInt8]
        package var delivered: Bool
    }

    private struct State {
        var bound: [TransportAddress: Port] = [:]
        var nextPort: UInt16 = 40000
        var cuts: Set<[IPAddress]> = []
        var log: [Datagram] = []
    }

    private let state = Mutex(State())
    /// One-way delay of every datagram.
    package let latency: Duration

    package init(latency: Duration = .milliseconds(5)) {
        self.latency = latency
    }

    /// The view one agent has of the network: a single interface `mem0` with `address`.
    package func host(_ address: String) -> some HostNetwork {
        Host(network: self, address: IPAddress(address)!)
    }

    /// Drops every datagram between `a` and `b`, both ways, until ``restore(_:_:)``.
    package func cut(_ a: String, _ b: String) {
        _ = state.withLock { $0.cuts.insert(Self.key(a, b)) }
    }

    package func restore(_ a: String, _ b: String) {
        _ = state.withLock { $0.cuts.remove(Self.key(a, b)) }
    }

    /// Every datagram sent so far, in order.
    package var datagrams: [Datagram] { state.withLock { $0.log } }

    private static func key(_ a: String, _ b: String) -> [IPAddress] {
        [IPAddress(a)!, IPAddress(b)!].sorted()
    }

    fileprivate func bind(_ ip: IPAddress, eventLoop: EventLoop,
                          receive: @escaping @Sendable (TransportAddress, ByteBuffer) -> Void) -> Port {
        state.withLock { s in
            let address = TransportAddress(ip: ip, port: s.nextPort)
            s.nextPort += 1
            let port = Port(network: self, address: address, eventLoop: eventLoop, receive: receive)
            s.bound[address] = port
            return port
        }
    }

    fileprivate func unbind(_ address: TransportAddress) {
        _ = state.withLock { $0.bound.removeValue(forKey: address) }
    }

    fileprivate func send(_ data: ByteBuffer, from: TransportAddress, to: TransportAddress) {
        let receiver: Port? = state.withLock { s in
            let target = s.cuts.contains([from.ip, to.ip].sorted()) ? nil : s.bound[to]
            s.log.append(Datagram(from: from, to: to, bytes: Array(data.readableBytesView), delivered: target != nil))
            return target
        }
        guard let receiver else { return }
        receiver.eventLoop.scheduleTask(in: latency.timeAmount) {
            receiver.receive(from, data)
        }
    }

    private struct Host: HostNetwork {
        let network: InMemoryNetwork
        let address: IPAddress

        func addresses(filter: HostCandidateFilter) throws -> [(interface: String, address: IPAddress)] {
            [("mem0", address)]
        }

        func bind(_ address: IPAddress, interface: String, eventLoop: EventLoop,
                  receive: @escaping @Sendable (TransportAddress, ByteBuffer) -> Void) -> EventLoopFuture<any DatagramTransport> {
            eventLoop.makeSucceededFuture(network.bind(address, eventLoop: eventLoop, receive: receive))
        }
    }

    fileprivate struct Port: DatagramTransport, Sendable {
        let network: InMemoryNetwork
        let address: TransportAddress
        let eventLoop: EventLoop
        let receive: @Sendable (TransportAddress, ByteBuffer) -> Void

        var localAddress: TransportAddress? { address }

        func send(_ data: ByteBuffer, to address: TransportAddress, resolved: SocketAddress?) -> Bool {
            network.send(data, from: self.address, to: address)
            return true
        }

        func startCoalescedReads() {}

        func close() -> EventLoopFuture<Void>? {
            network.unbind(address)
            return nil
        }
    }
}
