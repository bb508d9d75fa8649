/// The binary form of ``SignalMessage`` inside a sealed body: a kind byte, then the fields.
extension SignalMessage {
    private enum Kind: UInt8 { case offer = 1, answer, candidate, goIdle }

    func encode(into out: inout [UInt8]) {
        func u64(_ v: UInt64) { for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
        func text(_ s: String) {
            let bytes = Array(s.utf8.prefix(1024))
            out.append(UInt8(bytes.count >> 8)); out.append(UInt8(bytes.count & 0xff)); out += bytes
        }
        switch self {
        case .offer(let c, let session), .answer(let c, let session):
            if case .offer = self { out.append(Kind.offer.rawValue) } else { out.append(Kind.answer.rawValue) }
            u64(session); text(c.ufrag); text(c.pwd)
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
            self = isOffer ? .offer(credentials, session: session) : .answer(credentials, session: session)
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
