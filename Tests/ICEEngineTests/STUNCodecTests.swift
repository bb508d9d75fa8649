import Testing
@testable import STUN
@testable import ICE
@testable import Signal
@testable import Mesh

struct STUNCodecTests {
    @Test func messageTypeInterleavesMethodAndClass() {
        #expect(STUNMessageType.bindingRequest.rawValue == 0x0001)
        #expect(STUNMessageType.bindingSuccess.rawValue == 0x0101)
        #expect(STUNMessageType.bindingError.rawValue == 0x0111)
        #expect(STUNMessageType.bindingIndication.rawValue == 0x0011)
        #expect(STUNMessageType(method: .allocate, messageClass: .request).rawValue == 0x0003)
        #expect(STUNMessageType(method: .channelBind, messageClass: .successResponse).rawValue == 0x0109)
        for raw in [UInt16(0x0001), 0x0101, 0x0111, 0x0003, 0x0113, 0x0016, 0x0017, 0x0009] {
            #expect(STUNMessageType(rawValue: raw).rawValue == raw)
        }
    }

    @Test func roundTripWithIntegrityAndFingerprint() throws {
        let id = STUNTransactionID(high: 0x0102_0304, low: 0x0506_0708_090A_0B0C)
        var b = STUNMessageBuilder(type: .bindingRequest, transactionID: id)
        b.append(.username, string: "abc:defgh")
        b.append(.priority, uint32: 0x6E00_01FF)
        b.append(.iceControlling, uint64: 0x1122_3344_5566_7788)
        b.append(.useCandidate, [])
        b.append(.software, string: "icestat")
        b.appendXORAddress(.xorMappedAddress, TransportAddress("[2001:db8::1]:3478")!)
        b.appendMessageIntegrity(key: Array("secret".utf8))
        b.appendMessageIntegritySHA256(key: Array("secret".utf8))
        b.appendFingerprint()
        let m = try STUNMessage(decoding: b.encoded)
        #expect(m.transactionID == id)
        #expect(m.username == "abc:defgh")
        #expect(m.priority == 0x6E00_01FF)
        #expect(m.iceControlling == 0x1122_3344_5566_7788)
        #expect(m.useCandidate)
        #expect(m.software == "icestat")
        #expect(m.xorAddress() == TransportAddress("[2001:db8::1]:3478"))
        #expect(m.verifyMessageIntegrity(key: Array("secret".utf8)))
        #expect(m.verifyMessageIntegritySHA256(key: Array("secret".utf8)))
        #expect(!m.verifyMessageIntegritySHA256(key: Array("Secret".utf8)))
        #expect(m.hasValidFingerprint)
    }

    @Test func xorAddressIPv4() throws {
        var b = STUNMessageBuilder(type: .bindingSuccess)
        b.appendXORAddress(.xorMappedAddress, TransportAddress("192.0.2.1:32853")!)
        let m = try STUNMessage(decoding: b.encoded)
        #expect(m.attribute(.xorMappedAddress)?.value == [0x00, 0x01, 0xA1, 0x47, 0xE1, 0x12, 0xA6, 0x43])
        #expect(m.xorAddress() == TransportAddress("192.0.2.1:32853"))
    }

    @Test func errorCodeRoundTrip() throws {
        var b = STUNMessageBuilder(type: .bindingError)
        b.appendErrorCode(487, reason: "Role Conflict")
        let m = try STUNMessage(decoding: b.encoded)
        #expect(m.errorCode == STUNErrorCode(code: 487, reason: "Role Conflict"))
    }

    @Test func unknownOptionalAttributesAreSkippedRequiredAreListed() throws {
        var b = STUNMessageBuilder(type: .bindingRequest)
        b.append(STUNAttributeType(rawValue: 0xC001), [1, 2, 3])
        b.append(STUNAttributeType(rawValue: 0x7F01), [1])
        b.append(.username, string: "a:b")
        let m = try STUNMessage(decoding: b.encoded)
        #expect(m.attributes.map(\.type) == [.username])
        #expect(m.unknownRequiredAttributes == [0x7F01])
    }

