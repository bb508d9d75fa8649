import Testing
@testable import STUN
@testable import ICE
@testable import Signal
@testable import Mesh

/// RFC 5780 attributes in the codec.
struct STUNBehaviorAttributeTests {
    @Test func otherAddressResponseOriginAndChangeRequestRoundTrip() throws {
        var b = STUNMessageBuilder(type: .bindingSuccess)
        b.appendXORAddress(.xorMappedAddress, TransportAddress("203.0.113.5:4000")!)
        b.appendPlainAddress(.responseOrigin, TransportAddress("192.0.2.1:3478")!)
        b.appendPlainAddress(.otherAddress, TransportAddress("192.0.2.2:3479")!)
        b.appendFingerprint()
        let m = try STUNMessage(decoding: b.encoded)
        #expect(m.xorAddress() == TransportAddress("203.0.113.5:4000"))
        #expect(m.plainAddress(.responseOrigin) == TransportAddress("192.0.2.1:3478"))
        #expect(m.plainAddress(.otherAddress) == TransportAddress("192.0.2.2:3479"))
        var r = STUNMessageBuilder(type: .bindingRequest)
        r.appendChangeRequest(ip: true, port: false)
        let request = try STUNMessage(decoding: r.encoded)
        #expect(request.changeRequest?.ip == true && request.changeRequest?.port == false)
        #expect(request.unknownRequiredAttributes.isEmpty)
    }
}
