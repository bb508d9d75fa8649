import ICETestSupport
import NIOCore
import Testing
@testable import STUN
@testable import ICE
@testable import Signal
@testable import Mesh

/// `icestat stun`'s responder, driven over real loopback sockets.
@Suite(.serialized)
struct STUNResponderTests {
    static func port() -> UInt16 { UInt16(Int.random(in: 47100...48900) / 2 * 2) }

    @Test func changeRequestAnswersFromTheAskedSocketWithOriginAndOtherAddress() async throws {
        let p = Self.port()
        let primary = TransportAddress(ip: IPAddress("127.0.0.1")!, port: p), alternate = TransportAddress(ip: IPAddress("127.0.0.2")!, port: p + 1)
        let responder = try await STUNResponder.start(primary: primary, alternate: alternate, group: AgentFactory.group)
        let socket = try await STUNProbeSocket.open(ipv6: false, group: AgentFactory.group).get()
        let plain = try await socket.binding(to: primary, timeout: .seconds(2)).get()
        #expect(plain.answer?.otherAddress == alternate && plain.answer?.responseOrigin == primary)
        #expect(plain.answer?.mapped.port == UInt16(socket.localPort!))
        let cases: [((Bool, Bool), TransportAddress)] = [
            ((true, true), alternate),
            ((false, true), TransportAddress(ip: primary.ip, port: alternate.port)),
            ((true, false), TransportAddress(ip: alternate.ip, port: primary.port)),
        ]
        for (change, from) in cases {
            let outcome = try await socket.binding(to: primary, change: change, expectedFrom: from, timeout: .seconds(2)).get()
            #expect(outcome.answer?.responseOrigin == from, "\(change): \(outcome)")
        }
        // Asked on the alternate IP with the primary port: the other address is the other IP and the other port.
        let fromSecond = try await socket.binding(to: TransportAddress(ip: alternate.ip, port: primary.port), timeout: .seconds(2)).get()
        #expect(fromSecond.answer?.otherAddress == TransportAddress(ip: primary.ip, port: alternate.port))
        // An answer expected from elsewhere than where it came is not taken, and said so.
        let wrong = try await socket.binding(to: primary, expectedFrom: alternate, timeout: .milliseconds(600)).get()
        #expect(wrong == .noAnswer(wrongSource: primary))
        #expect(responder.counters.changed == 3)
        try await socket.close().get()
        await responder.stop()
    }

    @Test func withoutAnAlternateCHANGEREQUESTGets420AndOtherMethodsAreDropped() async throws {
        let primary = TransportAddress(ip: IPAddress("127.0.0.1")!, port: Self.port())
        let responder = try await STUNResponder.start(primary: primary, alternate: nil, group: AgentFactory.group)
        let socket = try await STUNProbeSocket.open(ipv6: false, group: AgentFactory.group).get()
        let answer = try await socket.binding(to: primary, timeout: .seconds(2)).get()
        #expect(answer.answer?.otherAddress == nil && answer.answer?.responseOrigin == primary)
        let refused = try await socket.binding(to: primary, change: (true, true), expectedFrom: primary, timeout: .seconds(2)).get()
        #expect(refused == .error(code: 420, reason: "Unknown Attribute"))
        // Not a Binding request, not STUN: dropped without an answer.
        let probe = try UDPProbe()
        var allocate = STUNMessageBuilder(type: STUNMessageType(method: .allocate, messageClass: .request))
        allocate.appendFingerprint()
        probe.send(allocate.encoded, to: primary)
        probe.send(Array("hello".utf8), to: primary)
        #expect(probe.receiveAll(timeout: 0.3).isEmpty)
        #expect(responder.counters.dropped == 2 && responder.counters.refused == 1)
        // A second responder on the same port is a clear error.
        await #expect(throws: STUNResponderError.self) { try await STUNResponder.start(primary: primary, alternate: nil, group: AgentFactory.group) }
        try await socket.close().get()
        await responder.stop()
    }
}
