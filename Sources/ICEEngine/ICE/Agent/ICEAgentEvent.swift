import NIOCore
import STUN

/// A snapshot of the selected pair, for callers and the status recorder.
public struct SelectedPair: Sendable, Hashable {
    public var local: Candidate
    public var remote: Candidate
    /// The TURN server our end relays through, when the local candidate is relayed.
    public var relay: TURNServer?
}

/// What an ``ICEAgent`` reports to its owner, on the agent's event loop, in order.
public enum ICEAgentEvent: Sendable {
    case stateChanged(ICEConnectionState)
    /// A local candidate to signal to the remote (trickle).
    case localCandidate(Candidate)
    /// A STUN server answered with the mapped address of one of our sockets, or (nil) did not answer in time.
    case stunServerResult(server: TransportAddress, mapped: TransportAddress?)
    /// A TURN server allocated a relayed address, or refused or did not answer.
    case relayAllocated(server: TURNServer, relayed: TransportAddress)
    case relayFailed(server: TURNServer, reason: String)
    /// A TCP or TLS relay's connection ended and its allocation with it; `selectedPath` if it carried the path.
    case relayLost(server: TURNServer, reason: String, selectedPath: Bool)
    case gatheringComplete
    case selectedPairChanged(SelectedPair)
    /// Round-trip time of a binding request on the selected pair, from request to its response.
    case roundTrip(Duration)
    /// A signalled remote candidate was ignored: its address lies inside a routed network.
    case remoteCandidateIgnored(Candidate, network: IPNetwork)
    /// Application data received on the selected pair.
    case data(ByteBuffer)
}
