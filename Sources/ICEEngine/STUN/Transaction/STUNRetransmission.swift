/// When a STUN client transaction sends again and when it gives up (RFC 8489 §6.2.1): the first wait is
/// `initialRTO`, each later one doubles, capped at `maxRTO`. Every schedule icestat uses is named here.
public struct STUNRetransmission: Sendable, Hashable {
    /// The wait after the first transmission.
    public var initialRTO: Duration
    /// The longest wait between two transmissions.
    public var maxRTO: Duration
    /// Transmissions after the first before the transaction fails, the wait after the last one included;
    /// `nil` when the transaction runs until a deadline its owner keeps (gathering, NAT tests).
    public var maxRetransmissions: Int?

    public init(initialRTO: Duration = Self.defaultInitialRTO, maxRTO: Duration = Self.defaultMaxRTO,
                maxRetransmissions: Int?) {
        self.initialRTO = initialRTO
        self.maxRTO = maxRTO
        self.maxRetransmissions = maxRetransmissions
    }

    /// RFC 8489's recommended first RTO for a path of unknown delay.
    public static let defaultInitialRTO: Duration = .milliseconds(250)
    /// The cap on the doubling, as libnice and pion use for ICE: a lost check costs at most 1.6 s.
    public static let defaultMaxRTO: Duration = .milliseconds(1600)

    /// Connectivity checks (RFC 8445 §14.3): seven transmissions, about 6.6 s, then the pair fails.
    public static let connectivityCheck = STUNRetransmission(maxRetransmissions: 6)
    /// Requests to a TURN server: seven transmissions, as RFC 8489's Rc, then the request times out.
    public static let turnRequest = STUNRetransmission(maxRetransmissions: 6)
    /// Binding requests to STUN servers while gathering and in NAT tests: until the owner's deadline.
    public static let untilDeadline = STUNRetransmission(maxRetransmissions: nil)

    /// The same waits, without a count: the owner's deadline ends the transaction.
    public var withoutLimit: STUNRetransmission {
        STUNRetransmission(initialRTO: initialRTO, maxRTO: maxRTO, maxRetransmissions: nil)
    }
}
