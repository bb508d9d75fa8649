import Foundation
import ICETestSupport
import Testing
@testable import STUN
@testable import ICE
@testable import Signal
@testable import Mesh

/// Every RFC 5769 vector (copied from shared/testdata) decodes to its expected values and verifies.
struct RFC5769VectorTests {
    struct Vector {
        let name: String
        let bytes: [UInt8]
        let json: [String: Any]
        var expected: [String: Any] { json["expected"] as! [String: Any] }
    }

    static func vectors() throws -> [Vector] {
        let url = try #require(Bundle.module.url(forResource: "rfc5769", withExtension: "json", subdirectory: "Resources"))
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        return (root["vectors"] as! [[String: Any]]).map {
            Vector(name: $0["name"] as! String, bytes: Hex.decode($0["hex"] as! String), json: $0)
        }
    }

    static func attributeCodes(_ names: [String]) -> [UInt16] {
        names.map { name in
            let code = name[name.index(name.firstIndex(of: "(")!, offsetBy: 3)..<name.firstIndex(of: ")")!]
            return UInt16(code, radix: 16)!
        }
    }

    @Test func allFourVectorsArePresent() throws {
        #expect(try Self.vectors().count == 4)
    }

    @Test func vectorsDecodeAndVerify() throws {
        for v in try Self.vectors() {
            let message = try STUNMessage(decoding: v.bytes)
            #expect(message.raw.count == v.json["total_length_bytes"] as! Int, "\(v.name)")
            #expect(message.transactionID.description == v.expected["transaction_id"] as! String, "\(v.name)")
            #expect(message.attributes.map(\.type.rawValue) == Self.attributeCodes(v.expected["attributes_in_order"] as! [String]), "\(v.name)")
            let key = Hex.decode(v.json["hmac_key_hex"] as! String)
            #expect(message.verifyMessageIntegrity(key: key), "\(v.name)")
            #expect(Array(message.attribute(.messageIntegrity)!.value) == Hex.decode(v.expected["message_integrity_hex"] as! String))
            if v.expected["fingerprint_hex"] is String {
                #expect(message.hasValidFingerprint, "\(v.name)")
            } else {
                #expect(!message.hasValidFingerprint)
            }
        }
    }

    @Test func sampleRequestValues() throws {
        let v = try Self.vectors()[0]
        let m = try STUNMessage(decoding: v.bytes)
        #expect(m.type == .bindingRequest)
        #expect(m.software == "STUN test client")
        #expect(m.priority == 1_845_494_271)
        #expect(m.iceControlled == 10_605_970_187_446_795_062)
        #expect(m.username == "evtj:h6vY")
        #expect(m.verifyMessageIntegrity(key: STUNCredentials.shortTermKey(password: "VOkJxbRl1RmTxUk/WvJxBt")))
        #expect(!m.verifyMessageIntegrity(key: STUNCredentials.shortTermKey(password: "VOkJxbRl1RmTxUk/WvJxBT")))
    }

    @Test func sampleResponsesCarryMappedAddresses() throws {
        let vectors = try Self.vectors()
        let v4 = try STUNMessage(decoding: vectors[1].bytes)
        #expect(v4.type == .bindingSuccess)
        #expect(v4.software == "test vector")
        #expect(v4.xorAddress() == TransportAddress("192.0.2.1:32853"))
        let v6 = try STUNMessage(decoding: vectors[2].bytes)
        #expect(v6.xorAddress() == TransportAddress("[2001:db8:1234:5678:11:2233:4455:6677]:32853"))
    }

    @Test func longTermCredentialsUseSASLPreparedPassword() throws {
        let v = try Self.vectors()[3]
        let m = try STUNMessage(decoding: v.bytes)
        #expect(m.username == "マトリックス")
        #expect(m.realm == "example.org")
        #expect(m.nonce == "f//499k954d6OL34oL9FSTvy64sA")
        let key = STUNCredentials.longTermKey(username: "マトリックス", realm: "example.org", password: "The\u{AD}M\u{AA}tr\u{2168}")
        #expect(key == Hex.decode("e8ca7ad59d5eb0518e312911d2dab2a9"))
        #expect(m.verifyMessageIntegrity(key: key))
    }

    @Test func anyFlippedByteFailsVerification() throws {
        let v = try Self.vectors()[0]
        let key = Hex.decode(v.json["hmac_key_hex"] as! String)
        // Flip one byte in every position covered by MESSAGE-INTEGRITY (skip the length field: it no longer decodes).
        let miOffset = try STUNMessage(decoding: v.bytes).attribute(.messageIntegrity)!.offset
        for i in 0..<miOffset where i != 2 && i != 3 {
            var bytes = v.bytes
            bytes[i] ^= 0x01
            guard let m = try? STUNMessage(decoding: bytes) else { continue }
            #expect(!m.verifyMessageIntegrity(key: key) || m.attribute(.messageIntegrity)?.offset != miOffset, "byte \(i)")
        }
    }
}
