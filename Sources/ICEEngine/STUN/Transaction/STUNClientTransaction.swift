/// The clock-free state of one STUN client transaction: how many times its request has gone out, how long
/// to wait before the next step, and whether an answer may be timed (Karn's rule). Its owner sends the
/// request, arms a timer for ``wait`` and calls ``timerFired()`` when it expires without an answer.
///
///     var t = STUNClientTransaction(.connectivityCheck)   // the request has gone out once
///     timer(t.wait)                                        // 250 ms
///     switch t.timerFired() {
///     case .retransmit: send again, timer(t.wait)         // 500 ms, 1 s, 1.6 s, ...
///     case .giveUp: fail
///     }
public struct STUNClientTransaction: Sendable, Hashable {
    /// What to do when the wait has passed without an answer.
    public enum Step: Sendable, Hashable {
        /// Send the request again and wait ``STUNClientTransaction/wait`` once more.
        case retransmit
        /// No answer came after every transmission: the transaction has failed.
        case giveUp
    }

    /// The schedule this transaction follows.
    public let schedule: STUNRetransmission
    /// How many times the request has been sent, the first time included.
    public private(set) var transmissions = 1
    /// How long to wait, from the latest transmission, before calling ``timerFired()``.
    public private(set) var wait: Duration

    /// A transaction whose request has just been sent for the first time.
    public init(_ schedule: STUNRetransmission) {
        self.schedule = schedule
        self.wait = schedule.initialRTO
    }

    /// Whether the request has gone out more than once; its answer then cannot be matched to one send.
    public var isRetransmitted: Bool { transmissions > 1 }

    /// The wait has passed without an answer: retransmit (the wait doubles up to the cap) or give up.
    public mutating func timerFired() -> Step {
        if let limit = schedule.maxRetransmissions, transmissions > limit { return .giveUp }
        transmissions += 1
        wait = min(wait * 2, schedule.maxRTO)
        return .retransmit
    }

    /// The round trip of an answer that came `elapsed` after the first send, or `nil` when the request was
    /// retransmitted (Karn's rule: the answer may be to any of the copies).
    public func roundTrip(elapsed: Duration) -> Duration? {
        isRetransmitted ? nil : elapsed
    }
}
