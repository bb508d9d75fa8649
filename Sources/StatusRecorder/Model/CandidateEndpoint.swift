/// One end of the selected candidate pair, as shown to operators: its type (`host`, `srflx`, `prflx`, `relay`)
/// and its `address:port`.
public struct CandidateEndpoint: Sendable, Hashable {
    public var type: String
    public var address: String

    public init(type: String, address: String) {
        self.type = type
        self.address = address
    }
}
