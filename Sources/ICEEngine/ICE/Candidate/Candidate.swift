import STUN

/// An ICE candidate: a transport address with a type, a priority and a foundation (RFC 8445 §5.1).
///
/// icestat uses one component (RTP-style component 1) over UDP, as NetBird does.
public struct Candidate: Sendable, Hashable, CustomStringConvertible {
    public var foundation: String
    public var component: UInt16
    public var priority: UInt32
    public var address: TransportAddress
    public var type: CandidateType
    /// For reflexive and relayed candidates: the base (or mapped) address they were derived from.
    public var relatedAddress: TransportAddress?

    public init(foundation: String, component: UInt16 = 1, priority: UInt32, address: TransportAddress,
                type: CandidateType, relatedAddress: TransportAddress? = nil) {
        self.foundation = foundation
        self.component = component
        self.priority = priority
        self.address = address
        self.type = type
        self.relatedAddress = relatedAddress
    }

    /// RFC 8445 §5.1.2.1: (2^24)·type preference + (2^8)·local preference + (256 − component id).
    public static func priority(type: CandidateType, localPreference: UInt16, component: UInt16 = 1) -> UInt32 {
        (type.typePreference << 24) | (UInt32(localPreference) << 8) | (256 - UInt32(component))
    }

    /// A foundation shared by candidates of the same type, base IP, server and transport (RFC 8445 §5.1.1.3).
    public static func foundation(type: CandidateType, base: IPAddress, server: String? = nil) -> String {
        let key = "\(type.rawValue)|\(base)|\(server ?? "")|udp"
        let crc = Array(key.utf8).withUnsafeBytes { CRC32.checksum($0) }
        return String(crc)
    }

    public var description: String { "\(type.rawValue) \(address)" }
}
