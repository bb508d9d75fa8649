import ICE

/// One ICE configuration held once for all the peers of an agent: the struct is about 350 bytes, and an agent
/// with thousands of lazy peers would otherwise keep a copy in each of them.
final class SharedConfiguration: Sendable {
    let ice: ICEAgentConfiguration

    init(_ ice: ICEAgentConfiguration) {
        self.ice = ice
    }
}
