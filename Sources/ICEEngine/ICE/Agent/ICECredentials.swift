import STUN

/// ICE username fragment and password (RFC 8445 §5.3).
public struct ICECredentials: Sendable, Hashable {
    public var ufrag: String
    public var pwd: String

    public init(ufrag: String, pwd: String) {
        self.ufrag = ufrag
        self.pwd = pwd
    }

    private static let iceChars = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

    /// Random credentials from the system's secure generator: 8 ice-chars of ufrag (48 bits) and
    /// 24 of password (144 bits), above RFC 8445's 24 and 128 bits.
    public static func random() -> ICECredentials {
        var rng = SystemRandomNumberGenerator()
        func draw(_ n: Int) -> String { String((0..<n).map { _ in iceChars[Int(rng.next(upperBound: UInt32(64)))] }) }
        return ICECredentials(ufrag: draw(8), pwd: draw(24))
    }
}
