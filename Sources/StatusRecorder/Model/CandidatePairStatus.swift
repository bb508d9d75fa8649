/// One candidate pair of a peer's ICE session, as webrtc-internals shows it.
public struct CandidatePairStatus: Sendable, Hashable {
    public var local: CandidateEndpoint
    public var remote: CandidateEndpoint
    /// `frozen`, `waiting`, `in-progress`, `succeeded` or `failed`.
    public var state: String
    public var nominated: Bool
    public var roundTripNanos: Int64?
    public var requestsSent: Int
    public var responsesReceived: Int

    public init(local: CandidateEndpoint, remote: CandidateEndpoint, state: String, nominated: Bool,
                roundTripNanos: Int64?, requestsSent: Int, responsesReceived: Int) {
        self.local = local
        self.remote = remote
        self.state = state
        self.nominated = nominated
        self.roundTripNanos = roundTripNanos
        self.requestsSent = requestsSent
        self.responsesReceived = responsesReceived
    }
}
