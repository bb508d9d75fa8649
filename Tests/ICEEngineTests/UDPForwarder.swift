import Foundation
import ICETestSupport
import Synchronization
@testable import STUN
@testable import ICE
@testable import Signal
@testable import Mesh

/// A path between two agents that a test can cut and restore: datagrams to `frontAddress` go on to `target`
/// from a second socket, and what comes back there returns to the last sender. Loopback only.
final class UDPForwarder: @unchecked Sendable {
    private let front: UDPProbe
    private let back: UDPProbe
    private let target: TransportAddress
    private let open = Mutex(true)
    private let lastSender = Mutex<TransportAddress?>(nil)
    private let running = Mutex(true)
    private var threads: [Thread] = []

    var frontAddress: TransportAddress { front.address }

    init(to target: TransportAddress) throws {
        front = try UDPProbe()
        back = try UDPProbe()
        self.target = target
        threads = [Thread { [unowned self] in self.pump(from: self.front, to: self.back, forward: true) },
                   Thread { [unowned self] in self.pump(from: self.back, to: self.front, forward: false) }]
        threads.forEach { $0.start() }
    }

    /// Drops everything in both directions while cut.
    func cut() { open.withLock { $0 = false } }
    func restore() { open.withLock { $0 = true } }

    func stop() {
        running.withLock { $0 = false }
        Thread.sleep(forTimeInterval: 0.25)
    }

    private func pump(from source: UDPProbe, to sink: UDPProbe, forward: Bool) {
        while running.withLock({ $0 }) {
            guard let (bytes, sender) = source.receiveOne(timeout: 0.1) else { continue }
            guard open.withLock({ $0 }) else { continue }
            if forward {
                lastSender.withLock { $0 = sender }
                sink.send(bytes, to: target)
            } else if let client = lastSender.withLock({ $0 }) {
                sink.send(bytes, to: client)
            }
        }
    }
}
