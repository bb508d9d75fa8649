import STUN
import ICE

/// The binary form of ``SignalMessage`` inside a sealed body: a kind byte, then the fields. Offers and answers
/// may end with optional fields, each a tag byte and a text (1: the NAT verdict); unknown tags are skipped, so
/// an older agent's offer (none) and a newer one's (more) both read.
extension SignalMessage {
    private enum Kind: UInt8 { case offer = 1, answer, candidate, goIdle }
    private static let natTag: UInt8 = 1

    func encode(into out: inout [UInt8]) {
        func u64(_ v: UInt64) { for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
        func text(_ s: String) {
            let bytes = Array(s.utf8.prefix(1024))
            out.append(UInt8(bytes.count >> 8)); out.append(UInt8(bytes.count & 0xff)); out += bytes
        }
        switch self {
        case .offer(let c, let session, let nat), .answer(let c, let session, let nat):
            if case .offer = self { out.append(Kind.offer.rawValue) } else { out.append(Kind.answer.rawValue) }
            u64(session); text(c.ufrag); text(c.pwd)
            if let nat { out.append(Self.natTag); text(nat.rawValue) }
        case .candidate(let sdp, let session):
            out.append(Kind.candidate.rawValue); u64(session); text(sdp)
        case .goIdle:
            out.append(Kind.goIdle.rawValue)
        }
    }

    init(decoding bytes: ArraySlice<UInt8>) throws(SignalProtocolError) {
        var i = bytes.startIndex
        func byte() throws(SignalProtocolError) -> UInt8 {
            guard i < bytes.endIndex else { throw .malformed("truncated message") }
            defer { i += 1 }
            return bytes[i]
        }
        func u64() throws(SignalProtocolError) -> UInt64 {
            var v: UInt64 = 0
            for _ in 0..<8 { v = v << 8 | UInt64(try byte()) }
            return v
        }
        func text() throws(SignalProtocolError) -> String {
            let n = Int(try byte()) << 8 | Int(try byte())
            guard bytes.endIndex - i >= n, let s = String(validating: bytes[i..<i + n], as: UTF8.self) else {
                throw .malformed("bad text field")
            }
            i += n
            return s
        }
        switch Kind(rawValue: try byte()) {
        case .offer?, .answer?:
            let isOffer = bytes[bytes.startIndex] == Kind.offer.rawValue
            let session = try u64()
            let credentials = ICECredentials(ufrag: try text(), pwd: try text())
            var nat: NATVerdict?
            while i < bytes.endIndex {
                let tag = try byte()
                let value = try text()
                if tag == Self.natTag { nat = NATVerdict(rawValue: value) }
            }
            self = isOffer ? .offer(credentials, session: session, nat: nat) : .answer(credentials, session: session, nat: nat)
        case .candidate?:
            let session = try u64()
            self = .candidate(try text(), session: session)
        case .goIdle?:
            self = .goIdle
        case nil:
            throw .malformed("unknown message kind")
        }
        guard i == bytes.endIndex else { throw .malformed("trailing bytes in message") }
    }
}
