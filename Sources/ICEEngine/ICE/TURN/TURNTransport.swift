import STUN

/// How a TURN client reaches its server (RFC 8656 §3.1): the allocation it asks for is UDP whatever the
/// transport, as coturn and NetBird expect.
public enum TURNTransport: String, Sendable, Hashable, CaseIterable {
    case udp
    case tcp
    /// TLS over TCP (`turns:`).
    case tls

    /// Framed on a byte stream (RFC 8656 §12.5: ChannelData padded to 4 bytes) rather than one per datagram.
    public var isStream: Bool { self != .udp }

    /// "TURN/TCP", for reasons.
    public var label: String { "TURN/\(rawValue.uppercased())" }

    /// RFC 8445 §5.1.2: among relayed candidates, UDP is preferred to TCP and TCP to TLS, so that a stream
    /// relay carries data only where UDP to the server fails.
    var localPreferenceBase: Int {
        switch self {
        case .udp: 65535
        case .tcp: 65535 - 4096
        case .tls: 65535 - 8192
        }
    }
}