    @Test func malformedInputIsATypedError() {
        let good: [UInt8] = {
            var b = STUNMessageBuilder(type: .bindingRequest, transactionID: STUNTransactionID(high: 1, low: 2))
            b.append(.username, string: "a:b")
            b.appendFingerprint()
            return b.encoded
        }()
        #expect(throws: STUNDecodingError.tooShort(3)) { try STUNMessage(decoding: [0, 1, 0]) }
        var notSTUN = good; notSTUN[0] = 0x80
        #expect(throws: STUNDecodingError.notSTUN) { try STUNMessage(decoding: notSTUN) }
        var cookie = good; cookie[4] = 0
        #expect(throws: STUNDecodingError.badMagicCookie) { try STUNMessage(decoding: cookie) }
        #expect(throws: STUNDecodingError.lengthMismatch(declared: good.count - 20, actual: good.count - 24)) {
            try STUNMessage(decoding: Array(good.dropLast(4)))
        }
        var odd = good; odd[3] = odd[3] &+ 1
        #expect(throws: STUNDecodingError.lengthNotMultipleOfFour(Int(odd[3]))) { try STUNMessage(decoding: odd) }
        var overlong = good; overlong[23] = 0xFF // USERNAME length runs past the end
        #expect(throws: STUNDecodingError.truncatedAttribute(offset: 20)) { try STUNMessage(decoding: overlong) }
        var after = good + [0x80, 0x22, 0, 0]
        after[3] = after[3] &+ 4
        #expect(throws: STUNDecodingError.attributeAfterFingerprint) { try STUNMessage(decoding: after) }
        var badLength = STUNMessageBuilder(type: .bindingRequest)
        badLength.append(.priority, [1, 2])
        #expect(throws: STUNDecodingError.badAttributeLength(type: 0x0024, length: 2)) { try STUNMessage(decoding: badLength.encoded) }
    }

    @Test func randomAndMutatedInputNeverTraps() {
        var rng = SystemRandomNumberGenerator()
        var seed = STUNMessageBuilder(type: .bindingRequest)
        seed.append(.username, string: "user:name")
        seed.append(.priority, uint32: 1)
        seed.appendXORAddress(.xorMappedAddress, TransportAddress("127.0.0.1:9")!)
        seed.appendMessageIntegrity(key: [1, 2, 3])
        seed.appendFingerprint()
        var decoded = 0
        for round in 0..<20_000 {
            var bytes = seed.encoded
            if round % 2 == 0 {
                for _ in 0..<(1 + Int(rng.next(upperBound: UInt32(4)))) {
                    bytes[Int(rng.next(upperBound: UInt32(bytes.count)))] = UInt8.random(in: 0...255, using: &rng)
                }
            } else {
                bytes = (0..<Int(rng.next(upperBound: UInt32(96)))).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if bytes.count >= 8 { bytes[0] &= 0x3F; bytes[4...7] = [0x21, 0x12, 0xA4, 0x42] }
            }
            if let m = try? STUNMessage(decoding: bytes) {
                decoded += 1
                _ = m.xorAddress(); _ = m.errorCode; _ = m.username; _ = m.hasValidFingerprint
                _ = m.verifyMessageIntegrity(key: [1, 2, 3])
            }
        }
        #expect(decoded > 0)
    }

    @Test func demultiplexing() {
        var b = STUNMessageBuilder(type: .bindingIndication)
        b.appendFingerprint()
        #expect(STUNMessage.looksLikeSTUN(b.encoded))
        #expect(!STUNMessage.looksLikeSTUN([0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4])) // ChannelData
        #expect(!STUNMessage.looksLikeSTUN(Array("hello world, application data".utf8)))
    }
}
